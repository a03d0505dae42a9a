"""REDCap cases of the corpus: a two-subject export of the simulated project with its mapping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from regrowth.simulate.engine import simulate
from regrowth.simulate.export_redcap import export_redcap
from regrowth.simulate.seed_trials import RUXOLITINIB

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "resources/trials/NCT01950780/mapping.yaml"
_TRUTH = None


def write_redcap(folder: Path) -> None:
    global _TRUTH
    if _TRUTH is None:
        t = simulate(RUXOLITINIB, 5)
        keep = set(t["dm"]["USUBJID"].iloc[:2])
        _TRUTH = {k: v[v["USUBJID"].isin(keep)].reset_index(drop=True) for k, v in t.items()}
    export_redcap(_TRUTH, folder, stem="P")
    (folder / "mapping.yaml").write_text(MAPPING.read_text())


def records(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "P_records.csv", dtype=str, keep_default_na=False)


def set_value(field: str, value: str):
    def after(folder: Path) -> None:
        rec = records(folder)
        i = rec.index[rec[field] != ""][0]
        rec.loc[i, field] = value
        rec.to_csv(folder / "P_records.csv", index=False)
    return after


def edit_mapping(fn):
    def after(folder: Path) -> None:
        m = yaml.safe_load((folder / "mapping.yaml").read_text())
        fn(m)
        (folder / "mapping.yaml").write_text(yaml.safe_dump(m))
    return after


def drop_records_column(col: str):
    def after(folder: Path) -> None:
        records(folder).drop(columns=[col]).to_csv(folder / "P_records.csv", index=False)
    return after
