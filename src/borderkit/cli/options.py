"""Options shared by several commands, declared once."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from borderkit.datasets import DEFAULT_CASE

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON to stdout.")

dataset_argument = click.argument("name", required=False, default=DEFAULT_CASE, metavar="[NAME]")

overwrite_option = click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")


def output_option(help_text: str = "Write to FILE instead of stdout.") -> Any:
    return click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), help=help_text)


def check_output(path: Path | None, overwrite: bool) -> None:
    """Refuse to replace an existing output file unless --overwrite is given."""
    if path is not None and path.exists() and not overwrite:
        raise click.UsageError(f"{path} exists; pass --overwrite to replace it")


def echo_json(obj: Any) -> None:
    """Print JSON in the project's stable form (sorted keys, no NaN)."""
    click.echo(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False, default=_default))


def _default(o: Any) -> Any:
    import math

    if hasattr(o, "item"):  # numpy scalars
        o = o.item()
        if isinstance(o, float) and not math.isfinite(o):
            return None
        return o
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"cannot encode {type(o).__name__} as JSON")


# --------------------------------------------------------------------------------------------
# terrain commands (peak, los, viewshed, profile, dem): DEM, heights, the case, LAT,LON points
# --------------------------------------------------------------------------------------------
DEM_HELP = (
    "DEM to use: a file (GeoTIFF/COG, .hgt, .dt0/.dt1/.dt2, VRT), a directory or glob of tiles (merged), "
    "or an http(s) URL. Default: the DEM of --case (for the bundled case NOAA GLOBE 30″)."
)


def dem_option(multiple: bool = False) -> Any:
    """``--dem PATH`` (repeatable with *multiple*); ``None``/empty means the DEM of ``--case``."""
    help_text = DEM_HELP + (" Repeat to compare several DEMs." if multiple else "")
    return click.option("--dem", "dem", multiple=multiple, default=None, metavar="PATH", help=help_text)


case_option = click.option(
    "--case", "case_name", default=None, metavar="NAME",
    help=f"Bundled case whose DEM (and places, lines) are used when --dem (--places, --lines) is not given "
         f"(default {DEFAULT_CASE}; list them with `borderkit datasets list`).",
)
"""``--case NAME`` of the terrain commands: a registered case name (``borderkit.datasets.names()``)."""


def heights_options(fn: Any) -> Any:
    """``--observer-height``, ``--target-height``, ``--refraction``, ``--no-curvature``."""
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


def case_dem(case_name: str | None) -> Path:
    """The DEM of a registered case (its registry layer ``dem``, i.e. ``Case.dem``), sha256-checked.

    Raises
    ------
    DatasetNotFoundError
        Unknown case, or the case has no DEM.
    RegistryError
        A file of the case is missing or differs from the registry.
    """
    from borderkit.errors import DatasetNotFoundError, RegistryError
    from borderkit.registry import verify

    name = case_name or DEFAULT_CASE
    try:
        paths = verify(name)
    except (DatasetNotFoundError, RegistryError) as exc:
        raise type(exc)(f"{exc.args[0] if exc.args else exc}; or pass a DEM with --dem PATH") from exc
    if "dem" not in paths:
        raise DatasetNotFoundError(f"case {name!r} has no DEM in registry.json; pass a DEM with --dem PATH")
    return paths["dem"]


def dem_or_case(dem: str | None, case_name: str | None) -> str | Path:
    """``--dem`` when given, else the DEM of ``--case`` (default: the bundled case)."""
    return dem if dem else case_dem(case_name)


def places_or_case(places_path: Path | None, case_name: str | None) -> geopandas.GeoDataFrame:
    """The places of ``--places FILE`` (read and validated), else those of ``--case`` (default: the bundled case)."""
    if places_path is not None:
        from borderkit.io import read_places

        return read_places(places_path)
    from borderkit import datasets

    return datasets.load(case_name or DEFAULT_CASE).places


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
    """Whether to draw progress bars: not with ``-q``, and only on a terminal."""
    root = ctx.find_root().obj or {}
    return root.get("verbosity", 0) >= 0 and sys.stderr.isatty()
