# Compare: the drugs across trials, from the evidence table (processed trials' efficacy tables and
# published arms) and the patients' summary table: network meta-analysis and MAIC.

COMPARISON = config["comparison"]
COMPARE_TABLES = ["evidence", "nma_effects", "nma_fit", "nma_league", "nma_ranking", "bucher", "nma_sensitivity",
                  "maic", "maic_balance", "published_nmas"]
if COMPARISON["endpoint"] not in [e["name"] for e in DEFS["endpoints"]]:
    raise ValueError(f"config comparison.endpoint {COMPARISON['endpoint']!r} is not one of definitions.endpoints: "
                     + ", ".join(e["name"] for e in DEFS["endpoints"]))


rule compare_drugs:
    input:
        efficacy=f"{RESULTS}/tables/efficacy.parquet",
        subjects=f"{RESULTS}/tables/comparison_subjects.parquet",
        published=COMPARISON["published_arms"],
        targets=COMPARISON["maic_targets"],
        published_nmas=COMPARISON["published_nmas"],
    output:
        **{t: f"{RESULTS}/tables/{t}.parquet" for t in COMPARE_TABLES},
    log:
        f"{LOGS}/compare_drugs.log",
    params:
        code=code("compare_drugs.py"),
        trials=trial_meta(),
        comparison=COMPARISON,
    run:
        run_script("compare_drugs.py", input, output, params, wildcards, threads, resources, log, rule)
