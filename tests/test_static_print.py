"""The printed map: labels without overlaps, SVG text as text, print sizes and DPI, credits of every source."""

from __future__ import annotations

import struct
import warnings
import xml.etree.ElementTree as ET
from itertools import combinations

import pytest
from click.testing import CliRunner

from borderkit.cli.map_cmd import map_
from borderkit.maps import prepare_context
from borderkit.maps.static import render_figure, save_static
from map_fixtures import synthetic_layers

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def case_ctx():
    from borderkit import datasets
    from borderkit.cli.map_cmd import _case_layers

    case = datasets.load("armenia-azerbaijan")
    return prepare_context(case, **_case_layers(case, set()))


@pytest.fixture(scope="module")
def case_fig(case_ctx):
    report = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = render_figure(case_ctx, size="A4-landscape", report=report)
    return fig, report


def _text_boxes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    FigureCanvasAgg(fig).draw()  # legends lay out their entries when drawn
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None:
            out.append((t.get_text(), Text.get_window_extent(t, renderer)))
    return out, fig.bbox


def _overlapping(boxes):
    return [
        (a, b)
        for (a, ba), (b, bb) in combinations(boxes, 2)
        if ba.x0 < bb.x1 - 0.5 and bb.x0 < ba.x1 - 0.5 and ba.y0 < bb.y1 - 0.5 and bb.y0 < ba.y1 - 0.5
    ]


def test_case_map_labels_never_overlap_and_placement_off_shows_they_would(case_ctx, case_fig):
    fig, report = case_fig
    boxes, page = _text_boxes(fig)
    texts = [t for t, _ in boxes]
    assert any("ARMENIA" == t for t in texts) and any("AZERBAIJAN" == t for t in texts)  # country names drawn
    assert _overlapping(boxes) == []
    for t, b in boxes:  # nothing cut by the page edge
        assert page.x0 <= b.x0 and b.x1 <= page.x1 and page.y0 <= b.y0 and b.y1 <= page.y1, t
    # labels left off are reported, never silently: placed + left off = every label considered
    assert report["labels_placed"] > 20
    assert all({"kind", "text"} <= set(d) for d in report["labels_left_off"])
    # the same map without placement: labels collide (the check above can fail)
    off = render_figure(case_ctx, size="A4-landscape", placement=False)
    assert len(_overlapping(_text_boxes(off)[0])) >= 3


def test_svg_text_stays_text_with_fonts_named(tmp_path):
    layers = synthetic_layers()
    title = "Static <b>&amp; title</b> $x^2$"
    path = save_static(layers, tmp_path / "m.svg", title=title)
    root = ET.fromstring(path.read_text(encoding="utf-8"))
    texts = root.iter(SVG + "text")
    contents = {"".join(t.itertext()): t.get("style", "") for t in texts}
    assert title in contents  # literal, XML-escaped in the file, the same text once parsed
    assert any(c.startswith("Sampletown") for c in contents)  # a place label
    assert any(c.startswith("Sources:") for c in contents)
    style = contents[title]
    assert "font-family: 'DejaVu Sans'" in style and "sans-serif" in style
    assert not list(root.iter(SVG + "path")) or all("glyph" not in (p.get("id") or "") for p in root.iter(SVG + "path"))
    assert path.read_bytes() == save_static(layers, tmp_path / "m2.svg", title=title).read_bytes()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize(("size", "mm", "dpi"), [("A4", (210, 297), 100), ("180x120mm", (180, 120), 150)])
def test_png_pixels_follow_print_size_and_dpi(tmp_path, size, mm, dpi):
    # ISO 216: A4 is 210 x 297 mm; pixels = mm / 25.4 * dpi
    path = save_static(synthetic_layers(), tmp_path / "m.png", size=size, dpi=dpi)
    w, h = _png_size(path.read_bytes())
    assert abs(w - mm[0] / 25.4 * dpi) < 1 and abs(h - mm[1] / 25.4 * dpi) < 1
    assert path.read_bytes() == save_static(synthetic_layers(), tmp_path / "b.png", size=size, dpi=dpi).read_bytes()


def test_pdf_is_written(tmp_path):
    data = save_static(synthetic_layers(), tmp_path / "m.pdf", size="A4").read_bytes()
    assert data[:5] == b"%PDF-"


def test_scale_bar_length_is_geodesic(case_ctx, case_fig):
    from pyproj import Geod

    from borderkit.maps.static import _projection

    fig = case_fig[0]
    ax = fig.axes[0]
    bar = next(a for a in ax.patches if a.get_gid() == "scale-bar")
    label = next(t for t in ax.texts if t.get_gid() == "scale-bar-label").get_text()
    km = float(label.split()[0])
    x0, y0 = bar.get_x(), bar.get_y()
    x1 = x0 + 2 * bar.get_width()  # two halves
    proj = _projection(case_ctx.payload["bounds"])
    (lon0, lon1), (lat0, lat1) = proj.to_geographic([x0, x1], [y0, y0])
    dist = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)[2]
    assert dist == pytest.approx(km * 1000, rel=2e-3)


def test_cli_own_incidents_credited_and_size_errors(tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    layers = synthetic_layers()
    inc = layers["incidents"].copy()
    inc["sources"] = [json.dumps([{"publication": "Daily Courier of Testing", "url": "https://example.org/a"}])] * len(
        inc
    )
    inc["date"] = inc["date"].dt.strftime("%Y-%m-%d")
    inc["date_end"] = ""
    inc.to_file(tmp_path / "my incidents.geojson")
    runner = CliRunner()
    res = runner.invoke(map_, ["my incidents.geojson", "-o", "m.svg", "--size", "120x90mm", "--json"])
    assert res.exit_code == 0, res.output
    root = ET.parse(tmp_path / "m.svg").getroot()
    joined = " ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))
    assert "Daily Courier of Testing" in joined
    assert not (tmp_path / "maps").exists()  # -o m.svg: the static map only
    res = runner.invoke(map_, ["my incidents.geojson", "-o", "m.png", "--dpi", "72", "--size", "A5x"])
    assert res.exit_code == 2 and "--size" in res.output and "180x120mm" in res.output
    res = runner.invoke(map_, ["my incidents.geojson", "-o", "m.png", "--dpi", "72", "--size", "100x80"])
    assert res.exit_code == 0, res.output
    w, h = _png_size((tmp_path / "m.png").read_bytes())
    assert abs(w - 100 / 25.4 * 72) < 1 and abs(h - 80 / 25.4 * 72) < 1


def test_incidents_without_a_source_are_credited_by_file_name():
    layers = synthetic_layers()
    inc = layers["incidents"].copy()
    inc["sources"] = [[] for _ in range(len(inc))]
    inc.attrs["borderkit"] = {"path": "/somewhere/my own incidents.csv"}
    fig = render_figure(prepare_context({**layers, "incidents": inc}), size="A4")
    credits = next(t.get_text() for t in fig.texts if t.get_gid() == "credits")
    flat = " ".join(credits.split())
    assert f"Incidents ({len(inc)}): from the file my own incidents.csv ({len(inc)} without a source)" in flat
