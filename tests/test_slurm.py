"""The workflow through a real SLURM (single node on this machine; tests/slurm/cluster.sh).

Skips when no cluster answers, except under CI (CI=true), where .ci/run starts one.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from regrowth.parquet_io import read_table
from tests.conftest import PARTITION_SHEET, copy_workflow, snakemake



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


# Status checks every 2 s rather than the profile's pace: the test jobs take seconds.
FAST_POLLING = ("--seconds-between-status-checks", "2", "--slurm-init-seconds-before-status-checks", "1")


@pytest.fixture(scope="module")
def runs(split_reference_run, tmp_path_factory):
    """The shared run of a messy trial as one part (WHOLE) and four (SPLIT), and the same sheet
    run again through SLURM in a fresh copy of the workflow."""
    usable, why = cluster_state()
    if not usable:
        if os.environ.get("CI") == "true" and "foreign" not in why:
            pytest.fail(f"CI=true but {why}: .ci/run starts one with tests/slurm/cluster.sh")
        pytest.skip(why)
    local, _ = split_reference_run
    cluster = copy_workflow(tmp_path_factory.mktemp("cluster"))
    shutil.copy(local / PARTITION_SHEET, cluster / PARTITION_SHEET)
    out = snakemake(cluster, "--profile", "profiles/slurm", *FAST_POLLING, "--config", f"trials={PARTITION_SHEET}",
                    check=True)
    return local, cluster, out.stdout + out.stderr


@pytest.mark.workflow
@pytest.mark.slurm
def test_every_non_local_job_went_through_sbatch(runs):
    _, cluster, log = runs
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: ([^)]+)\)", log)
    for _jobid, path in submitted:
        folder = (cluster / path).parent if not path.startswith("/") else Path(path).parent
        assert folder.is_dir() and any(folder.iterdir()), path  # the plugin's log of that sbatch job
    # a group's log folder is named by its group (the wildcards in it) and, when it runs one rule,
    # that rule: each part's chain is one batch job, each trial's summaries one more
    batch_jobs = sorted(re.sub(r"_(check|derive_\w+|summarize_\w+)(_.*)?$", "",
                               Path(path).parent.relative_to(cluster / ".snakemake/slurm_logs").as_posix())
                        for _, path in submitted)
    assert batch_jobs == ["group_part_SPLIT_000", "group_part_SPLIT_001", "group_part_SPLIT_002",
                          "group_part_SPLIT_003", "group_part_WHOLE_000", "group_summaries",
                          "rule_split_export/SPLIT"], batch_jobs
    local_rules = {"collect_checks", "combine_tables", "compare_drugs", "rule_graph", "report", "provenance"}
    ran_here = set(re.findall(r"localrule (\w+):", log))
    assert ran_here <= local_rules | {"all"}


@pytest.mark.workflow
@pytest.mark.slurm
def test_outputs_equal_the_local_run(runs):
    local, cluster, _ = runs
    tables = sorted(p.relative_to(local) for p in (local / "results").rglob("*.parquet"))
    assert len(tables) > 40
    for rel in tables:
        pd.testing.assert_frame_equal(read_table(local / rel), read_table(cluster / rel), obj=str(rel))
    assert (local / "results/report.html").read_bytes() == (cluster / "results/report.html").read_bytes()


@pytest.mark.workflow
@pytest.mark.slurm
def test_failed_cluster_job_is_reported_and_a_rerun_resumes(runs, tmp_path):
    # on a copy of the finished cluster run: a changed definition reruns every part's ADTTE, and
    # WHOLE's export (a copy) is broken, so its check fails while SPLIT's jobs go on
    from tests.conftest import finished_copy
    from tests.test_reruns import edited, planned

    _, cluster, _ = runs
    work = finished_copy(cluster, tmp_path / "run")
    sheet = work / PARTITION_SHEET
    rows = sheet.read_text().splitlines()
    export = Path(next(r for r in rows if r.startswith("WHOLE\t")).split("\t")[2])
    broken = shutil.copytree(export, work / "whole_export")
    sheet.write_text("\n".join(r.replace(str(export), str(broken)) if r.startswith("WHOLE\t") else r for r in rows) + "\n")
    good = (broken / "dm.csv").read_bytes()
    (broken / "dm.csv").write_bytes(good[:40])  # a truncated export: the check fails on the cluster
    config = ("--config", f"trials={PARTITION_SHEET}")
    with edited(work / "config/config.yaml",
                lambda t: t.replace("fraction_of_regrowth_lost: 0.5", "fraction_of_regrowth_lost: 0.6")):
        out = snakemake(work, "--profile", "profiles/slurm", *FAST_POLLING, "--keep-going", "--retries", "0", *config)
        assert out.returncode != 0
        log = out.stdout + out.stderr
        assert "Error in group" in log or "Error in rule" in log
        assert re.findall(r"(\S*slurm_logs\S*\.log)", log), "the failed job is reported with its SLURM log path"
        assert (work / "results/SPLIT/adam/adtte/part-003.parquet").stat().st_mtime > (
            cluster / "results/SPLIT/adam/adtte/part-003.parquet").stat().st_mtime  # SPLIT went on
        (broken / "dm.csv").write_bytes(good)  # fixed
        plan = planned(work, "--profile", "profiles/slurm", *config)
        # resumes where it stopped: WHOLE's chain, and of SPLIT only the summaries, which share one
        # batch job with WHOLE's
        assert any("trial=WHOLE" in j for j in plan), plan
        assert all(j.startswith("summarize_") for j in plan if "trial=SPLIT" in j), plan
        snakemake(work, "--profile", "profiles/slurm", *FAST_POLLING, *config, check=True)
    assert (work / "results/report.html").exists()


def test_a_foreign_cluster_without_the_partition_is_skipped_with_the_reason(tmp_path, monkeypatch):
    # another site's SLURM answers, but has no partition "main": not used, and said why
    fake = tmp_path / "sinfo"
    fake.write_text("#!/bin/sh\necho 'debug* idle'\necho 'gpu mixed'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    usable, why = cluster_state()
    assert not usable and "no partition 'main'" in why and "debug, gpu" in why and "foreign" in why
