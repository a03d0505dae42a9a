import pandas as pd
import pytest

from regrowth.summarize.tables import efficacy_table, regrowth_bands_table, safety_table

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
                         "AVISITN": 12.0, "CRIT1FL": list(flags.values()),
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
