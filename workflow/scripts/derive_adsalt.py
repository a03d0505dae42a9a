from regrowth.derive.adsalt import derive_adsalt
from regrowth.derive.contracts import check_contract
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p = snakemake.params
    adsl = read_table(snakemake.input.adsl)
    adsalt = derive_adsalt(read_table(snakemake.input.rs), adsl, endpoints=p.endpoints,
                           grid_weeks=p.grid_weeks, window_days=p.window_days, eot_week=p.eot_week,
                           baseline=p.baseline, eot_window_days=p.eot_window_days)
    check_contract(adsalt, "adsalt", adsl=adsl, where=snakemake.output[0])
    write_table(adsalt, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
