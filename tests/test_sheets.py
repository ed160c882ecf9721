"""Soviet sheet nomenclature: bounds checked against hand computation and published examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderkit.cli.main import EXIT_DATA, cli
from borderkit.errors import ValidationError
from borderkit.sheets import parse_sheet, sheet, sheet_at, sheets_covering, sheets_geojson

ROOT = Path(__file__).resolve().parents[1]


def deg(d: int, m: float = 0, s: float = 0) -> float:
    return d + m / 60 + s / 3600


# name, scale, (W, S, E, N) computed by hand from the rules (row letter: 4° bands from the equator,
# A = 0–4°; column c: 6° from 180° W, so c = 38 → 42–48° E; numbering row by row from the NW corner).
HAND = [
    # J = 10th letter → 36–40° N; column 38 → 42–48° E
    ("J-38", 1_000_000, (42, 36, 48, 40)),
    # K = 40–44° N; Г = south-east quarter
    ("K-38-Г", 500_000, (45, 40, 48, 42)),
    # XXIII: 23 → row 3 (from the north), column 4 of 6 → N 44 − 3·40′ = 42°, lon 42 + 4·1°
    ("K-38-XXIII", 200_000, (46, deg(41, 20), 47, 42)),
    # 21 → row 1, column 8 of 12 → N 40 − 20′, W 42 + 8·30′ = 46°
    ("J-38-21", 100_000, (46, deg(39, 20), deg(46, 30), deg(39, 40))),
    # 144 is the SE corner of J-38: 36°00′–36°20′ N, 47°30′–48° E
    ("J-38-144", 100_000, (deg(47, 30), 36, 48, deg(36, 20))),
    # Б = NE quarter of J-38-21 → 39°30′–39°40′ N, 46°15′–46°30′ E
    ("J-38-21-Б", 50_000, (deg(46, 15), deg(39, 30), deg(46, 30), deg(39, 40))),
    # г = SE quarter of J-38-21-Б: 39°30′–39°35′ N, 46°22′30″–46°30′ E
    ("J-38-21-Б-г", 25_000, (deg(46, 22, 30), deg(39, 30), deg(46, 30), deg(39, 35))),
    # western hemisphere: column 18 → −78…−72° E; L = 44–48° N; 1 = NW corner sheet
    ("L-18-1", 100_000, (-78, deg(47, 40), deg(-77, -30), 48)),
    # doubled north of 60° N: P = 60–64° N, columns 37 and 38 → 36–48° E
    ("P-37,38", 1_000_000, (36, 60, 48, 64)),
    # P-52-23,24 (a published example name): 23 → row 1, column 10 → 126 + 5° = 131°, two sheets → 132°
    ("P-52-23,24", 100_000, (131, deg(63, 20), 132, deg(63, 40))),
    # P-52-V,VI (published example): row 0, columns 4–5 → 130–132° E, 63°20′–64° N
    ("P-52-V,VI", 200_000, (130, deg(63, 20), 132, 64)),
    ("P-37-1-А,Б", 50_000, (36, deg(63, 50), deg(36, 30), 64)),
    # quadrupled north of 76° N: T = 76–80° N, columns 37–40 → 36–60° E
    ("T-37,38,39,40", 1_000_000, (36, 76, 60, 80)),
    ("T-37-1,2,3,4", 100_000, (36, deg(79, 40), 38, 80)),
    # 1:200,000 is tripled north of 76° N
    ("T-37-I,II,III", 200_000, (36, deg(79, 20), 39, 80)),
]


@pytest.mark.parametrize(("name", "scale", "bounds"), HAND, ids=[h[0] for h in HAND])
def test_bounds_match_hand_computation(name, scale, bounds):
    s = parse_sheet(name)
    assert s.scale == scale
    assert s.name == name
    assert s.bounds_sk42 == pytest.approx(bounds, abs=1e-12)


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("j-38-21", "J-38-21"), ("J 38 21", "J-38-21"), ("J38-21", "J-38-21"), ("J–38–21", "J-38-21"),
        ("К-38-Г", "K-38-Г"),  # Cyrillic К as the row letter
        ("k-38-g", "K-38-Г"), ("K-38-D", "K-38-Г"), ("k 38 xxiii", "K-38-XXIII"),
        ("J-38-21-A-a", "J-38-21-А-а"), ("j38-21-аа", "J-38-21-А-а"), ("J-38-21-Б-Г", "J-38-21-Б-г"),
        ("p-37, 38", "P-37,38"), ("Р-52-v, vi", "P-52-V,VI"), ("P-37-1-а,б", "P-37-1-А,Б"),
    ],
)
def test_every_written_form_is_normalised(written, normal):
    assert parse_sheet(written).name == normal


def test_lone_latin_v_is_roman_unless_the_scale_says_500k():
    assert parse_sheet("K-38-V").scale == 200_000
    assert parse_sheet("K-38-V", scale=500_000).name == "K-38-В"
    assert parse_sheet("K-38-В").scale == 500_000  # Cyrillic В


def test_published_example_smolensk_sheet_contains_smolensk():
    """Teaching notes on «разграфка и номенклатура» (e.g. http://4-i-5.ru/text-3/page-1-ref-64738.php) give
    N-36-41-В as the 1:50,000 sheet of Smolensk; Smolensk is at 54°47′N 32°03′E (Wikipedia)."""
    w, s, e, n = parse_sheet("N-36-41-В").bounds_sk42
    lon, lat = deg(32, 3), deg(54, 47)
    assert w <= lon <= e and s <= lat <= n
    assert sheet_at(lon, lat, scale=50_000).name == "N-36-41-В"


def test_published_worked_example_m42():
    """Worked example (studfile.net «Номенклатура топографических карт»): φ = 49°22′, λ = 70°56′ → M-42."""
    assert sheet_at(deg(70, 56), deg(49, 22), scale=1_000_000).name == "M-42"


def test_sheet_covering_sev_lake_is_computed_from_the_bundled_place():
    places = json.loads((ROOT / "geodata" / "armenia-azerbaijan" / "places.geojson").read_text(encoding="utf-8"))
    feats = places["features"]
    (lon, lat), = [f["geometry"]["coordinates"] for f in feats if f["properties"]["place_id"] == "sev_lake"]
    # by hand: lat 39.598 → J (36–40), lon 46.23 → column 38; row (40 − 39.598)·3 = 1.2 → 1; column (46.23 − 42)·2
    # = 8.46 → 8; number 1·12 + 8 + 1 = 21. The ~100 m datum shift is far from the sheet edges (≥ 2 km).
    assert sheet_at(lon, lat, scale=100_000).name == "J-38-21"
    found = [s.name for s in sheets_covering((lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01), 100_000)]
    assert found == ["J-38-21"]


def test_doubled_zone_refuses_a_single_sheet_and_a_wrong_pair():
    with pytest.raises(ValidationError, match="P-37,38"):
        parse_sheet("P-37")
    with pytest.raises(ValidationError, match="P-37-1,2"):
        parse_sheet("P-37-2,3")
    with pytest.raises(ValidationError, match="P-37,38"):
        parse_sheet("P-37,39")
    # by hand: 61.1° N in P (60–64): row floor((64 − 61.1)·3) = 8; 37.5° E: column (37.5 − 36)·2 = 3
    # → 8·12 + 3 + 1 = 100, published with its western neighbour 99
    assert sheet_at(37.5, 61.1, scale=100_000).name == "P-37-99,100"


@pytest.mark.parametrize("bad", ["", "Z-1", "K-61", "K-0", "K-38-145", "K-38-XXXVII", "J-38-21-Д", "J-38-21-А-а-б",
                                 "K-38-Ю.П.", "38-K", "T-37-А,Б"])
def test_bad_names_are_refused_with_a_reason(bad):
    with pytest.raises(ValidationError, match="sheet name|empty|quadrupled"):
        parse_sheet(bad)


def test_sheets_covering_a_box_across_a_1m_boundary():
    found = sheets_covering((47.9, 39.9, 48.1, 40.1), 100_000)
    assert [s.name for s in found] == ["K-38-144", "K-39-133", "J-38-12", "J-39-1"]


def test_sheet_corners_in_wgs84_use_epsg_15865():
    """The WGS84 corners equal an independent Helmert transformation with the published parameters of EPSG:15865
    (Pulkovo 1942 to WGS 84 (16): tX 25, tY −141, tZ −78.5 m, rY −0.35″, rZ −0.736″, coordinate frame)."""
    import pyproj

    info = sheet("J-38-21")
    t = pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=cart +ellps=krass "
        "+step +proj=helmert +x=25 +y=-141 +z=-78.5 +rx=0 +ry=-0.35 +rz=-0.736 +s=0 +convention=coordinate_frame "
        "+step +inv +proj=cart +ellps=WGS84 +step +proj=unitconvert +xy_in=rad +xy_out=deg")
    x, y = t.transform(46.0, deg(39, 40))
    assert info["corners_wgs84"]["nw"] == pytest.approx([x, y], abs=1e-9)
    geod = pyproj.Geod(ellps="WGS84")
    cx, cy = t.transform(46.25, 39.5)
    assert info["shift_m"] == pytest.approx(geod.inv(46.25, 39.5, cx, cy)[2], abs=0.01)
    assert 80 < info["shift_m"] < 130  # "of the order of 100 m" in the Caucasus
    assert info["datum"] == "EPSG:4284" and info["gauss_kruger"] == {"zone": 8, "crs": "EPSG:28408"}


def test_geojson_outlines():
    fc = sheets_geojson(sheets_covering((46.1, 39.5, 46.3, 39.7), 100_000))
    names = [f["properties"]["name"] for f in fc["features"]]
    assert names == ["J-38-9", "J-38-21"]
    ring = fc["features"][1]["geometry"]["coordinates"][0]
    assert len(ring) == 65 and ring[0] == ring[-1]


def test_cli_sheet_json_has_the_issue_keys():
    res = CliRunner().invoke(cli, ["sheet", "j 38 21", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"name", "scale", "datum", "bounds_sk42", "corners_wgs84", "shift_m"} <= set(out)
    assert out["name"] == "J-38-21" and out["scale"] == 100_000
    assert set(out["corners_wgs84"]) == {"nw", "ne", "se", "sw"}


def test_cli_sheet_bad_name_one_line_exit_1():
    res = CliRunner().invoke(cli, ["sheet", "P-37"])
    assert res.exit_code == EXIT_DATA
    assert "P-37,38" in res.output and "Traceback" not in res.output


def test_cli_sheets_writes_geojson(tmp_path):
    out = tmp_path / "s.geojson"
    res = CliRunner().invoke(cli, ["sheets", "--bbox", "46.1", "39.5", "46.3", "39.7", "--scale", "100000",
                                   "--json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert [s["name"] for s in json.loads(res.output)["sheets"]] == ["J-38-9", "J-38-21"]
    assert len(json.loads(out.read_text())["features"]) == 2
    res = CliRunner().invoke(cli, ["sheets", "--bbox", "46.1", "39.5", "46.3", "39.7", "-o", str(out)])
    assert res.exit_code == 2  # exists without --overwrite
