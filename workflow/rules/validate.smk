# Validate: every rule on the canonical tables -> one issue list per trial; then the gate.


rule validate:
    input:
        **domain_paths("ingested"),
        issues="results/{trial}/ingested/issues.parquet",
    output:
        "results/{trial}/validation.parquet",
    log:
        "logs/{trial}/validate.log",
    conda:
        "../envs/regrowth.yaml"
    params:
        code=code("validate.py"),
    script:
        "../scripts/validate.py"


# A separate job, so the issue list above survives when a trial with errors stops here.
rule accept:
    input:
        **domain_paths("ingested"),
        validation="results/{trial}/validation.parquet",
    output:
        **domain_paths("sdtm"),
    log:
        "logs/{trial}/accept.log",
    conda:
        "../envs/regrowth.yaml"
    params:
        code=code("accept.py"),
    script:
        "../scripts/accept.py"
