"""What a summary reads of an analysis table: its columns and its rows, selected once, by polars.

A source is a Parquet file, a dataset directory of part files (`adsalt/part-000.parquet`, ...),
a list of part files (a job's inputs) or a frame in memory (polars or pandas: in-process runs and tests). From a file the row
predicate is pushed down into the scan, so a large ADSALT (millions of records) is never read
whole; the builders then work on the few rows and columns they asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from regrowth.errors import ContractError

Source = object  # a path (file or dataset directory), a polars frame or a pandas frame


def scan(source: Source) -> pl.LazyFrame:
    """A lazy frame over `source` (a file, a dataset directory, or a frame)."""
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, (list, tuple)):  # part files, in part order
        return pl.concat([scan(p) for p in source], how="vertical_relaxed") if len(source) > 1 else scan(source[0])
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            if not any(path.glob("*.parquet")):
                raise ContractError(f"{path}: a dataset directory without part files")
            return pl.scan_parquet(path / "*.parquet")
        return pl.scan_parquet(path)
    return pl.from_pandas(source).lazy()


def source_name(source: Source, default: str) -> str:
    if isinstance(source, (list, tuple)) and source:
        return Path(source[0]).parent.name if len(source) > 1 else Path(source[0]).name
    return Path(source).name if isinstance(source, (str, os.PathLike)) else default


def read_rows(source: Source, columns: list[str], rows: pl.Expr | None = None, *, optional: list[str] = (),
              name: str = "table") -> pl.DataFrame:
    """`columns` (and those of `optional` that exist) of the rows where `rows` holds (null counts
    as false). A missing column is an error naming the file (or `name`) and the column."""
    lazy = scan(source)
    present = lazy.collect_schema().names()
    if missing := [c for c in columns if c not in present]:
        raise ContractError(f"{source_name(source, name)}: column(s) missing: {', '.join(missing)}")
    lazy = lazy if rows is None else lazy.filter(rows)
    return lazy.select([*columns, *(c for c in optional if c in present and c not in columns)]).collect()


def has_rows(source: Source, rows: pl.Expr) -> bool:
    """Whether any row of `source` satisfies `rows` (stops at the first)."""
    return scan(source).filter(rows).select(pl.first()).head(1).collect().height > 0


def to_pandas(frame: pl.DataFrame):
    """A polars frame as the pandas layer sees it (text as text: parquet_io.as_pandas)."""
    from regrowth.parquet_io import as_pandas

    return as_pandas(frame)
