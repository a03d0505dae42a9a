"""pandera schemas for every canonical domain, built from the model and the rule catalogue.

Each custom check is named by its rule id, so a failure maps straight back to the catalogue.
Types are fixed by ingestion (no coercion here: coercion is the expensive part at scale).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from regrowth.dates import ISO8601_DATE
from regrowth.frames import duplicated_rows, per_distinct
from regrowth.model import DOMAINS, NCOMPLT_CT, NUM

SEX_CT = ["F", "M", "U", "UNDIFFERENTIATED"]
AESEV_CT = ["MILD", "MODERATE", "SEVERE"]
NY_CT = ["N", "Y"]
def _element(rule_id: str, fn) -> pa.Check:
    """Element-wise rule on non-null values (nulls are the presence rules' business)."""
    return pa.Check(lambda s: s.isna() | fn(s), name=rule_id, element_wise=False, ignore_na=False)


def _iso_date(text: pd.Series) -> pd.Series:
    return text.str.match(ISO8601_DATE).fillna(False).astype(bool)


def _column_checks(domain: str, column: str) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column.endswith("DTC"):
        checks.append(_element("RG0401", lambda s: per_distinct(s, _iso_date)))  # thousands of distinct dates
    rules = {
        ("dm", "SEX"): ("RG0201", lambda s: s.isin(SEX_CT)),
        ("dm", "AGE"): ("RG0302", lambda s: s.between(0, 120)),
        ("ae", "AESEV"): ("RG0202", lambda s: s.isin(AESEV_CT)),
        ("ae", "AESER"): ("RG0203", lambda s: s.isin(NY_CT)),
        ("ex", "EXDOSE"): ("RG0303", lambda s: s >= 0),
        ("rs", "RSSTRESU"): ("RG0204", lambda s: s == "%"),
        ("rs", "RSSTRESN"): ("RG0301", lambda s: s.between(0, 100)),
    }
    if (domain, column) in rules:
        checks.append(_element(*rules[(domain, column)]))
    return checks


def _unique(rule_id: str, keys: list[str]) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        if any(k not in df.columns for k in keys):
            return pd.Series(True, index=df.index)
        present = df[keys].notna().all(axis=1)
        return ~(duplicated_rows(df, keys) & present)

    return pa.Check(check, name=rule_id)


def _frame_checks(domain: str) -> list[pa.Check]:
    spec = DOMAINS[domain]
    checks = []
    if domain == "dm":
        checks.append(_unique("RG0501", ["USUBJID"]))
    seq = f"{spec.name}SEQ"  # every domain with a --SEQ variable, key or not (RS: RSSEQ is not)
    if seq in spec.columns:
        checks.append(pa.Check(lambda df: _seq_unique(df, seq), name="RG0502"))
    if domain == "rs":
        checks.append(_unique("RG0503", ["USUBJID", "RSTESTCD", "VISITNUM"]))
    if domain == "sv":
        checks.append(_unique("RG0504", ["USUBJID", "VISITNUM"]))
    if domain == "ds":
        checks.append(pa.Check(_disposition_terms, name="RG0205"))
    if domain == "ae":
        checks.append(pa.Check(lambda df: _not_before("AESTDTC", "AEENDTC", df), name="RG0602"))
    if domain == "ex":
        checks.append(pa.Check(lambda df: _not_before("EXSTDTC", "EXENDTC", df), name="RG0603"))
    return checks


def _disposition_terms(df: pd.DataFrame) -> pd.Series:
    """Disposition events (not milestones or other events) use NCOMPLT terms."""
    if not {"DSCAT", "DSDECOD"} <= set(df.columns):
        return pd.Series(True, index=df.index)
    event = df["DSCAT"].str.upper().eq("DISPOSITION EVENT").fillna(False)
    return ~event | df["DSDECOD"].isna() | df["DSDECOD"].str.upper().isin(NCOMPLT_CT)


def _seq_unique(df: pd.DataFrame, seq: str) -> pd.Series:
    """--SEQ unique per subject within its source dataset (RS may join records of RS and QS files,
    each numbered on its own)."""
    if "USUBJID" not in df.columns or seq not in df.columns:
        return pd.Series(True, index=df.index)
    keys = ["USUBJID", "SRCFILE", seq] if "SRCFILE" in df.columns else ["USUBJID", seq]
    present = df["USUBJID"].notna() & df[seq].notna()
    return ~(duplicated_rows(df, keys) & present)


def _not_before(start: str, end: str, df: pd.DataFrame) -> pd.Series:
    """End not before start, compared as calendar dates where both are valid ISO 8601 full dates
    (a partial date is not comparable; an invalid one fails RG0401 and nothing else)."""
    from regrowth.validate import full_date

    if start not in df.columns or end not in df.columns:
        return pd.Series(True, index=df.index)
    s, e = full_date(df[start]), full_date(df[end])
    return ~(s.notna() & e.notna() & (e < s))


def schema_for(domain: str) -> pa.DataFrameSchema:
    spec = DOMAINS[domain]
    columns = {}
    for v in spec.variables:
        columns[v.name] = pa.Column(
            "float64" if v.kind == NUM else "str",
            checks=_column_checks(domain, v.name),
            nullable=not v.required,
            required=v.required,
            name=v.name,
        )
    return pa.DataFrameSchema(columns, checks=_frame_checks(domain), strict=False, coerce=False, name=spec.name)


SCHEMAS: dict[str, pa.DataFrameSchema] = {d: schema_for(d) for d in DOMAINS}
