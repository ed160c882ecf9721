"""Viewsheds on a map: terrain-engine viewsheds as polygons, and the viewsheds a case file names.

:func:`viewsheds_frame` turns :class:`borderkit.terrain.visibility.Viewshed`
objects into polygons with a popup naming every parameter;
:func:`case_viewsheds` computes the viewsheds of a case's ``[[terrain.viewsheds]]``
(observer place, radius, observer height) on the case DEM.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from borderkit.errors import BorderkitError, MapLayerWarning
from borderkit.maps.escape import clean_text
from borderkit.maps.text import place_names, short_source

__all__ = ["viewsheds_frame", "case_viewsheds"]


def viewshed_details(params: Mapping[str, Any]) -> list[list[str]]:
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
    if (observer_h := num("observer_height_m")) is not None:
        rows.append(["observer height", f"{observer_h:g} m above the ground"])
    if (target_h := num("target_height_m")) is not None:
        rows.append(["target height", f"{target_h:g} m above the ground"])
    if (radius := num("radius_m")) is not None:
        rows.append(["radius", f"{radius / 1000:g} km (geodesic)"])
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
            if (earth_r := num("effective_earth_radius_m")) is not None:
                text += f" (effective Earth radius {earth_r / 1000:,.0f} km)"
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
                "details": json.dumps(viewshed_details(params), ensure_ascii=False),
                "geometry": frame.iloc[0],
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else None


# ---------------------------------------------------------------------------------------------


def case_viewsheds(
    case: Any,
    *,
    place: str | None = None,
    radius_m: float | None = None,
    observer_height_m: float | None = None,
    show: bool = False,
) -> Any:
    """The viewsheds a case file names (``[[terrain.viewsheds]]``), on the case DEM, for :func:`make_map`.

    Each observer stands on the highest DEM cell near its place's listed point
    (:func:`borderkit.terrain.peaks.peak_check`), *observer_height_m* above it:
    on a 1 km DEM the cell containing the listed point can be a shoulder well
    below the summit. The viewshed is :func:`borderkit.terrain.visibility.viewshed`
    (curvature and refraction k = 0.13, target on the ground) and its visible
    cells are ``Viewshed.polygons()``, joined; the map simplifies them for
    display like every polygon. The layers are off by default (*show*).

    Parameters
    ----------
    case
        A :class:`borderkit.datasets.Case`.
    place, radius_m, observer_height_m
        One observer instead of the case file's (a place id of the case, e.g.
        ``"mets_ishkhanasar"``); radius and height default to the case file's
        first observer's, else 30 km and 2 m.
    show
        Whether the layers start visible.

    Returns
    -------
    geopandas.GeoDataFrame or None
        One row per viewshed (as :func:`viewsheds_frame`); ``None`` when the
        case has no DEM or names no observer, or the terrain engine (rasterio)
        is not installed.

    Warns
    -----
    MapLayerWarning
        A viewshed could not be made (the DEM cannot be read, the place is not
        located or not on the DEM); it is left off and the others are drawn.
    """
    import pandas as pd

    dem_path = getattr(case, "dem", None)
    config = getattr(case, "config", None)
    observers = [(o.place, o.radius_m, o.observer_height_m) for o in getattr(config, "viewsheds", ())]
    if place is not None:
        first = observers[0] if observers else (place, 30_000.0, 2.0)
        observers = [(place, first[1], first[2])]
    observers = [
        (p, float(r if radius_m is None else radius_m), float(h if observer_height_m is None else observer_height_m))
        for p, r, h in observers
    ]
    if not dem_path or not observers:
        return None
    try:
        from borderkit.terrain.dem import open_dem
    except ImportError:
        return None
    try:
        dem = open_dem(dem_path)
    except (BorderkitError, ImportError, OSError) as exc:
        warnings.warn(
            f"viewsheds left off the map: the DEM {dem_path} cannot be used ({exc})", MapLayerWarning, stacklevel=2
        )
        return None
    frames = [f for p, r, h in observers if (f := _one_viewshed(case, dem, p, r, h, show)) is not None]
    if not frames:
        return None
    import geopandas as gpd

    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def _one_viewshed(case: Any, dem: Any, place: str, radius_m: float, observer_height_m: float, show: bool) -> Any:
    """The viewshed from one place of the case (``None``, with a :class:`MapLayerWarning`, when it fails)."""
    from borderkit.terrain.peaks import peak_check
    from borderkit.terrain.visibility import viewshed

    try:
        pk = peak_check(place, places=case.places, dem=dem)
        at = pk["dem_max_at"]
        v = viewshed(
            (float(at["lon"]), float(at["lat"])), dem=dem, radius_m=radius_m, observer_height_m=observer_height_m
        )
    except (BorderkitError, ImportError, OSError) as exc:
        warnings.warn(f"viewshed from {place!r} left off the map: {exc}", MapLayerWarning, stacklevel=3)
        return None
    frame = viewsheds_frame([v])
    if frame is None:
        return None
    name = place_names(case).get(pk.get("place_id") or place, place)
    dem_short = short_source(clean_text(pk["dem"].get("name", "DEM")))
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
