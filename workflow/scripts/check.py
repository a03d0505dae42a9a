import logging
from pathlib import Path

from regrowth.datasets import remove_stale_parts
from regrowth.parquet_io import write_table
from regrowth.check import check_part
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p, i, out, part = snakemake.params, snakemake.input, snakemake.output, snakemake.wildcards.part
    split = (i.files, i.parts, i.split_issues) if "parts" in i.keys() else None
    checked = check_part(p.folder, p.fmt, part, split=split, policy=p.policy, window_days=p.window_days,
                         trial_id=snakemake.wildcards.trial, issues_csv=snakemake.log.issues,
                         reading=p.reading)
    meta = output_metadata(snakemake)
    for name, table in checked.outputs().items():
        write_table(table, out[name], meta)
    if part == p.parts[0]:  # parts left from a run cut into more parts would be read as this run's
        trial_folder = Path(out.validation).parents[2]  # <results>/<trial>/parts/<part>/validation.parquet
        for stale in remove_stale_parts(trial_folder, p.parts):
            logging.getLogger("regrowth").info("removed %s: a part of an earlier run cut differently", stale)


run(snakemake, main)  # noqa: F821 (injected by Snakemake)
