"""SK-42 → WGS84: the operation is chosen explicitly and reported; results checked against independent pyproj."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from borderkit.datum import (
    candidate_transformations,
    choose_transformation,
    from_wgs84,
    gauss_kruger_crs,
    gauss_kruger_zone,
    suggest_datum_shift,
    to_wgs84,
)
from borderkit.errors import CRSError, DatumWarning

ROOT = Path(__file__).resolve().parents[1]
LINES = ROOT / "geodata" / "armenia-azerbaijan" / "lines.geojson"
GEOD = pyproj.Geod(ellps="WGS84")
# EPSG:15865 "Pulkovo 1942 to WGS 84 (16)", parameters as published in the EPSG dataset (coordinate frame rotation)
HELMERT_15865 = (
    "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=cart +ellps=krass "
    "+step +proj=helmert +x=25 +y=-141 +z=-78.5 +rx=0 +ry=-0.35 +rz=-0.736 +s=0 +convention=coordinate_frame "
    "+step +inv +proj=cart +ellps=WGS84 +step +proj=unitconvert +xy_in=rad +xy_out=deg"
)
SEV_LAKE = (46.23167, 39.59806)


def test_gauss_kruger_zones_match_epsg():
    # zone n covers 6n − 6 … 6n° E; EPSG:28408 is zone 8 (42–48° E, central meridian 45°)
    assert gauss_kruger_zone(42.0) == 8 and gauss_kruger_zone(47.99) == 8 and gauss_kruger_zone(48.0) == 9
    crs = gauss_kruger_crs(8)
    assert crs.to_epsg() == 28408
    aou = crs.area_of_use
    assert (aou.west, aou.east) == (42.0, pytest.approx(48.0, abs=0.02))
    p = {p.name: p.value for p in crs.coordinate_operation.params}
    assert p["Longitude of natural origin"] == 45 and p["False easting"] == 8_500_000
    z40 = gauss_kruger_crs(40)  # outside the EPSG range: same definition, Pulkovo 1942 datum
    assert z40.geodetic_crs.equals(pyproj.CRS.from_epsg(4284))


def test_candidates_are_listed_and_the_most_accurate_covering_one_is_chosen():
    names = {t.code for t in candidate_transformations()}
    assert {"EPSG:15865", "EPSG:5044"} <= names  # (16) and (14, Azerbaijan) both exist
    chosen, listed, reason = choose_transformation((46.0, 39.3, 46.5, 39.7))
    # Around Sev Lake two EPSG operations cover the data: (16) 4.5 m for the former USSR and (14) 5 m for
    # Azerbaijan/Georgia; the more accurate one wins.
    covering = sorted((t.accuracy_m, t.code) for t, ok in listed if ok)
    assert covering[0] == (4.5, "EPSG:15865")
    assert chosen.code == "EPSG:15865" and chosen.accuracy_m == 4.5 and not chosen.ballpark
    assert "covers" in reason


def test_to_wgs84_points_match_an_independent_helmert_and_report_the_shift():
    (x, y), rep = to_wgs84(([SEV_LAKE[0]], [SEV_LAKE[1]]), crs="EPSG:4284")
    ex, ey = pyproj.Transformer.from_pipeline(HELMERT_15865).transform(*SEV_LAKE)
    assert x[0] == pytest.approx(ex, abs=1e-9) and y[0] == pytest.approx(ey, abs=1e-9)
    assert rep.shift_m == pytest.approx(GEOD.inv(*SEV_LAKE, ex, ey)[2], abs=1e-6)
    assert 90 < rep.shift_m < 120
    d = rep.to_dict()
    assert d["transformation"]["code"] == "EPSG:15865" and d["transformation"]["accuracy_m"] == 4.5
    assert "+proj=helmert" in d["transformation"]["proj"] and "m (geodesic, WGS84)" in d["method"]


def test_gauss_kruger_input_is_inverse_projected_on_krassovsky_first():
    e, n = 8_600_000.0, 4_400_000.0
    (x, y), rep = to_wgs84(([e], [n]), crs="EPSG:28408")
    tm = pyproj.Transformer.from_pipeline("+proj=pipeline +step +inv +proj=tmerc +lat_0=0 +lon_0=45 +k=1 "
                                          "+x_0=8500000 +y_0=0 +ellps=krass")
    lon, lat = tm.transform(e, n)
    ex, ey = pyproj.Transformer.from_pipeline(HELMERT_15865).transform(lon, lat)
    assert (x[0], y[0]) == pytest.approx((ex, ey), abs=1e-9)
    assert rep.source_crs == "EPSG:28408"


def test_forced_transformation_and_refusals():
    (x, _), rep = to_wgs84(([46.2], [39.6]), transformation="EPSG:5044")
    assert rep.transformation.code == "EPSG:5044"
    (x2, _), _ = to_wgs84(([46.2], [39.6]))
    assert x[0] != x2[0]  # a different operation gives a different answer (metres apart)
    with pytest.raises(CRSError, match="not an SK-42"):
        to_wgs84(([46.2], [39.6]), transformation="EPSG:1234567")
    with pytest.raises(CRSError, match="not on the Pulkovo 1942"):
        to_wgs84(([46.2], [39.6]), crs="EPSG:4326")
    with pytest.raises(CRSError, match="no CRS"):
        to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(46, 39)]))


def test_ballpark_outside_every_area_warns():
    with pytest.warns(DatumWarning, match="no EPSG"):
        _, rep = to_wgs84(([20.0], [-10.0]))
    assert "ballpark" in rep.reason


def test_round_trip_through_the_inverse():
    t, _, _ = choose_transformation((46, 39, 47, 40))
    lon, lat = np.array([46.1, 46.9]), np.array([39.1, 39.9])
    sx, sy = from_wgs84(lon, lat, t)
    (bx, by), _ = to_wgs84((sx, sy))
    assert np.allclose(bx, lon, atol=1e-10) and np.allclose(by, lat, atol=1e-10)


def _osm_lines() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(LINES)
    return gdf[gdf["source"] == "osm-2017"]


def test_geodataframe_in_gauss_kruger_and_read_lines_agree(tmp_path):
    """A lines file declared in EPSG:28408 is read by borderkit.io.read_lines (which lets PROJ choose the
    operation) to the same WGS84 coordinates as the explicit choice, within 1 mm here: PROJ's default for a
    point in Armenia is the same EPSG:15865."""
    from borderkit.io import read_lines

    osm = _osm_lines().head(2).copy()
    t, _, _ = choose_transformation((44, 38, 47, 42))
    to_gk = pyproj.Transformer.from_crs("EPSG:4284", "EPSG:28408", always_xy=True)

    def to_sheet(xy):
        sx, sy = from_wgs84(xy[:, 0], xy[:, 1], t)
        return np.column_stack(to_gk.transform(sx, sy))

    gk = osm.set_geometry(shapely.transform(osm.geometry.values, to_sheet), crs="EPSG:28408")
    path = tmp_path / "gk.gpkg"
    gk.to_file(path, driver="GPKG")
    back = read_lines(path)
    back = back[0] if isinstance(back, tuple) else back
    mine, rep = to_wgs84(gk)
    assert rep.transformation.code == "EPSG:15865"
    a = shapely.get_coordinates(np.asarray(back.geometry.values))
    b = shapely.get_coordinates(np.asarray(mine.geometry.values))
    o = shapely.get_coordinates(np.asarray(osm.geometry.values))
    assert GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2].max() < 1e-3
    assert GEOD.inv(o[:, 0], o[:, 1], b[:, 0], b[:, 1])[2].max() < 1e-3
    assert json.dumps(mine.attrs["datum"])  # the report travels with the frame, JSON-ready


def test_suggest_datum_shift_flags_sk42_coordinates_labelled_wgs84():
    lines = gpd.read_file(LINES)
    ref = lines[lines["source"] != "osm-2017"]
    osm = lines[(lines["source"] == "osm-2017") & (lines["section"] == "mainland")]
    assert len(osm) == 1
    t, _, _ = choose_transformation((44, 38, 47, 42))

    def mislabel(xy):  # what a user gets by digitising an SK-42 sheet and calling it WGS84
        return np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], t))

    wrong = osm.set_geometry(shapely.transform(osm.geometry.values, mislabel), crs="EPSG:4326")
    honest = suggest_datum_shift(osm, osm.set_geometry(osm.geometry.values, crs="EPSG:4326"))
    flagged = suggest_datum_shift(wrong, osm)
    assert flagged["suggest"] and flagged["median_m_if_sk42"] < 1 and flagged["median_m_as_declared"] > 50
    assert not honest["suggest"]
    # against the other (coarser) sources the honest line is not flagged either
    assert not suggest_datum_shift(osm, ref)["suggest"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        json.dumps(flagged)
