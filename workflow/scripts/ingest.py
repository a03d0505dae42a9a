from regrowth.ingest import ingest_trial
from regrowth.parquet_io import write_frame
from regrowth.workflow import output_metadata, run


def main(snakemake):
    meta = output_metadata(snakemake)
    result = ingest_trial(snakemake.params.folder, snakemake.params.fmt)
    for domain, table in result.tables.items():
        write_frame(table, snakemake.output[domain], meta)
    write_frame(result.files, snakemake.output.files, meta)
    write_frame(result.issues, snakemake.output.issues, meta)
    write_frame(result.unmapped, snakemake.output.unmapped, meta)
    write_frame(result.links, snakemake.output.links, meta)


run(snakemake, main)  # noqa: F821 (injected by Snakemake)
