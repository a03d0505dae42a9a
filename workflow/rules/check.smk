# Check: each part of a trial (the whole export when it has one part) is read into the canonical
# SDTM-named model, validated and gated; then each trial's issue list and accounting.


# Ingest, validation and the gate in one job: the issue list needs every table read, the gate
# needs the issue list, and in between the tables need not be written and read back.
rule check:
    input:
        unpack(check_inputs),
    output:
        **check_outputs(),
    log:
        job=f"{LOGS}/{{trial}}/{{part}}/check.log",
        issues=f"{LOGS}/{{trial}}/{{part}}/validation.csv",  # a log: still there when the strict policy stops the trial
    resources:
        # measured: ~3.0 GB peak for a 50,000-subject part (377 MB of CSV); 30 % to spare
        mem_mb=lambda wc, attempt: int((1000 + 8 * part_export_mb(wc.trial)) * attempt),
        runtime=lambda wc: int(10 + part_export_mb(wc.trial) / 10),
    params:
        code=code("check.py"),
        folder=lambda w: trial(w)["path"],
        fmt=lambda w: trial(w)["format"],
        reading=reading,
        parts=lambda w: PARTS[w.trial],
        policy=policy,
        window_days=DEFS["visit_window_days"],
    run:
        run_script("check.py", input, output, params, wildcards, threads, resources, log, rule)


# One trial's issue list (trial-level issues that every part reports listed once), its
# accounting (the parts must add up to each export file) and its export files.
rule collect_checks:
    input:
        validation=lambda w: every_part(lambda t, p: f"{RESULTS}/{t}/parts/{p}/validation.parquet", w.trial),
        accounting=lambda w: every_part(lambda t, p: f"{RESULTS}/{t}/parts/{p}/accounting.parquet", w.trial),
        files=lambda w: every_part(lambda t, p: f"{RESULTS}/{t}/parts/{p}/files.parquet", w.trial),
        # a split trial's files as the split counted them: the parts must add up to them
        whole_files=lambda w: [f"{RESULTS}/{w.trial}/split/files.parquet"] if w.trial in SPLIT else [],
    output:
        **trial_checks(),
    log:
        f"{LOGS}/{{trial}}/collect_checks.log",
    resources:
        mem_mb=memory_mb(15),
        runtime=10,
    params:
        code=code("collect_checks.py"),
    run:
        run_script("collect_checks.py", input, output, params, wildcards, threads, resources, log, rule)
