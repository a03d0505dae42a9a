"""CDISC Dataset-JSON v1.1: one dataset per file, as .json or .ndjson.

Structure is checked against the v1.1 layout (JSON Schema for the metadata, then every row's
length); values are cast from each column's dataType/targetDataType. The reader keeps JSON
null and "" apart, as the standard defines them; the canonical model later treats both as
missing, as SDTM does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from regrowth.errors import InputError
from regrowth.exports import find_dataset_files
from regrowth.ingest.common import file_record, require_file, with_source
from regrowth.ingest.sdtm import Assembled, assemble_domains
from regrowth.model import DOMAINS

DATA_TYPES = ["string", "integer", "decimal", "float", "double", "boolean", "datetime", "date", "time", "URI"]
NUMERIC = {"integer", "decimal", "float", "double"}
ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$"
METADATA_SCHEMA = {
    "type": "object",
    "required": ["datasetJSONCreationDateTime", "datasetJSONVersion", "itemGroupOID", "records", "name", "label",
                 "columns"],
    "properties": {
        "datasetJSONCreationDateTime": {"type": "string", "pattern": ISO_DATETIME},
        "datasetJSONVersion": {"type": "string", "pattern": r"^1\.1(\.(0|[1-9][0-9]*))?$"},
        "itemGroupOID": {"type": "string"},
        "records": {"type": "integer", "minimum": 0},
        "name": {"type": "string", "minLength": 1},
        "label": {"type": "string"},
        "columns": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object",
                "required": ["itemOID", "name", "label", "dataType"],
                "properties": {
                    "itemOID": {"type": "string"}, "name": {"type": "string", "minLength": 1},
                    "label": {"type": "string"}, "dataType": {"enum": DATA_TYPES},
                    "targetDataType": {"enum": ["integer", "decimal"]},
                    "length": {"type": "integer", "minimum": 1}, "keySequence": {"type": "integer", "minimum": 1},
                },
            },
        },
        "rows": {"type": "array", "items": {"type": "array"}},
    },
}


def _check_metadata(meta, path: Path) -> None:
    # imported here: jsonschema takes ~0.1 s to load, and the split (which Snakemake imports at
    # every start, and every partition job) imports this module for any format
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(METADATA_SCHEMA).iter_errors(meta), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "top level"
        raise InputError(f"{path}: not a Dataset-JSON v1.1 file ({where}: {e.message})")


def read_dataset_json(path: Path) -> tuple[list[list], dict]:
    """Rows as text/number/None exactly as written (checked against the declared columns), plus
    the metadata (without rows)."""
    require_file(path, "Dataset-JSON file")
    with _json_errors(path):
        if path.suffix.lower() == ".ndjson":
            with open(path, encoding="utf-8") as fh:
                meta = json.loads(fh.readline())
                rows = [json.loads(line) for line in fh if line.strip()]
        else:
            meta = json.loads(path.read_text(encoding="utf-8"))
            rows = meta.get("rows", []) if isinstance(meta, dict) else []
    names = _column_names(meta, path)
    _check_rows(rows, names, path, first=1)
    _check_count(meta, len(rows), path)
    return rows, {k: v for k, v in meta.items() if k != "rows"}


def read_ndjson_chunks(path: Path, rows_per_chunk: int) -> Iterator["pd.DataFrame"]:
    """An NDJSON dataset `rows_per_chunk` rows at a time, cast and checked as a whole read
    (dataset_json_frame) casts and checks them, without the source columns; the frames' index is
    the row's position in the file (from 0). Memory is bounded by the chunk size. pandas frames:
    the split (regrowth.partition.split) writes them."""
    require_file(path, "Dataset-JSON file")
    with _json_errors(path), open(path, encoding="utf-8") as fh:
        meta = json.loads(fh.readline())
        names = _column_names(meta, path)
        done, rows = 0, []
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) == rows_per_chunk:
                yield _pandas_chunk(rows, names, meta, path, done)
                done, rows = done + len(rows), []
        if rows:
            yield _pandas_chunk(rows, names, meta, path, done)
            done += len(rows)
    _check_count(meta, done, path)


def _pandas_chunk(rows: list, names: list[str], meta: dict, path: Path, first: int):
    _check_rows(rows, names, path, first=first + 1)
    chunk = _cast(rows, meta, path, first).to_pandas()
    chunk.index = range(first, first + len(rows))
    return chunk


def dataset_json_frame(path: Path) -> pl.DataFrame:
    """One dataset read whole, as ingest carries it: cast values, upper-case names, then the
    source file and row of each record first."""
    rows, meta = read_dataset_json(path)
    return with_source(_cast(rows, meta, path), path.name)


def dataset_frame(path: Path):
    """dataset_json_frame as a pandas frame: what the split (regrowth.partition.split) takes
    until it reads with polars."""
    return dataset_json_frame(path).to_pandas()


@contextmanager
def _json_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text, as Dataset-JSON requires ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _column_names(meta, path: Path) -> list[str]:
    if isinstance(meta, dict) and isinstance(meta.get("rows"), list):
        # each row is checked by _check_rows; the schema walking every row too took ~5 s per
        # million rows of a .json file
        meta = {**meta, "rows": []}
    _check_metadata(meta, path)
    names = [c["name"] for c in meta["columns"]]
    if len(set(n.upper() for n in names)) != len(names):
        raise InputError(f"{path}: duplicate column names in 'columns'")
    return names


def _check_rows(rows: list, names: list[str], path: Path, first: int) -> None:
    """`first`: the number of rows[0] in the file, from 1."""
    for i, row in enumerate(rows, start=first):
        if not isinstance(row, list) or len(row) != len(names):
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise InputError(f"{path}: row {i} has {got} values but {len(names)} columns are declared")


def _check_count(meta: dict, n_rows: int, path: Path) -> None:
    if meta["records"] != n_rows:
        raise InputError(f"{path}: 'records' says {meta['records']} but the file holds {n_rows} rows")


def _cast(rows: list[list], meta: dict, path: Path, first: int = 0) -> pl.DataFrame:
    """Values cast by their declared types, names in upper case (as SDTM names them)."""
    df = cast_columns(rows, meta, path, first)
    return df.rename({c: c.upper() for c in df.columns})


def cast_columns(rows: list[list], meta: dict, path: Path, first: int = 0) -> pl.DataFrame:
    """Numbers from integer/decimal/float/double (decimal may be written as text), the rest as
    text. `first`: the position in the file of rows[0] (from 0), for messages."""
    names = [c["name"] for c in meta["columns"]]
    values = list(zip(*rows)) if rows else [() for _ in names]
    out = []
    for col, column in zip(meta["columns"], values):
        name, dtype = col["name"], col["dataType"]
        if dtype in NUMERIC or col.get("targetDataType") in ("integer", "decimal") and dtype not in ("date", "datetime", "time"):
            out.append(_numbers(name, dtype, column, path, first))
        elif dtype == "boolean":
            out.append(pl.Series(name, [None if v is None else "Y" if v is True else "N" if v is False else str(v)
                                        for v in column], dtype=pl.String))
        else:
            out.append(_text(name, column))
    return pl.DataFrame(out)


def _numbers(name: str, dtype: str, column: tuple, path: Path, first: int) -> pl.Series:
    """JSON numbers as they are; numbers written as text parsed ('' is missing); anything else
    is an error naming the row."""
    try:
        num = pl.Series(name, column, dtype=pl.Float64, strict=True)
    except TypeError:  # text among the numbers (decimals are written as text)
        text = pl.Series(name, [_number_text(v) for v in column], dtype=pl.String)
        num = text.str.strip_chars().cast(pl.Float64, strict=False)
        bad = text.is_not_null() & (text.str.strip_chars() != "") & (num.is_null() | num.is_nan())
        if bad.any():
            i = int(bad.arg_true()[0])
            raise InputError(f"{path}: column {name} is {dtype} but row {first + i + 1} holds {column[i]!r}") from None
    return num.fill_nan(None)


def _number_text(value) -> str | None:
    if value is None or isinstance(value, float) and value != value:  # null, or NaN: missing
        return None
    if isinstance(value, bool):
        return str(float(value))
    return repr(value) if isinstance(value, (int, float)) else value if isinstance(value, str) else str(value)


def _text(name: str, column: tuple) -> pl.Series:
    """Each value as text, None as missing. Values that are all text or None already, the usual
    case, are taken as they are, without a Python call per value."""
    try:
        return pl.Series(name, column, dtype=pl.String, strict=True)
    except TypeError:
        return pl.Series(name, [None if v is None else str(v) for v in column], dtype=pl.String)


def ingest_dataset_json(folder: Path) -> tuple[Assembled, list[dict], list[dict]]:
    files = find_dataset_files(folder)
    if not any(role in DOMAINS for role in files):
        raise InputError(f"{folder}: no Dataset-JSON datasets found (expected dm.json or dm.ndjson, ...)")
    raw, records, issues = {}, [], []
    for role, path in files.items():
        raw[role] = dataset_json_frame(path)
        records.append(file_record(path, "dataset-json", raw[role].height, role.upper()))
    return assemble_domains(raw, files, issues), records, issues
