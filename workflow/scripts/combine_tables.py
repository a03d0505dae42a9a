import pandas as pd

from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    meta = output_metadata(snakemake)
    for table, path in snakemake.output.items():
        parts = [read_table(p) for p in snakemake.input[table]]
        combined = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
        own_inputs = {p: meta["inputs"][p] for p in snakemake.input[table]}  # not the other tables'
        write_table(combined, path, {**meta, "inputs": own_inputs})


run(snakemake, main)  # noqa: F821
