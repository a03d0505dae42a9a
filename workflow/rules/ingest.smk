# Ingest: each trial's exports (any supported format) -> canonical SDTM-named tables.
# A unit is a whole trial or one partition of a split trial (see partition.smk).


rule ingest:
    input:
        unpack(trial_exports),
    wildcard_constraints:
        trial=UNIT_PATTERN,
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
        part=lambda w: part_of(w.trial),
    script:
        "../scripts/ingest.py"
