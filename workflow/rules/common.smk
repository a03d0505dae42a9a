# Helpers shared by the rules: config and sheet validation, trial lookups, path lists.
import re

import pandas as pd
from snakemake.utils import validate

from regrowth.model import DOMAIN_NAMES

validate(config, "../schemas/config.schema.yaml")


def load_trials(path):
    sheet = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    sheet = sheet.apply(lambda col: col.str.strip())
    if "eot_week" in sheet.columns:
        sheet["eot_week"] = [int(v) if v.isdigit() else v for v in sheet["eot_week"]]
    rows = []
    for i, row in enumerate(sheet.to_dict("records"), start=2):
        row = {k: v for k, v in row.items() if v != ""}
        try:
            validate(row, "../schemas/trials.schema.yaml")
        except Exception as exc:
            raise ValueError(f"{path}, line {i}: invalid trial row: {exc}") from None
        rows.append(row)
    trials = pd.DataFrame(rows)
    if trials.empty:
        raise ValueError(f"{path}: the trial sheet lists no trials")
    dup = trials["trial_id"][trials["trial_id"].duplicated()].tolist()
    if dup:
        raise ValueError(f"{path}: trial_id listed more than once: {', '.join(dup)}")
    return trials.set_index("trial_id", drop=False)


TRIALS = load_trials(config["trials"])
TRIAL_IDS = sorted(TRIALS.index)
DEFS = config["definitions"]
SUMMARY_TABLES = [
    "efficacy",
    "regrowth_bands",
    "relapse",
    "safety",
    "demographics",
    "disposition",
    "comparisons",
]


wildcard_constraints:
    trial="|".join(re.escape(t) for t in TRIAL_IDS),
    domain="|".join(DOMAIN_NAMES),
    table="|".join(SUMMARY_TABLES),


def trial(wildcards):
    return TRIALS.loc[wildcards.trial]


def trial_exports(wildcards):
    from regrowth.ingest import export_files

    row = trial(wildcards)
    try:
        return [str(p) for p in export_files(row["path"], row["format"])]
    except Exception as exc:
        raise ValueError(f"trial {wildcards.trial}: {exc}") from None


def eot_week(wildcards):
    value = trial(wildcards).get("eot_week")
    return None if pd.isna(value) else int(value)


def domain_paths(stage, trial_id="{trial}"):
    return {d: f"results/{trial_id}/{stage}/{d}.parquet" for d in DOMAIN_NAMES}


def adam(name, trial_id="{trial}"):
    return f"results/{trial_id}/adam/{name}.parquet"


def trial_meta():
    keep = ["trial_id", "label", "format", "drug", "eot_week"]
    return [
        {k: (None if pd.isna(r.get(k)) else r.get(k)) for k in keep}
        for r in TRIALS.loc[TRIAL_IDS].to_dict("records")
    ]


def final_outputs():
    per_trial = []
    for t in TRIAL_IDS:
        per_trial += list(domain_paths("sdtm", t).values())
        per_trial += [adam(n, t) for n in ("adsl", "adsalt", "adtte", "adae")]
        per_trial.append(f"results/{t}/validation.parquet")
    tables = [f"results/tables/{n}.parquet" for n in SUMMARY_TABLES]
    return per_trial + tables + ["results/report.html"]
