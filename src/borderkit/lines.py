"""The lines model: choosing line sections, bridging gaps, sides, densifying, geodesic length and area.

Every measurement against a line source goes through these functions, so that
"which sections", "which side of the line is this point on" and "how long is
this line" have one answer in borderkit. They sit above the geodesic kernels
(:mod:`borderkit.geodesy`, :mod:`borderkit._projection`) and below the
measurement modules (:mod:`borderkit.measure`, :mod:`borderkit.overlaps`,
:mod:`borderkit.locate`), and import nothing above them.

Units and methods
-----------------
* Lengths are metres and areas km² on the WGS84 ellipsoid
  (``pyproj.Geod.geometry_length`` / ``geometry_area_perimeter`` of
  :data:`borderkit.geodesy.GEOD`; edges are geodesics).
* Densified points follow each segment's geodesic (``Geod.fwd`` from its start).
* A line's ``left_party`` is on the left of its direction of travel (DESIGN.md);
  a point is on the side of the *nearest* section of one source's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import shapely

from borderkit._projection import LocalProjection, ensure_wgs84
from borderkit.errors import ValidationError
from borderkit.geodesy import GEOD, geodesic_inverse, nearest_points_on_lines, signed_distance_to_line

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

__all__ = [
    "BRIDGE_GAPS_M",
    "UNITS",
    "DensifiedLines",
    "Sided",
    "area_km2",
    "areas_km2",
    "bridge_gaps",
    "bridged_geometries",
    "densify",
    "densify_lines",
    "geodesic_densify",
    "length_m",
    "line_pair",
    "lines_to_local",
    "pick_sources",
    "select_lines",
    "sided",
]

UNITS = "metres (geodesic, WGS84 ellipsoid); km² (WGS84 ellipsoid); degrees for lon/lat and azimuths"
"""Units of every table that :mod:`borderkit.measure` and :mod:`borderkit.overlaps` return (``df.attrs['units']``)."""

BRIDGE_GAPS_M = 5000.0
"""Gaps up to this length between consecutive parts of one section are bridged to decide sides.

OSM's land-only polygons leave the ARM|AZE line interrupted where it crosses water (e.g. a 1.9 km
gap across Sev Lake). Distances are always measured to the *drawn* line; the side of a point (and
the splitting of polygons by the line) uses the line with such gaps closed by a straight segment,
and rows whose nearest drawn point is the edge of a bridged gap are flagged ``in_gap``."""


# =================================================================================================
# choosing sources and sections
# =================================================================================================
def pick_sources(available: Iterable[str], sources: Iterable[str] | str | None) -> list[str]:
    """The line sources to use: *sources* checked against *available* (default: all of them).

    The one check of a ``sources=`` option in borderkit; every function that takes
    one raises the same message for an unknown name.

    Parameters
    ----------
    available
        Source names that exist (e.g. ``lines["source"]``).
    sources
        A name, names, or ``None`` for every available source.

    Returns
    -------
    list of str
        The chosen names, sorted.

    Raises
    ------
    ValidationError
        A name is not available.

    Examples
    --------
    >>> pick_sources(["osm-2017", "dcw-gmt"], None)
    ['dcw-gmt', 'osm-2017']
    >>> pick_sources(["osm-2017", "dcw-gmt"], "osm")
    Traceback (most recent call last):
    ...
    borderkit.errors.ValidationError: unknown line source(s) ['osm']; available: dcw-gmt, osm-2017
    """
    names = sorted({str(s) for s in available})
    if sources is None:
        return names
    wanted = [sources] if isinstance(sources, str) else list(sources)
    unknown = [s for s in wanted if s not in names]
    if unknown:
        raise ValidationError(f"unknown line source(s) {unknown}; available: {', '.join(names)}")
    return sorted(set(wanted))


def select_lines(
    lines: geopandas.GeoDataFrame,
    *,
    sources: Iterable[str] | str | None = None,
    pair: Sequence[str] | None = None,
) -> geopandas.GeoDataFrame:
    """The sections of some line sources, optionally only those between two parties.

    Parameters
    ----------
    lines
        A lines layer (schema ``LINES``); reprojected to EPSG:4326 if it is in another CRS.
    sources
        Registry names to keep (default: all). An unknown name raises (see :func:`pick_sources`).
    pair
        Two party codes, e.g. ``("ARM", "AZE")``: keep sections whose
        ``{left_party, right_party}`` is that pair.

    Returns
    -------
    geopandas.GeoDataFrame
        The selected rows (non-empty geometries only), original index kept.

    Raises
    ------
    ValidationError
        An unknown source, a pair that is not two different codes, or nothing left to measure against.
    """
    lines = ensure_wgs84(lines)
    out = lines[~lines.geometry.is_empty & lines.geometry.notna()]
    if sources is not None:
        out = out[out["source"].isin(pick_sources(out["source"], sources))]
    if pair is not None:
        p = {str(x) for x in pair}
        if len(p) != 2:
            raise ValidationError(f"pair: expected two different party codes, got {pair!r}")
        keep = [({a, b} == p) for a, b in zip(out["left_party"], out["right_party"], strict=True)]
        out = out[np.asarray(keep, dtype=bool)]
    if out.empty:
        raise ValidationError(
            "no line sections to measure against"
            + (f" between {'|'.join(pair)}" if pair is not None else "")
            + (f" in source(s) {sources}" if sources is not None else "")
        )
    return out


def line_pair(lines: geopandas.GeoDataFrame, pair: Sequence[str] | None = None) -> tuple[str, str]:
    """The two parties to measure between: *pair* as given, else the one pair the lines separate.

    Parameters
    ----------
    lines
        A lines layer (schema ``LINES``).
    pair
        Two party codes, or ``None`` to take them from the lines.

    Returns
    -------
    (str, str)
        The two codes (sorted when taken from the lines).

    Raises
    ------
    ValidationError
        *pair* is not two codes, or ``pair=None`` and the lines separate several pairs.

    Examples
    --------
    >>> import pandas as pd
    >>> line_pair(pd.DataFrame({"left_party": ["ARM", "AZE"], "right_party": ["AZE", "ARM"]}))
    ('ARM', 'AZE')
    """
    if pair is not None:
        bits = [str(x) for x in pair]
        if len(bits) != 2 or bits[0] == bits[1]:
            raise ValidationError(f"pair: expected two different party codes, got {pair!r}")
        return bits[0], bits[1]
    found = sorted({tuple(sorted((str(a), str(b)))) for a, b in zip(lines["left_party"], lines["right_party"],
                                                                     strict=True) if a != b})
    if len(found) != 1:
        shown = ", ".join("|".join(f) for f in found) or "none"
        raise ValidationError(f"pair: the lines separate {len(found)} pairs of parties ({shown}); pass pair=(P, Q)")
    return found[0][0], found[0][1]


# =================================================================================================
# lengths and areas on the ellipsoid
# =================================================================================================
def area_km2(geometries: Any) -> float:
    """Total area of polygons in EPSG:4326, km² on the WGS84 ellipsoid.

    Parameters
    ----------
    geometries
        A shapely geometry or an iterable of them (lon/lat degrees). Non-polygonal
        parts count 0.

    Returns
    -------
    float
        km², by ``pyproj.Geod(ellps="WGS84").geometry_area_perimeter`` (edges between
        consecutive vertices are geodesics). The absolute value of every ring's
        area is taken, so ring orientation does not matter.

    Examples
    --------
    A 1° × 1° cell at the equator is 12 308.8 km² on WGS84:

    >>> import shapely
    >>> round(area_km2(shapely.box(0, 0, 1, 1)), 1)
    12308.8
    """
    geoms = [geometries] if isinstance(geometries, shapely.Geometry) else list(geometries)
    total = 0.0
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for p in shapely.get_parts(g):
            if p.geom_type == "Polygon" and not p.is_empty:
                total += abs(GEOD.geometry_area_perimeter(p)[0])
    return total / 1e6


def areas_km2(geometries: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Area of each geometry (km², WGS84 ellipsoid), as in :func:`area_km2`.

    Examples
    --------
    >>> import shapely
    >>> areas_km2([shapely.box(0, 0, 1, 1), shapely.Point(0, 0)]).round(1).tolist()
    [12308.8, 0.0]
    """
    return np.array([area_km2(g) for g in geometries], dtype=np.float64)


def length_m(geometry: Any) -> float:
    """Geodesic length of a (Multi)LineString in EPSG:4326, metres on WGS84 (0 for empty/None).

    Examples
    --------
    One degree of longitude along the equator is 111 319.49 m on WGS84:

    >>> import shapely
    >>> round(length_m(shapely.LineString([(0, 0), (1, 0)])), 2)
    111319.49
    """
    if geometry is None or geometry.is_empty:
        return 0.0
    return float(GEOD.geometry_length(geometry))


# =================================================================================================
# densifying along geodesics
# =================================================================================================
class DensifiedLines(NamedTuple):
    """Points along lines, from :func:`densify` (arrays of equal length, in order along each part)."""

    lon: np.ndarray
    lat: np.ndarray
    geometry_index: np.ndarray
    """Position of the input geometry each point belongs to."""
    weight_m: np.ndarray
    """Length of line (m) each point stands for (0 for a part's last vertex)."""
    part: np.ndarray
    """Index of the part each point is on (consecutive points of one part are neighbours along it)."""


def densify(geometries: Any, spacing_m: float) -> DensifiedLines:
    """Points along lines every ``spacing_m`` or less on each segment's WGS84 geodesic.

    Parameters
    ----------
    geometries
        (Multi)LineStrings or (Multi)Polygons (their outlines) in EPSG:4326: one geometry or a sequence.
    spacing_m
        Largest distance between consecutive points of a segment, metres.

    Returns
    -------
    DensifiedLines
        ``lon``, ``lat``, ``geometry_index``, ``weight_m`` (length each point stands
        for) and ``part``; every vertex is included and the points of a segment are
        equally spaced (``Geod.fwd`` from its start). Vectorised: no loop per point.

    Examples
    --------
    >>> import shapely
    >>> d = densify(shapely.LineString([(0, 0), (0.01, 0)]), 500.0)
    >>> len(d.lon), round(float(d.weight_m.sum()), 3)
    (4, 1113.195)
    """
    geoms = [geometries] if isinstance(geometries, shapely.Geometry) else list(geometries)
    arr = np.asarray(geoms, dtype=object)
    polygonal = np.isin(shapely.get_type_id(arr), [3, 6])
    if polygonal.any():
        arr = np.where(polygonal, shapely.boundary(arr), arr)
    parts, gidx = shapely.get_parts(arr, return_index=True)
    coords, pidx = shapely.get_coordinates(parts, return_index=True)
    a = np.flatnonzero(pidx[:-1] == pidx[1:])
    b = a + 1
    az, _, length = GEOD.inv(coords[a, 0], coords[a, 1], coords[b, 0], coords[b, 1])
    length = np.asarray(length, dtype=np.float64)
    n = np.maximum(1, np.ceil(length / float(spacing_m)).astype(np.int64))
    seg = np.repeat(np.arange(a.size), n)
    start = np.repeat(np.cumsum(n) - n, n)
    frac = (np.arange(seg.size) - start) / n[seg]
    lon, lat, _ = GEOD.fwd(coords[a[seg], 0], coords[a[seg], 1], np.asarray(az)[seg], length[seg] * frac)
    last = np.flatnonzero(np.r_[pidx[1:] != pidx[:-1], True])  # last vertex of every part
    lon = np.concatenate([np.asarray(lon, dtype=np.float64), coords[last, 0]])
    lat = np.concatenate([np.asarray(lat, dtype=np.float64), coords[last, 1]])
    part = np.concatenate([pidx[a[seg]], pidx[last]])
    w = np.concatenate([length[seg] / n[seg], np.zeros(last.size)])
    # order along each part: its segment samples (already in order), then its last vertex
    order = np.lexsort((np.r_[np.zeros(seg.size), np.ones(last.size)], part))
    return DensifiedLines(lon[order], lat[order], gidx[part][order], w[order], part[order])


def densify_lines(geometries: Any, spacing_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points along lines every ``spacing_m`` or less, following each segment's WGS84 geodesic.

    Parameters
    ----------
    geometries
        (Multi)LineStrings or (Multi)Polygons (their outlines) in EPSG:4326.
    spacing_m
        Largest distance between consecutive points of a segment, metres.

    Returns
    -------
    (lon, lat, geometry_index)
        Arrays; every vertex is included; the points of one segment are spaced
        equally, at most ``spacing_m`` apart (``Geod.fwd`` from its start).
        :func:`densify` also returns the length each point stands for.
    """
    d = densify(geometries, spacing_m)
    return d.lon, d.lat, d.geometry_index


def geodesic_densify(geometries: Any, max_m: float = 1000.0) -> np.ndarray:
    """Lines with vertices added along each geodesic segment (at most ``max_m`` apart).

    A long geodesic segment is a curve in a local projection; after this its chords
    are short enough (≤ 1 km: sagitta far below a millimetre) for planar overlays to
    follow the geodesic.

    Parameters
    ----------
    geometries
        (Multi)LineStrings in EPSG:4326 (``None``/empty kept as they are).
    max_m
        Largest spacing of the new vertices, metres.

    Returns
    -------
    numpy.ndarray
        Object array of (Multi)LineStrings, one per input.

    Examples
    --------
    >>> import shapely
    >>> out = geodesic_densify([shapely.LineString([(45, 40), (45.1, 40)])], 1000.0)
    >>> len(out[0].coords)
    10
    """
    out = []
    for g in geometries:
        if g is None or g.is_empty:
            out.append(g)
            continue
        parts = []
        for p in shapely.get_parts(g):
            d = densify([p], max_m)
            parts.append(shapely.LineString(np.column_stack([d.lon, d.lat])))
        out.append(parts[0] if g.geom_type == "LineString" else shapely.MultiLineString(parts))
    return np.asarray(out, dtype=object)


# =================================================================================================
# gaps and sides
# =================================================================================================
def bridge_gaps(geometry: Any, bridge_m: float = BRIDGE_GAPS_M) -> tuple[Any, np.ndarray]:
    """A section with gaps of at most ``bridge_m`` between consecutive parts closed, and the gap ends.

    Parameters
    ----------
    geometry
        A (Multi)LineString in EPSG:4326; a LineString is returned unchanged.
    bridge_m
        Longest gap (geodesic, metres) closed by a straight segment.

    Returns
    -------
    (geometry, ends)
        The bridged line and an ``(n, 2)`` array of the lon/lat end points of the bridged gaps.

    Examples
    --------
    >>> import shapely
    >>> g = shapely.MultiLineString([[(45, 40), (45.01, 40)], [(45.02, 40), (45.03, 40)]])
    >>> bridged, ends = bridge_gaps(g)
    >>> bridged.geom_type, ends.tolist()
    ('LineString', [[45.01, 40.0], [45.02, 40.0]])
    """
    if geometry.geom_type != "MultiLineString":
        return geometry, np.empty((0, 2))
    parts = [np.asarray(p.coords) for p in geometry.geoms if len(p.coords) >= 2]
    chains: list[np.ndarray] = [parts[0]]
    ends: list[np.ndarray] = []
    for p in parts[1:]:
        a, b = chains[-1][-1], p[0]
        gap = float(geodesic_inverse(a[0], a[1], b[0], b[1]).distance_m)
        if gap <= bridge_m:
            if gap > 0:
                ends += [a, b]
            chains[-1] = np.vstack([chains[-1], p])
        else:
            chains.append(p)
    out = shapely.LineString(chains[0]) if len(chains) == 1 else shapely.MultiLineString(chains)
    return out, (np.asarray(ends) if ends else np.empty((0, 2)))


def bridged_geometries(sections: geopandas.GeoDataFrame) -> np.ndarray:
    """Every section's geometry with its gaps bridged (:func:`bridge_gaps`), as an object array."""
    return np.asarray([bridge_gaps(g)[0] for g in sections.geometry.values], dtype=object)


def lines_to_local(proj: LocalProjection, sections: geopandas.GeoDataFrame, *, bridged: bool = True) -> np.ndarray:
    """Sections (gaps bridged unless ``bridged=False``) densified along their geodesics, in *proj*'s plane.

    Parameters
    ----------
    proj
        The local projection (:class:`borderkit.geodesy.LocalProjection`).
    sections
        Line sections of one source (schema ``LINES``), EPSG:4326.
    bridged
        Close short gaps first (:func:`bridge_gaps`), as for deciding sides.

    Returns
    -------
    numpy.ndarray
        Object array of planar (Multi)LineStrings in metres, one per section.
    """
    geoms = bridged_geometries(sections) if bridged else np.asarray(sections.geometry.values, dtype=object)
    return np.asarray(proj.geometry_to_local(geodesic_densify(geoms)), dtype=object)


@dataclass
class Sided:
    """Per point: the nearest section of one source's line and the side the point is on (from :func:`sided`).

    Attributes
    ----------
    distance
        Geodesic distance to the nearest drawn point, metres.
    party
        Party code on the point's side (``""`` on the line).
    other
        The other party of that section.
    nearest_lon, nearest_lat
        Nearest drawn point.
    along
        Geodesic length along the section from its first vertex to the nearest point, metres.
    row
        Positional row of the nearest section in the sections frame.
    in_gap
        The nearest drawn point is the edge of a bridged gap.
    bridged_distance
        Distance to the section with its gaps bridged, metres.
    at_end
        The nearest drawn point is an end of an open section (side extrapolated).
    """

    distance: np.ndarray
    party: np.ndarray
    other: np.ndarray
    nearest_lon: np.ndarray
    nearest_lat: np.ndarray
    along: np.ndarray
    row: np.ndarray
    in_gap: np.ndarray
    bridged_distance: np.ndarray
    at_end: np.ndarray

    FIELDS = ("distance", "party", "other", "nearest_lon", "nearest_lat", "along", "row", "in_gap",
              "bridged_distance", "at_end")

    def concat(self, other: Sided) -> Sided:
        """The points of *self* followed by those of *other*."""
        return Sided(*(np.concatenate([getattr(self, f), getattr(other, f)]) for f in self.FIELDS))


def sided(lon: np.ndarray, lat: np.ndarray, sections: geopandas.GeoDataFrame) -> Sided:
    """Nearest section of one source's line for every point, and the party on the point's side.

    Parameters
    ----------
    lon, lat
        Points, degrees (1-D arrays of equal length).
    sections
        The sections of **one** line source (schema ``LINES``: ``left_party``,
        ``right_party``), EPSG:4326.

    Returns
    -------
    Sided
        Per point: distance (geodesic, m) to the nearest drawn section, party on its
        side of that section (decided on the section with its gaps bridged, see
        :data:`BRIDGE_GAPS_M`), flags for gaps and line ends.

    Examples
    --------
    A point north of a west→east line with ``ARM`` on the left is on ``ARM``'s side; its
    distance is to the geodesic segment, which bows north of the parallel (brute force over
    ``Geod.npts`` of the segment gives 1109.15 m):

    >>> import geopandas as gpd, numpy as np, shapely
    >>> secs = gpd.GeoDataFrame({"left_party": ["ARM"], "right_party": ["AZE"]},
    ...                         geometry=[shapely.LineString([(45, 40), (45.1, 40)])], crs=4326)
    >>> s = sided(np.array([45.05]), np.array([40.01]), secs)
    >>> s.party.tolist(), round(float(s.distance[0]), 1)
    (['ARM'], 1109.1)
    """
    n = lon.size
    geoms = np.asarray(sections.geometry.values, dtype=object)
    near = nearest_points_on_lines(lon, lat, geoms)
    row = near["line_index"].to_numpy(dtype=np.int64)
    dist = near["distance_m"].to_numpy(dtype=np.float64).copy()
    nlon = near["nearest_lon"].to_numpy(dtype=np.float64).copy()
    nlat = near["nearest_lat"].to_numpy(dtype=np.float64).copy()
    along = near["along_m"].to_numpy(dtype=np.float64).copy()
    left = sections["left_party"].to_numpy(dtype=object)
    right = sections["right_party"].to_numpy(dtype=object)
    party = np.full(n, "", dtype=object)
    other = np.full(n, "", dtype=object)
    in_gap = np.zeros(n, dtype=bool)
    at_end = np.zeros(n, dtype=bool)
    bdist = dist.copy()
    for k in np.unique(row):  # one call per section (a handful)
        m = row == k
        bgeom, ends = bridge_gaps(geoms[k])
        sd = signed_distance_to_line(lon[m], lat[m], bgeom)
        side = sd["side"].to_numpy(dtype=object)
        bdist[m] = sd["distance_m"].to_numpy(dtype=np.float64)
        party[m] = np.where(side == "left", left[k], np.where(side == "right", right[k], ""))
        other[m] = np.where(side == "left", right[k], np.where(side == "right", left[k], ""))
        if ends.size:
            dd = geodesic_inverse(nlon[m][:, None], nlat[m][:, None], ends[None, :, 0], ends[None, :, 1]).distance_m
            in_gap[m] = dd.min(axis=1) < 0.01
        tips = np.asarray([c for p in shapely.get_parts(bgeom) for c in (p.coords[0], p.coords[-1])
                           if p.coords[0] != p.coords[-1]], dtype=np.float64).reshape(-1, 2)
        if tips.size:
            dd = geodesic_inverse(nlon[m][:, None], nlat[m][:, None], tips[None, :, 0], tips[None, :, 1]).distance_m
            at_end[m] = dd.min(axis=1) < 0.01
    return Sided(dist, party, other, nlon, nlat, along, row, in_gap, bdist, at_end)
