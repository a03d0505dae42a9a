"""Provenance carried by every output, the manifest and its verification, determinism."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from regrowth.parquet_io import read_metadata
from regrowth.provenance import code_version, git_version, verify_manifest
from tests.conftest import ROOT, copy_workflow, finished_copy, snakemake

pytestmark = pytest.mark.workflow


def digests(results: Path) -> dict[str, str]:
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(results.rglob("*")) if p.is_file() and "provenance" not in p.parts}


@pytest.fixture(scope="module")
def run(reference_run, tmp_path_factory):
    return finished_copy(reference_run, tmp_path_factory.mktemp("prov") / "run")


def test_every_parquet_carries_provenance(run):
    parquets = sorted((run / "results").rglob("*.parquet"))
    assert len(parquets) > 60
    for path in parquets:
        meta = read_metadata(path)
        assert meta["rule"], path
        for inp, sha in meta["inputs"].items():
            assert hashlib.sha256((run / inp).read_bytes()).hexdigest() == sha, (path, inp)
        assert {"git_commit", "git_dirty", "package_version", "code_hash"} <= set(meta["code"])
        assert len(meta["config_hash"]) == 16
        assert {"python", "snakemake", "pandas", "pyarrow", "pandera"} <= set(meta["versions"])
    adae = read_metadata(run / "results/NCT02197455/adam/adae/part-000.parquet")
    assert adae["rule"] == "derive_adae" and set(adae["inputs"]) == {
        "results/NCT02197455/adam/adsl/part-000.parquet", "results/NCT02197455/sdtm/ae/part-000.parquet"}
    assert adae["code"]["code_hash"] == code_version(run / "workflow/scripts/derive_adae.py")


def test_manifest_lists_every_input_and_output(run):
    manifest = json.loads((run / "results/provenance/manifest.json").read_text())
    outputs = {e["path"]: e for e in manifest["outputs"]}
    assert outputs["results/report.html"]["rule"] == "report"
    assert outputs["results/NCT01950780/adam/adsl/part-000.parquet"]["rule"] == "derive_adsl"
    on_disk = {str(p.relative_to(run)) for p in (run / "results").rglob("*")
               if p.is_file() and "provenance" not in p.parts}
    assert on_disk - set(outputs) == set()
    inputs = {e["path"] for e in manifest["inputs"]}
    assert "resources/trials/NCT02197455/rs.xpt" in inputs and "resources/trials/NCT01950780/mapping.yaml" in inputs
    entry = outputs["results/tables/efficacy.parquet"]
    assert entry["sha256"] == hashlib.sha256((run / entry["path"]).read_bytes()).hexdigest()
    assert entry["bytes"] == (run / entry["path"]).stat().st_size
    assert manifest["trials"][0]["data_cut"] == "2015-01-31"  # the sheet's data_cut


def test_run_crate(run):
    crate = json.loads((run / "results/provenance/ro-crate-metadata.json").read_text())
    graph = {e["@id"]: e for e in crate["@graph"]}
    root = graph["./"]
    assert root["mainEntity"]["@id"] == "Snakefile"
    assert {"@id": "https://w3id.org/ro/wfrun/provenance/0.5"} in root["conformsTo"]
    assert "ComputationalWorkflow" in graph["Snakefile"]["@type"]
    actions = [e for e in crate["@graph"] if e.get("@type") == "CreateAction"]
    jobs = [a for a in actions if a["@id"].startswith("#job-")]
    rules = {graph[a["instrument"]["@id"]]["name"] for a in jobs}
    assert {"check", "collect_checks", "derive_adsl", "derive_adtte", "combine_tables", "report"} <= rules
    for a in jobs:
        assert a["startTime"] <= a["endTime"] and a["result"], a["@id"]
    report_job = next(a for a in jobs if graph[a["instrument"]["@id"]]["name"] == "report")
    assert {"@id": "results/report.html"} in report_job["result"]
    assert any(o["@id"] == "results/tables/efficacy.parquet" for o in report_job["object"])


def test_verify_names_every_difference(run, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    copy_workflow(work)
    (work / "results").mkdir()
    import shutil
    shutil.copytree(run / "results", work / "results", dirs_exist_ok=True)
    verify = [sys.executable, "-m", "regrowth.provenance"]
    ok = subprocess.run(verify, cwd=work, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout
    with open(work / "results/tables/safety.parquet", "ab") as fh:
        fh.write(b"\0")  # an output altered
    (work / "resources/trials/NCT02197455/ae.xpt").write_bytes(b"tampered")  # an input altered
    (work / "results/NCT01950780/adam/adtte/part-000.parquet").unlink()  # an output deleted
    (work / "results/tables/extra.csv").write_text("x\n")  # a file added
    bad = subprocess.run(verify, cwd=work, capture_output=True, text=True)
    assert bad.returncode == 1
    lines = set(bad.stdout.splitlines())
    assert "changed  results/tables/safety.parquet  (rule combine_tables)" in lines
    assert "changed  resources/trials/NCT02197455/ae.xpt" in lines
    assert "missing  results/NCT01950780/adam/adtte/part-000.parquet  (rule derive_adtte)" in lines
    assert "added    results/tables/extra.csv" in lines
    assert len(verify_manifest(work / "results/provenance/manifest.json", work)) == 4
    # a copy of the manifest elsewhere checks the folder the manifest names, not its own
    shutil.copy(work / "results/provenance/manifest.json", work / "manifest-copy.json")
    assert len(verify_manifest(work / "manifest-copy.json", work)) == 4


def test_two_clean_runs_give_the_same_bytes(run, tmp_path):
    # a second clean run in another folder, of one trial: a trial's outputs do not depend on the
    # other trials of the sheet, so they must be the reference run's to the byte
    again = copy_workflow(tmp_path)
    one = "NCT02197455"
    sheet = (again / "config/trials.tsv").read_text().splitlines()
    (again / "config/one.tsv").write_text("\n".join([sheet[0], *[r for r in sheet if r.startswith(one)]]) + "\n")
    # the same results folder name: job metadata names the inputs by path
    snakemake(again, "--config", "trials=config/one.tsv", "results=results", check=True)
    first, second = digests(run / "results" / one), digests(again / "results" / one)
    assert len(first) >= 30 and first == second


def test_report_provenance_appendix(run):
    text = (run / "results/report.html").read_text()
    appendix = text[text.index('id="provenance"'):]
    assert all(cut in appendix for cut in ("2015-01-31", "2015-10-31", "2020-06-30"))  # data cut per trial
    assert "git commit" in appendix and "fraction_of_regrowth_lost: 0.5" in appendix
    assert "<td>derive_adsl</td><td>" in appendix and "derive_adtte" in appendix  # rule graph
    assert "sha256" in appendix


def test_snakemake_report(run, tmp_path):
    out = snakemake(run, "--report", str(tmp_path / "snakemake-report.zip"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "snakemake-report.zip").stat().st_size > 10_000


def test_git_version(tmp_path):
    assert git_version(str(tmp_path))["git_commit"] == "unknown"
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git + ["init", "-q"], check=True)
    (repo / "a.txt").write_text("a")
    subprocess.run(git + ["add", "a.txt"], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    clean = git_version.__wrapped__(str(repo))
    (repo / "a.txt").write_text("b")
    dirty = git_version.__wrapped__(str(repo))
    assert len(clean["git_commit"]) == 40 and clean["git_dirty"] is False and dirty["git_dirty"] is True


def test_code_version_follows_imports(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("from regrowth.derive.adae import derive_adae\n")
    base = code_version(script)
    script.write_text("from regrowth.derive.adae import derive_adae\nx = 1\n")
    assert code_version(script) != base  # the script itself counts
    other = tmp_path / "o.py"
    other.write_text("from regrowth.summarize.stats import wilson\n")
    assert code_version(other) != base
    assert ROOT.joinpath("src/regrowth/derive/adae.py").is_file()


def test_manifest_is_the_same_hashed_in_several_threads(tmp_path):
    from regrowth.provenance import build_manifest

    files = []
    for k in range(12):
        files.append(tmp_path / f"f{k}.bin")
        files[-1].write_bytes(bytes([k]) * (k * 100_000 + 1))
    outputs = {str(p): "rule_a" for p in files[4:]}
    inputs = [str(p) for p in files[:4]]
    from regrowth.hashing import _sha256

    one = build_manifest(outputs, inputs, [], {}, workers=1)
    _sha256.cache_clear()  # hashed again, in threads
    assert build_manifest(outputs, inputs, [], {}, workers=4) == one
    assert one["inputs"][1]["sha256"] == hashlib.sha256(files[1].read_bytes()).hexdigest()


def test_rule_graph_is_snakemakes_and_a_failed_drawing_is_a_clear_error(run, tmp_path, monkeypatch):
    from regrowth.errors import RegrowthError
    from regrowth.report.inputs import rule_edges
    from regrowth.report.rule_graph import RuleGraph, canonical_dot

    drawn = (run / "results/provenance/rulegraph.dot").read_text()
    assert ("derive_adsl", "derive_adsalt") in rule_edges(drawn) and ("report", "provenance") in rule_edges(drawn)
    # the run read it from its own DAG; `snakemake --rulegraph` draws the same bytes
    assert "read from this run's DAG" in (run / "logs/rule_graph.log").read_text()
    monkeypatch.chdir(run)
    with RuleGraph({}) as drawing:
        assert canonical_dot(drawing.dot()) == drawn
    monkeypatch.chdir(tmp_path)  # no Snakefile here
    with RuleGraph({}) as drawing, pytest.raises(RegrowthError, match="snakemake --rulegraph failed"):
        drawing.dot()
    with RuleGraph({}) as drawing, pytest.raises(RegrowthError, match="did not finish in 0.01 s"):
        drawing.dot(timeout=0.01)
    with RuleGraph({}) as drawing:
        pass  # left while still drawing: stopped, its config file removed
    assert drawing._proc.returncode is not None and not drawing._config.exists()


def test_the_rule_graph_is_read_from_the_running_dag_only_where_that_is_the_whole_dag():
    from types import SimpleNamespace

    from regrowth.report.rule_graph import rule_dot_of_running_dag

    class Job:  # hashable, as Snakemake's jobs are
        def __init__(self, rule):
            self.rule = rule

    class Dag:
        def __init__(self, targets):
            self.every, self.check = Job(Rule("all")), Job(Rule("check"))
            self.dependencies = {self.every: {self.check: set()}, self.check: {}}
            self.jobs = self.dependencies.keys()
            self.targetjobs = {getattr(self, t) for t in targets}

        def bfs(self, direction, *jobs):
            return [*jobs, *(d for j in jobs for d in direction[j])]

        def _dot(self, graph):
            return "digraph snakemake_dag {\n" + "".join(f"\t{d.name} -> {r.name}\n" for r in graph for d in graph[r]) + "}"

    class Rule(str):
        @property
        def name(self):
            return str(self)

    def workflow(targets=("every",), main=True, **settings):
        dag_settings = SimpleNamespace(**{"until": set(), "omit_from": set(), "allowed_rules": set(), "batch": None, **settings})
        return SimpleNamespace(dag=Dag(targets), dag_settings=dag_settings, is_main_process=main)

    assert rule_dot_of_running_dag(workflow()) == "digraph snakemake_dag {\n\tcheck -> all\n}"
    assert rule_dot_of_running_dag(workflow(("every", "check"))) is not None  # -R check: within all's DAG
    assert rule_dot_of_running_dag(workflow(("check",))) is None  # another target: part of the DAG
    assert rule_dot_of_running_dag(workflow(main=False)) is None  # a job's own Snakemake (a cluster node)
    assert rule_dot_of_running_dag(workflow(until={"check"})) is None
    assert rule_dot_of_running_dag(workflow(omit_from={"check"})) is None
    assert rule_dot_of_running_dag(workflow(allowed_rules={"check"})) is None
    assert rule_dot_of_running_dag(workflow(batch=object())) is None
    broken = workflow()
    broken.dag.bfs = None  # Snakemake's internals changed: no graph rather than a failed job
    assert rule_dot_of_running_dag(broken) is None
    assert rule_dot_of_running_dag(SimpleNamespace(dag=None, dag_settings=None, is_main_process=True)) is None


def test_code_version_reads_every_form_of_import(tmp_path):
    from regrowth.provenance import _imports

    script = tmp_path / "forms.py"
    script.write_text("import regrowth.hashing\n"
                      "from regrowth.derive import (\n    adae,  # a submodule named in parentheses\n    tte,\n)\n"
                      "def late():\n    from regrowth.summarize.stats import wilson\n"
                      "x = 'from elsewhere import regrowth'\n")
    found = _imports(script)
    assert {"regrowth.hashing", "regrowth.derive.adae", "regrowth.derive.tte", "regrowth.summarize.stats"} <= found
    assert {"regrowth", "regrowth.derive", "regrowth.summarize"} <= found  # packages run their __init__


def test_the_rule_graph_is_written_in_one_order():
    from regrowth.report.inputs import rule_edges
    from regrowth.report.rule_graph import canonical_dot

    head = 'digraph snakemake_dag {\n\t0[label = "all"];\n\t1[label = "check"];\n\t2[label = "report"];\n'
    one = head + "\t2 -> 0\n\t1 -> 2\n\t1 -> 0\n}\n"
    other = head + "\t1 -> 0\n\t2 -> 0\n\t1 -> 2\n}            \n"
    assert canonical_dot(one) == canonical_dot(other)
    assert sorted(rule_edges(canonical_dot(one))) == sorted(rule_edges(one))
    # the same graph with its nodes met in another order (as `-R rule` under another hash seed
    # makes Snakemake number them): the same bytes, nodes numbered in rule-name order
    renumbered = ('digraph snakemake_dag {\n\t0[label = "report"];\n\t1[label = "all"];\n\t2[label = "check"];\n'
                  "\t0 -> 1\n\t2 -> 0\n\t2 -> 1\n}\n")
    assert canonical_dot(renumbered) == canonical_dot(one) == (
        'digraph snakemake_dag {\n\t0[label = "all"];\n\t1[label = "check"];\n\t2[label = "report"];\n'
        "\t1 -> 0\n\t1 -> 2\n\t2 -> 0\n}\n")
