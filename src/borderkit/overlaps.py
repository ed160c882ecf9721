"""Where line sources disagree: divergence polygons, Hausdorff distance, territory overlaps.

Two sources "diverge" on ground that one assigns to one party and the other to
the other party. For sources that carry territories this is read off the
territories directly (``A.ARM ∩ B.AZE`` and ``A.AZE ∩ B.ARM``); for a source
with lines only (GSHHG) the polygons *between* the two drawings are built by
polygonizing both lines and keeping the faces the two sources put on different
sides. Nothing here says which source is right.

Units: areas km² on the WGS84 ellipsoid (``pyproj.Geod.geometry_area_perimeter``),
lengths and distances metres (WGS84 geodesics). Overlays run in a local
azimuthal equidistant projection (straight edges within centimetres of the
geodesics) and the results are transformed back to EPSG:4326 before they are
measured. See ``docs/measure.md``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from borderkit.errors import ValidationError
from borderkit.geodesy import LocalProjection, geodesic_inverse, nearest_points_on_lines
from borderkit.lines import (
    UNITS,
    area_km2,
    areas_km2,
    bridged_geometries,
    densify,
    geodesic_densify,
    length_m,
    line_pair,
    select_lines,
    sided,
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

__all__ = [
    "Divergence",
    "hausdorff_distance",
    "divergence",
    "divergence_table",
    "territory_overlaps",
]

_ON_LINE_TOL_M = 25.0  # an outline sample within this of a source's line lies "on" it (DCW packing ≤ 7 m)


def _finish(df: pd.DataFrame, method: str) -> pd.DataFrame:
    df.attrs["units"] = UNITS
    df.attrs["method"] = method
    return df


# =================================================================================================
# Hausdorff distance between two drawings
# =================================================================================================
def hausdorff_distance(a: Any, b: Any, *, spacing_m: float = 100.0) -> dict[str, Any]:
    """Geodesic Hausdorff distance between two sets of lines, with where it is reached.

    Parameters
    ----------
    a, b
        (Multi)LineStrings in EPSG:4326 (one geometry or a sequence).
    spacing_m
        Each line is sampled every ``spacing_m`` or less along its geodesic
        segments; the distance of each sample to the other line is exact
        (:func:`borderkit.geodesy.nearest_points_on_lines`). The farthest sample is
        refined on a 100× finer sampling of its neighbourhood.

    Returns
    -------
    dict
        ``hausdorff_m`` (the larger directed distance; a lower bound of the true
        value), ``hausdorff_upper_m`` (proven upper bound: the coarse maximum +
        ``spacing_m / 2``, since the distance to a set is 1-Lipschitz),
        ``a_to_b_m``, ``b_to_a_m`` (directed, refined), ``mean_a_to_b_m``,
        ``mean_b_to_a_m`` (length-weighted mean offsets), ``from_lon``,
        ``from_lat`` (the farthest point) and ``to_lon``, ``to_lat`` (its nearest
        point on the other line), ``direction`` (``"a->b"`` or ``"b->a"``),
        ``spacing_m``, ``units``, ``method``.
    """
    ga = [a] if isinstance(a, shapely.Geometry) else list(a)
    gb = [b] if isinstance(b, shapely.Geometry) else list(b)

    def directed(src: list[Any], dst: list[Any]) -> tuple[float, float, float, tuple[float, float, float, float]]:
        lon, lat, _, w, part = densify(src, spacing_m)
        near = nearest_points_on_lines(lon, lat, dst)
        d = near["distance_m"].to_numpy()
        i = int(np.argmax(d))
        coarse = float(d[i])
        mean = float(np.sum(d * w) / np.sum(w)) if np.sum(w) > 0 else float(d.mean())
        # refine: sample the stretch between the neighbours of the farthest sample 100x finer
        lo = i - 1 if i > 0 and part[i - 1] == part[i] else i
        hi = i + 1 if i + 1 < lon.size and part[i + 1] == part[i] else i
        stretch = shapely.LineString(np.column_stack([lon[lo:hi + 1], lat[lo:hi + 1]])) if hi > lo else None
        best = (coarse, (float(lon[i]), float(lat[i]), float(near["nearest_lon"].iloc[i]),
                         float(near["nearest_lat"].iloc[i])))
        if stretch is not None and stretch.length > 0:
            flon, flat, _, _, _ = densify([stretch], spacing_m / 100.0)
            fn = nearest_points_on_lines(flon, flat, dst)
            fd = fn["distance_m"].to_numpy()
            j = int(np.argmax(fd))
            if fd[j] > best[0]:
                best = (float(fd[j]), (float(flon[j]), float(flat[j]), float(fn["nearest_lon"].iloc[j]),
                                       float(fn["nearest_lat"].iloc[j])))
        return best[0], coarse, mean, best[1]

    ab, ab_coarse, mean_ab, where_ab = directed(ga, gb)
    ba, ba_coarse, mean_ba, where_ba = directed(gb, ga)
    h, where, direction = (ab, where_ab, "a->b") if ab >= ba else (ba, where_ba, "b->a")
    return {
        "hausdorff_m": h,
        "hausdorff_upper_m": max(h, max(ab_coarse, ba_coarse) + spacing_m / 2.0),
        "a_to_b_m": ab,
        "b_to_a_m": ba,
        "mean_a_to_b_m": mean_ab,
        "mean_b_to_a_m": mean_ba,
        "from_lon": where[0],
        "from_lat": where[1],
        "to_lon": where[2],
        "to_lat": where[3],
        "direction": direction,
        "spacing_m": float(spacing_m),
        "units": "metres (geodesic, WGS84)",
        "method": (
            f"both lines sampled every <= {spacing_m:g} m along their geodesic segments; exact geodesic distance "
            "of each sample to the other line; farthest sample refined 100x; upper bound = coarse max + spacing/2"
        ),
    }


# =================================================================================================
# divergence polygons
# =================================================================================================
@dataclass
class Divergence:
    """Result of :func:`divergence` / :func:`divergence_table`.

    Attributes
    ----------
    pairs
        One row per pair of sources (the summary table).
    parts
        GeoDataFrame (EPSG:4326): one row per divergence polygon.
    sections
        One row per pair of sources and line section: lengths and Hausdorff distance.
    """

    pairs: pd.DataFrame
    parts: Any
    sections: pd.DataFrame


def _territory(territories: geopandas.GeoDataFrame | None, source: str, party: str) -> Any | None:
    if territories is None:
        return None
    t = territories[(territories["source"] == source) & (territories["party"] == party)]
    if t.empty:
        return None
    return shapely.union_all(np.asarray(t.geometry.values, dtype=object))


def _polys(g: Any) -> list[Any]:
    return [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty and p.area > 0]


def _end_connectors(secs_a: geopandas.GeoDataFrame, secs_b: geopandas.GeoDataFrame, connect_m: float,
                    close_m: float) -> tuple[list[Any], list[Any]]:
    """Segments joining the matching ends of open sections of A and B, and closures of nearly-closed rings."""
    connectors: list[Any] = []
    closures: list[Any] = []
    ends: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {"a": {}, "b": {}}
    for key, secs in (("a", secs_a), ("b", secs_b)):
        for sec, geom in zip(secs["section"], bridged_geometries(secs), strict=True):
            parts = [np.asarray(p.coords) for p in shapely.get_parts(geom)]
            first, last = parts[0][0], parts[-1][-1]
            gap = float(geodesic_inverse(first[0], first[1], last[0], last[1]).distance_m)
            if gap == 0.0:
                continue  # a closed ring
            if gap <= close_m:
                closures.append(shapely.LineString([last, first]))
                continue
            ends[key][str(sec)] = (first, last)
    for sec in sorted(set(ends["a"]) & set(ends["b"])):
        (a0, a1), (b0, b1) = ends["a"][sec], ends["b"][sec]
        for p, q in ((a0, b0), (a1, b1)):
            if float(geodesic_inverse(p[0], p[1], q[0], q[1]).distance_m) <= connect_m:
                connectors.append(shapely.LineString([p, q]))
    return connectors, closures


def _faces_between(proj: LocalProjection, secs_a: geopandas.GeoDataFrame, secs_b: geopandas.GeoDataFrame,
                   connect_m: float, close_m: float) -> np.ndarray:
    connectors, closures = _end_connectors(secs_a, secs_b, connect_m, close_m)
    drawn = geodesic_densify([*bridged_geometries(secs_a), *bridged_geometries(secs_b)])
    # connectors and closures are artificial straight joins: not densified (extra vertices on a join that runs
    # along a drawing's last segment would leave dangles instead of closing the face)
    local = proj.geometry_to_local(np.asarray([*drawn, *connectors, *closures], dtype=object))
    edges = shapely.union_all(local)
    return shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))


def _part_metrics(parts_local: list[Any], proj: LocalProjection, secs_a: geopandas.GeoDataFrame,
                  secs_b: geopandas.GeoDataFrame) -> pd.DataFrame:
    """Per part: greatest width (largest inscribed circle) and the stretch of each drawing bounding it."""
    n = len(parts_local)
    cols = ["max_width_m", "width_lon", "width_lat", "length_a_m", "length_b_m", "section"]
    if n == 0:
        return pd.DataFrame(columns=cols)
    arr = np.asarray(parts_local, dtype=object)
    # largest inscribed circle, found in the plane (1 m tolerance); its radius measured on the ellipsoid
    mic = shapely.maximum_inscribed_circle(arr, tolerance=1.0)
    ends = shapely.get_coordinates(mic).reshape(n, 2, 2)
    clon, clat = proj.to_geographic(ends[:, 0, 0], ends[:, 0, 1])
    blon, blat = proj.to_geographic(ends[:, 1, 0], ends[:, 1, 1])
    radius = geodesic_inverse(np.asarray(clon), np.asarray(clat), np.asarray(blon), np.asarray(blat)).distance_m
    # the stretch of each drawing that lies on the part's outline (within 25 m: DCW packs its countries separately)
    ring = shapely.buffer(shapely.boundary(arr), _ON_LINE_TOL_M)
    out = {"max_width_m": 2.0 * np.asarray(radius), "width_lon": np.asarray(clon), "width_lat": np.asarray(clat)}
    for key, secs in (("length_a_m", secs_a), ("length_b_m", secs_b)):
        drawn = shapely.union_all(proj.geometry_to_local(geodesic_densify(secs.geometry.values)))
        on = shapely.intersection(drawn, ring)
        on_ll = proj.geometry_to_geographic(on)
        out[key] = np.array([length_m(g) for g in on_ll], dtype=np.float64)
    rep = shapely.point_on_surface(arr)
    rlon, rlat = proj.to_geographic(shapely.get_x(rep), shapely.get_y(rep))
    near = nearest_points_on_lines(np.asarray(rlon), np.asarray(rlat), np.asarray(secs_a.geometry.values, dtype=object))
    out["section"] = secs_a["section"].to_numpy(dtype=object)[near["line_index"].to_numpy()]
    return pd.DataFrame(out, columns=cols)


def divergence(
    lines: geopandas.GeoDataFrame,
    *,
    source_a: str,
    source_b: str,
    territories: geopandas.GeoDataFrame | None = None,
    pair: Sequence[str] | None = None,
    method: str = "auto",
    connect_m: float = 5000.0,
    close_m: float = 1000.0,
    spacing_m: float = 100.0,
) -> Divergence:
    """Polygons where two sources assign ground to different parties, with their sizes.

    Parameters
    ----------
    lines
        Lines layer (schema ``LINES``).
    source_a, source_b
        Registry names of the two sources.
    territories
        Territories layer; used when both sources have territories for both
        parties of *pair* (``method="auto"`` or ``"territories"``).
    pair
        The two parties (default: the one pair of parties the two sources' lines
        separate, see :func:`borderkit.lines.line_pair`).
    method
        ``"auto"``: territories when both sources have them, else lines;
        ``"territories"`` or ``"lines"`` to force one.
    connect_m
        Lines method: the matching ends of a section drawn by both sources are
        joined by a straight segment when they are at most this far apart, so
        that the ground between the two drawings is closed at the ends.
    close_m
        Lines method: a section whose own ends are at most this far apart is
        closed into a ring (e.g. GSHHG's Yukhari Askipara outline, open by 173 m).
    spacing_m
        Sampling of the lines for the Hausdorff distances.

    Returns
    -------
    Divergence
        ``pairs`` (one row), ``parts`` (one row per polygon: ``source_a``,
        ``source_b``, ``party_a`` — the party source A gives it to — ``party_b``,
        ``area_km2``, ``max_width_m`` (diameter of the largest circle inside the
        polygon: found in the local plane, its radius measured as a WGS84
        geodesic) with ``width_lon``/``width_lat`` (its centre),
        ``length_a_m``/``length_b_m`` (geodesic length of each drawing that lies
        on the polygon's outline, within 25 m), ``section`` (nearest section of
        source A), ``note``, ``method``,
        geometry) and ``sections`` (per section: lengths, Hausdorff distance).
    """
    import geopandas as gpd

    if method not in ("auto", "territories", "lines"):
        raise ValidationError(f"method must be auto, territories or lines, got {method!r}")
    if source_a == source_b:
        raise ValidationError("source_a and source_b are the same source")
    pair = line_pair(select_lines(lines, sources=[source_a, source_b]), pair)
    p, q = pair
    secs_a = select_lines(lines, sources=[source_a], pair=pair)
    secs_b = select_lines(lines, sources=[source_b], pair=pair)
    ta = {x: _territory(territories, source_a, x) for x in (p, q)}
    tb = {x: _territory(territories, source_b, x) for x in (p, q)}
    have_t = all(v is not None for v in (*ta.values(), *tb.values()))
    if method == "territories" and not have_t:
        raise ValidationError(f"{source_a} and {source_b} do not both have {p} and {q} territories; use method='lines'")
    use = "territories" if (method == "territories" or (method == "auto" and have_t)) else "lines"
    proj = LocalProjection.from_geometries(np.asarray([*secs_a.geometry.values, *secs_b.geometry.values],
                                                      dtype=object))
    parts_local: list[Any] = []
    labels: list[tuple[str, str]] = []
    notes: list[str] = []
    if use == "territories":
        loc = {k: proj.geometry_to_local(v) for k, v in
               (("ap", ta[p]), ("aq", ta[q]), ("bp", tb[p]), ("bq", tb[q]))}
        for (x, y), inter in (((p, q), shapely.intersection(loc["ap"], loc["bq"])),
                              ((q, p), shapely.intersection(loc["aq"], loc["bp"]))):
            for part in _polys(inter):
                parts_local.append(part)
                labels.append((x, y))
        both_a = shapely.intersection(loc["ap"], loc["aq"])
        both_b = shapely.intersection(loc["bp"], loc["bq"])
        rep = shapely.point_on_surface(np.asarray(parts_local, dtype=object)) if parts_local else np.array([])
        in_a = shapely.covers(both_a, rep) if len(parts_local) else np.array([], dtype=bool)
        in_b = shapely.covers(both_b, rep) if len(parts_local) else np.array([], dtype=bool)
        for ia, ib in zip(in_a, in_b, strict=True):
            n = []
            if ia:
                n.append(f"{source_a} assigns this ground to both {p} and {q}")
            if ib:
                n.append(f"{source_b} assigns this ground to both {p} and {q}")
            notes.append("; ".join(n))
        method_text = (f"territories: {source_a}.{p} ∩ {source_b}.{q} and {source_a}.{q} ∩ {source_b}.{p}, overlaid "
                       "in a local aeqd projection; areas on the WGS84 ellipsoid")
    else:
        faces = _faces_between(proj, secs_a, secs_b, connect_m, close_m)
        if faces.size:
            rep = shapely.point_on_surface(faces)
            lon, lat = proj.to_geographic(shapely.get_x(rep), shapely.get_y(rep))
            pa = sided(np.asarray(lon), np.asarray(lat), secs_a).party
            pb = sided(np.asarray(lon), np.asarray(lat), secs_b).party
            keep = (pa != pb) & (pa != "") & (pb != "")
            for f, x, y in zip(faces[keep], pa[keep], pb[keep], strict=True):
                parts_local.append(f)
                labels.append((str(x), str(y)))
                notes.append("")
        method_text = (
            "lines: both drawings (gaps of a section <= 5 km bridged) and straight connectors between matching "
            f"section ends <= {connect_m:g} m apart polygonized in a local aeqd projection; faces the two sources put "
            "on different sides (by the side of each source's nearest section) kept; areas on the WGS84 ellipsoid"
        )
    parts_ll = list(proj.geometry_to_geographic(np.asarray(parts_local, dtype=object))) if parts_local else []
    areas = areas_km2(parts_ll)
    metrics = _part_metrics(parts_local, proj, secs_a, secs_b)
    parts = gpd.GeoDataFrame(
        {
            "source_a": source_a,
            "source_b": source_b,
            "party_a": [lab[0] for lab in labels],
            "party_b": [lab[1] for lab in labels],
            "area_km2": areas,
            "max_width_m": metrics["max_width_m"].to_numpy(dtype=np.float64) if len(metrics) else np.array([]),
            "width_lon": metrics["width_lon"].to_numpy(dtype=np.float64) if len(metrics) else np.array([]),
            "width_lat": metrics["width_lat"].to_numpy(dtype=np.float64) if len(metrics) else np.array([]),
            "length_a_m": metrics["length_a_m"].to_numpy(dtype=np.float64) if len(metrics) else np.array([]),
            "length_b_m": metrics["length_b_m"].to_numpy(dtype=np.float64) if len(metrics) else np.array([]),
            "section": metrics["section"].to_numpy(dtype=object) if len(metrics) else np.array([], dtype=object),
            "note": notes,
            "method": use,
        },
        geometry=gpd.GeoSeries(parts_ll, crs="EPSG:4326") if parts_ll else gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    parts = parts.sort_values("area_km2", ascending=False, kind="stable").reset_index(drop=True)

    # sections: lengths and Hausdorff distance per matched section, and for the whole drawing
    sec_rows = []
    names = sorted(set(secs_a["section"]) | set(secs_b["section"]))
    for sec in names:
        ga = secs_a[secs_a["section"] == sec]
        gb = secs_b[secs_b["section"] == sec]
        row: dict[str, Any] = {"source_a": source_a, "source_b": source_b, "section": sec,
                               "length_a_m": float(sum(length_m(g) for g in ga.geometry)),
                               "length_b_m": float(sum(length_m(g) for g in gb.geometry))}
        if ga.empty or gb.empty:
            row.update({"hausdorff_m": np.nan, "hausdorff_upper_m": np.nan, "mean_a_to_b_m": np.nan,
                        "mean_b_to_a_m": np.nan, "note": f"drawn only by {source_a if gb.empty else source_b}"})
        else:
            h = hausdorff_distance(list(ga.geometry), list(gb.geometry), spacing_m=spacing_m)
            row.update({"hausdorff_m": h["hausdorff_m"], "hausdorff_upper_m": h["hausdorff_upper_m"],
                        "mean_a_to_b_m": h["mean_a_to_b_m"], "mean_b_to_a_m": h["mean_b_to_a_m"], "note": ""})
        sec_rows.append(row)
    sections = _finish(pd.DataFrame(sec_rows), "section lengths: WGS84 geodesic; Hausdorff: see hausdorff_distance")
    h_all = hausdorff_distance(list(secs_a.geometry), list(secs_b.geometry), spacing_m=spacing_m)
    pq = parts[(parts["party_a"] == p) & (parts["party_b"] == q)]
    qp = parts[(parts["party_a"] == q) & (parts["party_b"] == p)]
    iw = int(parts["max_width_m"].to_numpy().argmax()) if len(parts) else -1
    pair_row = {
        "source_a": source_a,
        "source_b": source_b,
        "method": use,
        "parts": int(len(parts)),
        "area_km2": float(areas.sum()),
        f"area_a_{p}_b_{q}_km2": float(pq["area_km2"].sum()),
        f"area_a_{q}_b_{p}_km2": float(qp["area_km2"].sum()),
        "largest_part_km2": float(parts["area_km2"].max()) if len(parts) else 0.0,
        "max_width_m": float(parts["max_width_m"].iloc[iw]) if iw >= 0 else 0.0,
        "max_width_lon": float(parts["width_lon"].iloc[iw]) if iw >= 0 else np.nan,
        "max_width_lat": float(parts["width_lat"].iloc[iw]) if iw >= 0 else np.nan,
        "length_a_m": float(sum(length_m(g) for g in secs_a.geometry)),
        "length_b_m": float(sum(length_m(g) for g in secs_b.geometry)),
        "hausdorff_m": h_all["hausdorff_m"],
        "hausdorff_upper_m": h_all["hausdorff_upper_m"],
        "hausdorff_from_lon": h_all["from_lon"],
        "hausdorff_from_lat": h_all["from_lat"],
        "hausdorff_from": source_a if h_all["direction"] == "a->b" else source_b,
        "mean_a_to_b_m": h_all["mean_a_to_b_m"],
        "mean_b_to_a_m": h_all["mean_b_to_a_m"],
        "method_text": method_text,
    }
    pairs = _finish(pd.DataFrame([pair_row]), method_text)
    return Divergence(pairs, _finish(parts, method_text), sections)


def divergence_table(
    lines: geopandas.GeoDataFrame,
    *,
    territories: geopandas.GeoDataFrame | None = None,
    sources: Iterable[str] | None = None,
    pair: Sequence[str] | None = None,
    method: str = "auto",
    spacing_m: float = 100.0,
) -> Divergence:
    """:func:`divergence` for every pair of sources (sorted by name), concatenated.

    Parameters
    ----------
    lines, territories, pair, method, spacing_m
        As in :func:`divergence`.
    sources
        The sources to compare (default: every source with lines between *pair*).
        Two sources give one pair; four give six.
    """
    import geopandas as gpd

    pair = line_pair(select_lines(lines, sources=sources), pair)
    sel = select_lines(lines, sources=sources, pair=pair)
    names = sorted(set(sel["source"]))
    if len(names) < 2:
        raise ValidationError(f"need at least two line sources to compare, got {names}")
    results = [divergence(lines, source_a=a, source_b=b, territories=territories, pair=pair, method=method,
                          spacing_m=spacing_m) for a, b in itertools.combinations(names, 2)]
    pairs = pd.concat([r.pairs for r in results], ignore_index=True)
    parts = pd.concat([r.parts for r in results], ignore_index=True)
    parts = gpd.GeoDataFrame(parts, geometry="geometry", crs="EPSG:4326")
    sections = pd.concat([r.sections for r in results], ignore_index=True)
    m = "divergence between every pair of sources; see divergence()"
    return Divergence(_finish(pairs, m), _finish(parts, m), _finish(sections, m))


# =================================================================================================
# overlaps inside one source
# =================================================================================================
def territory_overlaps(
    territories: geopandas.GeoDataFrame,
    *,
    lines: geopandas.GeoDataFrame | None = None,
    sources: Iterable[str] | None = None,
    parties: Sequence[str] | None = None,
    min_area_km2: float = 0.0,
) -> geopandas.GeoDataFrame:
    """Ground one source assigns to two parties at once (exclaves drawn twice), one row per polygon.

    Parameters
    ----------
    territories
        Territories layer (one row per party per source).
    lines
        Lines layer: when given, each polygon is labelled with the nearest
        section of that source's line (e.g. ``exclave:artsvashen``).
    sources
        Sources to examine (default: all with territories).
    parties
        Only pairs of these parties (default: every pair in the source).
    min_area_km2
        Drop polygons smaller than this.

    Returns
    -------
    geopandas.GeoDataFrame
        ``source``, ``party_a``, ``party_b``, ``area_km2`` (WGS84 ellipsoid),
        ``lon``, ``lat`` (a point inside), ``section`` (nearest line section, or
        ``""``), ``method``, geometry (EPSG:4326). Overlaps are data, not errors:
        reported, never removed.
    """
    import geopandas as gpd

    t = territories
    if sources is not None:
        wanted = [sources] if isinstance(sources, str) else list(sources)
        unknown = sorted(set(wanted) - set(t["source"]))
        if unknown:
            raise ValidationError(f"unknown territory source(s) {unknown}; available: {sorted(set(t['source']))}")
        t = t[t["source"].isin(wanted)]
    if parties is not None:
        t = t[t["party"].isin(list(parties))]
    rows = []
    for src, group in t.groupby("source", sort=True):
        group = group.sort_values("party")
        geoms = np.asarray(group.geometry.values, dtype=object)
        proj = LocalProjection.from_geometries(geoms)
        local = proj.geometry_to_local(geoms)
        parties_s = list(group["party"])
        sec_lines = None
        if lines is not None and (lines["source"] == src).any():
            sec_lines = lines[lines["source"] == src]
        for i, j in itertools.combinations(range(len(parties_s)), 2):
            inter = shapely.intersection(local[i], local[j])
            polys = _polys(inter)
            if not polys:
                continue
            ll = list(proj.geometry_to_geographic(np.asarray(polys, dtype=object)))
            rep = shapely.point_on_surface(np.asarray(ll, dtype=object))
            if sec_lines is not None:
                sections = sec_lines["section"].to_numpy(dtype=object)[
                    nearest_points_on_lines(shapely.get_x(rep), shapely.get_y(rep),
                                            np.asarray(sec_lines.geometry.values, dtype=object))["line_index"]
                    .to_numpy()]
            else:
                sections = np.full(len(ll), "", dtype=object)
            for g, r, sec in zip(ll, rep, sections, strict=True):
                a = area_km2(g)
                if a < min_area_km2 or a <= 0:
                    continue
                rows.append({"source": src, "party_a": parties_s[i], "party_b": parties_s[j], "area_km2": a,
                             "lon": float(r.x), "lat": float(r.y), "section": str(sec), "geometry": g})
    method = ("intersection of two parties' territories of one source in a local aeqd projection, areas on the "
              "WGS84 ellipsoid; section = nearest section of the source's line to a point inside")
    out = gpd.GeoDataFrame(rows, columns=["source", "party_a", "party_b", "area_km2", "lon", "lat", "section",
                                          "geometry"], geometry="geometry", crs="EPSG:4326")
    out = out.sort_values(["source", "party_a", "party_b", "area_km2"], ascending=[True, True, True, False],
                          kind="stable").reset_index(drop=True)
    out["method"] = method
    return _finish(out, method)
