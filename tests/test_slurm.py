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
from tests.builders import PARTITION_SHEET_HEADER, messy_partition_trial, partition_sheet_row
from tests.conftest import ROOT, copy_workflow, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]


def cluster_up() -> bool:
    if not shutil.which("sinfo"):
        return False
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return out.returncode == 0 and bool(re.search(r"idle|mixed|alloc", out.stdout))


WHOLE_TRIAL = "NCT02197455"  # the bundled tofacitinib trial (SAS XPORT); the others add nothing here


def with_partitioned_trial(work, export) -> str:
    """One bundled trial run whole, plus SPLIT, the messy export in 3 partitions: the sheet's
    --config argument (named relative to the run: the same settings in both runs)."""
    bundled = pd.read_csv(work / "config/trials.tsv", sep="\t", dtype=str).set_index("trial_id")
    columns = PARTITION_SHEET_HEADER.rstrip("\n").split("\t")
    whole = bundled.loc[WHOLE_TRIAL].reindex(columns[1:]).fillna("")
    sheet = work / "config/slurm_trials.tsv"
    sheet.write_text(PARTITION_SHEET_HEADER + "\t".join([WHOLE_TRIAL, *whole]) + "\n"
                     + partition_sheet_row("SPLIT", export, 3), encoding="utf-8")
    return f"trials={sheet.relative_to(work)}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if not cluster_up():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no SLURM cluster answers: .ci/run starts one with tests/slurm/cluster.sh")
        pytest.skip("no SLURM cluster (start one with: tests/slurm/cluster.sh start)")
    export = tmp_path_factory.mktemp("sim") / "SIM001"
    messy_partition_trial(export, ROOT / "resources/trials/NCT01950780/mapping.yaml")
    local = copy_workflow(tmp_path_factory.mktemp("local"))
    snakemake(local, "--config", with_partitioned_trial(local, export), check=True)
    cluster = copy_workflow(tmp_path_factory.mktemp("cluster"))
    out = snakemake(cluster, "--profile", "profiles/slurm", "--config", with_partitioned_trial(cluster, export),
                    check=True)
    return local, cluster, out.stdout + out.stderr


def test_every_non_local_job_went_through_sbatch(runs):
    _, cluster, log = runs
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: ([^)]+)\)", log)
    for _jobid, path in submitted:
        folder = (cluster / path).parent if not path.startswith("/") else Path(path).parent
        assert folder.is_dir() and any(folder.iterdir()), path  # the plugin's log of that sbatch job
    # a group's log folder is named by its unit and, when it runs one rule, that rule
    batch_jobs = sorted(re.sub(r"_(accept|combine_partitions|process_partition)(_.*)?$", "",
                               Path(path).parent.relative_to(cluster / ".snakemake/slurm_logs").as_posix())
                        for _, path in submitted)
    # one batch job for the whole trial (its chain is grouped); the partitioned trial: the split,
    # one job per part (spread over the cluster), then its combine step with its summaries
    assert batch_jobs == [f"group_chain_{WHOLE_TRIAL}", "group_chain_SPLIT", "group_chain_SPLIT/parts/000",
                          "group_chain_SPLIT/parts/001", "group_chain_SPLIT/parts/002", "rule_split_export/SPLIT"]
    local_rules = {"combine_tables", "report", "provenance"}
    ran_here = set(re.findall(r"localrule (\w+):", log))
    assert ran_here <= local_rules | {"all"}


def test_outputs_equal_the_local_run(runs):
    local, cluster, _ = runs
    tables = sorted(p.relative_to(local) for p in (local / "results").rglob("*.parquet"))
    assert len(tables) > 40
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
