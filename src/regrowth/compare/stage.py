"""The comparison stage: the evidence table to network meta-analysis tables, and the
patient-level summary tables to matching-adjusted indirect comparisons. pandas in, pandas out
(small tables); the statistics are regrowth.compare.nma, .effects and .maic."""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from regrowth.compare.effects import number_needed_to_treat, pairwise, zero_cell_studies
from regrowth.compare.evidence import network_arms
from regrowth.compare.maic import CannotMatch, maic_weights, weighted_mean, weighted_sd
from regrowth.compare.nma import bucher, network_meta_analysis

Z95 = float(ndtri(0.975))
MODELS = ("common", "random")
EFFECT_COLUMNS = ["measure", "model", "treatment", "reference", "estimate", "ci_low", "ci_high", "log_estimate", "se",
                  "nnt", "trials"]
FIT_COLUMNS = ["measure", "model", "trials", "treatments", "comparisons", "Q", "df", "Q_pvalue", "tau2", "I2", "note"]
LEAGUE_COLUMNS = ["measure", "model", "treatment", "comparator", "estimate", "ci_low", "ci_high"]
RANK_COLUMNS = ["measure", "model", "treatment", "pscore", "rank"]
BUCHER_COLUMNS = ["measure", "treatment", "trial", "comparator", "comparator_trial", "common_arm", "estimate", "ci_low",
                  "ci_high", "nma_estimate"]
SENSITIVITY_COLUMNS = ["analysis", "measure", "model", "treatment", "reference", "estimate", "ci_low", "ci_high"]


def _natural(measure: str, log_value: float) -> float:
    return log_value * 100 if measure == "RD" else math.exp(log_value)


def _reference(arms: pd.DataFrame) -> str:
    controls = Counter(arms.loc[arms["is_control"], "treatment"])
    return controls.most_common(1)[0][0]


def network_tables(evidence: pd.DataFrame, measures: list[str], increment: float = 0.5) -> dict[str, pd.DataFrame]:
    """nma_effects (each treatment vs the reference, the most common control), nma_fit,
    nma_league, nma_ranking (P-scores, higher response better), bucher (active arms of two
    trials through their shared control), nma_sensitivity (zero cells; counts back-computed from
    a percentage that fits several counts or none)."""
    arms = network_arms(evidence)
    empty = {"nma_effects": EFFECT_COLUMNS, "nma_fit": FIT_COLUMNS, "nma_league": LEAGUE_COLUMNS,
             "nma_ranking": RANK_COLUMNS, "bucher": BUCHER_COLUMNS, "nma_sensitivity": SENSITIVITY_COLUMNS}
    out = {name: pd.DataFrame(columns=cols) for name, cols in empty.items()}
    if arms["study"].nunique() < 1 or len(arms) < 2:
        out["nma_fit"] = pd.DataFrame([{**{c: None for c in FIT_COLUMNS}, "measure": m, "model": model,
                                        "note": "no randomised trial enters the network"}
                                       for m in measures for model in MODELS], columns=FIT_COLUMNS)
        return out
    reference = _reference(arms)
    trials_of = arms.groupby("treatment")["study"].apply(lambda s: ", ".join(sorted(s)))
    effects, fits, league, ranks, buch, sens = [], [], [], [], [], []
    for measure in measures:
        contrasts = pairwise(arms, measure, increment)
        common, random = network_meta_analysis(contrasts, reference=reference)
        for fit in (common, random):
            for t in fit.treatments:
                if t == reference:
                    continue
                est, se = fit.effect(t, reference)
                effects.append({"measure": measure, "model": fit.model, "treatment": t, "reference": reference,
                                "estimate": _natural(measure, est), "ci_low": _natural(measure, est - Z95 * se),
                                "ci_high": _natural(measure, est + Z95 * se), "log_estimate": est, "se": se,
                                "nnt": number_needed_to_treat(est) if measure == "RD" else None,
                                "trials": trials_of.get(t, "")})
            fits.append(_fit_row(measure, fit, arms, contrasts))
            league += [{"measure": measure, "model": fit.model, **r,
                        "estimate": _natural(measure, r["estimate"]), "ci_low": _natural(measure, r["ci_low"]),
                        "ci_high": _natural(measure, r["ci_high"])}
                       for r in fit.league().drop(columns="se").to_dict("records")]
            scores = fit.pscores(larger_is_better=True)
            order = sorted(scores, key=lambda t: -scores[t])
            ranks += [{"measure": measure, "model": fit.model, "treatment": t, "pscore": scores[t],
                       "rank": order.index(t) + 1} for t in fit.treatments]
        buch += _bucher_rows(measure, contrasts, arms, common)
        sens += _zero_cell_sensitivity(arms, measure, increment, reference)
        sens += _count_sensitivity(arms, measure, increment, reference)
    out.update(nma_effects=pd.DataFrame(effects, columns=EFFECT_COLUMNS), nma_fit=pd.DataFrame(fits, columns=FIT_COLUMNS),
               nma_league=pd.DataFrame(league, columns=LEAGUE_COLUMNS),
               nma_ranking=pd.DataFrame(ranks, columns=RANK_COLUMNS), bucher=pd.DataFrame(buch, columns=BUCHER_COLUMNS),
               nma_sensitivity=pd.DataFrame(sens, columns=SENSITIVITY_COLUMNS))
    return out


def _fit_row(measure, fit, arms, contrasts) -> dict:
    note = ""
    if fit.df <= 0:
        note = ("heterogeneity not estimable: each comparison has one trial (tau2 = 0; random = common effect)"
                if fit.model == "random" else "Q has no degrees of freedom: each comparison has one trial")
    return {"measure": measure, "model": fit.model, "trials": int(arms["study"].nunique()),
            "treatments": len(fit.treatments), "comparisons": len(contrasts), "Q": fit.Q if fit.df > 0 else None,
            "df": fit.df, "Q_pvalue": fit.Q_pvalue, "tau2": fit.tau2 if fit.df > 0 else None,
            "I2": fit.I2, "note": note}


def _bucher_rows(measure, contrasts, arms, common) -> list[dict]:
    """Each pair of active arms of two different trials sharing a control arm: the indirect
    estimate through that control (on a star network of two-arm trials it equals the NMA)."""
    controls = arms.loc[arms["is_control"]].set_index("study")["treatment"]
    direct = {}
    for r in contrasts.itertuples():
        if r.treat2 == controls.get(r.study):
            direct[(r.study, r.treat1)] = (r.TE, r.seTE, r.treat2)
        elif r.treat1 == controls.get(r.study):
            direct[(r.study, r.treat2)] = (-r.TE, r.seTE, r.treat1)
    rows = []
    for (s1, a), (s2, b) in combinations(sorted(direct), 2):
        if s1 == s2 or direct[(s1, a)][2] != direct[(s2, b)][2] or a == b:
            continue
        est, se = bucher(direct[(s1, a)][0], direct[(s1, a)][1], direct[(s2, b)][0], direct[(s2, b)][1])
        rows.append({"measure": measure, "treatment": a, "trial": s1, "comparator": b, "comparator_trial": s2,
                     "common_arm": direct[(s1, a)][2], "estimate": _natural(measure, est),
                     "ci_low": _natural(measure, est - Z95 * se), "ci_high": _natural(measure, est + Z95 * se),
                     "nma_estimate": _natural(measure, common.effect(a, b)[0])})
    return rows


def _zero_cell_sensitivity(arms, measure, increment, reference) -> list[dict]:
    """With zero cells (an arm with no or only responders): the ratio measures again with a
    tenth of the increment, and without those trials; the risk difference needs no increment."""
    zero = zero_cell_studies(arms.drop(columns="is_control"))
    if not zero or measure == "RD":
        return []
    return _refits([(f"increment {increment / 10:g} instead of {increment:g}", arms, increment / 10),
                    (f"without {', '.join(sorted(zero))}", arms[~arms["study"].isin(zero)], increment)],
                   measure, reference)


def _count_sensitivity(arms, measure, increment, reference) -> list[dict]:
    """Published percentages that stand for more than one whole count at the stated N, or for
    none: the network again with each such count at the end of its range least favourable to
    the non-control arms (those low, control arms high), and at the most favourable end."""
    uncertain = arms["responders_low"] != arms["responders_high"]
    if not uncertain.any():
        return []
    which = ", ".join(sorted(set(arms.loc[uncertain, "study"])))
    control = arms["is_control"].to_numpy(bool)
    low, high = arms["responders_low"].to_numpy(), arms["responders_high"].to_numpy()
    least = arms.assign(responders=np.where(control, high, low))
    most = arms.assign(responders=np.where(control, low, high))
    return _refits([(f"back-computed counts of {which} least favourable to the non-control arms", least, increment),
                    (f"back-computed counts of {which} most favourable to the non-control arms", most, increment)],
                   measure, reference)


def _refits(analyses, measure, reference) -> list[dict]:
    """Each (label, arms, increment): the network fitted again, each treatment against the reference."""
    rows = []
    for label, data, inc in analyses:
        if data["study"].nunique() == 0 or reference not in set(data["treatment"]):
            continue
        try:
            common, random = network_meta_analysis(pairwise(data, measure, inc), reference=reference)
        except ValueError as exc:
            rows.append({"analysis": label, "measure": measure, "model": None, "treatment": str(exc), "reference": reference,
                         "estimate": None, "ci_low": None, "ci_high": None})
            continue
        for fit in (common, random):
            for t in fit.treatments:
                if t != reference:
                    est, se = fit.effect(t, reference)
                    rows.append({"analysis": label, "measure": measure, "model": fit.model, "treatment": t,
                                 "reference": reference, "estimate": _natural(measure, est),
                                 "ci_low": _natural(measure, est - Z95 * se),
                                 "ci_high": _natural(measure, est + Z95 * se)})
    return rows


# --- matching-adjusted indirect comparison ---------------------------------------------------------------

COVARIATES = {  # config name -> (column of the comparison subjects table, label, kind)
    "age": ("AGE", "Age (years, mean)", "mean"),
    "age_sd": ("AGE", "Age (years, SD)", "sd"),
    "female": ("female", "Female (proportion)", "mean"),
    "baseline_salt": ("SALTBL", "Baseline SALT (mean)", "mean"),
    "at_au": ("at_au", "Alopecia totalis/universalis (proportion)", "mean"),
    "disease_duration": ("DURDIS", "Disease duration (years, mean)", "mean"),
}
TARGET_COLUMNS = ["comparator", "treatment", "n", "responders", "control_treatment", "control_n", "control_responders",
                  "endpoint", *COVARIATES, "source"]
MAIC_COLUMNS = ["trial", "treatment", "comparator", "comparator_treatment", "comparator_source", "endpoint",
                "anchored", "covariates", "n", "n_excluded", "ess", "rate", "rate_unweighted", "comparator_rate",
                "odds_ratio", "or_ci_low", "or_ci_high", "risk_difference", "rd_ci_low", "rd_ci_high", "or_boot_low", "or_boot_high", "boot_resamples",
                "weight_max_share", "weight_min", "weight_median", "weight_max", "timing", "assumption", "note"]
BALANCE_COLUMNS = ["trial", "comparator", "covariate", "before", "after", "target"]
UNANCHORED = ("unanchored: no common comparator arm; assumes every prognostic factor and effect modifier is "
              "among the matched covariates, and that the outcome is defined and timed alike; the estimate is for "
              "the comparator's population (the trial's patients reweighted to it)")
ANCHORED = ("anchored on the common control arm: assumes every effect modifier is among the matched covariates "
            "and the control arms are alike; prognostic factors need not all be matched")


def aggregate_of(subjects: pd.DataFrame, trial: str, endpoint: str, covariates: list[str]) -> dict:
    """A processed trial's patients summarised as a publication would report them (each arm
    pooled): N, responders and the covariates' means (or SD)."""
    rows = subjects[(subjects["trial_id"] == trial) & (subjects["endpoint"] == endpoint)]
    if rows.empty:
        raise ValueError(f"MAIC comparator {trial}: no patients with endpoint {endpoint} in its comparison subjects")
    if rows["arm"].nunique() > 1:  # pooled arms would be no treatment's population or result
        raise ValueError(f"MAIC comparator {trial} has arms {', '.join(sorted(rows['arm'].unique()))}: a processed "
                         "comparator must be a single-arm trial (compare randomised trials in the network instead)")
    assessed = rows["responder"].notna()  # under observed imputation a missing response is no patient of n
    out = {"comparator": trial, "treatment": ", ".join(sorted(rows["arm"].unique())), "n": int(assessed.sum()),
           "responders": float(rows.loc[assessed, "responder"].sum()),
           "source": f"{trial}: this workflow's patient-level tables"}
    for name in covariates:
        column, _, kind = COVARIATES[name]
        values = rows[column].dropna()
        out[name] = float(values.std(ddof=1) if kind == "sd" else values.mean())
    return out


def maic_tables(subjects: pd.DataFrame, entries: list[dict], targets: pd.DataFrame | None = None,
                processed: set[str] | None = None, controls: dict[str, str] | None = None,
                eot_weeks: dict[str, int | None] | None = None) -> dict[str, pd.DataFrame]:
    """maic (one row per configured comparison) and maic_balance (each covariate before and
    after weighting, and the target). entries: config comparison.maic; a comparison of a trial
    not in this run (processed) is listed as not run, with the reason. controls: the control arm
    of each randomized trial: an entry naming its `arm`, against a published comparator that
    gives its control arm's result, is anchored on that control."""
    results, balance = [], []
    controls = controls or {}
    for entry in entries:
        trial, endpoint, covariates = entry["trial"], entry.get("endpoint", "SALT50"), entry["covariates"]
        comparator = entry["comparator"]
        absent = [t for t in (trial, comparator.get("trial")) if t and processed is not None and t not in processed]
        if absent:
            results.append({c: None for c in MAIC_COLUMNS} | {
                "trial": trial, "comparator": comparator.get("trial") or comparator.get("published"),
                "endpoint": endpoint, "covariates": ", ".join(covariates),
                "note": f"not run: {', '.join(absent)} not in this run's trial sheet"})
            continue
        if "trial" in comparator:
            target = aggregate_of(subjects, comparator["trial"], endpoint, covariates)
        else:
            target = _published_target(targets, comparator["published"], endpoint)
        ipd = subjects[(subjects["trial_id"] == trial) & (subjects["endpoint"] == endpoint)]
        control = controls.get(trial)
        arm = entry.get("arm")
        if arm is not None:
            if arm not in set(ipd["arm"]):
                raise ValueError(f"MAIC: trial {trial} has no arm {arm!r} (config comparison.maic arm); its arms: "
                                 f"{', '.join(sorted(ipd['arm'].unique()))}")
            anchored = control is not None and _gives_control(target)
            if anchored and str(target["control_treatment"]).strip().casefold() != control.strip().casefold():
                where = (targets.attrs.get("path") if targets is not None else None) or "comparison.maic_targets"
                raise ValueError(
                    f"MAIC {trial} vs {target['comparator']}: anchored on the trial's control arm {control!r}, but the "
                    f"comparator's control is {target['control_treatment']!r} ({where}, column "
                    "control_treatment): an anchored comparison needs the same control treatment in both trials. If "
                    "it is the same treatment under another name, name it as the trial's control arm is named; if "
                    "not, the comparison cannot be anchored: leave out `arm` in comparison.maic for an unanchored one")
            ipd = ipd[ipd["arm"].isin([arm, control] if anchored else [arm])]
        else:
            anchored = False
        if ipd.empty:
            raise ValueError(f"MAIC: trial {trial} has no patients with endpoint {endpoint}")
        row, bal = _one_maic(trial, ipd, target, covariates, endpoint, (arm, control) if anchored else None)
        row["timing"] = _timing(trial, comparator.get("trial"), eot_weeks or {})
        results.append(row)
        balance += bal
    return {"maic": pd.DataFrame(results, columns=MAIC_COLUMNS), "maic_balance": pd.DataFrame(balance, columns=BALANCE_COLUMNS)}


def _published_target(targets: pd.DataFrame | None, name: str, endpoint: str) -> dict:
    if targets is None or targets.empty:
        raise ValueError(f"MAIC comparator {name!r}: no published targets file rows (comparison.maic_targets)")
    rows = targets[(targets["comparator"] == name) & (targets["endpoint"] == endpoint)]
    if len(rows) != 1:
        raise ValueError(f"MAIC comparator {name!r}, endpoint {endpoint}: {len(rows)} rows in the targets file, 1 needed")
    return rows.iloc[0].to_dict()


def _timing(trial: str, comparator: str | None, eot_weeks: dict) -> str:
    """When each side's response is measured: end of treatment, the sheet's eot_week."""
    def week(t):
        w = eot_weeks.get(t)
        return f"week {w}" if w is not None else "each subject's last on-treatment assessment"
    if comparator is None:
        return f"{trial}: end of treatment ({week(trial)}); the comparator: as published"
    text = f"end of treatment: {week(trial)} ({trial}) vs {week(comparator)} ({comparator})"
    return text + ("" if eot_weeks.get(trial) == eot_weeks.get(comparator) else ": not timed alike")


def _gives_control(target: dict) -> bool:
    value = target.get("control_n")
    return value is not None and value == value and str(value) != ""


def _one_maic(trial, ipd, target, covariates, endpoint, anchor=None):
    from regrowth.compare.maic import anchored_binary, bootstrap_unanchored, unanchored_binary

    columns, goals, names = [], [], []
    for name in covariates:
        column, label, kind = COVARIATES[name]
        value = target.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ValueError(f"MAIC {trial} vs {target['comparator']}: the comparator gives no {name}")
        if kind == "sd":  # match the mean of AGE^2 to sd^2 + mean^2
            if "age" not in covariates:
                raise ValueError("MAIC: age_sd needs age among the covariates too")
            columns.append(("sq", column))
            goals.append(float(value) ** 2 + float(target["age"]) ** 2)
        else:
            columns.append(("raw", column))
            goals.append(float(value))
        names.append(label)
    needed = sorted({c for _, c in columns})
    complete = ipd.dropna(subset=[*needed, "responder"])
    no_covariate = int(ipd[needed].isna().any(axis=1).sum())
    if complete.empty:
        absent = [c for c in needed if ipd[c].isna().all()]
        raise ValueError(f"MAIC {trial} vs {target['comparator']}: no patient has every matched covariate and a response"
                         + (f" ({', '.join(absent)} missing for all: ADSL has no value; drop it from "
                            "comparison.maic covariates)" if absent else ""))
    X = np.column_stack([complete[c].to_numpy(float) ** (2 if how == "sq" else 1) for how, c in columns])
    try:
        w = maic_weights(X, np.array(goals), names=names)
    except CannotMatch as exc:
        raise ValueError(f"MAIC {trial} vs {target['comparator']}: {exc}") from None
    y = complete["responder"].to_numpy(float)
    if anchor is not None:
        arm, control = anchor
        active = (complete["arm"] == arm).to_numpy()
        result = anchored_binary(y, active, w, (float(target["responders"]), float(target["n"])),
                                 (float(target["control_responders"]), float(target["control_n"])))
        lo, hi = result.ci()
        row = {c: None for c in MAIC_COLUMNS} | {
            "trial": trial, "treatment": f"{arm} vs {control}", "comparator": target["comparator"],
            "comparator_treatment": f"{target['treatment']} vs {target['control_treatment']}",
            "comparator_source": target["source"], "endpoint": endpoint, "anchored": True,
            "covariates": ", ".join(covariates), "n": len(complete), "n_excluded": len(ipd) - len(complete),
            "ess": w.ess, "rate": 100 * weighted_mean(y[active], w.weights[active]),
            "rate_unweighted": 100 * float(y[active].mean()),
            "comparator_rate": 100 * float(target["responders"]) / float(target["n"]),
            "odds_ratio": math.exp(result.log_or), "or_ci_low": math.exp(lo), "or_ci_high": math.exp(hi),
            "weight_max_share": float(w.weights.max() / w.weights.sum()), **_weight_summary(w),
            "assumption": ANCHORED, "note": ""}
        return row, _balance_rows(trial, target, complete, columns, covariates, goals, w)
    result = unanchored_binary(y, w, float(target["responders"]), float(target["n"]))
    lo, hi = result.ci()
    rd_lo, rd_hi = result.ci(scale="rd")
    row = {"trial": trial, "treatment": ", ".join(sorted(complete["arm"].unique())),
           "comparator": target["comparator"], "comparator_treatment": target["treatment"],
           "comparator_source": target["source"], "endpoint": endpoint, "anchored": False,
           "covariates": ", ".join(covariates), "n": len(complete), "n_excluded": len(ipd) - len(complete),
           "ess": w.ess, "rate": 100 * result.rate, "rate_unweighted": 100 * float(y.mean()),
           "comparator_rate": 100 * float(target["responders"]) / float(target["n"]),
           "odds_ratio": math.exp(result.log_or), "or_ci_low": math.exp(lo), "or_ci_high": math.exp(hi),
           "risk_difference": 100 * result.risk_difference, "rd_ci_low": 100 * rd_lo, "rd_ci_high": 100 * rd_hi,
           "weight_max_share": float(w.weights.max() / w.weights.sum()), **_weight_summary(w), "assumption": UNANCHORED,
           "note": _left_out(no_covariate, len(ipd) - len(complete) - no_covariate)}
    b_lo, b_hi, used = bootstrap_unanchored(X, np.array(goals), y, float(target["responders"]), float(target["n"]))
    row.update(or_boot_low=math.exp(b_lo), or_boot_high=math.exp(b_hi), boot_resamples=used)
    return row, _balance_rows(trial, target, complete, columns, covariates, goals, w)


def _left_out(no_covariate: int, no_response: int) -> str:
    parts = [f"{no_covariate} patient(s) without a matched covariate" if no_covariate else "",
             f"{no_response} without a response (observed imputation)" if no_response else ""]
    return " and ".join(p for p in parts if p) + (" left out" if any(parts) else "")


def _weight_summary(w) -> dict:
    """The weights' distribution, rescaled to sum to the number of patients (1 = unweighted)."""
    r = w.rescaled
    return {"weight_min": float(r.min()), "weight_median": float(np.median(r)), "weight_max": float(r.max())}


def _balance_rows(trial, target, complete, columns, covariates, goals, w) -> list[dict]:
    balance = []
    for (how, column), name, goal in zip(columns, covariates, goals):
        values = complete[column].to_numpy(float)
        if how == "sq":
            before, after, shown = values.std(ddof=1), weighted_sd(values, w.weights), float(target[name])
        else:
            before, after, shown = values.mean(), weighted_mean(values, w.weights), goal
        balance.append({"trial": trial, "comparator": target["comparator"], "covariate": COVARIATES[name][1],
                        "before": float(before), "after": float(after), "target": shown})
    return balance


PUBLISHED_NMA_CONTEXT = ["this_estimate", "this_ci_low", "this_ci_high", "this_note"]


def published_nma_context(published: pd.DataFrame, league: pd.DataFrame, evidence: pd.DataFrame, endpoint: str,
                          week: int) -> pd.DataFrame:
    """Published NMAs' estimates as published, each with this workflow's random-effects estimate
    of the same comparison where the endpoint, week and measure are this run's and both
    treatments are in its network; this_note says why not otherwise. With trials taken at
    another week (comparison.other_weeks) this network is not one of week `week` alone, and says so."""
    random = league[league["model"] == "random"].set_index(["measure", "treatment", "comparator"])
    used = evidence[evidence["in_network"]]
    in_network = set(used["treatment"])
    off_week = sorted(set(used.loc[used["week"] != week, "trial"]))
    measures = set(league["measure"])
    rows = []
    for r in published.to_dict("records"):
        key = (r["measure"], r["treatment"], r["comparator"])
        absent = [t for t in (r["treatment"], r["comparator"]) if t not in in_network]
        if r["endpoint"] != endpoint or int(r["week"]) != week:
            note = f"this run's network is {endpoint} at week {week} (comparison.endpoint, comparison.week)"
        elif r["measure"] not in measures:
            note = f"{r['measure']} is not among comparison.measures"
        elif absent:
            note = f"{' and '.join(absent)} not in this run's network (a treatment named otherwise in the evidence table?)"
        elif off_week:
            note = f"not comparable: this network takes {', '.join(off_week)} at another week (comparison.other_weeks)"
        else:
            note = ""
        mine = random.loc[key] if not note and key in random.index else None
        rows.append({**r, "this_estimate": float(mine["estimate"]) if mine is not None else None,
                     "this_ci_low": float(mine["ci_low"]) if mine is not None else None,
                     "this_ci_high": float(mine["ci_high"]) if mine is not None else None, "this_note": note})
    return pd.DataFrame(rows, columns=[*published.columns, *PUBLISHED_NMA_CONTEXT])


def read_maic_targets(path) -> pd.DataFrame:
    """The published comparator populations. Missing columns, or a control arm's count without
    the control treatment's name, stop naming the file and row."""
    df = pd.read_csv(path)
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: column(s) missing: {', '.join(missing)}")
    unnamed = df[df["control_n"].notna() & df["control_treatment"].astype("string").fillna("").str.strip().eq("")]
    if len(unnamed):
        raise ValueError(f"{path}: row {unnamed.index[0] + 2} ({unnamed['comparator'].iloc[0]}) gives control_n but no "
                         "control_treatment: name the published control arm's treatment (an anchored comparison "
                         "needs the same control in both trials)")
    df.attrs["path"] = str(path)
    return df


def compare_drugs(efficacy: pd.DataFrame, subjects: pd.DataFrame, published_arms, targets: pd.DataFrame,
                  trials: list[dict], comparison: dict, published_nmas: pd.DataFrame | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Every table of the compare_drugs job (workflow/rules/compare.smk) by its output name."""
    from regrowth.compare.evidence import PUBLISHED_NMA_COLUMNS, evidence_table, read_published_arms

    evidence = evidence_table(efficacy, trials, read_published_arms(published_arms), endpoint=comparison["endpoint"],
                              week=int(comparison["week"]), other_weeks=bool(comparison["other_weeks"]))
    out = {"evidence": evidence}
    out.update(network_tables(evidence, list(comparison["measures"]), float(comparison["zero_cell_increment"])))
    if published_nmas is None:
        published_nmas = pd.DataFrame(columns=PUBLISHED_NMA_COLUMNS)
    out["published_nmas"] = published_nma_context(published_nmas, out["nma_league"], evidence, comparison["endpoint"],
                                                  int(comparison["week"]))
    controls = {t["trial_id"]: t["control"] for t in trials if t.get("design") == "randomized" and t.get("control")}
    eot_weeks = {t["trial_id"]: t.get("eot_week") for t in trials}
    out.update(maic_tables(subjects, comparison.get("maic", []), targets, {t["trial_id"] for t in trials}, controls,
                           eot_weeks))
    return out
