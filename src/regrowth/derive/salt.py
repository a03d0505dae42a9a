"""SALT records from RS (or QS mapped to RS) as analysis values, and baseline selection."""

from __future__ import annotations

import re

import polars as pl

from regrowth.derive.dates import text, to_date
from regrowth.derive.tables import accepts_pandas
from regrowth.derive.verbs import assert_unique_keys, derive_var_extreme_flag, require_columns
from regrowth.model import SALT_TESTS, SALT_WEIGHTS

TOTAL = "SALT"
TOTAL_RECORDS = pl.col("PARAMCD") == TOTAL  # ADSALT's total-score records (not the regions)
PARAMS = {**{k: v + " (%)" for k, v in SALT_TESTS.items() if k != "SALTTOT"}, TOTAL: "SALT Total Score (%)"}


# What summaries and the report read of ADSALT (plus the CRITyFL flags): skipping the other
# columns, and region records, reads a large trial's ADSALT several times faster.
ANALYSED_COLUMNS = ["USUBJID", "TRT01P", "AATYPE", "PARAMCD", "AVISITN", "AVAL", "ADY", "PCHG", "ANL01FL", "EOTFL",
                    "APHASE"]


def analysed_columns(names, also: tuple[str, ...] = ()) -> list[str]:
    """Of `names`, what summaries, the report and time-to-event derivations use (and `also`)."""
    return [c for c in names if c in ANALYSED_COLUMNS or c in also or re.fullmatch(r"CRIT\d+FL", c)]


def total_salt(adsalt: pl.DataFrame, also: tuple[str, ...] = ()) -> pl.DataFrame:
    """ADSALT's total-SALT records, the analysed columns (and `also`)."""
    return adsalt.filter(TOTAL_RECORDS).select(analysed_columns(adsalt.columns, also))


RS_COLUMNS = ["USUBJID", "RSTESTCD", "RSSTRESN", "RSDTC", "VISITNUM", "VISIT"]  # what salt_records reads
RECORD_KEYS = ["USUBJID", "PARAMCD", "VISITNUM"]


@accepts_pandas
def salt_records(rs: pl.DataFrame) -> pl.DataFrame:
    """One row per subject, SALT parameter and visit: USUBJID, PARAMCD, AVAL, ADT, VISITNUM,
    VISIT, DTYPE, PARAM, in that order of keys.

    The reported total (RSTESTCD SALTTOT) is used where present; where a visit has all four
    regions but no total, the total is computed from the weights (not rounded) and flagged
    DTYPE='DERIVED'.
    """
    require_columns(rs, RS_COLUMNS, "salt_records")
    # subject and parameter as Categorical while derived: every grouping, join and window by them
    # then hashes integer codes, not millions of texts (the tables write USUBJID as String)
    rec = rs.lazy().filter(text("RSTESTCD").is_in(list(SALT_TESTS))).select(
        pl.col("USUBJID").cast(pl.Categorical),
        text("RSTESTCD").replace({"SALTTOT": TOTAL}).cast(pl.Categorical).alias("PARAMCD"),
        pl.col("RSSTRESN").cast(pl.Float64).alias("AVAL"),
        to_date("RSDTC").alias("ADT"),
        pl.col("VISITNUM").cast(pl.Float64),
        text("VISIT"),
        pl.lit(None, dtype=pl.String).alias("DTYPE"),
    ).collect()
    rec = pl.concat([rec, _derived_totals(rec)], how="vertical")
    rec = rec.with_columns(pl.col("PARAMCD").cast(pl.String).replace_strict(PARAMS, default=None,
                                                                            return_dtype=pl.String).alias("PARAM"))
    rec = rec.sort(RECORD_KEYS, nulls_last=True, maintain_order=True)
    # a derived total is only made for a visit that reports none, so any duplicate is one in RS
    # (RSTESTCD SALTTOT is PARAMCD SALT)
    assert_unique_keys(rec, RECORD_KEYS, "salt_records (RS)", sorted_by_keys=True)
    return rec


def _derived_totals(rec: pl.DataFrame) -> pl.DataFrame:
    visit = ["USUBJID", "VISITNUM"]
    regions = rec.filter(pl.col("PARAMCD").is_in(list(SALT_WEIGHTS))
                         & ~(pl.col("PARAMCD") == TOTAL).any().over(visit, ))
    if regions.is_empty():
        return rec.clear()
    # the first value of each region (missing values skipped), where every region has one;
    # date and visit name from the visit's first region record
    keyed = regions.filter(pl.col("USUBJID").is_not_null() & pl.col("VISITNUM").is_not_null())
    values = keyed.filter(pl.col("AVAL").is_not_null()).group_by(visit, maintain_order=True).agg(
        [pl.col("AVAL").filter(pl.col("PARAMCD") == k).first().alias(k) for k in SALT_WEIGHTS])
    values = values.drop_nulls(list(SALT_WEIGHTS))
    if values.is_empty():
        return rec.clear()
    meta = keyed.group_by(visit, maintain_order=True).agg(pl.col("ADT").first(), pl.col("VISIT").first())
    # unrounded (rounded half up only where shown): 20.04 is not SALT <= 20; at 9 decimals, which
    # only removes floating-point error (four regions of 30 give 30, not 29.999999999999996)
    weighted = None
    for k, w in SALT_WEIGHTS.items():
        weighted = pl.col(k) * w if weighted is None else weighted + pl.col(k) * w
    totals = values.join(meta, on=visit, how="left", maintain_order="left").select(
        "USUBJID", pl.lit(TOTAL, dtype=pl.Categorical).alias("PARAMCD"), compare_precision(weighted).alias("AVAL"), "ADT", "VISITNUM",
        "VISIT", pl.lit("DERIVED").alias("DTYPE"))
    return totals.sort(visit, maintain_order=True)


def compare_precision(expr: pl.Expr) -> pl.Expr:
    """rounding.at_compare_precision of a float expression (numpy's rounding, nulls kept)."""
    from regrowth.rounding import at_compare_precision

    def rounded(s: pl.Series) -> pl.Series:
        return pl.Series(s.name, at_compare_precision(s.to_numpy())).fill_nan(None) if len(s) else s

    return expr.cast(pl.Float64).map_batches(rounded, return_dtype=pl.Float64)


ON_OR_BEFORE, BEFORE = "on_or_before_first_dose", "before_first_dose"  # config definitions.baseline


def derive_var_ablfl(rec: pl.DataFrame, first_dose: str = "TRTSDT", rule: str = ON_OR_BEFORE) -> pl.DataFrame:
    """ABLFL: the last non-missing value on or before (rule BEFORE: strictly before) first dose
    (column `first_dose`), per subject and parameter; of records on one date, the highest visit."""
    if rule not in (ON_OR_BEFORE, BEFORE):
        raise ValueError(f"baseline rule {rule!r}: expected {ON_OR_BEFORE!r} or {BEFORE!r}")
    require_columns(rec, ["USUBJID", "PARAMCD", "AVAL", "ADT", "VISITNUM", first_dose], "derive_var_ablfl")
    ref = pl.col(first_dose).cast(pl.Date)
    before = (pl.col("ADT").cast(pl.Date) <= ref) if rule == ON_OR_BEFORE else (pl.col("ADT").cast(pl.Date) < ref)
    eligible = (pl.col("AVAL").is_not_null() & pl.col("ADT").is_not_null() & ref.is_not_null() & before
                & pl.col("USUBJID").is_not_null() & pl.col("PARAMCD").is_not_null())
    return derive_var_extreme_flag(rec, ["USUBJID", "PARAMCD"], ["ADT", "VISITNUM"], "ABLFL", mode="last",
                                   filter=eligible)
