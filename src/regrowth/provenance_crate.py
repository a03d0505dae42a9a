"""A Workflow Run RO-Crate (Provenance Run Crate profile) for a workflow run, with `rocrate`.

The workflow (Snakefile) is the main entity; each job that wrote an output becomes a
CreateAction with its rule as instrument, its inputs as object, its outputs as result, and the
start and end times Snakemake recorded in .snakemake/metadata.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

from rocrate.model.contextentity import ContextEntity
from rocrate.rocrate import ROCrate

PROFILES = ["https://w3id.org/ro/wfrun/process/0.5", "https://w3id.org/ro/wfrun/workflow/0.5",
            "https://w3id.org/ro/wfrun/provenance/0.5", "https://w3id.org/workflowhub/workflow-ro-crate/1.0"]


def _job_records(metadata_dir: Path, outputs: list[str]) -> dict[str, dict]:
    out = {}
    for path in outputs:
        f = metadata_dir / base64.b64encode(path.encode()).decode()
        if f.is_file():
            out[path] = json.loads(f.read_text())
    return out


def _iso(ts) -> str | None:
    return None if ts is None else datetime.fromtimestamp(float(ts), tz=timezone.utc).isoformat()


def write_run_crate(manifest: dict, metadata_dir: Path, crate_path: Path) -> None:
    crate = ROCrate()
    root = Path(".")
    workflow = crate.add_workflow(root / "Snakefile", "Snakefile", main=True, lang="snakemake",
                                  properties={"name": "regrowth workflow"})
    crate.root_dataset["conformsTo"] = [{"@id": p} for p in PROFILES]
    files = {}
    for entry in manifest["inputs"] + manifest["outputs"]:
        path, props = entry["path"], {"sha256": entry["sha256"], "contentSize": entry["bytes"]}
        if Path(path).is_absolute() or path.startswith(".."):  # outside the crate root: by URI
            files[path] = crate.add_file(Path(path).resolve().as_uri(), properties=props)
        else:
            files[path] = crate.add_file(root / path, path, properties=props)
    records = _job_records(metadata_dir, [e["path"] for e in manifest["outputs"]])
    steps = {}
    jobs: dict[tuple, dict] = {}
    for path, rec in records.items():  # outputs of one job share its start time and inputs
        key = (rec.get("rule"), rec.get("starttime"), tuple(rec.get("input") or []))
        jobs.setdefault(key, {"rec": rec, "outputs": []})["outputs"].append(path)
    for n, ((rule, _start, inputs), job) in enumerate(sorted(jobs.items(), key=lambda kv: str(kv[0])), start=1):
        if rule not in steps:
            steps[rule] = crate.add(ContextEntity(crate, f"#rule-{rule}", properties={
                "@type": "HowToStep", "name": rule, "workExample": {"@id": workflow.id}}))
        crate.add_action(steps[rule], identifier=f"#job-{n}", object=[files[i] for i in inputs if i in files],
                         result=[files[o] for o in job["outputs"] if o in files],
                         properties={"name": f"{rule} job", "startTime": _iso(job["rec"].get("starttime")),
                                     "endTime": _iso(job["rec"].get("endtime"))})
    crate.add_action(workflow, identifier="#run", object=[files[e["path"]] for e in manifest["inputs"]],
                     result=[files[e["path"]] for e in manifest["outputs"]],
                     properties={"name": "regrowth workflow run"})
    # Files are described in place: their ids are relative to the repository root (the crate
    # root), not copied next to the metadata file.
    crate.root_dataset["description"] = "Crate root: the workflow's working directory (two levels above this file)."
    crate_path.parent.mkdir(parents=True, exist_ok=True)
    crate_path.write_text(json.dumps(crate.metadata.generate(), indent=1) + "\n")
