"""The workflow's rule graph for the report's provenance appendix, from Snakemake itself."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

from regrowth.errors import RegrowthError


NODE = re.compile(r'^(\s*)(\d+)(\[label = "([^"]*)".*)$')
EDGE = re.compile(r"^(\s*)(\d+) -> (\d+)\s*$")


def canonical_dot(dot: str) -> str:
    """The DOT text with its nodes numbered in rule-name order and its edges sorted, so the same
    workflow gives the same bytes: Snakemake numbers the nodes in the order it met the rules and
    lists the edges from sets, and both can change from run to run (with the hash seed, when
    `-R rule` adds a target)."""
    lines = [ln.rstrip() for ln in dot.splitlines()]
    nodes = [m for m in map(NODE.match, lines) if m]
    new_id = {m.group(2): str(i) for i, m in enumerate(sorted(nodes, key=lambda m: (m.group(4), int(m.group(2)))))}
    node_lines = sorted((int(new_id[m.group(2)]), f"{m.group(1)}{new_id[m.group(2)]}{m.group(3)}") for m in nodes)
    edges = sorted({(int(new_id.get(m.group(2), m.group(2))), int(new_id.get(m.group(3), m.group(3))), m.group(1))
                    for m in map(EDGE.match, lines) if m})
    others = [ln for ln in lines if not NODE.match(ln) and not EDGE.match(ln)]
    closing = max(i for i, ln in enumerate(others) if ln.strip() == "}")
    return "\n".join(others[:closing] + [text for _, text in node_lines]
                     + [f"{indent}{a} -> {b}" for a, b, indent in edges] + others[closing:]) + "\n"


class RuleGraph:
    """`snakemake --rulegraph` of the workflow in the working directory, drawn in a subprocess
    (a second Snakemake start, ~2-3 s) while the caller goes on; dot() waits for it. It does not
    depend on analysis definitions, so the config is handed over in a file, not as a param.
    Used as a context manager: a drawing still running when the block is left is stopped."""

    def __init__(self, config: dict):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            yaml.safe_dump(config, fh)
        self._config = Path(fh.name)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "snakemake", "--rulegraph", "--nolock", "--quiet", "all",
             "--configfile", fh.name, "--workflow-profile", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def dot(self, timeout: float = 600) -> str:
        try:
            out, err = self._proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RegrowthError(f"snakemake --rulegraph did not finish in {timeout:g} s") from None
        if self._proc.returncode != 0 or "digraph" not in out:
            raise RegrowthError(f"snakemake --rulegraph failed:\n{err[-2000:]}")
        return out[out.index("digraph"):]

    def __enter__(self) -> RuleGraph:
        return self

    def __exit__(self, *exc) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.communicate()
        self._config.unlink(missing_ok=True)


def rule_dot_of_running_dag(workflow) -> str | None:
    """`snakemake --rulegraph all`, read from the DAG of the Snakemake that runs this job: the
    same graph, without a second Snakemake start. Only where that DAG is the default target's
    whole DAG (a run's main process, target `all`, no --until, --omit-from, --allowed-rules or
    --batch); None elsewhere, and the caller draws it in a subprocess (RuleGraph)."""
    try:
        return _rule_dot_of_running_dag(workflow)
    except Exception:  # Snakemake's internals changed: the subprocess still draws it
        return None


def _rule_dot_of_running_dag(workflow) -> str | None:
    dag = getattr(workflow, "dag", None)
    settings = getattr(workflow, "dag_settings", None)
    if dag is None or settings is None or not workflow.is_main_process:
        return None
    if settings.until or settings.omit_from or settings.allowed_rules or settings.batch is not None:
        return None
    # target all; other targets (-R forces a rule by making it one) must lie within all's DAG
    everything = [job for job in dag.targetjobs if job.rule.name == "all"]
    if not everything or not set(dag.targetjobs) <= set(dag.bfs(dag.dependencies, *everything)):
        return None
    # DAG.rule_dot's graph, drawn by its DOT writer (rule_dot itself answers only when the run
    # was asked to print DOT); tests/test_provenance.py compares it with `snakemake --rulegraph`
    graph = defaultdict(set)
    for job in dag.jobs:
        graph[job.rule].update(dep.rule for dep in dag.dependencies[job])
    draw = getattr(dag, "_dot", None)
    dot = draw(graph) if draw is not None else None
    return dot[dot.index("digraph"):] if isinstance(dot, str) and "digraph" in dot else None


def write_rule_graph_of_running_dag(workflow, path: str, log: str) -> bool:
    """Write rule_dot_of_running_dag's graph, in canonical order, to `path` and say so in `log`;
    False, writing nothing, where this Snakemake's DAG is not the whole one."""
    dot = rule_dot_of_running_dag(workflow)
    if dot is None:
        return False
    for file, text in ((path, canonical_dot(dot)), (log, "INFO rule graph read from this run's DAG (target all)\n")):
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        Path(file).write_text(text)
    return True
