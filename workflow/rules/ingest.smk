# Ingest: each trial's exports (any supported format) -> canonical SDTM-named tables.
# Whole trials only: a split trial's partitions are ingested by process_partition (partition.smk).


rule ingest:
    input:
        exports=lambda w: export_files_of(w.trial),
    wildcard_constraints:
        trial=WHOLE_PATTERN,
    output:
        **ingest_outputs(),
    log:
        "logs/{trial}/ingest.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(105, per_export_mb=40),
        runtime=lambda wc, input: int(10 + input.size_mb / 20),
    params:
        code=code("ingest.py"),
        folder=lambda w: trial(w)["path"],
        fmt=lambda w: trial(w)["format"],
    script:
        "../scripts/ingest.py"
