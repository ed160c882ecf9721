"""Terrain: DEMs, heights, elevation profiles, line of sight, viewshed, peaks, hillshade, DEM download.

Everything takes and returns longitude/latitude on WGS84 (``always_xy``),
heights in metres above mean sea level of the named DEM, distances as
geodesics on WGS84 in metres; every result states its units and method.
Importing this package is cheap: rasterio, pyproj, numba and matplotlib are
imported by the functions that need them.

Modules
-------
:mod:`~borderkit.terrain.dem`
    :func:`open_dem` (GeoTIFF/COG, .hgt, DTED, VRT, URLs; tiles merged),
    :class:`DEM` (``sample`` nearest/bilinear, ``resolution_m``, ``info``).
:mod:`~borderkit.terrain.profile`
    :func:`elevation_profile`, :func:`plot_profile`, :func:`geodesic_path`.
:mod:`~borderkit.terrain.visibility`
    :func:`line_of_sight`, :func:`lines_of_sight`, :func:`viewshed`.
:mod:`~borderkit.terrain.peaks`
    :func:`peak_check`, :func:`commanding_height`.
:mod:`~borderkit.terrain.hillshade`
    :func:`hillshade`, :func:`hillshade_array` (Horn on an array), :func:`hillshade_png`,
    :func:`encode_png` (the one PNG encoder).
:mod:`~borderkit.terrain.fetch`
    :func:`fetch_dem` (AWS Terrain Tiles, OpenTopography) with a tile cache (pooch).

Terrain knows no case: a case's DEM and places (``Case.dem``, ``Case.places``)
are passed in as parameters. ``_kernels`` (numba/numpy scan kernels) and
``_gdal`` (the GDAL comparison the tests use) are private submodules used only
inside this package.

See ``docs/terrain.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "DEM": "dem",
    "open_dem": "dem",
    "sample_elevation": "dem",
    "sample_grid": "dem",
    "geodesic_path": "profile",
    "elevation_profile": "profile",
    "plot_profile": "profile",
    "Profile": "profile",
    "line_of_sight": "visibility",
    "lines_of_sight": "visibility",
    "viewshed": "visibility",
    "Viewshed": "visibility",
    "horizon_distance_m": "visibility",
    "peak_check": "peaks",
    "commanding_height": "peaks",
    "format_commanding_report": "peaks",
    "hillshade": "hillshade",
    "hillshade_png": "hillshade",
    "hillshade_array": "hillshade",
    "encode_png": "hillshade",
    "fetch_dem": "fetch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'borderkit.terrain' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"borderkit.terrain.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
