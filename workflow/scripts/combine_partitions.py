from regrowth.csv_safe import write_safe_csv
from regrowth.derive import ORDER
from regrowth.model import DOMAIN_NAMES, SOURCE_ORDER
from regrowth.parquet_io import read_table, write_table
from regrowth.partition.combine import combine_accounting, combine_issues, combine_sorted, concat_parts
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, out = snakemake.input, snakemake.output
    meta = output_metadata(snakemake)
    for d in DOMAIN_NAMES:  # tables ordered by subject: streamed part after part
        concat_parts(i[d], out[d], meta, domain=d)
        concat_parts(i[f"q_{d}"], out[f"q_{d}"], meta, domain=d)
    for name in ORDER:
        concat_parts(i[name], out[name], meta)
    write_table(combine_sorted(i.q_unmapped, SOURCE_ORDER), out.q_unmapped, meta)
    issues = combine_issues([read_table(p) for p in i.validation])
    write_table(issues, out.validation, meta)
    write_safe_csv(issues, out.validation_csv)
    write_table(combine_accounting([read_table(p) for p in i.accounting], read_table(i.files)), out.accounting, meta)


run(snakemake, main)  # noqa: F821 (injected by Snakemake)
