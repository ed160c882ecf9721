"""Turn layers into the plain, escaped-by-construction records a map embeds.

Everything here is deterministic: rows are sorted by their id, sources by name,
coordinates rounded to 6 decimals (about 0.1 m) and text passed through
:func:`borderkit.maps.escape.clean_text`. The records are later serialised with
:func:`borderkit.maps.escape.script_json` and put into the DOM by the page script
with ``textContent`` only.

Display simplification
----------------------
Lines and polygons are simplified for display only (Douglas–Peucker with
``preserve_topology=True``) in a local azimuthal equidistant projection centred
on the data (:class:`borderkit._projection.LocalProjection`), with a tolerance
in **metres** (default 30 m), then transformed back
to longitude/latitude. The largest displacement is measured for every geometry as
the geodesic distance (WGS84, ``pyproj.Geod``) from each original vertex to the
nearest point of the simplified geometry's outline (lines; rings of polygons;
nearest point chosen in the plane with an STR-tree, so O(n log n)) and reported.
Analysis functions never see the simplified geometries.

Disagreement areas
------------------
Ground two sources assign to different parties is
:func:`borderkit.overlaps.divergence` (territories method) and ground one
source assigns to two parties is :func:`borderkit.overlaps.territory_overlaps`:
the map shows the same polygons and km² as ``borderkit overlaps``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.io.kinds import ID_COLUMNS, kind_of_columns
from borderkit.maps.escape import clean_text, safe_url
from borderkit.maps.style import (
    COUNTRY_STYLE,
    PLACE_COLORS,
    WATER_STYLE,
    country_fills,
    incident_colors,
    line_styles,
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    import pandas

    from borderkit._projection import LocalProjection

__all__ = ["MapInputs", "RasterOverlay", "bounds_of", "collect_inputs", "context_records", "prepare"]

COORD_DECIMALS = 6
@dataclass
class RasterOverlay:
    """A PNG to show as a Leaflet image overlay.

    Attributes
    ----------
    name
        Display name (escaped when shown).
    png
        PNG bytes, already in Web Mercator row spacing (see ``borderkit.maps._raster``).
    bounds
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    kind
        ``"hillshade"`` or ``"scan"``.
    attribution, licence
        Credits shown in the credits box.
    opacity
        Initial opacity (0–1).
    """

    name: str
    png: bytes
    bounds: tuple[float, float, float, float]
    kind: str = "scan"
    attribution: str = ""
    licence: str = ""
    opacity: float = 0.7
    note: str = ""


@dataclass
class MapInputs:
    """Everything a map can show; every layer is optional. ``title`` is the case file's map title."""

    name: str = "map"
    title: str = ""
    lines: geopandas.GeoDataFrame | None = None
    territories: geopandas.GeoDataFrame | None = None
    incidents: geopandas.GeoDataFrame | None = None
    places: geopandas.GeoDataFrame | None = None
    claims: pandas.DataFrame | None = None
    measurements: pandas.DataFrame | None = None
    disagreements: geopandas.GeoDataFrame | None = None
    viewsheds: geopandas.GeoDataFrame | None = None
    hillshade: RasterOverlay | None = None
    dem: Path | None = None
    basemap: Path | None = None
    scans: list[RasterOverlay] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset_sources: list[str] = field(default_factory=list)
    party_names: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _kind_of(frame: Any) -> str | None:
    """The layer kind of a frame (:func:`borderkit.io.kinds.kind_of_columns`)."""
    return kind_of_columns(getattr(frame, "columns", []))


def collect_inputs(case_or_layers: Any = None, **layers: Any) -> MapInputs:
    """Gather the layers of a ``Case``, a dict of layers or a sequence of frames.

    Keyword arguments (``lines=…``, ``incidents=…`` …) replace or add layers.
    A frame's kind is recognised as measurements by ``from_lon``,
    ``from_lat``, ``to_lon``, ``to_lat``, else by its id column (``claim_id`` →
    claims, ``line_id`` → lines, ``territory_id`` → territories,
    ``incident_id`` → incidents, ``place_id`` → places).
    """
    inputs = MapInputs()
    obj = case_or_layers
    if obj is not None and hasattr(obj, "lines") and hasattr(obj, "incidents"):  # a borderkit Case
        inputs.name = str(getattr(obj, "name", "map"))
        inputs.title = str(getattr(getattr(obj, "config", None), "map_title", "") or "")
        names_of = getattr(getattr(obj, "config", None), "party_names", None)
        inputs.party_names = dict(names_of()) if callable(names_of) else {}
        for key in ("lines", "territories", "incidents", "places", "claims"):
            setattr(inputs, key, getattr(obj, key, None))
        dem = getattr(obj, "dem", None)
        inputs.dem = Path(dem) if dem else None
        basemap = getattr(obj, "basemap", None)
        inputs.basemap = Path(basemap) if basemap else None
        inputs.sources = dict(getattr(obj, "sources", {}) or {})
        meta = getattr(obj, "meta", {}) or {}
        inputs.dataset_sources = sorted({s for f in meta.get("files", {}).values() for s in f.get("sources", [])})
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            if key in ("dem", "basemap"):
                setattr(inputs, key, Path(value) if value else None)
            elif key == "sources":
                inputs.sources = dict(value or {})
            elif key == "name":
                inputs.name = str(value)
            elif key == "party_names":
                inputs.party_names = {str(k): tuple(v) for k, v in dict(value or {}).items()}
            elif hasattr(inputs, key):
                setattr(inputs, key, value)
            else:
                raise TypeError(f"unknown layer {key!r}; expected one of lines, territories, incidents, places, …")
    elif obj is not None:
        frames = [obj] if hasattr(obj, "columns") else list(obj)
        for frame in frames:
            kind = _kind_of(frame)
            if kind is None:
                raise TypeError(
                    "cannot tell the kind of a layer: it has none of the id columns "
                    + ", ".join(c for c, _ in ID_COLUMNS)
                )
            current = getattr(inputs, kind)
            if current is None:
                setattr(inputs, kind, frame)
            else:
                import pandas as pd

                setattr(inputs, kind, pd.concat([current, frame], ignore_index=True))
    for key, value in layers.items():
        if value is None:
            continue
        if key in ("dem", "basemap"):
            setattr(inputs, key, Path(value))
        elif key == "scans":
            inputs.scans = list(value)
        elif not hasattr(inputs, key):
            raise TypeError(f"unknown layer {key!r}")
        else:
            setattr(inputs, key, value)
    return inputs


# ---------------------------------------------------------------------------------------------
# geometry helpers


def _r(x: float) -> float:
    v = round(float(x), COORD_DECIMALS)
    return 0.0 if v == 0 else v  # no "-0.0"


def _coords(seq: Iterable[Sequence[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for c in seq:
        pt = [_r(c[0]), _r(c[1])]
        if not out or out[-1] != pt:
            out.append(pt)
    return out


def _line_parts(geom: Any) -> list[list[list[float]]]:
    """[[lon, lat], …] per part of a (Multi)LineString."""
    import shapely

    parts = []
    for part in shapely.get_parts(geom):
        if part.is_empty:
            continue
        if part.geom_type == "LineString":
            c = _coords(part.coords)
            if len(c) >= 2:
                parts.append(c)
        elif part.geom_type in ("Polygon",):
            parts.append(_coords(part.exterior.coords))
    return parts


def _polygon_parts(geom: Any) -> list[list[list[list[float]]]]:
    """Per polygon: [exterior, hole, …] each [[lon, lat], …]."""
    import shapely

    out = []
    for part in shapely.get_parts(geom):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        rings = [_coords(part.exterior.coords)] + [_coords(r.coords) for r in part.interiors]
        rings = [r for r in rings if len(r) >= 4]
        if rings:
            out.append(rings)
    return out


def _outline_segments(geom: Any) -> tuple[Any, Any]:
    """Start and end points (two ``(m, 2)`` arrays) of every segment of a geometry's outline.

    Lines give their segments, polygons the segments of their rings; an isolated
    vertex (a point, or a part collapsed to one coordinate) is a zero-length segment.
    """
    import numpy as np
    import shapely

    parts = shapely.get_parts(geom)
    polygons = shapely.get_type_id(parts) == 3
    pieces = np.concatenate([parts[~polygons], shapely.get_rings(parts[polygons])]) if polygons.any() else parts
    coords, index = shapely.get_coordinates(pieces, return_index=True)
    if not len(coords):
        return np.empty((0, 2)), np.empty((0, 2))
    same = index[1:] == index[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    counts = np.bincount(index, minlength=len(pieces))
    single = np.flatnonzero(counts[index] == 1)
    if len(single):
        start = np.concatenate([start, coords[single]])
        end = np.concatenate([end, coords[single]])
    return start, end


def _displacement_m(local: LocalProjection, projected: Any, simple: Any, *, limit_m: float | None = None) -> float:
    """Largest geodesic distance (m) from a vertex of *projected* to the nearest point of *simple*'s outline.

    The nearest segment of the outline (the rings, for polygons) is found in the
    local plane with an STR-tree (O(n log m) for n vertices and m segments; a
    direct vertex-to-geometry distance is O(n·m) and took minutes for a 1M-vertex
    line), the nearest point on it by projection onto the segment, and the distance
    between the two points is then measured on the WGS84 ellipsoid.

    With *limit_m*, only displacements up to about twice that are measured (the
    search is bounded, which is faster); a vertex farther away gives ``inf``.
    """
    import numpy as np
    import shapely

    coords = shapely.get_coordinates(projected)
    if not len(coords):
        return 0.0
    if simple is None or simple.is_empty:
        return float("inf")
    start, end = _outline_segments(simple)
    if not len(start):
        return float("inf")
    tree = shapely.STRtree(shapely.linestrings(np.stack([start, end], axis=1)))
    points = shapely.points(coords)
    # the bound is planar; 2x leaves room for the local projection's scale error
    bound = None if limit_m is None else 2.0 * float(limit_m)
    which, seg = tree.query_nearest(points, all_matches=False, max_distance=bound)
    if len(which) < len(coords):
        return float("inf")
    order = np.argsort(which, kind="stable")
    which, seg = which[order], seg[order]
    p, a, b = coords[which], start[seg], end[seg]
    ab = b - a
    den = np.einsum("ij,ij->i", ab, ab)
    t = np.divide(np.einsum("ij,ij->i", p - a, ab), den, out=np.zeros(len(p)), where=den > 0)
    nearest = a + np.clip(t, 0.0, 1.0)[:, None] * ab
    from borderkit.geodesy import GEOD

    lon1, lat1 = local.to_geographic(p[:, 0], p[:, 1])
    lon2, lat2 = local.to_geographic(nearest[:, 0], nearest[:, 1])
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(np.nanmax(np.abs(dist)))


def simplify_for_display(
    geoms: Sequence[Any], *, tolerance_m: float, local: LocalProjection
) -> tuple[list[Any], float]:
    """Simplify lon/lat geometries with a tolerance in metres; return them and the max displacement (m).

    The displacement is the geodesic distance from each original vertex to the
    nearest point of its simplified geometry's outline (its rings, for polygons;
    nearest point found in the local plane), maximised over all vertices of all
    geometries. Time is O(n log n) in the number of vertices. GEOS may move a
    ring's start vertex by more than the tolerance; such a geometry is
    simplified again with a smaller tolerance (×0.7 each time), so the reported
    displacement never exceeds *tolerance_m*.
    """
    import shapely

    out = []
    worst = 0.0
    for geom in geoms:
        geom = _geom(geom)
        if geom is None or tolerance_m <= 0:
            out.append(geom)
            continue
        projected = local.geometry_to_local(geom)
        tol = tolerance_m
        simple = shapely.simplify(projected, tol, preserve_topology=True)
        disp = _displacement_m(local, projected, simple, limit_m=tolerance_m)
        while disp > tolerance_m and tol > tolerance_m / 16:
            tol *= 0.7
            simple = shapely.simplify(projected, tol, preserve_topology=True)
            disp = _displacement_m(local, projected, simple, limit_m=tolerance_m)
        if disp > tolerance_m:
            simple, disp = projected, 0.0
        worst = max(worst, disp)
        out.append(local.geometry_to_geographic(simple))
    return out, worst


def bounds_of(frames: Iterable[Any], *, margin_m: float = 0.0) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` (degrees) of the geometries of *frames*, or ``None`` when there are none.

    *margin_m* widens the box by that many metres on every side (geodesic, WGS84:
    ``pyproj.Geod.fwd`` from the box's corners), so that one point still gives an area to show.
    """
    box = _raw_bounds(frames)
    if box is None or margin_m <= 0:
        return box
    from pyproj import Geod

    w, s, e, n = box
    geod = Geod(ellps="WGS84")
    west, _, _ = geod.fwd(w, (s + n) / 2, 270.0, margin_m)
    east, _, _ = geod.fwd(e, (s + n) / 2, 90.0, margin_m)
    _, south, _ = geod.fwd(w, s, 180.0, margin_m)
    _, north, _ = geod.fwd(w, n, 0.0, margin_m)
    return (float(max(west, -180.0)), float(max(south, -90.0)), float(min(east, 180.0)), float(min(north, 90.0)))


def _raw_bounds(frames: Iterable[Any]) -> tuple[float, float, float, float] | None:
    import numpy as np

    boxes = []
    for f in frames:
        if f is None or len(f) == 0 or not hasattr(f, "geometry"):
            continue
        geo = f.geometry[~(f.geometry.isna() | f.geometry.is_empty)]
        if len(geo):
            boxes.append(geo.total_bounds)
    if not boxes:
        return None
    arr = np.array(boxes, dtype=float)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max()))


# ---------------------------------------------------------------------------------------------
# value helpers


def incident_precision(value: Any) -> tuple[float | None, str]:
    """An incident's location uncertainty for display: ``(metres, "")`` or ``(None, why it is unknown)``.

    Only a finite, non-negative number of metres is shown as "± N m"; a missing,
    infinite (``inf``, ``1e400``), negative or non-numeric value is never printed as a
    number (it used to show as "± 0 m") but said to be unknown, with what the data hold.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = None
    if v is not None and math.isfinite(v) and v >= 0:
        return v, ""
    if value is None or (v is not None and math.isnan(v)) or (isinstance(value, str) and not value.strip()):
        return None, "unknown (not given)"
    return None, f"unknown (the data give {clean_text(str(value))[:40]!r}, not a finite distance in metres)"


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _date_iso(value: Any) -> str:
    """``YYYY-MM-DD`` of a date-like value, or ``""``."""
    text = clean_text(value).strip()
    if not text:
        return ""
    try:
        import pandas as pd

        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return ""
        return ts.strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        return text[:10]


DATE_PRECISION_WORDS = {
    "day": "exact day",
    "week": "known to the week",
    "month": "known to the month",
    "year": "known to the year",
}
"""How an incident popup says how precise its date is."""


def date_text(date: str, precision: str, date_end: str = "") -> str:
    """The date and its precision in words: ``2021-05 (known to the month)``, ``date unknown``."""
    label = date_label(date, precision, date_end)
    if not date:
        return label
    p = (precision or "day").strip().lower()
    return f"{label} ({DATE_PRECISION_WORDS.get(p, 'precision: ' + clean_text(p))})"


def distance_words(metres: float) -> str:
    """A distance as a reader says it: ``40 m``, ``0.8 km``, ``2.5 km``, ``12 km`` (2 significant figures)."""
    if metres < 95:
        return f"{max(round(metres / 5) * 5, 0):.0f} m" if metres >= 10 else f"{metres:.0f} m"
    if metres < 1000:
        return f"{round(metres, -1):.0f} m" if metres < 250 else f"{round(metres / 1000, 1):g} km"
    if metres < 9950:
        return f"{round(metres / 1000, 1):g} km"
    return f"{round(metres / 1000):.0f} km"


def uncertainty_words(precision_m: float | None, note: str = "") -> str:
    """An incident's location uncertainty in words: ``within about 2 km``, or why it is unknown."""
    if precision_m is None:
        return note or "unknown"
    if precision_m == 0:
        return "exact point"
    if precision_m < 1000:  # "within about 500 m" reads better than "0.5 km"
        return f"within about {float(f'{precision_m:.2g}'):.0f} m"
    return f"within about {distance_words(precision_m)}"


def side_name(code: str, party_names: Mapping[str, Sequence[str]]) -> str:
    """``"Armenia side"``: the first name the case file gives the party (``[parties.X] names``), else its code."""
    names = [clean_text(n) for n in party_names.get(code, ()) if clean_text(n)]
    return f"{names[0] if names else clean_text(code)} side"


def _add_sides(records: list[dict[str, Any]], inputs: MapInputs, report: dict[str, Any]) -> None:
    """Each incident's side of, and geodesic distance to, every drawn line (:func:`borderkit.locate.locate`).

    Adds ``sides`` (one item per line source: ``source``, ``party``, ``distance_m``,
    ``determinate``, ``text``) to every record; nothing when no lines are drawn. A
    failure of the line model (e.g. a user's lines without parties) goes to the
    report's warnings instead of the popups.
    """
    import numpy as np

    lon = np.array([r.pop("lon_full") for r in records], dtype=float)
    lat = np.array([r.pop("lat_full") for r in records], dtype=float)
    if not records or inputs.lines is None or not len(inputs.lines):
        return
    from borderkit.locate import locate

    prec = np.array([r["precision_m"] if r["precision_m"] is not None else np.nan for r in records], dtype=float)
    try:
        res = locate((lon, lat), inputs.lines, territories=inputs.territories, precision_m=prec)
    except (ValueError, TypeError, ImportError) as exc:  # ValidationError is a ValueError
        report.setdefault("area_notes", []).append(f"incident sides not computed: {type(exc).__name__}: {exc}")
        return
    names = inputs.party_names
    for point, rows in res.groupby("point", sort=True):
        sides = []
        for row in rows.itertuples(index=False):
            dist = float(row.distance_to_line_m)
            d = distance_words(dist)
            party = row.party if isinstance(row.party, str) and row.party else None
            by_line = party is None and isinstance(row.line_party, str) and bool(row.line_party)
            if by_line:  # outside the source's polygons (a lake, the sea): the side of its line
                party = row.line_party
            src = clean_text(row.source)
            if party and ";" in party:
                text = f"{d} from {src}, in ground it gives to both " + " and ".join(party.split(";"))
            elif party:
                text = f"{d} on the {side_name(party, names)} of {src}" + (" (by its line)" if by_line else "")
            else:
                text = f"{d} from {src}"
            if party and not bool(row.determinate):
                text += " — side uncertain"
            if row.near_line is False or row.near_line is np.False_:
                text += " — another border is nearer"
            sides.append(
                {
                    "source": src,
                    "party": party,
                    "distance_m": round(dist, 1),
                    "determinate": bool(row.determinate),
                    "text": text,
                }
            )
        records[int(point)]["sides"] = sides
    report["incident_sides_method"] = (
        f"borderkit.locate ({res['method'].iloc[0]}): geodesic distance on the WGS84 ellipsoid to each "
        "source's line; the side from the source's territories, else from the side of its line"
    )


def date_label(date: str, precision: str, date_end: str = "") -> str:
    """A date as precise as its precision says: ``2021-05-12``, ``week of …``, ``2021-05``, ``2021``."""
    if not date:
        return "date unknown"
    p = (precision or "day").strip().lower()
    if p == "year":
        text = date[:4]
    elif p == "month":
        text = date[:7]
    elif p == "week":
        text = f"week of {date}"
    else:
        text = date
    if date_end and date_end != date:
        text += f" – {date_end}"
    return text


def _sources_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except ValueError:
            return [{"text": text, "url": None}]
    if isinstance(value, Mapping):
        value = [value]
    out = []
    for rec in list(value):
        if isinstance(rec, Mapping):
            pub = clean_text(rec.get("publication"))
            title = clean_text(rec.get("title"))
            date = clean_text(rec.get("date"))
            url_raw = clean_text(rec.get("url"))
            parts = [p for p in (pub, f"“{title}”" if title else "", date) if p]
            text = ", ".join(parts) or url_raw or "source"
            url = safe_url(url_raw)
            out.append({"text": text, "url": url, "url_text": "" if url or not url_raw else url_raw})
        else:
            raw = clean_text(rec)
            url = safe_url(raw)
            out.append({"text": raw, "url": url, "url_text": ""})
    return out


def _col(row: Mapping[str, Any], name: str) -> str:
    return clean_text(row.get(name, ""))


def _geom(value: Any) -> Any:
    """A shapely geometry, or ``None`` for missing/empty ones (NaN, None, empty)."""
    if value is None or not hasattr(value, "is_empty") or value.is_empty:
        return None
    return value


# ---------------------------------------------------------------------------------------------
# disagreement polygons


def disagreement_polygons(
    territories: Any,
    *,
    lines: Any,
    min_area_km2: float,
    parties: Iterable[str] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Ground two sources assign to different parties, and ground one source assigns twice.

    For every pair of parties p, q (of *parties*, default every party of the
    lines) and every pair of sources A < B that both have p and q territories
    and lines between them: :func:`borderkit.overlaps.divergence` with the
    territories method (``A[p] ∩ B[q]`` and ``A[q] ∩ B[p]``, overlaid in the
    local projection of the two sources' lines); within one source:
    :func:`borderkit.overlaps.territory_overlaps`. Areas are km² on the WGS84
    ellipsoid, the same numbers as ``borderkit overlaps``. Polygons smaller than
    *min_area_km2* are left off the map but counted in the totals.

    Returns
    -------
    (list, list, list)
        Polygon records (with ``geometry``), one summary per source pair and
        direction (and per source for overlaps), and notes on source pairs that
        could not be compared (no line between the two parties).
    """
    import itertools

    from borderkit.overlaps import divergence, territory_overlaps

    if territories is None or len(territories) == 0:
        return [], [], []
    t = territories[~(territories.geometry.isna() | territories.geometry.is_empty)]
    wanted = sorted({str(x) for x in t["party"]} if parties is None else set(parties))
    records: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    notes: list[str] = []
    for p, q in itertools.combinations(wanted, 2):
        have = sorted(
            str(s) for s, g in t.groupby("source", sort=True) if {p, q} <= {str(x) for x in g["party"]}
        )
        drawn = set() if lines is None else _sources_with_line(lines, p, q)
        for a, b in itertools.combinations(have, 2):
            if not {a, b} <= drawn:
                notes.append(
                    f"{a} and {b}: no disagreement areas between {p} and {q} — "
                    f"{' and '.join(sorted({a, b} - drawn))} has no line between them"
                )
                continue
            parts = divergence(lines, source_a=a, source_b=b, territories=t, pair=(p, q), method="territories").parts
            for (pa, pb), g in parts.groupby(["party_a", "party_b"], sort=True):
                _add_areas("disagreement", a, str(pa), b, str(pb), g, min_area_km2, records, summaries)
        if have:
            ov = territory_overlaps(t, sources=have, parties=[p, q])
            for (src, pa, pb), g in ov.groupby(["source", "party_a", "party_b"], sort=True):
                _add_areas("overlap", str(src), str(pa), str(src), str(pb), g, min_area_km2, records, summaries)
    records.sort(key=lambda r: (r["kind"], r["source_a"], r["party_a"], r["source_b"], r["party_b"], -r["area_km2"]))
    summaries.sort(key=lambda r: (r["source_a"], r["party_a"], r["source_b"], r["party_b"]))
    return records, summaries, notes


def _sources_with_line(lines: Any, p: str, q: str) -> set[str]:
    """Sources with at least one line between parties *p* and *q* (either side)."""
    if not {"source", "left_party", "right_party"} <= set(lines.columns):
        return set()
    sides = lines[["left_party", "right_party"]].astype(str)
    between = ((sides["left_party"] == p) & (sides["right_party"] == q)) | (
        (sides["left_party"] == q) & (sides["right_party"] == p)
    )
    return {str(s) for s in lines.loc[between, "source"]}


def _add_areas(
    kind: str,
    source_a: str,
    party_a: str,
    source_b: str,
    party_b: str,
    parts: Any,
    min_area_km2: float,
    records: list[dict[str, Any]],
    summaries: list[dict[str, Any]],
) -> None:
    """One summary for the polygons of one source/party pair, and a record per polygon of at least *min_area_km2*."""
    areas = [float(a) for a in parts["area_km2"]]
    total = sum(areas)
    if total <= 0:
        return
    key = {"source_a": source_a, "party_a": party_a, "source_b": source_b, "party_b": party_b}
    shown = [(g, a) for g, a in zip(parts.geometry, areas, strict=True) if a >= min_area_km2]
    summaries.append({"kind": kind, **key, "parts": len(areas), "parts_shown": len(shown), "area_km2": total})
    records += [{"kind": kind, **key, "area_km2": a, "geometry": g} for g, a in shown]


def _given_disagreements(frame: Any) -> list[dict[str, Any]]:
    from borderkit.lines import area_km2

    out = []
    for _, row in frame.iterrows():
        geom = _geom(row.geometry)
        if geom is None:
            continue
        area = _num(row.get("area_km2"))
        if area is None:
            area = area_km2(geom)
        out.append(
            {
                "kind": clean_text(row.get("kind", "")) or "disagreement",
                "source_a": _col(row, "source_a"),
                "party_a": _col(row, "party_a"),
                "source_b": _col(row, "source_b"),
                "party_b": _col(row, "party_b"),
                "area_km2": area,
                "geometry": geom,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# measurements

MEASUREMENT_ALIASES = {
    "from_lon": ("from_lon", "lon1", "start_lon", "subject_lon", "point_lon"),
    "from_lat": ("from_lat", "lat1", "start_lat", "subject_lat", "point_lat"),
    "to_lon": ("to_lon", "lon2", "end_lon", "nearest_lon", "reference_lon"),
    "to_lat": ("to_lat", "lat2", "end_lat", "nearest_lat", "reference_lat"),
    "value": ("value", "measured_value", "distance_km", "distance_m", "depth_m", "depth_km"),
    "unit": ("unit", "measured_unit"),
    "line_source": ("line_source", "source", "reference_source", "line"),
    "label": ("label", "claim_id", "name"),
}


def _measure_value(row: Mapping[str, Any], col: str | None) -> tuple[float | None, str]:
    if col is None:
        return None, ""
    v = _num(row.get(col))
    unit = ""
    for name in MEASUREMENT_ALIASES["unit"]:
        if name in row and clean_text(row.get(name)):
            unit = clean_text(row.get(name))
            break
    if not unit:
        unit = "km" if col.endswith("_km") else "m" if col.endswith("_m") else ""
    return v, unit


LABEL_DIRECTIONS = ("center", "right", "left", "top", "bottom")
"""Where a measurement's permanent label sits relative to its anchor (Leaflet tooltip directions)."""

LABEL_ANCHORS = ("mid", "from", "to")
"""What a measurement's permanent label is attached to: the segment's middle or one of its ends."""

CLAIM_FIELDS = (
    "statement",
    "claimed",
    "reading",
    "verdict",
    "accept",
    "reach",
    "claim_verdict",
    "all_sources",
    "other_readings",
    "method",
    "note",
    "features",
)
"""Per-claim fields of a measurement's popup, in display order (see :func:`measurement_records`)."""


def measurement_records(frame: Any) -> list[dict[str, Any]]:
    """Measurement segments to label on the map.

    Expected columns (aliases in ``MEASUREMENT_ALIASES``): ``from_lon``,
    ``from_lat``, ``to_lon``, ``to_lat``, ``value``, ``unit``, ``line_source``.
    Optional, about the segment: ``label``/``claim_id`` (what is measured),
    ``measurement_id``, ``value_text`` (replaces the formatted value, e.g. a
    signed depth), ``range_text`` (e.g. the range over all line sources),
    ``permanent`` (False: the label shows on hover only), ``label_min_zoom``
    (the permanent label hides below this zoom), ``label_at`` (one of
    :data:`LABEL_ANCHORS`), ``label_direction`` (one of :data:`LABEL_DIRECTIONS`),
    ``label_offset`` (``[dx, dy]`` pixels, or ``"dx,dy"``; added to the
    direction's own 8 px gap).
    Optional, about the claim (popup): ``claim_id``, ``statement``,
    ``claimed_value``/``claimed_unit``/``qualifier`` (or ``claimed``),
    ``quantity``, ``reading``, ``verdict``, ``accept``, ``reach``,
    ``claim_verdict``, ``all_sources``, ``other_readings``, ``method``,
    ``note``, ``features``.

    Rows without the four coordinates or a value are skipped. Rows that
    describe the same segment (same end points, line source and value text —
    e.g. two claims about one place) are drawn once; the popup lists each claim.
    Records are sorted with the hover-only segments first, so the labelled one
    of a group is drawn on top.
    """
    if frame is None or len(frame) == 0:
        return []
    cols = list(frame.columns)

    def pick(key: str) -> str | None:
        for name in MEASUREMENT_ALIASES[key]:
            if name in cols:
                return name
        return None

    names = {k: pick(k) for k in MEASUREMENT_ALIASES}
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for _, row in frame.iterrows():
        row = row.to_dict()
        coords = [
            c for k in ("from_lon", "from_lat", "to_lon", "to_lat") if (c := _num(row.get(names[k] or ""))) is not None
        ]
        if len(coords) < 4:
            continue
        value, unit = _measure_value(row, names["value"])
        if value is None:
            continue
        value_text = clean_text(row.get("value_text", "")) or _format_value(value, unit)
        source = clean_text(row.get(names["line_source"])) if names["line_source"] else ""
        frm, to = [_r(coords[0]), _r(coords[1])], [_r(coords[2]), _r(coords[3])]
        claim = {k: clean_text(row.get(k, "")) for k in CLAIM_FIELDS}
        claim["claimed"] = claim["claimed"] or _claimed_text(row)
        claim["id"] = clean_text(row.get("claim_id", ""))
        key = (tuple(frm), tuple(to), source, value_text)
        rec = merged.get(key)
        if rec is None:
            min_zoom = _num(row.get("label_min_zoom"))
            at = clean_text(row.get("label_at", "")).strip().lower()
            direction = clean_text(row.get("label_direction", "")).strip().lower()
            rec = merged[key] = {
                "id": clean_text(row.get("measurement_id", "")) or claim["id"],
                "label": clean_text(row.get(names["label"])) if names["label"] else "",
                "from": frm,
                "to": to,
                "value": value,
                "unit": unit,
                "value_text": value_text,
                "range_text": clean_text(row.get("range_text", "")),
                "line_source": source,
                "quantity": clean_text(row.get("quantity", "")),
                "permanent": _flag(row.get("permanent", True)),
                "label_min_zoom": None if min_zoom is None else int(min_zoom),
                "label_at": at if at in LABEL_ANCHORS else "mid",
                "label_direction": direction if direction in LABEL_DIRECTIONS else "center",
                "label_offset": _offset(row.get("label_offset")),
                "claims": [],
            }
        else:
            rec["permanent"] = rec["permanent"] or _flag(row.get("permanent", True))
        if any(claim.values()) and claim not in rec["claims"]:
            rec["claims"].append(claim)
    out = list(merged.values())
    for rec in out:
        rec["claims"].sort(key=lambda c: (c["id"], c["statement"], c["reading"]))
        first = rec["claims"][0] if rec["claims"] else {}
        # the first claim's text at the top level too (static maps, older page scripts)
        for k in ("claimed", "method", "statement"):
            rec[k] = first.get(k, "")
    out.sort(key=lambda r: (r["permanent"], r["id"], r["label"], r["line_source"], r["from"], r["to"]))
    return out


def _offset(value: Any) -> list[int]:
    """``[dx, dy]`` (whole pixels, each within ±400) from a pair or ``"dx,dy"``; ``[0, 0]`` otherwise."""
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    try:
        dx, dy = (float(v) for v in value)
    except (TypeError, ValueError):
        return [0, 0]
    if not (math.isfinite(dx) and math.isfinite(dy)):
        return [0, 0]
    return [int(round(max(-400.0, min(400.0, dx)))), int(round(max(-400.0, min(400.0, dy))))]


def _flag(value: Any, default: bool = True) -> bool:
    """A yes/no column value; missing (``None``, NaN, empty text) gives *default*."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    if isinstance(value, str):
        text = value.strip().lower()
        return default if not text else text not in ("0", "false", "no")
    try:
        return bool(value)
    except (TypeError, ValueError):
        return default


def _pairs(value: Any) -> list[list[str]]:
    """``[[label, text], …]`` from a list of pairs, a mapping or its JSON text (popup rows); ``[]`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except ValueError:
            return [["", clean_text(value)]]
    items = list(value.items()) if isinstance(value, Mapping) else list(value)
    out = []
    for item in items:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            out.append([clean_text(item[0]), clean_text(item[1])])
        else:
            out.append(["", clean_text(item)])
    return [p for p in out if p[1]]


def _format_value(value: float, unit: str) -> str:
    if unit == "km":
        return f"{value:.2f} km" if abs(value) < 10 else f"{value:.1f} km"
    if unit == "m":
        return f"{value:,.0f} m"
    return f"{value:g} {unit}".strip()


def _claimed_text(row: Mapping[str, Any]) -> str:
    v = _num(row.get("claimed_value"))
    if v is None:
        return ""
    q = clean_text(row.get("qualifier", ""))
    unit = clean_text(row.get("claimed_unit", ""))
    return " ".join(p for p in (q, f"{v:g}", unit) if p)


# ---------------------------------------------------------------------------------------------
# the payload


def _source_meta(inputs: MapInputs, name: str, row: Mapping[str, Any] | None = None) -> dict[str, Any]:
    reg = inputs.sources.get(name, {}) or {}
    row = row or {}
    return {
        "name": clean_text(name),
        "title": clean_text(reg.get("title", "")),
        "licence": clean_text(reg.get("licence", "")) or clean_text(row.get("licence", "")),
        "attribution": clean_text(reg.get("attribution", "")) or clean_text(row.get("attribution", "")),
        "url": safe_url(reg.get("url") or reg.get("homepage") or ""),
        "version": clean_text(row.get("source_version", "")) or clean_text(reg.get("version", "")),
    }


def prepare(
    inputs: MapInputs,
    *,
    simplify_m: float,
    min_area_km2: float,
    lang: str = "en",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the JSON payload of a map and a report of what was done.

    Returns
    -------
    (dict, dict)
        ``payload`` (embedded in the page) and ``report`` (sizes, simplification
        displacement, areas; for the CLI and the docs).
    """
    from borderkit._projection import LocalProjection

    bounds = _view_bounds(inputs)
    local = LocalProjection.from_bounds(bounds)
    report: dict[str, Any] = {"simplify_tolerance_m": simplify_m, "max_displacement_m": {}, "area_notes": []}
    payload: dict[str, Any] = {
        "lines": _line_groups(inputs, simplify_m=simplify_m, local=local, report=report),
        "areas": _area_records(inputs, simplify_m=simplify_m, min_area_km2=min_area_km2, local=local, report=report),
        "incidents": [],
        "places": _place_records(inputs.places, simplify_m=simplify_m, local=local, report=report, lang=lang),
        "measurements": measurement_records(inputs.measurements),
        "viewsheds": _viewshed_records(inputs.viewsheds, simplify_m=simplify_m, local=local, report=report),
    }
    payload["area_totals"] = [
        {k: (round(v, 4) if isinstance(v, float) else clean_text(v) if isinstance(v, str) else v) for k, v in s.items()}
        for s in report["areas"]
    ]
    incidents, types = _incident_records(inputs.incidents)
    _add_sides(incidents, inputs, report)
    payload["incidents"] = incidents
    if types is not None:
        payload["incident_types"] = types
    payload["bounds"] = [_r(b) for b in bounds]
    payload["context"] = context_records(inputs, simplify_m=simplify_m, local=local, report=report, view=bounds)
    if inputs.basemap is not None:  # (a map without one keeps its page data, byte for byte)
        from borderkit.maps.basemap import basemap_records

        payload["basemap"] = basemap_records(inputs.basemap, local=local, report=report, places=inputs.places)
    return payload, report


def _party_label(code: str, row: Mapping[str, Any], party_names: Mapping[str, Sequence[str]]) -> str:
    """The name a reader knows a party by: the case file's first name, else the source's name, else the code."""
    names = [clean_text(n) for n in party_names.get(code, ()) if clean_text(n)]
    if names and names[0] != code:
        return names[0]
    name = _col(row, "name")
    return name if name and name != code else code


def context_records(
    inputs: MapInputs,
    *,
    simplify_m: float,
    local: LocalProjection,
    report: dict[str, Any],
    view: tuple[float, float, float, float] | None = None,
) -> dict[str, Any] | None:
    """The country context of a map: every party's territory in ONE reference source, filled and named.

    The reference source is the first source by name that has territories (the same
    data always give the same choice; the legend names it). Every party in that
    source gets a pale fill of nearly equal lightness (:func:`borderkit.maps.style.country_fills`,
    sorted by code, so no side is privileged), a thin grey outline (the international
    borders of that source, the disputed one included) and its name at the pole of
    inaccessibility (:func:`shapely.ops.polylabel`, in degrees: a label anchor, not a
    measurement) of its largest part inside the initial *view* ``(west, south, east, north)``,
    so that every party in the frame is named in the frame. Names: the case file's ``[parties.X] names`` (first
    one), else the source's ``name``, else the code; the case files give names in
    English only, so ``lang`` is recorded as ``"en"``.

    Returns
    -------
    dict or None
        ``{"source", "style", "countries": [{"party", "name", "lang", "fill", "label_at", "polygons"}]}``;
        ``None`` without territories.
    """
    import shapely
    from shapely.ops import polylabel

    terr = inputs.territories
    if terr is None or not len(terr) or "source" not in terr.columns or "party" not in terr.columns:
        return None
    terr = terr[~(terr.geometry.isna() | terr.geometry.is_empty)]
    if not len(terr):
        return None
    source = sorted({str(s) for s in terr["source"]})[0]
    ref = terr[terr["source"].astype(str) == source].sort_values("party", kind="mergesort")
    # dissolve a party's rows (a source may split a party into several rows)
    parties = sorted({str(p) for p in ref["party"]})
    geoms = [shapely.union_all(list(ref.geometry[ref["party"].astype(str) == p])) for p in parties]
    simple, worst = simplify_for_display(geoms, tolerance_m=simplify_m, local=local)
    report["max_displacement_m"]["context"] = worst
    fills = country_fills(parties)
    out = []
    for party, geom, simple_geom in zip(parties, geoms, simple, strict=True):
        polys = _polygon_parts(simple_geom)
        if not polys:
            continue
        row = ref[ref["party"].astype(str) == party].iloc[0].to_dict()
        shown = geom.intersection(shapely.box(*view)) if view is not None else geom
        if shown.is_empty or shown.area == 0:
            shown = geom
        parts = [g for g in getattr(shown, "geoms", [shown]) if g.geom_type == "Polygon"]
        largest = max(parts, key=lambda g: g.area)  # degrees²: only to pick the part the name goes on
        at = polylabel(largest, tolerance=0.001)
        out.append(
            {
                "party": clean_text(party),
                "name": _party_label(party, row, inputs.party_names),
                "lang": "en",
                "fill": fills[party],
                "label_at": [_r(at.x), _r(at.y)],
                "polygons": polys,
            }
        )
    return {
        "source": clean_text(source),
        "style": dict(COUNTRY_STYLE),
        "countries": out,
        "water_style": dict(WATER_STYLE),
        "lakes": lake_records(inputs, simplify_m=simplify_m, local=local, report=report),
    }


def lake_records(
    inputs: MapInputs, *, simplify_m: float, local: LocalProjection, report: dict[str, Any]
) -> list[dict[str, Any]]:
    """Water where the data name a lake: the outline of each ``kind == "lake"`` place as a territory source
    leaves it out of every party's land.

    For each lake place with a point and each territory source (sorted by name), the piece
    of the source's non-land (its territories' bounding box minus the union of all its
    parties) that contains the point is the lake as that source draws it — when that piece
    is enclosed (it does not reach the box's edge, so it is not sea or the world outside the
    clip). The first source (by name) that encloses the point is drawn. Sources that draw
    land over the lake (most country datasets do) give nothing; a lake no source leaves out
    stays a point, and the report's ``lakes_not_drawn`` lists it. Nothing is invented:
    every vertex is a source's. Areas: km² on the WGS84 ellipsoid (:func:`borderkit.lines.area_km2`).
    """
    import shapely

    from borderkit.lines import area_km2

    places, terr = inputs.places, inputs.territories
    out: list[dict[str, Any]] = []
    report["lakes_not_drawn"] = []
    if places is None or not len(places) or "kind" not in places.columns:
        return out
    lakes = places[(places["kind"].astype(str) == "lake") & places.geometry.notna() & ~places.geometry.is_empty]
    lakes = lakes[lakes.geometry.geom_type == "Point"].sort_values("place_id", kind="mergesort")
    if not len(lakes):
        return out
    by_source: dict[str, list[Any]] = {}
    if terr is not None and len(terr) and "source" in terr.columns:
        terr = terr[~(terr.geometry.isna() | terr.geometry.is_empty)]
        by_source = {s: list(terr.geometry[terr["source"].astype(str) == s]) for s in sorted(map(str, terr["source"]))}
    gaps: dict[str, tuple[Any, list[Any]]] = {}

    def non_land(src: str) -> tuple[Any, list[Any]]:
        # computed once per source, and only for a source that leaves a lake's point out of its land
        if src not in gaps:
            geoms = by_source[src]
            box = shapely.box(*shapely.total_bounds(geoms)).buffer(1e-6)
            rest = box.difference(shapely.union_all(geoms))
            gaps[src] = (box.boundary, [g for g in getattr(rest, "geoms", [rest]) if not g.is_empty])
        return gaps[src]

    from borderkit.places import display_name

    labels = display_name(lakes, lang="en")
    for (_, row), name in zip(lakes.iterrows(), labels, strict=True):
        found = None
        for src, geoms in by_source.items():
            if any(g.covers(row.geometry) for g in geoms):  # this source draws land over the lake
                continue
            edge, pieces = non_land(src)
            piece = next((g for g in pieces if g.covers(row.geometry)), None)
            if piece is not None and not piece.intersects(edge):
                found = (src, piece)
                break
        if found is None:
            report["lakes_not_drawn"].append(_col(row, "place_id"))
            continue
        src, piece = found
        (simple,), _ = simplify_for_display([piece], tolerance_m=simplify_m, local=local)
        polys = _polygon_parts(simple)
        if polys:
            out.append(
                {
                    "place_id": _col(row, "place_id"),
                    "name": clean_text(str(name)),
                    "source": clean_text(src),
                    "area_km2": round(area_km2(piece), 3),
                    "vertices": int(shapely.get_num_coordinates(piece)),
                    "polygons": polys,
                }
            )
    return out


def _view_bounds(inputs: MapInputs) -> tuple[float, float, float, float]:
    """The view: the lines and incidents (the dispute), else whatever there is."""
    bounds = _raw_bounds([inputs.lines, inputs.incidents, inputs.viewsheds]) or _raw_bounds(
        [inputs.places, inputs.territories]
    )
    if bounds is None and inputs.hillshade is not None:
        bounds = inputs.hillshade.bounds
    if bounds is None and inputs.scans:
        bounds = inputs.scans[0].bounds
    return bounds if bounds is not None else (-10.0, -10.0, 10.0, 10.0)


def _line_groups(
    inputs: MapInputs, *, simplify_m: float, local: LocalProjection, report: dict[str, Any]
) -> list[dict[str, Any]]:
    """One group per line source (sorted by name), its lines simplified for display."""
    import shapely

    lines = inputs.lines
    if lines is None or not len(lines):
        return []
    lines = lines.sort_values(["source", "line_id"], kind="mergesort")
    styles = line_styles(str(s) for s in lines["source"])
    simple, worst = simplify_for_display(list(lines.geometry), tolerance_m=simplify_m, local=local)
    report["max_displacement_m"]["lines"] = worst
    n_in = n_out = 0
    groups: dict[str, dict[str, Any]] = {}
    for (_, row), geom, orig in zip(lines.iterrows(), simple, lines.geometry, strict=True):
        src = clean_text(row["source"])
        g = groups.get(src)
        if g is None:
            g = groups[src] = {
                "key": f"line:{src}",
                "source": src,
                "meta": _source_meta(inputs, src, row.to_dict()),
                "date": _col(row, "source_date"),
                "accuracy_m": _num(row.get("scale_or_accuracy_m")),
                "style": styles[str(row["source"])],
                "features": [],
            }
        n_in += int(shapely.get_num_coordinates(orig)) if orig is not None else 0
        parts = _line_parts(geom) if geom is not None else []
        n_out += sum(len(p) for p in parts)
        g["features"].append(
            {
                "id": _col(row, "line_id"),
                "name": _col(row, "name"),
                "claimant": _col(row, "claimant"),
                "left": _col(row, "left_party"),
                "right": _col(row, "right_party"),
                "section": _col(row, "section"),
                "notes": _col(row, "notes"),
                "version": _col(row, "source_version"),
                "date": _col(row, "source_date"),
                "licence": _col(row, "licence"),
                "lines": parts,
            }
        )
    report["line_vertices"] = {"original": n_in, "displayed": n_out}
    return [groups[k] for k in sorted(groups)]


def _area_records(
    inputs: MapInputs, *, simplify_m: float, min_area_km2: float, local: LocalProjection, report: dict[str, Any]
) -> list[dict[str, Any]]:
    """Disagreement and overlap polygons: given, or computed from the territories (:func:`disagreement_polygons`)."""
    if inputs.disagreements is not None:
        recs = _given_disagreements(inputs.disagreements)
        summaries: list[dict[str, Any]] = []
    else:
        parties = None
        if inputs.lines is not None and len(inputs.lines):
            parties = sorted(
                {
                    clean_text(v)
                    for col in ("left_party", "right_party")
                    if col in inputs.lines
                    for v in inputs.lines[col]
                }
                - {""}
            )
        report["area_parties"] = parties
        recs, summaries, notes = disagreement_polygons(
            inputs.territories, lines=inputs.lines, min_area_km2=min_area_km2, parties=parties
        )
        report["area_notes"] = notes
    simple, worst = simplify_for_display([r["geometry"] for r in recs], tolerance_m=simplify_m, local=local)
    report["max_displacement_m"]["areas"] = worst
    report["areas"] = summaries
    out = []
    for rec, geom in zip(recs, simple, strict=True):
        polys = _polygon_parts(geom)
        if polys:
            out.append(
                {
                    "kind": rec["kind"],
                    "source_a": clean_text(rec["source_a"]),
                    "party_a": clean_text(rec["party_a"]),
                    "source_b": clean_text(rec["source_b"]),
                    "party_b": clean_text(rec["party_b"]),
                    "area_km2": round(float(rec["area_km2"]), 4),
                    "polygons": polys,
                }
            )
    return out


def _incident_records(inc: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Incident records sorted by date and id, and the legend of incident types (``None`` without incidents)."""
    if inc is None or not len(inc):
        return [], None
    inc = inc.sort_values("incident_id", kind="mergesort")
    colors = incident_colors(clean_text(t) for t in inc["type"])
    out = []
    for _, row in inc.iterrows():
        geom = _geom(row.geometry)
        if geom is None:
            continue
        date = _date_iso(row.get("date"))
        date_end = _date_iso(row.get("date_end"))
        prec = _col(row, "date_precision") or "day"
        itype = _col(row, "type")
        precision_m, precision_note = incident_precision(row.get("precision_m"))
        out.append(
            {
                "id": _col(row, "incident_id"),
                "lon": _r(geom.x),
                "lat": _r(geom.y),
                "precision_m": precision_m,
                **({"precision_note": precision_note} if precision_note else {}),
                "type": itype,
                "color": colors[itype],
                "date": date,
                "date_end": date_end,
                "date_precision": prec,
                "date_label": date_label(date, prec, date_end),
                "date_text": date_text(date, prec, date_end),
                "location_text": uncertainty_words(precision_m, precision_note),
                "lon_full": float(geom.x),
                "lat_full": float(geom.y),
                "description": _col(row, "description"),
                "actors": _col(row, "actors"),
                "place_name": _col(row, "place_name"),
                "reported_claims": _col(row, "reported_claims"),
                "sources": _sources_list(row.get("sources")),
            }
        )
    out.sort(key=lambda r: (r["date"], r["id"]))
    return out, [{"type": t, "color": c} for t, c in sorted(colors.items())]


def _place_records(
    places: Any, *, simplify_m: float, local: LocalProjection, report: dict[str, Any], lang: str = "en"
) -> list[dict[str, Any]]:
    """Place records sorted by id, with every name the data has (any language, for the popup) and the
    label in *lang* (``label``/``label_lang``, :func:`borderkit.places.display_name`: the first
    language with a name); unlocated places go to the report."""
    from borderkit.places import display_name, name_columns
    from borderkit.schema import name_language

    out: list[dict[str, Any]] = []
    unlocated = []
    if places is not None and len(places):
        places = places.sort_values("place_id", kind="mergesort")
        columns = name_columns(places)
        labels, label_langs = display_name(places, lang=lang, return_lang=True)
        for pos, (_, row) in enumerate(places.iterrows()):
            geom = _geom(row.geometry)
            # every name, in the alphabetical order of the language tags: no party's language first
            names = sorted(({"lang": name_language(c), "name": _col(row, c)} for c in columns if _col(row, c)),
                           key=lambda n: str(n["lang"]))
            label = {"lang": str(label_langs.iloc[pos]), "name": clean_text(str(labels.iloc[pos]))}
            if geom is None:
                unlocated.append(_col(row, "place_id"))
                continue
            kind = _col(row, "kind")
            rec: dict[str, Any] = {
                "id": _col(row, "place_id"),
                "kind": kind,
                "color": PLACE_COLORS.get(kind, "#333333"),
                "names": names,
                "label": label if label["name"] else None,
                "elevation_m": _num(row.get("elevation_m")),
                "elevation_source": _col(row, "elevation_source"),
                "coord_source": _col(row, "coord_source"),
                "notes": _col(row, "notes"),
            }
            if geom.geom_type == "Point":
                rec["point"] = [_r(geom.x), _r(geom.y)]
            else:
                (g2,), _ = simplify_for_display([geom], tolerance_m=simplify_m, local=local)
                rec["lines"] = _line_parts(g2)
            out.append(rec)
    report["unlocated_places"] = unlocated
    return out


def _viewshed_records(
    vs: Any, *, simplify_m: float, local: LocalProjection, report: dict[str, Any]
) -> list[dict[str, Any]]:
    """Viewshed polygons simplified for display, with their label, method, area and popup rows."""
    from borderkit.lines import area_km2

    if vs is None or not len(vs):
        return []
    simple, worst = simplify_for_display(list(vs.geometry), tolerance_m=simplify_m, local=local)
    report["max_displacement_m"]["viewsheds"] = worst
    out = []
    for (_, row), geom, orig in zip(vs.iterrows(), simple, vs.geometry, strict=True):
        polys = _polygon_parts(geom)
        if not polys:
            continue
        area = _num(row.get("area_km2"))
        if area is None:
            area = area_km2(orig)
        label = ""
        for col in ("name", "observer", "place_id", "viewshed_id"):
            if col in row and clean_text(row[col]):
                label = clean_text(row[col])
                break
        out.append(
            {
                "label": label,
                "observer_height_m": _num(row.get("observer_height_m")),
                "method": clean_text(row.get("method", "")),
                "area_km2": round(area, 4),
                "show": _flag(row.get("show", True)),
                "details": _pairs(row.get("details")),
                "polygons": polys,
            }
        )
    return out


def credits(inputs: MapInputs, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every data source named by the map, with licence and attribution, sorted by name."""
    seen: dict[str, dict[str, Any]] = {}
    for name in inputs.dataset_sources:
        seen[name] = _source_meta(inputs, name)
    for g in payload.get("lines", []):
        seen.setdefault(g["source"], g["meta"])
    for frame in (inputs.territories,):
        if frame is not None and len(frame) and "source" in frame.columns:
            for _, row in frame.drop_duplicates("source").iterrows():
                name = clean_text(row["source"])
                seen.setdefault(name, _source_meta(inputs, name, row.to_dict()))
    return [seen[k] for k in sorted(seen)]
