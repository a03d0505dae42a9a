"""One trial's issue list, accounting and export files from its parts' (a trial of one part has
one of each). Parts hold whole subjects, so record tables need no combining: they stay a Parquet
dataset of part files. Only these small per-part tables are brought together."""

from __future__ import annotations

import pandas as pd
import polars as pl

from regrowth.errors import ContractError
from regrowth.issues import issue_frame, sort_issue_frame
from regrowth.validate.gate import ACCOUNTING_COLUMNS

FILE_KEY = "file"


def collect_issues(parts: list) -> pl.DataFrame:
    """The parts' issues (polars or pandas frames) as one sorted polars issue frame; a trial-level
    issue (no row: a variable missing from a file) that every part reports is listed once.
    Column-wise: a dirty export's parts carry millions of issues."""
    issues = pl.concat([issue_frame(p) for p in parts]) if parts else issue_frame()
    trial_level = pl.col("row").is_null()
    once = issues.filter(trial_level).unique(maintain_order=True)
    return sort_issue_frame(pl.concat([issues.filter(~trial_level), once]))


def collect_files(parts: list[pd.DataFrame], whole: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per export file, its record with the parts' rows_in added up; `whole` (the split's file
    records) says how many rows each file has: the parts must make them up."""
    first = parts[0]
    rows = pd.concat(parts).groupby(FILE_KEY, sort=False)["rows_in"].sum()
    files = first.assign(rows_in=first[FILE_KEY].map(rows).astype(first["rows_in"].dtype))
    if whole is not None:
        expected = dict(zip(whole[FILE_KEY], whole["rows_in"]))
        for name, got in zip(files[FILE_KEY], files["rows_in"]):
            if int(got) != int(expected[name]):
                raise ContractError(f"{name}: the parts hold {int(got)} rows, the file has {int(expected[name])} "
                                    "(rows lost or doubled in the split)")
    return files


def collect_accounting(parts: list[pd.DataFrame], files: pd.DataFrame) -> pd.DataFrame:
    """Per export file, the parts' accounting added up; it must account for every row of the file."""
    total = pd.concat(parts).groupby(FILE_KEY, sort=False)[ACCOUNTING_COLUMNS[1:]].sum()
    rows = []
    for rec in files.to_dict("records"):
        if rec[FILE_KEY] not in total.index:
            continue  # a metadata file: no records to account for
        got = total.loc[rec[FILE_KEY]]
        if int(got["rows_in"]) != int(rec["rows_in"]):
            raise ContractError(f"{rec[FILE_KEY]}: the parts account for {int(got['rows_in'])} rows, "
                                f"the file has {int(rec['rows_in'])}")
        rows.append({FILE_KEY: rec[FILE_KEY], **{c: int(got[c]) for c in ACCOUNTING_COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
