"""Ingest: each trial's exports, whatever their format, to the canonical SDTM-named model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from regrowth.errors import InputError
from regrowth.frames import sort_rows
from regrowth.ingest.contract import exposure_from_dm, normalise_values, presence_issues
from regrowth.issues import issues_frame
from regrowth.model import DOMAIN_NAMES, DOMAINS, ROW_ORDER, conform, empty_domain

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
    return canonical(assembled, files, issues)


def ingest_partition(files_path: str | Path, parts_dir: str | Path, part: str,
                     split_issues_path: str | Path) -> Ingested:
    """One partition of a split export (regrowth.partition.split): the datasets as read,
    assembled exactly as a whole export is. rows_in counts this partition's rows of each file;
    the first partition also carries the read notices of the whole export."""
    from regrowth.ingest.sdtm import assemble_domains
    from regrowth.parquet_io import read_table
    from regrowth.partition.split import read_part

    raw, paths, files = {}, {}, []
    for rec in read_table(files_path).to_dict("records"):
        role = rec["domains"].lower()
        raw[role] = read_part(parts_dir, part, role)
        paths[role] = Path(rec["file"])
        files.append({**rec, "rows_in": len(raw[role])})
    issues = read_table(split_issues_path).to_dict("records") if part == "000" else []
    return canonical(assemble_domains(raw, paths, issues), files, issues)


def canonical(assembled, files: list[dict], issues: list[dict]) -> Ingested:
    """Assembled tables -> every canonical domain in source order, with what was not carried.

    Only here is it known which variables the export lacked: the variable contracts are checked
    (regrowth.ingest.contract) before absent variables become empty columns, exposure comes from
    DM where the export has no EX, and controlled terms and flags are normalised."""
    tables = dict(assembled.tables)
    file_of = {str(f["domains"]).lower(): f["file"] for f in files}
    for d, t in tables.items():
        issues += presence_issues(d, t, t["SRCFILE"].iloc[0] if len(t) else file_of.get(d))
    if "dm" in tables:  # a subject EX has no record of: exposure from DM where it says (RG0010)
        ex = exposure_from_dm(tables["dm"], tables.get("ex"), issues)
        if ex is not None:
            tables["ex"] = ex
    out = {d: in_row_order(normalise_values(d, conform(tables[d], d), issues)) if d in tables else empty_domain(d)
           for d in DOMAIN_NAMES}
    unmapped = pd.DataFrame(assembled.unmapped, columns=UNMAPPED_COLUMNS).astype(
        {"SRCFILE": "str", "SRCROW": "float64", "rule_id": "str", "reason": "str"})
    links = pd.DataFrame(assembled.links, columns=LINK_COLUMNS).astype(
        {"SRCFILE": "str", "SRCROW": "float64", "PARENTFILE": "str", "PARENTROW": "float64"})
    return Ingested(out, pd.DataFrame(files), issues_frame(issues), unmapped, links)


def in_row_order(df: pd.DataFrame) -> pd.DataFrame:
    """Rows by subject, then source file and row (model.ROW_ORDER; stable: records drawn from
    one source row keep their order). Missing USUBJID first, as partitioning puts them first."""
    return sort_rows(df, ROW_ORDER, nulls_first=True)


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
