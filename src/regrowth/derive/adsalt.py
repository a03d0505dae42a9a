"""ADSALT: SALT by visit (BDS) with baseline, change, analysis visits, phase and responder flags."""

from __future__ import annotations

import numpy as np
import polars as pl

from regrowth.derive import ORDER
from regrowth.derive.dates import study_day
from regrowth.derive.salt import ON_OR_BEFORE, TOTAL, compare_precision, derive_var_ablfl, salt_records
from regrowth.derive.tables import accepts_pandas, conform, divided
from regrowth.derive.verbs import assert_unique_keys, derive_var_extreme_flag, derive_vars_merged, require_columns
from regrowth.errors import ContractError

OPERATORS = {"<=": pl.Expr.le, "<": pl.Expr.lt, ">=": pl.Expr.ge, ">": pl.Expr.gt}
ADSL_VARS = ["STUDYID", "TRT01P", "TRT01A", "TRTSDT", "TRTEDT", "FASFL", "AATYPE"]
IN_ADSL = "__in_adsl"


def merge_adsl(rec: pl.DataFrame, adsl: pl.DataFrame) -> pl.DataFrame:
    """ADSL's variables on the records of ADSL's subjects (records of other subjects, which
    validation does not let through, are not analysed)."""
    require_columns(adsl, ["USUBJID", "TRTSDT", "TRTEDT", "TRT01P", "TRT01A", "FASFL"], "merge_adsl")
    keep = [c for c in ADSL_VARS if c in adsl.columns]
    out = derive_vars_merged(rec, adsl, ["USUBJID"], keep, exist_flag=IN_ADSL, where="merge_adsl",
                             names=("SALT records", "ADSL"))
    # dates compared as dates inside the derivation (ADSL read back from Parquet has datetimes)
    return out.filter(pl.col(IN_ADSL).is_not_null()).drop(IN_ADSL).with_columns(
        pl.col("TRTSDT", "TRTEDT").cast(pl.Date))


def derive_var_ady(df: pl.DataFrame) -> pl.DataFrame:
    require_columns(df, ["ADT", "TRTSDT"], "derive_var_ady")
    return df.with_columns(study_day(pl.col("ADT"), pl.col("TRTSDT")).alias("ADY"))


@accepts_pandas
def derive_vars_chg(df: pl.DataFrame) -> pl.DataFrame:
    """BASE, CHG = AVAL - BASE, PCHG = CHG / BASE * 100 (undefined when BASE = 0)."""
    require_columns(df, ["USUBJID", "PARAMCD", "AVAL", "ABLFL"], "derive_vars_chg")
    out = derive_vars_merged(df, df, ["USUBJID", "PARAMCD"], {"BASE": "AVAL"}, filter_add=pl.col("ABLFL") == "Y",
                             where="derive_vars_chg", names=("records", "baseline records"))
    chg = pl.col("AVAL") - pl.col("BASE")
    return out.with_columns(chg.alias("CHG"), pl.when(pl.col("BASE") != 0).then(chg / pl.col("BASE") * 100)
                            .alias("PCHG"))


PHASES = ["PRE-TREATMENT", "ON TREATMENT", "OFF DRUG"]


def derive_var_aphase(df: pl.DataFrame) -> pl.DataFrame:
    """APHASE: before first dose, on treatment (to last dose inclusive) or off drug."""
    require_columns(df, ["ADT", "TRTSDT", "TRTEDT"], "derive_var_aphase")
    adt = pl.col("ADT")
    phase = (pl.when(adt.is_null() | pl.col("TRTSDT").is_null()).then(None)
             .when(adt <= pl.col("TRTSDT")).then(pl.lit(PHASES[0]))
             .when(adt <= pl.col("TRTEDT")).then(pl.lit(PHASES[1]))
             .otherwise(pl.lit(PHASES[2])))
    return df.with_columns(phase.cast(pl.Categorical).alias("APHASE"))


def nearest_target(day: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each study day, the index of the nearest of evenly spaced target days (a tie goes to
    the earlier target; a missing day to the first) and its distance (missing for a missing day).
    Computed from the spacing, not by measuring every target from every record."""
    if len(targets) == 1:
        nearest = np.zeros(len(day), dtype=np.intp)
    else:
        position = (day - targets[0]) / (targets[1] - targets[0])  # fractional target index
        # round half down: at exactly half way the earlier target wins
        nearest = np.clip(np.ceil(np.nan_to_num(position, nan=0.0) - 0.5), 0, len(targets) - 1).astype(np.intp)
    return nearest, np.abs(day - targets[nearest])


def _nearest_target(ady: pl.Expr, targets: np.ndarray) -> tuple[pl.Expr, pl.Expr]:
    """nearest_target as expressions: (index of the nearest target, distance to it)."""
    if len(targets) == 1:
        nearest = pl.lit(0, dtype=pl.Int64)
    else:
        position = divided(ady - float(targets[0]), float(targets[1] - targets[0])).fill_null(0.0)
        nearest = (position - 0.5).ceil().clip(0, len(targets) - 1).cast(pl.Int64)
    target = float(targets[0]) + nearest.cast(pl.Float64) * float(targets[1] - targets[0] if len(targets) > 1 else 0)
    return nearest, (ady - target).abs()


@accepts_pandas
def derive_vars_avisit(df: pl.DataFrame, grid_weeks: int, window_days: int, last_week: int) -> pl.DataFrame:
    """Analysis visits by study-day windows; ANL01FL marks the record analysed per visit.

    Week w targets study day 7w + 1 with +/- window_days; the baseline record is AVISIT
    'Baseline' (AVISITN 0). Of several records in one window, the one closest to the target
    is analysed (ties: the earlier).
    """
    require_columns(df, ["USUBJID", "PARAMCD", "ADY", "ABLFL", "ADT", "AVAL"], "derive_vars_avisit")
    weeks = np.arange(grid_weeks, last_week + 1, grid_weeks)
    nearest, distance = _nearest_target(pl.col("ADY"), weeks * 7 + 1)
    baseline = (pl.col("ABLFL") == "Y").fill_null(False)
    in_window = ((distance <= window_days) & (pl.col("ADY") > 1)).fill_null(False)
    week = nearest.cast(pl.Float64) * grid_weeks + grid_weeks
    avisitn = pl.when(baseline).then(pl.lit(0.0)).when(in_window).then(week).otherwise(None)
    out = df.with_columns(avisitn.alias("AVISITN"), pl.when(baseline).then(pl.lit(0.0)).otherwise(distance)
                          .alias("__dist"))
    labels = {0.0: "Baseline", **{float(w): f"Week {int(w)}" for w in weeks}}  # a few labels, not a text per row
    out = out.with_columns(pl.col("AVISITN").replace_strict(labels, default=None, return_dtype=pl.Categorical)
                           .alias("AVISIT"))
    analysable = (pl.col("AVISITN").is_not_null() & pl.col("AVAL").is_not_null() & pl.col("USUBJID").is_not_null()
                  & pl.col("PARAMCD").is_not_null())
    out = derive_var_extreme_flag(out, ["USUBJID", "PARAMCD", "AVISITN"], ["__dist", "ADT"], "ANL01FL", mode="first",
                                  filter=analysable)
    return out.drop("__dist")


def derive_var_eotfl(df: pl.DataFrame, eot_week: int | None, window_days_after_last_dose: int = 14) -> pl.DataFrame:
    """EOTFL: the end-of-treatment record of each subject and parameter.

    With a planned end-of-treatment week (the sheet's eot_week): the analysed record at that
    visit; a subject without one has no EOT value (non-responder under NRI). Without: the last
    assessment after the first dose (study day > 1) dated no later than the last dose plus
    `window_days_after_last_dose` days; of records on one date, the analysed one, then the
    highest VISITNUM."""
    require_columns(df, ["USUBJID", "PARAMCD", "AVISITN", "ANL01FL", "ADT", "ADY", "AVAL", "TRTEDT", "VISITNUM"],
                    "derive_var_eotfl")
    if eot_week is not None:
        eot = ((pl.col("AVISITN") == eot_week) & (pl.col("ANL01FL") == "Y")).fill_null(False)
        return df.with_columns(pl.when(eot).then(pl.lit("Y")).cast(pl.Categorical).alias("EOTFL"))
    limit = pl.col("TRTEDT").cast(pl.Date) + pl.duration(days=window_days_after_last_dose)
    eligible = ((pl.col("ADY") > 1) & pl.col("AVAL").is_not_null() & pl.col("ADT").is_not_null()
                & (pl.col("ADT").cast(pl.Date) <= limit)).fill_null(False)
    analysed = (pl.col("ANL01FL") == "Y").fill_null(False)
    return derive_var_extreme_flag(df, ["USUBJID", "PARAMCD"], ["ADT", analysed, "VISITNUM"], "EOTFL", mode="last",
                                   filter=eligible)


def crit_label(endpoint: dict) -> str:
    return f"{endpoint['name']}: {endpoint['variable']} {endpoint['operator']} {float(endpoint['value']):g}"


def derive_vars_crit(df: pl.DataFrame, endpoints: list[dict]) -> pl.DataFrame:
    """CRITy/CRITyFL for each responder endpoint (total SALT only); null when not evaluable."""
    total = (pl.col("PARAMCD") == TOTAL).fill_null(False)
    require_columns(df, [ep["variable"] for ep in endpoints], "derive_vars_crit")
    columns = []
    for y, ep in enumerate(endpoints, start=1):
        x = compare_precision(pl.col(ep["variable"]))
        met = OPERATORS[ep["operator"]](x, float(ep["value"]))
        yes, no = pl.lit("Y", dtype=pl.Categorical), pl.lit("N", dtype=pl.Categorical)
        flag = pl.when(total & x.is_not_null()).then(pl.when(met).then(yes).otherwise(no))
        columns += [pl.when(total).then(pl.lit(crit_label(ep), dtype=pl.Categorical)).alias(f"CRIT{y}"),
                    flag.alias(f"CRIT{y}FL")]
    return df.with_columns(columns)


def adsalt_columns(endpoints: list[dict]) -> list[str]:
    return ["STUDYID", "USUBJID", "TRT01P", "TRT01A", "AATYPE", "PARAMCD", "PARAM", "VISIT", "VISITNUM",
            "ADT", "ADY", "AVISIT", "AVISITN", "APHASE", "AVAL", "DTYPE", "ABLFL", "BASE", "CHG", "PCHG",
            "ANL01FL", "EOTFL"] + [f"CRIT{y}{s}" for y in range(1, len(endpoints) + 1) for s in ("", "FL")]


@accepts_pandas
def derive_adsalt(rs: pl.DataFrame, adsl: pl.DataFrame, **definitions) -> pl.DataFrame:
    """ADSALT from RS; `definitions` as adsalt_from_records takes them."""
    return adsalt_from_records(salt_records(rs), adsl, **definitions)


@accepts_pandas
def adsalt_from_records(records: pl.DataFrame, adsl: pl.DataFrame, *, endpoints: list[dict], grid_weeks: int,
                        window_days: int, eot_week: int | None, baseline: str = ON_OR_BEFORE,
                        eot_window_days: int = 14) -> pl.DataFrame:
    """derive_adsalt from RS's salt_records (derived once where ADSL's baseline needs them too).
    RS without records gives an ADSALT without rows, with the same column types as any other."""
    if eot_week is not None and eot_week % grid_weeks:  # no analysis visit would be the EOT week
        raise ContractError(f"derive_adsalt: eot_week {eot_week} is not on the {grid_weeks}-week visit grid "
                            "(regrowth.definitions.check_weeks stops such a run before it starts)")
    rec = merge_adsl(records, adsl)
    rec = derive_var_ady(rec)
    rec = derive_var_ablfl(rec, "TRTSDT", baseline)
    rec = derive_vars_chg(rec)
    rec = derive_var_aphase(rec)
    latest_day = rec.get_column("ADY").max()
    last_week = int(latest_day // 7 + 2) if latest_day is not None else grid_weeks
    rec = derive_vars_avisit(rec, grid_weeks, window_days, max(last_week, grid_weeks))
    rec = derive_var_eotfl(rec, eot_week, eot_window_days)
    rec = derive_vars_crit(rec, endpoints)
    assert_unique_keys(rec, ["USUBJID", "PARAMCD", "VISITNUM"], "derive_adsalt")
    return conform(rec.sort(ORDER["adsalt"], nulls_last=True, maintain_order=True), adsalt_columns(endpoints))
