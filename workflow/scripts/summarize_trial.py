from regrowth.parquet_io import read_table, write_table
from regrowth.summarize.tables import read_adsalt_for, summarize_trial_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    name, settings = snakemake.wildcards.table, snakemake.params.settings
    adam = {domain: read_adsalt_for(name, path, **settings) if domain == "adsalt" else read_table(path)
            for domain, path in snakemake.input.items()}
    table = summarize_trial_table(name, snakemake.wildcards.trial, adam, **settings)
    write_table(table, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
