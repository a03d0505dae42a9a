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

import pandas as pd
import pyarrow as pa

from regrowth.errors import InputError
from regrowth.ingest.common import file_record, require_file
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


def read_dataset_json(path: Path) -> tuple[pd.DataFrame, dict]:
    """Rows as text/number/None exactly as written, plus the metadata (without rows)."""
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
    return _frame(rows, names, first=0), {k: v for k, v in meta.items() if k != "rows"}


def read_ndjson_chunks(path: Path, rows_per_chunk: int) -> Iterator[pd.DataFrame]:
    """An NDJSON dataset `rows_per_chunk` rows at a time, cast and checked as a whole read
    (dataset_frame) casts and checks them, without the source columns; the frames' index is the
    row's position in the file (from 0). Memory is bounded by the chunk size."""
    require_file(path, "Dataset-JSON file")
    with _json_errors(path), open(path, encoding="utf-8") as fh:
        meta = json.loads(fh.readline())
        names = _column_names(meta, path)
        done, rows = 0, []
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) == rows_per_chunk:
                yield _cast_chunk(rows, names, meta, path, done)
                done, rows = done + len(rows), []
        if rows:
            yield _cast_chunk(rows, names, meta, path, done)
            done += len(rows)
    _check_count(meta, done, path)


def dataset_frame(path: Path) -> pd.DataFrame:
    """One dataset read whole, as ingest carries it: cast values, upper-case names, then the
    source file and row of each record first."""
    df = _cast(*read_dataset_json(path), path)
    df.insert(0, "SRCROW", range(1, len(df) + 1))
    df.insert(0, "SRCFILE", path.name)
    return df


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


def _frame(rows: list, names: list[str], first: int) -> pd.DataFrame:
    index = pd.RangeIndex(first, first + len(rows))
    if not rows:
        return pd.DataFrame(columns=names, dtype=object, index=index)
    return pd.DataFrame(rows, columns=names, dtype=object, index=index)


def _cast_chunk(rows: list, names: list[str], meta: dict, path: Path, first: int) -> pd.DataFrame:
    _check_rows(rows, names, path, first=first + 1)
    return _cast(_frame(rows, names, first), meta, path)


def _cast(frame: pd.DataFrame, meta: dict, path: Path) -> pd.DataFrame:
    """Values cast by their declared types, names in upper case (as SDTM names them)."""
    df = cast_columns(frame, meta, path)
    df.columns = [c.upper() for c in df.columns]
    return df


def cast_columns(frame: pd.DataFrame, meta: dict, path: Path) -> pd.DataFrame:
    """Numbers from integer/decimal/float/double (decimal may be written as text), the rest as text."""
    out = {}
    for col in meta["columns"]:
        name, dtype = col["name"], col["dataType"]
        values = frame[name]
        if dtype in NUMERIC or col.get("targetDataType") in ("integer", "decimal") and dtype not in ("date", "datetime", "time"):
            num = pd.to_numeric(values.where(values.notna(), None), errors="coerce")
            bad = values.notna() & (values.astype("str").str.strip() != "") & num.isna()
            if bad.any():
                i = int(bad.idxmax())
                raise InputError(f"{path}: column {name} is {dtype} but row {i + 1} holds {values[i]!r}")
            out[name] = num.astype("float64")
        elif dtype == "boolean":
            out[name] = values.map(lambda v: None if v is None else ("Y" if v is True else "N" if v is False else str(v)))
            out[name] = out[name].astype("str")
        else:
            out[name] = _text(values)
    return pd.DataFrame(out, index=frame.index)


def _text(values: pd.Series) -> pd.Series:
    """Each value as text, None as missing. Values that are all text or None already, the usual
    case (pyarrow checks that without a Python call per value), need no str() one by one: that
    took ~60 % of reading a large file."""
    try:
        pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return values.map(lambda v: None if v is None else str(v)).astype("str")
    return values.astype("str")


def find_dataset_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        stem = path.stem.lower()
        if path.suffix.lower() not in (".json", ".ndjson"):
            continue
        if stem in DOMAINS or stem == "qs" or (stem.startswith("supp") and stem[4:] in DOMAINS):
            if stem in found:
                raise InputError(f"{folder}: two files for dataset {stem.upper()}: {found[stem].name}, {path.name}")
            found[stem] = path
    return found


def ingest_dataset_json(folder: Path) -> tuple[Assembled, list[dict], list[dict]]:
    files = find_dataset_files(folder)
    if not any(role in DOMAINS for role in files):
        raise InputError(f"{folder}: no Dataset-JSON datasets found (expected dm.json or dm.ndjson, ...)")
    raw, records, issues = {}, [], []
    for role, path in files.items():
        raw[role] = dataset_frame(path)
        records.append(file_record(path, "dataset-json", len(raw[role]), role.upper()))
    return assemble_domains(raw, files, issues), records, issues
