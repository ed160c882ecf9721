"""Georeferencing a synthetic scan of the real sheet J-38-21 (Sev Lake): the datum is exercised both ways.

The test draws, on a white image with a blue collar, the frame of J-38-21 and a known line defined in WGS84.
Drawing converts WGS84 → SK-42 (inverse of the chosen operation) → Gauss–Krüger zone 8 (EPSG:28408) → pixels
through an affine map (20 m per pixel, rotated 0.7°, as a slightly skewed scan). The scan is then
georeferenced by its four frame corners, the red pixels are traced from the output GeoTIFF and converted to
lon/lat through its transform, and they must lie on the original WGS84 line within the pixel size — far
closer than the ~104 m a forgotten datum would give.
"""

from __future__ import annotations

import json

import numpy as np
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from PIL import Image, ImageDraw

from borderkit.cli.main import cli
from borderkit.datum import choose_transformation, from_wgs84
from borderkit.errors import FileFormatError, OutputExistsError, ValidationError
from borderkit.geodesy import nearest_points_on_lines
from borderkit.georef import georeference
from borderkit.sheets import sheet
from conftest import require_module

rasterio = require_module("rasterio")

RES_M = 20.0
ANGLE = np.radians(0.7)
COLLAR = 120
LINE_LON = np.linspace(46.03, 46.47, 300)
LINE_LAT = 39.5 + 0.12 * np.sin((LINE_LON - 46.03) * 9.0)


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    d = tmp_path_factory.mktemp("scan")
    w, s, e, n = sheet("J-38-21")["bounds_sk42"]
    gk = pyproj.Transformer.from_crs("EPSG:4284", "EPSG:28408", always_xy=True)
    ce, cn = gk.transform([w, e, e, w], [n, n, s, s])
    x0, y0 = min(ce), max(cn)

    def to_px(east, north):
        dx, dy = (np.asarray(east) - x0) / RES_M, (y0 - np.asarray(north)) / RES_M
        return (COLLAR + dx * np.cos(ANGLE) - dy * np.sin(ANGLE), COLLAR + dx * np.sin(ANGLE) + dy * np.cos(ANGLE))

    px, py = to_px(ce, cn)
    width, height = int(px.max() + COLLAR), int(py.max() + COLLAR)
    img = Image.new("RGB", (width, height), (40, 60, 200))  # blue collar
    draw = ImageDraw.Draw(img)
    draw.polygon(list(zip(px, py, strict=True)), fill="white", outline="black", width=2)
    t, _, _ = choose_transformation((w, s, e, n))
    slon, slat = from_wgs84(LINE_LON, LINE_LAT, t)  # WGS84 → SK-42
    lx, ly = to_px(*gk.transform(slon, slat))
    draw.line(list(zip(lx, ly, strict=True)), fill=(255, 0, 0), width=2)
    path = d / "J-38-21.png"
    img.save(path)
    return path, list(zip(px.tolist(), py.tolist(), strict=True))


def _trace(tif):
    """Programmatic trace: red, opaque pixels → lon/lat of their centres through the GeoTIFF transform."""
    with rasterio.open(tif) as ds:
        r, g, b, a = ds.read()
        transform = ds.transform
    red = (r.astype(int) - g > 100) & (r.astype(int) - b > 100) & (a > 0)
    rows, cols = np.nonzero(red)
    xs, ys = rasterio.transform.xy(transform, rows, cols)
    return np.asarray(xs), np.asarray(ys)


def test_georeferenced_scan_recovers_the_wgs84_line(scan, tmp_path):
    path, corners = scan
    out = tmp_path / "out.tif"
    res = georeference(path, out, sheet="j 38 21", corners=corners)
    # the synthetic scan is an exact affine image of the Gauss–Krüger plane: the affine model fits the four
    # corners to well under a millimetre on the ground (the TM planes on SK-42 and WGS84 differ by a translation)
    assert res["rms_m"] < 0.01 and res["max_residual_m"] < 0.01
    assert res["datum"]["transformation"]["code"] == "EPSG:15865"
    xs, ys = _trace(out)
    assert len(xs) > 1000
    d = nearest_points_on_lines(xs, ys, shapely.LineString(np.column_stack([LINE_LON, LINE_LAT])))["distance_m"]
    # the drawn line is 2 px (40 m) wide and resampled bilinearly: every traced pixel centre is within
    # ~2.5 output pixels; the median within one — while forgetting the datum would shift it by ~104 m
    assert d.median() < RES_M
    assert d.quantile(0.99) < 2.5 * RES_M
    shift = res["datum"]["shift_m"]
    assert shift > 100 and d.median() < 0.25 * shift


def test_collar_is_cropped_and_tags_are_written(scan, tmp_path):
    path, corners = scan
    out = tmp_path / "out.tif"
    georeference(path, out, sheet="J-38-21", corners=corners)
    info = sheet("J-38-21")
    with rasterio.open(out) as ds:
        tags = ds.tags()
        r, g, b, a = ds.read()
        bounds = ds.bounds
        res_x = ds.res[0]
    c = info["corners_wgs84"]
    assert bounds.left == pytest.approx(min(c["nw"][0], c["sw"][0]), abs=1e-9)
    assert bounds.top == pytest.approx(max(c["nw"][1], c["ne"][1]), abs=1e-9)
    assert bounds.right == pytest.approx(max(c["ne"][0], c["se"][0]), abs=res_x)
    blue = (b.astype(int) - r > 100) & (a > 0)
    assert blue.sum() < 0.001 * a.size  # the collar is gone (at most a resampled edge)
    assert (a > 0).mean() > 0.98  # the frame fills the output grid
    assert tags["BORDERKIT_SHEET"] == "J-38-21" and tags["BORDERKIT_SCALE"] == "1:100000"
    assert "EPSG:4284" in tags["BORDERKIT_DATUM"] and "EPSG:15865" in tags["BORDERKIT_TRANSFORMATION"]
    assert float(tags["BORDERKIT_GCP_RMS_M"]) < 0.01 and "metres" in tags["BORDERKIT_RESIDUALS"]
    assert len(json.loads(tags["BORDERKIT_GCPS"])) == 4


def test_gcps_in_sk42_give_the_same_georeference(scan, tmp_path):
    """The same four frame points given as --gcp in SK-42 lon/lat (EPSG:4284) with polynomial1 give the same
    result as --corners: the GCP path applies the same datum operation."""
    path, corners = scan
    w, s, e, n = sheet("J-38-21")["bounds_sk42"]
    gcps = [(x, y, lon, lat) for (x, y), lon, lat in zip(corners, [w, e, e, w], [n, n, s, s], strict=True)]
    out = tmp_path / "gcp.tif"
    res = georeference(path, out, gcps=gcps, gcp_crs="EPSG:4284", sheet="J-38-21", method="polynomial1")
    assert res["rms_m"] < 0.01
    xs, ys = _trace(out)
    d = nearest_points_on_lines(xs, ys, shapely.LineString(np.column_stack([LINE_LON, LINE_LAT])))["distance_m"]
    assert d.median() < RES_M


def test_residuals_measure_a_misplaced_corner(scan, tmp_path):
    """Move the SE corner pick by 10 px (200 m on the ground): the affine fit must show it. With 4 points and 6
    parameters the misfit spreads over all four corners equally (a least-squares property: the residual
    vectors are ±r of one magnitude), so each residual is a quarter of the displacement: 50 m."""
    path, corners = scan
    moved = [*corners[:2], (corners[2][0] + 10.0, corners[2][1]), corners[3]]
    res = georeference(path, tmp_path / "m.tif", sheet="J-38-21", corners=moved)
    assert res["max_residual_m"] == pytest.approx(50.0, rel=0.05)
    assert res["rms_m"] == pytest.approx(50.0, rel=0.05)


def test_refusals(scan, tmp_path):
    path, corners = scan
    out = tmp_path / "x.tif"
    with pytest.raises(ValidationError, match="outside the"):
        georeference(path, out, sheet="J-38-21", corners=[(-5.0, 0.0), *corners[1:]])
    bad = tmp_path / "not.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(FileFormatError, match="not an image"):
        georeference(bad, out, sheet="J-38-21", corners=corners)
    with pytest.raises(ValidationError, match="at least 6"):
        georeference(path, out, gcps=[(0, 0, 46, 39.6), (10, 0, 46.1, 39.6), (0, 10, 46, 39.5)],
                     method="polynomial2")
    out.write_bytes(b"x")
    with pytest.raises(OutputExistsError):
        georeference(path, out, sheet="J-38-21", corners=corners)
    assert out.read_bytes() == b"x"


def test_cli_scan_georef(scan, tmp_path):
    path, corners = scan
    out = tmp_path / "cli.tif"
    arg = ";".join(f"{x},{y}" for x, y in corners)
    res = CliRunner().invoke(cli, ["scan", "georef", str(path), "--sheet", "J-38-21", "--corners", arg,
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "RMS" in res.output and "m (geodesic, WGS84)" in res.output and "EPSG:15865" in res.output
    res = CliRunner().invoke(cli, ["scan", "georef", str(path), "--corners", arg, "-o", str(out), "--overwrite"])
    assert res.exit_code == 2 and "--sheet" in res.output
    res = CliRunner().invoke(cli, ["scan", "georef", str(path), "--sheet", "J-38-21", "--corners", "1,2;3", "-o",
                                   str(out), "--overwrite"])
    assert res.exit_code == 1 and "four pixel positions" in res.output
