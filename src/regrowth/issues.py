"""The issue record every check produces, conformance-checker style (CDISC CORE, Pinnacle 21).

Validation and collect_checks build issues as polars frames (issue_schema; issue_frame,
sort_issue_frame); the pandas forms (issues_frame, issues_as_pandas) serve the stages still on
pandas (the XPORT and REDCap readers, the split, the report).

`row` is the 1-based data row (record) in `file`; `line` is, for a CSV file, the line of the file
that row starts on, the header being line 1 (row + 1 unless the file has blank lines or line
breaks inside quoted values); null for XPT and Dataset-JSON, whose rows are records. `fix` is
the rule's advice on correcting the export (regrowth.validate.rules), so validation.csv says it too.
"""

from __future__ import annotations

import math

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import polars as pl

# the first nine are the contract as first released, in its order; later columns are appended
ISSUE_COLUMNS = ["rule_id", "severity", "dataset", "file", "usubjid", "row", "column", "value", "message",
                 "line", "fix"]
SEVERITIES = ["error", "warning", "notice"]
INTEGER_COLUMNS = ("row", "line")
ISSUE_ORDER = ["severity", "dataset", "row", "rule_id", "column", "usubjid", "file", "value", "message"]
TEXT_FILE_SUFFIXES = (".csv", ".txt", ".tsv")  # rows that have lines


def issues_frame(records: list[dict] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(records or [], columns=ISSUE_COLUMNS)
    for col in ISSUE_COLUMNS:
        if col in INTEGER_COLUMNS:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
        else:
            df[col] = df[col].astype("str")
    return df


def value_text(value) -> str | None:
    """A value as the export has it: 130, not 130.0; 26.6, not 26.599999999999998; text as is.
    Floats print as the shortest text that reads back as the same double (repr), so a real
    decimal is never rounded away; whole numbers lose the '.0' the float model adds."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f":
        v = float(value)
        if math.isnan(v):
            return None
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def is_text_file(file) -> bool:
    return isinstance(file, str) and file.lower().endswith(TEXT_FILE_SUFFIXES)


# --- polars -------------------------------------------------------------------------------------


def issue_schema() -> dict:
    """ISSUE_COLUMNS with their polars types (a function: polars loads only where it is used)."""
    import polars as pl

    return {c: pl.Int64 if c in INTEGER_COLUMNS else pl.String for c in ISSUE_COLUMNS}


def issue_frame(issues=None) -> pl.DataFrame:
    """Issues as a polars frame of ISSUE_SCHEMA: from a polars frame, a pandas one (ingest's)
    or records; absent columns null."""
    import polars as pl

    if issues is None or isinstance(issues, list):
        issues = issues_frame(issues)
    if not isinstance(issues, pl.DataFrame):  # pandas: its text and integers as issues_frame makes them
        issues = pl.from_pandas(issues_frame(issues.to_dict("records")) if len(issues) else issues_frame())
    return issues.select([pl.col(c).cast(t) if c in issues.columns else pl.lit(None, t).alias(c)
                          for c, t in issue_schema().items()])


def sort_issue_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Meaningful and total order (severity, dataset, row, rule, then the rest; nulls last in every
    key, stable), so an issue list does not depend on the order checks ran or parts were collected."""
    import polars as pl

    rank = pl.col("severity").replace_strict(SEVERITIES, list(range(len(SEVERITIES))), default=None,
                                             return_dtype=pl.Int64)
    keys = [rank if k == "severity" else pl.col(k) for k in ISSUE_ORDER]
    return df.sort(keys, nulls_last=True, maintain_order=True)


def issues_as_pandas(df: pl.DataFrame) -> pd.DataFrame:
    """A polars issue frame as issues_frame gives it (text as str, row and line as Int64)."""
    import pyarrow as pa

    out = df.to_arrow().to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for col in out.columns:
        if col not in INTEGER_COLUMNS:
            out[col] = out[col].astype("str")
    return out


def value_texts(values: pl.Series, fmt=value_text, nulls: bool = False) -> pl.Series:
    """fmt(value) of each value (value_text: as the export has it), computed once per distinct
    value and broadcast back; null stays null unless `nulls` (then fmt(None))."""
    import polars as pl

    if values.dtype == pl.String and fmt is value_text:
        return values
    if values.dtype.is_float():
        values = values.fill_nan(None)
    elif fmt is value_text and values.dtype in (pl.Categorical, pl.Null) or isinstance(values.dtype, pl.Enum):
        return values.cast(pl.String)
    distinct = values.drop_nulls().unique()
    texts = pl.Series([fmt(v) for v in distinct.to_list()], dtype=pl.String)
    out = values.replace_strict(distinct, texts, default=None, return_dtype=pl.String)
    return out.fill_null(fmt(None)) if nulls else out
