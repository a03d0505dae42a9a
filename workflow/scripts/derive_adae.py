from regrowth.derive.adae import derive_adae
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    adae = derive_adae(read_table(snakemake.input.ae), read_table(snakemake.input.adsl),
                       window_days=snakemake.params.window_days)
    write_table(adae, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
