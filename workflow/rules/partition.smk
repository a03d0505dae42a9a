# Partition: a large SDTM export is split by subject into partitions (units "T/parts/000", ...);
# one job per partition runs ingest, validation, the gate and the derivations on it, and the
# parts are then combined into the same per-trial tables an unsplit run writes. Trials with one
# partition skip these rules and run a job per stage (ingest.smk to derive.smk).


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
    threads: 2  # reads, writes and hashes in threads (~1.7 cores busy)
    log:
        "logs/{trial}/split_export.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=lambda wc, input, attempt: split_memory_mb(input) * attempt,
        runtime=lambda wc, input: int(10 + input.size_mb / 50),
    params:
        code=code("split_export.py"),
        folder=lambda w: trial(w)["path"],
        fmt=lambda w: trial(w)["format"],
        n_parts=lambda w: len(PARTS[w.trial]),
    script:
        "../scripts/split_export.py"


# All per-subject stages in one process: seven jobs per partition spent ~40 % of their time
# starting up and reading back each other's tables. The price: a changed definition reruns a
# partition's whole chain (regrowth/partition/process.py).
rule process_partition:
    wildcard_constraints:
        trial=PART_PATTERN,
    input:
        unpack(split_outputs),
    output:
        **partition_outputs(),
    log:
        job="logs/{trial}/process_partition.log",
        issues="logs/{trial}/validation.csv",  # a log: still there when the strict policy stops the trial
    conda:
        "../envs/regrowth.yaml"
    resources:
        # measured: ~3.0 GB peak for a 50,000-subject part (377 MB of CSV); 30 % to spare
        mem_mb=lambda wc, attempt: int((1000 + 8 * part_export_mb(trial_of(wc.trial))) * attempt),
        runtime=lambda wc: int(10 + part_export_mb(trial_of(wc.trial)) / 10),
    params:
        code=code("process_partition.py"),
        part=lambda w: part_of(w.trial),
        policy=policy,
        window_days=DEFS["visit_window_days"],
        endpoints=DEFS["endpoints"],
        grid_weeks=DEFS["visit_grid_weeks"],
        eot_week=eot_week,
        relapse=DEFS["relapse"],
        teae_window_days=DEFS["teae_window_days"],
        baseline=DEFS["baseline"],
        eot_window_days=DEFS["end_of_treatment"]["window_days_after_last_dose"],
        data_cut=lambda w: data_cut(trial(w)),
    script:
        "../scripts/process_partition.py"


rule combine_partitions:
    wildcard_constraints:
        trial=PARTITIONED_PATTERN,
    input:
        unpack(partition_inputs),
    output:
        **accepted_outputs(),
    # One thread: a second saved ~0.25 s at 200,000 subjects (1.3 -> 1.0 s), but waiting for a
    # second free core (another trial's job may hold one as the last parts end) cost up to 2 s.
    threads: 1
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
