from regrowth.derive.salt import read_total_salt
from regrowth.parquet_io import read_table, write_table
from regrowth.summarize.tables import summarize_trial_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    adam = {name: read_total_salt(path) if name == "adsalt" else read_table(path)
            for name, path in snakemake.input.items()}
    table = summarize_trial_table(snakemake.wildcards.table, snakemake.wildcards.trial, adam,
                                  **snakemake.params.settings)
    write_table(table, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
