"""``borderkit sheet`` and ``borderkit sheets``: Soviet map sheet names, bounds and datum shift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from borderkit.cli.options import check_output, echo_json, json_option, output_option, overwrite_option

_SCALES = ["1000000", "500000", "200000", "100000", "50000", "25000"]
_TRANSFORMATION_HELP = ("SK-42 → WGS84 operation to use (EPSG code such as EPSG:15865, its name, or a PROJ pipeline); "
                        "default: the most accurate EPSG transformation whose area of use covers the sheet.")


@click.command("sheet")
@click.argument("name")
@click.option("--scale", type=click.Choice(_SCALES), default=None,
              help="Expected scale (resolves K-38-V: 1:200,000 sheet V unless --scale 500000).")
@click.option("--transformation", default=None, metavar="OP", help=_TRANSFORMATION_HELP)
@json_option
def sheet(name: str, scale: str | None, transformation: str | None, as_json: bool) -> None:
    """Bounds (SK-42), WGS84 corners and datum shift of one sheet, e.g. `borderkit sheet J-38-21`.

    NAME in any written form: Latin or Cyrillic letters, any case, with or without hyphens
    (J-38-21, j 38 21, К-38-Г, K-38-XXIII, J-38-21-А-а, P-37,38).
    """
    from borderkit.sheets import sheet as sheet_info

    info = sheet_info(name, scale=None if scale is None else int(scale), transformation=transformation)
    if as_json:
        echo_json(info)
        return
    w, s, e, n = info["bounds_sk42"]
    click.echo(f"{info['name']}  1:{info['scale']:,}  datum {info['datum']} (SK-42, Pulkovo 1942), "
               f"Gauss–Krüger zone {info['gauss_kruger']['zone']}")
    click.echo(f"bounds SK-42 (degrees): W {w:.6f}  S {s:.6f}  E {e:.6f}  N {n:.6f}")
    for k in ("nw", "ne", "se", "sw"):
        lon, lat = info["corners_wgs84"][k]
        click.echo(f"corner {k.upper()} WGS84: lon {lon:.6f}  lat {lat:.6f}")
    click.echo(f"datum shift at the sheet centre: {info['shift_m']:.1f} m — {info['method']}")


@click.command("sheets")
@click.option("--bbox", nargs=4, type=float, required=True, metavar="W S E N",
              help="Area in degrees (SK-42; pad by 0.01° for a WGS84 box): west south east north.")
@click.option("--scale", type=click.Choice(_SCALES), default="100000", show_default=True, help="Map scale.")
@click.option("--transformation", default=None, metavar="OP", help=_TRANSFORMATION_HELP)
@output_option("Write the sheet outlines (WGS84 polygons) as GeoJSON to FILE.")
@overwrite_option
@json_option
def sheets(bbox: tuple[float, float, float, float], scale: str, transformation: str | None, output: Path | None,
           overwrite: bool, as_json: bool) -> None:
    """List the sheets of a scale covering an area (which scans to look for)."""
    from borderkit.io.atomic import atomic_output
    from borderkit.sheets import sheets_covering, sheets_geojson

    check_output(output, overwrite)
    found = sheets_covering(bbox, int(scale))
    rows: list[dict[str, Any]] = [{"name": s.name, "scale": s.scale, "bounds_sk42": s.bounds_sk42} for s in found]
    if output is not None:
        fc = sheets_geojson(found, transformation=transformation)
        with atomic_output(output, overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps(fc, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    if as_json:
        echo_json({"scale": int(scale), "bbox": list(bbox), "datum": "EPSG:4284", "sheets": rows,
                   "output": None if output is None else str(output)})
        return
    for r in rows:
        w, s, e, n = r["bounds_sk42"]
        click.echo(f"{r['name']:<18} W {w:.4f}  S {s:.4f}  E {e:.4f}  N {n:.4f}  (SK-42 degrees)")
    click.echo(f"{len(rows)} sheet(s) at 1:{int(scale):,}" + (f"; outlines written to {output}" if output else ""))
