"""Ingest: each trial's exports, whatever their format, to the canonical SDTM-named model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from regrowth.errors import InputError
from regrowth.exports import FORMATS
from regrowth.ingest.common import files_table, issues_table
from regrowth.ingest.contract import exposure_from_dm, normalise_values, presence_issues
from regrowth.model import DOMAIN_NAMES, ROW_ORDER, conform_frame, empty_domain_frame, terms_categorical



UNMAPPED_SCHEMA = {"SRCFILE": pl.String, "SRCROW": pl.Float64, "rule_id": pl.String, "reason": pl.String}
LINK_SCHEMA = {"SRCFILE": pl.String, "SRCROW": pl.Float64, "PARENTFILE": pl.String, "PARENTROW": pl.Float64}
UNMAPPED_COLUMNS = list(UNMAPPED_SCHEMA)
LINK_COLUMNS = list(LINK_SCHEMA)


@dataclass
class Ingested:
    """polars frames; controlled-term columns (model.Domain.terms) are Categorical."""

    tables: dict[str, pl.DataFrame]  # every canonical domain, possibly empty
    files: pl.DataFrame  # one row per export file: file, format, domains, sha256, bytes, rows_in
    issues: pl.DataFrame  # problems found while reading (e.g. text in a numeric column)
    unmapped: pl.DataFrame  # source rows carried into no canonical table, with the reason
    links: pl.DataFrame  # source rows merged onto a parent row (SUPPxx)

    def as_pandas(self) -> Ingested:
        """The same tables as pandas frames, as the pandas stages read them back from Parquet
        (regrowth.parquet_io.as_pandas; issues as regrowth.issues.issues_frame makes them): the
        seam for in-process runs until validation and derivation take polars frames."""
        from regrowth.issues import issues_frame
        from regrowth.parquet_io import as_pandas

        return Ingested({d: as_pandas(t) for d, t in self.tables.items()}, as_pandas(self.files),
                        issues_frame(self.issues.to_dicts()), as_pandas(self.unmapped), as_pandas(self.links))


def ingest_trial(folder: str | Path, fmt: str, reading=None) -> Ingested:
    """reading: the trial sheet's reading settings (regrowth.reading.Reading, its params
    dict, or None to detect them)."""
    from regrowth.reading import Reading

    folder, reading = Path(folder), Reading.of(reading)
    if not folder.is_dir():
        raise InputError(f"{folder}: trial export folder not found")
    if fmt == "redcap":
        from regrowth.ingest.redcap import ingest_redcap

        assembled, files, issues = ingest_redcap(folder, reading.mapping_path(folder))
    elif fmt in ("sdtm-xpt", "sdtm-csv"):
        from regrowth.ingest.sdtm import ingest_sdtm

        assembled, files, issues = ingest_sdtm(folder, fmt, reading)
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
    import pyarrow as pa

    from regrowth.ingest.common import plain_columns
    from regrowth.ingest.sdtm import assemble_domains
    from regrowth.parquet_io import read_frame
    from regrowth.partition import part_path

    raw, plain, paths, files = {}, {}, {}, []
    for rec in read_frame(files_path).to_dicts():
        role = rec["domains"].lower()
        with pa.memory_map(str(part_path(parts_dir, part, role))) as source:  # converted while mapped
            table = pa.ipc.open_file(source).read_all()
            plain[role] = plain_columns(table)
            raw[role] = pl.from_arrow(table, rechunk=False)
            del table
        paths[role] = Path(rec["file"])
        files.append({**rec, "rows_in": raw[role].height})
    issues = read_frame(split_issues_path).to_dicts() if part == "000" else []
    return canonical(assemble_domains(raw, paths, issues, plain), files, issues)


def canonical(assembled, files: list[dict], issues: list[dict]) -> Ingested:
    """Assembled tables -> every canonical domain in source order, with what was not carried.

    Only here is it known which variables the export lacked: the variable contracts are checked
    (regrowth.ingest.contract) before absent variables become empty columns, exposure comes from
    DM where the export has no EX, and controlled terms and flags are normalised."""
    tables = dict(assembled.tables)
    file_of = {str(f["domains"]).lower(): f["file"] for f in files}
    for d, t in tables.items():
        issues += presence_issues(d, t, t["SRCFILE"][0] if t.height else file_of.get(d))
    if "dm" in tables:  # a subject EX has no record of: exposure from DM where it says (RG0010)
        ex = exposure_from_dm(tables["dm"], tables.get("ex"), issues)
        if ex is not None:
            tables["ex"] = ex
    out = {d: terms_categorical(in_row_order(normalise_values(d, conform_frame(tables[d], d), issues)), d)
           if d in tables else empty_domain_frame(d) for d in DOMAIN_NAMES}
    unmapped = pl.DataFrame(assembled.unmapped or None, schema=UNMAPPED_SCHEMA, orient="row")
    links = pl.DataFrame(assembled.links or None, schema=LINK_SCHEMA, orient="row")
    return Ingested(out, files_table(files), issues_table(issues), unmapped, links)


def in_row_order(df: pl.DataFrame) -> pl.DataFrame:
    """Rows by subject, then source file and row (model.ROW_ORDER; stable: records drawn from
    one source row keep their order). Missing USUBJID first, as partitioning puts them first."""
    if _in_row_order_already(df):  # exports usually come in subject order: no copy
        return df
    return df.sort(ROW_ORDER, nulls_last=False, maintain_order=True)


def _in_row_order_already(df: pl.DataFrame) -> bool:
    """True when every row's (USUBJID, SRCFILE, SRCROW) is at or after the previous row's and no
    key is missing (a check in one pass; a sort compares strings n log n times)."""
    if df.height < 2 or any(df[c].null_count() for c in ROW_ORDER):
        return df.height < 2
    after = pl.lit(True)
    for key in reversed(ROW_ORDER):  # lexicographic: decided by the first key that differs
        this, previous = pl.col(key), pl.col(key).shift(1)
        after = (this > previous) | ((this == previous) & after)
    return df.select(after.slice(1).all()).item()


