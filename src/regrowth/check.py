"""One part of a trial read, validated and gated: the work of a `check` job (workflow/rules/check.smk).

Its own module: a job's code hash covers the regrowth modules its script can reach, so the
check job does not rerun for a change in the derivations (regrowth.provenance.code_version)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from regrowth.ingest import Ingested, ingest_trial
from regrowth.validate import validate_trial
from regrowth.validate.gate import Gated, apply_policy


@dataclass
class Checked:
    """Polars frames; the issue list as regrowth.issues.issue_frame makes it."""

    ingested: Ingested
    issues: pl.DataFrame
    gated: Gated

    def outputs(self) -> dict:
        """Every table of the check job by its output name (workflow/rules/check.smk). The issue
        list goes through pandas so row and line stay integers with nulls (Int64) when read back."""
        from regrowth.issues import issues_as_pandas

        out = dict(self.gated.tables)
        out.update({f"q_{name}": table for name, table in self.gated.quarantine.items()})
        issues = issues_as_pandas(self.issues) if isinstance(self.issues, pl.DataFrame) else self.issues
        return {**out, "validation": issues, "accounting": self.gated.accounting,
                "files": self.ingested.files}

    def as_pandas(self) -> Checked:
        """The same tables as pandas frames (in-process runs whose next stage reads pandas)."""
        from regrowth.issues import issues_as_pandas

        return Checked(self.ingested.as_pandas(), issues_as_pandas(self.issues), self.gated.as_pandas())


def check_part(folder: str | Path, fmt: str, part: str = "000", *, split: tuple | None = None,
               policy: str = "quarantine", window_days: int = 14, trial_id: str | None = None,
               issues_csv: str | Path | None = None, reading=None) -> Checked:
    """One part of a trial read, validated and gated: the whole export when `split` is None,
    else the part of a split export (split: its files table, parts folder and read notices).
    The issue list goes to `issues_csv` before the gate, so it is there to read when the
    strict policy stops the trial (a failed job's outputs are removed, its logs are kept).
    reading: the trial sheet's reading settings (regrowth.reading.Reading or its params)."""
    from regrowth.ingest import ingest_partition

    ing = ingest_trial(folder, fmt, reading) if split is None else ingest_partition(*split[:2], part, split[2])
    issues = validate_trial(ing.tables, ing.issues, ing.unmapped, window_days=window_days)
    if issues_csv is not None:
        from regrowth.csv_safe import write_safe_csv

        write_safe_csv(issues, issues_csv)
    gated = apply_policy(ing.tables, issues, ing.files, ing.unmapped, ing.links, policy=policy,
                         trial_id=trial_id or Path(folder).name,
                         issues_path=str(issues_csv) if issues_csv is not None else "validation.parquet")
    return Checked(ing, issues, gated)
