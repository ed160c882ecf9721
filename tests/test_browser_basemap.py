"""The offline case map's vector basemap in Chromium (Playwright): orientation without any network.

The case map is opened with every request blocked. Expected positions come from outside the code
under test: Lake Sevan's open water (a point inside Natural Earth's Sevan polygon, shared data) and
Sev Lake's point from the case's places (cited in places.csv); the test asks the browser which
drawn water shape covers the screen pixel of each (SVG ``isPointInFill`` on the rendered paths).
"""

from __future__ import annotations

import json

import pytest

import browser_support as bs
from browser_support import LABELS, SHOWN, Session, overlap
from conftest import shared_file

# the browser and the bundled case: the fixtures shared by test_browser*.py
browser = bs.browser
case = bs.case

pytestmark = pytest.mark.browser

MAX_OFFLINE_BYTES = 3_000_000
"""Issue 14's budget for the case's offline map (one file, basemap and hillshade included)."""

SEV_LAKE = (39.59806, 46.23167)  # lat, lon of the case's sev_lake place
TOWNLABELS = LABELS + ", .bk-town-name"

_WATER_AT = """([lat, lon]) => {
  const m = window.borderkitMaps[0].map;
  const p = m.latLngToContainerPoint([lat, lon]);
  const box = m.getContainer().getBoundingClientRect();
  const x = box.left + p.x, y = box.top + p.y;
  const hits = [];
  document.querySelectorAll("path.bk-water, path.bk-lake").forEach(el => {
    const svg = el.ownerSVGElement;
    const pt = svg.createSVGPoint();
    pt.x = x; pt.y = y;
    const q = pt.matrixTransform(el.getScreenCTM().inverse());
    if (el.isPointInFill(q)) { hits.push(el.getAttribute("class")); }
  });
  return hits;
}"""

_DRAWN = """(sel) => Array.from(document.querySelectorAll(sel)).filter(e => {
  const r = e.getBoundingClientRect(), d = e.getAttribute("d") || "";
  return d.length > 10 && r.width > 0 && r.right > 0 && r.bottom > 0
      && r.left < window.innerWidth && r.top < window.innerHeight;
}).length"""


@pytest.fixture(scope="module")
def offline_map(case, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    from borderkit.maps import case_layers, make_map, save_html

    return save_html(make_map(case, offline=True, **case_layers(case)),
                     tmp_path_factory.mktemp("basemap") / "case-offline.html")


@pytest.fixture(scope="module")
def sevan_point():
    """A point of Lake Sevan's open water: the representative point of Natural Earth's Sevan polygon."""
    from shapely.geometry import Point, shape

    doc = json.loads(shared_file("naturalearth-10m-lines-caucasus-clip/ne_10m_lakes_caucasus.geojson")
                     .read_text(encoding="utf-8"))
    near = Point(45.3, 40.35)  # Lake Sevan is the lake of the clip around this point
    poly = min((shape(f["geometry"]) for f in doc["features"]), key=lambda g: g.distance(near))
    p = poly.representative_point()
    return p.y, p.x


def _view(page, lat, lon, zoom):
    page.evaluate(f"void window.borderkitMaps[0].map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    page.wait_for_timeout(250)


def test_offline_case_map_is_within_the_size_budget(offline_map):
    assert offline_map.stat().st_size <= MAX_OFFLINE_BYTES


@pytest.mark.parametrize("width", [1400, 390])
def test_offline_map_orients_a_reader_with_no_network(browser, case, offline_map, sevan_point, width):  # noqa: F811
    s = Session(browser, offline_map, block_all=True, width=width, height=850)
    try:
        page = s.page
        assert s.requests == [s.url] and s.aborted == []
        assert s.console_errors() == []
        # the parties are named; so is every other country whose name falls in the view
        named = {b["text"] for b in page.evaluate(SHOWN, ".bk-country-name")}
        for _code, names in case.config.party_names().items():
            assert names[0] in named
        if width == 1400:
            assert {"Georgia", "Iran"} <= {n.title() for n in named}, named
        # Lake Sevan is basemap water (GSHHG), Sev Lake the osm-2017 outline the context draws
        _view(page, sevan_point[0], sevan_point[1], 10)
        assert "bk-water" in page.evaluate(_WATER_AT, list(sevan_point))
        _view(page, SEV_LAKE[0], SEV_LAKE[1], 13)
        assert "bk-lake" in page.evaluate(_WATER_AT, list(SEV_LAKE))
        # zoom 6 and zoom 14: the band of that zoom is drawn, with shapes in view
        for zoom, band in ((6, 0), (14, 2)):
            _view(page, sevan_point[0], sevan_point[1], zoom)
            assert page.evaluate("window.borderkitMaps[0].api.basemap.band()") == band
            assert page.evaluate(_DRAWN, "path.bk-water") >= 1, zoom
        _view(page, SEV_LAKE[0], SEV_LAKE[1], 6)
        assert page.evaluate(_DRAWN, "path.bk-river, path.bk-border") >= 1
        # towns are named at zoom 9 around Sevan, and no two shown labels overlap (towns included)
        _view(page, sevan_point[0], sevan_point[1], 9)
        assert page.evaluate(SHOWN, ".bk-town-name")
        boxes = page.evaluate(SHOWN, TOWNLABELS)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not overlap(a, b), (a["text"], b["text"])
        # nothing was asked of the network while zooming
        assert s.requests == [s.url] and s.console_errors() == []
    finally:
        s.close()


def test_hostile_town_names_in_a_basemap_show_literally_and_nothing_runs(browser, tmp_path):  # noqa: F811
    """A user's case folder may carry any basemap.geojson: its names reach the page as text only."""
    from borderkit.maps import make_map, save_html
    from map_fixtures import HOSTILE, synthetic_layers

    towns = [
        {"type": "Feature", "properties": {"layer": "town", "name": h, "population": 500_000 - i},
         "geometry": {"type": "Point", "coordinates": [45.6 + 0.12 * (i % 8), 39.35 + 0.12 * (i // 8)]}}
        for i, h in enumerate(HOSTILE)
    ]
    water = {"type": "Feature", "properties": {"layer": "water", "name": HOSTILE[0]},
             "geometry": {"type": "Polygon", "coordinates": [[[46.0, 39.9], [46.1, 39.9], [46.1, 40.0], [46.0, 39.9]]]}}
    path = tmp_path / "basemap.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [water, *towns]}), encoding="utf-8")
    layers = synthetic_layers()
    layers["basemap"] = path
    out = save_html(make_map(layers, offline=True), tmp_path / "hostile-basemap.html")
    s = Session(browser, out, block_all=True)
    try:
        page = s.page
        assert page.locator("path.bk-water").count() == 1
        page.evaluate("void window.borderkitMaps[0].map.setView([39.6, 46.0], 9, {animate: false})")
        page.wait_for_timeout(250)
        names = page.locator(".bk-town-name").all_text_contents()
        assert sorted(names) == sorted(HOSTILE)
        assert page.locator(".bk-town-label img, .bk-town-label script, .bk-town-label svg").count() == 0
        assert s.flag() is None and s.dialogs == [] and s.console_errors() == []
        assert s.requests == [s.url]
    finally:
        s.close()
