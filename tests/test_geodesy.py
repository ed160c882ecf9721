"""Tests of borderkit.geodesy.

Expected values never come from the code under test: they are Karney's GeodTest
ground truth, ``pyproj.Geod`` called directly, exact constructions (a geodesic
built perpendicular to a known geodesic), hand calculations, or an exhaustive
brute-force search over geodesically densified lines (:func:`brute_force_distance`).
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon

import conftest
from borderkit.errors import ValidationError
from borderkit.geodesy import (
    LocalProjection,
    geodesic_destination,
    geodesic_distance,
    geodesic_inverse,
    local_projection,
    nearest_points_on_lines,
    signed_distance_to_line,
)
from conftest import require_module

G = pyproj.Geod(ellps="WGS84")  # the reference, used directly
A_WGS84 = 6378137.0
REPO = Path(__file__).resolve().parents[1]
REGION = (43.4, 38.3, 50.9, 41.9)  # min lon, min lat, max lon, max lat of the case

GEODTEST = "geographiclib-geodtest-short/GeodTest-short.dat.gz"
NE_ADMIN0 = "naturalearth-10m-admin0-countries-deu/ne_10m_admin0_deu_ARM_AZE_GEO_IRN_TUR.geojson"


# ------------------------------------------------------------------------------------------------
# shared reference data (../shared beside the checkout, or $BORDERKIT_SHARED)
# ------------------------------------------------------------------------------------------------
def shared_file(relative: str) -> Path:
    """Path of a file in shared/data; skip when absent (fail when CI=true)."""
    return conftest.shared_file(relative)


def arm_aze_boundary():
    """Shared boundary of the ARM and AZE polygons of Natural Earth 10m (German POV)."""
    import geopandas as gpd

    g = gpd.read_file(shared_file(NE_ADMIN0))
    arm = g.loc[g.ADM0_A3 == "ARM"].geometry.iloc[0]
    aze = g.loc[g.ADM0_A3 == "AZE"].geometry.iloc[0]
    return shapely.line_merge(shapely.intersection(arm.boundary, aze.boundary))


def segments_of(line) -> np.ndarray:
    """(n, 4) array lon_a, lat_a, lon_b, lat_b of every segment of a (Multi)LineString."""
    out = []
    for part in shapely.get_parts(line):
        c = shapely.get_coordinates(part)
        out.append(np.column_stack([c[:-1], c[1:]]))
    return np.concatenate(out)


def brute_force_distance(plon, plat, segs: np.ndarray, *, h0: float = 1000.0, tol_m: float = 1e-6):
    """Exhaustive minimum geodesic distance from each point to a chain of geodesic segments.

    Every segment's geodesic is densified with ``Geod.fwd`` at spacing <= h0 (vertices
    included); distances by ``Geod.inv``. Then, repeatedly, every sample whose distance
    minus half its spacing is not above the current minimum (triangle inequality: the
    only samples whose neighbourhood can hold a closer point) is densified ten times
    finer, until the spacing h satisfies h**2 / (8 d) <= tol_m (the largest excess of
    the nearest sample over the true minimum for a foot inside a segment; vertices are
    always samples) or h <= 1 mm. Equivalent to densifying everything at the final
    spacing, without the cost. Independent of borderkit (no projection, no iteration).
    """
    a_lon, a_lat, b_lon, b_lat = segs.T
    az, _, length = G.inv(a_lon, a_lat, b_lon, b_lat)
    az, length = np.asarray(az), np.asarray(length)
    n = np.maximum(np.ceil(length / h0).astype(np.int64), 1)
    seg0 = np.repeat(np.arange(length.size), n + 1)
    j = np.arange(seg0.size) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
    sp0 = (length / n)[seg0]
    pos0 = j * sp0
    lon0, lat0, _ = G.fwd(a_lon[seg0], a_lat[seg0], az[seg0], pos0)
    out = np.empty(np.size(plon))
    for i, (px, py) in enumerate(zip(np.ravel(plon), np.ravel(plat), strict=True)):
        seg, pos, sp = seg0, pos0, sp0
        _, _, d = G.inv(np.full(seg.size, px), np.full(seg.size, py), lon0, lat0)
        while True:
            dmin = d.min()
            h = sp.max()
            if h * h / (8.0 * max(dmin, 1e-12)) <= tol_m or h <= 1e-3:
                break
            keep = d - sp / 2.0 <= dmin
            ks = seg[keep]
            lo = np.clip(pos[keep] - sp[keep], 0.0, None)
            hi = np.minimum(pos[keep] + sp[keep], length[ks])
            us, inv = np.unique(ks, return_inverse=True)
            glo = np.full(us.size, np.inf)
            ghi = np.full(us.size, -np.inf)
            np.minimum.at(glo, inv, lo)
            np.maximum.at(ghi, inv, hi)
            m = np.maximum(np.ceil((ghi - glo) / (h / 10.0)).astype(np.int64), 1)
            seg = np.repeat(us, m + 1)
            k = np.arange(seg.size) - np.repeat(np.cumsum(m + 1) - (m + 1), m + 1)
            sp = np.repeat((ghi - glo) / m, m + 1)
            pos = np.repeat(glo, m + 1) + k * sp
            lo_, la_, _ = G.fwd(a_lon[seg], a_lat[seg], az[seg], pos)
            _, _, d = G.inv(np.full(seg.size, px), np.full(seg.size, py), lo_, la_)
        out[i] = dmin
    return out


def region_points(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.uniform(REGION[0], REGION[2], n), rng.uniform(REGION[1], REGION[3], n)


def near_line_points(segs: np.ndarray, n: int, seed: int, max_offset_m: float):
    """Points at random offsets (<= max_offset_m) from random points of random segments."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, segs.shape[0], n)
    az, _, length = G.inv(*segs[k].T)
    lon, lat, _ = G.fwd(segs[k, 0], segs[k, 1], az, rng.uniform(0, 1, n) * np.asarray(length))
    lon2, lat2, _ = G.fwd(lon, lat, rng.uniform(0, 360, n), rng.uniform(0, max_offset_m, n))
    return np.asarray(lon2), np.asarray(lat2)


# ------------------------------------------------------------------------------------------------
# 1. point-to-point geodesics
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def geodtest() -> np.ndarray:
    with gzip.open(shared_file(GEODTEST), "rt") as fh:
        data = np.loadtxt(fh)
    assert data.shape == (10_000, 10)
    return data


def _wrap(deg):
    return (np.asarray(deg) + 180.0) % 360.0 - 180.0


def test_inverse_against_geodtest(geodtest):
    lat1, lon1, azi1, lat2, lon2, azi2, s12, _a12, m12, _s = geodtest.T
    r = geodesic_inverse(lon1, lat1, lon2, lat2)
    err = np.abs(r.distance_m - s12)
    assert err.max() < 2e-8, f"max distance error {err.max():.3g} m"  # measured 7.5 nm
    assert np.median(err) < 5e-9
    assert np.array_equal(geodesic_distance(lon1, lat1, lon2, lat2), r.distance_m)
    # azimuths: an azimuth error moves the far end by |m12| * error (reduced length). Nearly
    # antipodal lines have |m12| ~ 0.1 mm and ill-conditioned azimuths, so weight by |m12|.
    e1 = np.radians(np.abs(_wrap(r.azimuth12_deg - azi1))) * np.abs(m12)
    e2 = np.radians(np.abs(_wrap(r.azimuth21_deg + 180.0 - azi2))) * np.abs(m12)
    assert e1.max() < 2e-8 and e2.max() < 2e-8
    well = np.abs(m12) > 1e3
    assert np.abs(_wrap(r.azimuth12_deg - azi1))[well].max() < 1e-9


def test_destination_against_geodtest(geodtest):
    lat1, lon1, azi1, lat2, lon2, azi2, s12, *_ = geodtest.T
    d = geodesic_destination(lon1, lat1, azi1, s12)
    # position error in metres by hand: d(lat) * a, d(lon) * a * cos(lat)
    dy = np.radians(d.lat - lat2) * A_WGS84
    dx = np.radians(_wrap(d.lon - lon2)) * A_WGS84 * np.cos(np.radians(lat2))
    err = np.hypot(dx, dy)
    assert err.max() < 2e-8, f"max position error {err.max():.3g} m"  # measured 9.9 nm
    assert np.abs(_wrap(d.azimuth21_deg + 180.0 - azi2)).max() < 1e-8


def test_hand_calculated_distances():
    # one degree of the equator (a geodesic): a * pi / 180
    assert float(geodesic_distance(0, 0, 1, 0)) == pytest.approx(A_WGS84 * math.pi / 180, abs=1e-6)
    # WGS84 quarter meridian, 10 001 965.729 m (e.g. NIMA TR8350.2 / Karney 2013)
    assert float(geodesic_distance(12.0, 0.0, 12.0, 90.0)) == pytest.approx(10_001_965.729, abs=1e-3)
    # same point, longitude given in the [180, 360) convention
    assert float(geodesic_distance(190.0, 10.0, -170.0, 10.0)) == pytest.approx(0.0, abs=1e-9)


def test_broadcasting_and_shapes():
    lon1 = np.array([[44.0], [45.0], [46.0]])  # (3, 1)
    lat1 = 40.0
    lon2 = np.array([44.5, 45.5, 46.5, 47.5])  # (4,)
    lat2 = np.array([39.0, 39.5, 40.5, 41.0])
    d = geodesic_distance(lon1, lat1, lon2, lat2)
    assert d.shape == (3, 4) and d.dtype == np.float64
    b1, b2, b3, b4 = np.broadcast_arrays(lon1, lat1, lon2, lat2)
    _, _, ref = G.inv(b1.ravel(), b2.ravel(), b3.ravel(), b4.ravel())
    np.testing.assert_array_equal(d.ravel(), ref)
    scalar = geodesic_distance(44.0, 40.0, 45.0, 41.0)
    assert isinstance(scalar, np.ndarray) and scalar.shape == ()
    inv = geodesic_inverse(44.0, 40.0, 45.0, 41.0)
    az12, az21, dist = G.inv(44.0, 40.0, 45.0, 41.0)
    assert (float(inv.distance_m), float(inv.azimuth12_deg), float(inv.azimuth21_deg)) == (dist, az12, az21)
    dest = geodesic_destination([44.0, 45.0], 40.0, 90.0, [1000.0, 2000.0])
    lon, lat, back = G.fwd([44.0, 45.0], [40.0, 40.0], [90.0, 90.0], [1000.0, 2000.0])
    np.testing.assert_array_equal(dest.lon, lon)
    np.testing.assert_array_equal(dest.lat, lat)
    np.testing.assert_array_equal(dest.azimuth21_deg, back)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((45.0, 91.0, 45.0, 40.0), "lat1: latitude must be degrees north in [-90, 90]"),
        ((45.0, 40.0, 45.0, -90.5), "lat2"),
        ((360.0, 40.0, 45.0, 40.0), "lon1: longitude must be degrees east in [-180, 360)"),
        ((-180.1, 40.0, 45.0, 40.0), "lon1"),
        ((np.nan, 40.0, 45.0, 40.0), "lon1: longitude must be a finite number"),
        ((45.0, 40.0, np.inf, 40.0), "lon2"),
        ((["45"], 40.0, 45.0, 40.0), "expected numbers"),
        (([45.0, 46.0, 47.0], [40.0, 40.0, 140.0], 45.0, 40.0), "first at index 2: 140.0"),
    ],
)
def test_validation_errors(args, fragment):
    with pytest.raises(ValidationError) as info:
        geodesic_distance(*args)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_swapped_lat_lon_hint_and_destination_validation():
    with pytest.raises(ValidationError, match="swapped"):
        geodesic_distance(40.0, 45.0, 40.5, 95.0)
    with pytest.raises(ValidationError, match="distance_m"):
        geodesic_destination(45.0, 40.0, 10.0, np.nan)
    with pytest.raises(ValidationError, match="azimuth_deg"):
        geodesic_destination(45.0, 40.0, np.inf, 10.0)


# ------------------------------------------------------------------------------------------------
# 2. local projection
# ------------------------------------------------------------------------------------------------
def test_aeqd_radius_is_the_geodesic_distance_and_round_trips():
    p = LocalProjection(47.15, 40.1)
    lon, lat = region_points(2000, seed=3)
    x, y = p.to_local(lon, lat)
    _, _, ref = G.inv(np.full(lon.size, 47.15), np.full(lon.size, 40.1), lon, lat)
    assert np.abs(np.hypot(x, y) - ref).max() < 1e-6
    lon2, lat2 = p.to_geographic(x, y)
    assert np.abs(lon2 - lon).max() < 1e-11 and np.abs(lat2 - lat).max() < 1e-11
    assert "+proj=aeqd" in p.proj_string and p.crs.is_projected


@pytest.mark.parametrize("kind", ["aeqd", "tmerc"])
def test_scale_bounds_hold_against_proj_factors(kind):
    p = LocalProjection.from_bounds(REGION, kind=kind)
    assert (p.lon_0, p.lat_0) == pytest.approx((47.15, 40.1))
    lon, lat = np.meshgrid(np.linspace(REGION[0], REGION[2], 40), np.linspace(REGION[1], REGION[3], 40))
    f = pyproj.Proj(p.crs).get_factors(lon.ravel(), lat.ravel())
    x, y = p.to_local(lon.ravel(), lat.ravel())
    k_min, k_max = p.scale_bounds(float(np.hypot(x, y).max()))
    assert np.min(f.tissot_semiminor) >= k_min - 1e-9
    assert np.max(f.tissot_semimajor) <= k_max
    assert k_max - 1 < 3e-3  # a few hundred km: well under 0.3 %


def test_geometry_transforms_match_array_transforms():
    import geopandas as gpd

    p = LocalProjection(45.5, 40.0, kind="tmerc")
    line = LineString([(45.0, 39.5), (45.5, 40.0), (46.2, 40.4)])
    local = p.geometry_to_local(line)
    x, y = p.to_local(*np.asarray(line.coords).T)
    np.testing.assert_allclose(np.asarray(local.coords), np.column_stack([x, y]), rtol=0, atol=1e-9)
    back = p.geometry_to_geographic(local)
    np.testing.assert_allclose(np.asarray(back.coords), np.asarray(line.coords), rtol=0, atol=1e-11)
    gs = gpd.GeoSeries([line, Point(45.1, 39.9)], index=["a", "b"], crs="EPSG:4326")
    out = p.geometry_to_local(gs)
    assert out.crs == p.crs and list(out.index) == ["a", "b"]
    assert p.geometry_to_local(gs.to_crs(3857)).geom_equals_exact(out, tolerance=1e-6).all()
    with pytest.raises(ValidationError):
        p.geometry_to_local(LineString([(45.0, 39.5), (45.0, 95.0)]))


def test_local_projection_choice():
    p = local_projection(REGION)
    assert (p.lon_0, p.lat_0) == pytest.approx((47.15, 40.1), abs=1e-12) and p.kind == "aeqd"
    q = local_projection([LineString([(44.0, 39.0), (46.0, 41.0)])], kind="tmerc")
    assert (q.lon_0, q.lat_0, q.kind) == (45.0, 40.0, "tmerc")
    # across the antimeridian the centre is at 180, not at 0
    r = LocalProjection.from_lonlat([179.0, -179.0, 179.5], [10.0, 11.0, 12.0])
    assert abs(abs(r.lon_0) - 180.0) < 1e-9 and r.lat_0 == 11.0
    with pytest.raises(ValidationError, match="kind"):
        LocalProjection(45.0, 40.0, kind="merc")
    with pytest.raises(ValidationError, match="split the data"):
        nearest_points_on_lines([120.0], [-30.0], LineString([(45.0, 40.0), (46.0, 40.0)]))


# ------------------------------------------------------------------------------------------------
# 3. nearest points on lines
# ------------------------------------------------------------------------------------------------
def test_exact_construction_perpendicular_geodesics():
    """P, then Q at a known geodesic distance d from P; the line is a geodesic through Q
    perpendicular to QP, so Q is its nearest point to P and d the exact distance."""
    rng = np.random.default_rng(11)
    n = 40
    plon, plat = region_points(n, seed=12)
    d = rng.uniform(10.0, 200_000.0, n)
    q_lon, q_lat, az_qp = G.fwd(plon, plat, rng.uniform(-180, 180, n), d)
    half = rng.uniform(500.0, 20_000.0, n)
    a_lon, a_lat, _ = G.fwd(q_lon, q_lat, np.asarray(az_qp) + 90.0, half)
    b_lon, b_lat, _ = G.fwd(q_lon, q_lat, np.asarray(az_qp) - 90.0, half)
    for i in range(n):
        line = LineString([(a_lon[i], a_lat[i]), (b_lon[i], b_lat[i])])
        r = nearest_points_on_lines(plon[i], plat[i], line, method="planar").iloc[0]
        assert r.distance_m == pytest.approx(d[i], abs=0.5), i
        r = nearest_points_on_lines(plon[i], plat[i], line).iloc[0]
        assert r.distance_m == pytest.approx(d[i], abs=1e-3), i
        assert r.along_m == pytest.approx(half[i], abs=1e-3), i
        # 1e-9 degree is 0.1 mm
        assert (r.nearest_lon, r.nearest_lat) == pytest.approx((q_lon[i], q_lat[i]), abs=1e-9), i


def test_hand_cases_equator_and_vertex():
    # a line along the equator is a geodesic; by symmetry the nearest point of (1, 0.5) is (1, 0)
    df = nearest_points_on_lines([1.0], [0.5], LineString([(0.0, 0.0), (2.0, 0.0)]))
    r = df.iloc[0]
    assert (r.nearest_lon, r.nearest_lat) == pytest.approx((1.0, 0.0), abs=1e-9)
    assert r.distance_m == pytest.approx(G.inv(1.0, 0.5, 1.0, 0.0)[2], abs=1e-6)
    assert r.along_m == pytest.approx(A_WGS84 * math.pi / 180, abs=1e-6)
    assert df.attrs["units"].startswith("metres") and "Geod.inv" in df.attrs["method"]
    # beyond a corner the nearest point is the vertex
    line = LineString([(45.0, 40.0), (46.0, 40.0), (46.0, 41.0)])
    r = nearest_points_on_lines([46.4], [39.7], line).iloc[0]
    assert (r.nearest_lon, r.nearest_lat) == (46.0, 40.0)
    assert r.distance_m == pytest.approx(G.inv(46.4, 39.7, 46.0, 40.0)[2], abs=1e-6)
    assert r.along_m == pytest.approx(G.inv(45.0, 40.0, 46.0, 40.0)[2], abs=1e-6)


@pytest.fixture(scope="module")
def boundary():
    return arm_aze_boundary()


# Points where the nearest point in one fixed plane (AEQD centred on the region) is on the
# wrong segment, by 0.05-4.7 m: nearly equidistant from two pieces of the boundary. Found by
# a 200,000-point search (benchmarks/bench_geodesy.py's naive_plane); expected values below
# come from the brute force, not from that search.
HARD_POINTS = [
    (48.564284, 38.705668),
    (44.832567, 39.412379),
    (46.924207, 41.865390),
    (44.482352, 38.788443),
    (43.856013, 41.290631),
    (48.703033, 39.656641),
    (47.373023, 41.077728),
    (48.366546, 39.615371),
    (46.011593, 41.753509),
    (44.688335, 39.156784),
    (46.416055, 41.537961),
    (48.373817, 38.740042),
    (44.879018, 40.315845),
    (45.226735, 38.876566),
    (46.160254, 41.890998),
    (45.356203, 38.808396),
]


@pytest.fixture(scope="module")
def boundary_truth(boundary):
    segs = segments_of(boundary)
    lon1, lat1 = region_points(160, seed=5)
    lon2, lat2 = near_line_points(segs, 60, seed=6, max_offset_m=3000.0)
    lon3, lat3 = np.array(HARD_POINTS).T
    lon = np.concatenate([lon1, lon2, lon3])
    lat = np.concatenate([lat1, lat2, lat3])
    return lon, lat, brute_force_distance(lon, lat, segs)


def test_boundary_geodesic_method_against_brute_force(boundary, boundary_truth):
    lon, lat, truth = boundary_truth
    df = nearest_points_on_lines(lon, lat, boundary)
    err = df.distance_m.to_numpy() - truth
    within = truth <= 200_000.0
    assert within.sum() > 150
    assert np.abs(err[within]).max() < 1e-3, np.abs(err[within]).max()  # measured ~1e-8 m
    assert np.abs(err).max() < 1e-3
    # the reported point is on a segment's geodesic: |AX| + |XB| = |AB|, and |PX| = distance_m
    segs = segments_of(boundary)
    parts = [shapely.get_coordinates(p) for p in shapely.get_parts(boundary)]
    offsets = np.cumsum([0] + [len(c) - 1 for c in parts])
    k = offsets[df.part_index.to_numpy()] + df.vertex_index.to_numpy()
    x_lon, x_lat = df.nearest_lon.to_numpy(), df.nearest_lat.to_numpy()
    ax = G.inv(segs[k, 0], segs[k, 1], x_lon, x_lat)[2]
    xb = G.inv(x_lon, x_lat, segs[k, 2], segs[k, 3])[2]
    ab = G.inv(segs[k, 0], segs[k, 1], segs[k, 2], segs[k, 3])[2]
    assert np.abs(ax + xb - ab).max() < 1e-6
    np.testing.assert_allclose(G.inv(lon, lat, x_lon, x_lat)[2], df.distance_m, rtol=0, atol=1e-9)


def test_boundary_planar_method_error_within_target(boundary, boundary_truth):
    lon, lat, truth = boundary_truth
    df = nearest_points_on_lines(lon, lat, boundary, method="planar")
    err = df.distance_m.to_numpy() - truth
    assert np.abs(err).max() <= 0.5, np.abs(err).max()  # measured ~0.05 m


def densified(line, spacing_m: float):
    """The line with vertices added along each segment's geodesic (Geod.npts) every <= spacing_m."""
    parts = []
    for part in shapely.get_parts(line):
        c = shapely.get_coordinates(part)
        pts = [c[:1]]
        for (lo1, la1), (lo2, la2) in zip(c[:-1], c[1:], strict=True):
            k = max(int(np.ceil(G.inv(lo1, la1, lo2, la2)[2] / spacing_m)) - 1, 0)
            if k:
                pts.append(np.array(G.npts(lo1, la1, lo2, la2, k)))
            pts.append(np.array([[lo2, la2]]))
        parts.append(np.concatenate(pts))
    return shapely.multilinestrings([shapely.linestrings(p) for p in parts])


def test_dense_line_many_candidates_against_brute_force(boundary):
    """~7,700 vertices 100 m apart: many near-equidistant candidate segments per point."""
    dense = densified(boundary, 100.0)
    assert shapely.get_num_coordinates(dense) > 7000
    lon, lat = region_points(40, seed=41)
    truth = brute_force_distance(lon, lat, segments_of(dense), tol_m=1e-5)
    for method, tol in (("geodesic", 1e-3), ("planar", 0.05)):
        got = nearest_points_on_lines(lon, lat, dense, method=method).distance_m.to_numpy()
        assert np.abs(got - truth).max() < tol, (method, np.abs(got - truth).max())


def test_nearest_line_among_several_and_geodataframe_input(boundary):
    import geopandas as gpd

    parts = list(shapely.get_parts(boundary))
    gdf = gpd.GeoDataFrame(
        {"line_id": [f"p{i}" for i in range(len(parts))]},
        geometry=parts,
        index=[f"L{i}" for i in range(len(parts))],
        crs="EPSG:4326",
    )
    lon, lat = region_points(60, seed=9)
    truth = np.column_stack([brute_force_distance(lon, lat, segments_of(p), tol_m=1e-4) for p in parts])
    df = nearest_points_on_lines(lon, lat, gdf)
    np.testing.assert_array_equal(df.line_index.to_numpy(), truth.argmin(axis=1))
    assert list(df.line_label) == [f"L{i}" for i in truth.argmin(axis=1)]
    np.testing.assert_allclose(df.distance_m, truth.min(axis=1), rtol=0, atol=1e-3)
    # same lines in Web Mercator are transformed back to EPSG:4326 first
    df2 = nearest_points_on_lines(lon, lat, gdf.to_crs(3857))
    np.testing.assert_allclose(df2.distance_m, df.distance_m, rtol=0, atol=1e-3)
    # a plain list with an empty geometry in it: the empty one is skipped, indices kept
    df3 = nearest_points_on_lines(lon, lat, [LineString(), *parts])
    np.testing.assert_array_equal(df3.line_index, df.line_index.to_numpy() + 1)


def test_nearest_with_tmerc_projection_and_duplicate_vertices(boundary):
    lon, lat = region_points(50, seed=21)
    p = LocalProjection.from_bounds(REGION, kind="tmerc")
    ref = nearest_points_on_lines(lon, lat, boundary)
    got = nearest_points_on_lines(lon, lat, boundary, projection=p)
    np.testing.assert_allclose(got.distance_m, ref.distance_m, rtol=0, atol=1e-6)
    # repeated vertices change nothing
    line = LineString([(45.0, 40.0), (45.0, 40.0), (45.5, 40.2), (45.5, 40.2), (46.0, 40.0)])
    clean = LineString([(45.0, 40.0), (45.5, 40.2), (46.0, 40.0)])
    a = nearest_points_on_lines(lon, lat, line)
    b = nearest_points_on_lines(lon, lat, clean)
    np.testing.assert_allclose(a.distance_m, b.distance_m, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.along_m, b.along_m, rtol=0, atol=1e-6)


def test_candidate_margin_picks_the_truly_nearest_line():
    """Two lines at exactly 200 000 m and 200 000 m + gap from P (built perpendicular to known
    geodesics). In an off-centre plane their order flips; the geodesic method must not."""
    p_lon, p_lat = 50.5, 38.5

    def perpendicular_line(azimuth, distance, half=3000.0):
        q_lon, q_lat, back = G.fwd(p_lon, p_lat, azimuth, distance)
        a = G.fwd(q_lon, q_lat, back + 90.0, half)
        b = G.fwd(q_lon, q_lat, back - 90.0, half)
        return LineString([a[:2], b[:2]])

    lines = [perpendicular_line(0.0, 200_000.0), perpendicular_line(300.0, 200_100.0)]
    off_centre = LocalProjection(44.0, 41.5)
    for projection in (None, off_centre):
        r = nearest_points_on_lines([p_lon], [p_lat], lines, projection=projection).iloc[0]
        assert r.line_index == 0 and r.distance_m == pytest.approx(200_000.0, abs=1e-3)
        r = nearest_points_on_lines([p_lon], [p_lat], lines, method="planar", projection=projection)
        assert r.line_index.iloc[0] == 0 and r.distance_m.iloc[0] == pytest.approx(200_000.0, abs=0.5)
    # planar distances alone get this one wrong, so the case does exercise the candidate margin
    x, y = off_centre.to_local(p_lon, p_lat)
    planar = shapely.distance(shapely.points(x, y), off_centre.geometry_to_local(np.array(lines)))
    assert planar[1] < planar[0]


def test_nearest_input_errors():
    line = LineString([(45.0, 40.0), (46.0, 40.0)])
    with pytest.raises(ValidationError, match="Polygon"):
        nearest_points_on_lines([45.0], [40.0], [Polygon([(45, 40), (46, 40), (46, 41)])])
    with pytest.raises(ValidationError, match="two vertices"):
        nearest_points_on_lines([45.0], [40.0], [LineString()])
    with pytest.raises(ValidationError, match="method"):
        nearest_points_on_lines([45.0], [40.0], line, method="degrees")
    with pytest.raises(ValidationError, match="points_lat"):
        nearest_points_on_lines([45.0], [400.0], line)
    with pytest.raises(ValidationError, match="lines latitude"):
        nearest_points_on_lines([45.0], [40.0], LineString([(40.0, 45.0), (40.0, 95.0)]))
    with pytest.raises(ValidationError, match="shape"):
        nearest_points_on_lines([45.0, 46.0], [40.0, 40.0, 41.0], line)
    empty = nearest_points_on_lines([], [], line)
    assert len(empty) == 0 and "distance_m" in empty.columns


# ------------------------------------------------------------------------------------------------
# 4. signed distance
# ------------------------------------------------------------------------------------------------
def test_signed_distance_straight_line():
    line = LineString([(45.0, 40.0), (46.0, 40.0)])  # heading east
    # the geodesic between two points of a parallel bulges poleward; by symmetry its midpoint is
    # on the meridian 45.5 and is the nearest point of (45.5, 40.0), which lies SOUTH of it
    az, _, length = G.inv(45.0, 40.0, 46.0, 40.0)
    mid_lon, mid_lat, _ = G.fwd(45.0, 40.0, az, length / 2)
    assert mid_lon == pytest.approx(45.5, abs=1e-12) and mid_lat > 40.0
    lon = np.array([45.5, 45.5, 45.5, 45.0, mid_lon])
    lat = np.array([40.1, 39.9, 40.0, 40.0, mid_lat])
    df = signed_distance_to_line(lon, lat, line)
    # north of an eastward line is its left; the last two points are on the line
    assert list(df.side) == ["left", "right", "right", "on", "on"]
    truth = brute_force_distance(lon[:2], lat[:2], segments_of(line))
    bulge = G.inv(45.5, 40.0, mid_lon, mid_lat)[2]
    # hand estimate of the bulge: L**2 tan(lat) / (8 N), N the prime-vertical radius at 40 N
    e2 = 0.0066943799901413165
    n_40 = A_WGS84 / math.sqrt(1 - e2 * math.sin(math.radians(40.0)) ** 2)
    assert bulge == pytest.approx(length**2 * math.tan(math.radians(40.0)) / (8 * n_40), rel=0.01)
    np.testing.assert_allclose(df.signed_distance_m[:3], [truth[0], -truth[1], -bulge], rtol=0, atol=1e-3)
    assert list(df.signed_distance_m[3:]) == [0.0, 0.0]
    flipped = signed_distance_to_line(lon, lat, line, left_positive=False)
    np.testing.assert_array_equal(flipped.signed_distance_m, -df.signed_distance_m)
    reverse = signed_distance_to_line(lon, lat, LineString(line.coords[::-1]))
    assert list(reverse.side) == ["right", "left", "left", "on", "on"]
    assert "left" in df.attrs["sign_convention"]


def test_signed_distance_at_vertices_uses_the_pseudo_normal():
    # east, then a sharp left turn back towards the west-north-west
    line = LineString([(45.0, 40.0), (46.0, 40.0), (45.0, 40.2)])
    # beyond the corner, slightly north of the first segment's extension: it is OUTSIDE the
    # sharp turn (right side), although the extended first segment alone would call it left
    df = signed_distance_to_line([46.1], [40.05], line)
    assert (df.nearest_lon.iloc[0], df.nearest_lat.iloc[0]) == (46.0, 40.0)
    assert df.side.iloc[0] == "right" and df.signed_distance_m.iloc[0] < 0
    # inside the wedge between the two segments: left
    assert signed_distance_to_line([45.6], [40.05], line).side.iloc[0] == "left"
    # a closed clockwise ring starting at its acute vertex: outside is on the left; the first
    # segment alone (heading west) would put the point beyond the tip on the right
    ring = LineString([(46.0, 40.0), (45.0, 40.0), (45.0, 40.2), (46.0, 40.0)])
    assert not Polygon(ring.coords).exterior.is_ccw and not Polygon(ring.coords).contains(Point(46.1, 40.05))
    df = signed_distance_to_line([46.1], [40.05], ring)
    assert (df.nearest_lon.iloc[0], df.nearest_lat.iloc[0]) == (46.0, 40.0) and df.side.iloc[0] == "left"
    # a right-angle left turn: outside corner right, inside corner left
    el = LineString([(45.0, 40.0), (46.0, 40.0), (46.0, 41.0)])
    df = signed_distance_to_line([46.2, 45.9], [39.8, 40.1], el)
    assert list(df.side) == ["right", "left"]


def test_signed_distance_sign_matches_inside_of_a_ccw_ring():
    """For a counter-clockwise ring, left = inside; checked against point-in-polygon."""
    import geopandas as gpd

    g = gpd.read_file(shared_file(NE_ADMIN0))
    arm = g.loc[g.ADM0_A3 == "ARM"].geometry.iloc[0]
    mainland = max(shapely.get_parts(arm), key=lambda p: p.area)
    ring = shapely.orient_polygons(mainland).exterior  # exterior counter-clockwise
    lon, lat = region_points(3000, seed=31)
    df = signed_distance_to_line(lon, lat, ring)
    inside = shapely.contains_xy(mainland, lon, lat)
    # lon/lat-straight edges and geodesic edges differ by metres: ignore points that close
    far = df.distance_m.to_numpy() > 200.0
    assert inside[far].sum() > 100
    np.testing.assert_array_equal(df.side.to_numpy()[far] == "left", inside[far])
    np.testing.assert_allclose(np.abs(df.signed_distance_m), df.distance_m, rtol=0, atol=0)


def test_signed_distance_needs_one_line():
    a = LineString([(45.0, 40.0), (46.0, 40.0)])
    with pytest.raises(ValidationError, match="exactly one"):
        signed_distance_to_line([45.0], [40.0], [a, a])
    mls = MultiLineString([[(45.0, 40.0), (46.0, 40.0)], [(47.0, 40.0), (48.0, 40.0)]])
    df = signed_distance_to_line([47.5, 45.5], [39.9, 40.1], mls)
    assert list(df.side) == ["right", "left"] and list(df.part_index) == [1, 0]
    assert isinstance(df, pd.DataFrame)


# ------------------------------------------------------------------------------------------------
# the compiled chord-to-geodesic formula of borderkit._fastgeo (used by borderkit.locate)
# ------------------------------------------------------------------------------------------------
def test_fast_chord_distance_against_geodtest(geodtest):
    require_module("numba")
    from borderkit._fastgeo import fast_distance

    lat1, lon1, _azi1, lat2, lon2, _azi2, s12, *_ = geodtest.T
    err = np.abs(fast_distance(lon1, lat1, lon2, lat2) - s12)
    # the formula is for regional distances; GeodTest covers every distance on the earth
    for limit, tol in ((200e3, 1e-5), (400e3, 2e-4), (800e3, 1e-2)):
        sel = s12 <= limit
        assert sel.sum() >= 5 or limit < 400e3
        if sel.any():
            assert err[sel].max() < tol, f"max error {err[sel].max():.3g} m up to {limit / 1e3:.0f} km"


def test_fast_chord_distance_in_the_case_region():
    """Independent reference: pyproj.Geod.fwd builds the pairs, the formula must give the distances back."""
    require_module("numba")
    from borderkit._fastgeo import fast_distance

    rng = np.random.default_rng(7)
    n = 50_000
    lon1 = rng.uniform(REGION[0], REGION[2], n)
    lat1 = rng.uniform(REGION[1], REGION[3], n)
    az = rng.uniform(-180, 180, n)
    s = rng.uniform(0, 400e3, n)
    lon2, lat2, _ = G.fwd(lon1, lat1, az, s)
    err = np.abs(fast_distance(lon1, lat1, lon2, lat2) - s)
    assert err[s <= 200e3].max() < 1e-5  # measured 3.6 µm
    assert err.max() < 1e-3  # measured 0.1 mm at 400 km


def test_nearest_with_side_matches_signed_distance_to_line():
    from borderkit.geodesy import line_segments, nearest_with_side

    line = shapely.LineString([(45.0, 39.0), (45.5, 39.3), (45.6, 39.9), (46.2, 40.0)])
    rng = np.random.default_rng(3)
    lon = rng.uniform(44.5, 46.5, 500)
    lat = rng.uniform(38.7, 40.3, 500)
    ref = signed_distance_to_line(lon, lat, line)
    near, left = nearest_with_side(lon, lat, line_segments(line))
    assert np.array_equal(near.dist, ref["distance_m"].to_numpy())
    assert np.array_equal(np.where(left, "left", "right"), ref["side"].to_numpy())
