from regrowth.derive.adtte import derive_adtte, read_adsalt
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p = snakemake.params
    adtte = derive_adtte(read_table(snakemake.input.adsl), read_adsalt(snakemake.input.adsalt), endpoints=p.endpoints,
                         responder_endpoint=p.relapse["responder_endpoint"],
                         fraction_lost=p.relapse["fraction_of_regrowth_lost"])
    write_table(adtte, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
