"""CSV that spreadsheet programs open as data, never as formulas.

Text from exports (subject ids, AE terms, site names) may start with '=', '+', '-', '@', a tab
or a carriage return; Excel and LibreOffice would evaluate such a cell. Prefixing a single quote
makes it text (OWASP's CSV injection advice). Numbers are left as they are.
"""

from __future__ import annotations

import os

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = r"^[=+\-@\t\r]"


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_safe_csv(df: pd.DataFrame) -> str:
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out.to_csv(index=False, lineterminator="\n")


def write_safe_csv(df, path: str | os.PathLike) -> None:
    """A pandas or polars frame as safe CSV (a polars frame column-wise: issue lists of dirty
    exports hold millions of cells)."""
    if isinstance(df, pd.DataFrame):
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(to_safe_csv(df))
        return
    import polars as pl

    text = [c for c, t in df.schema.items() if t in (pl.String, pl.Categorical, pl.Enum)]
    as_text = {c: pl.col(c).cast(pl.String) for c in text}
    safe = df.with_columns(pl.when(v.str.contains(FORMULA_PATTERN)).then(pl.lit("'") + v).otherwise(v).alias(c)
                           for c, v in as_text.items())
    safe.rename({c: safe_cell(c) for c in safe.columns}).write_csv(path, line_terminator="\n")
