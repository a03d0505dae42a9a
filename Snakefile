# regrowth: JAK-inhibitor alopecia areata trials, raw exports -> validated ADaM -> report.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/split.smk"
include: "workflow/rules/check.smk"
include: "workflow/rules/derive.smk"
include: "workflow/rules/summarize.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/provenance.smk"


# Aggregates and bookkeeping are light: on a cluster they run where Snakemake runs.
localrules:
    all,
    rule_graph,
    combine_tables,
    compare_drugs,
    collect_checks,
    report,
    provenance,


rule all:
    default_target: True
    input:
        final_outputs(),


# The run has ended: Snakemake's scheduler has nothing left to re-evaluate (regrowth/jobs.py).
onsuccess:
    jobs.drop_rescheduling_timers()


onerror:
    jobs.drop_rescheduling_timers()
