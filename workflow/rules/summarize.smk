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
# The tables that read most of ADSALT take longest (efficacy and best_change ~0.9 s at 50,000
# subjects, salt_by_visit 0.7 s, the others 0.4 s or less): started first, none of them is
# left running alone at the end.
SUMMARY_PRIORITY = {"efficacy": 3, "best_change": 3, "salt_by_visit": 2, "populations": 1, "comparisons": 1}


rule summarize_trial:
    wildcard_constraints:
        trial=TRIAL_PATTERN,
    input:
        # an ADaM table by name, or the trial's validation issues (the denominators' notes)
        unpack(
            lambda w: {
                name: (
                    f"results/{w.trial}/validation.parquet"
                    if name == "validation"
                    else adam(name, w.trial)
                )
                for name in SUMMARY_INPUTS[w.table]
            }
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
