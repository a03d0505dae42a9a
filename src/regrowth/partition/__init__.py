"""Partitioned processing: a large export split by subject, its parts processed one by one.

What Snakemake needs when it reads the workflow lives here, apart from the split's data libraries
(regrowth.partition.split).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from regrowth.exports import find_dataset_files, find_domain_files

SPLITTABLE = ("sdtm-csv", "sdtm-xpt", "dataset-json")
STREAMING_MB = 2000  # the split's memory while streaming, whatever the export's size
WHOLE_READ_MB_PER_MB = 14  # a Dataset-JSON .json file read whole: peak ~11 MB per MB (measured), ~30 % spare
# Parts are Arrow IPC files (lz4): the split writes and ingest reads them several times faster
# than Parquet, and nothing else reads them. A 50,000-subject part: 0.5 s to write, 0.4 s to read
# into pandas, 270 MB (zstd: 0.9 s, 0.7 s, 170 MB; uncompressed: 0.4 s, 0.1 s, 600 MB).
PART_SUFFIX = ".arrow"


def part_names(n_parts: int) -> list[str]:
    return [f"{k:03d}" for k in range(n_parts)]


def part_path(parts_dir: str | Path, part: str, role: str) -> Path:
    return Path(parts_dir) / part / f"{role}{PART_SUFFIX}"


def dataset_files(folder: Path, fmt: str) -> dict[str, Path]:
    return find_dataset_files(folder) if fmt == "dataset-json" else find_domain_files(folder, fmt)


def roles_of(folder: str | Path, fmt: str) -> list[str]:
    """Datasets of an export (dm, rs, qs, suppae, ...): the files a split writes per partition."""
    return sorted(dataset_files(Path(folder), fmt))


def split_memory_mb(files: Iterable[str | Path]) -> int:
    """The split's memory request (before retries): bounded while streaming, plus the largest
    Dataset-JSON .json file, which is one JSON document and read whole (files go one at a time)."""
    whole = max((Path(f).stat().st_size for f in files if Path(f).suffix.lower() == ".json"), default=0)
    return int(STREAMING_MB + WHOLE_READ_MB_PER_MB * whole / 1e6)
