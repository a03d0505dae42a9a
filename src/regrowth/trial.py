"""One trial through ingest, validation and the gate, in process (no Snakemake).

The workflow runs these stages as separate jobs; tests and benchmarks use this to push many
exports through the same code quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from regrowth.ingest import Ingested, ingest_trial
from regrowth.validate import validate_trial
from regrowth.validate.gate import Gated, apply_policy


@dataclass
class Checked:
    ingested: Ingested
    issues: pd.DataFrame
    gated: Gated


def check_trial(folder: str | Path, fmt: str, policy: str = "quarantine", window_days: int = 14) -> Checked:
    """Raises InputError for an unreadable export and ValidationFailed when the policy stops."""
    ing = ingest_trial(folder, fmt)
    issues = validate_trial(ing.tables, ing.issues, ing.unmapped, window_days=window_days)
    gated = apply_policy(ing.tables, issues, ing.files, ing.unmapped, ing.links, policy=policy,
                         trial_id=Path(folder).name, issues_path="validation.parquet")
    return Checked(ing, issues, gated)
