"""Validate: run every rule on a trial's canonical tables and list each problem found.

Lazy: all failures are collected at once, one issue per failing value or row, never stopping
at the first. Severity comes from the rule catalogue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.frames import isin, key_codes, lookup, per_distinct, select_rows
from regrowth.issues import issues_frame, sort_issues
from regrowth.model import DOMAINS, SALT_WEIGHTS
from regrowth.validate.rules import RULES, SALT_TOTAL_TOLERANCE

BUILTIN_RULES = {"column_in_dataframe": "RG0001", "not_nullable": "RG0002", "column_in_schema": None}
# Frame-level rules report on their key, not on every column of the row.
FRAME_RULE_COLUMNS = {"RG0501": "USUBJID", "RG0502": "--SEQ", "RG0503": "RSTESTCD", "RG0205": "DSDECOD",
                      "RG0504": "VISITNUM",
                      "RG0602": "AEENDTC", "RG0603": "EXENDTC"}


def _issue(rule_id, domain, df, i, column, value, message) -> dict:
    has_row = i is not None and i in df.index
    return {
        "rule_id": rule_id,
        "severity": RULES[rule_id].severity,
        "dataset": DOMAINS[domain].name,
        "file": df.at[i, "SRCFILE"] if has_row and "SRCFILE" in df.columns else None,
        "usubjid": df.at[i, "USUBJID"] if has_row and "USUBJID" in df.columns else None,
        "row": int(df.at[i, "SRCROW"]) if has_row and "SRCROW" in df.columns and pd.notna(df.at[i, "SRCROW"]) else None,
        "column": column,
        "value": None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value),
        "message": message,
    }


def schema_issues(domain: str, df: pd.DataFrame) -> list[dict]:
    # pandera is imported here, not with the package: it adds ~0.3 s to a job's start, and the
    # jobs that import only the gate (accept, combine) never run a schema
    import pandera.pandas as pa

    from regrowth.validate.schemas import SCHEMAS

    if df.empty:
        return []
    try:
        SCHEMAS[domain].validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    out: list[dict] = []
    seen: set[tuple] = set()
    for rec in fc.to_dict("records"):
        check = str(rec["check"])
        rule_id = BUILTIN_RULES.get(check, check if check in RULES else None)
        if check.startswith("dtype("):
            rule_id = "RG0101"
        if rule_id is None:
            continue
        idx = rec["index"]
        i = None if idx is None or (isinstance(idx, float) and np.isnan(idx)) else int(idx)
        if rule_id in FRAME_RULE_COLUMNS:
            if (rule_id, i) in seen:
                continue
            seen.add((rule_id, i))
            column = FRAME_RULE_COLUMNS[rule_id].replace("--", DOMAINS[domain].name)
            value = df.at[i, column] if i is not None and column in df.columns else None
        elif rule_id == "RG0001":
            column, value = str(rec["failure_case"]), None
        else:
            column, value = rec["column"], rec["failure_case"]
        out.append(_issue(rule_id, domain, df, i, column, value, _message(rule_id, column, value)))
    return out


def _message(rule_id: str, column: str, value) -> str:
    base = RULES[rule_id].description
    if rule_id == "RG0001":
        return f"required variable {column} is missing"
    if rule_id == "RG0002":
        return f"{column} is required but empty"
    if value is None:
        return base
    return f"{base}: {column} = '{value}'"


# --- cross-domain and cross-record rules -----------------------------------------------------


def salt_total_issues(rs: pd.DataFrame) -> list[dict]:
    """RG0601: a reported SALT total must equal the weighted regions within rounding."""
    if rs.empty or not {"RSTESTCD", "RSSTRESN", "VISITNUM", "USUBJID"} <= set(rs.columns):
        return []
    tests = [*SALT_WEIGHTS, "SALTTOT"]
    salt = select_rows(rs, isin(rs["RSTESTCD"], tests) & rs["USUBJID"].notna() & rs["VISITNUM"].notna(),
                       ["USUBJID", "VISITNUM", "RSTESTCD", "RSSTRESN"])
    # one row per (USUBJID, VISITNUM), one column per test: its first non-missing value
    visit = key_codes(salt, ["USUBJID", "VISITNUM"])
    codes, names = pd.factorize(salt["RSTESTCD"])
    test = pd.Index(tests).get_indexer(names)[codes]  # position in `tests`, per distinct code
    value = salt["RSSTRESN"].to_numpy(dtype="float64", na_value=np.nan)
    wide = np.full((visit.max() + 1 if len(visit) else 0, len(tests)), np.nan)
    have = np.flatnonzero(~np.isnan(value))[::-1]  # reversed: the first value is written last
    wide[visit[have], test[have]] = value[have]
    if np.isnan(wide).all(axis=0).any():  # a test never reported: nothing to compare
        return []
    total = wide[:, -1]
    computed = sum(wide[:, j] * w for j, w in enumerate(SALT_WEIGHTS.values()))
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(np.abs(total - computed) > SALT_TOTAL_TOLERANCE)  # NaN compares False
    first_total = np.zeros(len(wide), dtype=np.int64)  # position of each visit's first total record
    totals = np.flatnonzero(test == len(tests) - 1)[::-1]
    first_total[visit[totals]] = totals
    return [_issue("RG0601", "rs", rs, salt.index[first_total[k]], "RSSTRESN", total[k],
                   f"SALT total {total[k]:g} but weighted regions give {computed[k]:.2f}") for k in bad]


def cross_domain_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    dm = tables["dm"]
    out: list[dict] = []
    if dm.empty:
        out.append({"rule_id": "RG0003", "severity": "error", "dataset": "DM", "file": None, "usubjid": None,
                    "row": None, "column": "USUBJID", "value": None,
                    "message": "the trial has no DM subjects (DM dataset missing or empty)"})
        return out
    subjects = dm["USUBJID"].dropna().unique()  # an array, not a set: isin runs in pyarrow
    for domain, df in tables.items():
        if domain == "dm" or df.empty or "USUBJID" not in df.columns:
            continue
        orphan = df["USUBJID"].notna() & ~isin(df["USUBJID"], subjects)
        for i in df.index[orphan]:
            out.append(_issue("RG0701", domain, df, i, "USUBJID", df.at[i, "USUBJID"],
                              f"USUBJID '{df.at[i, 'USUBJID']}' is not in DM"))
    ex = tables["ex"]
    treated = ex["USUBJID"].dropna().unique()
    armed = dm["ARM"].notna() & ~dm["ARM"].str.upper().isin(["SCREEN FAILURE", "NOT ASSIGNED", "NOT TREATED"])
    for i in dm.index[armed & ~isin(dm["USUBJID"], treated)]:
        out.append(_issue("RG0703", "dm", dm, i, "USUBJID", dm.at[i, "USUBJID"],
                          f"subject assigned to '{dm.at[i, 'ARM']}' has no exposure record"))
    rs = tables["rs"]
    if not rs.empty and not ex.empty:
        first_dose = ex.groupby("USUBJID")["EXSTDTC"].min().str[:10]
        total = rs["RSTESTCD"] == "SALTTOT"
        rs_dt = (select_rows(rs, total, ["USUBJID", "RSDTC"]) if total.any() else rs[["USUBJID", "RSDTC"]]).dropna()
        dose = rs_dt["USUBJID"].map(first_dose).astype("str")
        known = dose.notna()
        pre = rs_dt[known & (rs_dt["RSDTC"].astype("str").str[:10].where(known, "") <= dose.where(known, ""))]
        for i in dm.index[isin(dm["USUBJID"], treated) & ~isin(dm["USUBJID"], pre["USUBJID"])]:
            out.append(_issue("RG0702", "dm", dm, i, "USUBJID", dm.at[i, "USUBJID"],
                              "treated subject has no SALT assessment on or before the first dose"))
    return out


def _full_date(s: pd.Series) -> pd.Series:
    return per_distinct(s, lambda v: pd.to_datetime(v.where(v.str.len() >= 10).str[:10], format="%Y-%m-%d",
                                                    errors="coerce"))


def _subject_dates(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every full date known per subject, from DM, DS and SV: the study period's evidence."""
    parts = []
    dm, ds, sv = tables["dm"], tables["ds"], tables["sv"]
    for col in ("RFICDTC", "RFSTDTC", "RFENDTC", "RFPENDTC"):
        if col in dm.columns:
            parts.append(pd.DataFrame({"USUBJID": dm["USUBJID"], "date": _full_date(dm[col].astype("str"))}))
    if not ds.empty and "DSSTDTC" in ds.columns:
        parts.append(pd.DataFrame({"USUBJID": ds["USUBJID"], "date": _full_date(ds["DSSTDTC"].astype("str"))}))
    if not sv.empty and "SVSTDTC" in sv.columns:
        parts.append(pd.DataFrame({"USUBJID": sv["USUBJID"], "date": _full_date(sv["SVSTDTC"].astype("str"))}))
    return pd.concat(parts).dropna() if parts else pd.DataFrame(columns=["USUBJID", "date"])


def study_period_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """RG0704: AE starts, SALT assessments and doses must fall within the subject's study period
    (first to last date DM, DS and SV know for the subject)."""
    known = _subject_dates(tables)
    if known.empty:
        return []
    period = known.groupby("USUBJID")["date"].agg(["min", "max"])
    out = []
    for domain, col in (("ae", "AESTDTC"), ("rs", "RSDTC"), ("ex", "EXSTDTC"), ("ex", "EXENDTC")):
        df = tables[domain]
        if df.empty or col not in df.columns:
            continue
        d = _full_date(df[col].astype("str"))
        lo, hi = lookup(df["USUBJID"], period["min"]), lookup(df["USUBJID"], period["max"])
        outside = d.notna() & lo.notna() & ((d < lo) | (d > hi))
        for i in df.index[outside]:
            out.append(_issue("RG0704", domain, df, i, col, df.at[i, col],
                              f"{col} {df.at[i, col]} is outside the subject's study period "
                              f"{lo[i]:%Y-%m-%d} to {hi[i]:%Y-%m-%d}"))
    return out


def dosing_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """RG0705: a placebo arm with active drug, or an active arm dosed only with placebo."""
    dm, ex = tables["dm"], tables["ex"]
    if ex.empty or dm.empty or "EXTRT" not in ex.columns or "USUBJID" not in dm.columns:
        return []
    arm_col = "ACTARM" if "ACTARM" in dm.columns and dm["ACTARM"].notna().any() else "ARM"
    arm = dm.drop_duplicates("USUBJID").set_index("USUBJID")[arm_col].astype("str").str.upper()  # RG0501 reports duplicates
    placebo_dose = ex["EXTRT"].astype("str").str.upper().str.contains("PLACEBO").fillna(False)
    if "EXDOSE" in ex.columns:
        placebo_dose |= ex["EXDOSE"].eq(0)
    on_placebo = lookup(ex["USUBJID"], arm).str.contains("PLACEBO").fillna(False)
    out = []
    for i in ex.index[on_placebo & ~placebo_dose]:
        out.append(_issue("RG0705", "ex", ex, i, "EXTRT", ex.at[i, "EXTRT"],
                          f"subject in a placebo arm received {ex.at[i, 'EXTRT']}"))
    active_only_placebo = ex.assign(p=placebo_dose, a=~on_placebo & isin(ex["USUBJID"], arm.index)).groupby(
        "USUBJID").agg(p=("p", "all"), a=("a", "all"))
    for u in active_only_placebo.index[active_only_placebo["p"] & active_only_placebo["a"]]:
        i = ex.index[ex["USUBJID"] == u][0]
        out.append(_issue("RG0705", "ex", ex, i, "EXTRT", ex.at[i, "EXTRT"],
                          f"subject in arm '{arm[u]}' received only placebo"))
    return out


def visit_window_issues(tables: dict[str, pd.DataFrame], window_days: int) -> list[dict]:
    """RG0706: a SALT assessment at visit 'WEEK n' should fall near study day 7n + 1."""
    rs, ex = tables["rs"], tables["ex"]
    if rs.empty or ex.empty or "VISIT" not in rs.columns:
        return []
    first = _full_date(ex["EXSTDTC"].astype("str")).groupby(ex["USUBJID"]).min()
    week = per_distinct(rs["VISIT"].astype("str"), lambda v: pd.to_numeric(
        v.str.extract(r"^WEEK\s+(\d+)$", flags=2)[0], errors="coerce").astype("float64"))
    day = (_full_date(rs["RSDTC"].astype("str")) - lookup(rs["USUBJID"], first)).dt.days + 1
    off = (day - (week * 7 + 1)).abs()
    out = []
    for i in rs.index[off.notna() & (off > window_days)]:
        out.append(_issue("RG0706", "rs", rs, i, "RSDTC", rs.at[i, "RSDTC"],
                          f"{rs.at[i, 'VISIT']} assessed on study day {day[i]:.0f}, "
                          f"more than {window_days} days from day {week[i] * 7 + 1:.0f}"))
    return out


def unmapped_issues(unmapped: pd.DataFrame) -> list[dict]:
    return [{"rule_id": r["rule_id"], "severity": RULES[r["rule_id"]].severity, "dataset": "SOURCE",
             "file": r["SRCFILE"], "usubjid": None, "row": int(r["SRCROW"]), "column": None, "value": None,
             "message": r["reason"]} for r in unmapped.to_dict("records")]


def validate_trial(tables: dict[str, pd.DataFrame], ingest_issues: pd.DataFrame | None = None,
                   unmapped: pd.DataFrame | None = None, window_days: int = 14) -> pd.DataFrame:
    records: list[dict] = []
    for domain, df in tables.items():
        records += schema_issues(domain, df)
    records += salt_total_issues(tables["rs"])
    records += cross_domain_issues(tables)
    records += study_period_issues(tables)
    records += dosing_issues(tables)
    records += visit_window_issues(tables, window_days)
    if unmapped is not None:
        records += unmapped_issues(unmapped)
    found = issues_frame(records)
    if ingest_issues is not None and len(ingest_issues):
        found = pd.concat([ingest_issues, found], ignore_index=True)
    # a variable missing from the export (RG0001) is not also 'empty' on every row (RG0002)
    absent = set(zip(found.loc[found["rule_id"] == "RG0001", "dataset"], found.loc[found["rule_id"] == "RG0001", "column"]))
    if absent:
        noise = (found["rule_id"] == "RG0002") & pd.Series(list(zip(found["dataset"], found["column"])),
                                                           index=found.index).isin(absent)
        found = found[~noise]
    return sort_issues(issues_frame(found.to_dict("records")))
