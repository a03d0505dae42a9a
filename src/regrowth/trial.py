"""One trial through every stage in process (no Snakemake): ingest, validation, the gate, the
analysis tables and the summary tables.

The workflow runs these stages as separate jobs; tests and benchmarks use this to push exports
through the same library functions quickly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from regrowth.check import Checked, check_part

CONFIG_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
SUMMARY_TABLES = ["efficacy", "regrowth_bands", "relapse", "safety", "demographics", "disposition", "comparisons",
                  "km_curves", "salt_by_visit", "best_change", "populations", "denominators", "comparison_subjects"]


def check_trial(folder: str | Path, fmt: str, policy: str = "quarantine", window_days: int = 14,
                reading=None) -> Checked:
    """Raises InputError for an unreadable export and ValidationFailed when the policy stops."""
    return check_part(folder, fmt, policy=policy, window_days=window_days, reading=reading).as_pandas()  # derive takes pandas (for now)


def _defaults(schema: dict) -> dict:
    out = {}
    for key, prop in schema.get("properties", {}).items():
        if "default" in prop:
            out[key] = prop["default"]
        if prop.get("type") == "object" and "properties" in prop:
            out[key] = {**_defaults(prop), **(out.get(key) or {})}
    return out


def definitions_with_defaults(definitions: dict | None = None) -> dict:
    """config `definitions` with the config schema's defaults filled in, as Snakemake fills them
    (the schema is read from the checkout: this runner is for tests and benchmarks)."""
    schema = yaml.safe_load(CONFIG_SCHEMA.read_text())["properties"]["definitions"]
    merged = _defaults(schema)
    for key, value in (definitions or {}).items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


@dataclass
class TrialRun:
    checked: Checked
    adam: dict[str, pd.DataFrame]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def run_trial(folder: str | Path, fmt: str, *, definitions: dict | None = None, eot_week: int | None = None,
              policy: str = "strict", trial_id: str | None = None, data_cut: str | None = None,
              reading=None, design: str = "single-arm", control: str | None = None) -> TrialRun:
    """Every stage for one trial with `definitions` (config's, defaults filled in) and the sheet's
    eot_week, data_cut, policy and reading settings (regrowth.reading.Reading); the tables
    are those of results/{trial}/tables/."""
    from regrowth.definitions import check_weeks
    from regrowth.derive.pipeline import derive_analysis_tables, settings_from_definitions
    from regrowth.parquet_io import as_pandas
    from regrowth.summarize.tables import summarize_trial_table

    defs = definitions_with_defaults(definitions)
    check_weeks(defs, eot_week, trial_id or Path(folder).name)
    checked = check_trial(folder, fmt, policy=policy, window_days=defs["visit_window_days"], reading=reading)
    settings = settings_from_definitions(defs, eot_week=eot_week, data_cut=data_cut, policy=policy)
    adam: dict[str, pd.DataFrame] = {}  # the summary layer's pandas frames, as it reads them from Parquet
    derive_analysis_tables(dict(checked.gated.tables), settings,
                           lambda name, table: adam.__setitem__(name, as_pandas(table)))
    trial_id = trial_id or Path(folder).name
    summary_settings = {"endpoints": defs["endpoints"], "weeks": defs["report_weeks"], "imputation": defs["imputation"],
                        "design": design, "control": control, "aesi": defs["aesi"]}
    inputs = {**adam, "validation": checked.issues}  # the denominators' notes read the issues
    tables = {name: summarize_trial_table(name, trial_id, inputs, **summary_settings) for name in SUMMARY_TABLES}
    return TrialRun(checked, adam, tables)
