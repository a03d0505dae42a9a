import pandas as pd
import pytest

from regrowth.errors import ContractError
from regrowth.parquet_io import read_table, write_table
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


class TestEachBuilderReadsItsOwnRows:
    def test_no_record_at_the_summarised_visits_still_gives_the_eot_row(self, tmp_path):
        # S1 and S2 assessed at week 4 only: no EOT record, so the selection finds nothing;
        # efficacy must still report EOT as 0 of 4 (NRI), from the file as from the frame
        early = adsalt_eot({"S1": "Y", "S2": "N"}).assign(EOTFL=None, AVISITN=4.0)
        write_table(early, tmp_path / "adsalt.parquet")
        from_file = efficacy_table("T", adsl(), tmp_path / "adsalt.parquet", ENDPOINTS, [12], "NRI")
        pd.testing.assert_frame_equal(from_file, efficacy_table("T", adsl(), early, ENDPOINTS, [12], "NRI"))
        overall = from_file[from_file.subgroup == "Overall"]
        assert overall[["timepoint", "n_responders", "n_subjects"]].values.tolist() == [["EOT", 0, 4]]

    def test_bands_read_only_end_of_treatment_records_from_a_file_or_a_dataset_directory(self, tmp_path):
        from regrowth.summarize.select import read_rows
        from regrowth.summarize.tables import AT_EOT

        records = pd.concat([adsalt_eot({"S1": "Y", "S2": "N"}),
                             adsalt_eot({"S1": "N", "S3": "N"}).assign(EOTFL=None, AVISITN=4.0)])
        write_table(records, tmp_path / "adsalt.parquet")
        parts = tmp_path / "adsalt"  # the same records as a dataset of two part files
        write_table(records.iloc[:2], parts / "part-000.parquet")
        write_table(records.iloc[2:], parts / "part-001.parquet")
        for source in (tmp_path / "adsalt.parquet", parts):
            read = read_rows(source, ["USUBJID", "PCHG"], AT_EOT)
            assert read["USUBJID"].to_list() == ["S1", "S2"] and read["PCHG"].to_list() == [-60.0, -10.0]
            # S1 regrows 60 %, S2 10 %; S3 (assessed at week 4 only) and S4 are not assessed at EOT
            bands = regrowth_bands_table("T", adsl(), source)
            assert bands.set_index("band")["n"].to_dict() == {">95%": 0, "50-95%": 1, "5-<50%": 1,
                                                              "<5% or not assessed": 2}
            pd.testing.assert_frame_equal(bands, regrowth_bands_table("T", adsl(), records))

    def test_dictionary_encoded_inputs_in_a_dataset_directory_count_the_same(self, tmp_path):
        import polars as pl

        from regrowth.parquet_io import write_frame

        records = adsalt_eot({"S1": "Y", "S2": "Y", "S3": "N"})
        terms = ["PARAMCD", "ANL01FL", "EOTFL", "APHASE", "CRIT1FL"]
        write_frame(pl.from_pandas(records).with_columns(pl.col(terms).cast(pl.Categorical)),
                    tmp_path / "adsalt" / "part-000.parquet")
        write_frame(pl.from_pandas(adsl()).with_columns(pl.col("TRT01P", "FASFL", "AATYPE").cast(pl.Categorical)),
                    tmp_path / "adsl.parquet")
        table = efficacy_table("T", tmp_path / "adsl.parquet", tmp_path / "adsalt", ENDPOINTS, [12], "NRI")
        row = table[(table.subgroup == "Overall") & (table.timepoint == "EOT")].iloc[0]
        assert (row.n_responders, row.n_subjects, row.pct) == (2, 4, 50.0)
        pd.testing.assert_frame_equal(table, efficacy_table("T", adsl(), records, ENDPOINTS, [12], "NRI"))

    def test_a_trial_without_salt_records_gives_empty_salt_tables(self, tmp_path):
        from regrowth.derive.adsalt import derive_adsalt
        from regrowth.summarize.tables import summarize_trial_table
        from tests.builders import empty

        dosed = adsl().assign(STUDYID="T", TRTSDT=pd.Timestamp("2020-01-01"), TRTEDT=pd.Timestamp("2020-03-25"))
        write_table(derive_adsalt(empty("rs"), dosed, endpoints=ENDPOINTS, grid_weeks=4, window_days=14,
                                  eot_week=12), tmp_path / "adsalt.parquet")
        inputs = {"adsl": adsl(), "adsalt": tmp_path / "adsalt.parquet"}
        settings = {"endpoints": ENDPOINTS, "weeks": [12], "imputation": "NRI"}
        for table in ("efficacy", "regrowth_bands", "comparisons", "salt_by_visit", "best_change"):
            assert summarize_trial_table(table, "T", inputs, **settings).empty, table

    def test_a_missing_column_is_named(self, tmp_path):
        from regrowth.summarize.select import read_rows

        write_table(adsalt_eot({"S1": "Y"}), tmp_path / "adsalt.parquet")
        with pytest.raises(ContractError, match="adsalt.parquet: column.s. missing: CRIT2FL"):
            read_table(tmp_path / "adsalt.parquet", columns=["USUBJID", "CRIT2FL"])
        with pytest.raises(ContractError, match="adsalt.parquet: column.s. missing: CRIT2FL"):
            efficacy_table("T", adsl(), tmp_path / "adsalt.parquet", ENDPOINTS * 2, [], "NRI")
        with pytest.raises(ContractError, match="adsl: column.s. missing: FASFL"):
            read_rows(adsl().drop(columns="FASFL"), ["USUBJID", "FASFL"], name="adsl")


def adtte():
    """Arm A: TTSALT50 at days 7, 14 (and a censoring), 28; TTRELAPS: one responder never assessed
    off drug (CNSR 2), one relapse on day 14, one censored on day 35. Arm B: one TTSALT50 censoring."""
    rows = [("S1", "A", "TTSALT50", 7, 0), ("S2", "A", "TTSALT50", 14, 0), ("S3", "A", "TTSALT50", 14, 1),
            ("S4", "A", "TTSALT50", 28, 0), ("S1", "A", "TTRELAPS", 0, 2), ("S2", "A", "TTRELAPS", 14, 0),
            ("S4", "A", "TTRELAPS", 35, 1), ("S5", "B", "TTSALT50", 21, 1)]
    return pd.DataFrame(rows, columns=["USUBJID", "TRT01P", "PARAMCD", "AVAL", "CNSR"]).astype(
        {"AVAL": float, "CNSR": float})


class TestWhatTheFiguresPlot:
    def test_km_curves_steps_censorings_and_numbers_at_risk(self):
        from regrowth.summarize.figures_data import km_curves_table

        km = km_curves_table("T", adtte())
        response = km[(km.curve == "response") & (km.arm == "A")]
        assert (response["n_subjects"] == 4).all()
        steps = response[response.n_event + response.n_censor > 0]
        assert steps[["weeks", "n_at_risk", "n_event", "n_censor"]].values.tolist() == [
            [1, 4, 1, 0], [2, 3, 1, 1], [4, 1, 1, 0]]
        # NRI (the default, as the responder tables): the censored subject never responds, so the
        # proportion still without a response is 1 - responders so far / 4: 3/4, 2/4, 1/4
        assert steps["surv"].tolist() == pytest.approx([0.75, 0.5, 0.25])
        assert set(response["method"]) == {"cumulative proportion of all subjects (NRI: no later response)"}
        ticks = response[response.axis_tick]
        assert ticks["weeks"].tolist() == list(range(0, 41, 4))
        assert ticks["n_at_risk"].tolist() == [4, 1] + [0] * 9 and ticks["surv"].tolist()[:3] == [1.0, 0.25, 0.25]
        # observed cases: Kaplan-Meier, the censored subject assumed to respond as those followed
        # weeks 1, 2, 4: S = 3/4, 3/4 * 2/3 = 1/2 (one event, one censoring at week 2), 0
        observed = km_curves_table("T", adtte(), "observed").query("curve == 'response' and arm == 'A'")
        assert observed[observed.n_event + observed.n_censor > 0]["surv"].tolist() == pytest.approx([0.75, 0.5, 0.0])
        assert set(observed["method"]) == {"Kaplan-Meier (censored)"}
        b = km[(km.curve == "response") & (km.arm == "B")]
        assert b[b.n_censor > 0][["weeks", "surv"]].values.tolist() == [[3, 1.0]]

    def test_relapse_curve_and_table_count_the_same_responders(self):
        from regrowth.summarize.figures_data import km_curves_table
        from regrowth.summarize.tables import relapse_table

        relapse = km_curves_table("T", adtte()).query("curve == 'relapse'")
        assert set(relapse["arm"]) == {"A"} and (relapse["n_subjects"] == 2).all()  # S1 (CNSR 2) is not followed
        steps = relapse[relapse.n_event + relapse.n_censor > 0]
        assert steps[["weeks", "n_at_risk", "n_event", "n_censor", "surv"]].values.tolist() == [
            [2, 2, 1, 0, 0.5], [5, 1, 0, 1, 0.5]]
        ticks = relapse[relapse.axis_tick]
        assert ticks["weeks"].tolist() == list(range(0, 29, 4)) and ticks["n_at_risk"].tolist() == [2, 1] + [0] * 6
        sl = pd.DataFrame({"USUBJID": ["S1", "S5"], "TRT01P": ["A", "B"], "FASFL": "Y"})
        table = relapse_table("T", sl, adtte()).set_index("arm")
        assert table.loc["A", ["n_responders", "n_at_risk", "n_relapsed"]].tolist() == [3, 2, 1]
        assert table.loc["B", ["n_responders", "n_at_risk"]].tolist() == [0, 0]

    def test_salt_by_visit_means_and_bands(self):
        from regrowth.summarize.figures_data import salt_by_visit_table

        records = pd.DataFrame({
            "USUBJID": ["S1", "S2", "S1", "S2", "S1"], "TRT01P": "A", "PARAMCD": ["SALT"] * 4 + ["SALT01"],
            "AATYPE": ["PATCHY AA", "ALOPECIA TOTALIS", "PATCHY AA", "ALOPECIA TOTALIS", "PATCHY AA"],
            "AVISITN": [0.0, 0.0, 12.0, 12.0, 12.0], "AVAL": [40.0, 60.0, 20.0, 90.0, 5.0],
            "ANL01FL": ["Y", "Y", "Y", None, "Y"]})  # S2's week-12 value is not analysed; SALT01 a region
        t = salt_by_visit_table("T", records)
        got = t[["subgroup", "week", "n", "mean"]].values.tolist()
        assert got == [["Overall", 0, 2, 50.0], ["Overall", 12, 1, 20.0], ["ALOPECIA TOTALIS", 0, 1, 60.0],
                       ["PATCHY AA", 0, 1, 40.0], ["PATCHY AA", 12, 1, 20.0]]
        w0 = t.iloc[0]  # SD of 40 and 60 is sqrt(200); 1.96 * sqrt(200) / sqrt(2) = 19.6
        assert w0["sd"] == pytest.approx(200 ** 0.5) and (w0["ci_low"], w0["ci_high"]) == pytest.approx((30.4, 69.6))
        assert t.iloc[1][["ci_low", "ci_high"]].tolist() == [20.0, 20.0]  # one value: no spread

    def test_best_change_per_subject_in_waterfall_order(self):
        from regrowth.summarize.figures_data import best_change_table

        records = pd.DataFrame({
            "USUBJID": ["S1", "S1", "S1", "S2", "S3", "S4"], "TRT01P": "A", "PARAMCD": "SALT",
            "AATYPE": [None, "OPHIASIS", None, "PATCHY AA", "PATCHY AA", None],
            "ADY": [1, 85, 169, 85, 85, 85], "PCHG": [-80.0, -50.0, -30.0, -10.0, None, -10.0]})
        t = best_change_table("T", records)  # day 1 is not after baseline; S3 has no percent change
        assert t[["usubjid", "best_pchg"]].values.tolist() == [["S2", -10.0], ["S4", -10.0], ["S1", -50.0]]
        assert t["subtype"].fillna("none").tolist() == ["PATCHY AA", "none", "OPHIASIS"]  # the first recorded


class TestWhoIsCounted:
    def test_populations_by_planned_arm(self):
        from regrowth.summarize.populations import populations_table

        sl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4", "S5"], "TRT01P": ["A", "A", "B", None, "A"],
                           "TRT01A": ["A", "A", None, None, "B"], "ITTFL": ["Y", "Y", "Y", "N", "Y"],
                           "SAFFL": ["Y", "Y", "N", "N", "Y"], "FASFL": ["Y", "N", "N", "N", "Y"]})
        salt = pd.DataFrame({"USUBJID": ["S1", "S1", "S5", "S5"], "TRT01P": "A", "PARAMCD": "SALT",
                             "EOTFL": [None, "Y", None, "Y"], "ADY": [1.0, 85.0, 1.0, 92.0]})
        p = populations_table("T", sl, salt).set_index("arm")
        assert p[["n_itt", "n_saf", "n_fas", "n_saf_actual", "n_salt"]].values.tolist() == [[3, 3, 2, 2, 2],
                                                                                           [1, 0, 0, 1, 0]]
        assert p.loc["A", "eot_week"] == 12.5 and pd.isna(p.loc["B", "eot_week"])  # median of 12 and 13

    def test_denominators_count_subjects_with_errors_once_and_by_what_they_lose(self):
        from regrowth.summarize.populations import denominators_table

        sl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4"], "TRT01P": ["A", "A", "A", "B"],
                           "TRT01A": ["A", "A", "B", None], "SAFFL": ["Y", "Y", "Y", "N"],
                           "FASFL": ["Y", "N", "Y", "N"], "TRTSDTF": [None, "D", None, None]})
        issues = pd.DataFrame({"rule_id": "RG0101", "severity": ["error", "error", "error", "warning", "error", "error"],
                               "dataset": ["DM", "RS", "RS", "AE", "EX", "AE"],
                               "usubjid": ["S9", "S2", "S2", "S1", "S4", None]})
        salt = pd.DataFrame({"USUBJID": ["S1", "S1"], "PARAMCD": ["SALT", "SALT01"]})
        d = denominators_table("T", sl, salt, issues).iloc[0]
        assert d.drop("trial_id").to_dict() == {
            "n_screened": 4, "n_salt_subjects": 1, "n_arm_switched": 1, "n_partial_first_dose": 1, "n_dm_errors": 1,
            "n_ex_errors_not_safety": 1, "n_rs_errors_not_fas": 1, "n_rs_errors_other": 0, "n_ae_errors": 0,
            "n_mh_errors": 0}


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
        # no AEACN and no end-of-study status in these tables: not collected, so no row (not a 0)
        assert not {"LEADING TO DISCONTINUATION", "DEATHS"} & set(t.index.get_level_values("soc"))

    def test_discontinuation_and_deaths_by_hand(self):
        sl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "TRT01A": ["A", "A", "B"], "SAFFL": "Y",
                           "EOSSTT": ["DISCONTINUED", "COMPLETED", "DISCONTINUED"],
                           "DCSREAS": ["DEATH", None, "ADVERSE EVENT"]})
        ae = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S3"], "TRTA": ["A", "A", "B", "B"],
                           "TRTEMFL": ["Y", "Y", "Y", None], "AEBODSYS": ["Cardiac", "Skin", "Skin", "Skin"],
                           "AEDECOD": ["Myocardial infarction", "Acne", "Acne", "Rash"], "AESER": ["Y", "N", "N", "N"],
                           "AEACN": ["DOSE NOT CHANGED", "drug withdrawn", "DRUG WITHDRAWN", "DRUG WITHDRAWN"]})
        t = safety_table("T", sl, ae, [{"name": "MACE", "source": "x", "preferred_terms": ["Myocardial infarction"]}]
                         ).set_index(["arm", "soc", "pt"])["n_subjects"]
        # S2's withdrawal (any case) counts; S3's second is not emergent but S3 has an emergent one
        assert t[("A", "LEADING TO DISCONTINUATION", "")] == 1 and t[("B", "LEADING TO DISCONTINUATION", "")] == 1
        assert t[("A", "DEATHS", "")] == 1 and t[("B", "DEATHS", "")] == 0
        assert t[("A", "AESI", "MACE")] == 1 and t[("B", "AESI", "MACE")] == 0


def test_summaries_without_intervals_do_not_import_scipy():
    import subprocess
    import sys

    code = "import sys; import regrowth.summarize.tables; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _eot_efficacy(*arms):
    return pd.DataFrame([{"trial_id": "T", "arm": a, "subgroup": "Overall", "endpoint": "SALT50", "timepoint": "EOT",
                          "n_responders": x, "n_subjects": n} for a, x, n in arms])


def test_within_trial_comparisons_follow_the_declared_design_not_arm_names():
    from regrowth.summarize.tables import comparisons_table

    eff = _eot_efficacy(("Drug", 30, 100), ("Placebo", 10, 100), ("Vehicle", 12, 100))
    assert comparisons_table(eff).empty  # single-arm by default: no randomized difference, whatever the names
    got = comparisons_table(eff, "randomized", "Vehicle")
    assert set(got.arm) == {"Drug", "Placebo"} and set(got.control) == {"Vehicle"}
    assert got.set_index("arm").loc["Drug", "difference"] == pytest.approx(18.0)
    with pytest.raises(ValueError, match="control arm 'Sham' .sheet column control. is not one of its planned arms"):
        comparisons_table(eff, "randomized", "Sham")


class TestOneReadOfAdsaltForAJobsBuilders:
    """summarize_trial_tables reads ADSALT's total-score records once for a job's builders
    (select.read_subset): equal tables, and a read outside that subset still goes to the file."""

    SALT_TABLES = ["efficacy", "best_change", "salt_by_visit", "regrowth_bands", "comparisons", "populations",
                   "denominators", "comparison_subjects"]

    @staticmethod
    def records():
        # total and region records; S1 responds at EOT, S2 not, S3 assessed at week 4 only (an
        # analysed week, EOTFL null), S4's week-4 record has no PARAMCD (in no table)
        eot = adsalt_eot({"S1": "Y", "S2": "N"}).assign(ADY=85.0, AVAL=[8.0, 40.0], TRT01P="A", AATYPE="PATCHY AA")
        early = eot.assign(USUBJID="S3", EOTFL=None, AVISITN=4.0, ADY=29.0, CRIT1FL="N", AVAL=50.0, PCHG=-5.0).head(1)
        unnamed = early.assign(USUBJID="S4", PARAMCD=None, PCHG=-99.0)
        region = eot.assign(PARAMCD="SALTV", AVAL=2.0, PCHG=-90.0, CRIT1FL=None)
        return pd.concat([eot, early, unnamed, region], ignore_index=True)

    def settings(self):
        eff = {"endpoints": ENDPOINTS, "imputation": "NRI"}
        return {"efficacy": {**eff, "weeks": [4]}, "comparisons": eff, "comparison_subjects": eff}

    def inputs(self, tmp_path, layout="file"):
        """The records as one file, a dataset directory (its first part without rows), or a
        job's list of part files."""
        records = self.records()
        if layout == "file":
            write_table(records, tmp_path / "adsalt.parquet")
            adsalt = tmp_path / "adsalt.parquet"
        else:
            parts = [records.iloc[:0].astype({c: "object" for c in records.columns}).assign(AVAL=pd.Series(dtype="float")),
                     records.iloc[:3], records.iloc[3:]]
            for k, part in enumerate(parts):
                write_table(part, tmp_path / "adsalt" / f"part-{k:03d}.parquet")
            adsalt = tmp_path / "adsalt" if layout == "directory" else sorted((tmp_path / "adsalt").glob("*.parquet"))
        validation = pd.DataFrame({"severity": pd.Series([], dtype="str"), "dataset": pd.Series([], dtype="str"),
                                   "usubjid": pd.Series([], dtype="str")})
        return {"adsl": adsl().assign(ITTFL="Y"), "adsalt": adsalt, "validation": validation}

    @pytest.mark.parametrize("layout", ["file", "directory", "part files"])
    def test_the_tables_equal_each_builder_reading_the_file(self, tmp_path, layout):
        from regrowth.summarize.tables import summarize_trial_table, summarize_trial_tables

        inputs = self.inputs(tmp_path, layout)
        once = summarize_trial_tables(self.SALT_TABLES, "T", inputs, self.settings())
        for table in self.SALT_TABLES:
            alone = summarize_trial_table(table, "T", inputs, **self.settings().get(table, {}))
            pd.testing.assert_frame_equal(once[table], alone, obj=table)
        overall = once["efficacy"].query("subgroup == 'Overall'").set_index("timepoint")
        assert overall.loc["EOT", ["n_responders", "n_subjects"]].tolist() == [1, 4]  # S1 of four (NRI)
        assert overall.loc["W4", ["n_responders", "n_subjects"]].tolist() == [0, 4]  # S3 assessed, no response
        assert once["best_change"]["best_pchg"].tolist() == [-5.0, -10.0, -60.0]  # total records only
        assert once["populations"]["n_salt"].tolist() == [3]

    def test_every_builder_is_served_by_the_subset_without_touching_the_file(self, tmp_path):
        import polars as pl

        from regrowth.derive.salt import analysed_columns
        from regrowth.summarize.select import Subset
        from regrowth.summarize.tables import TOTAL_RECORDS, summarize_trial_table

        class Unread:  # an origin that fails if any builder falls back to it
            def __fspath__(self):
                raise AssertionError("a builder read the file, not the shared subset")

        records = pl.from_pandas(self.records())
        total = records.filter(TOTAL_RECORDS).select(c for c in analysed_columns(records.columns) if c != "PARAMCD")
        inputs = {**self.inputs(tmp_path), "adsalt": Subset(Unread(), TOTAL_RECORDS, total, tuple(records.columns))}
        for table in self.SALT_TABLES:
            summarize_trial_table(table, "T", inputs, **self.settings().get(table, {}))

    def test_a_read_outside_the_subset_goes_to_the_file(self, tmp_path):
        import polars as pl

        from regrowth.summarize.select import has_rows, read_rows, read_subset
        from regrowth.summarize.tables import TOTAL_RECORDS

        self.inputs(tmp_path)
        file = tmp_path / "adsalt.parquet"
        subset = read_subset(file, TOTAL_RECORDS, lambda names: ["USUBJID", "ADY", "PCHG"])
        regions = pl.col("PARAMCD") == "SALTV"
        assert read_rows(subset, ["USUBJID"], regions)["USUBJID"].to_list() == ["S1", "S2"]  # no `within`
        assert read_rows(subset, ["USUBJID"], within=regions).height == 2  # another `within`
        assert has_rows(subset, within=regions) and not has_rows(subset, regions, within=TOTAL_RECORDS)
        # a column the subset did not keep (AVAL, as wanted or optional): read from the file
        assert read_rows(subset, ["USUBJID", "AVAL"], within=TOTAL_RECORDS)["AVAL"].to_list() == [8.0, 40.0, 50.0]
        assert "AVAL" in read_rows(subset, ["USUBJID"], within=TOTAL_RECORDS, optional=["AVAL"]).columns
        assert read_rows(subset, ["USUBJID"], pl.col("AVAL") > 10, within=TOTAL_RECORDS)["USUBJID"].to_list() == [
            "S2", "S3"]  # a predicate on a column the subset lacks
        with pytest.raises(ContractError, match="adsalt.parquet: column.*NOPE"):
            read_rows(subset, ["NOPE"], within=TOTAL_RECORDS)

    def test_a_predicate_over_a_column_sees_the_rows_within_from_either(self, tmp_path):
        # the latest total-score record: S4's unnamed record (ADY 29) and the regions (ADY 85)
        # are not within, from the file as from the subset
        import polars as pl

        from regrowth.summarize.select import read_rows, read_subset
        from regrowth.summarize.tables import TOTAL_RECORDS

        self.inputs(tmp_path)
        file = tmp_path / "adsalt.parquet"
        subset = read_subset(file, TOTAL_RECORDS, lambda names: names)
        earliest = pl.col("ADY") == pl.col("ADY").min()
        for source in (file, subset):
            assert read_rows(source, ["USUBJID"], earliest, within=TOTAL_RECORDS)["USUBJID"].to_list() == ["S3"]

    def test_an_adsalt_without_paramcd_is_named(self, tmp_path):
        from regrowth.summarize.tables import summarize_trial_tables

        inputs = self.inputs(tmp_path)
        write_table(self.records().drop(columns="PARAMCD"), tmp_path / "adsalt.parquet")
        with pytest.raises(ContractError, match="adsalt.parquet: column.s. missing: PARAMCD"):
            summarize_trial_tables(self.SALT_TABLES, "T", inputs, self.settings())
