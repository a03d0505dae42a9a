# Helpers shared by the rules: config and sheet validation, trial lookups, path lists.
import re
from pathlib import Path

import pandas as pd
from snakemake.utils import validate

from regrowth.model import DOMAIN_NAMES
from regrowth.provenance import code_version

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
SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"
CUT_IN_PATH = re.compile(r"(\d{4}-\d{2}-\d{2})")


def code(script):
    """Hash of a script and the regrowth code it imports: a param, so code changes rerun the rule."""
    return code_version(SCRIPTS / script)


def data_cut(row):
    """The data cut of a trial's exports: sheet column data_cut, else a date in the folder name."""
    if isinstance(row.get("data_cut"), str) and row.get("data_cut"):
        return row["data_cut"]
    found = CUT_IN_PATH.findall(str(row["path"]))
    return found[-1] if found else None


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


def policy_of(trial_id):
    value = TRIALS.loc[trial_id].get("policy")
    return value if isinstance(value, str) and value else config["validation"]["policy"]


def policy(wildcards):
    return policy_of(wildcards.trial)


def quarantine_paths(trial_id="{trial}"):
    paths = {d: f"results/{trial_id}/quarantine/{d}.parquet" for d in DOMAIN_NAMES}
    paths["unmapped"] = f"results/{trial_id}/quarantine/unmapped.parquet"
    return {f"q_{k}": v for k, v in paths.items()}


def domain_paths(stage, trial_id="{trial}"):
    return {d: f"results/{trial_id}/{stage}/{d}.parquet" for d in DOMAIN_NAMES}


def adam(name, trial_id="{trial}"):
    return f"results/{trial_id}/adam/{name}.parquet"


def trial_meta():
    keep = ["trial_id", "label", "format", "path", "drug", "eot_week"]
    out = []
    for r in TRIALS.loc[TRIAL_IDS].to_dict("records"):
        meta = {k: (None if pd.isna(r.get(k, None)) else r.get(k)) for k in keep}
        meta["data_cut"] = data_cut(r)
        meta["policy"] = policy_of(r["trial_id"])
        out.append(meta)
    return out


def output_rules():
    """Every final output and the rule that writes it (for the provenance manifest)."""
    out = {}
    for t in TRIAL_IDS:
        out.update({p: "ingest" for p in domain_paths("ingested", t).values()})
        out[f"results/{t}/ingested/files.parquet"] = "ingest"
        out[f"results/{t}/ingested/issues.parquet"] = "ingest"
        out[f"results/{t}/ingested/unmapped.parquet"] = "ingest"
        out[f"results/{t}/ingested/links.parquet"] = "ingest"
        out[f"results/{t}/validation.parquet"] = "validate"
        out[f"results/{t}/validation.csv"] = "validate"
        out.update({p: "accept" for p in domain_paths("sdtm", t).values()})
        out.update({p: "accept" for p in quarantine_paths(t).values()})
        out[f"results/{t}/accounting.parquet"] = "accept"
        out.update(
            {adam(n, t): f"derive_{n}" for n in ("adsl", "adsalt", "adtte", "adae")}
        )
        out.update(
            {
                f"results/{t}/tables/{n}.parquet": "summarize_trial"
                for n in SUMMARY_TABLES
            }
        )
    out.update({f"results/tables/{n}.parquet": "combine_table" for n in SUMMARY_TABLES})
    out["results/report.html"] = "report"
    out["results/provenance/rulegraph.dot"] = "rulegraph"
    return out


def all_exports():
    from regrowth.ingest import export_files

    files = []
    for t in TRIAL_IDS:
        row = TRIALS.loc[t]
        files += [str(p) for p in export_files(row["path"], row["format"])]
    return sorted(files)


def final_outputs():
    per_trial = []
    for t in TRIAL_IDS:
        per_trial += list(domain_paths("sdtm", t).values())
        per_trial += [adam(n, t) for n in ("adsl", "adsalt", "adtte", "adae")]
        per_trial.append(f"results/{t}/validation.parquet")
        per_trial.append(f"results/{t}/accounting.parquet")
    tables = [f"results/tables/{n}.parquet" for n in SUMMARY_TABLES]
    provenance = [
        "results/provenance/manifest.json",
        "results/provenance/ro-crate-metadata.json",
    ]
    return per_trial + tables + ["results/report.html"] + provenance
