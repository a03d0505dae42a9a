import numpy as np
import pandas as pd
import pytest

from regrowth.derive.adae import derive_adae
from regrowth.derive.adsalt import derive_adsalt, derive_vars_chg
from regrowth.derive.adsl import derive_adsl
from regrowth.derive.adtte import derive_adtte
from regrowth.derive.salt import salt_records
from regrowth.errors import ContractError
from regrowth.model import conform
from tests.builders import ENDPOINTS, dm, empty, ex, rs_regions, rs_totals


def _adsl(subjects, exposure, rs):
    return derive_adsl(dm(*subjects), ex(*exposure), empty("ds"), empty("mh"), rs)


class TestSaltWeighting:
    def test_total_computed_from_regions_when_not_exported(self):
        # 0.40*50 + 0.24*20 + 0.18*10 + 0.18*0 = 20 + 4.8 + 1.8 = 26.6
        rec = salt_records(rs_regions("S1", 1, "2020-01-01", 50, 20, 10, 0))
        total = rec[rec["PARAMCD"] == "SALT"]
        assert total["AVAL"].tolist() == [26.6]
        assert total["DTYPE"].tolist() == ["DERIVED"]

    def test_right_side_alone(self):
        # domain guide example: 20 % loss on the right side adds 3.6
        rec = salt_records(rs_regions("S1", 1, "2020-01-01", 0, 0, 20, 0))
        assert rec.loc[rec["PARAMCD"] == "SALT", "AVAL"].tolist() == [3.6]

    def test_reported_total_is_kept(self):
        rs = pd.concat([rs_regions("S1", 1, "2020-01-01", 50, 20, 10, 0),
                        rs_totals(("S1", 1, "2020-01-01", 26.6))])
        rec = salt_records(rs.reset_index(drop=True))
        total = rec[rec["PARAMCD"] == "SALT"]
        assert len(total) == 1 and total["DTYPE"].isna().all()

    def test_total_derived_only_for_visits_that_report_none(self):
        rs = pd.concat([rs_regions("S1", 1, "2020-01-01", 50, 20, 10, 0), rs_totals(("S1", 1, "2020-01-01", 30.0)),
                        rs_regions("S1", 2, "2020-02-01", 10, 10, 10, 10), rs_regions("S2", 1, "2020-01-01", 0, 0, 0, 0)],
                       ignore_index=True)
        total = salt_records(rs).query("PARAMCD == 'SALT'")
        assert total[["USUBJID", "VISITNUM", "AVAL"]].values.tolist() == [["S1", 1.0, 30.0], ["S1", 2.0, 10.0],
                                                                          ["S2", 1.0, 0.0]]
        assert total["DTYPE"].fillna("").tolist() == ["", "DERIVED", "DERIVED"]

    def test_duplicate_assessment_is_loud(self):
        rs = rs_totals(("S1", 1, "2020-01-01", 60.0), ("S1", 1, "2020-01-02", 61.0))
        with pytest.raises(ContractError, match="share a key"):
            salt_records(rs)


class TestBaselineAndChange:
    def test_baseline_is_last_value_on_or_before_first_dose(self):
        rs = rs_totals(("S1", 1, "2020-01-01", 70.0), ("S1", 2, "2020-01-10", 60.0), ("S1", 3, "2020-02-07", 30.0))
        adsl = _adsl(["S1"], [("S1", "2020-01-10", "2020-04-01")], rs)
        adsalt = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        assert adsalt["ABLFL"].tolist() == [None, "Y", None] or adsalt["ABLFL"].fillna("").tolist() == ["", "Y", ""]
        assert adsalt["BASE"].tolist() == [60.0, 60.0, 60.0]
        assert adsalt["CHG"].tolist() == [10.0, 0.0, -30.0]
        assert adsalt["PCHG"].tolist() == [pytest.approx(100 / 6), 0.0, -50.0]
        assert adsl["SALTBL"].tolist() == [60.0]

    def test_baseline_from_regions_of_a_visit_straddling_first_dose(self):
        # S1's day-1 visit has no total and one region recorded after first dose: the derived
        # total takes the first region's date, so it is baseline; S2's only pre-dose record is a
        # lone region (no total can be derived); its dose-day total comes from a post-dose visit
        straddling = rs_regions("S1", 1, "2020-01-01", 50, 20, 10, 0)
        straddling.loc[3, "RSDTC"] = "2020-01-20"
        rs = pd.concat([straddling, rs_totals(("S1", 2, "2020-02-01", 10.0)),
                        rs_regions("S2", 1, "2020-01-01", 40, 40, 40, 40).iloc[[0]],
                        rs_totals(("S2", 2, "2020-01-12", 55.0), ("S2", 3, "2020-03-01", 20.0))], ignore_index=True)
        adsl = _adsl(["S1", "S2"], [("S1", "2020-01-10", "2020-04-01"), ("S2", "2020-01-12", "2020-04-01")], rs)
        assert adsl.set_index("USUBJID")["SALTBL"].to_dict() == {"S1": 26.6, "S2": 55.0}
        adsalt = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        base = adsalt[(adsalt["PARAMCD"] == "SALT") & (adsalt["ABLFL"] == "Y")].set_index("USUBJID")["AVAL"]
        assert base.to_dict() == adsl.set_index("USUBJID")["SALTBL"].to_dict()  # ADSL and ADSALT agree

    def test_pchg_undefined_when_base_is_zero(self):
        df = pd.DataFrame({"USUBJID": ["S1", "S1"], "PARAMCD": ["SALT", "SALT"], "AVAL": [0.0, 10.0],
                           "ABLFL": ["Y", None]})
        out = derive_vars_chg(df)
        assert out["CHG"].tolist() == [0.0, 10.0]
        assert out["PCHG"].isna().all()

    def test_responder_flag_boundary_and_not_evaluable(self):
        # PCHG exactly -50 is a SALT50 responder; a subject with BASE 0 is not evaluable (null)
        rs = rs_totals(("S1", 1, "2020-01-01", 60.0), ("S1", 2, "2020-01-29", 30.0),
                       ("S2", 1, "2020-01-01", 0.0), ("S2", 2, "2020-01-29", 0.0))
        adsl = _adsl(["S1", "S2"], [("S1", "2020-01-01", "2020-03-01"), ("S2", "2020-01-01", "2020-03-01")], rs)
        a = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        post = a[a["AVISITN"] == 4].set_index("USUBJID")
        assert post.loc["S1", "CRIT1FL"] == "Y" and post.loc["S1", "EOTFL"] == "Y"
        assert pd.isna(post.loc["S2", "CRIT1FL"])
        assert post.loc["S2", "CRIT2FL"] == "Y"  # SALT <= 20 is absolute, so evaluable


class TestVisitWindows:
    def test_closest_record_in_window_is_analysed(self):
        # week 4 targets day 29; days 27 and 33 are both in a +/-14 window, day 27 is closer
        rs = rs_totals(("S1", 1, "2020-01-01", 60.0), ("S1", 2, "2020-01-27", 40.0), ("S1", 3, "2020-02-02", 35.0))
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-03-01")], rs)
        a = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        wk4 = a[a["AVISITN"] == 4]
        assert wk4["ADY"].tolist() == [27.0, 33.0]
        assert wk4["ANL01FL"].fillna("").tolist() == ["Y", ""]

    def test_phase_on_treatment_until_last_dose(self):
        rs = rs_totals(("S1", 1, "2020-01-01", 60.0), ("S1", 2, "2020-01-29", 40.0), ("S1", 3, "2020-02-26", 45.0))
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-01-29")], rs)
        a = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        assert a["APHASE"].tolist() == ["PRE-TREATMENT", "ON TREATMENT", "OFF DRUG"]


def test_analysis_tables_without_records_have_the_types_of_any_other():
    # a trial without SALT data (the CDISC pilot), or a partition whose subjects have no SALT
    # record or no AE: no rows, but numbers stay numbers and dates dates, so the parts of a
    # split trial combine and readers filter them like any other
    rs = rs_totals(("S1", 1, "2020-01-01", 60.0), ("S1", 2, "2020-01-29", 20.0), ("S1", 3, "2020-02-26", 50.0))
    ae = conform(pd.DataFrame({"STUDYID": "T1", "DOMAIN": "AE", "USUBJID": "S1", "AESEQ": [1.0], "AETERM": "x",
                               "AEDECOD": "PT", "AEBODSYS": "SOC", "AESTDTC": "2020-01-05", "AEENDTC": None}), "ae")
    kwargs = dict(endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
    tables = {}
    for label, rs_in, ae_in in (("with", rs, ae), ("without", empty("rs"), empty("ae"))):
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-01-29")], rs_in)
        adsalt = derive_adsalt(rs_in, adsl, **kwargs)
        tables[label] = {"adsalt": adsalt, "adae": derive_adae(ae_in, adsl, window_days=30),
                         "adtte": derive_adtte(adsl, adsalt, endpoints=ENDPOINTS, responder_endpoint="SALT50",
                                               fraction_lost=0.5)}
    for name, table in tables["without"].items():
        assert len(tables["with"][name]) > 0 and len(table) == 0, name
        assert table.dtypes.to_dict() == tables["with"][name].dtypes.to_dict(), name
    assert tables["without"]["adsalt"]["AVISITN"].dtype == "float64"
    assert tables["without"]["adtte"]["ADT"].dtype.kind == "M" and tables["without"]["adae"]["ASTDT"].dtype.kind == "M"


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shuffled", [False, True])
def test_analysed_record_per_visit_is_pandas_first_of_the_ranked_records(seed, shuffled):
    # reference: groupby on the records ranked by subject, parameter, visit, distance, date
    from regrowth.derive.adsalt import derive_vars_avisit

    rng = np.random.default_rng(seed)
    n = 400
    df = pd.DataFrame({
        "USUBJID": pd.Series(rng.choice(["S1", "S2", "S3", None], n, p=[.3, .3, .3, .1]), dtype="str"),
        "PARAMCD": pd.Series(rng.choice(["SALT", "SALT01"], n), dtype="str"),
        "ADY": pd.Series(rng.integers(-5, 60, n).astype(float)).mask(rng.random(n) < 0.1),
        "ABLFL": pd.Series(np.where(rng.random(n) < 0.1, "Y", None), dtype="str"),
        "ADT": pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 4, n), unit="D")).mask(
            rng.random(n) < 0.1),
        "AVAL": pd.Series(rng.random(n)).mask(rng.random(n) < 0.1),
    })
    if not shuffled:  # as derive_adsalt passes it: in subject and parameter order
        df = df.sort_values(["USUBJID", "PARAMCD"], kind="stable").reset_index(drop=True)
    out = derive_vars_avisit(df, grid_weeks=4, window_days=14, last_week=8)
    ranked = out.assign(_dist=(out["ADY"] - (out["AVISITN"] * 7 + 1)).abs().where(out["ABLFL"] != "Y", 0))
    ranked = ranked[ranked["AVISITN"].notna() & ranked["AVAL"].notna()]
    ranked = ranked.sort_values(["USUBJID", "PARAMCD", "AVISITN", "_dist", "ADT"], kind="stable")
    expected = ranked.groupby(["USUBJID", "PARAMCD", "AVISITN"], sort=False).head(1).index
    assert sorted(out.index[out["ANL01FL"] == "Y"]) == sorted(expected)
    assert out["ANL01FL"].isna().sum() == n - len(expected)


@pytest.mark.parametrize("seed", range(4))
def test_time_to_event_takes_the_earliest_event_and_the_latest_censoring_as_groupby_does(seed):
    # reference: pandas groupby on the sources' records concatenated in declared order
    import polars as pl

    from regrowth.derive.tte import censor_source, derive_param_tte, event_source

    rng = np.random.default_rng(seed)
    subjects = [f"S{i}" for i in range(8)]
    day = lambda n: pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D")  # noqa: E731
                              ).mask(rng.random(n) < 0.15).astype("datetime64[s]")
    pop = pd.DataFrame({"USUBJID": subjects, "STARTDT": pd.Series(pd.to_datetime(["2019-12-31"] * 8)).astype(
        "datetime64[s]")})
    events = pd.DataFrame({"USUBJID": rng.choice(subjects, 6), "ADT": day(6),  # some subjects have none
                           "SRC": [k % 2 for k in range(6)]}).astype({"USUBJID": "str"})
    censors = pd.DataFrame({"USUBJID": rng.choice(subjects, 30), "ADT": day(30), "CNSR": rng.integers(1, 3, 30) * 1.0,
                            "SRC": [k % 3 for k in range(30)]}).astype({"USUBJID": "str"})
    # one source per event group, and per censor group and censor value (a source sets one CNSR)
    event_groups = [0, 1]
    censor_groups = [(g, c) for g in range(3) for c in (1.0, 2.0)]
    data = {"ev": pl.from_pandas(events), "cn": pl.from_pandas(censors)}
    out = derive_param_tte(
        pl.from_pandas(pop), "STARTDT",
        [event_source("ev", "ADT", pl.col("SRC") == g, {"EVNTDESC": f"E{g}"}) for g in event_groups],
        [censor_source("cn", "ADT", (pl.col("SRC") == g) & (pl.col("CNSR") == c), int(c), {"CNSDTDSC": f"C{g}"})
         for g, c in censor_groups], data, paramcd="TTX", param="x", day_one=True).to_pandas().set_index("USUBJID")
    ev = pd.concat([events[events["SRC"] == g].assign(EVNTDESC=f"E{g}") for g in event_groups], ignore_index=True)
    cn = pd.concat([censors[(censors["SRC"] == g) & (censors["CNSR"] == c)].assign(CNSDTDSC=f"C{g}")
                    for g, c in censor_groups], ignore_index=True)
    first = ev.sort_values(["USUBJID", "ADT"], kind="stable").groupby("USUBJID").head(1).set_index("USUBJID")
    last = cn.sort_values(["USUBJID", "ADT", "CNSR"], kind="stable").groupby("USUBJID").tail(1).set_index("USUBJID")
    assert sorted(out.index) == subjects
    for s in subjects:
        event = first["ADT"].get(s, pd.NaT)
        if pd.notna(event):
            assert (out.loc[s, "ADT"], out.loc[s, "CNSR"], out.loc[s, "EVNTDESC"]) == (event, 0.0, first.loc[s, "EVNTDESC"])
            assert out.loc[s, "AVAL"] == (event - pd.Timestamp("2019-12-31")).days + 1
            assert pd.isna(out.loc[s, "CNSDTDSC"])
        else:
            assert out.loc[s, "CNSDTDSC"] == last.loc[s, "CNSDTDSC"] and out.loc[s, "CNSR"] == last.loc[s, "CNSR"]
            assert pd.isna(out.loc[s, "EVNTDESC"])


class TestRelapse:
    def _trial(self, off_values):
        # baseline 80, EOT (week 4, last dose) 20: regrowth 60 points; relapse threshold 20 + 0.5*60 = 50
        visits = [("S1", 1, "2020-01-01", 80.0), ("S1", 2, "2020-01-29", 20.0)]
        dates = ["2020-02-26", "2020-03-25", "2020-04-22"]
        visits += [("S1", 3 + i, d, v) for i, (d, v) in enumerate(zip(dates, off_values))]
        rs = rs_totals(*visits)
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-01-29")], rs)
        adsalt = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        tte = derive_adtte(adsl, adsalt, endpoints=ENDPOINTS, responder_endpoint="SALT50", fraction_lost=0.5)
        return tte[tte["PARAMCD"] == "TTRELAPS"].iloc[0]

    def test_event_at_first_visit_losing_half_the_regrowth(self):
        rel = self._trial([35.0, 50.0, 70.0])  # 50 = exactly half lost -> relapse on 2020-03-25
        assert rel["CNSR"] == 0 and rel["ADT"] == pd.Timestamp("2020-03-25")
        assert rel["AVAL"] == 56  # days after the last dose (2020-01-29)
        assert rel["STARTDT"] == pd.Timestamp("2020-01-29")

    def test_censored_at_last_off_drug_visit(self):
        rel = self._trial([35.0, 49.9, 40.0])
        assert rel["CNSR"] == 1 and rel["ADT"] == pd.Timestamp("2020-04-22") and rel["AVAL"] == 84

    def test_a_response_first_reached_off_drug_is_no_time_to_response_event(self):
        # 80 at baseline, 60 at the last dose (-25 %), 30 off drug four weeks later (-62.5 %): the
        # SALT50 response comes after treatment, so time to response is censored at the last dose
        rs = rs_totals(("S1", 1, "2020-01-01", 80.0), ("S1", 2, "2020-01-29", 60.0), ("S1", 3, "2020-02-26", 30.0))
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-01-29")], rs)
        adsalt = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        tte = derive_adtte(adsl, adsalt, endpoints=ENDPOINTS, responder_endpoint="SALT50", fraction_lost=0.5)
        resp = tte[tte["PARAMCD"] == "TTSALT50"].iloc[0]
        assert resp["CNSR"] == 1 and resp["AVAL"] == 29 and resp["CNSDTDSC"] == "LAST SALT ASSESSMENT ON TREATMENT"

    def test_non_responders_are_not_at_risk(self):
        rs = rs_totals(("S1", 1, "2020-01-01", 80.0), ("S1", 2, "2020-01-29", 60.0), ("S1", 3, "2020-02-26", 80.0))
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-01-29")], rs)
        adsalt = derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)
        tte = derive_adtte(adsl, adsalt, endpoints=ENDPOINTS, responder_endpoint="SALT50", fraction_lost=0.5)
        assert (tte["PARAMCD"] == "TTRELAPS").sum() == 0
        resp = tte[tte["PARAMCD"] == "TTSALT50"].iloc[0]
        # censored at the last assessment on treatment, the last dose's day 29 (day 57 is off drug)
        assert resp["CNSR"] == 1 and resp["AVAL"] == 29


class TestTreatmentEmergence:
    def _adae(self, starts, window=30):
        adsl = _adsl(["S1"], [("S1", "2020-03-10", "2020-06-30")], empty("rs"))
        ae = conform(pd.DataFrame({"STUDYID": "T1", "DOMAIN": "AE", "USUBJID": "S1",
                                   "AESEQ": [float(i + 1) for i in range(len(starts))],
                                   "AETERM": "x", "AEDECOD": [f"PT{i}" for i in range(len(starts))],
                                   "AEBODSYS": "SOC", "AESTDTC": starts, "AEENDTC": None}), "ae")
        return derive_adae(ae, adsl, window_days=window)

    def test_partial_and_missing_dates(self):
        a = self._adae(["2020-03-09", "2020-03", "2020-02", None, "2020-07-30", "2020-07-31", "2020"])
        # day before first dose: no; month of first dose: imputed to first dose: yes;
        # month before: no; missing: yes; last dose + 30: yes; + 31: no; year only: first dose, yes
        assert a["TRTEMFL"].fillna("N").tolist() == ["N", "Y", "N", "Y", "Y", "N", "Y"]
        assert a["ASTDTF"].fillna("").tolist() == ["", "D", "D", "", "", "", "M"]
        assert a.loc[1, "ASTDT"] == pd.Timestamp("2020-03-10")

    def test_first_occurrence_flags_count_subjects_once(self):
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-06-30")], empty("rs"))
        ae = conform(pd.DataFrame({"STUDYID": "T1", "DOMAIN": "AE", "USUBJID": "S1", "AESEQ": [1.0, 2.0, 3.0],
                                   "AETERM": "x", "AEDECOD": ["Headache", "Headache", "Acne"],
                                   "AEBODSYS": ["Nervous", "Nervous", "Skin"],
                                   "AESTDTC": ["2020-02-01", "2020-01-15", "2020-03-01"], "AEENDTC": None}), "ae")
        a = derive_adae(ae, adsl, window_days=30).set_index("AESEQ")
        assert a["AOCCPFL"].fillna("").tolist() == ["", "Y", "Y"]  # earliest headache is AESEQ 2
        assert a["AOCCFL"].fillna("").tolist() == ["", "Y", ""]

    def test_duplicate_seq_is_loud(self):
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-06-30")], empty("rs"))
        ae = conform(pd.DataFrame({"STUDYID": "T1", "DOMAIN": "AE", "USUBJID": "S1", "AESEQ": [1.0, 1.0],
                                   "AETERM": "x", "AESTDTC": None, "AEENDTC": None}), "ae")
        with pytest.raises(ContractError):
            derive_adae(ae, adsl, window_days=30)


class TestAdsl:
    def test_treatment_dates_populations_and_screen_failures(self):
        dmx = conform(pd.DataFrame({"STUDYID": "T1", "DOMAIN": "DM", "USUBJID": ["S1", "S2", "S3"], "SEX": "M",
                                    "ARM": ["Drug A", "Screen Failure", "Drug A"],
                                    "ACTARM": ["Drug A", "Screen Failure", "Drug A"]}), "dm")
        exp = ex(("S1", "2020-01-10", "2020-02-06"), ("S1", "2020-02-07", "2020-03-05"))
        rs = rs_totals(("S1", 1, "2020-01-10", 55.0))
        adsl = derive_adsl(dmx, exp, empty("ds"), empty("mh"), rs).set_index("USUBJID")
        assert adsl.loc["S1", "TRTSDT"] == pd.Timestamp("2020-01-10")
        assert adsl.loc["S1", "TRTEDT"] == pd.Timestamp("2020-03-05")
        assert adsl.loc["S1", "TRTDURD"] == 56
        assert adsl["SAFFL"].tolist() == ["Y", "N", "N"]
        assert adsl["ITTFL"].tolist() == ["Y", "N", "Y"]
        assert adsl["FASFL"].tolist() == ["Y", "N", "N"]
        assert pd.isna(adsl.loc["S2", "TRT01P"])

    def test_duplicate_subject_in_dm_is_loud(self):
        with pytest.raises(ContractError, match="USUBJID"):
            derive_adsl(dm("S1", "S1"), ex(), empty("ds"), empty("mh"), empty("rs"))



@pytest.mark.parametrize("seed", range(4))
def test_nearest_target_matches_measuring_every_target(seed):
    from regrowth.derive.adsalt import nearest_target

    rng = np.random.default_rng(seed)
    grid = int(rng.integers(1, 6))
    targets = np.arange(grid, grid * int(rng.integers(1, 12)) + 1, grid) * 7 + 1
    day = rng.integers(-60, int(targets[-1]) + 60, 2000).astype("float64")
    day[rng.random(2000) < 0.05] = np.nan
    day[:len(targets)] = targets + 3.5 * grid  # exactly half way between two targets
    dist = np.abs(day[:, None] - targets[None, :])
    expected = np.nanargmin(np.where(np.isnan(dist), np.inf, dist), axis=1)  # first of ties
    nearest, best = nearest_target(day, targets)
    assert nearest.tolist() == expected.tolist()
    np.testing.assert_array_equal(best, dist[np.arange(len(day)), expected])


# ---- admiral's verbs (derive.verbs) on hand-built frames -------------------------------------------

class TestExtremeFlag:
    def frame(self):
        import polars as pl

        # S1: days 3, 1, null, 1 (a tie on day 1: rows 1 and 3); S2: one record; a missing subject twice
        return pl.DataFrame({"USUBJID": ["S1", "S1", "S1", "S1", "S2", None, None],
                             "ADY": [3.0, 1.0, None, 1.0, 5.0, 2.0, 4.0],
                             "AVAL": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]})

    def test_first_and_last_with_ties_in_row_order_and_nulls_last(self):
        from regrowth.derive.verbs import derive_var_extreme_flag

        first = derive_var_extreme_flag(self.frame(), ["USUBJID"], ["ADY"], "FIRSTFL", mode="first")
        # S1's first by day is the tie on day 1: the earlier row (1); the missing subject is a group
        assert first["FIRSTFL"].to_list() == [None, "Y", None, None, "Y", "Y", None]
        last = derive_var_extreme_flag(self.frame(), ["USUBJID"], ["ADY"], "LASTFL", mode="last")
        # a missing day sorts last, so it is S1's last record (as dplyr's arrange)
        assert last["LASTFL"].to_list() == [None, None, "Y", None, "Y", None, "Y"]
        assert first.columns == ["USUBJID", "ADY", "AVAL", "FIRSTFL"] and first["AVAL"].to_list()[0] == 10.0

    def test_descending_and_several_keys(self):
        from regrowth.derive.verbs import derive_var_extreme_flag, desc

        out = derive_var_extreme_flag(self.frame(), ["USUBJID"], ["ADY", desc("AVAL")], "FL", mode="first")
        assert out["FL"].to_list() == [None, None, None, "Y", "Y", "Y", None]  # of the day-1 tie, AVAL 40

    def test_filter_limits_the_candidates(self):
        import polars as pl

        from regrowth.derive.verbs import derive_var_extreme_flag

        out = derive_var_extreme_flag(self.frame(), ["USUBJID"], ["ADY"], "FL", mode="last",
                                      filter=pl.col("AVAL") < 35)
        assert out["FL"].to_list() == [None, None, "Y", None, None, None, None]  # S2, the others: none below 35

    def test_no_rows_and_missing_columns(self):
        from regrowth.derive.verbs import derive_var_extreme_flag

        empty = derive_var_extreme_flag(self.frame().clear(), ["USUBJID"], ["ADY"], "FL")
        assert empty.height == 0 and "FL" in empty.columns
        with pytest.raises(ContractError, match="derive_var_extreme_flag FL: required column.s. missing: ASTDT"):
            derive_var_extreme_flag(self.frame(), ["USUBJID"], ["ASTDT"], "FL")


class TestMerged:
    def test_left_join_in_row_order_and_renames(self):
        import polars as pl

        from regrowth.derive.verbs import derive_vars_merged

        records = pl.DataFrame({"USUBJID": ["S2", "S1", "S3", "S2"], "AVAL": [1.0, 2.0, 3.0, 4.0]})
        adsl = pl.DataFrame({"USUBJID": ["S1", "S2"], "TRTSDT": ["2020-01-01", "2020-02-01"]}).with_columns(
            pl.col("USUBJID").cast(pl.Categorical))  # keys typed differently on the two sides
        out = derive_vars_merged(records, adsl, ["USUBJID"], {"START": "TRTSDT"}, exist_flag="INADSL")
        assert out.rows() == [("S2", 1.0, "2020-02-01", "Y"), ("S1", 2.0, "2020-01-01", "Y"),
                              ("S3", 3.0, None, None), ("S2", 4.0, "2020-02-01", "Y")]

    def test_duplicates_in_dataset_add_are_loud_and_named(self):
        import polars as pl

        from regrowth.derive.verbs import derive_vars_merged

        records = pl.DataFrame({"USUBJID": ["S1"], "PARAMCD": ["SALT"]})
        add = pl.DataFrame({"USUBJID": ["S1", "S2", "S1", "S2"], "PARAMCD": ["SALT"] * 4, "AVAL": [1.0, 2, 3, 4]})
        with pytest.raises(ContractError) as err:
            derive_vars_merged(records, add, ["USUBJID", "PARAMCD"], ["AVAL"], where="derive_vars_chg",
                               names=("records", "baseline records"))
        assert str(err.value) == ("derive_vars_chg: baseline records (one record per USUBJID, PARAMCD expected): "
                                  "4 rows share a key (USUBJID, PARAMCD); first: [{'USUBJID': 'S1', 'PARAMCD': "
                                  "'SALT'}, {'USUBJID': 'S2', 'PARAMCD': 'SALT'}, {'USUBJID': 'S1', 'PARAMCD': 'SALT'}]")
        # with an order and mode, the first or last per key is taken; a filter applies first
        first = derive_vars_merged(records, add, ["USUBJID", "PARAMCD"], ["AVAL"], order=["AVAL"], mode="last",
                                   filter_add=pl.col("AVAL") < 3.5)
        assert first["AVAL"].to_list() == [3.0]

    def test_required_columns_on_both_sides(self):
        import polars as pl

        from regrowth.derive.verbs import derive_vars_merged

        records = pl.DataFrame({"SUBJ": ["S1"]})
        adsl = pl.DataFrame({"USUBJID": ["S1"], "TRTSDT": [1]})
        with pytest.raises(ContractError, match=r"merge: ADSAL: required column\(s\) missing: USUBJID"):
            derive_vars_merged(records, adsl, ["USUBJID"], ["TRTSDT"], where="merge", names=("ADSAL", "ADSL"))
        with pytest.raises(ContractError, match=r"merge: ADSL: required column\(s\) missing: TRTEDT"):
            derive_vars_merged(adsl.select("USUBJID"), adsl, ["USUBJID"], ["TRTEDT"], where="merge",
                               names=("ADSAL", "ADSL"))
        with pytest.raises(ContractError, match="already has column"):
            derive_vars_merged(adsl, adsl, ["USUBJID"], ["TRTSDT"])


@pytest.mark.parametrize("how", ["first", "last"])
def test_polars_dates_are_regrowth_dates(how):
    """derive.dates (polars) gives what regrowth.dates (pandas) gives, on every shape of --DTC."""
    import polars as pl

    from regrowth import dates as pandas_dates
    from regrowth.derive import dates

    texts = ["2020-01-05", "2020-02-29", "2021-02-29", "2020-02", "2021-02", "2020", "2020-13", "2020-12-32",
             "2020-01-05T10:30", "", None, "x", "2020-1-5", "2020-06-30", "2019-12", "2024-02"]
    refs = ["2020-01-10", "2020-02-15", None, "2020-02-20", "2021-03-01", "2020-06-01", "2020-01-01", None,
            "2020-01-01", None, "2020-01-01", None, None, "2020-06-30", "2019-11-30", "2024-02-29"]
    expected_date, expected_flag = pandas_dates.impute_date(pd.Series(texts, dtype="str"), how=how,
                                                            min_dates=pd.to_datetime(pd.Series(refs)))
    frame = pl.DataFrame({"DTC": texts, "REF": refs}).with_columns(pl.col("REF").str.to_date())
    date, flag = dates.impute_date("DTC", how=how, min_dates=pl.col("REF"))
    got = frame.select(date.alias("d"), flag.alias("f"), dates.to_date("DTC").alias("complete"))
    assert got["d"].to_list() == [None if pd.isna(v) else v.date() for v in expected_date]
    assert got["f"].to_list() == [None if pd.isna(v) else v for v in expected_flag]
    assert got["complete"].to_list() == [None if pd.isna(v) else v.date()
                                         for v in pandas_dates.to_date(pd.Series(texts, dtype="str"))]


# ---- time-to-event parameters declared as sources (config definitions.time_to_event) ---------------

def test_the_schema_default_is_the_code_default():
    import yaml

    from regrowth.derive.adtte import DEFAULT_TIME_TO_EVENT
    from regrowth.trial import CONFIG_SCHEMA, definitions_with_defaults

    schema = yaml.safe_load(CONFIG_SCHEMA.read_text())
    assert schema["properties"]["definitions"]["properties"]["time_to_event"]["default"] == DEFAULT_TIME_TO_EVENT
    assert definitions_with_defaults()["time_to_event"] == DEFAULT_TIME_TO_EVENT


class TestDeclaredSources:
    """The relapse trial of TestRelapse (baseline 80, EOT 20 at week 4, last dose 2020-01-29) and
    its time to response: each declared piece changed, the numbers computed by hand."""

    def tables(self, off_values=(35.0, 50.0, 70.0)):
        visits = [("S1", 1, "2020-01-01", 80.0), ("S1", 2, "2020-01-29", 20.0)]
        dates = ["2020-02-26", "2020-03-25", "2020-04-22"]
        visits += [("S1", 3 + i, d, v) for i, (d, v) in enumerate(zip(dates, off_values))]
        rs = rs_totals(*visits)
        adsl = _adsl(["S1"], [("S1", "2020-01-01", "2020-01-29")], rs)
        return adsl, derive_adsalt(rs, adsl, endpoints=ENDPOINTS, grid_weeks=4, window_days=14, eot_week=4)

    def adtte(self, change, **kwargs):
        import copy

        from regrowth.derive.adtte import DEFAULT_TIME_TO_EVENT

        declared = copy.deepcopy(DEFAULT_TIME_TO_EVENT)
        change(declared)
        adsl, adsalt = self.tables(**kwargs)
        return derive_adtte(adsl, adsalt, endpoints=ENDPOINTS, responder_endpoint="SALT50", fraction_lost=0.5,
                            time_to_event=declared).set_index("PARAMCD")

    def test_default_declaration(self):
        t = self.adtte(lambda d: None)
        # first SALT50 response 2020-01-29: day 29 counted from day 1; relapse 2020-03-25 (50 >= 50), 56 days
        assert t.loc["TTSALT50", ["AVAL", "CNSR", "EVNTDESC"]].tolist() == [29.0, 0.0, "SALT50 RESPONSE"]
        assert t.loc["TTRELAPS", ["AVAL", "CNSR", "EVNTDESC"]].tolist() == [56.0, 0.0, "RELAPSE"]

    def test_an_event_filter(self):
        def later_relapse(d):  # a relapse needs SALT >= 60 as well
            d[1]["events"][0]["filter"] += " AND AVAL >= 60"
        t = self.adtte(later_relapse)
        assert t.loc["TTRELAPS", ["ADT", "AVAL", "CNSR"]].tolist() == [pd.Timestamp("2020-04-22"), 84.0, 0.0]

    def test_set_values_add_columns(self):
        def sources(d):
            d[1]["events"][0]["set_values"].update({"SRCDOM": "ADSALT", "SRCVAR": "ADT"})
            d[1]["censors"][1]["set_values"]["SRCDOM"] = "ADSALT"
        t = self.adtte(sources, off_values=(35.0, 40.0, 45.0))  # never 50: censored at the last visit
        assert list(t.reset_index().columns[-2:]) == ["SRCDOM", "SRCVAR"]
        assert t.loc["TTRELAPS", ["AVAL", "CNSR", "CNSDTDSC", "SRCDOM"]].tolist() == [
            84.0, 1.0, "LAST OFF-DRUG SALT ASSESSMENT", "ADSALT"]
        assert pd.isna(t.loc["TTRELAPS", "SRCVAR"])  # set by the event source only

    def test_endpoints_and_day_one(self):
        def both(d):
            d[0]["endpoints"] = ["responder", "SALTLE20"]
            d[0]["day_one"] = False
        t = self.adtte(both)
        # SALT <= 20 first met 2020-01-29 too (20.0): 28 days from first dose without day 1
        assert t.loc["TTSALT50", "AVAL"] == 28.0 and t.loc["TTSALTLE", ["AVAL", "EVNTDESC"]].tolist() == [
            28.0, "SALTLE20 RESPONSE"]

    def test_censoring_value_and_population(self):
        def change(d):
            d[0]["censors"][1]["censor"] = 3
            d[0]["population"]["filter"] = "FASFL = 'Y' AND SAFFL = 'Y'"
            d[0]["events"][0]["filter"] = "ADY > 200"  # no record so late: censored at the last assessment
        t = self.adtte(change)
        # last assessment on treatment 2020-01-29 (the last dose; the three after it are off drug): day 29
        assert t.loc["TTSALT50", ["AVAL", "CNSR", "CNSDTDSC"]].tolist() == [29.0, 3.0, "LAST SALT ASSESSMENT ON TREATMENT"]

    def test_an_unknown_dataset_is_named(self):
        def wrong(d):
            d[0]["events"][0]["dataset"] = "adrs"
        with pytest.raises(ContractError, match="source dataset 'adrs' is not among the datasets"):
            self.adtte(wrong)


def test_one_derivation_of_the_salt_records_in_process(monkeypatch):
    """derive_analysis_tables derives RS's SALT records once, for ADSL's baseline and ADSALT."""
    import regrowth.derive.salt as salt
    from regrowth.derive.pipeline import derive_analysis_tables, settings_from_definitions
    from regrowth.trial import definitions_with_defaults

    calls = []
    real = salt.salt_records
    monkeypatch.setattr(salt, "salt_records", lambda rs: calls.append(len(rs)) or real(rs))
    rs = rs_totals(("S1", 1, "2020-01-01", 80.0), ("S1", 2, "2020-01-29", 20.0))
    sdtm = {"dm": dm("S1"), "ex": ex(("S1", "2020-01-01", "2020-01-29")), "ds": empty("ds"), "mh": empty("mh"),
            "rs": rs, "sv": empty("sv"), "ae": empty("ae")}
    out = {}
    derive_analysis_tables(sdtm, settings_from_definitions(definitions_with_defaults(), eot_week=4),
                           out.__setitem__)
    assert calls == [2]
    assert out["adsl"]["SALTBL"].to_list() == [80.0] and out["adsalt"]["BASE"].to_list() == [80.0, 80.0]


def test_unique_keys_on_rows_sorted_by_them_find_adjacent_duplicates_nulls_included():
    import polars as pl

    from regrowth.derive.verbs import assert_unique_keys
    from regrowth.errors import ContractError

    ok = pl.DataFrame({"U": ["A", "A", "B", None], "V": [1.0, 2.0, 1.0, None]})
    assert_unique_keys(ok, ["U", "V"], "t", sorted_by_keys=True)
    for dup in (pl.DataFrame({"U": ["A", "A", "B"], "V": [1.0, 1.0, 2.0]}),
                pl.DataFrame({"U": ["A", None, None], "V": [1.0, None, None]})):  # a missing value equals a missing one
        with pytest.raises(ContractError, match="t: 2 rows share a key"):
            assert_unique_keys(dup, ["U", "V"], "t", sorted_by_keys=True)
