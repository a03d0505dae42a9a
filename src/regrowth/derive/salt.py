"""SALT records from RS (or QS mapped to RS) as analysis values, and baseline selection."""

from __future__ import annotations

import re

import pandas as pd

from regrowth.dates import to_date
from regrowth.frames import (any_in_group, assert_unique_keys, group_bounds, isin, key_codes, lookup, require_columns,
                             select_rows, sort_rows)
from regrowth.model import SALT_TESTS, SALT_WEIGHTS
from regrowth.rounding import at_compare_precision

TOTAL = "SALT"
PARAMS = {**{k: v + " (%)" for k, v in SALT_TESTS.items() if k != "SALTTOT"}, TOTAL: "SALT Total Score (%)"}


# What summaries and the report read of ADSALT (plus the CRITyFL flags): skipping the other
# columns, and region records, reads a large trial's ADSALT several times faster.
ANALYSED_COLUMNS = ["USUBJID", "TRT01P", "AATYPE", "PARAMCD", "AVISITN", "AVAL", "ADY", "PCHG", "ANL01FL", "EOTFL",
                    "APHASE"]


def analysed_columns(names, also: tuple[str, ...] = ()) -> list[str]:
    """Of `names`, what summaries, the report and time-to-event derivations use (and `also`)."""
    return [c for c in names if c in ANALYSED_COLUMNS or c in also or re.fullmatch(r"CRIT\d+FL", c)]


def read_total_salt(path, also: tuple[str, ...] = (), columns: list[str] | None = None) -> pd.DataFrame:
    """ADSALT's total-SALT records: `columns`, or else the analysed columns (and `also`)."""
    import pyarrow.parquet as pq

    from regrowth.parquet_io import read_table

    if columns is None:
        columns = analysed_columns(pq.read_schema(path).names, also)
    return read_table(path, columns=columns, filters=[("PARAMCD", "==", TOTAL)])


def total_salt(adsalt: pd.DataFrame, also: tuple[str, ...] = ()) -> pd.DataFrame:
    """read_total_salt of an ADSALT in memory."""
    mask = (adsalt["PARAMCD"] == TOTAL).fillna(False).to_numpy(dtype=bool)
    return select_rows(adsalt, mask, analysed_columns(adsalt.columns, also)).reset_index(drop=True)


RS_COLUMNS = ["USUBJID", "RSTESTCD", "RSSTRESN", "RSDTC", "VISITNUM", "VISIT"]  # what salt_records reads


def salt_records(rs: pd.DataFrame) -> pd.DataFrame:
    """One row per subject, SALT parameter and visit: USUBJID, PARAMCD, PARAM, AVAL, ADT, VISIT(NUM), DTYPE.

    The reported total (RSTESTCD SALTTOT) is used where present; where a visit has all four
    regions but no total, the total is computed from the weights (not rounded) and flagged
    DTYPE='DERIVED'.
    """
    require_columns(rs, RS_COLUMNS, "salt_records")
    salt = select_rows(rs, isin(rs["RSTESTCD"], list(SALT_TESTS)).to_numpy(), RS_COLUMNS)
    rec = pd.DataFrame(
        {
            "USUBJID": salt["USUBJID"],
            "PARAMCD": salt["RSTESTCD"].replace({"SALTTOT": TOTAL}),
            "AVAL": salt["RSSTRESN"].astype("float64"),
            "ADT": to_date(salt["RSDTC"]),
            "VISITNUM": salt["VISITNUM"],
            "VISIT": salt["VISIT"],
            "DTYPE": pd.Series(None, index=salt.index, dtype="str"),
        }
    )
    rec = pd.concat([rec, _derived_totals(rec)], ignore_index=True)
    rec["PARAM"] = lookup(rec["PARAMCD"], pd.Series(PARAMS, dtype="str"))
    rec = sort_rows(rec, ["USUBJID", "PARAMCD", "VISITNUM"])
    # checked in key order, where duplicates are neighbours (a derived total is only made for a
    # visit that reports none, so any duplicate is one in RS: RSTESTCD SALTTOT is PARAMCD SALT)
    assert_unique_keys(rec, ["USUBJID", "PARAMCD", "VISITNUM"], "salt_records (RS)")
    return rec


def _derived_totals(rec: pd.DataFrame) -> pd.DataFrame:
    # only visits that report no total need one derived: usually none, so no pivot at all
    reported = any_in_group(key_codes(rec, ["USUBJID", "VISITNUM"]), rec["PARAMCD"] == TOTAL)
    regions = rec[isin(rec["PARAMCD"], list(SALT_WEIGHTS)).to_numpy() & ~reported]
    if regions.empty:
        return rec.iloc[0:0]
    wide = regions.pivot_table(index=["USUBJID", "VISITNUM"], columns="PARAMCD", values="AVAL", aggfunc="first")
    wide = wide.reindex(columns=list(SALT_WEIGHTS)).dropna()
    if wide.empty:
        return rec.iloc[0:0]
    # unrounded (rounded half up only where shown): 20.04 is not SALT <= 20; at 9 decimals, which
    # only removes floating-point error (four regions of 30 give 30, not 29.999999999999996)
    total = at_compare_precision(sum(wide[k] * w for k, w in SALT_WEIGHTS.items()).to_numpy())
    meta = regions.drop_duplicates(["USUBJID", "VISITNUM"]).set_index(["USUBJID", "VISITNUM"])
    out = wide.index.to_frame(index=False)
    out["PARAMCD"] = TOTAL
    out["AVAL"] = total
    out["ADT"] = meta.loc[wide.index, "ADT"].to_numpy()
    out["VISIT"] = meta.loc[wide.index, "VISIT"].to_numpy()
    out["DTYPE"] = "DERIVED"
    return out


ON_OR_BEFORE, BEFORE = "on_or_before_first_dose", "before_first_dose"  # config definitions.baseline


def flag_baseline(rec: pd.DataFrame, first_dose: pd.Series, rule: str = ON_OR_BEFORE) -> pd.Series:
    """ABLFL: the last non-missing value on or before (rule BEFORE: strictly before) first dose,
    per subject and parameter."""
    if rule not in (ON_OR_BEFORE, BEFORE):
        raise ValueError(f"baseline rule {rule!r}: expected {ON_OR_BEFORE!r} or {BEFORE!r}")
    ref = lookup(rec["USUBJID"], first_dose)
    before = (rec["ADT"] <= ref) if rule == ON_OR_BEFORE else (rec["ADT"] < ref)
    eligible = rec["AVAL"].notna() & rec["ADT"].notna() & ref.notna() & before
    cand = sort_rows(rec[eligible], ["USUBJID", "PARAMCD", "ADT", "VISITNUM"], keep_index=True)
    last = cand.index[group_bounds(cand, ["USUBJID", "PARAMCD"])[1]]
    flag = pd.Series(None, index=rec.index, dtype="str")
    flag.loc[last] = "Y"
    return flag
