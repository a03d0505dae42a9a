from regrowth.derive.adsalt import derive_adsalt
from regrowth.derive.contracts import check_contract
from regrowth.derive.salt import RS_COLUMNS
from regrowth.parquet_io import read_frame, write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, p, out = snakemake.input, snakemake.params, snakemake.output[0]
    adsl = read_frame(i.adsl)
    adsalt = derive_adsalt(read_frame(i.rs, columns=RS_COLUMNS), adsl, endpoints=p.endpoints, grid_weeks=p.grid_weeks,
                           window_days=p.window_days, eot_week=p.eot_week, baseline=p.baseline,
                           eot_window_days=p.eot_window_days)
    write_frame(check_contract(adsalt, "adsalt", adsl=adsl, where=out), out, output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
