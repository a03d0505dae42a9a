from regrowth.collect import collect_accounting, collect_files, collect_issues
from regrowth.csv_safe import write_safe_csv
from regrowth.issues import issues_as_pandas
from regrowth.parquet_io import read_frame, read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, out = snakemake.input, snakemake.output
    meta = output_metadata(snakemake)
    files = collect_files([read_table(p) for p in i.files], read_table(i.whole_files[0]) if i.whole_files else None)
    issues = collect_issues([read_frame(p) for p in i.validation])
    # written from pandas as before: its metadata gives pandas readers Int64 rows and str text
    write_table(issues_as_pandas(issues), out.validation, meta)
    write_safe_csv(issues, out.validation_csv)  # for data managers and sites
    write_table(collect_accounting([read_table(p) for p in i.accounting], files), out.accounting, meta)
    write_table(files, out.files, meta)


run(snakemake, main)  # noqa: F821 (injected by Snakemake)
