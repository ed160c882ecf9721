"""The offline vector basemap of a map: a case's ``basemap.geojson`` simplified per zoom band.

A case built by ``geodata/build.py`` or ``borderkit case build`` carries ``basemap.geojson``
(:func:`borderkit.casebuild.build_basemap`): GSHHG lakes, WDB-II rivers, GSHHG borders away from
the parties' outlines and GeoNames towns. :func:`basemap_records` turns it into the page data:
the water, rivers and borders once per zoom band (:data:`ZOOM_BANDS`), each simplified with a
tolerance of one screen pixel at the band's highest zoom, and the towns with the zoom from which
they are shown. The page script ``web/basemap.js`` draws the band of the current zoom and registers
the town names with the label placement below every other label.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from borderkit.maps.escape import clean_text
from borderkit.maps.layers import simplify_for_display

__all__ = ["BASEMAP_STYLE", "MAX_BASEMAP_BYTES", "TOWN_ZOOMS", "ZOOM_BANDS", "basemap_records", "pixel_m"]

ZOOM_BANDS: tuple[tuple[int, int], ...] = ((6, 8), (9, 11), (12, 14))
"""Zoom bands of the basemap (min, max): one simplified copy of the shapes per band."""

TOWN_ZOOMS: tuple[tuple[int, int], ...] = ((100_000, 6), (20_000, 8), (5_000, 10), (0, 11))
"""A town of at least this population is drawn from this zoom on (the first row that fits)."""

TOWN_NEAR_PLACE_M = 2_000.0
"""A town within this distance of one of the map's places is that place: drawn once, as the place."""

MAX_BASEMAP_BYTES = 50_000_000
"""A basemap file larger than this is refused (memory bound; the bundled one is ≈0.5 MB)."""

BASEMAP_STYLE: dict[str, dict[str, Any]] = {
    "water": {"color": "#7F9CB3", "weight": 0.6, "opacity": 0.9, "fillColor": "#C3D3DF", "fillOpacity": 1.0},
    "river": {"color": "#8FAABF", "weight": 1.0, "opacity": 0.9},
    "border": {"color": "#8C8C8C", "weight": 1.0, "opacity": 0.9, "dashArray": "6 3"},
    "town": {"color": "#6E6E6E", "radius": 2},
}
"""Quiet blue-grey water, thin dashed grey borders (thinner and greyer than any data line), grey towns."""


def pixel_m(zoom: int, lat: float) -> float:
    """Ground size of one 256-px-tile screen pixel at *zoom* and latitude *lat* (metres, Web Mercator on WGS84's
    equatorial radius: 2πa·cos φ / 2⁸⁺ᶻ)."""
    return 2 * math.pi * 6_378_137.0 * math.cos(math.radians(lat)) / 2 ** (8 + zoom)


def _decimals(tolerance_m: float) -> int:
    """Decimals of a degree that keep the rounding (≤ 0.56 × 10⁻ᵈ degrees ≈ 0.06 × 10⁶⁻ᵈ m) under a tenth of the
    tolerance."""
    d = 4
    while 111_320.0 * 0.5 * 10.0**-d > tolerance_m / 10 and d < 7:
        d += 1
    return d


def _coords(geom: Any, decimals: int) -> list[Any]:
    """Polygons → ``[[ring, …], …]``, lines → ``[line, …]``; rings and lines as ``[[lon, lat], …]``, rounded."""
    import numpy as np
    import shapely

    out: list[Any] = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
            out.append([np.round(np.asarray(r.coords), decimals).tolist() for r in rings])
        elif part.geom_type == "LineString" and len(part.coords) > 1:
            out.append(np.round(np.asarray(part.coords), decimals).tolist())
    return out


def _read(path: Path) -> list[dict[str, Any]]:
    size = path.stat().st_size
    if size > MAX_BASEMAP_BYTES:
        raise ValueError(f"{path}: basemap of {size} bytes is larger than {MAX_BASEMAP_BYTES}; rebuild the case")
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: not a GeoJSON FeatureCollection")
    return list(doc.get("features", []))


def basemap_records(
    path: str | Path | None,
    *,
    local: Any,
    report: dict[str, Any],
    places: Any = None,
) -> dict[str, Any] | None:
    """The page data of a basemap file, or ``None`` without one.

    Parameters
    ----------
    path
        A case's ``basemap.geojson`` (features with ``layer`` ``water``/``river``/``border``/``town``).
    local
        The map's :class:`borderkit._projection.LocalProjection` (simplification in metres).
    report
        The map report: ``report["basemap"]`` gets the tolerance, coordinate decimals, largest
        displacement (m, :func:`borderkit.maps.layers.simplify_for_display`) and vertex count of each band.
    places
        The map's places: a town within :data:`TOWN_NEAR_PLACE_M` of one of them is left to the place.

    Returns
    -------
    dict or None
        ``{"style", "bands": [{"min_zoom", "max_zoom", "tolerance_m", "water", "rivers",
        "borders"}], "towns": [{"name", "population", "min_zoom", "point"}]}``. Tolerance of a band:
        one pixel (:func:`pixel_m`) at its highest zoom at the latitude of the map's centre, so the
        simplification is never wider than a pixel where the band is drawn.
    """
    import numpy as np
    import shapely

    if path is None:
        return None
    feats = _read(Path(path))
    by_layer: dict[str, list[Any]] = {"water": [], "river": [], "border": []}
    towns: list[dict[str, Any]] = []
    for f in feats:
        props = f.get("properties") or {}
        layer = props.get("layer")
        geom = shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None
        if geom is None or geom.is_empty:
            continue
        if layer in by_layer:
            by_layer[layer].append(geom)
        elif layer == "town" and geom.geom_type == "Point":
            towns.append({"name": clean_text(str(props.get("name", ""))),
                          "population": int(props.get("population") or 0), "point": (geom.x, geom.y)})
    if not any(by_layer.values()) and not towns:
        return None
    lat = float(local.lat_0)
    bands = []
    info = []
    for zmin, zmax in ZOOM_BANDS:
        tol = round(pixel_m(zmax, lat), 1)
        dec = _decimals(tol)
        band: dict[str, Any] = {"min_zoom": zmin, "max_zoom": zmax, "tolerance_m": tol}
        worst = 0.0
        vertices = 0
        for layer, key in (("water", "water"), ("river", "rivers"), ("border", "borders")):
            simple, disp = simplify_for_display(by_layer[layer], tolerance_m=tol, local=local)
            worst = max(worst, disp)
            parts: list[Any] = []
            for g in simple:
                if layer == "water" and g.area == 0:
                    continue
                parts.extend(_coords(g, dec))
            vertices += int(sum(shapely.get_num_coordinates(g) for g in simple))
            band[key] = parts
        bands.append(band)
        info.append({"zoom": [zmin, zmax], "tolerance_m": tol, "decimals": dec,
                     "max_displacement_m": round(worst, 1), "vertices": vertices})
    if towns and places is not None and len(places):
        pts = [g for g in places.geometry if g is not None and not g.is_empty and g.geom_type == "Point"]
        if pts:
            near = shapely.union_all([local.geometry_to_local(g) for g in pts]).buffer(TOWN_NEAR_PLACE_M)
            xy = np.array([t["point"] for t in towns])
            loc = local.geometry_to_local(shapely.MultiPoint(xy))
            keep = ~shapely.intersects(near, shapely.get_parts(loc))
            towns = [t for t, k in zip(towns, keep, strict=True) if k]
    towns.sort(key=lambda t: (-t["population"], t["name"], t["point"]))
    town_recs = []
    for t in towns:
        min_zoom = next(z for pop, z in TOWN_ZOOMS if t["population"] >= pop)
        town_recs.append({"name": t["name"], "population": t["population"], "min_zoom": min_zoom,
                          "point": [round(t["point"][0], 5), round(t["point"][1], 5)]})
    report["basemap"] = {"bands": info, "towns": len(town_recs)}
    return {"style": BASEMAP_STYLE, "bands": bands, "towns": town_recs}


def basemap_path(inputs: Any) -> Path | None:
    """The basemap file of the map's inputs (``MapInputs.basemap``), if any."""
    value = getattr(inputs, "basemap", None)
    if value is None or isinstance(value, Mapping):
        return None
    return Path(value)
