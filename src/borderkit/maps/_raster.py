"""Raster overlays for the maps: old map scans and PNG re-gridding to Web Mercator rows (internal).

Leaflet draws an ``ImageOverlay`` by stretching the image linearly between its
corner coordinates *in Web Mercator*. An image on a regular longitude/latitude
grid (EPSG:4326) would be misplaced in the north–south direction (by up to
~0.6 % of its height at 40° N), so every overlay is re-gridded to rows equally
spaced in Mercator y before it is embedded (:func:`to_mercator_rows`). Columns
need no change: x is linear in longitude in both.

The hillshade of a DEM is the terrain engine's
(:func:`borderkit.terrain.hillshade.hillshade_png`), and every PNG is encoded by
its :func:`~borderkit.terrain.hillshade.encode_png`: one hillshade and one PNG
encoder in borderkit.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from borderkit.errors import OptionalDependencyError, ValidationError
from borderkit.io.rasters import open_raster

__all__ = [
    "open_raster",
    "png_bytes",
    "to_mercator_rows",
    "hillshade_from_png",
    "scan_from_geotiff",
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
    """Encode a uint8 array (``L``, ``LA``, ``RGB`` or ``RGBA`` by band count) as PNG, deterministically.

    :func:`borderkit.terrain.hillshade.encode_png`, the one PNG encoder of borderkit.
    """
    from borderkit.terrain.hillshade import encode_png

    return encode_png(np.ascontiguousarray(np.asarray(arr, dtype=np.uint8)))


def _need_rasterio() -> Any:
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError("reading GeoTIFFs needs rasterio: pip install 'borderkit[terrain]'") from exc
    return rasterio


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
