"""Pieces every format adapter shares: file hashing, typing, traceability columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from regrowth.errors import InputError
from regrowth.frames import blank_to_null, to_float
from regrowth.hashing import sha256_file
from regrowth.model import DOMAINS, NUM


def file_record(path: Path, fmt: str, rows_in: int, domains: str) -> dict:
    return {
        "file": path.name,
        "format": fmt,
        "domains": domains,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "rows_in": rows_in,
    }


def type_columns(df: pd.DataFrame, domain: str, file: str, issues: list[dict]) -> pd.DataFrame:
    """Blank text to null, then numeric variables to float64.

    A value that is not a number becomes null and is reported (rule RG0101) with its row,
    so nothing disappears silently.
    """
    out = blank_to_null(df)
    spec = DOMAINS[domain]
    for col in out.columns:
        if spec.kind_of(col) != NUM or pd.api.types.is_float_dtype(out[col]):
            continue
        raw = out[col]
        num = to_float(raw)
        bad = raw.notna() & num.isna()
        for i in raw.index[bad]:
            issues.append(
                {
                    "rule_id": "RG0101",
                    "severity": "error",
                    "dataset": spec.name,
                    "file": out.at[i, "SRCFILE"] if "SRCFILE" in out.columns else file,
                    "usubjid": out.at[i, "USUBJID"] if "USUBJID" in out.columns else None,
                    "row": int(out.at[i, "SRCROW"]) if "SRCROW" in out.columns else None,
                    "line": source_line(out, i),
                    "column": col,
                    "value": str(raw.at[i]),
                    "message": f"{col} must be numeric; '{raw.at[i]}' is not a number",
                }
            )
        out[col] = num
    return out


def source_line(df: pd.DataFrame, i) -> int | None:
    """The file line of row i where the reader recorded it (SRCLINE: a CSV file whose data row n
    is not line n + 1); None otherwise (validation then fills row + 1 for a CSV file)."""
    if "SRCLINE" not in df.columns or pd.isna(df.at[i, "SRCLINE"]):
        return None
    return int(df.at[i, "SRCLINE"])


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise InputError(f"{path}: {what} not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: {what} is empty (0 bytes)")
    return path
