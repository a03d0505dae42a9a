"""Record-level tables as Parquet datasets: a directory per table, one file per part
(results/T/adam/adsl/part-000.parquet, ...), read whole by pyarrow, pandas, polars or DuckDB."""

from __future__ import annotations

import re
from pathlib import Path

PART_FILE = re.compile(r"^part-(\d{3})\.parquet$")
DATASET_DIRS = ("sdtm", "quarantine", "adam")


def remove_stale_parts(trial_dir: str | Path, parts: list[str]) -> list[Path]:
    """Delete part files and part folders of `trial_dir` whose part is not in `parts` (left from
    a run cut into more parts: a reader of the dataset would take them for this run's). Returns them."""
    trial_dir, keep = Path(trial_dir), set(parts)
    stale = [f for d in DATASET_DIRS for f in sorted(trial_dir.glob(f"{d}/*/part-*.parquet"))
             if (m := PART_FILE.match(f.name)) and m.group(1) not in keep]
    stale += [d for d in sorted(trial_dir.glob("parts/*")) if d.is_dir() and d.name not in keep]
    for path in stale:
        if path.is_dir():
            for f in sorted(path.rglob("*"), reverse=True):
                f.unlink() if f.is_file() else f.rmdir()
            path.rmdir()
        else:
            path.unlink()
    return stale
