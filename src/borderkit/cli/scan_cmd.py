"""``borderkit scan``: georeference a scanned map sheet."""

from __future__ import annotations

from pathlib import Path

import click

from borderkit.cli.options import check_output, echo_json, json_option, overwrite_option


@click.group()
def scan() -> None:
    """Scanned map sheets: georeference (georef)."""


@scan.command("georef")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", "sheet_name", default=None, metavar="NAME",
              help="Sheet name (e.g. J-38-21): the ground positions of --corners, and the frame the collar is cut to.")
@click.option("--corners", default=None, metavar="x,y;x,y;x,y;x,y",
              help="Pixel positions of the sheet frame's NW, NE, SE and SW corners (needs --sheet).")
@click.option("--gcp", "gcps", multiple=True, metavar="x,y,lon,lat",
              help="A control point: pixel column, row and its longitude, latitude in --gcp-crs (repeat).")
@click.option("--gcp-crs", default="EPSG:4326", show_default=True,
              help="CRS of the --gcp ground coordinates (EPSG:4284 for points read off an SK-42 sheet).")
@click.option("--method", type=click.Choice(["polynomial1", "polynomial2", "tps"]), default="polynomial1",
              show_default=True, help="Fit: affine, second-order polynomial (≥ 6 points) or thin plate spline.")
@click.option("--transformation", default=None, metavar="OP",
              help="SK-42 → WGS84 operation (EPSG code, name or PROJ pipeline); default chosen by area and accuracy.")
@click.option("--mem-limit", type=click.IntRange(16, 4096), default=64, show_default=True,
              help="GDAL warp memory, MB (the scan is read block by block).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="GeoTIFF to write (EPSG:4326, with an alpha band).")
@overwrite_option
@json_option
def georef(image: Path, sheet_name: str | None, corners: str | None, gcps: tuple[str, ...], gcp_crs: str,
           method: str, transformation: str | None, mem_limit: int, output: Path, overwrite: bool,
           as_json: bool) -> None:
    """Georeference IMAGE from its sheet corners or control points to a WGS84 GeoTIFF.

    The control points' RMS and maximum residual are printed in metres (geodesic, WGS84) and stored in
    the GeoTIFF's tags with the sheet name, scale, datum and transformation.
    """
    from borderkit.georef import georeference, parse_corners, parse_gcp

    check_output(output, overwrite)
    if corners is not None and sheet_name is None:
        raise click.UsageError("--corners needs --sheet NAME")
    if corners is None and not gcps:
        raise click.UsageError("give --sheet NAME --corners x,y;x,y;x,y;x,y, or --gcp x,y,lon,lat (at least three)")
    if corners is not None and gcps:
        raise click.UsageError("give --corners or --gcp, not both")
    res = georeference(
        image, output, sheet=sheet_name, corners=None if corners is None else parse_corners(corners),
        gcps=[parse_gcp(g) for g in gcps] or None, gcp_crs=gcp_crs, method=method, transformation=transformation,
        overwrite=overwrite, warp_mem_limit_mb=mem_limit,
    )
    if as_json:
        echo_json(res)
        return
    click.echo(f"wrote {res['output']} ({res['grid']['width']} × {res['grid']['height']} px, EPSG:4326, "
               f"≈ {res['grid']['pixel_m']:.1f} m per scan pixel)")
    if res["sheet"]:
        click.echo(f"sheet {res['sheet']} 1:{res['scale']:,}")
    d = res["datum"]
    if d and "transformation" in d:
        click.echo(f"datum: {d['method']}")
    click.echo(f"control points: {res['gcp_count']}, method {res['method']}: RMS {res['rms_m']:.2f} m, "
               f"max {res['max_residual_m']:.2f} m (geodesic, WGS84) — {res['residual_note']}")
