# Provenance: the workflow's rule graph, and the manifest and RO-Crate of a run.


# `snakemake --rulegraph`, a second Snakemake start of a few seconds: a job of its own that runs
# first, beside the checks, not at the end before the report. A changed rule redraws it (the
# workflow files are inputs, relative and sorted: a run copied elsewhere keeps the same input
# set), as does the first trial cut into parts (a split adds the split_export rule).
rule rule_graph:
    priority: 20
    threads: 0  # mostly a subprocess's start: it should not hold a core a split or check is waiting for
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
