from regrowth.derive.jobs import derive_job
from regrowth.parquet_io import write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p = snakemake.params
    adtte = derive_job("adtte", dict(snakemake.input.items()), snakemake.output[0], endpoints=p.endpoints,
                       responder_endpoint=p.relapse["responder_endpoint"],
                       fraction_lost=p.relapse["fraction_of_regrowth_lost"], time_to_event=p.time_to_event)
    write_frame(adtte, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
