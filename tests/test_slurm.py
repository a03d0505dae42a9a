"""The workflow through a real SLURM (single node on this machine; tests/slurm/cluster.sh).

Skips when no cluster answers, except under CI (CI=true), where .ci/run starts one.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from regrowth.parquet_io import read_table
from tests.conftest import PARTITION_RESULTS, PARTITION_SHEET, copy_workflow, snakemake



PARTITION = "main"  # profiles/slurm asks for it; tests/slurm/cluster.sh makes it


def cluster_state() -> tuple[bool, str]:
    """(usable, why not): a SLURM answers and has the partition the profile asks for."""
    if not shutil.which("sinfo"):
        return False, "no SLURM cluster (start one with: tests/slurm/cluster.sh start)"
    out = subprocess.run(["sinfo", "-h", "-o", "%P %T"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0 or not re.search(r"idle|mixed|alloc", out.stdout):
        return False, "no SLURM cluster answers (start one with: tests/slurm/cluster.sh start)"
    partitions = {line.split()[0].rstrip("*") for line in out.stdout.splitlines() if line.split()}
    if PARTITION not in partitions:
        return False, (f"a SLURM cluster answers but has no partition {PARTITION!r} (it has "
                       f"{', '.join(sorted(partitions))}): not the test cluster; these tests do not use a foreign one")
    return True, ""


# The profile as a user runs it: one CPU per batch job (tests.conftest.snakemake passes --cores 2,
# with which every batch job would ask for both CPUs of the test node and the jobs would run one
# at a time); status checks every 2 s rather than the profile's pace: the test jobs take seconds.
CLUSTER = ("--profile", "profiles/slurm", "--cores", "1",
           "--seconds-between-status-checks", "2", "--slurm-init-seconds-before-status-checks", "1")


@dataclass
class ClusterRuns:
    local: Path  # the shared local run of the sheet (WHOLE as one part, SPLIT as four)
    cluster: Path  # the same sheet through SLURM, in a fresh copy of the workflow
    failed: subprocess.CompletedProcess  # the first cluster run: WHOLE's export truncated
    split_done_while_whole_failed: bool
    plan_after_fix: set[str]
    resumed: subprocess.CompletedProcess  # the run after WHOLE's export is mended


@pytest.fixture(scope="module")
def runs(split_reference_run, tmp_path_factory) -> ClusterRuns:
    """The shared local run's sheet through SLURM, with WHOLE's export first truncated (its check
    fails on the cluster while SPLIT's jobs go on), then mended (the rerun resumes)."""
    from tests.test_reruns import planned

    usable, why = cluster_state()
    if not usable:
        if os.environ.get("CI") == "true" and "foreign" not in why:
            pytest.fail(f"CI=true but {why}: .ci/run starts one with tests/slurm/cluster.sh")
        pytest.skip(why)
    local, export = split_reference_run
    cluster = copy_workflow(tmp_path_factory.mktemp("cluster"))
    rows = (local / PARTITION_SHEET).read_text().splitlines()
    whole_export = shutil.copytree(export, cluster / "whole_export")
    (cluster / PARTITION_SHEET).write_text("\n".join(r.replace(str(export), str(whole_export)) if r.startswith("WHOLE\t")
                                                     else r for r in rows) + "\n")
    good = (whole_export / "dm.csv").read_bytes()
    (whole_export / "dm.csv").write_bytes(good[:40])  # a truncated export: the check fails on the cluster
    config = ("--config", f"trials={PARTITION_SHEET}")
    failed = snakemake(cluster, *CLUSTER, "--keep-going", "--retries", "0", *config)
    split_done = all((cluster / PARTITION_RESULTS / f"SPLIT/adam/adtte/part-{i:03d}.parquet").exists() for i in range(4))
    (whole_export / "dm.csv").write_bytes(good)  # mended
    plan = planned(cluster, "--profile", "profiles/slurm", *config)
    resumed = snakemake(cluster, *CLUSTER, *config, check=True)
    return ClusterRuns(local, cluster, failed, split_done, plan, resumed)


def submitted_batch_jobs(run: ClusterRuns, proc: subprocess.CompletedProcess) -> list[str]:
    """The batch jobs a cluster run submitted, by their log folders (each checked to hold the
    plugin's log of that job). A group's folder is named by its group (the wildcards in it) and,
    when it runs one rule, that rule: each part's chain is one batch job, each trial's summaries
    one more."""
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: ([^)]+)\)", proc.stdout + proc.stderr)
    for _jobid, path in submitted:
        folder = (run.cluster / path).parent if not path.startswith("/") else Path(path).parent
        assert folder.is_dir() and any(folder.iterdir()), path
    return sorted(re.sub(r"_(check|derive_\w+|summarize_\w+)(_.*)?$", "",
                         Path(path).parent.relative_to(run.cluster / ".snakemake/slurm_logs").as_posix())
                  for _, path in submitted)


@pytest.mark.workflow
@pytest.mark.slurm
def test_every_non_local_job_went_through_sbatch(runs):
    assert submitted_batch_jobs(runs, runs.failed) == [
        "group_part_SPLIT_000", "group_part_SPLIT_001", "group_part_SPLIT_002", "group_part_SPLIT_003",
        "group_part_WHOLE_000", "rule_split_export/SPLIT"]
    assert submitted_batch_jobs(runs, runs.resumed) == ["group_part_WHOLE_000", "group_summaries"]
    local_rules = {"collect_checks", "combine_tables", "compare_drugs", "rule_graph", "report", "provenance"}
    # the successful run's log (a failed run's log quotes the batch job's own, where each rule is local)
    ran_here = set(re.findall(r"localrule (\w+):", runs.resumed.stdout + runs.resumed.stderr))
    assert ran_here <= local_rules | {"all"}


@pytest.mark.workflow
@pytest.mark.slurm
def test_outputs_equal_the_local_run(runs):
    local, cluster = runs.local, runs.cluster
    tables = sorted(p.relative_to(local) for p in (local / PARTITION_RESULTS).rglob("*.parquet"))
    assert len(tables) > 40
    for rel in tables:
        pd.testing.assert_frame_equal(read_table(local / rel), read_table(cluster / rel), obj=str(rel))
    assert (local / PARTITION_RESULTS / "report.html").read_bytes() == (cluster / PARTITION_RESULTS / "report.html").read_bytes()


@pytest.mark.workflow
@pytest.mark.slurm
def test_failed_cluster_job_is_reported_and_a_rerun_resumes(runs):
    log = runs.failed.stdout + runs.failed.stderr
    assert runs.failed.returncode != 0
    assert "Error in group" in log or "Error in rule" in log
    assert re.findall(r"(\S*slurm_logs\S*\.log)", log), "the failed job is reported with its SLURM log path"
    assert runs.split_done_while_whole_failed, "SPLIT's parts went on while WHOLE's check failed (--keep-going)"
    # resumes where it stopped: WHOLE's chain, and of SPLIT only the summaries, which share one
    # batch job with WHOLE's
    plan = runs.plan_after_fix
    assert any("trial=WHOLE" in j for j in plan), plan
    assert all(j.startswith("summarize_") for j in plan if "trial=SPLIT" in j), plan
    assert (runs.cluster / PARTITION_RESULTS / "report.html").exists()


def test_a_foreign_cluster_without_the_partition_is_skipped_with_the_reason(tmp_path, monkeypatch):
    # another site's SLURM answers, but has no partition "main": not used, and said why
    fake = tmp_path / "sinfo"
    fake.write_text("#!/bin/sh\necho 'debug* idle'\necho 'gpu mixed'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    usable, why = cluster_state()
    assert not usable and "no partition 'main'" in why and "debug, gpu" in why and "foreign" in why
