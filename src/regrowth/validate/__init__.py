"""Validate: run every rule on a trial's canonical tables and list each problem found.

Lazy: all failures are collected at once, one issue per failing value or row, never stopping
at the first. Severity comes from the rule catalogue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from regrowth.issues import issues_frame, sort_issues
from regrowth.model import DOMAINS, SALT_WEIGHTS
from regrowth.validate.rules import RULES
from regrowth.validate.schemas import SALT_TOTAL_TOLERANCE, SCHEMAS

BUILTIN_RULES = {"column_in_dataframe": "RG0001", "not_nullable": "RG0002", "column_in_schema": None}
# Frame-level rules report on their key, not on every column of the row.
FRAME_RULE_COLUMNS = {"RG0501": "USUBJID", "RG0502": "--SEQ", "RG0503": "RSTESTCD", "RG0205": "DSDECOD",
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
    if rs.empty or not {"RSTESTCD", "RSSTRESN", "VISITNUM"} <= set(rs.columns):
        return []
    salt = rs[rs["RSTESTCD"].isin(list(SALT_WEIGHTS) + ["SALTTOT"])]
    wide = salt.pivot_table(index=["USUBJID", "VISITNUM"], columns="RSTESTCD", values="RSSTRESN", aggfunc="first")
    if "SALTTOT" not in wide.columns or not set(SALT_WEIGHTS) <= set(wide.columns):
        return []
    computed = sum(wide[k] * w for k, w in SALT_WEIGHTS.items())
    bad = (wide["SALTTOT"] - computed).abs() > SALT_TOTAL_TOLERANCE
    bad = bad & computed.notna() & wide["SALTTOT"].notna()
    totals = salt[salt["RSTESTCD"] == "SALTTOT"]
    rows = pd.Series(totals.index, index=pd.MultiIndex.from_frame(totals[["USUBJID", "VISITNUM"]]))
    rows = rows[~rows.index.duplicated()]  # duplicates are RG0503's business
    out = []
    for key in bad[bad].index:
        total = wide.at[key, "SALTTOT"]
        out.append(_issue("RG0601", "rs", rs, rows[key], "RSSTRESN", total,
                          f"SALT total {total:g} but weighted regions give {computed[key]:.2f}"))
    return out


def cross_domain_issues(tables: dict[str, pd.DataFrame]) -> list[dict]:
    dm = tables["dm"]
    out: list[dict] = []
    if dm.empty:
        out.append({"rule_id": "RG0003", "severity": "error", "dataset": "DM", "file": None, "usubjid": None,
                    "row": None, "column": "USUBJID", "value": None,
                    "message": "the trial has no DM subjects (DM dataset missing or empty)"})
        return out
    subjects = set(dm["USUBJID"].dropna())
    for domain, df in tables.items():
        if domain == "dm" or df.empty or "USUBJID" not in df.columns:
            continue
        orphan = df["USUBJID"].notna() & ~df["USUBJID"].isin(subjects)
        for i in df.index[orphan]:
            out.append(_issue("RG0701", domain, df, i, "USUBJID", df.at[i, "USUBJID"],
                              f"USUBJID '{df.at[i, 'USUBJID']}' is not in DM"))
    ex = tables["ex"]
    treated = set(ex["USUBJID"].dropna())
    armed = dm["ARM"].notna() & ~dm["ARM"].str.upper().isin(["SCREEN FAILURE", "NOT ASSIGNED", "NOT TREATED"])
    for i in dm.index[armed & ~dm["USUBJID"].isin(treated)]:
        out.append(_issue("RG0703", "dm", dm, i, "USUBJID", dm.at[i, "USUBJID"],
                          f"subject assigned to '{dm.at[i, 'ARM']}' has no exposure record"))
    rs = tables["rs"]
    if not rs.empty and not ex.empty:
        first_dose = ex.groupby("USUBJID")["EXSTDTC"].min().str[:10]
        salt = rs[rs["RSTESTCD"] == "SALTTOT"] if (rs["RSTESTCD"] == "SALTTOT").any() else rs
        rs_dt = salt[["USUBJID", "RSDTC"]].dropna()
        pre = rs_dt[rs_dt["RSDTC"].str[:10] <= rs_dt["USUBJID"].map(first_dose)]
        for i in dm.index[dm["USUBJID"].isin(treated) & ~dm["USUBJID"].isin(set(pre["USUBJID"]))]:
            out.append(_issue("RG0702", "dm", dm, i, "USUBJID", dm.at[i, "USUBJID"],
                              "treated subject has no SALT assessment on or before the first dose"))
    return out


def validate_trial(tables: dict[str, pd.DataFrame], ingest_issues: pd.DataFrame | None = None) -> pd.DataFrame:
    records: list[dict] = []
    for domain, df in tables.items():
        records += schema_issues(domain, df)
    records += salt_total_issues(tables["rs"])
    records += cross_domain_issues(tables)
    found = issues_frame(records)
    if ingest_issues is not None and len(ingest_issues):
        found = pd.concat([ingest_issues, found], ignore_index=True)
    return sort_issues(issues_frame(found.to_dict("records")))
