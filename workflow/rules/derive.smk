# Derive: ADaM-style analysis tables, part by part (parts hold whole subjects).


rule derive_adsl:
    input:
        dm=sdtm("dm"),
        ex=sdtm("ex"),
        ds=sdtm("ds"),
        mh=sdtm("mh"),
        rs=sdtm("rs"),
        sv=sdtm("sv"),
    output:
        adam("adsl"),
    log:
        f"{LOGS}/{{trial}}/{{part}}/derive_adsl.log",
    resources:
        mem_mb=memory_mb(50),
        runtime=10,
    params:
        code=code("derive_adsl.py"),
        data_cut=lambda w: data_cut(trial(w)),
        baseline=DEFS["baseline"],
    run:
        run_script("derive_adsl.py", input, output, params, wildcards, threads, resources, log, rule)


rule derive_adsalt:
    input:
        rs=sdtm("rs"),
        adsl=adam("adsl"),
    output:
        adam("adsalt"),
    log:
        f"{LOGS}/{{trial}}/{{part}}/derive_adsalt.log",
    resources:
        mem_mb=memory_mb(120),
        runtime=lambda wc, input: int(10 + input.size_mb / 20),
    params:
        code=code("derive_adsalt.py"),
        endpoints=DEFS["endpoints"],
        grid_weeks=DEFS["visit_grid_weeks"],
        window_days=DEFS["visit_window_days"],
        eot_week=eot_week,
        baseline=DEFS["baseline"],
        eot_window_days=DEFS["end_of_treatment"]["window_days_after_last_dose"],
    run:
        run_script("derive_adsalt.py", input, output, params, wildcards, threads, resources, log, rule)


rule derive_adtte:
    # it waits for ADSALT and the relapse table waits for it: run it before ready summaries
    priority: 5
    input:
        adsl=adam("adsl"),
        adsalt=adam("adsalt"),
    output:
        adam("adtte"),
    log:
        f"{LOGS}/{{trial}}/{{part}}/derive_adtte.log",
    resources:
        mem_mb=memory_mb(65),
        runtime=10,
    params:
        code=code("derive_adtte.py"),
        endpoints=DEFS["endpoints"],
        relapse=DEFS["relapse"],
        time_to_event=DEFS["time_to_event"],
    run:
        run_script("derive_adtte.py", input, output, params, wildcards, threads, resources, log, rule)


rule derive_adae:
    input:
        ae=sdtm("ae"),
        adsl=adam("adsl"),
    output:
        adam("adae"),
    log:
        f"{LOGS}/{{trial}}/{{part}}/derive_adae.log",
    resources:
        mem_mb=memory_mb(10),
        runtime=10,
    params:
        code=code("derive_adae.py"),
        window_days=DEFS["teae_window_days"],
    run:
        run_script("derive_adae.py", input, output, params, wildcards, threads, resources, log, rule)
