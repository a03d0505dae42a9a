"""Layout of the report's SVG figures as a browser draws them (Playwright): every text element's
box is read and compared with the others, with its figure and with the plotting areas.

A problem is reported when
- two texts overlap (more than OVERLAP_PX in both directions);
- a text is clipped: it reaches outside its SVG, or the SVG reaches outside the page's column;
- a text lies over a plotting area (a matplotlib axes' background patch): there it would cover
  curves, bars or points. Tick labels, titles and legends all belong outside;
- a text is drawn smaller than min_font_px CSS pixels.
"""

from __future__ import annotations

OVERLAP_PX = 1.0

_MEASURE = r"""(minFontPx) => {
  const problems = [];
  const boxOf = (el) => { const r = el.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  const cross = (a, b) => Math.min(a.r, b.r) - Math.max(a.l, b.l) > %(tol)s && Math.min(a.b, b.b) - Math.max(a.t, b.t) > %(tol)s;
  const outside = (a, box) => a.l < box.l - %(tol)s || a.r > box.r + %(tol)s || a.t < box.t - %(tol)s || a.b > box.b + %(tol)s;
  document.querySelectorAll('figure').forEach((figure, k) => {
    const svg = figure.querySelector('svg');
    if (!svg) return;
    const caption = figure.querySelector('figcaption');
    const name = 'figure ' + (k + 1) + ' (' + (caption ? caption.textContent.trim().slice(0, 50) : 'no caption') + ')';
    const box = boxOf(svg), column = boxOf(figure.parentElement);
    if (box.r > column.r + %(tol)s) problems.push(name + ': the figure is wider than the page column');
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const areas = Array.from(svg.querySelectorAll('g[id^="axes_"] > g[id^="patch_"]:first-child')).map(boxOf);
    // a text's size is its own, or that of each tspan in it (mathtext: 10 and a smaller exponent)
    const texts = Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim() !== '' && t.getBBox().width > 0)
      .map(t => ({label: t.textContent.replace(/\s+/g, ' ').trim(), box: boxOf(t),
                  px: Math.min(...[t, ...t.querySelectorAll('tspan')].filter(e => e.textContent.trim() !== '')
                               .map(e => parseFloat(getComputedStyle(e).fontSize) * scale))}));
    texts.forEach((a, i) => {
      if (outside(a.box, box)) problems.push(name + ': "' + a.label + '" is clipped by the figure');
      if (a.px < minFontPx) problems.push(name + ': "' + a.label + '" is drawn at ' + a.px.toFixed(1) + ' px');
      if (areas.some(area => cross(a.box, area))) problems.push(name + ': "' + a.label + '" lies over a plotting area');
      texts.slice(i + 1).forEach(b => {
        if (cross(a.box, b.box)) problems.push(name + ': "' + a.label + '" overlaps "' + b.label + '"');
      });
    });
  });
  return problems;
}""" % {"tol": OVERLAP_PX}


def layout_problems(page, min_font_px: float) -> list[str]:
    """Every overlap, clipping, text over a plotting area and too-small text in the page's figures."""
    return page.evaluate(_MEASURE, min_font_px)


def check_report_layout(browser, report_path) -> dict[str, list[str]]:
    """The problems of a report on a laptop screen (1200 px) and as printed on A4 (print media,
    the width Chromium prints A4 at with its default margins)."""
    found = {}
    for media, width, min_px in (("screen", 1200, 10.0), ("print", 718, 8.0)):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.emulate_media(media=media)
        page.goto(report_path.as_uri())
        page.wait_for_load_state("load")
        found[media] = layout_problems(page, min_px)
        page.close()
    return found
