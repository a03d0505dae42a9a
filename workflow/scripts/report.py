from pathlib import Path

from regrowth.report.inputs import report_from_files
from regrowth.workflow import run


def main(snakemake):
    i = snakemake.input
    html = report_from_files(trials=snakemake.params.trials, definitions=snakemake.params.definitions,
                             tables=list(i.tables), adsl=list(i.adsl), adsalt=list(i.adsalt), adtte=list(i.adtte),
                             validation=list(i.validation), inputs=list(i.inputs), published=i.published,
                             accounting=list(i.accounting),
                             rulegraph=i.rulegraph, config=dict(snakemake.params.config),
                             workflow_dir=snakemake.scriptdir, workers=snakemake.threads)
    Path(snakemake.output[0]).write_text(html, encoding="utf-8")


run(snakemake, main)  # noqa: F821
