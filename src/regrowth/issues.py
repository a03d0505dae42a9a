"""The issue record every check produces, conformance-checker style (CDISC CORE, Pinnacle 21).

`row` is the 1-based data row (record) in `file`; `line` is, for a CSV file, the line of the file
that row starts on, the header being line 1 (row + 1 unless the file has blank lines or line
breaks inside quoted values); null for XPT and Dataset-JSON, whose rows are records. `fix` is
the rule's advice on correcting the export (regrowth.validate.rules), so validation.csv says it too.
"""

from __future__ import annotations

import math

import pandas as pd

# the first nine are the contract as first released, in its order; later columns are appended
ISSUE_COLUMNS = ["rule_id", "severity", "dataset", "file", "usubjid", "row", "column", "value", "message",
                 "line", "fix"]
SEVERITIES = ["error", "warning", "notice"]
INTEGER_COLUMNS = ("row", "line")
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


def sort_issues(df: pd.DataFrame) -> pd.DataFrame:
    """Meaningful and total order (severity, dataset, row, rule, then the rest), so an issue list
    does not depend on the order checks ran or partitions were combined."""
    order = df["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return (
        df.assign(_sev=order)
        .sort_values(["_sev", "dataset", "row", "rule_id", "column", "usubjid", "file", "value", "message"],
                     kind="stable", na_position="last")
        .drop(columns="_sev")
        .reset_index(drop=True)
    )
