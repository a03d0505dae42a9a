"""Responder counts per trial arm to pairwise comparisons on an analysis scale.

Odds ratio and risk ratio on the log scale, risk difference as it is. Zero cells: a study in
which any arm has no responders or only responders gets 0.5 added to the responders and
non-responders of every arm (netmeta's pairwise() default, incr = 0.5 for studies with a zero
cell); for the risk ratio the arm size takes the increment once, as meta's default
(RR.Cochrane = FALSE). The risk difference takes the increment only where its variance would
otherwise be 0 (meta uses it in every zero-cell study's variance: its SE is then slightly
larger). Studies with no responders in any arm are kept (netmeta drops them for OR and RR). Every study's arms give all
k(k-1)/2 pairs (network_meta_analysis handles the multi-arm correlation).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

MEASURES = ("OR", "RR", "RD")
ARM_COLUMNS = ["study", "treatment", "responders", "n"]
INCREMENT = 0.5


def _check_arms(arms: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ARM_COLUMNS if c not in arms.columns]
    if missing:
        raise ValueError(f"comparison arms: column(s) missing: {', '.join(missing)}")
    df = arms[ARM_COLUMNS].copy()
    bad = df[(df["n"] <= 0) | (df["responders"] < 0) | (df["responders"] > df["n"])]
    if len(bad):
        raise ValueError(f"comparison arms: responders must be between 0 and n: {bad.to_dict('records')[:3]}")
    dup = df[df.duplicated(["study", "treatment"])]
    if len(dup):
        raise ValueError(f"comparison arms: treatment {dup['treatment'].iloc[0]} twice in study {dup['study'].iloc[0]}")
    return df


def zero_cell_studies(arms: pd.DataFrame) -> set:
    """Studies with an arm of no responders or only responders."""
    df = _check_arms(arms)
    edge = (df["responders"] == 0) | (df["responders"] == df["n"])
    return set(df.loc[edge, "study"])


def pairwise(arms: pd.DataFrame, measure: str = "OR", increment: float = INCREMENT) -> pd.DataFrame:
    """study, treat1, treat2, TE, seTE (treat1 vs treat2) and whether the zero-cell increment was
    added, for every pair of arms within a study (arms in the order given)."""
    if measure not in MEASURES:
        raise ValueError(f"effect measure {measure!r}: expected one of {', '.join(MEASURES)}")
    df = _check_arms(arms)
    zero = zero_cell_studies(df)
    rows = []
    for study, block in df.groupby("study", sort=False):
        if len(block) < 2:
            continue
        add = increment if (study in zero and measure != "RD") else 0.0
        for (_, a), (_, b) in combinations(block.iterrows(), 2):
            te, se, corrected = _contrast(a.responders, a.n, b.responders, b.n, measure, add, increment)
            rows.append({"study": study, "treat1": a.treatment, "treat2": b.treatment, "TE": te, "seTE": se,
                         "corrected": corrected})
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "corrected"])


def _contrast(x1, n1, x2, n2, measure, add, increment):
    if measure == "RD":
        p1, p2 = x1 / n1, x2 / n2
        var = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        if var > 0:
            return p1 - p2, float(np.sqrt(var)), False
        q1, q2 = (x1 + increment) / (n1 + 2 * increment), (x2 + increment) / (n2 + 2 * increment)
        return p1 - p2, float(np.sqrt(q1 * (1 - q1) / (n1 + 2 * increment) + q2 * (1 - q2) / (n2 + 2 * increment))), True
    a, b = x1 + add, n1 - x1 + add  # responders, non-responders of arm 1
    c, d = x2 + add, n2 - x2 + add
    if measure == "OR":
        return float(np.log(a * d / (b * c))), float(np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)), add > 0
    n1a, n2a = n1 + add, n2 + add  # RR: the increment added to n once (meta's default, RR.Cochrane = FALSE)
    return float(np.log((a / n1a) / (c / n2a))), float(np.sqrt(1 / a - 1 / n1a + 1 / c - 1 / n2a)), add > 0


def number_needed_to_treat(risk_difference: float) -> float | None:
    """1 / RD for a benefit (responders: RD > 0); None where RD is 0."""
    return None if risk_difference == 0 else 1.0 / risk_difference
