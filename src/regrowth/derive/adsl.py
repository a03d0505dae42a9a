"""ADSL: one record per subject, with treatment dates, populations, disposition and baseline."""

from __future__ import annotations

import polars as pl

from regrowth.derive import ORDER
from regrowth.derive.dates import days_between, impute_date, text, to_date
from regrowth.derive.salt import ON_OR_BEFORE, RS_COLUMNS, TOTAL, derive_var_ablfl, salt_records
from regrowth.derive.tables import accepts_pandas, conform, divided
from regrowth.derive.verbs import assert_unique_keys, derive_vars_merged, require_columns
from regrowth.model import AA_SUBTYPE_CAT, NOT_ASSIGNED_ARMS

NOT_RANDOMIZED = NOT_ASSIGNED_ARMS
DM_KEEP = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC",
           "COUNTRY", "ARM", "ARMCD", "ACTARM", "ACTARMCD", "RFSTDTC", "RFENDTC"]


def _yes_no(condition: pl.Expr) -> pl.Expr:
    return pl.when(condition.fill_null(False)).then(pl.lit("Y")).otherwise(pl.lit("N"))


def _assigned(arm: str) -> pl.Expr:
    return pl.col(arm).is_not_null() & ~text(arm).str.to_uppercase().is_in(list(NOT_RANDOMIZED))


def start_adsl(dm: pl.DataFrame) -> pl.DataFrame:
    """DM variables plus planned and actual treatment (TRT01P from ARM, TRT01A from ACTARM)."""
    require_columns(dm, ["USUBJID", "ARM", "ACTARM"], "start_adsl")
    assert_unique_keys(dm, ["USUBJID"], "start_adsl (DM)")
    adsl = dm.select([c for c in DM_KEEP if c in dm.columns])
    return adsl.with_columns(pl.when(_assigned("ARM")).then(text("ARM")).alias("TRT01P"),
                             pl.when(_assigned("ACTARM")).then(text("ACTARM")).alias("TRT01A"))


def last_visit_dates(sv: pl.DataFrame | None, rs: pl.DataFrame | None) -> pl.DataFrame:
    """Per subject (USUBJID), the latest complete date (LASTVDT) of a visit (SV) or SALT
    assessment (RS)."""
    parts = [df.select(pl.col("USUBJID").cast(pl.String), to_date(col).alias("LASTVDT"))
             for df, col in ((sv, "SVSTDTC"), (sv, "SVENDTC"), (rs, "RSDTC"))
             if df is not None and df.height and col in df.columns]
    if not parts:
        return pl.DataFrame(schema={"USUBJID": pl.String, "LASTVDT": pl.Date})
    return pl.concat(parts).drop_nulls().group_by("USUBJID").agg(pl.col("LASTVDT").max())


@accepts_pandas
def derive_vars_trt_dates(adsl: pl.DataFrame, ex: pl.DataFrame, *, data_cut: str | None = None,
                          last_visit: pl.DataFrame | None = None,
                          dm_last_dose: pl.DataFrame | None = None) -> pl.DataFrame:
    """TRTSDT/TRTEDT: first and last dose from EX, TRTDURD in days, TRTSDTF/TRTEDTF the imputation.

    Partial dates are imputed as ADaM does (admiral's derive_vars_dt, flag D when the day was
    imputed, M when month and day were): a start to the first day of its period, an end to the
    last day, but never after the data cut or the subject's last visit (`last_visit`,
    last_visit_dates), nor before the record's start. A record without an end date ends on the day
    it starts, or, for the subject's latest record, on DM's RFXENDTC (`dm_last_dose`: USUBJID,
    RFXENDT) if later."""
    require_columns(ex, ["USUBJID", "EXSTDTC", "EXENDTC"], "derive_vars_trt_dates")
    start, start_flag = impute_date("EXSTDTC", how="first")
    end, end_flag = impute_date("EXENDTC", how="last")
    doses = ex.select(pl.col("USUBJID").cast(pl.String), start.alias("start"), start_flag.alias("start_flag"),
                      end.alias("end"), end_flag.alias("end_flag"), pl.col("EXENDTC").is_null().alias("_no_end"),
                      (pl.col("EXDOSE").cast(pl.Float64) if "EXDOSE" in ex.columns else pl.lit(1.0)).alias("_dose"))
    if last_visit is not None and last_visit.height:
        doses = derive_vars_merged(doses, last_visit, ["USUBJID"], {"_cap": "LASTVDT"}, where="derive_vars_trt_dates",
                                   names=("EX", "last visit dates"))
    else:
        doses = doses.with_columns(pl.lit(None, dtype=pl.Date).alias("_cap"))
    if data_cut:
        doses = doses.with_columns(pl.min_horizontal("_cap", pl.lit(data_cut).str.to_date()).alias("_cap"))
    cap, end, start = pl.col("_cap"), pl.col("end"), pl.col("start")
    doses = doses.with_columns(
        pl.when(pl.col("end_flag").is_not_null() & cap.is_not_null() & (end > cap)).then(cap).otherwise(end)
        .alias("end"))
    doses = doses.with_columns(pl.when(end < start).then(start).otherwise(end).alias("end"))
    # No end date at all: a dose on the day the record starts, or, on the subject's latest record,
    # DM's last exposure date (RFXENDTC, the sponsor's own) where that is later (RG0605 warns)
    missing_end = pl.col("_no_end") & start.is_not_null()
    doses = doses.with_columns(pl.when(missing_end).then(start).otherwise(end).alias("end"),
                               pl.when(missing_end).then(pl.col("start_flag")).otherwise(pl.col("end_flag"))
                               .alias("end_flag"))
    if dm_last_dose is not None and dm_last_dose.height:
        doses = derive_vars_merged(doses, dm_last_dose, ["USUBJID"], {"_from_dm": "RFXENDT"},
                                   where="derive_vars_trt_dates", names=("EX", "DM RFXENDTC"))
        latest = (start == start.max().over("USUBJID")) & missing_end
        later = (latest & pl.col("_from_dm").is_not_null() & (pl.col("_from_dm") > pl.col("end"))).fill_null(False)
        doses = doses.with_columns(pl.when(later).then(pl.col("_from_dm")).otherwise(pl.col("end")).alias("end"),
                                   pl.when(later).then(None).otherwise(pl.col("end_flag")).alias("end_flag"))
    # A zero dose of placebo is still a dose; only records flagged as not given (dose < 0) or
    # without a start date are not.
    taken = doses.filter(start.is_not_null() & ~(pl.col("_dose") < 0).fill_null(False)).with_columns(
        pl.col("start_flag").is_not_null().alias("_start_imputed"), pl.col("end_flag").is_not_null()
        .alias("_end_imputed"))
    # the earliest start and the latest end; of records tied on the date, the first dose one whose
    # date was not imputed, the last dose one whose date was (as regrowth has always chosen)
    out = derive_vars_merged(adsl, taken, ["USUBJID"], {"TRTSDT": "start", "TRTSDTF": "start_flag"},
                             order=["start", "_start_imputed"], mode="first", where="derive_vars_trt_dates",
                             names=("ADSL", "EX"))
    out = derive_vars_merged(out, taken, ["USUBJID"], {"TRTEDT": "end", "TRTEDTF": "end_flag"},
                             order=["end", "_end_imputed"], mode="last", where="derive_vars_trt_dates",
                             names=("ADSL", "EX"))
    return out.with_columns((days_between(pl.col("TRTEDT"), pl.col("TRTSDT")) + 1).alias("TRTDURD"))


def derive_var_saffl(adsl: pl.DataFrame) -> pl.DataFrame:
    """SAFFL: received at least one dose. A dosed subject without an actual arm (ACTARM empty or
    'not treated': RG0707 warns) is counted under the planned one, not left out of safety."""
    require_columns(adsl, ["TRTSDT", "TRT01P", "TRT01A"], "derive_var_saffl")
    dosed = pl.col("TRTSDT").is_not_null()
    return adsl.with_columns(
        pl.when(dosed & pl.col("TRT01A").is_null()).then(pl.col("TRT01P")).otherwise(pl.col("TRT01A"))
        .alias("TRT01A"), _yes_no(dosed).alias("SAFFL"))


def derive_var_ittfl(adsl: pl.DataFrame) -> pl.DataFrame:
    """ITTFL: assigned to a treatment arm (screen failures are not)."""
    require_columns(adsl, ["TRT01P"], "derive_var_ittfl")
    return adsl.with_columns(_yes_no(pl.col("TRT01P").is_not_null()).alias("ITTFL"))


def derive_vars_disposition(adsl: pl.DataFrame, ds: pl.DataFrame) -> pl.DataFrame:
    """EOSSTT, DCSREAS and EOSDT from the last disposition event in DS."""
    if ds.height == 0:
        return adsl.with_columns(pl.lit("ONGOING").alias("EOSSTT"), pl.lit(None, dtype=pl.String).alias("DCSREAS"),
                                 pl.lit(None, dtype=pl.Date).alias("EOSDT"))
    require_columns(ds, ["USUBJID", "DSDECOD", "DSCAT", "DSSTDTC"], "derive_vars_disposition")
    events = ds.filter(text("DSCAT").str.to_uppercase() == "DISPOSITION EVENT").select(
        pl.col("USUBJID").cast(pl.String), text("DSDECOD"), text("DSSTDTC"),
        text("DSSTDTC").fill_null("").alias("_dt"))
    out = derive_vars_merged(adsl, events, ["USUBJID"], {"_DECOD": "DSDECOD", "_DSSTDTC": "DSSTDTC"},
                             order=["_dt"], mode="last", where="derive_vars_disposition", names=("ADSL", "DS"))
    decod = pl.col("_DECOD").str.strip_chars().str.to_uppercase()  # as validated (RG0205)
    return out.with_columns(
        pl.when(decod.is_null()).then(pl.lit("ONGOING")).when(decod == "COMPLETED").then(pl.lit("COMPLETED"))
        .otherwise(pl.lit("DISCONTINUED")).alias("EOSSTT"),
        pl.when(decod != "COMPLETED").then(decod).alias("DCSREAS"),
        to_date("_DSSTDTC").alias("EOSDT"),
    ).drop("_DECOD", "_DSSTDTC")


def derive_vars_aa_history(adsl: pl.DataFrame, mh: pl.DataFrame) -> pl.DataFrame:
    """AATYPE (alopecia areata subtype) and DURDIS (years since onset at first dose)."""
    if mh.height == 0:
        return adsl.with_columns(pl.lit(None, dtype=pl.String).alias("AATYPE"),
                                 pl.lit(None, dtype=pl.Float64).alias("DURDIS"))
    require_columns(mh, ["USUBJID", "MHCAT", "MHDECOD", "MHSTDTC"], "derive_vars_aa_history")
    aa = mh.filter(text("MHCAT") == AA_SUBTYPE_CAT).select(pl.col("USUBJID").cast(pl.String), text("MHDECOD"),
                                                            text("MHSTDTC"))
    assert_unique_keys(aa, ["USUBJID"], "derive_vars_aa_history (one AA subtype per subject)")
    out = derive_vars_merged(adsl, aa, ["USUBJID"], {"AATYPE": "MHDECOD", "_ONSET": "MHSTDTC"},
                             where="derive_vars_aa_history", names=("ADSL", "MH"))
    onset, _flag = impute_date("_ONSET", how="first")
    # unrounded: rounded half up only where shown
    return out.with_columns(divided(days_between(pl.col("TRTSDT"), onset), 365.25).alias("DURDIS"),
                            pl.lit("YEARS").alias("DURDISU")).drop("_ONSET")


def _visits_up_to(rs: pl.DataFrame, adsl: pl.DataFrame) -> pl.DataFrame:
    """RS rows of the visits with a record dated on or before the subject's first dose: all that
    baseline can come from (whole visits, as a derived total needs every region of its visit).
    Spares deriving every post-baseline SALT record (ADSALT does that) just to find baseline."""
    require_columns(rs, RS_COLUMNS, "derive_var_saltbl")
    first = adsl.select(pl.col("USUBJID").cast(pl.String), pl.col("TRTSDT").cast(pl.Date).alias("_FIRST"))
    rows = rs.select(RS_COLUMNS).with_columns(pl.col("USUBJID").cast(pl.String))
    rows = derive_vars_merged(rows, first, ["USUBJID"], where="derive_var_saltbl", names=("RS", "ADSL"))
    # the dates first: a function of the column inside a window would run once per group
    rows = rows.with_columns((to_date("RSDTC") <= pl.col("_FIRST")).fill_null(False).alias("_EARLY"))
    return rows.filter(pl.col("_EARLY").any().over(["USUBJID", "VISITNUM"])).drop("_FIRST", "_EARLY")


def derive_var_saltbl(adsl: pl.DataFrame, rs: pl.DataFrame, baseline: str = ON_OR_BEFORE,
                      records: pl.DataFrame | None = None) -> pl.DataFrame:
    """SALTBL: baseline SALT total (the ABLFL record of salt.derive_var_ablfl: the last value on
    or before, or before, the first dose). `records`: RS's salt_records where they are derived
    already (derive_analysis_tables, for ADSALT too); else from RS's visits up to first dose."""
    if records is None:
        if rs.height == 0:
            return adsl.with_columns(pl.lit(None, dtype=pl.Float64).alias("SALTBL"))
        records = salt_records(_visits_up_to(rs, adsl))
    totals = records.filter(pl.col("PARAMCD") == TOTAL)
    totals = derive_vars_merged(totals, adsl.select("USUBJID", "TRTSDT"), ["USUBJID"], where="derive_var_saltbl",
                                names=("SALT records", "ADSL"))
    base = derive_var_ablfl(totals, "TRTSDT", baseline).filter(pl.col("ABLFL") == "Y")
    return derive_vars_merged(adsl, base, ["USUBJID"], {"SALTBL": "AVAL"}, where="derive_var_saltbl",
                              names=("ADSL", "baseline SALT"))


def derive_var_fasfl(adsl: pl.DataFrame) -> pl.DataFrame:
    """FASFL: treated and with a baseline SALT (the efficacy population)."""
    require_columns(adsl, ["SAFFL", "SALTBL"], "derive_var_fasfl")
    return adsl.with_columns(_yes_no((pl.col("SAFFL") == "Y") & pl.col("SALTBL").is_not_null()).alias("FASFL"))


@accepts_pandas
def derive_adsl(dm, ex, ds, mh, rs, sv=None, *, data_cut: str | None = None, baseline: str = ON_OR_BEFORE,
                records: pl.DataFrame | None = None) -> pl.DataFrame:
    """ADSL from accepted DM, EX, DS, MH, RS (and SV). `records`: RS's salt_records, where the
    caller derives them anyway (one derivation for ADSL's baseline and ADSALT)."""
    adsl = start_adsl(dm)
    dm_last_dose = None
    if "RFXENDTC" in dm.columns and dm.height:
        dm_last_dose = dm.select(pl.col("USUBJID").cast(pl.String), to_date("RFXENDTC").alias("RFXENDT")).drop_nulls()
    adsl = adsl.with_columns(pl.col("USUBJID").cast(pl.String))
    adsl = derive_vars_trt_dates(adsl, ex, data_cut=data_cut, last_visit=last_visit_dates(sv, rs),
                                 dm_last_dose=dm_last_dose)
    adsl = derive_var_saffl(adsl)
    adsl = derive_var_ittfl(adsl)
    adsl = derive_vars_disposition(adsl, ds)
    adsl = derive_vars_aa_history(adsl, mh)
    adsl = derive_var_saltbl(adsl, rs, baseline, records)
    adsl = derive_var_fasfl(adsl)
    assert_unique_keys(adsl, ORDER["adsl"], "derive_adsl")
    return conform(adsl.sort(ORDER["adsl"], nulls_last=True, maintain_order=True))
