"""The workflow through a real SLURM (single node on this machine; tests/slurm/cluster.sh).

Skips when no cluster answers, except under CI (CI=true), where .ci/run starts one.
"""

import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from regrowth.parquet_io import read_table
from tests.conftest import copy_workflow, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]


def cluster_up() -> bool:
    if not shutil.which("sinfo"):
        return False
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return out.returncode == 0 and bool(re.search(r"idle|mixed|alloc", out.stdout))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if not cluster_up():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no SLURM cluster answers: .ci/run starts one with tests/slurm/cluster.sh")
        pytest.skip("no SLURM cluster (start one with: tests/slurm/cluster.sh start)")
    local = copy_workflow(tmp_path_factory.mktemp("local"))
    snakemake(local, check=True)
    cluster = copy_workflow(tmp_path_factory.mktemp("cluster"))
    out = snakemake(cluster, "--profile", "profiles/slurm", check=True)
    return local, cluster, out.stdout + out.stderr


def test_every_non_local_job_went_through_sbatch(runs):
    _, cluster, log = runs
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: ([^)]+)\)", log)
    # one batch job per trial (its chain is grouped); aggregates run locally
    assert len(submitted) == 3
    for _jobid, path in submitted:
        folder = (cluster / path).parent if not path.startswith("/") else __import__("pathlib").Path(path).parent
        assert folder.is_dir() and any(folder.iterdir()), path  # the plugin's log of that sbatch job
    local_rules = {"combine_table", "report", "rulegraph", "provenance"}
    ran_here = set(re.findall(r"localrule (\w+):", log))
    assert ran_here <= local_rules | {"all"}


def test_outputs_equal_the_local_run(runs):
    local, cluster, _ = runs
    tables = sorted(p.relative_to(local) for p in (local / "results").rglob("*.parquet"))
    assert len(tables) > 60
    for rel in tables:
        pd.testing.assert_frame_equal(read_table(local / rel), read_table(cluster / rel), obj=str(rel))
    assert (local / "results/report.html").read_bytes() == (cluster / "results/report.html").read_bytes()


def test_failed_cluster_job_is_reported_and_a_rerun_resumes(runs, tmp_path):
    work = copy_workflow(tmp_path)
    sheet = work / "config/trials.tsv"
    sheet.write_text("\n".join(sheet.read_text().splitlines()[:3]) + "\n")  # rux and tofa only: quicker
    bad = work / "resources/trials/NCT02197455/dm.xpt"
    good = bad.read_bytes()
    bad.write_bytes(good[:700])  # a truncated export: ingestion fails on the cluster
    out = snakemake(work, "--profile", "profiles/slurm", "--keep-going", "--retries", "0")
    assert out.returncode != 0
    log = out.stdout + out.stderr
    assert "dm.xpt: not a readable SAS XPORT file" in log or "Error in group" in log or "Error in rule" in log
    logs = re.findall(r"(\S*slurm_logs\S*\.log)", log)
    assert logs, "the failed job is reported with its SLURM log path"
    assert (work / "results/NCT01950780/adam/adsl.parquet").exists()  # the other trials went on
    bad.write_bytes(good)  # fixed
    plan = snakemake(work, "--profile", "profiles/slurm", "-n", check=True).stdout
    assert "NCT02197455" in plan and "trial=NCT01950780" not in plan  # resumes where it stopped
    snakemake(work, "--profile", "profiles/slurm", check=True)
    assert (work / "results/report.html").exists()
