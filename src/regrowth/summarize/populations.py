"""Who is counted: analysis populations by arm, and per trial the counts behind the report's
notes on denominators (screened, arm switches, imputed first doses, subjects whose records
had row-level errors)."""

from __future__ import annotations

import pandas as pd
import polars as pl

from regrowth.summarize.select import read_rows, to_pandas
from regrowth.summarize.tables import TOTAL_RECORDS

POPULATION_COLUMNS = ["trial_id", "arm", "n_itt", "n_saf", "n_fas", "n_saf_actual", "n_salt", "eot_week"]


def _flag(name: str) -> pl.Expr:
    return pl.col(name).eq_missing("Y")


def populations_table(trial_id: str, adsl, adsalt) -> pd.DataFrame:
    """One row per planned arm (TRT01P; screen failures have none): subjects in ITT, safety and
    FAS by planned arm; n_saf_actual, in the safety population by actual treatment (TRT01A equal
    to the arm's name); n_salt, subjects of the arm with a total SALT record; eot_week, the arm's
    end of treatment on a week axis: the median of (ADY - 1) / 7 over its end-of-treatment
    records (null without any)."""
    subjects = read_rows(adsl, ["USUBJID", "TRT01P", "TRT01A", "ITTFL", "SAFFL", "FASFL"], name="adsl")
    subjects = subjects.with_columns(pl.col("TRT01P", "TRT01A").cast(pl.String))
    planned = subjects.filter(pl.col("TRT01P").is_not_null()).group_by("TRT01P").agg(
        n_itt=_flag("ITTFL").sum(), n_saf=_flag("SAFFL").sum(), n_fas=_flag("FASFL").sum())
    actual = subjects.filter(_flag("SAFFL") & pl.col("TRT01A").is_not_null()).group_by("TRT01A").agg(
        n_saf_actual=pl.len())
    salt = read_rows(adsalt, ["USUBJID", "TRT01P", "EOTFL", "ADY"], within=TOTAL_RECORDS, name="adsalt")
    assessed = salt.with_columns(pl.col("TRT01P").cast(pl.String)).group_by("TRT01P").agg(
        n_salt=pl.col("USUBJID").n_unique(),
        eot_week=((pl.col("ADY").cast(pl.Float64) - 1) / 7).filter(pl.col("EOTFL") == "Y").median())
    table = (planned.join(actual, left_on="TRT01P", right_on="TRT01A", how="left")
             .join(assessed, on="TRT01P", how="left")
             .rename({"TRT01P": "arm"})
             .with_columns(pl.col("n_saf_actual", "n_salt").fill_null(0), trial_id=pl.lit(trial_id))
             .with_columns(pl.col("n_itt", "n_saf", "n_fas", "n_saf_actual", "n_salt").cast(pl.Int64))
             .sort("arm").select(POPULATION_COLUMNS))
    if not table.height:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in POPULATION_COLUMNS})
    return to_pandas(table)


DENOMINATOR_COLUMNS = ["trial_id", "n_screened", "n_salt_subjects", "n_arm_switched", "n_partial_first_dose",
                       "n_dm_errors", "n_ex_errors_not_safety", "n_rs_errors_not_fas", "n_rs_errors_other",
                       "n_ae_errors", "n_mh_errors"]


def denominators_table(trial_id: str, adsl, adsalt, validation) -> pd.DataFrame:
    """One row per trial. n_screened: subjects in ADSL (DM); n_salt_subjects: subjects with a
    total SALT record; n_arm_switched: safety subjects whose actual treatment differs from the
    planned; n_partial_first_dose: subjects whose first dose date was imputed (TRTSDTF).

    Subjects with error issues (validation severity error, by USUBJID) on records of a domain,
    which the quarantine policy sets aside: n_dm_errors, on DM (left out of every table); of
    the others only ADSL subjects not among those: n_ex_errors_not_safety, on EX, not in the
    safety population; n_rs_errors_not_fas, on RS, in the safety population but not the FAS;
    n_rs_errors_other, on RS, neither of the previous two; n_ae_errors, n_mh_errors, on AE, MH."""
    subjects = read_rows(adsl, ["USUBJID", "TRT01P", "TRT01A", "SAFFL", "FASFL"], optional=["TRTSDTF"], name="adsl")
    subjects = subjects.with_columns(pl.col("USUBJID", "TRT01P", "TRT01A").cast(pl.String),
                                     safety=_flag("SAFFL"), fas=_flag("FASFL"))
    saf = subjects.filter("safety")
    switched = (saf["TRT01P"].fill_null("") != saf["TRT01A"].fill_null("")).sum()
    partial = subjects["TRTSDTF"].is_not_null().sum() if "TRTSDTF" in subjects.columns else 0
    salt_subjects = read_rows(adsalt, ["USUBJID"], within=TOTAL_RECORDS, name="adsalt")["USUBJID"].n_unique()
    errors = (read_rows(validation, ["severity", "dataset", "usubjid"],
                        (pl.col("severity") == "error") & pl.col("usubjid").is_not_null(), name="validation")
              .select(pl.col("dataset", "usubjid").cast(pl.String)).unique())

    def with_errors(domain: str) -> pl.DataFrame:
        return errors.filter(pl.col("dataset") == domain).select(USUBJID="usubjid")

    gone = with_errors("DM")

    def lost(domain: str) -> pl.DataFrame:  # ADSL subjects with errors on `domain`, not on DM
        return subjects.join(with_errors(domain), on="USUBJID", how="semi").join(gone, on="USUBJID", how="anti")

    lost_ex = lost("EX").filter(~pl.col("safety"))
    lost_rs = lost("RS")
    rs_not_fas = lost_rs.filter(pl.col("safety") & ~pl.col("fas"))
    rs_other = lost_rs.join(rs_not_fas, on="USUBJID", how="anti").join(lost_ex, on="USUBJID", how="anti")
    row = {"trial_id": trial_id, "n_screened": subjects.height, "n_salt_subjects": salt_subjects,
           "n_arm_switched": switched, "n_partial_first_dose": partial, "n_dm_errors": gone.height,
           "n_ex_errors_not_safety": lost_ex.height, "n_rs_errors_not_fas": rs_not_fas.height,
           "n_rs_errors_other": rs_other.height, "n_ae_errors": lost("AE").height, "n_mh_errors": lost("MH").height}
    return pd.DataFrame([{k: v if k == "trial_id" else int(v) for k, v in row.items()}], columns=DENOMINATOR_COLUMNS)
