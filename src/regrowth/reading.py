"""How a trial's export files are read: the trial sheet's reading settings.

Light on purpose (no data library): Snakemake builds these for every trial when it reads the
workflow. Each setting left out is detected from the files where that is unambiguous
(regrowth.ingest.sdtm); where it is not, the run stops and names the setting to add.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from regrowth.errors import InputError

SHEET_COLUMNS = ("na_values", "decimal", "mapping")  # the trial sheet's columns these come from
DECIMALS = (".", ",")
NO_NA_VALUES = "none"  # na_values=none: only empty fields are missing (nothing detected)


@dataclass(frozen=True)
class Reading:
    na_values: tuple[str, ...] | None = None  # texts read as missing in CSV files (besides empty); None: detected
    decimal: str | None = None  # decimal mark of numbers in CSV files; None: detected
    mapping: str | None = None  # the REDCap mapping file; None: mapping.yaml in the export folder

    def __post_init__(self):
        if self.decimal is not None and self.decimal not in DECIMALS:
            raise InputError(f"trial sheet column decimal: {self.decimal!r} is not one of '.' or ','")
        if self.na_values is not None:
            object.__setattr__(self, "na_values", tuple(self.na_values))

    @classmethod
    def from_sheet(cls, row: dict) -> Reading:
        """From a trial sheet row: na_values as comma-separated texts ('NA' or 'NA,.'; `none`:
        no text but an empty field is missing, NA is then a value; a blank cell detects them),
        decimal '.' or ',', mapping a path (relative to the working directory, as the row's
        path is)."""
        na = row.get("na_values")
        na_values = tuple(v.strip() for v in na.split(",") if v.strip()) if isinstance(na, str) and na.strip() else None
        if na_values is not None and len(na_values) == 1 and na_values[0].lower() == NO_NA_VALUES:
            na_values = ()
        decimal = row.get("decimal") if isinstance(row.get("decimal"), str) and row.get("decimal") else None
        mapping = row.get("mapping") if isinstance(row.get("mapping"), str) and row.get("mapping") else None
        return cls(na_values, decimal, mapping)

    @classmethod
    def of(cls, value: Reading | dict | None) -> Reading:
        """A Reading from itself, a params dict (as_params) or None (every setting detected)."""
        if value is None:
            return cls()
        return value if isinstance(value, Reading) else cls(**value)

    def as_params(self) -> dict:
        """Plain values for a Snakemake param (a changed setting reruns the jobs that read files)."""
        out = asdict(self)
        out["na_values"] = list(self.na_values) if self.na_values is not None else None
        return out

    def mapping_path(self, folder: str | Path) -> Path | None:
        return Path(self.mapping) if self.mapping else None
