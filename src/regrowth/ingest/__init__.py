"""Ingest: each trial's exports, whatever their format, to the canonical SDTM-named model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from regrowth.errors import InputError
from regrowth.issues import issues_frame
from regrowth.model import DOMAIN_NAMES, conform, empty_domain

FORMATS = ("redcap", "sdtm-xpt", "sdtm-csv", "dataset-json")


@dataclass
class Ingested:
    tables: dict[str, pd.DataFrame]  # every canonical domain, possibly empty
    files: pd.DataFrame  # one row per export file: file, format, domains, sha256, bytes, rows_in
    issues: pd.DataFrame  # problems found while reading (e.g. text in a numeric column)


def ingest_trial(folder: str | Path, fmt: str) -> Ingested:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: trial export folder not found")
    if fmt == "redcap":
        from regrowth.ingest.redcap import ingest_redcap

        tables, files, issues = ingest_redcap(folder)
    elif fmt in ("sdtm-xpt", "sdtm-csv"):
        from regrowth.ingest.sdtm import ingest_sdtm

        tables, files, issues = ingest_sdtm(folder, fmt)
    elif fmt == "dataset-json":
        from regrowth.ingest.dataset_json import ingest_dataset_json

        tables, files, issues = ingest_dataset_json(folder)
    else:
        raise InputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = {d: conform(tables[d], d) if d in tables else empty_domain(d) for d in DOMAIN_NAMES}
    return Ingested(out, pd.DataFrame(files), issues_frame(issues))


def export_files(folder: str | Path, fmt: str) -> list[Path]:
    """The files of a trial's export that ingestion reads (Snakemake inputs)."""
    folder = Path(folder)
    if fmt == "redcap":
        from regrowth.ingest.redcap import find_export

        return list(find_export(folder))
    if fmt == "dataset-json":
        from regrowth.ingest.dataset_json import find_dataset_files

        return sorted(find_dataset_files(folder).values())
    from regrowth.ingest.sdtm import find_domain_files

    return sorted(find_domain_files(folder, fmt).values())
