# Derive: ADaM-style analysis tables per trial.


rule derive_adsl:
    wildcard_constraints:
        trial=WHOLE_PATTERN,
    input:
        dm="results/{trial}/sdtm/dm.parquet",
        ex="results/{trial}/sdtm/ex.parquet",
        ds="results/{trial}/sdtm/ds.parquet",
        mh="results/{trial}/sdtm/mh.parquet",
        rs="results/{trial}/sdtm/rs.parquet",
        sv="results/{trial}/sdtm/sv.parquet",
    output:
        adam("adsl"),
    log:
        "logs/{trial}/derive_adsl.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(50),
        runtime=10,
    params:
        code=code("derive_adsl.py"),
        data_cut=lambda w: data_cut(trial(w)),
        baseline=DEFS["baseline"],
    script:
        "../scripts/derive_adsl.py"


rule derive_adsalt:
    wildcard_constraints:
        trial=WHOLE_PATTERN,
    input:
        rs="results/{trial}/sdtm/rs.parquet",
        adsl=adam("adsl"),
    output:
        adam("adsalt"),
    log:
        "logs/{trial}/derive_adsalt.log",
    conda:
        "../envs/regrowth.yaml"
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
    script:
        "../scripts/derive_adsalt.py"


rule derive_adtte:
    wildcard_constraints:
        trial=WHOLE_PATTERN,
    # it waits for ADSALT and the relapse table waits for it: run it before ready summaries
    priority: 5
    input:
        adsl=adam("adsl"),
        adsalt=adam("adsalt"),
    output:
        adam("adtte"),
    log:
        "logs/{trial}/derive_adtte.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(65),
        runtime=10,
    params:
        code=code("derive_adtte.py"),
        endpoints=DEFS["endpoints"],
        relapse=DEFS["relapse"],
        time_to_event=DEFS["time_to_event"],
    script:
        "../scripts/derive_adtte.py"


rule derive_adae:
    wildcard_constraints:
        trial=WHOLE_PATTERN,
    input:
        ae="results/{trial}/sdtm/ae.parquet",
        adsl=adam("adsl"),
    output:
        adam("adae"),
    log:
        "logs/{trial}/derive_adae.log",
    conda:
        "../envs/regrowth.yaml"
    resources:
        mem_mb=memory_mb(10),
        runtime=10,
    params:
        code=code("derive_adae.py"),
        window_days=DEFS["teae_window_days"],
    script:
        "../scripts/derive_adae.py"
