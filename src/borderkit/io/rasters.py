"""Opening users' rasters: one place that turns GDAL's failures into one-line errors.

A truncated GeoTIFF, a text file named ``.tif`` or a file whose tiles are missing fails
in rasterio with a long GDAL message; every reader of a user's raster (map DATA, the
DEM-or-scan test of :mod:`borderkit.io.kinds`) goes through :func:`open_raster`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from borderkit.errors import FileFormatError, OptionalDependencyError

__all__ = ["open_raster"]


@contextlib.contextmanager
def open_raster(path: str | os.PathLike[str]) -> Iterator[Any]:
    """``rasterio.open`` whose failures (truncated file, not a raster) are one-line ``FileFormatError`` errors."""
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError("reading GeoTIFFs needs rasterio: pip install 'borderkit[terrain]'") from exc
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
