"""The bundled Armenia–Azerbaijan case: loads, validates, and says what the reports say.

Expected values come from the reports (dates, numbers), from the reference data
in ../shared (read independently here), or from pyproj directly.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import borderkit
from borderkit import datasets
from borderkit.errors import DatasetNotFoundError, RegistryError
from conftest import require_module

GEOD = Geod(ellps="WGS84")
LINE_SOURCES = {"osm-2017", "natural-earth-10m", "dcw-gmt", "gshhg-wdbii"}
POLYGON_SOURCES = {"osm-2017", "natural-earth-10m", "dcw-gmt"}


@pytest.fixture(scope="module")
def case():
    return datasets.load("armenia-azerbaijan")


def test_case_has_every_layer_in_wgs84(case):
    for layer in (case.lines, case.territories, case.incidents, case.places):
        assert layer.crs.to_epsg() == 4326
        assert len(layer) > 0
    assert isinstance(case.claims, pd.DataFrame) and len(case.claims) >= 5
    assert case.dem.suffix == ".tif" and case.dem.is_file()


def test_four_line_sources_each_with_mainland_and_nakhchivan_sections(case):
    assert LINE_SOURCES <= set(case.lines["source"])
    for src in LINE_SOURCES:
        sections = set(case.lines.loc[case.lines["source"] == src, "section"])
        assert {"mainland", "nakhchivan"} <= sections, (src, sections)
        assert any(s.startswith("exclave") for s in sections), (src, sections)


def test_lines_are_oriented_armenia_left_on_the_mainland(case):
    mainland = case.lines[case.lines["section"] == "mainland"]
    assert set(mainland["left_party"]) == {"ARM"}
    assert set(mainland["right_party"]) == {"AZE"}
    assert set(case.lines["claimant"]) == {"cartographic"}


def test_orientation_matches_territories_geometrically(case):
    """A point 200 m to the left of each mainland segment midpoint lies in ARM (same source)."""
    for src in POLYGON_SOURCES:
        line = case.lines[(case.lines["source"] == src) & (case.lines["section"] == "mainland")].geometry.iloc[0]
        terr = case.territories
        arm = terr[(terr["source"] == src) & (terr["party"] == "ARM")].geometry.iloc[0]
        coords = np.concatenate([np.asarray(p.coords) for p in shapely.get_parts(line)])
        a, b = coords[:-1], coords[1:]
        keep = np.ones(len(a), bool)
        # skip the joins between parts of a MultiLineString
        lon1, lat1, lon2, lat2 = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
        az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
        keep &= (dist > 400) & (dist < 20000)
        mid_lon, mid_lat, _ = GEOD.fwd(lon1[keep], lat1[keep], az[keep], dist[keep] / 2)
        left_lon, left_lat, _ = GEOD.fwd(mid_lon, mid_lat, az[keep] - 90, np.full(keep.sum(), 200.0))
        inside = shapely.contains_xy(arm, left_lon, left_lat)
        assert inside.mean() > 0.9, (src, inside.mean())


def test_gshhg_has_lines_but_no_invented_polygons(case):
    assert "gshhg-wdbii" not in set(case.territories["source"])
    assert POLYGON_SOURCES <= set(case.territories["source"])


def test_osm_exclave_overlap_is_kept_and_reported(case):
    ov = case.territory_overlaps()
    osm = ov[(ov["source"] == "osm-2017") & (ov["party_a"] == "ARM") & (ov["party_b"] == "AZE")]
    # ../shared/README.md: ≈81 km² of ARM/AZE overlap in the OSM-derived polygons.
    assert len(osm) == 1
    assert 70 < osm["area_km2"].iloc[0] < 95


def test_line_sources_disagree_by_kilometres_in_syunik(case, shared_path):
    """GSHHG vs Natural Earth mainland lines: median separation of order 1 km in Syunik
    (../shared/data/gshhg-…/PROVENANCE.md measured a median of 1.36 km)."""
    box = shapely.box(45.8, 39.3, 46.3, 39.7)
    g = case.lines[(case.lines["source"] == "gshhg-wdbii") & (case.lines["section"] == "mainland")].geometry.iloc[0]
    lines = case.lines
    ne = lines[(lines["source"] == "natural-earth-10m") & (lines["section"] == "mainland")].geometry.iloc[0]
    pts = shapely.get_coordinates(shapely.intersection(g, box))
    near = shapely.get_coordinates(shapely.shortest_line(shapely.points(pts), ne))[1::2]
    d = GEOD.inv(pts[:, 0], pts[:, 1], near[:, 0], near[:, 1])[2]
    assert 500 < np.median(d) < 3000


REQUIRED_PLACES = [
    "Mets Ishkhanasar", "Sev Lake", "Sisian", "Goris", "Kapan", "Khndzoresk", "Tegh", "Kornidzor",
    "Vardenis", "Berd", "Tovuz", "Nakhchivan", "Sadarak", "Shusha", "Lachin", "Kalbajar", "Zangilan",
    "Meghri", "Agarak", "Jermuk", "Gyumri", "Yerevan", "Baku", "Davit Bek", "Ashagi Seyfali",
]


def test_places_cover_the_case_with_cited_coordinates(case):
    places = case.places
    assert len(places) >= 30
    names = " | ".join(places["name_en"])
    for name in REQUIRED_PLACES:
        assert name.lower() in names.lower(), name
    located = ~places.geometry.is_empty & places.geometry.notna()
    assert (places.loc[located, "coord_source"].str.len() > 0).all()
    # an unlocated place explains why
    assert (places.loc[~located, "notes"].str.len() > 0).all()
    for col in ("name_en", "name_hy", "name_az", "name_ru"):
        assert col in places.columns


def test_armenian_names_are_in_armenian_script_and_russian_in_cyrillic(case):
    hy = case.places["name_hy"][case.places["name_hy"] != ""]
    ru = case.places["name_ru"][case.places["name_ru"] != ""]
    assert len(hy) >= 15 and len(ru) >= 15
    assert hy.map(lambda s: any("\u0530" <= ch <= "\u058f" for ch in s)).all()
    assert ru.map(lambda s: any("\u0400" <= ch <= "\u04ff" for ch in s)).all()


def test_mets_ishkhanasar_is_a_3550_m_class_peak_with_a_cited_height(case):
    p = case.places[case.places["name_en"].str.contains("Mets Ishkhanasar")].iloc[0]
    assert p["kind"] == "peak"
    assert 3500 <= p["elevation_m"] <= 3600
    assert p["elevation_source"]


def test_towns_agree_with_geonames_reference(case, shared_path):
    """Towns taken from GeoNames match the independent GeoNames rows in ../shared within 1 m."""
    ref = pd.read_csv(shared_path("geonames-cities500-AM-AZ/cities500_AM_AZ.txt"), sep="\t", header=None, dtype=str)
    ref = ref.set_index(0)
    gid_of = case.places["coord_source"].str.extract(r"^GeoNames (\d+)", expand=False)
    checked = 0
    for gid, (_, row) in zip(gid_of, case.places.iterrows(), strict=True):
        if not isinstance(gid, str) or gid not in ref.index:
            continue
        lat, lon = float(ref.loc[gid, 4]), float(ref.loc[gid, 5])
        d = GEOD.inv(lon, lat, row.geometry.x, row.geometry.y)[2]
        assert d < 1.0, (row["name_en"], d)
        checked += 1
    assert checked >= 10


def test_incidents_are_those_of_the_two_reports(case):
    inc = case.incidents
    dates = set(pd.to_datetime(inc["date"]).dt.strftime("%Y-%m-%d"))
    assert {"2024-04-05", "2024-04-06", "2024-04-10", "2024-04-13", "2021-05-12"} <= dates
    text = " ".join(inc["place_name"]).lower()
    # the reports' own spellings (Basarkechar = Vardenis, Tovuzgala = Berd, Khndoresk = Khndzoresk)
    for name in ("tovuz", "basarkechar", "goris", "ishkhanasar", "khndoresk", "ashagi seyfali", "sev"):
        assert name in text, name
    assert (inc["precision_m"] > 0).all()
    for sources in inc["sources"]:
        assert len(sources) >= 1
        for s in sources:
            assert set(s) >= {"publication", "title", "date", "url"}
            assert s["url"] == "" or s["url"].startswith(("http://", "https://"))


def test_claims_hold_the_reports_numbers(case):
    c = case.claims
    metres = c["claimed_value"] * c["claimed_unit"].map({"m": 1.0, "km": 1000.0})
    assert {3500.0, 12000.0, 25000.0, 40000.0} <= set(metres.round(0))
    assert (c["source"].str.len() > 0).all()


def test_dem_covers_syunik_and_is_registered_like_its_dted0_lineage(case, shared_path):
    """GLOBE 30″ took its values here from DTED Level 0 (same 30″ spacing). DTED posts sit on whole
    30″ positions (pixel-is-point), GLOBE cells are 30″ areas; with correct georeferencing every
    GLOBE cell holds the DTED0 post at its north-west corner. Read DTED0 independently (../shared)
    and check that relation: it pins the GLOBE clip's transform to the exact cell."""
    rasterio = require_module("rasterio")
    with rasterio.open(case.dem) as ds:
        w, s, e, n = ds.bounds
        assert w <= 45.0 and e >= 47.0 and s <= 38.8 and n >= 40.2
        assert ds.crs.to_epsg() == 4326
        assert abs(ds.transform.a - 1 / 120) < 1e-12 and abs(ds.transform.e + 1 / 120) < 1e-12
        globe = ds.read(1)
        t = ds.transform
    with rasterio.open(shared_path("dted0-caucasus/e046/n39.dt0")) as dt:
        dted = dt.read(1)
        dt_t = dt.transform
    # NW corners of GLOBE cells inside 46.05–46.95 E, 39.05–39.95 N (away from tile edges)
    cols = np.arange(int(round((46.05 - t.c) / t.a)), int(round((46.95 - t.c) / t.a)))
    rows = np.arange(int(round((t.f - 39.95) / -t.e)), int(round((t.f - 39.05) / -t.e)))
    cc, rr = np.meshgrid(cols, rows)
    corner_lon = t.c + cc * t.a
    corner_lat = t.f + rr * t.e
    # DTED post indices: the transform of a pixel-is-point file puts post centres at pixel centres
    dcol = np.rint((corner_lon - dt_t.c) / dt_t.a - 0.5).astype(int)
    drow = np.rint((corner_lat - dt_t.f) / dt_t.e - 0.5).astype(int)
    same = globe[rr, cc] == dted[drow, dcol]
    assert same.mean() > 0.99, same.mean()
    # shifted by one cell the relation breaks (so the test can fail)
    assert (globe[rr, cc + 1] == dted[drow, dcol]).mean() < 0.5
    assert globe[rr, cc].max() > 3300  # the Ishkhanasar massif


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(DatasetNotFoundError, match="armenia-azerbaijan"):
        datasets.load("atlantis")
    with pytest.raises(KeyError):
        datasets.load("atlantis")


def test_a_changed_byte_is_caught_by_the_registry(tmp_path, monkeypatch):
    src = datasets.data_dir()
    dst = tmp_path / "geodata"
    shutil.copytree(src / "armenia-azerbaijan", dst / "armenia-azerbaijan")
    shutil.copy(src / "registry.json", dst / "registry.json")
    claims = dst / "armenia-azerbaijan" / "claims.csv"
    claims.write_bytes(claims.read_bytes().replace(b"3.5", b"4.5", 1))
    monkeypatch.setenv("BORDERKIT_DATA", str(dst))
    with pytest.raises(RegistryError, match="claims.csv"):
        datasets.load("armenia-azerbaijan")


def test_a_truncated_file_is_caught_by_its_size(tmp_path, monkeypatch):
    src = datasets.data_dir()
    dst = tmp_path / "geodata"
    shutil.copytree(src / "armenia-azerbaijan", dst / "armenia-azerbaijan")
    shutil.copy(src / "registry.json", dst / "registry.json")
    claims = dst / "armenia-azerbaijan" / "claims.csv"
    claims.write_bytes(claims.read_bytes()[:-10])
    monkeypatch.setenv("BORDERKIT_DATA", str(dst))
    with pytest.raises(RegistryError, match=r"claims\.csv: \d+ bytes, the registry says"):
        datasets.verify("armenia-azerbaijan")


def test_summary_mentions_every_source(case):
    text = case.summary()
    for src in LINE_SOURCES:
        assert src in text
    assert "km²" in text or "km2" in text


def test_public_api_is_reachable_from_top_level():
    assert borderkit.datasets.load is datasets.load


# ------------------------------------------------------------------------------------ the case file
def test_case_file_is_registered_and_read():
    import tomllib

    from borderkit import registry

    case = datasets.load()
    assert case.case_file is not None and case.case_file.name == "case.toml"
    assert registry.dataset_entry(datasets.DEFAULT_CASE)["files"]["case"]["kind"] == "case"
    raw = tomllib.loads(case.case_file.read_text(encoding="utf-8"))  # independent parse
    assert case.config.pair == tuple(raw["pair"])
    assert case.config.region == tuple(raw["region"])
    assert case.config.dem == raw["terrain"]["dem"] == case.dem.name
    assert case.config.parts["nakhchivan"].at == tuple(raw["parts"]["nakhchivan"]["at"])
    assert case.config.corridor == ("nakhchivan", "mainland")
    assert case.config.party_names()["ARM"] == ("Armenia", "Armenian")
    assert case.config.viewsheds[0].place == "mets_ishkhanasar"
    assert case.config.map_title and case.config.map_label_min_zoom == raw["map"]["label_min_zoom"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("pair = [", "not a valid UTF-8 TOML"),
        ('pair = ["ARM", "ARM"]', "pair: expected two different party codes"),
        ('[parts.x]\nparty = "A"\nat = [39.2, 145.4]', r"parts\.x\.at: \[lon, lat\] out of range"),
        ('[[readings."c"]]\nkind = "guess"', r"readings\.c\[0\]\.kind: 'guess' is not one of"),
        ('[corridor]\npart_a = "a"\npart_b = "b"', r"corridor\.part_a: 'a' is not a \[parts\.\*\] table"),
    ],
)
def test_a_bad_case_file_gives_one_line_naming_file_and_key(tmp_path, text, match):
    from borderkit.cases import read_case_file
    from borderkit.errors import FileFormatError

    path = tmp_path / "case.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileFormatError, match=match) as exc:
        read_case_file(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)
