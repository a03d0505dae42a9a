"""ADSL: one record per subject, with treatment dates, populations, disposition and baseline."""

from __future__ import annotations

import pandas as pd

from regrowth.dates import impute_date, to_date
from regrowth.derive.salt import RS_COLUMNS, TOTAL, flag_baseline, salt_records
from regrowth.frames import any_in_group, assert_unique_keys, key_codes, lookup, require_columns, select_rows
from regrowth.model import AA_SUBTYPE_CAT
from regrowth.derive import ORDER

NOT_RANDOMIZED = {"SCREEN FAILURE", "NOT ASSIGNED", "NOT TREATED", "SCREEN FAILED"}
DM_KEEP = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC",
           "COUNTRY", "ARM", "ARMCD", "ACTARM", "ACTARMCD", "RFSTDTC", "RFENDTC"]


def start_adsl(dm: pd.DataFrame) -> pd.DataFrame:
    """DM variables plus planned and actual treatment (TRT01P from ARM, TRT01A from ACTARM)."""
    require_columns(dm, ["USUBJID", "ARM", "ACTARM"], "start_adsl")
    assert_unique_keys(dm, ["USUBJID"], "start_adsl (DM)")
    adsl = dm[[c for c in DM_KEEP if c in dm.columns]].copy()
    assigned = adsl["ARM"].notna() & ~adsl["ARM"].str.upper().isin(NOT_RANDOMIZED)
    adsl["TRT01P"] = adsl["ARM"].where(assigned)
    treated_arm = adsl["ACTARM"].notna() & ~adsl["ACTARM"].str.upper().isin(NOT_RANDOMIZED)
    adsl["TRT01A"] = adsl["ACTARM"].where(treated_arm)
    return adsl.reset_index(drop=True)


def derive_vars_trt_dates(adsl: pd.DataFrame, ex: pd.DataFrame) -> pd.DataFrame:
    """TRTSDT/TRTEDT: first and last dose from EX (complete dates only), TRTDURD in days."""
    require_columns(ex, ["USUBJID", "EXSTDTC", "EXENDTC"], "derive_vars_trt_dates")
    start = to_date(ex["EXSTDTC"])
    end = to_date(ex["EXENDTC"]).fillna(start)
    dose = ex["EXDOSE"] if "EXDOSE" in ex.columns else pd.Series(1.0, index=ex.index)
    # A zero dose of placebo is still a dose; only records flagged as not given (dose < 0) or
    # without a start date are not.
    taken = start.notna() & ~(dose < 0)
    first = start[taken].groupby(ex.loc[taken, "USUBJID"]).min()
    last = end[taken].groupby(ex.loc[taken, "USUBJID"]).max()
    out = adsl.copy()
    out["TRTSDT"] = lookup(out["USUBJID"], first.astype("datetime64[s]"))
    out["TRTEDT"] = lookup(out["USUBJID"], last.astype("datetime64[s]"))
    out["TRTDURD"] = ((out["TRTEDT"] - out["TRTSDT"]).dt.days + 1).astype("float64")
    return out


def derive_var_saffl(adsl: pd.DataFrame) -> pd.DataFrame:
    """SAFFL: received at least one dose."""
    require_columns(adsl, ["TRTSDT"], "derive_var_saffl")
    return adsl.assign(SAFFL=adsl["TRTSDT"].notna().map({True: "Y", False: "N"}).astype("str"))


def derive_var_ittfl(adsl: pd.DataFrame) -> pd.DataFrame:
    """ITTFL: assigned to a treatment arm (screen failures are not)."""
    require_columns(adsl, ["TRT01P"], "derive_var_ittfl")
    return adsl.assign(ITTFL=adsl["TRT01P"].notna().map({True: "Y", False: "N"}).astype("str"))


def derive_vars_disposition(adsl: pd.DataFrame, ds: pd.DataFrame) -> pd.DataFrame:
    """EOSSTT, DCSREAS and EOSDT from the last disposition event in DS."""
    out = adsl.copy()
    if ds.empty:
        out["EOSSTT"], out["DCSREAS"], out["EOSDT"] = "ONGOING", None, pd.NaT
        out["DCSREAS"] = out["DCSREAS"].astype("str")
        out["EOSDT"] = out["EOSDT"].astype("datetime64[s]")
        return out
    require_columns(ds, ["USUBJID", "DSDECOD", "DSCAT", "DSSTDTC"], "derive_vars_disposition")
    events = ds[ds["DSCAT"].str.upper().eq("DISPOSITION EVENT").fillna(False)].copy()
    events["_dt"] = events["DSSTDTC"].fillna("")
    last = events.sort_values(["USUBJID", "_dt"], kind="stable").groupby("USUBJID").tail(1).set_index("USUBJID")
    decod = out["USUBJID"].map(last["DSDECOD"])
    out["EOSSTT"] = decod.map(lambda d: "COMPLETED" if d == "COMPLETED" else "DISCONTINUED").where(
        decod.notna(), "ONGOING").astype("str")
    out["DCSREAS"] = decod.where(decod != "COMPLETED").astype("str")
    out["EOSDT"] = to_date(out["USUBJID"].map(last["DSSTDTC"]))
    return out


def derive_vars_aa_history(adsl: pd.DataFrame, mh: pd.DataFrame) -> pd.DataFrame:
    """AATYPE (alopecia areata subtype) and DURDIS (years since onset at first dose)."""
    out = adsl.copy()
    out["AATYPE"] = pd.Series(None, index=out.index, dtype="str")
    out["DURDIS"] = pd.Series(float("nan"), index=out.index)
    if mh.empty:
        return out
    require_columns(mh, ["USUBJID", "MHCAT", "MHDECOD", "MHSTDTC"], "derive_vars_aa_history")
    aa = mh[mh["MHCAT"].eq(AA_SUBTYPE_CAT).fillna(False)]
    assert_unique_keys(aa, ["USUBJID"], "derive_vars_aa_history (one AA subtype per subject)")
    aa = aa.set_index("USUBJID")
    out["AATYPE"] = out["USUBJID"].map(aa["MHDECOD"]).astype("str")
    onset, _flag = impute_date(out["USUBJID"].map(aa["MHSTDTC"]).astype("str"), how="first")
    years = (out["TRTSDT"] - onset).dt.days / 365.25
    out["DURDIS"] = years.round(1).astype("float64")
    out["DURDISU"] = "YEARS"
    return out


def _visits_up_to(rs: pd.DataFrame, first_dose: pd.Series) -> pd.DataFrame:
    """RS rows of the visits with a record dated on or before the subject's first dose: all that
    baseline can come from (whole visits, as a derived total needs every region of its visit).
    Spares deriving every post-baseline SALT record (ADSALT does that) just to find baseline."""
    require_columns(rs, RS_COLUMNS, "derive_var_saltbl")
    dated = to_date(rs["RSDTC"])
    ref = lookup(rs["USUBJID"], first_dose)
    eligible = (dated.notna() & ref.notna() & (dated <= ref)).to_numpy()
    return select_rows(rs, any_in_group(key_codes(rs, ["USUBJID", "VISITNUM"]), eligible), RS_COLUMNS)


def derive_var_saltbl(adsl: pd.DataFrame, rs: pd.DataFrame) -> pd.DataFrame:
    """SALTBL: baseline SALT total (last value on or before first dose)."""
    out = adsl.copy()
    out["SALTBL"] = float("nan")
    if rs.empty:
        return out
    first = out.set_index("USUBJID")["TRTSDT"]
    rec = salt_records(_visits_up_to(rs, first))
    rec = rec[rec["PARAMCD"] == TOTAL].reset_index(drop=True)
    base = rec[flag_baseline(rec, first) == "Y"].set_index("USUBJID")["AVAL"]
    out["SALTBL"] = out["USUBJID"].map(base).astype("float64")
    return out


def derive_var_fasfl(adsl: pd.DataFrame) -> pd.DataFrame:
    """FASFL: treated and with a baseline SALT (the efficacy population)."""
    require_columns(adsl, ["SAFFL", "SALTBL"], "derive_var_fasfl")
    fas = adsl["SAFFL"].eq("Y") & adsl["SALTBL"].notna()
    return adsl.assign(FASFL=fas.map({True: "Y", False: "N"}).astype("str"))


def derive_adsl(dm, ex, ds, mh, rs) -> pd.DataFrame:
    adsl = start_adsl(dm)
    adsl = derive_vars_trt_dates(adsl, ex)
    adsl = derive_var_saffl(adsl)
    adsl = derive_var_ittfl(adsl)
    adsl = derive_vars_disposition(adsl, ds)
    adsl = derive_vars_aa_history(adsl, mh)
    adsl = derive_var_saltbl(adsl, rs)
    adsl = derive_var_fasfl(adsl)
    assert_unique_keys(adsl, ORDER["adsl"], "derive_adsl")
    return adsl.sort_values(ORDER["adsl"], kind="stable").reset_index(drop=True)
