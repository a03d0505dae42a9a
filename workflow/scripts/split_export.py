from regrowth.parquet_io import write_table
from regrowth.partition.split import split_export
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p, out = snakemake.params, snakemake.output
    files, issues = split_export(p.folder, p.fmt, p.n_parts, out.parts, p.reading)
    meta = output_metadata(snakemake)
    write_table(files, out.files, meta)
    write_table(issues, out.issues, meta)


run(snakemake, main)  # noqa: F821 (injected by Snakemake)
