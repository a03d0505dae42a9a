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
