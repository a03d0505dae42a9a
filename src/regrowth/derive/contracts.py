"""Contracts of the analysis tables (ADSL, ADSALT, ADTTE, ADAE), checked where each is written.

A derivation bug (a duplicated key, a flag outside its values, a text column of another type)
fails at its own stage with a ContractError naming the table, the column, the check and the
first failing records' keys, instead of flowing on into a table's numbers.

pandera schemas on the polars backend (pandera.polars), with no coercion: the derivations fix
the types, a contract only looks. Text is String or Categorical; numbers Float64; dates Datetime
(any unit) or Date. Value sets are checked on a column's distinct values first (a few per
million rows), row by row only when one is outside; uniqueness by a count of distinct keys
first, likewise.

Schemas are not strict: a column a contract does not know is allowed (tables gain columns).
A known column that is there is checked; a required one must be there.

What the flags may hold is what the derivations write (src/regrowth/derive/*.py):
SAFFL, ITTFL, FASFL Y or N, never null; ABLFL, ANL01FL, EOTFL, TRTEMFL, AOCCFL, AOCCSFL,
AOCCPFL Y or null; CRITyFL Y, N or null (null: not evaluable); ASTDTF/AENDTF D, M, Y or null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import polars as pl

from regrowth.derive import ORDER
from regrowth.derive.adsalt import PHASES
from regrowth.derive.salt import PARAMS
from regrowth.errors import ContractError

TEXT, NUMBER, DATE = "text", "number", "date"
YN, Y = ("Y", "N"), ("Y",)
EOSSTT_VALUES = ("COMPLETED", "DISCONTINUED", "ONGOING")
DATE_FLAGS = ("D", "M", "Y")
SALT_PARAMCDS = tuple(PARAMS)  # SALT01..SALT04 and the total, SALT
RELAPSE_PARAMCD = "TTRELAPS"
SHOW_KEYS = 3  # failing records named per failed check


@dataclass(frozen=True)
class Var:
    kind: str  # TEXT, NUMBER or DATE
    required: bool = True  # the derivation always writes it
    nullable: bool = True
    allowed: tuple | None = None  # the values a non-null value may take


@dataclass(frozen=True)
class TableSpec:
    name: str  # as in the file names: adsl, adsalt, adtte, adae
    keys: list[str]  # unique together
    columns: dict[str, Var]
    patterns: dict[str, Var] = field(default_factory=dict)  # regex column names (CRITy, CRITyFL)
    one_flag_per: list[tuple[str, list[str]]] = field(default_factory=list)  # (flag, group): <= 1 'Y'


def _text(**kw) -> Var:
    return Var(TEXT, **kw)


def _flag(values: tuple, nullable: bool) -> Var:
    return Var(TEXT, nullable=nullable, allowed=values)


SPECS: dict[str, TableSpec] = {
    "adsl": TableSpec(
        "adsl", ORDER["adsl"],
        {
            "STUDYID": _text(), "USUBJID": _text(nullable=False),
            **{c: _text(required=False) for c in ["SUBJID", "SITEID", "AGEU", "SEX", "RACE", "ETHNIC", "COUNTRY",
                                                  "ARMCD", "ACTARMCD", "RFSTDTC", "RFENDTC", "DURDISU"]},
            "AGE": Var(NUMBER, required=False),
            "ARM": _text(), "ACTARM": _text(), "TRT01P": _text(), "TRT01A": _text(),
            "TRTSDT": Var(DATE), "TRTEDT": Var(DATE), "TRTDURD": Var(NUMBER),
            "TRTSDTF": _flag(DATE_FLAGS, True), "TRTEDTF": _flag(DATE_FLAGS, True),
            "SAFFL": _flag(YN, False), "ITTFL": _flag(YN, False), "FASFL": _flag(YN, False),
            "EOSSTT": _flag(EOSSTT_VALUES, False), "DCSREAS": _text(), "EOSDT": Var(DATE),
            "AATYPE": _text(), "DURDIS": Var(NUMBER), "SALTBL": Var(NUMBER),
        },
    ),
    "adsalt": TableSpec(
        "adsalt", ["USUBJID", "PARAMCD", "VISITNUM"],
        {
            "STUDYID": _text(), "USUBJID": _text(nullable=False), "TRT01P": _text(), "TRT01A": _text(),
            "AATYPE": _text(), "PARAMCD": _flag(SALT_PARAMCDS, False), "PARAM": _text(), "VISIT": _text(),
            "VISITNUM": Var(NUMBER), "ADT": Var(DATE), "ADY": Var(NUMBER), "AVISIT": _text(),
            "AVISITN": Var(NUMBER), "APHASE": _flag(tuple(PHASES), True), "AVAL": Var(NUMBER), "DTYPE": _text(),
            "ABLFL": _flag(Y, True), "BASE": Var(NUMBER), "CHG": Var(NUMBER), "PCHG": Var(NUMBER),
            "ANL01FL": _flag(Y, True), "EOTFL": _flag(Y, True),
        },
        patterns={r"^CRIT\d+$": _text(required=False), r"^CRIT\d+FL$": Var(TEXT, required=False, allowed=YN)},
        one_flag_per=[("ABLFL", ["USUBJID", "PARAMCD"]), ("EOTFL", ["USUBJID", "PARAMCD"]),
                      ("ANL01FL", ["USUBJID", "PARAMCD", "AVISITN"])],
    ),
    "adtte": TableSpec(
        "adtte", ORDER["adtte"],
        {
            "STUDYID": _text(), "USUBJID": _text(nullable=False), "TRT01P": _text(), "TRT01A": _text(),
            "AATYPE": _text(), "PARAMCD": _text(nullable=False), "PARAM": _text(), "STARTDT": Var(DATE),
            "ADT": Var(DATE), "AVAL": Var(NUMBER), "AVALU": _text(), "CNSR": Var(NUMBER, nullable=False),
            "EVNTDESC": _text(), "CNSDTDSC": _text(),
        },
    ),
    "adae": TableSpec(
        "adae", ORDER["adae"],
        {
            "STUDYID": _text(), "USUBJID": _text(nullable=False), "AESEQ": Var(NUMBER, nullable=False),
            "TRTA": _text(), "TRT01P": _text(), "TRT01A": _text(), "SAFFL": _flag(YN, False),
            **{c: _text() for c in ["AETERM", "AEDECOD", "AEBODSYS", "AESEV", "AESER", "AEREL", "AESTDTC",
                                    "AEENDTC"]},
            "ASTDT": Var(DATE), "ASTDTF": _flag(DATE_FLAGS, True), "AENDT": Var(DATE),
            "AENDTF": _flag(DATE_FLAGS, True), "ASTDY": Var(NUMBER),
            **{c: _flag(Y, True) for c in ["TRTEMFL", "AOCCFL", "AOCCSFL", "AOCCPFL"]},
        },
    ),
}


def adtte_paramcds(responder_endpoint: str) -> tuple[str, ...]:
    """ADTTE's parameters: time to the responder endpoint (as derive_param_ttresp names it) and
    time to relapse."""
    return (f"TT{responder_endpoint}"[:8], RELAPSE_PARAMCD)


# ---- the checks -------------------------------------------------------------------------------
# Each check's name is what the error message says; the column it concerns is pandera's for a
# column check and COLUMN_OF[name] for a table-wide one. A check gets pandera's PolarsData
# (lazyframe, key) and returns True, or a one-column frame of booleans (True: the row passes).

TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)
DTYPE_NAMES = {TEXT: "type text (String or Categorical)", NUMBER: "type Float64", DATE: "type date (Datetime or Date)"}
COLUMN_OF: dict[str, str] = {}  # table-wide check name -> the column(s) it is about


def _dtype(data, column: str):
    return data.lazyframe.collect_schema()[column]


def _kind_ok(kind: str, dtype) -> bool:
    if kind == TEXT:
        return isinstance(dtype, TEXT_TYPES) or dtype in TEXT_TYPES
    if kind == NUMBER:
        return dtype == pl.Float64
    return isinstance(dtype, pl.Datetime) or dtype == pl.Date


def _type_failures(df: pl.DataFrame, table: str) -> list[tuple]:
    """(column, check) of each known column of the wrong type. Checked here, not in the schema:
    pandera cannot list a failed table-level answer beside row-level failure cases."""
    import re

    spec = SPECS[table]
    failures = []
    for name, dtype in df.schema.items():
        var = spec.columns.get(name) or next((v for p, v in spec.patterns.items() if re.fullmatch(p, name)), None)
        if var is not None and not _kind_ok(var.kind, dtype):
            failures.append((name, DTYPE_NAMES[var.kind], None, None))
    return failures


def _in(allowed: tuple):
    def check(data):
        values = pl.col(data.key).cast(pl.String, strict=False)
        distinct = data.lazyframe.select(pl.col(data.key).unique().cast(pl.String, strict=False)).collect().to_series()
        outside = [v for v in distinct.to_list() if v is not None and v not in allowed]
        if not outside:
            return True
        return data.lazyframe.select(~values.is_in(outside).fill_null(False))
    return check


def _non_negative_integer(data):
    if _dtype(data, data.key) != pl.Float64:
        return True  # the type check reports the column
    v = pl.col(data.key)
    return data.lazyframe.select(v.is_null() | ((v >= 0) & (v == v.floor())).fill_null(False))


def _non_negative(data):
    if _dtype(data, data.key) != pl.Float64:
        return True
    v = pl.col(data.key)
    return data.lazyframe.select(v.is_null() | v.is_nan() | (v >= 0))


def _unique(keys: list[str]):
    def check(data):
        lf = data.lazyframe
        if any(k not in lf.collect_schema().names() for k in keys):
            return True  # the missing column is reported as such
        counts = lf.select(pl.len(), pl.struct(keys).n_unique().alias("distinct")).collect()
        if counts["len"].item() == counts["distinct"].item():
            return True
        return lf.select(~pl.struct(keys).is_duplicated())
    return check


def _at_most_one_y(flag: str, by: list[str]):
    def check(data):
        lf = data.lazyframe
        if any(c not in lf.collect_schema().names() for c in [flag, *by]):
            return True
        flagged = (pl.col(flag).cast(pl.String, strict=False) == "Y").fill_null(False)
        shared = lf.filter(flagged).select(pl.struct(by).is_duplicated().any()).collect().item()
        if not shared:
            return True
        # every 'Y' of a group with more than one fails
        return lf.select(~(flagged & (flagged.cast(pl.Int64).sum().over(by) > 1)))
    return check


def _column(var: Var, name: str, regex: bool = False):
    import pandera.polars as pandera

    checks = []
    if var.allowed is not None:
        checks.append(pandera.Check(_in(var.allowed), name=f"values in {{{', '.join(var.allowed)}}}"))
    return pandera.Column(None, checks=checks, nullable=var.nullable, required=var.required, regex=regex, name=name)


@lru_cache(maxsize=None)
def _schema(table: str, paramcds: tuple[str, ...] | None):
    import pandera.polars as pandera

    spec = SPECS[table]
    columns = {name: _column(var, name) for name, var in spec.columns.items()}
    columns.update({pattern: _column(var, pattern, regex=True) for pattern, var in spec.patterns.items()})
    if paramcds is not None:
        columns["PARAMCD"] = _column(Var(TEXT, nullable=False, allowed=paramcds), "PARAMCD")
    if table == "adtte":
        cnsr = pandera.Check(_non_negative_integer, name="a non-negative integer (0 event, > 0 censored)")
        columns["CNSR"] = pandera.Column(None, nullable=False, name="CNSR", checks=[cnsr])
        columns["AVAL"] = pandera.Column(None, nullable=True, name="AVAL", checks=[
            pandera.Check(_non_negative, name=">= 0 (days from STARTDT)")])
    unique = f"unique key {'+'.join(spec.keys)}"
    COLUMN_OF[unique] = ", ".join(spec.keys)
    checks = [pandera.Check(_unique(spec.keys), name=unique)]
    for flag, by in spec.one_flag_per:
        name = f"at most one {flag} = 'Y' per {'+'.join(by)}"
        COLUMN_OF[name] = flag
        checks.append(pandera.Check(_at_most_one_y(flag, by), name=name))
    return pandera.DataFrameSchema(columns, checks=checks, strict=False, coerce=False, name=table.upper())


IN_ADSL = "USUBJID in ADSL"
COLUMN_OF[IN_ADSL] = "USUBJID"


def check_contract(df: pl.DataFrame, table: str, *, adsl: pl.DataFrame | None = None,
                   paramcds: tuple[str, ...] | None = None, where: str | None = None) -> pl.DataFrame:
    """Raise ContractError if `df` breaks the contract of `table` (adsl, adsalt, adtte, adae);
    returns `df` unchanged. Every failed check is listed (lazy validation), each with its column
    and the keys of its first failing records.

    adsl: the ADSL at hand, for the cross-table check that every subject is in it.
    paramcds: the known PARAMCD values where they depend on the definitions (ADTTE: see
    adtte_paramcds); ADSALT's are the SALT parameters, ADTTE's any text without it.
    where: the output being written (a file), for the message.
    A pandas frame is checked as polars (pl.from_pandas) and returned as it came.
    """
    import pandera.polars as pandera

    if table not in SPECS:
        raise ValueError(f"no contract for table {table!r}; known: {', '.join(SPECS)}")
    given = df
    df, adsl = _polars(df), _polars(adsl)
    schema = _schema(table, tuple(paramcds) if paramcds is not None else None)
    failures = _type_failures(df, table)
    # subjects as codes for the key checks (hashing codes, not texts); the values are the same
    keyed = df.with_columns(pl.col("USUBJID").cast(pl.Categorical)) \
        if df.schema.get("USUBJID") == pl.String else df
    try:
        schema.validate(keyed, lazy=True)  # nothing is coerced: no copy of the table
    except pandera.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        failures += [(r["column"], r["check"], r["index"], r["failure_case"]) for r in fc.iter_rows(named=True)]
    if adsl is not None and table != "adsl" and "USUBJID" in df.columns and "USUBJID" in adsl.columns:
        # the cross-table check outside the schema: a schema is built once per table, not per call
        subjects = adsl.get_column("USUBJID").cast(pl.String).unique()
        usubjid = df.get_column("USUBJID").cast(pl.String)
        outside = usubjid.is_not_null() & ~usubjid.is_in(subjects.implode())
        if outside.any():
            failures += [("USUBJID", IN_ADSL, int(i), None) for i in outside.arg_true().to_list()]
    if failures:
        raise ContractError(_message(df, table, failures, where))
    return given


def _polars(df):
    if df is None or isinstance(df, pl.DataFrame):
        return df
    return pl.from_pandas(df)


def _message(df: pl.DataFrame, table: str, failures: list[tuple], where: str | None) -> str:
    spec = SPECS[table]
    keys = [k for k in spec.keys if k in df.columns]
    grouped: dict[tuple, list] = {}
    for column, check, index, case in failures:
        # a table-wide check has one failure case per failing record: one line per check
        grouped.setdefault((COLUMN_OF.get(check, column), check), []).append((index, case))
    lines = []
    for (column, check), cases in grouped.items():
        if check == "column_in_dataframe":
            lines.append(f"required column {cases[0][1]} is missing")
            continue
        if check.startswith("dtype(") or check in DTYPE_NAMES.values():
            found = df.schema[column] if isinstance(column, str) and column in df.columns else "?"
            lines.append(f"column {column}: {_dtype_wanted(spec, column, check)}, found {found}")
            continue
        rows = sorted({int(i) for i, _ in cases if i is not None})
        shown = keys + ([column] if column in df.columns and column not in keys else [])
        records = df[rows[:SHOW_KEYS]].select(shown).to_dicts() if rows else []
        described = "; ".join(
            ", ".join(f"{k}={rec[k]!r}" for k in keys) + (f", {column}={rec[column]!r}"
                                                          if column in df.columns and column not in keys else "")
            for rec in records)
        check_text = "not null" if check == "not_nullable" else check
        lines.append(f"column {column}, check '{check_text}': {len(rows)} record(s) fail; first: {described}")
    place = f" (writing {where})" if where else ""
    return (f"{table.upper()} breaks its contract{place}: this is a bug in the derivation of {table.upper()}, not a "
            f"problem in the trial's data, and the table is not written. Report it with this message.\n  - "
            + "\n  - ".join(lines))


def _dtype_wanted(spec: TableSpec, column, check: str) -> str:
    var = spec.columns.get(column)
    if check in DTYPE_NAMES.values():
        return check
    return DTYPE_NAMES[var.kind] if var else "its type"
