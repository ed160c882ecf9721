"""``borderkit overlaps``: where line sources disagree, and ground one source gives to two parties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from borderkit.cli.measure_cmd import case_pair, records, table, write_geo
from borderkit.cli.options import (
    case_option,
    check_output,
    echo_json,
    json_option,
    line_source_options,
    load_case,
    output_option,
    overwrite_option,
)


@click.command()
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Compare only these sources (two give one pair); repeatable. Default: every pair.")
@click.option("--pair", default=None, metavar="P,Q",
              help="The two parties of the line, e.g. ARM,AZE. Default: the pair of the case file (else the one "
              "pair the lines separate).")
@click.option("--method", type=click.Choice(["auto", "territories", "lines"]), default="auto", show_default=True,
              help="auto: territories when both sources have them, else the polygons between the lines.")
@click.option("--spacing-m", type=float, default=100.0, show_default=True,
              help="Sampling of lines and outlines for widths and Hausdorff distances.")
@click.option("--parts", "show_parts", type=int, default=0, metavar="N",
              help="Also list the N largest divergence polygons.")
@case_option
@line_source_options
@output_option("Write every divergence polygon (GeoJSON, or GPKG by extension) to FILE.")
@overwrite_option
@json_option
def overlaps(sources: tuple[str, ...], pair: str | None, method: str, spacing_m: float, show_parts: int,
             case_name: str | None, user_lines: Any, output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Divergence between every pair of line sources, and territory overlaps inside each source.

    --lines FILE adds your own line (a traced or claimed line) as one more source.

    For each pair: the area (km², WGS84 ellipsoid) each gives to a different
    party, the number of polygons, the largest, their greatest width (m), the
    lengths of the two drawings (m) and their Hausdorff distance (m, geodesic).
    Nothing here says which source is right.
    """
    from borderkit.lines import line_pair, select_lines
    from borderkit.overlaps import divergence_table, territory_overlaps

    if pair is not None and not pair.strip():
        raise click.BadParameter("expected two party codes, e.g. ARM,AZE", param_hint="--pair")
    if len(sources) == 1:
        raise click.UsageError("give two or more --source (or none for every pair)")
    check_output(output, overwrite)
    case = load_case(case_name, user_lines)
    bits = line_pair(select_lines(case.lines, sources=sources or None), case_pair(pair, case))
    div = divergence_table(case.lines, territories=case.territories, sources=sources or None, pair=bits,
                           method=method, spacing_m=spacing_m)
    tsrc = sorted(set(div.pairs["source_a"]) | set(div.pairs["source_b"]))
    tsrc = [s for s in tsrc if (case.territories["source"] == s).any()]
    ov = territory_overlaps(case.territories, lines=case.lines, sources=tsrc, parties=bits) if tsrc else None
    if ov is not None and len(ov):
        ov_sum = (ov.groupby(["source", "party_a", "party_b"], as_index=False)
                  .agg(parts=("area_km2", "size"), area_km2=("area_km2", "sum"), largest_km2=("area_km2", "max")))
    else:
        import pandas as pd

        ov_sum = pd.DataFrame(columns=["source", "party_a", "party_b", "parts", "area_km2", "largest_km2"])
    if output is not None:
        write_geo(div.parts, output, overwrite)
    if as_json:
        doc = {
            "pairs": records(div.pairs),
            "sections": records(div.sections),
            "territory_overlaps": records(ov_sum),
            "territory_overlap_parts": records(ov) if ov is not None else [],
            "units": "areas km² (WGS84 ellipsoid); lengths, widths and distances metres (WGS84 geodesics)",
            "method": div.pairs.attrs.get("method", ""),
        }
        if show_parts:
            doc["parts"] = records(div.parts.head(show_parts))
        echo_json(doc)
        return
    p, q = bits
    show = div.pairs.assign(length_a_km=div.pairs["length_a_m"] / 1000, length_b_km=div.pairs["length_b_m"] / 1000,
                            max_width_km=div.pairs["max_width_m"] / 1000, hausdorff_km=div.pairs["hausdorff_m"] / 1000)
    click.echo("Divergence between line sources (areas km² on the WGS84 ellipsoid; widths/lengths geodesic)")
    click.echo(table(show.round(3), ["source_a", "source_b", "method", "parts", "area_km2", f"area_a_{p}_b_{q}_km2",
                                     f"area_a_{q}_b_{p}_km2", "largest_part_km2", "max_width_km", "length_a_km",
                                     "length_b_km", "hausdorff_km"]))
    click.echo("\nPer section (Hausdorff and mean offsets, m)")
    click.echo(table(div.sections.round(1), ["source_a", "source_b", "section", "length_a_m", "length_b_m",
                                             "hausdorff_m", "mean_a_to_b_m", "mean_b_to_a_m", "note"]))
    click.echo(f"\nTerritory overlaps inside one source ({p}∩{q}, km², WGS84 ellipsoid)")
    click.echo(table(ov_sum.round(3), list(ov_sum.columns)) if len(ov_sum) else "none")
    if show_parts:
        click.echo(f"\nThe {show_parts} largest divergence polygons")
        click.echo(table(div.parts.head(show_parts).round(3), ["source_a", "source_b", "party_a", "party_b",
                                                               "area_km2", "max_width_m", "length_a_m", "length_b_m",
                                                               "section", "note"]))
    if output is not None:
        click.echo(f"wrote {output}")
