"""Parts: a trial split by subject gives, part file by part file, the tables an unsplit run
gives, through the same rules; and the simulator that builds large trials scales and stays
reproducible."""

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from regrowth.errors import ContractError, InputError
from regrowth.ingest import ingest_trial
from regrowth.issues import issues_frame
from regrowth.model import DOMAIN_NAMES
from regrowth.parquet_io import read_table
from regrowth.provenance import verify_manifest
from regrowth.collect import collect_accounting, collect_files, collect_issues
from regrowth.partition import roles_of
from regrowth.partition.split import assign_parts, read_part, subject_blocks
from regrowth.simulate.__main__ import write_trials
from regrowth.simulate.scale import TEMPLATES, apportion, scaled_design
from regrowth.validate import validate_trial
from tests.builders import PARTITION_SHEET_HEADER, messy_partition_trial, partition_sheet_row
from tests.conftest import PARTITION_RESULTS, PARTITION_SHEET, ROOT, copy_workflow, snakemake

MAPPING = ROOT / "resources/trials/NCT01950780/mapping.yaml"


# --- splitting and combining, unit by unit ----------------------------------------------------


def test_subject_blocks_cut_sorted_subjects_into_equal_blocks():
    ids = pd.Series([f"S-{i:03d}" for i in range(10)][::-1] + [" S-004 ", "", None], dtype="str")
    blocks = subject_blocks(ids, 3)
    assert list(blocks) == ["S-000", "S-003", "S-006"]
    parts = assign_parts(pd.Series(["S-000", "S-002", "S-003", " S-009", "S-005", "A-orphan", "T-orphan", "", None],
                                   dtype="str"), blocks)
    # whole subjects per block; orphans sort into a block; no USUBJID -> first partition
    assert parts.tolist() == [0, 0, 1, 2, 1, 0, 2, 0, 0]


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_goes_to_the_block_of_each_subject_whether_or_not_it_lies_in_one_block(seed):
    # batches within one block take a shortcut (lowest and highest subject); others, and text
    # to trim or missing, are assigned subject by subject: the same partitions either way
    rng = np.random.default_rng(seed)
    ids = [f"S-{i:03d}" for i in range(40)]
    blocks = subject_blocks(pd.Series(ids, dtype="str"), 4)
    start = int(rng.integers(0, 30))
    batches = [ids[start:start + int(rng.integers(1, 11))],  # often within one block
               list(rng.choice(ids, 25)),  # across blocks
               [f" {i}" if rng.random() < 0.3 else i for i in ids[start:start + 5]],
               ids[start:start + 5] + [None], ["A-orphan", "A-orphan2"], ["Z-orphan"], []]
    for batch in batches:
        expected = [0 if i is None or not i.strip() else
                    max(0, int(np.searchsorted(blocks, i.strip(), side="right")) - 1) for i in batch]
        got = assign_parts(pd.Series(batch, dtype="str"), blocks)
        assert got.tolist() == expected and got.dtype == np.int64, batch


def test_source_file_column_repeats_the_name():
    from regrowth.partition.split import repeated_text

    for name, n in (("rs.csv", 5), ("données é.csv", 3), ("x.csv", 0)):
        got = repeated_text(name, n)
        assert got.type == pa.string() and got.to_pylist() == [name] * n
        got.validate(full=True)


def test_more_partitions_than_subjects_is_a_clear_error():
    with pytest.raises(InputError, match="too few for 4 partitions"):
        subject_blocks(pd.Series(["A", "B", "B"], dtype="str"), 4)


def test_trial_level_issues_are_listed_once_row_issues_all_kept():
    trial_level = {"rule_id": "RG0001", "severity": "error", "dataset": "AE", "file": "ae.csv", "usubjid": None,
                   "row": None, "column": "AETERM", "value": None, "message": "required variable AETERM is missing"}
    row_level = {**trial_level, "rule_id": "RG0101", "row": 3, "usubjid": "S-1", "message": "x"}
    parts = [issues_frame([trial_level, row_level]), issues_frame([trial_level, {**row_level, "row": 9}])]
    combined = collect_issues(parts)
    assert combined["rule_id"].to_list().count("RG0001") == 1
    assert sorted(combined.filter(combined["rule_id"] == "RG0101")["row"].to_list()) == [3, 9]


def test_accounting_must_add_up_to_the_whole_file():
    parts = [pd.DataFrame({"file": ["rs.csv"], "rows_in": [6], "rows_accepted": [5], "rows_quarantined": [1]}),
             pd.DataFrame({"file": ["rs.csv"], "rows_in": [4], "rows_accepted": [4], "rows_quarantined": [0]})]
    files = pd.DataFrame({"file": ["rs.csv"], "rows_in": [10]})
    assert collect_accounting(parts, files).iloc[0].tolist() == ["rs.csv", 10, 9, 1]
    with pytest.raises(ContractError, match="the parts account for 10 rows, the file has 11"):
        collect_accounting(parts, files.assign(rows_in=[11]))


def test_the_parts_file_records_add_up_to_the_splits_count_of_each_file():
    part = pd.DataFrame({"file": ["dm.csv", "rs.csv"], "format": ["sdtm-csv"] * 2, "rows_in": [2, 6]})
    files = collect_files([part, part.assign(rows_in=[1, 4])], whole=part.assign(rows_in=[3, 10]))
    assert files["rows_in"].tolist() == [3, 10] and files["format"].tolist() == ["sdtm-csv"] * 2
    with pytest.raises(ContractError, match="rs.csv: the parts hold 10 rows, the file has 11"):
        collect_files([part, part.assign(rows_in=[1, 4])], whole=part.assign(rows_in=[3, 11]))


def test_stale_parts_of_a_run_cut_into_more_parts_are_removed(tmp_path):
    from regrowth.datasets import remove_stale_parts

    for part in ("000", "001", "002"):
        for table in ("sdtm/dm", "quarantine/unmapped", "adam/adsl"):
            (tmp_path / table).mkdir(parents=True, exist_ok=True)
            (tmp_path / table / f"part-{part}.parquet").write_bytes(b"x")
        (tmp_path / "parts" / part).mkdir(parents=True)
        (tmp_path / "parts" / part / "validation.parquet").write_bytes(b"x")
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "efficacy.parquet").write_bytes(b"x")  # not a dataset: left alone
    removed = remove_stale_parts(tmp_path, ["000", "001"])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in removed) == [
        "adam/adsl/part-002.parquet", "parts/002", "quarantine/unmapped/part-002.parquet", "sdtm/dm/part-002.parquet"]
    assert sorted(p.name for p in (tmp_path / "adam/adsl").iterdir()) == ["part-000.parquet", "part-001.parquet"]
    assert (tmp_path / "tables" / "efficacy.parquet").exists() and remove_stale_parts(tmp_path, ["000", "001"]) == []


# --- end to end: split vs unsplit on a messy export -------------------------------------------


@pytest.fixture(scope="module")
def split_run(split_reference_run):
    return split_reference_run


def test_split_run_gives_the_unsplit_tables(split_run):
    work, _ = split_run
    whole, split = work / PARTITION_RESULTS / "WHOLE", work / PARTITION_RESULTS / "SPLIT"
    datasets = sorted({p.parent.relative_to(whole) for p in whole.glob("*/*/part-*.parquet")})
    assert len(datasets) == 7 + 8 + 4  # sdtm, quarantine (+unmapped), adam
    for rel in datasets:
        assert [p.name for p in (whole / rel).iterdir()] == ["part-000.parquet"]
        assert sorted(p.name for p in (split / rel).iterdir()) == [f"part-00{k}.parquet" for k in range(4)]
        # the parts, read as one dataset in part order, are the table of the unsplit run (source
        # rows carried into no table have no subject order: each part's in source order)
        a, b = read_table(whole / rel), read_table(split / rel)
        if rel.name == "unmapped":
            a, b = (t.sort_values(["SRCFILE", "SRCROW"], kind="stable").reset_index(drop=True) for t in (a, b))
        pd.testing.assert_frame_equal(a, b, obj=str(rel))
    for name in ("validation", "accounting"):
        pd.testing.assert_frame_equal(read_table(whole / f"{name}.parquet"), read_table(split / f"{name}.parquet"))
    files = ["file", "format", "domains", "sha256", "rows_in"]
    pd.testing.assert_frame_equal(read_table(whole / "files.parquet")[files], read_table(split / "files.parquet")[files])
    for name in ("efficacy", "relapse", "safety", "demographics", "disposition", "regrowth_bands"):
        t = read_table(work / PARTITION_RESULTS / f"tables/{name}.parquet")
        a = t[t["trial_id"] == "WHOLE"].drop(columns="trial_id").reset_index(drop=True)
        b = t[t["trial_id"] == "SPLIT"].drop(columns="trial_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, obj=name)


def test_split_run_really_split_and_lost_no_row(split_run):
    work, export = split_run
    parts = sorted(p for p in (work / PARTITION_RESULTS / "SPLIT/split/parts").iterdir() if p.is_dir())
    assert [p.name for p in parts] == ["000", "001", "002", "003"]
    dm_sizes = [len(read_part(p.parent, p.name, "dm")) for p in parts]
    assert min(dm_sizes) >= 1 and sum(dm_sizes) == 40
    accounting = read_table(work / PARTITION_RESULTS / "SPLIT/accounting.parquet").set_index("file")
    for f in ("rs.csv", "ae.csv", "qs.csv", "suppae.csv"):
        lines = (export / f).read_text(encoding="utf-8").count("\n") - 1
        assert accounting.loc[f, "rows_in"] == lines
        assert accounting.loc[f, "rows_accepted"] + accounting.loc[f, "rows_quarantined"] == lines
    issues = read_table(work / PARTITION_RESULTS / "SPLIT/validation.parquet")
    assert {"RG0101", "RG0701", "RG0002", "RG0006", "RG0709"} <= set(issues["rule_id"])
    assert (work / PARTITION_RESULTS / "report.html").stat().st_size > 0
    assert verify_manifest(work / PARTITION_RESULTS / "provenance/manifest.json", work) == []  # parts are in the manifest


def test_changed_definition_reruns_the_same_jobs_of_every_part_split_or_not(split_run):
    from tests.test_reruns import edited, planned

    work, _ = split_run
    sheet = f"trials={PARTITION_SHEET}"
    with edited(work / "config/config.yaml",
                lambda t: t.replace("fraction_of_regrowth_lost: 0.5", "fraction_of_regrowth_lost: 0.6")):
        jobs = planned(work, "--config", sheet)
    derived = {f"derive_adtte[part={p},trial=SPLIT]" for p in ("000", "001", "002", "003")}
    derived |= {"derive_adtte[part=000,trial=WHOLE]"}
    summaries = {f"summarize_tte[trial={t}]" for t in ("SPLIT", "WHOLE")}
    aggregates = {"combine_tables", "compare_drugs", "report", "provenance", "all"}
    assert jobs == derived | summaries | aggregates
    assert not any(j.startswith(("split_export", "check")) for j in jobs)  # the split and the checks stand


# --- the simulator at any size ----------------------------------------------------------------


def test_apportion_keeps_total_and_proportions():
    assert apportion(10, [4, 17, 21, 24]) == [1, 2, 3, 4]
    counts = apportion(200_000, [4, 17, 21, 24])
    assert sum(counts) == 200_000 and counts[3] == round(200_000 * 24 / 66)


def test_scaled_design_keeps_the_template_response_model():
    d = scaled_design(TEMPLATES["tofacitinib"], 6600, "BIG1", visits=13)
    assert d.n_subjects == 6600
    assert d.response == TEMPLATES["tofacitinib"].response  # same model, same expected rates
    assert len(d.dropouts) == 500  # 5 of 66, in proportion
    assert 2 + (d.treatment_weeks + d.followup_weeks) // d.visit_every_weeks == 13
    assert max(d.sites.values()) <= 999


def test_scaled_site_ids_sort_in_site_order_beyond_99_sites():
    # a real SDTM export is sorted by USUBJID; "SIM-100-001" must not sort before "SIM-13-001"
    sites = list(scaled_design(TEMPLATES["tofacitinib"], 150_000, "BIG2", visits=13).sites)
    assert len(sites) == 151 and sites == sorted(sites)
    assert {len(s) for s in sites} == {3}
    assert list(scaled_design(TEMPLATES["tofacitinib"], 6600, "BIG1", visits=13).sites)[:2] == ["01", "02"]


@pytest.mark.parametrize("fmt", ["sdtm-csv", "sdtm-xpt", "dataset-json", "redcap"])
def test_simulated_trials_in_every_format_ingest_cleanly_and_reproducibly(tmp_path, fmt):
    sheets = [write_trials(tmp_path / run, 2, 60, fmt, seed=9, redcap_mapping=MAPPING) for run in ("a", "b")]
    digest = {}
    for sheet in sheets:
        files = sorted(p for p in sheet.parent.rglob("*") if p.is_file() and p != sheet)  # sheet: own paths
        digest[sheet.parent.name] = [(p.relative_to(sheet.parent).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                                     for p in files]
    assert digest["a"] == digest["b"]  # same seed, same bytes
    trials = pd.read_csv(sheets[0], sep="\t")
    assert trials["trial_id"].tolist() == ["SIM001", "SIM002"]
    ages = []
    for row in trials.to_dict("records"):
        ingested = ingest_trial(row["path"], fmt)
        assert ingested.tables["dm"]["USUBJID"].n_unique() == 60
        issues = validate_trial(ingested.tables, ingested.issues, ingested.unmapped)
        assert (issues["severity"] == "error").sum() == 0, issues.head()
        ages.append(ingested.tables["dm"]["AGE"].to_numpy())
    assert not np.array_equal(*ages)  # each trial draws from its own seed


def test_waterfall_bins_subjects_beyond_the_bar_limit():
    from regrowth.report.figures import waterfall_bins

    rng = np.random.default_rng(1)
    best = pd.DataFrame({"PCHG": np.sort(rng.uniform(-100, 20, 1000))[::-1],
                         "AATYPE": rng.choice(["PATCHY AA", "ALOPECIA TOTALIS"], 1000)})
    small, per_bar = waterfall_bins(best.head(300))
    assert per_bar == 1 and len(small) == 300  # one bar per subject up to the limit
    binned, per_bar = waterfall_bins(best)
    assert per_bar == 4 and len(binned) == 250
    assert binned["PCHG"].iloc[0] == best["PCHG"].iloc[:4].median()
    assert binned["PCHG"].is_monotonic_decreasing  # still a waterfall


def test_split_falls_back_to_the_careful_reader_midway_and_loses_no_row(tmp_path, monkeypatch):
    """A quoted line break far into a CSV: the streamed split has written some batches when
    pyarrow refuses it; the file is then read whole and every part rewritten, none half-written."""
    import regrowth.partition.split as split

    write_trials(tmp_path, 1, 40, "sdtm-csv", seed=5, drug="tofacitinib", redcap_mapping=MAPPING)
    folder = tmp_path / "SIM001"
    ae = pd.read_csv(folder / "ae.csv", dtype=str, keep_default_na=False)
    ae.loc[len(ae) - 2, "AETERM"] = "Headache\nsevere"  # written quoted by pandas
    ae.to_csv(folder / "ae.csv", index=False, lineterminator="\n")
    monkeypatch.setattr(split, "BATCH_BYTES", 512)  # many batches before the line break
    files, _ = split.split_export(folder, "sdtm-csv", 3, tmp_path / "parts")
    parts = [read_part(tmp_path / "parts", p, "ae") for p in ("000", "001", "002")]
    rows = pd.concat(parts)
    assert len(rows) == len(ae) == int(files.set_index("domains").loc["AE", "rows_in"])
    assert sorted(rows["SRCROW"].astype(int)) == list(range(1, len(ae) + 1))
    assert "Headache\nsevere" in set(rows["AETERM"])


def test_read_ahead_keeps_order_and_raises_the_readers_error_to_the_caller():
    from regrowth.partition.split import read_ahead

    assert list(read_ahead(iter(range(50)))) == list(range(50))

    def failing():
        yield from range(3)
        raise pa.ArrowInvalid("CSV parse error")

    got = []
    with pytest.raises(pa.ArrowInvalid, match="CSV parse error"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [0, 1, 2]


def test_split_parts_are_the_rows_of_their_subjects_in_file_order(tmp_path, monkeypatch):
    """Streamed in small batches, read and written in threads: each part holds exactly its
    subjects' rows, in the order of the file."""
    import regrowth.partition.split as split

    write_trials(tmp_path, 1, 40, "sdtm-csv", seed=7, drug="tofacitinib", redcap_mapping=MAPPING)
    folder = tmp_path / "SIM001"
    rs = pd.read_csv(folder / "rs.csv", dtype=str, keep_default_na=False)
    monkeypatch.setattr(split, "BATCH_BYTES", 2048)
    split.split_export(folder, "sdtm-csv", 3, tmp_path / "parts")
    blocks = subject_blocks(pd.read_csv(folder / "dm.csv", dtype=str)["USUBJID"], 3)
    expected = assign_parts(rs["USUBJID"], blocks)
    for k, name in enumerate(("000", "001", "002")):
        part = read_part(tmp_path / "parts", name, "rs")
        assert part["SRCROW"].tolist() == [i + 1 for i in np.flatnonzero(expected == k)]
        assert part["RSORRES"].tolist() == rs.loc[expected == k, "RSORRES"].tolist()


def _part_frames(outdir, role, n_parts=3):
    return [read_part(outdir, f"{k:03d}", role) for k in range(n_parts)]


@pytest.mark.parametrize("fmt, streamer, chunk", [("sdtm-xpt", "_stream_xpt", "XPT_CHUNK_ROWS"),
                                                   ("dataset-json", "_stream_ndjson", "NDJSON_CHUNK_ROWS")])
def test_split_in_small_chunks_gives_the_parts_of_a_whole_read(tmp_path, monkeypatch, fmt, streamer, chunk):
    """XPORT streamed a few records at a time, or NDJSON a few lines at a time (bounded
    memory), writes the same rows, values and source rows to each part as reading the file whole."""
    import regrowth.partition.split as split

    write_trials(tmp_path, 1, 30, fmt, seed=9, drug="tofacitinib", redcap_mapping=MAPPING)
    folder = tmp_path / "SIM001"
    with monkeypatch.context() as whole_read:
        whole_read.setattr(split, streamer, lambda *args: None)  # each file read whole, then split
        whole, _ = split.split_export(folder, fmt, 3, tmp_path / "whole")
    monkeypatch.setattr(split, chunk, 7)
    streamed, stream = [], getattr(split, streamer)
    monkeypatch.setattr(split, streamer, lambda *args: streamed.append(stream(*args)) or streamed[-1])
    chunked, notices = split.split_export(folder, fmt, 3, tmp_path / "chunked")
    assert any(streamed)  # files were streamed, not all read whole
    pd.testing.assert_frame_equal(chunked, whole)
    assert notices.empty
    for role in roles_of(folder, fmt):
        for a, b in zip(_part_frames(tmp_path / "chunked", role), _part_frames(tmp_path / "whole", role)):
            pd.testing.assert_frame_equal(a, b)
    rs_rows = sum(len(p) for p in _part_frames(tmp_path / "chunked", "rs"))
    assert rs_rows == int(whole.set_index("domains").loc["RS", "rows_in"]) > 7 * 10


def test_xpt_split_meets_cp1252_text_late_and_starts_the_file_again(tmp_path, monkeypatch):
    import regrowth.partition.split as split
    from regrowth.simulate.export_sdtm import write_xpt

    subjects = [f"T-{k:02d}" for k in range(1, 10)]
    write_xpt(pd.DataFrame({"STUDYID": "T", "DOMAIN": "DM", "USUBJID": subjects, "ARM": "Drug", "ACTARM": "Drug"}),
              tmp_path / "dm.xpt", "dm")
    terms = [f"Term {k}" for k in range(len(subjects) - 1)] + ["caf\u00e9"]
    write_xpt(pd.DataFrame({"STUDYID": "T", "DOMAIN": "AE", "USUBJID": subjects, "AESEQ": 1.0, "AETERM": terms}),
              tmp_path / "ae.xpt", "ae")
    raw = (tmp_path / "ae.xpt").read_bytes().replace("café".encode(), b"caf\xe9 ")
    (tmp_path / "ae.xpt").write_bytes(raw)
    monkeypatch.setattr(split, "XPT_CHUNK_ROWS", 2)  # the bad byte is in the last chunk
    files, notices = split.split_export(tmp_path, "sdtm-xpt", 3, tmp_path / "parts")
    ae = pd.concat(_part_frames(tmp_path / "parts", "ae"), ignore_index=True)
    assert ae["USUBJID"].tolist() == subjects and ae["AETERM"].tolist() == terms  # none twice, none lost
    assert ae["SRCROW"].tolist() == list(range(1, len(subjects) + 1))
    assert notices["file"].tolist() == ["ae.xpt"] and "cp1252" in notices["message"].iloc[0]


def _dataset_json_trial(tmp_path):
    """A simulated Dataset-JSON export (RS as NDJSON, the rest as .json) of 30 subjects."""
    write_trials(tmp_path, 1, 30, "dataset-json", seed=9, drug="tofacitinib", redcap_mapping=MAPPING)
    folder = tmp_path / "SIM001"
    assert (folder / "rs.ndjson").is_file() and (folder / "dm.json").is_file()
    return folder


def _check_and_derive(folder, fmt, part="000", split=None, policy="quarantine"):
    """The tables of one part as the check and derive jobs write them, by output name."""
    from regrowth.check import check_part
    from regrowth.derive.pipeline import Settings, derive_analysis_tables
    from regrowth.parquet_io import as_pandas

    checked = check_part(folder, fmt, part, split=split, policy=policy, window_days=SETTINGS["window_days"]).as_pandas()
    written = checked.outputs()
    derive_analysis_tables(dict(checked.gated.tables), Settings(policy=policy, **SETTINGS),
                           lambda name, table: written.__setitem__(name, as_pandas(table)))
    return written


def test_a_split_dataset_json_export_gives_the_tables_of_a_whole_one(tmp_path):
    """Each part through the check and derive stages, the parts one after the other: the
    accepted SDTM, quarantine and ADaM tables of the whole export through the same stages."""
    from regrowth.parquet_io import write_table
    from regrowth.partition.split import split_export

    folder = _dataset_json_trial(tmp_path)
    whole = _check_and_derive(folder, "dataset-json")
    files, split_issues = split_export(folder, "dataset-json", 3, tmp_path / "parts")
    write_table(files, tmp_path / "files.parquet")
    write_table(split_issues, tmp_path / "issues.parquet")
    split = (tmp_path / "files.parquet", tmp_path / "parts", tmp_path / "issues.parquet")
    parts = [_check_and_derive(folder, "dataset-json", part, split) for part in ("000", "001", "002")]
    assert all(len(p["dm"]) for p in parts)  # really split: every part has subjects
    for name, table in whole.items():
        if name in ("validation", "accounting", "files"):
            continue  # per part; collected per trial (collect_checks)
        joined = pd.concat([p[name] for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(joined, table.reset_index(drop=True), obj=name)
    assert len(whole["adsalt"]) > 0 and len(whole["rs"]) == sum(len(p["rs"]) for p in parts)


def test_an_ndjson_file_broken_midway_fails_the_split_as_a_whole_read_fails(tmp_path, monkeypatch):
    import regrowth.partition.split as split
    from regrowth.ingest.dataset_json import read_dataset_json

    folder = _dataset_json_trial(tmp_path)
    monkeypatch.setattr(split, "NDJSON_CHUNK_ROWS", 7)
    rs = folder / "rs.ndjson"
    lines = rs.read_text(encoding="utf-8").splitlines(keepends=True)
    original = "".join(lines)
    for broken, expected in ((lines[:40] + ['["too", "short"]\n'] + lines[41:], "row 40 has 2 values"),
                             (lines[:-3], "'records' says")):
        rs.write_text("".join(broken), encoding="utf-8")
        with pytest.raises(InputError, match=expected) as streamed:
            split.split_export(folder, "dataset-json", 3, tmp_path / "parts")
        with pytest.raises(InputError) as whole:
            read_dataset_json(rs)
        assert str(streamed.value) == str(whole.value)
    rs.write_text(original, encoding="utf-8")


def test_importing_the_split_leaves_jsonschema_unloaded():
    # Snakemake imports the split at every start (common.smk) and every partition job does:
    # jsonschema (~0.1 s) is loaded only when a Dataset-JSON file's metadata is checked
    import subprocess
    import sys

    code = "import sys, regrowth.partition.split; print('jsonschema' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_the_splits_memory_request_covers_the_largest_json_file_it_reads_whole(tmp_path):
    from regrowth.partition import STREAMING_MB, split_memory_mb

    csv, small, large = tmp_path / "rs.csv", tmp_path / "dm.json", tmp_path / "sv.json"
    for path, mb in ((csv, 30), (small, 1), (large, 3)):
        path.write_bytes(b" " * int(mb * 1e6))
    assert split_memory_mb([csv]) == STREAMING_MB  # streamed: bounded whatever its size
    request = split_memory_mb([csv, small, large])
    assert request >= STREAMING_MB + 11 * 3  # a .json file read whole peaks at ~11 MB per MB
    assert request < STREAMING_MB + 11 * 4  # the largest file, not the sum: they are read one by one


def test_a_dataset_json_trial_is_split_when_asked_and_a_redcap_one_is_refused(tmp_path):
    from tests.test_reruns import planned

    folder = _dataset_json_trial(tmp_path / "sim")
    work = copy_workflow(tmp_path / "work")
    sheet = work / "config" / "json_trials.tsv"
    sheet.write_text(PARTITION_SHEET_HEADER + partition_sheet_row("JSPLIT", folder, 3, "dataset-json"),
                     encoding="utf-8")
    jobs = planned(work, "--config", f"trials={sheet}")
    assert "split_export[trial=JSPLIT]" in jobs
    assert {j for j in jobs if j.startswith("check")} == {
        f"check[part={p},trial=JSPLIT]" for p in ("000", "001", "002")}
    sheet.write_text(PARTITION_SHEET_HEADER + partition_sheet_row("RSPLIT", folder, 3, "redcap"), encoding="utf-8")
    refused = snakemake(work, "-n", "--config", f"trials={sheet}")
    assert refused.returncode != 0
    assert "only sdtm-csv, sdtm-xpt, dataset-json exports can be split into partitions, not redcap" in (
        refused.stdout + refused.stderr)


# --- one job per partition --------------------------------------------------------------------


def _split_messy_trial(tmp_path, n_parts):
    from regrowth.parquet_io import write_table
    from regrowth.partition.split import split_export

    export = tmp_path / "sim" / "SIM001"
    messy_partition_trial(export, MAPPING)
    files, issues = split_export(export, "sdtm-csv", n_parts, tmp_path / "parts")
    write_table(files, tmp_path / "files.parquet")
    write_table(issues, tmp_path / "issues.parquet")
    return tmp_path / "files.parquet", tmp_path / "parts", tmp_path / "issues.parquet"


SETTINGS = dict(window_days=14, grid_weeks=4, eot_week=12, teae_window_days=30,
                endpoints=[{"name": "SALT50", "variable": "PCHG", "operator": "<=", "value": -50}],
                relapse={"responder_endpoint": "SALT50", "fraction_of_regrowth_lost": 0.5})


def test_a_part_with_errors_stops_under_strict_policy_and_its_issue_list_stays(tmp_path):
    from regrowth.errors import ValidationFailed
    from regrowth.check import check_part

    split = _split_messy_trial(tmp_path, 2)
    issues_csv = tmp_path / "logs" / "validation.csv"
    issues_csv.parent.mkdir()
    with pytest.raises(ValidationFailed, match=f"Every issue is listed in {issues_csv}"):
        check_part(tmp_path / "sim/SIM001", "sdtm-csv", "000", split=split, policy="strict", issues_csv=issues_csv)
    listed = pd.read_csv(issues_csv)
    assert (listed["severity"] == "error").any()


def test_a_part_under_quarantine_policy_gives_every_output_of_its_jobs(tmp_path):
    split = _split_messy_trial(tmp_path, 2)
    written = _check_and_derive(tmp_path / "sim/SIM001", "sdtm-csv", "001", split)
    assert set(written) == ({"validation", "accounting", "files", "adsl", "adsalt", "adtte", "adae", "q_unmapped"}
                            | set(DOMAIN_NAMES) | {f"q_{d}" for d in DOMAIN_NAMES})
    accounting = written["accounting"]
    assert (accounting["rows_in"] == accounting["rows_accepted"] + accounting["rows_quarantined"]).all()
    assert set(written["adsl"]["USUBJID"]) == set(written["dm"]["USUBJID"])


def test_a_part_whose_subjects_have_no_salt_records_reads_with_the_others(tmp_path):
    # its ADSALT has no rows; with text columns where the others have numbers, the dataset's
    # parts could not be read as one table
    from regrowth.derive.adsalt import derive_adsalt
    from regrowth.derive.adsl import derive_adsl
    from regrowth.parquet_io import write_table
    from tests.builders import ENDPOINTS, dm, empty, ex, rs_totals

    kwargs = dict(endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
    for part, subject, rs in (("000", "S1", rs_totals(("S1", 1, "2020-01-01", 60.0), ("S1", 2, "2020-01-29", 40.0))),
                              ("001", "S2", empty("rs"))):
        adsl = derive_adsl(dm(subject), ex((subject, "2020-01-01", "2020-01-29")), empty("ds"), empty("mh"), rs)
        write_table(derive_adsalt(rs, adsl, **kwargs), tmp_path / "adsalt" / f"part-{part}.parquet")
    combined = read_table(tmp_path / "adsalt")
    assert combined["USUBJID"].tolist() == ["S1", "S1"] and combined["AVISITN"].dtype == "float64"


def test_adsalt_in_memory_gives_adtte_what_reading_the_file_gives(tmp_path):
    import polars as pl

    from regrowth.derive.adtte import analysed_adsalt, read_adsalt
    from regrowth.parquet_io import read_frame, write_table

    adsalt = pd.DataFrame({"USUBJID": ["A", "A", "B", None], "PARAMCD": ["SALT01", "SALT", "SALT", "SALT"],
                           "AVAL": [10.0, 20.0, np.nan, 5.0], "ADT": pd.to_datetime(["2020-01-01"] * 4),
                           "CRIT1FL": ["Y", None, "N", "Y"], "CRIT1": ["x"] * 4, "STUDYID": ["S"] * 4})
    write_table(adsalt, tmp_path / "adsalt.parquet")
    expected = read_adsalt(tmp_path / "adsalt.parquet")
    assert expected["PARAMCD"].to_list() == ["SALT"] * 3 and "CRIT1" not in expected.columns
    assert analysed_adsalt(read_frame(tmp_path / "adsalt.parquet")).equals(expected)
    regions_only = read_frame(tmp_path / "adsalt.parquet").filter(pl.col("PARAMCD") != "SALT")  # no total: whole
    assert analysed_adsalt(regions_only).equals(regions_only)
