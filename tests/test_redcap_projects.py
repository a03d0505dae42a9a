"""REDCap projects as REDCap exports them, written by hand (tests/data/redcap_classic,
tests/data/redcap_two_arm), never by the simulator: REDCap's default file names, the record id
as the dictionary's first field, classic and longitudinal projects, two arms, choices decoded
from the data dictionary, and each way a mapping can be wrong named with its key.

Hand-computed expectations (study day = date - first dose + 1; EOT week 24; PCHG = (EOT - BASE)
/ BASE * 100):

Two-arm project (arm 1 Drug B 4 mg QD: P01-P03; arm 2 Placebo: P04-P06):
    P01 90 -> 18 (-80 %: SALT50, SALT75, SALT <= 20)   P04 80 -> 75 (-6.25 %)
    P02 60 -> 30 (-50 % exactly: SALT50)               P05 70, discontinued day 44 (NRI: no)
    P03 100 -> 70 (-30 %)                              P06 50 -> 20 (-60 %: SALT50, SALT <= 20)
    SALT50: Drug B 2/3, Placebo 1/3; SALT <= 20: 1/3 and 1/3; SALT75: 1/3 and 0/3.
    Age: Drug B (34 + 51 + 45) / 3 = 43.33, Placebo (29 + 62 + 38) / 3 = 43.0.
    Women: 2 of 3 in each arm.

Classic project (one arm, Drug C 5 mg QD; age from date of birth at consent):
    101 born 1980-05-20, consent 2023-01-02: 42; first dose 2023-01-10: 42
    102 born 1990-01-10, consent 2023-01-05: 32; first dose 2023-01-12: 33
    103 born 1975-03-01, consent 2023-02-01: 47        104 born 2000-12-31, consent 2023-02-10: 22
    101 80 -> 16 (-80 %), 102 100 -> 60 (-40 %), 103 95 then stops (day 43), 104 never dosed.
    SALT50 at EOT: 1 of the 3 treated.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from regrowth.errors import InputError
from regrowth.ingest import ingest_trial
from regrowth.reading import Reading
from regrowth.trial import check_trial, run_trial

DATA = Path(__file__).parent / "data"
CLASSIC, TWO_ARM = DATA / "redcap_classic", DATA / "redcap_two_arm"
CLASSIC_MAPPING = "aa_classic_mapping.yaml"
TWO_ARM_RECORDS = "AATwoArm_DATA_2024-10-01_0930.csv"
CLASSIC_RECORDS = "AAClassic_DATA_2024-09-30_1405.csv"


def copy_of(src: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(src, tmp_path / src.name))


def classic_reading(folder: Path) -> Reading:
    return Reading(mapping=str(folder / CLASSIC_MAPPING))


def edit_mapping(path: Path, change) -> None:
    mapping = yaml.safe_load(path.read_text())
    change(mapping)
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def at_eot(run, endpoint: str) -> dict[str, tuple[int, int]]:
    e = run.tables["efficacy"]
    rows = e[(e.subgroup == "Overall") & (e.timepoint == "EOT") & (e.endpoint == endpoint)]
    return {r.arm: (int(r.n_responders), int(r.n_subjects)) for r in rows.itertuples()}


def column(table: pl.DataFrame, name: str) -> list:
    return table.get_column(name).to_list()


# --- the longitudinal two-arm project ----------------------------------------------------------


@pytest.fixture(scope="module")
def two_arm():
    return run_trial(TWO_ARM, "redcap", eot_week=24, trial_id="AATWOARM")


def test_two_arm_subjects_are_in_the_arm_of_their_events(two_arm):
    dm = two_arm.checked.gated.tables["dm"]
    assert dm["USUBJID"].tolist() == [f"AATWOARM-P0{i}" for i in range(1, 7)]  # record id: participant_id
    assert dm["ARM"].tolist() == ["Drug B 4 mg QD"] * 3 + ["Placebo"] * 3
    assert dm["ARMCD"].tolist() == ["DRB4"] * 3 + ["PBO"] * 3
    assert dm["SITEID"].tolist() == ["1", "2", "1", "2", "1", "2"]  # the site field's code


def test_two_arm_responders_and_demographics_by_arm(two_arm):
    assert at_eot(two_arm, "SALT50") == {"Drug B 4 mg QD": (2, 3), "Placebo": (1, 3)}
    assert at_eot(two_arm, "SALTLE20") == {"Drug B 4 mg QD": (1, 3), "Placebo": (1, 3)}
    assert at_eot(two_arm, "SALT75") == {"Drug B 4 mg QD": (1, 3), "Placebo": (0, 3)}
    d = two_arm.tables["demographics"]
    women = d[(d.characteristic == "Sex") & (d.category == "F")]
    assert dict(zip(women.arm, women.n)) == {"Drug B 4 mg QD": 2, "Placebo": 2}  # dictionary label Female -> F
    age = d[d.characteristic == "Age (years)"].set_index("arm")["mean"]
    assert age["Drug B 4 mg QD"] == pytest.approx(130 / 3) and age["Placebo"] == pytest.approx(43.0)
    race = d[d.characteristic == "Race"]
    assert sorted(race[race.arm == "Placebo"].category) == ["ASIAN", "OTHER", "WHITE"]


def test_two_arm_events_become_visits_dated_by_the_visit_date(two_arm):
    sv = two_arm.checked.gated.tables["sv"]
    p02 = sv[sv.USUBJID == "AATWOARM-P02"]
    assert p02["VISIT"].tolist() == ["SCREENING", "WEEK 12", "WEEK 24"]
    assert p02["SVSTDTC"].tolist() == ["2024-03-05", "2024-05-27", "2024-08-20"]  # visit_dt, not salt_dt 05-28
    assert len(sv) == 16  # 6 screening + 5 week 12 + 5 week 24 (P05 stopped early)
    rs = two_arm.checked.gated.tables["rs"]
    assert rs[rs.USUBJID == "AATWOARM-P02"]["RSDTC"].tolist() == ["2024-03-05", "2024-05-28", "2024-08-20"]


def test_two_arm_disposition_randomisation_and_adverse_events(two_arm):
    ds = two_arm.checked.gated.tables["ds"]
    assert (ds.DSDECOD == "RANDOMIZED").sum() == 6
    p05 = ds[(ds.USUBJID == "AATWOARM-P05") & (ds.DSCAT == "DISPOSITION EVENT")]
    assert p05["DSDECOD"].tolist() == ["ADVERSE EVENT"]  # the mapping's term for the label
    ae = two_arm.checked.gated.tables["ae"]
    assert ae["AETERM"].tolist() == ["headache", "acne", "herpes zoster"]
    assert ae["AESEV"].tolist() == ["MILD", "MODERATE", "SEVERE"] and ae["AESER"].tolist() == ["N", "N", "Y"]


def test_arm_names_from_redcaps_arms_file(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_mapping(folder / "mapping.yaml", lambda m: m.pop("arms"))
    (folder / "AATwoArm_Arms_2024-10-01.csv").write_text("arm_num,name\n1,Drug B 4 mg QD\n2,Placebo\n")
    checked = check_trial(folder, "redcap")  # through the gate: the arms file holds no records to account for
    dm = checked.gated.tables["dm"]
    assert dm["ARM"].tolist() == ["Drug B 4 mg QD"] * 3 + ["Placebo"] * 3
    assert dm["ARMCD"].isna().all()  # the arms file names arms; codes only the mapping gives
    accounting = checked.gated.accounting.set_index("file")
    assert "AATwoArm_Arms_2024-10-01.csv" not in accounting.index and accounting["rows_in"].sum() == 25


def test_two_arms_without_names_stop_naming_the_key(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_mapping(folder / "mapping.yaml", lambda m: m.pop("arms"))
    with pytest.raises(InputError, match=r"mapping.yaml: no planned arm: the records are in REDCap arm\(s\) 1, 2; "
                                         r"name arm\(s\) 1, 2 under arms"):
        ingest_trial(folder, "redcap")


def test_a_record_in_two_arms_stops(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_text(folder / TWO_ARM_RECORDS, "P01,week_24_arm_1", "P01,week_24_arm_2")
    with pytest.raises(InputError, match="record P01 has events in arms 1, 2"):
        ingest_trial(folder, "redcap")


def test_an_event_with_salt_not_in_visits_stops_naming_it(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_mapping(folder / "mapping.yaml", lambda m: m["visits"].pop("week_12"))
    with pytest.raises(InputError, match="SALT scores at event.s. week_12_arm_1, week_12_arm_2 not listed under visits"):
        ingest_trial(folder, "redcap")


def test_randomisation_field_gives_the_arm(tmp_path):
    """A randomised arm field (dictionary codes) instead of REDCap arms: here P03 is randomised to
    placebo although its events are in arm 1, and the field wins."""
    folder = copy_of(TWO_ARM, tmp_path)
    dictionary = folder / "AATwoArm_DataDictionary_2024-10-01.csv"
    edit_text(dictionary, "rand_dt,demographics", 'rand_arm,demographics,,radio,Randomised to,"A, Drug B | P, Placebo",'
              ',,,,,,,,,,,\nrand_dt,demographics')
    records = folder / TWO_ARM_RECORDS
    text = records.read_text().splitlines()
    header = text[0].replace(",site,", ",site,rand_arm,")
    arm_of = {"P01": "A", "P02": "A", "P03": "P", "P04": "P", "P05": "P", "P06": "P"}
    rows = []
    for line in text[1:]:
        cells = line.split(",")
        cells.insert(8, arm_of[cells[0]] if cells[1].startswith("screening") else "")
        rows.append(",".join(cells))
    records.write_text("\n".join([header, *rows]) + "\n")
    edit_mapping(folder / "mapping.yaml", lambda m: (m["fields"].update(arm="rand_arm"),
                                                    m.update(arms={"A": {"ARM": "Drug B 4 mg QD", "ARMCD": "DRB4"}})))
    dm = ingest_trial(folder, "redcap").tables["dm"]
    assert column(dm, "ARM") == ["Drug B 4 mg QD"] * 2 + ["Placebo"] * 4  # P: the dictionary's label
    assert column(dm, "ARMCD") == ["DRB4", "DRB4", "P", "P", "P", "P"]


# --- the classic project -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classic():
    return run_trial(CLASSIC, "redcap", eot_week=24, trial_id="AACLASSIC", reading=classic_reading(CLASSIC))


def test_classic_project_demographics(classic):
    dm = classic.checked.gated.tables["dm"]
    assert dm["USUBJID"].tolist() == ["AACLASSIC-site_a-101", "AACLASSIC-site_a-102", "AACLASSIC-site_b-103",
                                      "AACLASSIC-site_b-104"]  # {SITEID} from the data access group
    assert dm["SITEID"].tolist() == ["site_a", "site_a", "site_b", "site_b"]
    assert dm["AGE"].tolist() == [42, 32, 47, 22] and set(dm["AGEU"]) == {"YEARS"}
    assert dm["BRTHDTC"].tolist() == ["1980-05-20", "1990-01-10", "1975-03-01", "2000-12-31"]
    assert dm["SEX"].tolist() == ["F", "M", "F", "M"]  # codes 0/1 decoded by the dictionary
    assert dm["RACE"].tolist() == ["WHITE", "MULTIPLE", "BLACK OR AFRICAN AMERICAN", "WHITE"]  # 102 ticks two
    assert dm["ETHNIC"].tolist() == ["NOT HISPANIC OR LATINO", "HISPANIC OR LATINO", "UNKNOWN",
                                     "NOT HISPANIC OR LATINO"]
    assert dm["ACTARM"].tolist()[:3] == ["Drug C 5 mg QD"] * 3 and dm["ACTARM"].isna().tolist()[3]


def test_classic_project_visits_responders_and_events(classic):
    sv = classic.checked.gated.tables["sv"]
    assert sv["VISIT"].tolist() == ["BASELINE", "WEEK 12", "WEEK 24"] * 2 + ["BASELINE", "BASELINE"]
    assert at_eot(classic, "SALT50") == {"Drug C 5 mg QD": (1, 3)}
    assert at_eot(classic, "SALTLE20") == {"Drug C 5 mg QD": (1, 3)}
    ae = classic.checked.gated.tables["ae"]
    assert ae["AETERM"].tolist() == ["headache", "herpes zoster"] and ae["AESER"].tolist() == ["N", "Y"]
    ds = classic.checked.gated.tables["ds"]
    assert ds[ds.DSCAT == "DISPOSITION EVENT"]["DSDECOD"].tolist() == ["COMPLETED", "COMPLETED", "ADVERSE EVENT",
                                                                      "WITHDRAWAL BY SUBJECT"]


def test_age_reference_first_dose_changes_the_ages(tmp_path):
    folder = copy_of(CLASSIC, tmp_path)
    edit_mapping(folder / CLASSIC_MAPPING, lambda m: m.update(age_reference="first_dose"))
    dm = ingest_trial(folder, "redcap", classic_reading(folder)).tables["dm"]
    assert column(dm, "AGE") == [42, 33, 47, None]  # 102's birthday falls between consent and first dose


def test_classic_project_without_a_visit_field_stops(tmp_path):
    folder = copy_of(CLASSIC, tmp_path)
    edit_mapping(folder / CLASSIC_MAPPING, lambda m: m["fields"].pop("visit"))
    with pytest.raises(InputError, match="a classic project has no events; map fields.visit"):
        ingest_trial(folder, "redcap", classic_reading(folder))


# --- the dictionary as the contract -----------------------------------------------------------


def test_a_code_the_mapping_does_not_list_is_the_dictionarys_label_not_missing(tmp_path):
    """Race 2 (Native Hawaiian...) is in the dictionary but not under codes.race: its label."""
    folder = copy_of(CLASSIC, tmp_path)
    records = folder / CLASSIC_RECORDS
    edit_text(records, "103,,,site_b,1975-03-01,0,0,0,0,1,", "103,,,site_b,1975-03-01,0,0,0,1,0,")
    dm = ingest_trial(folder, "redcap", classic_reading(folder)).tables["dm"]
    assert column(dm, "RACE")[2] == "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER"


def test_a_code_the_dictionary_does_not_define_is_an_error_and_kept(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_text(folder / TWO_ARM_RECORDS, "P02,screening_arm_1,,,51,1,", "P02,screening_arm_1,,,51,9,")
    got = ingest_trial(folder, "redcap")
    issue = got.issues.filter(pl.col("rule_id") == "RG0206").row(0, named=True)
    assert (issue["column"], issue["value"], issue["row"], issue["usubjid"]) == ("sex", "9", 6, "AATWOARM-P02")
    assert column(got.tables["dm"], "SEX")[1] == "9"  # kept for the gate to quarantine, never a silent null


def test_a_mapping_code_that_is_no_dictionary_choice_names_the_key(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_mapping(folder / "mapping.yaml", lambda m: m["codes"].update(sex={"F": "F", "M": "M"}))
    with pytest.raises(InputError, match=r"codes.sex.F: not a code or label of field sex \(its choices: 1 \(Male\); "
                                         r"2 \(Female\)\)"):
        ingest_trial(folder, "redcap")


def test_a_used_label_that_is_no_cdisc_term_stops_naming_the_codes_key(tmp_path):
    folder = copy_of(CLASSIC, tmp_path)
    edit_mapping(folder / CLASSIC_MAPPING, lambda m: m["codes"].pop("eos_status"))  # 104 withdrew consent
    with pytest.raises(InputError, match=r"choice 3 \(Withdrew consent\) of field end_reason gives DS.DSDECOD 'WITHDREW "
                                         r"CONSENT', not a CDISC term; add codes: \{eos_status: \{\"3\": <one of "
                                         r"COMPLETED, ADVERSE EVENT"):
        ingest_trial(folder, "redcap", classic_reading(folder))


def test_record_id_named_in_the_mapping(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_mapping(folder / "mapping.yaml", lambda m: m.update(record_id="participant_id"))
    assert column(ingest_trial(folder, "redcap").tables["dm"], "SUBJID")[0] == "P01"
    edit_mapping(folder / "mapping.yaml", lambda m: m.update(record_id="subject"))
    with pytest.raises(InputError, match="record_id subject is not a field of the data dictionary"):
        ingest_trial(folder, "redcap")


def test_a_records_export_without_the_record_id_says_which_field(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_text(folder / TWO_ARM_RECORDS, "participant_id,redcap_event_name", "pid,redcap_event_name")
    with pytest.raises(InputError, match="no column participant_id .the record id, the data dictionary's first field.; "
                                         "set record_id in mapping.yaml"):
        ingest_trial(folder, "redcap")


def test_an_export_of_labels_is_refused_with_the_reason(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    records = folder / TWO_ARM_RECORDS
    text = records.read_text()
    for sex_code, label in (("34,2,", "34,Female,"), ("51,1,", "51,Male,"), ("45,2,", "45,Female,"),
                            ("29,1,", "29,Male,"), ("62,2,", "62,Female,"), ("38,2,", "38,Female,")):
        text = text.replace(sex_code, label)
    records.write_text(text)
    with pytest.raises(InputError, match="field sex holds choice labels .* export the records as 'CSV / Microsoft "
                                         "Excel \\(raw data\\)'"):
        ingest_trial(folder, "redcap")
    labels = folder / "AATwoArm_DATA_LABELS_2024-10-01_0930.csv"
    records.rename(labels)
    with pytest.raises(InputError, match="REDCap's labels export .* is not read"):
        ingest_trial(folder, "redcap")


def test_two_data_cuts_in_one_folder_are_named(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    shutil.copy(folder / TWO_ARM_RECORDS, folder / "AATwoArm_DATA_2024-11-01_0800.csv")
    with pytest.raises(InputError, match="exactly one records export .*found 2: AATwoArm_DATA_2024-10-01_0930.csv, "
                                         "AATwoArm_DATA_2024-11-01_0800.csv"):
        ingest_trial(folder, "redcap")


# --- through the workflow -----------------------------------------------------------------------


def test_both_projects_through_the_workflow(tmp_path):
    """Snakemake on a sheet naming the classic project's mapping file; REDCap's own file names."""
    from tests.conftest import copy_workflow, snakemake

    work = copy_workflow(tmp_path / "work")
    sheet = work / "config" / "redcap_trials.tsv"
    sheet.write_text(
        "trial_id\tformat\tpath\tlabel\tdrug\teot_week\tdata_cut\tmapping\n"
        f"AACLASSIC\tredcap\t{CLASSIC}\tClassic project\tdrug c\t24\t2024-09-30\t{CLASSIC / CLASSIC_MAPPING}\n"
        f"AATWOARM\tredcap\t{TWO_ARM}\tTwo-arm project\tdrug b\t24\t2024-10-01\t\n")
    snakemake(work, "--config", "trials=config/redcap_trials.tsv", check=True)
    efficacy = pl.read_parquet(work / "results-redcap_trials/AATWOARM/tables/efficacy.parquet").filter(
        (pl.col("timepoint") == "EOT") & (pl.col("subgroup") == "Overall") & (pl.col("endpoint") == "SALT50"))
    assert dict(zip(efficacy["arm"], efficacy["n_responders"])) == {"Drug B 4 mg QD": 2, "Placebo": 1}
    adsl = pl.read_parquet(work / "results-redcap_trials/AACLASSIC/adam/adsl")
    assert column(adsl.sort("USUBJID"), "AGE") == [42, 32, 47, 22]
    assert (work / "results-redcap_trials/report.html").read_text().count("Two-arm project") >= 1


def test_a_withdrawal_date_is_the_disposition_only_where_no_end_of_study_status_says(tmp_path):
    folder = copy_of(TWO_ARM, tmp_path)
    edit_text(folder / TWO_ARM_RECORDS, "2024-04-20,2,2024-04-20,2,2", "2024-04-20,2,2024-04-20,,2")  # P05: no status
    edit_mapping(folder / "mapping.yaml", lambda m: m["fields"].update(withdrawal_date="eos_dt"))
    ds = ingest_trial(folder, "redcap").tables["ds"].filter(pl.col("DSCAT") == "DISPOSITION EVENT")
    assert column(ds, "USUBJID") == [f"AATWOARM-P0{i}" for i in range(1, 7)]
    assert column(ds, "DSDECOD") == ["COMPLETED"] * 4 + ["WITHDRAWAL BY SUBJECT", "COMPLETED"]
    assert column(ds, "DSSTDTC")[4] == "2024-04-20"
