"""Maps without a browser: determinism, escaping, offline/SRI assets, areas, simplification, static export, CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import load_case, require_module

require_module("folium")  # CI=true: fail, never skip

from borderkit.maps import make_map, render_html, save_html  # noqa: E402
from borderkit.maps.escape import BIDI_CONTROLS, html_text, safe_url, script_json  # noqa: E402
from borderkit.maps.html import external_references  # noqa: E402
from map_fixtures import HOSTILE, HOSTILE_URLS, synthetic_layers  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "src" / "borderkit" / "maps" / "assets"


# ------------------------------------------------------------------------------------ helpers


class _Page(HTMLParser):
    """Tags, attributes and script bodies of a page, parsed as a browser tokenizer would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script":
            self._in_script = a
            self._buf = []

    def handle_data(self, data):
        if self._in_script is not None:
            self._buf.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._buf)))
            self._in_script = None


def parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    p.close()
    return p


def embedded_data(html: str) -> dict:
    page = parse(html)
    blocks = [body for attrs, body in page.scripts if attrs.get("type") == "application/json"]
    assert len(blocks) == 1
    return json.loads(blocks[0])


@pytest.fixture(scope="module")
def layers():
    return synthetic_layers()


@pytest.fixture(scope="module")
def scan_tif(tmp_path_factory):
    """A small georeferenced RGB 'old map' in UTM 38N."""
    rasterio = require_module("rasterio")
    import numpy as np
    from affine import Affine

    path = tmp_path_factory.mktemp("scan") / "sheet.tif"
    yy, xx = np.mgrid[0:60, 0:80]
    rgb = np.stack([(xx * 3 % 255), (yy * 4 % 255), np.full_like(xx, 120)]).astype("uint8")
    profile = {"driver": "GTiff", "width": 80, "height": 60, "count": 3, "dtype": "uint8", "crs": "EPSG:32638"}
    with rasterio.open(path, "w", transform=Affine(500, 0, 400000, 0, -500, 4420000), **profile) as ds:
        ds.write(rgb)
    return path


@pytest.fixture(scope="module")
def hostile_layers(scan_tif):
    layers = synthetic_layers(hostile=True)
    text = " ".join(HOSTILE)
    layers["scans"] = [{"path": scan_tif, "name": "Sheet " + text, "attribution": text, "licence": text, "note": text}]
    return layers


# ------------------------------------------------------------------------------------ imports


def test_import_borderkit_does_not_import_folium_or_matplotlib():
    code = (
        "import sys, borderkit, borderkit.maps, borderkit.cli.map_cmd; "
        "bad = [m for m in ('folium', 'branca', 'matplotlib', 'jinja2') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# ------------------------------------------------------------------------------------ escaping


def test_html_text_escapes_markup_quotes_and_bidi():
    s = html_text('<img src=x onerror="a()">\'`\u202e')
    assert "<" not in s and ">" not in s and '"' not in s and "'" not in s and "`" not in s
    assert "\u202e" not in s and "&#x202e;" in s


def test_script_json_is_safe_inside_script_and_round_trips():
    obj = {"a": "</script><!-- \u2028\u2029 & ' ` \u202e", "b": [1.5, None]}
    text = script_json(obj)
    for ch in "<>&'`\u2028\u2029\u202e":
        assert ch not in text
    assert json.loads(text) == obj


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/a?b=1&c=2", True),
        ("http://example.org", True),
        *[(u, False) for u in HOSTILE_URLS],
        ("", False),
        ("//example.org", False),
        ("https://", False),
        ("https://exa\u202emple.org", False),
        ("ftp://example.org", False),
    ],
)
def test_safe_url_only_http_links(url, ok):
    assert (safe_url(url) is not None) == ok


# ------------------------------------------------------------------------------------ determinism


def test_two_renders_are_byte_identical(layers, tmp_path):
    a = save_html(make_map(layers, title="t"), tmp_path / "a.html").read_bytes()
    b = save_html(make_map(layers, title="t"), tmp_path / "b.html").read_bytes()
    assert a == b
    assert not re.search(rb"\b[0-9a-f]{32}\b", a), "a uuid-like element id is in the page"


def test_renders_in_two_processes_are_byte_identical(tmp_path):
    code = (
        "import sys; from borderkit.maps import make_map, save_html; "
        "from map_fixtures import synthetic_layers; "
        "save_html(make_map(synthetic_layers(hostile=True), offline=sys.argv[2] == '1'), sys.argv[1])"
    )
    for offline in ("0", "1"):
        outs = []
        for i in range(2):
            path = tmp_path / f"{offline}-{i}.html"
            env = {
                **os.environ,
                "PYTHONHASHSEED": str(i + 1),
                "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
            }
            subprocess.run([sys.executable, "-c", code, str(path), offline], check=True, env=env)
            outs.append(path.read_bytes())
        assert outs[0] == outs[1]


def test_elements_added_after_make_map_get_deterministic_ids(layers):
    import folium

    pages = []
    for _ in range(2):
        m = make_map(layers)
        folium.CircleMarker([39.5, 45.6], radius=3, tooltip="added in a notebook").add_to(m)
        pages.append(render_html(m))
    assert pages[0] == pages[1]
    assert "circle_marker_ux" in pages[0]


def test_coordinates_are_rounded_to_6_decimals(layers):
    data = embedded_data(render_html(make_map(layers)))
    coords = [c for g in data["lines"] for f in g["features"] for part in f["lines"] for xy in part for c in xy]
    assert coords and all(round(c, 6) == c for c in coords)


# ------------------------------------------------------------------------------------ hostile strings


@pytest.mark.parametrize("offline", [False, True])
def test_hostile_strings_never_appear_unescaped(hostile_layers, layers, offline):
    title = "Title " + " ".join(HOSTILE)
    html = render_html(make_map(hostile_layers, title=title, offline=offline))
    clean_layers = {**layers, "scans": [hostile_layers["scans"][0]["path"]]}
    clean = render_html(make_map(clean_layers, title="Title", offline=offline))
    hp, cp = parse(html), parse(clean)
    # the same page structure: no extra tag or script came from the data
    assert [t for t, _ in hp.tags] == [t for t, _ in cp.tags]
    assert len(hp.scripts) == len(cp.scripts)
    for attrs, _ in hp.scripts:
        assert set(attrs) <= {"src", "integrity", "crossorigin", "type", "id"}
    for tag, attrs in hp.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower()
    # no hostile string, nor its dangerous parts, is in the file as it is
    for s in HOSTILE:
        assert s not in html
    for needle in ("<img src=x", "<svg onload", "</script><script>", "<!--", "<script>window"):
        assert needle not in html
    for ch in BIDI_CONTROLS + ("\u2028", "\u2029"):
        assert ch not in html, repr(ch)
    # <title> is escaped
    assert "<title>Title &lt;script&gt;" in html
    # the data are all there, intact, once decoded
    data = embedded_data(html)
    inc = data["incidents"][0]
    for s in HOSTILE:
        assert s in inc["description"]
        assert s in data["title"]
    assert any(HOSTILE[0] in g["source"] for g in data["lines"])
    assert HOSTILE[1] in data["image_overlays"][0]["name"] and HOSTILE[1] in data["image_overlays"][0]["licence"]
    assert HOSTILE[2] in data["viewsheds"][0]["label"]
    assert all(HOSTILE[3] in text for pair in data["viewsheds"][0]["details"] for text in pair)
    # measurement labels and popups: every field arrives intact (and is escaped in the file, above)
    meas = {m["id"].split(" ")[0]: m for m in data["measurements"]}
    town, adv = meas["town1-to-border"], meas["advance-depth"]
    for s in HOSTILE:
        assert s in town["label"] and s in town["range_text"] and s in town["line_source"]
        assert s in adv["value_text"]
        for field in (
            "statement",
            "claimed",
            "reading",
            "verdict",
            "accept",
            "claim_verdict",
            "all_sources",
            "other_readings",
            "method",
            "note",
            "features",
        ):
            assert s in town["claims"][0][field], field
        assert s in adv["claims"][0]["reach"]
    # links: only http(s); the hostile URLs are kept as plain text
    urls = [s["url"] for r in data["incidents"] for s in r["sources"] if s["url"]]
    assert urls and all(re.match(r"^https?://[^\s<>\"'`]+$", u) for u in urls)
    plain = {s["url_text"] for r in data["incidents"] for s in r["sources"]}
    assert {u for u in HOSTILE_URLS} <= plain


def test_layer_control_names_travel_only_as_json(hostile_layers):
    """Layer names are data: they reach the page only inside the JSON block (borderkit.js escapes them for
    Leaflet's innerHTML, checked in test_browser), never in a script that folium/branca built from a template."""
    html = render_html(make_map(hostile_layers))
    lc = embedded_data(html)["layer_control"]
    line_names = [o["name"] for o in lc["overlays"] if o["name"].startswith("Line: ")]
    assert len(line_names) == 2
    for n in line_names:
        assert HOSTILE[0] in n  # intact after JSON decoding
    assert [b["key"] for b in lc["bases"]] == ["osm", "opentopomap", "esri"]
    code = "".join(body for attrs, body in parse(html).scripts if attrs.get("type") != "application/json")
    assert "Line: " not in code and "Satellite (Esri" not in code


# ------------------------------------------------------------------------------------ assets, offline, SRI


def _manifest():
    return json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))


def test_assets_manifest_matches_vendored_files():
    m = _manifest()
    names = {p["name"]: p for p in m["packages"]}
    assert names["leaflet"]["version"] == "1.9.4"
    assert {"leaflet", "leaflet.fullscreen", "leaflet.polylinemeasure"} <= set(names)
    for pkg in m["packages"]:
        assert pkg["registry"] == "npm" and re.fullmatch(r"[0-9a-f]{64}", pkg["package_sha256"])
        folder = ASSETS / pkg["directory"]
        assert (folder / pkg["licence_file"]).is_file(), "licence file vendored"
        for f in pkg["files"]:
            assert "dist/" not in f["file"], "ignored by .gitignore"
            data = (folder / f["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"]
            assert f["integrity"] == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
            assert f["cdn_url"] == f"https://cdn.jsdelivr.net/npm/{pkg['name']}@{pkg['version']}/{f['path']}"


def test_offline_file_refers_to_nothing_outside(layers):
    html = render_html(make_map(layers, offline=True))
    assert external_references(html) == []
    assert "sourceMappingURL" not in html
    assert "tile.openstreetmap.org" not in html and "arcgisonline" not in html
    # Leaflet and both plugins are inlined
    assert 't.version="1.9.4"' in html
    assert "L.Control.PolylineMeasure" in html and "leaflet.fullscreen" in html


def test_online_assets_are_pinned_with_sri(layers):
    html = render_html(make_map(layers))
    files = {f["cdn_url"]: f for p in _manifest()["packages"] for f in p["files"]}
    refs = [(t, a) for t, a in parse(html).tags if a.get("src") or (t == "link" and a.get("href"))]
    assert len(refs) == 6
    for _tag, attrs in refs:
        url = attrs.get("src") or attrs.get("href")
        assert url in files, url
        assert attrs["integrity"] == files[url]["integrity"]
        assert attrs["crossorigin"] == "anonymous"
    # every other URL in the page is a tile template or a credit link, none is loaded by a tag
    assert all(
        r.startswith(("<script src=https://cdn.jsdelivr.net", "<link href=https://cdn.jsdelivr.net"))
        for r in external_references(html)
    )


def test_save_html_offline_mismatch_is_refused(layers, tmp_path):
    m = make_map(layers)
    with pytest.raises(ValueError, match="offline"):
        save_html(m, tmp_path / "x.html", offline=True)


# ------------------------------------------------------------------------------------ content


def test_one_layer_per_source_with_legend_metadata(layers):
    data = embedded_data(render_html(make_map(layers)))
    assert [g["source"] for g in data["lines"]] == ["synthetic-a", "synthetic-b"]
    styles = [(g["style"]["color"], g["style"]["dashArray"]) for g in data["lines"]]
    assert len(set(styles)) == 2
    for g in data["lines"]:
        assert g["date"] and g["accuracy_m"] == 100.0 and g["meta"]["licence"] == "CC0-1.0"


def test_disagreement_areas_on_the_ellipsoid(layers):
    import shapely
    from pyproj import CRS, Transformer

    m = make_map(layers)
    areas = {
        (a["source_a"], a["party_a"], a["source_b"], a["party_b"]): a["area_km2"] for a in m.borderkit_report["areas"]
    }
    t = layers["territories"]
    arm_a = t[(t.source == "synthetic-a") & (t.party == "ARM")].geometry.iloc[0]
    aze_b = t[(t.source == "synthetic-b") & (t.party == "AZE")].geometry.iloc[0]
    # independent check: both territories in a Lambert azimuthal equal-area projection centred on the data,
    # intersected there (as `borderkit overlaps` overlays in a local plane, not in lon/lat) and measured there
    laea = CRS.from_proj4("+proj=laea +lat_0=39.8 +lon_0=45.8 +datum=WGS84 +units=m")
    tr = Transformer.from_crs("EPSG:4326", laea, always_xy=True)

    def to_laea(g):
        return shapely.transform(g, lambda xy: __import__("numpy").column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    ref_km2 = shapely.intersection(to_laea(arm_a), to_laea(aze_b)).area / 1e6
    got = areas[("synthetic-a", "ARM", "synthetic-b", "AZE")]
    assert got == pytest.approx(ref_km2, rel=1e-4)
    assert got > 1.0


def test_simplification_tolerance_in_metres_is_respected(layers):
    m = make_map(layers, simplify_m=30.0)
    rep = m.borderkit_report
    assert 0 < rep["max_displacement_m"]["lines"] <= 30.0 * 1.001
    assert rep["line_vertices"]["displayed"] < rep["line_vertices"]["original"]
    full = make_map(layers, simplify_m=0).borderkit_report
    assert full["max_displacement_m"]["lines"] == 0.0
    # the input layers are untouched (analysis keeps full resolution)
    assert len(layers["lines"].geometry.iloc[0].coords) > 100


def test_display_simplification_of_a_detailed_line_is_fast_and_measured(layers):
    """200k vertices (the issue: 31 s before; O(n log n) now, ~3 s on the shared CI machine; bound generous)."""
    import time

    import numpy as np
    import shapely

    from borderkit._projection import LocalProjection
    from borderkit.geodesy import GEOD
    from borderkit.maps.layers import simplify_for_display

    n = 200_000
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 1.0, n)
    lon = 45.7 + 0.05 * np.sin(t * 60) + 0.02 * np.cumsum(rng.normal(size=n)) / np.sqrt(n)
    line = shapely.linestrings(np.column_stack([lon, 39.3 + t]))
    local = LocalProjection.from_bounds(line.bounds)
    t0 = time.perf_counter()
    (simple,), worst = simplify_for_display([line], tolerance_m=30.0, local=local)
    assert time.perf_counter() - t0 < 60.0
    assert shapely.get_num_coordinates(simple) < n / 20
    # independent check on a sample: geodesic distance from each vertex to its planar-nearest point of the
    # simplified line, found by GEOS in the local projection (the direct O(n*m) way the code no longer uses)
    idx = rng.choice(n, 3000, replace=False)
    pts = shapely.points(shapely.get_coordinates(local.geometry_to_local(line))[idx])
    near = shapely.get_coordinates(shapely.shortest_line(pts, local.geometry_to_local(simple)))
    lon1, lat1 = local.to_geographic(near[0::2, 0], near[0::2, 1])
    lon2, lat2 = local.to_geographic(near[1::2, 0], near[1::2, 1])
    sample = np.abs(GEOD.inv(lon1, lat1, lon2, lat2)[2]).max()
    assert sample <= worst + 1e-6 <= 30.0 + 1e-6
    assert worst > 20.0  # the tolerance is used, not a tiny one


def test_incidents_places_and_measurements(layers):
    data = embedded_data(render_html(make_map(layers)))
    inc = data["incidents"]
    assert [r["date"] for r in inc] == sorted(r["date"] for r in inc)
    assert {r["precision_m"] for r in inc} == {500.0, 3000.0, 1000.0, 5000.0, 2000.0}
    by_prec = {r["date_precision"]: r["date_label"] for r in inc}
    assert by_prec["month"] == "2022-09" and by_prec["year"] == "2024" and by_prec["week"].startswith("week of")
    assert len({r["color"] for r in inc}) == len({r["type"] for r in inc})
    peak = next(p for p in data["places"] if p["kind"] == "peak")
    assert [n["lang"] for n in peak["names"]] == ["az", "en", "hy", "ru"]
    assert peak["elevation_m"] == 3550.0 and peak["elevation_source_short"] == "GeoNames 395602"
    assert all(p["id"] != "lost1" for p in data["places"])
    labels = {(m["value_text"], m["line_source"]) for m in data["measurements"]}
    assert ("15.3 km", "synthetic-a") in labels and ("+3.50 km", "synthetic-b") in labels  # value_text given


def test_credits_name_every_source_and_basemaps(layers):
    data = embedded_data(render_html(make_map(layers)))
    assert {c["name"] for c in data["credits"]} == {"synthetic-a", "synthetic-b"}
    names = {b["name"] for b in data["basemaps"]}
    assert names == {"OpenStreetMap", "OpenTopoMap", "Satellite (Esri World Imagery)"}
    assert any("ODbL" in b["credit"] for b in data["basemaps"])
    assert {s["name"] for s in data["software"]} == {"leaflet", "leaflet.fullscreen", "leaflet.polylinemeasure"}
    off = embedded_data(render_html(make_map(layers, offline=True)))
    assert off["basemaps"] == []


# ------------------------------------------------------------------------------------ rasters


def _write_tif(path: Path, array, *, crs: str, transform, **extra) -> Path:
    rasterio = require_module("rasterio")
    count = 1 if array.ndim == 2 else array.shape[0]
    arr = array if array.ndim == 3 else array[None]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[2],
        height=arr.shape[1],
        count=count,
        dtype=str(arr.dtype),
        crs=crs,
        transform=transform,
        **extra,
    ) as ds:
        ds.write(arr)
    return path


def test_mercator_rows_resampling_is_exact_at_row_centres():
    import numpy as np

    from borderkit.maps._raster import _merc_lat, _merc_y, to_mercator_rows

    south, north, rows = 38.0, 42.0, 400
    lat_centres = north - (np.arange(rows) + 0.5) * (north - south) / rows
    arr = lat_centres[:, None].repeat(3, axis=1)
    out = to_mercator_rows(arr, south=south, north=north, height=200)
    y = _merc_y(north) - (np.arange(200) + 0.5) * (_merc_y(north) - _merc_y(south)) / 200
    assert np.allclose(out[:, 0], _merc_lat(y), atol=1e-9)


def test_dem_hillshade_and_scan_overlay(layers, tmp_path):
    import numpy as np
    from affine import Affine

    def from_origin(west, north, xsize, ysize):
        return Affine(xsize, 0.0, west, 0.0, -ysize, north)

    yy, xx = np.mgrid[0:120, 0:150]
    dem = (1500 + 800 * np.sin(xx / 15.0) * np.cos(yy / 20.0)).astype("float32")
    dem_path = _write_tif(tmp_path / "dem.tif", dem, crs="EPSG:4326", transform=from_origin(45.3, 40.4, 0.008, 0.008))
    rgb = np.stack([(xx * 1.5 % 255), (yy * 2 % 255), np.full_like(xx, 128)]).astype("uint8")
    scan_path = _write_tif(
        tmp_path / "soviet-sheet.tif", rgb, crs="EPSG:32638", transform=from_origin(400000, 4420000, 200, 200)
    )
    from borderkit.io.kinds import is_dem

    assert is_dem(dem_path) and not is_dem(scan_path)
    m = make_map(layers, dem=dem_path, scans=[scan_path], offline=True)
    html = render_html(m)
    data = embedded_data(html)
    kinds = [o["kind"] for o in data["image_overlays"]]
    assert kinds == ["hillshade", "scan"]
    assert data["image_overlays"][1]["name"] == "soviet-sheet"
    assert html.count('L.imageOverlay(\n                "data:image/png;base64,') == 2
    assert external_references(html) == []


def test_terrain_engine_viewshed_objects_become_polygons(layers):
    import numpy as np
    from affine import Affine

    class FakeViewshed:  # the attributes of borderkit.terrain.visibility.Viewshed
        array = np.zeros((20, 20), dtype="uint8")
        array[5:10, 5:12] = 1
        transform = Affine(0.01, 0, 45.6, 0, -0.01, 39.8)
        crs = "EPSG:4326"
        parameters = {"observer": {"lon": 45.65, "lat": 39.72}, "observer_height_m": 2.0, "radius_m": 5000}

    data = embedded_data(render_html(make_map(layers, viewsheds=[FakeViewshed()])))
    (v,) = data["viewsheds"]
    assert v["label"] == "observer at 39.7200° N, 45.6500° E"
    assert v["observer_height_m"] == 2.0 and "radius 5,000 m" in v["method"]
    # rows 5-9, cols 5-11: the box 45.65–45.72 E, 39.70–39.75 N, area on the ellipsoid
    from pyproj import Geod

    box_km2 = (
        abs(Geod(ellps="WGS84").polygon_area_perimeter([45.65, 45.72, 45.72, 45.65], [39.70, 39.70, 39.75, 39.75])[0])
        / 1e6
    )
    assert v["area_km2"] == pytest.approx(box_km2, rel=1e-3)


# ------------------------------------------------------------------------------------ static export


def test_static_png_and_svg_are_deterministic_and_escaped(hostile_layers, tmp_path):
    from borderkit.maps.static import save_static

    title = "Static " + " ".join(HOSTILE) + " $x$ $"
    a = save_static(hostile_layers, tmp_path / "a.png", title=title).read_bytes()
    b = save_static(hostile_layers, tmp_path / "b.png", title=title).read_bytes()
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b
    s1 = save_static(hostile_layers, tmp_path / "a.svg", title=title).read_text(encoding="utf-8")
    s2 = save_static(hostile_layers, tmp_path / "b.svg", title=title).read_text(encoding="utf-8")
    assert s1 == s2
    # SVG text stays text: hostile strings are XML-escaped text content, never markup
    for needle in ("<script", "<svg onload", "<img", "<!--", *BIDI_CONTROLS):
        assert needle not in s1
    import xml.etree.ElementTree as ET

    root = ET.fromstring(s1)
    assert not [e for e in root.iter() if e.tag.endswith("script") or any(k.startswith("on") for k in e.attrib)]


def test_static_map_has_scale_bar_north_arrow_legend_and_credits(layers):
    from borderkit.maps import prepare_context
    from borderkit.maps.static import render_figure

    fig = render_figure(prepare_context(layers))
    texts = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]
    joined = "\n".join(texts)
    assert "N" in texts
    assert re.search(r"^\d+ km$", joined, re.M)
    assert "Sources:" in joined and "synthetic-a" in joined and "CC0-1.0" in joined
    assert any("synthetic-b" in t for t in texts)


# ------------------------------------------------------------------------------------ CLI


def _write_inputs(folder: Path, layers) -> list[Path]:
    lines = folder / "lines.geojson"
    layers["lines"].to_file(lines)
    inc = layers["incidents"].copy()
    inc["sources"] = inc["sources"].map(json.dumps)
    inc["date"] = inc["date"].dt.strftime("%Y-%m-%d")
    inc["date_end"] = ""
    incidents = folder / "incidents.geojson"
    inc.to_file(incidents)
    return [lines, incidents]


def test_cli_renders_data_files(layers, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from borderkit.cli.map_cmd import map_
    from borderkit.io.kinds import detect_kind

    monkeypatch.chdir(tmp_path)
    files = _write_inputs(tmp_path, layers)
    assert [detect_kind(f) for f in files] == ["lines", "incidents"]
    runner = CliRunner()
    res = runner.invoke(map_, [*map(str, files), "-o", "out/m.html", "--offline", "--png", "m.png", "--svg", "m.svg"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "out/m.html").read_text(encoding="utf-8")
    assert external_references(html) == []
    assert (tmp_path / "m.png").stat().st_size > 10_000 and (tmp_path / "m.svg").is_file()
    assert "largest displacement" in res.output
    # an explicit output is not replaced without --overwrite (usage error, exit 2)
    res2 = runner.invoke(map_, [*map(str, files), "-o", "out/m.html"])
    assert res2.exit_code == 2 and "--overwrite" in res2.output
    res3 = runner.invoke(map_, [*map(str, files), "-o", "out/m.html", "--overwrite"])
    assert res3.exit_code == 0
    # without -o the file goes to maps/<first data file>.html
    res4 = runner.invoke(map_, [str(files[0]), "--json"])
    assert res4.exit_code == 0
    assert json.loads(res4.output)["written"]["html"] == os.path.join("maps", "lines.html")
    # stdout
    res5 = runner.invoke(map_, [str(files[0]), "-o", "-"])
    assert res5.exit_code == 0 and res5.output.startswith("<!DOCTYPE html>")


def test_cli_rejects_unknown_files(tmp_path):
    from click.testing import CliRunner

    from borderkit.cli.map_cmd import map_
    from borderkit.errors import FileFormatError
    from borderkit.io.kinds import detect_kind

    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="line_id"):
        detect_kind(bad)
    res = CliRunner().invoke(map_, [str(bad), "-o", str(tmp_path / "o.html")])
    assert res.exit_code != 0 and isinstance(res.exception, FileFormatError)


def test_cli_through_the_borderkit_group(layers, tmp_path, monkeypatch):
    """With the command registered in the group, errors become one line and the documented exit code."""
    from click.testing import CliRunner

    from borderkit.cli import main

    monkeypatch.setitem(main.COMMANDS, "map", "borderkit.cli.map_cmd:map_")
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(main.cli, ["map", str(bad), "-o", str(tmp_path / "o.html")])
    assert res.exit_code == 1
    assert "borderkit: error:" in res.output and "line_id" in res.output


# ------------------------------------------------------------------------------------ the bundled case


@pytest.fixture(scope="module")
def case_html(tmp_path_factory):
    case = load_case()
    from borderkit.maps import case_layers

    out = tmp_path_factory.mktemp("case")
    m = make_map(case, **case_layers(case))
    p = save_html(m, out / "armenia-azerbaijan.html")
    return case, m, p


def test_default_case_map_size_and_content(case_html):
    case, m, path = case_html
    size = path.stat().st_size
    assert size <= 2_000_000, f"default map is {size} bytes"
    data = embedded_data(path.read_text(encoding="utf-8"))
    assert {g["source"] for g in data["lines"]} == set(case.lines["source"])
    credits = {c["name"] for c in data["credits"]}
    assert set(case.lines["source"]) <= credits
    assert any("ODbL" in (c["licence"] + c["attribution"]) for c in data["credits"])
    assert m.borderkit_report["max_displacement_m"]["lines"] <= 30.0 * 1.001
    assert len(data["incidents"]) == len(case.incidents)


def test_cli_default_writes_the_case_map(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from borderkit.cli.map_cmd import map_

    load_case()
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(map_, [])
    assert res.exit_code == 0, res.output
    first = (tmp_path / "maps" / "armenia-azerbaijan.html").read_bytes()
    res = CliRunner().invoke(map_, [])  # the default file is rewritten, identically
    assert res.exit_code == 0
    assert (tmp_path / "maps" / "armenia-azerbaijan.html").read_bytes() == first
    assert len(first) <= 2_000_000
    committed = REPO / "maps" / "armenia-azerbaijan.html"
    if committed.exists():
        # compare digests: pytest's diff of two 1 MB byte strings takes minutes (and is not truncated in CI)
        digest = hashlib.sha256(committed.read_bytes()).hexdigest()
        assert digest == hashlib.sha256(first).hexdigest(), (
            "maps/armenia-azerbaijan.html is not what the code renders from the bundled data: "
            "regenerate it with `borderkit map` (make map) and commit it"
        )


@pytest.fixture(scope="module")
def case_claims(case_html):
    from borderkit.claims import evaluate_claims

    case, m, path = case_html
    return case, evaluate_claims(case), embedded_data(path.read_text(encoding="utf-8"))


def _segments(data, claim_id, reading):
    return [m for m in data["measurements"] if m["id"].startswith(f"{claim_id} {reading} ")]


def test_case_measurements_come_from_the_claims_table(case_claims):
    case, table, data = case_claims
    sources = sorted(set(case.lines["source"]))
    measured = table[table["verdict"] != "cannot be measured"]
    for cid, reading in (
        ("khndzoresk-12km-from-border", "(a)"),
        ("khndzoresk-12km-from-border", "(b)"),
        ("nakhchivan-25km-straight-line", "(a)"),
        ("sev-lake-advance-3.5km", "(a)"),
    ):
        segs = _segments(data, cid, reading)
        assert sorted(m["line_source"] for m in segs) == sources, (cid, reading)
        rows = measured[(measured["claim_id"] == cid) & (measured["reading"] == reading)].set_index("source")
        for m in segs:
            r = rows.loc[m["line_source"]]
            assert m["value"] == pytest.approx(float(r["measured_value"]), abs=1e-9)
            assert m["unit"] == r["claimed_unit"] == "km"
            ends = {tuple(m["from"]), tuple(m["to"])}
            assert ends == {
                (round(float(r["from_lon"]), 6), round(float(r["from_lat"]), 6)),
                (round(float(r["to_lon"]), 6), round(float(r["to_lat"]), 6)),
            }
            claim = m["claims"][0]
            assert claim["statement"] == r["statement"] and claim["verdict"].startswith(r["verdict"])
            assert claim["claim_verdict"] == r["claim_verdict"] and claim["method"] == r["method"]
            assert claim["claimed"].endswith(f"{float(r['claimed_value']):g} km")
        # one permanent label per reading, on the most detailed source, with the range over all sources
        labelled = [m for m in segs if m["permanent"]]
        assert [m["line_source"] for m in labelled] == ["osm-2017"]
        assert labelled[0]["range_text"].startswith("4 lines: ")
    # the readings not drawn and the heights are not segments; reading (b) of Nakhchivan is in the popup
    assert not _segments(data, "nakhchivan-25km-straight-line", "(b)")
    assert not [m for m in data["measurements"] if m["id"].startswith("mets-ishkhanasar")]
    gap = _segments(data, "nakhchivan-25km-straight-line", "(a)")
    assert "(b) goris" in gap[0]["claims"][0]["other_readings"]
    osm_gap = next(m for m in gap if m["line_source"] == "osm-2017")
    assert osm_gap["value_text"] == "25.8 km" and osm_gap["label_min_zoom"] is None
    khn = {m["line_source"]: m for m in _segments(data, "khndzoresk-12km-from-border", "(a)")}
    assert khn["osm-2017"]["value_text"] == "4.67 km" and khn["osm-2017"]["label"] == "Khndzoresk → line, shortest"
    assert khn["osm-2017"]["label_min_zoom"] == 10


def test_case_sev_lake_advance_is_signed_drawn_from_the_line_and_reach_tested(case_claims):
    case, table, data = case_claims
    segs = {m["line_source"]: m for m in _segments(data, "sev-lake-advance-3.5km", "(a)")}
    lake = case.places.set_index("place_id").loc["sev_lake"].geometry
    for src, m in segs.items():
        # from the nearest point of the line to the lake
        assert m["to"] == [round(lake.x, 6), round(lake.y, 6)], src
        assert m["label"] == "Sev Lake: depth into ARM"
        # both claims about the lake share the segment: one record, both claims in its popup
        assert [c["id"] for c in m["claims"]] == ["sev-lake-advance-3.5km", "sev-lake-advance-3km"]
        assert all(c["reach"] for c in m["claims"])
    assert segs["osm-2017"]["value_text"] == "+1.01 km"
    assert segs["natural-earth-10m"]["value_text"] == "\u22120.66 km"
    assert segs["osm-2017"]["range_text"] == "4 lines: \u22120.66 km to +1.01 km"
    assert "reaches the place, with 2.49 km to spare" in segs["osm-2017"]["claims"][0]["reach"]
    assert "not beyond this line" in segs["gshhg-wdbii"]["claims"][0]["reach"]
    # the 3 km claim was not drawn twice
    assert not _segments(data, "sev-lake-advance-3km", "(a)")


def test_case_viewshed_layer(case_html):
    import numpy as np

    from borderkit.terrain.peaks import peak_check
    from borderkit.terrain.visibility import viewshed

    case, m, path = case_html
    html = path.read_text(encoding="utf-8")
    data = embedded_data(html)
    (v,) = data["viewsheds"]
    name = "Viewshed from Mets Ishkhanasar (GLOBE 30\u2033, observer 2 m, 30 km)"
    assert v["label"] == name and v["show"] is False and v["observer_height_m"] == 2.0
    # the layer control lists it, and it is not on the map when the page opens
    page = parse(html)
    main = "".join(body for attrs, body in page.scripts if not attrs.get("src") and "borderkit.build(" in body)
    (key,) = [o["key"] for o in data["layer_control"]["overlays"] if o["name"] == name]
    group = re.search(re.escape(json.dumps(key)) + r"\s*:\s*(feature_group_\w+)", main).group(1)
    assert f"{group}.addTo(" not in main
    # the area is the ellipsoidal area of the visible cells of the terrain engine's viewshed
    at = peak_check("mets_ishkhanasar", places=case.places, dem=case.dem)["dem_max_at"]
    ref = viewshed((at["lon"], at["lat"]), dem=case.dem, radius_m=30_000, observer_height_m=2.0)
    assert v["area_km2"] == pytest.approx(ref.visible_area_km2(), abs=1e-3)
    details = dict(v["details"])
    assert "30 km" in details["radius"] and "GLOBE" in details["DEM"] and "k = 0.13" in details["curvature"]
    assert "observer point" in details and "2 m above the ground" in details["observer height"]
    # no file path of the machine that rendered the map
    assert str(REPO) not in html and "geodata" not in json.dumps(v["details"])
    # displayed outlines stay within the simplification tolerance of the cell outlines
    assert m.borderkit_report["max_displacement_m"]["viewsheds"] <= 30.0 * 1.001
    assert np.isfinite(v["area_km2"]) and v["polygons"]


def test_measurement_rows_of_one_segment_are_merged_and_options_validated(layers):
    import pandas as pd

    from borderkit.maps.layers import measurement_records

    base = layers["measurements"].iloc[0].to_dict()
    rows = [
        {
            **base,
            "claim_id": "a",
            "statement": "first",
            "label_direction": "sideways",
            "label_at": "nowhere",
            "label_offset": "12,-7",
            "permanent": False,
        },
        {**base, "claim_id": "b", "statement": "second", "label_offset": "x", "permanent": True},
        {**base, "claim_id": "c", "to_lon": 45.71, "label_offset": [1e9, float("nan")], "permanent": float("nan")},
    ]
    recs = measurement_records(pd.DataFrame(rows))
    assert len(recs) == 2
    merged = next(r for r in recs if len(r["claims"]) == 2)
    assert [c["statement"] for c in merged["claims"]] == ["first", "second"]
    assert merged["permanent"] is True  # one of the rows asks for a label
    assert merged["label_direction"] == "center" and merged["label_at"] == "mid"
    assert merged["label_offset"] == [12, -7]
    other = next(r for r in recs if len(r["claims"]) == 1)
    assert other["label_offset"] == [0, 0] and other["permanent"] is True  # NaN: the default
    # hover-only segments come first, so the labelled one is drawn on top
    assert [r["permanent"] for r in measurement_records(pd.DataFrame(rows[:1] + rows[2:]))] == [False, True]


def test_static_map_leaves_hidden_viewsheds_and_small_scale_labels_off(layers):
    from borderkit.maps import prepare_context
    from borderkit.maps.static import render_figure

    def texts(fig):
        return "\n".join(t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")))

    hidden = layers["viewsheds"].assign(show=False)
    meas = layers["measurements"].assign(label_min_zoom=[20, None])
    shown = texts(render_figure(prepare_context({**layers, "measurements": meas})))
    assert "viewshed" in shown and "1 measurement label(s) left off at this scale" in shown
    assert "advance depth" in shown and "Sampletown → border" not in shown
    off = texts(render_figure(prepare_context({**layers, "viewsheds": hidden})))
    assert "viewshed" not in off


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (float("inf"), "unknown (the data give 'inf'"),
        ("1e400", "unknown (the data give '1e400'"),
        (-5.0, "unknown (the data give '-5.0'"),
        (float("nan"), "unknown (not given)"),
        (None, "unknown (not given)"),
    ],
)
def test_non_finite_precision_is_never_printed_as_a_number(layers, value, shown, tmp_path):
    """precision_m of inf/1e400 used to show "± 0 m": unknown uncertainty is said to be unknown, no ring drawn."""
    from borderkit.maps.static import save_static

    inc = layers["incidents"].copy()
    inc["precision_m"] = inc["precision_m"].astype(object)
    inc.loc[inc.index[0], "precision_m"] = value
    lay = {**layers, "incidents": inc}
    data = embedded_data(render_html(make_map(lay)))
    first = next(r for r in data["incidents"] if r["id"] == inc["incident_id"].iloc[0])
    assert first["precision_m"] is None and first["precision_note"].startswith(shown)
    others = [r for r in data["incidents"] if r is not first]
    assert all(r["precision_m"] > 0 and "precision_note" not in r for r in others)
    assert save_static(lay, tmp_path / "m.png").stat().st_size > 10_000  # no ring, no crash


def test_cli_damaged_rasters_give_one_line(tmp_path, scan_tif):
    """A truncated GeoTIFF or a text file named .tif: one line naming the file, exit 1 (was exit 70)."""
    from click.testing import CliRunner

    from borderkit.cli.main import cli

    whole = scan_tif.read_bytes()
    cases = {"trunc.tif": whole[: len(whole) // 3], "text.tif": b"not a raster\n", "empty.tif": b""}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        res = CliRunner().invoke(cli, ["map", str(path), "-o", str(tmp_path / "o.html")])
        out = res.output.strip()
        assert res.exit_code == 1, (name, out)
        assert len(out.splitlines()) == 1 and str(path) in out and "Traceback" not in out, out
        assert not (tmp_path / "o.html").exists()


# ------------------------------------------------------------------------------------ cases are data


def _case_with_file(case, tmp_path, edit):
    """The case with its case file edited (the layers unchanged)."""
    import dataclasses

    from borderkit.cases import read_case_file

    text = case.case_file.read_text(encoding="utf-8")
    edited = edit(text)
    assert edited != text, "the edit did not apply"
    p = tmp_path / "case.toml"
    p.write_text(edited, encoding="utf-8")
    return dataclasses.replace(case, config=read_case_file(p))


def test_case_map_title_readings_and_label_zoom_come_from_the_case_file(case_claims, tmp_path):
    import dataclasses
    import re as _re
    import tomllib

    from borderkit.cases import CaseConfig
    from borderkit.maps import case_measurements, prepare_context

    case, table, _ = case_claims
    raw = tomllib.loads(case.case_file.read_text(encoding="utf-8"))
    nakh = next(iter(raw["map"]["readings"]))

    def edit(text):
        text = text.replace(f'title = "{raw["map"]["title"]}"', 'title = "Another case, another title"')
        text = _re.sub(r"(?m)^label_min_zoom = \d+$", "label_min_zoom = 12", text)
        return text.replace(f'"{nakh}" = ["(a)"]', f'"{nakh}" = ["(b) goris"]')

    other = _case_with_file(case, tmp_path, edit)
    light = {"territories": case.territories.iloc[:0], "incidents": case.incidents.iloc[:0]}
    assert prepare_context(dataclasses.replace(other, **light), hillshade=False).title == "Another case, another title"
    assert prepare_context(dataclasses.replace(case, **light), hillshade=False).title == raw["map"]["title"]
    no_file = dataclasses.replace(case, config=CaseConfig(), **light)
    assert prepare_context(no_file, hillshade=False).title == "Border map"

    before = case_measurements(case, table=table)
    after = case_measurements(other, table=table)
    assert set(before.loc[before.claim_id == nakh, "reading"].str[:3]) == {"(a)"}
    assert set(after.loc[after.claim_id == nakh, "reading"].str[:9]) == {"(b) goris"}
    placed = {(lab["claim"], lab["reading"]) for lab in raw["map"]["labels"] if "label_min_zoom" in lab}
    free = [r.label_min_zoom for r in after.itertuples() if (r.claim_id, r.reading[:3]) not in placed]
    assert free and set(free) == {12}
    free = [r.label_min_zoom for r in before.itertuples() if (r.claim_id, r.reading[:3]) not in placed]
    assert set(free) == {raw["map"]["label_min_zoom"]}
    # a label placement of the file moves its label
    lab = next(x for x in raw["map"]["labels"] if x.get("label_direction") == "bottom")
    row = before[(before.claim_id == lab["claim"]) & (before.reading.str[:3] == lab["reading"])].iloc[0]
    assert (row.label_at, row.label_direction) == (lab["label_at"], "bottom")


def test_case_viewsheds_warn_when_the_dem_fails(tmp_path):
    import dataclasses

    from borderkit.errors import MapLayerWarning
    from borderkit.maps import case_viewsheds

    case = load_case()
    bad = tmp_path / "dem.tif"
    bad.write_bytes(b"II*\x00 not a GeoTIFF")
    with pytest.warns(MapLayerWarning, match="dem.tif"):
        assert case_viewsheds(dataclasses.replace(case, dem=bad)) is None


def test_disagreement_km2_is_the_same_in_the_map_the_cli_and_the_api():
    """One implementation: the map's areas are borderkit.overlaps.divergence's, as `borderkit overlaps` prints."""
    import dataclasses

    import shapely
    from click.testing import CliRunner
    from pyproj import CRS, Transformer

    from borderkit.cli import main
    from borderkit.maps import prepare_context
    from borderkit.overlaps import divergence

    case = load_case()
    a, b = "dcw-gmt", "natural-earth-10m"
    both = [a, b]
    sub = dataclasses.replace(
        case,
        lines=case.lines[case.lines["source"].isin(both)],
        territories=case.territories[case.territories["source"].isin(both)],
        incidents=case.incidents.iloc[:0],
        places=case.places.iloc[:0],
    )
    report = prepare_context(sub, hillshade=False).report
    in_map = sum(s["area_km2"] for s in report["areas"] if s["kind"] == "disagreement")
    api = float(divergence(case.lines, source_a=a, source_b=b, territories=case.territories).pairs["area_km2"].iloc[0])
    res = CliRunner().invoke(main.cli, ["overlaps", "--source", a, "--source", b, "--json"])
    assert res.exit_code == 0, res.output
    cli = json.loads(res.output)["pairs"][0]["area_km2"]
    assert in_map == pytest.approx(api, rel=1e-9) and cli == pytest.approx(api, rel=1e-9)
    # independent magnitude check: the same intersections in a Lambert equal-area plane (areas there are exact
    # for straight edges in that plane; the overlay convention differs by far less than 0.1 %)
    laea = Transformer.from_crs(
        "EPSG:4326", CRS.from_proj4("+proj=laea +lat_0=40 +lon_0=45.5 +datum=WGS84 +units=m"), always_xy=True
    )
    t = case.territories

    def terr(src, party):
        g = shapely.union_all(t[(t.source == src) & (t.party == party)].geometry.to_numpy())
        return shapely.transform(g, lambda xy: __import__("numpy").column_stack(laea.transform(xy[:, 0], xy[:, 1])))

    ref = (
        shapely.intersection(terr(a, "ARM"), terr(b, "AZE")).area
        + shapely.intersection(terr(a, "AZE"), terr(b, "ARM")).area
    ) / 1e6
    assert in_map == pytest.approx(ref, rel=1e-3)


def test_hillshade_is_the_terrain_engines_however_the_dem_is_given(tmp_path):
    import numpy as np
    from affine import Affine

    from borderkit.maps import prepare_context
    from borderkit.terrain.hillshade import hillshade_png

    yy, xx = np.mgrid[0:60, 0:80]
    dem = (1500 + 800 * np.sin(xx / 9.0) * np.cos(yy / 12.0)).astype("float32")
    dem_path = _write_tif(tmp_path / "dem.tif", dem, crs="EPSG:4326", transform=Affine(0.01, 0, 45.3, 0, -0.01, 40.4))
    expected = hillshade_png(dem_path, opacity=1.0, web_mercator=True)["png"]
    as_dem = prepare_context({"dem": dem_path}).inputs.hillshade
    as_hillshade = prepare_context({}, hillshade=dem_path).inputs.hillshade
    assert as_dem.png == as_hillshade.png == expected


def test_cli_measurement_table_with_a_bad_cell_names_row_and_column(tmp_path):
    from click.testing import CliRunner

    from borderkit.cli import main

    csv_path = tmp_path / "m.csv"
    csv_path.write_text(
        "from_lon,from_lat,to_lon,to_lat,value,unit\n45.5,39.5,45.6,39.6,12.1,km\n45.5,north,45.6,39.6,3,km\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(main.cli, ["map", str(csv_path), "-o", str(tmp_path / "o.html")])
    assert res.exit_code == 1
    assert "from_lat" in res.output and "2" in res.output and "north" in res.output
    assert "Traceback" not in res.output
    csv_path.write_text("from_lon,from_lat,to_lon,to_lat,value,unit\n45.5,39.5,45.6,39.6,12.1,km\n", encoding="utf-8")
    res = CliRunner().invoke(main.cli, ["map", str(csv_path), "-o", str(tmp_path / "o.html"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["measurements"] == 1


def test_place_labels_in_the_chosen_language_and_every_name_in_the_popup():
    """--lang: one label per place in that language (else the next language with a name);
    the popup keeps every name, in the alphabetical order of the language tags."""
    from borderkit import datasets
    from borderkit.maps import prepare_context

    case = datasets.load("armenia-azerbaijan")
    places = case.places
    hy = prepare_context(case, lang="hy").payload["places"]
    by_id = {p["id"]: p for p in hy}
    row = places.set_index("place_id").loc["mets_ishkhanasar"]
    assert by_id["mets_ishkhanasar"]["label"] == {"lang": "hy", "name": row["name_hy"]}
    names = [n["lang"] for n in by_id["mets_ishkhanasar"]["names"]]
    assert names == sorted(names) and {"en", "hy", "az"} <= set(names)
    # a place without an Armenian name is labelled in the next language that has one, never transliterated
    no_hy = places[(places["name_hy"].fillna("") == "") & places.geometry.notna() & ~places.geometry.is_empty]
    if len(no_hy):
        pid = no_hy["place_id"].iloc[0]
        assert by_id[pid]["label"]["lang"] != "hy" and by_id[pid]["label"]["name"]


# ------------------------------------------------------------------------------------ view, layers, embed (issue 14)


def _own_incidents(folder: Path, layers) -> Path:
    inc = layers["incidents"].copy()
    inc["sources"] = inc["sources"].map(json.dumps)
    inc["date"] = inc["date"].dt.strftime("%Y-%m-%d")
    inc["date_end"] = ""
    path = folder / "incidents.geojson"
    inc.to_file(path)
    return path


def test_cli_own_incidents_leave_the_case_measurements_and_viewshed_unless_asked(layers, tmp_path):
    from click.testing import CliRunner

    from borderkit.cli.map_cmd import map_

    load_case()
    inc = _own_incidents(tmp_path, layers)
    runner = CliRunner()
    res = runner.invoke(map_, [str(inc), "--case", "armenia-azerbaijan", "-o", str(tmp_path / "a.html"), "--json"])
    assert res.exit_code == 0, res.output
    data = embedded_data((tmp_path / "a.html").read_text(encoding="utf-8"))
    assert data["measurements"] == [] and data["viewsheds"] == []
    assert len(data["incidents"]) == len(layers["incidents"]) and data["lines"]  # the case's lines stay
    assert {r["id"] for r in data["incidents"]} == set(layers["incidents"]["incident_id"])
    res = runner.invoke(
        map_,
        [str(inc), "--case", "armenia-azerbaijan", "-o", str(tmp_path / "b.html"),
         "--layers", "lines,incidents,measurements"],
    )
    assert res.exit_code == 0, res.output
    data = embedded_data((tmp_path / "b.html").read_text(encoding="utf-8"))
    assert data["measurements"] and data["viewsheds"] == [] and data["places"] == [] and data["areas"] == []


def test_cli_view_bounds_fit_and_embed(layers, tmp_path):
    from click.testing import CliRunner
    from pyproj import Geod

    from borderkit.cli.map_cmd import map_

    inc = _own_incidents(tmp_path, layers)
    runner = CliRunner()
    res = runner.invoke(map_, [str(inc), "-o", str(tmp_path / "v.html"), "--view", "39.5,45.6,11", "--embed"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "v.html").read_text(encoding="utf-8")
    assert "center: [39.5, 45.6]" in html and '"zoom": 11' in html and "fitBounds" not in html
    data = embedded_data(html)
    assert data["embed"] is True and data["url_state"] is False
    # --fit: the incidents' box widened by 2 km on every side (checked with pyproj.Geod here)
    res = runner.invoke(map_, [str(inc), "-o", str(tmp_path / "f.html"), "--fit"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "f.html").read_text(encoding="utf-8")
    xs, ys = layers["incidents"].geometry.x, layers["incidents"].geometry.y
    g = Geod(ellps="WGS84")
    south = g.fwd(xs.min(), ys.min(), 180, 2000)[1]
    north = g.fwd(xs.min(), ys.max(), 0, 2000)[1]
    west = g.fwd(xs.min(), (ys.min() + ys.max()) / 2, 270, 2000)[0]
    east = g.fwd(xs.max(), (ys.min() + ys.max()) / 2, 90, 2000)[0]
    m = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", html)
    assert m, "no fitBounds"
    got = [float(v) for v in m.groups()]
    assert got == pytest.approx([south, west, north, east], abs=2e-6)
    # a 2 km margin is about 0.018° of latitude (1° ≈ 111 km)
    assert ys.min() - got[0] == pytest.approx(2000 / 111_000, rel=0.01)
    data = embedded_data(html)
    assert data["embed"] is False and data["url_state"] is True


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--view", "39.5,45.6"], "3 comma-separated numbers"),
        (["--view", "95,45.6,8"], "latitude"),
        (["--view", "39,45,nan"], "finite"),
        (["--bounds", "46,39,45,40"], "west < east"),
        (["--bounds", "a,b,c,d"], "4 comma-separated numbers"),
        (["--layers", "lines,<script>"], "unknown layer"),
        (["--view", "39.5,45.6,8", "--fit"], "one of --view, --bounds and --fit"),
    ],
)
def test_cli_bad_view_options_are_usage_errors(layers, tmp_path, args, needle):
    from click.testing import CliRunner

    from borderkit.cli.map_cmd import map_

    inc = _own_incidents(tmp_path, layers)
    res = CliRunner().invoke(map_, [str(inc), "-o", str(tmp_path / "x.html"), *args])
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.html").exists()


def test_make_map_draw_keeps_only_the_named_layers(layers):
    data = embedded_data(render_html(make_map(layers, draw=["incidents"])))
    assert data["incidents"] and data["lines"] == [] and data["areas"] == [] and data["places"] == []
    with pytest.raises(ValueError, match="unknown layer"):
        make_map(layers, draw=["roads"])


# ------------------------------------------------------------------------------------ popups a reader understands


def test_words_for_distances_uncertainty_and_dates():
    from borderkit.maps.layers import date_text, distance_words, side_name, uncertainty_words

    assert [distance_words(m) for m in (7, 40, 180, 800, 1000, 1540, 9_400, 12_300, 25_000)] == [
        "7 m", "40 m", "180 m", "0.8 km", "1 km", "1.5 km", "9.4 km", "12 km", "25 km",
    ]
    assert uncertainty_words(2000.0) == "within about 2 km"
    assert uncertainty_words(500.0) == "within about 500 m"
    assert uncertainty_words(0.0) == "exact point"
    assert uncertainty_words(None, "unknown (not given)") == "unknown (not given)"
    assert date_text("2021-05-12", "month") == "2021-05 (known to the month)"
    assert date_text("2021-05-12", "day") == "2021-05-12 (exact day)"
    assert date_text("", "day") == "date unknown"
    assert side_name("ARM", {"ARM": ("Armenia", "Armenian")}) == "Armenia side"
    assert side_name("XYZ", {}) == "XYZ side"


def test_incident_sides_match_an_independent_geodesic_check(case_html):
    """Each incident's distance to each drawn line against an azimuthal equidistant projection centred on
    the incident (pyproj; distances from the centre are geodesic), its side against shapely's point in
    the source's territory polygons."""
    import numpy as np
    import shapely
    from pyproj import CRS, Transformer

    case, m, path = case_html
    data = embedded_data(path.read_text(encoding="utf-8"))
    names = case.config.party_names()
    inc = case.incidents.set_index("incident_id")
    checked = 0
    for r in data["incidents"]:
        assert "sides" in r and [s["source"] for s in r["sides"]] == sorted(case.lines["source"].unique())
        pt = inc.loc[r["id"]].geometry
        aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={pt.y} +lon_0={pt.x} +ellps=WGS84 +units=m")
        to = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
        for side in r["sides"]:
            lines = case.lines[case.lines["source"] == side["source"]]
            geoms = [
                shapely.transform(g, lambda xy, t=to: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
                for g in lines.geometry
            ]
            d = min(shapely.distance(shapely.Point(0, 0), g) for g in geoms)
            assert side["distance_m"] == pytest.approx(d, rel=2e-3, abs=5.0), (r["id"], side)
            terr = case.territories[case.territories["source"] == side["source"]]
            inside = sorted({str(p) for p, g in zip(terr["party"], terr.geometry, strict=True) if g.contains(pt)})
            if len(inside) == 1:
                assert side["party"] == inside[0], (r["id"], side)
                assert f"on the {names[inside[0]][0]} side of {side['source']}" in side["text"]
                checked += 1
    assert checked >= 10
    sev = next(r for r in data["incidents"] if r["id"] == "2021-05-12-sev-lake")
    assert sev["location_text"].startswith("within about")


def test_popups_carry_no_ids_or_notes(layers):
    """The page script builds no popup row from an id or a notes field (they stay in the data)."""
    from borderkit.maps._assets import web_text

    js = web_text("borderkit.js")
    assert re.search(r'row\([^)]*"id"', js) is None
    assert re.search(r'row\([^)]*"notes"', js) is None
    data = embedded_data(render_html(make_map(layers)))
    assert all("id" in r for r in data["incidents"])  # still in the data


# ------------------------------------------------------------------------------------ accessibility


def _css_rules(css: str) -> dict[str, dict[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules: dict[str, dict[str, str]] = {}
    for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        decl = dict(
            (k.strip(), v.strip()) for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d)
        )
        for one in sel.split(","):
            rules.setdefault(" ".join(one.split()), {}).update(decl)
    return rules


def _rgba(value: str) -> tuple[float, float, float, float]:
    value = value.strip()
    if value.startswith("#"):
        h = value[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0)
    m = re.match(r"rgba?\(([^)]*)\)", value)
    assert m, value
    parts = [float(p) for p in m.group(1).split(",")]
    return (parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 1.0)


def _over(fg: tuple[float, float, float, float], bg: tuple[float, float, float]) -> tuple[float, float, float]:
    a = fg[3]
    return tuple(a * f + (1 - a) * b for f, b in zip(fg[:3], bg, strict=True))  # type: ignore[return-value]


def _luminance(rgb: tuple[float, float, float]) -> float:
    # WCAG 2.x relative luminance (sRGB)
    def lin(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_panel_text_contrast_passes_wcag_aa():
    """Every text colour of borderkit.css on the panel it sits on, with the panel's translucent background
    composited over the worst map behind it (black and white both tried): ≥ 4.5:1 (WCAG 2.1 AA, normal
    text). Values are read from the style sheet; the formula is WCAG's."""
    from borderkit.maps._assets import web_text

    rules = _css_rules(web_text("borderkit.css"))
    panel = rules[".bk-control"]["background"]
    tooltip_dark = rules[".leaflet-tooltip.bk-measure-label"]["background"]
    tooltip_light = rules[".leaflet-tooltip.bk-place-label"]["background"]
    pairs = {  # selector of the text → background it is drawn on
        ".bk-control": panel,
        ".bk-attr": panel,
        ".bk-lh": panel,
        ".bk-ls": panel,
        ".bk-note": panel,
        ".bk-k": panel,
        ".bk-badurl": panel,
        ".bk-name .bk-lang": panel,
        ".bk-totals > summary": panel,
        ".bk-control a": panel,
        ".bk-popup a": "#ffffff",  # Leaflet's popup is opaque white (leaflet.css)
        ".bk-textalt a": rules[".bk-textalt:focus-within"]["background"],
        ".bk-plabel .bk-lang": tooltip_light,
        ".bk-keybtn": rules[".bk-keybtn"]["background"],
        ".bk-title-sub": rules[".bk-title"]["background"],
        ".leaflet-tooltip.bk-place-label": tooltip_light,
        ".bk-elev": tooltip_light,
        ".leaflet-tooltip.bk-measure-label": tooltip_dark,
        ".bk-mwhat": tooltip_dark,
        ".bk-mrange": tooltip_dark,
        ".leaflet-container .leaflet-control-attribution": rules[".leaflet-container .leaflet-control-attribution"][
            "background"
        ],
        ".leaflet-container .leaflet-control-attribution a": rules[
            ".leaflet-container .leaflet-control-attribution"
        ]["background"],
        ".bk-textalt:focus-within": rules[".bk-textalt:focus-within"]["background"],
    }
    worst = {}
    for sel, bg in pairs.items():
        fg = _rgba(rules[sel]["color"])
        for behind in ((0, 0, 0), (255, 255, 255)):
            back = _over(_rgba(bg), behind)
            worst[sel] = min(worst.get(sel, 99.0), _contrast(_over(fg, back), back))
    # every text colour of the style sheet is checked (map symbols drawn on the terrain with a white halo aside)
    coloured = {sel for sel, d in rules.items() if "color" in d}
    assert coloured - set(pairs) <= {
        ".bk-peak-sym",
        ".bk-peak",
        ".bk-country-name",
        ".leaflet-tooltip.bk-place-label::before",
    }, (
        coloured - set(pairs)
    )
    low = {s: round(c, 2) for s, c in worst.items() if c < 4.5}
    assert not low, f"text below 4.5:1 contrast: {low}"
    # the formula against WCAG's published extremes: black on white is 21:1, #767676 on white 4.54:1
    assert _contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert _contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


# ------------------------------------------------------------------------------------ context (issue 14)


def _relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance (sRGB), computed here from the published formula."""
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_country_context_names_every_party_of_one_source_with_equal_weight():
    """Fills and names for every party of ONE reference source (the first by name), named by the case
    file (else the source), each name inside its own party and inside the initial view, and colours
    of equal weight: no party's fill darker or more saturated than another's."""
    import colorsys

    import shapely

    from borderkit import datasets
    from borderkit.maps import prepare_context

    case = datasets.load("armenia-azerbaijan")
    payload = prepare_context(case).payload
    cx = payload["context"]
    terr = case.territories
    first = sorted(set(terr["source"]))[0]
    assert cx["source"] == first
    ref = terr[terr["source"] == first]
    assert [c["party"] for c in cx["countries"]] == sorted(set(ref["party"]))
    names = {c["party"]: c["name"] for c in cx["countries"]}
    for code, known in case.config.party_names().items():  # the case file's names win
        assert names[code] == known[0]
    for code in set(ref["party"]) - set(case.config.party_names()):  # else the source's own name
        assert names[code] == ref.loc[ref["party"] == code, "name"].iloc[0]
    west, south, east, north = payload["bounds"]
    for c in cx["countries"]:
        lon, lat = c["label_at"]
        own = shapely.union_all(list(ref.geometry[ref["party"] == c["party"]]))
        assert own.contains(shapely.Point(lon, lat)), c["party"]
        if own.intersection(shapely.box(west, south, east, north)).area > 0:  # in the frame: named in it
            assert west <= lon <= east and south <= lat <= north, c["party"]
        assert c["polygons"]
    fills = [c["fill"] for c in cx["countries"]]
    assert len(set(fills)) == len(fills)
    lum = [_relative_luminance(f) for f in fills]
    assert max(lum) - min(lum) < 0.05, dict(zip(fills, lum, strict=True))
    sat = [colorsys.rgb_to_hls(*(int(f[i : i + 2], 16) / 255 for i in (1, 3, 5)))[2] for f in fills]
    assert max(sat) < 0.5  # pale tints, none of them a strong colour
    lines = {g["style"]["color"].lower() for g in payload["lines"]}
    assert not lines & {f.lower() for f in fills}


def test_country_context_is_data_only_and_absent_without_territories(layers):
    """The names reach the page only inside the JSON data block; no territories, no context."""
    from borderkit.maps import prepare_context

    no_terr = {k: v for k, v in layers.items() if k != "territories"}
    assert prepare_context(no_terr).payload["context"] is None
    hostile = synthetic_layers(hostile=True)
    html = render_html(make_map(hostile))
    cx = prepare_context(hostile).payload["context"]
    assert cx["countries"]
    for c in cx["countries"]:
        assert "<" not in c["name"] or html.count(c["name"]) == 0  # never raw in the page


def test_a_named_lake_is_drawn_only_where_a_source_leaves_it_out_of_the_land():
    """Sev Lake (a point in places) becomes water only as a territory source's own gap: every vertex
    is one of that source's, no party of it covers the water, the place's point is inside, and the
    area is pyproj Geod's (computed here)."""
    import shapely
    from pyproj import Geod

    from borderkit import datasets
    from borderkit.maps import prepare_context

    case = datasets.load("armenia-azerbaijan")
    ctx = prepare_context(case)
    lakes = ctx.payload["context"]["lakes"]
    places = case.places.set_index("place_id")
    lake_ids = [pid for pid, k in places["kind"].items() if k == "lake" and places.geometry[pid] is not None]
    assert {w["place_id"] for w in lakes} | set(ctx.report["lakes_not_drawn"]) == set(lake_ids)
    terr = case.territories
    for w in lakes:
        pt = places.geometry[w["place_id"]]
        src = terr[terr["source"] == w["source"]]
        # the sources before it by name draw land over the lake
        for other in sorted(set(terr["source"])):
            if other == w["source"]:
                break
            assert shapely.union_all(list(terr.geometry[terr["source"] == other])).covers(pt)
        land_vertices = {
            (round(x, 6), round(y, 6)) for g in src.geometry for x, y in shapely.get_coordinates(g).tolist()
        }
        poly = shapely.MultiPolygon([shapely.Polygon(rings[0], rings[1:]) for rings in w["polygons"]])
        assert {tuple(c) for c in shapely.get_coordinates(poly).round(6).tolist()} <= land_vertices
        assert poly.buffer(0.0005).covers(pt)
        inner = poly.buffer(-0.0005)
        assert not any(g.intersects(inner) for g in src.geometry)
        area = abs(Geod(ellps="WGS84").geometry_area_perimeter(poly)[0]) / 1e6
        assert w["area_km2"] == pytest.approx(area, rel=0.05)  # display-simplified outline vs the source's


def test_map_help_names_every_layer_that_layers_accepts():
    """`--layers` help is written by hand in the CLI; every name `check_layer_names` accepts is in it."""
    from click.testing import CliRunner

    from borderkit.cli.map_cmd import map_
    from borderkit.maps.context import LAYER_NAMES

    out = " ".join(CliRunner().invoke(map_, ["--help"], terminal_width=400).output.split())
    listed = out.split("Comma-separated layers to draw:")[1].split("Default:")[0]
    assert set(re.findall(r"[a-z]+", listed.split("(")[0])) == set(LAYER_NAMES)
