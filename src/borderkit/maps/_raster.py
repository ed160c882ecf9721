"""Raster overlays for the maps: hillshade from a DEM, old map scans, PNG re-gridding (internal).

Leaflet draws an ``ImageOverlay`` by stretching the image linearly between its
corner coordinates *in Web Mercator*. An image on a regular longitude/latitude
grid (EPSG:4326) would be misplaced in the north–south direction (by up to
~0.6 % of its height at 40° N), so every overlay is re-gridded to rows equally
spaced in Mercator y before it is embedded (:func:`to_mercator_rows`). Columns
need no change: x is linear in longitude in both.

The hillshade computed here is for display only (a fallback when the terrain
engine's own hillshade is not given). Cell sizes are metres on the WGS84
ellipsoid (``pyproj.Geod``) per row, never degrees.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from borderkit.errors import FileFormatError, OptionalDependencyError, ValidationError

__all__ = [
    "open_raster",
    "png_bytes",
    "to_mercator_rows",
    "hillshade_array",
    "hillshade_from_dem",
    "hillshade_from_png",
    "scan_from_geotiff",
    "is_dem",
]

MAX_SIDE = 2048
"""Longest side (pixels) of an embedded overlay; larger rasters are decimated."""


def _merc_y(lat: np.ndarray | float) -> np.ndarray:
    lat = np.clip(np.asarray(lat, dtype=float), -85.0511, 85.0511)
    return np.log(np.tan(np.pi / 4.0 + np.radians(lat) / 2.0))


def _merc_lat(y: np.ndarray) -> np.ndarray:
    return np.degrees(2.0 * np.arctan(np.exp(y)) - np.pi / 2.0)


def to_mercator_rows(arr: np.ndarray, *, south: float, north: float, height: int | None = None) -> np.ndarray:
    """Resample the rows of a north-up lon/lat-grid image to rows equally spaced in Mercator y.

    Parameters
    ----------
    arr
        ``(rows, cols)`` or ``(rows, cols, bands)``; row 0 is the northern edge.
    south, north
        Latitudes (degrees) of the outer edges of the first and last rows.
    height
        Rows of the output (default: same as the input).

    Returns
    -------
    numpy.ndarray
        Same dtype as *arr*; nearest-row sampling for integer images (no new
        values), linear for floats.
    """
    rows = arr.shape[0]
    height = height or rows
    y_n, y_s = float(_merc_y(north)), float(_merc_y(south))
    centres_y = y_n - (np.arange(height) + 0.5) * (y_n - y_s) / height
    lat = _merc_lat(centres_y)
    src = (north - lat) / (north - south) * rows - 0.5  # fractional source row
    if np.issubdtype(arr.dtype, np.floating):
        i0 = np.clip(np.floor(src).astype(int), 0, rows - 1)
        i1 = np.clip(i0 + 1, 0, rows - 1)
        w = np.clip(src - i0, 0.0, 1.0)
        shape = (-1,) + (1,) * (arr.ndim - 1)
        return (arr[i0] * (1 - w).reshape(shape) + arr[i1] * w.reshape(shape)).astype(arr.dtype)
    idx = np.clip(np.rint(src).astype(int), 0, rows - 1)
    return arr[idx]


def png_bytes(arr: np.ndarray) -> bytes:
    """Encode a uint8 array (``L``, ``LA``, ``RGB`` or ``RGBA`` by band count) as PNG, deterministically."""
    from PIL import Image

    arr = np.ascontiguousarray(arr.astype(np.uint8))
    if arr.ndim == 2:
        mode = "L"
    else:
        mode = {2: "LA", 3: "RGB", 4: "RGBA"}[arr.shape[2]]
    img = Image.fromarray(arr, mode=mode) if mode in ("L",) else Image.fromarray(arr)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def hillshade_array(
    z: np.ndarray,
    *,
    dx_m: np.ndarray | float,
    dy_m: float,
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> np.ndarray:
    """Hillshade (0–1) of a north-up elevation grid with cell sizes in metres.

    ``dx_m`` may vary per row (a lon/lat grid); NaN elevations give NaN.
    """
    z = np.asarray(z, dtype=float) * z_factor
    dx = np.broadcast_to(np.asarray(dx_m, dtype=float).reshape(-1, 1), z.shape)
    gy, gx = np.gradient(z)
    dzdx = gx / dx
    dzdy = -gy / dy_m  # rows go south; make +y north
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(-dzdx, -dzdy)  # direction of steepest descent, clockwise from north
    az = math.radians(azimuth_deg)
    alt = math.radians(altitude_deg)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def _need_rasterio() -> Any:
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError("reading GeoTIFFs needs rasterio: pip install 'borderkit[terrain]'") from exc
    return rasterio


@contextlib.contextmanager
def open_raster(path: str | Path) -> Iterator[Any]:
    """``rasterio.open`` whose failures (truncated file, not a raster) are one-line ``FileFormatError`` errors."""
    rasterio = _need_rasterio()
    from rasterio.errors import RasterioError

    try:
        ds = rasterio.open(path)
    except RasterioError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise FileFormatError(
            f"{path}: not a readable GeoTIFF ({reason}); check that the file is complete "
            "(e.g. with gdalinfo) or download it again"
        ) from exc
    try:
        with ds:
            yield ds
    except RasterioError as exc:  # e.g. a tile missing from a truncated file is found only when read
        reason = " ".join(str(exc).split())[:200]
        raise FileFormatError(f"{path}: cannot read the raster's cells ({reason}); the file is damaged") from exc


def _decimate(arr: np.ndarray, step: int) -> np.ndarray:
    return arr[::step, ::step] if step > 1 else arr


def hillshade_from_dem(path: str | Path, *, max_side: int = 1400) -> tuple[bytes, tuple[float, float, float, float]]:
    """Hillshade PNG (grey + alpha, Mercator rows) and ``(west, south, east, north)`` of a DEM GeoTIFF.

    The DEM is read in its own grid if that is EPSG:4326, else warped to
    EPSG:4326 first. Cell sizes for the slope are geodesic metres per row.
    """
    from borderkit.geodesy import GEOD as geod

    with open_raster(path) as ds:
        if ds.crs is None:
            raise ValidationError(f"{path}: the DEM has no CRS; declare it (e.g. gdal_edit.py -a_srs EPSG:4326)")
        if ds.crs.to_epsg() == 4326:
            step = max(1, math.ceil(max(ds.width, ds.height) / max_side))
            z = ds.read(1, masked=True, out_shape=(math.ceil(ds.height / step), math.ceil(ds.width / step)))
            z = z.astype(float).filled(np.nan)
            west, south, east, north = ds.bounds
        else:
            from affine import Affine
            from rasterio.warp import Resampling, calculate_default_transform, reproject

            transform, width, height = calculate_default_transform(ds.crs, "EPSG:4326", ds.width, ds.height, *ds.bounds)
            step = max(1, math.ceil(max(width, height) / max_side))
            width, height = math.ceil(width / step), math.ceil(height / step)
            transform = transform @ Affine.scale(step, step)
            z = np.full((height, width), np.nan)
            reproject(
                ds.read(1, masked=True).astype(float).filled(np.nan),
                z,
                src_transform=ds.transform,
                src_crs=ds.crs,
                dst_transform=transform,
                dst_crs="EPSG:4326",
                src_nodata=np.nan,
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
            west, north = transform.c, transform.f
            east, south = west + transform.a * width, north + transform.e * height
    if not np.isfinite(z).any():
        raise ValidationError(
            f"{path}: the DEM has no elevation values in its area (every cell is nodata); give a DEM with data"
        )
    rows, cols = z.shape
    lat_c = north - (np.arange(rows) + 0.5) * (north - south) / rows
    dlon = (east - west) / cols
    _, _, dx = geod.inv(np.full(rows, west), lat_c, np.full(rows, west + dlon), lat_c)
    _, _, dy = geod.inv(
        west, (north + south) / 2 - (north - south) / rows / 2, west, (north + south) / 2 + (north - south) / rows / 2
    )
    shade = hillshade_array(z, dx_m=np.asarray(dx), dy_m=float(dy))
    return _shade_png(shade, south=south, north=north), (float(west), float(south), float(east), float(north))


def _shade_png(shade: np.ndarray, *, south: float, north: float) -> bytes:
    valid = np.isfinite(shade)
    grey = np.where(valid, 40.0 + 215.0 * np.nan_to_num(shade), 0.0)
    la = np.stack([np.rint(grey), np.where(valid, 255, 0)], axis=-1).astype(np.uint8)
    return png_bytes(to_mercator_rows(la, south=south, north=north))


def hillshade_from_png(
    png: bytes | str | Path, *, bounds: tuple[float, float, float, float], crs: str = "EPSG:4326"
) -> bytes:
    """Re-grid a hillshade PNG made on a lon/lat grid to Mercator rows (no-op for EPSG:3857 input)."""
    from PIL import Image

    data = Path(png).read_bytes() if isinstance(png, (str, Path)) else bytes(png)
    if crs.upper() in ("EPSG:3857", "EPSG:900913"):
        return data
    if crs.upper() not in ("EPSG:4326", "OGC:CRS84"):
        raise ValidationError(f"hillshade PNG in {crs}: give it in EPSG:4326 or EPSG:3857")
    img = Image.open(io.BytesIO(data))
    img.load()
    arr = np.asarray(img.convert("RGBA" if img.mode in ("P", "RGB", "RGBA") else "LA"))
    west, south, east, north = bounds
    return png_bytes(to_mercator_rows(arr, south=south, north=north))


def is_dem(path: str | Path) -> bool:
    """Tell a DEM from a scanned map: one band that is not 8-bit, without a colour map, is a DEM.

    Scans are RGB(A), palette (colour-mapped) or single-band 8-bit images.
    """
    with open_raster(path) as ds:
        if ds.count != 1:
            return False
        if ds.dtypes[0] == "uint8":
            return False
        try:
            ds.colormap(1)
            return False
        except ValueError:
            return True


def scan_from_geotiff(path: str | Path, *, max_side: int = MAX_SIDE) -> tuple[bytes, tuple[float, float, float, float]]:
    """A georeferenced scan as an RGBA PNG warped to Web Mercator, and its ``(west, south, east, north)``.

    Transparent where the scan has no data (nodata value, mask or alpha band).
    """
    from affine import Affine
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with open_raster(path) as ds:
        if ds.crs is None:
            raise ValidationError(
                f"{path}: the scan is not georeferenced (no CRS); georeference it first "
                "(e.g. with QGIS or gdal_translate -a_srs)"
            )
        if ds.count >= 3:
            rgb = ds.read([1, 2, 3])
            alpha = ds.read(4) if ds.count >= 4 else ds.dataset_mask()
        else:
            band = ds.read(1)
            try:
                cmap = ds.colormap(1)
                lut = np.zeros((256, 4), dtype=np.uint8)
                for k, v in cmap.items():
                    if 0 <= k < 256:
                        lut[k] = v
                rgba = lut[band.astype(np.int64).clip(0, 255)]
                rgb = np.moveaxis(rgba[..., :3], -1, 0)
                alpha = np.minimum(rgba[..., 3], ds.dataset_mask())
            except ValueError:
                b = band.astype(float)
                if band.dtype != np.uint8:
                    lo, hi = np.nanpercentile(b, [1, 99])
                    b = np.clip((b - lo) / max(hi - lo, 1e-9) * 255.0, 0, 255)
                rgb = np.repeat(b[None].astype(np.uint8), 3, axis=0)
                alpha = ds.dataset_mask()
        src = np.concatenate([rgb.astype(np.uint8), alpha[None].astype(np.uint8)], axis=0)
        dst_crs = "EPSG:3857"
        transform, width, height = calculate_default_transform(ds.crs, dst_crs, ds.width, ds.height, *ds.bounds)
        step = max(1, math.ceil(max(width, height) / max_side))
        width, height = math.ceil(width / step), math.ceil(height / step)
        transform = transform @ Affine.scale(step, step)
        dst = np.zeros((4, height, width), dtype=np.uint8)
        for i in range(4):
            reproject(
                src[i],
                dst[i],
                src_transform=ds.transform,
                src_crs=ds.crs,
                dst_transform=transform,
                dst_crs=dst_crs,
                resampling=Resampling.nearest if i == 3 else Resampling.bilinear,
                src_nodata=None,
                dst_nodata=0,
            )
        left, top = transform.c, transform.f
        right, bottom = left + transform.a * width, top + transform.e * height
        from pyproj import Transformer

        to_ll = Transformer.from_crs(dst_crs, "EPSG:4326", always_xy=True)  # Mercator is separable: corners suffice
        west, south = to_ll.transform(left, bottom)
        east, north = to_ll.transform(right, top)
    return png_bytes(np.moveaxis(dst, 0, -1)), (float(west), float(south), float(east), float(north))
