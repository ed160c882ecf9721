"""Hillshade values by hand, deterministic RGBA PNG and Leaflet bounds."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from conftest import require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip
from affine import Affine  # noqa: E402
from rasterio.crs import CRS  # noqa: E402

from borderkit.terrain.dem import DEM, open_dem  # noqa: E402
from borderkit.terrain.hillshade import encode_png, hillshade, hillshade_png  # noqa: E402


def utm_dem(z, res=30.0):
    return DEM(
        data=np.asarray(z, np.float32),
        transform=Affine(res, 0, 500000, 0, -res, 4400000),
        crs=CRS.from_epsg(32638),
        name="t",
    )


def test_flat_and_planes_by_hand():
    flat = hillshade(utm_dem(np.zeros((5, 5))), azimuth_deg=315, altitude_deg=45)
    np.testing.assert_allclose(flat, math.cos(math.radians(45)), atol=1e-12)
    # a plane rising to the east with slope 1 (45°): faces west; light from the west (270°) at 45° hits it square on
    cols = np.arange(7) * 30.0
    east = utm_dem(np.tile(cols, (7, 1)))
    np.testing.assert_allclose(hillshade(east, azimuth_deg=270, altitude_deg=45)[2:-2, 2:-2], 1.0, atol=1e-12)
    # light from the east grazes it at 90° from the normal: 0
    np.testing.assert_allclose(hillshade(east, azimuth_deg=90, altitude_deg=45)[2:-2, 2:-2], 0.0, atol=1e-12)


def test_geographic_cell_size_uses_metres():
    # a plane rising 1 m per metre eastward on a lon/lat grid must also read slope 45°
    res = 0.001
    lat0 = 39.5
    m_per_deg = 111_320 * math.cos(math.radians(lat0))
    lon = np.arange(9) * res
    z = np.tile(lon * m_per_deg, (9, 1))
    d = DEM(
        data=z.astype(np.float64),
        transform=Affine(res, 0, 46, 0, -res, lat0 + 0.0045),
        crs=CRS.from_epsg(4326),
        name="g",
    )
    hs = hillshade(d, azimuth_deg=270, altitude_deg=45)
    np.testing.assert_allclose(hs[3:-3, 3:-3], 1.0, atol=5e-3)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # reading the PNG back
def test_png_is_deterministic_rgba_with_bounds(tmp_path):
    d = open_dem(shared_file("dted0-caucasus/e046/n39.dt0"))
    a = hillshade_png(d, bbox=(46.0, 39.3, 46.5, 39.8), output=tmp_path / "a.png")
    b = hillshade_png(d, bbox=(46.0, 39.3, 46.5, 39.8))
    assert a["png"] == b["png"] == (tmp_path / "a.png").read_bytes()
    assert a["png"][:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.open(tmp_path / "a.png") as ds:
        assert ds.count == 4 and (ds.width, ds.height) == (a["width"], a["height"])
    (s, w), (n, e) = a["bounds"]
    assert s < 39.3 + 0.02 and n > 39.8 - 0.02 and w < 46.0 + 0.02 and e > 46.5 - 0.02 and a["crs"] == "EPSG:3857"


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_encode_png_round_trip(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 256, (7, 11, 4), dtype=np.uint8)
    p = tmp_path / "x.png"
    p.write_bytes(encode_png(rgba))
    with rasterio.open(p) as ds:
        np.testing.assert_array_equal(np.moveaxis(ds.read(), 0, 2), rgba)
    assert zlib.crc32(encode_png(rgba)) == zlib.crc32(encode_png(rgba))


def test_hillshade_array_on_a_plane_matches_the_dot_product():
    """z = 0.5·x (rising east): shade = n·L with n the unit normal (-0.5, 0, 1)/|…| and L the unit light vector."""
    from borderkit.terrain.hillshade import hillshade_array

    dx = 30.0
    z = np.tile(0.5 * dx * np.arange(8.0), (6, 1))
    for az, alt in ((90.0, 45.0), (315.0, 45.0), (180.0, 30.0)):
        n = np.array([-0.5, 0.0, 1.0]) / np.sqrt(1.25)
        a, h = np.radians(az), np.radians(alt)
        light = np.array([np.sin(a) * np.cos(h), np.cos(a) * np.cos(h), np.sin(h)])  # x east, y north
        expected = max(0.0, float(n @ light))
        got = hillshade_array(z, dx_m=np.full(6, dx), dy_m=dx, azimuth_deg=az, altitude_deg=alt)
        np.testing.assert_allclose(got[1:-1, 1:-1], expected, atol=1e-12)


@pytest.mark.parametrize("bands", [0, 1, 2, 3, 4])
def test_encode_png_decodes_with_pillow(bands):
    """The one PNG encoder: grey, grey+alpha, RGB and RGBA decode (Pillow) to the same array."""
    Image = require_module("PIL.Image").Image
    import io

    from borderkit.terrain.hillshade import encode_png

    rng = np.random.default_rng(bands)
    shape = (7, 5) if bands == 0 else (7, 5, bands)
    arr = rng.integers(0, 256, size=shape, dtype=np.uint8)
    img = Image.open(io.BytesIO(encode_png(arr)))
    back = np.asarray(img)
    np.testing.assert_array_equal(back, arr[:, :, 0] if bands == 1 else arr)
    assert encode_png(arr) == encode_png(arr.copy())
