"""Frequentist network meta-analysis, graph-theoretical (Rücker 2012), as R's netmeta computes it.

Input: one row per pairwise comparison within a study (study, treat1, treat2, TE = effect of
treat1 vs treat2 on the analysis scale, seTE); a multi-arm study gives all its k(k-1)/2 pairs.
Multi-arm studies are handled as netmeta does: the variances of a study's pairwise comparisons
are turned into the weights of its arms' network (the pseudoinverse of the doubly centred
variance matrix), so its comparisons are not counted as independent (Rücker 2012, section 3.2).

Common effect: theta = L+ B' W y with B the edge-vertex incidence matrix, W the (adjusted)
weights and L = B'WB the weighted Laplacian; Var(theta_a - theta_b) = L+_aa + L+_bb - 2 L+_ab.
Q = (y - B theta)' W (y - B theta) on df = sum over studies (k - 1) - (n - 1) (heterogeneity and
inconsistency together); I^2 = (Q - df) / Q. Random effects: tau^2 by the generalised
DerSimonian-Laird estimator (Jackson, White and Riley 2012, as netmeta), added to each
comparison's variance before the multi-arm adjustment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtr, ndtri  # scipy.stats' own, at a fraction of its import

CONTRAST_COLUMNS = ["study", "treat1", "treat2", "TE", "seTE"]


@dataclass(frozen=True)
class NetworkFit:
    treatments: list[str]
    theta: np.ndarray  # effects relative to the first treatment (theta[0] = 0), analysis scale
    cov: np.ndarray  # covariance of theta (pseudoinverse of the weighted Laplacian)
    Q: float
    df: int
    tau2: float  # 0 for the common-effect fit
    model: str  # "common" | "random"

    def effect(self, a: str, b: str) -> tuple[float, float]:
        """(estimate, standard error) of treatment a vs treatment b."""
        i, j = self.treatments.index(a), self.treatments.index(b)
        var = self.cov[i, i] + self.cov[j, j] - 2 * self.cov[i, j]
        return float(self.theta[i] - self.theta[j]), float(np.sqrt(max(var, 0.0)))

    def league(self, level: float = 0.95) -> pd.DataFrame:
        """Every ordered pair: estimate of row treatment vs column treatment, SE and CI."""
        z = ndtri(0.5 + level / 2)
        rows = []
        for a in self.treatments:
            for b in self.treatments:
                if a != b:
                    est, se = self.effect(a, b)
                    rows.append({"treatment": a, "comparator": b, "estimate": est, "se": se,
                                 "ci_low": est - z * se, "ci_high": est + z * se})
        return pd.DataFrame(rows)

    @property
    def I2(self) -> float | None:
        """Share of the variability beyond chance; None where Q has no degrees of freedom."""
        if self.df <= 0 or self.Q <= 0:
            return None
        return max(0.0, (self.Q - self.df) / self.Q)

    @property
    def Q_pvalue(self) -> float | None:
        return None if self.df <= 0 else float(chdtrc(self.df, self.Q))

    def pscores(self, larger_is_better: bool = True) -> dict[str, float]:
        """P-scores (Rücker and Schwarzer 2015): the mean, over the other treatments, of the
        one-sided probability that this treatment is better."""
        out = {}
        n = len(self.treatments)
        for a in self.treatments:
            p = []
            for b in self.treatments:
                if a == b:
                    continue
                est, se = self.effect(a, b)
                z = est / se if se > 0 else np.inf * np.sign(est)
                p.append(ndtr(z if larger_is_better else -z))
            out[a] = float(np.mean(p)) if n > 1 else float("nan")
        return out


def _check(contrasts: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in CONTRAST_COLUMNS if c not in contrasts.columns]
    if missing:
        raise ValueError(f"network meta-analysis: contrast column(s) missing: {', '.join(missing)}")
    df = contrasts[CONTRAST_COLUMNS].copy()
    bad = df[~np.isfinite(df["TE"]) | ~np.isfinite(df["seTE"]) | (df["seTE"] <= 0)]
    if len(bad):
        raise ValueError(f"network meta-analysis: comparison(s) without a finite effect and positive standard error: "
                         f"{bad[['study', 'treat1', 'treat2']].to_dict('records')[:3]}")
    same = df[df["treat1"] == df["treat2"]]
    if len(same):
        raise ValueError(f"network meta-analysis: a treatment compared with itself in {same['study'].iloc[0]}")
    return df


def _study_weights(block: pd.DataFrame, treatments: list[str], extra_var: float) -> list[tuple[int, int, float, float]]:
    """(arm a, arm b, TE of a vs b, weight) of one study's comparisons, the multi-arm adjustment
    applied: the pseudoinverse of the doubly centred matrix of comparison variances gives the
    arms' Laplacian, whose off-diagonal entries are minus the weights."""
    arms = sorted(set(block["treat1"]) | set(block["treat2"]), key=treatments.index)
    k = len(arms)
    pairs = {frozenset((r.treat1, r.treat2)) for r in block.itertuples()}
    if len(pairs) != len(block):
        raise ValueError(f"network meta-analysis: study {block['study'].iloc[0]} compares a pair twice")
    if len(block) != k * (k - 1) // 2:
        raise ValueError(f"network meta-analysis: study {block['study'].iloc[0]} has {k} arms but {len(block)} "
                         f"comparisons; a multi-arm study needs all {k * (k - 1) // 2}")
    if k == 2:
        r = block.iloc[0]
        return [(treatments.index(r.treat1), treatments.index(r.treat2), float(r.TE), 1.0 / (r.seTE ** 2 + extra_var))]
    index = {a: i for i, a in enumerate(arms)}
    V = np.zeros((k, k))
    for r in block.itertuples():
        V[index[r.treat1], index[r.treat2]] = V[index[r.treat2], index[r.treat1]] = r.seTE ** 2 + extra_var
    centre = np.eye(k) - np.ones((k, k)) / k
    laplacian = np.linalg.pinv(-0.5 * centre @ V @ centre)
    return [(treatments.index(r.treat1), treatments.index(r.treat2), float(r.TE),
             float(-laplacian[index[r.treat1], index[r.treat2]])) for r in block.itertuples()]


def _fit(df: pd.DataFrame, treatments: list[str], extra_var: float):
    edges = [e for _, block in df.groupby("study", sort=False) for e in _study_weights(block, treatments, extra_var)]
    n, m = len(treatments), len(edges)
    B = np.zeros((m, n))
    y, w = np.empty(m), np.empty(m)
    for e, (a, b, te, weight) in enumerate(edges):
        B[e, a], B[e, b], y[e], w[e] = 1.0, -1.0, te, weight
    W = np.diag(w)
    L = B.T @ W @ B
    Lplus = np.linalg.pinv(L)
    theta = Lplus @ B.T @ W @ y
    theta = theta - theta[0]
    resid = y - B @ theta
    Q = float(resid @ W @ resid)
    return theta, Lplus, Q, B, W


def network_meta_analysis(contrasts: pd.DataFrame, reference: str | None = None,
                          treatments: list[str] | None = None) -> tuple[NetworkFit, NetworkFit]:
    """(common-effect fit, random-effects fit) of the comparisons; treatments in the order given
    (else the reference first, then as met). A disconnected network is an error naming its parts."""
    df = _check(contrasts)
    met = list(dict.fromkeys([*df["treat1"], *df["treat2"]]))
    order = list(treatments) if treatments else met
    if reference is not None:
        order = [reference, *[t for t in order if t != reference]]
    unknown = set(met) - set(order)
    if unknown:
        raise ValueError(f"network meta-analysis: treatment(s) not in the given order: {', '.join(sorted(unknown))}")
    parts = _components(df, order)
    if len(parts) > 1:
        raise ValueError("network meta-analysis: the network is not connected: "
                         + " | ".join(", ".join(p) for p in parts))
    k_per_study = df.groupby("study", sort=False).apply(
        lambda b: len(set(b["treat1"]) | set(b["treat2"])), include_groups=False)
    dof = int((k_per_study - 1).sum() - (len(order) - 1))
    theta, Lplus, Q, B, W = _fit(df, order, 0.0)
    common = NetworkFit(order, theta, Lplus, Q, dof, 0.0, "common")
    tau2 = _tau2_dl(df, order, Q, dof, B, W, Lplus)
    theta_r, Lplus_r, Q_r, _, _ = _fit(df, order, tau2)
    random = NetworkFit(order, theta_r, Lplus_r, Q, dof, tau2, "random")
    return common, random


def _tau2_dl(df, treatments, Q, dof, B, W, Lplus) -> float:
    """Generalised DerSimonian-Laird: (Q - df) / tr((I - H) U W) with H = B L+ B'W the hat
    matrix and U the block-diagonal matrix of how comparisons of one study share its arms
    (B_s B_s' / 2 within a multi-arm study, 1 for a two-arm study)."""
    if dof <= 0:
        return 0.0
    m = B.shape[0]
    H = B @ Lplus @ B.T @ W
    U = np.zeros((m, m))
    start = 0
    for _, block in df.groupby("study", sort=False):
        size = len(block)
        Bs = B[start:start + size]
        U[start:start + size, start:start + size] = Bs @ Bs.T / 2.0 if size > 1 else 1.0
        start += size
    denominator = float(np.trace((np.eye(m) - H) @ U @ W))
    return max(0.0, (Q - dof) / denominator) if denominator > 0 else 0.0


def _components(df: pd.DataFrame, treatments: list[str]) -> list[list[str]]:
    parent = {t: t for t in treatments}

    def root(t):
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for r in df.itertuples():
        parent[root(r.treat1)] = root(r.treat2)
    groups: dict[str, list[str]] = {}
    for t in treatments:
        groups.setdefault(root(t), []).append(t)
    return list(groups.values())


def bucher(d_ac: float, se_ac: float, d_bc: float, se_bc: float) -> tuple[float, float]:
    """Anchored indirect comparison of A vs B through a common comparator C (Bucher 1997):
    d_AB = d_AC - d_BC, with the variances added."""
    return d_ac - d_bc, float(np.sqrt(se_ac ** 2 + se_bc ** 2))
