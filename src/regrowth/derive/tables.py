"""The analysis tables' column types, and the seam to callers that still hold pandas frames."""

from __future__ import annotations

import functools

import polars as pl

from regrowth.derive.dates import DATE_OUT

# Low-cardinality text written as dictionaries (polars Categorical): controlled terms, flags,
# parameters, visits, phases, criteria. Other text is String.
CATEGORICAL = frozenset({
    "STUDYID", "SITEID", "AGEU", "SEX", "RACE", "ETHNIC", "COUNTRY", "ARM", "ARMCD", "ACTARM", "ACTARMCD",
    "TRT01P", "TRT01A", "TRTA", "TRTSDTF", "TRTEDTF", "SAFFL", "ITTFL", "FASFL", "EOSSTT", "DCSREAS", "AATYPE",
    "DURDISU", "PARAMCD", "PARAM", "VISIT", "AVISIT", "APHASE", "DTYPE", "ABLFL", "ANL01FL", "EOTFL", "AVALU",
    "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR", "AESEV", "AESER", "AEREL", "AEACN", "AEBODSYS", "AEDECOD",
    "ASTDTF", "AENDTF", "TRTEMFL", "AOCCFL", "AOCCSFL", "AOCCPFL",
})


def is_categorical(name: str) -> bool:
    return name in CATEGORICAL or (name.startswith("CRIT") and name[4:].rstrip("FL").isdigit())


def conform(df: pl.DataFrame, columns: list[str] | None = None) -> pl.DataFrame:
    """`columns` (default: all) in that order, text Categorical or String by name, dates
    Datetime('ms'), null-typed columns (no value anywhere) as their kind: the same types
    whichever types the inputs came in and however few rows there are."""
    columns = list(df.columns) if columns is None else columns
    casts = []
    for name in columns:
        dtype = df.schema[name]
        if dtype in (pl.String, pl.Categorical, pl.Null):
            casts.append(pl.col(name).cast(pl.Categorical if is_categorical(name) else pl.String))
        elif dtype == pl.Date or (isinstance(dtype, pl.Datetime) and dtype != DATE_OUT):
            casts.append(pl.col(name).cast(DATE_OUT))
        else:
            casts.append(pl.col(name))
    return df.select(casts)


def polars_frame(df) -> pl.DataFrame:
    """A frame as polars (pandas converted through Arrow; polars as it is)."""
    if isinstance(df, pl.DataFrame):
        return df
    return pl.from_pandas(df)


def accepts_pandas(function):
    """Let a derivation take pandas frames too (callers not yet on polars: tests' builders, the
    summary tests): they are converted to polars, and the result back to pandas as
    parquet_io.as_pandas gives it. Polars in, polars out."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        import sys

        pd = sys.modules.get("pandas")
        if pd is None or not any(isinstance(a, pd.DataFrame) for a in (*args, *kwargs.values())):
            return function(*args, **kwargs)
        convert = lambda a: pl.from_pandas(a) if isinstance(a, pd.DataFrame) else a  # noqa: E731
        out = function(*[convert(a) for a in args], **{k: convert(v) for k, v in kwargs.items()})
        from regrowth.parquet_io import as_pandas

        return as_pandas(out) if isinstance(out, pl.DataFrame) else out

    return wrapper


def divided(expr: pl.Expr, constant: float) -> pl.Expr:
    """expr / constant as IEEE division (numpy): polars divides by a constant as a
    multiplication by its reciprocal, which can differ in the last bit (8.0766598220397 vs
    8.076659822039698 years) and move a value exactly half way between two targets."""
    def divide(s: pl.Series) -> pl.Series:
        if not len(s):
            return s.cast(pl.Float64)
        return pl.Series(s.name, s.cast(pl.Float64).to_numpy() / constant).fill_nan(None)

    return expr.cast(pl.Float64).map_batches(divide, return_dtype=pl.Float64)
