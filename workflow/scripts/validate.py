import logging

from regrowth.csv_safe import write_safe_csv
from regrowth.issues import issues_as_pandas
from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_frame, write_frame
from regrowth.validate import validate_trial
from regrowth.workflow import output_metadata, run


def main(snakemake):
    tables = {d: read_frame(snakemake.input[d]) for d in DOMAIN_NAMES}
    issues = validate_trial(tables, read_frame(snakemake.input.issues), read_frame(snakemake.input.unmapped),
                            window_days=snakemake.params.window_days)
    counts = dict(sorted(issues.group_by("severity").len().iter_rows()))
    logging.getLogger("regrowth").info("%d issue(s): %s", issues.height, counts)
    write_frame(issues, snakemake.output.parquet, output_metadata(snakemake))
    write_safe_csv(issues_as_pandas(issues), snakemake.output.csv)  # for data managers and sites


run(snakemake, main)  # noqa: F821
