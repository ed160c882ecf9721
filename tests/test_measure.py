"""borderkit.measure: distances and depth to lines, polygons beyond a line, corridor width, buffers.

Expected values are computed here without borderkit: pyproj ``Geod`` on densely
sampled lines (brute force), hand-built geometries, closed-form areas.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from borderkit import datasets
from borderkit import measure as M
from borderkit.errors import ValidationError

GEOD = Geod(ellps="WGS84")


# ---------------------------------------------------------------- independent ground truth
def brute_nearest(lon: float, lat: float, geoms, step_m: float = 1.0) -> tuple[float, float, float]:
    """Smallest Geod.inv distance from a point to lines densified every step_m along their geodesic segments.

    Segments are prefiltered rigorously: the nearest point lies within d_v (nearest vertex) of P, so a
    segment that can hold it has an end within d_v + its length.
    """
    segs = []
    for g in geoms:
        for part in shapely.get_parts(g):
            c = np.asarray(part.coords)
            segs.append(np.column_stack([c[:-1], c[1:]]))
    s = np.vstack(segs)
    _, _, da = GEOD.inv(np.full(len(s), lon), np.full(len(s), lat), s[:, 0], s[:, 1])
    _, _, db = GEOD.inv(np.full(len(s), lon), np.full(len(s), lat), s[:, 2], s[:, 3])
    az, _, length = GEOD.inv(s[:, 0], s[:, 1], s[:, 2], s[:, 3])
    dv = min(np.min(da), np.min(db))
    keep = np.minimum(da, db) <= dv + length + 1.0
    best = (math.inf, math.nan, math.nan)
    for (a_lon, a_lat, _, _), azi, L in zip(s[keep], np.asarray(az)[keep], np.asarray(length)[keep], strict=True):
        n = max(2, int(math.ceil(L / step_m)) + 1)
        t = np.linspace(0, L, n)
        x, y, _ = GEOD.fwd(np.full(n, a_lon), np.full(n, a_lat), np.full(n, azi), t)
        _, _, d = GEOD.inv(np.full(n, lon), np.full(n, lat), x, y)
        i = int(np.argmin(d))
        if d[i] < best[0]:
            best = (float(d[i]), float(x[i]), float(y[i]))
    return best


def lines_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {"source": "hand", "scale_or_accuracy_m": 100.0, "section": "mainland", "left_party": "ARM",
            "right_party": "AZE"}
    recs = []
    for i, r in enumerate(rows):
        rec = {**base, **r}
        rec.setdefault("line_id", f"{rec['source']}:{rec['section']}:{i}")
        recs.append(rec)
    return gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")


MERIDIAN = shapely.LineString([(45.0, 39.0), (45.0, 41.0)])  # walking north: ARM (left) is west


@pytest.fixture(scope="module")
def case():
    return datasets.load()


# ---------------------------------------------------------------- points
def test_point_depth_signed_towards_a_party_matches_brute_force():
    lines = lines_frame([{"geometry": MERIDIAN}])
    lon = np.array([44.9, 45.07, 45.0])
    lat = np.array([40.0, 40.3, 39.5])
    d = M.distance_to_lines(lon, lat, lines=lines, into="ARM")
    for i in range(2):
        truth = brute_nearest(lon[i], lat[i], [MERIDIAN])[0]
        assert d["distance_m"].iloc[i] == pytest.approx(truth, abs=0.01)
    assert d["party"].tolist() == ["ARM", "AZE", ""]
    assert d["depth_m"].iloc[0] > 0 and d["depth_m"].iloc[1] < 0 and d["depth_m"].iloc[2] == 0
    into_aze = M.distance_to_lines(lon, lat, lines=lines, into="AZE")
    np.testing.assert_allclose(into_aze["depth_m"], -d["depth_m"], atol=0)
    # reversing the line and swapping its parties changes nothing
    rev = lines_frame([{"geometry": shapely.reverse(MERIDIAN), "left_party": "AZE", "right_party": "ARM"}])
    d2 = M.distance_to_lines(lon, lat, lines=rev, into="ARM")
    np.testing.assert_allclose(d2["depth_m"], d["depth_m"], atol=1e-6)
    assert d.attrs["units"].startswith("metres") and "geodesic" in d.attrs["method"]


def test_nearest_section_decides_the_side():
    ring = shapely.LineString([(44.80, 39.95), (44.85, 39.95), (44.85, 40.0), (44.80, 40.0), (44.80, 39.95)])  # CCW
    lines = lines_frame([{"geometry": MERIDIAN},
                         {"geometry": ring, "section": "exclave:x", "left_party": "AZE", "right_party": "ARM"}])
    d = M.distance_to_lines([44.825, 44.97], [39.975, 39.975], lines=lines, into="ARM")
    assert d["section"].tolist() == ["exclave:x", "mainland"]
    assert d["party"].tolist() == ["AZE", "ARM"]
    assert d["depth_m"].iloc[0] < 0 < d["depth_m"].iloc[1]
    truth = brute_nearest(44.825, 39.975, [ring])[0]
    assert d["distance_m"].iloc[0] == pytest.approx(truth, abs=0.01)


def test_results_do_not_depend_on_point_order():
    lines = lines_frame([{"geometry": MERIDIAN}])
    rng = np.random.default_rng(3)
    lon = rng.uniform(44.5, 45.5, 50)
    lat = rng.uniform(39.2, 40.8, 50)
    a = M.distance_to_lines(lon, lat, lines=lines, into="ARM")
    perm = rng.permutation(50)
    b = M.distance_to_lines(lon[perm], lat[perm], lines=lines, into="ARM")
    np.testing.assert_allclose(b["depth_m"].to_numpy(), a["depth_m"].to_numpy()[perm], atol=1e-9)
    assert (a["distance_m"] >= 0).all()


def test_gap_in_a_line_is_flagged_and_bridged_for_the_side():
    # a line interrupted for 2 km (as OSM's is across Sev Lake); a point in the gap, west of it
    gap = shapely.MultiLineString([[(45.0, 39.0), (45.0, 39.99)], [(45.0, 40.01), (45.0, 41.0)]])
    lines = lines_frame([{"geometry": gap}])
    d = M.distance_to_lines(44.999, 40.0, lines=lines, into="ARM")
    assert bool(d["in_gap"].iloc[0]) and d["party"].iloc[0] == "ARM"
    assert d["distance_m"].iloc[0] == pytest.approx(brute_nearest(44.999, 40.0, [gap])[0], abs=0.01)
    assert d["bridged_distance_m"].iloc[0] == pytest.approx(
        brute_nearest(44.999, 40.0, [shapely.LineString([(45.0, 39.99), (45.0, 40.01)])])[0], abs=0.01)


def test_distance_toward_finds_the_first_crossing():
    lines = lines_frame([{"geometry": MERIDIAN}])
    d = M.distance_toward(44.9, 40.0, 45.2, 40.1, lines=lines)
    # independent: bisection along the geodesic for the longitude of the meridian
    az, _, total = GEOD.inv(44.9, 40.0, 45.2, 40.1)
    lo, hi = 0.0, total
    for _ in range(60):
        mid = (lo + hi) / 2
        x, _, _ = GEOD.fwd(44.9, 40.0, az, mid)
        lo, hi = (mid, hi) if x < 45.0 else (lo, mid)
    assert d["distance_m"].iloc[0] == pytest.approx(lo, abs=0.05)
    assert d["crossing_lon"].iloc[0] == pytest.approx(45.0, abs=1e-7)
    none = M.distance_toward(44.9, 40.0, 44.95, 40.0, lines=lines)
    assert math.isnan(none["distance_m"].iloc[0])


# ---------------------------------------------------------------- polygons
def test_polygon_depth_area_and_profile_on_a_hand_square():
    lines = lines_frame([{"geometry": MERIDIAN}])
    square = shapely.box(44.95, 39.95, 45.05, 40.05)
    res = M.advance_depth(square, lines=lines, into="ARM", spacing_m=100)
    row = res.summary.iloc[0]
    west_half = shapely.Polygon([(44.95, 39.95), (45.0, 39.95), (45.0, 40.05), (44.95, 40.05)])
    expected_area = abs(GEOD.geometry_area_perimeter(west_half)[0]) / 1e6
    assert row["area_beyond_km2"] == pytest.approx(expected_area, rel=2e-3)
    assert row["area_km2"] == pytest.approx(abs(GEOD.geometry_area_perimeter(square)[0]) / 1e6, rel=1e-9)
    # deepest point: the south-west corner (a degree of longitude is longest at the lowest latitude)
    corner = brute_nearest(44.95, 39.95, [MERIDIAN])[0]
    assert row["depth_m"] == pytest.approx(corner, abs=1.0)
    assert (row["depth_lon"], row["depth_lat"]) == pytest.approx((44.95, 39.95), abs=1e-4)
    assert row["depth_upper_m"] >= row["depth_m"]
    prof = res.profile
    assert (prof["max_depth_m"] <= row["depth_m"] + 1e-6).all()
    span = GEOD.inv(45.0, 39.95, 45.0, 40.05)[2]
    assert len(prof) == pytest.approx(span / 1000, abs=2)
    # every bin is as deep as the west edge at its latitude (within the sample spacing)
    assert prof["max_depth_m"].min() > corner - 200
    assert res.beyond.iloc[0]["area_km2"] == pytest.approx(expected_area, rel=2e-3)


def test_polygon_wholly_on_the_other_side_has_negative_depth():
    lines = lines_frame([{"geometry": MERIDIAN}])
    square = shapely.box(45.01, 39.95, 45.02, 40.05)
    row = M.advance_depth(square, lines=lines, into="ARM", spacing_m=50).summary.iloc[0]
    assert row["area_beyond_km2"] == 0.0
    # closest approach: the north-west corner
    assert row["depth_m"] == pytest.approx(-brute_nearest(45.01, 40.05, [MERIDIAN])[0], abs=0.5)


def test_points_and_polygons_together():
    lines = lines_frame([{"geometry": MERIDIAN}])
    res = M.advance_depth([shapely.Point(44.9, 40.0), shapely.box(44.95, 39.95, 45.05, 40.05)], lines=lines,
                          into="ARM", spacing_m=200)
    assert res.summary["geometry_type"].tolist() == ["Point", "Polygon"]
    with pytest.raises(ValidationError, match="into"):
        M.advance_depth(shapely.Point(44.9, 40.0), lines=lines, into="GEO")


def test_advance_zone_is_a_circular_segment_strip():
    lines = lines_frame([{"geometry": MERIDIAN}])
    z = M.advance_zone(lines=lines, into="ARM", depth_m=3500, center=(45.0, 40.0), radius_m=5000)
    r, x = 5.0, 3.5
    expected = x * math.sqrt(r * r - x * x) + r * r * math.asin(x / r)  # ∫_0^x 2 sqrt(r² - u²) du, km²
    assert z["area_km2"].iloc[0] == pytest.approx(expected, abs=0.05)
    assert z.geometry.iloc[0].bounds[2] <= 45.0 + 1e-6  # all of it west of the line (ARM side)


# ---------------------------------------------------------------- corridor
def test_corridor_width_between_two_hand_parts():
    a = shapely.box(44.0, 39.0, 44.5, 39.5)
    b = shapely.box(44.8, 39.0, 46.0, 40.0)
    terr = gpd.GeoDataFrame({"party": ["AZE"], "source": ["hand"], "scale_or_accuracy_m": [10.0]},
                            geometry=[shapely.MultiPolygon([a, b])], crs="EPSG:4326")
    cw = M.corridor_width(terr, party="AZE", part_a_at=(44.25, 39.25))
    row = cw.iloc[0]
    # independent: the gap is smallest from A's north-east corner to B's west edge
    lat = np.linspace(39.49, 39.51, 20001)
    _, _, d = GEOD.inv(np.full(lat.size, 44.5), np.full(lat.size, 39.5), np.full(lat.size, 44.8), lat)
    assert row["distance_m"] == pytest.approx(d.min(), abs=0.01)
    assert (row["a_lon"], row["a_lat"]) == pytest.approx((44.5, 39.5), abs=1e-6)
    assert row["part_b"].startswith("the largest part")
    with pytest.raises(ValidationError, match="contains"):
        M.corridor_width(terr, party="AZE", part_a_at=(43.0, 38.0), part_a_west_of_lon=None)


def test_corridor_width_needs_sections_for_a_line_only_source(case):
    with pytest.raises(ValidationError, match="sections="):
        M.corridor_width(case.territories, lines=case.lines, party="AZE", part_a_at=(45.41222, 39.20889),
                         sources=["gshhg-wdbii"])


def test_case_corridor_width_nakhchivan_mainland(case):
    # which parts are measured is case data (case.toml [corridor] and [parts.*]), not a library default
    opts = case.corridor_options()
    assert opts["party"] == "AZE" and opts["sections"] == ("nakhchivan", "mainland")
    assert opts["part_a_at"] == pytest.approx((45.41222, 39.20889)) and opts["part_a_west_of_lon"] == 46.2
    cw = M.corridor_width(case.territories, lines=case.lines, method="both", **opts)
    assert set(cw["source"]) == {"dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017"}
    assert set(cw.loc[cw["source"] == "gshhg-wdbii", "method"]) == {"lines"}
    # independent check 1: planar distance in UTM 38N (scale 0.9996..1.0003 here)
    to_utm = Transformer.from_crs(4326, 32638, always_xy=True)
    nak = shapely.Point(45.41222, 39.20889)
    for src in ("dcw-gmt", "natural-earth-10m", "osm-2017"):
        geom = case.territories[(case.territories.source == src) & (case.territories.party == "AZE")].geometry.iloc[0]
        parts = list(shapely.get_parts(geom))
        pa = next(p for p in parts if p.contains(nak))
        pb = max(parts, key=lambda p: abs(GEOD.geometry_area_perimeter(p)[0]))
        utm = shapely.distance(shapely.transform(pa, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))),
                               shapely.transform(pb, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))))
        got = cw[(cw.source == src) & (cw.method == "territories")].iloc[0]
        assert got["distance_m"] == pytest.approx(utm, rel=1e-3)
        # independent check 2: brute force from the reported point on A to B's outline
        assert got["distance_m"] == pytest.approx(brute_nearest(got["a_lon"], got["a_lat"], [pb.boundary])[0], abs=0.01)
    widths = cw.set_index(["source", "method"])["distance_m"]
    assert 25_000 < widths.min() and widths.max() < 28_000


# ---------------------------------------------------------------- buffers and places
def test_buffer_outline_error_is_measured_and_places_decided_by_distance():
    line = shapely.LineString([(45.0, 39.5), (45.0, 40.5)])
    lines = lines_frame([{"geometry": line}])
    buf = M.geodesic_buffer(lines=lines, distance_m=12_000)
    row = buf.iloc[0]
    assert 11_990 < row["outline_min_m"] <= row["outline_max_m"] < 12_010
    # independent: brute-force distance of some outline vertices
    xy = shapely.get_coordinates(row.geometry.exterior)[::97]
    for lon, lat in xy[:8]:
        d = brute_nearest(lon, lat, [line], step_m=5.0)[0]
        assert row["outline_min_m"] - 0.05 <= d <= row["outline_max_m"] + 0.05
    inside = GEOD.fwd(45.0, 40.0, 90.0, 11_900)
    outside = GEOD.fwd(45.0, 40.0, 90.0, 12_100)
    places = gpd.GeoDataFrame(
        {"place_id": ["in", "out", "nowhere"], "name_en": ["In", "Out", "Nowhere"], "kind": ["village"] * 3},
        geometry=[shapely.Point(inside[0], inside[1]), shapely.Point(outside[0], outside[1]), None], crs="EPSG:4326")
    pw = M.places_within(places, lines=lines, distance_m=12_000).set_index("place_id")
    assert bool(pw.loc["in", "within"]) and not bool(pw.loc["out", "within"])
    assert pw.loc["in", "distance_m"] == pytest.approx(11_900, abs=0.01)  # a perpendicular geodesic
    assert pd.isna(pw.loc["nowhere", "within"]) and "unlocated" in pw.loc["nowhere", "note"]
    assert row.geometry.covers(shapely.Point(inside[0], inside[1]))
    assert not row.geometry.covers(shapely.Point(outside[0], outside[1]))


def test_densify_lines_spacing_and_vertices():
    line = shapely.LineString([(45.0, 39.5), (45.3, 39.9), (45.31, 39.9)])
    lon, lat, idx = M.densify_lines([line], 250.0)
    _, _, step = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    assert step.max() <= 250.0 + 1e-6
    for v in line.coords:
        assert np.min(np.hypot(lon - v[0], lat - v[1])) < 1e-9
    assert (idx == 0).all()


def test_place_point_unlocated(case):
    with pytest.raises(ValidationError, match="unlocated"):
        M.place_point(case.places, "ashagi_seyfali")
    assert M.place_point(case.places, "sev_lake") == pytest.approx((46.23167, 39.59806))


# ---------------------------------------------------------------- the Sev Lake worked example
def test_sev_lake_depth_per_source_against_brute_force_and_territories(case):
    lon, lat = M.place_point(case.places, "sev_lake")
    reach = M.advance_reach(lon, lat, lines=case.lines, into="ARM", advance_m=3500, pair=("ARM", "AZE"))
    got = reach.set_index("source")
    for src in ("dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017"):
        sel = case.lines[case.lines.source == src]
        truth = brute_nearest(lon, lat, list(sel.geometry))[0]
        assert abs(got.loc[src, "depth_m"]) == pytest.approx(truth, abs=0.01), src
    # the side, independently: which territory polygon covers the lake point
    pt = shapely.Point(lon, lat)
    terr = case.territories
    for src in ("dcw-gmt", "natural-earth-10m"):
        arm = terr[(terr.source == src) & (terr.party == "ARM")].geometry.iloc[0].covers(pt)
        assert (got.loc[src, "depth_m"] > 0) == arm
    # GSHHG (lines only): cross product on the nearest segment, in a local east/north frame
    g = case.lines[(case.lines.source == "gshhg-wdbii") & (case.lines.section == "mainland")].geometry.iloc[0]
    c = np.asarray(g.coords)
    k = int(np.argmin(GEOD.inv(np.full(len(c) - 1, lon), np.full(len(c) - 1, lat), (c[:-1, 0] + c[1:, 0]) / 2,
                               (c[:-1, 1] + c[1:, 1]) / 2)[2]))
    cosl = math.cos(math.radians(lat))
    ax, ay = (c[k + 1, 0] - c[k, 0]) * cosl, c[k + 1, 1] - c[k, 1]
    px, py = (lon - c[k, 0]) * cosl, lat - c[k, 1]
    left = ax * py - ay * px > 0  # ARM is on the left of every case line
    assert (got.loc["gshhg-wdbii", "depth_m"] > 0) == left
    assert bool(got.loc["osm-2017", "beyond_line"])  # across OSM's gap over the lake, on the ARM side
    assert got["within_reach"].all()  # every line is within 3.5 km of the lake


# ---------------------------------------------------------------- CLI
@pytest.fixture
def run():
    from borderkit.cli.measure_cmd import measure

    runner = CliRunner()

    def _run(*args):
        return runner.invoke(measure, list(args), catch_exceptions=False)

    return _run


def test_cli_distance_json(run, case):
    r = run("distance", "--from", "goris", "--to", "39.20889,45.41222", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    g = case.places.set_index("place_id").loc["goris"].geometry
    assert doc["distance_m"] == pytest.approx(GEOD.inv(g.x, g.y, 45.41222, 39.20889)[2], abs=1e-6)
    assert "WGS84" in doc["method"]


def test_cli_to_line_and_depth(run, tmp_path):
    r = run("to-line", "--at", "sev_lake", "--into", "ARM", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert len(doc["results"]) == 4 and {"depth_m", "distance_m", "source", "party"} <= set(doc["results"][0])
    poly = tmp_path / "positions.geojson"
    gpd.GeoDataFrame({"name": ["box"]}, geometry=[shapely.box(46.21, 39.585, 46.25, 39.61)],
                     crs="EPSG:4326").to_file(poly, driver="GeoJSON")
    out = tmp_path / "beyond.geojson"
    r = run("depth", "--polygon", str(poly), "--into", "ARM", "--source", "osm-2017", "--source", "dcw-gmt",
            "-o", str(out), "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert {p["source"] for p in doc["polygons"]} == {"osm-2017", "dcw-gmt"}
    assert all(p["area_beyond_km2"] > 0 for p in doc["polygons"]) and doc["profile"]
    assert out.exists()
    r = CliRunner().invoke(__import__("borderkit.cli.measure_cmd", fromlist=["measure"]).measure,
                           ["depth", "--polygon", str(poly), "--into", "ARM", "-o", str(out)])
    assert r.exit_code == 2 and "--overwrite" in r.output
    r = run("depth", "--at", "sev_lake", "--into", "ARM", "--advance-km", "3.5")
    assert r.exit_code == 0 and "Reach of an advance of 3.5 km" in r.output


def test_cli_corridor_and_buffer(run, tmp_path):
    r = run("corridor", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["results"]
    assert {x["source"] for x in rows} == {"dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017"}
    out = tmp_path / "zones.geojson"
    r = run("buffer", "--km", "12", "--source", "osm-2017", "-o", str(out), "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    ids = {p["place_id"] for p in doc["places"]}
    assert "khndzoresk" in ids and "yerevan" not in ids
    assert all(p["distance_m"] <= 12_000 for p in doc["places"])
    assert gpd.read_file(out).shape[0] == 1


def test_cli_errors_are_one_line_with_exit_codes():

    from borderkit.cli.main import EXIT_DATA, BorderkitGroup
    from borderkit.cli.measure_cmd import measure

    group = BorderkitGroup(name="borderkit")
    group.add_command(measure)
    r = CliRunner().invoke(group, ["measure", "to-line", "--at", "ashagi_seyfali"], obj={"verbosity": 0})
    assert r.exit_code == EXIT_DATA
    assert r.output.strip().count("\n") == 0 and "unlocated" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(group, ["measure", "to-line", "--at", "95,45"], obj={"verbosity": 0})
    assert r.exit_code == 2


# ---------------------------------------------------------------- properties
ZIGZAG = shapely.LineString([(45.0, 39.0), (45.05, 39.6), (44.97, 40.1), (45.04, 40.6), (45.0, 41.0)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(44.7, 45.3), st.floats(39.2, 40.8)), min_size=1, max_size=20))
def test_property_depth_sign_and_magnitude(pts):
    lines = lines_frame([{"geometry": ZIGZAG}])
    lon, lat = np.array(pts).T
    arm = M.distance_to_lines(lon, lat, lines=lines, into="ARM")
    aze = M.distance_to_lines(lon, lat, lines=lines, into="AZE")
    assert (arm["distance_m"] >= 0).all()
    np.testing.assert_allclose(arm["depth_m"], -aze["depth_m"], atol=0)
    np.testing.assert_allclose(np.abs(arm["depth_m"]), arm["distance_m"], atol=0)
    assert ((arm["depth_m"] > 0) == (arm["party"] == "ARM")).all()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(44.85, 45.1), st.floats(39.3, 40.6), st.floats(0.02, 0.15), st.floats(0.02, 0.15))
def test_property_the_two_sides_partition_a_polygon(x0, y0, w, h):
    lines = lines_frame([{"geometry": ZIGZAG}])
    box = shapely.box(x0, y0, x0 + w, y0 + h)
    a = M.advance_depth(box, lines=lines, into="ARM", spacing_m=500).summary.iloc[0]
    b = M.advance_depth(box, lines=lines, into="AZE", spacing_m=500).summary.iloc[0]
    assert a["area_beyond_km2"] + b["area_beyond_km2"] == pytest.approx(a["area_km2"], rel=1e-6, abs=1e-9)
    assert a["depth_m"] <= a["depth_upper_m"]


# ---------------------------------------------------------------- places: names in any language
def test_find_place_folds_azerbaijani_dotted_and_dotless_i(case):
    from borderkit.places import find_place

    # str.lower/casefold alone do not match these: "İ".casefold() is "i̇" (i + combining dot), "ı" stays "ı"
    assert "İşıqlı".casefold() != "işiqli"
    assert find_place(case.places, "BÖYÜK İŞIQLI").place_id == "mets_ishkhanasar"
    assert find_place(case.places, "böyük işiqli").place_id == "mets_ishkhanasar"
    assert find_place(case.places, "NAXÇIVAN").place_id == "nakhchivan"
    assert find_place(case.places, "irəvan").place_id == "yerevan"
    assert find_place(case.places, "Istisu").place_id == "jermuk"
    # the same function serves the terrain commands (one implementation)
    from borderkit.terrain import peaks

    assert peaks.find_place is find_place
