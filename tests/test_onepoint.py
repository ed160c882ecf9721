"""Issue 15, one point: the exact engine without a projection for a few points, and the disk cache layout.

Every distance is checked against an independent brute force (``pyproj.Geod`` on densified
geodesics, ``tests/test_geodesy.py``), never against borderkit's own output.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString

from borderkit import indexcache, registry
from borderkit.errors import ValidationError
from borderkit.geodesy import LocalProjection, nearest_points_on_lines
from borderkit.locate import locate_point
from test_geodesy import brute_force_distance, segments_of

G = pyproj.Geod(ellps="WGS84")
CASE = "armenia-azerbaijan"
# the CLI's documented point, one by Lake Sevan, one in the Nakhchivan corner near three borders
POINTS = [(46.23, 39.60), (45.40, 40.30), (45.30, 39.30)]


@pytest.fixture(scope="module")
def layers():
    paths = registry.verify(CASE)
    return gpd.read_file(paths["lines"]), gpd.read_file(paths["territories"])


def _outline_segments(polygons) -> np.ndarray:
    rings = []
    for g in polygons:
        for part in shapely.get_parts(g):
            rings += [part.exterior, *part.interiors]
    return np.concatenate([segments_of(LineString(r.coords)) for r in rings])


@pytest.mark.parametrize(("lon", "lat"), POINTS)
def test_one_point_distances_against_brute_force(layers, lon, lat):
    """Line and other-border distances of locate_point within 1 mm of Geod on densified geodesics."""
    lines, territories = layers
    ans = locate_point(lon, lat, case=CASE, method="exact")
    assert [r["source"] for r in ans.results] == sorted(lines.source.unique())
    for r in ans.results:
        src = lines[lines.source == r["source"]]
        segs = np.concatenate([segments_of(g) for g in src.geometry])
        truth = brute_force_distance([lon], [lat], segs)[0]
        assert r["distance_to_line_m"] == pytest.approx(truth, abs=1e-3)
        # the reported nearest point is at the reported distance, and on the line
        _, _, d = G.inv(lon, lat, r["nearest_lon"], r["nearest_lat"])
        assert r["distance_to_line_m"] == pytest.approx(d, abs=1e-6)
        assert brute_force_distance([r["nearest_lon"]], [r["nearest_lat"]], segs)[0] < 1e-3
        third = territories[(territories.source == r["source"]) & ~territories.party.isin(["ARM", "AZE"])]
        if third.empty:
            assert r["other_border"] is None and np.isnan(r["other_border_distance_m"])
            continue
        inside = [p for p, g in zip(third.party, third.geometry, strict=True) if g.contains(shapely.Point(lon, lat))]
        if inside:
            assert r["other_border_distance_m"] == 0.0 and r["other_border"] == ";".join(sorted(inside))
        else:
            truth = brute_force_distance([lon], [lat], _outline_segments(third.geometry))[0]
            assert r["other_border_distance_m"] == pytest.approx(truth, abs=1e-3)


def _zigzag() -> LineString:
    """Long geodesic segments (120-900 km) at high latitude, where chord and projection rankings differ."""
    rng = np.random.default_rng(15)
    lon = np.cumsum(rng.uniform(1.5, 9.0, 12)) - 30.0
    lat = 62.0 + rng.uniform(-4.0, 4.0, 12)
    return LineString(np.column_stack([lon, lat]))


def test_few_points_path_matches_brute_force_and_the_projected_path():
    """One point at a time (no projection) against brute force and against the projected engine."""
    line = _zigzag()
    segs = segments_of(line)
    rng = np.random.default_rng(3)
    lon = rng.uniform(-30.0, 45.0, 12)
    lat = rng.uniform(52.0, 72.0, 12)
    truth = brute_force_distance(lon, lat, segs)
    proj = LocalProjection.from_geometries([line])  # given: the projected path, as for many points
    for i in range(lon.size):
        few = nearest_points_on_lines(lon[i], lat[i], line)
        assert few.distance_m.iloc[0] == pytest.approx(truth[i], abs=1e-3)
        projected = nearest_points_on_lines(lon[i], lat[i], line, projection=proj)
        assert few.vertex_index.iloc[0] == projected.vertex_index.iloc[0]
        assert few.distance_m.iloc[0] == pytest.approx(projected.distance_m.iloc[0], abs=1e-6)
        _, _, moved = G.inv(few.nearest_lon.iloc[0], few.nearest_lat.iloc[0],
                            projected.nearest_lon.iloc[0], projected.nearest_lat.iloc[0])
        assert moved < 2e-4  # both refinements stop within 0.1 mm of the same foot


def test_a_line_drawn_twice_gives_the_lowest_segment_on_both_paths():
    """A border shared by two outlines (drawn both ways) is a tie: the lowest segment wins either way."""
    a = LineString([(45.0, 40.0), (45.5, 40.2), (46.0, 40.1)])
    b = LineString(a.coords[::-1])
    pts_lon, pts_lat = np.array([45.3, 45.7]), np.array([40.3, 40.0])
    proj = LocalProjection.from_geometries([a])
    for i in range(2):
        few = nearest_points_on_lines(pts_lon[i], pts_lat[i], [b, a])
        projected = nearest_points_on_lines(pts_lon[i], pts_lat[i], [b, a], projection=proj)
        assert few.line_index.iloc[0] == projected.line_index.iloc[0] == 0
        _, _, truth = G.inv(pts_lon[i], pts_lat[i], few.nearest_lon.iloc[0], few.nearest_lat.iloc[0])
        assert few.distance_m.iloc[0] == pytest.approx(truth, abs=1e-6)


def test_far_point_is_refused_in_one_line(monkeypatch):
    """(0, 0) is ≈ 5,000 km from the case: beyond one region's reach (3,000 km), refused in one line."""
    with pytest.raises(ValidationError, match="km from the centre of the local projection.*split the data"):
        locate_point(0.0, 0.0, case=CASE, method="exact")
    from click.testing import CliRunner

    from borderkit.cli import main

    monkeypatch.setitem(main.COMMANDS, "check", "borderkit.cli.check_cmd:check")
    res = CliRunner().invoke(main.cli, ["check", "--lat", "0", "--lon", "0", "--json"])
    assert res.exit_code == 1 and "split the data" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------------------
# the cache layout: one buffer and a checked table of contents
# ------------------------------------------------------------------------------------------------
def test_cache_round_trip_keeps_dtypes_shapes_and_values(tmp_path, monkeypatch):
    monkeypatch.setenv("BORDERKIT_CACHE", str(tmp_path))
    key = "ab" * 32
    arrays = {
        "n": np.array(7, dtype=np.int64),
        "name": np.array("dcw-gmt"),
        "flags": np.array([True, False, True]),
        "xy": np.arange(12, dtype=np.float64).reshape(4, 3),
        "labels": np.array(["ARM", "AZE", ""]),
        "empty": np.empty(0, dtype=np.int32),
        "u8": np.frombuffer(b"\x00\x01\xff", dtype=np.uint8),
    }
    assert indexcache.save_arrays("t", key, arrays) is not None
    back = indexcache.load_arrays("t", key)
    assert back is not None and sorted(back) == sorted(arrays)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)


@pytest.mark.parametrize(
    "toc",
    [
        {"layout": "borderkit-arrays-1", "arrays": [["x", "|O", [1], 0, 8]]},  # an object dtype
        {"layout": "borderkit-arrays-1", "arrays": [["x", "<f8", [4], 0, 32]]},  # beyond the buffer
        {"layout": "borderkit-arrays-1", "arrays": [["x", "<f8", [2], 0, 8]]},  # size != shape
        {"layout": "borderkit-arrays-1", "arrays": [["x", "<f8", [1], 3, 8]]},  # misaligned
        {"layout": "borderkit-arrays-1", "arrays": [["x", "V8", [1], 0, 8]]},  # raw bytes
        {"layout": "another", "arrays": []},
    ],
)
def test_a_tampered_table_of_contents_is_a_miss(tmp_path, monkeypatch, toc):
    monkeypatch.setenv("BORDERKIT_CACHE", str(tmp_path))
    key = "cd" * 32
    path = indexcache.save_arrays("t", key, {"x": np.array([1.5])})
    with open(path, "wb") as f:  # the same key, a hostile table
        np.savez(f, __key__=np.array(key), __toc__=np.array(json.dumps(toc)), __blob__=np.zeros(16, np.uint8))
    assert indexcache.load_arrays("t", key) is None


def test_only_plain_arrays_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("BORDERKIT_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match="numbers, booleans and text"):
        indexcache.save_arrays("t", "ef" * 32, {"when": np.array(["2020-01-01"], dtype="datetime64[D]")})
