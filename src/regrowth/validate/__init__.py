"""Validate: run every rule of the registry on a trial's canonical tables and list each problem.

Lazy: all failures are collected at once, one issue per failing value or row, never stopping
at the first. Each rule's check (validate.checks) returns its failing rows as issue frames,
concatenated once here. Each issue names its file and row, and for a CSV file the line
(issues.ISSUE_COLUMNS); the severity and fix are the rule's (validate.rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from regrowth.issues import is_text_file, issue_frame, issue_schema, sort_issue_frame
from regrowth.validate.checks import Trial
from regrowth.validate.rules import RULES

if TYPE_CHECKING:
    import pandas as pd

ABSENT_VARIABLE_RULES = ["RG0001", "RG0008", "RG0012"]  # a variable the export lacks


def polars_frame(frame) -> pl.DataFrame:
    """A table as polars: a polars frame as it is, a pandas one (ingest's, until ingest moves
    to polars) converted (NaN in numbers becomes null)."""
    if frame is None:
        return pl.DataFrame()
    if isinstance(frame, pl.DataFrame):
        return frame
    return pl.from_pandas(frame.reset_index(drop=True))


def polars_tables(tables: dict) -> dict[str, pl.DataFrame]:
    return {d: polars_frame(t) for d, t in tables.items()}


def validate_trial(tables: dict[str, pl.DataFrame | pd.DataFrame], ingest_issues=None, unmapped=None,
                   window_days: int = 14) -> pl.DataFrame:
    """The issues of a trial's tables (polars or pandas), with ingest's issues and a notice per
    source row carried into no table (`unmapped`), in sort_issue_frame order; each rule's severity
    and fix as the registry has them."""
    trial = Trial(polars_tables(tables), window_days)
    found = [issue_frame(ingest_issues)] if ingest_issues is not None and len(ingest_issues) else []
    for rule in RULES.values():
        if rule.check is not None:
            found += rule.check(rule, trial)
    if unmapped is not None and len(unmapped):
        found.append(unmapped_issues(polars_frame(unmapped)))
    issues = pl.concat(found, how="vertical") if found else issue_frame()
    issues = fill_lines(drop_follow_on(issues), trial.tables)
    # severity and fix are the registry's, for the rules ingest raises too
    registry = pl.DataFrame({"rule_id": list(RULES), "_severity": [r.severity for r in RULES.values()],
                             "_fix": [r.fix for r in RULES.values()]})
    issues = (issues.join(registry, on="rule_id", how="left", maintain_order="left")
              .with_columns(severity=pl.coalesce("_severity", "severity"), fix=pl.col("_fix"))
              .drop("_severity", "_fix"))
    return sort_issue_frame(issues)


def unmapped_issues(unmapped: pl.DataFrame) -> pl.DataFrame:
    """A notice per source row no table carries, with the reason ingest gave."""
    severity = pl.DataFrame({"rule_id": list(RULES), "severity": [r.severity for r in RULES.values()]})
    return (unmapped.select(text_of("rule_id"), file=text_of("SRCFILE"), row=pl.col("SRCROW").cast(pl.Int64),
                            message=text_of("reason"))
            .join(severity, on="rule_id", how="left", maintain_order="left")
            .with_columns(dataset=pl.lit("SOURCE"))
            .pipe(issue_frame))


def text_of(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String)


def drop_follow_on(found: pl.DataFrame) -> pl.DataFrame:
    """Issues that only repeat an earlier failure of the same value:
    - a variable missing from the export (RG0001, RG0008, RG0012) is not also 'empty' on every
      row (RG0002);
    - a value that is not a number (RG0101) was set to null by ingest: that null is not also
      'required but empty' (RG0002)."""
    empty = pl.col("rule_id") == "RG0002"
    if not found.height or not found.select(empty.any()).item():
        return found
    absent = found.filter(pl.col("rule_id").is_in(ABSENT_VARIABLE_RULES)).select("dataset", "column").unique()
    not_number = found.filter(pl.col("rule_id") == "RG0101").select("dataset", "column", "file", "row").unique()
    found = found.with_row_index("_i")
    noise = pl.concat([
        found.filter(empty).join(absent, on=["dataset", "column"]).select("_i"),
        found.filter(empty).join(not_number, on=["dataset", "column", "file", "row"]).select("_i"),
    ])
    return found.filter(~pl.col("_i").is_in(noise["_i"].implode())).drop("_i")


def fill_lines(found: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """`line` of each issue with a row in a CSV file: the line the reader recorded (SRCLINE, only
    for files whose data row n is not line n + 1), else row + 1 (the header is line 1). A row of
    such a file that no table carries keeps a null line rather than a wrong one."""
    files = found["file"].drop_nulls().unique().to_list()
    text_files = [f for f in files if is_text_file(f)]  # per file, not per issue
    todo = pl.col("line").is_null() & pl.col("row").is_not_null() & pl.col("file").is_in(text_files)
    if not found.select(todo.any()).item():
        return found
    recorded = [t.select(file=text_of("SRCFILE"), row=pl.col("SRCROW").cast(pl.Int64),
                         _line=pl.col("SRCLINE").cast(pl.Int64)).filter(pl.col("_line").is_not_null())
                for t in tables.values() if {"SRCLINE", "SRCFILE", "SRCROW"} <= set(t.columns)]
    recorded = [r for r in recorded if r.height]
    line = pl.col("row") + 1
    if recorded:
        known = pl.concat(recorded).unique(["file", "row"], keep="first", maintain_order=True)
        irregular = known["file"].unique()
        found = found.join(known, on=["file", "row"], how="left", maintain_order="left")
        line = pl.when(pl.col("file").is_in(irregular.implode())).then(pl.col("_line")).otherwise(line)
    else:
        found = found.with_columns(_line=pl.lit(None, pl.Int64))
    return (found.with_columns(line=pl.when(todo).then(line).otherwise(pl.col("line")))
            .drop("_line").select(list(issue_schema())))
