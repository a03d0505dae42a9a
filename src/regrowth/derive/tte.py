"""Time-to-event parameters from declared sources, as admiral's derive_param_tte.

An event_source or censor_source names a dataset, a filter, the date variable and the values
it sets (EVNTDESC, CNSDTDSC, SRCDOM, ...). Per subject of the population: the earliest event
(CNSR 0) if any, else the latest censoring (its CNSR; of censorings on one date, the highest
CNSR, then the last declared). AVAL is the days from the start date to that date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from regrowth.derive.dates import days_between
from regrowth.derive.verbs import assert_unique_keys, extreme_rows, require_columns
from regrowth.errors import ContractError


@dataclass(frozen=True)
class EventSource:
    dataset_name: str
    date: str
    filter: pl.Expr | None = None
    set_values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CensorSource(EventSource):
    censor: int = 1


def event_source(dataset_name: str, date: str, filter: pl.Expr | None = None,
                 set_values: dict[str, str] | None = None) -> EventSource:
    return EventSource(dataset_name, date, filter, dict(set_values or {}))


def censor_source(dataset_name: str, date: str, filter: pl.Expr | None = None, censor: int = 1,
                  set_values: dict[str, str] | None = None) -> CensorSource:
    if censor < 1:
        raise ValueError(f"censor_source {dataset_name}: censor must be 1 or more (0 is an event), not {censor}")
    return CensorSource(dataset_name, date, filter, dict(set_values or {}), censor)


SOURCE = "__source"


def _candidates(sources, datasets: dict[str, pl.DataFrame], paramcd: str) -> pl.DataFrame:
    """The sources' dates, one row per source record: USUBJID, ADT, CNSR, SOURCE (its number)."""
    parts = []
    for number, source in enumerate(sources):
        if source.dataset_name not in datasets:
            raise ContractError(f"derive_param_tte {paramcd}: source dataset {source.dataset_name!r} is not among "
                                f"the datasets at hand ({', '.join(datasets)})")
        data = datasets[source.dataset_name]
        require_columns(data, ["USUBJID", source.date], f"derive_param_tte {paramcd} ({source.dataset_name})")
        rows = data if source.filter is None else data.filter(source.filter)
        cnsr = float(getattr(source, "censor", 0))
        parts.append(rows.select(pl.col("USUBJID").cast(pl.String), pl.col(source.date).cast(pl.Date).alias("ADT"),
                                 pl.lit(cnsr).alias("CNSR"), pl.lit(number, dtype=pl.Int32).alias(SOURCE)))
    if not parts:
        return pl.DataFrame(schema={"USUBJID": pl.String, "ADT": pl.Date, "CNSR": pl.Float64, SOURCE: pl.Int32})
    return pl.concat(parts)


def _values(sources, chosen: pl.Expr, columns: list[str]) -> list[pl.Expr]:
    """Per set-values column, the value of the source chosen (null where none sets it)."""
    out = []
    for column in columns:
        value = None
        for number, source in enumerate(sources):
            if column in source.set_values:
                cond = chosen == number
                text = pl.lit(str(source.set_values[column]))
                value = pl.when(cond).then(text) if value is None else value.when(cond).then(text)
        out.append((value.otherwise(None) if value is not None else pl.lit(None, dtype=pl.String)).alias(column))
    return out


def derive_param_tte(population: pl.DataFrame, start_date: str, event_sources: list[EventSource],
                     censor_sources: list[CensorSource], datasets: dict[str, pl.DataFrame], *, paramcd: str,
                     param: str, day_one: bool = False) -> pl.DataFrame:
    """One record per subject of `population` (USUBJID, `start_date`, the variables to keep):
    STARTDT, ADT, CNSR, the sources' set values, AVAL (days: ADT - STARTDT, + 1 when day_one,
    as for time from first dose on study day 1), AVALU, PARAMCD, PARAM."""
    require_columns(population, ["USUBJID", start_date], f"derive_param_tte {paramcd}")
    assert_unique_keys(population, ["USUBJID"], f"derive_param_tte {paramcd}")
    events = extreme_rows(_candidates(event_sources, datasets, paramcd), ["USUBJID"], ["ADT"], "first")
    censors = extreme_rows(_candidates(censor_sources, datasets, paramcd), ["USUBJID"], ["ADT", "CNSR", SOURCE],
                           "last")
    events = events.drop_nulls("USUBJID").select("USUBJID", pl.col("ADT").alias("__EVDT"),
                                                 pl.col(SOURCE).alias("__EVSRC"))
    censors = censors.drop_nulls("USUBJID").select("USUBJID", pl.col("ADT").alias("__CNDT"),
                                                   pl.col("CNSR").alias("__CNSR"), pl.col(SOURCE).alias("__CNSRC"))
    out = (population.with_columns(pl.col("USUBJID").cast(pl.String), pl.col(start_date).cast(pl.Date).alias("STARTDT"))
           .join(events, on="USUBJID", how="left", maintain_order="left")
           .join(censors, on="USUBJID", how="left", maintain_order="left"))
    event = pl.col("__EVDT").is_not_null()
    event_columns = list(dict.fromkeys(c for s in event_sources for c in s.set_values))
    censor_columns = list(dict.fromkeys(c for s in censor_sources for c in s.set_values))
    set_columns = list(dict.fromkeys(event_columns + censor_columns))
    ev_values = dict(zip(event_columns, _values(event_sources, pl.col("__EVSRC"), event_columns)))
    cn_values = dict(zip(censor_columns, _values(censor_sources, pl.col("__CNSRC"), censor_columns)))
    null = pl.lit(None, dtype=pl.String)
    out = out.with_columns(
        pl.when(event).then(pl.col("__EVDT")).otherwise(pl.col("__CNDT")).alias("ADT"),
        pl.when(event).then(pl.lit(0.0)).otherwise(pl.col("__CNSR")).alias("CNSR"),
        *[pl.when(event).then(ev_values.get(c, null)).otherwise(cn_values.get(c, null)).alias(c) for c in set_columns],
    )
    aval = days_between(pl.col("ADT"), pl.col("STARTDT")) + (1 if day_one else 0)
    out = out.with_columns(aval.alias("AVAL"), pl.lit("DAYS").alias("AVALU"), pl.lit(paramcd).alias("PARAMCD"),
                           pl.lit(param).alias("PARAM"))
    return out.drop("__EVDT", "__EVSRC", "__CNDT", "__CNSR", "__CNSRC")
