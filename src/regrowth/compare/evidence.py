"""The evidence table: one row per trial arm, endpoint and week, from the processed trials'
efficacy tables (patient-level, exact counts) and the published phase 3 arms
(resources/comparison/published_arms.csv), each with its analysis set, imputation, whether
the count was counted, reported or back-computed from a percentage, and its source; and which
rows enter the network meta-analysis of the configured endpoint and week, or why not."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pandas as pd

EVIDENCE_COLUMNS = ["trial", "nct_id", "evidence", "simulated", "design", "treatment", "is_control", "endpoint",
                    "week", "responders", "responders_low", "responders_high", "n", "percent", "analysis_set", "imputation",
                    "count", "count_note",
                    "source", "source_url", "in_network", "network_note"]
PUBLISHED_COLUMNS = ["trial", "nct_id", "drug", "treatment", "is_control", "n", "percent", "responders", "endpoint",
                     "week", "analysis_set", "imputation", "source", "source_url", "checked"]
PATIENT_LEVEL, PUBLISHED = "patient-level", "published"
RANDOMIZED, SINGLE_ARM = "randomized", "single-arm"
DESIGNS = (RANDOMIZED, SINGLE_ARM)
OVERALL = "Overall"
OFF_DRUG_NOTE = "response off drug is not response on treatment"


def read_published_arms(path) -> pd.DataFrame:
    """The published arms file, every value as text first (a percentage's printed decimals
    decide which counts it can come from). Missing columns name the file."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PUBLISHED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: column(s) missing: {', '.join(missing)}")
    for col in ("n", "week"):
        bad = df[~df[col].str.fullmatch(r"\d+")]
        if len(bad):
            raise ValueError(f"{path}: {col} must be a whole number; row {bad.index[0] + 2} has {bad[col].iloc[0]!r}")
    bad = df[~df["responders"].str.fullmatch(r"\d+") & ~df["percent"].str.fullmatch(r"\d+(\.\d+)?")]
    if len(bad):
        raise ValueError(f"{path}: row {bad.index[0] + 2} ({bad['trial'].iloc[0]}, {bad['treatment'].iloc[0]}) needs "
                         f"responders (a whole number) or percent (e.g. 38.8); it has {bad['responders'].iloc[0]!r} and "
                         f"{bad['percent'].iloc[0]!r}")
    over = df[(df["percent"].str.fullmatch(r"\d+(\.\d+)?") & (pd.to_numeric(df["percent"], errors="coerce") > 100))
              | (df["responders"].str.fullmatch(r"\d+") & (pd.to_numeric(df["responders"], errors="coerce")
                                                           > pd.to_numeric(df["n"], errors="coerce")))]
    if len(over):
        raise ValueError(f"{path}: row {over.index[0] + 2} ({over['trial'].iloc[0]}, {over['treatment'].iloc[0]}): "
                         f"percent above 100 or responders above n ({over['percent'].iloc[0]!r} %, "
                         f"{over['responders'].iloc[0]!r} of {over['n'].iloc[0]})")
    bad = df[~df["is_control"].isin(["yes", "no"])]
    if len(bad):
        raise ValueError(f"{path}: is_control must be yes or no; row {bad.index[0] + 2} has {bad['is_control'].iloc[0]!r}")
    return df


PUBLISHED_NMA_COLUMNS = ["source", "source_url", "method", "trials", "endpoint", "week", "treatment", "comparator",
                         "measure", "estimate", "ci_low", "ci_high", "interval", "note"]


def read_published_nmas(path) -> pd.DataFrame:
    """Published network meta-analyses' estimates, as published (for context beside this
    workflow's): OR and RR as ratios, RD in percentage points. Missing columns, a measure other
    than OR, RR or RD, an estimate that is no number or outside its interval, or a ratio not
    above 0 stop naming the file and row."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PUBLISHED_NMA_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: column(s) missing: {', '.join(missing)}")
    bad = df[~df["measure"].isin(["OR", "RR", "RD"])]
    if len(bad):
        raise ValueError(f"{path}: row {bad.index[0] + 2}: measure must be OR, RR or RD, not {bad['measure'].iloc[0]!r}")
    for col, pattern in (("estimate", r"-?\d+(\.\d+)?"), ("ci_low", r"-?\d+(\.\d+)?"),
                         ("ci_high", r"-?\d+(\.\d+)?"), ("week", r"\d+")):
        bad = df[~df[col].str.fullmatch(pattern)]
        if len(bad):
            raise ValueError(f"{path}: row {bad.index[0] + 2}: {col} must be a number, not {bad[col].iloc[0]!r}")
    df = df[PUBLISHED_NMA_COLUMNS].astype({"estimate": float, "ci_low": float, "ci_high": float, "week": int})
    bad = df[(df["ci_low"] > df["estimate"]) | (df["estimate"] > df["ci_high"])]
    if len(bad):
        raise ValueError(f"{path}: row {bad.index[0] + 2}: the estimate is not inside its interval")
    bad = df[(df["measure"] != "RD") & (df["ci_low"] <= 0)]
    if len(bad):
        raise ValueError(f"{path}: row {bad.index[0] + 2}: an {bad['measure'].iloc[0]} and its interval must be above 0 "
                         "(a ratio, not its logarithm)")
    return df


def _fitting_counts(percent: str, n: int) -> tuple[int, int]:
    """(low, high): the whole counts r of n whose percentage 100 r / n prints, rounded half up
    at the printed decimals, as `percent`: v - h <= 100 r / n < v + h with h half a unit of the
    last printed decimal, in exact arithmetic. low > high where no count does."""
    value = Fraction(Decimal(percent))
    half = Fraction(1, 2) / 10 ** max(0, -Decimal(percent).as_tuple().exponent)
    low = math.ceil((value - half) * n / 100)
    high = math.ceil((value + half) * n / 100) - 1
    return max(0, low), min(n, high)


def count_from_percent(percent: str, n: int) -> tuple[int, str, str]:
    """(responders, count kind, note) for a published percentage printed as `percent` of n
    patients: the count whose percentage rounds to the printed one (the nearest where several
    do, said in the note), or, where none does, the nearest count with a note saying so."""
    value = Fraction(Decimal(percent))
    decimals = max(0, -Decimal(percent).as_tuple().exponent)
    low, high = _fitting_counts(percent, n)
    if low <= high:
        r = min(range(low, high + 1), key=lambda c: (abs(Fraction(100 * c, n) - value), c))
        note = "" if low == high else (f"{percent} % of {n} fits {low} to {high}: the nearest used" if high - low > 1
                                       else f"{percent} % of {n} fits {low}, {high}: the nearest used")
        return r, "back-computed from %", note
    nearest = min(max(0, round(value * n / 100)), n)
    return nearest, "back-computed from %", (f"{percent} % is no whole count of {n} (the nearest, {nearest}/{n}, is "
                                             f"{100 * nearest / n:.{decimals}f} %): the published denominator or imputation may differ")


def count_range(percent: str, n: int) -> tuple[int, int]:
    """(lowest, highest) responder count of n a published percentage may stand for: the counts
    whose percentage prints as `percent`, or, where none does, the two whole counts either side
    of percent x n (the published denominator or imputation differs: either may be nearer)."""
    low, high = _fitting_counts(percent, n)
    if low <= high:
        return low, high
    exact = Fraction(Decimal(percent)) * n / 100
    return max(0, math.floor(exact)), min(n, math.ceil(exact))


def published_rows(published: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in published.to_dict("records"):
        n = int(r["n"])
        if r["responders"]:
            responders, count, note = int(r["responders"]), "reported", ""
            low = high = responders
        else:
            responders, count, note = count_from_percent(r["percent"], n)
            low, high = count_range(r["percent"], n)
        rows.append({"trial": r["trial"], "nct_id": r["nct_id"], "evidence": PUBLISHED, "simulated": False,
                     "design": RANDOMIZED, "treatment": r["treatment"], "is_control": r["is_control"] == "yes",
                     "endpoint": r["endpoint"], "week": int(r["week"]), "responders": responders,
                     "responders_low": low, "responders_high": high, "n": n,
                     "percent": float(r["percent"]) if r["percent"] else 100 * responders / n,
                     "analysis_set": r["analysis_set"], "imputation": r["imputation"], "count": count,
                     "count_note": note, "source": r["source"], "source_url": r["source_url"]})
    return pd.DataFrame(rows)


def patient_level_rows(efficacy: pd.DataFrame, trials: list[dict]) -> pd.DataFrame:
    """The processed trials' overall responder counts at each reported week (timepoints W<n>)."""
    meta = {t["trial_id"]: t for t in trials}
    e = efficacy[(efficacy["subgroup"] == OVERALL) & efficacy["timepoint"].str.fullmatch(r"W\d+")]
    rows = []
    for r in e.to_dict("records"):
        t = meta.get(r["trial_id"], {})
        design = t.get("design") or SINGLE_ARM
        rows.append({"trial": t.get("label") or r["trial_id"], "nct_id": r["trial_id"], "evidence": PATIENT_LEVEL,
                     "simulated": bool(t.get("simulated")), "design": design, "treatment": r["arm"],
                     "is_control": design == RANDOMIZED and r["arm"] == t.get("control"), "endpoint": r["endpoint"],
                     "week": int(r["timepoint"][1:]), "responders": int(r["n_responders"]),
                     "responders_low": int(r["n_responders"]), "responders_high": int(r["n_responders"]),
                     "n": int(r["n_subjects"]),
                     "percent": float(r["pct"]) if r["n_subjects"] else math.nan, "analysis_set": "FAS",
                     "imputation": r["imputation"], "count": "counted", "count_note": "", "phase": r.get("phase"),
                     "source": "this workflow's efficacy table", "source_url": ""})
    return pd.DataFrame(rows)


def evidence_table(efficacy: pd.DataFrame, trials: list[dict], published: pd.DataFrame, *, endpoint: str,
                   week: int, other_weeks: bool) -> pd.DataFrame:
    """Every arm × endpoint × week, with in_network and network_note for `endpoint` at `week`.

    Enters the network: randomised trials' arms of the endpoint at the week (patient-level data
    where a trial is processed, its published rows then only listed), a trial reporting only
    other weeks at its nearest week where other_weeks allows it (marked), trials of two or more
    arms with one control."""
    parts = [p for p in (patient_level_rows(efficacy, trials), published_rows(published)) if len(p)]
    ev = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=EVIDENCE_COLUMNS[:-2])
    ev["in_network"], ev["network_note"] = False, ""
    if ev.empty:
        return ev[EVIDENCE_COLUMNS]
    processed = set(ev.loc[ev["evidence"] == PATIENT_LEVEL, "nct_id"])
    for nct, rows in ev.groupby("nct_id", sort=False):
        for kind in (PATIENT_LEVEL, PUBLISHED):
            idx = rows.index[(rows["evidence"] == kind) & (rows["endpoint"] == endpoint)]
            if not len(idx):
                continue
            note, chosen = _network_choice(ev.loc[idx], kind, nct in processed, week, other_weeks)
            ev.loc[idx, "network_note"] = note
            if chosen is not None:
                ev.loc[chosen, "in_network"] = True
                ev.loc[chosen, "network_note"] = note
    return ev[EVIDENCE_COLUMNS].sort_values(["nct_id", "evidence", "endpoint", "week", "is_control", "treatment"],
                                            ascending=[True, True, True, True, False, True], kind="stable",
                                            ignore_index=True)


def _network_choice(rows: pd.DataFrame, kind: str, processed: bool, week: int, other_weeks: bool):
    """(note, index of the rows entering the network or None) for one trial's rows of one kind."""
    if kind == PUBLISHED and processed:
        return "not used: the trial's patient-level data are processed", None
    if (rows["design"] != RANDOMIZED).any():
        return "not in the network: not a randomised trial (sheet column design)", None
    weeks = sorted(rows["week"].unique())
    at = week if week in weeks else None
    note = ""
    if at is None:
        if not other_weeks:
            return (f"not in the network: reports week {', '.join(map(str, weeks))}, not {week} "
                    f"(comparison.other_weeks: true includes it at its nearest week)"), None
        at = min(weeks, key=lambda w: (abs(w - week), w))
        note = f"at week {at}, not {week} (comparison.other_weeks)"
    chosen = rows[rows["week"] == at]
    if "phase" in chosen.columns and chosen["phase"].isin(["off drug", "on and off drug"]).any():
        # the published trials report response on drug: a week after the last dose is another endpoint
        return f"not in the network: week {at} is (partly) after the last dose ({OFF_DRUG_NOTE})", None
    controls = chosen[chosen["is_control"]]
    if len(controls) != 1:
        return (f"not in the network: {len(controls)} control arms at week {at} (sheet column control names one)"
                if kind == PATIENT_LEVEL else f"not in the network: {len(controls)} control arms"), None
    if len(chosen) < 2:
        return "not in the network: one arm", None
    return note or "in the network", chosen.index


def network_arms(evidence: pd.DataFrame) -> pd.DataFrame:
    """The arms entering the network as regrowth.compare.effects takes them (study = trial)."""
    used = evidence[evidence["in_network"]]
    return pd.DataFrame({"study": used["trial"], "treatment": used["treatment"], "responders": used["responders"],
                         "n": used["n"], "is_control": used["is_control"], "responders_low": used["responders_low"],
                         "responders_high": used["responders_high"]}).reset_index(drop=True)
