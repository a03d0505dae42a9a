"""The hand-built edge trial (tests/edge.py tells each subject's story) against the definitions.

Every expected value is a literal worked out by hand from the definitions (config defaults,
domain guide), never by running the code. Each definition set is run once (module cache).
"""

from __future__ import annotations

import functools
import math

import pandas as pd
import pytest

from regrowth.trial import definitions_with_defaults
from tests.edge import EDGE_TRIAL, edge_trial, run_edge

ARM_A, PLACEBO = "Drug A 5 mg BID", "Placebo"
DEFAULT_ENDPOINTS = definitions_with_defaults()["endpoints"]  # SALT50/75/90 (PCHG <= -50/-75/-90), SALT <= 20, 10
# Thresholds and operators moved across the edge subjects, all in one run:
CHANGED_ENDPOINTS = [
    {"name": "SALT50", "variable": "PCHG", "operator": "<", "value": -50},  # 001 (-50.0) leaves
    {"name": "SALT75", "variable": "PCHG", "operator": "<=", "value": -74.8},  # 006 (-74.875) joins
    {"name": "SALT90", "variable": "PCHG", "operator": "<=", "value": -89.9},  # 008 (-89.9) joins
    {"name": "SALTLE20", "variable": "AVAL", "operator": "<=", "value": 20.1},  # 006 (20.1) joins
    {"name": "SALTLE10", "variable": "AVAL", "operator": "<", "value": 10},  # 007 (10.0) leaves
    {"name": "PCHG499", "variable": "PCHG", "operator": "<=", "value": -49.9},  # 002 (-49.9) joins
]
BASE_DEFS = {"baseline": "on_or_before_first_dose", "end_of_treatment": {"window_days_after_last_dose": 14}}


def _defs(**changes):
    out = {**BASE_DEFS}
    for key, value in changes.items():
        out[key] = {**out.get(key, {}), **value} if isinstance(value, dict) else value
    return out


RUNS = {
    "default": {"definitions": _defs()},
    "eot_last": {"eot_week": None, "definitions": _defs()},
    # three independent changes in one run (efficacy denominators / ADAE / ADTTE)
    "observed_teae31_f04": {"definitions": _defs(imputation="observed", teae_window_days=31,
                                                 relapse={"fraction_of_regrowth_lost": 0.4})},
    "window13_teae29_f07": {"definitions": _defs(visit_window_days=13, teae_window_days=29,
                                                 relapse={"fraction_of_regrowth_lost": 0.7})},
    "before_first_dose": {"definitions": _defs(baseline="before_first_dose")},
    "endpoints": {"definitions": _defs(endpoints=CHANGED_ENDPOINTS)},
    "eot_last_13": {"eot_week": None, "definitions": _defs(end_of_treatment={"window_days_after_last_dose": 13})},
    # only 011's TRTEDT is asserted (quarantine: what a cut does to later records is not this test's business)
    "data_cut_early": {"data_cut": "2024-06-14", "policy": "quarantine", "definitions": _defs()},
}


@functools.cache
def run(name: str):
    return run_edge(**RUNS[name])


def _endpoints(name):
    return RUNS[name]["definitions"].get("endpoints", DEFAULT_ENDPOINTS)


def S(n: int) -> str:
    return f"EDGE01-{n:03d}"


def _na(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT


def _day(x):
    return None if _na(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


# --- the export itself -------------------------------------------------------------------------


def test_edge_trial_is_a_fresh_copy(tmp_path):
    copy = edge_trial(tmp_path)
    assert copy != EDGE_TRIAL
    assert sorted(p.name for p in copy.iterdir()) == ["ae.csv", "dm.csv", "ds.csv", "ex.csv", "mh.csv", "rs.csv",
                                                      "sv.csv"]
    assert (copy / "rs.csv").read_bytes() == (EDGE_TRIAL / "rs.csv").read_bytes()


def test_export_is_clean_but_for_the_deliberate_warnings():
    issues = run("default").checked.issues
    serious = issues[issues["severity"].isin(["error", "warning"])]
    assert sorted(zip(serious["rule_id"], serious["usubjid"])) == [
        ("RG0604", S(4)),  # an AE without a start date: counted as emergent
        ("RG0702", S(15)),  # dosed, no SALT before first dose
        ("RG0706", S(10)),  # WEEK 24 assessed on day 184, 15 days from day 169
    ]


# --- ADSL ----------------------------------------------------------------------------------------

# TRTSDT, TRTEDT, TRTEDTF, SAFFL, ITTFL, FASFL, SALTBL
ADSL = {
    S(1): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 100.0),
    S(2): ("2024-01-01", "2024-06-19", None, "Y", "Y", "Y", 100.0),
    S(3): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 100.0),
    S(4): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 100.0),
    S(5): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 80.0),
    S(6): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 80.0),
    S(7): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 100.0),
    S(8): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 100.0),
    S(9): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 100.0),
    S(10): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 100.0),
    S(11): ("2024-01-01", "2024-06-17", "D", "Y", "Y", "Y", 100.0),  # 2024-06 -> 06-30, capped at last visit
    S(12): ("2024-01-01", "2024-06-17", None, "Y", "Y", "Y", 94.6),  # derived from regions
    S(13): ("2024-01-15", "2024-04-08", None, "Y", "Y", "Y", 70.0),
    S(14): ("2024-01-15", "2024-07-01", None, "Y", "Y", "Y", 60.0),
    S(15): ("2024-01-15", "2024-07-01", None, "Y", "Y", "N", None),
    S(16): (None, None, None, "N", "N", "N", None),
}


def _adsl_values(adsl, u):
    row = adsl.set_index("USUBJID").loc[u]
    flag = row["TRTEDTF"] if "TRTEDTF" in row.index else "(no TRTEDTF column)"
    return (_day(row["TRTSDT"]), _day(row["TRTEDT"]), None if _na(flag) else flag, row["SAFFL"], row["ITTFL"],
            row["FASFL"], None if _na(row["SALTBL"]) else float(row["SALTBL"]))


@pytest.mark.parametrize("u", list(ADSL))
def test_adsl(u):
    """TRTSDT, TRTEDT, SAFFL, ITTFL, FASFL, SALTBL (TRTEDTF in the next test)."""
    got = _adsl_values(run("default").adam["adsl"], u)
    want = ADSL[u]
    assert got[:2] + got[3:6] == want[:2] + want[3:6]
    assert got[6] == (None if want[6] is None else pytest.approx(want[6], abs=1e-9))


def test_adsl_trtedtf():
    adsl = run("default").adam["adsl"]
    assert {u: _adsl_values(adsl, u)[2] for u in ADSL} == {u: v[2] for u, v in ADSL.items()}


def test_partial_last_dose_capped_by_data_cut():
    """011's 2024-06 last dose: with a data cut (2024-06-14) before its last visit (06-17), the cut binds:
    min(2024-06-30, cut 2024-06-14, last assessment/visit 2024-06-17). (Read as written: the last visit
    is the export's, not only what lies before the cut; if records after the cut were dropped first,
    a cut could never bind.)"""
    r = run("data_cut_early")
    assert _adsl_values(r.adam["adsl"], S(11))[1:3] == ("2024-06-14", "D")


def test_adsl_arms():
    adsl = run("default").adam["adsl"].set_index("USUBJID")
    assert adsl["TRT01P"].fillna("-").to_dict() == {**{S(i): ARM_A for i in range(1, 13)},
                                                    S(13): PLACEBO, S(14): PLACEBO, S(15): PLACEBO, S(16): "-"}


def test_baseline_before_first_dose_rule():
    """001's first-dose-day value (100) stops being baseline: the screening 90 is; 003 has none."""
    adsl = run("before_first_dose").adam["adsl"]
    assert _adsl_values(adsl, S(1))[5:] == ("Y", 90.0)
    assert _adsl_values(adsl, S(3))[5:] == ("N", None)
    assert _adsl_values(adsl, S(4))[5:] == ("Y", 100.0)
    base = _salt(run("before_first_dose"))
    base = base[base["ABLFL"] == "Y"].set_index("USUBJID")
    assert _day(base.loc[S(1), "ADT"]) == "2023-12-18"
    assert S(3) not in base.index


def test_baseline_default_is_the_first_dose_day_value():
    base = _salt(run("default"))
    base = base[base["ABLFL"] == "Y"].set_index("USUBJID")
    assert (_day(base.loc[S(1), "ADT"]), base.loc[S(1), "AVAL"]) == ("2024-01-01", 100.0)
    assert (_day(base.loc[S(3), "ADT"]), base.loc[S(3), "AVAL"]) == ("2024-01-01", 100.0)
    assert (_day(base.loc[S(12), "ADT"]), base.loc[S(12), "AVAL"]) == ("2023-12-18", 94.6)
    assert S(15) not in base.index and S(16) not in base.index


# --- ADSALT --------------------------------------------------------------------------------------


def _salt(r):
    a = r.adam["adsalt"]
    return a[a["PARAMCD"] == "SALT"]


def _eot(r):
    a = _salt(r)
    eot = a[a["EOTFL"] == "Y"]
    assert not eot["USUBJID"].duplicated().any()
    return eot.set_index("USUBJID")


# EOT record: ADT, AVAL, PCHG, CRITyFL for SALT50, 75, 90, LE20, LE10 (Y/N; '-' null; '?' not asserted)
EOT_PLANNED = {
    S(1): ("2024-06-17", 50.0, -50.0, "YNNNN"),
    S(2): ("2024-06-19", 50.1, -49.9, "NNNNN"),  # the closer of two in the window
    S(3): ("2024-06-17", 5.0, -95.0, "YYYYY"),
    S(4): ("2024-06-17", 4.9, -95.1, "YYYYY"),
    S(5): ("2024-06-10", 20.0, -75.0, "YYNYN"),  # tie: the earlier of two, 7 days either side
    S(6): ("2024-06-17", 20.1, -74.875, "YNNNN"),
    S(7): ("2024-06-17", 10.0, -90.0, "YYYYY"),
    S(8): ("2024-06-17", 10.1, -89.9, "YYNYN"),
    S(9): ("2024-07-01", 30.0, -70.0, "YNNNN"),  # 14 days after the target: in the window
    S(10): None,  # 15 days after the target: no EOT record
    S(11): ("2024-06-17", 30.0, -70.0, "YNNNN"),
    S(12): ("2024-06-17", 20.04, -78.81606765327696, "YYNNN"),  # (20.04 - 94.6) / 94.6 * 100: not <= 20
    S(13): None,
    S(14): ("2024-07-01", 55.0, -8.333333333333332, "NNNNN"),
    S(15): ("2024-07-01", 48.0, None, "---??"),  # no baseline
    S(16): None,
}
# Without eot_week: the last record after first dose dated up to last dose + 14 days
EOT_LAST = {
    **EOT_PLANNED,
    S(5): ("2024-06-24", 30.0, -62.5, "YNNNN"),  # day 176 (last dose + 7), not day 162
    S(10): ("2024-05-20", 40.0, -60.0, "YNNNN"),  # day 184 is last dose + 15: W20 instead
    S(13): ("2024-04-08", 30.0, -57.142857142857146, "YNNNN"),  # placebo, stopped at week 12
}


def _check_eot(r, u, want, endpoints=DEFAULT_ENDPOINTS):
    eot = _eot(r)
    if want is None:
        assert u not in eot.index
        return
    assert u in eot.index, f"{u} has no EOT record"
    row = eot.loc[u]
    adt, aval, pchg, flags = want
    assert (_day(row["ADT"]), row["AVAL"]) == (adt, pytest.approx(aval, abs=1e-9))
    assert _na(row["PCHG"]) if pchg is None else row["PCHG"] == pytest.approx(pchg, abs=1e-9)
    for y, (ep, f) in enumerate(zip(endpoints, flags), start=1):
        if f == "?":
            continue
        got = row[f"CRIT{y}FL"]
        assert ("-" if _na(got) else got) == f, f"{u} {ep['name']}"


@pytest.mark.parametrize("u", list(EOT_PLANNED))
def test_adsalt_eot_planned_visit(u):
    _check_eot(run("default"), u, EOT_PLANNED[u])


@pytest.mark.parametrize("u", list(EOT_LAST))
def test_adsalt_eot_last_on_treatment_assessment(u):
    _check_eot(run("eot_last"), u, EOT_LAST[u])


def test_eot_rule_window_after_last_dose_13():
    """009's day-183 record is last dose + 14: with 13 days allowed, EOT falls back to week 12."""
    r = run("eot_last_13")
    _check_eot(r, S(9), ("2024-03-25", 60.0, -40.0, "NNNNN"))
    _check_eot(r, S(5), EOT_LAST[S(5)])  # day 176 is last dose + 7: unchanged
    _check_eot(r, S(10), EOT_LAST[S(10)])


def test_window_edge_leaves_the_window_with_13_days():
    r = run("window13_teae29_f07")
    _check_eot(r, S(9), None)
    for u in (S(2), S(5), S(12)):
        _check_eot(r, u, EOT_PLANNED[u])


def test_analysed_record_of_two_in_one_window():
    a = _salt(run("default"))
    w24 = a[a["AVISITN"] == 24]
    # 002: day 165 (4 days early) and day 171 (2 days late): the closer; 005: days 162 and 176
    # (7 days either side): the earlier
    for u, analysed, other in ((S(2), "2024-06-19", "2024-06-13"), (S(5), "2024-06-10", "2024-06-24")):
        rec = w24[w24["USUBJID"] == u].set_index(w24.loc[w24["USUBJID"] == u, "ADT"].map(_day))
        assert sorted(rec.index) == sorted([analysed, other])
        assert rec.loc[analysed, "ANL01FL"] == "Y"
        assert _na(rec.loc[other, "ANL01FL"])


def test_region_only_subject_totals():
    a = _salt(run("default"))
    rg = a[a["USUBJID"] == S(12)]
    got = dict(zip(rg["ADT"].map(_day), rg["AVAL"]))
    assert got == {"2023-12-18": 94.6, "2024-03-25": 59.68, "2024-06-17": 20.04, "2024-07-15": 30.0,
                   "2024-08-12": 40.0, "2024-09-09": 45.0, "2024-10-07": 50.0, "2024-11-04": 55.0}


def test_changed_endpoints_flags():
    r = run("endpoints")
    eot = _eot(r)
    names = [e["name"] for e in CHANGED_ENDPOINTS]

    def flag(u, name):
        return eot.loc[u, f"CRIT{names.index(name) + 1}FL"]

    assert flag(S(1), "SALT50") == "N"  # -50.0 < -50 is false
    assert flag(S(3), "SALT50") == "Y"
    assert flag(S(6), "SALT75") == "Y" and flag(S(6), "SALTLE20") == "Y"  # -74.875 <= -74.8; 20.1 <= 20.1
    assert flag(S(8), "SALT90") == "Y"  # -89.9 <= -89.9
    assert flag(S(7), "SALTLE10") == "N"  # 10.0 < 10 is false
    assert flag(S(2), "PCHG499") == "Y"  # -49.9 <= -49.9
    assert flag(S(12), "SALTLE20") == "Y" and flag(S(5), "SALT75") == "Y"


# --- ADTTE (time to relapse) -------------------------------------------------------------------

# (CNSR, AVAL days from last dose); None: no TTRELAPS record (not an EOT SALT50 responder)
RELAPSE_DEFAULT = {
    S(1): (0, 56), S(2): None, S(3): (0, 28), S(4): (0, 28), S(5): (1, 84), S(6): (0, 56), S(7): (0, 112),
    S(8): (1, 84), S(9): (2, 0), S(10): None, S(11): (2, 0), S(12): (1, 140), S(13): None, S(14): None,
    S(15): None, S(16): None,
}
RELAPSE_EOT_LAST = {**RELAPSE_DEFAULT, S(5): (1, 84), S(10): (0, 56), S(13): (0, 28)}
RELAPSE_04 = {**RELAPSE_DEFAULT, S(5): (0, 84), S(7): (0, 28), S(12): (0, 112)}
RELAPSE_07 = {**RELAPSE_DEFAULT, S(1): (0, 112), S(3): (0, 56), S(4): (0, 56), S(6): (0, 84), S(7): (1, 112),
              S(9): None}  # 009 is no responder once its EOT record leaves the 13-day window
RELAPSE_BEFORE = {**RELAPSE_DEFAULT, S(1): None, S(3): None}
RELAPSE_ENDPOINTS = {**RELAPSE_DEFAULT, S(1): None}


def _relapse(r):
    t = r.adam["adtte"]
    t = t[t["PARAMCD"] == "TTRELAPS"]
    assert not t["USUBJID"].duplicated().any()
    return {u: (int(c), float(a)) for u, c, a in zip(t["USUBJID"], t["CNSR"], t["AVAL"])}


@pytest.mark.parametrize("name,expected", [
    ("default", RELAPSE_DEFAULT), ("eot_last", RELAPSE_EOT_LAST), ("observed_teae31_f04", RELAPSE_04),
    ("window13_teae29_f07", RELAPSE_07), ("before_first_dose", RELAPSE_BEFORE), ("endpoints", RELAPSE_ENDPOINTS),
])
@pytest.mark.parametrize("u", list(RELAPSE_DEFAULT))
def test_adtte_relapse(name, expected, u):
    got = _relapse(run(name)).get(u)
    assert got == expected[u]


def test_relapse_event_dates():
    t = run("default").adam["adtte"]
    t = t[(t["PARAMCD"] == "TTRELAPS") & (t["CNSR"] == 0)].set_index("USUBJID")
    assert t["ADT"].map(_day).to_dict() == {S(1): "2024-08-12", S(3): "2024-07-15", S(4): "2024-07-15",
                                            S(6): "2024-08-12", S(7): "2024-10-07"}


# --- ADAE ----------------------------------------------------------------------------------------

TEAE_DEFAULT = {(S(1), 1): "Y", (S(1), 2): "Y", (S(1), 3): "Y", (S(3), 1): None, (S(4), 1): "Y", (S(5), 1): "Y",
                (S(7), 1): "Y", (S(8), 1): None, (S(11), 1): "Y", (S(13), 1): "Y", (S(15), 1): "Y"}


def _teae(r):
    ae = r.adam["adae"]
    return {(u, int(s)): ("Y" if f == "Y" else None) for u, s, f in zip(ae["USUBJID"], ae["AESEQ"], ae["TRTEMFL"])}


@pytest.mark.parametrize("key", list(TEAE_DEFAULT))
def test_adae_trtemfl(key):
    assert _teae(run("default"))[key] == TEAE_DEFAULT[key]


def test_adae_trtemfl_window_31_and_29():
    assert _teae(run("observed_teae31_f04")) == {**TEAE_DEFAULT, (S(8), 1): "Y"}  # last dose + 31
    assert _teae(run("window13_teae29_f07")) == {**TEAE_DEFAULT, (S(7), 1): None}  # last dose + 30


# --- summary tables ------------------------------------------------------------------------------


def _efficacy(r):
    e = r.tables["efficacy"]
    e = e[(e["subgroup"] == "Overall") & (e["timepoint"] == "EOT")]
    return {(a, ep): (int(x), int(n), p) for a, ep, x, n, p in
            zip(e["arm"], e["endpoint"], e["n_responders"], e["n_subjects"], e["pct"])}


def _check_efficacy(name, expected):
    got = _efficacy(run(name))
    assert {k: v[:2] for k, v in got.items()} == expected
    for k, (x, n, p) in got.items():
        assert p == pytest.approx(100 * expected[k][0] / expected[k][1])


E = ["SALT50", "SALT75", "SALT90", "SALTLE20", "SALTLE10"]


def _eff(arm, counts, n, endpoints=E):
    return {(arm, ep): (x, n) for ep, x in zip(endpoints, counts)}


def test_efficacy_default_nri():
    _check_efficacy("default", {**_eff(ARM_A, [10, 6, 3, 5, 3], 12), **_eff(PLACEBO, [0, 0, 0, 0, 0], 2)})


def test_efficacy_pct_literals():
    got = _efficacy(run("default"))
    assert got[(ARM_A, "SALT50")][2] == pytest.approx(83.3333, abs=1e-3)
    assert got[(ARM_A, "SALT90")][2] == pytest.approx(25.0)


def test_efficacy_report_week_12():
    """Day-85 records. Drug A PCHG: 001 -30, 002 -20, 003 -60, 004 -70, 005 -37.5, 006 -37.5, 007 -60,
    008 -60, 009 -40, 010 -40, 011 -50.0 (responder at the threshold), 012 (59.68 - 94.6) / 94.6 = -36.9;
    no value <= 20. Placebo: 013 (30 - 70) / 70 = -57.1, 014 -3.3."""
    e = run("default").tables["efficacy"]
    e = e[(e["subgroup"] == "Overall") & (e["timepoint"] == "W12")]
    got = {(a, ep): (int(x), int(n)) for a, ep, x, n in zip(e["arm"], e["endpoint"], e["n_responders"],
                                                            e["n_subjects"])}
    assert got == {**_eff(ARM_A, [5, 0, 0, 0, 0], 12), **_eff(PLACEBO, [1, 0, 0, 0, 0], 2)}


def test_efficacy_observed_drops_missing_eot():
    # 010 has no EOT record: out of the denominator (12 -> 11); placebo 013 likewise (2 -> 1)
    _check_efficacy("observed_teae31_f04", {**_eff(ARM_A, [10, 6, 3, 5, 3], 11), **_eff(PLACEBO, [0] * 5, 1)})


def test_efficacy_eot_last_assessment():
    _check_efficacy("eot_last", {**_eff(ARM_A, [11, 5, 3, 4, 3], 12), **_eff(PLACEBO, [1, 0, 0, 0, 0], 2)})


def test_efficacy_eot_last_window_13():
    _check_efficacy("eot_last_13", {**_eff(ARM_A, [10, 5, 3, 4, 3], 12), **_eff(PLACEBO, [1, 0, 0, 0, 0], 2)})


def test_efficacy_visit_window_13():
    _check_efficacy("window13_teae29_f07", {**_eff(ARM_A, [9, 6, 3, 5, 3], 12), **_eff(PLACEBO, [0] * 5, 2)})


def test_efficacy_baseline_before_first_dose():
    _check_efficacy("before_first_dose", {**_eff(ARM_A, [8, 5, 2, 4, 2], 11), **_eff(PLACEBO, [0] * 5, 2)})


def test_efficacy_changed_endpoints():
    names = [e["name"] for e in CHANGED_ENDPOINTS]
    _check_efficacy("endpoints", {**_eff(ARM_A, [9, 7, 4, 7, 2, 11], 12, names),
                                  **_eff(PLACEBO, [0] * 6, 2, names)})


BANDS = [">95%", "50-95%", "5-<50%", "<5% or not assessed"]


def _bands(r):
    b = r.tables["regrowth_bands"]
    return {a: ([int(b[(b["arm"] == a) & (b["band"] == band)]["n"].sum()) for band in BANDS],
                int(b.loc[b["arm"] == a, "n_subjects"].iloc[0])) for a in b["arm"].unique()}


@pytest.mark.parametrize("name,expected", [
    ("default", {ARM_A: ([1, 9, 1, 1], 12), PLACEBO: ([0, 0, 1, 1], 2)}),
    ("eot_last", {ARM_A: ([1, 10, 1, 0], 12), PLACEBO: ([0, 1, 1, 0], 2)}),
    ("window13_teae29_f07", {ARM_A: ([1, 8, 1, 2], 12), PLACEBO: ([0, 0, 1, 1], 2)}),
    ("before_first_dose", {ARM_A: ([1, 7, 2, 1], 11), PLACEBO: ([0, 0, 1, 1], 2)}),
])
def test_regrowth_bands(name, expected):
    assert _bands(run(name)) == expected


def _relapse_table(r):
    t = r.tables["relapse"]
    return {a: (int(n), int(k), int(d), None if _na(m) else float(m)) for a, n, k, d, m in
            zip(t["arm"], t["n_responders"], t["n_at_risk"], t["n_relapsed"], t["median_weeks"])}


@pytest.mark.parametrize("name,arm_a,placebo", [
    # S(t) = 0.5 exactly on [56, 112) days: median (56 + 112) / 2 = 84 days = 12 weeks
    ("default", (10, 8, 5, 12.0), (0, 0, 0, None)),
    # S = 7/9 after day 28, 4/9 after day 56: median 56 days = 8 weeks; placebo 013 relapses on day 28
    ("eot_last", (11, 9, 6, 8.0), (1, 1, 1, 4.0)),
    ("eot_last_13", (10, 9, 6, 8.0), (1, 1, 1, 4.0)),
    # f 0.4: S = 5/8, then 3/8 at day 56: median 8 weeks
    ("observed_teae31_f04", (10, 8, 7, 8.0), (0, 0, 0, None)),
    # f 0.7: S = 0.75 (day 56), 0.625 (84), 0.4167 (112): median 16 weeks
    ("window13_teae29_f07", (9, 8, 4, 16.0), (0, 0, 0, None)),
    # 6 at risk: S = 5/6, 4/6, then 2/6 at day 112: median 16 weeks
    ("before_first_dose", (8, 6, 3, 16.0), (0, 0, 0, None)),
    # SALT50 '<': 001 is out; 7 at risk: S = 5/7, 4/7, then 2/7 at day 112: median 16 weeks
    ("endpoints", (9, 7, 4, 16.0), (0, 0, 0, None)),
])
def test_relapse_table(name, arm_a, placebo):
    got = _relapse_table(run(name))
    assert got[ARM_A] == (arm_a[:3] + (pytest.approx(arm_a[3]),))
    if PLACEBO in got:
        want = placebo[:3] + ((None,) if placebo[3] is None else (pytest.approx(placebo[3]),))
        assert got[PLACEBO] == want
    else:
        assert placebo[0] == 0


INF, NERV, SKIN, INV = ("Infections and infestations", "Nervous system disorders",
                        "Skin and subcutaneous tissue disorders", "Investigations")
# 013's AE (AEACN DRUG WITHDRAWN, emergent) leads to discontinuation; nobody died (DS)
SAFETY_PLACEBO = {("ANY", ""): 2, ("ANY SERIOUS", ""): 0, ("LEADING TO DISCONTINUATION", ""): 1, ("DEATHS", ""): 0,
                  (INV, ""): 1, (INV, "Alanine aminotransferase increased"): 1, (NERV, ""): 1, (NERV, "Headache"): 1}
SAFETY_A = {("ANY", ""): 5, ("ANY SERIOUS", ""): 1, ("LEADING TO DISCONTINUATION", ""): 0, ("DEATHS", ""): 0,
            (INF, ""): 3, (INF, "Folliculitis"): 2,
            (INF, "Upper respiratory tract infection"): 1, (INF, "Cellulitis"): 1, (NERV, ""): 1, (NERV, "Headache"): 1,
            (SKIN, ""): 1, (SKIN, "Acne"): 1}


def _safety(r):
    s = r.tables["safety"]
    out = {}
    for a in s["arm"].unique():
        t = s[s["arm"] == a]
        out[a] = ({(soc, pt): int(n) for soc, pt, n in zip(t["soc"], t["pt"], t["n_subjects"])},
                  int(t["n_arm"].iloc[0]))
    return out


@pytest.mark.parametrize("name,arm_a", [
    ("default", SAFETY_A),
    ("observed_teae31_f04", {**SAFETY_A, ("ANY", ""): 6, (SKIN, ""): 2, (SKIN, "Acne"): 2}),
    ("window13_teae29_f07", {**SAFETY_A, ("ANY", ""): 4, (INF, ""): 2, (INF, "Folliculitis"): 1}),
])
def test_safety(name, arm_a):
    assert _safety(run(name)) == {ARM_A: (arm_a, 12), PLACEBO: (SAFETY_PLACEBO, 3)}


def test_adverse_events_of_special_interest_are_the_configured_lists():
    """definitions.aesi changed: acne by its PT (written in lower case: matched ignoring case),
    serious infections by their SOC. Drug A: one acne TEAE, and the serious cellulitis (004);
    placebo: neither. With the lists empty (the default) there are no AESI rows."""
    aesi = [{"name": "Acne", "source": "test", "preferred_terms": ["acne"]},
            {"name": "Serious infections", "source": "test", "socs": [INF], "serious_only": True},
            {"name": "Any infection", "source": "test", "socs": [INF]}]
    got = _safety(run_edge(definitions=_defs(aesi=aesi)))
    rows = {arm: {pt: n for (soc, pt), n in counts.items() if soc == "AESI"} for arm, (counts, _) in got.items()}
    assert rows == {ARM_A: {"Acne": 1, "Serious infections": 1, "Any infection": 3},
                    PLACEBO: {"Acne": 0, "Serious infections": 0, "Any infection": 0}}
    assert not any(soc == "AESI" for counts, _ in _safety(run("default")).values() for soc, _ in counts)


def test_disposition():
    d = run("default").tables["disposition"]
    got = sorted(zip(d["arm"], d["status"], d["reason"], d["n"].astype(int), d["n_arm"].astype(int)))
    assert got == sorted([
        (ARM_A, "COMPLETED", "", 11, 12),
        (ARM_A, "DISCONTINUED", "WITHDRAWAL BY SUBJECT", 1, 12),
        (PLACEBO, "COMPLETED", "", 2, 3),
        (PLACEBO, "DISCONTINUED", "ADVERSE EVENT", 1, 3),
        ("Not assigned (screen failure)", "DISCONTINUED", "SCREEN FAILURE", 1, 1),
    ])


def test_km_median_plateau_at_one_half_is_its_midpoint():
    """The default run's 8 at-risk responders as they should come out of ADTTE (days): events 28, 28,
    56, 56, 112; censored 84, 84, 140. S = 0.5 on [56, 112): median 84 days (SAS/R convention)."""
    from regrowth.summarize.stats import km_median

    median, _low, _high = km_median([28, 28, 56, 56, 84, 84, 112, 140], [True, True, True, True, False, False, True,
                                                                          False])
    assert median == 84
