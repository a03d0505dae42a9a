"""Static SVG figures, embedded inline. Deterministic: fixed hash salt, no dates in metadata."""

from __future__ import annotations

import io
import multiprocessing
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from regrowth.summarize.figures_data import NON_RESPONDER  # noqa: E402


# Every figure is FIG_WIDTH wide with its labels inside (constrained layout), so all are drawn at
# one scale: 8 pt text is 10.7 px on screen and 6 pt on A4 (tests/svg_layout.py checks both).
FIG_WIDTH = 9.0
SMALL = 8  # the smallest text: ticks, legends, numbers at risk
plt.rcParams.update({"svg.hashsalt": "regrowth", "svg.fonttype": "none", "font.size": 9,
                     "xtick.labelsize": SMALL, "ytick.labelsize": SMALL, "legend.fontsize": SMALL,
                     "legend.frameon": False, "axes.titlesize": 9,
                     "axes.spines.top": False, "axes.spines.right": False})
PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#577590"]
LINE_STYLES = ["-", "--", "-."]  # beyond six arms the colours repeat: the line style tells them apart


def line_style(k: int) -> str:
    """The k-th arm's line style: solid for the first six, then dashed, then dash-dotted."""
    return LINE_STYLES[(k // len(PALETTE)) % len(LINE_STYLES)]
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


def _figure(height: float, nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure FIG_WIDTH wide whose layout keeps every label inside it (constrained)."""
    return plt.subplots(nrows, ncols, figsize=(FIG_WIDTH, height), layout="constrained", squeeze=False, **kwargs)


def _legend_above(fig, handles=None, labels=None, ncol: int = 2):
    """The legend outside the data: above the plotting areas, in reading order."""
    if handles is None:
        handles, labels = _unique_handles(fig)
    if handles:
        ncol = min(ncol, len(handles))
        order = _row_major(len(handles), ncol)  # matplotlib fills a legend column by column
        fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside upper center", ncol=ncol)


def _row_major(n: int, ncol: int) -> list[int]:
    """The order to hand matplotlib n legend entries in ncol columns so that they read left to
    right, then top to bottom, in their own order."""
    rows = -(-n // ncol)
    return [r * ncol + c for c in range(ncol) for r in range(rows) if r * ncol + c < n]


def _unique_handles(fig):
    handles, labels = [], []
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    return handles, labels


def _mark_eot(ax, eots: list[tuple[float | None, str]]):
    """A dotted line at each arm's end of treatment in its colour, one "EOT" label per week."""
    weeks = set()
    for eot, colour in eots:
        if eot is not None and not np.isnan(eot):
            ax.axvline(eot, color=colour, lw=1, ls=":")
            weeks.add(round(float(eot), 1))
    for week in sorted(weeks):
        ax.annotate("EOT", (week, 1), xycoords=("data", "axes fraction"), xytext=(0, 2), textcoords="offset points",
                    color="#444", fontsize=SMALL, ha="center", va="bottom")


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML


def salt_over_time(series: list[tuple[str, pd.DataFrame, float | None]]) -> str:
    """Mean SALT by analysis visit with 95 % CI bands, one line per trial arm (observed values):
    series of (label, the arm's overall salt_by_visit rows, the arm's eot_week)."""
    fig, axes = _figure(4.2)
    ax = axes[0][0]
    for k, (label, visits, _eot) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        week, mean, low, high = (visits[c].to_numpy(dtype=float) for c in ("week", "mean", "ci_low", "ci_high"))
        ax.plot(week, mean, marker="o", ms=3, color=colour, ls=line_style(k), label=label)
        ax.fill_between(week, low, high, color=colour, alpha=0.15, lw=0)
    _mark_eot(ax, [(eot, PALETTE[k % len(PALETTE)]) for k, (_, _, eot) in enumerate(series)])
    ax.set_xlabel("Week (dotted lines: end of treatment of the arm of that colour)")
    ax.set_ylabel("Mean SALT (% scalp hair loss)")
    ax.set_ylim(0, 100)
    _legend_above(fig)
    return _svg(fig)


def _bars(best_change: pd.DataFrame) -> pd.DataFrame:
    """An arm's best_change rows (already in waterfall order) as waterfall_bins reads them."""
    return best_change[["best_pchg", "subtype"]].rename(columns={"best_pchg": "PCHG", "subtype": "AATYPE"})


NOT_RECORDED = "Subtype not recorded"
NOT_RECORDED_COLOUR = "#999999"
WATERFALL_COLUMNS = 3  # panels per row: wider panels keep each arm's title on its own


def _wrapped(label: str, width: int = 26) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def waterfall(series: list[tuple[str, pd.DataFrame]]) -> str:
    """Best (most negative) percent change from baseline per subject, coloured by subtype; one
    panel per arm (series of label and the arm's best_change rows), up to WATERFALL_COLUMNS a row.
    The legend lists the subtypes the bars show. Beyond WATERFALL_MAX_PANELS arms, panels would
    be unreadable slivers: one axis then shows each arm's sorted best changes as a curve over the
    arm's subjects."""
    if len(series) > WATERFALL_MAX_PANELS:
        return _waterfall_curves(series)
    n = max(len(series), 1)
    ncols = min(n, WATERFALL_COLUMNS)
    nrows = -(-n // ncols)
    fig, axes = _figure(0.6 + 2.6 * nrows, nrows, ncols, sharey=True)
    per_panel = min(WATERFALL_MAX_BARS, max(20, WATERFALL_FIGURE_BARS // n))
    shown: set[str] = set()
    for k, ax in enumerate(axes.flat):
        if k >= len(series):
            ax.set_axis_off()
            continue
        label, best_change = series[k]
        best, per_bar = waterfall_bins(_bars(best_change), per_panel)
        subtypes = [t if t in SUBTYPE_COLOURS else NOT_RECORDED for t in best["AATYPE"]]
        shown.update(subtypes)
        colours = [SUBTYPE_COLOURS.get(t, NOT_RECORDED_COLOUR) for t in subtypes]
        _bars_collection(ax, best["PCHG"].to_numpy(dtype=float), colours, 0.85 if per_bar == 1 else 1.0)
        ax.axhline(-50, color="#444", lw=0.8, ls="--")
        ax.set_title(_wrapped(label))
        ax.set_xticks([])
        ax.set_xlabel("Subjects" if per_bar == 1 else f"Subjects, {per_bar} per bar (median)")
        if k % ncols == 0:
            ax.set_ylabel("Best % change in SALT")
    names = [s for s in SUBTYPE_COLOURS if s in shown] + ([NOT_RECORDED] if NOT_RECORDED in shown else [])
    handles = [plt.Rectangle((0, 0), 1, 1, color=SUBTYPE_COLOURS.get(s, NOT_RECORDED_COLOUR)) for s in names]
    _legend_above(fig, handles, [SUBTYPE_LABELS.get(s, s) for s in names], ncol=5)
    return _svg(fig)


def _bars_collection(ax, heights: np.ndarray, colours: list[str], width: float) -> None:
    """Bars from 0 to each height, one per position, as one artist (ax.bar makes one per bar:
    most of the waterfall's drawing time with a few hundred bars a panel)."""
    from matplotlib.collections import PolyCollection

    x = np.arange(len(heights), dtype=float)
    left, right = x - width / 2, x + width / 2
    zero = np.zeros_like(heights)
    verts = np.stack([np.column_stack(c) for c in ((left, zero), (left, heights), (right, heights), (right, zero))], axis=1)
    ax.add_collection(PolyCollection(verts, facecolors=colours, edgecolors="none"))  # updates the data limits
    ax.autoscale_view()


def _waterfall_curves(series: list[tuple[str, pd.DataFrame]]) -> str:
    fig, axes = _figure(4.6)
    ax = axes[0][0]
    for k, (label, best_change) in enumerate(series):
        best = best_change["best_pchg"].to_numpy(dtype=float)
        if len(best):
            x = 100 * (np.arange(len(best)) + 0.5) / len(best)
            ax.plot(x, best, color=PALETTE[k % len(PALETTE)], ls=line_style(k), lw=1, label=label)
    ax.axhline(-50, color="#444", lw=0.8, ls="--")
    ax.set_xlabel("Subjects of the arm, sorted by best change (%)")
    ax.set_ylabel("Best % change in SALT")
    _legend_above(fig, ncol=3)
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
    fig, axes = _figure(3.6, 1, len(subtypes), sharey=True)
    for ax, subtype in zip(axes[0], subtypes):
        for k, (label, visits) in enumerate(series):
            g = visits[visits["subgroup"] == subtype]
            if g.empty:
                continue
            colour = PALETTE[k % len(PALETTE)]
            week, mean, low, high = (g[c].to_numpy(dtype=float) for c in ("week", "mean", "ci_low", "ci_high"))
            ax.plot(week, mean, color=colour, ls=line_style(k), lw=1.2, label=label)
            ax.fill_between(week, low, high, color=colour, alpha=0.12, lw=0)
        ax.set_title(SUBTYPE_LABELS[subtype])
        ax.set_ylim(0, 100)
        ax.set_xlabel("Week")
    axes[0][0].set_ylabel("Mean SALT")
    _legend_above(fig)
    return _svg(fig)


def km_cumulative(series: list[tuple[str, pd.DataFrame]], xlabel: str, ylabel: str,
                  eot_weeks: list[float | None] | None = None) -> str:
    """The cumulative proportion with the event (1 - surv: 1 - Kaplan-Meier with censor marks, or
    under non-responder imputation the proportion of all subjects) and numbers at risk; each
    arm's end of treatment (eot_weeks, in series order) marked."""
    return _kaplan_meier_figure(series, xlabel, ylabel, cumulative=True, eot_weeks=eot_weeks)


RISK_ROW_INCHES = 0.2  # the height of a row of the numbers at risk
CURVE_INCHES = 3.2


def _kaplan_meier_figure(series, xlabel: str, ylabel: str, *, cumulative: bool,
                         eot_weeks: list[float | None] | None = None) -> str:
    """The step curve from (0, 1) through each time with an event or a censoring, a mark per
    time with a censoring, and the numbers at risk at the axis ticks (the rows' axis_tick) in
    a table of their own below, as tall as its rows: any number of arms keeps its layout."""
    rows_height = RISK_ROW_INCHES * (len(series) + 1)
    fig, axes = _figure(CURVE_INCHES + rows_height + 0.6, 2, 1, height_ratios=[CURVE_INCHES, rows_height])
    ax, risk = axes[0][0], axes[1][0]
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
        ax.step(t, y, where="post", color=colour, ls=line_style(k), label=f"{label} (n={int(curve['n_subjects'].iloc[0])})")
        ax.plot(cens["weeks"].to_numpy(dtype=float), cens_y, "|", color=colour, ms=8)
        axis = curve[curve["axis_tick"].astype(bool)]
        ticks = axis["weeks"].to_numpy(dtype=float)
        risk_rows.append((label, [int(n) for n in axis["n_at_risk"]], colour))
    if eot_weeks:
        _mark_eot(ax, [(eot, PALETTE[k % len(PALETTE)]) for k, eot in enumerate(eot_weeks)])
    ax.set_xticks(ticks)
    ax.set_xlim(0, ticks[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _legend_above(fig)
    # the table: no frame or background (its numbers are no data marks), rows top to bottom
    risk.set_axis_off()
    risk.set_xlim(ax.get_xlim())
    risk.set_ylim(len(risk_rows) + 0.5, -0.5)
    label_at = risk.get_yaxis_transform()  # x in axes fractions, y in rows
    risk.text(-0.02, -0.5, "At risk", transform=label_at, ha="right", va="center", fontsize=SMALL, weight="bold")
    for r, (label, counts, colour) in enumerate(risk_rows, start=1):
        risk.text(-0.02, r, label, transform=label_at, ha="right", va="center", fontsize=SMALL, color=colour)
        for x, c in zip(ticks, counts):
            risk.text(x, r, str(c), ha="center", va="center", fontsize=SMALL)
    return _svg(fig)


def forest(rows: list[dict]) -> str:
    """Response rate with 95 % CI per row: label, pct, low, high, group ('processed'/'published')."""
    fig, axes = _figure(0.3 * len(rows) + 0.9)
    ax = axes[0][0]
    for y, r in enumerate(reversed(rows)):
        colour = "#1b6ca8" if r["group"] == "processed" else "#888888"
        if r["low"] is not None and not np.isnan(r["low"]):
            ax.plot([r["low"], r["high"]], [y, y], color=colour, lw=1.2)
        ax.plot([r["pct"]], [y], "s" if r["group"] == "processed" else "D", color=colour, ms=5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["label"] for r in reversed(rows)])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Responders, % (95% CI)")
    ax.grid(axis="x", color="#eeeeee")
    return _svg(fig)


def nma_forest(rows: list[dict], measure: str) -> str:
    """Each treatment against the reference from the network meta-analysis: estimate and 95 % CI
    (log axis for a ratio), rows ordered as given: label, estimate, low, high."""
    ratio = measure != "RD"
    fig, axes = _figure(0.3 * len(rows) + 1.0)
    ax = axes[0][0]
    for y, r in enumerate(reversed(rows)):
        ax.plot([r["low"], r["high"]], [y, y], color="#1b6ca8", lw=1.4)
        ax.plot([r["estimate"]], [y], "s", color="#1b6ca8", ms=5)
    ax.axvline(1.0 if ratio else 0.0, color="#555555", lw=0.8, ls="--")
    if ratio:  # ticks as plain numbers (0.5, 1, 10), not powers of ten with small exponents
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["label"] for r in reversed(rows)])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    name = {"OR": "Odds ratio", "RR": "Risk ratio", "RD": "Risk difference, % points"}[measure]
    ax.set_xlabel(f"{name} vs {rows[0]['reference']} (95% CI){', log scale' if ratio else ''}")
    ax.grid(axis="x", color="#eeeeee")
    return _svg(fig)


def ae_incidence(table: pd.DataFrame, top: int = 10) -> str:
    """Subjects with each of the most frequent TEAE preferred terms, % of each arm: within a term
    the arms run top to bottom in the legend's order."""
    pts = table[table["pt"] != ""]
    if pts.empty:
        return ""
    arms = list(dict.fromkeys(pts["arm_label"]))
    order = pts.groupby("pt")["pct"].max().sort_values(ascending=False, kind="stable").head(top).index[::-1]
    fig, axes = _figure(0.3 * len(order) * max(1, len(arms) / 2) + 1.2)
    ax = axes[0][0]
    height = 0.8 / len(arms)
    for k, arm in enumerate(arms):
        vals = pts[pts["arm_label"] == arm].groupby("pt")["pct"].max().reindex(order).fillna(0)
        offset = (len(arms) - 1 - k) * height  # the first arm on top of each group
        ax.barh(np.arange(len(order)) + offset, vals, height=height, color=PALETTE[k % len(PALETTE)], label=arm)
    ax.set_yticks(np.arange(len(order)) + 0.4 - height / 2)
    ax.set_yticklabels(order)
    ax.set_xlabel("Subjects with the event, % of arm")
    _legend_above(fig)
    return _svg(fig)
