import logging

from regrowth.csv_safe import write_safe_csv
from regrowth.issues import issues_as_pandas
from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_frame, write_table
from regrowth.validate import validate_trial
from regrowth.workflow import output_metadata, run


def main(snakemake):
    tables = {d: read_frame(snakemake.input[d]) for d in DOMAIN_NAMES}
    issues = validate_trial(tables, read_frame(snakemake.input.issues), read_frame(snakemake.input.unmapped),
                            window_days=snakemake.params.window_days)
    counts = dict(sorted(issues.group_by("severity").len().iter_rows()))
    logging.getLogger("regrowth").info("%d issue(s): %s", issues.height, counts)
    # the issue list through pandas, as before: read back, row and line stay integers with nulls
    # (Int64), not floats, for the report and for combining partitions
    table = issues_as_pandas(issues)
    write_table(table, snakemake.output.parquet, output_metadata(snakemake))
    write_safe_csv(table, snakemake.output.csv)  # for data managers and sites


run(snakemake, main)  # noqa: F821
