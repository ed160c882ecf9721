"""Interactive Leaflet maps of a border dispute, as a ``folium.Map``.

:func:`make_map` builds the map from a :class:`borderkit.datasets.Case`, a dict
of layers or a list of (Geo)DataFrames; :func:`save_html` writes it as one HTML
file, byte-for-byte the same for the same inputs.

What the map shows
------------------
* one toggleable layer per line source (distinct colour and dash pattern; the
  legend gives source, date, accuracy and licence);
* polygons where two sources assign ground to different parties, and where one
  source assigns ground to two parties, with areas in km² on the WGS84
  ellipsoid;
* incidents as circle markers coloured by type, each with a ring of radius
  ``precision_m`` (metres) and a popup (date with its precision, description,
  actors, sources as links); a timeline slider shows the incidents up to a date;
* places with their names in every language the data has (az, en, hy, ru, in
  that alphabetical order, same weight), peaks with height and its source;
* measurement segments with permanent labels (value, unit, line source);
* hillshade and old map scans as image overlays with an opacity slider;
  viewshed polygons;
* layer control, metric scale bar, full screen, a measuring tool
  (Leaflet.PolylineMeasure), mouse coordinates, title, legend and a credits box
  naming every data source and licence; basemaps OpenStreetMap, OpenTopoMap and
  Esri World Imagery with their attributions.

Guarantees
----------
* **Deterministic:** element ids come from a counter (not ``uuid``), rows and
  sources are sorted, coordinates rounded to 6 decimals, JSON keys sorted.
* **Escaped:** data travel as JSON inside ``<script type="application/json">``
  (``<``, ``>``, ``&``, quotes, backtick, U+2028/2029 and bidi controls escaped)
  and are put into the page with ``textContent``; only ``http(s)`` URLs become
  links (:mod:`borderkit.maps.escape`).
* **Offline** (``offline=True``): Leaflet and plugins are inlined from the
  vendored assets, no tile layers, the hillshade is the base; the file refers to
  nothing outside itself. Online, the only requests are tiles and the pinned CDN
  assets with Subresource Integrity.

Examples
--------
>>> import borderkit
>>> from borderkit.maps import make_map, save_html        # doctest: +SKIP
>>> m = make_map(borderkit.datasets.load())                # doctest: +SKIP
>>> save_html(m, "maps/armenia-azerbaijan.html")           # doctest: +SKIP
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.maps._prepare import MapInputs, RasterOverlay, collect_inputs, credits, prepare
from borderkit.maps.escape import clean_text, html_text, script_json
from borderkit.maps.style import DISAGREEMENT_STYLE, MEASUREMENT_STYLE, OVERLAP_STYLE, VIEWSHED_STYLE

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = [
    "make_map",
    "save_html",
    "render_html",
    "prepare_context",
    "MapContext",
    "BASEMAPS",
    "DEFAULT_SIMPLIFY_M",
    "DEFAULT_TITLE",
]

DEFAULT_SIMPLIFY_M = 30.0
"""Display simplification tolerance of lines and polygons, metres."""

DEFAULT_MIN_AREA_KM2 = 0.01
"""Disagreement/overlap polygons smaller than this (km²) are left off the map (still counted in totals)."""

DEFAULT_TITLE = "Armenia–Azerbaijan: the boundary as each source draws it"

DISCLAIMER = (
    "Each line is one source's drawing of the boundary; borderkit does not decide where the border is. "
    "Distances and areas are on the WGS84 ellipsoid."
)

BASEMAPS = (
    {
        "key": "osm",
        "name": "OpenStreetMap",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)',
        "credit": "map data © OpenStreetMap contributors, ODbL-1.0; tiles © OpenStreetMap Foundation",
        "link": "https://www.openstreetmap.org/copyright",
        "max_zoom": 19,
        "subdomains": None,
    },
    {
        "key": "opentopomap",
        "name": "OpenTopoMap",
        "url": "https://{s}.tile.opentopomap.org/{z}/{x}/{y}.png",
        "attr": (
            'Map data: &copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors, SRTM'
            ' | Map style: &copy; <a href="https://opentopomap.org">OpenTopoMap</a> (CC-BY-SA)'
        ),
        "credit": "map data © OpenStreetMap contributors (ODbL-1.0), SRTM; map style © OpenTopoMap (CC-BY-SA-3.0)",
        "link": "https://opentopomap.org/about",
        "max_zoom": 17,
        "subdomains": "abc",
    },
    {
        "key": "esri",
        "name": "Satellite (Esri World Imagery)",
        "url": "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
        "attr": (
            "Tiles &copy; Esri &mdash; Source: Esri, i-cubed, USDA, USGS, AEX, GeoEye, Getmapping, Aerogrid, "
            "IGN, IGP, UPR-EGP, and the GIS User Community"
        ),
        "credit": "imagery © Esri, Maxar, Earthstar Geographics and the GIS User Community (Esri terms of use)",
        "link": "https://www.esri.com/en-us/legal/terms/full-master-agreement",
        "max_zoom": 18,
        "subdomains": None,
    },
)
"""Tile basemaps of the online map: name, URL template and the attribution each requires."""

_ID_LOCK = threading.Lock()


@contextlib.contextmanager
def _deterministic_ids(prefix: str = "bk") -> Iterator[None]:
    """Give every branca/folium element created inside the block a counter id instead of a uuid."""
    from branca.element import Element

    counter = itertools.count(1)
    with _ID_LOCK:
        original = Element.__dict__["_generate_id"]
        Element._generate_id = classmethod(lambda cls: f"{prefix}{next(counter):04d}")  # type: ignore[method-assign]
        try:
            yield
        finally:
            Element._generate_id = original  # type: ignore[method-assign]


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
    """

    inputs: MapInputs
    payload: dict[str, Any]
    report: dict[str, Any]
    title: str
    subtitle: str
    overlays: list[RasterOverlay] = field(default_factory=list)


def _short_source(text: str, limit: int = 40) -> str:
    short = re.split(r"[(;]", text, maxsplit=1)[0].strip().rstrip(",")
    if len(short) > limit:
        short = short[: limit - 1].rstrip() + "…"
    return short


def _wsen(bounds: Any) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` from that tuple or from Leaflet's ``[[south, west], [north, east]]``."""
    b = list(bounds)
    if len(b) == 2 and all(isinstance(v, Sequence) and len(v) == 2 for v in b):
        (s, w), (n, e) = b
        return (float(w), float(s), float(e), float(n))
    if len(b) != 4:
        raise ValueError(f"bounds must be (west, south, east, north) or [[south, west], [north, east]], got {bounds!r}")
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _terrain_hillshade(dem: Path, name: str) -> RasterOverlay | None:
    """The terrain engine's hillshade of *dem* (``borderkit.terrain``), or ``None`` when it is unavailable."""
    try:
        from borderkit.terrain.hillshade import hillshade_png
    except ImportError:
        return None
    res = hillshade_png(dem, opacity=1.0, web_mercator=True)
    if str(res.get("crs", "")).upper() != "EPSG:3857":
        return None
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
                png, bounds = _raster.hillshade_from_dem(path)
                return RasterOverlay(
                    name=name, png=png, bounds=bounds, kind=kind, opacity=0.5, note=f"hillshade of {path.name}"
                )
            png, bounds = _raster.scan_from_geotiff(path)
            return RasterOverlay(name=path.stem, png=png, bounds=bounds, kind=kind, opacity=0.7)
        raise TypeError(f"{path}: give a GeoTIFF, or (png, bounds) for a PNG")
    if isinstance(value, Mapping):
        d = dict(value)
        src = d.get("path") or d.get("png") or d.get("image")
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
    if isinstance(value, Sequence) and len(value) in (2, 3):
        src, bounds = value[0], _wsen(value[1])
        crs = value[2] if len(value) == 3 else "EPSG:4326"
        png = _raster.hillshade_from_png(src, bounds=bounds, crs=crs)
        return RasterOverlay(name=name, png=png, bounds=bounds, kind=kind)
    raise TypeError(f"cannot use {type(value).__name__} as a {kind}")


def prepare_context(
    case_or_layers: Any = None,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    hillshade: Any = None,
    scans: Sequence[Any] = (),
    simplify_m: float = DEFAULT_SIMPLIFY_M,
    min_area_km2: float = DEFAULT_MIN_AREA_KM2,
    **layers: Any,
) -> MapContext:
    """Collect and prepare the layers once, for :func:`make_map` and :func:`borderkit.maps.static.save_static`.

    Parameters are those of :func:`make_map`.
    """
    if isinstance(case_or_layers, MapContext):
        return case_or_layers
    inputs = collect_inputs(case_or_layers, **layers)
    warnings: list[str] = []
    if hillshade is not False:
        if hillshade is not None:
            inputs.hillshade = _raster_from(hillshade, kind="hillshade", name="Terrain: hillshade")
        elif inputs.dem is not None:
            try:
                inputs.hillshade = _terrain_hillshade(inputs.dem, "Terrain: hillshade")
            except Exception as exc:  # noqa: BLE001 - fall back to the maps' own hillshade, and say so
                warnings.append(f"terrain engine hillshade failed ({type(exc).__name__}: {exc}); used the maps' own")
            if inputs.hillshade is None:
                try:
                    inputs.hillshade = _raster_from(inputs.dem, kind="hillshade", name="Terrain: hillshade")
                except ImportError as exc:
                    warnings.append(f"no hillshade: {exc}")
        if inputs.hillshade is not None and inputs.dem is not None and not inputs.hillshade.attribution:
            dem_sources = [s for s in inputs.dataset_sources if "dem" in s.lower() or "globe" in s.lower()]
            names = [inputs.sources.get(s, {}).get("title", s) for s in dem_sources]
            if names:
                inputs.hillshade.attribution = "hillshade computed by borderkit from " + ", ".join(names)
                inputs.hillshade.licence = ", ".join(
                    sorted({inputs.sources.get(s, {}).get("licence", "") for s in dem_sources} - {""})
                )
    inputs.scans = [_raster_from(s, kind="scan", name=f"Old map {i + 1}") for i, s in enumerate(scans or inputs.scans)]
    if inputs.viewsheds is not None and not hasattr(inputs.viewsheds, "geometry"):
        inputs.viewsheds = viewsheds_frame(inputs.viewsheds)
    payload, report = prepare(inputs, simplify_m=simplify_m, min_area_km2=min_area_km2)
    report["warnings"] = warnings
    for p in payload["places"]:
        p["elevation_source_short"] = _short_source(p.get("elevation_source", ""))
    if title is None:
        title = DEFAULT_TITLE if inputs.name == "armenia-azerbaijan" else "Border map"
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
    )


def _viewshed_details(params: Mapping[str, Any]) -> list[list[str]]:
    """Popup rows (label, text) naming every parameter of a terrain-engine viewshed.

    Only names and numbers go into the page, never file paths (``dem.sources``
    holds absolute paths of the machine that rendered the map).
    """
    rows: list[list[str]] = []

    def num(key: str, src: Mapping[str, Any] = params) -> float | None:
        try:
            v = float(src.get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return v if v == v else None

    obs = params.get("observer")
    if isinstance(obs, Mapping):
        lat = num("cell_center_lat", obs) if num("cell_center_lat", obs) is not None else num("lat", obs)
        lon = num("cell_center_lon", obs) if num("cell_center_lon", obs) is not None else num("lon", obs)
        text = f"{lat:.5f}° N, {lon:.5f}° E" if lat is not None and lon is not None else ""
        if num("cell_center_lat", obs) is not None:
            text += " (centre of the DEM cell holding the observer)"
        if num("ground_m", obs) is not None and num("eye_m", obs) is not None:
            text += f"; ground {num('ground_m', obs):,.0f} m, eye {num('eye_m', obs):,.0f} m above sea level"
        if text:
            rows.append(["observer", text])
    if num("observer_height_m") is not None:
        rows.append(["observer height", f"{num('observer_height_m'):g} m above the ground"])
    if num("target_height_m") is not None:
        rows.append(["target height", f"{num('target_height_m'):g} m above the ground"])
    if num("radius_m") is not None:
        rows.append(["radius", f"{num('radius_m') / 1000:g} km (geodesic)"])
    dem = params.get("dem")
    if isinstance(dem, Mapping):
        bits = [clean_text(dem.get("name", ""))]
        if num("resolution_ew_m", dem) is not None and num("resolution_ns_m", dem) is not None:
            bits.append(f"cell {num('resolution_ew_m', dem):.0f} m × {num('resolution_ns_m', dem):.0f} m")
        if num("vertical_accuracy_m", dem) is not None:
            bits.append(f"vertical accuracy ± {num('vertical_accuracy_m', dem):g} m")
        rows.append(["DEM", "; ".join(b for b in bits if b)])
    elif dem:
        rows.append(["DEM", clean_text(dem)])
    if "curvature" in params:
        if params.get("curvature"):
            text = "Earth curvature on"
            if num("refraction_coefficient") is not None:
                text += f", refraction k = {num('refraction_coefficient'):g}"
            if num("effective_earth_radius_m") is not None:
                text += f" (effective Earth radius {num('effective_earth_radius_m') / 1000:,.0f} km)"
            rows.append(["curvature", text])
        else:
            rows.append(["curvature", "off (flat Earth)"])
    for key, label in (
        ("algorithm", "algorithm"),
        ("distance_method", "distances"),
        ("dem_resolution_caveat", "resolution"),
        ("ray_offset_note", "rays"),
    ):
        if params.get(key):
            rows.append([label, clean_text(params[key])])
    return rows


def viewsheds_frame(viewsheds: Any) -> Any:
    """Polygons (GeoDataFrame, EPSG:4326) of the visible cells of terrain-engine viewsheds.

    *viewsheds* is one object or a sequence of objects with ``array`` (1 =
    visible), ``transform``, ``crs`` and ``parameters`` (as
    ``borderkit.terrain.visibility.Viewshed``). A ``Viewshed``'s own
    ``polygons()`` is used: its visible polygons (the outlines of the visible
    cells) are joined into one geometry per viewshed and ``area_km2`` is the sum
    of their cells' areas on the WGS84 ellipsoid; other objects are polygonised
    with ``rasterio.features.shapes``. Geometries are at full resolution (the
    map simplifies them for display like every polygon).

    Returns
    -------
    geopandas.GeoDataFrame or None
        ``name``, ``observer_height_m``, ``method``, ``area_km2`` (NaN when
        not known), ``show`` (True), ``details`` (JSON list of ``[label, text]``
        popup rows naming every parameter), geometry; ``None`` when nothing is
        visible.
    """
    import json

    import geopandas as gpd
    import numpy as np
    import shapely
    from rasterio import features

    items = viewsheds if isinstance(viewsheds, Sequence) else [viewsheds]
    rows = []
    for i, v in enumerate(items):
        area = float("nan")
        if callable(getattr(v, "polygons", None)):
            g = v.polygons()
            vis = g[g["visible"].astype(bool)]
            polys = list(vis.geometry)
            crs = g.crs
            if len(vis) and "area_km2" in vis:
                area = float(vis["area_km2"].sum())
        else:
            mask = np.asarray(v.array) == 1
            polys = [
                shapely.geometry.shape(geom)
                for geom, val in features.shapes(mask.astype(np.uint8), mask=mask, transform=v.transform)
                if val == 1
            ]
            crs = v.crs
        if not polys:
            continue
        geom = shapely.union_all(polys)
        frame = gpd.GeoSeries([geom], crs=crs).to_crs("EPSG:4326")
        params = dict(getattr(v, "parameters", {}) or {})
        observer = params.get("observer") or params.get("observer_lonlat")
        if isinstance(observer, Mapping) and "lon" in observer and "lat" in observer:
            label = f"observer at {float(observer['lat']):.4f}° N, {float(observer['lon']):.4f}° E"
        elif isinstance(observer, Sequence) and not isinstance(observer, str) and len(observer) == 2:
            label = f"observer at {float(observer[1]):.4f}° N, {float(observer[0]):.4f}° E"
        else:
            label = str(observer or f"viewshed {i + 1}")
        method = params.get("method") or "borderkit.terrain viewshed"
        if params.get("radius_m"):
            method += f", radius {float(params['radius_m']):,.0f} m"
        dem = params.get("dem")
        if dem:
            method += f", DEM {dem.get('name', '') if isinstance(dem, Mapping) else dem}"
        rows.append(
            {
                "name": str(params.get("name") or label),
                "observer_height_m": params.get("observer_height_m"),
                "method": str(method),
                "area_km2": area,
                "show": True,
                "details": json.dumps(_viewshed_details(params), ensure_ascii=False),
                "geometry": frame.iloc[0],
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else None


# ---------------------------------------------------------------------------------------------
# the bundled case: measurements from the claims table, a viewshed from the terrain engine

CASE_MAP_READINGS: dict[str, tuple[str, ...]] = {"nakhchivan-25km-straight-line": ("(a)",)}
"""Readings drawn on the case map, per claim; every measured reading of a claim not listed here is drawn.

Reading (b) of the Nakhchivan claim (distances from four Syunik places to Nakhchivan, 16 long
segments across the map) is summarised in the popup of reading (a) ("other readings") instead."""

CASE_MAP_LABELS: dict[tuple[str, str], dict[str, Any]] = {
    # below the line point, under Khndzoresk's own label
    ("khndzoresk-12km-from-border", "(a)"): {"label_at": "to", "label_direction": "bottom"},
    # well above and left of the crossing: Lachin's label is to its north-east, Tegh's and Kornidzor's
    # below it, Sev Lake's (a long one) to the west at zoom 10
    ("khndzoresk-12km-from-border", "(b)"): {"label_at": "to", "label_direction": "top", "label_offset": [-80, -44]},
    # above the line point, clear of the labels of Sev Lake and Mets Ishkhanasar (both to the right of theirs)
    ("sev-lake-advance-3.5km", "(a)"): {"label_at": "to", "label_direction": "top", "label_offset": [-60, -8]},
    ("sev-lake-advance-3km", "(a)"): {"label_at": "to", "label_direction": "top", "label_offset": [-60, -8]},
    # left of the Nakhchivan end, over ground with no place labels; shown at every zoom (nothing near it)
    ("nakhchivan-25km-straight-line", "(a)"): {"label_at": "from", "label_direction": "left", "label_min_zoom": None},
}
"""Where each permanent label of the case map sits (``label_at``, ``label_direction``,
``label_offset``, optionally ``label_min_zoom``), chosen so that the measurement labels overlap
neither each other nor the place labels at zoom 10–12."""

CASE_MEASUREMENT_LABEL_MIN_ZOOM = 10
"""Zoom from which the case map's measurement labels in Syunik show (below it they would stack on each
other and on the place labels; the Nakhchivan gap's label shows at every zoom)."""

MINUS = "\u2212"


def _length_text(value: float, unit: str, *, signed: bool = False) -> str:
    """A length in its unit: km with 2 decimals below 10 and 1 above, m without decimals; optional sign."""
    v = abs(value) if signed else value
    if unit == "km":
        text = f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    elif unit == "m":
        text = f"{v:,.0f}"
    else:
        text = f"{v:g}"
    if signed:
        sign = "+" if value > 0 and text.strip("0.,") else MINUS if value < 0 and text.strip("0.,") else ""
        text = sign + text
    return f"{text} {unit}".strip()


def _range_text(values: Sequence[float], unit: str, *, signed: bool = False) -> str:
    lo, hi = min(values), max(values)
    n = len(values)
    if n < 2:
        return ""
    if signed:
        return f"{n} lines: {_length_text(lo, unit, signed=True)} to {_length_text(hi, unit, signed=True)}"
    a, b = _length_text(lo, unit), _length_text(hi, unit)
    return f"{n} lines: {a.removesuffix(' ' + unit)}–{b}"


def _place_names(case: Any) -> dict[str, str]:
    places = getattr(case, "places", None)
    if places is None or not len(places):
        return {}
    return {
        str(r["place_id"]): _short_source(clean_text(r.get("name_en", "")), 40) or str(r["place_id"])
        for _, r in places.iterrows()
    }


_PLACE_IN_FEATURES = re.compile(r"place:([^\s;]+)")
_INTO_IN_METHOD = re.compile(r"beyond the line into ([^)\s]+)\)")


def _reading_of(claim_id: str, label: str, claim: Mapping[str, Any] | None) -> Any:
    """The :class:`borderkit.claims.Reading` with this label (``None`` when unknown)."""
    from borderkit.claims import CASE_READINGS, default_readings

    options = CASE_READINGS.get(claim_id) or (default_readings(claim) if claim is not None else [])
    return next((r for r in options if r.label == label), None)


def _what_label(reading: Any, row: Mapping[str, Any], claim: Mapping[str, Any] | None, names: Mapping[str, str]) -> str:
    """Short text saying what a segment measures (the first line of its label)."""
    found = _PLACE_IN_FEATURES.search(str(row.get("features", "")))
    pid = found.group(1) if found else (getattr(reading, "place", "") or "")
    place = names.get(pid, pid)
    kind = getattr(reading, "kind", "")
    reference = str((claim or {}).get("reference", ""))
    if kind == "point_to_line":
        return f"{place} → line, shortest"
    if kind == "toward_to_line":
        toward = names.get(reading.toward, reading.toward)
        return f"{place} → line, toward {toward}"
    if kind == "territory_gap":
        party, _, part = reference.partition(":")[2].partition("/")
        return f"{names.get(part, part) or party} ↔ mainland {party}: narrowest gap"
    if kind == "point_to_territory":
        _, _, part = reference.partition(":")[2].partition("/")
        return f"{place} → {names.get(part, part)}"
    if kind == "advance_depth":
        into = _INTO_IN_METHOD.search(str(row.get("method", "")))
        return f"{place}: depth into {into.group(1)}" if into else f"{place}: depth beyond the line"
    return clean_text(row.get("reading_text", ""))[:60] or clean_text(row.get("claim_id", ""))


def _verdict_mark(verdict: str) -> str:
    return {"consistent": "✓", "inconsistent": "✗"}.get(verdict, "–")


def case_measurements(
    case: Any,
    *,
    table: Any = None,
    readings: Mapping[str, Sequence[str]] | None = None,
    primary_source: str | None = None,
    labels: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    label_min_zoom: int | None = CASE_MEASUREMENT_LABEL_MIN_ZOOM,
) -> Any:
    """Measurement segments of a case's claims, from the claims table (``None`` when there are none).

    The table is :func:`borderkit.claims.evaluate_claims` (every claim × reading
    × line source, with the measured points). One segment is drawn per measured
    reading and line source, from the table's points: place → nearest point of
    the line (``point_to_line``), place → where the geodesic toward another
    place meets the line (``toward_to_line``), the two nearest points of a gap
    (``territory_gap``), place → territory; for an advance depth the segment
    runs from the nearest point of the line to the place and its value is the
    signed depth (positive beyond the line, in the party advanced into), and
    the popup adds the reach test (:func:`borderkit.measure.advance_reach`:
    does an advance of the claimed depth from this line reach the place?).
    Heights (``dem_peak``) are not segments: the peak's label shows them.

    Labels: per reading one segment — the one measured on *primary_source*
    (default: the line source with the smallest stated ``scale_or_accuracy_m``,
    the most detailed drawing) — carries a permanent label "what · value ·
    line: source" and the range over all sources; the other sources' segments
    are thinner and show their label on hover. Every segment's popup gives the
    claim's statement, claimed value, this source's verdict and accepted range,
    the claim's overall verdict, all sources' values for the reading, the other
    readings, the method and notes.

    Parameters
    ----------
    case
        A :class:`borderkit.datasets.Case`.
    table
        An :func:`~borderkit.claims.evaluate_claims` table (computed when not given).
    readings
        ``{claim_id: (reading label, …)}``: readings to draw (default
        :data:`CASE_MAP_READINGS`); claims not listed: every measured reading.
    primary_source
        Line source whose segments are labelled (when it measured the reading).
    labels
        ``{(claim_id, reading): {"label_at", "label_direction"}}`` (default
        :data:`CASE_MAP_LABELS`).
    label_min_zoom
        Zoom from which the permanent labels show (``None``: always).

    Returns
    -------
    pandas.DataFrame or None
        The columns :func:`make_map` takes as ``measurements``; ``attrs["map_note"]``
        says which source is labelled (shown in the legend).
    """
    import math

    import pandas as pd

    claims = getattr(case, "claims", None)
    lines = getattr(case, "lines", None)
    if claims is None or lines is None or not len(claims) or not len(lines):
        return None
    try:
        from borderkit import measure as M
        from borderkit.claims import UNITS_TO_METRES, evaluate_claims
    except ImportError:  # pragma: no cover - part of borderkit
        return None
    if table is None:
        table = evaluate_claims(case)
    readings = CASE_MAP_READINGS if readings is None else readings
    labels = CASE_MAP_LABELS if labels is None else labels
    names = _place_names(case)
    claim_rows = {str(r["claim_id"]): r.to_dict() for _, r in claims.iterrows()}
    accuracy = lines.groupby("source")["scale_or_accuracy_m"].min()
    rank = sorted((str(s) for s in accuracy.index), key=lambda s: (float(accuracy[s]), s))
    order = {s: i for i, s in enumerate(rank)}
    primary = primary_source or (rank[0] if rank else "")

    def finite(x: Any) -> bool:
        try:
            return math.isfinite(float(x))
        except (TypeError, ValueError):
            return False

    t = table.copy()
    t["_measured"] = [
        finite(r.measured_m) and all(finite(getattr(r, c)) for c in ("from_lon", "from_lat", "to_lon", "to_lat"))
        for r in t.itertuples(index=False)
    ]

    def reading_summary(g: Any, unit: str, signed: bool) -> str:
        m = g[g["_measured"]]
        if not len(m):
            reasons = sorted({clean_text(x) for x in g["reason"] if clean_text(x)})
            return "cannot be measured" + (f" — {reasons[0]}" if reasons else "")
        vals = [float(v) for v in m["measured_value"]]
        rng = _range_text(vals, unit, signed=signed) or _length_text(vals[0], unit, signed=signed)
        verdicts = sorted(set(m["verdict"]))
        return f"{rng} ({', '.join(verdicts)})"

    rows = []
    measured = t[t["_measured"] & (t["quantity"] != "elevation")]
    for (cid, rlabel), g in measured.groupby(["claim_id", "reading"], sort=True):
        cid, rlabel = str(cid), str(rlabel)
        if cid in readings and rlabel not in readings[cid]:
            continue
        claim = claim_rows.get(cid)
        first = g.iloc[0].to_dict()
        unit = str(first["claimed_unit"])
        per_unit = UNITS_TO_METRES.get(unit, 1.0)
        signed = str(first["quantity"]) == "advance_depth"
        reading = _reading_of(cid, rlabel, claim)
        what = _what_label(reading, first, claim, names)
        g = g.assign(_rank=[order.get(str(s), len(order)) for s in g["source"]]).sort_values(["_rank", "source"])
        sources = [str(s) for s in g["source"]]
        labelled = primary if primary in sources else sources[0]
        values = [float(v) for v in g["measured_value"]]
        range_text = _range_text(values, unit, signed=signed)
        all_sources = " · ".join(
            f"{s} {_length_text(v, unit, signed=signed)} {_verdict_mark(str(vd))}"
            for s, v, vd in zip(sources, values, g["verdict"], strict=True)
        )
        all_rows = t[t["claim_id"] == cid]
        others = []
        for other, og in all_rows.groupby("reading", sort=False):
            if str(other) == rlabel:
                continue
            text = clean_text(og["reading_text"].iloc[0])
            others.append(f"{other} {text}: {reading_summary(og, unit, signed)}")
        # the reach test of an advance: does an advance of the claimed depth from each line reach the place?
        reach: dict[str, str] = {}
        if signed:
            into = _INTO_IN_METHOD.search(str(first.get("method", "")))
            parties = str((claim or {}).get("reference", "")).partition(":")[2].split("|")
            if into:
                advance_m = float(first["claimed_m"])
                place_xy = (float(first["from_lon"]), float(first["from_lat"]))
                try:
                    r = M.advance_reach(
                        *place_xy,
                        lines=lines,
                        into=into.group(1),
                        advance_m=advance_m,
                        sources=sources,
                        pair=[p for p in parties if p] or None,
                    )
                except Exception:  # noqa: BLE001 - the popup just goes without it
                    r = None
                if r is not None:
                    claimed = _length_text(float(first["claimed_value"]), unit)
                    for rr in r.itertuples(index=False):
                        margin = _length_text(float(rr.reach_margin_m) / per_unit, unit)
                        if not rr.beyond_line:
                            reach[str(rr.source)] = (
                                f"the place is not beyond this line (it is on the {rr.party} side): an advance of "
                                f"{claimed} into {into.group(1)} need not have reached it"
                            )
                        elif rr.within_reach:
                            reach[str(rr.source)] = (
                                f"an advance of {claimed} from this line reaches the place, with {margin} to spare"
                            )
                        else:
                            reach[str(rr.source)] = (
                                f"an advance of {claimed} from this line stops {margin.lstrip('-')} short of the place"
                            )
        placement = dict(labels.get((cid, rlabel), {}))
        for (_, r), value in zip(g.iterrows(), values, strict=True):
            src = str(r["source"])
            frm = (float(r["from_lon"]), float(r["from_lat"]))
            to = (float(r["to_lon"]), float(r["to_lat"]))
            if signed:  # the depth runs from the line to the place
                frm, to = to, frm
            hi = float(r["accept_max_m"])
            accept_hi = _length_text(hi / per_unit, unit) if math.isfinite(hi) else "∞"
            accept = (
                f"{_length_text(float(r['accept_min_m']) / per_unit, unit, signed=signed)} to "
                f"{accept_hi}: the claim read as {clean_text(r['tolerance_text'])}, widened by the "
                f"uncertainty ± {_length_text(float(r['uncertainty_m']) / per_unit, unit)} "
                "(line accuracy and point precision)"
            )
            rows.append(
                {
                    "measurement_id": f"{cid} {rlabel} {src}",
                    "claim_id": cid,
                    "label": what,
                    "from_lon": frm[0],
                    "from_lat": frm[1],
                    "to_lon": to[0],
                    "to_lat": to[1],
                    "value": value,
                    "unit": unit,
                    "value_text": _length_text(value, unit, signed=signed),
                    "range_text": range_text,
                    "line_source": src,
                    "quantity": str(r["quantity"]),
                    "permanent": src == labelled,
                    "label_min_zoom": placement.get("label_min_zoom", label_min_zoom),
                    "label_at": placement.get("label_at", "mid"),
                    "label_direction": placement.get("label_direction", "center"),
                    "label_offset": list(placement.get("label_offset", (0, 0))),
                    "statement": str(r["statement"]),
                    "claimed_value": float(r["claimed_value"]),
                    "claimed_unit": unit,
                    "qualifier": str(r["qualifier"]),
                    "reading": f"{rlabel} {clean_text(r['reading_text'])}",
                    "verdict": f"{r['verdict']} (on {src})",
                    "accept": accept,
                    "reach": reach.get(src, ""),
                    "claim_verdict": str(r["claim_verdict"]),
                    "all_sources": all_sources,
                    "other_readings": " | ".join(others),
                    "method": str(r["method"]),
                    "note": str(r["note"]),
                    "features": str(r["features"]),
                }
            )
    if not rows:
        return None
    df = pd.DataFrame(rows)
    acc = float(accuracy[primary]) if primary in accuracy.index else float("nan")
    df.attrs["map_note"] = (
        f"Each measurement is labelled on one line source, {primary}"
        + (
            f" (the smallest stated accuracy figure, ± {acc:g} m: the most detailed drawing, not a more "
            "authoritative one)"
            if acc == acc
            else ""
        )
        + ", with the range over every source; the thin segments are the other sources (hover or click). "
        "Depths are signed: + beyond the line, − short of it."
    )
    return df


def case_viewsheds(
    case: Any,
    *,
    place: str = "mets_ishkhanasar",
    radius_m: float = 30_000.0,
    observer_height_m: float = 2.0,
    show: bool = False,
) -> Any:
    """The viewshed from a peak of the case on the case DEM, as polygons for :func:`make_map` (or ``None``).

    The observer stands on the highest DEM cell near the peak's listed point
    (:func:`borderkit.terrain.peaks.peak_check`), *observer_height_m* above it:
    on a 1 km DEM the cell containing the listed point can be a shoulder well
    below the summit. The viewshed is :func:`borderkit.terrain.visibility.viewshed`
    (curvature and refraction k = 0.13, target on the ground) and its visible
    cells are ``Viewshed.polygons()``, joined; the map simplifies them for
    display like every polygon. The layer is off by default (*show*).

    Returns ``None`` when the case has no DEM, the peak is unlocated or the
    terrain engine (rasterio) is not installed.
    """
    import json

    dem_path = getattr(case, "dem", None)
    if not dem_path:
        return None
    try:
        from borderkit.terrain.dem import open_dem
        from borderkit.terrain.peaks import peak_check
        from borderkit.terrain.visibility import viewshed
    except ImportError:
        return None
    from borderkit.errors import BorderkitError

    try:
        dem = open_dem(dem_path)
        pk = peak_check(place, places=case.places, dem=dem)
    except (BorderkitError, ImportError):
        return None
    at = pk["dem_max_at"]
    v = viewshed((float(at["lon"]), float(at["lat"])), dem=dem, radius_m=radius_m, observer_height_m=observer_height_m)
    frame = viewsheds_frame([v])
    if frame is None:
        return None
    name = _place_names(case).get(pk.get("place_id") or place, place)
    dem_name = clean_text(pk["dem"].get("name", "DEM"))
    dem_short = _short_source(dem_name)
    frame["name"] = f"Viewshed from {name} ({dem_short}, observer {observer_height_m:g} m, {radius_m / 1000:g} km)"
    frame["show"] = bool(show)
    listed = ""
    if pk.get("reported_m") is not None:
        listed = f"; the listed summit height is {float(pk['reported_m']):,.0f} m"
    observer = [
        "observer point",
        f"the highest {dem_short} cell within {float(pk['search_radius_m']):,.0f} m of {name}'s listed point "
        f"({float(at['lat']):.5f}° N, {float(at['lon']):.5f}° E, {float(pk['dem_max_m']):,.0f} m{listed}); "
        "on a 1 km grid the cell containing the listed point can be a shoulder below the summit",
    ]
    shown = [
        "display",
        "the outlines of the visible DEM cells (rasterio.features.shapes via Viewshed.polygons), "
        "simplified for display like every polygon of the map; the area is the exact ellipsoidal area of the "
        "visible cells",
    ]
    frame["details"] = [json.dumps([observer, *json.loads(d), shown], ensure_ascii=False) for d in frame["details"]]
    return frame


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


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _map_class() -> type:
    import folium

    class BorderkitMap(folium.Map):
        """A ``folium.Map`` that loads no external JS/CSS of its own (borderkit adds pinned assets)."""

        default_js: list[tuple[str, str]] = []
        default_css: list[tuple[str, str]] = []

    return BorderkitMap


def _raw_element(text: str) -> Any:
    """A branca element that renders *text* verbatim (not as a Jinja template)."""
    from branca.element import Element

    class Raw(Element):
        def __init__(self, value: str) -> None:
            super().__init__()
            self._name = "Raw"
            self.value = value

        def render(self, **kwargs: Any) -> str:
            return self.value

    return Raw(text)


def _layers_element(
    groups: dict[str, Any], overlays: dict[str, Any], bases: dict[str, Any], map_obj: Any, data_json: str
) -> Any:
    """The element that embeds the map's data (escaped JSON) and calls ``borderkit.build``.

    It is a plain branca ``Element`` that adds *verbatim* children to the page: a
    ``MacroElement``'s output is compiled again as a Jinja template by branca
    (``Element(macro_output)``), so data inside it would be evaluated as template
    code. Here no template engine sees the data: the JSON goes into the page as it
    is, and the script is built from element names and JSON-escaped constant keys.
    """
    from branca.element import Element

    map_name = map_obj.get_name()
    data_id = f"bk-data-{map_name}"

    def refs(items: dict[str, Any]) -> str:
        return ", ".join(f"{script_json(k)}: {v.get_name()}" for k, v in items.items())

    html = f'<script type="application/json" id="{data_id}">{data_json}</script>'
    script = (
        f"var borderkit_layers_{map_name} = borderkit.build({map_name}, "
        f"{{groups: {{{refs(groups)}}}, overlays: {{{refs(overlays)}}}, bases: {{{refs(bases)}}}}}, "
        f"JSON.parse(document.getElementById({script_json(data_id)}).textContent));"
    )

    class BorderkitLayers(Element):
        def __init__(self) -> None:
            super().__init__()
            self._name = "BorderkitLayers"

        def render(self, **kwargs: Any) -> str:
            figure = self.get_root()
            figure.html.add_child(_raw_element(html), name=self.get_name())
            figure.script.add_child(_raw_element(script), name=self.get_name())
            return ""

    return BorderkitLayers()


def make_map(
    case_or_layers: Any = None,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    offline: bool = False,
    lines: Any = None,
    territories: Any = None,
    incidents: Any = None,
    places: Any = None,
    claims: Any = None,
    measurements: Any = None,
    disagreements: Any = None,
    viewsheds: Any = None,
    hillshade: Any = None,
    dem: str | os.PathLike[str] | None = None,
    scans: Sequence[Any] = (),
    simplify_m: float = DEFAULT_SIMPLIFY_M,
    min_area_km2: float = DEFAULT_MIN_AREA_KM2,
    basemaps: bool = True,
    collapsed_layers: bool = True,
    label_min_zoom: int = 9,
) -> folium.Map:
    """Build the interactive map.

    Parameters
    ----------
    case_or_layers
        A :class:`borderkit.datasets.Case`, a dict ``{"lines": gdf, …}``, one
        (Geo)DataFrame or a list of them (kind told by the id column), a
        :class:`MapContext` from :func:`prepare_context`, or ``None`` (only the
        keyword layers).
    title, subtitle
        Text of the title box (escaped). The default title names the case.
    offline
        Inline Leaflet and plugins, drop the tile basemaps and show the
        hillshade as the base: a single self-contained file.
    lines, territories, incidents, places, claims
        Layers following the schemas in :mod:`borderkit.schema`; they replace
        those of *case_or_layers*.
    measurements
        DataFrame of measurement segments: ``from_lon``, ``from_lat``,
        ``to_lon``, ``to_lat``, ``value``, ``unit``, ``line_source`` (optional
        ``claim_id``/``label``, ``claimed_value``, ``claimed_unit``,
        ``qualifier``, ``quantity``, ``statement``, ``method``). Drawn with a
        permanent label "value · line: source".
    disagreements
        GeoDataFrame of disagreement polygons (``source_a``, ``party_a``,
        ``source_b``, ``party_b``, optional ``kind``, ``area_km2``); computed
        from *territories* when not given.
    viewsheds
        GeoDataFrame of viewshed polygons (optional ``name``/``observer``,
        ``observer_height_m``, ``method``).
    hillshade
        ``None`` (compute from the DEM when there is one), ``False`` (none), a
        GeoTIFF DEM path, ``(png, (west, south, east, north))`` or
        ``(png, bounds, crs)`` for a hillshade image on a lon/lat grid
        (EPSG:4326, re-gridded here) or already in EPSG:3857, or a mapping with
        ``png``/``path``, ``bounds``, ``crs``, ``name``, ``attribution``,
        ``licence``.
    dem
        DEM GeoTIFF (replaces the case's).
    scans
        Georeferenced scans of old maps: GeoTIFF paths or mappings
        ``{"path", "name", "attribution", "licence", "opacity"}``.
    simplify_m
        Display simplification tolerance in metres (0 keeps every vertex).
    min_area_km2
        Smallest disagreement polygon drawn.
    basemaps
        Add the three tile basemaps (ignored when *offline*).
    collapsed_layers
        Collapse the layer control to an icon.
    label_min_zoom
        Zoom below which place labels hide, except those of cities and peaks
        (every place keeps its popup with all its names).

    Returns
    -------
    folium.Map
        With ``borderkit_report`` (dict: simplification, areas, warnings) and
        ``borderkit_offline`` attributes.
    """
    import folium
    from folium.raster_layers import ImageOverlay

    from borderkit.maps._assets import head_html, software_credits

    ctx = prepare_context(
        case_or_layers,
        title=title,
        subtitle=subtitle,
        hillshade=hillshade,
        scans=scans,
        simplify_m=simplify_m,
        min_area_km2=min_area_km2,
        lines=lines,
        territories=territories,
        incidents=incidents,
        places=places,
        claims=claims,
        measurements=measurements,
        disagreements=disagreements,
        viewsheds=viewsheds,
        dem=dem,
    )
    payload = dict(ctx.payload)
    west, south, east, north = payload["bounds"]
    use_tiles = basemaps and not offline

    with _deterministic_ids():
        m = _map_class()(
            location=[round((south + north) / 2, 6), round((west + east) / 2, 6)],
            zoom_start=8,
            tiles=None,
            control_scale=False,
            prefer_canvas=False,
        )
        root = m.get_root()
        root.title = html_text(ctx.title)
        root.header.add_child(_raw_element(head_html(offline=offline)), name="borderkit_assets")

        # Layer names never go to folium's LayerControl: its output is compiled again as a Jinja
        # template by branca. The page script builds the layer control from the JSON data instead
        # (``layer_control``), so folium layers get control=False and their names stay out of the page.
        bases: dict[str, Any] = {}
        control_bases: list[dict[str, str]] = []
        control_overlays: list[dict[str, str]] = []
        if use_tiles:
            for i, b in enumerate(BASEMAPS):
                bases[b["key"]] = folium.TileLayer(
                    tiles=b["url"],
                    attr=b["attr"],
                    name=b["name"],
                    max_zoom=b["max_zoom"],
                    overlay=False,
                    control=False,
                    show=i == 0,
                    **({"subdomains": b["subdomains"]} if b["subdomains"] else {}),
                ).add_to(m)
                control_bases.append({"key": b["key"], "name": b["name"]})

        overlays: dict[str, Any] = {}
        overlay_meta = []
        for i, ov in enumerate(ctx.overlays):
            key = f"image{i}"
            w, s, e, n = ov.bounds
            hill = ov.kind == "hillshade"
            opacity = 1.0 if (hill and offline) else ov.opacity
            label = ("Terrain: " if hill else "Old map: ") + ov.name.removeprefix("Terrain: ")
            layer = ImageOverlay(
                image=_data_url(ov.png),
                bounds=[[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]],
                name=key,
                control=False,
                opacity=opacity,
                show=(not hill) or offline or not use_tiles,
                pixelated=False,
                interactive=False,
                zindex=1 if hill else 2,
            )
            layer.add_to(m)
            overlays[key] = layer
            control_overlays.append({"key": key, "name": label})
            overlay_meta.append(
                {
                    "key": key,
                    "name": ov.name,
                    "kind": ov.kind,
                    "opacity": opacity,
                    "attribution": ov.attribution,
                    "licence": ov.licence,
                    "note": ov.note,
                }
            )

        groups: dict[str, Any] = {}

        def group(key: str, name: str, *, show: bool = True) -> None:
            # layer_name keeps the label for code that looks groups up by it (it is rendered nowhere)
            fg = folium.FeatureGroup(name=name, overlay=True, control=False, show=show)
            fg.add_to(m)
            groups[key] = fg
            control_overlays.append({"key": key, "name": name})

        line_groups = []
        for i, g in enumerate(payload["lines"]):
            g = dict(g)
            g["key"] = f"line{i}"
            date = f" ({g['date']})" if g["date"] else ""
            group(g["key"], f"Line: {g['source']}{date}")
            line_groups.append(g)
        payload["lines"] = line_groups
        kinds = {a["kind"] for a in payload["areas"]}
        if "disagreement" in kinds:
            total = sum(t["area_km2"] for t in payload.get("area_totals", []) if t["kind"] == "disagreement")
            label = "Sources disagree" + (f" ({total:,.1f} km²)" if total else "")
            group("areas:disagreement", label)
        if "overlap" in kinds:
            group("areas:overlap", "Overlap within one source")
        viewshed_recs = []
        for i, v in enumerate(payload["viewsheds"]):
            v = dict(v)
            v["key"] = f"viewshed{i}"
            name = v["label"] or "observer"
            group(v["key"], name if name.lower().startswith("viewshed") else f"Viewshed: {name}", show=v["show"])
            viewshed_recs.append(v)
        payload["viewsheds"] = viewshed_recs
        if payload["places"]:
            group("places", "Places and heights")
        if payload["measurements"]:
            group("measurements", "Measurements")
        if payload["incidents"]:
            group("incidents", f"Incidents ({len(payload['incidents'])})")

        payload.update(
            {
                "title": ctx.title,
                "subtitle": ctx.subtitle,
                "offline": bool(offline),
                "credits": credits(ctx.inputs, payload),
                "basemaps": [
                    {"name": b["name"], "credit": b["credit"], "url": b["link"]}
                    for b in (BASEMAPS if use_tiles else ())
                ],
                "overlay_credits": [o for o in overlay_meta],
                "image_overlays": [o for o in overlay_meta],
                "software": software_credits(),
                "styles": {
                    "disagreement": DISAGREEMENT_STYLE,
                    "overlap": OVERLAP_STYLE,
                    "measurement": MEASUREMENT_STYLE,
                    "viewshed": VIEWSHED_STYLE,
                },
                "label_min_zoom": int(label_min_zoom),
                "layer_control": {
                    "collapsed": bool(collapsed_layers),
                    "bases": control_bases,
                    "overlays": control_overlays,
                },
                "notes": {
                    "disclaimer": DISCLAIMER,
                    "simplification": _simplification_note(ctx.report),
                    "measurements": _measurement_note(ctx.inputs.measurements, payload["measurements"]),
                },
            }
        )
        payload.pop("bounds", None)
        _layers_element(groups, overlays, bases, m, script_json(payload)).add_to(m)
        m.fit_bounds([[round(south, 6), round(west, 6)], [round(north, 6), round(east, 6)]])

    m.borderkit_report = ctx.report  # type: ignore[attr-defined]
    m.borderkit_offline = bool(offline)  # type: ignore[attr-defined]
    m.borderkit_context = ctx  # type: ignore[attr-defined]
    return m


def _measurement_note(frame: Any, records: Sequence[Mapping[str, Any]]) -> str:
    """The legend's note on measurement labels: the table's ``attrs["map_note"]``, or a generic one."""
    if not records:
        return ""
    note = clean_text(getattr(frame, "attrs", {}).get("map_note", ""))
    if note:
        return note
    if any(not r.get("permanent", True) for r in records):
        return "Thin segments show their label on hover or click."
    return ""


def _simplification_note(report: Mapping[str, Any]) -> str:
    tol = report.get("simplify_tolerance_m", 0)
    disp = report.get("max_displacement_m", {})
    worst = max(disp.values()) if disp else 0.0
    if not tol:
        return "Lines are shown at full resolution."
    return (
        f"Lines and areas are simplified for display with a {tol:g} m tolerance "
        f"(largest displacement {worst:.1f} m); measurements use the full-resolution data."
    )


_HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _random_names(root: Any, html: str) -> list[str]:
    """Names of elements that kept a random (uuid) id and whose name is in the page."""
    seen: set[int] = set()
    found: list[str] = []
    stack = [root]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        if _HEX_ID.match(str(getattr(el, "_id", ""))) and el.get_name() in html:
            found.append(el.get_name())
        stack.extend(getattr(el, "_children", {}).values())
        for part in ("header", "html", "script"):
            child = getattr(el, part, None)
            if child is not None and hasattr(child, "_children"):
                stack.append(child)
    return sorted(found)


def _fix_random_ids(root: Any) -> None:
    """Give elements that kept a random id (added to the map after :func:`make_map`) a counter id.

    Depth-first in insertion order, so the same code adding the same elements
    gives the same ids; the parents' child dicts are re-keyed to the new names.
    """
    from collections import OrderedDict

    counter = itertools.count(1)
    stack = [root]
    seen: set[int] = set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        children = getattr(el, "_children", None)
        if children:
            items = []
            for key, child in children.items():
                if _HEX_ID.match(str(getattr(child, "_id", ""))):
                    old = child.get_name()
                    child._id = f"ux{next(counter):04d}"
                    key = child.get_name() if key == old else key
                items.append((key, child))
            el._children = OrderedDict(items)
            stack.extend(reversed(list(el._children.values())))
        for part in ("script", "html", "header"):  # e.g. a Popup's Html, a Figure's sections
            child = getattr(el, part, None)
            if child is not None and hasattr(child, "_children") and hasattr(child, "get_name"):
                if _HEX_ID.match(str(getattr(child, "_id", ""))):
                    child._id = f"ux{next(counter):04d}"
                stack.append(child)


def render_html(m: folium.Map) -> str:
    """The complete HTML page of a map, as a string (deterministic for the same inputs).

    Raises
    ------
    RuntimeError
        An element still has a random (uuid) id and its name is in the page (the
        output would not be reproducible). Elements added to the map after
        :func:`make_map` get counter ids here, in the order they were added.
    """
    root = m.get_root()
    _fix_random_ids(root)
    with _deterministic_ids("bx"):
        html = root.render()
    html = "\n".join(line.rstrip() for line in html.splitlines()) + "\n"
    bad = _random_names(root, html)
    if bad:
        raise RuntimeError(
            f"the map contains elements with random ids ({', '.join(bad[:3])}); add elements inside make_map "
            "or give them a fixed _id so that the output is reproducible"
        )
    return html


def external_references(html: str) -> list[str]:
    """``src``/``href`` attribute values of the page's tags that are not ``data:`` URIs or fragments.

    Parsed with :class:`html.parser.HTMLParser`, which (like a browser) does not
    parse tags inside ``<script>``/``<style>`` bodies, so inlined library source is
    not mistaken for markup.
    """
    from html.parser import HTMLParser

    found: list[str] = []

    class _P(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name in ("src", "href", "srcset", "poster", "data", "action", "formaction") and value is not None:
                    v = value.strip()
                    if not (v.startswith("data:") or v.startswith("#")):
                        found.append(f"<{tag} {name}={v}>")

    parser = _P(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return found


def save_html(m: folium.Map, path: str | os.PathLike[str], *, offline: bool | None = None) -> Path:
    """Write the map as one UTF-8 HTML file (byte-identical for the same inputs).

    Parameters
    ----------
    m
        A map from :func:`make_map`.
    path
        Output file; parent folders are created.
    offline
        ``None`` writes the map as it was built. ``True``/``False`` checks that
        it was built that way (offline-ness is decided in :func:`make_map`,
        which drops the tile layers and inlines the assets).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        *offline* disagrees with how the map was built, or an offline map
        refers to an external resource.
    """
    built_offline = getattr(m, "borderkit_offline", False)
    if offline is not None and bool(offline) != built_offline:
        raise ValueError(
            f"this map was built with offline={built_offline}; build it with make_map(..., offline={bool(offline)})"
        )
    html = render_html(m)
    if built_offline:
        refs = external_references(html)
        if refs:
            raise ValueError("offline map refers to external resources: " + ", ".join(refs[:5]))
    from borderkit.io.atomic import atomic_output

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as tmp:
        tmp.write_bytes(html.encode("utf-8"))
    return out
