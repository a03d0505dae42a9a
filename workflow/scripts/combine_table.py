import pandas as pd

from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    parts = [read_table(p) for p in snakemake.input]
    combined = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    write_table(combined, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
