# Report: one self-contained HTML file comparing the drugs.


rule report:
    input:
        tables=expand("results/tables/{table}.parquet", table=SUMMARY_TABLES),
        validation=expand("results/{trial}/validation.parquet", trial=TRIAL_IDS),
        inputs=expand("results/{trial}/files.parquet", trial=TRIAL_IDS),
        accounting=expand("results/{trial}/accounting.parquet", trial=TRIAL_IDS),
        published=config["published_results"],
        # the rule graph drawn for the provenance appendix: a changed rule redraws it
        # (relative and sorted: a run copied elsewhere keeps the same input set)
        workflow_files=[
            "Snakefile",
            *sorted(
                str(p.relative_to(workflow.basedir))
                for p in Path(workflow.basedir).glob("workflow/rules/*.smk")
            ),
        ],
    output:
        html=report(
            "results/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
        rulegraph="results/provenance/rulegraph.dot",
    log:
        "logs/report.log",
    # figures render in parallel processes, the rule graph is drawn while the tables are read;
    # the report is the last big job, cores are free
    threads: 2
    params:
        code=code("report.py"),
        trials=trial_meta(),
        definitions=DEFS,
        config=config,
    script:
        "../scripts/report.py"
