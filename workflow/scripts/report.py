from pathlib import Path

from regrowth.report.inputs import report_from_files
from regrowth.workflow import run


def main(snakemake):
    i, out = snakemake.input, snakemake.output
    html = report_from_files(trials=snakemake.params.trials, definitions=snakemake.params.definitions,
                             tables=list(i.tables), validation=list(i.validation), inputs=list(i.inputs),
                             published=i.published, accounting=list(i.accounting),
                             rule_graph=Path(i.rulegraph).read_text, config=dict(snakemake.params.config),
                             workflow_dir=snakemake.scriptdir, workers=snakemake.threads,
                             results_dir=str(Path(out.html).parent))  # the sheet's results folder
    Path(out.html).write_text(html, encoding="utf-8")


run(snakemake, main)  # noqa: F821
