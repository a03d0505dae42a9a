import os
from concurrent.futures import ThreadPoolExecutor

from regrowth.csv_safe import write_safe_csv
from regrowth.derive import ORDER
from regrowth.model import DOMAIN_NAMES, SOURCE_ORDER
from regrowth.parquet_io import read_table, write_table
from regrowth.partition.combine import combine_accounting, combine_issues, combine_sorted, concat_parts
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, out = snakemake.input, snakemake.output
    meta = output_metadata(snakemake)
    # tables ordered by subject: each streamed part after part; with more than the rule's one
    # thread (--set-threads), several tables at once, the largest first so none starts last
    jobs = [(d, d) for d in DOMAIN_NAMES] + [(f"q_{d}", d) for d in DOMAIN_NAMES] + [(n, None) for n in ORDER]
    jobs.sort(key=lambda job: -sum(os.path.getsize(p) for p in i[job[0]]))
    with ThreadPoolExecutor(max_workers=snakemake.threads) as pool:  # pyarrow I/O releases the GIL
        for done in [pool.submit(concat_parts, i[key], out[key], meta, domain=d) for key, d in jobs]:
            done.result()
    write_table(combine_sorted(i.q_unmapped, SOURCE_ORDER), out.q_unmapped, meta)
    issues = combine_issues([read_table(p) for p in i.validation])
    write_table(issues, out.validation, meta)
    write_safe_csv(issues, out.validation_csv)
    write_table(combine_accounting([read_table(p) for p in i.accounting], read_table(i.files)), out.accounting, meta)


run(snakemake, main)  # noqa: F821 (injected by Snakemake)
