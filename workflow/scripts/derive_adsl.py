from regrowth.derive.jobs import derive_job
from regrowth.parquet_io import write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p = snakemake.params
    adsl = derive_job("adsl", dict(snakemake.input.items()), snakemake.output[0], data_cut=p.data_cut, baseline=p.baseline)
    write_frame(adsl, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
