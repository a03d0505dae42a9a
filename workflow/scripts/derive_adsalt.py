from regrowth.derive.adsalt import derive_adsalt
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p = snakemake.params
    adsalt = derive_adsalt(read_table(snakemake.input.rs), read_table(snakemake.input.adsl), endpoints=p.endpoints,
                           grid_weeks=p.grid_weeks, window_days=p.window_days, eot_week=p.eot_week,
                           baseline=p.baseline, eot_window_days=p.eot_window_days)
    write_table(adsalt, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
