"""Peaks: DEM height vs surveyed height, and what a height "commands" (which places it sees).

:func:`peak_check` compares the highest DEM cell within a radius of a named
peak with the height the places layer reports for it, stating the DEM's cell
size (metres at that latitude) and vertical accuracy, and why a coarse DEM reads
low on a summit.

:func:`commanding_height` runs lines of sight from a peak to the places of a
case (airport, towns, villages, crossings, points along roads) on one or more
DEMs and reports, per DEM, distance, elevation angle, visibility, the tightest
clearance and the caveat the DEM's resolution imposes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from borderkit._projection import ensure_wgs84
from borderkit.errors import DEMError, ValidationError
from borderkit.places import find_place, is_empty_geometry  # one implementation (borderkit.places)
from borderkit.terrain.dem import DEM, open_dem
from borderkit.terrain.visibility import (
    DEFAULT_OBSERVER_HEIGHT_M,
    DEFAULT_REFRACTION,
    DEFAULT_TARGET_HEIGHT_M,
    lines_of_sight,
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    import pandas

__all__ = [
    "find_place",
    "dem_max_near",
    "peak_check",
    "commanding_height",
    "format_commanding_report",
    "DEFAULT_TARGET_KINDS",
    "summit_undersampling_note",
]

DEFAULT_TARGET_KINDS = ("airport", "town", "city", "village", "road", "crossing", "base")


def load_places(places: geopandas.GeoDataFrame | str | os.PathLike[str]) -> geopandas.GeoDataFrame:
    """The places layer: a GeoDataFrame as it is, or a places file read by :func:`borderkit.io.read_places`.

    Terrain knows no case: the places of a case are ``Case.places`` (:func:`borderkit.datasets.load`).
    """
    if places is None:
        raise ValidationError(
            "places: no places layer given; pass a GeoDataFrame or a places file (a case's places are "
            "borderkit.datasets.load().places; on the command line --places FILE or --case NAME)"
        )
    if isinstance(places, (str, os.PathLike)):
        from borderkit.io import read_places

        return read_places(places)
    return places


def _point_of(row: Any) -> tuple[float, float] | None:
    geom = row.geometry
    if is_empty_geometry(geom):
        return None
    if geom.geom_type != "Point":
        c = geom.representative_point()
        return float(c.x), float(c.y)
    return float(geom.x), float(geom.y)


def dem_max_near(dem: DEM, lon: float, lat: float, radius_m: float) -> dict[str, Any]:
    """Highest DEM cell whose centre is within ``radius_m`` (geodesic) of a point.

    Returns
    -------
    dict
        ``max_m``, ``lon``, ``lat`` (cell centre), ``distance_m`` (from the
        point), ``cells`` (number of cells searched).
    """
    from borderkit.geodesy import GEOD as g  # the one WGS84 Geod (imported here: geodesy loads pandas)

    dlat = radius_m / 110_000.0 + 2 * dem.res[1] if dem.is_lonlat else 0.0
    dlon = radius_m / (110_000.0 * max(0.05, math.cos(math.radians(lat)))) + 2 * dem.res[0] if dem.is_lonlat else 0.0
    if dem.is_lonlat:
        sub = dem.subset((lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    else:
        pad = radius_m / 100_000.0 + 0.05
        sub = dem.subset((lon - pad * 1.4, lat - pad, lon + pad * 1.4, lat + pad))
    rows, cols = np.indices(sub.shape)
    clon, clat = sub.cell_center(rows.ravel(), cols.ravel())
    _, _, dist = g.inv(np.full(clon.size, lon), np.full(clon.size, lat), clon, clat)
    dist = np.asarray(dist)
    z = sub.data.ravel().astype(np.float64)
    inside = (dist <= radius_m) & np.isfinite(z)
    if not inside.any():
        raise DEMError(
            f"{dem.location}: no DEM cell with data within {radius_m:.0f} m of lon {lon}, lat {lat}; "
            "pass a DEM that covers the point (or increase the radius)"
        )
    zz = np.where(inside, z, -np.inf)
    i = int(np.argmax(zz))
    return {
        "max_m": float(z[i]),
        "lon": float(clon[i]),
        "lat": float(clat[i]),
        "distance_m": float(dist[i]),
        "cells": int(inside.sum()),
    }


def summit_undersampling_note(dem: DEM, lat: float) -> str:
    """Why a DEM with this cell size reads lower than a surveyed summit."""
    ew, ns = dem.resolution_m(lat)
    half_diag = 0.5 * math.hypot(ew, ns)
    sample = {
        "DTED0": "a spot height at each post, thinned from DTED Level 1 (3″) every 30″",
        "GLOBE": "one value per 30″ cell (in this region DTED Level 0 spot heights, GLOBE source/lineage 1)",
        "SRTM": "the radar-averaged height of each 1″ or 3″ cell",
    }.get(dem.kind, "one value per cell")
    return (
        f"A {ew:.0f} m × {ns:.0f} m cell holds {sample}. A summit is a point: unless a post falls on it, the "
        f"nearest sample can be up to {half_diag:.0f} m away horizontally, and on slopes of 20–30° that is "
        f"{half_diag * math.tan(math.radians(20)):.0f}–{half_diag * math.tan(math.radians(30)):.0f} m lower. "
        "Averaged or median cells lower a sharp summit further. A coarse DEM therefore reads below the surveyed "
        "height of a peak even when it is within its stated accuracy elsewhere."
    )


def peak_check(
    name: str,
    *,
    places: geopandas.GeoDataFrame | str | os.PathLike[str],
    dem: DEM | str | os.PathLike[str],
    radius_m: float | None = None,
) -> dict[str, Any]:
    """Highest DEM cell near a named peak vs its reported height.

    Parameters
    ----------
    name
        ``place_id`` or name of the peak (any language column).
    places
        Places layer (GeoDataFrame or path); a case's is ``Case.places``.
    dem
        A :class:`~borderkit.terrain.dem.DEM` or a path; a case's is ``Case.dem``.
    radius_m
        Search radius around the peak's coordinates; default 1.5 DEM cells
        (at least 1 km), so that the cell holding the summit is found even when
        the coordinates are rounded.

    Returns
    -------
    dict
        The JSON of ``borderkit peak NAME --json``: ``name``, ``reported_m``,
        ``reported_source``, ``dem_max_m``, ``dem_max_at`` ``{lat, lon}``,
        ``dem`` ``{name, resolution_m, vertical_accuracy_m, …}``, plus
        ``place_id``, ``difference_m``, ``dem_at_point_m``, ``search_radius_m``,
        ``explanation``, ``method`` and ``units``.
    """
    gdf = load_places(places)
    row = find_place(gdf, name)
    pt = _point_of(row)
    label = str(row.get("name_en") or row.get("name") or name)
    if pt is None:
        raise ValidationError(
            f"{label!r} has no coordinates in the places layer ({row.get('notes', '')}); it cannot be checked"
        )
    d = dem if isinstance(dem, DEM) else open_dem(dem)
    lon, lat = pt
    if radius_m is None:
        radius_m = max(1000.0, 1.5 * max(d.resolution_m(lat)))
    best = dem_max_near(d, lon, lat, radius_m)
    at_point = float(d.sample(lon, lat, method="nearest"))
    at_point_bl = float(d.sample(lon, lat, method="bilinear"))
    reported = row.get("elevation_m")
    reported = float(reported) if reported is not None and np.isfinite(float(reported)) else None
    info = d.info(lat)
    diff = None if reported is None else best["max_m"] - reported
    acc = d.vertical_accuracy_m
    within = None if (diff is None or acc is None) else abs(diff) <= acc
    explanation = summit_undersampling_note(d, lat)
    if diff is not None:
        explanation = (
            f"The DEM's highest cell within {radius_m:.0f} m is {best['max_m']:.0f} m, "
            f"{abs(diff):.0f} m {'below' if diff < 0 else 'above'} the reported {reported:.0f} m"
            + (f" ({'within' if within else 'outside'} the stated ±{acc:g} m vertical accuracy)" if acc else "")
            + ". " + explanation
        )
    return {
        "name": label,
        "place_id": str(row.get("place_id", "")),
        "lat": lat,
        "lon": lon,
        "reported_m": reported,
        "reported_source": str(row.get("elevation_source") or "") or None,
        "dem_max_m": best["max_m"],
        "dem_max_at": {"lat": round(best["lat"], 6), "lon": round(best["lon"], 6)},
        "dem_max_distance_m": round(best["distance_m"], 1),
        "dem_at_point_m": at_point,
        "dem_bilinear_at_point_m": round(at_point_bl, 1),
        "difference_m": None if diff is None else round(diff, 1),
        "within_vertical_accuracy": within,
        "search_radius_m": round(float(radius_m), 1),
        "cells_searched": best["cells"],
        "dem": {
            "name": info["name"],
            "kind": info["kind"],
            "resolution_m": info["resolution_m"],
            "resolution_ew_m": info["resolution_ew_m"],
            "resolution_ns_m": info["resolution_ns_m"],
            "vertical_accuracy_m": info["vertical_accuracy_m"],
            "vertical_accuracy_note": info["vertical_accuracy_note"],
            "sources": info["sources"],
        },
        "explanation": explanation,
        "method": (
            "highest DEM cell whose centre lies within search_radius_m (geodesic, WGS84) of the place's "
            "coordinates; resolution_m is the coarser cell dimension at the peak's latitude"
        ),
        "units": "metres above mean sea level; distances geodesic metres on WGS84",
    }


def _dems(dems: Any) -> list[DEM]:
    if dems is None or isinstance(dems, (DEM, str, os.PathLike)):  # None: open_dem says a DEM is needed
        return [dems if isinstance(dems, DEM) else open_dem(dems)]
    if isinstance(dems, Mapping):
        out = []
        for label, d in dems.items():
            dd = d if isinstance(d, DEM) else open_dem(d)
            dd = replace(dd, name=str(label))
            out.append(dd)
        return out
    if isinstance(dems, Sequence):
        return [d if isinstance(d, DEM) else open_dem(d) for d in dems]
    raise ValidationError("dems: expected a DEM, a path, a list of them, or a {name: DEM} mapping")


def commanding_height(
    peak: str,
    *,
    places: geopandas.GeoDataFrame | str | os.PathLike[str],
    dems: Any,
    kinds: Sequence[str] = DEFAULT_TARGET_KINDS,
    max_distance_m: float = 50_000.0,
    observer_height_m: float = DEFAULT_OBSERVER_HEIGHT_M,
    target_height_m: float = DEFAULT_TARGET_HEIGHT_M,
    refraction: float = DEFAULT_REFRACTION,
    road_spacing_m: float = 500.0,
    radius_m: float | None = None,
) -> pandas.DataFrame:
    """Which places a peak sees, per DEM: distance, elevation angle, visibility, clearance.

    The observer stands on the DEM's highest cell near the peak (see
    :func:`peak_check`) with ``observer_height_m``; a second verdict,
    ``visible_from_reported_summit``, puts the eye at the *reported* summit
    height + ``observer_height_m`` at the same place, to show what the DEM's
    under-reading of the summit changes.

    Parameters
    ----------
    peak
        Name or ``place_id`` of the peak.
    places
        Places layer (GeoDataFrame or path); a case's is ``Case.places``.
    dems
        A DEM, a path, a list of them, or ``{label: DEM or path}`` (a case's
        DEM is ``Case.dem``).
    kinds
        Place kinds to test (default: airport, town, city, village, road,
        crossing, base).
    max_distance_m
        Ignore places farther than this from the peak.
    observer_height_m, target_height_m, refraction
        As in :func:`~borderkit.terrain.visibility.lines_of_sight`.
    road_spacing_m
        Roads (LineStrings) are tested at points this far apart (geodesic);
        the row reports the fraction of those points that is visible.
    radius_m
        Search radius for the DEM summit (default as :func:`peak_check`).

    Returns
    -------
    pandas.DataFrame
        One row per DEM and place: ``dem``, ``place_id``, ``name``, ``kind``,
        ``distance_m``, ``azimuth_deg``, ``target_elevation_m`` (DEM),
        ``elevation_angle_deg``, ``visible``, ``min_clearance_m`` (the tightest
        point of the line: > 0 clears by that much, < 0 the terrain rises that
        far above it),
        ``obstruction_distance_m``, ``visible_from_reported_summit``,
        ``points``, ``visible_fraction`` (roads), ``note``. Places farther
        than ``max_distance_m`` are left out (listed in
        ``attrs["parameters"]["beyond_max_distance"]``); places without
        coordinates are kept with ``visible`` None and a note.
        ``df.attrs["peaks"]`` holds the peak check per DEM and
        ``df.attrs["parameters"]`` the parameters and caveats.
    """
    import pandas as pd

    from borderkit.terrain.profile import geodesic_path

    gdf = ensure_wgs84(load_places(places))
    prow = find_place(gdf, peak)
    ppt = _point_of(prow)
    pname = str(prow.get("name_en") or peak)
    if ppt is None:
        raise ValidationError(f"{pname!r} has no coordinates in the places layer; it cannot be an observer")
    reported = prow.get("elevation_m")
    reported = float(reported) if reported is not None and np.isfinite(float(reported)) else None
    targets = gdf[gdf["kind"].isin(list(kinds)) & (gdf.get("place_id") != prow.get("place_id"))]
    from borderkit.geodesy import GEOD as g  # the one WGS84 Geod (imported here: geodesy loads pandas)


    rows: list[dict[str, Any]] = []
    peaks_info: dict[str, Any] = {}
    caveats: dict[str, str] = {}
    beyond: set[str] = set()
    for d in _dems(dems):
        check = peak_check(str(prow.get("place_id") or pname), places=gdf, dem=d, radius_m=radius_m)
        peaks_info[d.name] = check
        obs = (check["dem_max_at"]["lon"], check["dem_max_at"]["lat"])
        ew, ns = d.resolution_m(ppt[1])
        caveats[d.name] = (
            f"{d.name}: cells of {ew:.0f} m × {ns:.0f} m; ridges, road cuts and gullies narrower than a cell are "
            "not represented, so a line of sight that clears by less than the vertical accuracy "
            f"(±{d.vertical_accuracy_m:g} m) is not a reliable verdict either way; the summit reads "
            f"{check['dem_max_m']:.0f} m here vs {reported if reported is not None else 'no'} m reported."
            if d.vertical_accuracy_m is not None
            else f"{d.name}: cells of {ew:.0f} m × {ns:.0f} m; vertical accuracy not stated."
        )
        # expand targets into points
        pts_lon: list[np.ndarray] = []
        pts_lat: list[np.ndarray] = []
        # (row fields, slice of the target points or None when unlocated, note)
        meta: list[tuple[dict[str, str], tuple[int, int] | None, str]] = []
        for _, t in targets.iterrows():
            geom = t.geometry
            label = str(t.get("name_en") or t.get("place_id"))
            base = {"dem": d.name, "place_id": str(t.get("place_id", "")), "name": label,
                    "kind": str(t.get("kind", ""))}
            if is_empty_geometry(geom):
                meta.append((base, None, "not located in the places layer (no citable coordinates)"))
                continue
            if geom.geom_type == "Point":
                coords = np.array([[geom.x, geom.y]])
            elif geom.geom_type in ("LineString", "MultiLineString"):
                parts = [geom] if geom.geom_type == "LineString" else list(geom.geoms)
                coords = np.concatenate(
                    [geodesic_path(p, spacing_m=road_spacing_m)[["lon", "lat"]].to_numpy() for p in parts]
                )
            else:
                c = geom.representative_point()
                coords = np.array([[c.x, c.y]])
            _, _, dist = g.inv(np.full(len(coords), obs[0]), np.full(len(coords), obs[1]), coords[:, 0], coords[:, 1])
            keep = np.asarray(dist) <= max_distance_m
            if not keep.any():
                beyond.add(label)
                continue
            start = sum(len(x) for x in pts_lon)
            pts_lon.append(coords[keep, 0])
            pts_lat.append(coords[keep, 1])
            meta.append((base, (start, start + int(keep.sum())), ""))
        if pts_lon:
            tl = np.concatenate(pts_lon)
            tb = np.concatenate(pts_lat)
            los = lines_of_sight(obs, np.column_stack([tl, tb]), dem=d, observer_height_m=observer_height_m,
                                 target_height_m=target_height_m, refraction=refraction)
            los_rep = (
                lines_of_sight(obs, np.column_stack([tl, tb]), dem=d, observer_height_m=observer_height_m,
                               target_height_m=target_height_m, refraction=refraction, observer_ground_m=reported)
                if reported is not None
                else None
            )
        for base, span, note in meta:
            if span is None:
                rows.append({**base, "distance_m": np.nan, "azimuth_deg": np.nan, "target_elevation_m": np.nan,
                             "elevation_angle_deg": np.nan, "visible": None, "min_clearance_m": np.nan,
                             "obstruction_distance_m": np.nan, "visible_from_reported_summit": None,
                             "points": 0, "visible_fraction": np.nan, "note": note})
                continue
            a, b = span
            part = los.iloc[a:b]
            vis = part["visible"].to_numpy()
            k = int(np.argmin(part["distance_m"].to_numpy())) if b - a > 1 else 0
            if b - a > 1 and vis.any():  # a road: describe its nearest visible point
                k = int(np.flatnonzero(vis)[np.argmin(part["distance_m"].to_numpy()[vis])])
            r = part.iloc[k]
            rep_vis = None
            if los_rep is not None:
                rv = los_rep.iloc[a:b]["visible"].to_numpy()
                rep_vis = bool(rv.any())
            clear = float(r["min_clearance_m"])
            marginal = (
                d.vertical_accuracy_m is not None and math.isfinite(clear) and abs(clear) < d.vertical_accuracy_m
                and (b - a) == 1
            )
            rows.append(
                {
                    **base,
                    "distance_m": float(r["distance_m"]),
                    "azimuth_deg": float(r["azimuth_deg"]),
                    "target_elevation_m": float(r["target_ground_m"]),
                    "elevation_angle_deg": float(r["elevation_angle_deg"]),
                    "visible": bool(vis.any()),
                    "min_clearance_m": float(r["min_clearance_m"]),
                    "obstruction_distance_m": float(r["obstruction_distance_m"]),
                    "visible_from_reported_summit": rep_vis,
                    "points": int(b - a),
                    "visible_fraction": float(vis.mean()),
                    "note": (
                        ("marginal: the line clears or is blocked by less than the DEM's vertical accuracy; "
                         if marginal else "")
                        + (f"road tested at {b - a} points every {road_spacing_m:g} m; the row describes the "
                           "nearest visible point (or the nearest point when none is visible)" if b - a > 1 else "")
                    ).strip("; "),
                }
            )
    df = pd.DataFrame(rows)
    df.attrs["peaks"] = peaks_info
    df.attrs["parameters"] = {
        "peak": pname,
        "peak_reported_m": reported,
        "observer": "highest DEM cell near the peak (per DEM); visible_from_reported_summit puts the eye at "
        "reported_m + observer_height_m instead",
        "observer_height_m": observer_height_m,
        "target_height_m": target_height_m,
        "refraction_coefficient": refraction,
        "kinds": list(kinds),
        "max_distance_m": max_distance_m,
        "beyond_max_distance": sorted(beyond),
        "road_spacing_m": road_spacing_m,
        "caveats": caveats,
        "units": "distance_m geodesic metres (WGS84); elevations metres above mean sea level; angles degrees",
        "method": "borderkit.terrain.visibility.lines_of_sight (curvature and refraction, bilinear heights)",
    }
    return df


def format_commanding_report(df: pandas.DataFrame) -> str:
    """Plain-text table of :func:`commanding_height` with the caveats, per DEM."""
    prm = df.attrs.get("parameters", {})
    peaks = df.attrs.get("peaks", {})
    lines = [
        f"What {prm.get('peak', '?')} commands — lines of sight, observer {prm.get('observer_height_m')} m above "
        f"the DEM summit, targets {prm.get('target_height_m')} m above ground, refraction k = "
        f"{prm.get('refraction_coefficient')}",
        "columns: dist = geodesic distance; elev = DEM ground height of the target; angle = apparent elevation "
        "angle (with curvature and refraction); clear m = tightest clearance of the sight line (negative: the "
        "terrain rises that far above it); from rep. = verdict with the eye at the reported summit height",
        "",
    ]
    for dem_name, group in df.groupby("dem", sort=False):
        pk = peaks.get(dem_name, {})
        lines.append(f"DEM: {dem_name}")
        if pk:
            lines.append(
                f"  summit in DEM {pk['dem_max_m']:.0f} m at {pk['dem_max_at']['lat']:.4f} N "
                f"{pk['dem_max_at']['lon']:.4f} E (reported {pk['reported_m']} m; "
                f"cell {pk['dem']['resolution_ew_m']:.0f} × {pk['dem']['resolution_ns_m']:.0f} m, "
                f"vertical accuracy {pk['dem']['vertical_accuracy_m']} m)"
            )
        head = f"  {'place':<36} {'kind':<8} {'dist km':>7} {'elev m':>7} {'angle°':>7} {'visible':<8} " \
               f"{'clear m':>8} {'from rep.':<9} note"
        lines.append(head)
        for _, r in group.iterrows():
            def f(v: Any, fmt: str) -> str:
                return format(v, fmt) if v is not None and isinstance(v, float) and math.isfinite(v) else "–"

            vis = "–" if r["visible"] is None else ("yes" if r["visible"] else "no")
            if r["points"] and r["points"] > 1:
                vis = f"{r['visible_fraction'] * 100:.0f}%"
            rep = "–" if r["visible_from_reported_summit"] is None else (
                "yes" if r["visible_from_reported_summit"] else "no")
            clear_txt = f(r["min_clearance_m"], "+.0f")
            lines.append(
                f"  {str(r['name'])[:36]:<36} {str(r['kind'])[:8]:<8} {f(r['distance_m'] / 1000, '7.1f'):>7} "
                f"{f(r['target_elevation_m'], '7.0f'):>7} {f(r['elevation_angle_deg'], '7.2f'):>7} {vis:<8} "
                f"{clear_txt:>8} {rep:<9} {r['note']}"
            )
        cav = prm.get("caveats", {}).get(dem_name)
        if cav:
            lines.append(f"  caveat: {cav}")
        lines.append("")
    if prm.get("beyond_max_distance"):
        lines.append(
            f"not tested (farther than {prm.get('max_distance_m', 0) / 1000:g} km): "
            + ", ".join(prm["beyond_max_distance"])
        )
    return "\n".join(lines).rstrip() + "\n"
