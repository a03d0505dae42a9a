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
    "comparison_subjects": ["adsl", "adsalt"],
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
    "comparison_subjects": {
        "endpoints": DEFS["endpoints"],
        "imputation": DEFS["imputation"],
    },
    "km_curves": {
        "imputation": DEFS["imputation"],
    },
    "safety": {
        "aesi": DEFS["aesi"],
    },
}

# One job per ADaM table the summaries are built from: twelve one-second jobs per trial spent
# most of their time starting Python; grouped by source, a changed derivation or definition
# still reruns only the tables that read what changed (tests/test_reruns.py).
SUMMARY_GROUPS = {
    "salt": ["efficacy", "best_change", "salt_by_visit", "regrowth_bands", "comparisons", "populations",
             "denominators", "comparison_subjects"],
    "tte": ["relapse", "km_curves"],
    "safety": ["safety"],
    "subjects": ["demographics", "disposition"],
}
assert sorted(t for ts in SUMMARY_GROUPS.values() for t in ts) == sorted(SUMMARY_TABLES)
# the group that reads ADSALT takes longest: started first, it is not left running alone at the end
SUMMARY_PRIORITY = {"salt": 3, "tte": 1}


for _group, _tables in SUMMARY_GROUPS.items():

    rule:
        name:
            f"summarize_{_group}"
        input:
            # the trial's ADaM tables by name (every part), or its issue list (the denominators' notes)
            unpack(lambda w, tables=_tables: summary_inputs(w, tables)),
        output:
            **{t: f"{RESULTS}/{{trial}}/tables/{t}.parquet" for t in _tables},
        log:
            f"{LOGS}/{{trial}}/summarize_{_group}.log",
        priority: SUMMARY_PRIORITY.get(_group, 0)
        resources:
            mem_mb=memory_mb(35),
            runtime=10,
        params:
            code=code("summarize_trial.py"),
            settings=lambda w, tables=_tables: {t: summary_settings(t, w.trial) for t in tables},
        run:
            run_script("summarize_trial.py", input, output, params, wildcards, threads, resources, log, rule)


# One job for every cross-trial table: each is a concatenation of a few small tables, and a
# job per table spent its second starting Python.
rule combine_tables:
    input:
        **{t: expand(f"{RESULTS}/{{trial}}/tables/{t}.parquet", trial=TRIAL_IDS) for t in SUMMARY_TABLES},
    output:
        **{
            t: report(
                f"{RESULTS}/tables/{t}.parquet",
                caption="../report/table.rst",
                category="Summary tables",
                labels={"table": t},
            )
            for t in SUMMARY_TABLES
        },
    log:
        f"{LOGS}/combine_tables.log",
    params:
        code=code("combine_tables.py"),
    run:
        run_script("combine_tables.py", input, output, params, wildcards, threads, resources, log, rule)
