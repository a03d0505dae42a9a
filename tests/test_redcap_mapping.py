"""A REDCap project laid out differently from the bundled one, mapped by its own YAML file."""

import pandas as pd
import pytest
import yaml

from regrowth.errors import InputError
from regrowth.ingest import ingest_trial

DICT_COLUMNS = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
                "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
                "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
                "Matrix Ranking?", "Field Annotation"]
FIELDS = [  # name, form, type, choices, validation, min, max
    ("studyno", "enrol", "text", "", "", "", ""),
    ("gender", "enrol", "dropdown", "m, Male | f, Female", "", "", ""),
    ("yrs", "enrol", "text", "", "integer", "18", "90"),
    ("ethn", "enrol", "checkbox", "a, Asian | w, White", "", "", ""),
    ("tx_first", "enrol", "text", "", "date_ymd", "", ""),
    ("scalp_dt", "scalp", "text", "", "date_ymd", "", ""),
    ("scalp_score", "scalp", "text", "", "number", "0", "100"),
    ("event_name", "safety", "text", "", "", "", ""),
    ("event_onset", "safety", "text", "", "date_ymd", "", ""),
]
MAPPING = {
    "study": {"STUDYID": "PX", "ARM": "Drug X 10 mg"},
    "usubjid": "{STUDYID}/{record_id}",
    "visits": {"day0_arm_1": {"VISITNUM": 10, "VISIT": "DAY 0"}, "month3_arm_1": {"VISITNUM": 20, "VISIT": "MONTH 3"}},
    "adverse_event_form": "safety",
    "fields": {"sex": "gender", "age": "yrs", "race": "ethn", "drug_start": "tx_first", "salt_date": "scalp_dt",
               "salt_total": "scalp_score", "ae_term": "event_name", "ae_start": "event_onset"},
    "codes": {"sex": {"m": "M", "f": "F"}, "race": {"a": "ASIAN", "w": "WHITE"}},
}
HEADER = ("studyno,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,gender,yrs,ethn___a,ethn___w,"
          "tx_first,enrol_complete,scalp_dt,scalp_score,scalp_complete,event_name,event_onset,safety_complete\n")
ROWS = ("A1,day0_arm_1,,,f,44,0,1,2021-02-01,2,2021-02-01,72.5,2,,,\n"
        "A1,month3_arm_1,,,,,,,,,2021-05-03,30,2,,,\n"
        "A1,day0_arm_1,safety,1,,,,,,,,,,itchy scalp,2021-03-01,2\n")


def project(folder, rows=ROWS, mapping=MAPPING, header=HEADER):
    dictionary = pd.DataFrame([dict(zip(DICT_COLUMNS, [n, f, "", t, n, c, "", v, lo, hi] + [""] * 8))
                               for n, f, t, c, v, lo, hi in FIELDS])
    dictionary.to_csv(folder / "px_dictionary.csv", index=False)
    (folder / "px_records.csv").write_text(header + rows)
    (folder / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    return folder


def test_other_field_names_events_and_codes(tmp_path):
    t = ingest_trial(project(tmp_path), "redcap").as_pandas().tables
    assert t["dm"]["USUBJID"].tolist() == ["PX/A1"] and t["dm"]["SEX"].tolist() == ["F"]
    assert t["dm"]["RACE"].tolist() == ["WHITE"] and t["dm"]["AGE"].tolist() == [44.0]
    assert t["rs"]["RSTESTCD"].tolist() == ["SALTTOT", "SALTTOT"] and t["rs"]["RSSTRESN"].tolist() == [72.5, 30.0]
    assert t["rs"]["VISIT"].tolist() == ["DAY 0", "MONTH 3"] and t["rs"]["VISITNUM"].tolist() == [10.0, 20.0]
    assert t["ae"]["AETERM"].tolist() == ["itchy scalp"] and t["ex"]["EXSTDTC"].tolist() == ["2021-02-01"]


@pytest.mark.parametrize("bad_row,rule,column", [
    ("A2,day0_arm_1,,,x,44,0,1,2021-02-01,2,,,,,,\n", "RG0206", "gender"),
    ("A2,day0_arm_1,,,m,17,0,1,2021-02-01,2,,,,,,\n", "RG0304", "yrs"),
    ("A2,day0_arm_1,,,m,44.5,0,1,2021-02-01,2,,,,,,\n", "RG0207", "yrs"),
    ("A2,day0_arm_1,,,m,44,0,1,2021-02-30,2,,,,,,\n", "RG0207", "tx_first"),
    ("A2,day0_arm_1,,,m,44,0,1,01/02/2021,2,,,,,,\n", "RG0207", "tx_first"),
    ("A2,day0_arm_1,,,m,44,2,1,2021-02-01,2,,,,,,\n", "RG0206", "ethn___a"),
    ("A2,month3_arm_1,,,,,,,,,2021-05-03,130,2,,,\n", "RG0304", "scalp_score"),
])
def test_values_checked_against_the_dictionary(tmp_path, bad_row, rule, column):
    got = ingest_trial(project(tmp_path, rows=ROWS + bad_row), "redcap").as_pandas()
    hit = got.issues[got.issues.rule_id == rule]
    assert hit["column"].tolist() == [column] and hit["row"].tolist() == [4] and hit["usubjid"].tolist() == ["PX/A2"]


def test_unmapped_required_variable_is_named(tmp_path):
    mapping = {**MAPPING, "fields": {k: v for k, v in MAPPING["fields"].items() if k != "sex"}}
    with pytest.raises(InputError, match=r"unmapped required variable\(s\): DM.SEX \(role 'sex'\)"):
        ingest_trial(project(tmp_path, mapping=mapping), "redcap")


def test_mapped_field_missing_from_dictionary(tmp_path):
    mapping = {**MAPPING, "fields": {**MAPPING["fields"], "age": "age_years"}}
    with pytest.raises(InputError, match="not in the data dictionary: age -> age_years"):
        ingest_trial(project(tmp_path, mapping=mapping), "redcap")


@pytest.mark.parametrize("mapping,where", [
    ({**MAPPING, "fields": {**MAPPING["fields"], "shoe_size": "x"}}, "fields"),
    ({k: v for k, v in MAPPING.items() if k != "study"}, "top level"),
    ({**MAPPING, "usubjid": "{STUDYID}"}, "usubjid"),
])
def test_invalid_mapping_file(tmp_path, mapping, where):
    with pytest.raises(InputError, match=f"mapping.yaml: invalid REDCap mapping at {where}"):
        ingest_trial(project(tmp_path, mapping=mapping), "redcap")


def test_missing_mapping_file(tmp_path):
    project(tmp_path)
    (tmp_path / "mapping.yaml").unlink()
    with pytest.raises(InputError, match="mapping.yaml: REDCap mapping file not found"):
        ingest_trial(tmp_path, "redcap")
