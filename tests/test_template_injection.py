"""Template payloads in every text field are shown literally and never evaluated (issue 10 §1).

branca compiles the output of every ``MacroElement`` again as a Jinja2 template, so
data that reached such an element used to be evaluated (``{{7*7}}`` became ``49``,
``{{ lipsum.__globals__.os… }}`` ran Python). Here a corpus of template payloads
(:data:`map_fixtures.TEMPLATE_PAYLOADS` plus payloads with a side effect) goes into
every text field, the title, the subtitle, scan names and file names, and the map is
rendered online, offline, as PNG and SVG and through the CLI. Asserted: the side
effect did not happen, every payload comes back intact (JSON-decoded from the page,
or from matplotlib's text artists), nothing crashes.
"""

from __future__ import annotations

import csv
import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import require_module

require_module("folium")  # CI=true: fail, never skip

from borderkit.maps import make_map, render_html  # noqa: E402
from map_fixtures import TEMPLATE_PAYLOADS, TEMPLATE_URLS, synthetic_layers, template_payloads  # noqa: E402


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self._attrs: dict | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self._attrs, self._buf = dict(attrs), []

    def handle_data(self, data):
        if self._attrs is not None:
            self._buf.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._attrs is not None:
            self.scripts.append((self._attrs, "".join(self._buf)))
            self._attrs = None


def _parse(html: str) -> _Scripts:
    p = _Scripts()
    p.feed(html)
    p.close()
    return p


def _data(html: str) -> dict:
    (block,) = [body for attrs, body in _parse(html).scripts if attrs.get("type") == "application/json"]
    return json.loads(block)


def _strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _strings(v)]
    return []


def _scan_tif(path: Path) -> Path:
    rasterio = require_module("rasterio")
    import numpy as np
    from affine import Affine

    yy, xx = np.mgrid[0:40, 0:50]
    rgb = np.stack([(xx * 5 % 255), (yy * 6 % 255), np.full_like(xx, 100)]).astype("uint8")
    profile = {"driver": "GTiff", "width": 50, "height": 40, "count": 3, "dtype": "uint8", "crs": "EPSG:32638"}
    with rasterio.open(path, "w", transform=Affine(500, 0, 400000, 0, -500, 4420000), **profile) as ds:
        ds.write(rgb)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(layers, payloads, sentinel, title, subtitle): every field carries every payload."""
    folder = tmp_path_factory.mktemp("tpl")
    sentinel = folder / "SENTINEL"
    payloads = template_payloads(str(sentinel))
    layers = synthetic_layers(payloads=payloads)
    text = " ".join(payloads)
    layers["scans"] = [
        {
            "path": _scan_tif(folder / "s.tif"),
            "name": "Sheet " + text,
            "attribution": text,
            "licence": text,
            "note": text,
        }
    ]
    return layers, payloads, sentinel, "Title " + text, "Sub " + text


def _assert_literal(value: str, payloads, where: str) -> None:
    for p in payloads:
        assert p in value, (where, p)


@pytest.mark.parametrize("offline", [False, True])
def test_interactive_map_shows_every_payload_literally(corpus, offline):
    layers, payloads, sentinel, title, subtitle = corpus
    html = render_html(make_map(layers, title=title, subtitle=subtitle, offline=offline))
    assert not sentinel.exists(), "a template payload was evaluated"
    assert os.getcwd() not in html  # {{ lipsum.__globals__.os.getcwd() }} was not run
    data = _data(html)
    _assert_literal(data["title"], payloads, "title")
    _assert_literal(data["subtitle"], payloads, "subtitle")
    inc = data["incidents"][0]
    for field in ("description", "actors", "place_name", "type"):
        _assert_literal(inc[field], payloads, f"incident {field}")
    src = [s for s in inc["sources"] if s["text"].startswith("Example News")]
    assert src, inc["sources"]
    _assert_literal(" ".join(_strings(src)), payloads, "source publication/title")
    # URLs with template syntax: kept literally (a link only for http(s))
    url_texts = {s.get("url") or s.get("url_text") for r in data["incidents"] for s in r["sources"]}
    assert set(TEMPLATE_URLS) <= url_texts
    # place names in every language column
    peak = next(p for p in data["places"] if p["kind"] == "peak")
    langs = {n["lang"]: n["name"] for n in peak["names"]}
    assert set(langs) == {"az", "en", "hy", "ru"}
    for lang, name in langs.items():
        _assert_literal(name, payloads, f"place name_{lang}")
    # line sources, names and notes; layer names; measurement labels and claims; viewshed; scan
    for g in data["lines"]:
        _assert_literal(g["source"], payloads, "line source")
        _assert_literal(g["features"][0]["name"], payloads, "line name")
    names = [o["name"] for o in data["layer_control"]["overlays"]]
    for n in names:
        if n.startswith(("Line: ", "Old map: ", "Viewshed")):
            _assert_literal(n, payloads, "layer name")
    meas = data["measurements"]
    for m in meas:
        _assert_literal(m["label"], payloads, "measurement label")
        _assert_literal(m["line_source"], payloads, "measurement line source")
        _assert_literal(m["claims"][0]["statement"], payloads, "claim statement")
    _assert_literal(data["viewsheds"][0]["label"], payloads, "viewshed label")
    ov = data["image_overlays"][0]
    for field in ("name", "attribution", "licence"):
        _assert_literal(ov[field], payloads, f"scan {field}")
    # the page has the structure of a page without payloads: no tag and no script came from the data
    clean = render_html(make_map(synthetic_layers(), title="T", offline=offline))
    clean_tags = [t for t in _parse(clean).tags if t != "img"]  # the scan's <img> is the only extra tag
    assert [t for t in _parse(html).tags if t != "img"] == clean_tags
    # outside the JSON block no payload fragment is in any script (they were all built from constants)
    code = "".join(body for attrs, body in _parse(html).scripts if attrs.get("type") != "application/json")
    for needle in ("{{7*7}}", "7*7", "lipsum", "range(3) %}", "{% raw", "Title {{", "Sheet {{"):
        assert needle not in code, needle


def test_template_syntax_in_the_title_alone_renders(tmp_path):
    """An unbalanced ``{{ " }}`` used to make every render fail (exit 70)."""
    from borderkit.maps import save_html

    for title in ('{{ " }}', "{%", "{{", "{# never closed", "{% endfor %}"):
        path = save_html(make_map(synthetic_layers(), title=title), tmp_path / "m.html")
        assert _data(path.read_text(encoding="utf-8"))["title"] == title


def test_static_png_and_svg_draw_payloads_literally(corpus, tmp_path):
    """matplotlib: no mathtext (``$x^2$``), no LaTeX; every text artist holds the data as written."""
    import matplotlib
    from matplotlib.text import Text

    from borderkit.maps import prepare_context
    from borderkit.maps.static import render_figure, save_static

    layers, payloads, sentinel, title, subtitle = corpus
    ctx = prepare_context(layers, title=title, subtitle=subtitle)
    with matplotlib.rc_context({"text.usetex": True}):  # even a user's usetex setting is not used for data
        fig = render_figure(ctx)
    texts = [t for t in fig.findobj(Text) if t.get_text()]  # (matplotlib's empty placeholder titles aside)
    assert texts and all(not t.get_parse_math() and not t.get_usetex() for t in texts)
    joined = "\n".join(t.get_text() for t in texts)
    flat = " ".join(joined.split())  # the title and the credits are wrapped to the page (line breaks added)
    assert " ".join(title.split()) in flat and " ".join(subtitle.split()) in flat  # not escaped, not shortened
    for p in ("$x^2$", r"$\frac{1}{2}$", "{{7*7}}", '{{ " }}'):
        assert p in joined
    png = save_static(ctx, tmp_path / "m.png")
    svg = save_static(ctx, tmp_path / "m.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text(encoding="utf-8")
    import xml.etree.ElementTree as ET

    root = ET.fromstring(text)  # well-formed
    # SVG text stays text (editable): every payload is escaped text content, never markup or a comment
    for needle in ("<script", "<img", "<!--"):
        assert needle not in text
    assert not [e for e in root.iter() if e.tag.endswith("script") or any(k.startswith("on") for k in e.attrib)]
    svg_text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "$x^2$" in svg_text and "{{7*7}}" in svg_text  # drawn literally
    assert not sentinel.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "m.svg"]  # no temporary file left


def _hostile_incidents_csv(path: Path, payloads) -> Path:
    text = " ".join(payloads)
    sources = json.dumps(
        [{"publication": "Pub " + text, "title": "Title " + text, "url": u} for u in TEMPLATE_URLS[:2]],
        ensure_ascii=False,
    )
    cols = ["incident_id", "date", "date_precision", "type", "description", "actors", "place_name", "place_id"]
    cols += ["lon", "lat", "precision_m", "sources", "reported_claims"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i, (lon, lat) in enumerate([(45.8, 39.7), (45.7, 39.6)]):
            w.writerow(
                [f"i{i}", "2021-05-12", "day", "advance", "Desc " + text, "A " + text, "Place " + text, "", lon, lat]
                + [500, sources, "Claim " + text]
            )
    return path


def test_cli_map_with_hostile_incidents_file_name_and_title(corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from borderkit.cli.main import cli

    _, payloads, sentinel, _, _ = corpus
    monkeypatch.chdir(tmp_path)
    inc = _hostile_incidents_csv(tmp_path / "incidents {{7*7}} {% raw %} $x$.csv", payloads)
    lines = tmp_path / "lines {{7*7}}.geojson"
    frame = synthetic_layers(payloads=payloads)["lines"]
    frame["left_party"], frame["right_party"] = "ARM", "AZE"  # the reader checks party codes
    frame.to_file(lines)
    title = "Map " + " ".join(payloads)
    res = CliRunner().invoke(
        cli,
        ["map", str(lines), str(inc), "--title", title, "--png", "m.png", "--svg", "m.svg", "--json"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    assert not sentinel.exists()
    out = Path(json.loads(res.output)["written"]["html"])
    assert out == Path("maps") / "lines {{7*7}}.html"  # the file name is used literally
    data = _data(out.read_text(encoding="utf-8"))
    assert data["title"] == title
    for r in data["incidents"]:
        _assert_literal(r["description"], payloads, "CLI description")
        _assert_literal(r["place_name"], payloads, "CLI place")
        assert any(s["text"].startswith("Pub ") and payloads[0] in s["text"] for s in r["sources"])
    # offline, from the same files
    res = CliRunner().invoke(cli, ["map", str(inc), "--title", title, "--offline", "-o", "off.html"])
    assert res.exit_code == 0, res.output
    assert _data((tmp_path / "off.html").read_text(encoding="utf-8"))["title"] == title
    assert not sentinel.exists()


def test_payload_corpus_covers_the_issue():
    """The corpus holds each kind the issue names (a guard against it being trimmed)."""
    joined = "\n".join(TEMPLATE_PAYLOADS)
    for kind in ("{{7*7}}", "{% for", "{#", "{% raw %}", "${{", "</script>", "<!--", "$x^2$", "\\", '"', "'"):
        assert kind in joined, kind
    assert {"{{", "{%", "}}"} <= set(TEMPLATE_PAYLOADS)
    assert any("os.system" in p for p in template_payloads("x"))
