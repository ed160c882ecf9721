"""DEM input (GeoTIFF, DTED, SRTM .hgt, VRT, tiles merged), sampling, resolution and accuracy."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from conftest import IN_CI, require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip
from affine import Affine  # noqa: E402
from pyproj import Geod  # noqa: E402

from borderkit.errors import CRSError, DatasetNotFoundError, FileFormatError, RegistryError, ValidationError  # noqa: E402
from borderkit.terrain.dem import DEM, gaussian_radius_m, open_dem  # noqa: E402

GEOD = Geod(ellps="WGS84")


def write_tif(path, data, transform, crs="EPSG:4326", nodata=None, tags=None, dtype=None):
    data = np.asarray(data)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=dtype or data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as ds:
        ds.write(data.astype(dtype or data.dtype), 1)
        if tags:
            ds.update_tags(**tags)
    return path


def dted_dir():
    return shared_file("dted0-caucasus/e046/n39.dt0").parent.parent


# --- sampling on a synthetic plane: hand-computable --------------------------------------------
@pytest.fixture
def plane(tmp_path):
    # z = 100 + 10*col + 1000*row on a 0.01° grid; cell centres at (45.005 + 0.01 c, 39.995 - 0.01 r)
    rows, cols = np.indices((20, 30))
    z = 100.0 + 10.0 * cols + 1000.0 * rows
    t = Affine(0.01, 0, 45.0, 0, -0.01, 40.0)
    return open_dem(write_tif(tmp_path / "plane.tif", z.astype("float32"), t))


def test_nearest_returns_the_cell_value(plane):
    # a point inside cell (row 3, col 7), off-centre
    z = plane.sample(45.0 + 0.01 * 7 + 0.004, 40.0 - 0.01 * 3 - 0.007, method="nearest")
    assert z == pytest.approx(100 + 70 + 3000)


def test_bilinear_is_exact_on_a_plane(plane):
    lon = np.array([45.0234, 45.1111, 45.2049])
    lat = np.array([39.9512, 39.8765, 39.8433])
    col = (lon - 45.0) / 0.01 - 0.5
    row = (40.0 - lat) / 0.01 - 0.5
    expected = 100 + 10 * col + 1000 * row
    np.testing.assert_allclose(plane.sample(lon, lat, method="bilinear"), expected, rtol=0, atol=1e-6)


def test_outside_is_nan_and_vectorised(plane):
    z = plane.sample([44.0, 45.1, 47.0], [39.9, 39.9, 39.9])
    assert np.isnan(z[0]) and np.isfinite(z[1]) and np.isnan(z[2])


def test_unknown_method(plane):
    with pytest.raises(ValidationError, match="nearest"):
        plane.sample(45.1, 39.9, method="cubic")


def test_nodata_becomes_nan(tmp_path):
    z = np.full((5, 5), 200, dtype="int16")
    z[2, 2] = -32768
    d = open_dem(write_tif(tmp_path / "nd.tif", z, Affine(0.01, 0, 45, 0, -0.01, 40), nodata=-32768))
    assert np.isnan(d.data[2, 2]) and d.data[0, 0] == 200
    assert np.isnan(d.sample(45.025, 39.975, method="bilinear"))  # needs the nodata neighbour


def test_resolution_in_metres_is_geodesic(plane):
    ew, ns = plane.resolution_m(39.5)
    _, _, ew_ref = GEOD.inv(45.1 - 0.005, 39.5, 45.1 + 0.005, 39.5)
    _, _, ns_ref = GEOD.inv(45.1, 39.495, 45.1, 39.505)
    assert ew == pytest.approx(ew_ref, rel=1e-9) and ns == pytest.approx(ns_ref, rel=1e-9)
    info = plane.info(39.5)
    assert info["resolution_m"] == pytest.approx(round(max(ew, ns), 1))


def test_projected_dem_is_sampled_through_pyproj(tmp_path):
    from pyproj import Transformer

    z = np.arange(100, dtype="float32").reshape(10, 10)
    t = Affine(1000, 0, 600000, 0, -1000, 4400000)
    d = open_dem(write_tif(tmp_path / "utm.tif", z, t, crs="EPSG:32638"))
    lon, lat = Transformer.from_crs(32638, 4326, always_xy=True).transform(603500.0, 4394500.0)
    assert d.sample(lon, lat, method="nearest") == pytest.approx(z[5, 3])
    assert d.resolution_m() == (1000.0, 1000.0)


def test_gaussian_radius():
    # sqrt(M N): the meridional radius M and prime-vertical radius N of WGS84, by hand
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    for lat in (0.0, 39.5, 60.0):
        s2 = math.sin(math.radians(lat)) ** 2
        m = a * (1 - e2) / (1 - e2 * s2) ** 1.5
        n = a / math.sqrt(1 - e2 * s2)
        assert m <= gaussian_radius_m(lat) <= n
        assert gaussian_radius_m(lat) == pytest.approx(math.sqrt(m * n), rel=1e-12)


# --- formats ----------------------------------------------------------------------------------
def test_dted_single_tile_and_header_accuracy():
    d = open_dem(shared_file("dted0-caucasus/e046/n39.dt0"))
    assert d.kind == "DTED0" and d.shape == (121, 121)
    assert d.vertical_accuracy_m == 45.0 and "DTED header" in d.vertical_accuracy_note
    # posts are cell centres (pixel-is-point): the SW post is at exactly 46 E 39 N
    assert d.sample(46.0, 39.0, method="nearest") == d.data[-1, 0]


def test_dted_tiles_merge_seamlessly():
    d = open_dem(dted_dir())
    assert len(d.sources) == 6 and d.shape == (361, 241)
    assert not np.isnan(d.data).any()
    # the shared edge post at 46 E equals the value in either single tile
    w = open_dem(shared_file("dted0-caucasus/e045/n39.dt0"))
    e = open_dem(shared_file("dted0-caucasus/e046/n39.dt0"))
    for lat in (39.2, 39.5, 39.9):
        v = d.sample(46.0, lat, method="nearest")
        assert v == w.sample(46.0, lat, method="nearest") == e.sample(46.0, lat, method="nearest")
    # bilinear across the tile edge is continuous
    lats = np.full(5, 39.55)
    lons = 46.0 + np.array([-0.006, -0.002, 0.0, 0.002, 0.006])
    z = d.sample(lons, lats)
    assert np.all(np.isfinite(z)) and np.max(np.abs(np.diff(z))) < 200


def test_dted_spot_checks_from_provenance():
    d = open_dem(dted_dir(), bbox=(45.8, 39.1, 46.5, 39.8))
    vals = d.sample([46.175, 46.342, 46.027, 46.406], [39.583, 39.511, 39.522, 39.208], method="nearest")
    np.testing.assert_array_equal(vals, [3495, 1376, 1613, 784])


def test_bbox_reads_only_the_area():
    d = open_dem(dted_dir(), bbox=(46.1, 39.5, 46.3, 39.7))
    w, s, e, n = d.bounds
    assert w <= 46.1 and s <= 39.5 and e >= 46.3 and n >= 39.7
    assert d.shape[0] < 40 and d.shape[1] < 40


def test_srtm_hgt_is_read(tmp_path):
    # a real SRTM-format file (GDAL's SRTMHGT driver), 1201 x 1201 posts, 3 arc-seconds
    n = 1201
    z = (np.add.outer(np.arange(n), np.arange(n)) % 500).astype("int16")
    src = write_tif(tmp_path / "src.tif", z, Affine(1 / 1200, 0, 46 - 0.5 / 1200, 0, -1 / 1200, 40 + 0.5 / 1200))
    with rasterio.open(src) as ds:
        profile = ds.profile
    hgt = tmp_path / "N39E046.hgt"
    with rasterio.open(src) as ds:
        arr = ds.read(1)
    profile.update(driver="SRTMHGT")
    drop = ("blockxsize", "blockysize", "tiled", "interleave", "compress")
    with rasterio.open(hgt, "w", **{k: v for k, v in profile.items() if k not in drop}) as out:
        out.write(arr, 1)
    d = open_dem(hgt)
    assert d.kind == "SRTM" and d.vertical_accuracy_m == 16.0
    assert d.sample(46.0, 40.0, method="nearest") == z[0, 0]
    assert d.sample(46.5, 39.5, method="nearest") == z[600, 600]


def test_vrt_and_glob(tmp_path):
    z = np.arange(16, dtype="float32").reshape(4, 4)
    write_tif(tmp_path / "a.tif", z, Affine(0.1, 0, 45, 0, -0.1, 40))
    write_tif(tmp_path / "b.tif", z + 100, Affine(0.1, 0, 45.4, 0, -0.1, 40))
    vrt = tmp_path / "ab.vrt"
    vrt.write_text(
        """<VRTDataset rasterXSize="8" rasterYSize="4">
  <SRS>EPSG:4326</SRS><GeoTransform>45, 0.1, 0, 40, 0, -0.1</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <SimpleSource><SourceFilename relativeToVRT="1">a.tif</SourceFilename><SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="4" ySize="4"/><DstRect xOff="0" yOff="0" xSize="4" ySize="4"/></SimpleSource>
    <SimpleSource><SourceFilename relativeToVRT="1">b.tif</SourceFilename><SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="4" ySize="4"/><DstRect xOff="4" yOff="0" xSize="4" ySize="4"/></SimpleSource>
  </VRTRasterBand>
</VRTDataset>"""
    )
    v = open_dem(vrt)
    g = open_dem(str(tmp_path / "[ab].tif"))
    assert v.shape == g.shape == (4, 8)
    np.testing.assert_array_equal(v.data, g.data)
    assert v.sample(45.65, 39.85, method="nearest") == 106.0  # centre of row 1, column 6


def test_errors_name_the_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        open_dem(tmp_path / "missing.tif")
    (tmp_path / "junk.tif").write_text("not a raster")
    with pytest.raises(FileFormatError, match="cannot read"):
        open_dem(tmp_path / "junk.tif")
    write_tif(tmp_path / "nocrs.tif", np.zeros((3, 3), "float32"), Affine(1, 0, 0, 0, -1, 3), crs=None)
    with pytest.raises(CRSError, match="no CRS"):
        open_dem(tmp_path / "nocrs.tif")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError, match="holds no DEM"):
        open_dem(tmp_path / "empty")


def test_mixed_resolution_tiles_refused(tmp_path):
    write_tif(tmp_path / "a.tif", np.zeros((4, 4), "float32"), Affine(0.1, 0, 45, 0, -0.1, 40))
    write_tif(tmp_path / "b.tif", np.zeros((4, 4), "float32"), Affine(0.2, 0, 45.4, 0, -0.2, 40))
    with pytest.raises(FileFormatError, match="cell size"):
        open_dem([tmp_path / "a.tif", tmp_path / "b.tif"])


def test_accuracy_and_name_from_tags(tmp_path):
    p = write_tif(
        tmp_path / "t.tif",
        np.zeros((3, 3), "float32"),
        Affine(0.1, 0, 45, 0, -0.1, 40),
        tags={"BORDERKIT_VERTICAL_ACCURACY_M": "7.5", "BORDERKIT_DEM_NAME": "my dem"},
    )
    d = open_dem(p)
    assert d.vertical_accuracy_m == 7.5 and d.name == "my dem"
    assert open_dem(p, vertical_accuracy_m=3).vertical_accuracy_m == 3


def test_reproject_and_write_round_trip(tmp_path):
    d = open_dem(dted_dir(), bbox=(46.0, 39.4, 46.4, 39.7))
    u = d.reproject("EPSG:32638", resolution=500.0)
    p = u.to_geotiff(tmp_path / "u.tif")
    back = open_dem(p)
    assert back.crs.to_epsg() == 32638 and back.vertical_accuracy_m == d.vertical_accuracy_m
    # a smooth interior point keeps its height within the DEM's own variability
    z0 = d.sample(46.2, 39.55)
    assert abs(back.sample(46.2, 39.55) - z0) < 60


def test_bundled_case_dem_is_globe():
    from borderkit import registry

    try:
        path = registry.verify(registry.DEFAULT_CASE)["dem"]  # the case's DEM (Case.dem); terrain knows no case
    except (DatasetNotFoundError, RegistryError):
        if IN_CI:
            raise
        pytest.skip("bundled DEM not built in this checkout")
    d = open_dem(path)
    assert d.kind == "GLOBE" and d.vertical_accuracy_m == 30.0
    assert "Key to Geophysical Records Documentation No. 34" in d.vertical_accuracy_note
    ew, ns = d.resolution_m(39.58)
    assert 700 < ew < 730 and 920 < ns < 930


def test_importing_terrain_is_light():
    code = (
        "import sys, borderkit.terrain, borderkit.cli.peak_cmd, borderkit.cli.los_cmd, borderkit.cli.viewshed_cmd,"
        " borderkit.cli.profile_cmd, borderkit.cli.dem_cmd;"
        "print(','.join(m for m in ('rasterio','numba','matplotlib','geopandas','pyproj') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_dem_object_is_plain(plane):
    assert isinstance(plane, DEM)
    sub = plane.subset((45.05, 39.85, 45.15, 39.95))
    assert sub.shape[0] < plane.shape[0] and math.isclose(sub.res[0], 0.01)
    with pytest.raises(ValidationError, match="does not overlap"):
        plane.subset((10, 10, 11, 11))


def test_no_dem_is_one_clear_error():
    """terrain has no default DEM (no case knowledge): None names what to pass instead."""
    with pytest.raises(ValidationError, match="no DEM given") as info:
        open_dem(None)
    assert "\n" not in str(info.value) and "--case" in str(info.value)
