"""Elevation profiles: geodesic spacing, places, border crossings, figures."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip
import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402
from pyproj import Geod  # noqa: E402

from borderkit.errors import ValidationError  # noqa: E402
from borderkit.terrain.dem import open_dem  # noqa: E402
from borderkit.terrain.profile import elevation_profile, geodesic_path, parse_latlon_path  # noqa: E402

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def dted():
    return open_dem(shared_file("dted0-caucasus/e046/n39.dt0").parent.parent, bbox=(45.8, 39.1, 46.6, 39.8))


def test_parse_latlon_order():
    assert parse_latlon_path("39.5,46.1; 39.6,46.2") == [(46.1, 39.5), (46.2, 39.6)]
    with pytest.raises(ValidationError, match="LAT,LON"):
        parse_latlon_path("146.1,39.5;39.6,46.2")  # longitude first by mistake
    with pytest.raises(ValidationError, match="two points"):
        parse_latlon_path("39.5,46.1")


def test_geodesic_spacing_and_distance():
    pts = [(46.0, 39.5), (46.3, 39.6), (46.35, 39.2)]
    df = geodesic_path(pts, spacing_m=250.0)
    lon = np.array([46.0, 46.3, 46.35])
    lat = np.array([39.5, 39.6, 39.2])
    _, _, seg = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    assert df["distance_m"].iloc[-1] == pytest.approx(seg.sum(), abs=1e-6)
    # consecutive distances are exact geodesics of at most the spacing
    _, _, step = GEOD.inv(df.lon[:-1].to_numpy(), df.lat[:-1].to_numpy(), df.lon[1:].to_numpy(), df.lat[1:].to_numpy())
    np.testing.assert_allclose(step, np.diff(df["distance_m"]), rtol=0, atol=1e-6)
    assert step.max() <= 250.0 + 1e-9
    # every vertex is a sample
    for lon, lat in pts:
        assert (np.hypot(df.lon - lon, df.lat - lat) < 1e-12).any()


def test_profile_table_and_heights(dted):
    p = elevation_profile([(46.0, 39.5), (46.3, 39.6)], dem=dted, spacing_m=200.0)
    assert list(p.table.columns[:4]) == ["distance_m", "elevation_m", "lat", "lon"]
    np.testing.assert_allclose(p.table.elevation_m, dted.sample(p.table.lon, p.table.lat))
    assert p.parameters["spacing_m"] == 200.0 and "geodesic" in p.parameters["method"]
    csv = p.to_csv()
    assert csv.splitlines()[0] == "distance_m,elevation_m,lat,lon"


def test_places_and_crossings_are_located(dted):
    path = [(46.0, 39.5), (46.4, 39.5)]  # a west-east geodesic
    places = gpd.GeoDataFrame(
        {"place_id": ["near", "far", "none"], "name_en": ["Near", "Far", "Unlocated"], "kind": ["village"] * 3},
        geometry=[shapely.Point(46.2, 39.505), shapely.Point(46.2, 39.7), None],
        crs=4326,
    )
    # a meridian line and a diagonal line, each crossing the path once
    lines = gpd.GeoDataFrame(
        {"source": ["src-a", "src-b"], "line_id": ["a", "b"], "name": ["A", "B"]},
        geometry=[shapely.LineString([(46.1, 39.3), (46.1, 39.7)]), shapely.LineString([(46.25, 39.3), (46.35, 39.7)])],
        crs=4326,
    )
    p = elevation_profile(path, dem=dted, spacing_m=100.0, places=places, lines=lines, max_offset_m=2000)
    assert list(p.places.place_id) == ["near"]
    near = p.places.iloc[0]
    assert near.offset_m == pytest.approx(GEOD.inv(46.2, 39.505, 46.2, 39.5)[2], abs=20)  # the geodesic bulges a little
    assert near.distance_m == pytest.approx(GEOD.inv(46.0, 39.5, 46.2, 39.5)[2], abs=20)
    assert list(p.crossings.source) == ["src-a", "src-b"]
    a = p.crossings.iloc[0]
    assert a.lon == pytest.approx(46.1, abs=1e-6)
    # distance along the path to the crossing = geodesic from the start to the crossing point
    assert a.distance_m == pytest.approx(GEOD.inv(46.0, 39.5, a.lon, a.lat)[2], abs=1.0)
    b = p.crossings.iloc[1]
    x = 46.25 + 0.1 * (b.lat - 39.3) / 0.4  # on the diagonal line as drawn (straight in lon/lat)
    assert b.lon == pytest.approx(x, abs=1e-5)
    assert np.isfinite(p.crossings.elevation_m).all()


def test_figures_are_written_and_deterministic(dted, tmp_path):
    places = gpd.GeoDataFrame(
        {"place_id": ["p"], "name_en": ["Somewhere"], "kind": ["town"]},
        geometry=[shapely.Point(46.15, 39.55)],
        crs=4326,
    )
    lines = gpd.GeoDataFrame(
        {"source": ["osm-2017"], "line_id": ["l"], "name": ["L"]},
        geometry=[shapely.LineString([(46.2, 39.3), (46.2, 39.8)])],
        crs=4326,
    )
    p = elevation_profile([(46.0, 39.5), (46.3, 39.6)], dem=dted, places=places, lines=lines, max_offset_m=5000)
    import matplotlib.pyplot as plt

    for ext in ("png", "svg"):
        a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
        plt.close(p.plot(a))
        plt.close(p.plot(b))
        assert a.stat().st_size > 1000 and a.read_bytes() == b.read_bytes()
    svg = (tmp_path / "a.svg").read_text()
    assert "Somewhere" in svg and "osm-2017" in svg


def test_bad_paths(dted):
    with pytest.raises(ValidationError):
        elevation_profile([(46.0, 39.5)], dem=dted)
    with pytest.raises(ValidationError, match="spacing"):
        geodesic_path([(46.0, 39.5), (46.1, 39.5)], spacing_m=0)


def test_profile_throughput(dted):
    import time

    path = [(45.85 + 0.07 * i, 39.2 + 0.05 * (i % 2)) for i in range(10)]
    t = time.perf_counter()
    p = elevation_profile(path, dem=dted, spacing_m=5.0)
    rate = len(p.table) / (time.perf_counter() - t)
    assert len(p.table) > 10_000 and rate > 10_000


def test_profile_figure_draws_data_text_literally(tmp_path):
    """Names from data ("$…$" in a source or place name) are text, never mathtext."""
    import matplotlib.text

    from borderkit.terrain import profile as profile_mod

    seen = []
    original = matplotlib.text.Text.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.get_parse_math())

    matplotlib.text.Text.__init__ = spy
    try:
        from borderkit import datasets

        case = datasets.load("armenia-azerbaijan")
        prof = profile_mod.elevation_profile([(46.02696, 39.52191), (46.18, 39.58222)], dem=case.dem,
                                             lines=case.lines.assign(source="$x^2$ {{7*7}}"))
        fig = profile_mod.plot_profile(prof, title="$\\frac{a}{b}$ unbalanced $", output=tmp_path / "p.svg")
    finally:
        matplotlib.text.Text.__init__ = original
    assert seen and not any(seen)
    svg = (tmp_path / "p.svg").read_text(encoding="utf-8")
    assert fig is not None and "unbalanced" in svg
