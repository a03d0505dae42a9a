"""The report's figures as a person sees them: read in Chromium (tests/svg_layout.py), no text
overlaps another, lies over a plotting area, is clipped or is drawn too small, on screen and
printed; and what the figures say (legends, bar order) checked on the figures themselves."""

import numpy as np
import pandas as pd
import pytest

from regrowth.report import figures
from tests.edge import DATA_CUT, EOT_WEEK, edge_trial
from tests.reports import report_html
from tests.svg_layout import check_report_layout


def test_bundled_report_figures_are_readable_on_screen_and_printed(reference_run, browser):
    found = check_report_layout(browser, reference_run / "results/report.html")
    assert found == {"screen": [], "print": []}


def test_small_trial_without_mh_ds_or_subtype_gets_readable_figures(tmp_path, browser):
    from regrowth.trial import run_trial

    folder = edge_trial(tmp_path)
    (folder / "mh.csv").unlink()
    (folder / "ds.csv").unlink()
    run = run_trial(folder, "sdtm-csv", eot_week=EOT_WEEK, data_cut=DATA_CUT)
    assert run.adam["adsl"]["AATYPE"].isna().all()
    report = tmp_path / "report.html"
    html = report_html({"EDGE01": (run, EOT_WEEK)})
    report.write_text(html, encoding="utf-8")
    assert check_report_layout(browser, report) == {"screen": [], "print": []}
    waterfall = html[html.index("Waterfall plot"):]
    waterfall = waterfall[:waterfall.index("</figure>")]
    assert "Subtype not recorded" in waterfall
    assert not any(name in waterfall for name in figures.SUBTYPE_LABELS.values())
    assert "The same by alopecia areata subtype" not in html  # no subtype panels without subtypes


def test_the_layout_check_finds_overlap_clipping_small_text_and_text_over_data(tmp_path, browser):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1], [0, 1], label="a legend entry over the curve")
    ax.legend(loc="center")
    ax.text(0.0, 1.05, "one label", transform=ax.transAxes)
    ax.text(0.02, 1.05, "another label", transform=ax.transAxes)
    ax.text(0.5, -0.2, "tiny", transform=ax.transAxes, fontsize=4)
    svg = figures._svg(fig)
    wide = svg.replace('width="', 'style="max-width:none" width="', 1).replace('height="', 'data-h="', 1)
    (tmp_path / "r.html").write_text(
        f"<html><body style='width:400px'><div><figure>{svg}<figcaption>bad</figcaption></figure></div>"
        f"<div style='width:200px'><figure>{wide}<figcaption>wide</figcaption></figure></div></body></html>",
        encoding="utf-8")
    problems = " | ".join(check_report_layout(browser, tmp_path / "r.html")["screen"])
    assert '"one label" overlaps "another label"' in problems
    assert '"a legend entry over the curve" lies over a plotting area' in problems
    assert '"tiny" is drawn at' in problems
    assert "figure 2 (wide): the figure is wider than the page column" in problems


def captured(monkeypatch):
    """The figure functions return their matplotlib figure instead of its SVG."""
    monkeypatch.setattr(figures, "_svg", lambda fig: fig)


def best_change(subtypes):
    return pd.DataFrame({"best_pchg": np.linspace(-100, 0, len(subtypes)), "subtype": subtypes})


def legend_texts(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_waterfall_legend_lists_only_the_subtypes_shown(monkeypatch):
    captured(monkeypatch)
    fig = figures.waterfall([("Drug (T1)", best_change(["PATCHY AA", "PATCHY AA", None])),
                             ("Placebo (T1)", best_change(["OPHIASIS", None]))])
    assert legend_texts(fig) == ["Patchy AA", "Ophiasis", "Subtype not recorded"]
    fig = figures.waterfall([("Drug (T1)", best_change([None, None]))])
    assert legend_texts(fig) == ["Subtype not recorded"]


def test_waterfall_panels_run_three_to_a_row_with_wrapped_titles(monkeypatch):
    captured(monkeypatch)
    fig = figures.waterfall([(f"Baricitinib {k} mg QD (NCT03570749)", best_change(["PATCHY AA"])) for k in range(5)])
    shown = [ax for ax in fig.axes if ax.axison]
    assert len(shown) == 5 and len(fig.axes) == 6  # 2 rows x 3, the sixth blank
    assert shown[0].get_title() == "Baricitinib 0 mg QD\n(NCT03570749)"


def test_ae_chart_bars_run_top_to_bottom_in_the_legends_order(monkeypatch):
    captured(monkeypatch)
    table = pd.DataFrame({"pt": ["Headache", "Headache", "Acne", "Acne"], "pct": [20.0, 10.0, 5.0, 8.0],
                          "arm_label": ["Drug (T1)", "Placebo (T1)", "Drug (T1)", "Placebo (T1)"]})
    fig = figures.ae_incidence(table)
    assert legend_texts(fig) == ["Drug (T1)", "Placebo (T1)"]
    ax = fig.axes[0]
    drug, placebo = ax.containers
    for d, p in zip(drug.patches, placebo.patches):
        assert d.get_y() > p.get_y()  # higher on the axis: above
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Acne", "Headache"]  # most frequent on top


def test_time_axes_mark_each_arms_end_of_treatment(monkeypatch):
    captured(monkeypatch)
    curve = pd.DataFrame({"weeks": [0.0, 12.0, 24.0], "surv": [1.0, 0.5, 0.5], "n_event": [0, 1, 0],
                          "n_censor": [0, 0, 0], "n_at_risk": [2, 1, 1], "n_subjects": [2, 2, 2],
                          "axis_tick": [True, True, True], "method": ["NRI"] * 3})
    fig = figures.km_cumulative([("Drug (T1)", curve), ("Drug (T2)", curve)], "Weeks", "Proportion", [24.0, 12.0])
    ax = fig.axes[0]
    eot_lines = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":")
    assert eot_lines == [12.0, 24.0]
    assert [t.get_text() for t in ax.texts].count("EOT") == 2
    visits = pd.DataFrame({"week": [0.0, 24.0], "mean": [80.0, 40.0], "ci_low": [70.0, 30.0], "ci_high": [90.0, 50.0]})
    fig = figures.salt_over_time([("A", visits, 24.0), ("B", visits, 24.0), ("C", visits, None)])
    assert [t.get_text() for t in fig.axes[0].texts] == ["EOT"]  # one label for the week both arms end


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_published_forest_rows_without_an_evidence_table_name_the_drug_once_with_the_arm_size():
    from regrowth.report.build import _forest_rows

    published = pd.DataFrame({"trial": ["BRAVE-AA1", "BRAVE-AA1", "ALLEGRO"], "drug": ["baricitinib", "placebo", "ritlecitinib"],
                              "arm": ["4 mg QD", "placebo", "200 mg x4 wk then 50 mg QD"], "n_arm": ["281", "189", ""],
                              "endpoint": ["SALT<=20"] * 3, "timepoint": ["week 36", "week 36", "week 24"],
                              "value": ["38.8", "6.2", "31"]})
    rows = _forest_rows(pd.DataFrame(columns=["trial_id", "arm", "subgroup", "timepoint", "endpoint"]), published)
    assert [r["label"] for r in rows] == [
        "BRAVE-AA1: Baricitinib 4 mg QD, SALT ≤ 20 week 36 (published, n=281)",
        "BRAVE-AA1: Placebo, SALT ≤ 20 week 36 (published, n=189)",
        "ALLEGRO: Ritlecitinib 200 mg x4 wk then 50 mg QD, SALT ≤ 20 week 24 (published)"]
    assert rows[0]["low"] is not None and rows[2]["low"] is None  # a CI only from a known arm size


def test_waterfall_bars_reach_each_subjects_best_change_in_its_subtypes_colour(monkeypatch):
    from matplotlib.colors import to_hex

    captured(monkeypatch)
    fig = figures.waterfall([("Drug (T1)", pd.DataFrame({"best_pchg": [-90.0, -40.0, 5.0],
                                                         "subtype": ["PATCHY AA", None, "OPHIASIS"]}))])
    (bars,) = fig.axes[0].collections
    tops = [min(p.vertices[:, 1].min(), 0) if p.vertices[:, 1].min() < 0 else p.vertices[:, 1].max() for p in bars.get_paths()]
    assert tops == [-90.0, -40.0, 5.0]
    assert [to_hex(c) for c in bars.get_facecolors()] == [figures.SUBTYPE_COLOURS["PATCHY AA"], figures.NOT_RECORDED_COLOUR,
                                                          figures.SUBTYPE_COLOURS["OPHIASIS"]]
    low, high = fig.axes[0].get_ylim()
    assert low < -90 and high > 5  # every bar inside the axis


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_legend_entries_read_left_to_right_then_down_in_the_arms_order(monkeypatch, n):
    captured(monkeypatch)
    visits = pd.DataFrame({"week": [0.0, 24.0], "mean": [80.0, 40.0], "ci_low": [70.0, 30.0], "ci_high": [90.0, 50.0]})
    fig = figures.salt_over_time([(f"Arm {k}", visits, 24.0) for k in range(n)])
    fig.canvas.draw()
    texts = fig.legends[0].get_texts()
    placed = sorted(texts, key=lambda t: (-round(t.get_window_extent().y0), t.get_window_extent().x0))
    assert [t.get_text() for t in placed] == [f"Arm {k}" for k in range(n)]


def test_the_layout_check_reads_the_size_of_each_tspan(tmp_path, browser):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.set_xlabel("plain label", fontsize=10)  # 13.3 px: readable
    ax.set_title(r"power $10^{2}$", fontsize=10)  # its exponent is drawn smaller, in a tspan
    (tmp_path / "r.html").write_text(f"<html><body><div><figure>{figures._svg(fig)}</figure></div></body></html>",
                                     encoding="utf-8")
    problems = check_report_layout(browser, tmp_path / "r.html")["screen"]
    assert any("1 0 2" in p and "is drawn at" in p for p in problems), problems  # mathtext: a tspan per glyph
    assert not any("plain label" in p for p in problems)


def test_numbers_at_risk_of_many_arms_keep_the_layout(tmp_path, browser):
    import warnings

    weeks = np.arange(0.0, 41.0, 4.0)
    curve = pd.DataFrame({"weeks": weeks, "surv": np.linspace(1.0, 0.5, len(weeks)), "n_event": 1, "n_censor": 0,
                          "n_at_risk": np.arange(len(weeks), 0, -1) * 40, "n_subjects": 500, "axis_tick": True,
                          "method": "NRI"})
    series = [(f"Baricitinib 4 mg QD (SIM{k:03d})", curve) for k in range(21)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when constrained layout collapses
        svg = figures.km_cumulative(series, "Weeks since first dose", "Proportion", [12.0] * 21)
    style = "<style>figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }</style>"  # as the report's
    (tmp_path / "r.html").write_text(f"<html><head>{style}</head><body><div><figure>{svg}</figure></div></body></html>",
                                     encoding="utf-8")
    assert check_report_layout(browser, tmp_path / "r.html") == {"screen": [], "print": []}


def test_arms_beyond_the_palette_are_told_apart_by_line_style(monkeypatch):
    captured(monkeypatch)
    visits = pd.DataFrame({"week": [0.0, 24.0], "mean": [80.0, 40.0], "ci_low": [70.0, 30.0], "ci_high": [90.0, 50.0]})
    fig = figures.salt_over_time([(f"Arm {k}", visits, None) for k in range(13)])
    styles = [(line.get_color(), line.get_linestyle()) for line in fig.axes[0].lines]
    assert len(set(styles)) == 13  # colour and style together: each arm its own
    assert styles[0] == (figures.PALETTE[0], "-") and styles[6] == (figures.PALETTE[0], "--")
