from regrowth.derive.adae import derive_adae
from regrowth.derive.contracts import check_contract
from regrowth.parquet_io import read_frame, write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, out = snakemake.input, snakemake.output[0]
    adsl = read_frame(i.adsl)
    adae = derive_adae(read_frame(i.ae), adsl, window_days=snakemake.params.window_days)
    write_frame(check_contract(adae, "adae", adsl=adsl, where=out), out, output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
