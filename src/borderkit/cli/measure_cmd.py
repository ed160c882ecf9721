"""``borderkit measure``: distances, point-to-line per source, advance depth, corridor width, buffers.

Every number is metres on the WGS84 ellipsoid (areas km² on the ellipsoid); every
result names its method. Points are ``LAT,LON`` (latitude first) or a place name /
``place_id`` of the case's places layer.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from borderkit.cli.options import (
    case_option,
    check_output,
    echo_json,
    json_option,
    line_source_options,
    load_case,
    output_option,
    overwrite_option,
    parse_latlon,
)
from borderkit.datasets import DEFAULT_CASE

source_option = click.option("--source", "sources", multiple=True, metavar="NAME",
                             help="Line source (registry name); repeat for several. Default: all of the case.")
pair_option = click.option("--pair", default=None, metavar="P,Q",
                           help="Only line sections between these two parties, e.g. ARM,AZE ('' for every "
                           "section). Default: the pair of the case file.")


def case_pair(value: str | None, case: Any) -> tuple[str, str] | None:
    """The --pair option: two codes, ``None`` for every section (``''``), or the case file's pair when not given."""
    if value is None:
        return case.config.pair
    if not value.strip():
        return None
    bits = [b.strip() for b in value.split(",") if b.strip()]
    if len(bits) != 2:
        raise click.BadParameter(f"{value!r}: expected two party codes, e.g. ARM,AZE", param_hint="--pair")
    return bits[0], bits[1]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_point(value: str, places: Any, name: str) -> tuple[float, float, str]:
    """``LAT,LON`` or a place → ``(lon, lat, label)``; unlocated places raise a ValidationError."""
    from borderkit.places import place_point

    bits = value.replace(" ", "").split(",")
    if len(bits) == 2 and all(_is_number(b) for b in bits):
        lon, lat = parse_latlon(value, name)
        return lon, lat, f"{lat:.5f},{lon:.5f}"
    lon, lat = place_point(places, value)
    return lon, lat, value


def records(df: Any) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-safe dicts (NaN → null, numpy scalars → Python, geometry dropped)."""
    out = []
    cols = [c for c in df.columns if c != "geometry"]
    for row in df[cols].itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row, strict=True):
            if hasattr(v, "item"):
                v = v.item()
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                v = None
            elif not isinstance(v, (str, int, float, bool)):
                try:
                    import pandas as pd

                    v = None if pd.isna(v) else str(v)
                except (TypeError, ValueError):
                    v = str(v)
            rec[c] = v
        out.append(rec)
    return out


def table(df: Any, columns: list[str], rename: dict[str, str] | None = None) -> str:
    import pandas as pd

    with pd.option_context("display.width", 220, "display.max_columns", 40, "display.max_colwidth", 48):
        return df[columns].rename(columns=rename or {}).to_string(index=False)


def write_geo(gdf: Any, path: Path, overwrite: bool) -> None:
    """Write polygons as GeoJSON (or GPKG by extension), atomically (temp file + rename)."""
    from borderkit.io.atomic import atomic_output

    check_output(path, overwrite)
    driver = "GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON"
    with atomic_output(path, overwrite=True) as tmp:
        gdf.to_file(tmp, driver=driver)


@click.group()
def measure() -> None:
    """Measure against each line source: distances, depth beyond a line, corridor width, buffers.

    Distances are metres on the WGS84 ellipsoid (geodesics), areas km² on the
    ellipsoid. Every result is given per line source: borderkit does not pick a
    line. Points are LAT,LON (latitude first) or a place name / place_id.
    """


@measure.command("distance")
@click.option("--from", "from_", required=True, metavar="LAT,LON|PLACE", help="First point.")
@click.option("--to", "to", required=True, metavar="LAT,LON|PLACE", help="Second point.")
@case_option
@json_option
def distance_cmd(from_: str, to: str, case_name: str | None, as_json: bool) -> None:
    """Geodesic distance and azimuth between two points or places."""
    from borderkit import datasets
    from borderkit.measure import point_distance

    places = datasets.load(case_name or DEFAULT_CASE).places
    a = parse_point(from_, places, "--from")
    b = parse_point(to, places, "--to")
    res = point_distance(a[0], a[1], b[0], b[1])
    res["from"]["label"], res["to"]["label"] = a[2], b[2]
    if as_json:
        echo_json(res)
        return
    click.echo(f"{a[2]} → {b[2]}: {res['distance_m'] / 1000:.3f} km ({res['distance_m']:.1f} m), "
               f"azimuth {res['azimuth_deg']:.2f}°")
    click.echo(f"method: {res['method']}")


@measure.command("to-line")
@click.option("--at", "at", required=True, multiple=True, metavar="LAT,LON|PLACE",
              help="Point or place; repeat for several.")
@click.option("--into", default=None, metavar="PARTY",
              help="Also give the signed depth towards this party (positive on its side of the line).")
@source_option
@pair_option
@case_option
@line_source_options
@json_option
def to_line_cmd(at: tuple[str, ...], into: str | None, sources: tuple[str, ...], pair: str | None,
                case_name: str | None, user_lines: Any, as_json: bool) -> None:
    """Distance from points to each source's line, the side they are on, the nearest point.

    --lines FILE adds your own line as one more source (its metadata given once with
    --claimant, --left, --right, --source-name, --source-date, --accuracy-m).
    """
    from borderkit.measure import distance_to_lines

    case = load_case(case_name, user_lines)
    pts = [parse_point(v, case.places, "--at") for v in at]
    df = distance_to_lines([p[0] for p in pts], [p[1] for p in pts], lines=case.lines, sources=sources or None,
                           pair=case_pair(pair, case), into=into)
    df.insert(1, "label", [pts[i][2] for i in df["point"]])
    if as_json:
        echo_json({"results": records(df), "units": df.attrs["units"], "method": df.attrs["method"]})
        return
    show = df.assign(distance_km=df["distance_m"] / 1000, depth_km=df["depth_m"] / 1000)
    cols = ["label", "source", "section", "distance_km", "party", "nearest_lat", "nearest_lon", "in_gap"]
    if into:
        cols.insert(4, "depth_km")
    click.echo(table(show.round({"distance_km": 3, "depth_km": 3, "nearest_lat": 5, "nearest_lon": 5}), cols))
    click.echo(f"\nmethod: {df.attrs['method']}")


@measure.command("depth")
@click.option("--at", "at", multiple=True, metavar="LAT,LON|PLACE", help="A position (point or place); repeatable.")
@click.option("--polygon", "polygon", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="File of polygons of positions/control (GeoJSON, GPKG, … in any CRS).")
@click.option("--into", required=True, metavar="PARTY", help="The party advanced into (depth > 0 on its side).")
@click.option("--advance-km", type=float, default=None,
              help="With --at: would an advance of this depth from the line reach the point?")
@click.option("--zone-radius-km", type=float, default=None,
              help="With --advance-km: area of the ground within the advance of the line near the point.")
@click.option("--spacing-m", type=float, default=None, help="Polygon sampling (default: ~20 000 samples).")
@click.option("--profile-step-m", type=float, default=1000.0, show_default=True,
              help="Width of the along-line bins of the depth profile.")
@source_option
@pair_option
@case_option
@line_source_options
@output_option("With --polygon: write the parts beyond the line (GeoJSON/GPKG) to FILE.")
@overwrite_option
@json_option
def depth_cmd(at: tuple[str, ...], polygon: Path | None, into: str, advance_km: float | None,
              zone_radius_km: float | None, spacing_m: float | None, profile_step_m: float,
              sources: tuple[str, ...], pair: str | None, case_name: str | None, user_lines: Any,
              output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Advance depth beyond each source's line into a party's side.

    For a point: its signed depth. For polygons: the greatest depth and where,
    the area beyond the line (km², WGS84 ellipsoid) and a depth profile along the
    line. With --advance-km (points): the reach test of the Sev Lake worked
    example — does an advance of that depth from the line reach the point?
    """
    import geopandas as gpd
    import shapely

    from borderkit.measure import advance_depth, advance_reach

    if not at and polygon is None:
        raise click.UsageError("give --at LAT,LON|PLACE or --polygon FILE")
    if output is not None and polygon is None:
        raise click.UsageError("-o/--output writes the polygon parts beyond the line; it needs --polygon")
    check_output(output, overwrite)
    case = load_case(case_name, user_lines)
    pr = case_pair(pair, case)
    src = sources or None
    doc: dict[str, Any] = {"into": into}
    lines_out: list[str] = []
    if at:
        pts = [parse_point(v, case.places, "--at") for v in at]
        if advance_km is not None:
            rows = []
            for lon, lat, label in pts:
                r = advance_reach(lon, lat, lines=case.lines, into=into, advance_m=advance_km * 1000.0, sources=src,
                                  pair=pr, zone_radius_m=None if zone_radius_km is None else zone_radius_km * 1000.0)
                r.insert(0, "label", label)
                rows.append(r)
            import pandas as pd

            reach = pd.concat(rows, ignore_index=True)
            doc["reach"] = records(reach)
            doc["reach_method"] = reach.attrs.get("method") or rows[0].attrs["method"]
            cols = ["label", "source", "depth_m", "party", "beyond_line", "within_reach", "reach_margin_m",
                    "accuracy_m"] + (["zone_area_km2"] if zone_radius_km is not None else [])
            lines_out += [f"Reach of an advance of {advance_km:g} km into {into}", table(
                reach.round({"depth_m": 1, "reach_margin_m": 1, "zone_area_km2": 2}), cols), ""]
        geoms = [shapely.Point(lon, lat) for lon, lat, _ in pts]
        res = advance_depth(geoms, lines=case.lines, into=into, sources=src, pair=pr)
        res.summary["feature"] = [pts[i][2] for i in res.summary["feature"]]
        doc["points"] = records(res.summary)
        lines_out += [f"Depth of each point beyond the line into {into} (m; negative = on the other side)",
                      table(res.summary.round({"depth_m": 1, "nearest_lat": 5, "nearest_lon": 5}),
                            ["feature", "source", "section", "depth_m", "party", "nearest_lat", "nearest_lon"]), ""]
    if polygon is not None:
        gdf = gpd.read_file(polygon)
        if gdf.crs is None:
            raise click.UsageError(f"{polygon} declares no CRS; borderkit does not guess one")
        res = advance_depth(gdf.to_crs(4326), lines=case.lines, into=into, sources=src, pair=pr,
                            spacing_m=spacing_m, profile_step_m=profile_step_m)
        doc["polygons"] = records(res.summary)
        doc["profile"] = records(res.profile)
        lines_out += [f"Polygons beyond the line into {into}", table(
            res.summary.round({"depth_m": 1, "depth_upper_m": 1, "area_km2": 3, "area_beyond_km2": 3,
                               "depth_lat": 5, "depth_lon": 5}),
            ["feature", "source", "depth_m", "depth_upper_m", "depth_lat", "depth_lon", "area_km2",
             "area_beyond_km2", "spacing_m"]), "", "Depth profile along the line (greatest depth per bin, m)",
            table(res.profile.round({"max_depth_m": 1}), ["feature", "source", "section", "along_from_m",
                                                         "along_to_m", "max_depth_m"]) if len(res.profile) else
            "no part beyond the line", ""]
        if output is not None:
            write_geo(res.beyond, output, overwrite)
            lines_out.append(f"wrote {output}")
    doc["units"] = "metres (geodesic, WGS84); km² (WGS84 ellipsoid)"
    doc["method"] = ("depth = geodesic distance to the nearest section of each source's line, positive on the "
                     f"{into} side (left_party/right_party by the line's direction)")
    if as_json:
        echo_json(doc)
        return
    click.echo("\n".join(lines_out + [f"method: {doc['method']}"]))


@measure.command("corridor")
@click.option("--party", default=None, metavar="PARTY",
              help="Whose territory has the two parts (e.g. AZE). Default: from the case file's [corridor].")
@click.option("--from-place", "from_place", default=None, metavar="PLACE",
              help="Part A is the part of the territory containing this place (e.g. nakhchivan). "
              "Default: part A of the case file's [corridor].")
@click.option("--to-place", "to_place", default=None, metavar="PLACE",
              help="Part B is the part containing this place (default: the largest part).")
@click.option("--method", type=click.Choice(["auto", "territories", "lines", "both"]), default="auto",
              show_default=True, help="Territories where the source has them, else its line sections.")
@click.option("--sections", default=None, metavar="A,B",
              help="Line sections bounding part A and part B, for the lines method (e.g. nakhchivan,mainland). "
              "Default: the sections of the case file's parts.")
@source_option
@case_option
@json_option
def corridor_cmd(party: str | None, from_place: str | None, to_place: str | None, method: str,
                 sections: str | None,
                 sources: tuple[str, ...], case_name: str | None, as_json: bool) -> None:
    """Narrowest gap between two parts of a territory, per source (default: the case file's corridor).

    For the bundled case that is Nakhchivan ↔ mainland Azerbaijan.
    """
    from borderkit import datasets
    from borderkit.measure import corridor_width

    secs = None
    if sections is not None:
        secs = tuple(s.strip() for s in sections.split(","))
        if len(secs) != 2:
            raise click.BadParameter(f"{sections!r}: expected two section names", param_hint="--sections")
    case = datasets.load(case_name or DEFAULT_CASE)
    opts = case.corridor_options(party=party, from_place=from_place, to_place=to_place,
                                 sections=secs)  # type: ignore[arg-type]
    df = corridor_width(case.territories, lines=case.lines, sources=sources or None, method=method, **opts)
    if as_json:
        echo_json({"results": records(df), "units": df.attrs["units"], "method": df.attrs["method"]})
        return
    show = df.assign(width_km=df["distance_m"] / 1000)
    click.echo(table(show.round({"width_km": 3, "a_lat": 5, "a_lon": 5, "b_lat": 5, "b_lon": 5, "azimuth_deg": 1}),
                     ["source", "method", "width_km", "a_lat", "a_lon", "b_lat", "b_lon", "azimuth_deg",
                      "accuracy_m"]))
    if len(df):
        click.echo(f"\npart A: {df['part_a'].iloc[0]}; part B: {df['part_b'].iloc[0]}")
    click.echo("method: smallest geodesic distance (WGS84) between the two parts' outlines (or line sections)")


@measure.command("buffer")
@click.option("--km", "km", type=float, required=True, help="Zone width: within this many km of the line.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only places of this kind; repeatable.")
@click.option("--all", "show_all", is_flag=True, help="List places outside the zone (and unlocated ones) too.")
@source_option
@pair_option
@case_option
@output_option("Write the zone polygons (one per source; GeoJSON, or GPKG by extension) to FILE.")
@overwrite_option
@json_option
def buffer_cmd(km: float, kinds: tuple[str, ...], show_all: bool, sources: tuple[str, ...], pair: str,
               case_name: str | None, output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Places within KM of each source's line (by geodesic distance), and the zone polygons.

    Whether a place is inside is decided by its geodesic distance to the line,
    not by the polygon; the polygon (for maps, -o) is a local-projection buffer
    whose measured error is reported.
    """
    from borderkit import datasets
    from borderkit.measure import geodesic_buffer, places_within

    if not km > 0:
        raise click.BadParameter("must be > 0", param_hint="--km")
    check_output(output, overwrite)
    case = datasets.load(case_name or DEFAULT_CASE)
    pr = case_pair(pair, case)
    pw = places_within(case.places, lines=case.lines, distance_m=km * 1000.0, sources=sources or None, pair=pr,
                       kinds=kinds or None)
    shown = pw if show_all else pw[pw["within"].fillna(False).astype(bool)]
    doc: dict[str, Any] = {"distance_m": km * 1000.0, "places": records(shown), "units": pw.attrs["units"],
                           "method": pw.attrs["method"]}
    if output is not None or as_json:
        buf = geodesic_buffer(lines=case.lines, distance_m=km * 1000.0, sources=sources or None, pair=pr)
        doc["zones"] = records(buf)
        if output is not None:
            write_geo(buf, output, overwrite)
    if as_json:
        echo_json(doc)
        return
    show = shown.assign(distance_km=shown["distance_m"] / 1000)
    click.echo(f"Places within {km:g} km of each source's line (geodesic distance, WGS84)")
    click.echo(table(show.round({"distance_km": 3}), ["source", "place_id", "name_en", "kind", "distance_km", "within",
                                                       "party", "note"]) if len(show) else "none")
    if output is not None:
        click.echo(f"wrote {output}")
    click.echo(f"method: {pw.attrs['method']}")
