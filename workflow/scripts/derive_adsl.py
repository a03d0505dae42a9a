from regrowth.derive.adsl import derive_adsl
from regrowth.derive.contracts import check_contract
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i = snakemake.input
    adsl = derive_adsl(read_table(i.dm), read_table(i.ex), read_table(i.ds), read_table(i.mh), read_table(i.rs))
    check_contract(adsl, "adsl", where=snakemake.output[0])
    write_table(adsl, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
