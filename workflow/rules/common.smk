# Helpers shared by the rules: config and sheet validation, trial lookups, path lists.
import csv
import re
from pathlib import Path

import pandas as pd
from snakemake.utils import validate

from regrowth.definitions import check_weeks
from regrowth.model import DOMAIN_NAMES
from regrowth.partition.split import SPLITTABLE, part_names, split_memory_mb
from regrowth.provenance import code_version
from regrowth.workflow import job_environment

job_environment()  # jobs start with Arrow's allocator set to keep freed memory (regrowth/workflow.py)
validate(config, "../schemas/config.schema.yaml")


def read_sheet(path):
    """The sheet's cells as text and each row's line number; lines starting with '#' are comments.
    A row with more cells than the header is an error (pandas would silently take its first cell
    as an index)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            lines = [(n, row) for n, row in enumerate(csv.reader(fh, delimiter="\t"), start=1)
                     if row and not row[0].lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: not a readable tab-separated trial sheet: {exc}") from None
    if not lines:
        raise ValueError(f"{path}: the trial sheet is empty")
    header = [h.strip() for h in lines[0][1]]
    for n, row in lines[1:]:
        if len(row) > len(header):
            raise ValueError(f"{path}, line {n}: {len(row)} tab-separated cells, the header names {len(header)}")
    cells = [[c.strip() for c in row] + [""] * (len(header) - len(row)) for _, row in lines[1:]]
    return pd.DataFrame(cells, columns=header, dtype=str), [n for n, _ in lines[1:]]


def load_trials(path):
    sheet, line_numbers = read_sheet(path)
    for col in ("eot_week", "partitions"):
        if col in sheet.columns:
            sheet[col] = [int(v) if v.isdigit() else v for v in sheet[col]]
    if "simulated" in sheet.columns:
        words = {"yes": True, "true": True, "no": False, "false": False}
        sheet["simulated"] = [words.get(v.lower(), v) if v else v for v in sheet["simulated"]]
    rows = []
    for i, row in zip(line_numbers, sheet.to_dict("records")):
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
for _row in TRIALS.to_dict("records"):  # a planned week off the visit grid would be 0 % at EOT
    check_weeks(config["definitions"], None if pd.isna(_row.get("eot_week")) else int(_row["eot_week"]),
                _row["trial_id"])
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


def export_files_of(trial_id):
    """The files of a trial's export that ingestion reads (an unreadable folder names the trial)."""
    from regrowth.ingest import export_files

    row = TRIALS.loc[trial_id]
    try:
        return [str(p) for p in export_files(row["path"], row["format"])]
    except Exception as exc:
        raise ValueError(f"trial {trial_id}: {exc}") from None


def n_partitions(trial_id):
    """Sheet column `partitions`, else one per partitioning.export_mb_per_partition MB of an
    SDTM or Dataset-JSON export (REDCap exports are not split)."""
    from math import ceil

    row = TRIALS.loc[trial_id]
    asked = row.get("partitions")
    splittable = row["format"] in SPLITTABLE
    if asked is not None and not pd.isna(asked):
        if int(asked) > 1 and not splittable:
            raise ValueError(f"trial {trial_id}: only {', '.join(SPLITTABLE)} exports can be split into "
                             f"partitions, not {row['format']}")
        return int(asked)
    if not splittable:
        return 1
    return max(1, ceil(export_mb(trial_id) / config["partitioning"]["export_mb_per_partition"]))


def export_mb(trial_id):
    return sum(Path(p).stat().st_size for p in export_files_of(trial_id)) / 1e6


PARTS = {t: part_names(n_partitions(t)) for t in TRIAL_IDS}
PARTITIONED = [t for t in TRIAL_IDS if len(PARTS[t]) > 1]
WHOLE = [t for t in TRIAL_IDS if t not in PARTITIONED]
# Units of per-subject work: a whole trial (one job per stage), or one partition of a split
# trial ("T/parts/000", all stages in one job: see partition.smk).
PART_UNITS = [f"{t}/parts/{p}" for t in PARTITIONED for p in PARTS[t]]
UNITS = WHOLE + PART_UNITS


def memory_mb(per_input_mb, per_export_mb=None):
    """A rule's mem_mb: 1000 MB plus `per_input_mb` MB per MB of (Parquet) input, doubled on a
    retry. The factors are per-job peaks measured on 50,000-subject partitions of the benchmark's
    200,000-subject trial (benchmarks/run.py) with about 30 % to spare. `per_export_mb` is used
    instead for a job reading a raw export (CSV, XPT, JSON: larger on disk per row)."""

    def mem_mb(wc, input, attempt):
        per_mb = per_input_mb if per_export_mb is None else per_export_mb
        return int((1000 + per_mb * input.size_mb) * attempt)

    return mem_mb


def _one_of(values):
    return "|".join(re.escape(v) for v in values) if values else "(?!)"  # (?!) matches nothing


WHOLE_PATTERN = _one_of(WHOLE)
PART_PATTERN = _one_of(PART_UNITS)
TRIAL_PATTERN = _one_of(TRIAL_IDS)
PARTITIONED_PATTERN = _one_of(PARTITIONED)
DEFS = config["definitions"]
ADAM_TABLES = ["adsl", "adsalt", "adtte", "adae"]
SUMMARY_TABLES = [
    "efficacy",
    "regrowth_bands",
    "relapse",
    "safety",
    "demographics",
    "disposition",
    "comparisons",
    "km_curves",
    "salt_by_visit",
    "best_change",
    "populations",
    "denominators",
]


wildcard_constraints:
    trial=_one_of(sorted(set(UNITS) | set(TRIAL_IDS))),  # rules narrow it to UNIT/TRIAL/PARTITIONED_PATTERN
    domain="|".join(DOMAIN_NAMES),
    table="|".join(SUMMARY_TABLES),


def trial_of(unit):
    return Path(unit).parts[0]  # a unit is a trial id (no slash: sheet schema) or T/parts/000


def part_of(unit):
    pieces = Path(unit).parts
    return pieces[2] if len(pieces) == 3 else None


def trial(wildcards):
    return TRIALS.loc[trial_of(wildcards.trial)]


def split_outputs(wildcards):
    """What a partition's job reads: the split of its trial."""
    t = trial_of(wildcards.trial)
    return {"files": f"results/{t}/split/files.parquet", "parts": f"results/{t}/split/parts",
            "split_issues": f"results/{t}/split/issues.parquet"}


def part_export_mb(trial_id):
    """A partition's share of its trial's export, in MB."""
    return export_mb(trial_id) / len(PARTS[trial_id])


def eot_week(wildcards):
    value = trial(wildcards).get("eot_week")
    return None if pd.isna(value) else int(value)


def policy_of(trial_id):
    value = TRIALS.loc[trial_id].get("policy")
    return value if isinstance(value, str) and value else config["validation"]["policy"]


def policy(wildcards):
    return policy_of(trial_of(wildcards.trial))


def files_table(trial_id):
    """Per export file: name, format, sha256, rows (from ingest, or the split of a partitioned trial)."""
    stage = "split" if trial_id in PARTITIONED else "ingested"
    return f"results/{trial_id}/{stage}/files.parquet"


def ingest_outputs(unit="{trial}"):
    out = domain_paths("ingested", unit)
    out.update({name: f"results/{unit}/ingested/{name}.parquet" for name in ("files", "issues", "unmapped", "links")})
    return out


def accepted_outputs(unit="{trial}"):
    """A unit's outputs from validation on, by name: validate's, accept's and the derivations'.
    For a partitioned trial, combine_partitions writes these from its parts' own."""
    out = {**domain_paths("sdtm", unit), **quarantine_paths(unit)}
    out["accounting"] = f"results/{unit}/accounting.parquet"
    out["validation"] = f"results/{unit}/validation.parquet"
    out["validation_csv"] = f"results/{unit}/validation.csv"
    out.update({name: adam(name, unit) for name in ADAM_TABLES})
    return out


def writer_of(name):
    """The rule that writes accepted_outputs()[name] for a unit."""
    if name.startswith("validation"):
        return "validate"
    return f"derive_{name}" if name in ADAM_TABLES else "accept"


def unit_outputs(unit):
    """Every output of the per-subject stages for one whole trial, with the rule that writes it."""
    out = {p: "ingest" for p in ingest_outputs(unit).values()}
    out.update({p: writer_of(name) for name, p in accepted_outputs(unit).items()})
    return out


def partition_outputs(unit="{trial}"):
    """What process_partition writes: accepted_outputs() less the issue CSV, which it keeps
    with its logs (a CSV per part is for nobody; the combined trial has its own)."""
    return {name: p for name, p in accepted_outputs(unit).items() if name != "validation_csv"}


def quarantine_paths(trial_id="{trial}"):
    paths = {d: f"results/{trial_id}/quarantine/{d}.parquet" for d in DOMAIN_NAMES}
    paths["unmapped"] = f"results/{trial_id}/quarantine/unmapped.parquet"
    return {f"q_{k}": v for k, v in paths.items()}


def domain_paths(stage, trial_id="{trial}"):
    return {d: f"results/{trial_id}/{stage}/{d}.parquet" for d in DOMAIN_NAMES}


def adam(name, trial_id="{trial}"):
    return f"results/{trial_id}/adam/{name}.parquet"


def trial_meta():
    keep = ["trial_id", "label", "format", "path", "drug", "eot_week", "simulated"]
    out = []
    for r in TRIALS.loc[TRIAL_IDS].to_dict("records"):
        meta = {k: (None if pd.isna(r.get(k, None)) else r.get(k)) for k in keep}
        meta["data_cut"] = data_cut(r)
        meta["policy"] = policy_of(r["trial_id"])
        out.append(meta)
    return out


def partition_inputs(wildcards):
    """combine_partitions' inputs: each output its parts wrote, as a list over the parts."""
    parts = [partition_outputs(f"{wildcards.trial}/parts/{p}") for p in PARTS[wildcards.trial]]
    inputs = {name: [part[name] for part in parts] for name in parts[0]}
    inputs["files"] = f"results/{wildcards.trial}/split/files.parquet"
    return inputs


def output_rules():
    """Every final output and the rule that writes it (for the provenance manifest)."""
    from regrowth.partition.split import part_path, roles_of

    out = {}
    for t in TRIAL_IDS:
        if t in PARTITIONED:
            roles = roles_of(TRIALS.loc[t, "path"], TRIALS.loc[t, "format"])
            for name in ("files", "issues"):
                out[f"results/{t}/split/{name}.parquet"] = "split_export"
            for part in PARTS[t]:
                for role in roles:
                    out[str(part_path(f"results/{t}/split/parts", part, role))] = "split_export"
                out.update({p: "process_partition" for p in partition_outputs(f"{t}/parts/{part}").values()})
            out.update({p: "combine_partitions" for p in accepted_outputs(t).values()})
        else:
            out.update(unit_outputs(t))
        out.update(
            {
                f"results/{t}/tables/{n}.parquet": "summarize_trial"
                for n in SUMMARY_TABLES
            }
        )
    out.update({f"results/tables/{n}.parquet": "combine_tables" for n in SUMMARY_TABLES})
    out["results/report.html"] = "report"
    out["results/provenance/rulegraph.dot"] = "report"
    return out


def output_targets():
    """output_rules() as Snakemake targets: a split's part files stand behind their directory."""
    return sorted({re.sub(r"(/split/parts)/.*$", r"\1", p) for p in output_rules()})


def all_exports():
    return sorted(p for t in TRIAL_IDS for p in export_files_of(t))


def final_outputs():
    per_trial = []
    for t in TRIAL_IDS:
        per_trial += list(domain_paths("sdtm", t).values())
        per_trial += [adam(n, t) for n in ADAM_TABLES]
        per_trial.append(f"results/{t}/validation.parquet")
        per_trial.append(f"results/{t}/accounting.parquet")
    tables = [f"results/tables/{n}.parquet" for n in SUMMARY_TABLES]
    provenance = [
        "results/provenance/manifest.json",
        "results/provenance/ro-crate-metadata.json",
    ]
    return per_trial + tables + ["results/report.html"] + provenance
