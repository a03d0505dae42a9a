"""Incremental reruns: each change plans exactly the jobs that depend on it (from the dry run)."""

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager

import pandas as pd
import pytest

from regrowth.simulate.engine import simulate
from regrowth.simulate.export_redcap import export_redcap
from regrowth.simulate.seed_trials import RUXOLITINIB
from tests.conftest import copy_workflow, finished_copy, snakemake

pytestmark = pytest.mark.workflow
TRIALS = ["NCT01950780", "NCT02197455", "NCT03570749"]
AGGREGATES = {"combine_tables", "compare_drugs", "report", "provenance", "all"}


def planned(work, *args) -> set[str]:
    """Jobs of a dry run as 'rule[wildcards]' strings."""
    out = snakemake(work, "-n", *args, check=True).stdout
    jobs, current = [], None
    for line in out.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if m:
            current = m.group(1)
            jobs.append(current)
        elif current and line.strip().startswith("wildcards:"):
            wc = ",".join(sorted(p.strip() for p in line.split(":", 1)[1].split(",")))
            jobs[-1] = f"{current}[{wc}]"
    return set(jobs)


@contextmanager
def edited(path, change):
    """path's text replaced by change(text) inside the block, restored after it."""
    original = path.read_text()
    path.write_text(change(original))
    try:
        yield
    finally:
        path.write_text(original)


# Summary tables are built one job per ADaM source (workflow/rules/summarize.smk)
SUMMARY_JOBS = ["summarize_salt", "summarize_tte", "summarize_safety", "summarize_subjects"]


def downstream(derivation: str, summary_job: str) -> set[str]:
    """A derivation rerun in every trial, the summary job of the tables that read it, and what follows."""
    jobs = {f"{derivation}[part=000,trial={t}]" for t in TRIALS}  # each trial has one part
    jobs |= {f"{summary_job}[trial={t}]" for t in TRIALS}
    return jobs | AGGREGATES


def chain(trial: str) -> set[str]:
    jobs = {f"{r}[part=000,trial={trial}]" for r in ("check", "derive_adsl", "derive_adsalt", "derive_adtte",
                                                     "derive_adae")}
    jobs.add(f"collect_checks[trial={trial}]")
    return jobs | {f"{s}[trial={trial}]" for s in SUMMARY_JOBS}


@pytest.fixture(scope="module")
def work(reference_run, tmp_path_factory):
    return finished_copy(reference_run, tmp_path_factory.mktemp("reruns") / "run")


def test_1_nothing_to_do_after_a_full_run(work):
    assert planned(work) == set()


def test_2_new_trial_runs_its_chain_and_the_aggregates(work):
    truth = simulate(RUXOLITINIB, 99)
    for t in truth.values():
        t["STUDYID"] = "NEW1"
    export_redcap(truth, work / "resources/trials/NEW1", stem="NEW1")
    shutil.copy(work / "resources/trials/NCT01950780/mapping.yaml", work / "resources/trials/NEW1/mapping.yaml")
    with edited(work / "config/trials.tsv", lambda t: t + "NEW1\tredcap\tresources/trials/NEW1\tNew trial\truxolitinib\t24\n"):
        assert planned(work) == chain("NEW1") | AGGREGATES
    assert planned(work) == set() or planned(work) <= AGGREGATES  # back to the three trials


def test_3_new_data_cut_reruns_that_trial_only(work):
    snakemake(work, check=True)
    folder = work / "resources/trials/NCT01950780"
    records = next(folder.glob("*_records.csv"))
    backup = records.read_text()
    time.sleep(1.1)
    # the new cut: one AE more (a new instance of the repeating AE form)
    rec = pd.read_csv(records, dtype=str, keep_default_na=False)
    new_ae = rec[rec["redcap_repeat_instrument"] == "adverse_events"].tail(1).assign(redcap_repeat_instance="99")
    pd.concat([rec, new_ae]).to_csv(records, index=False, lineterminator="\n")
    try:
        assert planned(work) == chain("NCT01950780") | AGGREGATES
    finally:
        records.write_text(backup)


def test_4_changed_definition_reruns_only_its_users(work):
    snakemake(work, check=True)
    with edited(work / "config/config.yaml",
                lambda t: t.replace("fraction_of_regrowth_lost: 0.5", "fraction_of_regrowth_lost: 0.6")):
        assert planned(work) == downstream("derive_adtte", "summarize_tte")  # relapse and km_curves, ADTTE's readers


def test_5_changed_library_code_reruns_its_users_only(work):
    snakemake(work, check=True)
    with edited(work / "src/regrowth/derive/adae.py", lambda t: t + "\n# a fix in the ADAE derivation\n"):
        jobs = planned(work)
        assert jobs == downstream("derive_adae", "summarize_safety")
        assert not any(j.startswith("check") for j in jobs)


def test_6_results_copied_elsewhere_resume_without_recomputing(work, tmp_path):
    snakemake(work, check=True)
    clone = tmp_path / "clone"
    clone.mkdir()
    copy_workflow(clone)  # a fresh clone: no .snakemake, new file times
    shutil.copytree(work / "results", clone / "results", copy_function=shutil.copy)  # times not kept
    now = time.time()
    for i, p in enumerate(sorted((clone / "results").rglob("*"), reverse=True)):
        if p.is_file():  # make outputs look older than their inputs, as an unordered copy can
            os.utime(p, (now - 1000 + i, now - 1000 + i))
    assert planned(clone), "with reset times Snakemake wants to recompute"
    # the documented way: verify contents against the manifest, then re-stamp the times
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    verify = subprocess.run([sys.executable, "-m", "regrowth.provenance"], cwd=clone, capture_output=True,
                            text=True, env=env)
    assert verify.returncode == 0, verify.stdout
    snakemake(clone, "--touch", check=True)
    assert planned(clone) == set()
