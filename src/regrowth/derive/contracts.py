"""Contracts of the analysis tables (ADSL, ADSALT, ADTTE, ADAE), checked where each is written.

A derivation bug (a duplicated key, a flag outside its values, a text column left as objects)
fails at its own stage with a ContractError naming the table, the column, the check and the
first failing records' keys, instead of flowing on into a table's numbers.

pandera schemas (pandas backend), with no coercion: the derivations fix the types, a contract
only looks (coercion is what costs at scale). Checks are vectorised and read each column once:
single-character flags from Arrow's buffers, other value sets by one pyarrow hash probe, keys
numbered once per call and shared by the checks that use them (USUBJID by its position among
ADSL's subjects, which is the cross-table check too). On a 1.24-million-record ADSALT (20,000
simulated subjects) a check takes ~0.25-0.35 s against ~3.5-6 s to derive it.

Schemas are not strict: a column a contract does not know is allowed (tables gain columns).
A known column that is there is checked; a required one must be there.

What the flags may hold is what the derivations write today (src/regrowth/derive/*.py):
SAFFL, ITTFL, FASFL Y or N, never null; ABLFL, ANL01FL, EOTFL, TRTEMFL, AOCCFL, AOCCSFL,
AOCCPFL Y or null; CRITyFL Y, N or null (null: not evaluable); ASTDTF/AENDTF D, M, Y or null.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from regrowth.derive import ORDER
from regrowth.derive.adsalt import PHASES
from regrowth.derive.salt import PARAMS
from regrowth.errors import ContractError
from regrowth.frames import isin, key_codes

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
# column check and COLUMN_OF[name] for a table-wide one.

def _is_text(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype)  # not object: text is the pandas string dtype


def _in(allowed: tuple):
    value_set = None
    single = all(len(v) == 1 and v.isascii() for v in allowed)  # Y/N flags: read from the bytes

    def check(s: pd.Series) -> pd.Series | bool:
        nonlocal value_set
        if not _is_text(s):
            return s.isna() | s.isin(list(allowed))  # the type check reports the column
        outside = _outside_set(s)  # the context's set of this column is `allowed` (check_contract)
        if outside is not None:
            return True if not outside.any() else pd.Series(~outside, index=s.index)
        arr = pa_array(s)
        if single and _all_single_byte_in(arr, allowed):
            return True  # the common case: one answer for the column, no mask of millions of rows
        if value_set is None:
            value_set = pa.array(list(allowed), type=pa.large_string())
        found = pc.or_(pc.is_in(arr, value_set=value_set), pc.is_null(arr))  # nulls: the nullable check's
        return pd.Series(found.to_numpy(zero_copy_only=False), index=s.index)
    return check


def _all_single_byte_in(arr: pa.Array | pa.ChunkedArray, allowed: tuple) -> bool:
    """Whether every non-null value is one of `allowed` (one ASCII character each), without
    hashing a million short strings: every value one byte long (pyarrow), missing values holding
    no bytes (so the values' bytes lie side by side in the data buffer), and each of those bytes
    allowed. False means 'maybe' (the caller then tests every value)."""
    lut = np.zeros(256, dtype=bool)
    lut[np.frombuffer("".join(allowed).encode(), dtype=np.uint8)] = True
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        n = len(chunk)
        if n == chunk.null_count:
            continue
        if not (pa.types.is_large_string(chunk.type) or pa.types.is_string(chunk.type)):
            return False
        if not pc.all(pc.equal(pc.binary_length(chunk), 1)).as_py():  # nulls skipped
            return False
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)[chunk.offset:chunk.offset + n + 1]
        start, end = int(offsets[0]), int(offsets[-1])
        if end - start != n - chunk.null_count:
            return False  # a missing value's slot holds bytes (allowed by Arrow, not written by pyarrow)
        if not lut[np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[start:end]].all():
            return False
    return True


def pa_array(values) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pd.Series) and hasattr(values.array, "_pa_array"):
        return values.array._pa_array  # arrow-backed text: no copy
    return pa.array(values, from_pandas=True)


def _non_negative_integer(s: pd.Series) -> pd.Series | bool:
    if s.dtype != np.float64:
        return True  # the type check reports the column
    v = s.to_numpy()
    with np.errstate(invalid="ignore"):
        return pd.Series(np.isnan(v) | ((v >= 0) & (v == np.floor(v))), index=s.index)


def _non_negative(s: pd.Series) -> pd.Series | bool:
    if s.dtype != np.float64:
        return True
    v = s.to_numpy()
    with np.errstate(invalid="ignore"):
        return pd.Series(np.isnan(v) | (v >= 0), index=s.index)


# ---- keys as numbers, once per validation ------------------------------------------------------
# The table-wide checks compare keys. Per check_contract call, each key column is turned into
# numbers once, shared by the checks that use it, without sorting or comparing millions of texts:
# a text column with a known set of values (USUBJID: ADSL's subjects; PARAMCD: the parameters)
# by one hash probe into that small set (pyarrow index_in), which also tells which rows are
# outside it; other text by frames.key_codes; numbers by pd.factorize. Columns are combined
# arithmetically (USUBJID, then +PARAMCD, then +VISITNUM).

_KEYS: ContextVar[dict | None] = ContextVar("regrowth_contract_keys", default=None)


def _column_codes(df: pd.DataFrame, column: str) -> np.ndarray:
    """int64 numbers >= 0, equal exactly where the values are (missing equals missing); for a
    column with a set of values in the context, the position in it (outside it: numbered after)."""
    context = _KEYS.get()
    cached = context.get(("column", column)) if context is not None else None
    if cached is not None:
        return cached
    s = df[column]
    value_set = context.get("sets", {}).get(column) if context is not None else None
    if _is_text(s) and value_set is not None:
        codes = np.asarray(pc.fill_null(pc.index_in(pa_array(s), value_set=value_set), -1).to_numpy(), dtype=np.int64)
        other = codes < 0
        if other.any():  # outside the set, or missing: numbered after it
            codes[other] = len(value_set) + pd.factorize(s[other].to_numpy(), use_na_sentinel=False)[0]
    elif _is_text(s):
        codes = key_codes(df, [column]).astype(np.int64)
    else:
        codes = pd.factorize(s.to_numpy(), use_na_sentinel=False)[0].astype(np.int64)
    if context is not None:
        context[("column", column)] = codes
    return codes


def _outside_set(s: pd.Series) -> np.ndarray | None:
    """For a column whose value set is in the context (PARAMCD): non-null rows outside it, from
    the key numbers the table-wide checks use too (one hash probe for both). Else None."""
    context = _KEYS.get()
    value_set = context.get("sets", {}).get(s.name) if context is not None else None
    if value_set is None or not _is_text(s):
        return None
    return (_column_codes(s.to_frame(), s.name) >= len(value_set)) & s.notna().to_numpy()


def _codes(df: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """Numbers >= 0 (at most a few times the row count), equal exactly where the rows are equal
    on every one of `columns`."""
    context = _KEYS.get()
    if context is not None and columns in context:
        return context[columns]
    if len(columns) == 1:
        codes = _column_codes(df, columns[0])
    else:
        last = _column_codes(df, columns[-1])
        codes = _codes(df, columns[:-1]) * (int(last.max(initial=0)) + 1) + last
        if len(codes) and codes.max() > 4 * len(codes) + 1024:  # keep them small enough to count
            codes = pd.factorize(codes)[0].astype(np.int64)
    if context is not None:
        context[columns] = codes
    return codes


def _shared(codes: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Per row (of `rows`, else all): whether another one of those rows has its number."""
    chosen = codes if rows is None else codes[rows]
    if not len(chosen):
        return np.zeros(0, dtype=bool)
    return np.bincount(chosen, minlength=int(codes.max()) + 1)[chosen] > 1


def _shared_pair(df: pd.DataFrame, keys: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    """_shared of the rows' numbers on `keys`. When the last key is a number that rises within
    each run of the others (a table in key order, as derived), no row shares its keys: seen by
    comparing neighbours, without numbering the combinations."""
    last = df[keys[-1]]
    if len(keys) > 1 and last.dtype == np.float64:
        prefix = _codes(df, tuple(keys[:-1]))
        p = prefix if rows is None else prefix[rows]
        v = last.to_numpy() if rows is None else last.to_numpy()[rows]
        if len(p) < 2:
            return np.zeros(len(p), dtype=bool)
        same = p[1:] == p[:-1]
        runs = 1 + int(np.count_nonzero(~same))
        with np.errstate(invalid="ignore"):
            rising = not (same & ~(v[1:] > v[:-1])).any()  # a missing value is not rising: the full count
        if rising and runs == np.count_nonzero(np.bincount(p)):  # each group in one run
            return np.zeros(len(p), dtype=bool)
    return _shared(_codes(df, tuple(keys)), rows)


def _unique(keys: list[str]):
    def check(df: pd.DataFrame) -> pd.Series | bool:
        if any(k not in df.columns for k in keys):
            return True  # the missing column is reported as such
        shared = _shared_pair(df, keys)
        return True if not shared.any() else pd.Series(~shared, index=df.index)
    return check


def _at_most_one_y(flag: str, by: list[str]):
    def check(df: pd.DataFrame) -> pd.Series | bool:
        if any(c not in df.columns for c in [flag, *by]):
            return True
        values = df[flag]
        if _is_text(values):
            flagged = pc.fill_null(pc.equal(pa_array(values), "Y"), False).to_numpy(zero_copy_only=False)
        else:
            flagged = (values == "Y").fillna(False).to_numpy(dtype=bool)
        if np.count_nonzero(flagged) < 2:
            return True
        rows = np.flatnonzero(flagged)
        twice = _shared_pair(df, by, rows)  # every 'Y' of a group with more than one fails
        if not twice.any():
            return True
        ok = np.ones(len(df), dtype=bool)
        ok[rows[twice]] = False
        return pd.Series(ok, index=df.index)
    return check


def _not_in_adsl(df: pd.DataFrame) -> np.ndarray:
    """Rows whose USUBJID is not in ADSL (USUBJID's numbers are positions among ADSL's subjects)."""
    subjects = _KEYS.get()["sets"]["USUBJID"]
    return (_column_codes(df, "USUBJID") >= len(subjects)) & df["USUBJID"].notna().to_numpy()


DTYPE_NAMES = {TEXT: "type text (pandas str)", NUMBER: "type float64", DATE: "type datetime64"}
COLUMN_OF: dict[str, str] = {}  # table-wide check name -> the column(s) it is about


def _column(var: Var, name: str, regex: bool = False):
    import pandera.pandas as pandera

    checks = []
    dtype = None
    if var.kind == TEXT:
        checks.append(pandera.Check(_is_text, name=DTYPE_NAMES[TEXT], ignore_na=False))
    else:
        dtype = "float64" if var.kind == NUMBER else "datetime64[ns]"  # any datetime64 unit passes
    if var.allowed is not None:
        checks.append(pandera.Check(_in(var.allowed), name=f"values in {{{', '.join(var.allowed)}}}", ignore_na=False))
    return pandera.Column(dtype, checks=checks, nullable=var.nullable, required=var.required, regex=regex, name=name)


@lru_cache(maxsize=None)
def _schema(table: str, paramcds: tuple[str, ...] | None):
    import pandera.pandas as pandera

    spec = SPECS[table]
    columns = {name: _column(var, name) for name, var in spec.columns.items()}
    columns.update({pattern: _column(var, pattern, regex=True) for pattern, var in spec.patterns.items()})
    if paramcds is not None:
        columns["PARAMCD"] = _column(Var(TEXT, nullable=False, allowed=paramcds), "PARAMCD")
    if table == "adtte":
        cnsr = pandera.Check(_non_negative_integer, name="a non-negative integer (0 event, > 0 censored)",
                             ignore_na=False)
        columns["CNSR"] = pandera.Column("float64", nullable=False, name="CNSR", checks=[cnsr])
        columns["AVAL"] = pandera.Column("float64", nullable=True, name="AVAL", checks=[
            pandera.Check(_non_negative, name=">= 0 (days from STARTDT)", ignore_na=False)])
    unique = f"unique key {'+'.join(spec.keys)}"
    COLUMN_OF[unique] = ", ".join(spec.keys)
    checks = [pandera.Check(_unique(spec.keys), name=unique, ignore_na=False)]
    for flag, by in spec.one_flag_per:
        name = f"at most one {flag} = 'Y' per {'+'.join(by)}"
        COLUMN_OF[name] = flag
        checks.append(pandera.Check(_at_most_one_y(flag, by), name=name, ignore_na=False))
    return pandera.DataFrameSchema(columns, checks=checks, strict=False, coerce=False, name=table.upper())


IN_ADSL = "USUBJID in ADSL"
COLUMN_OF[IN_ADSL] = "USUBJID"


def check_contract(df: pd.DataFrame, table: str, *, adsl: pd.DataFrame | None = None,
                   paramcds: tuple[str, ...] | None = None, where: str | None = None) -> pd.DataFrame:
    """Raise ContractError if `df` breaks the contract of `table` (adsl, adsalt, adtte, adae);
    returns `df` unchanged. Every failed check is listed (lazy validation), each with its column
    and the keys of its first failing records.

    adsl: the ADSL at hand, for the cross-table check that every subject is in it.
    paramcds: the known PARAMCD values where they depend on the definitions (ADTTE: see
    adtte_paramcds); ADSALT's are the SALT parameters, ADTTE's any text without it.
    where: the output being written (a file), for the message.
    """
    import pandera.pandas as pandera

    checked = df
    df, adsl = _pandas(df), _pandas(adsl)
    if table not in SPECS:
        raise ValueError(f"no contract for table {table!r}; known: {', '.join(SPECS)}")
    schema = _schema(table, tuple(paramcds) if paramcds is not None else None)
    failures = []
    sets = {}
    if adsl is not None and table != "adsl" and _is_text(adsl["USUBJID"]):
        sets["USUBJID"] = pa.array(adsl["USUBJID"].dropna().unique(), type=pa.large_string())
    known = paramcds if paramcds is not None else SPECS[table].columns["PARAMCD"].allowed \
        if "PARAMCD" in SPECS[table].columns else None
    if known is not None:
        sets["PARAMCD"] = pa.array(list(known), type=pa.large_string())
    token = _KEYS.set({"sets": sets})
    try:
        try:
            schema.validate(df, lazy=True, inplace=True)  # nothing is coerced: no copy of the table
        except pandera.errors.SchemaErrors as exc:
            failures.append(exc.failure_cases)
        if "USUBJID" in sets and "USUBJID" in df.columns and _is_text(df["USUBJID"]):
            # the cross-table check outside the schema: a schema is built once per table, not per call
            missing = _not_in_adsl(df)
            if missing.any():
                failures.append(pd.DataFrame({"column": "USUBJID", "check": IN_ADSL, "index": df.index[missing]}))
    finally:
        _KEYS.reset(token)
    if failures:
        raise ContractError(_message(df, table, pd.concat(failures, ignore_index=True), where))
    return checked


def _pandas(df):
    """A polars frame as the pandas layer reads it back (dictionary text as text)."""
    if df is None or isinstance(df, pd.DataFrame):
        return df
    from regrowth.parquet_io import as_pandas

    return as_pandas(df)


def _message(df: pd.DataFrame, table: str, fc: pd.DataFrame, where: str | None) -> str:
    spec = SPECS[table]
    keys = [k for k in spec.keys if k in df.columns]
    lines = []
    fc = fc.assign(check=fc["check"].astype(str))
    # a table-wide check has one failure case per failing record and column: one line per check
    fc["column"] = [COLUMN_OF.get(check, column) for check, column in zip(fc["check"], fc["column"])]
    for (column, check), group in fc.groupby(["column", "check"], sort=False, dropna=False):
        if check == "column_in_dataframe":
            lines.append(f"required column {group['failure_case'].iloc[0]} is missing")
            continue
        if check.startswith("dtype("):
            found = df[column].dtype if isinstance(column, str) and column in df.columns else "?"
            lines.append(f"column {column}: {_dtype_wanted(spec, column)}, found {found}")
            continue
        if check == DTYPE_NAMES[TEXT]:
            lines.append(f"column {column}: {check}, found {df[column].dtype}")
            continue
        rows = list(pd.unique(group["index"].dropna()))
        first = df.loc[df.index.isin(rows)].head(SHOW_KEYS) if rows else df.iloc[0:0]
        described = "; ".join(
            ", ".join(f"{k}={rec[k]!r}" for k in keys) + (f", {column}={rec[column]!r}"
                                                          if column in df.columns and column not in keys else "")
            for rec in first.to_dict("records"))
        check_text = "not null" if check == "not_nullable" else check
        lines.append(f"column {column}, check '{check_text}': {len(rows)} record(s) fail; first: {described}")
    place = f" (writing {where})" if where else ""
    return (f"{table.upper()} breaks its contract{place}: this is a bug in the derivation of {table.upper()}, not a "
            f"problem in the trial's data, and the table is not written. Report it with this message.\n  - "
            + "\n  - ".join(lines))


def _dtype_wanted(spec: TableSpec, column) -> str:
    var = spec.columns.get(column)
    return DTYPE_NAMES[var.kind] if var else "its type"
