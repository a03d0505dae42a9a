# Partition: a large SDTM export is split by subject into partitions (units "T/parts/000", ...)
# that ingest, validate, accept and derive run on as separate jobs; the parts are then combined
# into the same per-trial tables an unsplit run writes. Trials with one partition skip both rules.


rule split_export:
    wildcard_constraints:
        trial=PARTITIONED_PATTERN,
    input:
        lambda w: export_files_of(w.trial),
    output:
        parts=directory("results/{trial}/split/parts"),
        files="results/{trial}/split/files.parquet",
        issues="results/{trial}/split/issues.parquet",
    # the split heads the longest chain of jobs: when cores are short, Snakemake runs it first
    priority: 10
    log:
        "logs/{trial}/split_export.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=lambda wc, input, attempt: int(2000 * attempt),  # streamed: bounded by batch size
        runtime=lambda wc, input: int(10 + input.size_mb / 50),
    params:
        code=code("split_export.py"),
        folder=lambda w: trial(w)["path"],
        fmt=lambda w: trial(w)["format"],
        n_parts=lambda w: len(PARTS[w.trial]),
    script:
        "../scripts/split_export.py"


rule combine_partitions:
    wildcard_constraints:
        trial=PARTITIONED_PATTERN,
    input:
        unpack(partition_inputs),
    output:
        **accepted_outputs(),
    threads: 2
    log:
        "logs/{trial}/combine_partitions.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(15),
        runtime=lambda wc, input: int(10 + input.size_mb / 20),
    params:
        code=code("combine_partitions.py"),
    script:
        "../scripts/combine_partitions.py"
