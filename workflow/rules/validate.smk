# Validate: every rule on the canonical tables -> one issue list per trial; then the gate.


rule validate:
    wildcard_constraints:
        trial=WHOLE_PATTERN,
    input:
        **domain_paths("ingested"),
        issues="results/{trial}/ingested/issues.parquet",
        unmapped="results/{trial}/ingested/unmapped.parquet",
    output:
        parquet="results/{trial}/validation.parquet",
        csv="results/{trial}/validation.csv",
    log:
        "logs/{trial}/validate.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(60),
        runtime=lambda wc, input: int(10 + input.size_mb / 20),
    params:
        code=code("validate.py"),
        window_days=DEFS["visit_window_days"],
    script:
        "../scripts/validate.py"


# A separate job, so the issue list above survives when a trial with errors stops here.
rule accept:
    wildcard_constraints:
        trial=WHOLE_PATTERN,
    input:
        **domain_paths("ingested"),
        validation="results/{trial}/validation.parquet",
        files="results/{trial}/ingested/files.parquet",
        unmapped="results/{trial}/ingested/unmapped.parquet",
        links="results/{trial}/ingested/links.parquet",
    output:
        **domain_paths("sdtm"),
        **quarantine_paths(),
        accounting="results/{trial}/accounting.parquet",
    log:
        "logs/{trial}/accept.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(30),
        runtime=10,
    params:
        code=code("accept.py"),
        policy=policy,
    script:
        "../scripts/accept.py"
