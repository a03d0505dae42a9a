"""ADSL: one record per subject, with treatment dates, populations, disposition and baseline."""

from __future__ import annotations

import pandas as pd

from regrowth.dates import impute_date, to_date
from regrowth.derive.salt import ON_OR_BEFORE, RS_COLUMNS, TOTAL, flag_baseline, salt_records
from regrowth.frames import any_in_group, assert_unique_keys, key_codes, lookup, require_columns, select_rows
from regrowth.model import AA_SUBTYPE_CAT, NOT_ASSIGNED_ARMS
from regrowth.derive import ORDER

NOT_RANDOMIZED = NOT_ASSIGNED_ARMS
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


def last_visit_dates(sv: pd.DataFrame | None, rs: pd.DataFrame | None) -> pd.Series:
    """Per subject, the latest complete date of a visit (SV) or SALT assessment (RS)."""
    parts = []
    for df, col in ((sv, "SVSTDTC"), (sv, "SVENDTC"), (rs, "RSDTC")):
        if df is not None and len(df) and col in df.columns:
            parts.append(pd.DataFrame({"USUBJID": df["USUBJID"], "date": to_date(df[col])}))
    if not parts:
        return pd.Series(dtype="datetime64[s]")
    dates = pd.concat(parts, ignore_index=True).dropna()
    return dates.groupby("USUBJID")["date"].max().astype("datetime64[s]")


def _extreme_dose(doses: pd.DataFrame, date: str, flag: str, last: bool) -> pd.DataFrame:
    """Per subject the earliest (or latest) of `date` with its imputation flag; of records tied on
    the date, one whose date was not imputed."""
    ranked = doses.assign(_imputed=doses[flag].notna()).sort_values(
        ["USUBJID", date, "_imputed"], ascending=[True, True, last], kind="stable")
    chosen = ranked.groupby("USUBJID", sort=False).tail(1) if last else ranked.groupby("USUBJID", sort=False).head(1)
    return chosen.set_index("USUBJID")[[date, flag]]


def derive_vars_trt_dates(adsl: pd.DataFrame, ex: pd.DataFrame, *, data_cut: str | None = None,
                          last_visit: pd.Series | None = None, dm_last_dose: pd.Series | None = None) -> pd.DataFrame:
    """TRTSDT/TRTEDT: first and last dose from EX, TRTDURD in days, TRTSDTF/TRTEDTF the imputation.

    Partial dates are imputed as ADaM does (admiral's derive_vars_dt, flag D when the day was
    imputed, M when month and day were): a start to the first day of its period, an end to the
    last day, but never after the data cut or the subject's last visit (`last_visit`,
    last_visit_dates), nor before the record's start. A record without an end date ends on the day
    it starts, or, for the subject's latest record, on DM's RFXENDTC (`dm_last_dose`) if later."""
    require_columns(ex, ["USUBJID", "EXSTDTC", "EXENDTC"], "derive_vars_trt_dates")
    start, start_flag = impute_date(ex["EXSTDTC"], how="first")
    end, end_flag = impute_date(ex["EXENDTC"], how="last")
    caps = [pd.Series(pd.NaT, index=ex.index, dtype="datetime64[s]")]
    if data_cut:
        caps.append(pd.Series(pd.Timestamp(data_cut), index=ex.index).astype("datetime64[s]"))
    if last_visit is not None and len(last_visit):
        caps.append(lookup(ex["USUBJID"], last_visit))
    cap = pd.concat(caps, axis=1).min(axis=1).astype("datetime64[s]")
    end = end.mask(end_flag.notna() & cap.notna() & (end > cap), cap)
    end = end.mask(end < start, start)
    # No end date at all: a dose on the day the record starts, or, on the subject's latest record,
    # DM's last exposure date (RFXENDTC, the sponsor's own) where that is later (RG0605 warns)
    missing_end = ex["EXENDTC"].isna() & start.notna()
    end, end_flag = end.mask(missing_end, start), end_flag.where(~missing_end, start_flag)
    if dm_last_dose is not None and len(dm_last_dose):
        latest = start.eq(start.groupby(ex["USUBJID"]).transform("max")) & missing_end
        from_dm = lookup(ex["USUBJID"], dm_last_dose)
        later = latest & from_dm.notna() & (from_dm > end)
        end, end_flag = end.mask(later, from_dm), end_flag.mask(later, None)
    dose = ex["EXDOSE"] if "EXDOSE" in ex.columns else pd.Series(1.0, index=ex.index)
    # A zero dose of placebo is still a dose; only records flagged as not given (dose < 0) or
    # without a start date are not.
    taken = (start.notna() & ~(dose < 0)).to_numpy(dtype=bool)
    doses = pd.DataFrame({"USUBJID": ex["USUBJID"], "start": start, "start_flag": start_flag, "end": end,
                          "end_flag": end_flag})[taken]
    first = _extreme_dose(doses, "start", "start_flag", last=False)
    last = _extreme_dose(doses, "end", "end_flag", last=True)
    out = adsl.copy()
    out["TRTSDT"] = lookup(out["USUBJID"], first["start"].astype("datetime64[s]"))
    out["TRTSDTF"] = lookup(out["USUBJID"], first["start_flag"].astype("str"))
    out["TRTEDT"] = lookup(out["USUBJID"], last["end"].astype("datetime64[s]"))
    out["TRTEDTF"] = lookup(out["USUBJID"], last["end_flag"].astype("str"))
    out["TRTDURD"] = ((out["TRTEDT"] - out["TRTSDT"]).dt.days + 1).astype("float64")
    return out


def derive_var_saffl(adsl: pd.DataFrame) -> pd.DataFrame:
    """SAFFL: received at least one dose. A dosed subject without an actual arm (ACTARM empty or
    'not treated': RG0707 warns) is counted under the planned one, not left out of safety."""
    require_columns(adsl, ["TRTSDT", "TRT01P", "TRT01A"], "derive_var_saffl")
    dosed = adsl["TRTSDT"].notna()
    return adsl.assign(SAFFL=dosed.map({True: "Y", False: "N"}).astype("str"),
                       TRT01A=adsl["TRT01A"].mask(dosed & adsl["TRT01A"].isna(), adsl["TRT01P"]))


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
    decod = out["USUBJID"].map(last["DSDECOD"]).str.strip().str.upper()  # as validated (RG0205)
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
    out["DURDIS"] = years.astype("float64")  # unrounded: rounded half up only where shown
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


def derive_var_saltbl(adsl: pd.DataFrame, rs: pd.DataFrame, baseline: str = ON_OR_BEFORE) -> pd.DataFrame:
    """SALTBL: baseline SALT total (salt.flag_baseline: the last value on or before, or before,
    the first dose)."""
    out = adsl.copy()
    out["SALTBL"] = float("nan")
    if rs.empty:
        return out
    first = out.set_index("USUBJID")["TRTSDT"]
    rec = salt_records(_visits_up_to(rs, first))
    rec = rec[rec["PARAMCD"] == TOTAL].reset_index(drop=True)
    base = rec[flag_baseline(rec, first, baseline) == "Y"].set_index("USUBJID")["AVAL"]
    out["SALTBL"] = out["USUBJID"].map(base).astype("float64")
    return out


def derive_var_fasfl(adsl: pd.DataFrame) -> pd.DataFrame:
    """FASFL: treated and with a baseline SALT (the efficacy population)."""
    require_columns(adsl, ["SAFFL", "SALTBL"], "derive_var_fasfl")
    fas = adsl["SAFFL"].eq("Y") & adsl["SALTBL"].notna()
    return adsl.assign(FASFL=fas.map({True: "Y", False: "N"}).astype("str"))


def derive_adsl(dm, ex, ds, mh, rs, sv=None, *, data_cut: str | None = None,
                baseline: str = ON_OR_BEFORE) -> pd.DataFrame:
    adsl = start_adsl(dm)
    dm_last_dose = (to_date(dm["RFXENDTC"]).set_axis(dm["USUBJID"]).dropna()
                    if "RFXENDTC" in dm.columns and len(dm) else None)
    adsl = derive_vars_trt_dates(adsl, ex, data_cut=data_cut, last_visit=last_visit_dates(sv, rs),
                                 dm_last_dose=dm_last_dose)
    adsl = derive_var_saffl(adsl)
    adsl = derive_var_ittfl(adsl)
    adsl = derive_vars_disposition(adsl, ds)
    adsl = derive_vars_aa_history(adsl, mh)
    adsl = derive_var_saltbl(adsl, rs, baseline)
    adsl = derive_var_fasfl(adsl)
    assert_unique_keys(adsl, ORDER["adsl"], "derive_adsl")
    return adsl.sort_values(ORDER["adsl"], kind="stable").reset_index(drop=True)
