"""The trace tool: a synthetic scan of the real sheet J-38-21 (Sev Lake), georeferenced by its corners,
drawn on a map with its frame; a line traced in Chromium and exported as a lines GeoJSON that
``borderkit.io.read_lines`` reads without defaults and ``borderkit check --lines`` uses.

Expected values are computed independently: the frame corner through the published EPSG:15865 Helmert
parameters (pyproj pipeline), the accuracy by hand (root-sum-square), the traced vertices from the
pixel positions clicked (Leaflet's inverse projection) compared with pyproj Geod.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pyproj
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from borderkit.cli.main import cli
from borderkit.georef import georeference
from borderkit.maps import make_map, render_html
from borderkit.maps.trace import scan_trace_record, scan_trace_records, trace_accuracy_m
from borderkit.sheets import sheet
from conftest import require_module

rasterio = require_module("rasterio")

RES_M = 50.0
COLLAR = 40
CHROMIUM = os.environ.get("BORDERKIT_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HOSTILE = "{{ 7*7 }}<img src=x onerror=\"window.__pwned=1\"></script><b>"
GEOD = pyproj.Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def scan_tif(tmp_path_factory):
    """A 50 m/pixel synthetic scan of J-38-21 (white sheet, blue collar), georeferenced by its corners."""
    d = tmp_path_factory.mktemp("trace")
    w, s, e, n = sheet("J-38-21")["bounds_sk42"]
    gk = pyproj.Transformer.from_crs("EPSG:4284", "EPSG:28408", always_xy=True)
    ce, cn = gk.transform([w, e, e, w], [n, n, s, s])
    x0, y0 = min(ce), max(cn)
    px = COLLAR + (np.asarray(ce) - x0) / RES_M
    py = COLLAR + (y0 - np.asarray(cn)) / RES_M
    img = Image.new("RGB", (int(px.max() + COLLAR), int(py.max() + COLLAR)), (40, 60, 200))
    ImageDraw.Draw(img).polygon(list(zip(px, py, strict=True)), fill="white", outline="black")
    png = d / "J-38-21.png"
    img.save(png)
    out = d / "J-38-21.tif"
    res = georeference(png, out, sheet="J-38-21", corners=list(zip(px.tolist(), py.tolist(), strict=True)))
    return out, res


def test_accuracy_is_the_root_sum_square_by_hand():
    acc = trace_accuracy_m(scale=100_000, gcp_rms_m=12.0, datum_accuracy_m=4.5)
    # 0.5 mm × 100 000 = 50 m; √(50² + 12² + 4.5²) = √(2500 + 144 + 20.25) = √2664.25 = 51.616…
    assert acc["drawing_m"] == 50.0
    assert acc["total_m"] == 51.6
    assert trace_accuracy_m(scale=50_000, gcp_rms_m=0.0, datum_accuracy_m=0.0)["total_m"] == 25.0


def test_record_from_the_georef_tags(scan_tif):
    tif, res = scan_tif
    rec = scan_trace_record(tif)
    assert rec["sheet"] == "J-38-21" and rec["scale"] == 100_000
    # NW corner 46°E 39°40'N (SK-42) through EPSG:15865's published Helmert parameters (coordinate frame)
    helmert = pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=cart +ellps=krass "
        "+step +proj=helmert +x=25 +y=-141 +z=-78.5 +rx=0 +ry=-0.35 +rz=-0.736 +s=0 +convention=coordinate_frame "
        "+step +inv +proj=cart +ellps=WGS84 +step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )
    lon, lat = helmert.transform(46.0, 39.0 + 40 / 60)
    lat0, lon0 = rec["frame"][0]
    assert GEOD.inv(lon, lat, lon0, lat0)[2] < 0.05  # metres
    with rasterio.open(tif) as ds:
        rms = float(ds.tags()["BORDERKIT_GCP_RMS_M"])
    assert rms == pytest.approx(round(res["rms_m"], 3))
    assert rec["accuracy"]["total_m"] == round(math.sqrt(50.0**2 + rms**2 + 4.5**2), 1)
    assert "EPSG:15865" in rec["datum_note"] and "stated 4.5 m" in rec["datum_note"]
    # the shift at the sheet: geodesic distance between the SK-42 and WGS84 positions of the centre (~104 m)
    clon, clat = helmert.transform(46.25, 39.5)
    shift = GEOD.inv(46.25, 39.5, clon, clat)[2]
    assert f"shift here {shift:.1f} m" in rec["datum_note"]


def test_scans_without_sheet_tags_have_no_record(tmp_path, scan_tif):
    tif, _ = scan_tif
    plain = tmp_path / "plain.tif"
    with rasterio.open(tif) as src:
        profile = src.profile
        data = src.read()
    with rasterio.open(plain, "w", **profile) as dst:
        dst.write(data)
    assert scan_trace_records([plain]) == []
    bad = tmp_path / "bad.tif"
    with rasterio.open(bad, "w", **profile) as dst:
        dst.write(data)
        dst.update_tags(BORDERKIT_SHEET=HOSTILE, BORDERKIT_GCP_RMS_M="1.0")
    warnings: list[str] = []
    assert scan_trace_records([bad], warnings) == []
    assert len(warnings) == 1 and "BORDERKIT_SHEET" in warnings[0]
    # the map is still drawn, without the tool, and the hostile tag is nowhere in it
    m = make_map(scans=[bad], offline=True, basemaps=False)
    html = render_html(m)
    assert "borderkit_trace.build" not in html and HOSTILE not in html


def test_map_has_the_tool_only_with_a_tagged_scan(scan_tif, tmp_path):
    tif, _ = scan_tif
    html = render_html(make_map(scans=[tif], offline=True))
    assert "borderkit_trace.build" in html and "leaflet-geoman-free 2.20.2" in html
    html = render_html(make_map(scans=[tif], offline=True, trace=False))
    assert "borderkit_trace.build" in html and "leaflet-geoman" not in html  # frame only
    with pytest.raises(ValueError, match="scan georef --sheet"):
        make_map(scans=[], trace=True)
    r = CliRunner().invoke(cli, ["map", str(tif), "--trace", "--offline", "-o", str(tmp_path / "m.html")])
    assert r.exit_code == 0, r.output
    assert "borderkit_trace.build" in (tmp_path / "m.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true but playwright is missing")
        pytest.skip("playwright is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if IN_CI:
            pytest.fail(f"CI=true but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not found")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(browser, html_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page.route("http*://**", lambda route: route.abort())  # offline: nothing may be fetched
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html_path.as_uri())
    page.wait_for_function("typeof borderkit_trace !== 'undefined' && document.querySelector('.bk-trace')")
    return page, errors


def _trace_and_export(page, points):
    """Click the polyline button, click *points* (lat, lon) on the map, finish, fill the form, export."""
    page.click(".leaflet-pm-icon-polyline")
    xy = []
    for lat, lon in points:
        p = page.evaluate(
            "([lat, lon]) => { const m = Object.values(window).find(v => v instanceof L.Map);"
            " const r = m.getContainer().getBoundingClientRect(); const q = m.latLngToContainerPoint([lat, lon]);"
            " return [r.left + q.x, r.top + q.y]; }",
            [lat, lon],
        )
        xy.append(p)
        page.mouse.click(*p)
        page.wait_for_timeout(60)
    page.mouse.click(*xy[-1])  # a click on the last vertex finishes the line
    page.wait_for_timeout(100)
    # the positions actually clicked (whole pixels), back through Leaflet's projection
    clicked = page.evaluate(
        "(xy) => { const m = Object.values(window).find(v => v instanceof L.Map);"
        " const r = m.getContainer().getBoundingClientRect();"
        " return xy.map(([x, y]) => { const ll = m.containerPointToLatLng([x - r.left, y - r.top]);"
        " return [ll.lng, ll.lat]; }); }",
        xy,
    )
    page.fill("#bk-trace-claimant", "arm")
    page.fill("#bk-trace-left_party", "ARM")
    page.fill("#bk-trace-right_party", "AZE")
    page.fill("#bk-trace-edition", "1975")
    with page.expect_download() as dl:
        page.click(".bk-trace-export")
    return dl.value, clicked


def test_trace_export_reads_and_checks(browser, scan_tif, tmp_path):
    from borderkit.io import read_lines

    tif, _ = scan_tif
    html_path = tmp_path / "trace.html"
    from borderkit.maps import save_html

    save_html(make_map(scans=[tif], offline=True, view=(39.5, 46.25, 11)), html_path)
    page, errors = _open(browser, html_path)
    assert page.locator(".bk-sheet-label").first.text_content() == "J-38-21 · 1:100,000"
    pts = [(39.45, 46.15), (39.52, 46.25), (39.55, 46.35)]
    download, clicked = _trace_and_export(page, pts)
    out = tmp_path / "traced.geojson"
    download.save_as(out)
    assert page.locator(".bk-trace-status").text_content().startswith("exported 1 line")
    assert errors == []
    page.close()

    gdf = read_lines(out)  # no defaults: every column of the schema is in the file
    assert len(gdf) == 1
    row = gdf.iloc[0]
    assert row["source"] == "J-38-21 (edition 1975)" and row["source_version"] == "1975"
    assert row["claimant"] == "ARM" and row["left_party"] == "ARM" and row["right_party"] == "AZE"
    assert row["licence"] == "user-traced" and row["section"] == "main"
    with rasterio.open(tif) as ds:
        rms = float(ds.tags()["BORDERKIT_GCP_RMS_M"])
    assert row["scale_or_accuracy_m"] == pytest.approx(round(math.sqrt(50.0**2 + rms**2 + 4.5**2), 1))
    assert "EPSG:15865" in row["notes"]
    coords = np.asarray(row.geometry.coords)
    assert len(coords) == 3
    # each vertex is where it was clicked (Leaflet's own inverse projection of the click), to 1e-7° rounding
    for (x, y), (cx, cy) in zip(coords, clicked, strict=True):
        assert GEOD.inv(x, y, cx, cy)[2] < 0.05
    # and within a pixel at zoom 11 (~60 m at 39.5° N) of the intended positions
    for (x, y), (lat, lon) in zip(coords, pts, strict=True):
        assert GEOD.inv(x, y, lon, lat)[2] < 80

    r = CliRunner().invoke(cli, ["check", "--lines", str(out), "--lat", "39.50", "--lon", "46.25", "--json"])
    assert r.exit_code == 0, r.output
    assert "J-38-21 (edition 1975)" in r.output
    r = CliRunner().invoke(cli, ["overlaps", "--lines", str(out), "--json"])
    assert r.exit_code == 0, r.output
    pairs = json.loads(r.output)["pairs"]
    assert any("J-38-21 (edition 1975)" in (p["source_a"], p["source_b"]) for p in pairs)


def test_form_refuses_bad_codes_and_hostile_text_is_literal(browser, scan_tif, tmp_path):
    from borderkit.maps import save_html

    tif, _ = scan_tif
    hostile_tif = tmp_path / "hostile.tif"
    shutil.copy(tif, hostile_tif)
    with rasterio.open(hostile_tif, "r+") as ds:
        ds.update_tags(BORDERKIT_METHOD=HOSTILE)
    html_path = tmp_path / "hostile.html"
    save_html(make_map(scans=[{"path": hostile_tif, "name": HOSTILE}], offline=True, view=(39.5, 46.25, 11)),
              html_path)
    assert HOSTILE not in html_path.read_text(encoding="utf-8")  # only in the escaped JSON block
    page, errors = _open(browser, html_path)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#bk-trace-scan option").first.text_content() == "J-38-21 — " + HOSTILE
    # invalid ISO codes: no download, one message naming the fields
    page.click(".leaflet-pm-icon-polyline")
    for lat, lon in [(39.45, 46.15), (39.5, 46.2), (39.5, 46.2)]:
        p = page.evaluate(
            "([lat, lon]) => { const m = Object.values(window).find(v => v instanceof L.Map);"
            " const r = m.getContainer().getBoundingClientRect(); const q = m.latLngToContainerPoint([lat, lon]);"
            " return [r.left + q.x, r.top + q.y]; }",
            [lat, lon],
        )
        page.mouse.click(*p)
        page.wait_for_timeout(60)
    page.fill("#bk-trace-claimant", "ARM")
    page.fill("#bk-trace-left_party", "Armenia")
    page.fill("#bk-trace-right_party", "AZ")
    page.fill("#bk-trace-edition", "75")
    page.click(".bk-trace-export")
    msg = page.locator(".bk-trace-status").text_content()
    assert "left party" in msg and "right party" in msg and "edition year" in msg
    page.fill("#bk-trace-left_party", "ARM")
    page.fill("#bk-trace-right_party", "AZE")
    page.fill("#bk-trace-edition", "1975")
    with page.expect_download() as dl:
        page.click(".bk-trace-export")
    data = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    notes = data["features"][0]["properties"]["notes"]
    assert HOSTILE in notes  # literal, twice: the scan name and the method tag
    assert notes.count(HOSTILE) == 2
    assert page.evaluate("window.__pwned") is None and errors == []
    page.close()
