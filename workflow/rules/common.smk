# Helpers shared by the rules: config and sheet validation, trial lookups, path lists.
import re
import sys
from pathlib import Path

from snakemake_interface_executor_plugins.settings import ExecMode

from regrowth import jobs
from regrowth.workflow import check_results_folder, job_environment, output_folders

job_environment()  # jobs start with Arrow's and polars' allocator settings (regrowth/workflow.py)
if workflow.exec_mode == ExecMode.DEFAULT:
    jobs.start_early(sys.argv[1:])  # the jobs' server imports its libraries while Snakemake parses

from snakemake.utils import validate

from snakemake.iocontainers import Snakemake as JobObject

from regrowth.definitions import check_weeks
from regrowth.model import DOMAIN_NAMES
from regrowth.partition import SPLITTABLE, part_names, part_path, roles_of, split_memory_mb
from regrowth.provenance import code_version
from regrowth.trial_sheet import load_trials, row_validator

validate(config, "../schemas/config.schema.yaml")


TRIALS = load_trials(config["trials"], row_validator(Path(workflow.basedir) / "workflow/schemas/trials.schema.yaml"))
RESULTS, LOGS = output_folders(config["trials"], config.get("results"))  # one results folder per sheet
check_results_folder(RESULTS, config["trials"])
for _row in TRIALS.values():  # a planned week off the visit grid would be 0 % at EOT
    check_weeks(config["definitions"], _row.get("eot_week"), _row["trial_id"])
SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"
CUT_IN_PATH = re.compile(r"(\d{4}-\d{2}-\d{2})")


def code(script):
    """Hash of a script and the regrowth code it imports: a param, so code changes rerun the rule."""
    return code_version(SCRIPTS / script)


def run_script(script, input, output, params, wildcards, threads, resources, log, rule):
    """Run workflow/scripts/<script> as this job, as Snakemake's script: directive would, in a
    process forked from one that has imported the libraries (regrowth/jobs.py). A Snakemake run
    only for this job (on a cluster node) runs it in its own process."""
    job = JobObject(input, output, params, wildcards, threads, resources, log, config, rule, None, str(SCRIPTS))
    jobs.run_script(SCRIPTS / script, job, fork=workflow.exec_mode == ExecMode.DEFAULT)


def data_cut(row):
    """The data cut of a trial's exports: sheet column data_cut, else a date in the folder name."""
    if isinstance(row.get("data_cut"), str) and row.get("data_cut"):
        return row["data_cut"]
    found = CUT_IN_PATH.findall(str(row["path"]))
    return found[-1] if found else None


TRIAL_IDS = sorted(TRIALS)


def export_files_of(trial_id):
    """The files of a trial's export that ingestion reads (an unreadable folder names the trial)."""
    from regrowth.exports import export_files

    row = TRIALS[trial_id]
    try:
        return [str(p) for p in export_files(row["path"], row["format"], reading_of(trial_id).mapping)]
    except Exception as exc:
        raise ValueError(f"trial {trial_id}: {exc}") from None


def reading_of(trial_id):
    """The trial sheet's reading settings (na_values, decimal, mapping) of a trial."""
    from regrowth.reading import Reading

    return Reading.from_sheet(TRIALS[trial_id])


def reading(wildcards):
    return reading_of(wildcards.trial).as_params()


def n_partitions(trial_id):
    """Sheet column `partitions`, else one per partitioning.export_mb_per_partition MB of an
    SDTM or Dataset-JSON export (REDCap exports are not split)."""
    from math import ceil

    row = TRIALS[trial_id]
    asked = row.get("partitions")
    splittable = row["format"] in SPLITTABLE
    if asked is not None:
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
SPLIT = [t for t in TRIAL_IDS if len(PARTS[t]) > 1]  # their parts are cut by split_export first


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
    "comparison_subjects",
]


wildcard_constraints:
    trial=_one_of(TRIAL_IDS),
    part=r"\d{3}",
    domain="|".join(DOMAIN_NAMES),
    table="|".join(SUMMARY_TABLES),


def trial(wildcards):
    return TRIALS[wildcards.trial]


def eot_week(wildcards):
    return trial(wildcards).get("eot_week")


def policy_of(trial_id):
    value = TRIALS[trial_id].get("policy")
    return value if isinstance(value, str) and value else config["validation"]["policy"]


def policy(wildcards):
    return policy_of(wildcards.trial)


# Record-level tables are Parquet datasets: a directory per table, one file per part, read
# whole by pyarrow, pandas, polars or DuckDB (results/T/adam/adsl/ for results/T/adam/adsl/part-000.parquet ...).
def part_file(table_dir, trial_id="{trial}", part="{part}"):
    return f"{RESULTS}/{trial_id}/{table_dir}/part-{part}.parquet"


def sdtm(domain, trial_id="{trial}", part="{part}"):
    return part_file(f"sdtm/{domain}", trial_id, part)


def adam(name, trial_id="{trial}", part="{part}"):
    return part_file(f"adam/{name}", trial_id, part)


def every_part(path_of, trial_id):
    """A table's part files of one trial, in part order."""
    return [path_of(trial_id, p) for p in PARTS[trial_id]]


def check_outputs(trial_id="{trial}", part="{part}"):
    """What the check job of one part writes: accepted SDTM, quarantine, the part's issue list,
    accounting and export files (the last three are combined per trial by collect_checks)."""
    out = {d: sdtm(d, trial_id, part) for d in DOMAIN_NAMES}
    out.update({f"q_{d}": part_file(f"quarantine/{d}", trial_id, part) for d in [*DOMAIN_NAMES, "unmapped"]})
    out.update({name: f"{RESULTS}/{trial_id}/parts/{part}/{name}.parquet" for name in ("validation", "accounting", "files")})
    return out


def check_inputs(wildcards):
    """A split trial's part is read from the split; a trial of one part from its export."""
    t = wildcards.trial
    if t in SPLIT:
        return {"files": f"{RESULTS}/{t}/split/files.parquet", "parts": f"{RESULTS}/{t}/split/parts",
                "split_issues": f"{RESULTS}/{t}/split/issues.parquet"}
    return {"exports": export_files_of(t)}


def part_export_mb(trial_id):
    """A part's share of its trial's export, in MB."""
    return export_mb(trial_id) / len(PARTS[trial_id])


def trial_checks(trial_id="{trial}"):
    """collect_checks' outputs: one trial's issue list, accounting and export files."""
    return {"validation": f"{RESULTS}/{trial_id}/validation.parquet", "validation_csv": f"{RESULTS}/{trial_id}/validation.csv",
            "accounting": f"{RESULTS}/{trial_id}/accounting.parquet", "files": f"{RESULTS}/{trial_id}/files.parquet"}


def adam_parts(wildcards, names):
    """Every part file of each of `names` (ADaM tables) of the trial: a summary's inputs."""
    return {name: every_part(lambda t, p: adam(name, t, p), wildcards.trial) for name in names}


def summary_inputs(wildcards, tables):
    """A summary job's inputs: every part of the ADaM tables its tables read (SUMMARY_INPUTS,
    summarize.smk), and the trial's issue list where the denominators' notes need it."""
    names = sorted({n for t in tables for n in SUMMARY_INPUTS[t]})
    out = adam_parts(wildcards, [n for n in names if n != "validation"])
    if "validation" in names:
        out["validation"] = f"{RESULTS}/{wildcards.trial}/validation.parquet"
    return out


def design_of(trial_id):
    """The sheet's design and control arm of a trial (a control only for a randomized trial)."""
    row = TRIALS[trial_id]
    design = row.get("design") if isinstance(row.get("design"), str) and row.get("design") else "single-arm"
    control = row.get("control") if isinstance(row.get("control"), str) and row.get("control") else None
    if design == "randomized" and control is None:
        raise ValueError(f"trial {trial_id}: design randomized needs the sheet column control (its control arm, "
                         "as its planned arm is named, e.g. Placebo)")
    if design != "randomized" and control is not None:
        raise ValueError(f"trial {trial_id}: a control arm ({control}) is given for a {design} trial; set design "
                         "randomized or leave control empty")
    return {"design": design, "control": control}


def summary_settings(table, trial_id):
    """A summary table's settings (SUMMARY_PARAMS, summarize.smk); the within-trial comparisons
    also take the trial's declared design and control arm (sheet columns design, control)."""
    settings = dict(SUMMARY_PARAMS.get(table, {}))
    if table == "comparisons":
        settings.update(design_of(trial_id))
    return settings


def trial_meta():
    keep = ["trial_id", "label", "format", "path", "drug", "eot_week", "simulated", "design", "control"]
    out = []
    for r in (TRIALS[t] for t in TRIAL_IDS):
        meta = {k: r.get(k) for k in keep}
        meta["data_cut"] = data_cut(r)
        meta["policy"] = policy_of(r["trial_id"])
        meta.update(design_of(r["trial_id"]))
        out.append(meta)
    return out


def output_rules():
    """Every final output and the rule that writes it (for the provenance manifest)."""
    out = {}
    for t in TRIAL_IDS:
        if t in SPLIT:
            for name in ("files", "issues"):
                out[f"{RESULTS}/{t}/split/{name}.parquet"] = "split_export"
            for part in PARTS[t]:
                for role in roles_of(TRIALS[t]["path"], TRIALS[t]["format"]):
                    out[str(part_path(f"{RESULTS}/{t}/split/parts", part, role))] = "split_export"
        for part in PARTS[t]:
            out.update({p: "check" for p in check_outputs(t, part).values()})
            out.update({adam(n, t, part): f"derive_{n}" for n in ADAM_TABLES})
        out.update({p: "collect_checks" for p in trial_checks(t).values()})
        out.update({f"{RESULTS}/{t}/tables/{n}.parquet": f"summarize_{g}" for g, names in SUMMARY_GROUPS.items()
                    for n in names})
    out.update({f"{RESULTS}/tables/{n}.parquet": "combine_tables" for n in SUMMARY_TABLES})
    out.update({f"{RESULTS}/tables/{n}.parquet": "compare_drugs" for n in COMPARE_TABLES})  # compare.smk
    out[f"{RESULTS}/report.html"] = "report"
    out[f"{RESULTS}/provenance/rulegraph.dot"] = "rule_graph"
    return out


def output_targets():
    """output_rules() as Snakemake targets: a split's part files stand behind their directory."""
    return sorted({re.sub(r"(/split/parts)/.*$", r"\1", p) for p in output_rules()})


def all_exports():
    return sorted(p for t in TRIAL_IDS for p in export_files_of(t))


def final_outputs():
    per_trial = []
    for t in TRIAL_IDS:
        for part in PARTS[t]:
            per_trial += [sdtm(d, t, part) for d in DOMAIN_NAMES]
            per_trial += [adam(n, t, part) for n in ADAM_TABLES]
        per_trial += list(trial_checks(t).values())
    tables = [f"{RESULTS}/tables/{n}.parquet" for n in [*SUMMARY_TABLES, *COMPARE_TABLES]]  # compare.smk
    provenance = [
        f"{RESULTS}/provenance/manifest.json",
        f"{RESULTS}/provenance/ro-crate-metadata.json",
    ]
    return per_trial + tables + [f"{RESULTS}/report.html"] + provenance
