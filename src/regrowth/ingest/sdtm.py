"""SDTM datasets, one file per domain, as SAS XPORT (.xpt) or CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from regrowth.errors import InputError
from regrowth.ingest.common import file_record, require_file, type_columns
from regrowth.model import DOMAINS

EXTENSIONS = {"sdtm-xpt": ".xpt", "sdtm-csv": ".csv"}


def find_domain_files(folder: Path, fmt: str) -> dict[str, Path]:
    """Map canonical domain -> file, matching names case-insensitively (DM.XPT, dm.xpt)."""
    ext = EXTENSIONS[fmt]
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if suffix == ext and stem in DOMAINS:
            if stem in found:
                raise InputError(f"{folder}: two files for domain {stem.upper()}: {found[stem].name}, {path.name}")
            found[stem] = path
    return found


def read_xpt(path: Path) -> pd.DataFrame:
    # pyreadstat, not pandas.read_sas: pandas turns some stored zeros into 5.4e-79.
    try:
        df, _meta = pyreadstat.read_xport(str(path))
    except Exception as exc:  # pyreadstat raises its own error types for corrupt files
        raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from None
    return df


def read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None


def read_domain(path: Path, domain: str, fmt: str, issues: list[dict]) -> pd.DataFrame:
    require_file(path, f"{domain.upper()} dataset")
    raw = read_xpt(path) if fmt == "sdtm-xpt" else read_csv(path)
    raw.columns = [str(c).strip().upper() for c in raw.columns]
    raw.insert(0, "SRCROW", range(1, len(raw) + 1))
    raw.insert(0, "SRCFILE", path.name)
    return type_columns(raw, domain, path.name, issues)


def ingest_sdtm(folder: Path, fmt: str) -> tuple[dict[str, pd.DataFrame], list[dict], list[dict]]:
    files = find_domain_files(folder, fmt)
    if not files:
        raise InputError(f"{folder}: no SDTM {EXTENSIONS[fmt]} datasets found (expected dm{EXTENSIONS[fmt]}, ...)")
    tables, records, issues = {}, [], []
    for domain, path in files.items():
        df = read_domain(path, domain, fmt, issues)
        tables[domain] = df
        records.append(file_record(path, fmt, len(df), domain.upper()))
    return tables, records, issues
