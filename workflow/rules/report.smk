# Report: one self-contained HTML file comparing the drugs.


rule report:
    input:
        tables=expand(f"{RESULTS}/tables/{{table}}.parquet", table=[*SUMMARY_TABLES, *COMPARE_TABLES]),
        validation=expand(f"{RESULTS}/{{trial}}/validation.parquet", trial=TRIAL_IDS),
        inputs=expand(f"{RESULTS}/{{trial}}/files.parquet", trial=TRIAL_IDS),
        accounting=expand(f"{RESULTS}/{{trial}}/accounting.parquet", trial=TRIAL_IDS),
        published=config["published_results"],
        rulegraph=f"{RESULTS}/provenance/rulegraph.dot",  # for the provenance appendix
    output:
        html=report(
            f"{RESULTS}/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
    log:
        f"{LOGS}/report.log",
    # figures render in parallel processes; the report is the last big job, cores are free
    threads: 2
    params:
        code=code("report.py"),
        trials=trial_meta(),
        definitions=DEFS,
        config=config,
    run:
        run_script("report.py", input, output, params, wildcards, threads, resources, log, rule)
