from regrowth.parquet_io import write_table
from regrowth.summarize.tables import summarize_trial_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    # the builders read their inputs themselves (files or dataset directories): each reads only
    # the rows and columns it uses
    table = summarize_trial_table(snakemake.wildcards.table, snakemake.wildcards.trial, dict(snakemake.input.items()),
                                  **snakemake.params.settings)
    write_table(table, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
