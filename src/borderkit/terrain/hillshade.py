"""Hillshade of a DEM, and an RGBA PNG of it for a Leaflet ``ImageOverlay``.

The slope is computed with Horn's (1981) 3×3 kernel on metric cell sizes: on a
longitude/latitude grid the east-west cell size is taken per row (it shrinks
with the cosine of the latitude), so the relief is not exaggerated east-west.
Illumination follows the usual convention (azimuth clockwise from north,
altitude above the horizon), as ``gdaldem hillshade``.

:func:`hillshade_png` warps the shade to Web Mercator (EPSG:3857, the CRS of a
Leaflet map) so that the image lines up with the base map everywhere inside its
bounds, and encodes it as an RGBA PNG with a small built-in encoder: the same
DEM and options always give the same bytes.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from typing import Any

import numpy as np

from borderkit._projection import WGS84_A, WGS84_E2
from borderkit.errors import ValidationError
from borderkit.terrain.dem import DEM, open_dem

__all__ = ["hillshade", "hillshade_array", "hillshade_png", "encode_png"]


def _cell_sizes(dem: DEM) -> tuple[np.ndarray, np.ndarray]:
    """East-west and north-south cell sizes in metres, per row (shape ``(rows, 1)``)."""
    rows = dem.shape[0]
    if dem.is_lonlat or dem.crs.is_geographic:
        t = dem.transform
        lat = np.radians(t.f + (np.arange(rows) + 0.5) * t.e)
        s2 = np.sin(lat) ** 2
        n = WGS84_A / np.sqrt(1 - WGS84_E2 * s2)
        m = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * s2) ** 1.5
        dx = n * np.cos(lat) * math.radians(abs(t.a))
        dy = m * math.radians(abs(t.e))
        return dx[:, None], dy[:, None]
    ew, ns = dem.resolution_m()
    return np.full((rows, 1), ew), np.full((rows, 1), ns)


def hillshade_array(
    z: np.ndarray,
    *,
    dx_m: np.ndarray | float,
    dy_m: np.ndarray | float,
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> np.ndarray:
    """Hillshade in ``[0, 1]`` of a north-up elevation grid: Horn's (1981) kernel on metric cell sizes.

    The one hillshade of borderkit: :func:`hillshade` calls it with a DEM's cell
    sizes, and a caller holding only an array (the maps) gets the same numbers.

    Parameters
    ----------
    z
        ``(rows, cols)`` heights in metres; row 0 is the northern edge; ``NaN`` for no data.
    dx_m, dy_m
        East-west and north-south cell sizes in metres: scalars, or one value
        per row (shape ``(rows,)`` or ``(rows, 1)``) on a longitude/latitude grid.
    azimuth_deg
        Direction the light comes from, degrees clockwise from north.
    altitude_deg
        Height of the light above the horizon, degrees.
    z_factor
        Vertical exaggeration.

    Returns
    -------
    numpy.ndarray
        ``float64`` shade, ``NaN`` where *z* is ``NaN``; edges use the edge
        cells repeated (as ``gdaldem hillshade -compute_edges``).
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 3 or z.shape[1] < 3:
        raise ValidationError("hillshade needs a DEM of at least 3 × 3 cells")
    dx = np.asarray(dx_m, dtype=np.float64).reshape(-1, 1) if np.ndim(dx_m) else float(dx_m)
    dy = np.asarray(dy_m, dtype=np.float64).reshape(-1, 1) if np.ndim(dy_m) else float(dy_m)
    zp = np.pad(z, 1, mode="edge")
    # Horn's kernel; rows go north→south
    a, b, c = zp[:-2, :-2], zp[:-2, 1:-1], zp[:-2, 2:]
    dd, f = zp[1:-1, :-2], zp[1:-1, 2:]
    g, h, i = zp[2:, :-2], zp[2:, 1:-1], zp[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * dd + g)) / (8.0 * dx) * z_factor  # towards east
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8.0 * dy) * z_factor  # towards south
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    zen = math.radians(90.0 - altitude_deg)
    az = math.radians(360.0 - azimuth_deg + 90.0)
    shade = np.cos(zen) * np.cos(slope) + np.sin(zen) * np.sin(slope) * np.cos(az - aspect)
    shade = np.clip(shade, 0.0, 1.0)
    shade[~np.isfinite(z)] = np.nan
    return shade


def hillshade(
    dem: DEM | str | os.PathLike[str],
    *,
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> np.ndarray:
    """Hillshade in ``[0, 1]`` (``NaN`` where the DEM has no data), on the DEM's grid.

    Parameters
    ----------
    dem
        A :class:`~borderkit.terrain.dem.DEM` or a path (a case's: ``Case.dem``).
    azimuth_deg, altitude_deg, z_factor
        As in :func:`hillshade_array`.
    """
    d = dem if isinstance(dem, DEM) else open_dem(dem)
    dx, dy = _cell_sizes(d)
    return hillshade_array(d.data, dx_m=dx, dy_m=dy, azimuth_deg=azimuth_deg, altitude_deg=altitude_deg,
                           z_factor=z_factor)


def encode_png(image: np.ndarray) -> bytes:
    """Encode a uint8 image as PNG bytes: the one PNG encoder of borderkit.

    Parameters
    ----------
    image
        ``(rows, cols)`` grey, or ``(rows, cols, bands)`` with 1 (grey), 2 (grey
        + alpha), 3 (RGB) or 4 (RGBA) bands, ``uint8``.

    Returns
    -------
    bytes
        A PNG, deterministic: the same array always gives the same bytes (no
        timestamps or text chunks; zlib level 9, no filtering).
    """
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in _PNG_COLOUR_TYPES:
        raise ValidationError("encode_png expects a (rows, cols) or (rows, cols, 1–4 bands) uint8 array")
    rows, cols, nb = arr.shape
    raw = np.concatenate([np.zeros((rows, 1), np.uint8), np.ascontiguousarray(arr).reshape(rows, cols * nb)],
                         axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", cols, rows, 8, _PNG_COLOUR_TYPES[nb], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


_PNG_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
"""Bands → PNG colour type: grey, grey + alpha, RGB, RGBA (PNG specification, section 11.2.2)."""


def hillshade_png(
    dem: DEM | str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
    opacity: float = 0.6,
    web_mercator: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Hillshade as an RGBA PNG plus the bounds Leaflet's ``L.imageOverlay`` needs.

    Parameters
    ----------
    dem
        A DEM or a path (a case's: ``Case.dem``).
    output
        Also write the PNG to this file.
    bbox
        ``(west, south, east, north)`` degrees: shade only this area.
    azimuth_deg, altitude_deg, z_factor
        As in :func:`hillshade`.
    opacity
        Alpha of the shade (0–1); no-data cells are transparent.
    web_mercator
        Warp the image to EPSG:3857 rows (default) so it aligns with a Leaflet
        base map; ``False`` keeps the DEM's grid (fine for small areas).

    Returns
    -------
    dict
        ``png`` (bytes), ``bounds`` ``[[south, west], [north, east]]`` in
        degrees (Leaflet order), ``width``, ``height``, ``crs`` of the image
        rows, and ``attribution`` (the DEM's name).
    """
    d = dem if isinstance(dem, DEM) else open_dem(dem)
    if bbox is not None:
        d = d.subset(bbox)
    shade = hillshade(d, azimuth_deg=azimuth_deg, altitude_deg=altitude_deg, z_factor=z_factor)
    west, south, east, north = d.lonlat_bounds()
    crs_name = d.crs.to_string()
    if web_mercator:
        from rasterio.enums import Resampling
        from rasterio.warp import calculate_default_transform, reproject

        rows, cols = shade.shape
        dst_t, w, h = calculate_default_transform(d.crs, "EPSG:3857", cols, rows, *d.bounds)
        dst = np.full((h, w), np.nan, dtype=np.float32)
        reproject(
            source=shade.astype(np.float32), destination=dst, src_transform=d.transform, src_crs=d.crs,
            src_nodata=np.nan, dst_transform=dst_t, dst_crs="EPSG:3857", dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
        shade = dst
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
        x0, y1 = dst_t.c, dst_t.f
        x1, y0 = dst_t.c + dst_t.a * w, dst_t.f + dst_t.e * h
        west, south = tr.transform(x0, y0)
        east, north = tr.transform(x1, y1)
        crs_name = "EPSG:3857"
    valid = np.isfinite(shade)
    gray = np.where(valid, np.round(np.nan_to_num(shade) * 255.0), 0).astype(np.uint8)
    alpha = np.where(valid, int(round(255 * float(np.clip(opacity, 0.0, 1.0)))), 0).astype(np.uint8)
    rgba = np.dstack([gray, gray, gray, alpha])
    png = encode_png(rgba)
    if output is not None:
        from borderkit.io.atomic import atomic_output

        with atomic_output(output, overwrite=overwrite) as tmp:
            tmp.write_bytes(png)
    return {
        "png": png,
        "bounds": [[float(south), float(west)], [float(north), float(east)]],
        "width": int(rgba.shape[1]),
        "height": int(rgba.shape[0]),
        "crs": crs_name,
        "attribution": d.name,
        "parameters": {"azimuth_deg": azimuth_deg, "altitude_deg": altitude_deg, "z_factor": z_factor,
                       "opacity": opacity, "method": "Horn (1981) slope on metric cell sizes"},
    }
