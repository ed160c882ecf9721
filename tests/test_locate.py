"""borderkit.locate: side of a line, party, signed distance, determinacy and verdicts.

Expected values come from independent computations (pyproj.Geod on densified lines and
on hand-built geometries, shapely.contains_xy, hand calculation), never from the code
under test. The bundled case is read from geodata/ (offline).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderkit.errors import ValidationError
from borderkit.locate import RESULT_COLUMNS, check, locate, summarize
from conftest import require_module

numba = require_module("numba")

G = pyproj.Geod(ellps="WGS84")
REGION = (43.4, 38.3, 50.9, 41.9)
M_EQUATOR = 6378137.0 * (1 - 0.00669437999014)  # meridional radius of curvature at the equator


@pytest.fixture(scope="module")
def case():
    import borderkit.datasets as ds

    return ds.load()


@pytest.fixture(scope="module")
def places(case):
    p = case.places
    return p[p.geometry.notna() & (p.geom_type == "Point")].set_index("place_id")


def _lines(geoms, left="ARM", right="AZE", source="test", accuracy=0.0, sections=None):
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "source": [source] * n,
            "left_party": [left] * n,
            "right_party": [right] * n,
            "scale_or_accuracy_m": [accuracy] * n,
            "section": sections or [f"s{i}" for i in range(n)],
        },
        geometry=list(geoms),
        crs=4326,
    )


def _at(places, *ids):
    pts = places.loc[list(ids)]
    return pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()


def _densified_truth(lon, lat, line, spacing_m=10.0):
    """Independent nearest distance: every geodesic segment densified with Geod.npts, min of Geod.inv."""
    coords = np.asarray(line.coords)
    samples = [coords[:1]]
    for (x0, y0), (x1, y1) in zip(coords[:-1], coords[1:], strict=True):
        length = G.inv(x0, y0, x1, y1)[2]
        k = max(1, int(math.ceil(length / spacing_m)))
        mid = np.asarray(G.npts(x0, y0, x1, y1, k - 1)) if k > 1 else np.empty((0, 2))
        samples += [mid.reshape(-1, 2), np.array([[x1, y1]])]
    s = np.concatenate(samples)
    out = np.empty(len(lon))
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        out[i] = G.inv(np.full(len(s), x), np.full(len(s), y), s[:, 0], s[:, 1])[2].min()
    return out


# ------------------------------------------------------------------------------------------------
# hand-checked geometry
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fast", "exact"])
def test_equator_line_by_hand(method):
    # the equator is a geodesic and meridians cross it at right angles: the nearest point of
    # (1.0, 0.01) is (1, 0), at the meridian arc M(0) * 0.01° (= 1105.75 m by hand)
    lines = _lines([shapely.LineString([(0.0, 0.0), (2.0, 0.0)])])
    r = locate((np.array([1.0, 1.0]), np.array([0.01, -0.02])), lines, method=method)
    hand = M_EQUATOR * math.radians(0.01)
    assert hand == pytest.approx(1105.75, abs=0.01)
    assert r.distance_to_line_m[0] == pytest.approx(G.inv(1, 0.01, 1, 0)[2], abs=1e-3)
    assert r.distance_to_line_m[0] == pytest.approx(hand, abs=0.01)
    assert (r.nearest_lon[0], r.nearest_lat[0]) == pytest.approx((1.0, 0.0), abs=1e-9)
    # walking east, north is on the left: ARM's side; south is AZE's
    assert list(r.party) == ["ARM", "AZE"] and list(r.line_party) == ["ARM", "AZE"]
    assert r.signed_distance_m[0] > 0 > r.signed_distance_m[1]
    assert r.party_method[0] == "line side"


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_vertex_pseudo_normal_beyond_a_sharp_turn(method):
    # an inverted V (north, then south: a right turn at the tip). A point just north of the tip
    # is outside the turn, on the left of travel; a point inside the V is on the right. Each
    # segment alone would put the first point on a different side (its foot is beyond both ends).
    line = shapely.LineString([(45.0, 40.0), (45.05, 40.3), (45.1, 40.0)])
    lines = _lines([line])
    r = locate((np.array([45.05, 45.05]), np.array([40.31, 40.2])), lines, method=method)
    assert r.distance_to_line_m[0] == pytest.approx(G.inv(45.05, 40.31, 45.05, 40.3)[2], abs=1e-3)
    assert list(r.line_party) == ["ARM", "AZE"]


def test_distance_against_densified_geodesics(case):
    """Fast and exact engines against brute force on Natural Earth's mainland line (long segments)."""
    ne = case.lines[(case.lines.source == "natural-earth-10m") & (case.lines.section == "mainland")]
    line = ne.geometry.iloc[0]
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = line.bounds
    lon = rng.uniform(x0 - 0.3, x1 + 0.3, 12)
    lat = rng.uniform(y0 - 0.3, y1 + 0.3, 12)
    truth = _densified_truth(lon, lat, line, spacing_m=20.0)
    lines = _lines([line])
    for method, tol in (("fast", 0.1), ("exact", 0.06)):
        d = locate((lon, lat), lines, method=method).distance_to_line_m.to_numpy()
        # the truth overestimates by at most spacing**2 / (8 d) (<= 5 cm beyond 1 km)
        far = truth > 1000
        assert np.all(np.abs(d - truth)[far] <= tol), (method, np.abs(d - truth).max())
        assert np.all(d <= truth + 1e-6)


def test_reported_distance_is_the_geodesic_to_the_reported_point(case):
    rng = np.random.default_rng(5)
    n = 3000
    lon = rng.uniform(REGION[0], REGION[2], n)
    lat = rng.uniform(REGION[1], REGION[3], n)
    r = locate((lon, lat), sources="osm-2017", method="fast")
    d = G.inv(lon, lat, r.nearest_lon.to_numpy(), r.nearest_lat.to_numpy())[2]
    near = d <= 400e3
    assert np.abs(d - r.distance_to_line_m.to_numpy())[near].max() < 1e-3
    assert np.abs(d - r.distance_to_line_m.to_numpy()).max() < 1e-2
    # an upper bound nobody can beat: the distance to every vertex of the line
    osm = case.lines[case.lines.source == "osm-2017"]
    v = shapely.get_coordinates(osm.geometry.values)
    sub = rng.choice(n, 40, replace=False)
    for i in sub:
        dv = G.inv(np.full(len(v), lon[i]), np.full(len(v), lat[i]), v[:, 0], v[:, 1])[2].min()
        assert r.distance_to_line_m.iloc[i] <= dv + 1e-6


def test_fast_matches_exact_on_the_case():
    rng = np.random.default_rng(1)
    n = 4000
    lon = np.r_[rng.uniform(REGION[0], REGION[2], n), rng.uniform(45.8, 46.6, n)]
    lat = np.r_[rng.uniform(REGION[1], REGION[3], n), rng.uniform(39.2, 39.9, n)]
    fast = locate((lon, lat), method="fast", precision_m=100.0)
    exact = locate((lon, lat), method="exact", precision_m=100.0)
    diff = np.abs(fast.distance_to_line_m - exact.distance_to_line_m)
    assert diff.max() < 0.1  # measured 3 cm on Natural Earth's 22 km segments, 1.6 mm on OSM
    clear = exact.distance_to_line_m > 1.0
    differ = ~clear | (fast.line_party != exact.line_party) | (fast.party.fillna("-") != exact.party.fillna("-"))
    differ = clear & differ
    # the only side differences allowed: at the tip of a spike where the line doubles back on
    # itself (GSHHG has one at 45.8825 E 39.3225 N), the two segments tie and either side is right
    for i in np.flatnonzero(differ):
        x, y = exact.nearest_lon.iloc[i], exact.nearest_lat.iloc[i]
        assert _is_spike_tip(x, y), (exact.iloc[i].to_dict(), fast.iloc[i].to_dict())
    assert (fast.determinate == exact.determinate)[np.abs(exact.margin_m) > 1.0].all()


def _is_spike_tip(x, y):
    """Is (x, y) on a spike, where the line doubles back on itself (two segments on top of each other)?"""
    import borderkit.datasets as ds
    from borderkit.geodesy import nearest_points_on_lines

    legs = []
    for geom in ds.load().lines.geometry:
        for part in shapely.get_parts(geom):
            c = np.asarray(part.coords)
            for v in range(1, len(c) - 1):
                az_in = G.inv(c[v - 1, 0], c[v - 1, 1], c[v, 0], c[v, 1])[0]
                az_out = G.inv(c[v, 0], c[v, 1], c[v + 1, 0], c[v + 1, 1])[0]
                if abs((az_out - az_in + 180) % 360 - 180) > 179:
                    legs.append(shapely.LineString(c[v - 1:v + 2]))
    return bool(legs) and float(nearest_points_on_lines(x, y, legs).distance_m.iloc[0]) < 0.01


# ------------------------------------------------------------------------------------------------
# territories
# ------------------------------------------------------------------------------------------------
def test_polygon_index_matches_shapely(case):
    from borderkit._fastgeo import PolygonIndex

    rng = np.random.default_rng(2)
    n = 200_000
    lon = rng.uniform(REGION[0] - 0.5, REGION[2] + 0.5, n)
    lat = rng.uniform(REGION[1] - 0.5, REGION[3] + 0.5, n)
    for src, group in case.territories.groupby("source"):
        geoms = list(group.geometry)
        got = PolygonIndex(geoms).query(lon, lat)
        want = np.zeros(n, dtype=np.uint64)
        for k, g in enumerate(geoms):
            want |= shapely.contains_xy(g, lon, lat).astype(np.uint64) << np.uint64(k)
        assert np.array_equal(got, want), src


def test_polygon_index_holes_and_multipolygons():
    from borderkit._fastgeo import PolygonIndex

    outer = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]])
    other = shapely.MultiPolygon([shapely.box(2, 2, 5, 5), shapely.box(6, 0, 7, 1)])
    xs = np.array([0.5, 2.5, 2.5, 3.5, 6.5, 8.0])
    ys = np.array([0.5, 2.5, 3.5, 3.5, 0.5, 8.0])
    got = PolygonIndex([outer, other]).query(xs, ys)
    assert list(got) == [1, 2, 3, 3, 2, 0]


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_overlap_and_third_parties(places, method):
    lon, lat = _at(places, "artsvashen")
    r = locate((np.r_[lon, 46.0, 44.79], np.r_[lat, 38.6, 41.72]), sources="osm-2017", method=method)
    # Artsvashen: OSM draws the exclave in both ARM and AZE; reported, never resolved
    assert r.party[0] == "ARM;AZE" and bool(r.overlap[0]) and not bool(r.determinate[0])
    # south of the Aras (Iran) and Tbilisi (Georgia): the territory they are in
    assert list(r.party[1:]) == ["IRN", "GEO"]
    assert list(r.party_method) == ["territory"] * 3


def test_outside_every_territory_is_null():
    lines = _lines([shapely.LineString([(45.0, 39.0), (45.0, 40.0)])])
    terr = gpd.GeoDataFrame({"source": ["test"], "party": ["ARM"]},
                            geometry=[shapely.box(44.0, 39.0, 45.0, 40.0)], crs=4326)
    r = locate((np.array([44.5, 45.5]), np.array([39.5, 39.5])), lines, territories=terr)
    assert r.party[0] == "ARM"
    assert pd.isna(r.party[1]) and not bool(r.determinate[1]) and r.line_party[1] == "AZE"


# ------------------------------------------------------------------------------------------------
# the bundled case
# ------------------------------------------------------------------------------------------------
def test_case_towns_clear_of_the_line(places):
    lon, lat = _at(places, "goris", "sisian", "tovuz", "shusha")
    res = check((lon, lat), expect=np.array(["ARM", "ARM", "AZE", "AZE"], dtype=object), precision_m=1000)
    r = res.results
    assert len(r) == 4 * 4 and set(r.source) == {"dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017"}
    expected = {0: "ARM", 1: "ARM", 2: "AZE", 3: "AZE"}
    for point, party in expected.items():
        rows = r[r.point == point]
        assert (rows.party == party).all() and (rows.line_party == party).all()
        assert rows.determinate.all() and (rows.verdict == "inside").all()
        assert (rows.signed_distance_m > 0).all()  # positive on the expected party's side
        assert (rows.distance_to_line_m > 3000).all()
    assert list(res.summary.verdict) == ["inside"] * 4 and res.summary.sources_agree.all()
    across = check((lon[:1], lat[:1]), expect="AZE").results
    assert (across.verdict == "across").all() and (across.signed_distance_m < 0).all()


def test_case_points_near_the_line_are_reported_per_source(places):
    """Sev Lake and Mets Ishkhanasar lie within a few km of every line: the sources disagree,
    so nothing is asserted about the side; only that each source answers and that a 5 km
    precision (the incident's) makes every verdict indeterminate."""
    lon, lat = _at(places, "sev_lake", "mets_ishkhanasar")
    r = locate((lon, lat), precision_m=5000)
    assert len(r) == 8
    assert (r.distance_to_line_m < 5000).all()
    assert (~r.determinate).all()
    s = summarize(r)
    assert not s.sources_agree[0]  # DCW puts the lake's centre on ARM's side, GSHHG and NE on AZE's


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------
_LINE = shapely.LineString([(45.0, 39.0), (45.3, 39.4), (45.2, 39.8), (45.7, 40.1), (46.1, 39.9)])
_RING = shapely.LineString([(45.0, 39.0), (45.4, 39.0), (45.4, 39.3), (45.0, 39.3), (45.0, 39.0)])
coords = st.tuples(st.floats(44.0, 47.0), st.floats(38.5, 40.8))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(coords, min_size=1, max_size=30), st.sampled_from(["fast", "exact"]))
def test_property_distance_nonnegative_and_swap_flips_sign(pts, method):
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    for geom in (_LINE, _RING):
        a = locate((lon, lat), _lines([geom], "ARM", "AZE"), method=method)
        b = locate((lon, lat), _lines([geom], "AZE", "ARM"), method=method)
        assert (a.distance_to_line_m >= 0).all()
        assert np.array_equal(a.distance_to_line_m, b.distance_to_line_m)
        assert np.array_equal(a.signed_distance_m, -b.signed_distance_m)
        assert np.array_equal(np.abs(a.signed_distance_m), a.distance_to_line_m)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(1e-3, 1e5), st.sampled_from(["fast", "exact"]))  # >= 1 mm: the fast resolution
def test_property_point_on_the_line_is_indeterminate(t, precision, method):
    # a vertex, or a point on a segment's geodesic (pyproj.Geod.fwd along the segment)
    (x0, y0), (x1, y1) = list(_LINE.coords)[1:3]
    az, _, length = G.inv(x0, y0, x1, y1)
    x, y, _ = G.fwd(x0, y0, az, t * length)
    r = locate((np.array([x, x0]), np.array([y, y0])), _lines([_LINE]), precision_m=precision, method=method)
    assert (r.distance_to_line_m < 0.05).all()  # great-ellipse vs geodesic: micrometres here
    assert (~r.determinate).all()
    assert (r.margin_m < 0).all()


@settings(max_examples=15, deadline=None)
@given(st.lists(coords, min_size=2, max_size=60), st.integers(1, 7), st.randoms(use_true_random=False))
def test_property_independent_of_order_and_chunking(pts, chunk, rnd):
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    prec = np.linspace(0, 3000, len(pts))
    perm = list(range(len(pts)))
    rnd.shuffle(perm)
    perm = np.array(perm)
    base = locate((lon, lat), precision_m=prec, method="fast")
    other = locate((lon[perm], lat[perm]), precision_m=prec[perm], method="fast", chunk_size=chunk)
    s = len(base) // len(pts)
    idx = (perm[:, None] * s + np.arange(s)).ravel()  # rows of `other` in base's order
    want = base.iloc[idx].drop(columns=["point"]).reset_index(drop=True)
    got = other.drop(columns=["point"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)


# ------------------------------------------------------------------------------------------------
# API details and errors
# ------------------------------------------------------------------------------------------------
def test_columns_inputs_and_uncertainty_rules(places):
    gdf = places.loc[["goris", "khndzoresk"]].reset_index()
    gdf["precision_m"] = [3000.0, np.nan]
    r = locate(gdf)  # the precision_m column is used; NaN counts as 0
    assert list(r.columns) == list(RESULT_COLUMNS)
    assert list(r.precision_m[r.point == 1]) == [0.0] * 4
    row = r.iloc[0]
    assert row.uncertainty_m == pytest.approx(row.precision_m + row.line_accuracy_m)
    assert row.margin_m == pytest.approx(row.distance_to_line_m - row.uncertainty_m)
    rss = locate(gdf, combine="rss").iloc[0]
    assert rss.uncertainty_m == pytest.approx(math.hypot(row.precision_m, row.line_accuracy_m))
    # other input forms give the same numbers
    xy = np.column_stack([gdf.geometry.x, gdf.geometry.y])
    r2 = locate(xy, precision_m=np.array([3000.0, 0.0]))
    assert np.array_equal(r2.distance_to_line_m, r.distance_to_line_m)
    r3 = locate(gdf.to_crs(32638), precision_m=np.array([3000.0, 0.0]))
    assert np.allclose(r3.distance_to_line_m, r.distance_to_line_m, atol=1e-6)
    assert r.attrs["units"].startswith("metres")


def test_reference_party_and_source_filter(places):
    lon, lat = _at(places, "goris")
    r = locate((lon, lat), sources=["osm-2017", "dcw-gmt"], reference_party="AZE")
    assert list(r.source) == ["dcw-gmt", "osm-2017"]
    assert (r.signed_distance_m < 0).all() and (r.sign_reference == "AZE").all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"points": (np.array([46.0]), np.array([95.0]))}, "latitude"),
        ({"points": (np.array([46.0]), np.array([39.5])), "sources": "osm"}, "unknown line source"),
        ({"points": (np.array([46.0]), np.array([39.5])), "precision_m": -1}, "precision_m"),
        ({"points": (np.array([46.0]), np.array([39.5])), "method": "planar"}, "method"),
        ({"points": (np.array([46.0]), np.array([39.5])), "reference_party": "Armenia"}, "alpha-3"),
        ({"points": [shapely.LineString([(0, 0), (1, 1)])]}, "Point"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        locate(**kwargs)


def test_check_needs_expect():
    with pytest.raises(ValidationError, match="expect"):
        check((np.array([46.0]), np.array([39.5])), expect=None)
    with pytest.raises(ValidationError, match="alpha-3"):
        check((np.array([46.0]), np.array([39.5])), expect="Armenia")


# ------------------------------------------------------------------------------------------------
# "not near this line", the file's precision
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fast", "exact"])
def test_not_near_this_line_hand_built(method):
    from borderkit.locate import NOT_NEAR

    # ARM west of the meridian 45 E, AZE east of it, GEO north of 40 N; the line runs 39 N -> 40 N
    lines = _lines([shapely.LineString([(45.0, 39.0), (45.0, 40.0)])])
    terr = gpd.GeoDataFrame(
        {"source": ["test"] * 3, "party": ["ARM", "AZE", "GEO"]},
        geometry=[shapely.box(44.0, 39.0, 45.0, 40.0), shapely.box(45.0, 39.0, 46.0, 40.0),
                  shapely.box(44.0, 40.0, 46.0, 41.0)],
        crs=4326,
    )
    lon = np.array([44.5, 44.9, 44.5])
    lat = np.array([39.95, 39.5, 40.2])
    r = check((lon, lat), lines, territories=terr, expect="ARM", method=method).results
    # point 0: ~5.9 km from Georgia's southern edge (a geodesic from 44 E to 46 E at 40 N, which
    # bulges north of the parallel: brute force on the densified geodesic), ~43 km from the line:
    # not near this line, whatever the side says
    to_geo = _densified_truth(np.array([44.5]), np.array([39.95]), shapely.LineString([(44.0, 40.0), (46.0, 40.0)]),
                              spacing_m=5.0)[0]
    assert r.other_border[0] == "GEO" and r.other_border_distance_m[0] == pytest.approx(to_geo, abs=0.05)
    assert r.distance_to_line_m[0] > 40_000 and not r.near_line[0] and r.verdict[0] == NOT_NEAR
    # point 1: 8.5 km from the line, 55 km from Georgia: near, inside
    assert bool(r.near_line[1]) and r.verdict[1] == "inside"
    # point 2: in Georgia: distance 0 to the other border, beyond the line's end as well
    assert r.other_border[2] == "GEO" and r.other_border_distance_m[2] == 0.0
    assert bool(r.beyond_line_end[2]) and r.verdict[2] == NOT_NEAR
    # without territories only the line's end can tell
    bare = check((lon, lat), lines, territories=False, expect="ARM", method=method).results
    assert bare.other_border.isna().all() and bare.other_border_distance_m.isna().all()
    assert list(bare.beyond_line_end) == [False, False, True] and list(bare.verdict) == ["inside", "inside", NOT_NEAR]


def test_a_short_gap_is_not_an_end():
    # two parts with a 1.1 km gap (< BRIDGE_GAPS_M, like OSM's line across Sev Lake): a point beside
    # the gap is near the line; beyond the far ends it is not
    gap = shapely.MultiLineString([[(45.0, 39.0), (45.0, 39.5)], [(45.0, 39.51), (45.0, 40.0)]])
    lines = _lines([gap])
    r = locate((np.array([45.02, 45.0]), np.array([39.505, 40.1])), lines, territories=False)
    assert list(r.beyond_line_end) == [False, True] and list(r.near_line) == [True, False]


def test_precision_of_the_file_wins_and_default_fills():
    from borderkit.locate import check_table, precision_of

    pts = gpd.GeoDataFrame({"precision_m": [250.0, np.nan, 4000.0]},
                           geometry=gpd.points_from_xy([46.03, 46.34, 45.63], [39.52, 39.51, 40.99]), crs=4326)
    pts.attrs["borderkit"] = {"precision_column": "geo_precision"}
    prec, src = precision_of(pts, 1000.0)
    assert list(prec) == [250.0, 1000.0, 4000.0] and list(src) == ["geo_precision", "default", "geo_precision"]
    prec, src = precision_of(pts)
    assert list(prec) == [250.0, 0.0, 4000.0] and list(src) == ["geo_precision", "none", "geo_precision"]
    with pytest.raises(ValidationError, match="default precision"):
        precision_of(pts, -1)
    t = check_table(pts, expect="ARM", default_precision_m=1000.0)
    assert list(t["check__precision_m"]) == [250.0, 1000.0, 4000.0]
    # the same numbers as check() on the same points with the same precisions
    ref = check(pts.geometry, expect="ARM", precision_m=np.array([250.0, 1000.0, 4000.0])).results
    for src_name, rows in ref.groupby("source", observed=True):
        assert np.allclose(t[f"{src_name}__margin_m"], rows.margin_m.to_numpy(), atol=6e-4)
        assert list(t[f"{src_name}__verdict"]) == list(rows.verdict)
