import json
from pathlib import Path

from regrowth.provenance import build_manifest
from regrowth.provenance_crate import write_run_crate
from regrowth.workflow import run


def main(snakemake):
    p = snakemake.params
    results = Path(snakemake.output.manifest).parent.parent  # <results>/provenance/manifest.json
    manifest = build_manifest(dict(p.outputs), list(snakemake.input.exports), list(p.trials), dict(p.config),
                              workers=snakemake.threads, results_dir=str(results))
    Path(snakemake.output.manifest).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    write_run_crate(manifest, Path(".snakemake/metadata"), Path(snakemake.output.crate))


run(snakemake, main)  # noqa: F821
