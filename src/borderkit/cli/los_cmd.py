"""``borderkit los``: line of sight between two points, with curvature and refraction."""

from __future__ import annotations

import click

from borderkit.cli.options import (
    case_option,
    dem_option,
    dem_or_case,
    echo_json,
    heights_options,
    json_option,
    parse_latlon,
)


@click.command()
@click.option("--from", "from_", required=True, metavar="LAT,LON", help="Observer, latitude then longitude (degrees).")
@click.option("--to", "to", required=True, metavar="LAT,LON", help="Target, latitude then longitude (degrees).")
@heights_options
@click.option("--spacing-m", type=float, default=None, metavar="M",
              help="Distance between terrain samples (default: half a DEM cell).")
@click.option("--nearest", is_flag=True, help="Nearest-cell heights instead of bilinear.")
@dem_option()
@case_option
@json_option
def los(from_: str, to: str, observer_height: float, target_height: float, refraction: float, no_curvature: bool,
        spacing_m: float | None, nearest: bool, dem: str | None, case_name: str | None, as_json: bool) -> None:
    """Is the point --to visible from --from?

    Both points are LAT,LON (latitude first; borderkit works in lon/lat
    internally). Prints whether the target is visible and, if not, the first
    obstruction with its clearance (negative: how far the terrain rises above
    the sight line). Heights are metres above the DEM surface; the Earth's
    effective radius is R/(1-k).
    """
    from borderkit.terrain.dem import open_dem
    from borderkit.terrain.visibility import line_of_sight

    obs = parse_latlon(from_, "--from")
    tgt = parse_latlon(to, "--to")
    res = line_of_sight(
        obs, tgt, dem=open_dem(dem_or_case(dem, case_name)), observer_height_m=observer_height,
        target_height_m=target_height, refraction=refraction, curvature=not no_curvature, spacing_m=spacing_m,
        method="nearest" if nearest else "bilinear",
    )
    if as_json:
        echo_json(res)
        return
    p = res["parameters"]
    click.echo(f"{'VISIBLE' if res['visible'] else 'NOT VISIBLE'}: {res['distance_m'] / 1000:.2f} km, "
               f"azimuth {res['azimuth_deg']:.1f}°, elevation angle {res['elevation_angle_deg']:.3f}°")
    click.echo(f"observer {res['observer']['lat']:.5f},{res['observer']['lon']:.5f} ground "
               f"{res['observer']['ground_m']} m, eye {res['observer']['eye_m']} m; target ground "
               f"{res['target']['ground_m']} m + {p['target_height_m']} m")
    if res["obstruction"]:
        o = res["obstruction"]
        click.echo(f"first obstruction at {o['distance_m'] / 1000:.2f} km ({o['lat']:.5f},{o['lon']:.5f}): "
                   f"terrain {-o['clearance_m']:.1f} m above the sight line")
    mc = res["min_clearance"]
    if mc["clearance_m"] is not None:
        click.echo(f"tightest point: {mc['clearance_m']:+.1f} m at {mc['distance_m'] / 1000:.2f} km")
    click.echo(f"DEM {p['dem']['name']} (cell {p['dem']['resolution_ew_m']:.0f} × {p['dem']['resolution_ns_m']:.0f} m, "
               f"vertical accuracy {p['dem']['vertical_accuracy_m']} m); refraction k = {p['refraction_coefficient']}, "
               f"R_eff = {p['effective_earth_radius_m']} m")
