"""Ordinary export slips: each one either stops with a message naming the file, the column and what
to do, or gives the right numbers. The base trial is written here by hand, row by row:

- four subjects on "Drug 5 mg", first dose 2020-01-06, planned end of treatment week 12
  (study day 85, 2020-03-30); week 24 (2020-06-22) is off drug;
- S-1: SALT 80 -> 40 at week 12 (-50 %: SALT50), 60 at week 24 (exactly half the regrowth lost:
  relapse, 84 days after the last dose);
- S-2: 60 -> 10 (-83.3 %: SALT50 and SALT <= 20), 20 at week 24 (below 10 + 0.5 x 50 = 35: no relapse);
- S-3: 90 -> 80 (no response);
- S-4: 70 -> 14 at week 8 (-80 %), stops for an adverse event at week 8 (last dose 2020-03-02,
  day 57) and has no week 12 visit: a non-responder at the planned week 12 (NRI), a responder when
  EOT is the last on-treatment assessment;
- AEs: S-1 headache (not serious), S-2 pneumonia (serious), S-3 nausea 21 days after the last dose
  (treatment-emergent within 30 days): any TEAE 3 of 4, serious 1 of 4.
"""

import re
from pathlib import Path

import pandas as pd
import pytest

from regrowth.errors import ValidationFailed
from regrowth.trial import run_trial
from tests.reports import report_html

DM = """STUDYID,DOMAIN,USUBJID,SUBJID,SITEID,SEX,AGE,ARM,ACTARM,RFSTDTC,RFENDTC,RFXSTDTC,RFXENDTC,COUNTRY
S,DM,S-1,1,01,F,34,Drug 5 mg,Drug 5 mg,2020-01-06,2020-06-22,2020-01-06,2020-03-30,USA
S,DM,S-2,2,01,M,51,Drug 5 mg,Drug 5 mg,2020-01-06,2020-06-22,2020-01-06,2020-03-30,USA
S,DM,S-3,3,01,F,47,Drug 5 mg,Drug 5 mg,2020-01-06,2020-06-22,2020-01-06,2020-03-30,USA
S,DM,S-4,4,01,M,29,Drug 5 mg,Drug 5 mg,2020-01-06,2020-03-02,2020-01-06,2020-03-02,USA
"""
EX = """STUDYID,DOMAIN,USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXSTDTC,EXENDTC
S,EX,S-1,1,DRUG,5,mg,2020-01-06,2020-03-30
S,EX,S-2,1,DRUG,5,mg,2020-01-06,2020-03-30
S,EX,S-3,1,DRUG,5,mg,2020-01-06,2020-03-30
S,EX,S-4,1,DRUG,5,mg,2020-01-06,2020-03-02
"""
DS = """STUDYID,DOMAIN,USUBJID,DSSEQ,DSTERM,DSDECOD,DSCAT,DSSTDTC
S,DS,S-1,1,COMPLETED,COMPLETED,DISPOSITION EVENT,2020-06-22
S,DS,S-2,1,COMPLETED,COMPLETED,DISPOSITION EVENT,2020-06-22
S,DS,S-3,1,COMPLETED,COMPLETED,DISPOSITION EVENT,2020-06-22
S,DS,S-4,1,pneumonia,ADVERSE EVENT,DISPOSITION EVENT,2020-03-02
"""
AE = """STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AEDECOD,AEBODSYS,AESEV,AESER,AESTDTC,AEENDTC
S,AE,S-1,1,headache,Headache,Nervous system disorders,MILD,N,2020-02-01,2020-02-03
S,AE,S-2,1,pneumonia,Pneumonia,Infections and infestations,SEVERE,Y,2020-02-10,2020-02-24
S,AE,S-3,1,nausea,Nausea,Gastrointestinal disorders,MILD,N,2020-04-20,2020-04-22
"""
MH = """STUDYID,DOMAIN,USUBJID,MHSEQ,MHTERM,MHDECOD,MHCAT,MHSTDTC
S,MH,S-1,1,patchy alopecia,PATCHY AA,ALOPECIA AREATA SUBTYPE,2015-01-06
S,MH,S-2,1,ophiasis,OPHIASIS,ALOPECIA AREATA SUBTYPE,2018-03
S,MH,S-3,1,totalis,ALOPECIA TOTALIS,ALOPECIA AREATA SUBTYPE,2010
S,MH,S-4,1,patchy alopecia,PATCHY AA,ALOPECIA AREATA SUBTYPE,2019-06-01
"""
VISITS = {"S-1": [(1, "BASELINE", "2020-01-06", 80), (2, "WEEK 12", "2020-03-30", 40), (3, "WEEK 24", "2020-06-22", 60)],
          "S-2": [(1, "BASELINE", "2020-01-06", 60), (2, "WEEK 12", "2020-03-30", 10), (3, "WEEK 24", "2020-06-22", 20)],
          "S-3": [(1, "BASELINE", "2020-01-06", 90), (2, "WEEK 12", "2020-03-30", 80), (3, "WEEK 24", "2020-06-22", 85)],
          "S-4": [(1, "BASELINE", "2020-01-06", 70), (1.1, "WEEK 8", "2020-03-02", 14)]}
RS = "STUDYID,DOMAIN,USUBJID,RSSEQ,RSCAT,RSTESTCD,RSTEST,RSORRES,RSSTRESN,RSSTRESU,VISITNUM,VISIT,RSDTC\n" + "".join(
    f"S,RS,{u},{k},SALT,SALTTOT,SALT Total Score,{v},{v},%,{n:g},{name},{d}\n"
    for u, visits in VISITS.items() for k, (n, name, d, v) in enumerate(visits, start=1))
SV = "STUDYID,DOMAIN,USUBJID,VISITNUM,VISIT,SVSTDTC\n" + "".join(
    f"S,SV,{u},{n:g},{name},{d}\n" for u, visits in VISITS.items() for n, name, d, _ in visits)
BASE = {"dm.csv": DM, "ex.csv": EX, "ds.csv": DS, "ae.csv": AE, "mh.csv": MH, "rs.csv": RS, "sv.csv": SV}


def export(tmp_path: Path, **changes) -> Path:
    """The base trial, with files replaced (text) or removed (None)."""
    folder = tmp_path / "SLIP"
    folder.mkdir(exist_ok=True)
    for name, text in {**BASE, **changes}.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def run(folder, **kwargs):
    return run_trial(folder, "sdtm-csv", eot_week=kwargs.pop("eot_week", 12), data_cut="2020-12-31", **kwargs)


def eot(run_, endpoint="SALT50"):
    e = run_.tables["efficacy"]
    row = e[(e.subgroup == "Overall") & (e.timepoint == "EOT") & (e.endpoint == endpoint)].iloc[0]
    return int(row.n_responders), int(row.n_subjects)


def safety(run_, soc):
    s = run_.tables["safety"]
    row = s[(s.soc == soc) & (s.pt == "")].iloc[0]
    return int(row.n_subjects), int(row.n_arm)


def test_the_base_trial_gives_its_hand_computed_numbers(tmp_path):
    r = run(export(tmp_path))
    assert set(r.checked.issues["severity"]) <= {"notice"}, r.checked.issues
    assert eot(r) == (2, 4) and eot(r, "SALTLE20") == (1, 4)
    assert safety(r, "ANY") == (3, 4) and safety(r, "ANY SERIOUS") == (1, 4)
    rel = r.tables["relapse"].iloc[0]
    assert (rel.n_responders, rel.n_at_risk, rel.n_relapsed) == (2, 2, 1)
    tte = r.adam["adtte"].query("PARAMCD == 'TTRELAPS'").set_index("USUBJID")
    assert tte.loc["S-1", ["AVAL", "CNSR"]].tolist() == [84.0, 0.0] and tte.loc["S-2", "CNSR"] == 1.0


# --- a misspelt header stops the run, naming file and column, with "did you mean" -------------

@pytest.mark.parametrize("file,right,wrong", [
    ("rs.csv", "RSSTRESN", "RSSTERSN"),  # the SALT result
    ("dm.csv", "ARM", "AMR"),  # the planned arm
    ("ae.csv", "AESTDTC", "AESTDCT"),  # the AE start date: not "every AE emergent"
])
def test_a_misspelt_header_stops_with_file_column_and_did_you_mean(tmp_path, file, right, wrong):
    header, rest = BASE[file].split("\n", 1)
    folder = export(tmp_path, **{file: header.replace(right, wrong, 1) + "\n" + rest})
    with pytest.raises(ValidationFailed) as exc:
        run(folder)
    message = str(exc.value)
    assert file in message and right in message and f"did you mean {right}?" in message
    assert wrong in message and "Rename the column" in message


def test_a_misspelt_column_nothing_needs_is_a_warning_and_kept(tmp_path):
    header, rest = AE.split("\n", 1)
    r = run(export(tmp_path, **{"ae.csv": header.replace("AESEV", "AESVE") + "\n" + rest}))
    warning = r.checked.issues.query("rule_id == 'RG0009'").iloc[0]
    assert warning["severity"] == "warning" and "did you mean AESEV" in warning["message"]
    assert "AESVE" in r.checked.gated.tables["ae"].columns and eot(r) == (2, 4)


# --- a missing optional domain: the information from where else it is -------------------------

def test_no_ex_file_takes_exposure_from_dm_and_says_so(tmp_path):
    r = run(export(tmp_path, **{"ex.csv": None}))
    adsl = r.adam["adsl"].set_index("USUBJID")
    assert (adsl["SAFFL"] == "Y").all()
    assert adsl.loc["S-4", "TRTEDT"] == pd.Timestamp("2020-03-02") and adsl.loc["S-1", "TRTSDT"] == pd.Timestamp("2020-01-06")
    assert safety(r, "ANY") == (3, 4) and eot(r) == (2, 4)
    notice = r.checked.issues.query("rule_id == 'RG0010'").iloc[0]
    assert notice["severity"] == "notice" and "RFXSTDTC" in notice["message"] and "4 subject(s)" in notice["message"]


def test_nothing_carries_exposure_then_the_report_says_not_available(tmp_path):
    from regrowth.report.build import n_pct

    dm = DM.replace(",RFXSTDTC,RFXENDTC", "").replace(",2020-01-06,2020-03-30,USA", ",USA").replace(
        ",2020-01-06,2020-03-02,USA", ",USA")
    r = run(export(tmp_path, **{"ex.csv": None, "dm.csv": dm}))
    assert "RG0011" in set(r.checked.issues["rule_id"])
    assert (r.adam["adsl"]["SAFFL"] == "N").all() and r.tables["safety"].empty
    assert n_pct(0, 0) == "not available"  # never "0 (0.0%)"


# --- values written another way: one normalised value for validation and derivation ----------

def test_aeser_written_yes_no_counts_the_serious_event(tmp_path):
    ae = AE.replace(",N,2020", ",No,2020").replace(",Y,2020", ",Yes,2020")
    r = run(export(tmp_path, **{"ae.csv": ae}))
    assert safety(r, "ANY SERIOUS") == (1, 4)
    notice = r.checked.issues.query("rule_id == 'RG0007'").iloc[0]
    assert notice["column"] == "AESER" and "3 value(s)" in notice["message"] and "'Yes' -> 'Y' (1)" in notice["message"]


def test_aeser_that_means_nothing_stops_the_run(tmp_path):
    with pytest.raises(ValidationFailed) as exc:
        run(export(tmp_path, **{"ae.csv": AE.replace(",Y,2020", ",Maybe,2020")}))
    assert "AESER" in str(exc.value) and "ae.csv" in str(exc.value)


def test_dsdecod_in_mixed_case_is_completed_not_discontinued(tmp_path):
    r = run(export(tmp_path, **{"ds.csv": DS.replace(",COMPLETED,DISPOSITION EVENT", ",Completed,Disposition Event")}))
    assert r.adam["adsl"]["EOSSTT"].value_counts().to_dict() == {"COMPLETED": 3, "DISCONTINUED": 1}


def test_flags_and_terms_with_blanks_and_case_are_read_as_terms(tmp_path):
    ae = AE.replace(",SEVERE,Y,", ",severe , y ,")
    r = run(export(tmp_path, **{"ae.csv": ae, "dm.csv": DM.replace(",F,34,", ",female,34,")}))
    assert safety(r, "ANY SERIOUS") == (1, 4)
    assert r.adam["adsl"].set_index("USUBJID").loc["S-1", "SEX"] == "F"
    assert not (r.checked.issues["severity"] == "error").any()


# --- no planned end-of-treatment week ---------------------------------------------------------

def test_without_eot_week_eot_is_each_subjects_last_on_treatment_assessment(tmp_path):
    planned, last = run(export(tmp_path)), run(export(tmp_path), eot_week=None)
    assert eot(planned) == (2, 4)  # S-4 missed week 12: a non-responder (NRI)
    assert eot(last) == (3, 4)  # S-4's week-8 value, 80 % regrowth, on the day of the last dose
    adsalt = last.adam["adsalt"].query("PARAMCD == 'SALT' and EOTFL == 'Y'").set_index("USUBJID")
    assert adsalt.loc["S-4", "AVAL"] == 14 and adsalt.loc["S-1", "AVAL"] == 40


def test_eot_window_after_the_last_dose_is_a_definition(tmp_path):
    # S-4's week-8 value moved 10 days after its last dose: inside a 14-day window, outside 7
    rs = RS.replace("S-4,2,SALT,SALTTOT,SALT Total Score,14,14,%,1.1,WEEK 8,2020-03-02",
                    "S-4,2,SALT,SALTTOT,SALT Total Score,14,14,%,1.1,WEEK 8,2020-03-12")
    folder = export(tmp_path, **{"rs.csv": rs, "sv.csv": SV.replace("WEEK 8,2020-03-02", "WEEK 8,2020-03-12")})
    assert eot(run(folder, eot_week=None)) == (3, 4)
    narrow = {"end_of_treatment": {"window_days_after_last_dose": 7}}
    assert eot(run(folder, eot_week=None, definitions=narrow)) == (2, 4)


# --- dates -----------------------------------------------------------------------------------

def test_partial_last_dose_is_imputed_to_the_end_of_its_month_but_not_after_the_last_visit(tmp_path):
    ex = EX.replace("S-4,1,DRUG,5,mg,2020-01-06,2020-03-02", "S-4,1,DRUG,5,mg,2020-01-06,2020-03").replace(
        "S-3,1,DRUG,5,mg,2020-01-06,2020-03-30", "S-3,1,DRUG,5,mg,2020-01-06,2020-03")
    r = run(export(tmp_path, **{"ex.csv": ex}))
    adsl = r.adam["adsl"].set_index("USUBJID")
    assert adsl.loc["S-3", "TRTEDT"] == pd.Timestamp("2020-03-31") and adsl.loc["S-3", "TRTEDTF"] == "D"
    assert adsl.loc["S-4", "TRTEDT"] == pd.Timestamp("2020-03-02") and adsl.loc["S-4", "TRTEDTF"] == "D"  # last visit
    assert pd.isna(adsl.loc["S-1", "TRTEDTF"])


def test_partial_last_dose_is_never_after_the_data_cut(tmp_path):
    ex = EX.replace("S-3,1,DRUG,5,mg,2020-01-06,2020-03-30", "S-3,1,DRUG,5,mg,2020-01-06,2020")
    r = run_trial(export(tmp_path, **{"ex.csv": ex}), "sdtm-csv", eot_week=12, data_cut="2020-05-15")
    adsl = r.adam["adsl"].set_index("USUBJID")
    assert adsl.loc["S-3", "TRTEDT"] == pd.Timestamp("2020-05-15") and adsl.loc["S-3", "TRTEDTF"] == "M"


def test_disease_duration_is_not_rounded_in_the_analysis_data(tmp_path):
    adsl = run(export(tmp_path)).adam["adsl"].set_index("USUBJID")
    assert adsl.loc["S-1", "DURDIS"] == 1826 / 365.25  # 4.9993..., shown as 5.0 only in the report


# --- phases and denominators in the report ----------------------------------------------------

def test_off_drug_timepoints_carry_their_phase(tmp_path):
    e = run(export(tmp_path)).tables["efficacy"].query("subgroup == 'Overall' and endpoint == 'SALT50'")
    assert e.set_index("timepoint")["phase"].to_dict() == {"EOT": "end of treatment", "W12": "on drug",
                                                             "W24": "off drug"}


def test_quarantine_that_removes_a_subjects_only_exposure_is_said_beside_the_safety_n(tmp_path):
    from regrowth.report.build import TrialData, denominator_notes

    ex = EX.replace("S-3,1,DRUG,5,mg,2020-01-06,2020-03-30", "S-3,1,DRUG,5,mg,2020-13-06,2020-03-30")
    r = run(export(tmp_path, **{"ex.csv": ex}), policy="quarantine")
    adsl = r.adam["adsl"].set_index("USUBJID")
    assert adsl.loc["S-3", "SAFFL"] == "N" and safety(r, "ANY") == (2, 3)
    t = TrialData("SLIP", "Slip", "sdtm-csv", 12, r.checked.issues, r.checked.ingested.files, policy="quarantine")
    assert denominator_notes(t, r.tables["denominators"].iloc[0].to_dict()) == ["1 subject(s) not in the safety population because their exposure records were "
                                    "quarantined: the safety N is that much smaller, and so is the FAS."]


def test_a_trial_whose_only_issues_are_notices_gets_its_report(tmp_path):
    folder = export(tmp_path, **{"ae.csv": None})
    (folder / "ae.csv").write_bytes(AE.replace("headache", "c\xe9phal\xe9e").encode("cp1252"))
    r = run(folder)
    assert set(r.checked.issues["severity"]) == {"notice"} and "RG0005" in set(r.checked.issues["rule_id"])
    html = report_html({"SLIP": (r, 12)})
    assert "RG0005" in html
    assert "data cut: not stated" in html  # the sheet names none
    assert "Issues by rule and severity" in html


def test_the_report_says_not_available_for_a_rate_over_nobody(tmp_path):
    dm = DM.replace(",RFXSTDTC,RFXENDTC", "").replace(",2020-01-06,2020-03-30,USA", ",USA").replace(
        ",2020-01-06,2020-03-02,USA", ",USA")
    r = run(export(tmp_path, **{"ex.csv": None, "dm.csv": dm}))
    html = report_html({"SLIP": (r, 12)})
    assert "not available" in html and "0 (0.0%)" not in html
    assert "no exposure data" in html  # the note beside the numbers


def test_the_report_marks_off_drug_rows_and_states_each_trials_eot_rule(tmp_path):
    html = report_html({"SLIP": (run(export(tmp_path)), 12),
                        "SLIP2": (run(export(tmp_path), eot_week=None), None)})
    efficacy = html[html.index("Responders by endpoint and timepoint"):html.index("FAS population;")]
    assert re.search(r'<td class="num off-drug">[^<]*<br><small>(off drug|on and off drug)</small></td>', efficacy)
    assert "SLIP week 12 (planned)" in html
    assert "SLIP2 last on-treatment assessment (up to 14 days after the last dose)" in html


# --- second-review slips: each stops or gives the right number --------------------------------

def test_an_eot_week_off_the_visit_grid_stops_naming_the_setting(tmp_path):
    from regrowth.errors import InputError

    for kwargs in ({"eot_week": 10}, {"eot_week": 12, "definitions": {"visit_grid_weeks": 5}}):
        with pytest.raises(InputError, match=r"eot_week .* visit_grid_weeks"):
            run(export(tmp_path), **kwargs)
    with pytest.raises(InputError, match=r"report_weeks \[10\]"):
        run(export(tmp_path), definitions={"report_weeks": [10]})


def test_a_last_dose_without_end_date_is_dms_last_exposure_date(tmp_path):
    r = run(export(tmp_path, **{"ex.csv": EX.replace("S-2,1,DRUG,5,mg,2020-01-06,2020-03-30", "S-2,1,DRUG,5,mg,2020-01-06,")}))
    adsl = r.adam["adsl"].set_index("USUBJID")
    assert adsl.loc["S-2", "TRTEDT"] == pd.Timestamp("2020-03-30")  # RFXENDTC, not the start 2020-01-06
    assert safety(r, "ANY") == (3, 4) and safety(r, "ANY SERIOUS") == (1, 4)
    assert r.checked.issues.query("rule_id == 'RG0605'")["usubjid"].tolist() == ["S-2"]


def test_a_salt_assessment_without_a_full_date_stops(tmp_path):
    rs = RS.replace("S-1,2,SALT,SALTTOT,SALT Total Score,40,40,%,2,WEEK 12,2020-03-30",
                    "S-1,2,SALT,SALTTOT,SALT Total Score,40,40,%,2,WEEK 12,2020-03")
    with pytest.raises(ValidationFailed, match=r"RG0402.*rs.csv.*RSDTC"):
        run(export(tmp_path, **{"rs.csv": rs}))


def test_a_salt_result_only_in_rsorres_is_analysed(tmp_path):
    rs = RS.replace("S-1,2,SALT,SALTTOT,SALT Total Score,40,40,%", "S-1,2,SALT,SALTTOT,SALT Total Score,40,,%")
    r = run(export(tmp_path, **{"rs.csv": rs}))
    assert eot(r) == (2, 4) and "RSORRES" in r.checked.issues.query("rule_id == 'RG0010'")["message"].iloc[0]


def test_the_infections_column_matches_the_soc_in_any_case(tmp_path):
    r = run(export(tmp_path, **{"ae.csv": AE.replace("Infections and infestations", "INFECTIONS AND INFESTATIONS")}))
    html = report_html({"SLIP": (r, 12)})
    safety = html.split("Key safety results by trial and arm")[1].split("</table>")[0]
    assert "1 (25.0%)" in safety
    # no adverse event of special interest is configured here: said so, not "none"
    assert "none configured (definitions.aesi)" in safety


def test_no_ae_file_is_not_zero_adverse_events(tmp_path):
    html = report_html({"SLIP": (run(export(tmp_path, **{"ae.csv": None})), 12)})
    safety = html.split("Key safety results by trial and arm")[1].split("</table>")[0]  # the summary's safety table
    assert "not available (no AE dataset)" in safety and "0 (0.0%)" not in safety
    overview = html.split("Overview: subjects with treatment-emergent")[1].split("</table>")[0]
    assert "not available (no AE dataset)" in overview and "0 (0.0%)" not in overview
    assert "The export has no AE dataset" in html
    teae = html.split("by system organ class and preferred term")[1].split("</table>")[0]
    assert "Not available: no trial has an AE dataset." in teae and "No treatment-emergent" not in teae


def test_a_term_counts_once_however_the_export_cases_it(tmp_path):
    # S-2 also has a headache, coded in capitals: one SOC and one PT, 2 subjects (the ingest
    # keeps one spelling per term within a trial)
    ae = AE + "S,AE,S-2,2,headache,HEADACHE,NERVOUS SYSTEM DISORDERS,MILD,N,2020-02-11,2020-02-12\n"
    s = run(export(tmp_path, **{"ae.csv": ae})).tables["safety"]
    nervous = s[s.soc.str.upper() == "NERVOUS SYSTEM DISORDERS"]
    assert [(soc.upper(), pt.upper(), n) for soc, pt, n in nervous[["soc", "pt", "n_subjects"]].values] == [
        ("NERVOUS SYSTEM DISORDERS", "", 2), ("NERVOUS SYSTEM DISORDERS", "HEADACHE", 2)]
    r = run(export(tmp_path))
    # a second trial whose export capitalises every term shares the rows of the first
    upper = "\n".join([AE.splitlines()[0], *[line.upper() for line in AE.splitlines()[1:]]]) + "\n"
    (tmp_path / "upper").mkdir()
    r2 = run(export(tmp_path / "upper", **{"ae.csv": upper}))
    html = report_html({"SLIP": (r, 12), "UPPER": (r2, 12)})
    teae = html.split("by system organ class and preferred term")[1].split("</table>")[0]
    assert "NERVOUS SYSTEM DISORDERS" not in teae and "HEADACHE" not in teae
    assert re.search(r"<th>Nervous system disorders</th><td class=\"num\">1 \(25\.0%\)</td><td class=\"num\">1 \(25\.0%\)</td>",
                     teae), teae


def test_teae_table_of_a_trial_whose_ae_records_carry_no_soc_says_not_available(tmp_path):
    blank = AE.replace(",Nervous system disorders,", ",,").replace(",Infections and infestations,", ",,").replace(
        ",Gastrointestinal disorders,", ",,")
    (tmp_path / "nosoc").mkdir()
    html = report_html({"SLIP": (run(export(tmp_path, **{"ae.csv": AE})), 12),
                        "NOSOC": (run(export(tmp_path / "nosoc", **{"ae.csv": blank})), 12)})
    teae = html.split("by system organ class and preferred term")[1].split("</table>")[0]
    row = teae.split("<th>Infections and infestations</th>")[1].split("</tr>")[0]
    assert row.count("not available (no system organ class in the AE data)") == 1 and "1 (25.0%)" in row
    assert "<th>UNCODED</th>" in teae  # its events are listed, under no SOC
    # no PT coded (AEDECOD blank throughout): the SOC rows count, the PT rows are not available
    no_pt = AE.replace(",Headache,", ",,").replace(",Pneumonia,", ",,").replace(",Nausea,", ",,")
    (tmp_path / "nopt").mkdir()
    html = report_html({"SLIP": (run(export(tmp_path, **{"ae.csv": AE})), 12),
                        "NOPT": (run(export(tmp_path / "nopt", **{"ae.csv": no_pt})), 12)})
    teae = html.split("by system organ class and preferred term")[1].split("</table>")[0]
    soc = teae.split("<th>Infections and infestations</th>")[1].split("</tr>")[0]
    pt = teae.split("<td>Pneumonia</td>")[1].split("</tr>")[0]
    assert soc.count("1 (25.0%)") == 2
    assert "1 (25.0%)" in pt and "not available (no preferred term in the AE data)" in pt


def test_an_ae_file_with_empty_socs_gives_no_soc_counts_not_zero(tmp_path):
    """AEBODSYS in ae.csv but empty on every row (a missing column already stops the run, RG0008):
    the infections column and an AESI defined by its SOC are not available, an AESI defined by
    PTs is still counted."""
    no_soc = "\n".join(",".join("" if i == 6 and k else c for i, c in enumerate(line.split(",")))
                        for k, line in enumerate(AE.splitlines())) + "\n"
    aesi = [{"name": "Serious infections", "source": "test", "socs": ["Infections and infestations"],
             "serious_only": True},
            {"name": "Pneumonia", "source": "test", "preferred_terms": ["pneumonia"]}]
    definitions = {"aesi": aesi}
    r = run(export(tmp_path, **{"ae.csv": no_soc}), definitions=definitions)
    s = r.tables["safety"]
    assert set(s.loc[s.soc == "AESI", "pt"]) == {"Pneumonia"}  # no Serious infections row: not a 0
    html = report_html({"SLIP": (r, 12)}, definitions)
    safety = html.split("Key safety results by trial and arm")[1].split("</table>")[0]
    assert "Pneumonia 1 (25.0%)" in safety
    assert "not available: Serious infections (no system organ class in the AE data)" in safety
    assert "not available (no system organ class in the AE data)" in safety  # the infections column


def test_meddra_terms_in_two_cases_are_one_term(tmp_path):
    ae = AE + "S,AE,S-2,2,headache,HEADACHE,NERVOUS SYSTEM DISORDERS,MILD,N,2020-02-12,2020-02-13\n"
    r = run(export(tmp_path, **{"ae.csv": ae}))
    s = r.tables["safety"]
    assert s[(s.pt == "") & (s.soc.str.upper() == "NERVOUS SYSTEM DISORDERS")]["n_subjects"].tolist() == [2]


def test_an_arm_spelt_two_ways_stops(tmp_path):
    with pytest.raises(ValidationFailed, match=r"RG0209.*dm.csv.*ARM"):
        run(export(tmp_path, **{"dm.csv": DM.replace("S-2,2,01,M,51,Drug 5 mg", "S-2,2,01,M,51,DRUG 5 MG")}))


def test_a_dosed_subject_without_actual_arm_stays_in_safety(tmp_path):
    r = run(export(tmp_path, **{"dm.csv": DM.replace("S-2,2,01,M,51,Drug 5 mg,Drug 5 mg", "S-2,2,01,M,51,Drug 5 mg,")}))
    assert safety(r, "ANY SERIOUS") == (1, 4)
    assert r.checked.issues.query("rule_id == 'RG0707'")["usubjid"].tolist() == ["S-2"]


def test_a_subject_without_ex_records_but_dose_dates_in_dm_is_dosed(tmp_path):
    r = run(export(tmp_path, **{"ex.csv": "\n".join(l for l in EX.splitlines() if ",S-2," not in l) + "\n"}))
    assert (r.adam["adsl"]["SAFFL"] == "Y").all() and safety(r, "ANY") == (3, 4)
    assert "1 subject(s) with a first-dose date in DM" in r.checked.issues.query("rule_id == 'RG0010'")["message"].iloc[0]


def test_a_disposition_term_without_category_still_ends_the_study(tmp_path):
    r = run(export(tmp_path, **{"ds.csv": DS.replace("ADVERSE EVENT,DISPOSITION EVENT", "ADVERSE EVENT,")}))
    assert r.adam["adsl"].set_index("USUBJID").loc["S-4", "EOSSTT"] == "DISCONTINUED"


def test_a_record_without_category_nor_disposition_term_stops(tmp_path):
    ds = DS.replace("COMPLETED,COMPLETED,DISPOSITION EVENT", "COMPLETED,FINISHED,")
    with pytest.raises(ValidationFailed, match=r"RG0210.*ds.csv.*DSCAT"):
        run(export(tmp_path, **{"ds.csv": ds}))


def test_an_ae_without_aeser_stops(tmp_path):
    with pytest.raises(ValidationFailed, match=r"RG0203.*AESER"):
        run(export(tmp_path, **{"ae.csv": AE.replace(",SEVERE,Y,", ",SEVERE,,")}))


def test_an_ae_without_start_that_ended_before_the_first_dose_is_not_emergent(tmp_path):
    ae = AE + "S,AE,S-2,2,cold,Nasopharyngitis,Infections and infestations,MILD,N,,2019-12-01\n"
    r = run(export(tmp_path, **{"ae.csv": ae}))
    adae = r.adam["adae"].set_index(["USUBJID", "AESEQ"])
    assert pd.isna(adae.loc[("S-2", 2.0), "TRTEMFL"]) and "RG0604" in set(r.checked.issues["rule_id"])


def test_responder_endpoint_grid_and_report_weeks_are_definitions(tmp_path):
    # relapse among SALT <= 20 responders: S-2 only (10 at EOT; 20 at week 24 < 10 + 0.5 x 50)
    rel = run(export(tmp_path), definitions={"relapse": {"responder_endpoint": "SALTLE20"}}).tables["relapse"].iloc[0]
    assert (rel.n_responders, rel.n_at_risk, rel.n_relapsed) == (1, 1, 0)
    # a 6-week grid: weeks 12 and 24 are still visits; S-4's day-57 value falls in week 6's window
    # (target day 43, 14 days off) and responds there (14 from 70); at week 24 only S-2 (20 from 60)
    e = run(export(tmp_path), definitions={"visit_grid_weeks": 6, "report_weeks": [6, 24]}).tables["efficacy"]
    e = e.query("subgroup == 'Overall' and endpoint == 'SALT50'").set_index("timepoint")
    assert sorted(e.index) == ["EOT", "W24", "W6"]
    assert (e.loc["EOT", "n_responders"], e.loc["W6", "n_responders"], e.loc["W24", "n_responders"]) == (2, 1, 1)


# --- the same trial as R and a European Excel write it: the same numbers ----------------------


def _cells(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text)))


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def as_r_write_csv(text: str) -> str:
    """write.csv(df): header and text quoted, numbers bare, missing as a bare NA, row names."""
    rows = _cells(text)
    quote = lambda v: '"' + v.replace('"', '""') + '"'  # noqa: E731
    out = ['"",' + ",".join(quote(h) for h in rows[0])]
    for n, row in enumerate(rows[1:], start=1):
        out.append(",".join([quote(str(n)), *("NA" if v == "" else v if _is_number(v) else quote(v) for v in row)]))
    return "\n".join(out) + "\n"


def as_excel_european(text: str) -> bytes:
    """A German Excel's 'CSV UTF-8': BOM, CRLF, ';' between fields, decimal commas."""
    rows = _cells(text)
    lines = [";".join(v.replace(".", ",") if _is_number(v) else v for v in row) for row in rows]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.mark.parametrize("dialect", ["R write.csv", "European Excel"])
def test_the_base_trial_written_by_r_or_a_european_excel_gives_the_same_numbers(tmp_path, dialect):
    base = {**BASE, "ae.csv": AE.replace("2020-04-20,2020-04-22", "2020-04-20,")}  # a missing end date
    convert = as_r_write_csv if dialect == "R write.csv" else as_excel_european
    folder = tmp_path / "SLIP"
    folder.mkdir()
    for name, text in base.items():
        data = convert(text)
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    r = run(folder)
    assert set(r.checked.issues["severity"]) <= {"notice"}, r.checked.issues
    assert eot(r) == (2, 4) and eot(r, "SALTLE20") == (1, 4)
    assert safety(r, "ANY") == (3, 4) and safety(r, "ANY SERIOUS") == (1, 4)
    age = r.tables["demographics"].query("characteristic == 'Age (years)'").iloc[0]
    assert age["mean"] == pytest.approx((34 + 51 + 47 + 29) / 4)
    assert r.checked.gated.tables["rs"]["VISITNUM"].tolist().count(1.1) == 1  # S-4's unscheduled visit
    notes = " ".join(r.checked.issues.query("rule_id == 'RG0005'")["message"])
    assert ("NA read as missing" in notes) if dialect == "R write.csv" else ("decimal commas read" in notes)


def test_demographics_say_not_collected_where_an_arm_has_no_value_and_0_where_none_is_in_a_category():
    from regrowth.report.build import _demographics_matrix

    rows = [("T1", "A", "Sex", "F", 2, 3), ("T1", "A", "Sex", "M", 1, 3), ("T1", "A", "Race", "WHITE", 3, 3),
            ("T2", "B", "Sex", "F", 4, 4)]  # T2 has no race at all, and no male subject
    demo = pd.DataFrame([{"trial_id": t, "arm": a, "characteristic": c, "category": k, "n": n, "n_arm": na,
                          "pct": 100 * n / na} for t, a, c, k, n, na in rows])
    headers, out = _demographics_matrix(demo)
    cells = {(r["category"] or r["characteristic"]): r["cells"] for r in out}
    assert headers == ["A (T1) N = 3", "B (T2) N = 4"]
    assert cells["Female"] == ["2 (66.7%)", "4 (100.0%)"] and cells["Male"] == ["1 (33.3%)", "0 (0.0%)"]
    assert cells["WHITE"] == ["3 (100.0%)", "–"]


def test_teae_table_puts_arms_in_columns_and_orders_socs_and_pts_by_highest_percentage():
    from regrowth.report.build import _soc_pt_matrix, _safety_overview

    # T1 A (N 10): infections 3 (URTI 2, zoster 1), nervous 4 (headache 4); T1 P (N 5): infections 1
    # (URTI 1); T2 B (N 4), no AE dataset. Highest %: nervous 40 %, infections 30 % (A) -> nervous first.
    rows = [("T1", "A", "ANY", "", 6, 10), ("T1", "P", "ANY", "", 1, 5), ("T2", "B", "ANY", "", 0, 4),
            ("T1", "A", "Infections", "", 3, 10), ("T1", "A", "Infections", "URTI", 2, 10),
            ("T1", "A", "Infections", "Herpes zoster", 1, 10), ("T1", "A", "Nervous", "", 4, 10),
            ("T1", "A", "Nervous", "Headache", 4, 10), ("T1", "P", "Infections", "", 1, 5),
            ("T1", "P", "Infections", "URTI", 1, 5)]
    safety = pd.DataFrame([{"trial_id": t, "arm": a, "soc": s, "pt": p, "n_subjects": n, "n_arm": na,
                            "pct": 100 * n / na} for t, a, s, p, n, na in rows])
    columns, _ = _safety_overview(safety, [], no_ae={"T2"})
    assert [(c["trial_id"], c["arm"], c["n"]) for c in columns] == [("T1", "A", 10), ("T1", "P", 5), ("T2", "B", 4)]
    out = _soc_pt_matrix(safety, columns, no_ae={"T2"})
    na = "not available (no AE dataset)"
    assert [(r["soc"], r["pt"], r["cells"]) for r in out] == [
        ("Nervous", "", ["4 (40.0%)", "0 (0.0%)", na]),
        ("Nervous", "Headache", ["4 (40.0%)", "0 (0.0%)", na]),
        ("Infections", "", ["3 (30.0%)", "1 (20.0%)", na]),
        ("Infections", "URTI", ["2 (20.0%)", "1 (20.0%)", na]),
        ("Infections", "Herpes zoster", ["1 (10.0%)", "0 (0.0%)", na])]


def test_disposition_table_puts_arms_in_columns_with_reasons_under_their_status():
    from regrowth.report.build import _disposition_matrix

    # T1 A (N 5): 3 completed, 2 discontinued (1 adverse event, 1 withdrawal); T1 screen
    # failures (N 2): 2 discontinued, screen failure; T2 B (N 3), no DS: not available
    rows = [("T1", "A", "COMPLETED", "", 3, 5), ("T1", "A", "DISCONTINUED", "ADVERSE EVENT", 1, 5),
            ("T1", "A", "DISCONTINUED", "WITHDRAWAL BY SUBJECT", 1, 5),
            ("T1", "Not assigned (screen failure)", "DISCONTINUED", "SCREEN FAILURE", 2, 2),
            ("T2", "B", "ONGOING", "", 3, 3)]
    disposition = pd.DataFrame([{"trial_id": t, "arm": a, "status": s, "reason": r, "n": n, "n_arm": na,
                                 "pct": 100 * n / na} for t, a, s, r, n, na in rows])
    columns, out = _disposition_matrix(disposition, no_ds={"T2"})
    # a trial whose DS holds no disposition event: every subject ONGOING in ADSL, not collected
    only_ongoing = pd.concat([disposition, pd.DataFrame([{"trial_id": "T3", "arm": "C", "status": "ONGOING", "reason": "",
                                                           "n": 4, "n_arm": 4, "pct": 100.0}])])
    _, more = _disposition_matrix(only_ongoing, no_ds={"T2"})
    assert {r["cells"][-1] for r in more} == {"not available (no disposition events)"}
    assert [(c["trial_id"], c["arm"], c["n"]) for c in columns] == [
        ("T1", "A", 5), ("T1", "Not assigned (screen failure)", 2), ("T2", "B", 3)]
    na = "not available (no DS dataset)"
    assert [(r["label"], r["head"], r["cells"]) for r in out] == [
        ("Completed", True, ["3 (60.0%)", "0 (0.0%)", na]),
        ("Discontinued", True, ["2 (40.0%)", "2 (100.0%)", na]),
        ("SCREEN FAILURE", False, ["0 (0.0%)", "2 (100.0%)", na]),
        ("ADVERSE EVENT", False, ["1 (20.0%)", "0 (0.0%)", na]),
        ("WITHDRAWAL BY SUBJECT", False, ["1 (20.0%)", "0 (0.0%)", na]),
        ("Ongoing", True, ["0 (0.0%)", "0 (0.0%)", na])]
