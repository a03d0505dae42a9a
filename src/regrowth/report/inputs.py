"""Read the report's inputs from the workflow's files (paths in trial order)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from regrowth.parquet_io import read_table
from regrowth.provenance import git_version
from regrowth.report.build import TrialData, build_report, eot_description
from regrowth.workflow import software_versions


def report_from_files(*, trials: list[dict], definitions: dict, tables: list[str], validation: list[str],
                      inputs: list[str], published: str, rule_graph: Callable[[], str], config: dict,
                      workflow_dir: str, accounting: list[str], workers: int = 1, results_dir: str = "results") -> str:
    """The report from the workflow's files: the summary tables (results/tables/*.parquet) and,
    per trial, the sheet's metadata and its validation issues, accounting and export files as
    they are shown. rule_graph gives the DOT text of the workflow's rules; it is called last,
    once the figures are drawn (it may be drawing until then)."""
    data = []
    for k, meta in enumerate(trials):
        data.append(TrialData(
            trial_id=meta["trial_id"], label=meta["label"], fmt=meta["format"], eot_week=meta.get("eot_week"),
            simulated=bool(meta.get("simulated")), eot_rule=eot_description(meta.get("eot_week"), definitions),
            data_cut=meta.get("data_cut"), policy=meta.get("policy", "strict"),
            accounting=read_table(accounting[k]), validation=read_table(validation[k]), inputs=read_table(inputs[k]),
        ))
    return build_report(trials=data, tables={Path(p).stem: read_table(p) for p in tables},
                        published=pd.read_csv(published, dtype=str, keep_default_na=False),
                        definitions=definitions, versions=software_versions(),
                        provenance=lambda: provenance_appendix(rule_graph(), config, workflow_dir), workers=workers,
                        comparison=config.get("comparison"), results_dir=results_dir)


def rule_edges(dot: str) -> list[tuple[str, str]]:
    """(upstream, downstream) rule names from `snakemake --rulegraph` DOT output."""
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', dot, flags=re.M))
    edges = re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)
    return sorted({(labels[a], labels[b]) for a, b in edges if a in labels and b in labels})


def provenance_appendix(rule_graph_dot: str, config: dict, workflow_dir: str) -> dict:
    edges = rule_edges(rule_graph_dot)
    downstream: dict[str, list[str]] = {}
    for a, b in edges:
        downstream.setdefault(a, []).append(b)
    return {"code": git_version(str(Path(workflow_dir).resolve())),
            "config": yaml.safe_dump(config, sort_keys=True, default_flow_style=False),
            "rules": sorted(downstream.items())}
