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


def _numbers(text: str, option: str, n: int) -> list[float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise click.BadParameter(f"{text!r}: {n} comma-separated numbers expected", param_hint=option) from None
    if len(nums) != n:
        raise click.BadParameter(f"{text!r}: {n} comma-separated numbers expected", param_hint=option)
    return nums


def _view_options(
    draw: str | None, view: str | None, bounds: str | None, fit: bool
) -> tuple[tuple[str, ...] | None, dict[str, Any]]:
    """``--layers`` checked, and the initial view of ``--view``/``--bounds`` (checked by make_map)."""
    from borderkit.maps.context import check_layer_names
    from borderkit.maps.folium_build import initial_view

    names = None
    if draw is not None:
        try:
            names = check_layer_names(draw)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--layers") from None
    if sum(x is not None and x is not False for x in (view, bounds, fit or None)) > 1:
        raise click.UsageError("give one of --view, --bounds and --fit")
    start: dict[str, Any] = {}
    if view is not None:
        start["view"] = _numbers(view, "--view", 3)
    if bounds is not None:
        start["bounds"] = _numbers(bounds, "--bounds", 4)
    try:
        initial_view(**start)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--view" if view is not None else "--bounds") from None
    return names, start


def _own_data_layers(given: set[str]) -> tuple[str, ...]:
    """What a map of your own DATA draws without --layers: everything but the case's measurements and viewsheds."""
    from borderkit.maps.context import LAYER_NAMES

    computed = {"measurements", "viewsheds"} - given
    return tuple(n for n in LAYER_NAMES if n not in computed)


def _not_drawn(names: tuple[str, ...] | None) -> set[str]:
    """The case layers not to compute (not drawn anyway)."""
    return set() if names is None else {"measurements", "viewsheds"} - set(names)


def _fit_bounds(layers: dict[str, Any], data: tuple[Path, ...]) -> dict[str, Any]:
    """``--fit``: the box of the DATA layers (2 km margin), as make_map's ``bounds``."""
    from borderkit.maps.layers import bounds_of

    box = bounds_of([v for v in layers.values() if hasattr(v, "geometry")], margin_m=2000.0)
    if box is None:
        raise click.UsageError(
            f"--fit: the DATA given ({', '.join(p.name for p in data)}) have no geometries to fit the view to"
        )
    return {"bounds": box}


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
@click.option(
    "--size",
    "print_size",
    default=None,
    metavar="SIZE",
    help="Print size of the static map (-o *.png/*.svg/*.pdf, --png, --svg): A4, A3, A4-landscape, A3-landscape "
    "or WIDTHxHEIGHT in mm (e.g. 180x120mm). Default: A4-landscape.",
)
@click.option(
    "--dpi",
    type=click.IntRange(min=30, max=1200),
    default=150,
    show_default=True,
    help="Resolution of a PNG: it is size_mm / 25.4 * dpi pixels.",
)
@click.option("--north-arrow/--no-north-arrow", default=True, show_default=True, help="North arrow on a static map.")
@click.option("--title", default=None, help="Title of the map (default: names the case).")
@click.option(
    "--simplify-m",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Display simplification tolerance in metres (0 keeps every vertex; analysis never uses it).",
)
@click.option(
    "--layers",
    "draw",
    default=None,
    metavar="NAMES",
    help="Comma-separated layers to draw: lines, areas, incidents, places, measurements, viewsheds, hillshade, "
    "scans, basemap (the case's water, other borders and towns). Default: everything the case's map shows; "
    "with DATA, the case's measurements and viewshed only "
    "when named here (e.g. --layers lines,incidents,places,measurements).",
)
@click.option("--view", default=None, metavar="LAT,LON,ZOOM", help="Initial view: centre (degrees) and zoom (0-22).")
@click.option("--bounds", "view_bounds", default=None, metavar="W,S,E,N", help="Initial view: a box in degrees.")
@click.option("--fit", is_flag=True, help="Start with the view fitted to the DATA given (with a 2 km margin).")
@click.option(
    "--embed",
    is_flag=True,
    help="For an <iframe> in an article: no full-screen button, compact attribution, no URL hash state.",
)
@click.option(
    "--trace/--no-trace",
    "trace",
    default=None,
    help="Trace tool: draw a line over a scan georeferenced by 'borderkit scan georef --sheet' and export it "
    "as a lines GeoJSON (accuracy, datum note and source filled in). Default: on when such a scan is drawn.",
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
    draw: str | None = None,
    view: str | None = None,
    view_bounds: str | None = None,
    fit: bool = False,
    embed: bool = False,
    trace: bool | None = None,
    print_size: str | None = None,
    dpi: int = 150,
    north_arrow: bool = True,
) -> None:
    """Draw a map of the bundled case, or of DATA files.

    Without DATA, renders a case (--case NAME|DIR: bundled, user or a case
    folder; default the Armenia–Azerbaijan case) to maps/<case>.html (the folder is created in the
    current directory; this default file is always rewritten), with the
    title, measurements, labels and viewsheds its case file names. DATA files are told apart
    by their columns: line_id → lines, incident_id → incidents, place_id →
    places, territory_id → territories; a GeoTIFF is a DEM (hillshade) when it
    has one non-8-bit band, else a georeferenced scan of an old map (image
    overlay with an opacity slider). A scan written by 'borderkit scan georef
    --sheet' also gets its sheet frame (labelled) and the trace tool: draw a
    line over it and export a lines GeoJSON for check/measure/overlaps --lines.

    Files given with -o, --png or --svg are not replaced unless --overwrite is
    given. Rendering the same inputs twice gives byte-identical files.

    The page keeps its view, layers and timeline date in the URL hash (a link
    opens the same view) unless --embed is given.
    """
    from borderkit.maps import make_map, prepare_context, render_html

    draw_names, start = _view_options(draw, view, view_bounds, fit)
    from borderkit.maps.static import STATIC_FORMATS, page_size_mm

    if print_size is not None:
        try:
            page_size_mm(print_size)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--size") from None
    static_out: list[tuple[Path, str]] = [(p, f) for p, f in ((png, "png"), (svg, "svg")) if p is not None]
    if output is not None and output.suffix.lower().lstrip(".") in STATIC_FORMATS:
        static_out.insert(0, (output, output.suffix.lower().lstrip(".")))  # -o map.png: the static map only

    for p in (output, png, svg):
        if p is not None and str(p) != "-":
            check_output(p, overwrite)

    layers: dict[str, Any] = {}
    case = None
    if data:
        layers = _collect(data, case_region(case_name))
        if draw_names is None:  # your own data: the case's computed layers only when named in --layers
            draw_names = _own_data_layers(set(layers))
        if fit:
            start = _fit_bounds(layers, data)
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
            layers.update(_case_layers(case, set(layers) | _not_drawn(draw_names)))
        for w in caught:  # a layer left off is said in the summary, as one line
            if issubclass(w.category, MapLayerWarning):
                layer_warnings.append(" ".join(str(w.message).split()))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    html_wanted = not (output is not None and output.suffix.lower().lstrip(".") in STATIC_FORMATS)
    if output is None:
        stem = (case.name if case is not None else DEFAULT_CASE) if not data else data[0].name.split(".")[0]
        output = DEFAULT_OUTPUT_DIR / f"{stem}.html"

    ctx = prepare_context(case, draw=draw_names, title=title, simplify_m=simplify_m, lang=lang, **layers)
    html = ""
    if html_wanted:  # -o map.png|svg|pdf alone: no page is built (seconds of Leaflet/folium work saved)
        try:
            m = make_map(ctx, offline=offline, embed=embed, trace=trace, **start)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        html = render_html(m)
    if offline and html:
        from borderkit.maps.html import external_references

        refs = external_references(html)
        if refs:  # pragma: no cover - guarded by tests
            raise RuntimeError("offline map refers to external resources: " + ", ".join(refs[:3]))
    written: dict[str, Any] = {}
    if not html_wanted:
        pass
    elif str(output) == "-":
        sys.stdout.write(html)
        sys.stdout.flush()
    else:
        from borderkit.io.atomic import atomic_output

        output.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(output) as tmp:
            tmp.write_bytes(html.encode("utf-8"))
        written["html"] = str(output)
    size = len(html.encode("utf-8")) if html_wanted else None

    static_reports: list[dict[str, Any]] = []
    if static_out:
        import warnings

        from borderkit.errors import MapLayerWarning
        from borderkit.maps.static import save_static

        for path, fmt in static_out:
            rep: dict[str, Any] = {}
            with warnings.catch_warnings():  # the labels left off are in the summary's warnings
                warnings.simplefilter("ignore", MapLayerWarning)
                written[fmt] = str(
                    save_static(
                        ctx,
                        path,
                        fmt=fmt,
                        size=print_size,
                        dpi=dpi,
                        north_arrow=north_arrow,
                        report=rep,
                        **start,  # --view, --bounds, --fit: the print shows what the page opens on
                    )
                )
            static_reports.append(rep)
            if rep.get("labels_left_off"):
                left_off = rep["labels_left_off"]
                more = f" and {len(left_off) - 8} more (all in --json)" if len(left_off) > 8 else ""
                layer_warnings.append(
                    f"{path.name}: {len(left_off)} label(s) left off for lack of room: "
                    + ", ".join(d["text"][:40] for d in left_off[:8]) + more
                )

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
        "static": static_reports,
    }
    to_stderr = str(output) == "-"  # the page went to stdout: the summary goes to stderr
    if as_json:
        if not to_stderr:
            echo_json(summary)
        else:
            click.echo(json.dumps(summary, indent=2, sort_keys=True, default=str), err=True)
        return
    lines = [
        f"wrote {', '.join(written.values()) or 'stdout'}"
        + (f" (HTML {_human(size or 0)}, offline={'yes' if offline else 'no'})" if html_wanted else ""),
        f"line sources: {', '.join(summary['line_sources']) or 'none'}; incidents: {summary['incidents']}; "
        f"places: {summary['places']} (+{len(summary['unlocated_places'])} unlocated); "
        f"measurements: {summary['measurements']}; viewsheds: {summary['viewsheds']}",
        f"display simplification: {summary['simplify_tolerance_m']:g} m tolerance, "
        f"largest displacement {summary['max_displacement_m']:.1f} m (geodesic)",
    ]
    lines += [f"warning: {w}" for w in summary["warnings"]]
    for line in lines:
        click.echo(line, err=to_stderr)
