from regrowth.derive.adae import derive_adae
from regrowth.derive.contracts import check_contract
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    adsl = read_table(snakemake.input.adsl)
    adae = derive_adae(read_table(snakemake.input.ae), adsl, window_days=snakemake.params.window_days)
    check_contract(adae, "adae", adsl=adsl, where=snakemake.output[0])
    write_table(adae, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
