"""The trial sheet as Snakemake reads it at every start (regrowth.trial_sheet), by hand-written sheets."""

import subprocess
import sys
from pathlib import Path

import pytest

from regrowth.trial_sheet import load_trials, row_validator

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = row_validator(ROOT / "workflow/schemas/trials.schema.yaml")
HEADER = "trial_id\tformat\tpath\tlabel\teot_week\tsimulated\tpartitions\tcontrol\n"


def sheet(tmp_path, *lines, header=HEADER):
    path = tmp_path / "trials.tsv"
    path.write_text(header + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_rows_keep_their_filled_cells_with_integers_and_yes_no_as_values(tmp_path):
    path = sheet(tmp_path,
                 "# a comment line is skipped",
                 " B2 \tsdtm-csv\tdata/b\tTrial B\t12\tNo\t3\t",
                 "A1\tredcap\tdata/a\tTrial A\t\tyes",  # shorter than the header: the rest is empty
                 )
    assert load_trials(path, VALIDATOR) == {
        "B2": {"trial_id": "B2", "format": "sdtm-csv", "path": "data/b", "label": "Trial B", "eot_week": 12,
               "simulated": False, "partitions": 3},
        "A1": {"trial_id": "A1", "format": "redcap", "path": "data/a", "label": "Trial A", "simulated": True},
    }
    assert list(load_trials(path, VALIDATOR)) == ["B2", "A1"]  # sheet order
    # an integer stays one when another row leaves its column empty (a pandas frame made it 12.0,
    # and the report said "week 12.0 (planned)")
    assert type(load_trials(path, VALIDATOR)["B2"]["eot_week"]) is int


@pytest.mark.parametrize("cell,column", [("twelve", "eot_week"), ("0", "eot_week"), ("maybe", "simulated"),
                                         ("-2", "partitions")])
def test_a_cell_of_the_wrong_kind_names_its_line_and_column(tmp_path, cell, column):
    cells = {"eot_week": "12", "simulated": "yes", "partitions": "1"} | {column: cell}
    path = sheet(tmp_path, "A1\tredcap\tdata/a\tTrial A\t" + "\t".join(cells.values()))
    with pytest.raises(ValueError, match=rf"trials.tsv, line 2: invalid trial row \(column {column}\)"):
        load_trials(path, VALIDATOR)


def test_every_repeated_trial_id_is_named(tmp_path):
    path = sheet(tmp_path, *(f"{t}\tredcap\tdata/{t}\tTrial {t}" for t in ("A1", "B2", "A1", "B2", "C3")))
    with pytest.raises(ValueError, match=r"trials.tsv: trial_id listed more than once: A1, B2$"):
        load_trials(path, VALIDATOR)


@pytest.mark.parametrize("text,message", [("", "the trial sheet is empty"), ("# only a comment\n", "the trial sheet is empty"),
                                          (HEADER, "the trial sheet lists no trials")])
def test_a_sheet_without_trials_says_so(tmp_path, text, message):
    path = tmp_path / "trials.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_trials(path, VALIDATOR)


def test_an_unreadable_sheet_names_the_file(tmp_path):
    path = tmp_path / "trials.tsv"
    path.write_bytes(HEADER.encode() + b"A1\tredcap\tdata/a\tTrial \xff\n")
    with pytest.raises(ValueError, match=r"trials.tsv: not a readable tab-separated trial sheet"):
        load_trials(path, VALIDATOR)
    with pytest.raises(ValueError, match=r"missing.tsv: not a readable tab-separated trial sheet"):
        load_trials(tmp_path / "missing.tsv", VALIDATOR)


def test_the_bundled_sheet_reads_as_the_report_describes_it():
    trials = load_trials(ROOT / "config/trials.tsv", VALIDATOR)
    assert sorted(trials) == ["NCT01950780", "NCT02197455", "NCT03570749"]
    assert {t: (r["eot_week"], r["simulated"], r.get("control")) for t, r in trials.items()} == {
        "NCT01950780": (24, True, None), "NCT02197455": (12, True, None), "NCT03570749": (36, True, "Placebo")}


def test_reading_the_sheet_loads_no_data_library():
    code = "import sys, regrowth.trial_sheet; print(sorted(m for m in ('pandas', 'polars', 'pyarrow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_a_quoted_cell_may_hold_a_tab_and_later_rows_keep_their_own_line_numbers(tmp_path):
    path = sheet(tmp_path, 'A1\tredcap\tdata/a\t"Trial\tA"', 'B2\tredcap\tdata/b\t"Trial\nB"', "C3\tspss\tdata/c\tTrial C")
    with pytest.raises(ValueError, match=r"trials.tsv, line 5: invalid trial row \(column format\)"):
        load_trials(path, VALIDATOR)
    path = sheet(tmp_path, 'A1\tredcap\tdata/a\t"Trial\tA"')
    assert load_trials(path, VALIDATOR)["A1"]["label"] == "Trial\tA"


@pytest.mark.parametrize("header,lines,message", [
    (HEADER, ["A1\tredcap\tdata/a\tTrial A", "B2\tredcap\t\tTrial B"],
     r"line 3: invalid trial row: 'path' is a required property"),
    (HEADER, ["A1\tredcap\tdata/a\tTrial A\t\t\t\t\textra"], r"line 2: 9 tab-separated cells, the header names 8"),
    # csv's lenient reader would take every later line into the quoted label: B2 and C3 gone
    (HEADER, ['A1\tredcap\tdata/a\t"Trial A', "B2\tredcap\tdata/b\tTrial B", "C3\tredcap\tdata/c\tTrial C"],
     r"line 2: not a readable tab-separated row .*must end with one"),
    ("trial_id\tformat\tpath\tlabel\teot_week\teot_week\n", ["A1\tredcap\tdata/a\tTrial A\t12\t24"],
     r"line 1: column eot_week named more than once in the header"),
    (HEADER, ["A1\tredcap\tdata/a\tTrial A\t1²"], r"line 2: invalid trial row \(column eot_week\)"),  # not int()'s crash
    # a misspelt column would be ignored: the trial would run without its planned week
    ("trial_id\tformat\tpath\tlabel\teot_wek\n", ["A1\tredcap\tdata/a\tTrial A\t12"],
     r"line 1: column eot_wek is not a trial sheet column \(did you mean eot_week\? the columns are trial_id, "),
    ("trial_id\tformat\tpath\tlabel\t\n", ["A1\tredcap\tdata/a\tTrial A\t12"],
     r"line 2: cell '12' is under a column with no name in the header; name the column or remove the cell"),
], ids=["required cell missing", "more cells than the header", "unclosed quote", "column named twice", "non-ASCII digit",
        "misspelt column", "a filled cell under an unnamed column"])
def test_a_bad_sheet_stops_naming_its_line(tmp_path, header, lines, message):
    with pytest.raises(ValueError, match=rf"trials.tsv, {message}"):
        load_trials(sheet(tmp_path, *lines, header=header), VALIDATOR)


def test_empty_unnamed_columns_from_trailing_tabs_are_ignored(tmp_path):
    path = sheet(tmp_path, "A1\tredcap\tdata/a\tTrial A\t\t", header="trial_id\tformat\tpath\tlabel\t\t\n")
    assert load_trials(path, VALIDATOR) == {"A1": {"trial_id": "A1", "format": "redcap", "path": "data/a", "label": "Trial A"}}
