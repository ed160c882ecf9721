"""The bundled Kyrgyzstan–Tajikistan case: built by casebuild + curated facts, used with no code.

Every command runs from the committed data (``geodata/kyrgyzstan-tajikistan``), loaded by name.
Expected values come from outside the code under test: the curated CSV files read with the
``csv`` module, the coordinates the curators cite in their notes, shapely ``covers`` on the
source's own polygon, pyproj ``Geod`` distances to densely sampled geodesic segments and
``Geod.geometry_area_perimeter`` areas. The rebuild test (byte-identical to the committed files)
needs the package cache (``BORDERKIT_CACHE``) and is skipped without it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pyproj import Geod

from borderkit.cli import main
from conftest import REPO

NAME = "kyrgyzstan-tajikistan"
GEODATA = REPO / "geodata"
CURATED = GEODATA / "sources" / NAME
REGISTRY = json.loads((GEODATA / "registry.json").read_text(encoding="utf-8"))
GEOD = Geod(ellps="WGS84")
VORUKH = (70.58012, 39.85125)  # lon, lat: GeoNames 1220164, as the curated places.csv note cites it


def _csv(name: str) -> list[dict[str, str]]:
    with open(CURATED / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _geojson(name: str) -> list[dict]:
    return json.loads((GEODATA / NAME / name).read_text(encoding="utf-8"))["features"]


def _run(*args: str) -> str:
    res = CliRunner().invoke(main.cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def case():
    from borderkit import datasets

    return datasets.load(NAME)  # by name, every file sha256-checked against geodata/registry.json


# --------------------------------------------------------------------------- registry and layers
def test_registered_like_the_bundled_case_and_loads_by_name(case):
    entry = REGISTRY["datasets"][NAME]
    assert entry["pair"] == ["KGZ", "TJK"]
    assert {"lines", "territories", "places", "incidents", "dem", "case"} <= set(entry["files"])
    for meta in entry["files"].values():
        assert meta["path"].startswith(f"{NAME}/")
        data = (GEODATA / meta["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    assert entry["files"]["dem"]["bytes"] <= 2_000_000
    # what casebuild found about each source in this case is in the entry, not in the global sources
    assert set(entry["artefacts"]) >= {"osm-2017", "natural-earth-10m", "dcw-gmt", "gshhg-wdbii"}
    assert case.config.pair == ("KGZ", "TJK")
    assert case.config.parts["vorukh"].section == "exclave:vorukh"
    assert case.dem is not None


def test_every_source_draws_the_main_line_and_the_vorukh_exclave(case):
    got = {(r.source, r.section) for r in case.lines.itertuples()}
    sources = ("dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017")
    assert got == {(s, sec) for s in sources for sec in ("main", "exclave:vorukh")}
    assert set(REGISTRY["datasets"][NAME]["sections"]) == set(sources)


def test_third_parties_are_clipped_and_say_so(case):
    t = case.territories
    third = t[~t["party"].isin(["KGZ", "TJK"])]
    assert set(third["party"]) == {"UZB", "CHN"}  # Sokh/Fergana and the tripoint; AFG, KAZ, PAK are far away
    assert third["notes"].str.startswith("Third country of the case: clipped to").all()
    assert not t[t["party"].isin(["KGZ", "TJK"])]["notes"].str.contains("Third country").any()


def test_curated_places_replace_geonames_rows_and_keep_every_language(case):
    rows = _csv("places.csv")
    places = case.places.set_index("place_id")
    for r in rows:
        p = places.loc[r["place_id"]]
        for col in ("name_en", "name_ru", "name_ky", "name_tg", "name_uz"):
            assert p[col] == r[col], (r["place_id"], col)
        assert p["kind"] == r["kind"] and p["notes"] == r["notes"]
        if r["geonames_id"]:
            assert f"geonames_{r['geonames_id']}" not in places.index  # replaced, not duplicated
            assert p["geonameid"] == r["geonames_id"]
        if r["lat"]:
            assert (p.geometry.x, p.geometry.y) == (float(r["lon"]), float(r["lat"]))
        if not (r["lat"] or r["geonames_id"]):
            assert p.geometry is None or p.geometry.is_empty, r["place_id"]
            assert r["notes"].startswith("UNLOCATED")
    v = places.loc["vorukh"].geometry
    assert (v.x, v.y) == VORUKH
    assert len(case.places) == REGISTRY["datasets"][NAME]["files"]["places"]["rows"]


def test_incidents_lie_on_their_places(case):
    rows = _csv("incidents.csv")
    assert sorted(case.incidents["incident_id"]) == sorted(r["incident_id"] for r in rows)
    places = case.places.set_index("place_id")
    for inc in case.incidents.itertuples():
        assert inc.geometry.equals(places.loc[inc.place_id].geometry)


def test_height_claims_are_left_out_with_their_reason(case):
    curated = {r["claim_id"] for r in _csv("claims.csv")}
    left_out = REGISTRY["datasets"][NAME]["claims_left_out"]
    assert set(left_out) == curated and all("dem_peak" in why for why in left_out.values())
    assert len(case.claims) == 0
    out = _run("claims", "--case", NAME)
    assert "has none" in out


# --------------------------------------------------------------------------- commands, checked independently
def _nearest_m(lon: float, lat: float, geoms, spacing_m: float = 2.0) -> float:
    """Shortest geodesic distance to the lines: every segment sampled along its geodesic every ``spacing_m``."""
    best = np.inf
    for g in geoms:
        parts = getattr(g, "geoms", [g])
        for part in parts:
            c = np.asarray(part.coords)
            for (x0, y0), (x1, y1) in zip(c[:-1], c[1:], strict=True):
                n = max(int(GEOD.inv(x0, y0, x1, y1)[2] / spacing_m), 0)
                pts = np.array([(x0, y0), *GEOD.npts(x0, y0, x1, y1, n), (x1, y1)])
                d = GEOD.inv(np.full(len(pts), lon), np.full(len(pts), lat), pts[:, 0], pts[:, 1])[2]
                best = min(best, float(d.min()))
    return best


def test_check_vorukh_village_is_tjk_by_every_source_that_draws_the_exclave(case):
    import shapely

    out = json.loads(_run("check", "--case", NAME, "--lat", str(VORUKH[1]), "--lon", str(VORUKH[0]), "--json"))
    res = {r["source"]: r for r in out["results"]}
    assert set(res) == {"dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017"}
    pt = shapely.Point(VORUKH)
    t = case.territories
    for source, r in res.items():
        assert r["section"] == "exclave:vorukh"
        assert "TJK" in r["parties"]
        poly = t[(t["source"] == source) & (t["party"] == "TJK")].geometry
        if len(poly):  # polygon sources: the source's own TJK polygon covers the village
            assert shapely.covers(poly.iloc[0], pt)
            kgz = t[(t["source"] == source) & (t["party"] == "KGZ")].geometry.iloc[0]
            # OSM draws the exclave over Kyrgyzstan without a hole: both, and check says so
            assert shapely.covers(kgz, pt) == (r["party"] == "KGZ;TJK")
    assert res["osm-2017"]["overlap"] is True
    # the distance to the line against pyproj Geod on densely sampled geodesic segments of the source's line
    for source in ("natural-earth-10m", "dcw-gmt"):
        lines = case.lines[case.lines["source"] == source].geometry
        expected = _nearest_m(*VORUKH, lines)
        assert res[source]["distance_to_line_m"] == pytest.approx(expected, abs=0.5)


@pytest.mark.slow
def test_overlaps_osm_draws_vorukh_over_kyrgyzstan(case):
    import shapely

    out = json.loads(_run("overlaps", "--case", NAME, "--json"))
    pairs = {(p["source_a"], p["source_b"]) for p in out["pairs"]}
    assert len(pairs) == 6  # every pair of the four sources
    osm = [o for o in out["territory_overlaps"] if o["source"] == "osm-2017"]
    assert len(osm) == 1
    t = case.territories
    kgz = t[(t["source"] == "osm-2017") & (t["party"] == "KGZ")].geometry.iloc[0]
    tjk = t[(t["source"] == "osm-2017") & (t["party"] == "TJK")].geometry.iloc[0]
    inter = shapely.intersection(kgz, tjk)
    assert shapely.covers(inter, shapely.Point(VORUKH))  # the overlap is the Vorukh exclave
    area_km2 = abs(GEOD.geometry_area_perimeter(inter)[0]) / 1e6
    assert osm[0]["area_km2"] == pytest.approx(area_km2, rel=1e-3)


@pytest.mark.slow
def test_map_of_the_case(tmp_path):
    path = tmp_path / "kgtj.html"
    _run("map", "--case", NAME, "-o", str(path))
    html = path.read_text(encoding="utf-8")
    assert "Kyrgyzstan–Tajikistan: the boundary as each source draws it" in html
    assert "Vorukh" in html and "Ворух" in html


# --------------------------------------------------------------------------- the build
def _cache_ready() -> Path | None:
    cache = os.environ.get("BORDERKIT_CACHE")
    if not cache:
        return None
    from borderkit import casebuild

    p = Path(cache)
    ok = all((p / casebuild.PACKAGES[k].filename).is_file() for k in casebuild.PACKAGES)
    return p if ok else None


@pytest.mark.slow
@pytest.mark.skipif(_cache_ready() is None, reason="set BORDERKIT_CACHE to a folder holding the registry packages")
def test_rebuild_gives_the_committed_bytes(tmp_path):
    sys.path.insert(0, str(GEODATA))
    try:
        import build_curated
    finally:
        sys.path.remove(str(GEODATA))
    out = tmp_path / NAME
    _, dataset = build_curated.build(build_curated.CASES[NAME], cache=_cache_ready(), out=out,
                                     global_sources=REGISTRY["sources"], progress=False)
    committed = REGISTRY["datasets"][NAME]
    assert dataset == committed
    for meta in committed["files"].values():
        assert (tmp_path / meta["path"]).read_bytes() == (GEODATA / meta["path"]).read_bytes()
