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


rule summarize_trial:
    wildcard_constraints:
        trial=TRIAL_PATTERN,
    input:
        unpack(
            lambda w: {name: adam(name, w.trial) for name in SUMMARY_INPUTS[w.table]}
        ),
    output:
        "results/{trial}/tables/{table}.parquet",
    log:
        "logs/{trial}/summarize_{table}.log",
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


rule combine_table:
    input:
        expand("results/{trial}/tables/{{table}}.parquet", trial=TRIAL_IDS),
    output:
        report(
            "results/tables/{table}.parquet",
            caption="../report/table.rst",
            category="Summary tables",
            labels={"table": "{table}"},
        ),
    log:
        "logs/combine_{table}.log",
    conda:
        "../envs/regrowth.yaml"
    params:
        code=code("combine_table.py"),
    script:
        "../scripts/combine_table.py"
