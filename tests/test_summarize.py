import pandas as pd
import pytest

from regrowth.errors import ContractError
from regrowth.parquet_io import read_table, write_table
from regrowth.summarize.tables import efficacy_table, read_adsalt_for, regrowth_bands_table, safety_table

ENDPOINTS = [{"name": "SALT50", "variable": "PCHG", "operator": "<=", "value": -50}]


def adsl(n_fas=4, extra_not_fas=1):
    rows = [{"USUBJID": f"S{i}", "TRT01P": "A", "TRT01A": "A", "FASFL": "Y", "SAFFL": "Y", "AATYPE": "PATCHY AA"}
            for i in range(1, n_fas + 1)]
    rows += [{"USUBJID": f"X{i}", "TRT01P": "A", "TRT01A": "A", "FASFL": "N", "SAFFL": "Y", "AATYPE": "PATCHY AA"}
             for i in range(extra_not_fas)]
    return pd.DataFrame(rows)


def adsalt_eot(flags):
    """EOT records: {usubjid: CRIT1FL}; subjects not listed have no EOT assessment."""
    return pd.DataFrame({"USUBJID": list(flags), "PARAMCD": "SALT", "ANL01FL": "Y", "EOTFL": "Y",
                         "AVISITN": 12.0, "APHASE": "ON TREATMENT", "CRIT1FL": list(flags.values()),
                         "PCHG": [-60.0 if f == "Y" else -10.0 for f in flags.values()]})


class TestNonResponderImputation:
    def test_missing_assessment_counts_as_non_responder(self):
        # 4 FAS subjects; S1, S2 respond, S3 does not, S4 has no EOT visit; X0 is not in FAS
        table = efficacy_table("T", adsl(), adsalt_eot({"S1": "Y", "S2": "Y", "S3": "N"}), ENDPOINTS, [], "NRI")
        row = table[(table.subgroup == "Overall") & (table.timepoint == "EOT")].iloc[0]
        assert (row.n_responders, row.n_subjects, row.pct) == (2, 4, 50.0)

    def test_observed_cases_drop_missing(self):
        table = efficacy_table("T", adsl(), adsalt_eot({"S1": "Y", "S2": "Y", "S3": "N"}), ENDPOINTS, [], "observed")
        row = table[(table.subgroup == "Overall") & (table.timepoint == "EOT")].iloc[0]
        assert (row.n_responders, row.n_subjects) == (2, 3)
        assert row.ci_low == pytest.approx(9.43, abs=0.01) and row.ci_high == pytest.approx(99.16, abs=0.01)

    def test_regrowth_bands_put_missing_in_last_band(self):
        bands = regrowth_bands_table("T", adsl(), adsalt_eot({"S1": "Y", "S2": "Y", "S3": "N"})).set_index("band")
        assert bands["n"].to_dict() == {">95%": 0, "50-95%": 2, "5-<50%": 1, "<5% or not assessed": 1}
        assert (bands["n_subjects"] == 4).all()


class TestAdsaltAsSummariesReadIt:
    def test_no_record_at_the_summarised_visits_reads_every_total_record(self, tmp_path):
        # S1 and S2 assessed at week 4 only: no EOT record, so the selection finds nothing;
        # efficacy must still report EOT as 0 of 4 (NRI), as it does from the whole ADSALT
        early = adsalt_eot({"S1": "Y", "S2": "N"}).assign(EOTFL=None, AVISITN=4.0)
        write_table(early, tmp_path / "adsalt.parquet")
        read = read_adsalt_for("efficacy", tmp_path / "adsalt.parquet", endpoints=ENDPOINTS, weeks=[12])
        assert len(read) == 2
        from_file = efficacy_table("T", adsl(), read, ENDPOINTS, [12], "NRI")
        pd.testing.assert_frame_equal(from_file, efficacy_table("T", adsl(), early, ENDPOINTS, [12], "NRI"))
        overall = from_file[from_file.subgroup == "Overall"]
        assert overall[["timepoint", "n_responders", "n_subjects"]].values.tolist() == [["EOT", 0, 4]]

    def test_selection_keeps_only_end_of_treatment_records_for_bands(self, tmp_path):
        records = pd.concat([adsalt_eot({"S1": "Y", "S2": "N"}),
                             adsalt_eot({"S1": "N", "S3": "N"}).assign(EOTFL=None, AVISITN=4.0)])
        write_table(records, tmp_path / "adsalt.parquet")
        read = read_adsalt_for("regrowth_bands", tmp_path / "adsalt.parquet")
        assert read["USUBJID"].tolist() == ["S1", "S2"] and list(read.columns) == ["USUBJID", "PARAMCD", "EOTFL",
                                                                                 "PCHG"]
        pd.testing.assert_frame_equal(regrowth_bands_table("T", adsl(), read),
                                      regrowth_bands_table("T", adsl(), records))

    def test_a_trial_without_salt_records_reads_as_empty(self, tmp_path):
        from regrowth.derive.adsalt import derive_adsalt
        from tests.builders import empty

        dosed = adsl().assign(STUDYID="T", TRTSDT=pd.Timestamp("2020-01-01"), TRTEDT=pd.Timestamp("2020-03-25"))
        write_table(derive_adsalt(empty("rs"), dosed, endpoints=ENDPOINTS, grid_weeks=4, window_days=14,
                                  eot_week=12), tmp_path / "adsalt.parquet")
        for table, settings in (("efficacy", {"endpoints": ENDPOINTS, "weeks": [12]}), ("regrowth_bands", {}),
                                ("comparisons", {"endpoints": ENDPOINTS})):
            assert read_adsalt_for(table, tmp_path / "adsalt.parquet", **settings).empty

    def test_a_missing_column_is_named(self, tmp_path):
        write_table(adsalt_eot({"S1": "Y"}), tmp_path / "adsalt.parquet")
        with pytest.raises(ContractError, match="adsalt.parquet: column.s. missing: CRIT2FL"):
            read_table(tmp_path / "adsalt.parquet", columns=["USUBJID", "CRIT2FL"])


class TestSafetyCounting:
    def test_subjects_not_events_by_actual_treatment(self):
        sl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "TRT01A": ["A", "A", "B"], "SAFFL": "Y"})
        ae = pd.DataFrame({
            "USUBJID": ["S1", "S1", "S1", "S2", "S3"],
            "TRTA": ["A", "A", "A", "A", "B"],
            "TRTEMFL": ["Y", "Y", "Y", None, "Y"],
            "AEBODSYS": ["Infections", "Infections", "Nervous", "Infections", "Nervous"],
            "AEDECOD": ["Cold", "Cold", "Headache", "Cold", "Headache"],
            "AESER": ["N", "N", "Y", "N", "N"],
        })
        t = safety_table("T", sl, ae).set_index(["arm", "soc", "pt"])
        assert t.loc[("A", "ANY", ""), "n_subjects"] == 1  # S2's AE is not treatment-emergent
        assert t.loc[("A", "Infections", "Cold"), "n_subjects"] == 1  # two events, one subject
        assert t.loc[("A", "ANY SERIOUS", ""), "n_subjects"] == 1
        assert t.loc[("A", "Infections", ""), "n_arm"] == 2 and t.loc[("B", "ANY", ""), "n_arm"] == 1
        assert t.loc[("A", "Infections", ""), "pct"] == 50.0


def test_summaries_without_intervals_do_not_import_scipy():
    import subprocess
    import sys

    code = "import sys; import regrowth.summarize.tables; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
