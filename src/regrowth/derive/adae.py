"""ADAE: analysis dates with imputation flags, treatment emergence, first-occurrence flags."""

from __future__ import annotations

import polars as pl

from regrowth.derive import ORDER
from regrowth.derive.dates import impute_date, study_day
from regrowth.derive.tables import accepts_pandas, conform
from regrowth.derive.verbs import assert_unique_keys, derive_var_extreme_flag, derive_vars_merged, require_columns

ADAE_COLUMNS = ["STUDYID", "USUBJID", "AESEQ", "TRTA", "TRT01P", "TRT01A", "SAFFL", "AETERM", "AEDECOD",
                "AEBODSYS", "AESEV", "AESER", "AEREL", "AEACN", "AESTDTC", "AEENDTC", "ASTDT", "ASTDTF", "AENDT",
                "AENDTF", "ASTDY", "TRTEMFL", "AOCCFL", "AOCCSFL", "AOCCPFL"]
ADSL_VARS = ["TRTSDT", "TRTEDT", "TRT01P", "TRT01A", "SAFFL"]


def derive_vars_astdt(adae: pl.DataFrame) -> pl.DataFrame:
    """ASTDT/ASTDTF and AENDT/AENDTF. Partial starts impute to the first possible day, but not
    before first dose (TRTSDT) when the partial date admits the first-dose date (admiral
    min_dates)."""
    require_columns(adae, ["AESTDTC", "AEENDTC", "TRTSDT"], "derive_vars_astdt")
    astdt, astdtf = impute_date("AESTDTC", how="first", min_dates=pl.col("TRTSDT"))
    aendt, aendtf = impute_date("AEENDTC", how="last")
    return adae.with_columns(astdt.alias("ASTDT"), astdtf.alias("ASTDTF"), aendt.alias("AENDT"),
                             aendtf.alias("AENDTF"))


def derive_var_trtemfl(adae: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """TRTEMFL: starts on or after first dose and no later than last dose + window.

    A missing start date counts as emergent for a treated subject (the conservative choice),
    unless the AE ended before the first dose.
    """
    require_columns(adae, ["ASTDT", "AENDT", "TRTSDT", "TRTEDT"], "derive_var_trtemfl")
    start, first = pl.col("ASTDT").cast(pl.Date), pl.col("TRTSDT").cast(pl.Date)
    end = pl.col("TRTEDT").cast(pl.Date) + pl.duration(days=window_days)
    within = ((start >= first) & (start <= end.fill_null(start))).fill_null(False)
    ended_before = (pl.col("AENDT").cast(pl.Date) < first).fill_null(False)  # no start, but over before first dose
    emergent = first.is_not_null() & ((start.is_null() & ~ended_before) | within)
    return adae.with_columns(pl.when(emergent).then(pl.lit("Y")).alias("TRTEMFL"))


def derive_var_aoccfl(adae: pl.DataFrame, by: list[str], name: str) -> pl.DataFrame:
    """First treatment-emergent occurrence per subject (and `by`), for counting subjects."""
    return derive_var_extreme_flag(adae, ["USUBJID", *by], ["ASTDT", "AESEQ"], name, mode="first",
                                   filter=pl.col("TRTEMFL") == "Y")


@accepts_pandas
def derive_adae(ae: pl.DataFrame, adsl: pl.DataFrame, *, window_days: int) -> pl.DataFrame:
    require_columns(adsl, ["USUBJID", *ADSL_VARS], "derive_adae")
    assert_unique_keys(ae, ["USUBJID", "AESEQ"], "derive_adae (AE)")
    require_columns(ae, ["USUBJID", "AESTDTC", "AEENDTC"], "derive_vars_astdt")
    adae = derive_vars_merged(ae, adsl, ["USUBJID"], ADSL_VARS, where="derive_adae", names=("AE", "ADSL"))
    adae = derive_vars_astdt(adae.with_columns(pl.col("TRTSDT", "TRTEDT").cast(pl.Date)))
    adae = adae.with_columns(pl.col("TRT01A").alias("TRTA"), study_day(pl.col("ASTDT"), pl.col("TRTSDT")).alias("ASTDY"))
    adae = derive_var_trtemfl(adae, window_days)
    adae = derive_var_aoccfl(adae, [], "AOCCFL")
    adae = derive_var_aoccfl(adae, ["AEBODSYS"], "AOCCSFL")
    adae = derive_var_aoccfl(adae, ["AEBODSYS", "AEDECOD"], "AOCCPFL")
    adae = adae.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in ADAE_COLUMNS if c not in adae.columns])
    return conform(adae.sort(ORDER["adae"], nulls_last=True, maintain_order=True), ADAE_COLUMNS)
