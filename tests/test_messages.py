"""Validation messages a data manager can act on: where (file, data row, line), the value as the
file has it, one error per bad value (no follow-on errors), and how to fix it.

Every expected line and value below is counted by hand from the file text written in the test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from regrowth.errors import ValidationFailed
from regrowth.ingest.sdtm import _read_csv_arrow, lines_are_rows, read_csv_lines
from regrowth.issues import ISSUE_COLUMNS, value_text
from regrowth.trial import check_trial
from regrowth.validate.gate import check_no_errors, describe
from regrowth.validate.rules import RULES, catalogue, catalogue_markdown
from tests.corpus.cases import base, write_table

DM_HEADER = "STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM,ACTARM,RFSTDTC,RFENDTC\n"
DM_1 = "T,DM,T-1,F,34,Drug 5 mg,Drug 5 mg,2020-01-06,2020-06-01\n"
DM_2 = "T,DM,T-2,M,51,Drug 5 mg,Drug 5 mg,2020-01-13,2020-06-08\n"
DM_3 = "T,DM,T-3,F,47,Placebo,Placebo,2020-01-20,2020-06-15\n"


def export(folder, fmt="sdtm-csv", change=lambda t: None, raw=None):
    """The corpus' valid three-subject trial, changed, with some files written as given."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = base()
    change(tables)
    for name, df in tables.items():
        write_table(df, folder, name, fmt)
    for name, text in (raw or {}).items():
        (folder / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return folder


def issues_of(folder, fmt="sdtm-csv"):
    return check_trial(folder, fmt, policy="quarantine").issues


def one(issues, rule):
    hit = issues[issues["rule_id"] == rule]
    assert len(hit) == 1, issues
    return hit.iloc[0].to_dict()


def set_value(domain, row, col, value):
    def change(t):
        t[domain].loc[row, col] = value
    return change


# --- 1. where: data row and line ---------------------------------------------------------------


def test_issue_contract_keeps_its_columns_in_order_and_appends_line_and_fix():
    assert ISSUE_COLUMNS == ["rule_id", "severity", "dataset", "file", "usubjid", "row", "column", "value", "message",
                             "line", "fix"]


def test_plain_csv_row_is_the_line_after_the_header(tmp_path):
    folder = export(tmp_path, change=set_value("dm", 1, "SEX", "Q"))  # data row 2: line 3
    issue = one(issues_of(folder), "RG0201")
    assert (issue["file"], issue["row"], issue["line"]) == ("dm.csv", 2, 3)
    assert "(file dm.csv, data row 2 (line 3), usubjid T-2, column SEX)" in describe(issue)


@pytest.mark.parametrize("text,row,line", [
    # a blank line between data rows 1 and 2: row 2 is line 4
    (DM_HEADER + DM_1 + "\n" + DM_2.replace(",M,", ",Q,") + DM_3, 2, 4),
    # two blank lines, CRLF line ends: row 3 is line 6
    ((DM_HEADER + DM_1 + "\n" + DM_2 + "\n" + DM_3.replace(",F,", ",Q,")).replace("\n", "\r\n"), 3, 6),
    # a quoted line break in row 1's ARM: row 2 starts on line 4
    (DM_HEADER + DM_1.replace("T-1,F,34,Drug 5 mg", 'T-1,F,34,"Drug\n5 mg"') + DM_2.replace(",M,", ",Q,") + DM_3,
     2, 4),
    # a quoted CRLF in row 1 and a blank line before row 3: row 3 is line 6
    (DM_HEADER + DM_1.replace("T-1,F,34,Drug 5 mg", 'T-1,F,34,"Drug\r\n5 mg"') + DM_2 + "\n"
     + DM_3.replace(",F,", ",Q,"), 3, 6),
    # blank lines only after the last row: lines are rows + 1
    (DM_HEADER + DM_1 + DM_2.replace(",M,", ",Q,") + DM_3 + "\n\n", 2, 3),
])
def test_line_is_exact_with_blank_lines_and_quoted_line_breaks(tmp_path, text, row, line):
    folder = export(tmp_path, raw={"dm.csv": text})
    issue = one(issues_of(folder), "RG0201")
    assert (issue["row"], issue["line"]) == (row, line)
    assert f"data row {row} (line {line})" in describe(issue)


def test_value_with_a_line_break_is_read_whole(tmp_path):
    path = tmp_path / "dm.csv"
    path.write_text(DM_HEADER + DM_1.replace("T-1,F,34,Drug 5 mg", 'T-1,F,34,"Drug\n5 mg"') + DM_2)
    df, lines = read_csv_lines(path)
    assert df["ARM"].to_list() == ["Drug\n5 mg", "Drug 5 mg"]
    assert lines.tolist() == [2, 4]


def test_not_a_number_in_a_file_with_blank_lines_names_its_line(tmp_path):
    text = DM_HEADER + "\n" + DM_1 + "\n\n" + DM_2.replace(",51,", ",fifty,") + DM_3  # row 2 on line 6
    issue = one(issues_of(export(tmp_path, raw={"dm.csv": text})), "RG0101")
    assert (issue["row"], issue["line"], issue["value"]) == (2, 6, "fifty")


def test_unmapped_source_row_gets_its_line(tmp_path):
    qs = "STUDYID,DOMAIN,USUBJID,QSSEQ,QSCAT,QSTESTCD,QSSTRESN\nT,QS,T-1,1,HADS,HADS01,3\nT,QS,T-1,2,HADS,HADS02,4\n"
    issues = issues_of(export(tmp_path, raw={"qs.csv": qs}))
    hit = issues[issues["rule_id"] == "RG0006"]
    assert hit[["row", "line"]].values.tolist() == [[1, 2], [2, 3]]


def test_lines_are_rows(tmp_path):
    path = tmp_path / "x.csv"
    for text, rows, expected in [
        ("a,b\n1,2\n3,4\n", 2, True),
        ("a,b\n1,2\n3,4", 2, True),  # no line end after the last row
        ("a,b\r\n1,2\r\n3,4\r\n\r\n\r\n", 2, True),  # blank lines at the end only
        ("a,b\n1,2\n\n3,4\n", 2, False),  # a blank line between rows
        ('a,b\n"1\n",2\n3,4\n', 2, False),  # a line break inside a quoted value
        ("a,b\r1,2\r3,4\r", 2, False),  # CR line ends: the careful reader decides
    ]:
        path.write_bytes(text.encode())
        assert lines_are_rows(path, rows) is expected, text


def test_fast_reader_only_where_lines_are_rows(tmp_path):
    path = tmp_path / "dm.csv"
    path.write_text(DM_HEADER + DM_1 + DM_2 + "\n")
    assert _read_csv_arrow(path) is not None
    path.write_text(DM_HEADER + DM_1 + "\n" + DM_2)
    assert _read_csv_arrow(path) is None
    df, lines = read_csv_lines(path)
    assert len(df) == 2 and lines.tolist() == [2, 4]


@pytest.mark.parametrize("fmt", ["sdtm-xpt", "dataset-json"])
def test_xpt_and_dataset_json_name_the_record(tmp_path, fmt):
    issue = one(issues_of(export(tmp_path, fmt, set_value("dm", 1, "SEX", "Q")), fmt), "RG0201")
    assert issue["row"] == 2 and pd.isna(issue["line"])
    assert "record 2," in describe(issue) and "line" not in describe(issue).split(":")[0]


def test_validation_csv_carries_the_line(tmp_path):
    from regrowth.csv_safe import write_safe_csv

    issues = issues_of(export(tmp_path / "t", change=set_value("dm", 2, "SEX", "Q")))
    write_safe_csv(issues, tmp_path / "validation.csv")
    back = pd.read_csv(tmp_path / "validation.csv", dtype=str, keep_default_na=False)
    rec = back[back["rule_id"] == "RG0201"].iloc[0]
    assert (rec["row"], rec["line"]) == ("3", "4")
    assert rec["fix"] == "Recode SEX to F, M, U or UNDIFFERENTIATED"
    assert (back["fix"] != "").all()  # every issue, ingest's included, says how to fix it


# --- 2. values as the file has them ------------------------------------------------------------


@pytest.mark.parametrize("value,text", [
    (130.0, "130"), (4.0, "4"), (-5.0, "-5"), (0.0, "0"), (26.6, "26.6"), (100.05, "100.05"),
    (0.1 + 0.2, "0.30000000000000004"), (1e-05, "1e-05"), (float("nan"), None), (None, None), ("Q", "Q"),
])
def test_value_text(value, text):
    assert value_text(value) == text


def test_numbers_in_issues_have_no_spurious_decimal(tmp_path):
    def change(t):
        t["dm"].loc[2, "AGE"] = "130"
        t["ae"].loc[1, ["USUBJID", "AESEQ"]] = ["T-1", "1"]  # T-1 has AESEQ 1 twice
        t["rs"].loc[1, "RSSTRESN"] = "100.5"

    issues = issues_of(export(tmp_path, change=change))
    age = one(issues, "RG0302")
    assert age["value"] == "130" and age["message"].endswith("AGE = '130'")
    seq = issues[issues["rule_id"] == "RG0502"]
    assert seq["value"].tolist() == ["1", "1"] and set(seq["column"]) == {"AESEQ"}
    assert one(issues, "RG0301")["value"] == "100.5"


# --- 3. no follow-on errors ---------------------------------------------------------------------


def rules(issues):
    return set(issues["rule_id"])


def test_day_month_year_start_date_is_only_not_iso(tmp_path):
    # '2020-02-03' < '25/01/2020' as text: compared as text it was also 'ends before it starts'
    found = rules(issues_of(export(tmp_path, change=set_value("ae", 0, "AESTDTC", "25/01/2020"))))
    assert "RG0401" in found and "RG0602" not in found


def test_day_month_year_dose_date_is_only_not_iso(tmp_path):
    def change(t):
        t["ex"].loc[1, "EXSTDTC"] = "25/01/2020"  # '2020-04-05' < '25/01/2020' as text

    found = rules(issues_of(export(tmp_path, change=change)))
    assert "RG0401" in found and not found & {"RG0603", "RG0702", "RG0704", "RG0706"}, found


def test_invalid_dates_raise_no_study_period_or_window_issue(tmp_path):
    def change(t):
        t["ae"].loc[0, "AESTDTC"] = "2021-02-01 10:00"  # its first 10 characters lie after the period
        t["rs"].loc[1, "RSDTC"] = "2020-05-20 x"  # ... and outside WEEK 12's window
        t["dm"].loc[2, "RFENDTC"] = "15/06/2020"  # T-3's period is not known for sure
        t["ae"].loc[1, ["USUBJID", "AESTDTC"]] = ["T-3", "2020-06-10"]  # inside it

    issues = issues_of(export(tmp_path, change=change))
    assert set(issues.loc[issues["rule_id"] == "RG0401", "column"]) == {"AESTDTC", "RSDTC", "RFENDTC"}
    assert not rules(issues) & {"RG0602", "RG0704", "RG0706"}, issues


def test_invalid_baseline_date_is_not_also_no_baseline(tmp_path):
    # '6/1/2020' > '2020-01-06' as text: the baseline looked later than the first dose
    found = rules(issues_of(export(tmp_path, change=set_value("rs", 0, "RSDTC", "6/1/2020"))))
    assert "RG0401" in found and "RG0702" not in found


def test_invalid_dose_date_is_not_also_outside_the_window(tmp_path):
    def change(t):
        t["ex"] = pd.concat([t["ex"], t["ex"].iloc[[0]]], ignore_index=True)
        t["ex"].loc[0, ["EXSTDTC", "EXENDTC"]] = ["06/01/2020", "2020-02-05"]  # T-1's first dose, not ISO
        t["ex"].loc[3, ["EXSEQ", "EXSTDTC"]] = ["2", "2020-02-06"]  # WEEK 12 would be study day 53

    found = rules(issues_of(export(tmp_path, change=change)))
    assert "RG0401" in found and not found & {"RG0706", "RG0603", "RG0704"}, found


def test_valid_dates_still_compared(tmp_path):
    found = rules(issues_of(export(tmp_path, change=set_value("ae", 0, "AEENDTC", "2020-01-15"))))
    assert "RG0602" in found and "RG0401" not in found


def test_not_a_number_is_not_also_empty(tmp_path):
    issues = issues_of(export(tmp_path, change=set_value("ae", 0, "AESEQ", "one")))
    assert one(issues, "RG0101")["column"] == "AESEQ"
    assert "RG0002" not in rules(issues)


def test_salt_score_out_of_range_is_not_also_a_wrong_total(tmp_path):
    def change(t):
        extra = [{**t["rs"].iloc[0].to_dict(), "RSSEQ": str(10 + i), "RSTESTCD": code, "RSSTRESN": v}
                 for i, (code, v) in enumerate([("SALT01", "150"), ("SALT02", "100"), ("SALT03", "100"),
                                                ("SALT04", "100")])]
        t["rs"] = pd.concat([t["rs"], pd.DataFrame(extra)], ignore_index=True)

    found = rules(issues_of(export(tmp_path, change=change)))
    assert "RG0301" in found and "RG0601" not in found


# --- 4. how to fix ------------------------------------------------------------------------------


def test_every_rule_says_how_to_fix_it():
    for rule in RULES.values():
        assert rule.fix.strip(), rule.id
    cat = catalogue()
    assert list(cat.columns) == ["rule_id", "severity", "category", "description", "fix"]
    assert cat.set_index("rule_id").at["RG0401", "fix"] == RULES["RG0401"].fix
    md = catalogue_markdown()
    assert md.splitlines()[0] == "| rule | severity | category | description | how to fix |"
    for rule in RULES.values():
        assert f"| {rule.id} | {rule.severity} | {rule.category} | {rule.description} | {rule.fix} |" in md


def test_stop_message_says_where_what_and_how_to_fix(tmp_path):
    issues = issues_of(export(tmp_path, change=set_value("ae", 0, "AESTDTC", "25/01/2020")))
    with pytest.raises(ValidationFailed) as exc:
        check_no_errors(issues, "T1", "results/T1/validation.parquet")
    text = str(exc.value)
    assert "results/T1/validation.csv" in text and "results/T1/validation.parquet" in text
    assert ("[RG0401 error] AE (file ae.csv, data row 1 (line 2), usubjid T-1, column AESTDTC): "
            "A date (--DTC) is not ISO 8601 (full or partial): AESTDTC = '25/01/2020'. "
            f"Fix: {RULES['RG0401'].fix}.") in text


# --- 5. --SEQ unique in every domain that has one -------------------------------------------------


def test_rsseq_repeated_within_a_subject(tmp_path):
    issues = issues_of(export(tmp_path, change=set_value("rs", 1, "RSSEQ", "1")))  # T-1: RSSEQ 1, 1
    hit = issues[issues["rule_id"] == "RG0502"]
    assert hit[["column", "value", "row"]].values.tolist() == [["RSSEQ", "1", 1], ["RSSEQ", "1", 2]]


def test_rsseq_of_rs_and_qs_files_numbered_on_their_own(tmp_path):
    qs = "STUDYID,DOMAIN,USUBJID,QSSEQ,QSCAT,QSTESTCD,QSSTRESN,QSSTRESU,VISITNUM,VISIT,QSDTC\n" \
         "T,QS,T-1,1,SALT,SALT01,80,%,1,BASELINE,2020-01-06\n"
    assert "RG0502" not in rules(issues_of(export(tmp_path, raw={"qs.csv": qs})))


# --- 6. unmappable values that counts depend on are errors --------------------------------------


@pytest.mark.parametrize("domain,row,col,value,rule", [
    ("ae", 0, "AESER", "MAYBE", "RG0203"),
    ("ds", 2, "DSDECOD", "MOVED AWAY", "RG0205"),
])
def test_unmappable_terms_are_errors(tmp_path, domain, row, col, value, rule):
    assert RULES[rule].severity == "error"
    folder = export(tmp_path, change=set_value(domain, row, col, value))
    checked = check_trial(folder, "sdtm-csv", policy="quarantine")
    assert one(checked.issues, rule)["severity"] == "error"
    q = checked.gated.quarantine[domain]
    assert q["QRULES"].tolist() == [rule]
    with pytest.raises(ValidationFailed, match=rule):
        check_trial(folder, "sdtm-csv", policy="strict")


def test_dm_record_without_usubjid_is_only_empty(tmp_path):
    found = rules(issues_of(export(tmp_path, change=set_value("dm", 2, "USUBJID", ""))))
    assert "RG0002" in found and "RG0703" not in found, found


# --- lines where other modules read the file (changes asked for outside this task's files) -------


def test_split_trial_names_the_same_line(tmp_path):
    from regrowth.ingest import ingest_partition
    from regrowth.parquet_io import write_table as write_parquet
    from regrowth.partition.split import split_export
    from regrowth.validate import validate_trial

    ae = ("STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AESEV,AESER,AESTDTC\n"
          "T,AE,T-1,1,x,MILD,N,2020-02-01\n\n"
          "T,AE,T-3,1,y,GRADE 2,N,2020-02-01\n")  # data row 2, line 4
    folder = export(tmp_path / "t", raw={"ae.csv": ae})
    files, issues = split_export(folder, "sdtm-csv", 2, tmp_path / "parts")
    write_parquet(files, tmp_path / "files.parquet", {})
    write_parquet(issues, tmp_path / "issues.parquet", {})
    found = []
    for part in ("000", "001"):
        ing = ingest_partition(tmp_path / "files.parquet", tmp_path / "parts", part,
                               tmp_path / "issues.parquet").as_pandas()  # validate_trial takes pandas (for now)
        v = validate_trial(ing.tables, ing.issues, ing.unmapped)
        found += v.filter(v["rule_id"] == "RG0202").select("row", "line").rows()
    assert found == [(2, 4)]


def test_redcap_issue_names_its_line(tmp_path):
    from tests.corpus.redcap import records, write_redcap

    folder = tmp_path / "rc"
    write_redcap(folder)
    rec = records(folder)
    rec.loc[3, "salt_top"] = "140"  # data row 4
    text = rec.to_csv(index=False).splitlines(keepends=True)
    (folder / "P_records.csv").write_text("".join(text[:3] + ["\n"] + text[3:]))  # a blank line after row 2
    issue = one(check_trial(folder, "redcap", policy="quarantine").issues, "RG0304")
    assert (issue["row"], issue["line"]) == (4, 6)
