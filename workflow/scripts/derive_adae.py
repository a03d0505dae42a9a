from regrowth.derive.jobs import derive_job
from regrowth.parquet_io import write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    adae = derive_job("adae", dict(snakemake.input.items()), snakemake.output[0], window_days=snakemake.params.window_days)
    write_frame(adae, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
