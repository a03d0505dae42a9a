from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_table, write_table
from regrowth.validate.gate import check_no_errors
from regrowth.workflow import output_metadata, run


def main(snakemake):
    check_no_errors(read_table(snakemake.input.validation), snakemake.wildcards.trial, snakemake.input.validation)
    meta = output_metadata(snakemake)
    for d in DOMAIN_NAMES:
        write_table(read_table(snakemake.input[d]), snakemake.output[d], meta)


run(snakemake, main)  # noqa: F821
