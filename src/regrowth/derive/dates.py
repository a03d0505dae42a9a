"""ISO 8601 --DTC text to analysis dates, as polars expressions (regrowth.dates' rules: complete
dates only, or imputed partial dates with their --DTF flag). Dates are polars Date here; the
derivations write them as Datetime('ms'), the type the analysis tables have always had."""

from __future__ import annotations

import polars as pl

DATE_OUT = pl.Datetime("ms")
_PARTS = r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?"


def text(column: str | pl.Expr) -> pl.Expr:
    """A text column as String (it may come Categorical), for string functions."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.cast(pl.String)


def to_date(column: str | pl.Expr) -> pl.Expr:
    """Complete dates only (a time part is ignored); partial, invalid or missing give null.
    Each distinct text is parsed once: 3 million SALT records carry a few thousand dates."""
    def parse(values: pl.Series) -> pl.Series:
        distinct = values.unique()
        dates = distinct.str.extract(r"^(\d{4}-\d{2}-\d{2})", 1).str.to_date("%Y-%m-%d", strict=False)
        return values.replace_strict(distinct, dates, default=None, return_dtype=pl.Date)

    return text(column).map_batches(parse, return_dtype=pl.Date)


def _from_parts(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """The date of year, month and day (integers); null when a part is missing or invalid."""
    iso = pl.format("{}-{}-{}", y.cast(pl.String).str.zfill(4), m.cast(pl.String).str.zfill(2),
                    d.cast(pl.String).str.zfill(2))
    return iso.str.to_date("%Y-%m-%d", strict=False)


def impute_date(column: str | pl.Expr, how: str = "first",
                min_dates: pl.Expr | None = None) -> tuple[pl.Expr, pl.Expr]:
    """(date, flag) expressions as regrowth.dates.impute_date: flag 'D' (day imputed), 'M'
    (month and day) or null; 'first' fills the first possible day, 'last' the last. With
    min_dates (admiral's): a partial date that admits the reference date, and whose first
    possible day is before it, is imputed to it."""
    parts = text(column).str.extract_groups(_PARTS)
    y, m, d = (parts.struct.field(str(i)).cast(pl.Int32, strict=False) for i in (1, 2, 3))
    flag = (pl.when(y.is_not_null() & m.is_not_null() & d.is_null()).then(pl.lit("D"))
            .when(y.is_not_null() & m.is_null()).then(pl.lit("M")).otherwise(None))
    month = m.fill_null(12)
    month_end = _from_parts(y, month, pl.lit(1)).dt.month_end().dt.day()
    latest = _from_parts(y, month, d.fill_null(month_end))
    if how == "first":
        date = _from_parts(y, m.fill_null(1), d.fill_null(1))
        if min_dates is not None:
            ref = min_dates.cast(pl.Date)
            bump = flag.is_not_null() & ref.is_not_null() & (date < ref) & (latest >= ref)
            date = pl.when(bump.fill_null(False)).then(ref).otherwise(date)
    elif how == "last":
        date = latest
    else:
        raise ValueError(f"impute_date: how must be 'first' or 'last', not {how!r}")
    return date, flag


def study_day(dates: pl.Expr, reference: pl.Expr) -> pl.Expr:
    """SDTM study day: no day 0. date - ref + 1 on or after ref, plain difference before."""
    diff = (dates.cast(pl.Date) - reference.cast(pl.Date)).dt.total_days().cast(pl.Float64)
    return pl.when(diff >= 0).then(diff + 1).otherwise(diff)


def days_between(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    """Whole days from `earlier` to `later` (float, null when either is missing)."""
    return (later.cast(pl.Date) - earlier.cast(pl.Date)).dt.total_days().cast(pl.Float64)
