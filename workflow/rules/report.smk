# Report: one self-contained HTML file comparing the drugs.


rule report:
    input:
        tables=expand("results/tables/{table}.parquet", table=[*SUMMARY_TABLES, *COMPARE_TABLES]),
        validation=expand("results/{trial}/validation.parquet", trial=TRIAL_IDS),
        inputs=expand("results/{trial}/files.parquet", trial=TRIAL_IDS),
        accounting=expand("results/{trial}/accounting.parquet", trial=TRIAL_IDS),
        published=config["published_results"],
        rulegraph="results/provenance/rulegraph.dot",  # for the provenance appendix
    output:
        html=report(
            "results/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
    log:
        "logs/report.log",
    # figures render in parallel processes; the report is the last big job, cores are free
    threads: 2
    params:
        code=code("report.py"),
        trials=trial_meta(),
        definitions=DEFS,
        config=config,
    run:
        run_script("report.py", input, output, params, wildcards, threads, resources, log, rule)
