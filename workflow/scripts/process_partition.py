from regrowth.parquet_io import BackgroundWriter
from regrowth.partition.process import Settings, process_partition
from regrowth.workflow import output_metadata, run


def main(snakemake):
    p, i, out = snakemake.params, snakemake.input, snakemake.output
    settings = Settings(policy=p.policy, window_days=p.window_days, endpoints=p.endpoints, grid_weeks=p.grid_weeks,
                        eot_week=p.eot_week, relapse=p.relapse, teae_window_days=p.teae_window_days,
                        baseline=p.baseline, eot_window_days=p.eot_window_days, data_cut=p.data_cut)
    with BackgroundWriter(output_metadata(snakemake)) as writer:
        process_partition(i.files, i.parts, i.split_issues, p.part, trial_id=snakemake.wildcards.trial,
                          settings=settings, issues_csv=snakemake.log.issues,
                          write=lambda name, table: writer.write(table, out[name]))


run(snakemake, main)  # noqa: F821 (injected by Snakemake)
