import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from regrowth.errors import RegrowthError
from regrowth.workflow import run


def main(snakemake):
    # The rule graph of this workflow, from Snakemake itself. It does not depend on analysis
    # definitions, so the config is read here rather than passed as a (rerun-triggering) param.
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(dict(snakemake.config), fh)
    try:
        proc = subprocess.run([sys.executable, "-m", "snakemake", "--rulegraph", "--nolock", "--quiet", "all",
                               "--configfile", fh.name, "--workflow-profile", "none"],
                              capture_output=True, text=True, timeout=600)
    finally:
        Path(fh.name).unlink()
    if proc.returncode != 0 or "digraph" not in proc.stdout:
        raise RegrowthError(f"snakemake --rulegraph failed:\n{proc.stderr[-2000:]}")
    Path(snakemake.output[0]).write_text(proc.stdout[proc.stdout.index("digraph"):])


run(snakemake, main)  # noqa: F821
