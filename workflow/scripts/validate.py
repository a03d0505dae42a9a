import logging

from regrowth.csv_safe import write_safe_csv
from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_table, write_table
from regrowth.validate import validate_trial
from regrowth.workflow import output_metadata, run


def main(snakemake):
    tables = {d: read_table(snakemake.input[d]) for d in DOMAIN_NAMES}
    issues = validate_trial(tables, read_table(snakemake.input.issues), read_table(snakemake.input.unmapped),
                            window_days=snakemake.params.window_days)
    logging.getLogger("regrowth").info("%d issue(s): %s", len(issues), issues["severity"].value_counts().to_dict())
    write_table(issues, snakemake.output.parquet, output_metadata(snakemake))
    write_safe_csv(issues, snakemake.output.csv)  # for data managers and sites


run(snakemake, main)  # noqa: F821
