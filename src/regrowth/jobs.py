"""Each job in a process of its own that starts warm.

A job is a script under workflow/scripts/ run with Snakemake's `snakemake` object in its own
process (its memory, CPU time and crash stay its own), forked from a server process that has
imported polars, pandas, pyarrow and pandera once per run. Started as `python script.py` by
Snakemake's `script:` directive, every job spent about 1.5 CPU-s on imports before its first row.

Rules call it from `run:` blocks (common.smk's run_script). Snakemake runs those in threads of
its own process when told to (`force-use-threads`, profiles/default); each thread waits here for
its job's process. A Snakemake started for one job (on a cluster node) runs the job in itself.
A run's main Snakemake starts the server while it parses the workflow (start_early, common.smk),
so the server's imports overlap Snakemake's own start instead of delaying the first job.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.forkserver
import os
import runpy
import signal
import threading

# What most jobs import: loaded once, in the server, before it forks a job.
PRELOAD = [
    "polars",
    "pyarrow.parquet",
    "pandas",
    "pandera.polars",
    "regrowth.workflow",
    "regrowth.parquet_io",
    "regrowth.provenance",
    "regrowth.check",
    "regrowth.derive.contracts",
    "regrowth.derive.adsl",
    "regrowth.derive.adsalt",
    "regrowth.derive.adtte",
    "regrowth.derive.adae",
    "regrowth.summarize.tables",
    "regrowth.collect",
    "regrowth.datasets",
]

_lock = threading.Lock()
_context: multiprocessing.context.ForkServerContext | None = None
_jobs_started = False  # whether this process has forked a job


class JobFailed(Exception):
    """A job's process ended with an error; it has written the reason to its log and stderr."""


def _forkserver():
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            # at exit, stop the server and wait for it: its jobs' CPU time and memory then count
            # among this process's children (resource.getrusage, the benchmark's os.wait4)
            atexit.register(multiprocessing.forkserver._forkserver._stop)
            _context = context
    return _context


# Snakemake options under which no job runs: no server is started early for them.
NO_JOB_OPTIONS = frozenset({
    "--dry-run", "--dryrun", "--rulegraph", "--dag", "--filegraph", "--d3dag", "--summary", "-S",
    "--detailed-summary", "-D", "--list-rules", "--list", "-l", "--list-target-rules", "--lt", "--lint",
    "--report", "--unlock", "--cleanup-metadata", "--cm", "--cleanup-shadow", "--list-changes", "--lc",
    "--list-input-changes", "--li", "--list-params-changes", "--lp", "--list-code-changes", "--list-untracked",
    "--lu", "--delete-all-output", "--delete-temp-output", "--containerize", "--export-cwl", "--archive",
    "--generate-unit-tests", "--touch", "-t", "--version", "-v", "--help", "-h", "--print-compilation",
    "--mode", "--conda-create-envs-only", "--list-conda-envs", "--conda-cleanup-envs",
})
SHORT_DRY_RUN = "n"  # -n, alone or among a few one-letter flags (-np, -pn, -Fn; not -sSnakefile)


def runs_jobs(argv: list[str]) -> bool:
    """Whether a Snakemake started with these arguments runs jobs (not a dry run, a drawing, a
    listing, a lint or a report). Only decides whether to warm up early: a wrong answer costs a
    start-up or two CPU-seconds, never a result."""
    for arg in argv:
        option = arg.split("=", 1)[0]
        if option in NO_JOB_OPTIONS:
            return False
        # argparse takes a long option's unambiguous beginning (--dry for --dry-run)
        if option.startswith("--") and len(option) > 3 and any(o.startswith(option) for o in NO_JOB_OPTIONS):
            return False
        if arg.startswith("-") and not arg.startswith("--") and (
                arg[1:2] == SHORT_DRY_RUN or (arg[1:].isalpha() and len(arg) <= 5 and SHORT_DRY_RUN in arg[1:])):
            return False
    return True


def start_early(argv: list[str]) -> None:
    """Start the server now, while Snakemake parses the workflow and builds its DAG: its imports
    (about 2 s) then run on the other core instead of before the first job. For a run's main
    process only (the caller checks); the server must see the jobs' environment already set."""
    if runs_jobs(argv):
        _forkserver()
        multiprocessing.forkserver.ensure_running()
        # run last at exit, before the server is stopped: a run that stops before any job (a
        # parse error) need not wait for the server to finish its imports
        atexit.register(_stop_if_unused)


def _stop_if_unused() -> None:
    server = multiprocessing.forkserver._forkserver
    if not _jobs_started and server._forkserver_pid is not None:
        try:
            os.kill(server._forkserver_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _execute(script: str, snakemake) -> None:
    profile_dir = os.environ.get("REGROWTH_PROFILE_DIR")  # each job's cProfile, for benchmarks/
    if not profile_dir:
        runpy.run_path(script, init_globals={"snakemake": snakemake}, run_name="__regrowth_job__")
        return
    import cProfile

    profiler = cProfile.Profile()
    try:
        profiler.runcall(runpy.run_path, script, init_globals={"snakemake": snakemake}, run_name="__regrowth_job__")
    finally:
        wildcards = "_".join(str(v) for v in snakemake.wildcards)
        os.makedirs(profile_dir, exist_ok=True)
        profiler.dump_stats(os.path.join(profile_dir, f"{snakemake.rule}{'_' if wildcards else ''}{wildcards}.prof"))


def run_script(script: str | os.PathLike, snakemake, fork: bool = True) -> None:
    """Run `script` with the job's `snakemake` object, in a process forked for it (fork=True) or
    in this one; raise JobFailed naming the rule and its log if it fails."""
    if not fork:
        try:
            _execute(str(script), snakemake)
        except SystemExit as exc:  # workflow.run exits 1 once it has reported the error
            if exc.code not in (0, None):
                raise JobFailed(_failed(snakemake)) from None
        return
    global _jobs_started
    process = _forkserver().Process(target=_execute, args=(str(script), snakemake), name=snakemake.rule)
    with _lock:
        _jobs_started = True
        process.start()
        # Process.start polls every child process it knows of, from whichever thread calls it, and
        # two threads reading one child's exit status from the server garble it: each job's
        # thread alone waits for its process.
        multiprocessing.process._children.discard(process)
    process.join()
    if process.exitcode == 0:
        return
    if process.exitcode < 0:
        name = signal.Signals(-process.exitcode).name
        hint = " (SIGKILL: often the system's out-of-memory killer; see the rule's mem_mb)" if name == "SIGKILL" else ""
        raise JobFailed(f"{snakemake.rule}: the job's process was killed by {name}{hint}; log: {_logs(snakemake)}")
    raise JobFailed(_failed(snakemake))


def _logs(snakemake) -> str:
    return ", ".join(str(p) for p in snakemake.log) or "no log"


def _failed(snakemake) -> str:
    return f"{snakemake.rule} failed (see above and its log: {_logs(snakemake)})"


# Snakemake's scheduler wakes itself by threading.Timer: one second after each round that had
# jobs ready (its job rate limiter, --max-jobs-per-timespan 100/1s), ten while it waits for queue
# input. A timer is not a daemon thread, so the interpreter waits for the last one before it
# exits: up to a second at the end of a run.
RESCHEDULING_TIMER = "JobScheduler._schedule_reevalutation.<locals>.<lambda>"


def drop_rescheduling_timers() -> int:
    """Cancel the scheduler's pending re-evaluation timers once the run has ended (Snakefile's
    onsuccess and onerror: no job is left to schedule); the number cancelled. Timers of other
    code are left alone, and a Snakemake that names its timer otherwise loses only the second."""
    cancelled = 0
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer) and getattr(thread.function, "__qualname__", "") == RESCHEDULING_TIMER:
            thread.cancel()
            cancelled += 1
    return cancelled
