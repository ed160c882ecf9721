"""Labels, controls, the inset locator and the scale bar in a real browser (Playwright + /usr/bin/chromium).

The pages, the browser and the request routing are those of ``tests/browser_support.py`` (``Session``):
offline maps, every request outside the file blocked. What is checked here is measured on screen
(``getBoundingClientRect``), never read back from the placement code: no two visible labels
intersect, no label lies under a control or crosses the map's edge — at 360, 390, 680, 1024 and
1400 px, at the initial view, zoomed in and out (zoom 8–13) and panned. The same detector is shown
to find overlaps when the placement is switched off (a page flag set by an init script, a switch
a published map never reads from its URL). The inset's rectangle is compared with the map's bounds
projected by pyproj, and the scale bar's length with metres per pixel measured by pyproj.Geod.
"""

from __future__ import annotations

import csv
import re

import pytest

import browser_support as bs
from browser_support import CONTROL_BOXES, WIDTHS, Session, artefact_dir, check_layout

# the browser, the bundled case and the maps' folder: the fixtures shared by test_browser*.py
browser = bs.browser
case = bs.case
maps_dir = bs.maps_dir

pytestmark = pytest.mark.browser

LABEL_CHECK = """() => {
  const root = document.querySelector('.leaflet-container');
  const v = root.getBoundingClientRect();
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
  const shown = (e) => { const s = getComputedStyle(e), r = e.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0; };
  const onScreen = (b) => b.x1 > v.left && b.x0 < v.right && b.y1 > v.top && b.y0 < v.bottom;
  const labels = Array.from(root.querySelectorAll('.leaflet-tooltip, .bk-country-name')).filter(shown)
    .map((e) => Object.assign(box(e), {text: e.textContent})).filter(onScreen);
  const controls = Array.from(root.querySelectorAll('.leaflet-control, .bk-title'))
    .filter((e) => e.offsetParent !== null && shown(e)).map((e) => Object.assign(box(e), {text: String(e.className)}));
  return {view: {x0: v.left, y0: v.top, x1: v.right, y1: v.bottom}, labels: labels, controls: controls};
}"""

# initial view, zoom in step by step over Syunik, pan (Sev Lake, the Lachin corridor, Nakhchivan,
# Yerevan) and zoom back out
VIEWS = [
    None,
    (39.56, 46.23, 8),
    (39.56, 46.23, 10),
    (39.56, 46.23, 12),
    (39.56, 46.23, 13),
    "pan",
    (39.55, 46.45, 13),
    (39.60, 46.0, 11),
    (39.30, 45.45, 10),
    (40.18, 44.55, 11),
    (39.56, 46.23, 9),
]


def _meet(a, b, slack: float = 0.5) -> bool:
    return (
        a["x0"] < b["x1"] - slack
        and b["x0"] < a["x1"] - slack
        and a["y0"] < b["y1"] - slack
        and b["y0"] < a["y1"] - slack
    )


def label_problems(d: dict) -> list[tuple[str, str, str]]:
    """Every pair of intersecting labels, label under a control, and label crossing the map's edge."""
    out = []
    labels, v = d["labels"], d["view"]
    for i, a in enumerate(labels):
        out += [("label/label", a["text"], b["text"]) for b in labels[i + 1 :] if _meet(a, b)]
        out += [("label/control", a["text"], c["text"]) for c in d["controls"] if _meet(a, c)]
        if a["x0"] < v["x0"] - 0.5 or a["y0"] < v["y0"] - 0.5 or a["x1"] > v["x1"] + 0.5 or a["y1"] > v["y1"] + 0.5:
            out.append(("edge", a["text"], f"{a['x0']:.0f},{a['y0']:.0f}–{a['x1']:.0f},{a['y1']:.0f}"))
    return out


def _go(page, view, frame=None) -> None:
    target = frame or page
    if view == "pan":  # a drag-sized pan, as a reader's finger does it
        target.evaluate("() => { window.borderkitMaps[0].map.panBy([-180, 90], {animate: false}); }")
    elif view is not None:
        lat, lon, z = view
        target.evaluate(f"() => {{ window.borderkitMaps[0].map.setView([{lat}, {lon}], {z}, {{animate: false}}); }}")
    target.wait_for_timeout(60)


def _sweep(target, views=VIEWS) -> tuple[list, int]:
    """(problems per view, labels seen) over the views."""
    problems, seen = [], 0
    for view in views:
        _go(None, view, frame=target)
        d = target.evaluate(LABEL_CHECK)
        seen += len(d["labels"])
        problems += [(view, *p) for p in label_problems(d)]
    return problems, seen


class _NoPlacement:
    """A browser whose pages switch the label placement off before any script runs."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, **kw):
        page = self._browser.new_page(**kw)
        page.add_init_script("window.borderkitDebug = {noLabelPlacement: true};")
        return page


@pytest.fixture(scope="module")
def case_offline(case, maps_dir):
    from borderkit.maps import case_layers, make_map, save_html

    return save_html(make_map(case, offline=True, **case_layers(case)), maps_dir / "case-offline.html")


@pytest.fixture(scope="module")
def own_embed(case, maps_dir):
    """A journalist's own incidents (a CSV with lat/lon) over the case's lines: --fit --embed --offline."""
    from click.testing import CliRunner

    from borderkit.cli.map_cmd import map_

    src = maps_dir / "my-incidents.csv"
    rows = [
        (
            "j-1",
            "2024-03-02",
            "shelling",
            "Shelling near the village, <b>two</b> houses hit",
            "Sotk",
            40.205,
            45.943,
            2000,
        ),
        ("j-2", "2024-03-09", "exchange of fire", "Exchange of fire at night", "Tegh", 39.556, 46.480, 3000),
        ("j-3", "2024-03-15", "drone strike", "A drone seen over the road", "Jermuk", 39.841, 45.669, 5000),
    ]
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "incident_id",
                "date",
                "date_precision",
                "type",
                "description",
                "place_name",
                "lat",
                "lon",
                "precision_m",
                "sources",
            ]
        )
        for r in rows:
            w.writerow([*r[:2], "day", *r[2:], '[{"publication": "Local news", "url": "https://example.org/a"}]'])
    out = maps_dir / "story.html"
    res = CliRunner().invoke(
        map_, [str(src), "--case", "armenia-azerbaijan", "--fit", "--embed", "--offline", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_labels_never_meet_each_other_a_control_or_the_edge(browser, case_offline, width, tmp_path):
    s = Session(browser, case_offline, block_all=True, width=width, height=WIDTHS[width])
    try:
        page = s.page
        first = page.evaluate(LABEL_CHECK)
        if width == 390:  # cut at the left edge before: now inside the map, whole
            texts = " ".join(b["text"] for b in first["labels"])
            assert "narrowest gap" in texts, texts
            page.screenshot(path=str(artefact_dir(tmp_path) / "labels-390px.png"))
        if width == 1400:
            page.screenshot(path=str(artefact_dir(tmp_path) / "labels-1400px.png"))
        problems, seen = _sweep(page)
        assert problems == [], problems
        assert seen > 3 * len(VIEWS)  # the views do show labels
        # controls (inset included) still cover at most a quarter of the map and do not meet
        check_layout(page.evaluate(CONTROL_BOXES), f"{width} px after the sweep")
        assert s.console_errors() == []
    finally:
        s.close()


@pytest.mark.parametrize("width", [390, 1400])
def test_the_detector_finds_overlaps_when_the_placement_is_off(browser, case_offline, width):
    """The same measurement, with the placement switched off: labels meet each other, controls and the edge."""
    s = Session(_NoPlacement(browser), case_offline, block_all=True, width=width, height=WIDTHS[width])
    try:
        page = s.page
        moved = (
            "Array.from(document.querySelectorAll('.leaflet-tooltip, .bk-country-name'))"
            ".filter(e => e.style.translate).length"
        )
        assert page.evaluate(moved) == 0 and page.locator(".bk-collided").count() == 0
        problems, _ = _sweep(page)
        kinds = {p[1] for p in problems}
        assert "label/label" in kinds and "label/control" in kinds, problems
        if width == 390:  # the known failures: Yerevan and the Nakhchivan gap cut at the left edge
            cut = " ".join(p[2] for p in problems if p[0] is None and p[1] == "edge")
            assert "narrowest gap" in cut, problems
    finally:
        s.close()


_TO_M = "EPSG:4326", "EPSG:3857"


def _inset_frame(page) -> tuple[float, float, float, float, float]:
    """(west, north, scale, x offset, y offset) of the inset: the box of the page's country fills in
    Web Mercator metres (pyproj), fitted into the inset's viewBox and centred."""
    import numpy as np
    from pyproj import Transformer

    info = page.evaluate(
        "() => ({vb: document.querySelector('.bk-inset-svg').getAttribute('viewBox'),"
        " pts: window.borderkitMaps[0].data.context.countries.flatMap((c) => c.polygons.flat(2))})"
    )
    pts = np.asarray(info["pts"], dtype=float)
    xs, ys = Transformer.from_crs(*_TO_M, always_xy=True).transform(pts[:, 0], pts[:, 1])
    _, _, width, height = (float(v) for v in info["vb"].split())
    k = min(width / (xs.max() - xs.min()), height / (ys.max() - ys.min()))
    return xs.min(), ys.max(), k, (width - (xs.max() - xs.min()) * k) / 2, (height - (ys.max() - ys.min()) * k) / 2


def _inset_expected(page, frame) -> dict:
    """The view's rectangle in inset px: the map's bounds (Leaflet API) projected with pyproj."""
    from pyproj import Transformer

    west, north, k, x0, y0 = frame
    b = page.evaluate(
        "() => { const b = window.borderkitMaps[0].map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
    )
    (wx, ex), (sy, ny) = Transformer.from_crs(*_TO_M, always_xy=True).transform([b[0], b[2]], [b[1], b[3]])
    return {"x": x0 + (wx - west) * k, "y": y0 + (north - ny) * k, "width": (ex - wx) * k, "height": (ny - sy) * k}


def _inset_rect(page) -> dict:
    return page.evaluate(
        "() => { const r = document.querySelector('.bk-inset-view');"
        " return Object.fromEntries(['x', 'y', 'width', 'height'].map((a) => [a, Number(r.getAttribute(a))])); }"
    )


@pytest.mark.parametrize("width", [390, 1024, 1400])
def test_inset_shows_the_view_and_follows_it(browser, case_offline, width):
    s = Session(browser, case_offline, block_all=True, width=width, height=WIDTHS[width])
    try:
        page = s.page
        inset = page.locator(".bk-inset-svg")
        if width < 700:  # behind the "Key & sources" button on a phone, its own box gone
            assert inset.is_hidden() and page.locator(".bk-inset-control").is_hidden()
            page.get_by_role("button", name="Key & sources").click()
        assert inset.is_visible()
        assert page.locator(".bk-inset-country").count() == page.evaluate(
            "window.borderkitMaps[0].data.context.countries.length"
        )
        frame = _inset_frame(page)
        for view in (None, (39.56, 46.23, 10), "pan", (40.3, 45.2, 12)):
            _go(page, view)
            got, want = _inset_rect(page), _inset_expected(page, frame)
            for key in want:
                assert got[key] == pytest.approx(want[key], abs=0.05), (view, key, got, want)
        # on screen too: the drawn rectangle sits where the numbers say inside the drawn inset
        svg = inset.bounding_box()
        rect = page.locator(".bk-inset-view").bounding_box()
        scale = svg["width"] / float(page.evaluate("document.querySelector('.bk-inset-svg').viewBox.baseVal.width"))
        assert rect["x"] - svg["x"] == pytest.approx(want["x"] * scale, abs=2)
        assert rect["width"] == pytest.approx(want["width"] * scale, abs=3)
        # the toggle works from the keyboard
        page.locator(".bk-inset summary").focus()
        page.keyboard.press("Enter")
        assert inset.is_hidden()
        page.keyboard.press("Enter")
        assert inset.is_visible()
        assert s.console_errors() == []
    finally:
        s.close()


_UNITS = {"km": 1000.0, "m": 1.0}


def _scale_bar_error(page) -> tuple[float, str]:
    """Relative error of the scale bar: its px length against its label's metres, at the map's centre latitude."""
    from pyproj import Geod

    info = page.evaluate(
        "() => { const m = window.borderkitMaps[0].map; const s = m.getSize();"
        " const a = m.containerPointToLatLng([s.x / 2 - 100, s.y / 2]);"
        " const b = m.containerPointToLatLng([s.x / 2 + 100, s.y / 2]);"
        " const bar = document.querySelector('.leaflet-control-scale-line');"
        " return {a: [a.lng, a.lat], b: [b.lng, b.lat], px: bar.getBoundingClientRect().width, text: bar.textContent,"
        " lat: m.getCenter().lat}; }"
    )
    _, _, dist = Geod(ellps="WGS84").inv(*info["a"], *info["b"])
    metres_per_px = dist / 200.0
    m = re.fullmatch(r"\s*([\d.]+)\s*(km|m)\s*", info["text"])
    assert m, info["text"]
    label_m = float(m.group(1)) * _UNITS[m.group(2)]
    return info["px"] / (label_m / metres_per_px) - 1.0, f"{info['text']} at {info['lat']:.2f}° N"


def test_scale_bar_is_right_at_the_maps_latitude(browser, case_offline, maps_dir):
    from borderkit.maps import make_map, save_html
    from map_fixtures import synthetic_layers

    north = save_html(
        make_map(synthetic_layers(), offline=True, bounds=(29.0, 59.7, 31.0, 60.3)), maps_dir / "north.html"
    )
    s = Session(browser, case_offline, block_all=True, width=1400, height=900)
    try:
        for view in (None, (39.56, 46.23, 10), (60.0, 30.0, 9), (60.0, 30.0, 13)):  # the case, then panned north
            _go(s.page, view)
            err, where = _scale_bar_error(s.page)
            assert abs(err) <= 0.02, (where, err)
    finally:
        s.close()
    s = Session(browser, north, block_all=True, width=1024, height=768)
    try:
        lat = s.page.evaluate("window.borderkitMaps[0].map.getCenter().lat")
        assert lat == pytest.approx(60.0, abs=0.2)
        err, where = _scale_bar_error(s.page)
        assert abs(err) <= 0.02, (where, err)
    finally:
        s.close()


@pytest.mark.parametrize("width", [390, 680])
def test_own_incident_embed_map_keeps_labels_clear(browser, own_embed, width, tmp_path):
    s = Session(browser, own_embed, block_all=True, width=width, height=WIDTHS[width])
    try:
        page = s.page
        assert page.evaluate("window.borderkitMaps[0].data.embed") is True
        assert page.locator("path.bk-incident").count() == 3
        assert page.locator(".leaflet-tooltip.bk-measure-label").count() == 0  # not the case's measurements
        problems, seen = _sweep(page, [None, (40.205, 45.943, 12), (39.556, 46.48, 13), (39.556, 46.48, 9), "pan"])
        assert problems == [] and seen > 0, problems
        check_layout(page.evaluate(CONTROL_BOXES), f"own incidents, embed {width} px")
        assert page.locator(".bk-inset-svg").is_hidden()  # in the key panel on a narrow map
        page.screenshot(path=str(artefact_dir(tmp_path) / f"own-embed-{width}px.png"))
        assert s.console_errors() == [] and s.aborted == []
    finally:
        s.close()


def test_more_labels_join_the_same_placement(browser, case_offline):
    """api.addLabel (towns by population use it): a new label keeps clear of the others, by priority and rank."""
    s = Session(browser, case_offline, block_all=True, width=1024, height=768)
    try:
        page = s.page
        _go(page, (38.9, 44.6, 10))  # south of Ararat: no label of the case's near the centre
        out = page.evaluate(
            """() => { const bk = window.borderkitMaps[0], m = bk.map;
              const add = (ll, text, rank) => { const mk = L.circleMarker(ll, {radius: 3}).addTo(m);
                mk.bindTooltip(text, {permanent: true, direction: 'right', className: 'bk-place-label'});
                bk.api.addLabel({prio: bk.api.labelPriority.place, rank: rank, gap: 6,
                  node: () => mk.getTooltip().getElement(),
                  anchor: () => m.latLngToContainerPoint(mk.getLatLng())});
                return mk.getTooltip().getElement(); };
              const c = m.getCenter(), big = add(c, 'Big town (pop. 40 000)', 0);
              const small = add(c, 'Small town (pop. 900)', 5);
              return [big.classList.contains('bk-collided'), small.classList.contains('bk-collided') ||
                      small.style.translate !== ''];
            }"""
        )
        assert out == [False, True], out  # the larger town keeps its place; the smaller one moves or hides
        problems, _ = _sweep(page, [None, (38.9, 44.6, 12), (38.9, 44.6, 9)])
        assert problems == [], problems
    finally:
        s.close()


def test_own_incident_map_in_a_680px_article_iframe(browser, own_embed):
    """The same page inside an article's iframe: the frame is the map's viewport; labels stay inside it."""
    host = own_embed.parent / "story-article.html"
    host.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Article</title></head>"
        "<body style='margin:0'><main style='width:680px;margin:0 auto'><h1>News</h1>"
        f"<iframe id='map' src='{own_embed.name}' width='680' height='480' style='border:0' title='Map'></iframe>"
        "</main></body></html>",
        encoding="utf-8",
    )
    s = Session(browser, host, width=900, height=800, also=(own_embed,), ready=False)
    try:
        s.page.frame_locator("#map").locator('html[data-borderkit-ready="1"]').wait_for(state="attached", timeout=20000)
        frame = next(f for f in s.page.frames if f.url.endswith(own_embed.name))
        frame.wait_for_timeout(300)
        problems, seen = _sweep(frame, [None, (40.205, 45.943, 12), (39.556, 46.48, 9), "pan"])
        assert problems == [] and seen > 0, problems
        check_layout(frame.evaluate(CONTROL_BOXES), "own incidents in a 680×480 iframe")
        assert s.console_errors() == [] and s.aborted == []
    finally:
        s.close()
