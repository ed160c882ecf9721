"""Run GDAL's ``gdal_viewshed`` program for cross-checks (tests, benchmark, docs).

Not used by the viewshed itself: borderkit computes its own, this module only
lets the tests and the benchmark run the reference implementation on the same
DEM and parameters and compare cell by cell.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from borderkit.errors import OptionalDependencyError

__all__ = [
    "gdal_viewshed_path",
    "gdal_version",
    "run_gdal_viewshed",
    "run_gdal_viewshed_library",
    "library_gdal_version",
    "compare",
    "clear_beyond_radius",
]


def gdal_viewshed_path() -> str | None:
    """Path of the ``gdal_viewshed`` program, or ``None`` when it is not installed."""
    return shutil.which("gdal_viewshed")


def gdal_version() -> tuple[int, int, int] | None:
    """Version of the installed GDAL command-line tools (from ``gdalinfo --version``)."""
    exe = shutil.which("gdalinfo")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"GDAL (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(v) for v in m.groups()) if m else None  # type: ignore[return-value]


def run_gdal_viewshed(
    dem_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    x: float,
    y: float,
    radius_m: float,
    observer_height_m: float,
    target_height_m: float,
    curvature_coefficient: float,
) -> tuple[np.ndarray, Any]:
    """Run ``gdal_viewshed`` with borderkit's value convention (1 / 0 / 255) and read the result.

    ``x``, ``y`` are in the DEM's (projected) CRS. Returns the array and its
    affine transform.
    """
    import rasterio

    exe = gdal_viewshed_path()
    if exe is None:
        raise OptionalDependencyError("gdal_viewshed is not installed; `apt-get install gdal-bin`")
    cmd = [
        exe, "-q",
        "-ox", repr(float(x)), "-oy", repr(float(y)),
        "-oz", repr(float(observer_height_m)), "-tz", repr(float(target_height_m)),
        "-md", repr(float(radius_m)), "-cc", repr(float(curvature_coefficient)),
        "-vv", "1", "-iv", "0", "-ov", "255",
        # absolute paths: a file name starting with "-" must never read as an option
        os.path.abspath(dem_path), os.path.abspath(out_path),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    with rasterio.open(Path(out_path)) as ds:
        return ds.read(1), ds.transform


def compare(mine: np.ndarray, mine_transform: Any, gdal: np.ndarray, gdal_transform: Any) -> dict[str, Any]:
    """Cell-by-cell agreement of two viewsheds on the same grid.

    ``agreement`` is over the cells analysed by both (neither is 255);
    ``agreement_union`` over the cells analysed by either, so a cell one side
    calls out of range and the other side analyses counts as a disagreement.
    Returns counts of agreeing cells and of each kind of disagreement.
    """
    res = abs(mine_transform.a)
    dc = int(round((gdal_transform.c - mine_transform.c) / res))
    dr = int(round((mine_transform.f - gdal_transform.f) / abs(mine_transform.e)))
    h = min(mine.shape[0] - dr, gdal.shape[0])
    w = min(mine.shape[1] - dc, gdal.shape[1])
    a = mine[dr : dr + h, dc : dc + w]
    b = gdal[:h, :w]
    both = (a != 255) & (b != 255)
    either = (a != 255) | (b != 255)
    n = int(both.sum())
    agree = int(((a == b) & both).sum())
    n_union = int(either.sum())
    return {
        "cells_compared": n,
        "agree": agree,
        "agreement": agree / n if n else float("nan"),
        "cells_union": n_union,
        "agreement_union": agree / n_union if n_union else float("nan"),
        "visible_here_not_gdal": int(((a == 1) & (b == 0) & both).sum()),
        "visible_gdal_not_here": int(((a == 0) & (b == 1) & both).sum()),
        "outside_mismatch": int(((a == 255) != (b == 255)).sum()),
    }


def clear_beyond_radius(gdal: np.ndarray, gdal_transform: Any, *, x: float, y: float, radius_m: float) -> int:
    """Set to 255 the cells of a GDAL viewshed that lie beyond ``radius_m``; return how many were not 255.

    GDAL 3.10's ``GDALViewshedGenerate`` sizes its output window to
    ``ceil(radius / cell)`` lines each side of the observer, but a line whose
    observer column is already beyond the radius is returned before its
    out-of-range cells are filled, so the whole line keeps the output buffer's
    initial 0 — the *invisible* value in the usual 1/0/255 convention
    (``processLineLeft``/``processLineRight`` in ``viewshed_executor.cpp``).
    Those cells were never analysed. The distance test is GDAL's own
    (``adjustHeight``): offsets in whole cells from the observer's cell times the
    cell size, ``r² > radius²`` is out of range.
    """
    inv = ~gdal_transform
    col, row = inv * (x, y)
    ox, oy = int(col), int(row)  # GDAL truncates the observer position to a cell
    rows, cols = np.indices(gdal.shape)
    dx = (cols - ox) * gdal_transform.a + (rows - oy) * gdal_transform.b
    dy = (cols - ox) * gdal_transform.d + (rows - oy) * gdal_transform.e
    beyond = dx * dx + dy * dy > radius_m * radius_m
    changed = int((beyond & (gdal != 255)).sum())
    gdal[beyond] = 255
    return changed


def _bundled_libgdal():
    """ctypes handle on the libgdal that rasterio's wheel ships (or links to), or ``None``."""
    import ctypes
    import glob as _glob

    import rasterio

    here = os.path.dirname(rasterio.__file__)
    cands = sorted(_glob.glob(os.path.join(here, os.pardir, "rasterio.libs", "libgdal*.so*")))
    cands += sorted(_glob.glob(os.path.join(here, ".dylibs", "libgdal*.dylib")))
    for c in cands:
        try:
            lib = ctypes.CDLL(os.path.abspath(c))
        except OSError:
            continue
        if hasattr(lib, "GDALViewshedGenerate"):
            return lib
    try:
        import ctypes.util

        name = ctypes.util.find_library("gdal")
        if name:
            lib = ctypes.CDLL(name)
            if hasattr(lib, "GDALViewshedGenerate"):
                return lib
    except OSError:
        pass
    return None


def library_gdal_version() -> str | None:
    """Version of the GDAL library rasterio uses (its viewshed can be called in-process)."""
    import rasterio

    return rasterio.__gdal_version__ if _bundled_libgdal() is not None else None


def run_gdal_viewshed_library(
    dem_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    x: float,
    y: float,
    radius_m: float,
    observer_height_m: float,
    target_height_m: float,
    curvature_coefficient: float,
) -> tuple[np.ndarray, Any]:
    """``GDALViewshedGenerate`` of the GDAL library rasterio ships (a newer GDAL than Debian's CLI).

    Same conventions as :func:`run_gdal_viewshed`; calls the C function through
    ctypes (edge cell mode, normal output).
    """
    import ctypes

    import rasterio

    lib = _bundled_libgdal()
    if lib is None:
        raise OptionalDependencyError("rasterio's GDAL library does not expose GDALViewshedGenerate")
    lib.GDALAllRegister()
    lib.GDALOpen.restype = ctypes.c_void_p
    lib.GDALOpen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    lib.GDALGetRasterBand.restype = ctypes.c_void_p
    lib.GDALGetRasterBand.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.GDALClose.argtypes = [ctypes.c_void_p]
    lib.GDALViewshedGenerate.restype = ctypes.c_void_p
    lib.GDALViewshedGenerate.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
        ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double,
        ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double,
        ctypes.c_int, ctypes.c_double, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
    ]
    src = lib.GDALOpen(os.fsencode(os.fspath(dem_path)), 0)
    if not src:
        raise OSError(f"GDAL cannot open {dem_path}")
    try:
        band = lib.GDALGetRasterBand(src, 1)
        dst = lib.GDALViewshedGenerate(
            band, b"GTiff", os.fsencode(os.fspath(out_path)), None,
            float(x), float(y), float(observer_height_m), float(target_height_m),
            1.0, 0.0, 255.0, -1.0, float(curvature_coefficient),
            2, float(radius_m), None, None, 1, None,
        )
        if not dst:
            raise OSError("GDALViewshedGenerate failed")
        lib.GDALClose(dst)
    finally:
        lib.GDALClose(src)
    with rasterio.open(Path(out_path)) as ds:
        return ds.read(1), ds.transform
