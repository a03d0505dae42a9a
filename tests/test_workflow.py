"""The workflow end to end, in a fresh copy, as a user runs it."""

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import markupsafe

import pandas as pd
import pytest

from regrowth.parquet_io import read_table
from regrowth.simulate.engine import simulate
from regrowth.simulate.export_sdtm import export_sdtm
from regrowth.simulate.seed_trials import RUXOLITINIB
from tests.conftest import ROOT, finished_copy, snakemake

pytestmark = pytest.mark.workflow
RUX, TOFA, BARI = "NCT01950780", "NCT02197455", "NCT03570749"


@pytest.fixture(scope="module")
def run_dir(reference_run, tmp_path_factory):
    """This module's finished run of the bundled trials (some tests run other sheets in it)."""
    return finished_copy(reference_run, tmp_path_factory.mktemp("workflow") / "run")


def eot(run_dir, trial, endpoint="SALT50"):
    e = read_table(run_dir / "results/tables/efficacy.parquet")
    row = e[(e.trial_id == trial) & (e.subgroup == "Overall") & (e.timepoint == "EOT") & (e.endpoint == endpoint)]
    assert len(row) == 1
    return row.iloc[0]


def test_output_contract(run_dir):
    for trial in (RUX, TOFA):
        for domain in ("dm", "ex", "ds", "ae", "rs", "sv", "mh"):
            # a Parquet dataset: a directory with one file per part (one part here)
            assert [p.name for p in (run_dir / f"results/{trial}/sdtm/{domain}").iterdir()] == ["part-000.parquet"]
        v = read_table(run_dir / f"results/{trial}/validation.parquet")
        assert list(v.columns)[:9] == ["rule_id", "severity", "dataset", "file", "usubjid", "row", "column",
                                       "value", "message"]
    adsalt = read_table(run_dir / f"results/{TOFA}/adam/adsalt")
    for col in ["USUBJID", "PARAMCD", "AVISIT", "AVISITN", "ADT", "ADY", "AVAL", "BASE", "CHG", "PCHG", "ABLFL",
                "APHASE", "CRIT1", "CRIT1FL"]:
        assert col in adsalt.columns
    adtte = read_table(run_dir / f"results/{TOFA}/adam/adtte")
    assert {"PARAMCD", "STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC"} <= set(adtte.columns)
    adae = read_table(run_dir / f"results/{TOFA}/adam/adae")
    assert {"TRTEMFL", "ASTDT", "ASTDTF", "AOCCFL", "AOCCSFL", "AOCCPFL"} <= set(adae.columns)
    eff = read_table(run_dir / "results/tables/efficacy.parquet")
    assert set(eff["endpoint"]) == {"SALT50", "SALT75", "SALT90", "SALTLE20", "SALTLE10"}
    assert {"EOT", "W12", "W24"} <= set(eff["timepoint"])
    for name in ("relapse", "safety", "demographics"):
        assert len(read_table(run_dir / f"results/tables/{name}.parquet")) > 0


def test_ruxolitinib_calibration(run_dir):
    row = eot(run_dir, RUX)
    assert (row.n_responders, row.n_subjects) == (9, 12)
    bands = read_table(run_dir / "results/tables/regrowth_bands.parquet").query("trial_id == @RUX").set_index("band")
    assert bands.loc[">95%", "n"] == 7
    rel = read_table(run_dir / "results/tables/relapse.parquet").query("trial_id == @RUX").iloc[0]
    assert (rel.n_at_risk, rel.n_relapsed) == (9, 3)


def test_tofacitinib_calibration(run_dir):
    row = eot(run_dir, TOFA)
    assert (row.n_responders, row.n_subjects) == (21, 66)
    assert row.ci_low == pytest.approx(20.89, abs=0.01) and row.ci_high == pytest.approx(44.44, abs=0.01)
    bands = read_table(run_dir / "results/tables/regrowth_bands.parquet").query("trial_id == @TOFA").set_index("band")
    assert bands.loc["5-<50%", "n"] == 21
    assert bands.loc["<5% or not assessed", "n"] == 24
    rel = read_table(run_dir / "results/tables/relapse.parquet").query("trial_id == @TOFA").iloc[0]
    assert rel.n_at_risk == 21 and 7 <= rel.median_weeks <= 10


def test_baricitinib_matches_brave_aa1(run_dir):
    e = read_table(run_dir / "results/tables/efficacy.parquet")
    e = e[(e.trial_id == BARI) & (e.subgroup == "Overall") & (e.timepoint == "EOT") & (e.endpoint == "SALTLE20")]
    got = {r.arm: (r.n_responders, r.n_subjects) for r in e.itertuples()}
    # published 38.8 %, 22.8 %, 6.2 % of 281, 184, 189 (654 randomized 3:2:2)
    assert got == {"Baricitinib 4 mg QD": (109, 281), "Baricitinib 2 mg QD": (42, 184), "Placebo": (12, 189)}
    comp = read_table(run_dir / "results/tables/comparisons.parquet")
    four = comp[(comp.arm == "Baricitinib 4 mg QD") & (comp.endpoint == "SALTLE20")].iloc[0]
    assert four.control == "Placebo" and four.difference == pytest.approx(100 * (109 / 281 - 12 / 189))
    assert four.ci_low < four.difference < four.ci_high
    rel = read_table(run_dir / "results/tables/relapse.parquet").query("trial_id == @BARI")
    assert (rel.n_at_risk == 0).all()  # no off-drug follow-up in BRAVE-AA1
    text = (run_dir / "results/report.html").read_text()
    assert "Randomized comparisons against the control arm" in text and "no off-drug follow-up" in text


def test_summaries_read_only_the_records_they_use_and_count_the_same(run_dir):
    import yaml

    from regrowth.summarize.select import read_rows
    from regrowth.summarize.tables import AT_EOT, summarize_trial_table
    from regrowth.trial import SUMMARY_TABLES

    definitions = yaml.safe_load((run_dir / "config/config.yaml").read_text())["definitions"]
    settings = {"efficacy": {"endpoints": definitions["endpoints"], "weeks": definitions["report_weeks"],
                             "imputation": definitions["imputation"]},
                "comparisons": {"endpoints": definitions["endpoints"], "imputation": definitions["imputation"]},
                "comparison_subjects": {"endpoints": definitions["endpoints"], "imputation": definitions["imputation"]},
                "km_curves": {"imputation": definitions["imputation"]}, "safety": {"aesi": definitions["aesi"]}}
    declared = {BARI: {"design": "randomized", "control": "Placebo"}}  # config/trials.tsv
    for trial in (RUX, TOFA, BARI):
        whole = {n: read_table(run_dir / f"results/{trial}/adam/{n}") for n in ("adsl", "adsalt", "adtte", "adae")}
        whole["validation"] = read_table(run_dir / f"results/{trial}/validation.parquet")
        eot = read_rows(run_dir / f"results/{trial}/adam/adsalt", ["USUBJID"], AT_EOT)
        assert 0 < len(eot) < (whole["adsalt"]["PARAMCD"] == "SALT").sum()  # a selection, not every total record
        for table in SUMMARY_TABLES:
            written = read_table(run_dir / f"results/{trial}/tables/{table}.parquet")
            extra = declared.get(trial, {}) if table == "comparisons" else {}
            from_whole = summarize_trial_table(table, trial, whole, **settings.get(table, {}), **extra)
            pd.testing.assert_frame_equal(written, from_whole, obj=table)


def test_accounting_holds_and_is_reported(run_dir):
    text = (run_dir / "results/report.html").read_text()
    assert "rows in = accepted + quarantined" in text and "Validation policy: <strong>strict</strong>" in text
    for trial in (RUX, TOFA, BARI):
        acc = read_table(run_dir / f"results/{trial}/accounting.parquet")
        assert (acc.rows_in == acc.rows_accepted + acc.rows_quarantined).all()
        assert acc.rows_in.sum() > 0


def test_quarantine_policy_lets_the_rest_continue(reference_run, tmp_path):
    run_dir = finished_copy(reference_run, tmp_path / "run")  # its own: it runs other sheets
    truth = simulate(RUXOLITINIB, 4)
    truth["dm"].loc[1, "SEX"] = "Q"  # one bad subject
    export_sdtm(truth, run_dir / "q", fmt="csv")
    (run_dir / "q.tsv").write_text("trial_id\tformat\tpath\tlabel\teot_week\tpolicy\n"
                                   "Q1\tsdtm-csv\tq\tQuarantined trial\t24\tquarantine\n")
    bundled = {p: p.read_bytes() for p in (run_dir / "results").rglob("*") if p.is_file()}
    snakemake(run_dir, "--config", "trials=q.tsv", check=True)
    out = run_dir / "results-q"  # another sheet, its own results folder (and logs in it)
    bad = truth["dm"].loc[1, "USUBJID"]
    qdm = read_table(out / "Q1/quarantine/dm")
    assert qdm.USUBJID.tolist() == [bad] and qdm.QRULES.tolist() == ["RG0201"]
    assert bad not in set(read_table(out / "Q1/adam/adsl").USUBJID)
    assert set(read_table(out / "Q1/quarantine/rs").QRULES) == {"RG0708"}
    acc = read_table(out / "Q1/accounting.parquet").set_index("file")
    assert acc.loc["dm.csv", "rows_quarantined"] == 1
    assert (acc.rows_in == acc.rows_accepted + acc.rows_quarantined).all()
    report = (out / "report.html").read_text()
    assert "Validation policy: <strong>quarantine</strong>" in report
    # the report names its own run's files and how to verify that run
    assert "<code>results-q/Q1/validation.csv</code>" in report and "results/Q1" not in report
    assert "regrowth-verify --manifest results-q/provenance/manifest.json" in report
    assert (out / "logs/Q1/000/check.log").is_file() and not (run_dir / "logs/Q1").exists()
    # the bundled sheet's run is untouched, and each run verifies against its own manifest
    assert {p: p.read_bytes() for p in (run_dir / "results").rglob("*") if p.is_file()} == bundled
    for manifest in ("results/provenance/manifest.json", "results-q/provenance/manifest.json"):
        verify = subprocess.run([sys.executable, "-m", "regrowth.provenance", "--manifest", manifest], cwd=run_dir,
                                capture_output=True, text=True)
        assert verify.returncode == 0 and verify.stdout.startswith("OK"), (manifest, verify.stdout[-2000:])


def test_aa_and_ophiasis_respond_more_than_at_au(run_dir):
    adsl = read_table(run_dir / f"results/{TOFA}/adam/adsl")
    adsalt = read_table(run_dir / f"results/{TOFA}/adam/adsalt")
    resp = adsalt[(adsalt.PARAMCD == "SALT") & (adsalt.EOTFL == "Y") & (adsalt.CRIT1FL == "Y")]["USUBJID"]
    fas = adsl[adsl.FASFL == "Y"].assign(resp=lambda d: d.USUBJID.isin(resp))
    patchy = fas[fas.AATYPE.isin(["PATCHY AA", "OPHIASIS"])]["resp"].mean()
    total = fas[fas.AATYPE.isin(["ALOPECIA TOTALIS", "ALOPECIA UNIVERSALIS"])]["resp"].mean()
    assert patchy > total


def test_report_is_self_contained_and_shows_key_numbers(run_dir):
    text = (run_dir / "results/report.html").read_text()
    assert "9/12 (75.0%)" in text and "21/66 (31.8%)" in text
    assert not re.search(r"""(src|href)=["']https?://""", text), "report must not load anything from the network"
    assert "<script src" not in text
    for section in ("Demographics", "Relapse after stopping", "Published results", "Provenance", "Cross-trial caveat"):
        assert section in text
    assert "BRAVE-AA1" in text  # published phase 3 context
    sha = read_table(run_dir / f"results/{TOFA}/files.parquet")["sha256"].iloc[0]
    assert sha in text


def test_rerun_has_nothing_to_do(run_dir):
    out = snakemake(run_dir, "-n", check=True)
    assert "Nothing to be done" in out.stdout + out.stderr


# Every job runs in the one virtual environment setup.sh makes (README, "Software"): no rule has
# a conda: directive, by design, and that is the only lint allowed.
NO_CONDA_LINT = "Specify a conda environment or container for each rule."


def test_lint_is_clean_but_for_the_chosen_absence_of_conda_environments(run_dir):
    out = snakemake(run_dir, "--lint")
    text = out.stdout + out.stderr
    lints = {line.strip()[2:].rstrip(":") for line in text.splitlines() if line.startswith("    * ")}
    assert lints <= {NO_CONDA_LINT}, text
    assert "Traceback" not in text and ("Congratulations" in text or lints == {NO_CONDA_LINT}), text
    assert not (run_dir / "workflow" / "envs").exists()  # a placeholder env would fail every job on import


def test_other_sheet_and_hostile_text(reference_run, tmp_path):
    run_dir = finished_copy(reference_run, tmp_path / "run")  # its own: it runs other sheets
    truth = simulate(RUXOLITINIB, 11)
    attack = "<script>alert('x')</script>"
    truth["ae"]["AEDECOD"] = attack  # every AE, so it reaches the TEAE table
    truth["ae"].loc[0, "AESEV"] = "<img src=x onerror=alert(1)>"  # a warning shown in data quality
    victim = truth["dm"]["USUBJID"].iloc[0]
    for name in truth:
        truth[name]["STUDYID"] = "HOSTILE"
        truth[name]["USUBJID"] = truth[name]["USUBJID"].replace(victim, "<svg onload=alert(2)>")
    export_sdtm(truth, run_dir / "hostile", fmt="csv")
    sheet = pd.read_csv(run_dir / "config/trials.tsv", sep="\t", dtype=str)
    sheet.loc[len(sheet)] = {"trial_id": "HOSTILE1", "format": "sdtm-csv", "path": "hostile",
                             "label": "<b>bold</b> trial", "drug": "x", "eot_week": "24"}
    sheet.to_csv(run_dir / "config/trials.tsv", sep="\t", index=False)  # a trial added to the sheet
    plan = snakemake(run_dir, "-n", check=True).stdout
    # only the new trial's chain plus the cross-trial tables and the report
    planned = dict(re.findall(r"^(\w+)\s+(\d+)$", plan, flags=re.M))
    assert planned["check"] == "1" and planned["combine_tables"] == "1" and planned["report"] == "1"
    assert all(planned[f"summarize_{g}"] == "1" for g in ("salt", "tte", "safety", "subjects"))  # the new trial's only
    snakemake(run_dir, check=True)
    text = (run_dir / "results/report.html").read_text()
    for raw in (attack, "<img src=x onerror=alert(1)>", "<b>bold</b>"):
        assert raw not in text
    assert str(markupsafe.escape(attack)) in text
    assert str(markupsafe.escape("<img src=x onerror=alert(1)>")) in text
    assert "RG0202" in text  # the warning is listed in the data-quality section
    # every CSV the project writes is safe to open in a spreadsheet
    for path in (run_dir / "results").rglob("*.csv"):
        for row in csv.reader(path.open(newline="")):
            assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row), (path, row)
    issues_csv = (run_dir / "results/HOSTILE1/validation.csv").read_text()
    assert "'<svg" not in issues_csv and "<img src=x onerror=alert(1)>" in issues_csv  # text kept, only formulas defused


def test_trial_with_errors_stops_with_a_clear_message(run_dir):
    truth = simulate(RUXOLITINIB, 3)
    truth["dm"].loc[2, "SEX"] = "Q"
    export_sdtm(truth, run_dir / "bad", fmt="csv")
    (run_dir / "bad.tsv").write_text("trial_id\tformat\tpath\tlabel\nBAD1\tsdtm-csv\tbad\tBad trial\n")
    out = snakemake(run_dir, "--config", "trials=bad.tsv")
    assert out.returncode != 0
    msg = out.stdout + out.stderr
    assert "RG0201" in msg and "dm.csv" in msg and "row 3" in msg and "SEX" in msg
    # the issue list is a log of the stopped job, named by the message
    assert "results-bad/logs/BAD1/000/validation.csv" in msg
    issues = pd.read_csv(run_dir / "results-bad/logs/BAD1/000/validation.csv", dtype=str)
    assert issues.loc[issues.rule_id == "RG0201", "value"].tolist() == ["Q"]
    assert not (run_dir / "results-bad/BAD1/sdtm/dm").exists()


def rejected_at_parse_time(run_dir, *args) -> str:
    """A dry run that must fail; its messages."""
    out = snakemake(run_dir, "-n", *args)
    assert out.returncode != 0
    return out.stdout + out.stderr


def test_invalid_sheet_is_rejected_at_parse_time(run_dir):
    (run_dir / "broken.tsv").write_text("trial_id\tformat\tpath\tlabel\nX1\tspss\tsomewhere\tX\n")
    msg = rejected_at_parse_time(run_dir, "--config", "trials=broken.tsv")
    assert "broken.tsv, line 2" in msg and "spss" in msg


def test_ragged_sheet_is_rejected_at_parse_time_with_its_line(run_dir):
    (run_dir / "ragged.tsv").write_text("trial_id\tformat\tpath\tlabel\nX1\tsdtm-csv\tsomewhere\tX\textra\n")
    msg = rejected_at_parse_time(run_dir, "--config", "trials=ragged.tsv")
    assert "ragged.tsv, line 2: 5 tab-separated cells, the header names 4" in msg


def test_misspelt_sheet_column_is_rejected_at_parse_time(run_dir):
    # ignored, it would run the trial without its planned week: a green run with other numbers
    (run_dir / "misspelt.tsv").write_text("trial_id\tformat\tpath\tlabel\teot_wek\n"
                                          "X1\tsdtm-csv\tsomewhere\tX\t12\n")
    msg = rejected_at_parse_time(run_dir, "--config", "trials=misspelt.tsv")
    assert "misspelt.tsv, line 1: column eot_wek is not a trial sheet column (did you mean eot_week?" in msg


def test_invalid_definition_is_rejected_at_parse_time(run_dir):
    (run_dir / "bad_config.yaml").write_text("definitions:\n  imputation: LOCF\n")
    msg = rejected_at_parse_time(run_dir, "--configfile", "bad_config.yaml")
    assert "LOCF" in msg and "imputation" in msg


def test_unreadable_export_stops_with_one_message_and_no_outputs(run_dir):
    folder = run_dir / "broken"
    folder.mkdir(exist_ok=True)
    (folder / "dm.xpt").write_bytes(b"HEADER RECORD*******LIBRARY HEADER RECORD" + b"\x00" * 37)  # truncated
    (run_dir / "broken.tsv").write_text("trial_id\tformat\tpath\tlabel\nBROKEN1\tsdtm-xpt\tbroken\tBroken\n")
    out = snakemake(run_dir, "--config", "trials=broken.tsv")
    assert out.returncode != 0
    msg = out.stdout + out.stderr
    assert "dm.xpt: not a readable SAS XPORT file" in msg
    assert "Traceback" not in (run_dir / "results-broken/logs/BROKEN1/000/check.log").read_text()
    out_dir = run_dir / "results-broken/BROKEN1"
    assert not out_dir.exists() or not any(out_dir.rglob("*.parquet"))


def test_report_in_a_real_browser(run_dir, browser):
    report = run_dir / "results/report.html"
    assert report.stat().st_size < 5 * 1024 * 1024
    page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
    text = page.inner_text("body")
    for number in ("9/12 (75.0%) [42.8 – 94.5]", "21/66 (31.8%) [20.9 – 44.4]", "109/281", "21/21 relapsed"):
        assert number in text
    # every figure has alt text, every table a CSV button
    assert page.eval_on_selector_all("figure", "fs => fs.every(f => (f.getAttribute('aria-label') || '').length > 20)")
    assert page.locator("table").count() == page.locator("button.csv").count() > 10
    # sort the regrowth table by its % column: ascending puts the smallest first
    table = page.locator("table", has_text="Subjects by percent regrowth at end of treatment")
    table.locator("thead th", has_text="%").first.click()
    pcts = [float(t) for t in table.locator("tbody tr td:nth-child(5)").all_inner_texts()]
    assert pcts == sorted(pcts) and pcts != [float(t) for t in []]
    # download a table as CSV from inside the file, after sorting it: the table's own order, each
    # value in its own column, UTF-8 with a byte-order mark (Excel reads ≤ and – as written)
    summary = page.locator("table", has_text="Key results by trial and arm")
    arms = summary.locator("tbody tr td:nth-child(2)")
    built = arms.all_inner_texts()
    summary.locator("thead th", has_text="N (FAS)").first.click()
    assert arms.all_inner_texts() != built  # sorted by N: another order on screen
    with page.expect_download() as dl:
        page.locator("button.csv").first.click()
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    head = rows[0]
    assert head[:4] == ["Trial", "Trial (detail)", "Arm", "End of treatment"]
    salt50 = [i for i, h in enumerate(head) if h.startswith("SALT50 at end of treatment")]
    assert [head[i].rsplit(": ", 1)[1] for i in salt50] == ["n", "N", "%", "95% CI low", "95% CI high"]
    rux = next(r for r in rows[1:] if r[1] == "NCT01950780")
    assert [rux[i] for i in salt50] == ["9", "12", "75.0", "42.8", "94.5"]
    assert [r[2] for r in rows[1:]] == built  # as built, not as sorted
    # a rate sorts by its percentage (9/12 = 75 % after 103/281 = 36.7 %), not by its numerator
    summary.locator("thead th", has_text="SALT50 at end of treatment").first.click()
    rates = [float(re.search(r"\(([\d.]+)%\)", t).group(1)) for t in summary.locator("tbody tr td:nth-child(5)").all_inner_texts()]
    assert rates == sorted(rates)
    # the safety table's rows nest (SOC, then its PTs): not sortable
    assert page.locator("table.nested th.sortable").count() == 0
    # arm columns: a header's lines are words apart, n and % in columns of their own
    teae = page.eval_on_selector_all("table", "ts => ts.findIndex(t => t.caption.textContent.includes('system organ class'))")
    with page.expect_download() as dl:
        page.locator("button.csv").nth(teae).click()
    rows = list(csv.reader(Path(dl.value.path()).read_text("utf-8-sig").splitlines()))
    assert rows[0][-2:] == ["Placebo NCT03570749 (N = 189): n", "Placebo NCT03570749 (N = 189): %"]
    # a nested table's rows say their group and level: a PT row is not taken for a SOC total
    assert rows[0][:3] == ["Group", "Level", "System organ class Preferred term"]
    assert rows[1][:3] == ["Infections and infestations", "group", "Infections and infestations"]
    assert rows[1][-2:] == ["41", "21.7"]
    assert rows[2][:3] == ["Infections and infestations", "item", "Upper respiratory tract infection"]
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    page.emulate_media(media="print")
    page.pdf(path=str(artifacts / "report.pdf"), format="A4")
    assert (artifacts / "report.pdf").read_bytes().count(b"/Type /Page") > 5
    page.close()


def test_jobs_take_arrow_memory_from_jemalloc_unless_the_user_chose(monkeypatch):
    code = "from regrowth.workflow import use_jemalloc; print(use_jemalloc())"
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    if _has_jemalloc():  # a build without it keeps its default (and must not fail)
        assert chosen == "jemalloc"
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "system"


def test_job_environment_keeps_freed_memory_unless_the_user_set_jemalloc(monkeypatch):
    from regrowth.workflow import JEMALLOC_CONF, job_environment

    monkeypatch.delenv("JE_ARROW_MALLOC_CONF", raising=False)
    monkeypatch.delenv("POLARS_THP", raising=False)
    job_environment()
    assert os.environ["JE_ARROW_MALLOC_CONF"] == JEMALLOC_CONF == "dirty_decay_ms:-1,muzzy_decay_ms:-1"
    assert os.environ["POLARS_THP"] == "1"
    monkeypatch.setenv("JE_ARROW_MALLOC_CONF", "narenas:2")
    monkeypatch.setenv("POLARS_THP", "0")
    job_environment()
    assert os.environ["JE_ARROW_MALLOC_CONF"] == "narenas:2" and os.environ["POLARS_THP"] == "0"


def test_polars_in_a_job_asks_for_huge_pages():
    # polars reads POLARS_THP when it is imported and writes the setting its allocator starts with
    code = "import polars, os; print(os.environ['_RJEM_MALLOC_CONF'])"
    env = {**os.environ, "POLARS_THP": "1"}
    env.pop("_RJEM_MALLOC_CONF", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert "thp:always" in out.split(",")


def test_every_job_started_with_the_allocator_setting_and_logs_its_resources(run_dir):
    from regrowth.workflow import JEMALLOC_CONF

    logs = [p for p in (run_dir / "logs").rglob("*.log") if "Arrow memory pool" in p.read_text()]
    assert len(logs) >= 20  # every script job of the bundled trials
    for path in logs:
        lines = path.read_text().splitlines()
        assert f"(JE_ARROW_MALLOC_CONF={JEMALLOC_CONF}); polars' jemalloc: " in lines[0], path
        assert "thp:always" in lines[0].rsplit(": ", 1)[1].split(","), path
        assert re.fullmatch(r"INFO resources: user [\d.]+ s, system [\d.]+ s, peak RSS \d+ MB, \d+ minor page faults",
                            lines[-1]), path


def _has_jemalloc() -> bool:
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
        return True
    except NotImplementedError:
        return False


def test_figures_rendered_in_parallel_are_the_same_bytes_in_the_same_order():
    import numpy as np

    from regrowth.report import figures
    from regrowth.summarize.figures_data import best_change_table, salt_by_visit_table

    rng = np.random.default_rng(3)
    visits, best = [], []
    for k in range(3):
        n = 40
        adsalt = pd.DataFrame({
            "USUBJID": np.repeat([f"S{k}-{i}" for i in range(n // 4)], 4), "TRT01P": f"Arm {k}", "PARAMCD": "SALT",
            "ANL01FL": "Y", "AATYPE": rng.choice(list(figures.SUBTYPE_COLOURS), n),
            "AVISITN": np.tile([0.0, 12, 24, 36], n // 4), "AVAL": rng.uniform(0, 100, n),
            "ADY": np.tile([1, 85, 169, 253], n // 4), "PCHG": rng.uniform(-100, 0, n)})
        visits.append((f"Arm {k}", salt_by_visit_table("T", adsalt)))
        best.append((f"Arm {k}", best_change_table("T", adsalt)))
    overall = [(label, v[v["subgroup"] == "Overall"], 24.0) for label, v in visits]
    jobs = {"waterfall": (figures.waterfall, best), "salt": (figures.salt_over_time, overall),
            "salt_subtype": (figures.salt_over_time_by_subtype, visits)}
    alone = figures.render(jobs, workers=1)
    together = figures.render(jobs, workers=2)
    assert list(together) == list(jobs) and together == alone
    assert all(svg.startswith("<svg") for svg in together.values())


def test_a_figure_that_fails_in_a_worker_fails_the_report():
    from regrowth.report import figures

    def broken():
        raise ValueError("no data for this figure")

    with pytest.raises(ValueError, match="no data for this figure"):
        figures.render({"a": (figures.forest, []), "b": (broken,)}, workers=2)


def test_the_drugs_are_compared_by_network_meta_analysis_and_maic(run_dir):
    """SALT <= 20 at week 24: BRAVE-AA1's simulated patients at week 24 (103/281, 34/184, 10/189)
    with ALLEGRO-2b/3 and THRIVE-AA1 as published; BRAVE-AA2 (week 36 only) listed, not used."""
    effects = read_table(run_dir / "results/tables/nma_effects.parquet")
    bari = effects.query("measure == 'OR' and model == 'common' and treatment == 'Baricitinib 4 mg QD'").iloc[0]
    assert bari.reference == "Placebo" and bari.estimate == pytest.approx((103 / 178) / (10 / 179))
    assert set(effects.treatment) >= {"Ritlecitinib 50 mg QD", "Deuruxolitinib 8 mg BID", "Baricitinib 2 mg QD"}
    evidence = read_table(run_dir / "results/tables/evidence.parquet")
    brave2 = evidence[(evidence.trial == "BRAVE-AA2") & (evidence.endpoint == "SALTLE20")]
    assert not brave2.in_network.any() and brave2.network_note.str.startswith("not in the network: reports week 36").all()
    assert set(evidence[evidence.in_network].trial) == {"Baricitinib BRAVE-AA1", "ALLEGRO-2b/3", "THRIVE-AA1"}
    maics = read_table(run_dir / "results/tables/maic.parquet")
    maic = maics.iloc[0]
    assert (maic.trial, maic.comparator, maic.n) == (RUX, TOFA, 12) and 0 < maic.ess < 12
    thrive = maics[maics.comparator == "THRIVE-AA1"].iloc[0]  # the bundled published population
    assert thrive.trial == RUX and not thrive.anchored and thrive.comparator_rate == pytest.approx(100 * 104 / 351)
    balance = read_table(run_dir / "results/tables/maic_balance.parquet")
    assert (balance.after - balance.target).abs().max() < 1e-6
    assert set(balance[balance.comparator == "THRIVE-AA1"].target) == {0.619, 85.9}
    # ALLEGRO's and THRIVE-AA1's printed percentages fit several counts or none: their sensitivity analyses
    sensitivity = read_table(run_dir / "results/tables/nma_sensitivity.parquet")
    assert {"back-computed counts of ALLEGRO-2b/3, THRIVE-AA1 least favourable to the non-control arms",
            "back-computed counts of ALLEGRO-2b/3, THRIVE-AA1 most favourable to the non-control arms"} <= set(sensitivity.analysis)
    # the published NMA of ritlecitinib 50 mg against baricitinib 4 mg, beside this network's estimate
    nmas = read_table(run_dir / "results/tables/published_nmas.parquet")
    ritle = nmas.query("treatment == 'Ritlecitinib 50 mg QD' and endpoint == 'SALTLE20'").iloc[0]
    league = read_table(run_dir / "results/tables/nma_league.parquet").query(
        "measure == 'OR' and model == 'random' and treatment == 'Ritlecitinib 50 mg QD' and comparator == 'Baricitinib 4 mg QD'")
    assert (ritle.estimate, ritle.ci_low, ritle.ci_high) == (2.16, 0.48, 16.46)
    assert ritle.this_estimate == pytest.approx(league.estimate.iloc[0])
    text = (run_dir / "results/report.html").read_text()
    assert "Comparative effectiveness" in text and "Matching-adjusted indirect comparison" in text
    assert "Published network meta-analyses" in text and "10.1111/jdv.20372" in text


def test_a_randomized_trial_without_its_control_is_rejected_at_parse_time(run_dir):
    (run_dir / "nocontrol.tsv").write_text("trial_id\tformat\tpath\tlabel\tdesign\n"
                                           "NCT03570749\tdataset-json\tresources/trials/NCT03570749\tB\trandomized\n")
    msg = rejected_at_parse_time(run_dir, "--config", "trials=nocontrol.tsv")
    assert "trial NCT03570749: design randomized needs the sheet column control" in msg


def test_each_sheet_has_its_own_results_folder():
    from regrowth.workflow import output_folders

    assert output_folders("config/trials.tsv") == ("results", "logs")
    assert output_folders("./config/trials.tsv") == ("results", "logs")
    assert output_folders("config/other.tsv") == ("results-other", "results-other/logs")
    assert output_folders("/data/sheets/phase 3.tsv") == ("results-phase_3", "results-phase_3/logs")
    assert output_folders("config/other.tsv", "out/run1/") == ("out/run1", "out/run1/logs")
    assert output_folders("config/trials.tsv", "results") == ("results", "logs")
    assert output_folders(str(Path("config/trials.tsv").resolve())) == ("results", "logs")  # the same sheet
    for folder in (".", "results/sub", "logs", "config", "resources/x"):
        with pytest.raises(ValueError, match=f"config results={folder}: a results folder must be a folder of its own"):
            output_folders("config/other.tsv", folder)


def test_a_results_folder_holding_another_sheets_run_stops_the_run(tmp_path, monkeypatch):
    import json

    from regrowth.workflow import check_results_folder

    monkeypatch.chdir(tmp_path)
    for site in ("a", "b"):
        (tmp_path / site).mkdir()
        (tmp_path / site / "other.tsv").write_text("trial_id\n")
    check_results_folder("results-other", "a/other.tsv")  # nothing there yet
    (tmp_path / "results-other/provenance").mkdir(parents=True)
    (tmp_path / "results-other/provenance/manifest.json").write_text(json.dumps({"config": {"trials": "a/other.tsv"}}))
    check_results_folder("results-other", "./a/other.tsv")  # the same sheet, written otherwise
    with pytest.raises(ValueError, match=r"results-other/ holds the run of the trial sheet a/other.tsv, not of "
                                         r"b/other.tsv: give this sheet its own folder with --config results="):
        check_results_folder("results-other", "b/other.tsv")


def test_reading_the_workflow_imports_no_polars():
    # Snakemake reads the workflow at every start (a no-op rerun is mostly that): the modules
    # common.smk imports, and the sheet's reading settings, stay clear of the record-level engine
    rules = (ROOT / "workflow/rules/common.smk").read_text()
    imports = [line for line in rules.splitlines() if line.startswith("from regrowth")]
    code = "\n".join([*imports, "from regrowth.reading import Reading", "from regrowth.exports import export_files",
                      "import sys", "print('polars' in sys.modules)"])
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
