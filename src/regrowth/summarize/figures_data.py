"""What the report's figures plot, as summary tables: Kaplan-Meier curves, mean SALT by visit and
each subject's best change from baseline. The report only draws them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

from regrowth.summarize.select import read_rows, to_pandas
from regrowth.summarize.stats import kaplan_meier
from regrowth.summarize.tables import OVERALL, RELAPSE, TOTAL_RECORDS, relapse_responders

# The weeks each curve's axis shows (ticks every KM_TICK_WEEKS from 0); the numbers at risk are
# given at the ticks. Time to response runs from the first dose, to relapse from the last.
KM_AXIS_WEEKS = {"response": 40, "relapse": 28}
KM_TICK_WEEKS = 4
KM_COLUMNS = ["trial_id", "arm", "curve", "method", "n_subjects", "weeks", "n_at_risk", "n_event", "n_censor", "surv",
              "axis_tick"]
# How each curve counts a subject who stops being assessed without the event
KAPLAN_MEIER = "Kaplan-Meier (censored)"
NON_RESPONDER = "cumulative proportion of all subjects (NRI: no later response)"


def km_curve_rows(weeks: np.ndarray, event: np.ndarray, max_week: int, *, non_responder: bool = False) -> pd.DataFrame:
    """One row per distinct time and per axis tick (0, KM_TICK_WEEKS, ... max_week): weeks,
    n_at_risk (times >= weeks), n_event and n_censor at that time, surv (the proportion still
    without the event just after it; 1 before the first time), axis_tick. surv is the
    product-limit estimate, or with non_responder 1 - events so far / all subjects: a subject
    whose follow-up ends without the event never has it, as non-responder imputation counts
    them (the cumulative incidence with stopping as a competing event)."""
    km = kaplan_meier(weeks, event)
    if non_responder and len(km):
        km = km.assign(surv=1 - km["n_event"].cumsum().to_numpy() / len(weeks))
    ticks = np.arange(0, max_week + 1, KM_TICK_WEEKS, dtype=float)
    steps = pd.DataFrame({"weeks": km["time"], "n_at_risk": km["n_risk"], "n_event": km["n_event"],
                          "n_censor": km["n_censor"], "surv": km["surv"]})
    extra = ticks[~np.isin(ticks, steps["weeks"])]
    at = np.searchsorted(steps["weeks"].to_numpy(), extra, side="right")  # km times <= tick
    surv = np.concatenate([[1.0], steps["surv"].to_numpy()])[at]
    between = pd.DataFrame({"weeks": extra, "n_at_risk": [int((weeks >= x).sum()) for x in extra], "n_event": 0,
                            "n_censor": 0, "surv": surv})
    rows = pd.concat([steps, between], ignore_index=True).sort_values("weeks", kind="stable", ignore_index=True)
    rows["axis_tick"] = rows["weeks"].isin(ticks)
    return rows


def km_curves_table(trial_id: str, adtte, imputation: str = "NRI") -> pd.DataFrame:
    """Per arm (planned), the curves the report draws: 'response', time to the first response on
    treatment from the first dose (every ADTTE parameter but TTRELAPS: the FAS), counted as the
    responder tables count (imputation NRI: a subject who stops or is not assessed does not
    respond later, so the curve is the proportion of all subjects; observed: Kaplan-Meier,
    such subjects censored), and 'relapse', time to relapse from the last dose among
    end-of-treatment responders followed off drug (relapse_responders, as in the relapse
    table; Kaplan-Meier). Weeks = AVAL / 7; CNSR 0 is the event."""
    records = read_rows(adtte, ["TRT01P", "PARAMCD", "AVAL", "CNSR"], pl.col("PARAMCD").ne_missing(RELAPSE),
                        name="adtte")
    curves = (("response", records), ("relapse", relapse_responders(adtte).filter("FOLLOWED")))
    parts = []
    for curve, frame in curves:
        frame = frame.with_columns(pl.col("TRT01P").cast(pl.String))
        for arm in sorted(frame["TRT01P"].drop_nulls().unique().to_list()):
            arm_rows = frame.filter(pl.col("TRT01P") == arm)
            weeks = arm_rows["AVAL"].cast(pl.Float64).to_numpy() / 7
            event = (arm_rows["CNSR"] == 0).fill_null(False).to_numpy()
            non_responder = curve == "response" and imputation == "NRI"
            rows = km_curve_rows(weeks, event, KM_AXIS_WEEKS[curve], non_responder=non_responder)
            parts.append(rows.assign(trial_id=trial_id, arm=arm, curve=curve, n_subjects=len(weeks),
                                     method=NON_RESPONDER if non_responder else KAPLAN_MEIER))
    if not parts:
        types = {"trial_id": "str", "arm": "str", "curve": "str", "method": "str", "axis_tick": "bool",
                 "weeks": "float64", "surv": "float64"}
        return pd.DataFrame({c: pd.Series(dtype=types.get(c, "int64")) for c in KM_COLUMNS})
    return pd.concat(parts, ignore_index=True)[KM_COLUMNS]


SALT_BY_VISIT_COLUMNS = ["trial_id", "arm", "subgroup", "week", "n", "mean", "sd", "ci_low", "ci_high"]
Z_95 = 1.96


def salt_by_visit_table(trial_id: str, adsalt) -> pd.DataFrame:
    """Mean total SALT by arm (planned) and analysis visit, of the analysed records (ANL01FL):
    all subjects (subgroup Overall) and by alopecia subtype (AATYPE). n counts values; the band
    ci_low..ci_high is mean -/+ 1.96 SD / sqrt(n) (SD taken as 0 for a single value)."""
    records = read_rows(adsalt, ["TRT01P", "AVISITN", "AVAL"], pl.col("ANL01FL") == "Y", within=TOTAL_RECORDS,
                        optional=["AATYPE"], name="adsalt")
    subtype = pl.col("AATYPE").cast(pl.String) if "AATYPE" in records.columns else pl.lit(None, pl.String)
    records = records.select(arm=pl.col("TRT01P").cast(pl.String), subtype=subtype, week=pl.col("AVISITN"),
                             value=pl.col("AVAL").cast(pl.Float64).fill_nan(None))
    records = records.filter(pl.col("arm").is_not_null() & pl.col("week").is_not_null())
    stats = [pl.col("value").count().cast(pl.Int64).alias("n"), pl.col("value").mean().alias("mean"),
             pl.col("value").std(ddof=1).alias("sd")]
    overall = records.group_by("arm", "week").agg(*stats).with_columns(subgroup=pl.lit(OVERALL))
    by_subtype = (records.filter(pl.col("subtype").is_not_null()).group_by("arm", "subtype", "week").agg(*stats)
                  .rename({"subtype": "subgroup"}))
    table = pl.concat([overall, by_subtype], how="diagonal")
    half = Z_95 * pl.col("sd").fill_null(0) / pl.col("n").sqrt()
    table = table.with_columns(ci_low=pl.col("mean") - half, ci_high=pl.col("mean") + half,
                               trial_id=pl.lit(trial_id), is_subtype=pl.col("subgroup") != OVERALL)
    table = table.sort("arm", "is_subtype", "subgroup", "week").select(SALT_BY_VISIT_COLUMNS)
    return _as_table(table, SALT_BY_VISIT_COLUMNS)


BEST_CHANGE_COLUMNS = ["trial_id", "arm", "usubjid", "subtype", "best_pchg"]


def best_change_table(trial_id: str, adsalt) -> pd.DataFrame:
    """Per subject (by planned arm), the best (most negative) percent change of total SALT from
    baseline after day 1, and the subtype: the waterfall. Subjects without a post-baseline
    percent change (none assessed after day 1, or baseline 0) have no best change and no row.
    Ordered by arm, then best change from the largest (worst) down, then subject."""
    records = read_rows(adsalt, ["USUBJID", "TRT01P", "PCHG"], pl.col("ADY") > 1, within=TOTAL_RECORDS,
                        optional=["AATYPE"], name="adsalt")
    subtype = pl.col("AATYPE").cast(pl.String) if "AATYPE" in records.columns else pl.lit(None, pl.String)
    best = (records.select(arm=pl.col("TRT01P").cast(pl.String), usubjid=pl.col("USUBJID").cast(pl.String),
                           subtype=subtype, pchg=pl.col("PCHG").cast(pl.Float64).fill_nan(None))
            .filter(pl.col("arm").is_not_null())
            .group_by("arm", "usubjid")
            .agg(best_pchg=pl.col("pchg").min(), subtype=pl.col("subtype").drop_nulls().first())
            .filter(pl.col("best_pchg").is_not_null())
            .sort(["arm", "best_pchg", "usubjid"], descending=[False, True, False])
            .with_columns(trial_id=pl.lit(trial_id)))
    return _as_table(best.select(BEST_CHANGE_COLUMNS), BEST_CHANGE_COLUMNS)


def _as_table(frame: pl.DataFrame, columns: list[str]) -> pd.DataFrame:
    return to_pandas(frame.select(columns))  # typed even without rows
