"""Which files make up a trial's export, by format: found by name, without reading them.

Light on purpose: Snakemake calls it for every trial when it reads the workflow, so it imports
no data library.
"""

from __future__ import annotations

from pathlib import Path

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


def find_redcap_export(folder: Path) -> tuple[Path, Path, Path]:
    """A REDCap project's records, data dictionary and the trial's mapping file."""
    records = sorted(folder.glob("*_records.csv"))
    dictionary = sorted(folder.glob("*_dictionary.csv"))
    if len(records) != 1 or len(dictionary) != 1:
        raise InputError(
            f"{folder}: a REDCap export needs exactly one *_records.csv and one *_dictionary.csv "
            f"(found {len(records)} and {len(dictionary)})"
        )
    return records[0], dictionary[0], folder / "mapping.yaml"


def export_files(folder: str | Path, fmt: str) -> list[Path]:
    """The files of a trial's export that ingestion reads (Snakemake inputs)."""
    folder = Path(folder)
    if fmt == "redcap":
        return list(find_redcap_export(folder))
    if fmt == "dataset-json":
        return sorted(find_dataset_files(folder).values())
    return sorted(find_domain_files(folder, fmt).values())
