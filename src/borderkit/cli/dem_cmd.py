"""``borderkit dem``: fetch a finer DEM for an area, describe a DEM, shade it."""

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
    show_progress,
)


@click.group()
def dem() -> None:
    """DEMs: download (fetch), describe (info), hillshade."""


@dem.command("fetch")
@click.option("--bbox", nargs=4, type=float, required=True, metavar="W S E N",
              help="Area in degrees: west south east north.")
@click.option("--zoom", type=click.IntRange(0, 15), default=12, show_default=True,
              help="Tile zoom (12 ≈ 30 m at 40° N, 11 ≈ 60 m).")
@click.option("--source", type=click.Choice(["terrarium", "geotiff", "opentopography"]), default="terrarium",
              show_default=True, help="AWS Terrain Tiles (Terrarium PNG or GeoTIFF) or OpenTopography (API key in "
                                      "OPENTOPOGRAPHY_API_KEY).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Tile cache (default $BORDERKIT_CACHE/dem or ~/.cache/borderkit/dem).")
@click.option("--url-template", default=None, help="Tile URL with {z}/{x}/{y} (a mirror or a local server).")
@click.option("--crs", type=click.Choice(["EPSG:3857", "EPSG:4326"]), default="EPSG:3857", show_default=True,
              help="Keep the tiles' Web Mercator grid, or warp (bilinear) to longitude/latitude.")
@click.option("--demtype", default="SRTMGL1", show_default=True, help="OpenTopography dataset.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Per-request timeout, seconds.")
@click.option("--retries", type=int, default=3, show_default=True, help="Retries per tile after a failure.")
@click.option("--max-tiles", type=int, default=1024, show_default=True, help="Refuse larger requests.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="GeoTIFF to write (float32 metres, nodata NaN).")
@overwrite_option
@json_option
@click.pass_context
def fetch(ctx: click.Context, bbox: tuple[float, float, float, float], zoom: int, source: str,
          cache_dir: Path | None, url_template: str | None, crs: str, demtype: str, timeout: float, retries: int,
          max_tiles: int, output: Path, overwrite: bool, as_json: bool) -> None:
    """Download a DEM for --bbox and write it as a GeoTIFF (tiles are cached and resumed).

    Exit code 4 when the network cannot be reached.
    """
    from borderkit.terrain.fetch import fetch_dem

    check_output(output, overwrite)
    res = fetch_dem(
        bbox, output=output, zoom=zoom, source=source, cache_dir=cache_dir, url_template=url_template, crs=crs,
        overwrite=overwrite, timeout=timeout, retries=retries, max_tiles=max_tiles, demtype=demtype,
        progress=show_progress(ctx),
    )
    if as_json:
        echo_json(res)
        return
    click.echo(f"wrote {res['output']}: {res['shape'][0]} × {res['shape'][1]} cells, {res['crs']}, "
               f"{res['tiles']} tile(s) ({res['downloaded']} downloaded, {res['cached']} from the cache)")


@dem.command("info")
@dem_option()
@click.option("--lat", type=float, default=None, help="Latitude at which to state the cell size (default: centre).")
@case_option
@json_option
def info(dem: str | None, lat: float | None, case_name: str | None, as_json: bool) -> None:
    """Name, CRS, cell size in metres, vertical accuracy and sources of a DEM."""
    from borderkit.terrain.dem import open_dem

    d = open_dem(dem_or_case(dem, case_name))
    doc = d.info(lat)
    doc["shape"] = list(d.shape)
    doc["bounds_wsen"] = [round(v, 6) for v in d.lonlat_bounds()]
    if as_json:
        echo_json(doc)
        return
    click.echo(f"{doc['name']} — {doc['crs']}, {doc['shape'][0]} × {doc['shape'][1]} cells")
    click.echo(f"cell: {doc['resolution_ew_m']} m (E-W) × {doc['resolution_ns_m']} m (N-S)")
    click.echo(f"vertical accuracy: {doc['vertical_accuracy_m']} m — {doc['vertical_accuracy_note']}")
    click.echo(f"bounds (W S E N): {doc['bounds_wsen']}")


@dem.command("hillshade")
@dem_option()
@click.option("--bbox", nargs=4, type=float, default=None, metavar="W S E N", help="Only this area (degrees).")
@click.option("--azimuth", type=float, default=315.0, show_default=True, help="Light from (degrees from north).")
@click.option("--altitude", type=float, default=45.0, show_default=True, help="Light altitude (degrees).")
@click.option("--opacity", type=float, default=0.6, show_default=True, help="Alpha of the shade (0–1).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="RGBA PNG to write (Web Mercator rows, for a Leaflet ImageOverlay).")
@overwrite_option
@case_option
@json_option
def hillshade(dem: str | None, bbox: tuple[float, float, float, float] | None, azimuth: float, altitude: float,
              opacity: float, output: Path, overwrite: bool, case_name: str | None, as_json: bool) -> None:
    """Hillshade PNG and its Leaflet bounds [[south, west], [north, east]]."""
    from borderkit.terrain.hillshade import hillshade_png

    check_output(output, overwrite)
    res = hillshade_png(dem_or_case(dem, case_name), output=output, bbox=bbox, azimuth_deg=azimuth,
                        altitude_deg=altitude, opacity=opacity, overwrite=overwrite)
    res.pop("png")
    res["output"] = str(output)
    if as_json:
        echo_json(res)
        return
    click.echo(f"wrote {output} ({res['width']} × {res['height']}); Leaflet bounds {res['bounds']}")
