from regrowth.derive.jobs import derive_job
from regrowth.parquet_io import write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p = snakemake.params
    adsalt = derive_job("adsalt", dict(snakemake.input.items()), snakemake.output[0], endpoints=p.endpoints,
                        grid_weeks=p.grid_weeks, window_days=p.window_days, eot_week=p.eot_week,
                        baseline=p.baseline, eot_window_days=p.eot_window_days)
    write_frame(adsalt, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
