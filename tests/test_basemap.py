"""The bundled case's basemap (geodata/armenia-azerbaijan/basemap.geojson) against independent reads.

Every expected value comes from the shared reference data, read here with the json/csv modules
and pyproj Geod: GeoNames cities500 rows for AM and AZ (towns: every one in the frame with a
population, same population and position), the GSHHG border polylines as extracted separately
(every border vertex is one of the source's vertices), Natural Earth 10m lakes (Lake Sevan's area
and position agree with GSHHG's within the sources' accuracy) — and the registry entry.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from conftest import shared_file

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "geodata" / "armenia-azerbaijan"
REGISTRY = json.loads((ROOT / "geodata" / "registry.json").read_text(encoding="utf-8"))
ENTRY = REGISTRY["datasets"]["armenia-azerbaijan"]["files"]["basemap"]
SEVAN_POINT = (45.30, 40.35)  # lon, lat: open water of Lake Sevan (Natural Earth and GSHHG both cover it)
SEV_LAKE = (46.23167, 39.59806)  # the case's sev_lake place (places.csv)


@pytest.fixture(scope="module")
def basemap():
    return json.loads((CASE / "basemap.geojson").read_text(encoding="utf-8"))["features"]


def _layer(features, name):
    return [f for f in features if f["properties"]["layer"] == name]


def _area_km2(geometry) -> float:
    from pyproj import Geod
    from shapely.geometry import shape

    geod = Geod(ellps="WGS84")
    return abs(geod.geometry_area_perimeter(shape(geometry))[0]) / 1e6


def test_registry_entry_names_every_source_with_a_licence(basemap):
    assert ENTRY["kind"] == "basemap" and ENTRY["rows"] == len(basemap)
    used = {f["properties"]["source"] for f in basemap}
    assert used == set(ENTRY["sources"]) == {"gshhg-lakes", "wdbii-rivers", "gshhg-wdbii", "geonames-cities500"}
    for s in used:
        src = REGISTRY["sources"][s]
        assert src["licence"] and src["package"]["sha256"]
    # the water comes from the same pinned package as the GSHHG borders the case already uses
    assert REGISTRY["sources"]["gshhg-lakes"]["package"] == REGISTRY["sources"]["gshhg-wdbii"]["package"]
    assert {f["properties"]["layer"] for f in basemap} == {"water", "river", "border", "town"}


def test_every_town_in_the_frame_with_a_population_is_there_as_geonames_has_it(basemap):
    w, s, e, n = ENTRY["frame"]
    towns = {f["properties"]["ref"]: f for f in _layer(basemap, "town")}
    expected = {}
    path = shared_file("geonames-cities500-AM-AZ/cities500_AM_AZ.txt")
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            lat, lon, pop = float(row[4]), float(row[5]), int(row[14] or 0)
            if pop > 0 and w <= lon <= e and s <= lat <= n:
                expected[f"geonames:{row[0]}"] = (row[1], pop, lon, lat)
    assert len(expected) > 300  # Armenia and Azerbaijan alone
    for ref, (name, pop, lon, lat) in expected.items():
        f = towns.get(ref)
        assert f is not None, (ref, name)
        assert f["properties"]["name"] == name and f["properties"]["population"] == pop
        x, y = f["geometry"]["coordinates"]
        assert abs(x - lon) < 1e-6 and abs(y - lat) < 1e-6


def test_border_vertices_are_the_sources_own(basemap):
    """Every vertex of a GSHHG border in the basemap is a vertex of that polyline as extracted independently."""
    import numpy as np

    doc = json.loads(shared_file("gshhg-wdbii-borders-basemap-caucasus/basemap_countries_f_caucasus.geojson")
                     .read_text(encoding="utf-8"))
    source = {f"gshhg:{f['properties']['basemap_id']}": f["geometry"]["coordinates"] for f in doc["features"]}
    w, s, e, n = ENTRY["frame"]
    borders = _layer(basemap, "border")
    assert borders
    checked = 0
    for f in borders:
        ref = f["properties"]["ref"]
        if ref not in source:
            continue  # outside the shared fixture's box
        verts = np.asarray(source[ref])
        g = f["geometry"]
        lines = g["coordinates"] if g["type"] == "MultiLineString" else [g["coordinates"]]
        for line in lines:
            for x, y in line:
                on_frame_edge = min(abs(x - w), abs(x - e), abs(y - s), abs(y - n)) < 1e-9
                # float32 source values: the fixture and the basemap print them differently (≤ 4e-6°)
                nearest = float(np.abs(verts - (x, y)).max(axis=1).min())
                assert on_frame_edge or nearest < 5e-6, (ref, x, y, nearest)
                checked += 1
    assert checked > 100


def test_lake_sevan_is_gshhg_water_agreeing_with_natural_earth_and_sev_lake_is_not_in_gshhg(basemap):
    from shapely.geometry import Point, shape

    water = [(shape(f["geometry"]), f) for f in _layer(basemap, "water")]
    sevan = [f for g, f in water if g.contains(Point(*SEVAN_POINT))]
    assert len(sevan) == 1
    ne = json.loads(shared_file("naturalearth-10m-lines-caucasus-clip/ne_10m_lakes_caucasus.geojson")
                    .read_text(encoding="utf-8"))
    ne_sevan = [f for f in ne["features"] if shape(f["geometry"]).contains(Point(*SEVAN_POINT))]
    assert len(ne_sevan) == 1
    a_gshhg, a_ne = _area_km2(sevan[0]["geometry"]), _area_km2(ne_sevan[0]["geometry"])
    # Lake Sevan is ≈1,260 km² (1:1M–1:10M sources differ by a few per cent)
    assert 1150 < a_gshhg < 1450 and abs(a_gshhg - a_ne) / a_ne < 0.1, (a_gshhg, a_ne)
    assert sevan[0]["properties"]["area_km2"] == pytest.approx(a_gshhg, rel=1e-3)
    # GSHHG's full resolution has no Sev Lake (≈2 km²): the map keeps the osm-2017 outline for it
    assert not any(g.distance(Point(*SEV_LAKE)) < 0.02 for g, _ in water)
    # the frame's rivers are lines inside the frame
    w, s, e, n = ENTRY["frame"]
    for f in _layer(basemap, "river"):
        minx, miny, maxx, maxy = shape(f["geometry"]).bounds
        assert w - 1e-9 <= minx and maxx <= e + 1e-9 and s - 1e-9 <= miny and maxy <= n + 1e-9


def test_frame_is_the_region_grown_by_the_margin_in_metres():
    from pyproj import Geod

    from borderkit import casebuild

    region = REGISTRY["datasets"]["armenia-azerbaijan"]["bbox"]
    w, s, e, n = ENTRY["frame"]
    geod = Geod(ellps="WGS84")
    lat_mid = (region[1] + region[3]) / 2
    _, _, d_west = geod.inv(w, lat_mid, region[0], lat_mid)
    _, _, d_south = geod.inv(region[0], s, region[0], region[1])
    for d in (d_west, d_south):  # outward rounding to 0.001° (≤ 111 m)
        assert casebuild.BASEMAP_MARGIN_M <= d < casebuild.BASEMAP_MARGIN_M + 120
    assert math.isclose(n - region[3], region[1] - s, abs_tol=0.02)


def test_build_basemap_is_byte_deterministic_and_honours_the_frame(tmp_path):
    from borderkit import casebuild

    cities = shared_file("geonames-cities500-AM-AZ/cities500_AM_AZ.txt")
    region = (45.0, 39.0, 46.0, 40.0)
    out = []
    for i in range(2):
        d = tmp_path / str(i)
        d.mkdir()
        entry, _ = casebuild.build_basemap({"geonames-cities500": cities}, region=region, keep_out=None, out=d)
        out.append((d / casebuild.BASEMAP_FILE).read_bytes())
    assert out[0] == out[1]
    w, s, e, n = entry["frame"]
    pts = [f["geometry"]["coordinates"] for f in json.loads(out[0])["features"]]
    assert pts and all(w <= x <= e and s <= y <= n for x, y in pts)
