# Provenance: the workflow's rule graph, and the manifest and RO-Crate of a run.


# The rule graph of `snakemake --rulegraph`, read from this run's own DAG where that is the whole
# DAG (else drawn by a second Snakemake start of a few seconds, beside the checks). A changed rule
# redraws it (the workflow files are inputs, relative and sorted: a run copied elsewhere keeps the
# same input set), as does the first trial cut into parts (a split adds the split_export rule).
rule rule_graph:
    priority: 20
    threads: 0  # at most a subprocess's start: it should not hold a core a split or check is waiting for
    input:
        workflow_files=[
            "Snakefile",
            *sorted(str(p.relative_to(workflow.basedir)) for p in Path(workflow.basedir).glob("workflow/rules/*.smk")),
        ],
    output:
        f"{RESULTS}/provenance/rulegraph.dot",
    log:
        f"{LOGS}/rule_graph.log",
    params:
        code=code("rule_graph.py"),
        any_split=bool(SPLIT),
    run:
        from regrowth.report.rule_graph import write_rule_graph_of_running_dag

        if not write_rule_graph_of_running_dag(workflow, output[0], log[0]):
            run_script("rule_graph.py", input, output, params, wildcards, threads, resources, log, rule)


# Runs last: it reads every output and Snakemake's job records (start and end times).
rule provenance:
    input:
        outputs=output_targets(),
        exports=all_exports(),
    output:
        manifest=f"{RESULTS}/provenance/manifest.json",
        crate=f"{RESULTS}/provenance/ro-crate-metadata.json",
    threads: 4  # it runs alone, last: the files are hashed in threads (Snakemake caps this at --cores)
    log:
        f"{LOGS}/provenance.log",
    params:
        code=code("provenance.py"),
        outputs=output_rules(),
        trials=trial_meta(),
        config=config,
    run:
        run_script("provenance.py", input, output, params, wildcards, threads, resources, log, rule)
