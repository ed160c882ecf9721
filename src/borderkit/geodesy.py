"""Distances on the WGS84 ellipsoid, and nearest points on border lines.

Every distance borderkit reports is a geodesic distance on the WGS84 ellipsoid
in metres, computed by ``pyproj.Geod`` (Karney's algorithms, GeographicLib C),
accurate to a few nanometres (measured against Karney's GeodTest set, see
``docs/geodesy.md``). Coordinates are always ``(lon, lat)`` in degrees,
EPSG:4326.

Planar geometry is used only to *choose* points quickly, in a local metric
projection centred on the data (:class:`LocalProjection`); never on degrees, and
a planar length is never returned as a distance.

Line model
----------
A line (``LineString`` / ``MultiLineString`` in EPSG:4326) is a chain of WGS84
**geodesic** segments between consecutive vertices. ``method="geodesic"`` (the
default of :func:`nearest_points_on_lines`) finds the nearest point on those
geodesic segments to within a millimetre; ``method="planar"`` treats segments as
straight in the local projection (faster, measured error in ``docs/geodesy.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyproj
import shapely

from borderkit._projection import (
    MAX_RADIUS_M,
    R_MIN,
    LocalProjection,
    as_geographic_geometries,
    check_finite,
    check_lat,
    check_lon,
    geocentric,
    local_projection,
    maybe_geoseries,
)
from borderkit.errors import ValidationError

if TYPE_CHECKING:  # pandas only for the DataFrame results: the one-point check never imports it
    import pandas as pd

__all__ = [
    "GEOD",
    "GeodesicInverse",
    "GeodesicDestination",
    "geodesic_distance",
    "geodesic_inverse",
    "geodesic_destination",
    "LocalProjection",
    "local_projection",
    "MAX_RADIUS_M",
    "nearest_points_on_lines",
    "signed_distance_to_line",
    "NEAREST_COLUMNS",
    "parse_latlon",
    "LineSegments",
    "line_segments",
    "nearest_with_side",
]

GEOD = pyproj.Geod(ellps="WGS84")
"""The one ``pyproj.Geod`` (WGS84: a = 6378137 m, f = 1/298.257223563) borderkit measures with."""

_UNITS = "metres (geodesic distance on the WGS84 ellipsoid); degrees for lon/lat"
_R_MEAN = 6_371_008.8  # only steers the refinement iteration; the fixed point does not depend on it
_REFINE_TOL_M = 1e-4
_REFINE_MAX_ITER = 30
_ON_LINE_M = 1e-6  # a point closer than 1 µm to a line is "on" it (signed distance 0)

NEAREST_COLUMNS = (
    "line_index",
    "line_label",
    "part_index",
    "vertex_index",
    "distance_m",
    "nearest_lon",
    "nearest_lat",
    "along_m",
)
"""Columns of the DataFrame :func:`nearest_points_on_lines` returns, in order."""


# =================================================================================================
# Point-to-point geodesics
# =================================================================================================
class GeodesicInverse(NamedTuple):
    """Result of :func:`geodesic_inverse` (arrays of the broadcast input shape).

    Attributes
    ----------
    distance_m
        Geodesic distance on WGS84, metres.
    azimuth12_deg
        Azimuth at point 1 of the geodesic towards point 2, degrees clockwise
        from north, in (-180, 180].
    azimuth21_deg
        Azimuth at point 2 of the geodesic *back* towards point 1 (pyproj's
        "back azimuth"), degrees. GeographicLib's ``azi2`` (forward azimuth
        at point 2) is ``azimuth21_deg + 180``.
    """

    distance_m: np.ndarray
    azimuth12_deg: np.ndarray
    azimuth21_deg: np.ndarray


class GeodesicDestination(NamedTuple):
    """Result of :func:`geodesic_destination` (arrays of the broadcast input shape).

    Attributes
    ----------
    lon, lat
        End point, degrees (longitude in [-180, 180]).
    azimuth21_deg
        Azimuth at the end point back towards the start, degrees.
    """

    lon: np.ndarray
    lat: np.ndarray
    azimuth21_deg: np.ndarray


def _inverse(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> tuple[np.ndarray, ...]:
    arrays = np.broadcast_arrays(
        check_lon(lon1, "lon1"), check_lat(lat1, "lat1"), check_lon(lon2, "lon2"), check_lat(lat2, "lat2")
    )
    shape = arrays[0].shape
    flat = [np.ravel(a) for a in arrays]
    az12, az21, dist = GEOD.inv(flat[0], flat[1], flat[2], flat[3])
    return tuple(np.asarray(v, dtype=np.float64).reshape(shape) for v in (dist, az12, az21))


def geodesic_distance(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid between two sets of points.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Degrees (scalars or arrays, broadcast together). Longitudes in
        [-180, 360), latitudes in [-90, 90], all finite.

    Returns
    -------
    numpy.ndarray
        Distances in **metres** (float64, broadcast shape; 0-d for scalars),
        by ``pyproj.Geod(ellps="WGS84").inv`` (Karney 2013).

    Raises
    ------
    borderkit.errors.ValidationError
        A coordinate is not finite or out of range.

    Examples
    --------
    >>> round(float(geodesic_distance(0, 0, 1, 0)), 3)  # one degree of the equator
    111319.491
    """
    return _inverse(lon1, lat1, lon2, lat2)[0]


def geodesic_inverse(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> GeodesicInverse:
    """Distance and azimuths of the WGS84 geodesics between two sets of points.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Degrees, broadcast together (see :func:`geodesic_distance`).

    Returns
    -------
    GeodesicInverse
        ``(distance_m, azimuth12_deg, azimuth21_deg)``: metres and degrees
        clockwise from north; ``azimuth21_deg`` points from point 2 back to
        point 1.
    """
    return GeodesicInverse(*_inverse(lon1, lat1, lon2, lat2))


def geodesic_destination(lon: Any, lat: Any, azimuth_deg: Any, distance_m: Any) -> GeodesicDestination:
    """End point of the WGS84 geodesic from a start point, azimuth and distance.

    Parameters
    ----------
    lon, lat
        Start, degrees (longitude in [-180, 360), latitude in [-90, 90]).
    azimuth_deg
        Azimuth at the start, degrees clockwise from north (any finite value).
    distance_m
        Distance along the geodesic, metres (finite; negative goes backwards).

    Returns
    -------
    GeodesicDestination
        ``(lon, lat, azimuth21_deg)`` in degrees, by ``pyproj.Geod.fwd``.
    """
    arrays = np.broadcast_arrays(
        check_lon(lon, "lon"),
        check_lat(lat, "lat"),
        check_finite(azimuth_deg, "azimuth_deg"),
        check_finite(distance_m, "distance_m"),
    )
    shape = arrays[0].shape
    flat = [np.ravel(a) for a in arrays]
    lon2, lat2, az21 = GEOD.fwd(flat[0], flat[1], flat[2], flat[3])
    return GeodesicDestination(*(np.asarray(v, dtype=np.float64).reshape(shape) for v in (lon2, lat2, az21)))


def parse_latlon(text: str) -> tuple[float, float]:
    """``"LAT,LON"`` (the CLI's order, degrees) → ``(lon, lat)``: the one parser of a typed point.

    Raises
    ------
    ValidationError
        Not two numbers, not finite, or a latitude outside ±90 (the message says the order).

    Examples
    --------
    >>> parse_latlon(" 39.58, 46.18 ")
    (46.18, 39.58)
    """
    bits = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(b) for b in bits)
    except ValueError:
        raise ValidationError(f"{text!r}: expected LAT,LON in degrees, e.g. 39.58,46.18") from None
    if not (np.isfinite(lat) and np.isfinite(lon)) or not -90 <= lat <= 90 or not -180 <= lon <= 360:
        raise ValidationError(f"{text!r}: latitude must be in [-90, 90]; the order is LAT,LON")
    return lon, lat


# =================================================================================================
# Lines as chains of geodesic segments
# =================================================================================================
@dataclass
class LineSegments:
    """The geodesic segments of a set of lines, one row per segment (see :func:`line_segments`).

    Built once per line source and reused for every query (:mod:`borderkit.locate`).
    """

    a_lon: np.ndarray
    a_lat: np.ndarray
    b_lon: np.ndarray
    b_lat: np.ndarray
    length: np.ndarray  # geodesic length, m
    az_a: np.ndarray  # forward azimuth of the geodesic at A, deg
    az_b: np.ndarray  # forward azimuth of the geodesic at B, deg
    line: np.ndarray  # positional index of the line
    part: np.ndarray  # index of the part within its line
    part_global: np.ndarray  # index of the part among all parts
    vertex: np.ndarray  # index of A within its part
    along_a: np.ndarray  # geodesic length along the line from its first vertex to A, m
    prev: np.ndarray  # previous segment of the same part (or of a closed ring), -1 if none
    next: np.ndarray  # next segment of the same part (or of a closed ring), -1 if none
    labels: np.ndarray  # label of each line (index of a GeoSeries, else positional)


def line_segments(lines: Any, name: str = "lines") -> LineSegments:
    """Split (Multi)LineStrings (and polygon outlines) into geodesic segments with their lengths,
    azimuths, part and neighbour indices — the prepared form of a line source.

    Parameters
    ----------
    lines
        Geometries in EPSG:4326 (GeoSeries, GeoDataFrame or array).
    name
        How to name the input in error messages.

    Returns
    -------
    LineSegments
        One row per segment; lengths in metres on WGS84 (``pyproj.Geod``).
    """
    series = maybe_geoseries(lines)
    geoms = as_geographic_geometries(lines, name)
    labels = np.asarray(series.index if series is not None else np.arange(geoms.size), dtype=object)
    types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, [-1, 1, 2, 5])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{name}: item {labels[i]!r} is a {geoms[i].geom_type}; expected LineString or "
            "MultiLineString "
            "(use .boundary to get the outline of a polygon)"
        )
    parts, line_of_part = shapely.get_parts(geoms, return_index=True)
    coords, part_of_coord = shapely.get_coordinates(parts, return_index=True)
    if coords.shape[0] < 2:
        raise ValidationError(f"{name}: no line with at least two vertices")
    check_lon(coords[:, 0], f"{name} longitude")
    check_lat(coords[:, 1], f"{name} latitude")

    n_parts = parts.size
    # get_parts/get_coordinates return parts grouped by line and coordinates grouped by part, in order
    part_start = np.searchsorted(line_of_part, line_of_part, side="left")
    part_in_line = np.arange(n_parts) - part_start
    coord_start = np.searchsorted(part_of_coord, part_of_coord, side="left")

    a = np.flatnonzero(part_of_coord[:-1] == part_of_coord[1:])
    b = a + 1
    seg_part = part_of_coord[a]
    az_a, back_b, length = GEOD.inv(coords[a, 0], coords[a, 1], coords[b, 0], coords[b, 1])
    length = np.asarray(length, dtype=np.float64)
    seg_line = line_of_part[seg_part]

    # along-line position of A: cumulative geodesic length within the line (parts in stored order)
    cum = np.cumsum(length)
    line_first_seg = np.searchsorted(seg_line, seg_line, side="left")
    before_line = np.where(line_first_seg > 0, cum[np.maximum(line_first_seg - 1, 0)], 0.0)
    along_a = cum - length - before_line

    # drop zero-length segments, keeping one per part that has nothing else (a point-like part)
    degenerate = length <= 0.0
    part_has_real = np.zeros(n_parts, dtype=bool)
    part_has_real[seg_part[~degenerate]] = True
    first_of_part = np.r_[True, seg_part[1:] != seg_part[:-1]]
    keep = ~degenerate | (~part_has_real[seg_part] & first_of_part)

    a, b, seg_part, seg_line = a[keep], b[keep], seg_part[keep], seg_line[keep]
    length, along_a = length[keep], along_a[keep]
    az_a = np.asarray(az_a, dtype=np.float64)[keep]
    az_b = _wrap180(np.asarray(back_b, dtype=np.float64)[keep] + 180.0)

    n = a.size
    idx = np.arange(n)
    same_prev = np.r_[False, seg_part[1:] == seg_part[:-1]]
    same_next = np.r_[seg_part[:-1] == seg_part[1:], False]
    prev = np.where(same_prev, idx - 1, -1)
    nxt = np.where(same_next, idx + 1, -1)
    # closed rings: the first and last segment of a part whose first and last vertex coincide
    first_seg = np.flatnonzero(~same_prev)
    last_seg = np.flatnonzero(~same_next)
    closed = (
        np.all(coords[a[first_seg]] == coords[b[last_seg]], axis=1) & (last_seg > first_seg) & (length[first_seg] > 0)
    )
    prev[first_seg[closed]] = last_seg[closed]
    nxt[last_seg[closed]] = first_seg[closed]

    return LineSegments(
        a_lon=coords[a, 0],
        a_lat=coords[a, 1],
        b_lon=coords[b, 0],
        b_lat=coords[b, 1],
        length=length,
        az_a=az_a,
        az_b=az_b,
        line=seg_line.astype(np.int64),
        part=part_in_line[seg_part].astype(np.int64),
        part_global=seg_part.astype(np.int64),
        vertex=(a - coord_start[a]).astype(np.int64),
        along_a=along_a,
        prev=prev.astype(np.int64),
        next=nxt.astype(np.int64),
        labels=labels,
    )


def _wrap180(deg: np.ndarray) -> np.ndarray:
    return (np.asarray(deg) + 180.0) % 360.0 - 180.0


def _refine(
    p_lon: np.ndarray,
    p_lat: np.ndarray,
    a_lon: np.ndarray,
    a_lat: np.ndarray,
    az_a: np.ndarray,
    length: np.ndarray,
    s0: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Nearest point to P on the geodesic segments (A, az_a, length), vectorised over pairs.

    Iterates ``s <- clip(s + R atan2(sin(d/R) cos(alpha), cos(d/R)), 0, L)``, where X(s)
    is the point at distance s along the segment, d = |XP| and alpha the angle at X
    between the segment and the geodesic to P: the spherical along-track step to the
    foot of the perpendicular. Its fixed points are exactly the stationary points of
    the ellipsoidal distance (cos(alpha) = 0) or the clamped end points, so the
    sphere only sets the (fast, ~cm then ~µm) convergence, not the answer.

    Returns s, X lon, X lat, distance |PX| (m), forward azimuth of the segment at X,
    azimuth from X to P.
    """
    n = p_lon.size
    s = np.clip(s0, 0.0, length)
    x_lon = np.empty(n)
    x_lat = np.empty(n)
    dist = np.empty(n)
    az_x = np.empty(n)
    az_xp = np.empty(n)
    active = np.arange(n)
    for _ in range(_REFINE_MAX_ITER):
        if active.size == 0:
            break
        lo, la, back = GEOD.fwd(a_lon[active], a_lat[active], az_a[active], s[active])
        az_to_p, _, d = GEOD.inv(lo, la, p_lon[active], p_lat[active])
        lo = np.asarray(lo)
        la = np.asarray(la)
        d = np.asarray(d)
        fwd_az = np.asarray(back) + 180.0
        x_lon[active], x_lat[active], dist[active] = lo, la, d
        az_x[active], az_xp[active] = fwd_az, az_to_p
        alpha = np.radians(np.asarray(az_to_p) - fwd_az)
        sigma = d / _R_MEAN
        step = _R_MEAN * np.arctan2(np.sin(sigma) * np.cos(alpha), np.cos(sigma))
        new_s = np.clip(s[active] + step, 0.0, length[active])
        moved = np.abs(new_s - s[active])
        s[active] = np.where(moved > _REFINE_TOL_M, new_s, s[active])
        active = active[moved > _REFINE_TOL_M]
    if active.size:  # pragma: no cover - never seen; keep the last evaluated point, consistently
        lo, la, back = GEOD.fwd(a_lon[active], a_lat[active], az_a[active], s[active])
        az_to_p, _, d = GEOD.inv(lo, la, p_lon[active], p_lat[active])
        x_lon[active], x_lat[active], dist[active] = lo, la, d
        az_x[active], az_xp[active] = np.asarray(back) + 180.0, az_to_p
    return s, x_lon, x_lat, dist, _wrap180(az_x), _wrap180(az_xp)


@dataclass
class _Nearest:
    """Per point: the chosen segment and the nearest point on it (internal)."""

    seg: np.ndarray
    s: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    dist: np.ndarray
    az_x: np.ndarray
    az_xp: np.ndarray


def _points(points_lon: Any, points_lat: Any) -> tuple[np.ndarray, np.ndarray]:
    lon = check_lon(points_lon, "points_lon")
    lat = check_lat(points_lat, "points_lat")
    if lon.shape != lat.shape:
        try:
            lon, lat = np.broadcast_arrays(lon, lat)
        except ValueError as exc:
            raise ValidationError(f"points_lon has shape {lon.shape} but points_lat has shape {lat.shape}") from exc
    return np.ascontiguousarray(lon.ravel()), np.ascontiguousarray(lat.ravel())


_CHUNK = 8  # segments per chunk of the candidate tree


def _check_method(method: str) -> None:
    if method not in ("geodesic", "planar"):
        raise ValidationError(f"method: unknown method {method!r}; use 'geodesic' or 'planar'")


def _nearest(
    p_lon: np.ndarray,
    p_lat: np.ndarray,
    segs: LineSegments,
    *,
    method: str,
    projection: LocalProjection | None,
) -> _Nearest:
    """Nearest point on the segments for every point (see docs/geodesy.md, "Method").

    1. Project points and segment end points to the local plane; the planar-nearest
       segment of each point (STRtree.query_nearest) is evaluated on the ellipsoid:
       its geodesic distance g1 bounds the true minimum from above.
    2. Any segment S that could be closer has planar distance c(S) <= k g1 + h, where
       k >= 1 bounds the projection's scale on the way from the point to S and h bounds
       the planar offset between a segment's geodesic and its chord. Those candidates
       (STRtree.query "dwithin" on chunks of 8 segments, then an exact numpy filter) are
       bounded from below in an azimuthal equidistant frame centred on each point
       (:func:`_point_frame_bound`); the ones that may beat the best so far are
       evaluated too, and the closest wins.

    With no *projection* given and at most :data:`_FEW_PAIRS` (point, segment) pairs (one point,
    a few points), steps 1-2 use a bound in earth-centred 3-D coordinates instead
    (:func:`_nearest_few`): the same answer without creating a transformer.
    """
    _check_method(method)
    if projection is None and method == "geodesic" and p_lon.size * segs.length.size <= _FEW_PAIRS:
        few = _nearest_few(p_lon, p_lat, segs)
        if few is not None:
            return few
        # a point beyond one region's reach: the projected path decides, with its own limit, as it always has
    if projection is None:
        projection = LocalProjection.from_lonlat(
            np.concatenate([p_lon, segs.a_lon, segs.b_lon]), np.concatenate([p_lat, segs.a_lat, segs.b_lat])
        )
    elif not isinstance(projection, LocalProjection):
        raise ValidationError(f"projection: expected a LocalProjection, got {type(projection).__name__}")

    px, py = projection._fwd(p_lon, p_lat)
    ax, ay = projection._fwd(segs.a_lon, segs.a_lat)
    bx, by = projection._fwd(segs.b_lon, segs.b_lat)
    rho_p = np.hypot(px, py)
    rho_max = max(float(rho_p.max()), float(np.hypot(ax, ay).max()), float(np.hypot(bx, by).max()))
    projection.scale_bounds(rho_max)  # raises ValidationError beyond MAX_RADIUS_M

    # round 1: the planar-nearest segment of each point, evaluated on the ellipsoid
    seg_tree = shapely.STRtree(
        shapely.linestrings(np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1))
    )
    pts = shapely.points(px, py)
    (pi, si), _ = seg_tree.query_nearest(pts, return_distance=True, all_matches=False)
    seg1 = np.empty(p_lon.size, dtype=np.int64)
    seg1[pi] = si
    all_p = np.arange(p_lon.size)
    first = _evaluate(method, projection, p_lon, p_lat, px, py, ax, ay, bx, by, segs, all_p, seg1)
    g1 = first[4]

    # round 2: every other segment that could be closer
    h = _max_chord_offset(projection, segs, ax, ay, bx, by)
    reach = projection.k_max(np.full(1, rho_max))[0] * g1 + h  # planar reach of any candidate
    k_p = projection.k_max(np.minimum(rho_p + reach, rho_max))
    thresh = k_p * g1 + h + 1e-3 + 1e-9 * g1
    ci, cs = _candidates(pts, px, py, ax, ay, bx, by, segs, thresh)
    other = cs != seg1[ci]
    ci, cs = ci[other], cs[other]
    # exact-geometry filter: in the azimuthal equidistant frame centred on each point (built
    # from Geod.inv, so radii are true geodesic distances) a segment's distance is that of
    # its chord within a proven sagitta; drop candidates that cannot beat the best so far
    lb, t_p, ub_v = _point_frame_bound(p_lon, p_lat, ci, cs, segs)
    ub = g1.copy()
    np.minimum.at(ub, ci, ub_v)
    slack = 1e-6 + (h if method == "planar" else 0.0)
    keep = lb <= ub[ci] + slack
    ci, cs, t_p = ci[keep], cs[keep], t_p[keep]
    second = _evaluate(method, projection, p_lon, p_lat, px, py, ax, ay, bx, by, segs, ci, cs, t_p)
    near = _closest(p_lon.size, all_p, first, ci, second)
    return _planar_finish(near, p_lon, p_lat, segs) if method == "planar" else near


def _closest(n: int, all_p: np.ndarray, first: tuple[np.ndarray, ...], ci: np.ndarray,
             second: tuple[np.ndarray, ...]) -> _Nearest:
    """Per point, the evaluated pair with the smallest distance; ties: the lowest segment index.

    Distances within :data:`_TIE_M` of the point's smallest count as ties, so that a border
    drawn twice (two territories' outlines along one line) gives the same segment whichever
    candidates were evaluated and whatever nanometres of rounding separate them.
    """
    pt = np.concatenate([all_p, ci])
    cat = [np.concatenate([a, b]) for a, b in zip(first, second, strict=True)]
    seg_all, dist_all = cat[0], cat[4]
    dmin = np.full(n, np.inf)
    np.minimum.at(dmin, pt, dist_all)
    tied = dist_all <= dmin[pt] + _TIE_M
    order = np.lexsort((seg_all, ~tied, pt))
    win = order[np.r_[True, pt[order][1:] != pt[order][:-1]]]
    best = np.empty(n, dtype=np.int64)
    best[pt[win]] = win
    return _Nearest(*(c[best] for c in cat))


_TIE_M = 1e-6  # the refinement converges to 0.1 mm along the line: distances agree to ~1 nm at a tie

_FEW_PAIRS = 1 << 18
"""Up to this many (point, segment) pairs, :func:`_nearest` chooses candidates without a projection
(:func:`_nearest_few`): one ``borderkit check --lat --lon`` and other small queries."""
_CHORD_SLACK_M = 0.01  # float rounding of the 3-D coordinates is ~1e-8 m; 1 cm only admits a few more candidates


def _chord_bound(p_lon: np.ndarray, p_lat: np.ndarray, segs: LineSegments) -> tuple[np.ndarray, np.ndarray]:
    """Lower bound of the geodesic distance (m) from every point to every segment, and a start.

    In earth-centred 3-D coordinates (:func:`borderkit._projection.geocentric`) every point X of
    a segment's geodesic (length L between its ends A and B) has ``|AX| + |XB| <= L`` (chords are
    never longer than the arcs they cut), so X lies in the spheroid with foci A, B and major axis
    L, hence within ``b = sqrt(L**2 - |AB|**2) / 2`` of the straight segment AB. A geodesic
    distance is never shorter than the 3-D distance, so for every point P

        distance(P, segment) >= |P - AB|_3D - b - 1 cm.

    Exact geometry, no projection and no distance limit. Returns the ``(points, segments)``
    bounds and the parameter in [0, 1] of P's foot on the 3-D chord (a start for the refinement).
    """
    # (points, segments) arrays, one per axis: plain broadcasting, no (.., 3) reductions
    p = [c[:, None] for c in geocentric(p_lon, p_lat)]
    a = geocentric(segs.a_lon, segs.a_lat)
    ab = [b - a for a, b in zip(a, geocentric(segs.b_lon, segs.b_lat), strict=True)]
    c2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2]
    ap = [pc - ac for pc, ac in zip(p, a, strict=True)]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / c2
    t = np.clip(np.where(c2 > 0, t, 0.0), 0.0, 1.0)
    off = [apc - t * abc for apc, abc in zip(ap, ab, strict=True)]
    d = np.sqrt(off[0] * off[0] + off[1] * off[1] + off[2] * off[2])
    b = 0.5 * np.sqrt(np.maximum(segs.length * segs.length - c2, 0.0))
    return d - b - _CHORD_SLACK_M, t


def _nearest_few(p_lon: np.ndarray, p_lat: np.ndarray, segs: LineSegments) -> _Nearest | None:
    """The geodesic nearest point for a few points, candidates chosen without a projection.

    1. :func:`_chord_bound` bounds every (point, segment) distance from below; the segment
       with the smallest bound is refined on the ellipsoid (:func:`_refine`): its distance g1
       bounds the minimum from above.
    2. Every other segment whose bound is not above g1 could be closer: each is refined too,
       and the closest wins (ties: the lowest segment index), as in :func:`_nearest`.

    The bound is within centimetres of the true distance near a line (it departs by
    ``b`` plus about ``d**3 / (24 R**2)``: 0.4 m at 74 km), so step 2 refines a handful of
    segments; no transformer is created and no segment is projected.

    Returns None when a point is farther than :data:`MAX_RADIUS_M` from the nearest line: the
    projected path then answers, or refuses data that reach beyond one region, as before.
    """
    lb, t = _chord_bound(p_lon, p_lat, segs)
    all_p = np.arange(p_lon.size)
    seg1 = np.argmin(lb, axis=1)
    first = _refine_pairs(p_lon, p_lat, segs, all_p, seg1, t[all_p, seg1])
    g1 = first[4]
    if np.any(g1 > MAX_RADIUS_M):
        # the bound is proven at any distance, but the projected path has always answered (or refused) points
        # this far from the line by the reach of the whole data from its centre: keep one rule for both
        return None
    ci, cs = np.nonzero(lb <= g1[:, None] + 1e-6)
    other = cs != seg1[ci]
    ci, cs = ci[other], cs[other]
    second = _refine_pairs(p_lon, p_lat, segs, ci, cs, t[ci, cs])
    return _closest(p_lon.size, all_p, first, ci, second)


def _refine_pairs(p_lon: np.ndarray, p_lat: np.ndarray, segs: LineSegments, pi: np.ndarray, si: np.ndarray,
                  t_start: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`_refine` on the pairs (point pi[j], segment si[j]) from ``t_start`` (fraction of the segment).

    Returns (segment, s, lon, lat, distance, segment azimuth at the point, azimuth to P).
    """
    s, x_lon, x_lat, dist, az_x, az_xp = _refine(
        p_lon[pi], p_lat[pi], segs.a_lon[si], segs.a_lat[si], segs.az_a[si], segs.length[si],
        t_start * segs.length[si],
    )
    return si, s, x_lon, x_lat, dist, az_x, az_xp


def _candidates(
    pts: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    segs: LineSegments,
    thresh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(point, segment) pairs with planar distance <= thresh[point].

    The tree holds chunks of up to 8 consecutive segments (far cheaper to query with a
    large radius than single segments); chunks are then expanded and filtered exactly.
    """
    n = ax.size
    part_change = np.r_[True, segs.part_global[1:] != segs.part_global[:-1]]
    part_first = np.maximum.accumulate(np.where(part_change, np.arange(n), 0))
    chunk_key = np.r_[True, part_change[1:] | ((np.arange(1, n) - part_first[1:]) % _CHUNK == 0)]
    chunk_of = np.cumsum(chunk_key) - 1
    chunk_start = np.flatnonzero(chunk_key)
    chunk_len = np.diff(np.r_[chunk_start, n])
    # chunk polyline: A of each segment, then B of its last segment
    last = chunk_start + chunk_len - 1
    xy = np.concatenate([np.column_stack([ax, ay]), np.column_stack([bx[last], by[last]])])
    key_chunk = np.concatenate([chunk_of, np.arange(chunk_start.size)])
    key_pos = np.concatenate([np.arange(n), last + 0.5])
    order = np.lexsort((key_pos, key_chunk))
    chunks = shapely.linestrings(xy[order], indices=key_chunk[order])
    ti, tc = shapely.STRtree(chunks).query(pts, predicate="dwithin", distance=thresh)
    reps = chunk_len[tc]
    pi = np.repeat(ti, reps)
    si = np.repeat(chunk_start[tc], reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
    t = _planar_t(px[pi], py[pi], ax[si], ay[si], bx[si], by[si])
    c = np.hypot(px[pi] - (ax[si] + t * (bx[si] - ax[si])), py[pi] - (ay[si] + t * (by[si] - ay[si])))
    keep = c <= thresh[pi]
    return pi[keep], si[keep]


def _point_frame_bound(
    p_lon: np.ndarray, p_lat: np.ndarray, pi: np.ndarray, si: np.ndarray, segs: LineSegments
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower bound of the geodesic distance from point pi[j] to segment si[j], for all pairs.

    In the azimuthal equidistant frame centred on the point, the end points are
    ``r (sin az, cos az)`` with ``(az, r)`` from ``Geod.inv``, and every point of the
    segment's geodesic is at its true geodesic distance from the origin. The geodesic's
    image bends towards the origin by at most ``r L**2 / (12 R**2)`` from its chord
    (second-order sphere result, checked on WGS84 to within 11 % for r <= 3000 km; used
    with a factor 2 and R the smallest radius of curvature), so

        distance >= |nearest point of the chord| - 2 r L**2 / (12 R**2) - 1 µm.

    Returns the lower bound, the chord parameter of the nearest point (a good start for
    the refinement), and min(r_A, r_B) (a vertex distance: an upper bound).
    """
    if pi.size == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    # consecutive pairs on consecutive segments of a part share a vertex: compute it once
    az_a, _, r_a = GEOD.inv(p_lon[pi], p_lat[pi], segs.a_lon[si], segs.a_lat[si])
    r_a = np.asarray(r_a)
    az_a = np.radians(az_a)
    r_b = np.empty_like(r_a)
    az_b = np.empty_like(az_a)
    cont = (pi[1:] == pi[:-1]) & (si[1:] == si[:-1] + 1) & (segs.part_global[si[1:]] == segs.part_global[si[:-1]])
    r_b[:-1][cont] = r_a[1:][cont]
    az_b[:-1][cont] = az_a[1:][cont]
    need = ~np.r_[cont, False]
    az_n, _, r_n = GEOD.inv(p_lon[pi[need]], p_lat[pi[need]], segs.b_lon[si[need]], segs.b_lat[si[need]])
    r_b[need] = r_n
    az_b[need] = np.radians(az_n)
    xa, ya = r_a * np.sin(az_a), r_a * np.cos(az_a)
    xb, yb = r_b * np.sin(az_b), r_b * np.cos(az_b)
    zero = np.zeros_like(xa)
    t = _planar_t(zero, zero, xa, ya, xb, yb)
    chord = np.hypot(xa + t * (xb - xa), ya + t * (yb - ya))
    length = segs.length[si]
    sag = 2.0 * np.maximum(r_a, r_b) * length * length / (12.0 * R_MIN * R_MIN)
    return chord - sag - 1e-6, t, np.minimum(r_a, r_b)


def _evaluate(
    method: str,
    projection: LocalProjection,
    p_lon: np.ndarray,
    p_lat: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    segs: LineSegments,
    pi: np.ndarray,
    si: np.ndarray,
    t_guess: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """Nearest point of segment si[j] to point pi[j], for all pairs j.

    Returns (segment, s, lon, lat, distance, segment azimuth at the point, azimuth to P).
    """
    t = _planar_t(px[pi], py[pi], ax[si], ay[si], bx[si], by[si])
    if method == "geodesic":
        return _refine_pairs(p_lon, p_lat, segs, pi, si, t if t_guess is None else t_guess)
    # planar: the nearest point of the chord in the plane, measured on the ellipsoid; the
    # segment parameter t stands in for s until the winners are known (see _planar_finish)
    q_lon, q_lat = projection._inv(ax[si] + t * (bx[si] - ax[si]), ay[si] + t * (by[si] - ay[si]))
    _, _, dist = GEOD.inv(q_lon, q_lat, p_lon[pi], p_lat[pi])
    nan = np.full(si.size, np.nan)
    return si, t, q_lon, q_lat, np.asarray(dist), nan, nan


def _planar_finish(near: _Nearest, p_lon: np.ndarray, p_lat: np.ndarray, segs: LineSegments) -> _Nearest:
    """Along-segment position and azimuths of the winning planar points (t in near.s)."""
    seg, t, q_lon, q_lat = near.seg, near.s, near.lon, near.lat
    az_xp, _, _ = GEOD.inv(q_lon, q_lat, p_lon, p_lat)
    _, _, s = GEOD.inv(segs.a_lon[seg], segs.a_lat[seg], q_lon, q_lat)
    # direction of the line at Q: the geodesic from Q on to B (at B itself, the segment's end azimuth)
    az_qb, _, d_qb = GEOD.inv(q_lon, q_lat, segs.b_lon[seg], segs.b_lat[seg])
    az_x = np.where(np.asarray(d_qb) > 0, az_qb, segs.az_b[seg])
    s = np.where(t >= 1.0, segs.length[seg], np.where(t <= 0.0, 0.0, np.asarray(s)))
    return _Nearest(seg, s, q_lon, q_lat, near.dist, _wrap180(az_x), _wrap180(np.asarray(az_xp)))


def _planar_t(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Parameter in [0, 1] of the orthogonal projection of P on the planar segment AB."""
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / ll
    return np.clip(np.where(ll > 0, t, 0.0), 0.0, 1.0)


def _max_chord_offset(
    projection: LocalProjection,
    segs: LineSegments,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
) -> float:
    """Upper bound (m) of the planar offset between each segment's geodesic and its chord.

    Measured at the geodesic's midpoint (where a nearly circular arc is farthest from
    its chord) and doubled for safety.
    """
    m_lon, m_lat, _ = GEOD.fwd(segs.a_lon, segs.a_lat, segs.az_a, segs.length / 2.0)
    mx, my = projection._fwd(np.asarray(m_lon), np.asarray(m_lat))
    t = _planar_t(mx, my, ax, ay, bx, by)
    off = np.hypot(mx - (ax + t * (bx - ax)), my - (ay + t * (by - ay)))
    return 2.0 * float(off.max()) if off.size else 0.0


def _method_text(method: str, projection: LocalProjection | None) -> str:
    where = "a local azimuthal equidistant projection centred on the data" if projection is None else (repr(projection))
    if method == "geodesic":
        return (
            "geodesic: segments are WGS84 geodesics between vertices; candidate segments chosen by "
            f"STRtree in {where} with a distortion margin, then bounded in a per-point azimuthal "
            "equidistant frame; nearest point refined along each remaining candidate geodesic "
            "(converged to 0.1 mm); distance by pyproj.Geod.inv (WGS84)"
        )
    return (
        f"planar: segments straight in {where}; candidate segments chosen by STRtree in that plane with "
        "a proven distortion margin; on each, the nearest point in the plane is transformed back and "
        "measured with pyproj.Geod.inv (WGS84); the closest is kept"
    )


def _frame(p_count: int, near: _Nearest, segs: LineSegments) -> pd.DataFrame:
    import pandas as pd

    seg = near.seg
    df = pd.DataFrame(
        {
            "line_index": segs.line[seg],
            "line_label": segs.labels[segs.line[seg]] if p_count else np.array([], dtype=object),
            "part_index": segs.part[seg],
            "vertex_index": segs.vertex[seg],
            "distance_m": near.dist,
            "nearest_lon": near.lon,
            "nearest_lat": near.lat,
            "along_m": segs.along_a[seg] + near.s,
        },
        columns=list(NEAREST_COLUMNS),
    )
    return df


def nearest_points_on_lines(
    points_lon: Any,
    points_lat: Any,
    lines: Any,
    *,
    method: str = "geodesic",
    projection: LocalProjection | None = None,
) -> pd.DataFrame:
    """For each point, the nearest point on a set of lines and its geodesic distance.

    Parameters
    ----------
    points_lon, points_lat
        Points, degrees (1-D arrays of equal length, or scalars).
    lines
        ``LineString`` / ``MultiLineString`` geometries in EPSG:4326: one geometry,
        a sequence or array of them, or a GeoSeries / GeoDataFrame (a GeoSeries in
        another CRS is transformed to EPSG:4326 first; one without CRS is taken as
        EPSG:4326). Empty and missing geometries are skipped.
    method
        ``"geodesic"`` (default): segments are WGS84 geodesics; the result is the
        nearest point on them to within a millimetre (see ``docs/geodesy.md``).
        ``"planar"``: segments are straight lines in the local projection; on
        each candidate segment the nearest point is taken in that plane, and the
        candidate whose point is closest *on the ellipsoid* wins (a little faster;
        the distance is still a true ellipsoidal distance to a point within a few
        centimetres of the line, see ``docs/geodesy.md``).
    projection
        Local projection used to choose candidates. Default: azimuthal
        equidistant centred on the box of the points and lines. All data must lie
        within 3,000 km of its centre. With ``method="geodesic"`` and a few points
        (points × segments ≤ 262,144) none is made: candidates are bounded in 3-D
        (``docs/geodesy.md``, "A few points"), and each point must lie within
        3,000 km of the nearest line.

    Returns
    -------
    pandas.DataFrame
        One row per point, in input order, with the columns

        ``line_index``
            Position of the nearest line in *lines*.
        ``line_label``
            Index label of that line (the GeoSeries/GeoDataFrame index, else the position).
        ``part_index``, ``vertex_index``
            Part of a MultiLineString (0 for a LineString) and index of the first
            vertex of the nearest segment within that part.
        ``distance_m``
            Geodesic distance (WGS84, metres) from the point to the nearest point.
        ``nearest_lon``, ``nearest_lat``
            The nearest point on the line, degrees.
        ``along_m``
            Geodesic length (metres) along the line from its first vertex to the
            nearest point (parts of a MultiLineString counted in stored order,
            gaps between parts not counted).

        ``df.attrs`` holds ``units`` and ``method``.

    Raises
    ------
    borderkit.errors.ValidationError
        Bad coordinates, geometries that are not lines, no line with two
        vertices, or data farther than 3,000 km from the projection centre
        (a few points: a point farther than 3,000 km from the nearest line).

    Notes
    -----
    Cost is vectorised: one STRtree query for all points, then a few array calls of
    ``Geod.fwd``/``Geod.inv`` over the (point, candidate segment) pairs.
    """
    _check_method(method)
    p_lon, p_lat = _points(points_lon, points_lat)
    segs = line_segments(lines)
    if p_lon.size == 0:
        empty = _Nearest(*(np.empty(0, dtype=np.int64) if i == 0 else np.empty(0) for i in range(7)))
        df = _frame(0, empty, segs)
    else:
        df = _frame(p_lon.size, _nearest(p_lon, p_lat, segs, method=method, projection=projection), segs)
    df.attrs["units"] = _UNITS
    df.attrs["method"] = _method_text(method, projection)
    return df


def _left_of_line(near: _Nearest, segs: LineSegments) -> np.ndarray:
    """True where each point is on the left of the direction of travel at its nearest point.

    The side rule of :func:`signed_distance_to_line` (segment direction at X; the
    pseudo-normal at interior vertices; end segments extended). Works for several
    lines at once: ``segs.prev``/``segs.next`` never link two lines.
    """
    seg = near.seg
    # default: the side relative to the segment direction at X
    left = np.sin(np.radians(near.az_xp - near.az_x)) < 0.0
    # at an interior vertex: pseudo-normal (sum of the two left normals)
    at_start = (near.s <= 0.0) & (segs.prev[seg] >= 0)
    at_end = (near.s >= segs.length[seg]) & (segs.next[seg] >= 0) & ~at_start
    vtx = at_start | at_end
    if vtx.any():
        sv = seg[vtx]
        az_in = np.where(at_start[vtx], segs.az_b[segs.prev[sv]], segs.az_b[sv])
        az_out = np.where(at_start[vtx], segs.az_a[sv], segs.az_a[segs.next[sv]])
        nx = np.sin(np.radians(az_in - 90.0)) + np.sin(np.radians(az_out - 90.0))
        ny = np.cos(np.radians(az_in - 90.0)) + np.cos(np.radians(az_out - 90.0))
        ux = np.sin(np.radians(near.az_xp[vtx]))
        uy = np.cos(np.radians(near.az_xp[vtx]))
        dot = ux * nx + uy * ny
        usable = np.hypot(nx, ny) > 1e-9  # a 180° spike has no pseudo-normal: keep the segment rule
        left[vtx] = np.where(usable, dot > 0.0, left[vtx])
    return left


def nearest_with_side(
    p_lon: np.ndarray, p_lat: np.ndarray, segs: LineSegments, *, projection: LocalProjection | None = None
) -> tuple[_Nearest, np.ndarray]:
    """Exact nearest point on prepared lines (geodesic method) and the side of each point.

    Returns the nearest-point record and a boolean array, True on the left of the
    direction of travel of the nearest line. Used by :mod:`borderkit.locate`.
    """
    near = _nearest(p_lon, p_lat, segs, method="geodesic", projection=projection)
    return near, _left_of_line(near, segs)


def signed_distance_to_line(
    points_lon: Any,
    points_lat: Any,
    line: Any,
    *,
    left_positive: bool = True,
    method: str = "geodesic",
    projection: LocalProjection | None = None,
) -> pd.DataFrame:
    """Geodesic distance to one line, signed by the side of the line each point is on.

    Parameters
    ----------
    points_lon, points_lat
        Points, degrees.
    line
        One ``LineString`` or ``MultiLineString`` in EPSG:4326 (or a one-row
        GeoSeries/GeoDataFrame). Its vertex order is its direction of travel.
    left_positive
        ``True`` (default): points to the **left** of the direction of travel get a
        positive distance, points to the right a negative one. ``False`` flips it.
    method, projection
        As in :func:`nearest_points_on_lines`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`nearest_points_on_lines`, then ``signed_distance_m``
        (metres) and ``side`` (``"left"``, ``"right"`` or ``"on"`` for a point
        closer than 1 µm to the line, whose signed distance is then 0).

    Notes
    -----
    The side is decided on the ellipsoid at the nearest point X: with ``az`` the
    forward azimuth of the line's geodesic segment at X and ``az_p`` the azimuth of
    the geodesic from X to the point, the point is on the left when
    ``sin(az_p - az) < 0`` (azimuths turn clockwise). When X is an interior vertex
    (where two segments meet) the segment direction is not defined there; then the
    pseudo-normal rule is used: the point is on the left when the direction to it
    has a positive component along the sum of the two segments' left normals at the
    vertex (the bisector of the normals), which gives the same side as the
    segment on which the point's perpendicular foot lies. At the first or last
    vertex of an open line (or of a part of a MultiLineString) the end segment is
    extended. A closed ring's first/last vertex is treated as an interior vertex.
    """
    geoms = as_geographic_geometries(line, "line")
    non_empty = [g for g in geoms if g is not None and not shapely.is_empty(g)]
    if len(non_empty) != 1:
        raise ValidationError(
            f"line: expected exactly one LineString or MultiLineString, got {len(non_empty)} non-empty "
            "geometries (use nearest_points_on_lines for several lines)"
        )
    _check_method(method)
    p_lon, p_lat = _points(points_lon, points_lat)
    segs = line_segments(line, "line")
    if p_lon.size == 0:
        near = _Nearest(*(np.empty(0, dtype=np.int64) if i == 0 else np.empty(0) for i in range(7)))
    else:
        near = _nearest(p_lon, p_lat, segs, method=method, projection=projection)
    df = _frame(p_lon.size, near, segs)

    left = _left_of_line(near, segs)
    on = near.dist < _ON_LINE_M
    sign = np.where(left, 1.0, -1.0) * (1.0 if left_positive else -1.0)
    df["signed_distance_m"] = np.where(on, 0.0, sign * near.dist)
    df["side"] = np.where(on, "on", np.where(left, "left", "right"))
    df.attrs["units"] = _UNITS
    df.attrs["method"] = _method_text(method, projection)
    df.attrs["sign_convention"] = (
        "positive = left of the line's direction of travel"
        if left_positive
        else "positive = right of the line's direction of travel"
    )
    return df
