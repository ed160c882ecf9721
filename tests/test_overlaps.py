"""borderkit.overlaps: divergence polygons between sources, Hausdorff distance, overlaps inside a source.

Expected values come from hand-built geometries measured with pyproj ``Geod``
directly, and from an independent lon/lat overlay of the case territories.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from borderkit import datasets
from borderkit import overlaps as O

GEOD = Geod(ellps="WGS84")


def area(poly) -> float:
    return abs(GEOD.geometry_area_perimeter(poly)[0]) / 1e6


def dist_to_geodesic(lon, lat, a, b, step_m=0.5) -> float:
    """Brute force: a point to one geodesic segment a→b sampled every step_m."""
    az, _, L = GEOD.inv(a[0], a[1], b[0], b[1])
    n = int(math.ceil(L / step_m)) + 1
    x, y, _ = GEOD.fwd(np.full(n, a[0]), np.full(n, a[1]), np.full(n, az), np.linspace(0, L, n))
    return float(GEOD.inv(np.full(n, lon), np.full(n, lat), x, y)[2].min())


def lines_frame(rows):
    recs = []
    for i, r in enumerate(rows):
        rec = {"section": "mainland", "left_party": "ARM", "right_party": "AZE", "scale_or_accuracy_m": 100.0, **r}
        rec["line_id"] = f"{rec['source']}:{rec['section']}:{i}"
        recs.append(rec)
    return gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")


A_LINE = shapely.LineString([(45.0, 39.9), (45.0, 40.1)])
B_LINE = shapely.LineString([(44.99, 39.9), (45.01, 40.1)])


def crossing():
    """Where B's geodesic meets the meridian of A, by bisection on Geod.fwd."""
    az, _, L = GEOD.inv(44.99, 39.9, 45.01, 40.1)
    lo, hi = 0.0, L
    for _ in range(60):
        mid = (lo + hi) / 2
        x, _, _ = GEOD.fwd(44.99, 39.9, az, mid)
        lo, hi = (mid, hi) if x < 45.0 else (lo, mid)
    x, y, _ = GEOD.fwd(44.99, 39.9, az, lo)
    return x, y


def test_hausdorff_of_two_crossing_segments():
    h = O.hausdorff_distance(A_LINE, B_LINE, spacing_m=50)
    # for two (nearly) straight segments the farthest point is an end point of one of them
    ends = [dist_to_geodesic(*p, (45.0, 39.9), (45.0, 40.1)) for p in B_LINE.coords] + \
           [dist_to_geodesic(*p, (44.99, 39.9), (45.01, 40.1)) for p in A_LINE.coords]
    assert h["hausdorff_m"] == pytest.approx(max(ends), abs=0.05)
    assert h["hausdorff_m"] <= h["hausdorff_upper_m"] <= h["hausdorff_m"] + 25.0 + 1e-9
    assert h["direction"] == "b->a" and (h["from_lon"], h["from_lat"]) == pytest.approx((44.99, 39.9), abs=1e-6)
    # symmetric in its arguments
    assert O.hausdorff_distance(B_LINE, A_LINE, spacing_m=50)["hausdorff_m"] == pytest.approx(h["hausdorff_m"])


def test_hausdorff_of_multipart_lines_reports_a_point_on_the_lines():
    # parts stored out of order: the farthest point must still be a point of the drawing
    a = shapely.MultiLineString([[(45.0, 40.05), (45.0, 40.1)], [(45.0, 39.9), (45.0, 39.95)]])
    b = shapely.LineString([(45.002, 39.9), (45.002, 40.1)])
    h = O.hausdorff_distance(a, b, spacing_m=100)
    on_a = min(dist_to_geodesic(h["from_lon"], h["from_lat"], p.coords[0], p.coords[-1]) for p in a.geoms)
    on_b = dist_to_geodesic(h["from_lon"], h["from_lat"], b.coords[0], b.coords[-1])
    assert min(on_a, on_b) < 0.01
    # B's points farthest from A: the middle of the gap between A's parts (45.002, 40.0)
    expected = dist_to_geodesic(45.002, 40.0, (45.0, 40.05), (45.0, 40.1))
    assert h["hausdorff_m"] == pytest.approx(expected, abs=0.5)
    assert h["hausdorff_m"] <= h["hausdorff_upper_m"]


def test_divergence_between_two_crossing_lines_is_two_triangles():
    lines = lines_frame([{"source": "a", "geometry": A_LINE}, {"source": "b", "geometry": B_LINE}])
    res = O.divergence(lines, source_a="a", source_b="b", spacing_m=50)
    parts = res.parts.sort_values("width_lat").reset_index(drop=True)
    assert len(parts) == 2 and set(parts["method"]) == {"lines"}
    cx, cy = crossing()
    south = shapely.Polygon([(45.0, 39.9), (cx, cy), (44.99, 39.9)])
    north = shapely.Polygon([(45.0, 40.1), (45.01, 40.1), (cx, cy)])
    assert parts.loc[0, "area_km2"] == pytest.approx(area(south), rel=1e-3)
    assert parts.loc[1, "area_km2"] == pytest.approx(area(north), rel=1e-3)
    # south triangle: west of A (ARM for A), east of B (AZE for B)
    assert (parts.loc[0, "party_a"], parts.loc[0, "party_b"]) == ("ARM", "AZE")
    assert (parts.loc[1, "party_a"], parts.loc[1, "party_b"]) == ("AZE", "ARM")
    # widest circle inside a triangle: the incircle, r = 2 area / perimeter
    a_m2, p_m = (abs(v) for v in GEOD.geometry_area_perimeter(south))
    assert parts.loc[0, "max_width_m"] == pytest.approx(2 * 2 * a_m2 / p_m, abs=3.0)
    # the stretch of each line bounding the south triangle: from its start to the crossing
    assert parts.loc[0, "length_a_m"] == pytest.approx(GEOD.inv(45.0, 39.9, cx, cy)[2], rel=0.01)
    assert parts.loc[0, "length_b_m"] == pytest.approx(GEOD.inv(44.99, 39.9, cx, cy)[2], rel=0.01)
    pair = res.pairs.iloc[0]
    assert pair["area_km2"] == pytest.approx(area(south) + area(north), rel=1e-3)
    assert pair["area_a_ARM_b_AZE_km2"] == pytest.approx(area(south), rel=1e-3)


def test_territory_and_line_methods_agree_on_a_strip():
    a_arm, a_aze = shapely.box(44.9, 39.9, 45.0, 40.1), shapely.box(45.0, 39.9, 45.1, 40.1)
    b_arm, b_aze = shapely.box(44.9, 39.9, 45.01, 40.1), shapely.box(45.01, 39.9, 45.1, 40.1)
    terr = gpd.GeoDataFrame({"source": ["a", "a", "b", "b"], "party": ["ARM", "AZE", "ARM", "AZE"]},
                            geometry=[a_arm, a_aze, b_arm, b_aze], crs="EPSG:4326")
    lines = lines_frame([{"source": "a", "geometry": shapely.LineString([(45.0, 39.9), (45.0, 40.1)])},
                         {"source": "b", "geometry": shapely.LineString([(45.01, 39.9), (45.01, 40.1)])}])
    strip = shapely.box(45.0, 39.9, 45.01, 40.1)
    t = O.divergence(lines, source_a="a", source_b="b", territories=terr)
    ln = O.divergence(lines, source_a="a", source_b="b", territories=terr, method="lines")
    assert t.pairs["method"].iloc[0] == "territories" and ln.pairs["method"].iloc[0] == "lines"
    for res in (t, ln):
        assert len(res.parts) == 1
        p = res.parts.iloc[0]
        assert (p["party_a"], p["party_b"]) == ("AZE", "ARM")
        assert p["area_km2"] == pytest.approx(area(strip), rel=1e-3)
        # the strip is narrowest in width at its north end; the inscribed circle is as wide as it
        width_north = GEOD.inv(45.0, 40.1, 45.01, 40.1)[2]
        assert width_north - 3 < p["max_width_m"] <= GEOD.inv(45.0, 39.9, 45.01, 39.9)[2] + 1
    h = t.pairs["hausdorff_m"].iloc[0]
    assert h == pytest.approx(dist_to_geodesic(45.0, 39.9, (45.01, 39.9), (45.01, 40.1), step_m=0.05), abs=0.05)


def test_overlap_inside_one_source():
    arm = shapely.box(44.9, 39.9, 45.02, 40.1)
    aze = shapely.box(45.0, 39.9, 45.1, 40.1)
    terr = gpd.GeoDataFrame({"source": ["a", "a"], "party": ["ARM", "AZE"]}, geometry=[arm, aze], crs="EPSG:4326")
    ov = O.territory_overlaps(terr)
    assert len(ov) == 1
    assert ov["area_km2"].iloc[0] == pytest.approx(area(shapely.box(45.0, 39.9, 45.02, 40.1)), rel=1e-4)
    assert (ov["party_a"].iloc[0], ov["party_b"].iloc[0]) == ("ARM", "AZE")


# ------------------------------------------------------------------------------------------- case
@pytest.fixture(scope="module")
def case():
    return datasets.load()


def test_case_osm_exclave_overlap_is_81_km2(case):
    ov = O.territory_overlaps(case.territories, lines=case.lines, sources=["osm-2017"], parties=["ARM", "AZE"])
    # independent: lon/lat overlay + Geod area, written here
    t = case.territories[case.territories.source == "osm-2017"].set_index("party")
    inter = shapely.intersection(t.loc["ARM"].geometry, t.loc["AZE"].geometry)
    polys = [p for p in shapely.get_parts(inter) if p.geom_type == "Polygon"]
    assert ov["area_km2"].sum() == pytest.approx(sum(area(p) for p in polys), abs=0.05)
    assert 81.0 < ov["area_km2"].sum() < 82.0
    big = ov[ov["area_km2"] > 1]
    assert set(big["section"]) == {"exclave:artsvashen", "exclave:yukhari-askipara", "exclave:barkhudarly-sofulu"}


def test_case_divergence_natural_earth_vs_osm(case):
    res = O.divergence(case.lines, source_a="natural-earth-10m", source_b="osm-2017", territories=case.territories,
                       spacing_m=250)
    pair = res.pairs.iloc[0]
    assert pair["method"] == "territories"
    # independent: the same intersections in lon/lat, areas with Geod
    t = case.territories.set_index(["source", "party"])
    ne_arm, ne_aze = t.loc[("natural-earth-10m", "ARM")].geometry, t.loc[("natural-earth-10m", "AZE")].geometry
    os_arm, os_aze = t.loc[("osm-2017", "ARM")].geometry, t.loc[("osm-2017", "AZE")].geometry
    a1 = sum(area(p) for p in shapely.get_parts(shapely.intersection(ne_arm, os_aze)) if p.geom_type == "Polygon")
    a2 = sum(area(p) for p in shapely.get_parts(shapely.intersection(ne_aze, os_arm)) if p.geom_type == "Polygon")
    assert pair["area_a_ARM_b_AZE_km2"] == pytest.approx(a1, rel=2e-3)
    assert pair["area_a_AZE_b_ARM_km2"] == pytest.approx(a2, rel=2e-3)
    # the Hausdorff point: its distance to the other drawing, by brute force near it
    to = "osm-2017" if pair["hausdorff_from"] == "natural-earth-10m" else "natural-earth-10m"
    other = case.lines[case.lines.source == to]
    lon, lat = pair["hausdorff_from_lon"], pair["hausdorff_from_lat"]
    best = math.inf
    for g in other.geometry:
        for part in shapely.get_parts(g):
            c = np.asarray(part.coords)
            near = np.flatnonzero(GEOD.inv(np.full(len(c), lon), np.full(len(c), lat), c[:, 0], c[:, 1])[2]
                                  < pair["hausdorff_m"] + 25_000)
            for k in near[near < len(c) - 1]:
                best = min(best, dist_to_geodesic(lon, lat, c[k], c[k + 1], step_m=1.0))
    assert pair["hausdorff_m"] == pytest.approx(best, abs=0.05)
    # and that point lies on the drawing it is reported from
    own = case.lines[case.lines.source == pair["hausdorff_from"]]
    on = min(dist_to_geodesic(lon, lat, c[k], c[k + 1], step_m=0.5)
             for g in own.geometry for part in shapely.get_parts(g) for c in [np.asarray(part.coords)]
             for k in range(len(c) - 1) if GEOD.inv(lon, lat, c[k, 0], c[k, 1])[2] < 30_000)
    assert on < 0.01
    assert pair["hausdorff_m"] <= pair["hausdorff_upper_m"]
    # lines method on the same pair: the same ground along the mainland and Nakhchivan sections (the methods differ
    # at the exclaves, which OSM assigns to both parties, and where OSM's land polygons leave water to nobody)
    ln = O.divergence(case.lines, source_a="natural-earth-10m", source_b="osm-2017", method="lines", spacing_m=250)
    main = ["mainland", "nakhchivan"]
    assert ln.parts[ln.parts["section"].isin(main)]["area_km2"].sum() == pytest.approx(
        res.parts[res.parts["section"].isin(main)]["area_km2"].sum(), rel=0.015)
    assert set(res.sections["section"]) >= {"mainland", "nakhchivan", "exclave:artsvashen"}


def test_cli_overlaps_pair_json(tmp_path):
    from borderkit.cli.overlaps_cmd import overlaps

    out = tmp_path / "div.geojson"
    r = CliRunner().invoke(overlaps, ["--source", "natural-earth-10m", "--source", "osm-2017", "--spacing-m", "250",
                                      "-o", str(out), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert len(doc["pairs"]) == 1
    p = doc["pairs"][0]
    for key in ("source_a", "source_b", "method", "area_km2", "max_width_m", "length_a_m", "length_b_m",
                "hausdorff_m", "parts"):
        assert key in p
    ov = {(o["source"], o["party_a"], o["party_b"]): o for o in doc["territory_overlaps"]}
    assert ov[("osm-2017", "ARM", "AZE")]["area_km2"] == pytest.approx(81.49, abs=0.1)
    assert gpd.read_file(out).shape[0] == p["parts"]
    r = CliRunner().invoke(overlaps, ["--source", "osm-2017"])
    assert r.exit_code == 2
    r = CliRunner().invoke(overlaps, ["--source", "natural-earth-10m", "--source", "osm-2017", "-o", str(out)])
    assert r.exit_code == 2 and "--overwrite" in r.output
