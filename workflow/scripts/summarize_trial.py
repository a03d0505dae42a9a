from regrowth.parquet_io import write_table
from regrowth.summarize.tables import summarize_trial_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    # the builders read their inputs themselves (files or dataset directories): each reads only
    # the rows and columns it uses
    meta = output_metadata(snakemake)
    inputs = dict(snakemake.input.items())
    for name, path in snakemake.output.items():
        table = summarize_trial_table(name, snakemake.wildcards.trial, inputs, **snakemake.params.settings[name])
        write_table(table, path, meta)


run(snakemake, main)  # noqa: F821
