"""ADTTE: time to response (from first dose) and time to relapse after stopping drug.

Event and censoring sources are passed as data (admiral's event_source/censor_source idea):
each parameter is built by the same derive_param_tte from a table of candidate event dates
and a table of censoring dates.
"""

from __future__ import annotations

import pandas as pd

from regrowth.derive.salt import TOTAL, read_total_salt, total_salt
from regrowth.frames import assert_unique_keys, group_bounds, isin, require_columns, select_rows, sort_rows
from regrowth.derive import ORDER
from regrowth.parquet_io import read_table
from regrowth.rounding import at_compare_precision

TTE_COLUMNS = ["STUDYID", "USUBJID", "TRT01P", "TRT01A", "AATYPE", "PARAMCD", "PARAM", "STARTDT", "ADT",
               "AVAL", "AVALU", "CNSR", "EVNTDESC", "CNSDTDSC"]


ALSO_READ = ("STUDYID", "ADT", "BASE", "APHASE")  # besides salt.ANALYSED_COLUMNS


def read_adsalt(path) -> pd.DataFrame:
    """What derive_adtte reads of ADSALT: total-SALT records, the columns it uses. An ADSALT
    with no total record at all is read whole, so that derive_adtte sees it as before."""
    totals = read_total_salt(path, also=ALSO_READ)
    return totals if len(totals) else read_table(path)


def analysed_adsalt(adsalt: pd.DataFrame) -> pd.DataFrame:
    """read_adsalt of an ADSALT in memory."""
    totals = total_salt(adsalt, also=ALSO_READ)
    return totals if len(totals) else adsalt


def derive_param_tte(population: pd.DataFrame, events: pd.DataFrame, censors: pd.DataFrame, *,
                     paramcd: str, param: str, add_one: bool) -> pd.DataFrame:
    """One record per subject of `population` (USUBJID, STARTDT, ...).

    events: USUBJID, ADT, EVNTDESC; the earliest event wins.
    censors: USUBJID, ADT, CNSR (>0), CNSDTDSC; the latest censoring date is used when no event.
    AVAL is in days: ADT - STARTDT (+1 when add_one, as for time from first dose).
    """
    require_columns(population, ["USUBJID", "STARTDT"], "derive_param_tte")
    assert_unique_keys(population, ["USUBJID"], f"derive_param_tte {paramcd}")
    ev = sort_rows(events, ["USUBJID", "ADT"])
    ev = select_rows(ev, group_bounds(ev, ["USUBJID"])[0], ["USUBJID", "ADT", "EVNTDESC"]).rename(
        columns={"ADT": "_EVDT"})
    cn = sort_rows(censors, ["USUBJID", "ADT", "CNSR"])
    cn = select_rows(cn, group_bounds(cn, ["USUBJID"])[1], ["USUBJID", "ADT", "CNSR", "CNSDTDSC"]).rename(
        columns={"ADT": "_CNDT", "CNSR": "_CNSR"})
    out = population.merge(ev, on="USUBJID", how="left", validate="1:1").merge(cn, on="USUBJID", how="left",
                                                                               validate="1:1")
    has_event = out["_EVDT"].notna()
    out["ADT"] = out["_EVDT"].where(has_event, out["_CNDT"])
    out["CNSR"] = pd.Series(0.0, index=out.index).where(has_event, out["_CNSR"]).astype("float64")
    out["EVNTDESC"] = out["EVNTDESC"].where(has_event).astype("str")
    out["CNSDTDSC"] = out["CNSDTDSC"].where(~has_event).astype("str")
    out = out.drop(columns=["_EVDT", "_CNDT", "_CNSR"])
    out["ADT"] = out["ADT"].astype("datetime64[s]")
    out["AVAL"] = ((out["ADT"] - out["STARTDT"]).dt.days + (1 if add_one else 0)).astype("float64")
    out["AVALU"] = "DAYS"
    out["PARAMCD"], out["PARAM"] = paramcd, param
    return out


def _population(adsl: pd.DataFrame, start_col: str, mask: pd.Series) -> pd.DataFrame:
    keep = ["STUDYID", "USUBJID", "TRT01P", "TRT01A", "AATYPE"]
    pop = adsl.loc[mask, [c for c in keep if c in adsl.columns]].copy()
    pop["STARTDT"] = adsl.loc[mask, start_col].astype("datetime64[s]")
    return pop


def _crit_flag(adsalt: pd.DataFrame, endpoint: str, endpoints: list[dict]) -> str:
    names = [e["name"] for e in endpoints]
    if endpoint not in names:
        raise ValueError(f"responder endpoint {endpoint!r} is not among the configured endpoints {names}")
    return f"CRIT{names.index(endpoint) + 1}FL"


def derive_param_ttresp(adsl: pd.DataFrame, adsalt: pd.DataFrame, endpoint: str, endpoints: list[dict]) -> pd.DataFrame:
    """Time from first dose to the first post-baseline visit meeting `endpoint` (FAS)."""
    require_columns(adsl, ["USUBJID", "TRTSDT", "FASFL"], "derive_param_ttresp")
    flag = _crit_flag(adsalt, endpoint, endpoints)
    pop = _population(adsl, "TRTSDT", adsl["FASFL"] == "Y")
    post = adsalt[(adsalt["PARAMCD"] == TOTAL) & (adsalt["ADY"] > 1) & adsalt["AVAL"].notna() & adsalt["ADT"].notna()]
    events = post[post[flag] == "Y"].assign(EVNTDESC=f"{endpoint} RESPONSE")[["USUBJID", "ADT", "EVNTDESC"]]
    last = post[["USUBJID", "ADT"]].assign(CNSR=1.0, CNSDTDSC="LAST SALT ASSESSMENT")
    none = pop[["USUBJID", "STARTDT"]].rename(columns={"STARTDT": "ADT"}).assign(
        CNSR=2.0, CNSDTDSC="NO POST-BASELINE ASSESSMENT")
    censors = pd.concat([none, last], ignore_index=True)
    return derive_param_tte(pop, events, censors, paramcd=f"TT{endpoint}"[:8],
                            param=f"Time to first {endpoint} response (days from first dose)", add_one=True)


def eot_responders(adsalt: pd.DataFrame, endpoint: str, endpoints: list[dict]) -> pd.DataFrame:
    """Subjects meeting `endpoint` at end of treatment, with their value (EOTVAL) and its date (EOTDT)."""
    flag = _crit_flag(adsalt, endpoint, endpoints)
    eot = adsalt[(adsalt["PARAMCD"] == TOTAL) & (adsalt["EOTFL"] == "Y") & (adsalt[flag] == "Y")]
    assert_unique_keys(eot, ["USUBJID"], "eot_responders")
    return eot[["USUBJID", "AVAL", "ADT"]].rename(columns={"AVAL": "EOTVAL", "ADT": "EOTDT"})


def derive_param_ttrelaps(adsl: pd.DataFrame, adsalt: pd.DataFrame, endpoint: str, endpoints: list[dict],
                          fraction_lost: float) -> pd.DataFrame:
    """Time from last dose to relapse, among end-of-treatment responders.

    Relapse: the first off-drug assessment after the end-of-treatment one with
    AVAL >= EOT + fraction_lost * (BASE - EOT), i.e. at least that fraction of the regrowth
    achieved at end of treatment is lost again (compared at rounding.at_compare_precision).
    """
    require_columns(adsl, ["USUBJID", "TRTEDT"], "derive_param_ttrelaps")
    resp = eot_responders(adsalt, endpoint, endpoints)
    pop = _population(adsl, "TRTEDT", isin(adsl["USUBJID"], resp["USUBJID"]) & adsl["TRTEDT"].notna())
    off = adsalt[(adsalt["PARAMCD"] == TOTAL) & (adsalt["APHASE"] == "OFF DRUG") & adsalt["AVAL"].notna()]
    off = off.merge(resp, on="USUBJID", how="inner")
    off = off[off["ADT"] > off["EOTDT"]]  # an EOT record may lie just after the last dose
    threshold = off["EOTVAL"] + fraction_lost * (off["BASE"] - off["EOTVAL"])
    events = off[at_compare_precision(off["AVAL"]) >= at_compare_precision(threshold)].assign(EVNTDESC="RELAPSE")[["USUBJID", "ADT", "EVNTDESC"]]
    last = off[["USUBJID", "ADT"]].assign(CNSR=1.0, CNSDTDSC="LAST OFF-DRUG SALT ASSESSMENT")
    none = pop[["USUBJID", "STARTDT"]].rename(columns={"STARTDT": "ADT"}).assign(
        CNSR=2.0, CNSDTDSC="NO OFF-DRUG ASSESSMENT")
    censors = pd.concat([none, last], ignore_index=True)
    return derive_param_tte(pop, events, censors, paramcd="TTRELAPS",
                            param="Time to relapse after last dose (days)", add_one=False)


def derive_adtte(adsl: pd.DataFrame, adsalt: pd.DataFrame, *, endpoints: list[dict], responder_endpoint: str,
                 fraction_lost: float) -> pd.DataFrame:
    # an ADSALT without rows (no SALT data) gives no FAS subject and no responder: no rows,
    # typed as any other ADTTE
    parts = [
        derive_param_ttresp(adsl, adsalt, responder_endpoint, endpoints),
        derive_param_ttrelaps(adsl, adsalt, responder_endpoint, endpoints, fraction_lost),
    ]
    adtte = pd.concat(parts, ignore_index=True)
    assert_unique_keys(adtte, ["USUBJID", "PARAMCD"], "derive_adtte")
    return adtte[TTE_COLUMNS].sort_values(ORDER["adtte"], kind="stable").reset_index(drop=True)
