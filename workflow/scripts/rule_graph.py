from pathlib import Path

from regrowth.report.rule_graph import RuleGraph, canonical_dot
from regrowth.workflow import run


def main(snakemake):
    with RuleGraph(dict(snakemake.config)) as drawing:
        Path(snakemake.output[0]).write_text(canonical_dot(drawing.dot()))


run(snakemake, main)  # noqa: F821
