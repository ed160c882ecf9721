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


def viewsheds_frame(viewsheds: Any) -> Any:
    """Polygons (GeoDataFrame, EPSG:4326) of the visible cells of terrain-engine viewsheds.

    *viewsheds* is one object or a sequence of objects with ``array`` (1 =
    visible), ``transform``, ``crs`` and ``parameters`` (as
    ``borderkit.terrain.visibility.Viewshed``).
    """
    import geopandas as gpd
    import numpy as np
    import shapely
    from rasterio import features

    items = viewsheds if isinstance(viewsheds, Sequence) else [viewsheds]
    rows = []
    for i, v in enumerate(items):
        mask = np.asarray(v.array) == 1
        polys = [
            shapely.geometry.shape(geom)
            for geom, val in features.shapes(mask.astype(np.uint8), mask=mask, transform=v.transform)
            if val == 1
        ]
        if not polys:
            continue
        geom = shapely.union_all(polys)
        frame = gpd.GeoSeries([geom], crs=v.crs).to_crs("EPSG:4326")
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
        if params.get("dem"):
            method += f", DEM {params['dem']}"
        rows.append(
            {
                "name": str(params.get("name") or label),
                "observer_height_m": params.get("observer_height_m"),
                "method": str(method),
                "geometry": frame.iloc[0],
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else None


def case_measurements(case: Any) -> Any:
    """Measurement segments for the distance claims of a case (``None`` when there are none).

    Until the measurement engine provides its table, this computes, for every
    claim with ``quantity == "distance"``, a located ``place:`` subject and a
    ``border:P|Q`` reference, the geodesic distance (WGS84) from the place to
    the nearest point of each line source that separates P and Q
    (:func:`borderkit.geodesy.nearest_points_on_lines`). The segment to the most
    accurate source gets a permanent label; the others show theirs on hover.
    Advance depths need the measurement engine and are not drawn by this fallback.
    """
    import pandas as pd

    claims = getattr(case, "claims", None)
    lines = getattr(case, "lines", None)
    places = getattr(case, "places", None)
    if claims is None or lines is None or places is None or not len(claims) or not len(lines):
        return None
    try:
        from borderkit.geodesy import nearest_points_on_lines
    except ImportError:  # pragma: no cover
        return None
    by_id = {str(r["place_id"]): r for _, r in places.iterrows()}
    rows = []
    for _, c in claims.sort_values("claim_id").iterrows():
        subject, reference = str(c.get("subject", "")), str(c.get("reference", ""))
        if (
            str(c.get("quantity")) != "distance"
            or not subject.startswith("place:")
            or not reference.startswith("border:")
        ):
            continue
        place = by_id.get(subject.split(":", 1)[1])
        geom = None if place is None else place.geometry
        if geom is None or getattr(geom, "is_empty", True) or geom.geom_type != "Point":
            continue
        parties = set(reference.split(":", 1)[1].split("|"))
        sel = lines[
            [{str(a), str(b)} == parties for a, b in zip(lines["left_party"], lines["right_party"], strict=True)]
        ]
        if not len(sel):
            continue
        acc = sel.groupby("source")["scale_or_accuracy_m"].min().sort_values(kind="mergesort")
        best = str(acc.index[0])
        for src, group in sel.groupby("source", sort=True):
            near = nearest_points_on_lines([geom.x], [geom.y], list(group.geometry)).iloc[0]
            name = str(place.get("name_en", "")) or subject
            rows.append(
                {
                    "claim_id": str(c["claim_id"]),
                    "label": f"{name} → {reference.split(':', 1)[1]} line",
                    "from_lon": geom.x,
                    "from_lat": geom.y,
                    "to_lon": float(near["nearest_lon"]),
                    "to_lat": float(near["nearest_lat"]),
                    "value": float(near["distance_m"]) / 1000.0,
                    "unit": "km",
                    "line_source": str(src),
                    "claimed_value": c.get("claimed_value"),
                    "claimed_unit": c.get("claimed_unit"),
                    "qualifier": c.get("qualifier", ""),
                    "quantity": "distance",
                    "statement": c.get("statement", ""),
                    "method": "geodesic distance (WGS84) from the place to the nearest point of the line",
                    "permanent": str(src) == best,
                }
            )
    return pd.DataFrame(rows) if rows else None


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _layer_name(text: str) -> str:
    """Layer-control label: Leaflet inserts it with innerHTML, so it is HTML-escaped here."""
    return html_text(text)


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


def _layers_element(groups: dict[str, Any], overlays: dict[str, Any], map_obj: Any, data_json: str) -> Any:
    from branca.element import MacroElement
    from folium.template import Template

    class BorderkitLayers(MacroElement):
        """Embeds the map's data (escaped JSON) and calls ``borderkit.build``."""

        _template = Template(
            """
            {% macro html(this, kwargs) %}
            <script type="application/json" id="{{ this.data_id }}">{{ this.data_json }}</script>
            {% endmacro %}
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = borderkit.build({{ this.map_name }}, {
                groups: { {%- for key, var in this.group_vars %}
                    {{ key }}: {{ var }},{% endfor %}
                },
                overlays: { {%- for key, var in this.overlay_vars %}
                    {{ key }}: {{ var }},{% endfor %}
                }
            }, JSON.parse(document.getElementById({{ this.data_id_json }}).textContent));
            {% endmacro %}
            """
        )

        def __init__(self) -> None:
            super().__init__()
            self._name = "BorderkitLayers"
            self.map_name = map_obj.get_name()
            self.data_id = f"bk-data-{self.map_name}"
            self.data_id_json = script_json(self.data_id)
            self.data_json = data_json
            self.group_vars = [(script_json(k), g.get_name()) for k, g in groups.items()]
            self.overlay_vars = [(script_json(k), o.get_name()) for k, o in overlays.items()]

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

        if use_tiles:
            for i, b in enumerate(BASEMAPS):
                folium.TileLayer(
                    tiles=b["url"],
                    attr=b["attr"],
                    name=_layer_name(b["name"]),
                    max_zoom=b["max_zoom"],
                    overlay=False,
                    control=True,
                    show=i == 0,
                    **({"subdomains": b["subdomains"]} if b["subdomains"] else {}),
                ).add_to(m)

        overlays: dict[str, Any] = {}
        overlay_meta = []
        for i, ov in enumerate(ctx.overlays):
            key = f"image{i}"
            w, s, e, n = ov.bounds
            hill = ov.kind == "hillshade"
            opacity = 1.0 if (hill and offline) else ov.opacity
            layer = ImageOverlay(
                image=_data_url(ov.png),
                bounds=[[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]],
                name=_layer_name(("Terrain: " if hill else "Old map: ") + ov.name.removeprefix("Terrain: ")),
                opacity=opacity,
                show=(not hill) or offline or not use_tiles,
                pixelated=False,
                interactive=False,
                zindex=1 if hill else 2,
            )
            layer.add_to(m)
            overlays[key] = layer
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
            fg = folium.FeatureGroup(name=_layer_name(name), overlay=True, control=True, show=show)
            fg.add_to(m)
            groups[key] = fg

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
        if payload["viewsheds"]:
            group("viewsheds", "Viewsheds")
        if payload["places"]:
            group("places", "Places and heights")
        if payload["measurements"]:
            group("measurements", "Measurements")
        if payload["incidents"]:
            group("incidents", f"Incidents ({len(payload['incidents'])})")

        folium.LayerControl(collapsed=collapsed_layers, position="topright").add_to(m)

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
                "notes": {
                    "disclaimer": DISCLAIMER,
                    "simplification": _simplification_note(ctx.report),
                },
            }
        )
        payload.pop("bounds", None)
        _layers_element(groups, overlays, m, script_json(payload)).add_to(m)
        m.fit_bounds([[round(south, 6), round(west, 6)], [round(north, 6), round(east, 6)]])

    m.borderkit_report = ctx.report  # type: ignore[attr-defined]
    m.borderkit_offline = bool(offline)  # type: ignore[attr-defined]
    m.borderkit_context = ctx  # type: ignore[attr-defined]
    return m


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
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(html.encode("utf-8"))
    tmp.replace(out)
    return out
