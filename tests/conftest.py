import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import regrowth.workflow as regrowth_workflow

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# The suite runs on two pytest-xdist workers, each test module on one of them (pyproject:
# -n 2 --dist loadfile), so a module's fixtures are made once. (loadgroup, which could also
# keep modules sharing a session fixture together, has no effect with pytest 9: xdist 3.8 sets
# a node id attribute pytest no longer reads.) The SLURM module, the longest, starts first.
FIRST_MODULE = "test_slurm"


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.module.__name__.rsplit(".", 1)[-1] != FIRST_MODULE)


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


def built_once(tmp_path_factory, name: str, build) -> Path:
    """`build(folder)` run once per test session for every xdist worker: the first worker to ask
    builds it under a lock while the others wait, then all share it (the xdist docs' pattern,
    with fcntl). Without xdist, the session's own temporary folder."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # shared by this session's workers
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker that failed half-way
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """The bundled trials run once by Snakemake, for every module that needs a finished run (one
    run for both workers: built_once). Never changed: a module that runs Snakemake again or
    edits files works on its own finished_copy."""
    def build(folder):
        work = copy_workflow(folder / "work")
        snakemake(work, check=True)

    return built_once(tmp_path_factory, "reference", build) / "work"


@pytest.fixture(scope="session")
def split_reference_run(tmp_path_factory) -> tuple[Path, Path]:
    """A messy 40-subject export (tests.builders) run by Snakemake as one part (trial WHOLE) and as
    four (SPLIT), once for both workers (built_once), for every module that compares parts or
    runs them elsewhere (SLURM). Never changed; the sheet is config/partition_trials.tsv.
    Returns the run and the export."""
    from tests.builders import PARTITION_SHEET_HEADER, messy_partition_trial, partition_sheet_row

    def build(base):
        work = copy_workflow(base / "work")
        export = base / "sim" / "SIM001"
        messy_partition_trial(export, ROOT / "resources/trials/NCT01950780/mapping.yaml")
        (work / PARTITION_SHEET).write_text(PARTITION_SHEET_HEADER + partition_sheet_row("WHOLE", export, 1)
                                            + partition_sheet_row("SPLIT", export, 4), encoding="utf-8")
        snakemake(work, "--config", f"trials={PARTITION_SHEET}", check=True)

    base = built_once(tmp_path_factory, "partition", build)
    return base / "work", base / "sim" / "SIM001"


PARTITION_SHEET = "config/partition_trials.tsv"
PARTITION_RESULTS = regrowth_workflow.output_folders(PARTITION_SHEET)[0]  # results-partition_trials


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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) or importlib.util.find_spec("playwright") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Chromium or Playwright is missing: .ci/run installs both")
        pytest.skip("Chromium (Debian package chromium) or the playwright package is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
