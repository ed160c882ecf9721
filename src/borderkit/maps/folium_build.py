"""The Leaflet page of a map, built with folium: basemaps, image overlays, layer groups and the page data.

:func:`make_map` turns a :class:`~borderkit.maps.context.MapContext` (or
anything :func:`~borderkit.maps.context.prepare_context` takes) into a
``folium.Map``. folium only provides the Leaflet objects (map, tile layers,
image overlays, empty feature groups); every feature, popup, label and legend
is drawn by ``maps/web/borderkit.js`` from the map's data, which travel as
escaped JSON in a ``<script type="application/json">`` block. No data string
ever goes through a folium or branca template (they are Jinja templates).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from borderkit.maps.context import DEFAULT_MIN_AREA_KM2, DEFAULT_SIMPLIFY_M, MapContext, prepare_context
from borderkit.maps.escape import clean_text, html_text, script_json
from borderkit.maps.html import deterministic_ids
from borderkit.maps.layers import credits
from borderkit.maps.style import DISAGREEMENT_STYLE, MEASUREMENT_STYLE, OVERLAP_STYLE, VIEWSHED_STYLE

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = ["BASEMAPS", "DISCLAIMER", "initial_view", "make_map"]

DISCLAIMER = (
    "Each line is one source's drawing of the boundary; borderkit does not decide where the border is. "
    "Distances and areas are on the WGS84 ellipsoid."
)

BASEMAPS: tuple[dict[str, Any], ...] = (
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
    groups: dict[str, Any],
    overlays: dict[str, Any],
    bases: dict[str, Any],
    map_obj: Any,
    data_json: str,
    *,
    trace: bool = False,
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
    if trace:  # web/trace.js: the sheet frames and the trace tool, from the same JSON block
        script += (
            f"\nvar borderkit_trace_{map_name} = borderkit_trace.build({map_name}, "
            f"JSON.parse(document.getElementById({script_json(data_id)}).textContent));"
        )

    class BorderkitLayers(Element):
        def __init__(self) -> None:
            super().__init__()
            self._name = "BorderkitLayers"

        def render(self, **kwargs: Any) -> str:
            figure: Any = self.get_root()
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
    lang: str = "en",
    draw: Sequence[str] | None = None,
    view: Sequence[float] | None = None,
    bounds: Sequence[float] | None = None,
    embed: bool = False,
    url_state: bool = True,
    trace: bool | None = None,
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
    lang
        BCP-47 tag of the language of place labels (``"hy"``, ``"az"``, ``"ka"``,
        ``"uz-Cyrl"`` …): each place is labelled with its name in that language,
        else in the first language that has one
        (:func:`borderkit.places.display_name`); the popup lists every name.
    draw
        Layers to draw (:data:`borderkit.maps.context.LAYER_NAMES`: ``lines``,
        ``areas``, ``incidents``, ``places``, ``measurements``, ``viewsheds``,
        ``hillshade``, ``scans``); ``None`` draws every layer given.
    view
        Initial view ``(lat, lon, zoom)`` (degrees, Leaflet zoom 0–22).
    bounds
        Initial view ``(west, south, east, north)`` in degrees, fitted to the
        window; default the lines and incidents (else whatever is drawn).
        Give *view* or *bounds*, not both.
    embed
        For an ``<iframe>``: no full-screen button, the compact attribution,
        and the URL hash neither read nor written.
    url_state
        Keep the view, the layers shown and the timeline date in the URL hash
        (``#map=ZOOM/LAT/LON&layers=…&date=…``, read on load, written on every
        change) so that a link opens the same view. Off when *embed*.
    trace
        The trace tool (draw a line over a scan and export it as a lines GeoJSON,
        :mod:`borderkit.maps.trace`). ``None``: on when a scan georeferenced by
        ``borderkit scan georef --sheet`` is drawn; ``True`` requires one;
        ``False``: off (the sheet frames are still drawn).

    Returns
    -------
    folium.Map
        With ``borderkit_report`` (dict: simplification, areas, warnings) and
        ``borderkit_offline`` attributes.
    """
    from borderkit.maps._assets import head_html

    start = initial_view(view=view, bounds=bounds)
    ctx = prepare_context(
        case_or_layers,
        draw=draw,
        title=title,
        subtitle=subtitle,
        hillshade=hillshade,
        scans=scans,
        simplify_m=simplify_m,
        min_area_km2=min_area_km2,
        lang=lang,
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
    if basemaps and not offline and "basemap" not in (ctx.draw or ()):
        # online the tiles draw water, borders and towns; the vector basemap (≈ 0.5 MB for a case) is for the
        # offline page and the print, and online only when --layers / draw= names it
        payload.pop("basemap", None)
    west, south, east, north = payload.pop("bounds")
    trace_scans = list(payload.pop("trace", []))
    if trace and not trace_scans:
        raise ValueError(
            "the trace tool needs a scan georeferenced from its sheet: draw a GeoTIFF written by "
            "borderkit scan georef --sheet NAME"
        )
    trace_tool = bool(trace_scans) and trace is not False
    if trace_scans:  # (a map without such a scan keeps its page data, byte for byte)
        payload["trace"] = {"tool": trace_tool, "scans": trace_scans}
    if start is not None and len(start) == 4:
        west, south, east, north = start
    use_tiles = basemaps and not offline

    with deterministic_ids():
        centre = [round((south + north) / 2, 6), round((west + east) / 2, 6)]
        m = _map_class()(
            location=[round(start[0], 6), round(start[1], 6)] if start is not None and len(start) == 3 else centre,
            zoom_start=int(start[2]) if start is not None and len(start) == 3 else 8,
            tiles=None,
            control_scale=False,
            prefer_canvas=False,
        )
        root = m.get_root()
        root.title = html_text(ctx.title)
        head = head_html(offline=offline, trace=bool(trace_scans), trace_tool=trace_tool)
        root.header.add_child(_raw_element(head), name="borderkit_assets")

        # Layer names never go to folium's LayerControl: its output is compiled again as a Jinja
        # template by branca. The page script builds the layer control from the JSON data instead
        # (``layer_control``), so folium layers get control=False and their names stay out of the page.
        control = _Control()
        bases = _add_basemaps(m, control) if use_tiles else {}
        overlays, overlay_meta = _add_image_overlays(m, ctx.overlays, control, offline=offline, use_tiles=use_tiles)
        groups = _add_groups(m, payload, control)
        payload.update(
            _page_data(
                ctx,
                payload,
                control,
                overlay_meta,
                offline=offline,
                use_tiles=use_tiles,
                collapsed_layers=collapsed_layers,
                label_min_zoom=label_min_zoom,
            )
        )
        payload["embed"] = bool(embed)
        payload["url_state"] = bool(url_state) and not embed
        # the view is set before the page script runs, so that a URL hash read by the script wins
        if start is None or len(start) == 4:
            m.fit_bounds([[round(south, 6), round(west, 6)], [round(north, 6), round(east, 6)]])
        _layers_element(groups, overlays, bases, m, script_json(payload), trace=bool(trace_scans)).add_to(m)

    m.borderkit_report = ctx.report
    m.borderkit_offline = bool(offline)
    m.borderkit_context = ctx
    return m


def initial_view(
    *, view: Sequence[float] | None = None, bounds: Sequence[float] | None = None
) -> tuple[float, ...] | None:
    """The checked initial view: ``(lat, lon, zoom)`` from *view*, ``(west, south, east, north)`` from *bounds*.

    Raises
    ------
    ValueError
        Both given, a value that is not a finite number, a latitude outside
        ±90°, a longitude outside ±180°, a zoom outside 0–22, or bounds whose
        west/south are not below their east/north.
    """
    import math

    if view is not None and bounds is not None:
        raise ValueError("give the initial view either as view (lat, lon, zoom) or as bounds, not both")
    if view is None and bounds is None:
        return None
    what, values = ("view", view) if view is not None else ("bounds", bounds)
    try:
        nums = tuple(float(v) for v in values)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"{what}: numbers expected, got {values!r}") from None
    if not all(math.isfinite(v) for v in nums):
        raise ValueError(f"{what}: finite numbers expected, got {values!r}")
    if view is not None:
        if len(nums) != 3:
            raise ValueError(f"view: LAT,LON,ZOOM expected (3 numbers), got {len(nums)}")
        lat, lon, zoom = nums
        if abs(lat) > 90 or abs(lon) > 180 or not 0 <= zoom <= 22:
            raise ValueError(f"view: latitude in ±90, longitude in ±180 and zoom in 0–22 expected, got {values!r}")
        return nums
    if len(nums) != 4:
        raise ValueError(f"bounds: W,S,E,N expected (4 numbers), got {len(nums)}")
    w, s, e, n = nums
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise ValueError(f"bounds: west < east within ±180 and south < north within ±90 expected, got {values!r}")
    return nums


class _Control:
    """The entries of the page's layer control (built by the page script from these, never by folium)."""

    def __init__(self) -> None:
        self.bases: list[dict[str, str]] = []
        self.overlays: list[dict[str, str]] = []


def _add_basemaps(m: folium.Map, control: _Control) -> dict[str, Any]:
    """The tile basemaps (the first shown), keyed by :data:`BASEMAPS` key."""
    import folium

    bases: dict[str, Any] = {}
    for i, b in enumerate(BASEMAPS):
        bases[str(b["key"])] = folium.TileLayer(
            tiles=b["url"],
            attr=b["attr"],
            name=b["name"],
            max_zoom=b["max_zoom"],
            overlay=False,
            control=False,
            show=i == 0,
            **({"subdomains": b["subdomains"]} if b["subdomains"] else {}),
        ).add_to(m)
        control.bases.append({"key": str(b["key"]), "name": str(b["name"])})
    return bases


def _add_image_overlays(
    m: folium.Map, images: Sequence[Any], control: _Control, *, offline: bool, use_tiles: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Hillshade and scans as image overlays (PNG data URLs); their credits for the page data.

    The hillshade is the base of an offline map (full opacity, shown); online it
    starts hidden under the tiles.
    """
    from folium.raster_layers import ImageOverlay

    overlays: dict[str, Any] = {}
    meta = []
    for i, ov in enumerate(images):
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
        control.overlays.append({"key": key, "name": label})
        meta.append(
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
    return overlays, meta


def _add_groups(m: folium.Map, payload: dict[str, Any], control: _Control) -> dict[str, Any]:
    """One empty feature group per toggleable layer (the page script fills them); keys set in *payload*."""
    import folium

    groups: dict[str, Any] = {}

    def group(key: str, name: str, *, show: bool = True) -> None:
        # layer_name keeps the label for code that looks groups up by it (it is rendered nowhere)
        fg = folium.FeatureGroup(name=name, overlay=True, control=False, show=show)
        fg.add_to(m)
        groups[key] = fg
        control.overlays.append({"key": key, "name": name})

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
    return groups


def _page_data(
    ctx: MapContext,
    payload: Mapping[str, Any],
    control: _Control,
    overlay_meta: list[dict[str, Any]],
    *,
    offline: bool,
    use_tiles: bool,
    collapsed_layers: bool,
    label_min_zoom: int,
) -> dict[str, Any]:
    """What the page script needs besides the layers: title, credits, styles, layer control, notes."""
    from borderkit.maps._assets import software_credits

    return {
        "title": ctx.title,
        "subtitle": ctx.subtitle,
        "offline": bool(offline),
        "credits": credits(ctx.inputs, payload),
        "basemaps": [
            {"name": b["name"], "credit": b["credit"], "url": b["link"]} for b in (BASEMAPS if use_tiles else ())
        ],
        "overlay_credits": list(overlay_meta),
        "image_overlays": list(overlay_meta),
        "software": software_credits(trace_tool=bool(payload.get("trace", {}).get("tool"))),
        "styles": {
            "disagreement": DISAGREEMENT_STYLE,
            "overlap": OVERLAP_STYLE,
            "measurement": MEASUREMENT_STYLE,
            "viewshed": VIEWSHED_STYLE,
        },
        "label_min_zoom": int(label_min_zoom),
        "layer_control": {
            "collapsed": bool(collapsed_layers),
            "bases": control.bases,
            "overlays": control.overlays,
        },
        "notes": {
            "disclaimer": DISCLAIMER,
            "simplification": _simplification_note(ctx.report),
            "measurements": _measurement_note(ctx.inputs.measurements, payload["measurements"]),
        },
    }


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

