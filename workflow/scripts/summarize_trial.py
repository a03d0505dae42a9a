from regrowth.parquet_io import write_table
from regrowth.summarize.tables import summarize_trial_tables
from regrowth.workflow import output_metadata, run


def main(snakemake):
    # the builders read their inputs themselves (part files): each only the rows and columns it
    # uses, the ADSALT builders from one shared read of its total-score records
    meta = output_metadata(snakemake)
    tables = summarize_trial_tables(list(snakemake.output.keys()), snakemake.wildcards.trial,
                                    dict(snakemake.input.items()), snakemake.params.settings)
    for name, path in snakemake.output.items():
        write_table(tables[name], path, meta)


run(snakemake, main)  # noqa: F821
