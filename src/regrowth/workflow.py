"""Glue between Snakemake's `snakemake` object and the package: logging, errors, metadata.

Scripts under workflow/scripts/ call run(snakemake, main) and nothing else.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import sys
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from regrowth import __version__
from regrowth.errors import RegrowthError

log = logging.getLogger("regrowth")


def software_versions() -> dict[str, str]:
    out = {"regrowth": __version__, "python": sys.version.split()[0]}
    for pkg in ("snakemake", "pandas", "pyarrow", "pandera", "pyreadstat", "numpy", "scipy", "matplotlib", "jinja2"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def output_metadata(snakemake) -> dict:
    """Key-value metadata every Parquet output of a job carries (no times: outputs stay byte-stable)."""
    from regrowth.provenance import job_metadata

    return job_metadata(snakemake, software_versions())


# jemalloc keeps the memory a job frees for its next allocation instead of handing it back to
# the system after a second (Arrow's setting): a 50,000-subject partition's job faulted in 6 GB
# for a 3 GB peak, 1.6 million page faults and ~4.5 s in the kernel of ~13 s; with this, 0.8
# million and ~11 s, for ~0.35 GB more peak memory. jemalloc reads it once, when pyarrow loads,
# so it is set in the environment jobs start with (job_environment, called by common.smk).
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"

# polars' own jemalloc hands freed memory back within a second (its default dirty_decay_ms:500)
# and faults it in again 4 KB at a time. POLARS_THP=1 (polars' switch) has it ask the kernel for
# transparent huge pages where the kernel grants them on request ("madvise", as on the VM; with
# "never" nothing changes): one fault per 2 MB. On a 50,000-subject part: check 2.0 -> 0.3 million
# page faults, kernel time 6.0 -> 3.1 s; ADSALT 2.7 -> 0.22 million, 7-8 -> 3.7 s; each job's peak
# RSS, measured alone, within 2 %. Keeping freed memory instead (dirty_decay_ms:-1) saved as much
# but raised the peak to 2.5-3.1 GB per job.
POLARS_THP = "1"


def job_environment() -> None:
    """Environment every job inherits from Snakemake (a user's own JE_ARROW_MALLOC_CONF and
    POLARS_THP win)."""
    os.environ.setdefault("JE_ARROW_MALLOC_CONF", JEMALLOC_CONF)
    os.environ.setdefault("POLARS_THP", POLARS_THP)


def use_jemalloc() -> str:
    """Arrow buffers from jemalloc, unless ARROW_DEFAULT_MEMORY_POOL chooses: pyarrow's default
    (mimalloc) hands freed memory straight back to the system, and faulting it in again doubled
    the time of an ingest job on a 50,000-subject partition (7.1 s, 5.5 of them in the kernel,
    against 3.8 s with jemalloc). Builds without jemalloc keep their default. Returns the pool's name."""
    import pyarrow as pa

    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
        except NotImplementedError:
            pass
    return pa.default_memory_pool().backend_name


def resource_use() -> str:
    """This process's CPU time, peak memory and page faults, for the job's log."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (f"resources: user {r.ru_utime:.2f} s, system {r.ru_stime:.2f} s, peak RSS {r.ru_maxrss / 1024:.0f} MB, "
            f"{r.ru_minflt} minor page faults")


def run(snakemake, main: Callable) -> None:
    pool = use_jemalloc()
    log_path = Path(snakemake.log[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # polars writes the setting its jemalloc started with into _RJEM_MALLOC_CONF
    log.info("Arrow memory pool: %s (JE_ARROW_MALLOC_CONF=%s); polars' jemalloc: %s", pool,
             os.environ.get("JE_ARROW_MALLOC_CONF", "unset"), os.environ.get("_RJEM_MALLOC_CONF", "unset"))
    try:
        main(snakemake)
    except RegrowthError as exc:
        log.error("%s", exc)
        sys.stderr.write(f"\nregrowth: {snakemake.rule} failed: {exc}\n(log: {log_path})\n")
        sys.exit(1)
    except Exception:
        log.error("unexpected failure (a bug, please report it):\n%s", traceback.format_exc())
        raise
    finally:
        log.info("%s", resource_use())
        handler.close()
        root.removeHandler(handler)


DEFAULT_SHEET = "config/trials.tsv"


def output_folders(trials_sheet: str, results: str | None = None) -> tuple[str, str]:
    """(results folder, logs folder) of a run, so that runs of different sheets never overwrite
    each other: config `results` where set, else results/ for the bundled sheet
    (config/trials.tsv, however it is written) and results-<sheet name>/ for any other
    (config/other.tsv -> results-other/). Logs go to logs/ beside results/, and inside any other
    results folder. A folder that would hold the workflow's own files, or sit inside another
    run's, is refused."""
    if not results:
        sheet = Path(trials_sheet)
        same = os.path.realpath(sheet) == os.path.realpath(DEFAULT_SHEET)
        results = "results" if same else f"results-{re.sub(r'[^A-Za-z0-9_.-]+', '_', sheet.stem)}"
    results = os.path.normpath(results)
    inside = [top for top in ("results", "logs", *WORKFLOW_FILES) if results == top or results.startswith(top + os.sep)]
    if results == "." or (inside and results != "results"):
        raise ValueError(f"config results={results}: a results folder must be a folder of its own, not the working "
                         f"folder, nor in {inside[0] if inside else '.'}/ (another run's or the workflow's files)")
    return results, ("logs" if results == "results" else os.path.join(results, "logs"))


def check_results_folder(results: str, trials_sheet: str) -> None:
    """Stops when `results` holds the run of another trial sheet (its manifest names the sheet):
    two sheets of the same name in different folders would otherwise share results-<name>/."""
    import json

    manifest = Path(results) / "provenance" / "manifest.json"
    try:
        earlier = json.loads(manifest.read_text())["config"]["trials"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no finished run there yet
    if os.path.realpath(earlier) != os.path.realpath(trials_sheet):
        raise ValueError(f"{results}/ holds the run of the trial sheet {earlier}, not of {trials_sheet}: give this "
                         f"sheet its own folder with --config results=<folder> (or delete {results}/ to replace "
                         f"that run)")


WORKFLOW_FILES = ["Snakefile", "workflow", "config", "resources", "profiles"]


def copy_workflow(root: Path, dest: Path, with_package: bool = False) -> Path:
    """A fresh copy of the workflow and its bundled data, as a user's clone would hold them
    (for tests and benchmarks); with_package also copies src/ so a copy can change its code."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES + (["src"] if with_package else []):
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest
