"""ISO 8601 dates as SDTM carries them: full, partial ('2014', '2014-03') or missing.

SDTM never fills partial dates; analysis data impute them and flag which part was imputed
(ADaM --DTF: 'D' day imputed, 'M' month and day imputed, 'Y' all imputed).

The polars expressions (date_parts, complete_date, imputed_date, study_day_of) are the
implementation; the pandas functions (to_date, impute_date, study_day, to_iso) give the same
values to the stages still on pandas.
"""

from __future__ import annotations

from datetime import date

import polars as pl

# Full or partial date, optionally followed by a time part (which we ignore for dates).
ISO8601_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?(T[\d:.+\-Z]*)?$"
_LEADING_PARTS = r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?"


def date_parts(dtc: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Year, month and day as the text starts with them (Int32; null where absent)."""
    text = dtc.cast(pl.String)
    return tuple(text.str.extract(_LEADING_PARTS, k).cast(pl.Int32, strict=False) for k in (1, 2, 3))


# The dates the derivations have always had (pandas' nanosecond timestamps): a year typed as
# 1014 for 2014 stays missing, as it was, rather than becoming a date a thousand years early.
FIRST_DATE, LAST_DATE = date(1677, 9, 22), date(2262, 4, 11)


def _date_of(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """The calendar date, or null where any part is missing or the date does not exist (30 Feb,
    month 13) or lies outside FIRST_DATE..LAST_DATE."""
    text = pl.format("{}-{}-{}", year.cast(pl.String).str.zfill(4), month.cast(pl.String).str.zfill(2),
                     day.cast(pl.String).str.zfill(2))
    ok = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    found = pl.when(ok).then(text.str.to_date("%Y-%m-%d", strict=False))
    return pl.when(found.is_between(FIRST_DATE, LAST_DATE)).then(found)


def complete_date(dtc: pl.Expr) -> pl.Expr:
    """Complete dates only; partial or missing give null (no imputation)."""
    return _date_of(*date_parts(dtc))


def _last_possible(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Latest date a (partial) date admits; an invalid full date stays null."""
    month = month.fill_null(12)
    month_end = _date_of(year, month, pl.lit(1, pl.Int32)).dt.month_end().dt.day().cast(pl.Int32)
    return _date_of(year, month, day.fill_null(month_end))


def imputed_date(dtc: pl.Expr, how: str = "first", min_date: pl.Expr | None = None) -> tuple[pl.Expr, pl.Expr]:
    """(date, flag) with flag D/M or null: see impute_date."""
    year, month, day = date_parts(dtc)
    flag = (pl.when(year.is_not_null() & month.is_not_null() & day.is_null()).then(pl.lit("D"))
            .when(year.is_not_null() & month.is_null()).then(pl.lit("M")))
    if how == "first":
        date = _date_of(year, month.fill_null(1), day.fill_null(1))
        if min_date is not None:
            latest = _last_possible(year, month, day)
            bump = flag.is_not_null() & min_date.is_not_null() & (date < min_date) & (latest >= min_date)
            date = pl.when(bump).then(min_date).otherwise(date)
    elif how == "last":
        date = _last_possible(year, month, day)
    else:
        raise ValueError(f"impute_date: how must be 'first' or 'last', not {how!r}")
    return date, flag


def study_day_of(date: pl.Expr, reference: pl.Expr) -> pl.Expr:
    """SDTM study day (Float64): no day 0. date - ref + 1 on or after ref, plain difference before."""
    diff = (date - reference).dt.total_days().cast(pl.Float64)
    return pl.when(diff >= 0).then(diff + 1).otherwise(diff)


# pandas: the same values for the stages still on pandas ---------------------------------------

def _on_text(dtc, exprs: dict[str, pl.Expr], extra=None):
    """Evaluate `exprs` on a pandas Series of date text (and, as 'ref', extra dates)."""
    import pandas as pd

    columns = {"dtc": pl.from_pandas(dtc.astype("str").reset_index(drop=True), nan_to_null=True)}
    if extra is not None:
        ref = pd.Series(pd.to_datetime(extra).astype("datetime64[s]").to_numpy())
        columns["ref"] = pl.from_pandas(ref).cast(pl.Datetime("ms"))
    return pl.DataFrame(columns).select(**exprs)


def _dates(values: pl.Series, index):
    """Dates (or datetimes) as pandas datetime64[s] on `index` (null as NaT)."""
    import pandas as pd

    return pd.Series(values.cast(pl.Datetime("ms")).to_numpy(), index=index).astype("datetime64[s]")


def to_date(dtc):
    """Complete dates only; partial or missing give NaT (no imputation)."""
    got = _on_text(dtc, {"date": complete_date(pl.col("dtc"))})
    return _dates(got["date"], dtc.index)


def impute_date(dtc, how: str = "first", min_dates=None):
    """Impute partial dates; return (date, flag) with flag D/M/Y or null.

    how='first' fills missing parts with the first day/month, 'last' with the last.
    With min_dates (admiral's min_dates): if the earliest possible date is before a
    reference date that the partial date still admits, impute to the reference date, so that
    an AE partially dated in the month of first dose is not pushed before treatment.
    A fully missing date stays missing.
    """
    import pandas as pd

    date, flag = imputed_date(pl.col("dtc"), how, pl.col("ref") if min_dates is not None else None)
    got = _on_text(dtc, {"date": date, "flag": flag}, min_dates)
    return _dates(got["date"], dtc.index), pd.Series(got["flag"].to_list(), index=dtc.index, dtype="str")


def study_day(dates, reference):
    """SDTM study day: no day 0. date - ref + 1 on or after ref, plain difference before."""
    import numpy as np
    import pandas as pd

    diff = (pd.to_datetime(dates) - pd.to_datetime(reference)).dt.days.astype("float64")
    return pd.Series(np.where(diff >= 0, diff + 1, diff), index=dates.index, dtype="float64")


def to_iso(dates):
    """Dates back to ISO 8601 text (for SDTM variables), missing stays null."""
    import pandas as pd

    out = pd.to_datetime(dates).dt.strftime("%Y-%m-%d")
    return out.astype("str")
