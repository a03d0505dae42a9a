"""One partition of a split trial, from its split files to its analysis tables, in one process.

Run as separate jobs, the per-subject stages of a partition (ingest, validate, accept, four
derivations) start seven processes and read every stage's tables back from Parquet. On a
50,000-subject partition that took about 28 s; in one process, keeping the tables in memory
and writing each output in a background thread while the next stage computes, about 16 s.
The stages are the same library functions the whole-trial rules call, in the same order, so a
split trial's combined tables equal an unsplit run's (tests/test_partition.py).

The price: a changed definition or code reruns a partition's whole chain, ingest included.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from regrowth.csv_safe import write_safe_csv
from regrowth.derive import Settings, derive_analysis_tables  # noqa: F401 (Settings: for callers)
from regrowth.ingest import ingest_partition
from regrowth.validate import validate_trial
from regrowth.validate.gate import apply_policy

Write = Callable[[str, pd.DataFrame], None]  # (output name as in the rule, table)


def process_partition(files: str | Path, parts_dir: str | Path, split_issues: str | Path, part: str, *,
                      trial_id: str, settings: Settings, write: Write, issues_csv: str | Path) -> None:
    """Ingest, validate, gate and derive one partition; `write` receives every output by name.

    The issue list goes to `issues_csv` before the gate, so it is there to read when the
    strict policy stops the trial (a failed job's outputs are removed, its logs are kept).
    """
    ingested = ingest_partition(files, parts_dir, part, split_issues)
    issues = validate_trial(ingested.tables, ingested.issues, ingested.unmapped, window_days=settings.window_days)
    write_safe_csv(issues, issues_csv)
    write("validation", issues)
    gated = apply_policy(ingested.tables, issues, ingested.files, ingested.unmapped, ingested.links,
                         policy=settings.policy, trial_id=trial_id, issues_path=str(issues_csv))
    del ingested  # the accepted tables are what the derivations read
    for name, table in gated.tables.items():
        write(name, table)
    for name, table in gated.quarantine.items():
        write(f"q_{name}", table)
    write("accounting", gated.accounting)
    sdtm = gated.tables
    del gated
    from regrowth.parquet_io import as_pandas

    # the derivations give polars frames; this path's writers take pandas ones
    derive_analysis_tables(sdtm, settings, lambda name, table: write(name, as_pandas(table)))
