"""Ingest: each trial's exports, whatever their format, to the canonical SDTM-named model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from regrowth.errors import InputError
from regrowth.issues import issues_frame
from regrowth.model import DOMAIN_NAMES, DOMAINS, conform, empty_domain

FORMATS = ("redcap", "sdtm-xpt", "sdtm-csv", "dataset-json")


UNMAPPED_COLUMNS = ["SRCFILE", "SRCROW", "rule_id", "reason"]
LINK_COLUMNS = ["SRCFILE", "SRCROW", "PARENTFILE", "PARENTROW"]


@dataclass
class Ingested:
    tables: dict[str, pd.DataFrame]  # every canonical domain, possibly empty
    files: pd.DataFrame  # one row per export file: file, format, domains, sha256, bytes, rows_in
    issues: pd.DataFrame  # problems found while reading (e.g. text in a numeric column)
    unmapped: pd.DataFrame  # source rows carried into no canonical table, with the reason
    links: pd.DataFrame  # source rows merged onto a parent row (SUPPxx)


def ingest_trial(folder: str | Path, fmt: str) -> Ingested:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: trial export folder not found")
    if fmt == "redcap":
        from regrowth.ingest.redcap import ingest_redcap

        assembled, files, issues = ingest_redcap(folder)
    elif fmt in ("sdtm-xpt", "sdtm-csv"):
        from regrowth.ingest.sdtm import ingest_sdtm

        assembled, files, issues = ingest_sdtm(folder, fmt)
    elif fmt == "dataset-json":
        from regrowth.ingest.dataset_json import ingest_dataset_json

        assembled, files, issues = ingest_dataset_json(folder)
    else:
        raise InputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    tables = assembled.tables
    for d, t in tables.items():  # only here is it known which variables the export lacked
        for var in DOMAINS[d].required:
            if var not in t.columns:
                issues.append({"rule_id": "RG0001", "severity": "error", "dataset": DOMAINS[d].name,
                               "file": t["SRCFILE"].iloc[0] if len(t) else None, "usubjid": None, "row": None,
                               "column": var, "value": None, "message": f"required variable {var} is missing"})
    out = {d: conform(tables[d], d) if d in tables else empty_domain(d) for d in DOMAIN_NAMES}
    unmapped = pd.DataFrame(assembled.unmapped, columns=UNMAPPED_COLUMNS).astype(
        {"SRCFILE": "str", "SRCROW": "float64", "rule_id": "str", "reason": "str"})
    links = pd.DataFrame(assembled.links, columns=LINK_COLUMNS).astype(
        {"SRCFILE": "str", "SRCROW": "float64", "PARENTFILE": "str", "PARENTROW": "float64"})
    return Ingested(out, pd.DataFrame(files), issues_frame(issues), unmapped, links)


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
