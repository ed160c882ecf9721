"""Local metric projections for one region (internal; re-exported by :mod:`borderkit.geodesy`).

A :class:`LocalProjection` maps longitude/latitude on WGS84 to metres in a plane
centred on the data, so that shapely's planar algorithms (STRtree, nearest
point, buffers) can work on it. Planar results are never reported as distances
by borderkit: :mod:`borderkit.geodesy` uses the plane only to *choose* a point,
and measures every reported distance on the ellipsoid.

Two kinds are offered, both built from a PROJ string with ``+datum=WGS84`` (so
the transformation from EPSG:4326 is a pure conversion, no datum shift) and a
``Transformer`` with ``always_xy=True``:

``"aeqd"`` (default)
    Ellipsoidal azimuthal equidistant centred on the data. PROJ computes it with
    Karney's geodesic algorithms, so ``hypot(x, y)`` *is* the geodesic distance
    from the centre (checked to nanometres in the tests). The radial scale is 1;
    the tangential scale is ``rho / m12(rho)`` ≈ ``1 + rho**2 / (6 R**2)``.
    Every scale is ≥ 1.
``"tmerc"``
    Transverse Mercator (PROJ's exact Poder/Engsager algorithm) with ``k_0 = 1``
    on the centre meridian; conformal, scale ≈ ``cosh(x / R)`` ≥ 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import numpy as np
import pyproj
import shapely

from borderkit.errors import ValidationError

__all__ = [
    "LocalProjection",
    "local_projection",
    "MAX_RADIUS_M",
    "WGS84_A",
    "WGS84_F",
    "WGS84_E2",
    "is_wgs84_geographic",
    "ensure_wgs84",
    "geocentric",
]

WGS84_A = 6378137.0
"""WGS84 semi-major axis, metres (the one definition in borderkit; kernels import it from here)."""
WGS84_F = 1.0 / 298.257223563
"""WGS84 flattening."""
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
"""WGS84 first eccentricity squared."""
_E2 = WGS84_E2
R_MIN = WGS84_A * (1.0 - _E2)
"""Smallest radius of curvature of WGS84 (meridional, at the equator), metres."""

MAX_RADIUS_M = 3_000_000.0
"""Largest distance (metres) from the projection centre borderkit accepts data at."""

_KINDS = ("aeqd", "tmerc")


def geocentric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earth-centred coordinates ``(x, y, z)`` (metres, each shaped like *lon*) of points on WGS84.

    ``x = N cos(lat) cos(lon)``, ``y = N cos(lat) sin(lon)``, ``z = N (1 - e^2) sin(lat)`` with
    ``N = a / sqrt(1 - e^2 sin^2(lat))`` (height 0). The straight 3-D distance between two such
    points never exceeds their geodesic distance (a geodesic is a path in space), which makes it
    a cheap, proven lower bound without a projection (:mod:`borderkit.geodesy`, few points).
    """
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = WGS84_A / np.sqrt(1.0 - _E2 * sin_phi * sin_phi)
    r = n * cos_phi
    return r * np.cos(lam), r * np.sin(lam), n * (1.0 - _E2) * sin_phi


@cache
def _wgs84_geographic() -> pyproj.CRS:
    """EPSG:4326, made on first use: opening PROJ's database costs ~10 ms, which one point (no
    projection, :mod:`borderkit.geodesy`) never needs to pay."""
    return pyproj.CRS.from_epsg(4326)


def _float_array(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "O":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{name}: expected numbers, got non-numeric values ({exc})") from exc
    raise ValidationError(f"{name}: expected numbers, got an array of dtype {arr.dtype}")


def _first_bad(mask: np.ndarray, values: np.ndarray) -> str:
    flat = np.flatnonzero(mask.ravel())
    i = int(flat[0])
    return f"{int(flat.size)} value(s), first at index {i}: {float(values.ravel()[i])!r}"


def check_lon(value: Any, name: str = "lon") -> np.ndarray:
    """Return *value* as a float64 array of longitudes, or raise ValidationError.

    Longitudes must be finite degrees east in ``[-180, 360)``.
    """
    arr = _float_array(value, name)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValidationError(f"{name}: longitude must be a finite number of degrees; {_first_bad(bad, arr)}")
    bad = (arr < -180.0) | (arr >= 360.0)
    if bad.any():
        raise ValidationError(
            f"{name}: longitude must be degrees east in [-180, 360); {_first_bad(bad, arr)}. "
            "If these are projected metres, transform them to EPSG:4326 first."
        )
    return arr


def check_lat(value: Any, name: str = "lat") -> np.ndarray:
    """Return *value* as a float64 array of latitudes, or raise ValidationError.

    Latitudes must be finite degrees north in ``[-90, 90]``.
    """
    arr = _float_array(value, name)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValidationError(f"{name}: latitude must be a finite number of degrees; {_first_bad(bad, arr)}")
    bad = (arr < -90.0) | (arr > 90.0)
    if bad.any():
        raise ValidationError(
            f"{name}: latitude must be degrees north in [-90, 90]; {_first_bad(bad, arr)}. "
            "borderkit takes (lon, lat) order: were longitude and latitude swapped?"
        )
    return arr


def check_finite(value: Any, name: str) -> np.ndarray:
    """Return *value* as a float64 array, or raise ValidationError if any value is not finite."""
    arr = _float_array(value, name)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValidationError(f"{name}: must be finite numbers; {_first_bad(bad, arr)}")
    return arr


def lon_interval(lon: np.ndarray) -> tuple[float, float]:
    """Smallest longitude interval ``(west, east)`` holding every value (``east`` may exceed 180).

    Works across the antimeridian: the interval is the complement of the largest
    gap between the sorted longitudes on the circle.
    """
    lam = np.unique(np.mod(np.asarray(lon, dtype=np.float64) + 180.0, 360.0) - 180.0)
    if lam.size == 1:
        return float(lam[0]), float(lam[0])
    gaps = np.diff(np.concatenate([lam, [lam[0] + 360.0]]))
    k = int(np.argmax(gaps))
    west = lam[(k + 1) % lam.size]
    east = lam[k]
    if east < west:
        east += 360.0
    return float(west), float(east)


class LocalProjection:
    """A metric projection centred on one region of WGS84 (metres, x east, y north).

    Parameters
    ----------
    lon_0, lat_0
        Centre of the projection, degrees (longitude in [-180, 360), latitude
        in [-90, 90]).
    kind
        ``"aeqd"`` (azimuthal equidistant, default) or ``"tmerc"`` (transverse
        Mercator, ``k_0 = 1``). See the module docstring for their scale.

    Notes
    -----
    Use it to run planar algorithms on metres; never report a planar distance
    as a result without an error bound (see :meth:`scale_bounds`).
    All transforms are vectorised (one PROJ call per array) and use
    ``always_xy=True``: inputs and outputs are ``(lon, lat)`` / ``(x, y)``.

    Examples
    --------
    >>> p = LocalProjection(45.5, 40.0)
    >>> x, y = p.to_local([45.5], [40.0])
    >>> float(x[0]), float(y[0])
    (0.0, 0.0)
    """

    __slots__ = ("_lon_0", "_lat_0", "_kind", "_crs", "_transformer")

    def __init__(self, lon_0: float, lat_0: float, *, kind: str = "aeqd") -> None:
        lon0 = float(check_lon(lon_0, "lon_0"))
        lat0 = float(check_lat(lat_0, "lat_0"))
        if kind not in _KINDS:
            raise ValidationError(f"kind: unknown local projection {kind!r}; use one of {_KINDS}")
        if lon0 >= 180.0:
            lon0 -= 360.0
        self._lon_0 = lon0
        self._lat_0 = lat0
        self._kind = kind
        self._crs = pyproj.CRS(self.proj_string)
        self._transformer = pyproj.Transformer.from_crs(_wgs84_geographic(), self._crs, always_xy=True)

    # --- construction from data -------------------------------------------------------------
    @classmethod
    def from_bounds(cls, bounds: tuple[float, float, float, float], *, kind: str = "aeqd") -> LocalProjection:
        """Projection centred on a ``(min_lon, min_lat, max_lon, max_lat)`` box (degrees).

        ``max_lon < min_lon`` means a box across the antimeridian.
        """
        try:
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in bounds)
        except (TypeError, ValueError) as exc:
            raise ValidationError("bounds: expected (min_lon, min_lat, max_lon, max_lat) in degrees") from exc
        check_lon(np.array([min_lon, max_lon]), "bounds lon")
        check_lat(np.array([min_lat, max_lat]), "bounds lat")
        if max_lat < min_lat:
            raise ValidationError(f"bounds: max_lat {max_lat} is below min_lat {min_lat}")
        if max_lon < min_lon:
            max_lon += 360.0
        return cls(_wrap180((min_lon + max_lon) / 2.0), (min_lat + max_lat) / 2.0, kind=kind)

    @classmethod
    def from_lonlat(cls, lon: Any, lat: Any, *, kind: str = "aeqd") -> LocalProjection:
        """Projection centred on the longitude/latitude box of some points (degrees)."""
        lon_a = check_lon(lon, "lon").ravel()
        lat_a = check_lat(lat, "lat").ravel()
        if lon_a.size == 0 or lon_a.shape != lat_a.shape:
            raise ValidationError("lon/lat: need at least one point and as many longitudes as latitudes")
        west, east = lon_interval(lon_a)
        return cls(_wrap180((west + east) / 2.0), (float(lat_a.min()) + float(lat_a.max())) / 2.0, kind=kind)

    @classmethod
    def from_geometries(cls, geometries: Any, *, kind: str = "aeqd") -> LocalProjection:
        """Projection centred on the coordinates of shapely geometries in EPSG:4326.

        Accepts one geometry, a sequence/array of them, or a GeoSeries/GeoDataFrame
        (in EPSG:4326; another CRS is transformed to it first).
        """
        geoms = as_geographic_geometries(geometries, "geometries")
        coords = shapely.get_coordinates(geoms)
        if coords.shape[0] == 0:
            raise ValidationError("geometries: no coordinates to centre a projection on")
        return cls.from_lonlat(coords[:, 0], coords[:, 1], kind=kind)

    # --- properties -------------------------------------------------------------------------
    @property
    def lon_0(self) -> float:
        """Longitude of the centre, degrees."""
        return self._lon_0

    @property
    def lat_0(self) -> float:
        """Latitude of the centre, degrees."""
        return self._lat_0

    @property
    def kind(self) -> str:
        """``"aeqd"`` or ``"tmerc"``."""
        return self._kind

    @property
    def proj_string(self) -> str:
        """The PROJ string that defines this projection (metres, WGS84)."""
        extra = " +k_0=1" if self._kind == "tmerc" else ""
        return (
            f"+proj={self._kind} +lat_0={self._lat_0!r} +lon_0={self._lon_0!r}{extra} "
            "+x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs +type=crs"
        )

    @property
    def crs(self) -> pyproj.CRS:
        """The projected CRS (metres)."""
        return self._crs

    def __repr__(self) -> str:
        return f"LocalProjection(lon_0={self._lon_0!r}, lat_0={self._lat_0!r}, kind={self._kind!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LocalProjection):
            return NotImplemented
        return (self._lon_0, self._lat_0, self._kind) == (other._lon_0, other._lat_0, other._kind)

    def __hash__(self) -> int:
        return hash((self._lon_0, self._lat_0, self._kind))

    # --- arrays -----------------------------------------------------------------------------
    def to_local(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Longitude/latitude (degrees, broadcast) to local ``(x, y)`` in metres."""
        lon_a, lat_a = np.broadcast_arrays(check_lon(lon, "lon"), check_lat(lat, "lat"))
        return self._fwd(lon_a, lat_a)

    def to_geographic(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Local ``(x, y)`` in metres (broadcast) to longitude/latitude in degrees (lon in [-180, 180])."""
        x_a, y_a = np.broadcast_arrays(check_finite(x, "x"), check_finite(y, "y"))
        return self._inv(x_a, y_a)

    def _fwd(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shape = np.shape(lon)
        x, y = self._transformer.transform(np.ravel(lon), np.ravel(lat), errcheck=True)
        return np.asarray(x, dtype=np.float64).reshape(shape), np.asarray(y, dtype=np.float64).reshape(shape)

    def _inv(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shape = np.shape(x)
        lon, lat = self._transformer.transform(
            np.ravel(x), np.ravel(y), direction=pyproj.enums.TransformDirection.INVERSE, errcheck=True
        )
        return (
            np.asarray(lon, dtype=np.float64).reshape(shape),
            np.asarray(lat, dtype=np.float64).reshape(shape),
        )

    # --- geometries -------------------------------------------------------------------------
    def geometry_to_local(self, geometries: Any) -> Any:
        """Transform shapely geometries (EPSG:4326) to the local plane (metres).

        Accepts a geometry, an array of geometries, or a GeoSeries/GeoDataFrame
        (returned as a GeoSeries in :attr:`crs`). One vectorised PROJ call
        (``shapely.transform``) for all coordinates.
        """
        series = maybe_geoseries(geometries)
        geoms = as_geographic_geometries(geometries, "geometries")
        coords = shapely.get_coordinates(geoms)
        check_lon(coords[:, 0], "geometry longitude")
        check_lat(coords[:, 1], "geometry latitude")
        out = shapely.transform(geoms, lambda xy: np.column_stack(self._fwd(xy[:, 0], xy[:, 1])))
        return _rewrap(out, series, self._crs, geometries)

    def geometry_to_geographic(self, geometries: Any) -> Any:
        """Transform shapely geometries from the local plane (metres) back to EPSG:4326."""
        series = maybe_geoseries(geometries)
        if series is not None:
            geoms = np.asarray(series.values, dtype=object)
        else:
            geoms = _geometry_array(geometries, "geometries")
        check_finite(shapely.get_coordinates(geoms), "geometry coordinates")
        out = shapely.transform(geoms, lambda xy: np.column_stack(self._inv(xy[:, 0], xy[:, 1])))
        return _rewrap(out, series, _wgs84_geographic(), geometries)

    # --- error bounds -----------------------------------------------------------------------
    def scale_bounds(self, max_radius_m: float) -> tuple[float, float]:
        """Bounds ``(k_min, k_max)`` of the point scale within *max_radius_m* of the centre.

        For ``aeqd`` ``k_max`` is the spherical tangential scale ``(r/R)/sin(r/R)``
        and for ``tmerc`` ``cosh(r/R)``, both with the smallest WGS84 radius of
        curvature ``R = a(1 - e^2)`` (conservative), and the excess over 1 is
        multiplied by 1.5 as a safety margin. ``k_min`` is 1 for both kinds.
        The tests check these bounds against PROJ's own scale factors.
        """
        r = float(max_radius_m)
        if not np.isfinite(r) or r < 0:
            raise ValidationError(f"max_radius_m: must be a finite number >= 0, got {max_radius_m!r}")
        if r > MAX_RADIUS_M:
            raise ValidationError(
                f"data reach {r / 1000:.0f} km from the centre of the local projection; borderkit's local "
                f"projections are for one region (at most {MAX_RADIUS_M / 1000:.0f} km): split the data"
            )
        return 1.0, float(self.k_max(np.array([r]))[0])

    def k_max(self, radius_m: np.ndarray) -> np.ndarray:
        """Vectorised upper bound of the scale within *radius_m* of the centre (see :meth:`scale_bounds`)."""
        t = np.asarray(radius_m, dtype=np.float64) / R_MIN
        if self._kind == "tmerc":
            k = np.cosh(t)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                k = np.where(t < 1e-4, 1.0 + t * t / 6.0, t / np.sin(np.maximum(t, 1e-300)))
        return 1.0 + 1.5 * (k - 1.0) + 1e-12

    def radius_m(self, x: np.ndarray, y: np.ndarray) -> float:
        """Largest distance (metres) from the centre of the given local coordinates.

        Exact (the geodesic distance) for ``aeqd``; for ``tmerc`` the planar radius,
        which is at least the geodesic one since the scale is ≥ 1.
        """
        if np.size(x) == 0:
            return 0.0
        return float(np.max(np.hypot(x, y)))


def local_projection(data: Any, *, kind: str = "aeqd") -> LocalProjection:
    """Choose a :class:`LocalProjection` centred on *data*.

    Parameters
    ----------
    data
        A ``(min_lon, min_lat, max_lon, max_lat)`` tuple of degrees, or shapely
        geometries / a GeoSeries / a GeoDataFrame in EPSG:4326.
    kind
        ``"aeqd"`` (default) or ``"tmerc"``.

    Returns
    -------
    LocalProjection
        Centred on the middle of the data's longitude/latitude box.
    """
    if isinstance(data, tuple) and len(data) == 4 and all(np.isscalar(v) for v in data):
        return LocalProjection.from_bounds(data, kind=kind)
    return LocalProjection.from_geometries(data, kind=kind)


# --- helpers shared with geodesy -----------------------------------------------------------------
def _wrap180(lon: float) -> float:
    return float((lon + 180.0) % 360.0 - 180.0)


def maybe_geoseries(value: Any) -> Any:
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a core dependency
        return None
    if isinstance(value, gpd.GeoDataFrame):
        return value.geometry
    if isinstance(value, gpd.GeoSeries):
        return value
    return None


def _geometry_array(value: Any, name: str) -> np.ndarray:
    if isinstance(value, shapely.Geometry):
        return np.array([value], dtype=object)
    if isinstance(value, str | bytes) or not isinstance(value, Iterable | np.ndarray):
        raise ValidationError(f"{name}: expected shapely geometries, got {type(value).__name__}")
    arr = np.asarray(list(value) if not isinstance(value, np.ndarray) else value, dtype=object).ravel()
    ok = np.array([g is None or isinstance(g, shapely.Geometry) for g in arr], dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ValidationError(f"{name}: item {i} is a {type(arr[i]).__name__}, not a shapely geometry")
    return arr


def as_geographic_geometries(value: Any, name: str) -> np.ndarray:
    """Geometries as an object array in EPSG:4326 (a GeoSeries in another CRS is transformed)."""
    series = maybe_geoseries(value)
    if series is None:
        return _geometry_array(value, name)
    crs = series.crs
    if crs is not None and not is_wgs84_geographic(crs):
        series = series.to_crs(_wgs84_geographic())
    return np.asarray(series.values, dtype=object)


def is_wgs84_geographic(crs: Any) -> bool:
    """Whether *crs* is WGS84 longitude/latitude (EPSG:4326 or OGC:CRS84, either axis order).

    The one "is this CRS WGS84?" check of the core modules.

    Examples
    --------
    >>> is_wgs84_geographic("EPSG:4326"), is_wgs84_geographic("OGC:CRS84"), is_wgs84_geographic(32638)
    (True, True, False)
    """
    crs = pyproj.CRS.from_user_input(crs)
    if crs.equals(_wgs84_geographic(), ignore_axis_order=True):
        return True
    return crs.is_geographic and crs.to_epsg() == 4326




def ensure_wgs84(frame: Any) -> Any:
    """A GeoDataFrame/GeoSeries in EPSG:4326: reprojected when it declares another CRS, else returned as is."""
    crs = getattr(frame, "crs", None)
    if crs is not None and not is_wgs84_geographic(crs):
        return frame.to_crs(_wgs84_geographic())
    return frame


def _rewrap(out: np.ndarray, series: Any, crs: Any, original: Any) -> Any:
    if series is not None:
        import geopandas as gpd

        return gpd.GeoSeries(out, index=series.index, crs=crs, name=series.name)
    if isinstance(original, shapely.Geometry):
        return out[0]
    return out
