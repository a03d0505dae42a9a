import logging

from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_table, write_table
from regrowth.validate.gate import apply_policy
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i = snakemake.input
    gated = apply_policy({d: read_table(i[d]) for d in DOMAIN_NAMES}, read_table(i.validation), read_table(i.files),
                         read_table(i.unmapped), read_table(i.links), policy=snakemake.params.policy,
                         trial_id=snakemake.wildcards.trial, issues_path=i.validation)
    meta = output_metadata(snakemake)
    for d in DOMAIN_NAMES:
        write_table(gated.tables[d], snakemake.output[d], meta)
    for name, table in gated.quarantine.items():
        write_table(table, snakemake.output[f"q_{name}"], meta)
    write_table(gated.accounting, snakemake.output.accounting, meta)
    logging.getLogger("regrowth").info("accounting:\n%s", gated.accounting.to_string(index=False))


run(snakemake, main)  # noqa: F821
