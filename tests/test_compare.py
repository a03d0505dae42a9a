"""The comparison statistics: effect measures, network meta-analysis, Bucher, MAIC.

Hand-computed values first; published worked examples (netmeta, TSD 18) in the reference tests
further down."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from regrowth.compare.effects import pairwise, zero_cell_studies
from regrowth.compare.maic import CannotMatch, maic_weights, unanchored_binary, weighted_mean
from regrowth.compare.nma import bucher, network_meta_analysis


def arms(*rows):
    return pd.DataFrame(rows, columns=["study", "treatment", "responders", "n"])


def test_log_odds_ratio_and_its_standard_error_by_hand():
    c = pairwise(arms(("T", "A", 30, 100), ("T", "P", 10, 100)), "OR").iloc[0]
    # OR = (30/70) / (10/90) = 27/7; SE = sqrt(1/30 + 1/70 + 1/10 + 1/90)
    assert c.TE == pytest.approx(math.log(27 / 7)) and c.seTE == pytest.approx(math.sqrt(1/30 + 1/70 + 1/10 + 1/90))
    rr = pairwise(arms(("T", "A", 30, 100), ("T", "P", 10, 100)), "RR").iloc[0]
    assert rr.TE == pytest.approx(math.log(3.0)) and rr.seTE == pytest.approx(math.sqrt(1/30 - 1/100 + 1/10 - 1/100))
    rd = pairwise(arms(("T", "A", 30, 100), ("T", "P", 10, 100)), "RD").iloc[0]
    assert rd.TE == pytest.approx(0.2) and rd.seTE == pytest.approx(math.sqrt(.3 * .7 / 100 + .1 * .9 / 100))


def test_a_zero_cell_adds_a_half_to_every_cell_of_that_study_only():
    data = arms(("T1", "A", 12, 140), ("T1", "P", 0, 140), ("T2", "A", 20, 100), ("T2", "P", 5, 100))
    assert zero_cell_studies(data) == {"T1"}
    c = pairwise(data, "OR").set_index("study")
    # 0 of 140 on placebo: OR = (12.5/128.5) / (0.5/140.5)
    assert c.loc["T1", "TE"] == pytest.approx(math.log((12.5 / 128.5) / (0.5 / 140.5)))
    assert c.loc["T1", "seTE"] == pytest.approx(math.sqrt(1/12.5 + 1/128.5 + 1/0.5 + 1/140.5))
    assert bool(c.loc["T1", "corrected"]) and not bool(c.loc["T2", "corrected"])
    assert c.loc["T2", "TE"] == pytest.approx(math.log((20 / 80) / (5 / 95)))
    rd = pairwise(data, "RD").set_index("study")
    assert rd.loc["T1", "TE"] == pytest.approx(12 / 140) and not bool(rd.loc["T1", "corrected"])


def test_a_study_with_both_arms_at_zero_has_an_rd_variance_from_the_increment():
    rd = pairwise(arms(("T", "A", 0, 50), ("T", "P", 0, 50)), "RD").iloc[0]
    q = 0.5 / 51
    assert rd.TE == 0 and bool(rd.corrected) and rd.seTE == pytest.approx(math.sqrt(2 * q * (1 - q) / 51))


def test_nma_of_a_star_network_is_bucher():
    data = arms(("T1", "A", 30, 100), ("T1", "P", 10, 100), ("T2", "B", 40, 100), ("T2", "P", 12, 100))
    c = pairwise(data, "OR")
    common, random = network_meta_analysis(c, reference="P")
    ac, bc = c.iloc[0], c.iloc[1]
    est, se = bucher(ac.TE, ac.seTE, bc.TE, bc.seTE)
    assert common.effect("A", "B") == pytest.approx((est, se), rel=1e-12)
    assert common.df == 0 and common.Q == pytest.approx(0) and random.tau2 == 0 and common.I2 is None


def test_nma_of_one_three_arm_study_gives_back_its_own_comparisons():
    c = pairwise(arms(("S", "A", 30, 100), ("S", "B", 20, 90), ("S", "P", 10, 110)), "OR")
    common, _ = network_meta_analysis(c, reference="P")
    for r in c.itertuples():
        assert common.effect(r.treat1, r.treat2) == pytest.approx((r.TE, r.seTE), rel=1e-10)
    assert common.df == 0


def test_two_trials_of_one_comparison_pool_by_inverse_variance():
    c = pd.DataFrame({"study": ["S1", "S2"], "treat1": ["A", "A"], "treat2": ["P", "P"], "TE": [1.0, 0.4],
                      "seTE": [0.2, 0.4]})
    common, random = network_meta_analysis(c, reference="P")
    w = np.array([25.0, 6.25])
    pooled = (w @ [1.0, 0.4]) / w.sum()
    assert common.effect("A", "P") == pytest.approx((pooled, math.sqrt(1 / w.sum())))
    Q = float(w @ (np.array([1.0, 0.4]) - pooled) ** 2)  # 1.44
    assert common.Q == pytest.approx(Q) and common.df == 1
    tau2 = (Q - 1) / (w.sum() - (w ** 2).sum() / w.sum())  # DerSimonian-Laird
    assert random.tau2 == pytest.approx(tau2)
    wr = 1 / (1 / w + tau2)
    assert random.effect("A", "P") == pytest.approx(((wr @ [1.0, 0.4]) / wr.sum(), math.sqrt(1 / wr.sum())))
    assert common.I2 == pytest.approx((Q - 1) / Q)


def test_pscores_of_three_treatments():
    c = pd.DataFrame({"study": ["S1", "S2"], "treat1": ["A", "B"], "treat2": ["P", "P"], "TE": [1.0, 0.5],
                      "seTE": [0.3, 0.3]})
    common, _ = network_meta_analysis(c, reference="P")
    from scipy.stats import norm

    p_ab = norm.cdf(0.5 / math.sqrt(0.18))
    p_ap, p_bp = norm.cdf(1 / 0.3), norm.cdf(0.5 / 0.3)
    scores = common.pscores()
    assert scores["A"] == pytest.approx((p_ab + p_ap) / 2)
    assert scores["B"] == pytest.approx((1 - p_ab + p_bp) / 2)
    assert scores["P"] == pytest.approx((1 - p_ap + 1 - p_bp) / 2)
    assert common.pscores(larger_is_better=False)["A"] == pytest.approx(1 - scores["A"])


def test_a_disconnected_network_names_its_parts():
    c = pd.DataFrame({"study": ["S1", "S2"], "treat1": ["A", "B"], "treat2": ["P", "Q"], "TE": [1.0, 0.5],
                      "seTE": [0.3, 0.3]})
    with pytest.raises(ValueError, match="not connected: A, P | B, Q"):
        network_meta_analysis(c)


def test_a_multi_arm_study_missing_a_comparison_is_refused():
    c = pd.DataFrame({"study": ["S", "S"], "treat1": ["A", "B"], "treat2": ["P", "P"], "TE": [1.0, 0.5],
                      "seTE": [0.3, 0.3]})
    with pytest.raises(ValueError, match="3 arms but 2 comparisons"):
        network_meta_analysis(c)


# --- MAIC -----------------------------------------------------------------------------------------


def test_maic_weights_are_equal_when_the_target_is_the_trials_own_means():
    X = np.array([[30.0, 1], [40, 0], [50, 1], [60, 0]])
    w = maic_weights(X, X.mean(axis=0))
    assert np.allclose(w.weights, 1.0) and w.ess == pytest.approx(4.0)


def test_maic_weights_of_one_binary_covariate_by_hand():
    """Target 75 % women from a trial with 1 of 4: the woman's weight is 9 times each man's
    (0.75 = 9 / (9 + 3)); ESS = 12^2 / (81 + 3) = 1.714."""
    X = np.array([[1.0], [0.0], [0.0], [0.0]])
    w = maic_weights(X, np.array([0.75]))
    assert w.weights[0] / w.weights[1] == pytest.approx(9.0)
    assert w.ess == pytest.approx(144 / 84)
    assert weighted_mean(X[:, 0], w.weights) == pytest.approx(0.75)
    assert w.rescaled.sum() == pytest.approx(4.0)


def test_maic_cannot_reach_a_target_outside_the_patients_range():
    with pytest.raises(CannotMatch, match="age .70. is not strictly inside the patients' range .30 to 60."):
        maic_weights(np.array([[30.0], [60.0]]), np.array([70.0]), names=["age"])


def test_unanchored_binary_by_hand():
    X = np.array([[1.0], [0.0], [0.0], [0.0]])
    w = maic_weights(X, np.array([0.75]))
    y = np.array([1, 0, 1, 0])  # weights 9, 1, 1, 1: rate (9 + 1) / 12
    r = unanchored_binary(y, w, comparator_responders=20, comparator_n=100)
    p = 10 / 12
    assert r.rate == pytest.approx(p)
    ww = np.array([9, 1, 1, 1])
    var = float((ww ** 2 * (y - p) ** 2).sum() / ww.sum() ** 2)
    assert r.rate_se == pytest.approx(math.sqrt(var))
    assert r.log_or == pytest.approx(math.log(p / (1 - p)) - math.log(0.2 / 0.8))
    assert r.log_or_se == pytest.approx(math.sqrt(var / (p * (1 - p)) ** 2 + 1 / 20 + 1 / 80))
    assert r.ess == pytest.approx(144 / 84)


# --- published worked examples (tests/data/reference/README.md) ----------------------------------

REFERENCE = __import__("pathlib").Path(__file__).parent / "data" / "reference"


def _ratio(fit, a, b, z=1.959964):
    est, se = fit.effect(a, b)
    return math.exp(est), math.exp(est - z * se), math.exp(est + z * se)


def test_netmeta_triangle_of_risk_ratios_to_printed_precision():
    c = pd.DataFrame({"study": ["Study1", "Study2", "Study3"], "treat1": ["DrugA", "DrugA", "DrugB"],
                      "treat2": ["DrugB", "DrugC", "DrugC"], "TE": [math.log(1.2), math.log(1.4), math.log(0.9)],
                      "seTE": [0.1, 0.12, 0.15]})
    common, random = network_meta_analysis(c, reference="DrugA")
    assert _ratio(common, "DrugB", "DrugA") == pytest.approx((0.7885, 0.6627, 0.9382), abs=5e-5)
    assert _ratio(common, "DrugC", "DrugA") == pytest.approx((0.7735, 0.6360, 0.9408), abs=5e-5)
    assert _ratio(random, "DrugB", "DrugA") == pytest.approx((0.7810, 0.6267, 0.9734), abs=5e-5)
    assert _ratio(random, "DrugC", "DrugA") == pytest.approx((0.7751, 0.6120, 0.9817), abs=5e-5)
    assert random.tau2 == pytest.approx(0.0068, abs=5e-5) and math.sqrt(random.tau2) == pytest.approx(0.0826, abs=5e-5)
    assert common.Q == pytest.approx(1.44, abs=5e-3) and common.df == 1
    assert common.Q_pvalue == pytest.approx(0.2308, abs=5e-5) and common.I2 == pytest.approx(0.304, abs=5e-4)


def test_netmeta_network_with_a_three_arm_study_to_printed_precision():
    """Inputs printed to 4 decimals: estimates agree to 1e-4, Q to 0.01. The three-arm study's
    effects are not quite consistent (-0.5043 + 0.3927 != -0.1248); netmeta, like regrowth,
    fits them as given."""
    c = pd.read_csv(REFERENCE / "netmeta_crt_dcrt_acc.tsv", sep="\t").rename(columns={"studlab": "study"})
    common, random = network_meta_analysis(c, reference="ACC")
    crt, dcrt = random.league().set_index(["treatment", "comparator"]).loc[[("CRT", "ACC"), ("DCRT", "ACC")]].itertuples()
    assert (crt.estimate, crt.ci_low, crt.ci_high) == pytest.approx((0.5543, 0.2328, 0.8759), abs=1.5e-4)
    assert (dcrt.estimate, dcrt.ci_low, dcrt.ci_high) == pytest.approx((0.4733, 0.2338, 0.7128), abs=1.5e-4)
    assert random.tau2 == pytest.approx(0.0377, abs=1e-4) and math.sqrt(random.tau2) == pytest.approx(0.1942, abs=2e-4)
    assert common.Q == pytest.approx(16.66, abs=0.02) and common.df == 12
    assert common.I2 == pytest.approx(0.28, abs=5e-3)


def test_roche_maic_vignette_weights_ess_and_odds_ratio():
    adsl = pd.read_csv(REFERENCE / "roche_maic_adsl.csv")
    response = pd.read_csv(REFERENCE / "roche_maic_adrs.csv")
    target = pd.read_csv(REFERENCE / "roche_maic_aggregate_data.csv").iloc[0]
    X = np.column_stack([adsl.AGE, adsl.AGE ** 2, (adsl.SEX == "Male").astype(float), adsl.SMOKE, adsl.ECOG0])
    goal = np.array([target["age.mean"], target["age.mean"] ** 2 + target["age.sd"] ** 2, target["prop.male"],
                     target["prop.smoke"], target["prop.ecog0"]])
    w = maic_weights(X, goal, names=["age", "age squared", "male", "smoker", "ECOG 0"])
    assert w.ess == pytest.approx(157.0715, rel=1e-5)
    assert w.weights.mean() == pytest.approx(0.3763805, rel=1e-5)
    assert w.weights.std(ddof=1) == pytest.approx(0.556692, rel=1e-5)
    assert np.median(w.weights) == pytest.approx(0.03467630, rel=1e-4)
    assert w.weights.max() == pytest.approx(2.373310, rel=1e-5)
    assert w.rescaled.std(ddof=1) == pytest.approx(1.479067, rel=1e-5) and w.rescaled.max() == pytest.approx(6.305614, rel=1e-5)
    # the tiny weights move most where R's optimiser stopped short of the exact solution
    assert w.weights[:6] == pytest.approx([1.301506, 7.024764e-08, 6.384284e-02, 1.204094, 1.371621e-06, 1.204094],
                                          rel=1e-4)
    y = response.set_index(response.USUBJID.astype(int)).loc[adsl.USUBJID, "AVAL"].to_numpy()
    model = unanchored_binary(y, w, comparator_responders=120, comparator_n=300, variance="model")
    odds_ratio = (math.exp(model.log_or), *(math.exp(v) for v in model.ci()))
    assert odds_ratio == pytest.approx((3.786515, 2.558141, 5.604732), rel=1e-6)
    robust = unanchored_binary(y, w, comparator_responders=120, comparator_n=300)
    assert robust.log_or == model.log_or and robust.log_or_se > model.log_or_se  # the weights are not frequencies


# --- the evidence table and the comparison stage ---------------------------------------------------

from regrowth.compare.evidence import count_from_percent, evidence_table  # noqa: E402
from regrowth.compare.stage import maic_tables, network_tables  # noqa: E402

PUBLISHED_HEADER = ["trial", "nct_id", "drug", "treatment", "is_control", "n", "percent", "responders", "endpoint",
                    "week", "analysis_set", "imputation", "source", "source_url", "checked"]


def published(*rows):
    return pd.DataFrame([dict(zip(PUBLISHED_HEADER, r)) for r in rows], columns=PUBLISHED_HEADER).astype(str)


def efficacy(*rows):
    """(trial_id, arm, endpoint, timepoint, responders, n)"""
    return pd.DataFrame([{"trial_id": t, "arm": a, "subgroup": "Overall", "endpoint": e, "timepoint": tp,
                          "n_responders": x, "n_subjects": n, "pct": 100 * x / n, "imputation": "NRI"}
                         for t, a, e, tp, x, n in rows])


@pytest.mark.parametrize("percent,n,want", [
    ("38.8", 281, (109, "")),  # 109/281 = 38.79 %
    ("22", 130, (29, "22 % of 130 fits 28, 29: the nearest used")),  # 28.6 -> 22.0 %, 29 -> 22.3 %
    ("6.2", 189, (12, "6.2 % is no whole count of 189 (the nearest, 12/189, is 6.3 %): the published denominator or "
                      "imputation may differ")),
    ("0", 140, (0, "")),
])
def test_counts_back_computed_from_printed_percentages(percent, n, want):
    responders, kind, note = count_from_percent(percent, n)
    assert (responders, note) == want and kind == "back-computed from %"


TRIALS = [{"trial_id": "R1", "label": "Randomised 1", "design": "randomized", "control": "Placebo"},
          {"trial_id": "S1", "label": "Single arm", "design": "single-arm", "control": None}]


def test_evidence_rows_and_which_enter_the_network():
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 30, 100), ("R1", "Placebo", "SALTLE20", "W24", 5, 100),
                   ("R1", "Drug A", "SALTLE20", "W36", 35, 100), ("R1", "Placebo", "SALTLE20", "W36", 6, 100),
                   ("S1", "Drug S", "SALTLE20", "W24", 10, 20), ("S1", "Drug S", "SALTLE20", "EOT", 10, 20))
    pub = published(("P1", "NCT1", "b", "Drug B", "no", "200", "25.0", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("P1", "NCT1", "p", "Placebo", "yes", "100", "4.0", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("P2", "NCT2", "c", "Drug C", "no", "150", "", "45", "SALTLE20", "36", "ITT", "NRI", "x", "", ""),
                    ("P2", "NCT2", "p", "Placebo", "yes", "150", "", "3", "SALTLE20", "36", "ITT", "NRI", "x", "", ""),
                    ("R1 pub", "R1", "a", "Drug A", "no", "100", "30", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("R1 pub", "R1", "p", "Placebo", "yes", "100", "5", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""))
    ev = evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=False)
    used = ev[ev.in_network]
    assert sorted(zip(used.trial, used.treatment, used.responders, used.n)) == [
        ("P1", "Drug B", 50, 200), ("P1", "Placebo", 4, 100), ("Randomised 1", "Drug A", 30, 100),
        ("Randomised 1", "Placebo", 5, 100)]
    notes = dict(zip(ev.trial + "/" + ev.week.astype(str), ev.network_note))
    assert notes["Single arm/24"] == "not in the network: not a randomised trial (sheet column design)"
    assert notes["P2/36"].startswith("not in the network: reports week 36, not 24")
    assert notes["R1 pub/24"] == "not used: the trial's patient-level data are processed"
    assert set(ev[ev.trial == "P2"]["count"]) == {"reported"} and set(ev[ev.trial == "P1"]["count"]) == {"back-computed from %"}
    with_other = evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=True)
    p2 = with_other[with_other.trial == "P2"]
    assert p2.in_network.all() and set(p2.network_note) == {"at week 36, not 24 (comparison.other_weeks)"}


def test_the_configured_week_changes_the_network():
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 30, 100), ("R1", "Placebo", "SALTLE20", "W24", 5, 100),
                   ("R1", "Drug A", "SALTLE20", "W36", 35, 100), ("R1", "Placebo", "SALTLE20", "W36", 6, 100))
    pub = published(("P2", "NCT2", "c", "Drug C", "no", "150", "", "45", "SALTLE20", "36", "ITT", "NRI", "x", "", ""),
                    ("P2", "NCT2", "p", "Placebo", "yes", "150", "", "3", "SALTLE20", "36", "ITT", "NRI", "x", "", ""))
    at24 = network_tables(evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=False), ["OR"])
    at36 = network_tables(evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=36, other_weeks=False), ["OR"])
    assert set(at24["nma_effects"].treatment) == {"Drug A"}
    assert set(at36["nma_effects"].treatment) == {"Drug A", "Drug C"}
    a36 = at36["nma_effects"].query("model == 'common' and treatment == 'Drug A'").iloc[0]
    assert a36.estimate == pytest.approx((35 / 65) / (6 / 94))  # the week-36 counts


def test_network_tables_of_a_star_by_hand():
    """Two placebo-controlled trials: every estimate is the trial's own, Bucher equals the NMA,
    heterogeneity is not estimable."""
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 30, 100), ("R1", "Placebo", "SALTLE20", "W24", 10, 100))
    pub = published(("P1", "NCT1", "b", "Drug B", "no", "100", "", "40", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("P1", "NCT1", "p", "Placebo", "yes", "100", "", "12", "SALTLE20", "24", "ITT", "NRI", "x", "", ""))
    out = network_tables(evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=False),
                         ["OR", "RD"])
    e = out["nma_effects"].set_index(["measure", "model", "treatment"])
    assert e.loc[("OR", "random", "Drug A"), "estimate"] == pytest.approx((30 / 70) / (10 / 90))
    assert e.loc[("RD", "common", "Drug B"), "estimate"] == pytest.approx(28.0)
    assert e.loc[("RD", "common", "Drug B"), "nnt"] == pytest.approx(1 / 0.28)
    b = out["bucher"].query("measure == 'OR'").iloc[0]
    odds_ratio = {"Drug A": (30 / 70) / (10 / 90), "Drug B": (40 / 60) / (12 / 88)}
    assert (b.treatment, b.comparator) == ("Drug B", "Drug A") and b.common_arm == "Placebo"
    assert b.estimate == pytest.approx(b.nma_estimate) and b.estimate == pytest.approx(odds_ratio["Drug B"] / odds_ratio["Drug A"])
    fit = out["nma_fit"].set_index(["measure", "model"])
    assert fit.loc[("OR", "random"), "note"].startswith("heterogeneity not estimable")
    ranks = out["nma_ranking"].query("measure == 'OR' and model == 'common'").set_index("treatment")["rank"]
    assert ranks["Placebo"] == 3 and ranks["Drug B"] < ranks["Drug A"]  # OR 4.55 > 3.86


def test_a_zero_cell_trial_gets_its_sensitivity_analyses():
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 12, 140), ("R1", "Placebo", "SALTLE20", "W24", 0, 140))
    pub = published(("P1", "NCT1", "b", "Drug B", "no", "100", "", "40", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("P1", "NCT1", "p", "Placebo", "yes", "100", "", "12", "SALTLE20", "24", "ITT", "NRI", "x", "", ""))
    out = network_tables(evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=False), ["OR"])
    a = out["nma_effects"].query("model == 'common' and treatment == 'Drug A'").iloc[0]
    assert a.estimate == pytest.approx((12.5 / 128.5) / (0.5 / 140.5))
    s = out["nma_sensitivity"]
    assert set(s.analysis) == {"increment 0.05 instead of 0.5", "without Randomised 1"}
    tenth = s.query("analysis == 'increment 0.05 instead of 0.5' and model == 'common' and treatment == 'Drug A'").iloc[0]
    assert tenth.estimate == pytest.approx((12.05 / 128.05) / (0.05 / 140.05))
    assert set(s.query("analysis == 'without Randomised 1'").treatment) == {"Drug B"}


def subjects(trial, rows):
    """rows: (AGE, female, responder)"""
    return pd.DataFrame([{"trial_id": trial, "USUBJID": f"{trial}-{k}", "arm": f"{trial} drug", "AGE": a, "female": f,
                          "SALTBL": 80.0, "at_au": 0.0, "DURDIS": 5.0, "endpoint": "SALT50", "timepoint": "EOT",
                          "responder": y} for k, (a, f, y) in enumerate(rows)])


def test_maic_of_a_trial_against_another_trials_aggregate_data_by_hand():
    """Target: 75 % women (3 of 4) with 2 of 4 responders. The IPD: 1 woman of 4 (weights 9:1:1:1),
    the woman responds, one man does: weighted rate (9 + 1) / 12."""
    ipd = subjects("T", [(40, 1.0, 1.0), (40, 0.0, 1.0), (40, 0.0, 0.0), (40, 0.0, 0.0)])
    comparator = subjects("C", [(50, 1.0, 1.0), (50, 1.0, 1.0), (50, 1.0, 0.0), (50, 0.0, 0.0)])
    out = maic_tables(pd.concat([ipd, comparator]), [{"trial": "T", "comparator": {"trial": "C"},
                                                      "endpoint": "SALT50", "covariates": ["female"]}], None, {"T", "C"})
    row = out["maic"].iloc[0]
    assert row.rate == pytest.approx(100 * 10 / 12) and row.comparator_rate == pytest.approx(50.0)
    assert row.ess == pytest.approx(144 / 84) and row.rate_unweighted == pytest.approx(50.0)
    assert row.odds_ratio == pytest.approx((10 / 2) / 1.0) and not row.anchored
    bal = out["maic_balance"].iloc[0]
    assert (bal.before, bal.after, bal.target) == pytest.approx((0.25, 0.75, 0.75))


def test_maic_of_a_trial_not_in_the_run_is_listed_not_run():
    out = maic_tables(subjects("T", [(40, 1.0, 1.0), (41, 0.0, 0.0)]),
                      [{"trial": "T", "comparator": {"trial": "GONE"}, "endpoint": "SALT50", "covariates": ["female"]}],
                      None, {"T"})
    assert out["maic"].iloc[0].note == "not run: GONE not in this run's trial sheet"


def test_maic_against_a_published_population():
    ipd = subjects("T", [(25, 1.0, 1.0), (30, 0.0, 1.0), (35, 1.0, 0.0), (40, 0.0, 0.0), (45, 1.0, 1.0),
                         (50, 0.0, 0.0), (55, 1.0, 0.0), (60, 0.0, 1.0)])
    targets = pd.DataFrame([{"comparator": "Pub", "treatment": "Drug P", "n": 100, "responders": 30, "endpoint": "SALT50",
                             "age": 42.0, "age_sd": 10.0, "female": 0.6, "baseline_salt": None, "at_au": None,
                             "disease_duration": None, "source": "a publication"}])
    out = maic_tables(ipd, [{"trial": "T", "comparator": {"published": "Pub"}, "endpoint": "SALT50",
                             "covariates": ["age", "age_sd", "female"]}], targets, {"T"})
    bal = out["maic_balance"].set_index("covariate")
    assert bal.loc["Age (years, mean)", "after"] == pytest.approx(42.0, abs=1e-6)
    assert bal.loc["Age (years, SD)", "after"] == pytest.approx(10.0, abs=1e-6)
    assert bal.loc["Female (proportion)", "after"] == pytest.approx(0.6, abs=1e-6)
    assert out["maic"].iloc[0].comparator_rate == pytest.approx(30.0)


def test_anchored_maic_through_the_common_control_by_hand():
    """Trial T (randomised, control Placebo): its Drug and Placebo patients weighted to a published
    trial's 50 % women. Half of T's patients are women, so every weight is 1 (ESS 8) and the
    anchored odds ratio is T's own (3/1 over 1/3) divided by the published one (40/60 over 10/90)."""
    rows = [(40, 1.0, 1.0), (40, 0.0, 1.0), (40, 1.0, 0.0), (40, 0.0, 1.0)]  # Drug: 3 of 4 respond
    drug = subjects("T", rows).assign(arm="Drug")
    placebo = subjects("T", [(40, 1.0, 0.0), (40, 0.0, 1.0), (40, 1.0, 0.0), (40, 0.0, 0.0)]).assign(arm="Placebo")
    placebo["USUBJID"] = placebo["USUBJID"] + "p"
    targets = pd.DataFrame([{"comparator": "Pub", "treatment": "Drug P", "n": 100, "responders": 40,
                             "control_treatment": "Placebo", "control_n": 100, "control_responders": 10,
                             "endpoint": "SALT50", "age": None, "age_sd": None, "female": 0.5, "baseline_salt": None,
                             "at_au": None, "disease_duration": None, "source": "a publication"}])
    out = maic_tables(pd.concat([drug, placebo]), [{"trial": "T", "arm": "Drug", "comparator": {"published": "Pub"},
                                                    "endpoint": "SALT50", "covariates": ["female"]}],
                      targets, {"T"}, {"T": "Placebo"})
    row = out["maic"].iloc[0]
    assert bool(row.anchored) and row.treatment == "Drug vs Placebo" and row.ess == pytest.approx(8.0)
    trial_or = (3 / 1) / (1 / 3)
    published_or = (40 / 60) / (10 / 90)
    assert row.odds_ratio == pytest.approx(trial_or / published_or)
    assert row.assumption.startswith("anchored on the common control arm")


def test_a_processed_trial_off_drug_at_the_week_stays_out_of_the_network():
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 30, 100), ("R1", "Placebo", "SALTLE20", "W24", 5, 100))
    eff["phase"] = ["off drug", "on drug"]  # R1's drug arm stopped before week 24
    ev = evidence_table(eff, TRIALS, published(), endpoint="SALTLE20", week=24, other_weeks=False)
    assert not ev.in_network.any()
    assert set(ev.network_note) == {"not in the network: week 24 is (partly) after the last dose (response off drug "
                                    "is not response on treatment)"}


def test_maic_against_a_processed_trial_of_several_arms_is_refused():
    ipd = subjects("T", [(40, 1.0, 1.0), (41, 0.0, 0.0)])
    other = pd.concat([subjects("C", [(50, 1.0, 1.0)]), subjects("C", [(51, 0.0, 0.0)]).assign(arm="C placebo")])
    with pytest.raises(ValueError, match="MAIC comparator C has arms C drug, C placebo: a processed comparator must be a "
                                         "single-arm trial"):
        maic_tables(pd.concat([ipd, other]), [{"trial": "T", "comparator": {"trial": "C"}, "endpoint": "SALT50",
                                               "covariates": ["female"]}], None, {"T", "C"})


def test_a_zero_cell_risk_ratio_adds_the_increment_to_n_once_as_meta_does():
    rr = pairwise(arms(("T1", "A", 12, 140), ("T1", "P", 0, 140)), "RR").iloc[0]
    assert rr.TE == pytest.approx(math.log((12.5 / 140.5) / (0.5 / 140.5)))
    assert rr.seTE == pytest.approx(math.sqrt(1 / 12.5 - 1 / 140.5 + 1 / 0.5 - 1 / 140.5))


def test_maic_bootstrap_is_seeded_and_counts_the_weights_uncertainty():
    """Six patients, half women, matched to 80 % women: the bootstrap (weights re-estimated)
    is the same on a second run and wider than the sandwich, which treats the weights as known."""
    ipd = subjects("T", [(40, 1.0, 1.0), (41, 1.0, 1.0), (42, 1.0, 0.0), (43, 0.0, 0.0), (44, 0.0, 1.0),
                         (45, 0.0, 0.0)])
    comparator = subjects("C", [(50, 1.0, 1.0)] * 4 + [(50, 0.0, 0.0)] * 1 + [(50, 1.0, 0.0)] * 5)
    entry = [{"trial": "T", "comparator": {"trial": "C"}, "endpoint": "SALT50", "covariates": ["female"]}]
    first = maic_tables(pd.concat([ipd, comparator]), entry, None, {"T", "C"}, eot_weeks={"T": 24, "C": 12})
    again = maic_tables(pd.concat([ipd, comparator]), entry, None, {"T", "C"}, eot_weeks={"T": 24, "C": 12})
    a, b = first["maic"].iloc[0], again["maic"].iloc[0]
    assert (a.or_boot_low, a.or_boot_high) == (b.or_boot_low, b.or_boot_high) and a.boot_resamples > 500
    assert a.or_boot_high / a.or_boot_low > a.or_ci_high / a.or_ci_low
    assert a.timing == "end of treatment: week 24 (T) vs week 12 (C): not timed alike"


def test_a_processed_comparators_rate_counts_only_assessed_patients_under_observed_imputation():
    from regrowth.compare.stage import aggregate_of

    c = subjects("C", [(50, 1.0, 1.0), (51, 0.0, 1.0), (52, 1.0, None), (53, 0.0, None)])
    got = aggregate_of(c, "C", "SALT50", ["female"])
    assert (got["n"], got["responders"], got["female"]) == (2, 2.0, 0.5)


def test_maic_on_a_covariate_no_patient_has_stops_naming_it():
    ipd = subjects("T", [(40, 1.0, 1.0), (41, 0.0, 0.0)]).assign(DURDIS=None)
    comparator = subjects("C", [(50, 1.0, 1.0), (51, 0.0, 0.0)])
    with pytest.raises(ValueError, match="MAIC T vs C: no patient has every matched covariate and a response .DURDIS "
                                         "missing for all"):
        maic_tables(pd.concat([ipd, comparator]), [{"trial": "T", "comparator": {"trial": "C"}, "endpoint": "SALT50",
                                                    "covariates": ["disease_duration"]}], None, {"T", "C"})


def test_a_published_arm_without_a_count_or_percentage_is_named(tmp_path):
    from regrowth.compare.evidence import read_published_arms

    bad = published(("P1", "NCT1", "b", "Drug B", "no", "200", "", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""))
    bad.to_csv(tmp_path / "arms.csv", index=False)
    with pytest.raises(ValueError, match=r"arms.csv: row 2 \(P1, Drug B\) needs responders \(a whole number\) or percent"):
        read_published_arms(tmp_path / "arms.csv")


@pytest.mark.parametrize("percent,n,want", [
    ("38.8", 281, (109, 109)),  # one count prints as 38.8 %
    ("22", 130, (28, 29)),  # 28/130 = 21.5 -> 22, 29/130 = 22.3 -> 22
    ("2", 131, (2, 3)),  # 2/131 = 1.5 -> 2, 3/131 = 2.3 -> 2
    ("6.2", 189, (11, 12)),  # no count: 11.7 lies between 11 (5.8 %) and 12 (6.3 %)
    ("0.8", 140, (1, 2)),  # no count: 1.12 lies between 1 (0.7 %) and 2 (1.4 %)
    ("0", 140, (0, 0)),
])
def test_the_counts_a_printed_percentage_may_stand_for(percent, n, want):
    from regrowth.compare.evidence import count_range

    assert count_range(percent, n) == want


def test_counts_that_fit_several_percentages_get_their_sensitivity_analyses():
    """R1 counted (30/100 vs 10/100); P1 published as 22 % of 130 (28 or 29) and 2 % of 131
    (2 or 3). Least favourable to the non-control arms: 28 vs 3; most: 29 vs 2. On a star network
    each drug's estimate is its own trial's, so the analyses are the trial's odds ratios."""
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 30, 100), ("R1", "Placebo", "SALTLE20", "W24", 10, 100))
    pub = published(("P1", "NCT1", "b", "Drug B", "no", "130", "22", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("P1", "NCT1", "p", "Placebo", "yes", "131", "2", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""))
    ev = evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=False)
    p1 = ev[ev.trial == "P1"].set_index("treatment")
    assert p1.loc["Drug B", ["responders", "responders_low", "responders_high"]].tolist() == [29, 28, 29]
    assert p1.loc["Placebo", ["responders", "responders_low", "responders_high"]].tolist() == [3, 2, 3]
    out = network_tables(ev, ["OR", "RD"])
    s = out["nma_sensitivity"].query("model == 'common'").set_index(["measure", "analysis", "treatment"])["estimate"]
    least, most = ("back-computed counts of P1 least favourable to the non-control arms",
                   "back-computed counts of P1 most favourable to the non-control arms")
    assert s[("OR", least, "Drug B")] == pytest.approx((28 / 102) / (3 / 128))
    assert s[("OR", most, "Drug B")] == pytest.approx((29 / 101) / (2 / 129))
    assert s[("RD", least, "Drug B")] == pytest.approx(100 * (28 / 130 - 3 / 131))
    assert s[("OR", least, "Drug A")] == pytest.approx((30 / 70) / (10 / 90))  # R1's counts are exact


def test_exact_counts_need_no_count_sensitivity_analysis():
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 30, 100), ("R1", "Placebo", "SALTLE20", "W24", 10, 100))
    pub = published(("P1", "NCT1", "b", "Drug B", "no", "281", "38.8", "", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("P1", "NCT1", "p", "Placebo", "yes", "100", "", "12", "SALTLE20", "24", "ITT", "NRI", "x", "", ""))
    out = network_tables(evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=False), ["OR"])
    assert out["nma_sensitivity"].empty


def test_an_anchored_maic_on_another_control_treatment_stops_naming_both():
    drug = subjects("T", [(40, 1.0, 1.0), (40, 0.0, 0.0)]).assign(arm="Drug")
    placebo = subjects("T", [(40, 1.0, 0.0), (40, 0.0, 1.0)]).assign(arm="Placebo")
    placebo["USUBJID"] = placebo["USUBJID"] + "p"
    targets = pd.DataFrame([{"comparator": "Pub", "treatment": "Drug P", "n": 100, "responders": 40,
                             "control_treatment": "Vehicle cream", "control_n": 100, "control_responders": 10,
                             "endpoint": "SALT50", "age": None, "age_sd": None, "female": 0.5, "baseline_salt": None,
                             "at_au": None, "disease_duration": None, "source": "a publication"}])
    entry = {"trial": "T", "arm": "Drug", "comparator": {"published": "Pub"}, "endpoint": "SALT50", "covariates": ["female"]}
    with pytest.raises(ValueError, match="anchored on the trial's control arm 'Placebo', but the comparator's control is "
                                         "'Vehicle cream' .comparison.maic_targets, column control_treatment.: an "
                                         "anchored comparison needs the same control treatment in both trials"):
        maic_tables(pd.concat([drug, placebo]), [entry], targets, {"T"}, {"T": "Placebo"})
    same = targets.assign(control_treatment="placebo")  # the same treatment, in another case
    assert bool(maic_tables(pd.concat([drug, placebo]), [entry], same, {"T"}, {"T": "Placebo"})["maic"].iloc[0].anchored)


def test_published_nmas_are_shown_beside_this_networks_estimate(tmp_path):
    from regrowth.compare.evidence import PUBLISHED_NMA_COLUMNS, read_published_nmas
    from regrowth.compare.stage import published_nma_context

    rows = [["NMA 1", "u", "Bayesian", "t", "SALTLE20", "24", "Drug B", "Drug A", "OR", "1.5", "0.5", "4.0", "CrI", ""],
            ["NMA 1", "u", "Bayesian", "t", "SALTLE20", "24", "Drug Z", "Drug A", "OR", "2.0", "1.0", "3.0", "CrI", ""],
            ["NMA 1", "u", "Bayesian", "t", "SALTLE10", "24", "Drug B", "Drug A", "OR", "1.1", "0.5", "2.0", "CrI", ""]]
    pd.DataFrame(rows, columns=PUBLISHED_NMA_COLUMNS).to_csv(tmp_path / "nmas.csv", index=False)
    eff = efficacy(("R1", "Drug A", "SALTLE20", "W24", 30, 100), ("R1", "Placebo", "SALTLE20", "W24", 10, 100))
    pub = published(("P1", "NCT1", "b", "Drug B", "no", "100", "", "40", "SALTLE20", "24", "ITT", "NRI", "x", "", ""),
                    ("P1", "NCT1", "p", "Placebo", "yes", "100", "", "12", "SALTLE20", "24", "ITT", "NRI", "x", "", ""))
    ev = evidence_table(eff, TRIALS, pub, endpoint="SALTLE20", week=24, other_weeks=False)
    league = network_tables(ev, ["OR"])["nma_league"]
    out = published_nma_context(read_published_nmas(tmp_path / "nmas.csv"), league, ev, "SALTLE20", 24)
    assert out.this_estimate.iloc[0] == pytest.approx(((40 / 60) / (12 / 88)) / ((30 / 70) / (10 / 90)))
    assert out.this_estimate.iloc[1:].isna().all()
    assert out.this_note.tolist() == [
        "", "Drug Z not in this run's network (a treatment named otherwise in the evidence table?)",
        "this run's network is SALTLE20 at week 24 (comparison.endpoint, comparison.week)"]
    # a trial taken at another week (comparison.other_weeks): not the published week-24 comparison
    late = published(("P1", "NCT1", "b", "Drug B", "no", "100", "", "40", "SALTLE20", "36", "ITT", "NRI", "x", "", ""),
                     ("P1", "NCT1", "p", "Placebo", "yes", "100", "", "12", "SALTLE20", "36", "ITT", "NRI", "x", "", ""))
    ev36 = evidence_table(eff, TRIALS, late, endpoint="SALTLE20", week=24, other_weeks=True)
    out36 = published_nma_context(read_published_nmas(tmp_path / "nmas.csv"), network_tables(ev36, ["OR"])["nma_league"],
                                  ev36, "SALTLE20", 24)
    assert out36.this_estimate.isna().all()
    assert out36.this_note.iloc[0] == "not comparable: this network takes P1 at another week (comparison.other_weeks)"
    for i, (col, value, message) in enumerate([
            ("measure", "HR", "measure must be OR, RR or RD, not 'HR'"), ("week", "24.5", "week must be a number, not '24.5'"),
            ("ci_low", "-0.2", "an OR and its interval must be above 0")]):
        bad = dict(zip(PUBLISHED_NMA_COLUMNS, rows[0])) | {col: value}
        pd.DataFrame([bad], columns=PUBLISHED_NMA_COLUMNS).to_csv(tmp_path / f"bad{i}.csv", index=False)
        with pytest.raises(ValueError, match=f"bad{i}.csv: row 2: {message}"):
            read_published_nmas(tmp_path / f"bad{i}.csv")


def test_a_percentage_of_a_large_arm_fits_every_count_it_may_stand_for():
    from regrowth.compare.evidence import count_range

    # 22 % (0 decimals) stands for 21.5 % to just under 22.5 % of 1000: counts 215 to 224
    assert count_range("22", 1000) == (215, 224)
    assert count_from_percent("22", 1000) == (220, "back-computed from %", "22 % of 1000 fits 215 to 224: the nearest used")


def test_a_published_percentage_above_100_is_named(tmp_path):
    from regrowth.compare.evidence import read_published_arms

    published(("P1", "NCT1", "b", "Drug B", "no", "140", "120", "", "SALTLE20", "24", "ITT", "NRI", "x", "", "")
              ).to_csv(tmp_path / "arms.csv", index=False)
    with pytest.raises(ValueError, match=r"arms.csv: row 2 \(P1, Drug B\): percent above 100 or responders above n"):
        read_published_arms(tmp_path / "arms.csv")


def test_a_published_control_count_without_its_treatment_is_named(tmp_path):
    from regrowth.compare.stage import TARGET_COLUMNS, read_maic_targets

    row = dict.fromkeys(TARGET_COLUMNS, "") | {"comparator": "Pub", "treatment": "Drug P", "n": 100, "responders": 40,
                                               "control_n": 100, "control_responders": 10, "endpoint": "SALT50"}
    pd.DataFrame([row], columns=TARGET_COLUMNS).to_csv(tmp_path / "targets.csv", index=False)
    with pytest.raises(ValueError, match=r"targets.csv: row 2 \(Pub\) gives control_n but no control_treatment"):
        read_maic_targets(tmp_path / "targets.csv")


def test_maic_weights_solved_together_equal_those_solved_one_by_one():
    from regrowth.compare.maic import _solve

    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(40, 10, 30), rng.integers(0, 2, 30).astype(float)])
    target = np.array([44.0, 0.6])
    samples = [rng.integers(0, 30, 30) for _ in range(6)] + [np.flatnonzero(X[:, 1] == 0)[:30].repeat(3)[:30]]
    solved = _solve(np.stack([X[s] for s in samples]), target)
    for k, s in enumerate(samples[:-1]):
        one = maic_weights(X[s], target)
        assert solved.balanced[k]
        np.testing.assert_allclose(solved.weights[k], one.weights, rtol=1e-10)
        np.testing.assert_allclose(solved.alpha[k], one.alpha, rtol=1e-8)
    assert not solved.reachable[-1] and not solved.balanced[-1]  # no woman in the last sample: 60 % unreachable
    with pytest.raises(CannotMatch, match="covariate 2"):
        maic_weights(X[samples[-1]], target)
