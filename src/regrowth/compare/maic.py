"""Matching-adjusted indirect comparison by the method of moments (Signorovitch 2010; NICE DSU
TSD 18, Phillippo et al. 2016, appendix D).

A trial's patients (IPD) are weighted w_i = exp(x_i' a) so that their weighted covariate means
equal a comparator's published means: with the covariates centred on the target
(x_i = X_i - target), a minimises sum_i exp(x_i' a), a convex function whose gradient is the
weighted sum of centred covariates (zero exactly at balance). Matching a standard deviation
too means matching the mean of X^2 to sd^2 + mean^2 (add that column). The effective sample
size is (sum w)^2 / sum w^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

BALANCE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Weights:
    weights: np.ndarray  # w_i = exp(x_i' a), not rescaled
    alpha: np.ndarray

    @property
    def ess(self) -> float:
        return float(self.weights.sum() ** 2 / (self.weights ** 2).sum())

    @property
    def rescaled(self) -> np.ndarray:
        """Weights summing to the number of patients (TSD 18's wt.rs), for their distribution."""
        return self.weights / self.weights.sum() * len(self.weights)


class CannotMatch(ValueError):
    """The target cannot be reached by reweighting (it lies outside the patients' covariate range)."""


def maic_weights(covariates: np.ndarray, target: np.ndarray, names: list[str] | None = None) -> Weights:
    """Method-of-moments weights making the weighted means of `covariates` (n x p) equal `target`
    (p). Raises CannotMatch naming the covariate whose target no weighting reaches."""
    X = np.asarray(covariates, dtype=float)
    target = np.asarray(target, dtype=float)
    if X.ndim != 2 or X.shape[1] != target.shape[0]:
        raise ValueError(f"MAIC: {X.shape} covariates for {target.shape[0]} target values")
    if np.isnan(X).any():
        raise ValueError("MAIC: patients with a missing covariate must be left out (or the covariate dropped) first")
    names = names or [f"covariate {j + 1}" for j in range(X.shape[1])]
    solved = _solve(X[None], target)
    if not solved.reachable[0]:  # a target outside the range: the minimum does not exist
        j = int(np.flatnonzero(~solved.inside[0])[0])
        raise CannotMatch(f"MAIC: the target of {names[j]} ({target[j]:g}) is not strictly inside the patients' "
                          f"range ({X[:, j].min():g} to {X[:, j].max():g}): no weighting reaches it")
    if not solved.balanced[0]:
        worst = int(np.argmax(np.abs(solved.balance[0])))
        raise CannotMatch(f"MAIC: the weights do not balance {names[worst]} (off by {solved.balance[0, worst]:.3g})")
    return Weights(solved.weights[0], solved.alpha[0])


@dataclass(frozen=True)
class _Solved:
    """The weights of B samples of patients at once (each row one sample)."""
    inside: np.ndarray  # (B, p): the target strictly inside the sample's range of the covariate
    weights: np.ndarray  # (B, n)
    alpha: np.ndarray  # (B, p)
    balance: np.ndarray  # (B, p): weighted mean minus target
    balanced: np.ndarray  # (B,)

    @property
    def reachable(self) -> np.ndarray:
        return self.inside.all(axis=1)


def _solve(X: np.ndarray, target: np.ndarray) -> _Solved:
    """Weights for each of B samples X (B x n x p) to one target: the bootstrap solves a
    thousand at once, in one set of array operations instead of a thousand small ones."""
    centred = X - target
    inside = (centred.min(axis=1) < 0) & (centred.max(axis=1) > 0)
    # solved on standardised covariates (an age squared next to a 0/1 flag would make the
    # Newton steps ill-conditioned); the weights are the same, alpha is scaled back
    scale = centred.std(axis=1)
    scale[scale == 0] = 1.0
    Z = centred / scale[:, None, :]
    reachable = inside.all(axis=1)
    b = np.zeros(scale.shape)
    if reachable.any():
        b[reachable] = _newton(Z[reachable])
    weights = np.exp(np.einsum("bnk,bk->bn", Z, b))
    balance = np.einsum("bn,bnk->bk", weights, centred) / weights.sum(axis=1)[:, None]
    balanced = reachable & np.all(np.abs(balance) <= BALANCE_TOLERANCE * np.maximum(1.0, np.abs(target)), axis=1)
    return _Solved(inside, weights, b / scale, balance, balanced)


def _newton(Z: np.ndarray, iterations: int = 100) -> np.ndarray:
    """For each sample of Z (B x n x p), the minimum of sum exp(Z b), a convex function, by
    Newton's method with backtracking; a sample stops when it is balanced, converged or stuck."""
    def objective(Zs, bs):
        return np.exp(np.einsum("bnk,bk->bn", Zs, bs)).sum(axis=1)

    b = np.zeros((Z.shape[0], Z.shape[2]))
    value = objective(Z, b)
    active = np.arange(Z.shape[0])
    for _ in range(iterations):
        Za, ba = Z[active], b[active]
        w = np.exp(np.einsum("bnk,bk->bn", Za, ba))
        gradient = np.einsum("bnk,bn->bk", Za, w)
        going = np.max(np.abs(gradient), axis=1) > 1e-14 * w.sum(axis=1)  # else balanced: centred means 0
        active, Za, ba, w, gradient = active[going], Za[going], ba[going], w[going], gradient[going]
        if not len(active):
            break
        hessian = np.einsum("bnk,bn,bnj->bkj", Za, w, Za)
        step = _solve_steps(hessian, gradient)
        t = np.ones(len(active))
        old = value[active]
        candidate = ba - step
        new = objective(Za, candidate)
        pending = ~(np.isfinite(new) & (new <= old))
        while pending.any():
            t[pending] /= 2
            pending &= t > 1e-6  # no descent this close: the target is at the edge of what weights reach
            if not pending.any():
                break
            candidate[pending] = ba[pending] - t[pending, None] * step[pending]
            new[pending] = objective(Za[pending], candidate[pending])
            pending[pending] = ~(np.isfinite(new[pending]) & (new[pending] <= old[pending]))
        converged = (np.max(np.abs(t[:, None] * step), axis=1) < 1e-13) | (old - new <= 1e-15 * old)
        b[active], value[active] = candidate, new
        active = active[~converged]  # converged, or stuck: a target on the edge is not reached
        if not len(active):
            break
    return b


def _solve_steps(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(hessian, gradient[..., None])[..., 0]
    except np.linalg.LinAlgError:  # a singular Hessian in the batch: least squares for that one
        steps = np.empty_like(gradient)
        for i, (h, g) in enumerate(zip(hessian, gradient)):
            try:
                steps[i] = np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                steps[i] = np.linalg.lstsq(h, g, rcond=None)[0]
        return steps


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.average(values, weights=weights))


def weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    mean = weighted_mean(values, weights)
    return float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))


@dataclass(frozen=True)
class UnanchoredResult:
    rate: float  # the weighted responder rate of the trial
    rate_se: float  # its robust (sandwich) standard error
    log_or: float  # trial vs comparator, log odds ratio
    log_or_se: float
    risk_difference: float
    risk_difference_se: float
    ess: float

    def ci(self, level: float = 0.95, scale: str = "log_or") -> tuple[float, float]:
        z = ndtri(0.5 + level / 2)
        est, se = (self.log_or, self.log_or_se) if scale == "log_or" else (self.risk_difference, self.risk_difference_se)
        return est - z * se, est + z * se


VARIANCES = ("sandwich", "model")


def unanchored_binary(responded: np.ndarray, weights: Weights, comparator_responders: float,
                      comparator_n: float, variance: str = "sandwich") -> UnanchoredResult:
    """The weighted responder rate against a comparator's published rate (no common arm: this
    assumes every prognostic factor and effect modifier is among the matched covariates).

    variance "sandwich" (the default; TSD 18): the robust variance of the weighted mean,
    sum w^2 (y - p)^2 / (sum w)^2, the logit's by the delta method. "model": a weighted
    logistic regression's model-based variance, 1 / (sum w p (1 - p)) on the logit, which
    treats the weights as frequencies (as R's glm with weights does; too narrow, kept to
    reproduce published examples). The comparator's variance is binomial either way."""
    if variance not in VARIANCES:
        raise ValueError(f"MAIC variance {variance!r}: expected one of {', '.join(VARIANCES)}")
    y = np.asarray(responded, dtype=float)
    w = weights.weights
    p = weighted_mean(y, w)
    if variance == "sandwich":
        var_p = float((w ** 2 * (y - p) ** 2).sum() / w.sum() ** 2)
    else:
        var_p = float(p * (1 - p) / w.sum())
    if not 0 < p < 1:
        raise ValueError(f"MAIC: weighted responder rate {p:g}: an odds ratio needs responders and non-responders")
    x_c, n_c = float(comparator_responders), float(comparator_n)
    if not 0 < x_c < n_c:
        raise ValueError("MAIC: the comparator needs responders and non-responders for an odds ratio")
    p_c = x_c / n_c
    log_or = float(np.log(p / (1 - p)) - np.log(p_c / (1 - p_c)))
    se_log_or = float(np.sqrt(var_p / (p * (1 - p)) ** 2 + 1 / x_c + 1 / (n_c - x_c)))
    rd_se = float(np.sqrt(var_p + p_c * (1 - p_c) / n_c))
    return UnanchoredResult(p, float(np.sqrt(var_p)), log_or, se_log_or, p - p_c, rd_se, weights.ess)


@dataclass(frozen=True)
class AnchoredResult:
    log_or: float  # trial's active arm vs the comparator's active arm, through the common control
    log_or_se: float
    trial_log_or: float  # the weighted trial: active vs control
    comparator_log_or: float  # the comparator trial, as published: active vs control
    ess: float

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        z = ndtri(0.5 + level / 2)
        return self.log_or - z * self.log_or_se, self.log_or + z * self.log_or_se


def _weighted_logit(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """logit of the weighted rate and its robust (sandwich) variance by the delta method."""
    p = weighted_mean(y, w)
    if not 0 < p < 1:
        raise ValueError(f"MAIC: weighted responder rate {p:g} in an arm: an odds ratio needs responders and "
                         "non-responders")
    var_p = float((w ** 2 * (y - p) ** 2).sum() / w.sum() ** 2)
    return float(np.log(p / (1 - p))), var_p / (p * (1 - p)) ** 2


def anchored_binary(responded: np.ndarray, active: np.ndarray, weights: Weights, comparator: tuple[float, float],
                    comparator_control: tuple[float, float]) -> AnchoredResult:
    """Anchored MAIC (TSD 18): the weighted trial's log odds ratio of its active arm vs its control
    minus the comparator trial's published one vs the same control. Both trials' control arms
    anchor the comparison; only effect modifiers need be matched."""
    y = np.asarray(responded, dtype=float)
    active = np.asarray(active, dtype=bool)
    if active.all() or not active.any():
        raise ValueError("MAIC: an anchored comparison needs patients of the trial's active and control arms")
    w = weights.weights
    la, va = _weighted_logit(y[active], w[active])
    lc, vc = _weighted_logit(y[~active], w[~active])
    (xb, nb), (xc, nc) = comparator, comparator_control
    if not (0 < xb < nb and 0 < xc < nc):
        raise ValueError("MAIC: the comparator's arms need responders and non-responders for an odds ratio")
    comparator_log_or = float(np.log(xb / (nb - xb)) - np.log(xc / (nc - xc)))
    comparator_var = 1 / xb + 1 / (nb - xb) + 1 / xc + 1 / (nc - xc)
    trial_log_or = la - lc
    return AnchoredResult(trial_log_or - comparator_log_or, float(np.sqrt(va + vc + comparator_var)), trial_log_or,
                          comparator_log_or, weights.ess)


def bootstrap_unanchored(covariates: np.ndarray, target: np.ndarray, responded: np.ndarray,
                         comparator_responders: float, comparator_n: float, *, resamples: int = 1000,
                         seed: int = 20261201, level: float = 0.95) -> tuple[float, float, int]:
    """Percentile interval of the unanchored log odds ratio with the weights re-estimated in each
    resample of the patients (and the comparator's responders drawn binomially): unlike the
    sandwich, it counts the uncertainty of the weights. Seeded, so the same inputs give the
    same interval. Returns (low, high, resamples used); a resample where no weighting reaches
    the target, or the weighted rate is 0 or 1, is not used."""
    rng = np.random.default_rng(seed)
    X, y = np.asarray(covariates, dtype=float), np.asarray(responded, dtype=float)
    n, p_c = len(y), comparator_responders / comparator_n
    picks, comparator_draws = [], []
    for _ in range(resamples):  # drawn in this order: one resample's patients, then its comparator
        picks.append(rng.integers(0, n, n))
        comparator_draws.append(rng.binomial(int(comparator_n), p_c))
    picks, x_c = np.array(picks).reshape(resamples, n), np.array(comparator_draws, dtype=float)
    draws = []
    chunk = max(1, BOOTSTRAP_CELLS // max(1, n * X.shape[1]))  # bounded memory for a large trial
    for start in range(0, resamples, chunk):
        pick, xc = picks[start:start + chunk], x_c[start:start + chunk]
        solved = _solve(X[pick], target)
        w = solved.weights
        p = (w * y[pick]).sum(axis=1) / w.sum(axis=1)
        used = solved.balanced & (0 < p) & (p < 1) & (0 < xc) & (xc < comparator_n)
        draws.extend(np.log(p[used] / (1 - p[used])) - np.log(xc[used] / (comparator_n - xc[used])))
    if len(draws) < resamples / 2:
        return float("nan"), float("nan"), len(draws)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high), len(draws)


BOOTSTRAP_CELLS = 4_000_000  # resampled covariate values solved at once (32 MB of float64)
