"""SK-42 (Pulkovo 1942) to WGS84, with the datum transformation chosen explicitly.

Soviet topographic maps are drawn on Pulkovo 1942 (SK-42, Krassovsky 1940 ellipsoid,
EPSG:4284) in 6° Gauss–Krüger zones (EPSG:28402–28432: zone *n* has its central
meridian at 6n − 3° E and covers 6n − 6 … 6n° E). In the Caucasus the shift from SK-42
to WGS84 is about 100 m, larger than the distances people argue about, so borderkit
never lets PROJ pick an operation silently:

1. every candidate operation EPSG:4284 → EPSG:4326 is listed
   (:class:`pyproj.transformer.TransformerGroup`, ``always_xy=True``);
2. the candidates whose area of use contains the whole extent of the data are kept,
   and the one with the best (smallest) stated accuracy wins; ties go to the smaller
   area of use (the more local fit);
3. when no candidate covers the data, the best ballpark/out-of-area operation is used
   and a :class:`~borderkit.errors.DatumWarning` says so.

The :class:`DatumReport` names the operation (name, EPSG code, PROJ pipeline), its
stated accuracy and the size of the shift at the centre of the data in metres: the
geodesic distance on WGS84 between the input point read as if it were WGS84 and its
transformed position.

Gauss–Krüger coordinates are first converted to SK-42 geographic coordinates (an exact
inverse projection on the Krassovsky ellipsoid, no datum change), then transformed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj.transformer import TransformerGroup

from borderkit.errors import CRSError, DatumWarning, ValidationError
from borderkit.geodesy import geodesic_distance

__all__ = [
    "SK42",
    "WGS84",
    "DatumTransformation",
    "DatumReport",
    "gauss_kruger_zone",
    "gauss_kruger_crs",
    "is_sk42",
    "candidate_transformations",
    "choose_transformation",
    "to_wgs84",
    "from_wgs84",
    "suggest_datum_shift",
]

SK42 = "EPSG:4284"
"""Pulkovo 1942 geographic (Krassovsky 1940 ellipsoid)."""
WGS84 = "EPSG:4326"

_SK42_CRS = pyproj.CRS.from_epsg(4284)


@dataclass(frozen=True)
class DatumTransformation:
    """One candidate operation SK-42 → WGS84.

    Attributes
    ----------
    name
        Operation name in the EPSG dataset (e.g. ``"Pulkovo 1942 to WGS 84 (16)"``).
    code
        ``"EPSG:NNNN"`` of the transformation step, or ``None`` for a PROJ string.
    accuracy_m
        Accuracy stated by EPSG, metres; ``None`` when unknown (ballpark).
    area_of_use
        EPSG's description of where the operation is valid.
    bounds
        Area of use (west, south, east, north), degrees; west > east when it crosses 180°.
    proj
        The PROJ pipeline (longitude/latitude order).
    ballpark
        True when the operation is not an EPSG transformation fitted to this datum pair
        (unknown accuracy, errors of 100 m and more).
    """

    name: str
    code: str | None
    accuracy_m: float | None
    area_of_use: str
    bounds: tuple[float, float, float, float] | None
    proj: str
    ballpark: bool
    transformer: pyproj.Transformer = field(repr=False, compare=False)

    def covers(self, bbox: Sequence[float]) -> bool:
        """Whether the area of use contains the box ``(west, south, east, north)``."""
        if self.bounds is None:
            return False
        w, s, e, n = self.bounds
        bw, bs, be, bn = bbox
        if not (s <= bs and bn <= n):
            return False
        if w <= e:
            return w <= bw and be <= e
        # area of use crosses the antimeridian: [w, 180] ∪ [-180, e]
        return (bw >= w and be >= w) or (bw <= e and be <= e) or (bw >= w and be <= e)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (no transformer object)."""
        return {
            "name": self.name,
            "code": self.code,
            "accuracy_m": self.accuracy_m,
            "area_of_use": self.area_of_use,
            "proj": self.proj,
            "ballpark": self.ballpark,
        }


@dataclass(frozen=True)
class DatumReport:
    """What :func:`to_wgs84` did: the operation, why, and the shift it made.

    Attributes
    ----------
    source_crs
        The declared CRS of the input (``"EPSG:4284"`` or ``"EPSG:284NN"``).
    transformation
        The chosen operation.
    candidates
        Every candidate considered, best first, with whether it covers the data.
    centre
        Centre of the data, SK-42 longitude/latitude (degrees).
    shift_m
        Geodesic distance (WGS84, metres) between the centre read as WGS84 and its
        transformed position: the error a user makes by forgetting the datum.
    reason
        Why this operation was chosen.
    """

    source_crs: str
    transformation: DatumTransformation
    candidates: tuple[tuple[DatumTransformation, bool], ...]
    centre: tuple[float, float]
    shift_m: float
    reason: str

    @property
    def method(self) -> str:
        acc = "unknown" if self.transformation.accuracy_m is None else f"{self.transformation.accuracy_m:g} m"
        return (
            f"{self.source_crs} → EPSG:4326 with {self.transformation.name} ({self.transformation.code or 'PROJ'}; "
            f"stated accuracy {acc}); shift at the data centre {self.shift_m:.1f} m (geodesic, WGS84)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report (units in the key names)."""
        return {
            "source_crs": self.source_crs,
            "target_crs": WGS84,
            "transformation": self.transformation.to_dict(),
            "reason": self.reason,
            "centre_sk42": [self.centre[0], self.centre[1]],
            "shift_m": round(self.shift_m, 3),
            "candidates": [{**t.to_dict(), "covers_data": ok} for t, ok in self.candidates],
            "method": self.method,
        }


def gauss_kruger_zone(lon: float) -> int:
    """The 6° Gauss–Krüger zone of a longitude: zone *n* covers 6n − 6 … 6n° E (1 … 60)."""
    return int(math.floor(((lon % 360.0) + 360.0) % 360.0 / 6.0)) + 1


def gauss_kruger_crs(zone: int) -> pyproj.CRS:
    """``Pulkovo 1942 / Gauss-Kruger zone N`` (EPSG:28402 … 28432 for zones 2 … 32).

    Zones outside the EPSG range are built from the same definition (central meridian
    6n − 3°, k = 1, false easting n·10⁶ + 500 000 m) on the Pulkovo 1942 datum.
    """
    if not 1 <= zone <= 60:
        raise ValidationError(f"Gauss–Krüger zone {zone} does not exist: zones are 1 … 60")
    if 2 <= zone <= 32:
        return pyproj.CRS.from_epsg(28400 + zone)
    lon0 = 6 * zone - 3 if zone <= 30 else 6 * zone - 3 - 360
    return pyproj.CRS.from_json_dict(_gk_json(zone, lon0))


def _gk_json(zone: int, lon0: float) -> dict[str, Any]:
    base = pyproj.CRS.from_epsg(28408).to_json_dict()
    conv = base["conversion"]
    conv["name"] = f"Gauss-Kruger zone {zone}"
    conv.pop("id", None)
    for p in conv["parameters"]:
        if p["name"] == "Longitude of natural origin":
            p["value"] = lon0
        if p["name"] == "False easting":
            p["value"] = zone * 1_000_000 + 500_000
    base["name"] = f"Pulkovo 1942 / Gauss-Kruger zone {zone}"
    base.pop("id", None)
    base.pop("usage", None)
    base.pop("area", None)
    base.pop("bbox", None)
    return base


def is_sk42(crs: Any) -> bool:
    """Whether *crs* is SK-42 geographic or a projection on it (e.g. Gauss–Krüger)."""
    c = pyproj.CRS.from_user_input(crs)
    geo = c.geodetic_crs
    return geo is not None and geo.equals(_SK42_CRS, ignore_axis_order=True)


def _code(t: pyproj.Transformer) -> tuple[str, str | None, float | None]:
    """Name, EPSG code and accuracy of the datum step of a (concatenated) operation."""
    steps = list(t.operations) if t.operations else []
    for op in steps:
        if op.type_name == "Transformation" or "transformation" in op.type_name.lower():
            ident = op.to_json_dict().get("id") or {}
            code = f"{ident['authority']}:{ident['code']}" if ident else None
            acc = op.accuracy if op.accuracy is not None and op.accuracy >= 0 else None
            return op.name, code, acc
    acc = t.accuracy if t.accuracy is not None and t.accuracy >= 0 else None
    return t.description, None, acc


def candidate_transformations() -> list[DatumTransformation]:
    """Every operation PROJ knows for EPSG:4284 → EPSG:4326, as listed by ``TransformerGroup``."""
    group = TransformerGroup(_SK42_CRS, WGS84, always_xy=True)
    out = []
    for t in group.transformers:
        name, code, acc = _code(t)
        aou = t.area_of_use
        bounds = None if aou is None else (aou.west, aou.south, aou.east, aou.north)
        ballpark = acc is None or "ballpark" in t.description.lower()
        out.append(DatumTransformation(
            name=name, code=code, accuracy_m=acc, area_of_use="" if aou is None else aou.name,
            bounds=bounds, proj=t.to_proj4() or t.definition, ballpark=ballpark, transformer=t,
        ))
    return out


def _area(b: tuple[float, float, float, float] | None) -> float:
    if b is None:
        return math.inf
    w, s, e, n = b
    return ((e - w) % 360.0 or 360.0) * (n - s)


def choose_transformation(
    bbox: Sequence[float], *, transformation: str | None = None
) -> tuple[DatumTransformation, tuple[tuple[DatumTransformation, bool], ...], str]:
    """Pick the SK-42 → WGS84 operation for data in *bbox* (SK-42 lon/lat degrees).

    Parameters
    ----------
    bbox
        ``(west, south, east, north)`` of the data in SK-42 geographic degrees.
    transformation
        Force one operation: an EPSG code (``"EPSG:15865"``), an operation name
        (``"Pulkovo 1942 to WGS 84 (16)"``) or a PROJ pipeline string
        (``"+proj=pipeline …"``, longitude/latitude order in and out).

    Returns
    -------
    (DatumTransformation, candidates, reason)
        The chosen operation, every candidate (best first) with whether its area of use
        covers *bbox*, and a sentence saying why.

    Warns
    -----
    borderkit.errors.DatumWarning
        When no EPSG transformation covers the data (only a ballpark or out-of-area
        operation is used).
    """
    cands = candidate_transformations()

    def rank(t: DatumTransformation) -> tuple[bool, bool, float, float]:
        covers = t.covers(bbox)
        acc = t.accuracy_m if t.accuracy_m is not None else math.inf
        # Inside its area the most accurate fit wins; outside every area a local fit means nothing,
        # so the widest (most general) operation is preferred.
        return (not covers, t.ballpark, acc if covers else -_area(t.bounds), _area(t.bounds) if covers else acc)

    cands.sort(key=rank)
    listed = tuple((t, t.covers(bbox)) for t in cands)
    if transformation is not None:
        wanted = str(transformation).strip()
        if wanted.startswith("+proj=") or wanted.startswith("proj="):
            pipeline = pyproj.Transformer.from_pipeline(wanted)
            user = DatumTransformation(
                name="user PROJ pipeline", code=None, accuracy_m=None, area_of_use="given by the user",
                bounds=None, proj=wanted, ballpark=False, transformer=pipeline,
            )
            return user, listed, "given by the user (PROJ pipeline; accuracy not stated)"
        for t in cands:
            if wanted.upper() == (t.code or "").upper() or wanted.lower() == t.name.lower():
                why = "given by the user" + ("" if t.covers(bbox) else " (its area of use does not cover the data)")
                return t, listed, why
        known = ", ".join(f"{t.code} ({t.name})" for t in cands[:6])
        raise CRSError(f"transformation {wanted!r} is not an SK-42 → WGS84 operation PROJ knows; try one of {known}")
    if not cands:  # pragma: no cover - PROJ always offers at least a ballpark
        raise CRSError("PROJ offers no operation from EPSG:4284 to EPSG:4326; is the PROJ database installed?")
    best = cands[0]
    if best.covers(bbox) and not best.ballpark:
        n_cover = sum(ok for _, ok in listed)
        reason = (f"best stated accuracy among the {n_cover} EPSG transformation(s) whose area of use "
                  f"({best.area_of_use}) covers the data")
        return best, listed, reason
    warnings.warn(
        f"no EPSG SK-42 → WGS84 transformation covers the data ({', '.join(f'{v:.3f}' for v in bbox)}); "
        f"using {best.name} ({best.code}) outside its area of use or as a ballpark: errors may exceed 100 m; "
        "pass transformation= (--transformation) with a local operation",
        DatumWarning, stacklevel=3,
    )
    return best, listed, "no covering EPSG transformation: best available, outside its area of use (ballpark)"


def _as_xy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype="float64")
    ya = np.asarray(y, dtype="float64")
    if xa.shape != ya.shape:
        raise ValidationError(f"x and y have different shapes {xa.shape} and {ya.shape}")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValidationError("coordinates contain NaN or infinite values; remove or fix those points")
    return xa, ya


def _to_sk42_geographic(crs: pyproj.CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if crs.is_geographic:
        return x, y
    conv = pyproj.Transformer.from_crs(crs, _SK42_CRS, always_xy=True)
    lon, lat = conv.transform(x, y)
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def _check_crs(crs: Any) -> tuple[pyproj.CRS, str]:
    if crs is None:
        raise CRSError("no CRS declared: pass crs='EPSG:4284' (SK-42 lon/lat) or 'EPSG:284NN' (Gauss–Krüger zone NN)")
    c = pyproj.CRS.from_user_input(crs)
    if not is_sk42(c):
        raise CRSError(f"{c.to_string()} ({c.name}) is not on the Pulkovo 1942 (SK-42) datum; "
                       "declare EPSG:4284 or a Pulkovo 1942 / Gauss-Kruger CRS (EPSG:28402–28432)")
    if not c.is_geographic and not c.is_projected:
        raise CRSError(f"{c.name}: only 2-D geographic or projected SK-42 CRSs are supported")
    return c, c.to_string()


def _bbox(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float]:
    if lon.size == 0:
        raise ValidationError("no coordinates to transform")
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _report(src: str, chosen: DatumTransformation, listed: Any, reason: str,
            bbox: tuple[float, float, float, float]) -> DatumReport:
    cx, cy = (bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0
    tx, ty = chosen.transformer.transform(cx, cy)
    shift = float(geodesic_distance(cx, cy, tx, ty))
    return DatumReport(source_crs=src, transformation=chosen, candidates=listed, centre=(cx, cy),
                       shift_m=shift, reason=reason)


def to_wgs84(data: Any, *, crs: Any = None, transformation: str | None = None) -> tuple[Any, DatumReport]:
    """Transform SK-42 (geographic or Gauss–Krüger) coordinates or geometries to WGS84.

    Parameters
    ----------
    data
        A GeoDataFrame/GeoSeries (its CRS is used when it has one), or a pair ``(x, y)``
        of coordinate arrays (longitude/latitude degrees for EPSG:4284, easting/northing
        metres for Gauss–Krüger).
    crs
        The declared CRS when *data* carries none: ``"EPSG:4284"`` or ``"EPSG:284NN"``.
        Must be on the Pulkovo 1942 datum.
    transformation
        Force an operation (EPSG code, name or PROJ pipeline); default: chosen by area of
        use and stated accuracy (:func:`choose_transformation`).

    Returns
    -------
    (result, DatumReport)
        The data in EPSG:4326 (same type as the input; ``(lon, lat)`` arrays for a pair)
        and the report (operation, stated accuracy, shift at the data centre in metres).

    Raises
    ------
    borderkit.errors.CRSError
        No CRS, or a CRS that is not SK-42.
    """
    import geopandas as gpd

    if isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        declared = data.crs if data.crs is not None else crs
        c, label = _check_crs(declared)
        geoms = np.asarray(data.geometry.values if isinstance(data, gpd.GeoDataFrame) else data.values, dtype=object)
        coords = shapely.get_coordinates(geoms)
        lon, lat = _to_sk42_geographic(c, coords[:, 0], coords[:, 1])
        chosen, listed, reason = choose_transformation(_bbox(lon, lat), transformation=transformation)

        def _fn(xy: np.ndarray) -> np.ndarray:
            glon, glat = _to_sk42_geographic(c, xy[:, 0], xy[:, 1])
            ox, oy = chosen.transformer.transform(glon, glat)
            return np.column_stack([ox, oy])

        new = shapely.transform(geoms, _fn)
        out = data.copy()
        if isinstance(out, gpd.GeoDataFrame):
            out = out.set_geometry(gpd.GeoSeries(new, index=out.index, crs=WGS84), crs=WGS84)
        else:
            out = gpd.GeoSeries(new, index=out.index, crs=WGS84, name=out.name)
        report = _report(label, chosen, listed, reason, _bbox(lon, lat))
        out.attrs["datum"] = report.to_dict()
        return out, report
    try:
        x, y = data
    except (TypeError, ValueError):
        raise ValidationError("data must be a GeoDataFrame, a GeoSeries or a pair (x, y) of arrays") from None
    c, label = _check_crs(crs if crs is not None else SK42)
    xa, ya = _as_xy(x, y)
    lon, lat = _to_sk42_geographic(c, xa, ya)
    bbox = _bbox(np.atleast_1d(lon), np.atleast_1d(lat))
    chosen, listed, reason = choose_transformation(bbox, transformation=transformation)
    ox, oy = chosen.transformer.transform(lon, lat)
    return (np.asarray(ox, dtype="float64"), np.asarray(oy, dtype="float64")), _report(label, chosen, listed, reason,
                                                                                        bbox)


def from_wgs84(lon: Any, lat: Any, transformation: DatumTransformation) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of a chosen operation: WGS84 lon/lat → SK-42 lon/lat (degrees).

    Used to draw WGS84 data on an SK-42 sheet; the same operation as :func:`to_wgs84`
    run backwards, so a round trip is exact to PROJ's iteration tolerance.
    """
    xa, ya = _as_xy(lon, lat)
    ox, oy = transformation.transformer.transform(xa, ya, direction=pyproj.enums.TransformDirection.INVERSE)
    return np.asarray(ox, dtype="float64"), np.asarray(oy, dtype="float64")


def suggest_datum_shift(
    lines: Any,
    reference_lines: Any,
    *,
    transformation: str | None = None,
    min_gain_m: float = 20.0,
    min_gain_ratio: float = 0.3,
) -> dict[str, Any]:
    """Does a line declared as WGS84 match other sources better if it was really SK-42?

    The vertices of *lines* are read two ways: as declared (WGS84) and as SK-42 lon/lat
    transformed to WGS84 with the chosen operation. For each reading the median
    geodesic distance (WGS84, metres) from the vertices to the nearest reference line
    is computed. The shift is suggested when it lowers that median by at least
    *min_gain_m* metres and by at least *min_gain_ratio* of the as-declared median —
    a hint for a warning, never a change to the data.

    Parameters
    ----------
    lines
        GeoDataFrame/GeoSeries of (Multi)LineStrings declared in EPSG:4326.
    reference_lines
        The other sources' lines (EPSG:4326).
    transformation
        Operation to test (default: chosen as in :func:`to_wgs84`).
    min_gain_m, min_gain_ratio
        Thresholds of the suggestion (metres; fraction).

    Returns
    -------
    dict
        ``suggest`` (bool), ``median_m_as_declared``, ``median_m_if_sk42``,
        ``gain_m``, ``shift_m``, ``transformation`` (dict), ``vertices``, ``message``,
        ``method``, ``units``.
    """
    import geopandas as gpd

    from borderkit.geodesy import nearest_points_on_lines

    geoms = lines.geometry if isinstance(lines, gpd.GeoDataFrame) else lines
    if getattr(geoms, "crs", None) is not None and not pyproj.CRS.from_user_input(geoms.crs).equals(
            pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        raise CRSError(f"lines are declared in {geoms.crs}, not EPSG:4326; the datum test is for lines declared WGS84")
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    coords = shapely.get_coordinates(arr)
    if len(coords) == 0:
        raise ValidationError("no vertices in lines")
    (sx, sy), report = to_wgs84((coords[:, 0], coords[:, 1]), crs=SK42, transformation=transformation)
    as_declared = nearest_points_on_lines(coords[:, 0], coords[:, 1], reference_lines)["distance_m"].to_numpy()
    shifted = nearest_points_on_lines(sx, sy, reference_lines)["distance_m"].to_numpy()
    med0, med1 = float(np.median(as_declared)), float(np.median(shifted))
    gain = med0 - med1
    suggest = bool(gain >= min_gain_m and gain >= min_gain_ratio * med0)
    t = report.transformation
    msg = (
        f"read as SK-42 (Pulkovo 1942) and transformed with {t.name} ({t.code}), the line lies {med1:.0f} m "
        f"(median) from the other sources instead of {med0:.0f} m as declared (WGS84): the data may be SK-42 "
        "mislabelled as WGS84; declare its CRS (EPSG:4284 or EPSG:284NN) if so"
        if suggest else
        f"no sign of an SK-42 datum error: median distance to the other sources {med0:.0f} m as declared, "
        f"{med1:.0f} m if it were SK-42"
    )
    return {
        "suggest": suggest,
        "median_m_as_declared": med0,
        "median_m_if_sk42": med1,
        "gain_m": gain,
        "shift_m": report.shift_m,
        "vertices": int(len(coords)),
        "transformation": t.to_dict(),
        "message": msg,
        "method": "median geodesic distance (WGS84) from each vertex to the nearest reference line, as declared "
                  "and after reading the vertices as SK-42 and applying " + (t.code or t.name),
        "units": "metres",
    }
