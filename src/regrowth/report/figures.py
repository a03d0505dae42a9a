"""Static SVG figures, embedded inline. Deterministic: fixed hash salt, no dates in metadata."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from regrowth.summarize.stats import kaplan_meier  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "regrowth", "svg.fonttype": "none", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False})
PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#577590"]
SUBTYPE_COLOURS = {"PATCHY AA": "#2a9d8f", "OPHIASIS": "#e9a03b", "ALOPECIA TOTALIS": "#d1495b",
                   "ALOPECIA UNIVERSALIS": "#6a4c93"}
SUBTYPE_LABELS = {"PATCHY AA": "Patchy AA", "OPHIASIS": "Ophiasis", "ALOPECIA TOTALIS": "Alopecia totalis",
                  "ALOPECIA UNIVERSALIS": "Alopecia universalis"}


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML


def salt_over_time(series: list[tuple[str, pd.DataFrame]]) -> str:
    """Mean SALT by analysis visit with 95 % CI bands, one line per trial arm (observed values)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for k, (label, adsalt) in enumerate(series):
        d = adsalt[(adsalt["PARAMCD"] == "SALT") & (adsalt["ANL01FL"] == "Y")]
        g = d.groupby("AVISITN")["AVAL"].agg(["mean", "std", "count"]).reset_index()
        half = 1.96 * g["std"].fillna(0) / np.sqrt(g["count"])
        colour = PALETTE[k % len(PALETTE)]
        ax.plot(g["AVISITN"], g["mean"], marker="o", ms=3, color=colour, label=label)
        ax.fill_between(g["AVISITN"], g["mean"] - half, g["mean"] + half, color=colour, alpha=0.15, lw=0)
    ax.set_xlabel("Week")
    ax.set_ylabel("Mean SALT (% scalp hair loss)")
    ax.set_ylim(0, 100)
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig)


def waterfall(series: list[tuple[str, pd.DataFrame]]) -> str:
    """Best (most negative) percent change from baseline per subject, coloured by subtype."""
    fig, axes = plt.subplots(1, max(len(series), 1), figsize=(7.5, 3.2), sharey=True, squeeze=False)
    for ax, (label, adsalt) in zip(axes[0], series):
        d = adsalt[(adsalt["PARAMCD"] == "SALT") & (adsalt["ADY"] > 1)]
        best = d.groupby("USUBJID").agg(PCHG=("PCHG", "min"), AATYPE=("AATYPE", "first"))
        best = best.dropna(subset=["PCHG"]).sort_values("PCHG", ascending=False, kind="stable")
        colours = [SUBTYPE_COLOURS.get(t, "#888888") for t in best["AATYPE"]]
        ax.bar(np.arange(len(best)), best["PCHG"], color=colours, width=0.85)
        ax.axhline(-50, color="#444", lw=0.8, ls="--")
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_xlabel("Subjects")
    axes[0][0].set_ylabel("Best % change in SALT")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in SUBTYPE_COLOURS.values()]
    fig.legend(handles, [SUBTYPE_LABELS[s] for s in SUBTYPE_COLOURS], loc="lower center", ncol=4, frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, -0.08))
    return _svg(fig)


def km_plot(series: list[tuple[str, pd.DataFrame]], xlabel: str) -> str:
    """Kaplan-Meier curves (1 - S as 'relapse-free' survival) with censor marks and numbers at risk."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ticks = np.arange(0, 29, 4)
    risk_rows = []
    for k, (label, tte) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        weeks = tte["AVAL"].to_numpy(dtype=float) / 7
        event = tte["CNSR"].to_numpy() == 0
        if len(weeks) == 0:
            continue
        km = kaplan_meier(weeks, event)
        t = np.concatenate([[0], km["time"].to_numpy()])
        s = np.concatenate([[1], km["surv"].to_numpy()])
        ax.step(t, s, where="post", color=colour, label=f"{label} (n={len(weeks)})")
        cens = km[km["n_censor"] > 0]
        ax.plot(cens["time"], cens["surv"], "|", color=colour, ms=8)
        risk_rows.append((label, [int((weeks >= x).sum()) for x in ticks], colour))
    ax.set_xticks(ticks)
    ax.set_xlim(0, ticks[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Proportion without relapse")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    for r, (label, counts, colour) in enumerate(risk_rows):
        y = -0.28 - 0.08 * r
        ax.text(-0.02, y, label[:28], transform=ax.transAxes, ha="right", fontsize=7, color=colour)
        for x, c in zip(ticks, counts):
            ax.text(x / ticks[-1], y, str(c), transform=ax.transAxes, ha="center", fontsize=7)
    if risk_rows:
        ax.text(-0.02, -0.20, "At risk", transform=ax.transAxes, ha="right", fontsize=7, weight="bold")
    return _svg(fig)
