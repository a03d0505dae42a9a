"""Which files make up a trial's export, by format: found by name, without reading them.

Light on purpose: Snakemake calls it for every trial when it reads the workflow, so it imports
no data library.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from regrowth.errors import InputError
from regrowth.model import DOMAINS

FORMATS = ("redcap", "sdtm-xpt", "sdtm-csv", "dataset-json")
EXTENSIONS = {"sdtm-xpt": ".xpt", "sdtm-csv": ".csv"}


def dataset_role(stem: str) -> str | None:
    """What a file is by its (lower-case) name: a canonical domain, 'qs', or 'supp<domain>'."""
    if stem in DOMAINS or stem == "qs":
        return stem
    if stem.startswith("supp") and stem[4:] in DOMAINS:
        return stem
    return None


def _by_role(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        role = dataset_role(path.stem.lower())
        if path.suffix.lower() not in suffixes or role is None:
            continue
        if role in found:
            raise InputError(f"{folder}: two files for dataset {role.upper()}: {found[role].name}, {path.name}")
        found[role] = path
    return found


def find_domain_files(folder: Path, fmt: str) -> dict[str, Path]:
    """Map dataset (dm, ..., qs, suppae) -> SDTM file, matching names case-insensitively."""
    return _by_role(folder, (EXTENSIONS[fmt],))


def find_dataset_files(folder: Path) -> dict[str, Path]:
    """Map dataset -> Dataset-JSON file (.json, or .ndjson for large datasets)."""
    return _by_role(folder, (".json", ".ndjson"))


class RedcapExport(NamedTuple):
    records: Path  # the records export, raw codes ("CSV / Microsoft Excel (raw data)")
    dictionary: Path  # the data dictionary
    mapping: Path  # the trial's mapping file
    arms: Path | None  # the project's arms (arm_num, name), where the export folder has them


def _matching(folder: Path, patterns: tuple[str, ...], exclude: tuple[str, ...] = ()) -> list[Path]:
    found = {p for pattern in patterns for p in folder.glob(pattern)}
    return sorted(p for p in found if not any(p.match(x) for x in exclude))


def find_redcap_export(folder: Path, mapping: Path | None = None) -> RedcapExport:
    """A REDCap project's files, by the names REDCap gives them (<Project>_DATA_<date>_<time>.csv,
    <Project>_DataDictionary_<date>.csv, <Project>_Arms_<date>.csv) or *_records.csv,
    *_dictionary.csv and *_arms.csv; the mapping file the sheet names, else mapping.yaml."""
    folder = Path(folder)
    records = _matching(folder, ("*_records.csv", "*_DATA_*.csv"), ("*_DATA_LABELS_*",))
    labels = _matching(folder, ("*_DATA_LABELS_*.csv",))
    dictionary = _matching(folder, ("*_dictionary.csv", "*_DataDictionary_*.csv"))
    arms = _matching(folder, ("*_arms.csv", "*_Arms_*.csv"))
    if not records and labels:
        raise InputError(f"{labels[0]}: REDCap's labels export (choice labels and field labels instead of codes "
                         "and names) is not read; export 'CSV / Microsoft Excel (raw data)' instead")
    for kind, paths, pattern in (("records export", records, "<Project>_DATA_<date>.csv or *_records.csv"),
                                 ("data dictionary", dictionary, "<Project>_DataDictionary_<date>.csv or *_dictionary.csv")):
        if len(paths) != 1:
            listed = f": {', '.join(p.name for p in paths)}" if paths else ""
            hint = "; keep one (each data cut in a folder of its own)" if len(paths) > 1 else ""
            raise InputError(f"{folder}: a REDCap export needs exactly one {kind} ({pattern}); found {len(paths)}"
                             f"{listed}{hint}")
    if len(arms) > 1:
        raise InputError(f"{folder}: more than one REDCap arms file: {', '.join(p.name for p in arms)}")
    mapping_path = Path(mapping) if mapping else folder / "mapping.yaml"
    if not mapping_path.is_file():
        where = ("the trial sheet's mapping column names it, relative to the working directory or absolute"
                 if mapping else "put mapping.yaml in the export folder, or name the file in the sheet's mapping column")
        raise InputError(f"{mapping_path}: REDCap mapping file not found ({where})")
    return RedcapExport(records[0], dictionary[0], mapping_path, arms[0] if arms else None)


def export_files(folder: str | Path, fmt: str, mapping: str | Path | None = None) -> list[Path]:
    """The files of a trial's export that ingestion reads (Snakemake inputs); mapping: the
    REDCap mapping file the trial sheet names."""
    folder = Path(folder)
    if fmt == "redcap":
        found = find_redcap_export(folder, Path(mapping) if mapping else None)
        return [found.records, found.dictionary, found.mapping] + ([found.arms] if found.arms else [])
    if fmt == "dataset-json":
        return sorted(find_dataset_files(folder).values())
    return sorted(find_domain_files(folder, fmt).values())
