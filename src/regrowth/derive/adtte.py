"""ADTTE: time-to-event parameters declared in config (definitions.time_to_event) as event and
censoring sources (admiral's event_source/censor_source), each built by tte.derive_param_tte.

The datasets a source may name:
  adsl               ADSL
  adsalt             ADSALT's total-SALT records (what read_adsalt reads)
  eot_responders     ADSL's subjects responding (relapse.responder_endpoint) at end of
                     treatment, with their EOT value and date (EOTVAL, EOTDT)
  responder_adsalt   adsalt of those subjects, with EOTVAL, EOTDT and LOSTFL: 'Y' where at least
                     relapse.fraction_of_regrowth_lost of the regrowth achieved at EOT is lost,
                     AVAL >= EOTVAL + fraction * (BASE - EOTVAL) (at rounding.at_compare_precision)
Filters are SQL expressions over the dataset's columns (polars.sql_expr). In texts, {endpoint}
is the parameter's endpoint and {flag} its CRITyFL column.
"""

from __future__ import annotations

import polars as pl

from regrowth.derive import ORDER
from regrowth.derive.salt import TOTAL, compare_precision, total_salt
from regrowth.derive.tables import accepts_pandas, conform
from regrowth.derive.tte import censor_source, derive_param_tte, event_source
from regrowth.derive.verbs import assert_unique_keys, derive_vars_merged, require_columns

TTE_COLUMNS = ["STUDYID", "USUBJID", "TRT01P", "TRT01A", "AATYPE", "PARAMCD", "PARAM", "STARTDT", "ADT",
               "AVAL", "AVALU", "CNSR", "EVNTDESC", "CNSDTDSC"]
POPULATION_VARS = ["STUDYID", "USUBJID", "TRT01P", "TRT01A", "AATYPE"]
ALSO_READ = ("STUDYID", "ADT", "BASE", "APHASE")  # besides salt.ANALYSED_COLUMNS
RESPONDER = "responder"  # in a parameter's endpoints: relapse.responder_endpoint

# time to response counts responses on treatment, as the responder tables do (a response first
# reached after the last dose is no treatment response)
ON_TREATMENT = "PARAMCD = 'SALT' AND ADY > 1 AND APHASE = 'ON TREATMENT' AND AVAL IS NOT NULL AND ADT IS NOT NULL"
OFF_DRUG_AFTER_EOT = "PARAMCD = 'SALT' AND APHASE = 'OFF DRUG' AND AVAL IS NOT NULL AND ADT > EOTDT"
# config definitions.time_to_event when not set (the schema's default is the same: a test checks)
DEFAULT_TIME_TO_EVENT = [
    {"paramcd": "TT{endpoint}", "param": "Time to first {endpoint} response on treatment (days from first dose)",
     "endpoints": [RESPONDER], "population": {"dataset": "adsl", "filter": "FASFL = 'Y'"},
     "start_date": "TRTSDT", "day_one": True,
     "events": [{"dataset": "adsalt", "filter": ON_TREATMENT + " AND {flag} = 'Y'", "date": "ADT",
                 "set_values": {"EVNTDESC": "{endpoint} RESPONSE"}}],
     "censors": [{"dataset": "adsl", "date": "TRTSDT", "censor": 2,
                  "set_values": {"CNSDTDSC": "NO POST-BASELINE ASSESSMENT ON TREATMENT"}},
                 {"dataset": "adsalt", "filter": ON_TREATMENT, "date": "ADT", "censor": 1,
                  "set_values": {"CNSDTDSC": "LAST SALT ASSESSMENT ON TREATMENT"}}]},
    {"paramcd": "TTRELAPS", "param": "Time to relapse after last dose (days)",
     "population": {"dataset": "eot_responders", "filter": "TRTEDT IS NOT NULL"},
     "start_date": "TRTEDT", "day_one": False,
     "events": [{"dataset": "responder_adsalt", "filter": OFF_DRUG_AFTER_EOT + " AND LOSTFL = 'Y'", "date": "ADT",
                 "set_values": {"EVNTDESC": "RELAPSE"}}],
     "censors": [{"dataset": "eot_responders", "date": "TRTEDT", "censor": 2,
                  "set_values": {"CNSDTDSC": "NO OFF-DRUG ASSESSMENT"}},
                 {"dataset": "responder_adsalt", "filter": OFF_DRUG_AFTER_EOT, "date": "ADT", "censor": 1,
                  "set_values": {"CNSDTDSC": "LAST OFF-DRUG SALT ASSESSMENT"}}]},
]


def read_adsalt(path) -> pl.DataFrame:
    """What derive_adtte reads of ADSALT: total-SALT records, the columns it uses. An ADSALT
    with no total record at all is read whole, so that derive_adtte sees it as before."""
    import pyarrow.dataset

    from regrowth.derive.salt import analysed_columns
    from regrowth.parquet_io import read_frame

    names = pyarrow.dataset.dataset(path).schema.names  # a file, or a dataset directory of parts
    totals = total_salt(read_frame(path, columns=analysed_columns(names, ALSO_READ)), also=ALSO_READ)
    return totals if totals.height else read_frame(path)


def analysed_adsalt(adsalt: pl.DataFrame) -> pl.DataFrame:
    """read_adsalt of an ADSALT in memory."""
    totals = total_salt(adsalt, also=ALSO_READ)
    return totals if totals.height else adsalt


def _crit_flag(endpoint: str, endpoints: list[dict]) -> str:
    names = [e["name"] for e in endpoints]
    if endpoint not in names:
        raise ValueError(f"responder endpoint {endpoint!r} is not among the configured endpoints {names}")
    return f"CRIT{names.index(endpoint) + 1}FL"


def eot_responders(adsalt: pl.DataFrame, endpoint: str, endpoints: list[dict]) -> pl.DataFrame:
    """Subjects meeting `endpoint` at end of treatment, with their value (EOTVAL) and date (EOTDT)."""
    flag = _crit_flag(endpoint, endpoints)
    require_columns(adsalt, ["USUBJID", "PARAMCD", "EOTFL", "AVAL", "ADT", flag], "eot_responders")
    eot = adsalt.filter((pl.col("PARAMCD") == TOTAL) & (pl.col("EOTFL") == "Y") & (pl.col(flag) == "Y"))
    assert_unique_keys(eot, ["USUBJID"], "eot_responders")
    return eot.select(pl.col("USUBJID").cast(pl.String), pl.col("AVAL").alias("EOTVAL"),
                      pl.col("ADT").cast(pl.Date).alias("EOTDT"))


def source_datasets(adsl: pl.DataFrame, adsalt: pl.DataFrame, *, endpoints: list[dict], responder_endpoint: str,
                    fraction_lost: float) -> dict[str, pl.DataFrame]:
    """The datasets sources may name (see the module's docstring)."""
    dates = [c for c in ("TRTSDT", "TRTEDT", "ADT") if c in adsl.columns]
    adsl = adsl.with_columns(pl.col("USUBJID").cast(pl.String), *[pl.col(c).cast(pl.Date) for c in dates])
    adsalt = adsalt.with_columns(pl.col("USUBJID").cast(pl.String), pl.col("ADT").cast(pl.Date))
    responders = eot_responders(adsalt, responder_endpoint, endpoints)
    in_eot = derive_vars_merged(adsl, responders, ["USUBJID"], exist_flag="__responder", where="eot_responders",
                                names=("ADSL", "EOT responders"))
    on_adsalt = derive_vars_merged(adsalt, responders, ["USUBJID"], exist_flag="__responder",
                                   where="responder_adsalt", names=("ADSALT", "EOT responders"))
    threshold = pl.col("EOTVAL") + fraction_lost * (pl.col("BASE") - pl.col("EOTVAL"))
    lost = (compare_precision(pl.col("AVAL")) >= compare_precision(threshold)).fill_null(False)
    on_adsalt = on_adsalt.filter(pl.col("__responder").is_not_null()).drop("__responder").with_columns(
        pl.when(lost).then(pl.lit("Y")).alias("LOSTFL"))
    return {"adsl": adsl, "adsalt": adsalt,
            "eot_responders": in_eot.filter(pl.col("__responder").is_not_null()).drop("__responder"),
            "responder_adsalt": on_adsalt}


def _text(value: str, context: dict) -> str:
    return str(value).format(**context)


def _filter(sql: str | None, context: dict) -> pl.Expr | None:
    return None if not sql else pl.sql_expr(_text(sql, context))


def parameter_endpoints(parameter: dict, responder_endpoint: str) -> list[str | None]:
    """The endpoints a declared parameter is derived for (None: one, not per endpoint)."""
    names = parameter.get("endpoints")
    if not names:
        return [None]
    return [responder_endpoint if n == RESPONDER else n for n in names]


def paramcd_of(parameter: dict, endpoint: str | None) -> str:
    return _text(parameter["paramcd"], {"endpoint": endpoint})[:8]


def adtte_paramcds_of(time_to_event: list[dict], responder_endpoint: str) -> tuple[str, ...]:
    """ADTTE's PARAMCD values under these definitions (for its contract)."""
    return tuple(paramcd_of(p, e) for p in time_to_event for e in parameter_endpoints(p, responder_endpoint))


def derive_parameter(parameter: dict, endpoint: str | None, datasets: dict[str, pl.DataFrame],
                     endpoints: list[dict]) -> pl.DataFrame:
    """One declared time-to-event parameter (for `endpoint`, where it is per endpoint)."""
    context = {"endpoint": endpoint, "flag": _crit_flag(endpoint, endpoints) if endpoint else None}
    population_spec = parameter["population"]
    population = datasets[population_spec["dataset"]]
    population_filter = _filter(population_spec.get("filter"), context)
    if population_filter is not None:
        population = population.filter(population_filter)
    start = parameter["start_date"]
    population = population.select([c for c in POPULATION_VARS if c in population.columns] + [start])
    events = [event_source(s["dataset"], s["date"], _filter(s.get("filter"), context),
                           {k: _text(v, context) for k, v in (s.get("set_values") or {}).items()})
              for s in parameter.get("events", [])]
    censors = [censor_source(s["dataset"], s["date"], _filter(s.get("filter"), context), int(s.get("censor", 1)),
                             {k: _text(v, context) for k, v in (s.get("set_values") or {}).items()})
               for s in parameter.get("censors", [])]
    return derive_param_tte(population, start, events, censors, datasets, paramcd=paramcd_of(parameter, endpoint),
                            param=_text(parameter["param"], context), day_one=bool(parameter.get("day_one", False)))


@accepts_pandas
def derive_adtte(adsl: pl.DataFrame, adsalt: pl.DataFrame, *, endpoints: list[dict], responder_endpoint: str,
                 fraction_lost: float, time_to_event: list[dict] | None = None) -> pl.DataFrame:
    """ADTTE: each parameter of `time_to_event` (config definitions.time_to_event; None: the
    schema's default, time to response and time to relapse), for each of its endpoints."""
    if time_to_event is None:
        time_to_event = DEFAULT_TIME_TO_EVENT
    require_columns(adsl, ["USUBJID"], "derive_adtte")
    datasets = source_datasets(adsl, adsalt, endpoints=endpoints, responder_endpoint=responder_endpoint,
                               fraction_lost=fraction_lost)
    # an ADSALT without rows (no SALT data) gives no FAS subject and no responder: no rows,
    # typed as any other ADTTE
    parts = [derive_parameter(p, e, datasets, endpoints) for p in time_to_event
             for e in parameter_endpoints(p, responder_endpoint)]
    declared = [c for p in time_to_event for s in (*p.get("events", []), *p.get("censors", []))
                for c in (s.get("set_values") or {})]
    columns = TTE_COLUMNS + [c for c in dict.fromkeys(declared) if c not in TTE_COLUMNS]
    adtte = pl.concat([conform(part.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in columns
                                                  if c not in part.columns]), columns) for part in parts])
    assert_unique_keys(adtte, ["USUBJID", "PARAMCD"], "derive_adtte")
    return adtte.sort(ORDER["adtte"], nulls_last=True, maintain_order=True)
