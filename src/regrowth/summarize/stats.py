"""Interval estimates used in the tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

# scipy.special (not scipy.stats: the same quantiles at a fifth of the import time) is imported
# by the functions that use it: the summaries that compute no interval (demographics,
# disposition, safety, regrowth bands) start ~0.1-0.2 s sooner.


def clopper_pearson(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval for x successes in n trials, as proportions."""
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= x <= n:
        raise ValueError(f"clopper_pearson: x={x} outside 0..n={n}")
    a = (1 - level) / 2
    from scipy.special import betaincinv

    low = 0.0 if x == 0 else float(betaincinv(x, n - x + 1, a))
    high = 1.0 if x == n else float(betaincinv(x + 1, n - x, 1 - a))
    return low, high


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """Product-limit estimate at each distinct time: time, n_risk, n_event, n_censor, surv, se_loglog.

    se is Greenwood's variance on the log(-log S) scale, for log-log confidence limits.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    order = np.argsort(time, kind="stable")
    time, event = time[order], event[order]
    uniq = np.unique(time)
    rows, surv, greenwood = [], 1.0, 0.0
    for t in uniq:
        at = time == t
        n_risk = int((time >= t).sum())
        d = int((at & event).sum())
        c = int((at & ~event).sum())
        if d:
            surv *= 1 - d / n_risk
            greenwood += d / (n_risk * (n_risk - d)) if n_risk > d else np.inf
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(greenwood) / abs(np.log(surv)) if 0 < surv < 1 else np.nan
        rows.append((t, n_risk, d, c, surv, se))
    return pd.DataFrame(rows, columns=["time", "n_risk", "n_event", "n_censor", "surv", "se_loglog"])


# R's tolerance for "the curve equals the quantile exactly" (sqrt(.Machine$double.eps), as in
# survival's quantile.survfit): S as a product of (1 - d/n) may be 0.49999999999999994 where it is 0.5.
KM_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def km_quantile_time(time, curve, p: float = 0.5, tol: float = KM_TOLERANCE) -> float:
    """Where a horizontal line at `p` meets the step curve `curve` (one value per time, right-
    continuous, NaN where undefined), by R survival's quantile.survfit (findq) convention:

    - the first time at which the curve is at or below p (within `tol`);
    - if the curve is at p there (within `tol`), it is flat at p until it next drops: the midpoint
      of that time and the first time the curve is below p - tol (SAS LIFETEST's and the
      uncensored sample median's midpoint rule: times 1..10, all events, give 5.5);
    - a flat at p to the end of the curve: the midpoint of its start and the curve's last time
      (R's quantile.survfit; SAS's min{t_j : S(t_j) < p} has no value there);
    - never at or below p: NaN ('not reached').
    """
    time = np.asarray(time, dtype=float)
    curve = np.asarray(curve, dtype=float)
    if not len(time):
        return float("nan")
    defined = ~np.isnan(curve)
    t, y = time[defined], curve[defined]
    reached = np.flatnonzero(y <= p + tol)
    if not len(reached):
        return float("nan")
    first = reached[0]
    if y[first] <= p - tol:
        return float(t[first])  # crosses p without resting on it
    below = np.flatnonzero(y <= p - tol)
    below = below[below > first]
    if len(below):
        return float((t[first] + t[below[0]]) / 2)
    if not np.isnan(curve[-1]) and abs(curve[-1] - p) < tol:
        return float((t[first] + time[-1]) / 2)  # flat at p to the end of the curve
    return float("nan")


def km_median(time, event, level: float = 0.95) -> tuple[float, float, float]:
    """Median survival time and its Brookmeyer-Crowley CI with log-log limits (SAS LIFETEST's
    default CONFTYPE=LOGLOG), each found by km_quantile_time, the convention of R survival's
    quantile.survfit: the median where the curve S meets 0.5, the lower limit where the lower
    confidence band does, the upper limit where the upper band does (NaN if never: 'not
    reached'). Where S rests at exactly 0.5 (within KM_TOLERANCE), the midpoint of that flat.

    The bands are undefined (NaN) where S is 0, as in R (log(-log 0)): a curve that drops from
    above 0.5 straight to 0 has no limit from that point. Where S is 1 they are 1.
    """
    km = kaplan_meier(time, event)
    if km.empty:
        return (np.nan,) * 3
    from scipy.special import ndtri

    z = ndtri(1 - (1 - level) / 2)
    s = km["surv"].to_numpy()
    se = km["se_loglog"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        loglog = np.log(-np.log(s))
        lower = np.exp(-np.exp(loglog + z * se))
        upper = np.exp(-np.exp(loglog - z * se))
    lower = np.where(s >= 1, 1.0, np.where(s <= 0, np.nan, lower))
    upper = np.where(s >= 1, 1.0, np.where(s <= 0, np.nan, upper))
    t = km["time"].to_numpy()
    return km_quantile_time(t, s), km_quantile_time(t, lower), km_quantile_time(t, upper)


def wilson(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for one proportion."""
    if n <= 0:
        return float("nan"), float("nan")
    from scipy.special import ndtri

    z = ndtri(1 - (1 - level) / 2)
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(centre - half), float(centre + half)


def newcombe_diff(x1: int, n1: int, x2: int, n2: int, level: float = 0.95) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval (1998, method 10)."""
    if n1 <= 0 or n2 <= 0:
        return (float("nan"),) * 3
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, level)
    l2, u2 = wilson(x2, n2, level)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return float(d), float(low), float(high)
