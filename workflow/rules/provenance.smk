# Provenance: the manifest and RO-Crate of a run (the report job draws the rule graph).


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
    params:
        code=code("provenance.py"),
        outputs=output_rules(),
        trials=trial_meta(),
        config=config,
    script:
        "../scripts/provenance.py"
