from regrowth.parquet_io import read_table, write_table
from regrowth.summarize.tables import combine_trials
from regrowth.workflow import output_metadata, run


def main(snakemake):
    meta = output_metadata(snakemake)
    for table, path in snakemake.output.items():
        combined = combine_trials([read_table(p) for p in snakemake.input[table]])
        own_inputs = {p: meta["inputs"][p] for p in snakemake.input[table]}  # not the other tables'
        write_table(combined, path, {**meta, "inputs": own_inputs})


run(snakemake, main)  # noqa: F821
