# Summarize: per-trial summary tables, then one cross-trial table each.

# Which ADaM tables and which definitions each summary table uses, so a changed definition
# reruns only the tables that depend on it.
SUMMARY_INPUTS = {
    "efficacy": ["adsl", "adsalt"],
    "regrowth_bands": ["adsl", "adsalt"],
    "relapse": ["adsl", "adtte"],
    "safety": ["adsl", "adae"],
    "demographics": ["adsl"],
    "disposition": ["adsl"],
    "comparisons": ["adsl", "adsalt"],
    "km_curves": ["adtte"],
    "salt_by_visit": ["adsalt"],
    "best_change": ["adsalt"],
    "populations": ["adsl", "adsalt"],
    "denominators": ["adsl", "adsalt", "validation"],
}


def summary_input(name, trial_id):
    """An ADaM table, or the trial's validation issues (the denominators' notes)."""
    return f"results/{trial_id}/validation.parquet" if name == "validation" else adam(name, trial_id)


SUMMARY_PARAMS = {
    "efficacy": {
        "endpoints": DEFS["endpoints"],
        "weeks": DEFS["report_weeks"],
        "imputation": DEFS["imputation"],
    },
    "comparisons": {
        "endpoints": DEFS["endpoints"],
        "imputation": DEFS["imputation"],
    },
}
# The tables that read ADSALT take longest (efficacy ~3.5 s at 200,000 subjects, the others
# 1 s or less): started first, none of them is left running alone at the end.
SUMMARY_PRIORITY = {"efficacy": 3, "comparisons": 2, "regrowth_bands": 1}


rule summarize_trial:
    wildcard_constraints:
        trial=TRIAL_PATTERN,
    input:
        unpack(
            lambda w: {name: summary_input(name, w.trial) for name in SUMMARY_INPUTS[w.table]}
        ),
    output:
        "results/{trial}/tables/{table}.parquet",
    log:
        "logs/{trial}/summarize_{table}.log",
    priority: lambda w: SUMMARY_PRIORITY.get(w.table, 0)
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(35),
        runtime=10,
    params:
        code=code("summarize_trial.py"),
        settings=lambda w: SUMMARY_PARAMS.get(w.table, {}),
    script:
        "../scripts/summarize_trial.py"


# One job for every cross-trial table: each is a concatenation of a few small tables, and a
# job per table spent its second starting Python.
rule combine_tables:
    input:
        **{t: expand(f"results/{{trial}}/tables/{t}.parquet", trial=TRIAL_IDS) for t in SUMMARY_TABLES},
    output:
        **{
            t: report(
                f"results/tables/{t}.parquet",
                caption="../report/table.rst",
                category="Summary tables",
                labels={"table": t},
            )
            for t in SUMMARY_TABLES
        },
    log:
        "logs/combine_tables.log",
    conda:
        "../envs/regrowth.yaml"
    params:
        code=code("combine_tables.py"),
    script:
        "../scripts/combine_tables.py"
