"""``borderkit profile``: elevation profile along a path (table and figure)."""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import (
    case_option,
    check_output,
    dem_option,
    dem_or_case,
    echo_json,
    json_option,
    overwrite_option,
)


@click.command()
@click.option("--path", "path_text", required=True, metavar='"LAT,LON;LAT,LON;…"',
              help="Vertices of the path, each LAT,LON (latitude first), separated by ';'. "
                   "Vertices are joined by geodesics.")
@dem_option()
@click.option("--spacing-m", type=float, default=None, metavar="M",
              help="Distance between samples (default: half a DEM cell).")
@click.option("--nearest", is_flag=True, help="Nearest-cell heights instead of bilinear.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the table as CSV (distance_m,elevation_m,lat,lon); default: stdout.")
@click.option("--png", "figure", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a figure (.png or .svg) with places and border crossings marked.")
@click.option("--places", "places_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Places to label (default: the places of --case).")
@click.option("--lines", "lines_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Border lines whose crossings are marked (default: the lines of --case).")
@click.option("--no-labels", is_flag=True, help="Do not look for places or border crossings.")
@click.option("--max-offset-m", type=float, default=2000.0, show_default=True,
              help="Label places at most this far from the path.")
@overwrite_option
@case_option
@json_option
def profile(path_text: str, dem: str | None, spacing_m: float | None, nearest: bool, output: Path | None,
            figure: Path | None, places_path: Path | None, lines_path: Path | None, no_labels: bool,
            max_offset_m: float, overwrite: bool, case_name: str | None, as_json: bool) -> None:
    """Heights along --path at geodesic spacing.

    Prints (or writes with -o) a CSV table distance_m,elevation_m,lat,lon;
    --png draws the profile with the places near the path and the points where
    each source's border line crosses it. --json prints the parameters, the
    places and the crossings (and the table when no -o is given).
    """
    from borderkit.terrain.dem import open_dem
    from borderkit.terrain.profile import elevation_profile, parse_latlon_path

    check_output(output, overwrite)
    check_output(figure, overwrite)
    pts = parse_latlon_path(path_text)
    places = lines = None
    if not no_labels:
        places, lines = _labels(places_path, lines_path, case_name)
    prof = elevation_profile(pts, dem=open_dem(dem_or_case(dem, case_name)), spacing_m=spacing_m,
                             method="nearest" if nearest else "bilinear", places=places, lines=lines,
                             max_offset_m=max_offset_m)
    if output is not None:
        prof.to_csv(output)
    if figure is not None:
        import matplotlib.pyplot as plt

        fig = prof.plot(figure)
        plt.close(fig)
    if as_json:
        doc = {
            "parameters": prof.parameters,
            "places": _records(prof.places),
            "crossings": _records(prof.crossings),
        }
        if output is None:
            doc["table"] = _records(prof.table[["distance_m", "elevation_m", "lat", "lon"]])
        echo_json(doc)
        return
    if output is None:
        click.echo(prof.to_csv(), nl=False)
    else:
        click.echo(f"wrote {output} ({len(prof.table)} points, {prof.parameters['length_m'] / 1000:.2f} km)", err=True)
    if figure is not None:
        click.echo(f"wrote {figure}", err=True)


def _labels(places_path: Path | None, lines_path: Path | None, case_name: str | None):
    """Places and lines to label: given files, else those of --case (skipped with a note if unavailable)."""
    from borderkit.io import read_lines, read_places

    places = read_places(places_path) if places_path is not None else None
    lines = read_lines(lines_path) if lines_path is not None else None
    if places_path is None or lines_path is None:
        try:
            from borderkit import datasets

            case = datasets.load(case_name or datasets.DEFAULT_CASE)
        except Exception as exc:  # noqa: BLE001 - labels are optional: say why they are missing
            click.echo(f"note: no places/border labels ({exc})", err=True)
            return places, lines
        places = case.places if places_path is None else places
        lines = case.lines if lines_path is None else lines
    return places, lines


def _records(df) -> list[dict]:
    """Rows as dicts with null where a value is missing (JSON has no NaN; parameters say why)."""
    import math

    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in df.to_dict(orient="records")
    ]
