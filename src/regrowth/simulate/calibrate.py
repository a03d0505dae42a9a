"""Offline calibration of the seed trials: fit a design's drug effect to a published rate, then
find the first seed whose simulated trial gives the published counts.

    python -m regrowth.simulate.calibrate            # prints the seeds seed_trials.py records
    python -m regrowth.simulate.calibrate --effects  # the drug effects fitted by bisection

`expected` (with visit noise) checks a design's rates on a large trial.

The counts are computed here from the simulated canonical tables the way the pipeline derives
them with the default definitions (baseline = the BASELINE visit, end of treatment = the visit
of the treatment's last week, non-responder imputation, relapse = the first off-drug visit with
SALT >= EOT + f * (BASE - EOT)). This is a quick stand-in used only to search;
tests/test_simulator_calibration.py checks the chosen seeds through the real pipeline.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pandas as pd

from regrowth.simulate.design import TrialDesign
from regrowth.simulate.engine import simulate
from regrowth.summarize.stats import km_median


def summary(design: TrialDesign, tables: dict[str, pd.DataFrame], fraction_lost: float = 0.5) -> dict:
    """Counts of one arm at its end of treatment, and relapse among its SALT50 responders."""
    rs = tables["rs"]
    tot = rs[rs["RSTESTCD"] == "SALTTOT"]
    dm = tables["dm"].set_index("USUBJID")
    base = tot[tot["VISIT"] == "BASELINE"].set_index("USUBJID")["RSSTRESN"].reindex(dm.index)
    eot = tot[tot["VISIT"] == f"WEEK {design.treatment_weeks}"].set_index("USUBJID")["RSSTRESN"].reindex(dm.index)
    regrowth = -(eot - base) / base * 100  # percent regrowth = -PCHG; NaN = not assessed (NRI)
    salt50 = regrowth >= 50
    mh = tables["mh"]
    subtype = mh[mh["MHCAT"] == "ALOPECIA AREATA SUBTYPE"].set_index("USUBJID")["MHDECOD"].reindex(dm.index)
    patchy = subtype.isin(["PATCHY AA", "OPHIASIS"])
    out = {
        "n": len(dm),
        "SALT40": int((regrowth >= 40).sum()),
        "SALT50": int(salt50.sum()),
        "SALT60": int((regrowth >= 60).sum()),
        "SALT75": int((regrowth >= 75).sum()),
        "SALT90": int((regrowth >= 90).sum()),
        "SALTLE20": int((eot <= 20).sum()),
        ">95%": int((regrowth > 95).sum()),
        "5-<50%": int(((regrowth >= 5) & (regrowth < 50)).sum()),
        "patchy_rate": float(salt50[patchy].mean()) if patchy.any() else np.nan,
        "total_rate": float(salt50[~patchy].mean()) if (~patchy).any() else np.nan,
    }
    good = int(((regrowth >= 50) & (regrowth <= 95)).sum())
    out["<5% or not assessed"] = out["n"] - out[">95%"] - good - out["5-<50%"]
    # relapse among responders, time from the last dose
    last = pd.to_datetime(tables["ex"].groupby("USUBJID")["EXENDTC"].max())
    resp = salt50[salt50].index
    t = tot[tot["USUBJID"].isin(resp)].assign(date=lambda d: pd.to_datetime(d["RSDTC"]))
    t = t[t["date"].to_numpy() > last.reindex(t["USUBJID"]).to_numpy()]
    t = t.merge(pd.DataFrame({"USUBJID": dm.index.to_numpy(), "base": base.to_numpy(dtype=float),
                              "eot": eot.to_numpy(dtype=float)}), on="USUBJID")
    t["event"] = t["RSSTRESN"] >= t["eot"] + fraction_lost * (t["base"] - t["eot"])
    weeks, events = [], []
    for subject, g in t.groupby("USUBJID"):
        hit = g[g["event"]]
        row = hit.iloc[0] if len(hit) else g.iloc[-1]
        weeks.append((row["date"] - last[subject]).days / 7)
        events.append(bool(len(hit)))
    out["n_at_risk"] = len(weeks)
    out["n_relapsed"] = int(sum(events))
    out["median_weeks"] = km_median(np.array(weeks), np.array(events))[0] if weeks else np.nan
    return out


def expected(design: TrialDesign, n: int = 20000, seed: int = 0, fraction_lost: float = 0.5) -> dict:
    """Rates of a large trial of the design (per subject, or per responder for relapse)."""
    from regrowth.simulate.scale import scaled_design

    big = replace(scaled_design(design, n, design.trial_id), followup_weeks=design.followup_weeks)
    s = summary(big, simulate(big, seed), fraction_lost)
    return {k: (v / s["n"] if k not in ("n", "patchy_rate", "total_rate", "median_weeks", "n_at_risk",
                                        "n_relapsed") else v) for k, v in s.items()}


def with_effect(design: TrialDesign, effect: float) -> TrialDesign:
    return replace(design, response=replace(design.response, drug_effect=effect))


def noise_free_rates(design: TrialDesign, n: int = 20000, seed: int = 0) -> dict:
    """End-of-treatment rates of a large trial of the design from the model's regrowth alone (no
    visit noise; dropouts before the end of treatment count as non-responders): what fit_effect
    bisects on."""
    from regrowth.model import SALT_WEIGHTS
    from regrowth.simulate.engine import _draw_subjects
    from regrowth.simulate.scale import scaled_design

    big = scaled_design(design, n, design.trial_id)
    s = _draw_subjects(big, np.random.default_rng(seed))
    t, hill = float(design.treatment_weeks), design.response.hill
    r = np.minimum(1, s["max_regrowth"] * t**hill / (t**hill + s["onset_weeks"] ** hill)).to_numpy()
    r = np.where(s["stop_week"].to_numpy() > t, r, np.nan)
    base = s[[f"base_{k}" for k in SALT_WEIGHTS]].to_numpy() @ np.array(list(SALT_WEIGHTS.values()))
    return {"SALT50": np.mean(r >= 0.5), "SALT75": np.mean(r >= 0.75), "SALT90": np.mean(r >= 0.9),
            ">95%": np.mean(r > 0.95), "5-<50%": np.mean((r >= 0.05) & (r < 0.5)),
            "SALTLE20": np.mean(base * (1 - r) <= 20)}


def fit_effect(design: TrialDesign, endpoint: str, rate: float, low: float = -8.0, high: float = 8.0) -> float:
    """Drug effect (bisection) whose noise-free expected `endpoint` rate is `rate`."""
    for _ in range(16):
        mid = (low + high) / 2
        if noise_free_rates(with_effect(design, mid))[endpoint] < rate:
            low = mid
        else:
            high = mid
    return round((low + high) / 2, 2)


def first_seed(design: TrialDesign, accept, start: int = 1, tries: int = 20000) -> int:
    """The first seed from `start` whose arm's summary satisfies `accept`."""
    for seed in range(start, start + tries):
        if accept(summary(design, simulate(design, seed)), design, seed):
            return seed
    raise RuntimeError(f"{design.trial_id}: no seed in {start}..{start + tries - 1}")


def _ruxolitinib(s, design, seed):
    return (s["SALT50"] == 9 and s[">95%"] == 7 and s["n_at_risk"] == 9 and s["n_relapsed"] == 3
            and s["SALT40"] != 9 != s["SALT60"])


def _tofacitinib(s, design, seed):
    return (s["SALT50"] == 21 and s["SALT40"] != 21 != s["SALT60"] and s["5-<50%"] == 21
            and s["<5% or not assessed"] == 24 and s["n_at_risk"] == 21
            and 7 <= s["median_weeks"] <= 10 and s["patchy_rate"] > s["total_rate"])


def _brave(target):
    def accept(s, design, seed):
        return (s["SALTLE20"] == target and s["SALT50"] >= s["SALT75"] >= s["SALT90"]
                and s["SALTLE20"] not in (s["SALT50"], s["SALT75"], s["SALT90"]))
    return accept


def main(argv: list[str] | None = None) -> int:
    from regrowth.simulate.seed_trials import BARICITINIB, RUXOLITINIB, TOFACITINIB

    if "--effects" in (sys.argv[1:] if argv is None else argv):
        print("RUX_EFFECT =", fit_effect(RUXOLITINIB, "SALT50", 9 / 12))
        print("TOFA_EFFECT =", fit_effect(TOFACITINIB, "SALT50", 21 / 66))
        for d, k in zip(BARICITINIB, (109, 42, 12)):
            print(d.armcd, fit_effect(d, "SALTLE20", k / d.n_subjects))
        return 0
    print("RUX_SEED =", first_seed(RUXOLITINIB, _ruxolitinib))
    print("TOFA_SEED =", first_seed(TOFACITINIB, _tofacitinib))
    print("BARI_SEEDS =", tuple(first_seed(d, _brave(k)) for d, k in zip(BARICITINIB, (109, 42, 12))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
