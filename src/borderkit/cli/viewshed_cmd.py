"""``borderkit viewshed``: cells visible from a point, as a GeoTIFF (and polygons)."""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import (
    case_option,
    check_output,
    dem_option,
    dem_or_case,
    echo_json,
    heights_options,
    json_option,
    overwrite_option,
)


@click.command()
@click.option("--lat", type=float, required=True, help="Observer latitude (degrees north).")
@click.option("--lon", type=float, required=True, help="Observer longitude (degrees east).")
@click.option("--radius-km", type=click.FloatRange(min=0, min_open=True, max=50), required=True,
              help="Maximum distance (km, at most 50).")
@heights_options
@dem_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="GeoTIFF to write: uint8, 1 visible, 0 not visible, 255 outside the radius or no data; "
                   "every parameter in its tags.")
@click.option("--polygons", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the visible/not-visible areas as polygons (GeoJSON, GPKG … by extension).")
@overwrite_option
@case_option
@json_option
def viewshed(lat: float, lon: float, radius_km: float, observer_height: float, target_height: float,
             refraction: float, no_curvature: bool, dem: str | None, output: Path | None, polygons: Path | None,
             overwrite: bool, case_name: str | None, as_json: bool) -> None:
    """Viewshed from --lat/--lon within --radius-km on the DEM's grid.

    The observer stands at the centre of the DEM cell containing the point;
    heights are metres above the DEM surface; Earth curvature and refraction
    (effective radius R/(1-k)) are applied. Algorithm: GDAL's line-by-line
    "edge" viewshed, with the cells next to the observer always visible.
    """
    from borderkit.terrain.dem import open_dem
    from borderkit.terrain.visibility import viewshed as compute

    if output is None and polygons is None and not as_json:
        raise click.UsageError("nothing to do: give -o OUT.tif, --polygons FILE or --json")
    check_output(output, overwrite)
    check_output(polygons, overwrite)
    vs = compute(
        (lon, lat), dem=open_dem(dem_or_case(dem, case_name)), radius_m=radius_km * 1000.0,
        observer_height_m=observer_height, target_height_m=target_height, refraction=refraction,
        curvature=not no_curvature,
    )
    if output is not None:
        vs.to_geotiff(output, overwrite=overwrite)
    if polygons is not None:
        gdf = vs.polygons()
        if polygons.exists():
            polygons.unlink()
        gdf.to_file(polygons)
    summary = vs.summary()
    if output is not None:
        summary["output"] = str(output)
    if as_json:
        echo_json(summary)
        return
    p = summary["parameters"]
    click.echo(f"visible: {summary['visible_area_km2']:.2f} km² of {summary['analysed_area_km2']:.2f} km² analysed "
               f"within {radius_km:g} km ({summary['visible_cells']} of {summary['analysed_cells']} cells)")
    o = p["observer"]
    click.echo(f"observer {o['lat']:.5f},{o['lon']:.5f} ground {o['ground_m']:.0f} m "
               f"+ {p['observer_height_m']} m; targets + {p['target_height_m']} m; refraction k = "
               f"{p['refraction_coefficient']}")
    click.echo(f"DEM {p['dem']['name']}: {p['dem_resolution_caveat']}")
    if output is not None:
        click.echo(f"wrote {output}")
    if polygons is not None:
        click.echo(f"wrote {polygons}")
