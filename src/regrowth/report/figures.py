"""Static SVG figures, embedded inline. Deterministic: fixed hash salt, no dates in metadata."""

from __future__ import annotations

import io
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from regrowth.summarize.figures_data import NON_RESPONDER  # noqa: E402


plt.rcParams.update({"svg.hashsalt": "regrowth", "svg.fonttype": "none", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False})
PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#577590"]
SUBTYPE_COLOURS = {"PATCHY AA": "#2a9d8f", "OPHIASIS": "#e9a03b", "ALOPECIA TOTALIS": "#d1495b",
                   "ALOPECIA UNIVERSALIS": "#6a4c93"}
SUBTYPE_LABELS = {"PATCHY AA": "Patchy AA", "OPHIASIS": "Ophiasis", "ALOPECIA TOTALIS": "Alopecia totalis",
                  "ALOPECIA UNIVERSALIS": "Alopecia universalis"}


WATERFALL_MAX_BARS = 300  # per panel; beyond this, bars are bins of subjects
WATERFALL_FIGURE_BARS = 1500  # for all panels together: many arms get fewer bars each
WATERFALL_MAX_PANELS = 8


_JOBS: dict[str, tuple] = {}  # what render() hands to its forked workers (inherited, not pickled)


def render(jobs: dict[str, tuple], workers: int = 1) -> dict[str, str]:
    """{name: SVG} for jobs {name: (figure function, *arguments)}, in the jobs' order. With
    workers > 1 on Linux figures render in forked processes that inherit the data (macOS
    system libraries are not safe to fork): rendering is most of the report's time. Each
    figure's bytes are the same either way."""
    if workers <= 1 or len(jobs) <= 1 or not sys.platform.startswith("linux"):
        return {name: fn(*args) for name, (fn, *args) in jobs.items()}
    global _JOBS
    _JOBS = jobs
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            return dict(zip(jobs, pool.map(_render_job, list(jobs))))
    finally:
        _JOBS = {}


def _render_job(name: str) -> str:
    fn, *args = _JOBS[name]
    return fn(*args)


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML


def salt_over_time(series: list[tuple[str, pd.DataFrame, float | None]]) -> str:
    """Mean SALT by analysis visit with 95 % CI bands, one line per trial arm (observed values):
    series of (label, the arm's overall salt_by_visit rows, the arm's eot_week)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    eot_weeks: set[float] = set()
    for k, (label, visits, eot) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        week, mean, low, high = (visits[c].to_numpy(dtype=float) for c in ("week", "mean", "ci_low", "ci_high"))
        ax.plot(week, mean, marker="o", ms=3, color=colour, label=label)
        ax.fill_between(week, low, high, color=colour, alpha=0.15, lw=0)
        if eot is not None and not np.isnan(eot):  # after this the arm is off drug
            ax.axvline(eot, color=colour, lw=1, ls=":")
            eot_weeks.add(round(eot, 1))
    for eot in sorted(eot_weeks):  # one label per week, however many arms end there
        ax.text(eot, 101, "EOT", color="#444", fontsize=7, ha="center", va="bottom")
    ax.set_xlabel("Week (dotted lines: end of treatment of the arm of that colour)")
    ax.set_ylabel("Mean SALT (% scalp hair loss)")
    ax.set_ylim(0, 100)
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig)


def _bars(best_change: pd.DataFrame) -> pd.DataFrame:
    """An arm's best_change rows (already in waterfall order) as waterfall_bins reads them."""
    return best_change[["best_pchg", "subtype"]].rename(columns={"best_pchg": "PCHG", "subtype": "AATYPE"})


def waterfall(series: list[tuple[str, pd.DataFrame]]) -> str:
    """Best (most negative) percent change from baseline per subject, coloured by subtype; one
    panel per arm (series of label and the arm's best_change rows). Beyond WATERFALL_MAX_PANELS
    arms, panels would be unreadable slivers: one axis then shows each arm's sorted best changes
    as a curve over the arm's subjects."""
    if len(series) > WATERFALL_MAX_PANELS:
        return _waterfall_curves(series)
    fig, axes = plt.subplots(1, max(len(series), 1), figsize=(7.5, 3.2), sharey=True, squeeze=False)
    per_panel = min(WATERFALL_MAX_BARS, max(20, WATERFALL_FIGURE_BARS // max(len(series), 1)))
    for ax, (label, best_change) in zip(axes[0], series):
        best, per_bar = waterfall_bins(_bars(best_change), per_panel)
        colours = [SUBTYPE_COLOURS.get(t, "#888888") for t in best["AATYPE"]]
        ax.bar(np.arange(len(best)), best["PCHG"].to_numpy(dtype=float), color=colours, width=0.85 if per_bar == 1 else 1.0)
        ax.axhline(-50, color="#444", lw=0.8, ls="--")
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_xlabel("Subjects" if per_bar == 1 else f"Subjects, {per_bar} per bar (median)")
    axes[0][0].set_ylabel("Best % change in SALT")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in SUBTYPE_COLOURS.values()]
    fig.legend(handles, [SUBTYPE_LABELS[s] for s in SUBTYPE_COLOURS], loc="lower center", ncol=4, frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, -0.08))
    return _svg(fig)


def _waterfall_curves(series: list[tuple[str, pd.DataFrame]]) -> str:
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for k, (label, best_change) in enumerate(series):
        best = best_change["best_pchg"].to_numpy(dtype=float)
        if len(best):
            x = 100 * (np.arange(len(best)) + 0.5) / len(best)
            ax.plot(x, best, color=PALETTE[k % len(PALETTE)], lw=1, label=label)
    ax.axhline(-50, color="#444", lw=0.8, ls="--")
    ax.set_xlabel("Subjects of the arm, sorted by best change (%)")
    ax.set_ylabel("Best % change in SALT")
    ax.legend(frameon=False, fontsize=6, ncol=3, loc="lower left")
    return _svg(fig)


def waterfall_bins(best: pd.DataFrame, max_bars: int = WATERFALL_MAX_BARS) -> tuple[pd.DataFrame, int]:
    """One bar per subject up to max_bars; beyond, consecutive subjects (already sorted) share a
    bar: its median change and most frequent subtype, so the figure stays small at any size."""
    if len(best) <= max_bars:
        return best, 1
    per_bar = -(-len(best) // max_bars)
    group = pd.Series(np.arange(len(best)) // per_bar, index=best.index)
    binned = best.groupby(group, sort=True).agg(PCHG=("PCHG", "median"))
    counts = pd.crosstab(group, best["AATYPE"])  # most frequent subtype per bar (ties: first by name)
    binned["AATYPE"] = counts.idxmax(axis=1).reindex(binned.index) if counts.shape[1] else None
    return binned, per_bar


def km_plot(series: list[tuple[str, pd.DataFrame]], xlabel: str) -> str:
    """Kaplan-Meier curves of time without relapse, with censor marks and numbers at risk
    (series of label and the arm's km_curves rows)."""
    return _kaplan_meier_figure(series, xlabel, "Proportion without relapse", cumulative=False)


def salt_over_time_by_subtype(series: list[tuple[str, pd.DataFrame]]) -> str:
    """Mean SALT by week with 95 % bands, one panel per alopecia subtype, a line per arm (series
    of label and the arm's salt_by_visit rows)."""
    subtypes = [s for s in SUBTYPE_COLOURS if any((v["subgroup"] == s).any() for _, v in series)]
    if not subtypes:
        return ""
    fig, axes = plt.subplots(1, len(subtypes), figsize=(7.5, 2.8), sharey=True, squeeze=False)
    for ax, subtype in zip(axes[0], subtypes):
        for k, (label, visits) in enumerate(series):
            g = visits[visits["subgroup"] == subtype]
            if g.empty:
                continue
            colour = PALETTE[k % len(PALETTE)]
            week, mean, low, high = (g[c].to_numpy(dtype=float) for c in ("week", "mean", "ci_low", "ci_high"))
            ax.plot(week, mean, color=colour, lw=1.2, label=label)
            ax.fill_between(week, low, high, color=colour, alpha=0.12, lw=0)
        ax.set_title(SUBTYPE_LABELS[subtype], fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_xlabel("Week", fontsize=8)
    axes[0][0].set_ylabel("Mean SALT")
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=7, bbox_to_anchor=(0.5, -0.18))
    return _svg(fig)


def km_cumulative(series: list[tuple[str, pd.DataFrame]], xlabel: str, ylabel: str) -> str:
    """The cumulative proportion with the event (1 - surv: 1 - Kaplan-Meier with censor marks, or
    under non-responder imputation the proportion of all subjects) and numbers at risk."""
    return _kaplan_meier_figure(series, xlabel, ylabel, cumulative=True)


def _kaplan_meier_figure(series, xlabel: str, ylabel: str, *, cumulative: bool) -> str:
    """The step curve from (0, 1) through each time with an event or a censoring, a mark per
    time with a censoring, and the numbers at risk at the axis ticks (the rows' axis_tick)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ticks = np.array([0.0])
    risk_rows = []
    for k, (label, curve) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        steps = curve[(curve["n_event"] + curve["n_censor"]) > 0]
        t = np.concatenate([[0], steps["weeks"].to_numpy(dtype=float)])
        y = np.concatenate([[1], steps["surv"].to_numpy(dtype=float)])
        # under non-responder imputation an end of follow-up is no censoring: nothing to mark
        marked = not (curve["method"] == NON_RESPONDER).any() if "method" in curve.columns else True
        cens = curve[(curve["n_censor"] > 0) & marked]
        cens_y = cens["surv"].to_numpy(dtype=float)
        if cumulative:
            y, cens_y = 1 - y, 1 - cens_y
        ax.step(t, y, where="post", color=colour, label=f"{label} (n={int(curve['n_subjects'].iloc[0])})")
        ax.plot(cens["weeks"].to_numpy(dtype=float), cens_y, "|", color=colour, ms=8)
        axis = curve[curve["axis_tick"].astype(bool)]
        ticks = axis["weeks"].to_numpy(dtype=float)
        risk_rows.append((label, [int(n) for n in axis["n_at_risk"]], colour))
    ax.set_xticks(ticks)
    ax.set_xlim(0, ticks[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside the curves
    for r, (label, counts, colour) in enumerate(risk_rows):
        y = -0.28 - 0.08 * r
        ax.text(-0.02, y, label, transform=ax.transAxes, ha="right", fontsize=7, color=colour)  # whole: the figure grows left
        for x, c in zip(ticks, counts):
            ax.text(x / ticks[-1], y, str(c), transform=ax.transAxes, ha="center", fontsize=7)
    if risk_rows:
        ax.text(-0.02, -0.20, "At risk", transform=ax.transAxes, ha="right", fontsize=7, weight="bold")
    return _svg(fig)


def forest(rows: list[dict]) -> str:
    """Response rate with 95 % CI per row: label, pct, low, high, group ('processed'/'published')."""
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(rows) + 0.9))
    for y, r in enumerate(reversed(rows)):
        colour = "#1b6ca8" if r["group"] == "processed" else "#888888"
        if r["low"] is not None and not np.isnan(r["low"]):
            ax.plot([r["low"], r["high"]], [y, y], color=colour, lw=1.2)
        ax.plot([r["pct"]], [y], "s" if r["group"] == "processed" else "D", color=colour, ms=5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["label"] for r in reversed(rows)], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Responders, % (95% CI)")
    ax.grid(axis="x", color="#eeeeee")
    return _svg(fig)


def nma_forest(rows: list[dict], measure: str) -> str:
    """Each treatment against the reference from the network meta-analysis: estimate and 95 % CI
    (log axis for a ratio), rows ordered as given: label, estimate, low, high."""
    ratio = measure != "RD"
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(rows) + 1.0))
    for y, r in enumerate(reversed(rows)):
        ax.plot([r["low"], r["high"]], [y, y], color="#1b6ca8", lw=1.4)
        ax.plot([r["estimate"]], [y], "s", color="#1b6ca8", ms=5)
    ax.axvline(1.0 if ratio else 0.0, color="#555555", lw=0.8, ls="--")
    if ratio:
        ax.set_xscale("log")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["label"] for r in reversed(rows)], fontsize=8)
    name = {"OR": "Odds ratio", "RR": "Risk ratio", "RD": "Risk difference, % points"}[measure]
    ax.set_xlabel(f"{name} vs {rows[0]['reference']} (95% CI){', log scale' if ratio else ''}")
    ax.grid(axis="x", color="#eeeeee")
    return _svg(fig)


def ae_incidence(table: pd.DataFrame, top: int = 10) -> str:
    """Subjects with each of the most frequent TEAE preferred terms, % of each arm."""
    pts = table[table["pt"] != ""]
    if pts.empty:
        return ""
    arms = list(dict.fromkeys(pts["arm_label"]))
    order = pts.groupby("pt")["pct"].max().sort_values(ascending=False, kind="stable").head(top).index[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(order) * max(1, len(arms) / 2) + 1.0))
    height = 0.8 / len(arms)
    for k, arm in enumerate(arms):
        vals = pts[pts["arm_label"] == arm].groupby("pt")["pct"].max().reindex(order).fillna(0)
        ax.barh(np.arange(len(order)) + k * height, vals, height=height, color=PALETTE[k % len(PALETTE)], label=arm)
    ax.set_yticks(np.arange(len(order)) + 0.4 - height / 2)
    ax.set_yticklabels(order, fontsize=7)
    ax.set_xlabel("Subjects with the event, % of arm")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return _svg(fig)
