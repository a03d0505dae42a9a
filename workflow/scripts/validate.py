import logging

from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_table, write_table
from regrowth.validate import validate_trial
from regrowth.workflow import output_metadata, run


def main(snakemake):
    tables = {d: read_table(snakemake.input[d]) for d in DOMAIN_NAMES}
    issues = validate_trial(tables, read_table(snakemake.input.issues))
    logging.getLogger("regrowth").info("%d issue(s): %s", len(issues), issues["severity"].value_counts().to_dict())
    write_table(issues, snakemake.output[0], output_metadata(snakemake))


run(snakemake, main)  # noqa: F821
