# Provenance: the rule graph for the report, and the manifest and RO-Crate of a run.


rule rulegraph:
    input:
        "Snakefile",
        Path(workflow.basedir).glob("workflow/rules/*.smk"),
    output:
        "results/provenance/rulegraph.dot",
    # needed only by the report: it takes a core no job of the trials' chains is waiting for
    priority: -1
    log:
        "logs/rulegraph.log",
    conda:
        "../envs/regrowth.yaml"
    params:
        code=code("rulegraph.py"),
    script:
        "../scripts/rulegraph.py"


# Runs last: it reads every output and Snakemake's job records (start and end times).
rule provenance:
    input:
        outputs=output_targets(),
        exports=all_exports(),
    output:
        manifest="results/provenance/manifest.json",
        crate="results/provenance/ro-crate-metadata.json",
    threads: 4  # it runs alone, last: the files are hashed in threads (Snakemake caps this at --cores)
    log:
        "logs/provenance.log",
    conda:
        "../envs/regrowth.yaml"
    params:
        code=code("provenance.py"),
        outputs=output_rules(),
        trials=trial_meta(),
        config=config,
    script:
        "../scripts/provenance.py"
