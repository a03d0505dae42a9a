"""ISO 8601 dates as SDTM carries them: full, partial ('2014', '2014-03') or missing.

SDTM never fills partial dates; analysis data impute them and flag which part was imputed
(ADaM --DTF: 'D' day imputed, 'M' month and day imputed, 'Y' all imputed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regrowth.frames import per_distinct

# Full or partial date, optionally followed by a time part (which we ignore for dates).
ISO8601_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?(T[\d:.+\-Z]*)?$"


def _parse(text: pd.Series) -> pd.DataFrame:
    ext = text.str.extract(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
    return pd.DataFrame({k: pd.to_numeric(ext[i], errors="coerce").astype("float64") for i, k in enumerate("ymd")})


def _parts(dtc: pd.Series) -> pd.DataFrame:
    return per_distinct(dtc.astype("str"), _parse)


def _from_parts(y: pd.Series, m: pd.Series, d: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"year": y, "month": m, "day": d})
    ok = frame.notna().all(axis=1).to_numpy()
    out = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[s]")
    if ok.any():
        # as for parsing: build each distinct (y, m, d) once
        ymd = frame[ok].to_numpy(dtype="int64")
        codes, uniq = pd.factorize(ymd[:, 0] * 10000 + ymd[:, 1] * 100 + ymd[:, 2])
        parts = pd.DataFrame({"year": uniq // 10000, "month": uniq // 100 % 100, "day": uniq % 100})
        out[ok] = pd.to_datetime(parts, errors="coerce").astype("datetime64[s]").to_numpy()[codes]
    return pd.Series(out, index=y.index, dtype="datetime64[s]")


def to_date(dtc: pd.Series) -> pd.Series:
    """Complete dates only; partial or missing give NaT (no imputation)."""

    def dates(text: pd.Series) -> pd.Series:
        p = _parse(text)
        return _from_parts(p["y"], p["m"], p["d"])

    # each distinct text made a date once: 3 million SALT records carry ~2,000 distinct dates
    return per_distinct(dtc.astype("str"), dates).rename(None)


def impute_date(
    dtc: pd.Series, how: str = "first", min_dates: pd.Series | None = None
) -> tuple[pd.Series, pd.Series]:
    """Impute partial dates; return (date, flag) with flag D/M/Y or null.

    how='first' fills missing parts with the first day/month, 'last' with the last.
    With min_dates (admiral's min_dates): if the earliest possible date is before a
    reference date that the partial date still admits, impute to the reference date, so that
    an AE partially dated in the month of first dose is not pushed before treatment.
    A fully missing date stays missing.
    """
    p = _parts(dtc)
    flag = pd.Series(pd.NA, index=dtc.index, dtype="str")
    flag = flag.mask(p["y"].notna() & p["m"].notna() & p["d"].isna(), "D")
    flag = flag.mask(p["y"].notna() & p["m"].isna(), "M")
    if how == "first":
        m = p["m"].fillna(1)
        d = p["d"].fillna(1)
        date = _from_parts(p["y"], m, d)
        if min_dates is not None:
            latest = _last_possible(p)
            ref = pd.to_datetime(min_dates).astype("datetime64[s]")
            bump = flag.notna() & ref.notna() & (date < ref) & (latest >= ref)
            date = date.mask(bump, ref)
    elif how == "last":
        date = _last_possible(p)
    else:
        raise ValueError(f"impute_date: how must be 'first' or 'last', not {how!r}")
    return date, flag


def _last_possible(p: pd.DataFrame) -> pd.Series:
    """Latest date a (partial) date admits; an invalid full date stays NaT."""
    m = p["m"].fillna(12)
    first = _from_parts(p["y"], m, pd.Series(1, index=p.index))
    month_end_day = (first + pd.offsets.MonthEnd(0)).dt.day
    return _from_parts(p["y"], m, p["d"].fillna(month_end_day))


def study_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTM study day: no day 0. date - ref + 1 on or after ref, plain difference before."""
    diff = (pd.to_datetime(dates) - pd.to_datetime(reference)).dt.days.astype("float64")
    return pd.Series(np.where(diff >= 0, diff + 1, diff), index=dates.index, dtype="float64")


def to_iso(dates: pd.Series) -> pd.Series:
    """Dates back to ISO 8601 text (for SDTM variables), missing stays null."""
    out = pd.to_datetime(dates).dt.strftime("%Y-%m-%d")
    return out.astype("str")
