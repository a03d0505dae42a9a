import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import regrowth.workflow as regrowth_workflow

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository: skipped when absent, except under CI where it must exist."""
    if not SHARED.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {SHARED} is missing: CI must provide ../shared beside the clone")
        pytest.skip(f"{SHARED} not present (tests that read ../shared need it beside the repository)")
    return SHARED


def copy_workflow(dest: Path) -> Path:
    """A fresh copy of the workflow, bundled data and package in `dest`, as a user's clone would be."""
    return regrowth_workflow.copy_workflow(ROOT, dest, with_package=True)


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """The bundled trials run once by Snakemake, for every module that needs a finished run. Never
    changed: a module that runs Snakemake again or edits files works on its own finished_copy."""
    work = copy_workflow(tmp_path_factory.mktemp("reference"))
    snakemake(work, check=True)
    return work


def finished_copy(run: Path, dest: Path) -> Path:
    """A copy of a finished run that Snakemake finds finished too: every file with its times, the
    .snakemake metadata included (nothing in it names the folder)."""
    shutil.copytree(run, dest, symlinks=True, ignore=shutil.ignore_patterns("locks", "incomplete"))
    return dest


def snakemake(workdir: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    # The copy's own package comes first, so a test may change library code in its copy only.
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc
