from pathlib import Path

from regrowth.report.rule_graph import RuleGraph
from regrowth.workflow import run


def main(snakemake):
    i, out = snakemake.input, snakemake.output
    # the rule graph is drawn by a second Snakemake while this job loads its libraries and
    # reads its tables (as a job of its own, it waited for a free core and then held up the report)
    with RuleGraph(dict(snakemake.config)) as drawing:
        from regrowth.report.inputs import report_from_files  # after the drawing has started

        def rule_graph() -> str:
            dot = drawing.dot()
            Path(out.rulegraph).write_text(dot)
            return dot

        html = report_from_files(trials=snakemake.params.trials, definitions=snakemake.params.definitions,
                                 tables=list(i.tables), validation=list(i.validation), inputs=list(i.inputs),
                                 published=i.published, accounting=list(i.accounting), rule_graph=rule_graph,
                                 config=dict(snakemake.params.config), workflow_dir=snakemake.scriptdir,
                                 workers=snakemake.threads)
    Path(out.html).write_text(html, encoding="utf-8")


run(snakemake, main)  # noqa: F821
