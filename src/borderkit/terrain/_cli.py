"""Options and parsers shared by the terrain commands (peak, los, viewshed, profile, dem)."""

from __future__ import annotations

import math
from typing import Any

import click

DEM_HELP = (
    "DEM to use: a file (GeoTIFF/COG, .hgt, .dt0/.dt1/.dt2, VRT), a directory or glob of tiles (merged), "
    "or an http(s) URL. Default: the bundled case DEM (NOAA GLOBE 30″)."
)


def dem_option(multiple: bool = False) -> Any:
    help_text = DEM_HELP + (" Repeat to compare several DEMs." if multiple else "")
    return click.option("--dem", "dem", multiple=multiple, default=None, metavar="PATH", help=help_text)


def heights_options(fn: Any) -> Any:
    fn = click.option(
        "--no-curvature", is_flag=True, help="Ignore Earth curvature and refraction (flat Earth)."
    )(fn)
    fn = click.option(
        "--refraction", type=float, default=0.13, show_default=True,
        help="Refraction coefficient k; the Earth's effective radius is R/(1-k). GDAL's -cc is 1-k.",
    )(fn)
    fn = click.option(
        "--target-height", "target_height", type=float, default=0.0, show_default=True, metavar="M",
        help="Target height above the ground, metres.",
    )(fn)
    fn = click.option(
        "--observer-height", "observer_height", type=float, default=2.0, show_default=True, metavar="M",
        help="Eye height above the ground, metres.",
    )(fn)
    return fn


def parse_latlon(value: str, name: str) -> tuple[float, float]:
    """``"LAT,LON"`` → ``(lon, lat)``; a usage error (exit 2) when malformed."""
    bits = value.replace(" ", "").split(",")
    try:
        lat, lon = (float(b) for b in bits)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected LAT,LON in degrees, e.g. 39.58,46.18", param_hint=name) from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or not -90 <= lat <= 90 or not -180 <= lon <= 360:
        raise click.BadParameter(f"{value!r}: latitude must be in [-90, 90]; the order is LAT,LON", param_hint=name)
    return lon, lat


def show_progress(ctx: click.Context) -> bool:
    import sys

    verbosity = (ctx.find_root().obj or {}).get("verbosity", 0) if ctx.find_root().obj else 0
    return verbosity >= 0 and sys.stderr.isatty()
