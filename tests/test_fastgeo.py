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
