"""Pieces every format adapter shares: file hashing, typing, traceability columns, issue tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from regrowth.errors import InputError
from regrowth.hashing import sha256_file
from regrowth.model import DOMAINS, NUM

# What Python's str.strip() removes (str.isspace): Rust's whitespace plus the four ASCII
# separators \x1c-\x1f, so trimming gives what the pandas reader gave.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def file_record(path: Path, fmt: str, rows_in: int, domains: str) -> dict:
    return {
        "file": path.name,
        "format": fmt,
        "domains": domains,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "rows_in": rows_in,
    }


FILE_SCHEMA = {"file": pl.String, "format": pl.String, "domains": pl.String, "sha256": pl.String,
               "bytes": pl.Int64, "rows_in": pl.Int64}


def files_table(records: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=FILE_SCHEMA, orient="row") if records else pl.DataFrame(schema=FILE_SCHEMA)


def issues_table(records: list[dict] | None = None) -> pl.DataFrame:
    """Issue records as a frame of the issue contract (regrowth.issues): row and line integers,
    the rest text."""
    from regrowth.issues import INTEGER_COLUMNS, ISSUE_COLUMNS  # here: regrowth.issues imports pandas

    schema = {c: pl.Int64 if c in INTEGER_COLUMNS else pl.String for c in ISSUE_COLUMNS}
    columns = {c: [_issue_value(r.get(c), c) for r in records or []] for c in ISSUE_COLUMNS}
    return pl.DataFrame(columns, schema=schema)


def _issue_value(value, column: str):
    from regrowth.issues import INTEGER_COLUMNS

    if value is None or value != value:  # None or NaN
        return None
    return int(value) if column in INTEGER_COLUMNS else str(value)


def trimmed_text(column: str) -> pl.Expr:
    """Character missing in SAS and CSV exports is '' or whitespace: text trimmed, blank to null."""
    text = pl.col(column).str.strip_chars(WHITESPACE)
    return pl.when(text != "").then(text).alias(column)


def plain_ends_only(text) -> bool:
    """True when no value of an Arrow string array is '' and each starts and ends with a
    printable ASCII character (no space, control or non-ASCII byte), so trimming changes nothing:
    read from the offsets (~10x cheaper than trimming every value). False means 'maybe', not
    'no'. Readers check Arrow data this way before it becomes a polars frame."""
    import numpy as np
    import pyarrow as pa

    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        if not (pa.types.is_large_string(chunk.type) or pa.types.is_string(chunk.type)):
            return False
        if len(chunk) == chunk.null_count:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            starts, ends = starts[valid], ends[valid]
        if (ends <= starts).any():
            return False  # a blank value
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        first, last = data[starts], data[ends - 1]
        if ((first <= 32) | (first >= 127) | (last <= 32) | (last >= 127)).any():
            return False
    return True


def plain_columns(table) -> set[str]:
    """Text columns of an Arrow table that trimming would not change (plain_ends_only)."""
    return {name for name, column in zip(table.column_names, table.columns) if plain_ends_only(column)}


def blank_to_null(df: pl.DataFrame, plain: set[str] = frozenset()) -> pl.DataFrame:
    """Text trimmed, blank to null; `plain`: columns known to need neither (checked on the
    Arrow data they were read as)."""
    trim = [c for c, t in df.schema.items() if t == pl.String and c not in plain]
    return df.with_columns(trimmed_text(c) for c in trim) if trim else df


def with_source(df: pl.DataFrame, file: str, first_row: int = 1) -> pl.DataFrame:
    """SRCFILE and SRCROW (1-based data row) first: every row traces to its export file and row."""
    rows = pl.int_range(first_row, first_row + df.height, dtype=pl.Int64, eager=True)
    return df.select(pl.lit(file, pl.String).alias("SRCFILE"), rows.alias("SRCROW"), pl.all())


def _as_number(column: str) -> pl.Expr:
    num = pl.col(column).cast(pl.Float64, strict=False)
    return pl.when(num.is_nan().not_()).then(num)  # 'nan' as text is not a number here either


def type_columns(df: pl.DataFrame, domain: str, file: str, issues: list[dict],
                 plain: set[str] = frozenset()) -> pl.DataFrame:
    """Blank text to null (but in `plain` columns, see blank_to_null), then numeric variables
    to Float64.

    A value that is not a number becomes null and is reported (rule RG0101) with its row,
    so nothing disappears silently.
    """
    out = blank_to_null(df, plain)
    spec = DOMAINS[domain]
    numeric = [c for c in out.columns if spec.kind_of(c) == NUM and out.schema[c] != pl.Float64]
    if not numeric:
        return out
    numbers = out.select(_as_number(c).alias(c) for c in numeric)  # each column parsed once
    for col in [c for c in numeric if out.schema[c] == pl.String]:
        bad = out[col].is_not_null() & numbers[col].is_null()
        if bad.any():
            issues += _not_numbers(out.filter(bad), spec.name, col, file)
    return out.with_columns(numbers.get_columns())


def read_issue(rule_id: str, dataset: str, file, column, message: str, *, value=None, usubjid=None, row=None,
               line=None) -> dict:
    """An issue found while reading an export, the one way every adapter reports one: its
    severity is the rule registry's (regrowth.validate.rules; an unknown id is a KeyError)."""
    from regrowth.validate.rules import RULES  # here: the registry imports the checks (polars)

    return {"rule_id": rule_id, "severity": RULES[rule_id].severity, "dataset": dataset, "file": file,
            "usubjid": usubjid, "row": row, "line": line, "column": column, "value": value, "message": message}


def _not_numbers(bad: pl.DataFrame, dataset: str, col: str, file: str) -> list[dict]:
    def of(name):
        return bad[name].to_list() if name in bad.columns else [None] * bad.height

    files = bad["SRCFILE"].to_list() if "SRCFILE" in bad.columns else [file] * bad.height
    rows = [None if r is None else int(r) for r in of("SRCROW")]
    lines = [None if v is None else int(v) for v in of("SRCLINE")]
    return [read_issue("RG0101", dataset, f, col, f"{col} must be numeric; '{v}' is not a number", value=str(v),
                       usubjid=u, row=r, line=line)
            for f, u, r, line, v in zip(files, of("USUBJID"), rows, lines, bad[col].to_list())]


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise InputError(f"{path}: {what} not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: {what} is empty (0 bytes)")
    return path
