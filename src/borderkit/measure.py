"""Measurements against line sources: distances, advance depth, corridor width, buffers.

Every function here works on the layers of a case (``lines``, ``territories``,
``places``: GeoDataFrames in EPSG:4326) and reports, **per line source**, what
that source's drawing gives. No function picks a "true" line.

Units and methods
-----------------
* Distances are **metres on the WGS84 ellipsoid**: point–point by
  :func:`borderkit.geodesy.geodesic_inverse`, point–line by
  :func:`borderkit.geodesy.nearest_points_on_lines` (exact foot point on the
  line's geodesic segments). A planar length is never returned.
* Areas are **km² on the WGS84 ellipsoid** (``pyproj.Geod.geometry_area_perimeter``
  of the polygon's vertices, edges taken as geodesics).
* Topology (splitting a polygon by a line, buffers, intersections) is done in a
  local azimuthal equidistant projection (:class:`borderkit.geodesy.LocalProjection`),
  where a straight edge is within centimetres of the geodesic between its ends;
  the results are transformed back to EPSG:4326 before anything is measured.
* **Sides.** A line's ``left_party`` is on the left of its direction of travel
  (DESIGN.md). A point is on the side of the *nearest* section of a source's
  line; ``depth_m`` towards a party is ``+distance`` when the point is on that
  party's side and ``-distance`` when on the other party's side.

Every table carries ``df.attrs["units"]`` and ``df.attrs["method"]`` and a
``method`` column where rows differ. See ``docs/measure.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from borderkit._projection import ensure_wgs84
from borderkit.errors import ValidationError
from borderkit.geodesy import (
    LocalProjection,
    geodesic_destination,
    geodesic_inverse,
    nearest_points_on_lines,
)
from borderkit.lines import (
    BRIDGE_GAPS_M,
    UNITS,
    Sided,
    area_km2,
    areas_km2,
    densify_lines,
    lines_to_local,
    pick_sources,
    select_lines,
    sided,
)
from borderkit.places import is_empty_geometry, place_point

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

__all__ = [
    "UNITS",
    "BRIDGE_GAPS_M",
    "AdvanceDepth",
    "select_lines",
    "place_point",
    "point_distance",
    "distance_to_lines",
    "distance_toward",
    "advance_depth",
    "advance_reach",
    "advance_zone",
    "territory_part",
    "corridor_width",
    "distance_to_territory",
    "geodesic_buffer",
    "places_within",
    "area_km2",
    "densify_lines",
]


_POINT_LINE = (
    "geodesic distance (WGS84, pyproj Geod) from the point to the nearest point of the source's line, "
    "segments taken as geodesics (borderkit.geodesy.nearest_points_on_lines)"
)
_SIDE = (
    "side = side of the nearest section of the source's line (left_party on the left of its direction "
    "of travel); depth_m > 0 on the `into` party's side, < 0 on the other side"
)


# =================================================================================================
# small helpers
# =================================================================================================
def _finish(df: pd.DataFrame, method: str) -> pd.DataFrame:
    df.attrs["units"] = UNITS
    df.attrs["method"] = method
    return df


def _lonlat_arrays(lon: Any, lat: Any | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Accept (lon, lat) arrays/scalars, or point geometries / a GeoSeries of points in ``lon``."""
    if lat is None:
        geoms = lon.geometry.values if hasattr(lon, "geometry") else lon
        if isinstance(geoms, shapely.Geometry):
            geoms = [geoms]
        arr = np.asarray(list(geoms), dtype=object)
        if arr.size and not (shapely.get_type_id(arr) == 0).all():  # None -> -1
            raise ValidationError("points: expected Point geometries (or pass lon and lat arrays)")
        if hasattr(lon, "crs"):
            reprojected = ensure_wgs84(lon)
            if reprojected is not lon:
                arr = np.asarray(list(reprojected.geometry.values), dtype=object)
        return shapely.get_x(arr).astype(float), shapely.get_y(arr).astype(float)
    lo = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    la = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    if lo.shape != la.shape:
        raise ValidationError(f"lon has {lo.size} values but lat has {la.size}")
    return lo, la


def _groups(lines: geopandas.GeoDataFrame) -> list[tuple[str, geopandas.GeoDataFrame]]:
    return [(str(s), g) for s, g in lines.groupby("source", sort=True)]


# =================================================================================================
# point measurements
# =================================================================================================
def point_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> dict[str, Any]:
    """Geodesic distance and azimuths between two points.

    Returns
    -------
    dict
        ``distance_m``, ``azimuth_deg`` (at point 1 towards 2, clockwise from north),
        ``back_azimuth_deg``, ``units``, ``method``.
    """
    inv = geodesic_inverse(lon1, lat1, lon2, lat2)
    return {
        "from": {"lon": float(lon1), "lat": float(lat1)},
        "to": {"lon": float(lon2), "lat": float(lat2)},
        "distance_m": float(inv.distance_m),
        "azimuth_deg": float(inv.azimuth12_deg),
        "back_azimuth_deg": float(inv.azimuth21_deg),
        "units": "metres (geodesic, WGS84); degrees",
        "method": "WGS84 geodesic inverse (pyproj Geod, Karney 2013)",
    }


def _depth(s: Sided, into: str | None, sections: geopandas.GeoDataFrame) -> np.ndarray:
    if into is None:
        return np.full(s.distance.size, np.nan)
    left = sections["left_party"].to_numpy(dtype=object)[s.row]
    right = sections["right_party"].to_numpy(dtype=object)[s.row]
    involved = (left == into) | (right == into)
    sign = np.where(s.party == into, 1.0, np.where(s.party == "", 0.0, -1.0))
    return np.where(involved, sign * s.distance, np.nan)


def distance_to_lines(
    lon: Any,
    lat: Any | None = None,
    *,
    lines: geopandas.GeoDataFrame,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    into: str | None = None,
) -> pd.DataFrame:
    """Distance from points to each source's line, the side they are on, and depth towards a party.

    Parameters
    ----------
    lon, lat
        Points in degrees (arrays or scalars); or ``lon`` alone as point
        geometries / a GeoSeries / GeoDataFrame of points (then ``lat=None``).
    lines
        Lines layer (schema ``LINES``).
    sources, pair
        As in :func:`select_lines` (e.g. ``pair=("ARM", "AZE")``).
    into
        A party code: adds ``depth_m``, positive when the point is on that party's
        side of the nearest section, negative on the other side (the advance
        depth of a point, "how far beyond the line into *into*").

    Returns
    -------
    pandas.DataFrame
        One row per point and source: ``point`` (0-based position), ``lon``, ``lat``,
        ``source``, ``line_id``, ``section``, ``distance_m``, ``party`` (the party
        whose side the point is on; ``""`` on the line), ``depth_m`` (NaN without
        *into*), ``nearest_lon``, ``nearest_lat``, ``along_m`` (along the section from
        its first vertex), ``accuracy_m`` (the section's ``scale_or_accuracy_m``),
        ``in_gap`` (the nearest drawn point is the edge of a gap the source leaves in
        its line, e.g. across a lake; the side is then decided across the gap,
        see :data:`BRIDGE_GAPS_M`), ``bridged_distance_m`` (distance to the line with
        such gaps closed; equal to ``distance_m`` elsewhere), ``at_line_end`` (the
        nearest point is an end of an open section: the point lies beyond where
        the source's line stops, and its side is extrapolated from the end
        segment), ``method``.
    """
    lo, la = _lonlat_arrays(lon, lat)
    sel = select_lines(lines, sources=sources, pair=pair)
    frames = []
    for src, g in _groups(sel):
        s = sided(lo, la, g)
        frames.append(
            pd.DataFrame(
                {
                    "point": np.arange(lo.size),
                    "lon": lo,
                    "lat": la,
                    "source": src,
                    "line_id": g["line_id"].to_numpy(dtype=object)[s.row],
                    "section": g["section"].to_numpy(dtype=object)[s.row],
                    "distance_m": s.distance,
                    "party": s.party,
                    "depth_m": _depth(s, into, g),
                    "nearest_lon": s.nearest_lon,
                    "nearest_lat": s.nearest_lat,
                    "along_m": s.along,
                    "accuracy_m": g["scale_or_accuracy_m"].to_numpy(dtype=np.float64)[s.row],
                    "in_gap": s.in_gap,
                    "bridged_distance_m": s.bridged_distance,
                    "at_line_end": s.at_end,
                    "method": _POINT_LINE,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True).sort_values(["point", "source"], kind="stable").reset_index(drop=True)
    df.attrs["sign_convention"] = _SIDE if into else "party = the party on the point's side of the nearest section"
    return _finish(df, _POINT_LINE + "; " + _SIDE)


def _geodesic_path(lon: float, lat: float, azimuth: float, length_m: float, spacing_m: float) -> np.ndarray:
    n = max(2, int(math.ceil(length_m / spacing_m)) + 1)
    s = np.linspace(0.0, length_m, n)
    d = geodesic_destination(np.full(n, lon), np.full(n, lat), np.full(n, azimuth), s)
    return np.column_stack([d.lon, d.lat])


def distance_toward(
    lon: float,
    lat: float,
    toward_lon: float,
    toward_lat: float,
    *,
    lines: geopandas.GeoDataFrame,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    max_distance_m: float | None = None,
    spacing_m: float = 50.0,
) -> pd.DataFrame:
    """Distance along the geodesic from a point *toward* another to where it first meets each source's line.

    Answers "how far is X from the border going toward Y" (e.g. from a village
    toward a corridor) rather than the shortest distance.

    Parameters
    ----------
    lon, lat
        Start point, degrees.
    toward_lon, toward_lat
        A point giving the direction (the initial azimuth of the geodesic).
    lines, sources, pair
        As in :func:`distance_to_lines`.
    max_distance_m
        How far to follow the geodesic; default the distance to the *toward* point.
    spacing_m
        The geodesic is densified at this spacing (with ``Geod.fwd``) before it is
        intersected with the line in the local projection; the path deviates from
        the true geodesic by far less than a millimetre at 50 m.

    Returns
    -------
    pandas.DataFrame
        One row per source: ``source``, ``distance_m`` (geodesic from the start to
        the first crossing; NaN when the path meets no line), ``crossing_lon``,
        ``crossing_lat``, ``line_id``, ``section``, ``azimuth_deg``, ``searched_m``,
        ``in_gap`` (the crossing is on a bridged gap of the drawn line, see
        :data:`BRIDGE_GAPS_M`), ``method``.
    """
    inv = geodesic_inverse(lon, lat, toward_lon, toward_lat)
    az = float(inv.azimuth12_deg)
    length = float(inv.distance_m) if max_distance_m is None else float(max_distance_m)
    if not length > 0:
        raise ValidationError("distance_toward: the two points coincide; no direction to follow")
    path_ll = _geodesic_path(lon, lat, az, length, spacing_m)
    sel = select_lines(lines, sources=sources, pair=pair)
    proj = LocalProjection(lon, lat)
    path = proj.geometry_to_local(shapely.LineString(path_ll))
    rows = []
    for src, g in _groups(sel):
        best: tuple[float, Any, Any] = (math.inf, None, None)
        local = lines_to_local(proj, g)
        for k, geom in enumerate(local):
            inter = shapely.intersection(path, geom)
            if inter.is_empty:
                continue
            pts = shapely.get_coordinates(inter)
            pos = shapely.line_locate_point(path, shapely.points(pts))
            j = int(np.argmin(pos))
            if pos[j] < best[0]:
                best = (float(pos[j]), pts[j], k)
        if best[1] is None:
            rows.append(
                {"source": src, "distance_m": np.nan, "crossing_lon": np.nan, "crossing_lat": np.nan, "line_id": "",
                 "section": "", "azimuth_deg": az, "searched_m": length, "in_gap": False}
            )
            continue
        clon, clat = proj.to_geographic(best[1][0], best[1][1])
        d = float(geodesic_inverse(lon, lat, float(clon), float(clat)).distance_m)
        off = nearest_points_on_lines([float(clon)], [float(clat)], g.geometry.iloc[best[2]])["distance_m"].iloc[0]
        rows.append(
            {"source": src, "distance_m": d, "crossing_lon": float(clon), "crossing_lat": float(clat),
             "line_id": g["line_id"].iloc[best[2]], "section": g["section"].iloc[best[2]], "azimuth_deg": az,
             "searched_m": length, "in_gap": bool(off > 1.0)}
        )
    method = (
        f"geodesic from the start at azimuth {az:.2f}° (toward the given point), densified every {spacing_m:g} m "
        "with Geod.fwd, intersected with the line in a local azimuthal equidistant projection centred on the start; "
        "distance = WGS84 geodesic from the start to the first crossing"
    )
    df = pd.DataFrame(rows)
    df["method"] = method
    return _finish(df, method)


# =================================================================================================
# polygons split by lines (local projection)
# =================================================================================================
def _split_by_lines(poly_local: Any, lines_local: Sequence[Any]) -> np.ndarray:
    """Faces of a (local) polygon cut by (local) lines: the pieces on either side of every line."""
    # clip to a slightly larger polygon so the pieces cross the outline and get noded with it
    # (a clip exactly at the outline leaves floating-point dangles that polygonize ignores)
    grown = shapely.buffer(poly_local, 1.0)
    clipped = [shapely.intersection(g, grown) for g in lines_local]
    clipped = [c for c in clipped if not c.is_empty]
    if not clipped:
        return np.array([poly_local], dtype=object)
    edges = shapely.union_all([poly_local.boundary, *clipped])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    if faces.size == 0:
        return np.array([poly_local], dtype=object)
    rep = shapely.point_on_surface(faces)
    inside = shapely.contains(poly_local, rep)
    return faces[inside]


def _classify_faces(
    faces_local: np.ndarray, proj: LocalProjection, sections: geopandas.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Party on the side of each face (by its representative point) and that point's distance to the line."""
    if faces_local.size == 0:
        return np.array([], dtype=object), np.array([])
    rep = shapely.point_on_surface(faces_local)
    lon, lat = proj.to_geographic(shapely.get_x(rep), shapely.get_y(rep))
    s = sided(np.asarray(lon), np.asarray(lat), sections)
    return s.party, s.distance


def _grid_samples(poly_local: Any, h: float) -> np.ndarray:
    minx, miny, maxx, maxy = poly_local.bounds
    xs = np.arange(minx + h / 2.0, maxx, h)
    ys = np.arange(miny + h / 2.0, maxy, h)
    if xs.size == 0 or ys.size == 0:
        grid: np.ndarray = np.empty((0, 2))
    else:
        mx, my = np.meshgrid(xs, ys)
        gx, gy = mx.ravel(), my.ravel()
        inside = shapely.contains_xy(poly_local, gx, gy)
        grid = np.column_stack([gx[inside], gy[inside]])
    bnd = shapely.get_coordinates(shapely.segmentize(poly_local.boundary, h))
    return np.vstack([grid, bnd])


@dataclass
class AdvanceDepth:
    """Result of :func:`advance_depth`.

    Attributes
    ----------
    summary
        One row per feature and source (see :func:`advance_depth`).
    profile
        Depth profile along the line: one row per feature, source, section and
        along-line bin.
    beyond
        GeoDataFrame (EPSG:4326) of the parts of each polygon beyond the line into
        the party, one row per feature and source, with ``area_km2``.
    """

    summary: pd.DataFrame
    profile: pd.DataFrame
    beyond: Any


def _positions(positions: Any) -> tuple[np.ndarray, list[Any]]:
    if isinstance(positions, shapely.Geometry):
        geoms = np.array([positions], dtype=object)
        labels: list[Any] = [0]
    elif hasattr(positions, "geometry"):
        gs = positions.geometry
        gs = ensure_wgs84(gs)
        geoms = np.asarray(gs.values, dtype=object)
        labels = list(positions.index)
    else:
        geoms = np.asarray(list(positions), dtype=object)
        labels = list(range(geoms.size))
    for g in geoms:
        if is_empty_geometry(g) or g.geom_type not in ("Point", "Polygon", "MultiPolygon"):
            raise ValidationError("positions: expected Point, Polygon or MultiPolygon geometries (non-empty)")
    return geoms, labels


def advance_depth(
    positions: Any,
    *,
    lines: geopandas.GeoDataFrame,
    into: str,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    spacing_m: float | None = None,
    profile_step_m: float = 1000.0,
) -> AdvanceDepth:
    """How far positions reach beyond each source's line into a party's side.

    Parameters
    ----------
    positions
        Points (a position) or polygons (an area of positions or control), as a
        shapely geometry, a sequence of them, or a GeoSeries/GeoDataFrame (EPSG:4326).
    lines, sources, pair
        As in :func:`distance_to_lines`.
    into
        The party whose side counts as "beyond the line" (the party advanced into).
    spacing_m
        Sample spacing for polygons (default: ``sqrt(area / 20000)`` clamped to
        20–1000 m, so about 20 000 samples). The deepest sample is refined on a
        grid ten times finer around it.
    profile_step_m
        Width of the along-line bins of the depth profile.

    Returns
    -------
    AdvanceDepth
        ``summary`` columns: ``feature``, ``geometry_type``, ``source``,
        ``depth_m`` (a point: its signed depth; a polygon: the greatest depth of
        any of its points beyond the line, or, when no part is beyond it, minus
        its smallest distance to the line), ``depth_upper_m`` (a polygon: the
        proven upper bound of the greatest depth, ``coarse max + 1.25 × spacing``;
        a point: equal to ``depth_m``), ``depth_lon``, ``depth_lat`` (where),
        ``nearest_lon``, ``nearest_lat`` (the nearest point of the line to it),
        ``line_id``, ``section``, ``area_km2``, ``area_beyond_km2`` (WGS84
        ellipsoid; NaN for points), ``samples``, ``spacing_m``, ``accuracy_m``,
        ``method``. ``profile`` columns: ``feature``, ``source``, ``line_id``,
        ``section``, ``along_from_m``, ``along_to_m`` (geodesic length along the
        section from its first vertex), ``max_depth_m``, ``depth_lon``,
        ``depth_lat``, ``samples``.

    Notes
    -----
    A polygon is split by every section of the source's line in a local
    azimuthal equidistant projection centred on the polygon; each piece is
    assigned the party on its side (its representative point's side of the
    nearest section). Pieces on *into*'s side are "beyond": their area is
    measured on the ellipsoid. Depth is the geodesic distance to the line
    (1-Lipschitz), sampled on a grid of spacing ``h`` inside the pieces plus
    their outlines at spacing ``h``; every point of a piece lies within
    ``h/√2 + h/2 < 1.25 h`` of a sample, so the true greatest depth lies in
    ``[depth_m, depth_upper_m]``.
    """
    import geopandas as gpd

    geoms, labels = _positions(positions)
    sel = select_lines(lines, sources=sources, pair=pair)
    parties = set(sel["left_party"]) | set(sel["right_party"])
    if into not in parties:
        raise ValidationError(f"into: party {into!r} is on no side of the selected lines (parties: {sorted(parties)})")
    summary: list[dict[str, Any]] = []
    profiles: list[pd.DataFrame] = []
    beyond_rows: list[dict[str, Any]] = []
    is_point = np.array([g.geom_type == "Point" for g in geoms])
    if is_point.any():
        pts = geoms[is_point]
        pt_labels = [lab for lab, p in zip(labels, is_point, strict=True) if p]
        d = distance_to_lines(
            shapely.get_x(pts).astype(float), shapely.get_y(pts).astype(float), lines=sel, into=into
        )
        for r in d.itertuples(index=False):
            summary.append(
                {
                    "feature": pt_labels[r.point], "geometry_type": "Point", "source": r.source,
                    "depth_m": r.depth_m, "depth_upper_m": r.depth_m, "depth_lon": r.lon, "depth_lat": r.lat,
                    "nearest_lon": r.nearest_lon, "nearest_lat": r.nearest_lat, "line_id": r.line_id,
                    "section": r.section, "party": r.party, "area_km2": np.nan, "area_beyond_km2": np.nan,
                    "samples": 1, "spacing_m": 0.0, "accuracy_m": r.accuracy_m,
                    "method": "signed geodesic distance of the point to the nearest section; " + _SIDE,
                }
            )
    for lab, geom in zip(labels, geoms, strict=True):
        if geom.geom_type == "Point":
            continue
        proj = LocalProjection.from_geometries([geom])
        poly_local = shapely.make_valid(proj.geometry_to_local(geom))
        total_area = area_km2(geom)
        for src, g in _groups(sel):
            lines_local = list(lines_to_local(proj, g))
            faces = np.concatenate([_split_by_lines(p, lines_local) for p in shapely.get_parts(poly_local)])
            party, _ = _classify_faces(faces, proj, g)
            beyond_local = faces[party == into]
            beyond_ll = proj.geometry_to_geographic(beyond_local) if beyond_local.size else np.array([], dtype=object)
            a_beyond = float(areas_km2(beyond_ll).sum()) if beyond_local.size else 0.0
            beyond_union_ll = shapely.union_all(beyond_ll) if beyond_local.size else shapely.Polygon()
            beyond_rows.append({"feature": lab, "source": src, "area_km2": a_beyond, "geometry": beyond_union_ll})
            area_m2 = max(float(shapely.area(poly_local)), 1.0)
            h = float(spacing_m) if spacing_m else float(np.clip(math.sqrt(area_m2 / 20000.0), 20.0, 1000.0))
            acc = float(g["scale_or_accuracy_m"].max())
            if beyond_local.size:
                union_local = shapely.union_all(beyond_local)
                xy = _grid_samples(union_local, h)
                lon_s, lat_s = proj.to_geographic(xy[:, 0], xy[:, 1])
                s = sided(np.asarray(lon_s), np.asarray(lat_s), g)
                depth = s.distance
                i = int(np.argmax(depth))
                coarse = float(depth[i])
                # refine around the deepest sample on a grid ten times finer
                fine = np.arange(-15, 16) * (h / 10.0)
                fx, fy = np.meshgrid(xy[i, 0] + fine, xy[i, 1] + fine)
                fx, fy = fx.ravel(), fy.ravel()
                ok = shapely.contains_xy(union_local, fx, fy)
                flon, flat = proj.to_geographic(fx[ok], fy[ok])
                fs = sided(np.asarray(flon), np.asarray(flat), g) if ok.any() else None
                lon_all = np.concatenate([np.asarray(lon_s), np.asarray(flon)])
                lat_all = np.concatenate([np.asarray(lat_s), np.asarray(flat)])
                if fs is not None:
                    cat = s.concat(fs)
                else:
                    cat = s
                j = int(np.argmax(cat.distance))
                summary.append(
                    {
                        "feature": lab, "geometry_type": geom.geom_type, "source": src,
                        "depth_m": float(cat.distance[j]), "depth_upper_m": coarse + 1.25 * h,
                        "depth_lon": float(lon_all[j]), "depth_lat": float(lat_all[j]),
                        "nearest_lon": float(cat.nearest_lon[j]), "nearest_lat": float(cat.nearest_lat[j]),
                        "line_id": g["line_id"].iloc[int(cat.row[j])], "section": g["section"].iloc[int(cat.row[j])],
                        "party": into, "area_km2": total_area, "area_beyond_km2": a_beyond,
                        "samples": int(cat.distance.size), "spacing_m": h, "accuracy_m": acc,
                        "method": (
                            "polygon split by the source's line in a local aeqd projection, pieces assigned by side; "
                            f"greatest geodesic distance to the line over samples every {h:.0f} m (refined ×10 around "
                            "the deepest); areas on the WGS84 ellipsoid"
                        ),
                    }
                )
                step = float(profile_step_m)
                prof = pd.DataFrame(
                    {
                        "row": cat.row, "bin": np.floor(cat.along / step).astype(np.int64), "depth": cat.distance,
                        "lon": lon_all, "lat": lat_all,
                    }
                )
                idx = prof.groupby(["row", "bin"], sort=True)["depth"].idxmax()
                top = prof.loc[idx.to_numpy()]
                counts = prof.groupby(["row", "bin"], sort=True).size().to_numpy()
                profiles.append(
                    pd.DataFrame(
                        {
                            "feature": [lab] * len(top), "source": src,
                            "line_id": g["line_id"].to_numpy(dtype=object)[top["row"].to_numpy()],
                            "section": g["section"].to_numpy(dtype=object)[top["row"].to_numpy()],
                            "along_from_m": top["bin"].to_numpy() * step,
                            "along_to_m": (top["bin"].to_numpy() + 1) * step,
                            "max_depth_m": top["depth"].to_numpy(), "depth_lon": top["lon"].to_numpy(),
                            "depth_lat": top["lat"].to_numpy(), "samples": counts,
                        }
                    )
                )
            else:
                # wholly on the other side: minus the smallest distance of its outline to the line
                bnd = shapely.get_coordinates(shapely.segmentize(poly_local.boundary, h))
                lon_s, lat_s = proj.to_geographic(bnd[:, 0], bnd[:, 1])
                s = sided(np.asarray(lon_s), np.asarray(lat_s), g)
                j = int(np.argmin(s.distance))
                summary.append(
                    {
                        "feature": lab, "geometry_type": geom.geom_type, "source": src,
                        "depth_m": -float(s.distance[j]), "depth_upper_m": -float(s.distance[j]),
                        "depth_lon": float(lon_s[j]), "depth_lat": float(lat_s[j]),
                        "nearest_lon": float(s.nearest_lon[j]), "nearest_lat": float(s.nearest_lat[j]),
                        "line_id": g["line_id"].iloc[int(s.row[j])], "section": g["section"].iloc[int(s.row[j])],
                        "party": str(s.party[j]), "area_km2": total_area, "area_beyond_km2": 0.0,
                        "samples": int(s.distance.size), "spacing_m": h, "accuracy_m": acc,
                        "method": "no part beyond the line: minus the smallest geodesic distance of the outline "
                        f"(sampled every {h:.0f} m) to the line",
                    }
                )
    cols = ["feature", "geometry_type", "source", "depth_m", "depth_upper_m", "depth_lon", "depth_lat",
            "nearest_lon", "nearest_lat", "line_id", "section", "party", "area_km2", "area_beyond_km2",
            "samples", "spacing_m", "accuracy_m", "method"]
    summ = _finish(pd.DataFrame(summary, columns=cols), "advance depth; " + _SIDE)
    prof_cols = ["feature", "source", "line_id", "section", "along_from_m", "along_to_m", "max_depth_m",
                 "depth_lon", "depth_lat", "samples"]
    prof = pd.concat(profiles, ignore_index=True) if profiles else pd.DataFrame(columns=prof_cols)
    prof = _finish(prof[prof_cols], "greatest sampled depth per along-line bin (bins by the nearest point's along_m)")
    beyond = gpd.GeoDataFrame(beyond_rows, columns=["feature", "source", "area_km2", "geometry"], geometry="geometry",
                              crs="EPSG:4326")
    return AdvanceDepth(summ, prof, beyond)


def advance_zone(
    *,
    lines: geopandas.GeoDataFrame,
    into: str,
    depth_m: float,
    center: tuple[float, float],
    radius_m: float,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    quad_segs: int = 32,
) -> geopandas.GeoDataFrame:
    """Ground on *into*'s side within ``depth_m`` of each source's line, within ``radius_m`` of a point.

    The largest area an advance of at most ``depth_m`` across the line could
    hold near a place (e.g. "up to 3.5 km" near Sev Lake). Built in an azimuthal
    equidistant projection centred on *center*, where the disk of ``radius_m`` is
    an exact geodesic circle (polygon with ``4 × quad_segs`` sides) and the band
    along the line is a planar buffer whose error is the projection's scale
    (``k - 1 < 1e-5`` within 30 km of the centre: < 0.05 m at 3.5 km).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per source: ``source``, ``depth_m``, ``radius_m``, ``area_km2``
        (WGS84 ellipsoid), ``method``, geometry (EPSG:4326).
    """
    import geopandas as gpd

    sel = select_lines(lines, sources=sources, pair=pair)
    proj = LocalProjection(center[0], center[1])
    disk = shapely.Point(0.0, 0.0).buffer(float(radius_m), quad_segs=quad_segs)
    rows = []
    for src, g in _groups(sel):
        drawn_local = list(lines_to_local(proj, g, bridged=False))
        lines_local = list(lines_to_local(proj, g))
        band = shapely.union_all([shapely.buffer(shapely.intersection(x, disk.buffer(depth_m)), float(depth_m),
                                                 quad_segs=quad_segs) for x in drawn_local])
        zone = shapely.intersection(band, disk)
        if zone.is_empty:
            geom, a = shapely.Polygon(), 0.0
        else:
            faces = np.concatenate([_split_by_lines(p, lines_local) for p in shapely.get_parts(zone)
                                    if p.geom_type == "Polygon"])
            party, _ = _classify_faces(faces, proj, g)
            keep = faces[party == into]
            geom = shapely.union_all(proj.geometry_to_geographic(keep)) if keep.size else shapely.Polygon()
            a = area_km2(geom)
        rows.append({"source": src, "depth_m": float(depth_m), "radius_m": float(radius_m), "area_km2": a,
                     "geometry": geom})
    method = (
        f"{into}'s side of the line (pieces classified by side) ∩ planar buffer of the line in an aeqd projection "
        "centred on the point ∩ geodesic disk; area on the WGS84 ellipsoid"
    )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    out["method"] = method
    return _finish(out, method)


def advance_reach(
    lon: float,
    lat: float,
    *,
    lines: geopandas.GeoDataFrame,
    into: str,
    advance_m: float,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    zone_radius_m: float | None = None,
) -> pd.DataFrame:
    """Would an advance of ``advance_m`` across each source's line reach a place?

    The worked example is Sev Lake, May 2021 ("advanced up to 3.5 km"): no
    polygon of positions exists, so what can be measured is where the place the
    report names lies relative to each line.

    Returns
    -------
    pandas.DataFrame
        One row per source: ``source``, ``depth_m`` (signed depth of the place into
        *into*'s side), ``party`` (whose side the place is on), ``beyond_line``
        (``depth_m > 0``), ``within_reach`` (``depth_m <= advance_m``: an advance of
        that depth from the line gets to the place, or the place is not beyond the
        line at all), ``reach_margin_m`` (``advance_m - depth_m``: how far past the
        place such an advance goes), ``accuracy_m`` of the line, ``nearest_lon``,
        ``nearest_lat``, ``section``; with ``zone_radius_m`` also ``zone_area_km2``
        (see :func:`advance_zone`); ``method``.
    """
    d = distance_to_lines(lon, lat, lines=lines, sources=sources, pair=pair, into=into)
    out = pd.DataFrame(
        {
            "source": d["source"],
            "depth_m": d["depth_m"],
            "party": d["party"],
            "beyond_line": d["depth_m"] > 0,
            "within_reach": d["depth_m"] <= advance_m,
            "reach_margin_m": advance_m - d["depth_m"],
            "advance_m": float(advance_m),
            "accuracy_m": d["accuracy_m"],
            "nearest_lon": d["nearest_lon"],
            "nearest_lat": d["nearest_lat"],
            "section": d["section"],
        }
    )
    if zone_radius_m is not None:
        z = advance_zone(lines=lines, into=into, depth_m=advance_m, center=(lon, lat), radius_m=zone_radius_m,
                         sources=sources, pair=pair)
        out = out.merge(z[["source", "area_km2"]].rename(columns={"area_km2": "zone_area_km2"}), on="source")
    out["method"] = _POINT_LINE + "; " + _SIDE
    return _finish(out, _POINT_LINE + "; " + _SIDE)


# =================================================================================================
# territories: parts, corridor width, distance to a territory
# =================================================================================================
def territory_part(
    geometry: Any,
    *,
    at: tuple[float, float] | None = None,
    west_of_lon: float | None = None,
    largest: bool = False,
) -> tuple[Any, str]:
    """One connected part of a (Multi)Polygon territory, identified by location.

    Parameters
    ----------
    geometry
        The territory (EPSG:4326).
    at
        (lon, lat): the part that contains this point.
    west_of_lon
        Fallback when no part contains *at*: the largest part lying wholly west
        of this longitude.
    largest
        The part with the largest ellipsoidal area.

    Returns
    -------
    (shapely.Polygon, str)
        The part and how it was identified.
    """
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        raise ValidationError("territory has no polygon parts")
    if at is not None:
        pt = shapely.Point(*at)
        hits = [p for p in parts if p.covers(pt)]
        if hits:
            return hits[0], f"the part containing ({at[0]:.5f}, {at[1]:.5f})"
        if west_of_lon is not None:
            west = [p for p in parts if p.bounds[2] < west_of_lon]
            if west:
                areas = areas_km2(west)
                return west[int(np.argmax(areas))], f"the largest part wholly west of {west_of_lon}°E"
        raise ValidationError(f"no part of the territory contains ({at[0]}, {at[1]})")
    if largest:
        areas = areas_km2(parts)
        return parts[int(np.argmax(areas))], "the largest part (WGS84 area)"
    raise ValidationError("territory_part: give at=(lon, lat) or largest=True")


def _vertex_min_distance(a: Any, b: Any) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Smallest geodesic distance between two lines (or polygon outlines), with the two nearest points.

    Vertices of A to the geodesic segments of B and vice versa: for two
    non-crossing chains of segments the minimum is attained at a vertex of one of
    them (exact for straight segments; on geodesic segments the tests confirm it
    against brute force).
    """
    ca = shapely.get_coordinates(a)
    cb = shapely.get_coordinates(b)
    r1 = nearest_points_on_lines(ca[:, 0], ca[:, 1], b)
    r2 = nearest_points_on_lines(cb[:, 0], cb[:, 1], a)
    i = int(np.argmin(r1["distance_m"].to_numpy()))
    j = int(np.argmin(r2["distance_m"].to_numpy()))
    d1 = float(r1["distance_m"].iloc[i])
    d2 = float(r2["distance_m"].iloc[j])
    if d1 <= d2:
        near = (float(r1["nearest_lon"].iloc[i]), float(r1["nearest_lat"].iloc[i]))
        return d1, (float(ca[i, 0]), float(ca[i, 1])), near
    return d2, (float(r2["nearest_lon"].iloc[j]), float(r2["nearest_lat"].iloc[j])), (float(cb[j, 0]), float(cb[j, 1]))


def _polygon_gap(a: Any, b: Any) -> tuple[float, tuple[float, float], tuple[float, float]]:
    if shapely.intersects(a, b):
        p = shapely.get_coordinates(shapely.point_on_surface(shapely.intersection(a, b)))[0]
        return 0.0, (float(p[0]), float(p[1])), (float(p[0]), float(p[1]))
    return _vertex_min_distance(a.boundary, b.boundary)


def corridor_width(
    territories: geopandas.GeoDataFrame | None = None,
    *,
    lines: geopandas.GeoDataFrame | None = None,
    party: str,
    part_a_at: tuple[float, float],
    part_a_west_of_lon: float | None = None,
    part_b_at: tuple[float, float] | None = None,
    sections: tuple[str, str] | None = None,
    sources: Iterable[str] | None = None,
    method: str = "auto",
) -> pd.DataFrame:
    """Narrowest gap between two parts of one party's territory, per source (e.g. an exclave ↔ the mainland).

    What the parts are is case data: a case file names them (for the bundled case,
    ``Case.config.corridor_options()`` gives Nakhchivan ↔ mainland Azerbaijan).

    Parameters
    ----------
    territories
        Territories layer (one row per party per source).
    lines
        Lines layer: used for sources without territories (and for
        ``method="lines"``/``"both"``): the gap between the sections named in
        *sections*.
    party
        Whose territory.
    part_a_at, part_a_west_of_lon
        Part A is the part containing this (lon, lat) point, else (when
        *part_a_west_of_lon* is given) the largest part wholly west of this
        longitude (see :func:`territory_part`).
    part_b_at
        Part B is the part containing this point; default the largest part.
    sections
        Line sections bounding part A and part B, for the line method (needed
        when a source has no territories, or with ``method="lines"``/``"both"``).
    sources
        Sources to measure (default: every source with territories or lines).

    Raises
    ------
    ValidationError
        An unknown method or source, a part that cannot be found, or a source
        that must be measured by its lines when *sections* is not given.
    method
        ``"auto"`` (territories when the source has them, else lines),
        ``"territories"``, ``"lines"`` or ``"both"``.

    Returns
    -------
    pandas.DataFrame
        One row per source (and method): ``source``, ``method``, ``distance_m``
        (geodesic, WGS84), ``a_lon``, ``a_lat`` (nearest point on part A),
        ``b_lon``, ``b_lat`` (on part B), ``azimuth_deg`` (A → B), ``part_a``,
        ``part_b`` (how identified), ``part_a_area_km2``, ``part_b_area_km2``,
        ``accuracy_m``, ``method_text``.
    """
    if method not in ("auto", "territories", "lines", "both"):
        raise ValidationError(f"method must be auto, territories, lines or both, got {method!r}")
    names: set[str] = set()
    if territories is not None:
        names |= set(territories.loc[territories["party"] == party, "source"])
    if lines is not None:
        names |= set(lines["source"])
    names = set(pick_sources(names, sources))
    rows = []
    for src in sorted(names):
        has_t = territories is not None and ((territories["source"] == src) & (territories["party"] == party)).any()
        has_l = lines is not None and (lines["source"] == src).any()
        todo = []
        if method in ("territories", "both", "auto") and has_t:
            todo.append("territories")
        if method in ("lines", "both") or (method == "auto" and not has_t):
            if has_l and sections is None:
                raise ValidationError(f"corridor_width: {src} is measured by its line sections; pass "
                                      "sections=(section of part A, section of part B)")
            if has_l:
                todo.append("lines")
        for m in todo:
            if m == "territories":
                assert territories is not None  # has_t
                sel_t = (territories["source"] == src) & (territories["party"] == party)
                geom = territories.loc[sel_t].geometry.iloc[0]
                acc = float(territories.loc[sel_t, "scale_or_accuracy_m"].iloc[0])
                a, how_a = territory_part(geom, at=part_a_at, west_of_lon=part_a_west_of_lon)
                if part_b_at is None:
                    b, how_b = territory_part(geom, largest=True)
                else:
                    b, how_b = territory_part(geom, at=part_b_at)
                if a.equals(b):
                    raise ValidationError(f"{src}: part A and part B of {party} are the same polygon")
                d, pa, pb = _polygon_gap(a, b)
                area_a, area_b = area_km2(a), area_km2(b)
                text = (f"smallest geodesic distance (WGS84) between the outlines of two parts of {src}'s {party} "
                        "territory: every vertex of one to the geodesic segments of the other")
            else:
                assert lines is not None and sections is not None  # has_l, checked above
                g = lines[lines["source"] == src]
                la = g[g["section"] == sections[0]]
                lb = g[g["section"] == sections[1]]
                if la.empty or lb.empty:
                    continue
                d, pa, pb = _vertex_min_distance(la.geometry.iloc[0], lb.geometry.iloc[0])
                how_a, how_b = f"line section {sections[0]!r}", f"line section {sections[1]!r}"
                area_a = area_b = np.nan
                acc = float(g["scale_or_accuracy_m"].iloc[0])
                text = (f"smallest geodesic distance (WGS84) between {src}'s line sections {sections[0]!r} and "
                        f"{sections[1]!r} (equal to the territory gap when the nearest points lie on the "
                        f"{party} boundary with its neighbour across the gap)")
            az = float(geodesic_inverse(pa[0], pa[1], pb[0], pb[1]).azimuth12_deg) if d > 0 else np.nan
            rows.append(
                {"source": src, "method": m, "distance_m": d, "a_lon": pa[0], "a_lat": pa[1], "b_lon": pb[0],
                 "b_lat": pb[1], "azimuth_deg": az, "part_a": how_a, "part_b": how_b, "part_a_area_km2": area_a,
                 "part_b_area_km2": area_b, "accuracy_m": acc, "method_text": text}
            )
    cols = ["source", "method", "distance_m", "a_lon", "a_lat", "b_lon", "b_lat", "azimuth_deg", "part_a", "part_b",
            "part_a_area_km2", "part_b_area_km2", "accuracy_m", "method_text"]
    return _finish(pd.DataFrame(rows, columns=cols), "narrowest geodesic gap between two parts of a territory")


def distance_to_territory(
    lon: Any,
    lat: Any | None = None,
    *,
    territories: geopandas.GeoDataFrame | None,
    party: str,
    part_at: tuple[float, float] | None = None,
    part_west_of_lon: float | None = None,
    lines: geopandas.GeoDataFrame | None = None,
    section: str | None = None,
    sources: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Geodesic distance from points to (a part of) a party's territory, per source.

    For a source with territories: 0 inside the (part of the) territory, else the
    distance to its outline. For a source with lines only, *section* names the
    line that bounds the territory (e.g. ``"nakhchivan"``): a point on *party*'s
    side of it is inside (0), else its distance to that line.

    Returns
    -------
    pandas.DataFrame
        One row per point and source: ``point``, ``lon``, ``lat``, ``source``,
        ``distance_m``, ``inside``, ``nearest_lon``, ``nearest_lat``, ``method``,
        ``accuracy_m``.
    """
    lo, la = _lonlat_arrays(lon, lat)
    names: set[str] = set()
    if territories is not None:
        names |= set(territories.loc[territories["party"] == party, "source"])
    if lines is not None and section is not None:
        names |= set(lines.loc[lines["section"] == section, "source"])
    names = set(pick_sources(names, sources))
    frames = []
    for src in sorted(names):
        has_t = territories is not None and ((territories["source"] == src) & (territories["party"] == party)).any()
        if has_t:
            assert territories is not None  # has_t
            t = territories[(territories["source"] == src) & (territories["party"] == party)]
            geom = t.geometry.iloc[0]
            how = f"{party} territory"
            if part_at is not None:
                geom, how = territory_part(geom, at=part_at, west_of_lon=part_west_of_lon)
                how = f"{party} territory, {how}"
            inside = shapely.covers(geom, shapely.points(lo, la))
            near = nearest_points_on_lines(lo, la, geom.boundary)
            dist = np.where(inside, 0.0, near["distance_m"].to_numpy())
            method = f"geodesic distance (WGS84) to the outline of {how} of {src} (0 inside)"
            acc = float(t["scale_or_accuracy_m"].iloc[0])
            nlon, nlat = near["nearest_lon"].to_numpy(), near["nearest_lat"].to_numpy()
        else:
            assert lines is not None  # a source without territories is one of the lines
            g = lines[(lines["source"] == src) & (lines["section"] == section)]
            s = sided(lo, la, g)
            inside = s.party == party
            dist = np.where(inside, 0.0, s.distance)
            nlon, nlat = s.nearest_lon, s.nearest_lat
            acc = float(g["scale_or_accuracy_m"].iloc[0])
            method = (f"geodesic distance (WGS84) to {src}'s line section {section!r} that bounds the {party} "
                      f"territory (lines only; 0 on the {party} side)")
        frames.append(pd.DataFrame({"point": np.arange(lo.size), "lon": lo, "lat": la, "source": src,
                                    "distance_m": dist, "inside": inside, "nearest_lon": nlon, "nearest_lat": nlat,
                                    "accuracy_m": acc, "method": method}))
    if not frames:
        raise ValidationError(f"no source has a {party} territory" + (f" or a {section!r} line" if section else ""))
    df = pd.concat(frames, ignore_index=True).sort_values(["point", "source"], kind="stable").reset_index(drop=True)
    return _finish(df, "geodesic distance to a territory (WGS84)")


# =================================================================================================
# buffers
# =================================================================================================
def geodesic_buffer(
    *,
    lines: geopandas.GeoDataFrame,
    distance_m: float,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    quad_segs: int = 64,
) -> geopandas.GeoDataFrame:
    """Zone within ``distance_m`` of each source's line ("within 12 km of the border").

    Built as a planar buffer in a local azimuthal equidistant projection centred
    on the source's line (scale ``1 <= k <= k_max``), densified and transformed
    back to EPSG:4326. Its error is **measured**: the outline is sampled every
    ``distance_m / 20`` (at most 500 m) and the geodesic distance of every sample
    to the line is computed; ``outline_min_m`` and ``outline_max_m`` are the
    extremes (ideally both equal ``distance_m``; the chords of the round ends
    fall short by ``distance_m × (1 − cos(π / (4 quad_segs)))``, 0.9 m at 12 km
    with the default 64). Use it for maps;
    for "which places are inside" use :func:`places_within`, which decides by
    geodesic distance, not by this polygon.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per source: ``source``, ``distance_m``, ``area_km2`` (WGS84
        ellipsoid), ``outline_min_m``, ``outline_max_m``, ``method``, geometry.
    """
    import geopandas as gpd

    if not distance_m > 0:
        raise ValidationError(f"distance_m must be > 0, got {distance_m!r}")
    sel = select_lines(lines, sources=sources, pair=pair)
    rows = []
    step = min(float(distance_m) / 20.0, 500.0)
    for src, g in _groups(sel):
        geoms = np.asarray(g.geometry.values, dtype=object)
        proj = LocalProjection.from_geometries(geoms)
        local = lines_to_local(proj, g, bridged=False)
        buf = shapely.union_all(shapely.buffer(local, float(distance_m), quad_segs=quad_segs))
        buf = shapely.segmentize(buf, step)
        out = proj.geometry_to_geographic(buf)
        bx = shapely.get_coordinates(out.boundary)
        near = nearest_points_on_lines(bx[:, 0], bx[:, 1], geoms)
        d = near["distance_m"].to_numpy()
        rows.append({"source": src, "distance_m": float(distance_m), "area_km2": area_km2(out),
                     "outline_min_m": float(d.min()), "outline_max_m": float(d.max()), "geometry": out})
    method = (
        f"planar buffer (quad_segs={quad_segs}) in a local aeqd projection centred on the line (densified along its "
        f"geodesics), outline densified every {step:g} m and transformed to EPSG:4326; outline_min_m/outline_max_m = "
        "measured geodesic distance of the outline samples to the line; area on the WGS84 ellipsoid"
    )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf["method"] = method
    return _finish(gdf, method)


def places_within(
    places: geopandas.GeoDataFrame,
    *,
    lines: geopandas.GeoDataFrame,
    distance_m: float,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    kinds: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Which places lie within ``distance_m`` of each source's line, by geodesic distance.

    Parameters
    ----------
    places
        Places layer (schema ``PLACES``). Lines (roads) count by their
        representative point. Unlocated places are listed with ``within`` = NA
        and a note, never dropped.
    lines, sources, pair
        As in :func:`distance_to_lines`.
    distance_m
        The zone's width, metres.
    kinds
        Only places of these kinds.

    Returns
    -------
    pandas.DataFrame
        One row per place and source: ``place_id``, ``name_en``, ``kind``,
        ``source``, ``distance_m``, ``within`` (``distance_m <= distance``),
        ``party`` (side of the nearest section), ``nearest_lon``, ``nearest_lat``,
        ``section``, ``note``; sorted by source and distance.
    """
    p = places if kinds is None else places[places["kind"].isin(list(kinds))]
    geoms = np.asarray(p.geometry.values, dtype=object)
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = shapely.point_on_surface(geoms[located])  # a Point is its own; a road counts by a point on it
    sel = select_lines(lines, sources=sources, pair=pair)
    frames = []
    if located.any():
        d = distance_to_lines(pts, lines=sel)
        loc = p[located].reset_index(drop=True)
        d["place_id"] = loc["place_id"].to_numpy(dtype=object)[d["point"].to_numpy()]
        d["name_en"] = loc["name_en"].to_numpy(dtype=object)[d["point"].to_numpy()]
        d["kind"] = loc["kind"].to_numpy(dtype=object)[d["point"].to_numpy()]
        d["within"] = pd.array(d["distance_m"].to_numpy() <= float(distance_m), dtype="boolean")
        d["note"] = np.where(d["at_line_end"].to_numpy(), "nearest point is an end of the drawn line (side "
                             "extrapolated)", np.where(d["in_gap"].to_numpy(), "nearest point is the edge of a gap "
                                                       "in the drawn line", ""))
        frames.append(d)
    if (~located).any():
        un = p[~located]
        srcs = sorted(set(sel["source"]))
        frames.append(
            pd.DataFrame(
                {
                    "place_id": np.repeat(un["place_id"].to_numpy(dtype=object), len(srcs)),
                    "name_en": np.repeat(un["name_en"].to_numpy(dtype=object), len(srcs)),
                    "kind": np.repeat(un["kind"].to_numpy(dtype=object), len(srcs)),
                    "source": srcs * len(un),
                    "distance_m": np.nan,
                    "within": pd.array([pd.NA] * (len(un) * len(srcs)), dtype="boolean"),
                    "party": "",
                    "nearest_lon": np.nan,
                    "nearest_lat": np.nan,
                    "section": "",
                    "note": "unlocated (no geometry in the places layer): cannot be measured",
                }
            )
        )
    cols = ["place_id", "name_en", "kind", "source", "distance_m", "within", "party", "nearest_lon", "nearest_lat",
            "section", "note"]
    df = pd.concat([f[cols] for f in frames], ignore_index=True)
    df = df.sort_values(["source", "distance_m"], kind="stable", na_position="last").reset_index(drop=True)
    return _finish(df, f"within = geodesic distance to the source's line (WGS84) <= {float(distance_m):g} m; "
                   "decided per place by distance, not by a buffer polygon")
