"""The issue record every check produces, conformance-checker style (CDISC CORE, Pinnacle 21)."""

from __future__ import annotations

import pandas as pd

ISSUE_COLUMNS = ["rule_id", "severity", "dataset", "file", "usubjid", "row", "column", "value", "message"]
SEVERITIES = ["error", "warning", "notice"]


def issues_frame(records: list[dict] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(records or [], columns=ISSUE_COLUMNS)
    for col in ISSUE_COLUMNS:
        if col == "row":
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
        else:
            df[col] = df[col].astype("str")
    return df


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
