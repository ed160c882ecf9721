"""Options shared by several commands, declared once."""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from borderkit.registry import DEFAULT_CASE  # not borderkit.datasets: that imports cases (pandas)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON to stdout.")

dataset_argument = click.argument("name", required=False, default=DEFAULT_CASE, metavar="[NAME|DIR]")
"""A case by name (bundled or user) or folder; default the bundled case."""

overwrite_option = click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")


def output_option(help_text: str = "Write to FILE instead of stdout.") -> Any:
    return click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), help=help_text)


def check_output(path: Path | None, overwrite: bool) -> None:
    """Refuse to replace an existing output file unless --overwrite is given."""
    if path is not None and path.exists() and not overwrite:
        raise click.UsageError(f"{path} exists; pass --overwrite to replace it")


JSON_SCHEMA_VERSION = 1
"""Version of the JSON the CLI prints (the ``"schema_version"`` key of every object). Raised only when a
key is removed or changes meaning; new keys may appear without a new version."""


def with_schema_version(obj: Any) -> Any:
    """*obj* with ``"schema_version"`` first: a dict gets the key (a key of its own wins), each dict of a
    top-level list gets it; anything else is returned unchanged (a list of names has no object to carry it)."""
    if isinstance(obj, dict):
        return {"schema_version": JSON_SCHEMA_VERSION, **obj}
    if isinstance(obj, list):
        return [with_schema_version(o) if isinstance(o, dict) else o for o in obj]
    return obj


def echo_json(obj: Any) -> None:
    """Print JSON in the project's stable form (sorted keys, no NaN, ``"schema_version"`` in every object).

    The one place the CLI prints a JSON document; JSON Lines go through :func:`echo_json_lines`.
    """
    click.echo(json.dumps(with_schema_version(obj), indent=2, sort_keys=True, ensure_ascii=False,
                          allow_nan=False, default=_default))


def echo_json_lines(frame: Any, *, stream: Any = None) -> None:
    """Print a table as JSON Lines: one compact object per row, in row order, ``"schema_version"`` first.

    Cells as JSON values: NaN/None/NaT → null, datetimes as ISO 8601, lists and dicts (an incidents
    ``sources`` column) as JSON arrays/objects, text as UTF-8 (not escaped). Written with pandas'
    C serializer in blocks of rows (no Python loop per row).

    Raises
    ------
    borderkit.errors.ValidationError
        The table already has a ``schema_version`` column (it would be overwritten).
    """
    import pandas as pd

    from borderkit.errors import ValidationError

    if "schema_version" in frame.columns:
        raise ValidationError("the input has a column 'schema_version', which the JSON output uses; rename it")
    out = stream if stream is not None else sys.stdout
    block = 50_000
    for start in range(0, len(frame), block):  # a loop over blocks, not rows: bounds the text held in memory
        part = pd.DataFrame(frame.iloc[start:start + block])
        part.insert(0, "schema_version", JSON_SCHEMA_VERSION)
        text = part.to_json(orient="records", lines=True, force_ascii=False, date_format="iso", date_unit="s",
                            default_handler=str)
        out.write(text if text.endswith("\n") else text + "\n")
    out.flush()


def _default(o: Any) -> Any:

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


def _language(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from borderkit.schema import language_tag

    tag = language_tag(value)
    if tag is None:
        raise click.BadParameter(f"{value!r} is not a BCP-47 language tag (e.g. en, hy, az, ru, ka, uz-Cyrl)",
                                 param_hint="--lang")
    return tag


lang_option = click.option(
    "--lang", default="en", show_default=True, metavar="TAG", callback=_language,
    help="Language of place names shown (BCP-47: en, hy, az, ru, ka, ky, tg, uz-Cyrl …); a place without a "
         "name in it shows its name in the next language that has one. Popups list every name.",
)
"""``--lang TAG`` of every command that shows place names (checked as a BCP-47 tag)."""

case_option = click.option(
    "--case", "case_name", default=None, metavar="NAME|DIR",
    help=f"Case whose data are used: a bundled or user case by name, or a case folder "
         f"(default {DEFAULT_CASE}; `borderkit case list` shows them). Files given with --dem, --places, "
         "--lines replace the case's.",
)
"""``--case NAME|DIR`` of every command that uses case data: a bundled or user case name, or a case folder
(resolved by :func:`borderkit.registry.find_case`); ``None`` means the default case."""


def case_region(case_name: str | None) -> dict[str, Any]:
    """``region``/``projected_crs`` for the readers of users' files, from the case file of ``--case``.

    ``case_name`` None means the default case (the bundled one). A case file without a
    region gives ``None`` (the readers then run only the checks that need no region).
    """
    from borderkit.cases import case_config

    config = case_config(case_name or DEFAULT_CASE)
    return {"region": config.region, "projected_crs": config.projected_crs or None}


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
    """The DEM of a case, by name or folder (its registry layer ``dem``, i.e. ``Case.dem``), sha256-checked.

    Raises
    ------
    DatasetNotFoundError
        Unknown case, or the case has no DEM.
    RegistryError
        A file of the case is missing or differs from the registry.
    """
    from borderkit.errors import DatasetNotFoundError, RegistryError
    from borderkit.registry import find_case, verify

    name = case_name or DEFAULT_CASE
    try:
        loc = find_case(name)
        paths = verify(loc.name, root=loc.registry_root)
    except (DatasetNotFoundError, RegistryError) as exc:
        raise type(exc)(f"{exc.args[0] if exc.args else exc}; or pass a DEM with --dem PATH") from exc
    if "dem" not in paths:
        raise DatasetNotFoundError(f"case {name!r} has no DEM in its registry.json; pass a DEM with --dem PATH")
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
    """``"LAT,LON"`` → ``(lon, lat)`` (:func:`borderkit.geodesy.parse_latlon`); a usage error (exit 2)
    when malformed."""
    from borderkit.errors import ValidationError
    from borderkit.geodesy import parse_latlon as parse

    try:
        return parse(value)
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


def show_progress(ctx: click.Context) -> bool:
    """Whether to draw progress bars: not with ``-q``, and only on a terminal."""
    root = ctx.find_root().obj or {}
    return root.get("verbosity", 0) >= 0 and sys.stderr.isatty()


# --------------------------------------------------------------------------------------------
# --lines FILE: the user's own line, with its metadata given once
# --------------------------------------------------------------------------------------------
_LINE_OPTION_DEFAULTS = {
    # option destination -> LINES column it fills where the file has no value
    "line_claimant": "claimant",
    "line_left": "left_party",
    "line_right": "right_party",
    "line_source_name": "source",
    "line_source_date": "source_date",
    "line_accuracy_m": "scale_or_accuracy_m",
}


def line_source_options(fn: Any) -> Any:
    """``--lines FILE`` and its metadata defaults; the command receives ``user_lines``.

    ``user_lines`` is the file read with :func:`borderkit.io.read_lines` (validated; the
    defaults fill the columns the file lacks or leaves empty), or None without ``--lines``.
    Metadata options without ``--lines`` are a usage error (exit 2).
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        path = kwargs.pop("lines_path")
        given = {col: kwargs.pop(dest) for dest, col in _LINE_OPTION_DEFAULTS.items()}
        kwargs["user_lines"] = read_line_source(path, **given)
        return fn(*args, **kwargs)

    options = [
        click.option("--lines", "lines_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     default=None, metavar="FILE",
                     help="Your own line(s) (any lines file the readers take: GeoJSON, KML, GPX, GPKG, SHP, "
                          "GeoParquet, CSV with WKT), checked as one more line source; with --lines and no "
                          "--case, only your lines. Metadata the file lacks comes from the options below."),
        click.option("--claimant", "line_claimant", default=None, metavar="CODE",
                     help="--lines: who claims the line (ISO alpha-3, codes joined by ';', or 'cartographic')."),
        click.option("--left", "line_left", default=None, metavar="CODE",
                     help="--lines: party on the left of the line's direction of travel (ISO alpha-3)."),
        click.option("--right", "line_right", default=None, metavar="CODE",
                     help="--lines: party on the right of the line's direction of travel (ISO alpha-3)."),
        click.option("--source-name", "line_source_name", default=None, metavar="NAME",
                     help="--lines: name of your line source in the results (default: the file's name)."),
        click.option("--source-date", "line_source_date", default=None, metavar="DATE",
                     help="--lines: date the line depicts, ISO 8601 (e.g. 2021 or 2021-05-12)."),
        click.option("--accuracy-m", "line_accuracy_m", type=float, default=None, metavar="M",
                     help="--lines: horizontal accuracy of the line, metres (> 0); decides when a point "
                          "is too close to call."),
    ]
    for opt in reversed(options):
        wrapper = opt(wrapper)
    return wrapper


def read_line_source(path: Path | None, **given: Any) -> geopandas.GeoDataFrame | None:
    """The ``--lines`` file read with its metadata defaults (see :func:`line_source_options`).

    Defaults beyond the options: ``source`` and ``name`` the file's name (stem), ``source_version``,
    ``licence`` ``"not stated"`` (the user's own file), ``line_id`` generated. The accuracy and
    the parties are never guessed: a file without them needs ``--accuracy-m``, ``--left``,
    ``--right`` (and ``--claimant``).
    """
    if path is None:
        used = [f"--{opt}" for opt, col in (("claimant", "claimant"), ("left", "left_party"),
                                              ("right", "right_party"), ("source-name", "source"),
                                              ("source-date", "source_date"), ("accuracy-m", "scale_or_accuracy_m"))
                if given.get(col) is not None]
        if used:
            raise click.UsageError(f"{', '.join(used)} describe the line of --lines FILE; give --lines")
        return None
    from borderkit.io import read_lines

    defaults: dict[str, Any] = {"name": path.stem, "source": path.stem, "source_version": "not stated",
                                "licence": "not stated", "attribution": ""}
    defaults.update({k: v.strip() if isinstance(v, str) else v for k, v in given.items() if v is not None})
    with line_option_hints():
        return read_lines(path, defaults=defaults)


@contextlib.contextmanager
def line_option_hints() -> Iterator[None]:
    """Add "— or give it once with --left" to a reader's error about line metadata columns."""
    from borderkit.errors import ValidationError

    try:
        yield
    except ValidationError as exc:
        opts = list(dict.fromkeys(_LINE_HINTS[p.column] for p in exc.problems if p.column in _LINE_HINTS))
        if not opts:
            raise
        hint = f" — or give {'it' if len(opts) == 1 else 'them'} once with {', '.join(opts)}"
        raise type(exc)(f"{exc}{hint}", problems=exc.problems, path=exc.path) from exc


_LINE_HINTS = {
    "claimant": "--claimant",
    "left_party": "--left",
    "right_party": "--right",
    "source": "--source-name",
    "source_date": "--source-date",
    "scale_or_accuracy_m": "--accuracy-m",
}


def load_case(case_name: str | None, user_lines: Any = None) -> Any:
    """The case of ``--case`` (default: the bundled case), with the user's ``--lines`` as one more source.

    A user source whose name the case already has is a usage error (rename it with ``--source-name``).
    """
    import dataclasses

    import pandas as pd

    from borderkit import datasets

    case = datasets.load(case_name or DEFAULT_CASE)
    if user_lines is None:
        return case
    clash = sorted(set(user_lines["source"]) & set(case.lines["source"]))
    if clash:
        raise click.UsageError(f"--lines: source name(s) {clash} are already line sources of the case; "
                               "name yours with --source-name")
    return dataclasses.replace(case, lines=pd.concat([case.lines, user_lines], ignore_index=True))
