"""``borderkit peak``: a peak's DEM height vs its reported height, and what it commands."""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import (
    case_dem,
    case_option,
    dem_option,
    echo_json,
    heights_options,
    json_option,
    places_or_case,
)


@click.command()
@click.argument("name")
@dem_option(multiple=True)
@click.option("--places", "places_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Places layer (default: the places of --case).")
@click.option("--radius-m", type=float, default=None,
              help="Search radius for the DEM summit (default 1.5 DEM cells, at least 1000 m).")
@click.option("--commanding", is_flag=True,
              help="Also report which places (airport, towns, villages, crossings, roads) the peak sees.")
@click.option("--max-distance-km", type=float, default=50.0, show_default=True,
              help="With --commanding: ignore places farther than this.")
@heights_options
@case_option
@json_option
def peak(name: str, dem: tuple[str, ...], places_path: Path | None, radius_m: float | None, commanding: bool,
         max_distance_km: float, observer_height: float, target_height: float, refraction: float,
         no_curvature: bool, case_name: str | None, as_json: bool) -> None:
    """Highest DEM cell near peak NAME vs its reported height (with the DEM's resolution and accuracy).

    NAME is a place_id or a name in any language of the places layer. With
    --commanding, lines of sight from the DEM summit to the places of the case
    (per DEM when --dem is repeated). Places and DEM default to those of --case.
    """
    from borderkit.terrain.dem import open_dem
    from borderkit.terrain.peaks import commanding_height, format_commanding_report, peak_check

    if no_curvature:
        raise click.UsageError("--no-curvature is not offered for peak reports; use --refraction")
    places = places_or_case(places_path, case_name)
    dems = [open_dem(d) for d in (dem or [case_dem(case_name)])]
    checks = [peak_check(name, places=places, dem=d, radius_m=radius_m) for d in dems]
    report = None
    if commanding:
        report = commanding_height(
            name, places=places, dems=dems, max_distance_m=max_distance_km * 1000.0,
            observer_height_m=observer_height, target_height_m=target_height, refraction=refraction,
            radius_m=radius_m,
        )
    if as_json:
        doc = dict(checks[0])
        if len(checks) > 1:
            doc["dems"] = checks
        if report is not None:
            import math

            rows = []
            for rec in report.to_dict(orient="records"):
                rows.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in rec.items()})
            doc["commanding"] = {"rows": rows, "parameters": report.attrs["parameters"]}
        echo_json(doc)
        return
    for c in checks:
        d = c["dem"]
        click.echo(f"{c['name']} ({c['lat']:.5f} N, {c['lon']:.5f} E)")
        click.echo(f"  reported:  {c['reported_m']} m — {c['reported_source']}")
        at = c["dem_max_at"]
        click.echo(f"  DEM max:   {c['dem_max_m']:.0f} m at {at['lat']:.5f} N {at['lon']:.5f} E "
                   f"({c['dem_max_distance_m']:.0f} m from the listed point; searched {c['search_radius_m']:.0f} m)")
        if c["difference_m"] is not None:
            click.echo(f"  difference: {c['difference_m']:+.0f} m")
        click.echo(f"  DEM: {d['name']}, cell {d['resolution_ew_m']:.0f} m × {d['resolution_ns_m']:.0f} m, "
                   f"vertical accuracy {d['vertical_accuracy_m']} m")
        click.echo(f"  accuracy: {d['vertical_accuracy_note']}")
        click.echo(f"  why: {c['explanation']}")
        click.echo("")
    if report is not None:
        click.echo(format_commanding_report(report), nl=False)
