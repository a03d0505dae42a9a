import logging

from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_frame, write_frame
from regrowth.validate.gate import apply_policy
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i = snakemake.input
    gated = apply_policy({d: read_frame(i[d]) for d in DOMAIN_NAMES}, read_frame(i.validation), read_frame(i.files),
                         read_frame(i.unmapped), read_frame(i.links), policy=snakemake.params.policy,
                         trial_id=snakemake.wildcards.trial, issues_path=i.validation)
    meta = output_metadata(snakemake)
    for d in DOMAIN_NAMES:
        write_frame(gated.tables[d], snakemake.output[d], meta)
    for name, table in gated.quarantine.items():
        write_frame(table, snakemake.output[f"q_{name}"], meta)
    write_frame(gated.accounting, snakemake.output.accounting, meta)
    logging.getLogger("regrowth").info("accounting:\n%s", "\n".join(
        f"{r['file']}: {r['rows_in']} in, {r['rows_accepted']} accepted, {r['rows_quarantined']} quarantined"
        for r in gated.accounting.to_dicts()))


run(snakemake, main)  # noqa: F821
