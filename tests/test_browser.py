"""Maps in a real browser: Playwright (PyPI) driving Debian's Chromium (/usr/bin/chromium).

Outside CI these tests skip when Playwright or Chromium is missing; with ``CI=true``
a missing browser fails them. Pages are opened from ``file://`` URLs. Every network
request goes through ``page.route``: the pinned CDN assets are answered from the
vendored files (so their Subresource-Integrity hashes are checked by the browser),
tiles with a blank PNG, and anything else is aborted and recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import browser_support as bs
from browser_support import CONTROL_BOXES, LABELS, SHOWN, WIDTHS, Session, artefact_dir, check_layout, overlap

# the browser, the bundled case and the maps' folder (module-scoped fixtures shared by test_browser*.py)
browser = bs.browser
case = bs.case
maps_dir = bs.maps_dir

pytestmark = pytest.mark.browser

# ------------------------------------------------------------------------------------ maps under test


def _scan_tif(path: Path) -> Path:
    """A small georeferenced RGB 'old map' in UTM 38N."""
    import numpy as np
    import rasterio
    from affine import Affine

    yy, xx = np.mgrid[0:100, 0:120]
    rgb = np.stack([(xx * 2 % 255), (yy * 2 % 255), np.full_like(xx, 90)]).astype("uint8")
    profile = {"driver": "GTiff", "width": 120, "height": 100, "count": 3, "dtype": "uint8", "crs": "EPSG:32638"}
    with rasterio.open(path, "w", transform=Affine(300, 0, 400000, 0, -300, 4420000), **profile) as ds:
        ds.write(rgb)
    return path


@pytest.fixture(scope="module")
def case_maps(case, maps_dir):
    from borderkit.maps import case_layers, make_map, save_html

    extra = case_layers(case)
    online = save_html(make_map(case, **extra), maps_dir / "case.html")
    offline = save_html(make_map(case, offline=True, **extra), maps_dir / "case-offline.html")
    return online, offline


@pytest.fixture(scope="module")
def hostile_maps(maps_dir):
    from borderkit.maps import make_map, save_html
    from map_fixtures import HOSTILE, synthetic_layers

    text = " ".join(HOSTILE)
    layers = synthetic_layers(hostile=True)
    tif = _scan_tif(maps_dir / "hostile-sheet.tif")
    layers["scans"] = [{"path": tif, "name": "Sheet " + text, "attribution": text, "licence": text, "note": text}]
    title = "Hostile " + text
    online = save_html(make_map(layers, title=title, label_min_zoom=0), maps_dir / "hostile.html")
    offline = save_html(make_map(layers, title=title, offline=True, label_min_zoom=0), maps_dir / "hostile-off.html")
    return online, offline


# ------------------------------------------------------------------------------------ tests


def test_default_map_loads_without_console_errors(browser, case_maps):
    s = Session(browser, case_maps[0])
    try:
        assert s.console_errors() == []
        assert s.page.locator(".leaflet-container").count() == 1
        # the pinned assets were loaded (SRI-checked); nothing else was asked for except tiles
        assert s.aborted == []
        assert s.page.evaluate("typeof L !== 'undefined' && L.version") == "1.9.4"
        assert s.page.evaluate("!!(L.Control.FullScreen && L.Control.PolylineMeasure)")
        assert s.page.locator(".leaflet-control-scale-line").count() == 1
        assert s.page.locator(".bk-title").inner_text().startswith("Armenia")
    finally:
        s.close()


def test_layer_control_lists_every_source(browser, case, case_maps):
    s = Session(browser, case_maps[0])
    try:
        labels = s.page.locator(".leaflet-control-layers label").all_text_contents()
        joined = "\n".join(labels)
        for src in sorted(set(case.lines["source"])):
            assert f"Line: {src}" in joined, src
        for base in ("OpenStreetMap", "OpenTopoMap", "Satellite (Esri World Imagery)"):
            assert base in joined
        legend = s.page.locator(".bk-legend").inner_text()
        credits = s.page.locator(".bk-credits").text_content()
        for src in sorted(set(case.lines["source"])):
            assert src in legend and src in credits
        assert "OpenStreetMap contributors" in credits and "ODbL" in credits
        # toggling a source hides its lines
        n = s.page.locator("path.bk-line").count()
        first = sorted(set(case.lines["source"]))[0]
        s.page.locator(".leaflet-control-layers").hover()
        s.page.locator(".leaflet-control-layers label", has_text=f"Line: {first}").locator("input").uncheck()
        assert 0 < s.page.locator("path.bk-line").count() < n
    finally:
        s.close()


def test_timeline_filters_incidents(browser, case, case_maps):
    s = Session(browser, case_maps[0])
    try:
        total = len(case.incidents)
        assert s.visible_incidents() == total
        slider = s.page.locator(".bk-timeline input[type=range]")
        slider.focus()
        s.page.keyboard.press("Home")
        first_date = (
            min(case.incidents["date"]).strftime("%Y-%m-%d")
            if hasattr(min(case.incidents["date"]), "strftime")
            else str(min(case.incidents["date"]))[:10]
        )
        n_first = int(sum(str(d)[:10] <= first_date for d in case.incidents["date"]))
        assert s.visible_incidents() == n_first < total
        assert s.page.locator(".bk-timeline").get_attribute("data-visible") == str(n_first)
        s.page.keyboard.press("ArrowRight")
        assert s.visible_incidents() >= n_first
        s.page.keyboard.press("End")
        assert s.visible_incidents() == total
        assert s.console_errors() == []
    finally:
        s.close()


def test_popup_shows_escaped_text_and_nothing_executes(browser, hostile_maps):
    from map_fixtures import HOSTILE

    for path in hostile_maps:
        s = Session(browser, path)
        try:
            page = s.page
            # open a popup of every kind of feature
            page.locator("path.bk-incident").first.click(force=True)
            popup = page.locator(".leaflet-popup-content")
            text = popup.text_content()
            for h in HOSTILE[:6]:
                assert h in text
            # no element was created from the data
            assert (
                page.locator(
                    ".leaflet-popup-content img, .leaflet-popup-content svg, .leaflet-popup-content script"
                ).count()
                == 0
            )
            links = popup.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
            assert links and all(h.startswith("https://example.org/report") for h in links)
            assert "javascript:" in text  # the bad URLs are shown as plain text
            for sel in ("path.bk-line", "path.bk-area", "path.bk-measure", "path.bk-place", "path.bk-viewshed"):
                page.locator(sel).first.click(force=True)
                page.wait_for_timeout(50)
            page.locator(".bk-credits summary").click()
            page.locator(".bk-credits summary").click()
            # permanent measurement labels show the hostile label, value and source literally
            labels = page.locator(".leaflet-tooltip.bk-measure-label").all_text_contents()
            assert labels and all(h in "\n".join(labels) for h in HOSTILE[:6])
            assert page.locator(".bk-measure-label img, .bk-measure-label svg, .bk-measure-label script").count() == 0
            # measurement popups: claim, verdict, reach test … as text
            for i in range(page.locator("path.bk-measure").count()):
                page.evaluate("void window.borderkitMaps[0].map.setView([39.55, 45.72], 10, {animate: false})")
                page.locator("path.bk-measure").nth(i).click(force=True)
                page.wait_for_timeout(250)  # the previous popup fades out for 200 ms
                text = page.locator(".leaflet-popup-content").last.text_content()
                assert "Claim" in text and HOSTILE[0] in text and HOSTILE[5] in text
            # the viewshed's popup: label and parameter rows (clicked away from the peak's marker in its middle)
            xy = page.evaluate(
                "(() => { const m = window.borderkitMaps[0].map; m.setView([39.70, 45.78], 11, {animate: false});"
                " const p = m.latLngToContainerPoint([39.675, 45.755]); return [p.x, p.y]; })()"
            )
            box = page.locator(".leaflet-container").bounding_box()
            page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
            page.wait_for_timeout(250)
            text = page.locator(".leaflet-popup-content").last.text_content()
            assert "Viewshed" in text and HOSTILE[1] in text and HOSTILE[4] in text  # label and detail rows
            page.locator(".bk-totals summary").click()
            page.mouse.move(700, 450)
            page.wait_for_timeout(200)
            assert page.locator("img[src='x'], svg[onload]").count() == 0
            assert s.flag() is None
            assert s.dialogs == []
            assert s.console_errors() == []
            assert page.title().startswith("Hostile <script>")
            labels = "\n".join(page.locator(".leaflet-control-layers label").all_text_contents())
            assert "<script>window.__bk_pwned=1" in labels
            assert HOSTILE[1] in page.locator(".bk-opacity").text_content()
            assert HOSTILE[1] in page.locator(".bk-credits").text_content()
        finally:
            s.close()


@pytest.fixture(scope="module")
def template_maps(maps_dir):
    from borderkit.maps import make_map, save_html
    from map_fixtures import synthetic_layers, template_payloads

    sentinel = maps_dir / "TEMPLATE-SENTINEL"
    payloads = template_payloads(str(sentinel))
    layers = synthetic_layers(payloads=payloads)
    title = "Template " + " ".join(payloads)
    online = save_html(make_map(layers, title=title, label_min_zoom=0), maps_dir / "template.html")
    offline = save_html(make_map(layers, title=title, offline=True, label_min_zoom=0), maps_dir / "template-off.html")
    return online, offline, payloads, sentinel


def test_template_payloads_show_literally_and_nothing_runs(browser, template_maps):
    """Jinja2 payloads, <img onerror> and <script> in every field: shown as text, nothing evaluated or run."""
    online, offline, payloads, sentinel = template_maps
    for path in (online, offline):
        s = Session(browser, path, block_all=path == offline)
        try:
            page = s.page
            page.locator("path.bk-incident").first.click(force=True)
            text = page.locator(".leaflet-popup-content").text_content()
            for p in payloads:
                assert p in text, p
            assert "49" not in text  # {{7*7}} was not evaluated (no 49 anywhere in the incident's texts)
            assert page.locator(".leaflet-popup-content img, .leaflet-popup-content script").count() == 0
            page.locator(".leaflet-control-layers").hover()
            labels = "\n".join(page.locator(".leaflet-control-layers label").all_text_contents())
            assert "{{7*7}}" in labels and "<script>window.__pwned=1</script>" in labels
            assert page.locator(".leaflet-control-layers img, .leaflet-control-layers script").count() == 0
            title = page.locator(".bk-title-main").text_content()
            assert title == "Template " + " ".join(payloads)
            assert page.title() == title
            assert page.locator("img[src='x']").count() == 0
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert s.flag() is None and s.dialogs == [] and s.console_errors() == []
        finally:
            s.close()
    assert not sentinel.exists()


def test_offline_file_renders_with_all_network_blocked(browser, case_maps):
    s = Session(browser, case_maps[1], block_all=True)
    try:
        assert s.requests == [s.url], s.requests
        assert s.aborted == []
        assert s.console_errors() == []
        assert s.page.evaluate("L.version") == "1.9.4"
        # the hillshade is embedded and decoded
        ok = s.page.evaluate(
            "Array.from(document.querySelectorAll('img.leaflet-image-layer'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        assert ok and s.page.locator("img.leaflet-image-layer").count() >= 1
        assert s.page.locator(".leaflet-tile").count() == 0
        assert s.page.locator("path.bk-line").count() > 0
        # zooming and panning ask for nothing either
        s.page.locator(".leaflet-control-zoom-in").click()
        s.page.mouse.move(600, 400)
        s.page.mouse.down()
        s.page.mouse.move(500, 300)
        s.page.mouse.up()
        s.page.wait_for_timeout(300)
        assert s.requests == [s.url]
        assert s.console_errors() == []
    finally:
        s.close()


def test_measuring_tool_and_mouse_coordinates_work(browser, hostile_maps):
    s = Session(browser, hostile_maps[1], block_all=True)
    try:
        page = s.page
        page.mouse.move(700, 500)
        assert page.locator(".bk-mouse").inner_text().startswith("lat ")
        page.locator("#polyline-measure-control").click()
        page.mouse.click(600, 500)
        page.mouse.click(800, 520)
        page.mouse.dblclick(800, 520)
        page.wait_for_timeout(200)
        totals = page.locator(".polyline-measure-tooltip-total").all_text_contents()
        assert any("km" in t for t in totals), totals
        assert s.console_errors() == []
        # the map did not jump (the Leaflet >= 1.8 problem of leaflet-measure)
        assert page.evaluate("window.borderkitMaps[0].map.getZoom()") >= 1
    finally:
        s.close()


def test_scan_overlay_has_an_opacity_slider(browser, maps_dir):
    from borderkit.maps import make_map, save_html
    from map_fixtures import synthetic_layers

    tif = _scan_tif(maps_dir / "sheet.tif")
    path = save_html(make_map(synthetic_layers(), scans=[tif], offline=True), maps_dir / "scan.html")
    s = Session(browser, path, block_all=True)
    try:
        slider = s.page.locator(".bk-opacity input[data-overlay='image0']")
        assert slider.count() == 1
        slider.fill("20")
        op = s.page.evaluate("getComputedStyle(document.querySelector('img.leaflet-image-layer')).opacity")
        assert float(op) == pytest.approx(0.2)
        assert s.console_errors() == []
    finally:
        s.close()


_BOXES = """(sel) => Array.from(document.querySelectorAll(sel)).filter(e => {
    const r = e.getBoundingClientRect();
    return getComputedStyle(e).display !== "none" && r.width > 0 && r.right > 0 && r.bottom > 0
        && r.left < window.innerWidth && r.top < window.innerHeight;
}).map(e => { const r = e.getBoundingClientRect();
              return {text: e.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })"""


def test_case_measurement_labels_are_readable_at_every_zoom(browser, case_maps):
    s = Session(browser, case_maps[1], block_all=True)
    try:
        page = s.page
        page.evaluate("document.querySelector('.bk-legend').open = false")
        labels = ".leaflet-tooltip.bk-measure-label:not(.bk-measure-minor)"
        for zoom in (8, 9, 10, 11, 12):
            for lat, lon in ((39.56, 46.23), (39.55, 46.45), (39.60, 46.0)):
                # "void": Playwright would otherwise serialise the Leaflet map setView returns (seconds per call)
                page.evaluate(f"void window.borderkitMaps[0].map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
                page.wait_for_timeout(100)
                boxes = page.evaluate(_BOXES, labels)
                if zoom < 10:  # only the Nakhchivan gap is labelled at the scale of the region
                    assert all("Nakhchivan" in b["text"] for b in boxes), (zoom, boxes)
                    continue
                for i, a in enumerate(boxes):
                    for b in boxes[i + 1 :]:
                        assert not overlap(a, b), (zoom, lat, lon, a["text"], b["text"])
                if zoom == 10 and (lat, lon) == (39.56, 46.23):
                    texts = "\n".join(b["text"] for b in boxes)
                    for needle in (
                        "Khndzoresk → line, shortest4.67 km · line: osm-2017",
                        "Khndzoresk → line, toward Lachin11.3 km · line: osm-2017",
                        "Sev Lake: depth into ARM+1.01 km · line: osm-2017",
                        "narrowest gap25.8 km · line: osm-2017",
                    ):
                        assert needle in texts, texts
                    assert len(boxes) == 4
                    # nor do they hide a place's label
                    places = page.evaluate(_BOXES, ".leaflet-tooltip.bk-place-label")
                    assert places
                    for a in boxes:
                        for b in places:
                            assert not overlap(a, b), (a["text"], b["text"])
        # the other sources' segments show their label on hover, and every segment has a popup
        # (dcw-gmt's crossing toward Lachin is the farthest: hover its segment past the others' ends)
        xy = page.evaluate(
            "(() => { const m = window.borderkitMaps[0].map; m.setView([39.56, 46.50], 12, {animate: false});"
            " const p = m.latLngToContainerPoint([39.5827, 46.5307]); return [p.x, p.y]; })()"
        )
        assert page.locator("path.bk-measure.bk-measure-minor").count() >= 3
        box = page.locator(".leaflet-container").bounding_box()
        page.mouse.move(box["x"] + xy[0], box["y"] + xy[1])
        page.wait_for_timeout(150)
        tip = page.locator(".leaflet-tooltip.bk-measure-minor")
        assert tip.count() == 1 and "12.3 km · line: dcw-gmt" in tip.text_content()
        # the labelled Khndzoresk → line segment (osm-2017), clicked near (not on) its middle
        xy = page.evaluate(
            "(() => { const m = window.borderkitMaps[0].map; m.setView([39.4936, 46.4583], 12, {animate: false});"
            " const p = m.latLngToContainerPoint([39.49364, 46.45833]); return [p.x + 3, p.y - 3]; })()"
        )
        box = page.locator(".leaflet-container").bounding_box()
        page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
        page.wait_for_timeout(250)
        text = page.locator(".leaflet-popup-content").last.text_content()
        assert "approximately 12 km away from the border" in text and "verdict" in text and "method" in text
        assert s.console_errors() == []
    finally:
        s.close()


def test_case_viewshed_is_off_until_switched_on(browser, case_maps):
    s = Session(browser, case_maps[0])
    try:
        page = s.page
        name = "Viewshed from Mets Ishkhanasar (GLOBE 30\u2033, observer 2 m, 30 km)"
        assert page.locator("path.bk-viewshed").count() == 0
        assert name in page.locator(".bk-legend").inner_text()
        page.locator(".leaflet-control-layers").hover()
        box = page.locator(".leaflet-control-layers label", has_text=name).locator("input")
        assert not box.is_checked()
        box.check()
        assert page.locator("path.bk-viewshed").count() >= 1
        # click inside the visible ground, away from the markers and labels at the summit
        import shapely

        data = page.evaluate("window.borderkitMaps[0].data.viewsheds[0].polygons")
        polys = shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in data])
        far = max(shapely.get_parts(polys), key=lambda g: g.area).difference(shapely.Point(46.18, 39.58).buffer(0.05))
        pt = far.representative_point()
        xy = page.evaluate(
            "(ll) => { const m = window.borderkitMaps[0].map; m.setView(ll, 11, {animate: false});"
            " const p = m.latLngToContainerPoint(ll); return [p.x, p.y]; }",
            [pt.y, pt.x],
        )
        box = page.locator(".leaflet-container").bounding_box()
        page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
        page.wait_for_timeout(250)
        text = page.locator(".leaflet-popup-content").last.text_content()
        for needle in (name, "visible area", "radius: 30 km", "GLOBE 30", "refraction k = 0.13", "observer point"):
            assert needle in text, needle
        assert s.console_errors() == []
    finally:
        s.close()


# ------------------------------------------------------------------------------------ layout for every screen

@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_controls_never_overlap_and_cover_at_most_a_quarter(browser, case_maps, width, tmp_path):
    out = artefact_dir(tmp_path)
    for path, kind in ((case_maps[1], "offline"), (case_maps[0], "online")):
        s = Session(browser, path, width=width, height=WIDTHS[width], block_all=kind == "offline")
        try:
            page = s.page
            compact = width < 700
            is_compact = "document.querySelector('.leaflet-container').classList.contains('bk-compact')"
            assert page.evaluate(is_compact) is compact
            check_layout(page.evaluate(CONTROL_BOXES), f"{kind} {width} px")
            page.screenshot(path=str(out / f"map-{kind}-{width}px.png"))
            title = page.locator(".bk-title-main")
            if compact:
                # legend, opacity and credits sit collapsed behind one button; the title is one line
                assert page.locator(".bk-legend").is_hidden() and page.locator(".bk-credits").is_hidden()
                line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.bk-title-main')).lineHeight)"
                                     " || 20")
                assert title.bounding_box()["height"] <= line * 1.5
                assert page.locator(".bk-title-sub").is_hidden()
                assert page.locator(".bk-timeline .bk-lh").is_hidden()  # compact timeline: no heading
                button = page.get_by_role("button", name="Key & sources")
                assert button.get_attribute("aria-expanded") == "false"
                button.click()
                assert button.get_attribute("aria-expanded") == "true"
                assert page.locator(".bk-panel .bk-legend").is_visible()
                assert page.locator(".bk-panel .bk-credits").is_visible()
                panel = page.locator(".bk-panel").bounding_box()
                # the open panel stays above the timeline and the attribution
                low = min(b["y0"] for b in page.evaluate(CONTROL_BOXES)["boxes"] if "leaflet-control-attribution"
                          in b["name"] or "bk-timeline" in b["name"] or "scale" in b["name"])
                assert panel["y"] + panel["height"] <= low and panel["x"] >= 0
                page.screenshot(path=str(out / f"map-{kind}-{width}px-key-open.png"))
                button.click()
                assert page.locator(".bk-legend").is_hidden()
            else:
                assert page.locator(".bk-legend").is_visible() and page.locator(".bk-legend[open]").count() == 1
                assert page.locator(".bk-keyctl").is_hidden()
            assert s.console_errors() == []
        finally:
            s.close()


def test_layout_follows_a_resize(browser, case_maps):
    s = Session(browser, case_maps[1], block_all=True, width=1024, height=768)
    try:
        page = s.page
        assert page.locator(".bk-legend").is_visible()
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        assert page.locator(".bk-legend").is_hidden() and page.locator(".bk-keyctl").is_visible()
        check_layout(page.evaluate(CONTROL_BOXES), "resized to 390 px")
        page.set_viewport_size({"width": 1400, "height": 900})
        page.wait_for_timeout(300)
        assert page.locator(".bk-legend-control .bk-legend").is_visible()
        assert page.locator(".bk-credits-control .bk-credits").count() == 1
        check_layout(page.evaluate(CONTROL_BOXES), "resized back to 1400 px")
        assert s.console_errors() == []
    finally:
        s.close()


# ------------------------------------------------------------------------------------ embed and URL state


@pytest.fixture(scope="module")
def embed_page(case, maps_dir):
    from borderkit.maps import case_layers, make_map, save_html

    page = save_html(make_map(case, embed=True, **case_layers(case)), maps_dir / "case-embed.html")
    host = maps_dir / "article.html"
    host.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Article</title>"
        "<style>body{margin:0;font:16px serif} main{width:680px;margin:0 auto}</style></head>"
        "<body><main><h1>News article</h1><p>Text before the map.</p>"
        "<iframe id='map' src='case-embed.html' width='680' height='480' style='border:0' title='Map'></iframe>"
        "<p>Text after the map.</p></main></body></html>",
        encoding="utf-8",
    )
    return host, page


def test_embedded_map_in_a_680px_article_iframe(browser, embed_page, tmp_path):
    host, page_path = embed_page
    s = Session(browser, host, width=900, height=800, also=(page_path,), ready=False)
    try:
        frame = s.page.frame_locator("#map")
        frame.locator('html[data-borderkit-ready="1"]').wait_for(state="attached", timeout=20000)
        f = next(fr for fr in s.page.frames if fr.url.endswith("case-embed.html"))
        f.wait_for_timeout(300)
        assert f.evaluate("document.querySelector('.leaflet-container').classList.contains('bk-embed')")
        assert f.evaluate("document.querySelector('.leaflet-container').classList.contains('bk-compact')")
        assert f.locator(".leaflet-control-fullscreen").count() == 0  # the host page decides the size
        assert "sources: see Key" in f.locator(".leaflet-control-attribution").inner_text()
        check_layout(f.evaluate(CONTROL_BOXES), "embed 680×480")
        # no URL state in an iframe: moving the map leaves the frame's URL alone
        f.evaluate("void window.borderkitMaps[0].map.setView([39.6, 45.8], 10, {animate: false})")
        f.wait_for_timeout(100)
        assert f.evaluate("window.location.hash") == ""
        s.page.screenshot(path=str(artefact_dir(tmp_path) / "embed-680px-article.png"))
        assert s.console_errors() == [] and s.aborted == []
    finally:
        s.close()


def test_url_hash_keeps_view_layers_and_date(browser, case, case_maps):
    s = Session(browser, case_maps[0], hash="#map=11/39.60000/45.80000&layers=line1,incidents,osm&date=2020-01-01")
    try:
        page = s.page
        info = page.evaluate(
            "(() => { const b = window.borderkitMaps[0]; const m = b.map; const c = m.getCenter();"
            " return {z: m.getZoom(), lat: c.lat, lon: c.lng, dates: b.api.timeline.dates,"
            " date: b.api.timeline.date(), lines: document.querySelectorAll('path.bk-line').length}; })()"
        )
        assert info["z"] == 11 and info["lat"] == pytest.approx(39.6, abs=1e-4) and info["lon"] == pytest.approx(45.8)
        src = sorted(case.lines["source"].unique())
        assert info["lines"] == int((case.lines["source"] == src[1]).sum())  # only line1 is drawn
        # a date that is not one of the incidents' dates is ignored: the timeline stays at the last one
        assert info["date"] == info["dates"][-1]
        # moving the map and the timeline writes the hash
        page.evaluate("void window.borderkitMaps[0].map.setView([39.7, 45.9], 10, {animate: false})")
        slider = page.locator(".bk-timeline input[type=range]")
        slider.focus()
        page.keyboard.press("Home")
        h = page.evaluate("window.location.hash")
        assert h.startswith("#map=10/39.70000/45.90000&layers=") and f"date={info['dates'][0]}" in h
        assert "line1" in h and "line0" not in h
        # reopening the written link gives the same view, layers and date
        s2 = Session(browser, case_maps[0], hash=h)
        try:
            again = s2.page.evaluate(
                "(() => { const b = window.borderkitMaps[0]; return [b.map.getZoom(), b.api.timeline.date(),"
                " document.querySelectorAll('path.bk-line').length]; })()"
            )
            assert again == [10, info["dates"][0], info["lines"]]
        finally:
            s2.close()
        assert s.console_errors() == []
    finally:
        s.close()


@pytest.mark.parametrize(
    "hash_",
    [
        "#map=1e999/NaN/0&layers=__proto__,constructor,toString&date=2020-13-45",
        "#map=11/39.6/45.8/9&layers=%3Cimg%20src%3Dx%20onerror%3Dwindow.__bk_pwned%3D1%3E&date=%E0%A4%A",
        "#map=-5/100/500&layers=" + ",".join(["line0"] * 300),
        "#" + "x" * 5000,
        "#javascript:window.__bk_pwned=1",
    ],
)
def test_hostile_url_hash_is_ignored(browser, case_maps, hash_):
    s = Session(browser, case_maps[1], block_all=True, hash=hash_)
    try:
        z = s.page.evaluate("window.borderkitMaps[0].map.getZoom()")
        assert 0 <= z <= 22
        assert s.flag() is None and s.dialogs == [] and s.console_errors() == []
        assert s.page.locator("img[src='x']").count() == 0
    finally:
        s.close()


def test_incident_popup_reads_as_a_reader_needs(browser, case, case_maps):
    s = Session(browser, case_maps[1], block_all=True, width=390, height=844)
    try:
        page = s.page
        page.evaluate("void window.borderkitMaps[0].map.setView([40.0, 45.9], 9, {animate: false})")
        data = page.evaluate("window.borderkitMaps[0].data.incidents")
        rec = next(r for r in data if r["id"] == "2021-05-12-sev-lake")
        xy = page.evaluate(
            "(ll) => { const m = window.borderkitMaps[0].map; m.setView(ll, 11, {animate: false});"
            " const p = m.latLngToContainerPoint(ll); return [p.x, p.y]; }",
            [rec["lat"], rec["lon"]],
        )
        box = page.locator(".leaflet-container").bounding_box()
        page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
        page.wait_for_timeout(250)
        popup = page.locator(".leaflet-popup-content").last
        text = popup.text_content()
        assert "2021-05-12 (exact day)" in text and "within about 5 km" in text
        assert "on the Armenia side of dcw-gmt" in text and "on the Azerbaijan side of gshhg-wdbii" in text
        assert rec["id"] not in text and "id:" not in text  # no internal id
        links = popup.locator("a").evaluate_all("els => els.map(e => e.href)")
        assert links and all(h.startswith(("http://", "https://")) for h in links)
        pb = popup.bounding_box()
        assert pb["width"] <= 390 - 20  # the popup fits a phone
        assert s.console_errors() == []
    finally:
        s.close()


# ------------------------------------------------------------------------------------ accessibility

FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) { return null; }
  const name = (e.getAttribute('aria-label') || e.getAttribute('title') || e.textContent || '').trim();
  const r = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), cls: String(e.className), name: name.slice(0, 80),
          w: r.width, h: r.height}; }"""


@pytest.mark.parametrize("width", [390, 1400])
def test_keyboard_reaches_every_control_and_the_text_alternative(browser, case, case_maps, width):
    s = Session(browser, case_maps[1], block_all=True, width=width, height=WIDTHS[width])
    try:
        page = s.page
        seen = []
        for _ in range(40):
            page.keyboard.press("Tab")
            f = page.evaluate(FOCUSED)
            if f is None or (seen and f == seen[0]):
                break
            seen.append(f)
        names = [f["name"] for f in seen]
        # the text alternative comes first and shows itself when focused
        assert seen[0]["tag"] == "summary" and seen[0]["name"].startswith("The map as text")
        assert seen[0]["w"] > 100
        for needle in ("Zoom in", "Zoom out", "Layers", "Measure distances"):
            assert any(needle in n for n in names), (needle, names)
        assert any(f["tag"] == "input" and "incidents up to" in f["name"] for f in seen), names
        if width < 700:
            assert "Key & sources" in names
        else:
            assert "Legend" in names and "Sources & licences" in names and "Full screen" in names
            assert any(f["tag"] == "input" and f["name"].startswith("Opacity of") for f in seen), names
        assert all(f["name"] for f in seen), [f for f in seen if not f["name"]]  # every stop has a name
        # the text alternative: one row per incident and per measurement, read from the page data
        page.locator(".bk-textalt summary").focus()
        page.keyboard.press("Enter")
        rows = page.locator(".bk-textalt table").evaluate_all("ts => ts.map(t => t.tBodies[0].rows.length)")
        data = page.evaluate("[window.borderkitMaps[0].data.incidents.length, "
                             "window.borderkitMaps[0].data.measurements.length]")
        assert rows == data
        text = page.locator(".bk-textalt").inner_text()
        assert "on the Armenia side of dcw-gmt" in text and "within about" in text
        assert s.console_errors() == []
    finally:
        s.close()


@pytest.mark.parametrize("width", [1400, 390])
def test_no_two_visible_labels_overlap_at_any_zoom_and_countries_are_named(browser, case, case_maps, width):
    """Initial view, then zoom 8, 10, 12 and back out: no two shown labels (measurements, places,
    country names) intersect on screen; the parties of the frame are named in the initial view."""
    s = Session(browser, case_maps[1], block_all=True, width=width, height=850)
    try:
        page = s.page
        first = page.evaluate(SHOWN, ".bk-country-name")
        texts = {b["text"] for b in first}
        for code, names in case.config.party_names().items():
            assert names[0] in texts, (code, texts)
        assert page.locator("path.bk-lake").count() == 1  # Sev Lake, as osm-2017 leaves it out of the land
        assert page.locator("path.bk-country").count() == len(set(case.territories["party"]))
        seen_hidden = 0
        views = [None, (39.56, 46.23, 8), (39.56, 46.23, 10), (39.56, 46.23, 12), (39.55, 46.45, 12),
                 (39.60, 46.0, 10), (39.56, 46.23, 8)]
        for view in views:
            if view is not None:
                lat, lon, zoom = view
                page.evaluate(f"void window.borderkitMaps[0].map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
                page.wait_for_timeout(120)
            boxes = page.evaluate(SHOWN, LABELS)
            assert boxes, view
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert not overlap(a, b), (view, a["text"], b["text"])
            seen_hidden += page.locator(".bk-collided").count()
        assert seen_hidden > 0  # the placement did hide something somewhere (the case's labels do collide)
        # the measurement labels are never the ones hidden
        assert page.locator(".leaflet-tooltip.bk-measure-label.bk-collided").count() == 0
        assert s.console_errors() == [] and s.aborted == []
    finally:
        s.close()
