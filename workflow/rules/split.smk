# Split: a large SDTM or Dataset-JSON export is cut by subject into parts (results/{trial}/split/
# parts/{000,...}), each then checked and derived by the same rules as a trial of one part.


rule split_export:
    wildcard_constraints:
        trial=_one_of(SPLIT),
    input:
        lambda w: export_files_of(w.trial),
    output:
        parts=directory(f"{RESULTS}/{{trial}}/split/parts"),
        files=f"{RESULTS}/{{trial}}/split/files.parquet",
        issues=f"{RESULTS}/{{trial}}/split/issues.parquet",
    # the split heads the longest chain of jobs: when cores are short, Snakemake runs it first
    priority: 10
    threads: 2  # reads, writes and hashes in threads (~1.7 cores busy)
    log:
        f"{LOGS}/{{trial}}/split_export.log",
    resources:
        mem_mb=lambda wc, input, attempt: split_memory_mb(input) * attempt,
        runtime=lambda wc, input: int(10 + input.size_mb / 50),
    params:
        code=code("split_export.py"),
        folder=lambda w: trial(w)["path"],
        fmt=lambda w: trial(w)["format"],
        reading=reading,
        n_parts=lambda w: len(PARTS[w.trial]),
    run:
        run_script("split_export.py", input, output, params, wildcards, threads, resources, log, rule)
