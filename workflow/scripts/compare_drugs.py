import pandas as pd

from regrowth.compare.stage import compare_drugs
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, p = snakemake.input, snakemake.params
    tables = compare_drugs(read_table(i.efficacy), read_table(i.subjects), i.published, pd.read_csv(i.targets),
                           p.trials, p.comparison)
    meta = output_metadata(snakemake)
    for name, path in snakemake.output.items():
        write_table(tables[name], path, meta)


run(snakemake, main)  # noqa: F821
