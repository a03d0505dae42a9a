from regrowth.derive.adsl import derive_adsl
from regrowth.derive.contracts import check_contract
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i = snakemake.input
    p = snakemake.params
    adsl = derive_adsl(read_table(i.dm), read_table(i.ex), read_table(i.ds), read_table(i.mh), read_table(i.rs),
                       read_table(i.sv), data_cut=p.data_cut, baseline=p.baseline)
    check_contract(adsl, "adsl", where=snakemake.output[0])
    write_table(adsl, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
