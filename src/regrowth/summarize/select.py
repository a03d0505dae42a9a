"""What a summary reads of an analysis table: its columns and its rows, selected once, by polars.

A source is a Parquet file, a dataset directory of part files (`adsalt/part-000.parquet`, ...),
a list of part files (a job's inputs) or a frame in memory (polars or pandas: in-process runs and tests). From a file the row
predicate is pushed down into the scan, so a large ADSALT (millions of records) is never read
whole; the builders then work on the few rows and columns they asked for.

A job that runs several builders on one large table reads the rows they all share once
(`read_subset`: ADSALT's total-score records): a builder's read is served from that frame only
when it declares the same `within` rows and every column it may use is in the frame; any other
read goes to the file, so the shared frame can make a read faster but never different.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from regrowth.errors import ContractError

Source = object  # a path (file or dataset directory), a polars frame, a pandas frame or a Subset


@dataclass(frozen=True)
class Subset:
    """The rows of `origin` where `within` holds, `frame` holding some of its columns (read once).
    `origin_columns`: all of origin's columns, so an optional column origin has is never taken as
    absent."""
    origin: Source
    within: pl.Expr
    frame: pl.DataFrame
    origin_columns: tuple[str, ...]

    def serves(self, within: pl.Expr | None, used: list[str]) -> bool:
        """Whether a read of the rows within `within` that uses the columns `used` (those origin
        has) gets the same rows from the frame as from origin: the same `within`, every column."""
        return (within is not None and within.meta.eq(self.within)
                and all(c in self.frame.columns for c in used if c in self.origin_columns))


def read_subset(source: Source, within: pl.Expr, columns: Callable[[list[str]], list[str]],
                name: str = "table") -> Subset:
    """The rows of `source` where `within` holds, read once; `columns`: of the source's column
    names, those to keep. A column `within` reads that the source lacks is an error naming it."""
    lazy = scan(source)
    present = lazy.collect_schema().names()
    _require(source, within.meta.root_names(), present, name)
    frame = lazy.filter(within).select([c for c in columns(present) if c in present]).collect()
    return Subset(source, within, frame, tuple(present))


def _require(source: Source, columns: list[str], present, name: str) -> None:
    """A ContractError naming the file (or `name`) and the columns of `columns` not `present`."""
    if missing := [c for c in columns if c not in present]:
        raise ContractError(f"{source_name(source, name)}: column(s) missing: {', '.join(missing)}")


def _filtered(lazy: pl.LazyFrame, rows: pl.Expr | None, within: pl.Expr | None) -> pl.LazyFrame:
    """The rows within `within`, then those of them where `rows` holds: one after the other, so a
    predicate over its column (a maximum, a rank) sees the rows within, from a file as from a
    Subset's frame. polars pushes both into the scan."""
    for predicate in (within, rows):
        if predicate is not None:
            lazy = lazy.filter(predicate)
    return lazy


def scan(source: Source) -> pl.LazyFrame:
    """A lazy frame over `source` (a file, a dataset directory, or a frame)."""
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, Subset):
        return scan(source.origin)
    if isinstance(source, (list, tuple)):  # part files, in part order
        return pl.concat([scan(p) for p in source], how="vertical_relaxed") if len(source) > 1 else scan(source[0])
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            parts = sorted(path.glob("*.parquet"))
            if not parts:
                raise ContractError(f"{path}: a dataset directory without part files")
            # part by part, as a list: a part without rows may have all-null columns
            return scan(parts)
        return pl.scan_parquet(path)
    return pl.from_pandas(source).lazy()


def source_name(source: Source, default: str) -> str:
    if isinstance(source, Subset):
        return source_name(source.origin, default)
    if isinstance(source, (list, tuple)) and source:
        return Path(source[0]).parent.name if len(source) > 1 else Path(source[0]).name
    return Path(source).name if isinstance(source, (str, os.PathLike)) else default


def read_rows(source: Source, columns: list[str], rows: pl.Expr | None = None, *, within: pl.Expr | None = None,
              optional: list[str] = (), name: str = "table") -> pl.DataFrame:
    """`columns` (and those of `optional` that exist) of the rows where `within` and `rows` hold
    (null counts as false). A missing column is an error naming the file (or `name`) and the
    column. `within`: the rows a Subset of the source may hold (see the module's note)."""
    wanted = [*columns, *(c for c in optional if c not in columns)]
    if isinstance(source, Subset) and source.serves(within, [*_read_by(rows), *wanted]):
        lazy, present = _filtered(source.frame.lazy(), rows, None), source.origin_columns
    else:
        lazy = scan(source)
        present = lazy.collect_schema().names()
        lazy = _filtered(lazy, rows, within)
    _require(source, columns, present, name)
    return lazy.select([c for c in wanted if c in present]).collect()


def has_rows(source: Source, rows: pl.Expr | None = None, *, within: pl.Expr | None = None) -> bool:
    """Whether any row of `source` satisfies `within` and `rows` (stops at the first)."""
    if isinstance(source, Subset) and source.serves(within, _read_by(rows)):
        lazy = _filtered(source.frame.lazy(), rows, None)
    else:
        lazy = _filtered(scan(source), rows, within)
    return lazy.select(pl.first()).head(1).collect().height > 0


def _read_by(rows: pl.Expr | None) -> list[str]:
    return [] if rows is None else rows.meta.root_names()


def to_pandas(frame: pl.DataFrame):
    """A polars frame as the pandas layer sees it (text as text: parquet_io.as_pandas)."""
    from regrowth.parquet_io import as_pandas

    return as_pandas(frame)
