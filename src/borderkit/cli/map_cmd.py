"""``borderkit map``: render the bundled case, or your own data, as an interactive and static map."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from borderkit.cli.options import (
    case_option,
    case_region,
    check_output,
    echo_json,
    json_option,
    lang_option,
    overwrite_option,
)
from borderkit.datasets import DEFAULT_CASE
from borderkit.io.kinds import detect_kind as detect_data_kind

DEFAULT_OUTPUT_DIR = Path("maps")

_READERS = {
    "lines": "read_lines",
    "territories": "read_territories",
    "incidents": "read_incidents",
    "places": "read_places",
}


def _read(path: Path, kind: str, region: dict[str, Any]) -> Any:
    """A DATA file of a known kind, read by the library's readers (*region*: :func:`case_region`)."""
    if kind == "measurements":
        from borderkit.maps.measurements import read_measurements

        return read_measurements(path)
    if kind not in _READERS:
        raise click.UsageError(
            f"{path}: a {kind} file cannot be drawn on its own; give lines, territories, incidents, places, "
            "measurements or GeoTIFFs (a case's claims are drawn with --case)"
        )
    import borderkit.io

    return getattr(borderkit.io, _READERS[kind])(path, **region)


def _collect(data: tuple[Path, ...], region: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    layers: dict[str, Any] = {}
    scans: list[Path] = []
    for path in data:
        kind = detect_data_kind(path)
        if kind == "scan":
            scans.append(path)
            continue
        if kind == "dem":
            if "dem" in layers:
                raise click.UsageError(f"{path}: only one DEM can be drawn (already have {layers['dem']})")
            layers["dem"] = path
            continue
        frame = _read(path, kind, region)
        if kind in layers:
            frame = pd.concat([layers[kind], frame], ignore_index=True)
            if hasattr(layers[kind], "crs"):
                import geopandas as gpd

                frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=layers[kind].crs)
        layers[kind] = frame
    if scans:
        layers["scans"] = scans
    return layers


def _case_layers(case: Any, have: set[str]) -> dict[str, Any]:
    """The case's computed layers (claim measurements, the viewshed) that DATA did not give."""
    from borderkit.maps import case_measurements, case_viewsheds

    out: dict[str, Any] = {}
    if "measurements" not in have:
        meas = case_measurements(case)
        if meas is not None:
            out["measurements"] = meas
    if "viewsheds" not in have:
        vs = case_viewsheds(case)
        if vs is not None:
            out["viewsheds"] = vs
    return out


def _human(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


@click.command("map")
@click.argument("data", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="[DATA]...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write ('-' for stdout). Default: maps/<case>.html without DATA (e.g. "
    "maps/armenia-azerbaijan.html), maps/<first DATA file name>.html with DATA (relative to the current directory).",
)
@click.option("--offline", is_flag=True, help="One self-contained file: inline Leaflet and plugins, no tile basemaps.")
@click.option("--png", "png", type=click.Path(dir_okay=False, path_type=Path), help="Also write a static PNG map.")
@click.option("--svg", "svg", type=click.Path(dir_okay=False, path_type=Path), help="Also write a static SVG map.")
@click.option("--title", default=None, help="Title of the map (default: names the case).")
@click.option(
    "--simplify-m",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Display simplification tolerance in metres (0 keeps every vertex; analysis never uses it).",
)
@case_option
@lang_option
@overwrite_option
@json_option
def map_(
    data: tuple[Path, ...],
    output: Path | None,
    offline: bool,
    png: Path | None,
    svg: Path | None,
    title: str | None,
    simplify_m: float,
    case_name: str | None,
    lang: str,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Draw a map of the bundled case, or of DATA files.

    Without DATA, renders a case (--case NAME|DIR: bundled, user or a case
    folder; default the Armenia–Azerbaijan case) to maps/<case>.html (the folder is created in the
    current directory; this default file is always rewritten), with the
    title, measurements, labels and viewsheds its case file names. DATA files are told apart
    by their columns: line_id → lines, incident_id → incidents, place_id →
    places, territory_id → territories; a GeoTIFF is a DEM (hillshade) when it
    has one non-8-bit band, else a georeferenced scan of an old map (image
    overlay with an opacity slider).

    Files given with -o, --png or --svg are not replaced unless --overwrite is
    given. Rendering the same inputs twice gives byte-identical files.
    """
    from borderkit.maps import make_map, prepare_context, render_html

    for p in (output, png, svg):
        if p is not None and str(p) != "-":
            check_output(p, overwrite)

    layers: dict[str, Any] = {}
    case = None
    if data:
        layers = _collect(data, case_region(case_name))
        if case_name:
            from borderkit import datasets

            case = datasets.load(case_name)
    else:
        from borderkit import datasets

        case = datasets.load(case_name or DEFAULT_CASE)
    layer_warnings: list[str] = []
    if case is not None:
        import warnings

        from borderkit.errors import MapLayerWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MapLayerWarning)
            layers.update(_case_layers(case, set(layers)))
        for w in caught:  # a layer left off is said in the summary, as one line
            if issubclass(w.category, MapLayerWarning):
                layer_warnings.append(" ".join(str(w.message).split()))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    if output is None:
        stem = (case.name if case is not None else DEFAULT_CASE) if not data else data[0].name.split(".")[0]
        output = DEFAULT_OUTPUT_DIR / f"{stem}.html"

    ctx = prepare_context(case, title=title, simplify_m=simplify_m, lang=lang, **layers)
    m = make_map(ctx, offline=offline)
    html = render_html(m)
    if offline:
        from borderkit.maps.html import external_references

        refs = external_references(html)
        if refs:  # pragma: no cover - guarded by tests
            raise RuntimeError("offline map refers to external resources: " + ", ".join(refs[:3]))
    written: dict[str, Any] = {}
    if str(output) == "-":
        sys.stdout.write(html)
        sys.stdout.flush()
    else:
        from borderkit.io.atomic import atomic_output

        output.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(output) as tmp:
            tmp.write_bytes(html.encode("utf-8"))
        written["html"] = str(output)
    size = len(html.encode("utf-8"))

    if png is not None or svg is not None:
        from borderkit.maps.static import save_static

        if png is not None:
            written["png"] = str(save_static(ctx, png, fmt="png"))
        if svg is not None:
            written["svg"] = str(save_static(ctx, svg, fmt="svg"))

    report = dict(ctx.report)
    disp = report.get("max_displacement_m", {})
    summary = {
        "written": written,
        "html_bytes": size,
        "offline": offline,
        "simplify_tolerance_m": report.get("simplify_tolerance_m"),
        "max_displacement_m": max(disp.values()) if disp else 0.0,
        "line_sources": [g["source"] for g in ctx.payload["lines"]],
        "incidents": len(ctx.payload["incidents"]),
        "places": len(ctx.payload["places"]),
        "unlocated_places": report.get("unlocated_places", []),
        "measurements": len(ctx.payload["measurements"]),
        "viewsheds": len(ctx.payload["viewsheds"]),
        "areas": report.get("areas", []),
        "warnings": layer_warnings + list(report.get("warnings", [])),
    }
    to_stderr = str(output) == "-"  # the page went to stdout: the summary goes to stderr
    if as_json:
        if not to_stderr:
            echo_json(summary)
        else:
            click.echo(json.dumps(summary, indent=2, sort_keys=True, default=str), err=True)
        return
    lines = [
        f"wrote {', '.join(written.values()) or 'stdout'} (HTML {_human(size)}, offline={'yes' if offline else 'no'})",
        f"line sources: {', '.join(summary['line_sources']) or 'none'}; incidents: {summary['incidents']}; "
        f"places: {summary['places']} (+{len(summary['unlocated_places'])} unlocated); "
        f"measurements: {summary['measurements']}; viewsheds: {summary['viewsheds']}",
        f"display simplification: {summary['simplify_tolerance_m']:g} m tolerance, "
        f"largest displacement {summary['max_displacement_m']:.1f} m (geodesic)",
    ]
    lines += [f"warning: {w}" for w in summary["warnings"]]
    for line in lines:
        click.echo(line, err=to_stderr)
