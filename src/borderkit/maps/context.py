"""What goes on a map: the layers gathered from a case or from frames, rasters, and the prepared payload.

:func:`prepare_context` collects the layers (:func:`borderkit.maps.layers.collect_inputs`),
turns hillshade and scan inputs into image overlays, and prepares the JSON
records of every layer once (:func:`borderkit.maps.layers.prepare`), for both
the interactive map (:func:`borderkit.maps.make_map`) and the static one
(:func:`borderkit.maps.static.save_static`). :func:`case_layers` adds what a
case's map computes from the case: measurement segments of its claims and the
viewsheds its case file names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderkit.maps.escape import clean_text
from borderkit.maps.layers import MapInputs, RasterOverlay, collect_inputs, prepare
from borderkit.maps.measurements import case_measurements
from borderkit.maps.text import short_source
from borderkit.maps.viewsheds import case_viewsheds, viewsheds_frame

__all__ = [
    "DEFAULT_SIMPLIFY_M",
    "DEFAULT_MIN_AREA_KM2",
    "DEFAULT_TITLE",
    "LAYER_NAMES",
    "MapContext",
    "check_layer_names",
    "prepare_context",
    "case_layers",
]

DEFAULT_SIMPLIFY_M = 30.0
"""Display simplification tolerance of lines and polygons, metres."""

DEFAULT_MIN_AREA_KM2 = 0.01
"""Disagreement/overlap polygons smaller than this (km²) are left off the map (still counted in totals)."""

LAYER_NAMES: tuple[str, ...] = (
    "lines",
    "areas",
    "incidents",
    "places",
    "measurements",
    "viewsheds",
    "hillshade",
    "scans",
    "basemap",
)
"""What ``draw=`` (``borderkit map --layers``) can choose; ``areas`` are the disagreement/overlap polygons
(from the territories or given), ``hillshade`` the terrain image, ``scans`` the old-map images, ``basemap`` the
case's water, other borders and towns (:mod:`borderkit.maps.basemap`)."""

DEFAULT_TITLE = "Border map"
"""Title of a map whose case file gives none (a case's ``[map] title`` names the case)."""


@dataclass
class MapContext:
    """Prepared inputs shared by the interactive and the static map.

    Attributes
    ----------
    inputs
        The layers (:class:`borderkit.maps._prepare.MapInputs`).
    payload
        The JSON-ready records the page embeds.
    report
        What was done: simplification tolerance and max displacement (m),
        disagreement areas (km²), unlocated places, warnings.
    title, subtitle
        Text of the title box.
    overlays
        The image overlays (hillshade, scans).
    draw
        The layers asked for by name (``draw=``, ``borderkit map --layers``), or None for the default.
    """

    inputs: MapInputs
    payload: dict[str, Any]
    report: dict[str, Any]
    title: str
    subtitle: str
    overlays: list[RasterOverlay] = field(default_factory=list)
    draw: tuple[str, ...] | None = None


def _wsen(bounds: Any) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` from that tuple or from Leaflet's ``[[south, west], [north, east]]``."""
    b = list(bounds)
    if len(b) == 2 and all(isinstance(v, Sequence) and len(v) == 2 for v in b):
        (s, w), (n, e) = b
        return (float(w), float(s), float(e), float(n))
    if len(b) != 4:
        raise ValueError(f"bounds must be (west, south, east, north) or [[south, west], [north, east]], got {bounds!r}")
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _terrain_hillshade(dem: str | os.PathLike[str], name: str) -> RasterOverlay:
    """The hillshade of a DEM GeoTIFF, as the terrain engine computes it (Horn's kernel, Web Mercator rows).

    One implementation for every map: :func:`borderkit.terrain.hillshade.hillshade_png`,
    whatever way the DEM is given (the case's DEM, ``dem=`` or ``hillshade=`` path).
    """
    from borderkit.terrain.hillshade import hillshade_png

    res = hillshade_png(dem, opacity=1.0, web_mercator=True)
    return RasterOverlay(
        name=name,
        png=res["png"],
        bounds=_wsen(res["bounds"]),
        kind="hillshade",
        opacity=0.5,
        note=f"hillshade ({res.get('parameters', {}).get('method', 'borderkit.terrain')}) of {Path(dem).name}",
    )


def _raster_from(value: Any, *, kind: str, name: str) -> RasterOverlay:
    """A RasterOverlay from a RasterOverlay, a mapping, a ``(png, bounds)`` tuple or a GeoTIFF path."""
    from borderkit.maps import _raster

    if isinstance(value, RasterOverlay):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        if path.suffix.lower() in (".tif", ".tiff"):
            if kind == "hillshade":
                return _terrain_hillshade(path, name)
            png, bounds = _raster.scan_from_geotiff(path)
            return RasterOverlay(name=path.stem, png=png, bounds=bounds, kind=kind, opacity=0.7)
        raise TypeError(f"{path}: give a GeoTIFF, or (png, bounds) for a PNG")
    if isinstance(value, Mapping):
        return _raster_from_mapping(value, kind=kind, name=name)
    if isinstance(value, Sequence) and len(value) in (2, 3):
        src, bounds = value[0], _wsen(value[1])
        crs = value[2] if len(value) == 3 else "EPSG:4326"
        png = _raster.hillshade_from_png(src, bounds=bounds, crs=crs)
        return RasterOverlay(name=name, png=png, bounds=bounds, kind=kind)
    raise TypeError(f"cannot use {type(value).__name__} as a {kind}")


def _raster_from_mapping(value: Mapping[str, Any], *, kind: str, name: str) -> RasterOverlay:
    """A RasterOverlay from a mapping: ``path`` or ``png``, ``bounds``, ``crs``, ``name``, ``attribution``, … ."""
    from borderkit.maps import _raster

    d = dict(value)
    src = d.get("path") or d.get("png") or d.get("image")
    if src is None:
        raise TypeError(f"a {kind} mapping needs 'path' or 'png'")
    bounds = d.get("bounds")
    if bounds is None:
        base = _raster_from(src, kind=kind, name=d.get("name", name))
    else:
        bounds = _wsen(bounds)
        png = _raster.hillshade_from_png(src, bounds=bounds, crs=str(d.get("crs", "EPSG:4326")))
        base = RasterOverlay(name=name, png=png, bounds=bounds, kind=kind)
    base.name = clean_text(d.get("name", base.name))
    base.attribution = clean_text(d.get("attribution", base.attribution))
    base.licence = clean_text(d.get("licence", base.licence))
    base.note = clean_text(d.get("note", base.note))
    if d.get("opacity") is not None:
        base.opacity = float(d["opacity"])
    return base


def _case_hillshade(inputs: MapInputs, hillshade: Any, warnings: list[str]) -> None:
    """Set ``inputs.hillshade`` from *hillshade* or the inputs' DEM, crediting the DEM's sources."""
    if hillshade is False:
        return
    if hillshade is not None:
        inputs.hillshade = _raster_from(hillshade, kind="hillshade", name="Terrain: hillshade")
    elif inputs.dem is not None:
        try:
            inputs.hillshade = _terrain_hillshade(inputs.dem, "Terrain: hillshade")
        except (ImportError, ValueError, OSError) as exc:  # the map goes without it, and says so
            warnings.append(f"no hillshade of {inputs.dem.name}: {type(exc).__name__}: {exc}")
    if inputs.hillshade is not None and inputs.dem is not None and not inputs.hillshade.attribution:
        dem_sources = [s for s in inputs.dataset_sources if "dem" in s.lower() or "globe" in s.lower()]
        names = [inputs.sources.get(s, {}).get("title", s) for s in dem_sources]
        if names:
            inputs.hillshade.attribution = "hillshade computed by borderkit from " + ", ".join(names)
            inputs.hillshade.licence = ", ".join(
                sorted({inputs.sources.get(s, {}).get("licence", "") for s in dem_sources} - {""})
            )


def check_layer_names(names: Any) -> tuple[str, ...]:
    """The layer names of *names* (a sequence or a comma-separated string), checked against :data:`LAYER_NAMES`.

    Raises
    ------
    ValueError
        A name that is not a layer (the message lists the valid ones).
    """
    items = names.split(",") if isinstance(names, str) else list(names)
    out = tuple(dict.fromkeys(str(n).strip().lower() for n in items if str(n).strip()))
    bad = [n for n in out if n not in LAYER_NAMES]
    if bad:
        raise ValueError(f"unknown layer(s) {', '.join(map(repr, bad))}; choose from {', '.join(LAYER_NAMES)}")
    return out


def _keep_only(inputs: MapInputs, draw: Sequence[str]) -> None:
    """Drop the layers *draw* does not name (the hillshade is dropped before it is computed)."""
    keep = set(check_layer_names(draw))
    for name in ("lines", "incidents", "places", "measurements", "viewsheds"):
        if name not in keep:
            setattr(inputs, name, None)
    if "areas" not in keep:
        inputs.territories = None
        inputs.disagreements = None
    if "scans" not in keep:
        inputs.scans = []
    if "basemap" not in keep:
        inputs.basemap = None


def prepare_context(
    case_or_layers: Any = None,
    *,
    draw: Sequence[str] | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    hillshade: Any = None,
    scans: Sequence[Any] = (),
    simplify_m: float = DEFAULT_SIMPLIFY_M,
    min_area_km2: float = DEFAULT_MIN_AREA_KM2,
    lang: str = "en",
    **layers: Any,
) -> MapContext:
    """Collect and prepare the layers once, for :func:`make_map` and :func:`borderkit.maps.static.save_static`.

    Parameters are those of :func:`make_map`; *draw* names the layers to keep
    (:data:`LAYER_NAMES`; ``None`` keeps every layer given).
    """
    if isinstance(case_or_layers, MapContext):
        return case_or_layers
    inputs = collect_inputs(case_or_layers, **layers)
    if scans:
        inputs.scans = list(scans)
    if draw is not None:
        draw = check_layer_names(draw)
        _keep_only(inputs, draw)
        if "hillshade" not in draw:
            hillshade = False
    warnings: list[str] = []
    _case_hillshade(inputs, hillshade, warnings)
    from borderkit.maps.trace import scan_trace_records

    trace = scan_trace_records(inputs.scans, warnings)  # read from the GeoTIFF tags, before they become PNGs
    inputs.scans = [_raster_from(s, kind="scan", name=f"Old map {i + 1}") for i, s in enumerate(inputs.scans)]
    if inputs.viewsheds is not None and not hasattr(inputs.viewsheds, "geometry"):
        inputs.viewsheds = viewsheds_frame(inputs.viewsheds)
    payload, report = prepare(inputs, simplify_m=simplify_m, min_area_km2=min_area_km2, lang=lang)
    report["warnings"] = warnings + list(report.get("area_notes", []))
    payload["trace"] = trace
    for p in payload["places"]:
        p["elevation_source_short"] = short_source(p.get("elevation_source", ""))
    if title is None:
        title = inputs.title or DEFAULT_TITLE
    if subtitle is None:
        n_src = len(payload["lines"])
        subtitle = (
            f"{n_src} line source(s) · {len(payload['incidents'])} incident(s) · {len(payload['places'])} place(s)"
        )
    overlays = ([inputs.hillshade] if inputs.hillshade is not None else []) + list(inputs.scans)
    return MapContext(
        inputs=inputs,
        payload=payload,
        report=report,
        title=clean_text(title),
        subtitle=clean_text(subtitle),
        overlays=overlays,
        draw=None if draw is None else tuple(draw),
    )


def case_layers(case: Any) -> dict[str, Any]:
    """The computed layers of the case map: ``measurements`` and ``viewsheds`` (those that could be made).

    ``make_map(case, **case_layers(case))`` draws what ``borderkit map`` draws.
    """
    out: dict[str, Any] = {}
    meas = case_measurements(case)
    if meas is not None:
        out["measurements"] = meas
    vs = case_viewsheds(case)
    if vs is not None:
        out["viewsheds"] = vs
    return out
