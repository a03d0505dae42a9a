"""CSV that spreadsheet programs open as data, never as formulas.

Text from exports (subject ids, AE terms, site names) may start with '=', '+', '-', '@', a tab
or a carriage return; Excel and LibreOffice would evaluate such a cell. Prefixing a single quote
makes it text (OWASP's CSV injection advice). Numbers are left as they are.
"""

from __future__ import annotations

import os

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = r"^[=+\-@\t\r]"


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _safe_frame(df):
    """A pandas or polars frame as a polars frame whose text cells are defused, column-wise
    (issue lists of dirty exports hold millions of cells); numbers are left as they are."""
    import polars as pl

    frame = df if isinstance(df, pl.DataFrame) else pl.from_pandas(df)
    text = {c: pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t in (pl.String, pl.Categorical, pl.Enum)}
    frame = frame.with_columns(pl.when(v.str.contains(FORMULA_PATTERN)).then(pl.lit("'") + v).otherwise(v).alias(c)
                               for c, v in text.items())
    return frame.rename({c: safe_cell(c) for c in frame.columns})


def to_safe_csv(df) -> str:
    return _safe_frame(df).write_csv(line_terminator="\n")


def write_safe_csv(df, path: str | os.PathLike) -> None:
    _safe_frame(df).write_csv(path, line_terminator="\n")
