import pandas as pd
import polars as pl
import pytest

from regrowth.errors import InputError
from regrowth.ingest import ingest_trial
from regrowth.simulate.engine import simulate
from regrowth.simulate.export_redcap import export_redcap
from regrowth.simulate.export_sdtm import export_sdtm, write_xpt
from regrowth.simulate.seed_trials import RUXOLITINIB, SEEDS
from tests.conftest import ROOT

MAPPING = ROOT / "resources/trials/NCT01950780/mapping.yaml"


def redcap_export(truth, folder):
    export_redcap(truth, folder, stem="P")
    (folder / "mapping.yaml").write_text(MAPPING.read_text())


def write_csv(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


class TestSdtmCsv:
    def test_types_blanks_and_traceability(self, tmp_path):
        write_csv(tmp_path, "DM.csv", "STUDYID,DOMAIN,USUBJID,SEX,AGE,ARM\nT,DM,T-1,F,34,Drug\nT,DM,T-2,M,,Drug\n")
        write_csv(tmp_path, "ae.csv", "STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AESTDTC,EXTRA\nT,AE,T-1,1,Headache,2014-03,kept\n")
        got = ingest_trial(tmp_path, "sdtm-csv")
        dm = got.tables["dm"]
        assert dm["AGE"].dtype == pl.Float64 and dm["AGE"].to_list() == [34.0, None]
        assert dm["SRCFILE"].to_list() == ["DM.csv", "DM.csv"] and dm["SRCROW"].to_list() == [1.0, 2.0]
        assert dm["SEX"].dtype == pl.Categorical  # a controlled term: dictionary-encoded
        ae = got.tables["ae"]
        assert ae["AESTDTC"].to_list() == ["2014-03"]  # partial date not filled in SDTM
        assert ae["EXTRA"].to_list() == ["kept"]  # sponsor variables are kept
        assert got.tables["rs"].is_empty() and got.tables["rs"].columns[:3] == ["STUDYID", "DOMAIN", "USUBJID"]
        assert got.files.filter(pl.col("file") == "DM.csv")["rows_in"].to_list() == [2]

    def test_text_in_numeric_column_is_reported_not_dropped(self, tmp_path):
        write_csv(tmp_path, "dm.csv", "STUDYID,DOMAIN,USUBJID,SEX,AGE\nT,DM,T-1,F,thirty\nT,DM,T-2,F,40\n")
        got = ingest_trial(tmp_path, "sdtm-csv")
        assert len(got.tables["dm"]) == 2
        issue = got.issues.row(0, named=True)
        assert (issue["rule_id"], issue["column"], issue["value"], issue["row"]) == ("RG0101", "AGE", "thirty", 1)

    def test_no_datasets_is_a_clear_error(self, tmp_path):
        (tmp_path / "notes.txt").write_text("hello")
        with pytest.raises(InputError, match="no SDTM .csv datasets"):
            ingest_trial(tmp_path, "sdtm-csv")

    def test_missing_folder(self, tmp_path):
        with pytest.raises(InputError, match="not found"):
            ingest_trial(tmp_path / "nope", "sdtm-csv")


class TestSdtmXpt:
    def test_zero_survives_and_blanks_become_null(self, tmp_path):
        df = pd.DataFrame({"STUDYID": ["T", "T"], "DOMAIN": ["EX", "EX"], "USUBJID": ["T-1", "T-2"],
                           "EXSEQ": [1.0, 1.0], "EXTRT": ["PLACEBO", "DRUG"], "EXDOSE": [0.0, 5.0],
                           "EXSTDTC": ["2014-01-01", "2014-01-02"], "EXENDTC": ["", "2014-02-01"]})
        write_xpt(df, tmp_path / "ex.xpt", "ex")
        ex = ingest_trial(tmp_path, "sdtm-xpt").tables["ex"]
        assert ex["EXDOSE"].to_list() == [0.0, 5.0]  # exactly zero, not 5.4e-79
        assert ex["EXENDTC"].is_null().to_list() == [True, False]

    def test_xpt_bytes_are_reproducible(self, tmp_path):
        df = pd.DataFrame({"USUBJID": ["a"], "AGE": [1.0]})
        write_xpt(df, tmp_path / "a.xpt", "dm")
        write_xpt(df, tmp_path / "b.xpt", "dm")
        assert (tmp_path / "a.xpt").read_bytes() == (tmp_path / "b.xpt").read_bytes()

    def test_corrupt_xpt(self, tmp_path):
        (tmp_path / "dm.xpt").write_bytes(b"HEADER RECORD*******LIBRARY junk" * 3)
        with pytest.raises(InputError, match="dm.xpt: not a readable SAS XPORT"):
            ingest_trial(tmp_path, "sdtm-xpt")


class TestRedcap:
    @pytest.fixture
    def truth(self):
        return simulate(RUXOLITINIB, SEEDS["NCT01950780"])

    def test_round_trip_through_a_redcap_export(self, truth, tmp_path):
        redcap_export(truth, tmp_path)
        got = ingest_trial(tmp_path, "redcap").as_pandas().tables
        key = {"dm": ["USUBJID"], "rs": ["USUBJID", "VISITNUM", "RSTESTCD"], "ae": ["USUBJID", "AESEQ"],
               "ex": ["USUBJID"], "mh": ["USUBJID", "MHDECOD"]}
        cols = {"dm": ["AGE", "SEX", "RACE", "ETHNIC", "RFSTDTC", "RFXENDTC", "ARM"],
                "rs": ["RSSTRESN", "RSDTC", "VISIT"], "ae": ["AEDECOD", "AEBODSYS", "AESEV", "AESER", "AESTDTC"],
                "ex": ["EXSTDTC", "EXENDTC", "EXDOSE", "EXDOSFRQ"], "mh": ["MHCAT", "MHSTDTC"]}
        for domain, k in key.items():
            a = truth[domain].sort_values(k).reset_index(drop=True)[k + cols[domain]]
            b = got[domain].sort_values(k).reset_index(drop=True)[k + cols[domain]]
            pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=domain)

    def test_repeating_forms_and_checkboxes(self, tmp_path):
        d = tmp_path
        from regrowth.simulate.redcap_project import dictionary_rows

        pd.DataFrame(dictionary_rows()).to_csv(d / "P_dictionary.csv", index=False)
        (d / "mapping.yaml").write_text(MAPPING.read_text())
        header = ("record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,age,sex,"
                  "race___1,race___2,race___3,race___4,race___5,race___6,ethnicity,drug_start,drug_stop,"
                  "ae_term,ae_pt,ae_soc,ae_start,ae_severity,ae_serious,ae_related\n")
        rows = ("7,screening_arm_1,,,30,2,1,0,1,0,0,0,2,,,,,,,,,\n"
                "7,baseline_arm_1,,,,,,,,,,,,2020-01-01,2020-06-01,,,,,,,\n"
                "7,adverse_events_arm_1,adverse_events,1,,,,,,,,,,,,cold,Nasopharyngitis,Infections,2020-02-01,1,0,1\n"
                "7,adverse_events_arm_1,adverse_events,2,,,,,,,,,,,,rash,Rash,Skin,2020-03-01,2,1,3\n")
        (d / "P_records.csv").write_text(header + rows)
        t = ingest_trial(d, "redcap").tables
        assert t["dm"]["RACE"].to_list() == ["MULTIPLE"]  # two boxes ticked
        assert t["dm"]["SEX"].to_list() == ["M"]
        assert t["ae"]["AESEQ"].to_list() == [1.0, 2.0] and t["ae"]["AESER"].to_list() == ["N", "Y"]
        assert t["ae"]["SRCROW"].to_list() == [3.0, 4.0]
        notices = ingest_trial(d, "redcap").issues
        assert "eos_date" in set(notices.filter(pl.col("rule_id") == "RG0004")["column"])

    def test_unknown_choice_code_is_reported(self, truth, tmp_path):
        redcap_export(truth, tmp_path)
        rec = pd.read_csv(tmp_path / "P_records.csv", dtype=str)
        first = rec.index[rec["sex"].notna()][0]
        rec.loc[first, "sex"] = "9"
        rec.to_csv(tmp_path / "P_records.csv", index=False)
        got = ingest_trial(tmp_path, "redcap")
        issue = got.issues.filter(pl.col("rule_id") == "RG0206").row(0, named=True)
        assert issue["column"] == "sex" and issue["value"] == "9" and issue["row"] == first + 1

    def test_not_a_redcap_export(self, tmp_path):
        (tmp_path / "mapping.yaml").write_text(MAPPING.read_text())
        (tmp_path / "x_records.csv").write_text("a,b\n1,2\n")
        (tmp_path / "x_dictionary.csv").write_text("a,b\n1,2\n")
        with pytest.raises(InputError, match="not a REDCap data dictionary"):
            ingest_trial(tmp_path, "redcap")

    def test_missing_dictionary(self, tmp_path):
        (tmp_path / "x_records.csv").write_text("record_id\n1\n")
        with pytest.raises(InputError, match="exactly one"):
            ingest_trial(tmp_path, "redcap")


def test_sdtm_round_trip_of_simulated_trial(tmp_path):
    truth = simulate(RUXOLITINIB, 7)
    export_sdtm(truth, tmp_path, fmt="csv")
    got = ingest_trial(tmp_path, "sdtm-csv").as_pandas().tables
    for domain in ("dm", "rs", "ae"):
        assert len(got[domain]) == len(truth[domain])
    # ingest orders rows by subject (string order: -10 before -2), then source row
    key = ["USUBJID", "RSSEQ"]
    expected = truth["rs"].sort_values(key, kind="stable")["RSSTRESN"].reset_index(drop=True)
    pd.testing.assert_series_equal(got["rs"]["RSSTRESN"], expected, check_names=False)
    assert got["rs"]["SRCROW"].tolist() == (truth["rs"].sort_values(key, kind="stable").index + 1).tolist()


class TestPolarsInternals:
    def test_dates_as_expressions(self):
        from datetime import date

        from regrowth.dates import complete_date, imputed_date, study_day_of

        df = pl.DataFrame({"dtc": ["2014-03-05", "2014-03", "2014", None, "2014-02-30", "2016-02"],
                           "ref": [date(2014, 3, 10)] * 6})
        got = df.select(complete_date(pl.col("dtc")).alias("full"),
                        *(e.alias(n) for e, n in zip(imputed_date(pl.col("dtc"), "last"), ("last", "flag"))),
                        imputed_date(pl.col("dtc"), "first", pl.col("ref"))[0].alias("first"))
        assert got["full"].to_list() == [date(2014, 3, 5), None, None, None, None, None]
        assert got["flag"].to_list() == [None, "D", "M", None, None, "D"]
        # last possible day: 31 March, 31 December, none for 30 Feb, 29 Feb in a leap year
        assert got["last"].to_list() == [date(2014, 3, 5), date(2014, 3, 31), date(2014, 12, 31), None, None,
                                         date(2016, 2, 29)]
        # first possible day, but not before the reference the partial date still admits (10 March 2014)
        assert got["first"].to_list() == [date(2014, 3, 5), date(2014, 3, 10), date(2014, 3, 10), None, None,
                                          date(2016, 2, 1)]
        days = pl.DataFrame({"d": [date(2014, 3, 10), date(2014, 3, 9), date(2014, 3, 11)], "r": [date(2014, 3, 10)] * 3})
        assert days.select(study_day_of(pl.col("d"), pl.col("r")))["d"].to_list() == [1.0, -1.0, 2.0]  # no day 0

    def test_plain_ends_only_reads_the_offsets(self):
        import pyarrow as pa

        from regrowth.ingest.common import plain_ends_only

        assert plain_ends_only(pa.array(["abc", None, "a long value of text!"]))
        for odd in (["abc", ""], ["abc", " x"], ["x\t"], ["caf\u00e9"], ["\u00a0x"]):
            assert not plain_ends_only(pa.array(odd)), odd
        assert plain_ends_only(pa.array([" x", "abc"]).slice(1))  # a slice: its own values only

    def test_rows_already_in_order_are_not_resorted_and_others_are(self):
        from regrowth.ingest import in_row_order

        ordered = pl.DataFrame({"USUBJID": ["A", "A", "B"], "SRCFILE": ["x.csv", "x.csv", "x.csv"],
                                "SRCROW": [1.0, 2.0, 3.0], "V": [1, 2, 3]})
        assert in_row_order(ordered) is ordered
        shuffled = pl.DataFrame({"USUBJID": ["B", None, "A", "A"], "SRCFILE": ["x.csv", "x.csv", "y.csv", "x.csv"],
                                 "SRCROW": [1.0, 2.0, 3.0, 4.0], "V": [1, 2, 3, 4]})
        assert in_row_order(shuffled)["V"].to_list() == [2, 4, 3, 1]  # no subject first, then A by file, B
