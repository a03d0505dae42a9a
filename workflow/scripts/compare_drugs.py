from regrowth.compare.evidence import read_published_nmas
from regrowth.compare.stage import compare_drugs, read_maic_targets
from regrowth.parquet_io import read_table, write_table
from regrowth.workflow import output_metadata, run


def main(snakemake):
    i, p = snakemake.input, snakemake.params
    tables = compare_drugs(read_table(i.efficacy), read_table(i.subjects), i.published, read_maic_targets(i.targets),
                           p.trials, p.comparison, read_published_nmas(i.published_nmas))
    meta = output_metadata(snakemake)
    for name, path in snakemake.output.items():
        write_table(tables[name], path, meta)


run(snakemake, main)  # noqa: F821
