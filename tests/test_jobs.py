"""Jobs forked from a warm server (regrowth.jobs): results, failures and crashes stay the job's own."""

import os
import threading
from pathlib import Path

import pytest
from snakemake.iocontainers import InputFiles, Log, OutputFiles, Params, ResourceList, Snakemake, Wildcards

from regrowth.jobs import JobFailed, run_script

SCRIPT = """
import os
import signal

from regrowth.errors import InputError
from regrowth.workflow import run


def main(snakemake):
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc
    how = snakemake.params.how
    if how == "input error":
        raise InputError("dm.csv, column SEX: 'Q' is not a sex code; fix the export")
    if how == "bug":
        raise KeyError("a bug")
    if how == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    # polars' and Arrow's thread pools start in the job, not in the server it was forked from
    frame = pl.DataFrame({"k": [i % 97 for i in range(200_000)], "v": range(200_000)})
    total = frame.group_by("k").agg(pl.col("v").sum()).sort("k")["v"].sum()
    total += pc.sum(pa.array(range(100_000))).as_py()
    with open(snakemake.output[0], "w") as out:
        out.write(f"{total} {os.getpid()}")


run(snakemake, main)
"""


def job(tmp_path: Path, name: str, how: str = "ok") -> Snakemake:
    return Snakemake(InputFiles(), OutputFiles([str(tmp_path / f"{name}.txt")]), Params(fromdict={"how": how}),
                     Wildcards(), 1, ResourceList(), Log([str(tmp_path / f"{name}.log")]), {}, name, None,
                     str(tmp_path))


@pytest.fixture()
def script(tmp_path):
    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    return path


EXPECTED = sum(range(200_000)) + sum(range(100_000))


def test_a_job_runs_in_a_process_of_its_own(script, tmp_path):
    run_script(script, job(tmp_path, "one"))
    total, pid = (tmp_path / "one.txt").read_text().split()
    assert int(total) == EXPECTED and int(pid) != os.getpid()
    assert "resources: user" in (tmp_path / "one.log").read_text()


def test_many_jobs_at_once_neither_hang_nor_mix(script, tmp_path):
    failures = []

    def worker(k):
        try:
            for n in range(8):
                run_script(script, job(tmp_path, f"j{k}_{n}"))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a forked job hung"
    assert not failures
    pids = {(tmp_path / f"j{k}_{n}.txt").read_text().split()[1] for k in range(4) for n in range(8)}
    assert len(pids) == 32  # one process per job
    assert all(int((tmp_path / f"j{k}_{n}.txt").read_text().split()[0]) == EXPECTED for k in range(4) for n in range(8))


def test_an_input_error_fails_the_job_with_its_message_in_the_log(script, tmp_path):
    with pytest.raises(JobFailed, match=r"bad failed \(see above and its log: .*bad.log\)"):
        run_script(script, job(tmp_path, "bad", "input error"))
    assert "'Q' is not a sex code" in (tmp_path / "bad.log").read_text()
    assert "Traceback" not in (tmp_path / "bad.log").read_text()
    # the message also goes to the stderr the server started with: Snakemake's (tests/test_workflow.py)


def test_a_bug_fails_the_job_with_its_traceback_in_the_log(script, tmp_path):
    with pytest.raises(JobFailed):
        run_script(script, job(tmp_path, "bug", "bug"))
    assert "KeyError: 'a bug'" in (tmp_path / "bug.log").read_text()


def test_a_killed_job_is_named_with_its_signal_and_the_next_job_still_runs(script, tmp_path):
    with pytest.raises(JobFailed, match="killed by SIGKILL.*out-of-memory"):
        run_script(script, job(tmp_path, "killed", "killed"))
    run_script(script, job(tmp_path, "after"))
    assert int((tmp_path / "after.txt").read_text().split()[0]) == EXPECTED


def test_in_this_process_when_the_process_is_the_job(script, tmp_path):
    run_script(script, job(tmp_path, "here"), fork=False)
    assert int((tmp_path / "here.txt").read_text().split()[1]) == os.getpid()
    with pytest.raises(JobFailed, match="bad_here failed"):
        run_script(script, job(tmp_path, "bad_here", "input error"), fork=False)


@pytest.mark.workflow
def test_ctrl_c_stops_the_run_and_every_job_process(tmp_path):
    """A terminal's Ctrl-C (SIGINT to the foreground process group) ends Snakemake, the job
    server and the jobs it forked: nothing is left running."""
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import copy_workflow

    # a fresh copy, not the shared reference run: interrupted seconds in, it needs no finished run
    work = copy_workflow(tmp_path / "run")
    env = {**os.environ, "PYTHONPATH": str(work / "src")}
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2"], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    def job_running() -> bool:  # a job's log is opened when the job's process starts
        return any((work / "logs").rglob("check.log"))

    while not job_running() and proc.poll() is None and time.time() < started + 120:
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("Snakemake still ran a minute after Ctrl-C")
    assert proc.returncode != 0
    for _ in range(50):  # the server exits once Snakemake has: give it a moment
        left = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"processes of the run still alive after Ctrl-C: {left}"


def test_the_server_starts_early_only_for_a_run_of_jobs():
    from regrowth.jobs import runs_jobs

    assert runs_jobs([]) and runs_jobs(["--cores", "2", "-R", "report", "--config", "trials=config/other.tsv"])
    assert runs_jobs(["--report-after-run"]) and runs_jobs(["-c4", "-p"]) and runs_jobs(["--forceall"])
    assert runs_jobs(["-sSnakefile"])  # a value, not flags
    for no_jobs in (["-n"], ["-nq"], ["-pn"], ["-c4", "-Fn"], ["--cores", "2", "--dry-run"], ["--dry"],
                    ["--rulegraph", "all"], ["--lint"], ["--summary"], ["--list-changes", "code"], ["--mode=remote"],
                    ["--unlock"], ["--report=r.html"], ["--conda-create-envs-only"]):
        assert not runs_jobs(no_jobs), no_jobs


def test_a_server_started_early_and_never_used_is_not_waited_for():
    """A run that stops before its first job (a parse error) ends at once, its server with it,
    not after the server's imports (about 2 s)."""
    import subprocess
    import sys
    import time

    # the first exit handler registered runs last: it prints how long the others took
    code = ("import atexit, sys, time\nfrom regrowth import jobs\nexiting = []\n"
            "atexit.register(lambda: print(f'{time.monotonic() - exiting[0]:.3f}'))\n"
            "jobs.start_early([])\nexiting.append(time.monotonic())\nsys.exit(3)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3
    # waiting for the server would take its imports' time (~2 s, the more on a busy machine)
    assert float(out) < 1.0, f"exit waited {out.strip()} s for an unused server"
    for _ in range(50):  # multiprocessing's resource tracker ends once its parent has: a moment
        table = subprocess.run(["ps", "-e", "-o", "pgid=,stat=,args="], capture_output=True, text=True).stdout
        left = [ln for ln in table.splitlines() if ln.split()[0] == str(proc.pid) and not ln.split()[1].startswith("Z")]
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"the unused server outlived its Snakemake: {left}"


def test_the_schedulers_timer_is_the_one_snakemake_starts():
    # a Snakemake that renamed it would cost a second at every exit again: this fails instead
    from snakemake.scheduling.job_scheduler import JobScheduler

    from regrowth.jobs import RESCHEDULING_TIMER

    lambdas = [c.co_qualname for c in JobScheduler._schedule_reevalutation.__code__.co_consts if hasattr(c, "co_qualname")]
    assert lambdas == [RESCHEDULING_TIMER]


def test_only_the_schedulers_pending_timers_are_cancelled_at_the_end_of_a_run():
    from regrowth.jobs import RESCHEDULING_TIMER, drop_rescheduling_timers

    def reevaluate():
        pass

    reevaluate.__qualname__ = RESCHEDULING_TIMER
    schedulers = [threading.Timer(60, reevaluate) for _ in range(2)]
    other = threading.Timer(60, lambda: None)
    for timer in (*schedulers, other):
        timer.start()
    try:
        assert drop_rescheduling_timers() == 2
        for timer in schedulers:
            timer.join(timeout=5)
            assert not timer.is_alive()
        assert other.is_alive()
    finally:
        other.cancel()
