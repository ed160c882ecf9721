"""borderkit's viewshed against GDAL's, cell by cell, on the same DEM and parameters.

GDAL's viewshed only gives meaningful results on a projected grid, so the real
DTED0 tiles are warped to UTM 38N (EPSG:32638, 500 m cells, bilinear) and both
implementations run on that copy with the same observer cell, heights,
radius and curvature (``-cc 0.87`` = 1 − k for k = 0.13, sphere of radius
a = 6 378 137 m, GDAL's convention).

Two references:

* the ``gdal_viewshed`` program (Debian ``gdal-bin``; 3.6 here). Up to GDAL 3.9
  it compares the N/S/diagonal neighbours of the observer with the observer's
  ground height and raises them to it (OSGeo/gdal#10205), which blinds an
  observer on a summit. borderkit keeps those eight cells visible; its
  ``gdal36_neighbours=True`` mode reproduces the old behaviour and must agree
  cell for cell, which shows that every other difference is nil.
* ``GDALViewshedGenerate`` of the GDAL library inside rasterio's wheel (3.10+,
  where #10205 is fixed), called through ctypes: borderkit's default must agree.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import IN_CI, require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip
from pyproj import Transformer  # noqa: E402

from borderkit.terrain import _gdal  # noqa: E402
from borderkit.terrain.dem import open_dem  # noqa: E402
from borderkit.terrain.peaks import dem_max_near  # noqa: E402
from borderkit.terrain.visibility import viewshed  # noqa: E402

RADIUS = 30_000.0
PARAMS = dict(observer_height_m=2.0, target_height_m=0.0)
OBSERVERS = {
    "goris": (46.342, 39.511),
    "sisian": (46.027, 39.522),
    "kapan": (46.406, 39.208),
}


@pytest.fixture(scope="module")
def utm(tmp_path_factory):
    d = open_dem(shared_file("dted0-caucasus/e046/n39.dt0").parent.parent, bbox=(45.5, 38.8, 46.9, 40.0))
    u = d.reproject("EPSG:32638", resolution=500.0)
    path = u.to_geotiff(tmp_path_factory.mktemp("gdal") / "dted0_utm38n_500m.tif")
    summit = dem_max_near(d, 46.18, 39.58222, 1500.0)
    observers = {**OBSERVERS, "mets_ishkhanasar_summit": (summit["lon"], summit["lat"])}
    return u, path, observers


def _xy(lon, lat):
    return Transformer.from_crs(4326, 32638, always_xy=True).transform(lon, lat)


def _require_cli():
    if _gdal.gdal_viewshed_path() is None:
        msg = "gdal_viewshed not installed (apt-get install gdal-bin)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def _ours(u, lonlat, **kw):
    return viewshed(lonlat, dem=u, radius_m=RADIUS, earth_radius_m=6378137.0, refraction=0.13, **PARAMS, **kw)


def test_agreement_with_gdal_viewshed_program(utm, tmp_path):
    _require_cli()
    u, path, observers = utm
    version = _gdal.gdal_version() or (0, 0, 0)
    report = {}
    for name, (lon, lat) in observers.items():
        x, y = _xy(lon, lat)
        g, gt = _gdal.run_gdal_viewshed(
            path, tmp_path / f"{name}.tif", x=x, y=y, radius_m=RADIUS, curvature_coefficient=0.87, **PARAMS
        )
        ours = _ours(u, (lon, lat))
        compat = _ours(u, (lon, lat), gdal36_neighbours=True)
        a = _gdal.compare(ours.array, ours.transform, g, gt)
        c = _gdal.compare(compat.array, compat.transform, g, gt)
        report[name] = (a, c)
        assert a["cells_compared"] > 10_000
        if name != "mets_ishkhanasar_summit":
            assert a["agreement"] >= 0.98, (name, a)
        if version < (3, 10, 0):
            # same algorithm: identical once GDAL's neighbour rule is reproduced
            assert c["agreement"] == 1.0, (name, c)
            # and the only differences are cells GDAL <= 3.9 hides behind its raised neighbours
            assert a["visible_gdal_not_here"] == 0, (name, a)
        else:
            assert a["agreement"] >= 0.98, (name, a)
    print({k: (round(v[0]["agreement"], 4), round(v[1]["agreement"], 4)) for k, v in report.items()})


def test_agreement_with_gdal_library_in_rasterio(utm, tmp_path):
    if _gdal.library_gdal_version() is None:
        msg = "rasterio's GDAL library does not expose GDALViewshedGenerate"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    u, path, observers = utm
    for name, (lon, lat) in observers.items():
        x, y = _xy(lon, lat)
        g, gt = _gdal.run_gdal_viewshed_library(
            path, tmp_path / f"lib_{name}.tif", x=x, y=y, radius_m=RADIUS, curvature_coefficient=0.87, **PARAMS
        )
        ours = _ours(u, (lon, lat))
        a = _gdal.compare(ours.array, ours.transform, g, gt)
        assert a["cells_compared"] > 10_000
        assert a["agreement"] >= 0.98, (name, a)


def test_summit_is_where_gdal36_goes_blind(utm, tmp_path):
    """From the summit, GDAL 3.6's neighbour rule hides most of the slopes below: quantify it."""
    u, _, observers = utm
    lon, lat = observers["mets_ishkhanasar_summit"]
    ours = _ours(u, (lon, lat))
    compat = _ours(u, (lon, lat), gdal36_neighbours=True)
    valid = ours.array != 255
    assert (compat.array[valid] <= ours.array[valid]).all()  # the old rule only ever hides cells
    lost = ((ours.array == 1) & (compat.array == 0)).sum() / valid.sum()
    assert lost > 0.05


def test_compare_helper_counts():
    from affine import Affine

    a = np.array([[1, 0, 255], [1, 1, 0]], np.uint8)
    b = np.array([[1, 1, 255], [0, 1, 255]], np.uint8)
    t = Affine(1, 0, 0, 0, -1, 0)
    r = _gdal.compare(a, t, b, t)
    assert r == {
        "cells_compared": 4,
        "agree": 2,
        "agreement": 0.5,
        "visible_here_not_gdal": 1,
        "visible_gdal_not_here": 1,
        "outside_mismatch": 1,
    }


def test_gdal_version_parsing():
    if shutil.which("gdalinfo") is None:
        if IN_CI:
            pytest.fail("gdalinfo not installed (apt-get install gdal-bin)")
        pytest.skip("gdalinfo not installed")
    v = _gdal.gdal_version()
    assert v is not None and v[0] >= 3
