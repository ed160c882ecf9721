"""borderkit._fastgeo: the compiled nearest-point index, its spatial visiting order.

The sorted path is compared with the unsorted path of the same kernel (it must give the same
answers bit for bit: the order only changes speed), and the distances with the exact geodesic
engine (:func:`borderkit.geodesy.nearest_points_on_lines`, GeographicLib through pyproj) on
random points near the bundled lines, where the bound is 0.5 m.
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from conftest import require_module

numba = require_module("numba")

G = pyproj.Geod(ellps="WGS84")
REGION = (43.4, 38.3, 50.9, 41.9)


@pytest.fixture(scope="module")
def osm_lines():
    import borderkit.datasets as ds

    case = ds.load()
    return case.lines[(case.lines.source == "osm-2017") & case.lines.section.isin(["mainland", "nakhchivan"])]


@pytest.fixture(scope="module")
def model(osm_lines):
    from borderkit.locate import prepare

    return prepare(osm_lines, False, sources="osm-2017")[0]


def _near_line_points(lines, n, max_m, seed):
    """Random points within max_m of random vertices of the lines (pyproj Geod.fwd)."""
    import shapely

    xy = shapely.get_coordinates(lines.geometry.values)
    rng = np.random.default_rng(seed)
    v = rng.integers(0, len(xy), n)
    lon, lat, _ = G.fwd(xy[v, 0], xy[v, 1], rng.uniform(0, 360, n), rng.uniform(0, max_m, n))
    return np.asarray(lon), np.asarray(lat)


def test_spatial_order_is_a_permutation_grouped_by_bucket():
    from borderkit._fastgeo import spatial_order

    rng = np.random.default_rng(3)
    lon = rng.uniform(40.0, 41.0, 5000)
    lat = rng.uniform(10.0, 11.0, 5000)
    lon[7] = np.nan
    order = spatial_order(lon, lat, bucket_deg=0.25)
    assert np.array_equal(np.sort(order), np.arange(5000))
    assert order[-1] == 7  # a point without coordinates is visited last
    # bucket (row-major, 0.25 degree from the points' minimum) never decreases along the order
    fin = order[:-1]
    x0, y0 = np.nanmin(lon), np.nanmin(lat)
    b = np.floor((lat[fin] - y0) / 0.25) * 100 + np.floor((lon[fin] - x0) / 0.25)
    assert np.all(np.diff(b) >= 0)


def test_sorted_query_equals_unsorted_bit_for_bit(model, osm_lines):
    from borderkit._fastgeo import PRESORT_CHUNK, PRESORT_MIN_POINTS

    rng = np.random.default_rng(11)
    n_far = max(PRESORT_MIN_POINTS, 2 * PRESORT_CHUNK + 5)  # several chunks, the last one short
    lon = np.r_[rng.uniform(REGION[0], REGION[2], n_far), _near_line_points(osm_lines, 10_000, 3_000.0, 5)[0]]
    lat = np.r_[rng.uniform(REGION[1], REGION[3], n_far), _near_line_points(osm_lines, 10_000, 3_000.0, 5)[1]]
    idx = model.line_index(lon.size)
    plain = idx.query(lon, lat, presort=False)
    ordered = idx.query(lon, lat, presort=True)
    default = idx.query(lon, lat)  # at least PRESORT_MIN_POINTS points: the sorted path
    for key in plain:
        assert np.array_equal(plain[key], ordered[key]), key
        assert np.array_equal(plain[key], default[key]), key
    assert plain["seg"].min() >= 0


def test_fast_distance_within_half_a_metre_of_the_exact_engine(model, osm_lines):
    from borderkit.geodesy import nearest_points_on_lines

    lon, lat = _near_line_points(osm_lines, 3_000, 30_000.0, 21)
    fast = model.line_index(lon.size).query(lon, lat, presort=True)
    exact = nearest_points_on_lines(lon, lat, osm_lines.geometry)
    err = np.abs(fast["distance_m"] - exact["distance_m"].to_numpy())
    assert err.max() <= 0.5
    # the kernel's own error budget is far smaller (chord formula, 1 km pieces): micrometres here
    assert err.max() < 1e-3
    # and the nearest points coincide (geodesic gap between them, pyproj)
    _, _, gap = G.inv(fast["nearest_lon"], fast["nearest_lat"], exact["nearest_lon"], exact["nearest_lat"])
    assert np.max(gap) < 1e-2


def test_far_points_distance_and_side_match_the_exact_engine(model):
    """Scattered points up to ~450 km from the line (the benchmark's population): the chord-ranked
    winner gives the exact engine's distance (GeographicLib through pyproj) and side."""
    from borderkit.geodesy import nearest_with_side

    rng = np.random.default_rng(2026)
    lon = rng.uniform(REGION[0] - 2.0, REGION[2] + 2.0, 1_500)
    lat = rng.uniform(REGION[1] - 1.5, REGION[3] + 1.5, 1_500)
    fast = model.line_index(lon.size).query(lon, lat, presort=False)
    near, left = nearest_with_side(lon, lat, model.segs)
    assert near.dist.max() > 300e3  # the sample reaches far from the line
    err = np.abs(fast["distance_m"] - near.dist)
    assert err.max() <= 0.5
    assert err.max() < 1e-2  # chord formula: micrometres to a few mm up to 450 km
    # far from a wiggly line the nearest point is often a vertex, shared by two segments (a tie
    # either engine may settle on its own side): the nearest points coincide
    _, _, gap = G.inv(fast["nearest_lon"], fast["nearest_lat"], near.lon, near.lat)
    assert np.max(gap) < 1e-2
    clear = near.dist > 1e-3
    assert np.array_equal(fast["left"][clear].astype(bool), left[clear])


def _v_line():
    """Two 1-segment pieces: west -> east to the vertex V = (45.005, 40.0), then north-east."""
    from borderkit._fastgeo import LineIndex

    a_lon, a_lat = np.array([45.0, 45.005]), np.array([40.0, 40.0])
    b_lon, b_lat = np.array([45.005, 45.01]), np.array([40.0, 40.004])
    _, _, length = G.inv(a_lon, a_lat, b_lon, b_lat)
    idx = LineIndex(a_lon, a_lat, b_lon, b_lat, np.asarray(length), np.zeros(2, dtype=np.int64),
                    np.array([-1, 0]), np.array([1, -1]), max_cells=64)
    return idx


def test_vertex_tie_takes_the_vertex_and_the_first_segment():
    """Points in the cone beyond a convex vertex are nearest to the vertex on both segments (an exact
    tie): the answer is the first segment at t = 1, the vertex itself, at the pyproj distance."""
    idx = _v_line()
    # bearings from V between the continuation of the first segment (90 deg) and the backward
    # direction of the second (~ 137 deg + 90); both feet fall on V
    bearings = np.repeat(np.linspace(150.0, 175.0, 11), 6)
    dists = np.tile([50.0, 1e3, 10e3, 50e3, 150e3, 300e3], 11)
    lon, lat, _ = G.fwd(np.full(bearings.size, 45.005), np.full(bearings.size, 40.0), bearings, dists)
    for presort in (False, True):
        r = idx.query(np.asarray(lon), np.asarray(lat), presort=presort)
        assert np.all(r["seg"] == 0) and np.all(r["t"] == 1.0)
        assert np.all(r["nearest_lon"] == 45.005) and np.all(r["nearest_lat"] == 40.0)
        _, _, exact = G.inv(lon, lat, np.full(lon.size, 45.005), np.full(lon.size, 40.0))
        assert np.max(np.abs(r["distance_m"] - exact)) < 1e-3
        assert np.all(r["left"] == 0)  # south-east of a line heading east then north-east: its right


def test_chord_bound_exceeds_the_geodesic():
    """The upper bound used to prune before any evaluation (``_psi`` of a chord) is never below the
    geodesic distance (pyproj) nor the distance formula, for chords up to ~900 km."""
    from borderkit._fastgeo import _psi, ecef, fast_distance

    rng = np.random.default_rng(8)
    lon1 = rng.uniform(-180, 180, 4000)
    lat1 = rng.uniform(-89, 89, 4000)
    lon2, lat2, _ = G.fwd(lon1, lat1, rng.uniform(0, 360, 4000), rng.uniform(1.0, 900e3, 4000))
    chord = np.linalg.norm(ecef(lon1, lat1) - ecef(np.asarray(lon2), np.asarray(lat2)), axis=1)
    # the query bounds with _psi(chord + h), h >= 1e-6 m; a chord from float64 ECEF coordinates is
    # rounded by ~1e-9 m (one ulp at 6.4e6 m is 9.3e-10 m), more than s - c for chords of ~100 m
    bound = np.array([_psi(c + 1e-6) for c in chord])
    _, _, geod = G.inv(lon1, lat1, lon2, lat2)
    assert np.all(bound >= np.asarray(geod))
    assert np.all(bound >= fast_distance(lon1, lat1, lon2, lat2))


def test_ecef_matches_proj_earth_centred_coordinates():
    """The conversion to 3-D (its own branch-free sine/cosine, for vector instructions) against
    PROJ's geodetic -> geocentric conversion (EPSG:4979 -> EPSG:4978) on points all over the
    ellipsoid, and its sine/cosine against the C library's (numpy) within 2 ulp."""
    from borderkit._fastgeo import _sincos, ecef

    rng = np.random.default_rng(15)
    lon = np.r_[rng.uniform(-180, 180, 20_000), -180.0, 180.0, 0.0, 90.0, -90.0, 45.0]
    lat = np.r_[rng.uniform(-90, 90, 20_000), 0.0, 0.0, 90.0, -90.0, 0.0, 45.0]
    x, y, z = pyproj.Transformer.from_crs(4979, 4978, always_xy=True).transform(lon, lat, np.zeros_like(lon))
    assert np.max(np.abs(ecef(lon, lat) - np.column_stack([x, y, z]))) < 1e-8  # metres

    a = np.r_[np.linspace(-4.0, 4.0, 20_001), np.radians(lat), np.radians(lon)]
    sc = np.array([_sincos(v) for v in a])
    for got, ref in ((sc[:, 0], np.sin(a)), (sc[:, 1], np.cos(a))):
        # 2 ulp, or 1e-20 absolute at the zeros (pi/2 and pi rounded: a relative error there is moot)
        assert np.all(np.abs(got - ref) <= np.maximum(2 * np.spacing(np.abs(ref)), 1e-20))
