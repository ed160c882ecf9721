"""Which party's side of each line source a point is on, how far, and how sure.

:func:`locate` answers, for every point and every line source: the party whose
ground the point is on (from the source's territory polygons where it has them,
else from the side of its line), the geodesic distance to the line, a signed
distance, the nearest point of the line, and whether the answer is
*determinate* given the point's location uncertainty and the line's accuracy.
:func:`check` adds a verdict against the party a point is *reported* in
(``inside`` / ``across`` / ``indeterminate``) and :func:`summarize` tells, per
point, where the sources disagree. The contract (columns, sign convention,
verdict rules) is documented in ``docs/check.md``.

Conventions
-----------
* Points are ``(lon, lat)`` degrees on WGS84 (EPSG:4326). Distances are metres on
  the WGS84 ellipsoid; nothing here takes or returns degrees as a distance.
* ``signed_distance_m`` is positive when the point is on the **sign reference
  party's** side of the line (``sign_reference``: the ``expect`` party in
  :func:`check`, else ``reference_party``, else the alphabetically first party
  of the source's line, ``ARM`` for the bundled ARM|AZE lines), negative on the
  other side, 0 on the line. Swapping a line's ``left_party``/``right_party``
  flips the sign.
* Combined uncertainty ``uncertainty_m = precision_m + line_accuracy_m``
  (``combine="sum"``, default: both are bounds, the worst case adds) or
  ``sqrt(precision_m**2 + line_accuracy_m**2)`` (``combine="rss"``: independent
  errors). ``margin_m = distance_to_line_m - uncertainty_m``;
  ``determinate = margin_m > 0`` and the party is one party (not null, not an
  overlap).

Methods
-------
``"fast"`` (default when numba is installed)
    Compiled kernels (:mod:`borderkit._fastgeo`): nearest point on the line's
    segments through a grid index with proven bounds; distance from the 3-D chord
    with the ellipsoid's curvature (3.6 µm from ``pyproj.Geod`` at 200 km, 0.1 mm at
    400 km; distances beyond 400 km are recomputed with ``pyproj.Geod``); segments are
    cut into geodesic pieces of at most 1 km and modelled as great-ellipse arcs:
    measured ≤ 0.1 mm from the exact engine on the bundled lines. Territories:
    crossing number on a grid (the same answers as shapely ``contains_xy``).
``"exact"``
    The geodesic engine of :mod:`borderkit.geodesy` (geodesic segments, ≤ 1 µm)
    and shapely ``contains_xy`` for territories.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from borderkit.errors import OptionalDependencyError, ValidationError

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: one point (the CLI) never needs it
    import pandas as pd

__all__ = [
    "locate",
    "check",
    "summarize",
    "check_table",
    "check_file",
    "precision_of",
    "resolve_method",
    "locate_point",
    "CheckResult",
    "PointAnswer",
    "FileCheck",
    "FileBlocks",
    "CheckedBlock",
    "checked_table",
    "check_file_blocks",
    "LineModel",
    "prepare",
    "case_line_models",
    "RESULT_COLUMNS",
    "SUMMARY_COLUMNS",
    "VERDICTS",
    "NOT_NEAR",
]

NOT_NEAR = "not near this line"
"""Verdict of a point for which the checked line is not the relevant border: another international
border of the source is nearer than this line, or the point lies beyond an open end of the line
(see ``docs/check.md``)."""

VERDICTS = ("inside", "across", "indeterminate", NOT_NEAR)
"""Values of ``verdict``."""

RESULT_COLUMNS = (
    "point",
    "source",
    "party",
    "overlap",
    "party_method",
    "line_party",
    "section",
    "distance_to_line_m",
    "signed_distance_m",
    "sign_reference",
    "nearest_lon",
    "nearest_lat",
    "precision_m",
    "line_accuracy_m",
    "uncertainty_m",
    "margin_m",
    "determinate",
    "near_line",
    "beyond_line_end",
    "other_border",
    "other_border_distance_m",
    "method",
)
"""Columns of :func:`locate`, in order (:func:`check` adds ``expect`` and ``verdict``)."""

SUMMARY_COLUMNS = (
    "point",
    "sources",
    "parties",
    "sources_agree",
    "determinate_all",
    "min_margin_m",
)
"""Columns of :func:`summarize` (with ``expect``: also ``expect``, ``verdict``, ``n_inside``,
``n_across``, ``n_indeterminate``)."""

MAX_PIECE_M = 1_000.0
"""The fast engine cuts longer segments into geodesic pieces of at most this length (metres)."""
_PARTY_RE = re.compile(r"^[A-Z]{3}$")
_ON_LINE_M = 1e-6
_END_M = 1e-3  # a nearest point within 1 mm of an open end of the line is that end
_END_LAT_DEG = 1e-6  # degrees of latitude: ~0.11 m of meridian arc, far above _END_M
_DEFAULT_CHUNK = 1_000_000
_METHOD_TEXT = {
    "fast": (
        "fast: nearest point on the line's segments (great-ellipse arcs between vertices) through a grid index "
        "with proven bounds; geodesic distance on WGS84 from the 3-D chord and the ellipsoid's curvature "
        "(pyproj.Geod beyond 400 km); side of the line at the nearest point (pseudo-normal at vertices); "
        "territories by crossing number (edges straight in lon/lat, as GEOS)"
    ),
    "exact": (
        "exact: nearest point on WGS84 geodesic segments (borderkit.geodesy, <= 1 µm), distance by "
        "pyproj.Geod; side of the line at the nearest point (pseudo-normal at vertices); territories by "
        "shapely contains_xy (edges straight in lon/lat)"
    ),
}


# =================================================================================================
# line sources
# =================================================================================================
@dataclass
class LineModel:
    """One line source prepared for queries (internal; built by :func:`prepare`).

    Attributes
    ----------
    source
        Registry name of the source.
    sections
        Section name of each line row.
    left_party, right_party
        Party codes of each line row.
    accuracy_m
        ``scale_or_accuracy_m`` of each line row.
    reference
        Default sign reference: the alphabetically first party of the line.
    territory_parties
        Party of each territory polygon (empty when the source has none).
    others
        The outlines of the source's territories of third parties (parties other than
        the line's), as a line model whose ``left_party`` names the party: the source's
        other international borders, for the ``near_line`` test. None when the source has
        no third-party territory.
    third_bits
        Bit mask of the third-party territories among ``territory_parties``.
    terminal_a, terminal_b
        Per segment: its first (last) vertex is a real end of the line (:func:`_terminal_ends`).
    """

    source: str
    sections: np.ndarray
    left_party: np.ndarray
    right_party: np.ndarray
    accuracy_m: np.ndarray
    reference: str
    segs: Any = field(repr=False)
    territory_geoms: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, dtype=object))
    territory_parties: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    others: LineModel | None = field(default=None, repr=False)
    third_bits: int = 0
    terminal_a: np.ndarray | None = field(default=None, repr=False)
    terminal_b: np.ndarray | None = field(default=None, repr=False)
    cache: tuple[str, str] | None = field(default=None, repr=False)
    """(name, key) under which this model's fast indexes are cached on disk (:mod:`borderkit.indexcache`);
    set for the models of a bundled case, None otherwise (nothing cached)."""
    _line_index: dict[int, Any] = field(default_factory=dict, repr=False)
    _poly_index: Any = field(default=None, repr=False)

    def _cached_index(self, what: str, cls: type, build: Any) -> Any:
        """The index *what* from the disk cache, else built (and stored) by *build*."""
        if self.cache is None:
            return build()
        from borderkit._fastgeo import index_arrays, index_from_arrays
        from borderkit.indexcache import load_arrays, save_arrays

        name, key = f"{self.cache[0]}-{what}", self.cache[1]
        try:
            arrays = load_arrays(name, key)
        except ValueError:  # a name the cache cannot hold: no caching
            return build()
        if arrays is not None:
            try:
                return index_from_arrays(cls, arrays)
            except (TypeError, ValueError):
                pass  # not an index this code wrote: rebuilt below
        idx = build()
        try:
            save_arrays(name, key, index_arrays(idx))
        except ValueError:  # pragma: no cover - an index holding Python objects is not cached
            pass
        return idx

    @property
    def has_territories(self) -> bool:
        return self.territory_parties.size > 0

    def line_index(self, n_points: int) -> Any:
        from borderkit._fastgeo import LineIndex

        # the grid only changes speed, never the answer: small queries get a small grid
        cells = 1024 if n_points < 20_000 else 16_384
        idx = self._line_index.get(cells)
        if idx is None:

            def build() -> Any:
                p = self.pieces()
                built = LineIndex(p["a_lon"], p["a_lat"], p["b_lon"], p["b_lat"], p["length"], p["part"],
                                  p["prev"], p["next"], max_cells=cells)
                built.piece_segment = p["segment"]
                return built

            idx = self._cached_index(f"lines{cells}", LineIndex, build)
            self._line_index[cells] = idx
        return idx

    def pieces(self) -> dict[str, np.ndarray]:
        """The segments split into geodesic pieces of at most :data:`MAX_PIECE_M` (for the fast index).

        The fast engine models a segment as the great-ellipse arc between its ends, which
        departs from the WGS84 geodesic by about 1.6 mm for 5 km (growing as the square of
        the length: 13 cm at 45 km). Long segments are therefore cut at points of their
        geodesic (``pyproj.Geod.fwd``); 1 km pieces follow the geodesic to ~0.1 mm.
        """
        from borderkit.geodesy import GEOD

        s = self.segs
        n = s.length.size
        k = np.maximum(1, np.ceil(s.length / MAX_PIECE_M)).astype(np.int64)
        off = np.r_[0, np.cumsum(k)[:-1]]
        m = int(k.sum())
        seg = np.repeat(np.arange(n), k)
        j = np.arange(m) - off[seg]
        frac_b = (j + 1) / k[seg]
        a_lon = s.a_lon[seg].copy()
        a_lat = s.a_lat[seg].copy()
        b_lon = s.b_lon[seg].copy()
        b_lat = s.b_lat[seg].copy()
        inner_a = j > 0
        inner_b = j < k[seg] - 1
        if inner_b.any():  # each cut point once: the end of piece j is the start of piece j + 1
            x, y, _ = GEOD.fwd(s.a_lon[seg][inner_b], s.a_lat[seg][inner_b], s.az_a[seg][inner_b],
                               s.length[seg][inner_b] * frac_b[inner_b])
            b_lon[inner_b], b_lat[inner_b] = x, y
            ia = np.flatnonzero(inner_a)
            a_lon[ia], a_lat[ia] = b_lon[ia - 1], b_lat[ia - 1]
        first = off
        last = off + k - 1
        prev = np.where(j > 0, np.arange(m) - 1, -1)
        nxt = np.where(j < k[seg] - 1, np.arange(m) + 1, -1)
        has_prev = s.prev >= 0
        prev[first[has_prev]] = last[s.prev[has_prev]]
        has_next = s.next >= 0
        nxt[last[has_next]] = first[s.next[has_next]]
        return {
            "a_lon": a_lon, "a_lat": a_lat, "b_lon": b_lon, "b_lat": b_lat,
            "length": s.length[seg] / k[seg], "part": s.part_global[seg], "prev": prev, "next": nxt,
            "segment": seg,
        }

    def polygon_index(self) -> Any:
        from borderkit._fastgeo import PolygonIndex

        if self._poly_index is None:
            self._poly_index = self._cached_index("polygons", PolygonIndex,
                                                  lambda: PolygonIndex(self.territory_geoms))
        return self._poly_index


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _check_party(code: str, what: str) -> str:
    if not _PARTY_RE.match(code):
        raise ValidationError(f"{what}: {code!r} is not an ISO 3166 alpha-3 party code (e.g. 'ARM', 'AZE')")
    return code


def prepare(lines: Any = None, territories: Any = None, *, sources: Any = None, case: Any = None) -> list[LineModel]:
    """Line sources ready for :func:`locate` (to reuse them over many calls).

    Parameters
    ----------
    lines
        A lines GeoDataFrame (schema ``LINES``: ``source``, ``left_party``,
        ``right_party``, ``scale_or_accuracy_m``, ``section``, geometry), e.g. a
        user's own line read with :func:`borderkit.io.read_lines`; None: the lines
        of *case*.
    territories
        A territories GeoDataFrame (``source``, ``party``, geometry) for *lines*;
        None or False: none (the sides of the lines name the parties). The
        territories of *case* always come with the case's lines.
    sources
        Registry names to keep (a name or a list); None keeps all.
    case
        A case whose lines and territories are checked as well: a bundled case name, or a
        loaded case (e.g. ``borderkit.cases.load(NAME_OR_DIR)`` for a user case or a case
        folder; see :func:`case_line_models`). None: the bundled case
        (:data:`borderkit.registry.DEFAULT_CASE`) when *lines* is None, else no case
        (only *lines*). Prepared cases are kept in memory (keyed by name or folder), so
        repeated calls do not rebuild them.

    Raises
    ------
    borderkit.errors.ValidationError
        Bad lines or territories, unknown *sources*, or a source of *lines* that is also
        a source of *case* (rename it).
    """
    from borderkit.registry import DEFAULT_CASE

    if lines is None and case is None:
        case = DEFAULT_CASE
    case_models: list[LineModel] = list(case_line_models(case)) if case is not None else []
    own: list[LineModel] = []
    if lines is not None:
        own = _build_models(lines, None if territories is False else territories, None)
        clash = sorted({m.source for m in own} & {m.source for m in case_models})
        if clash:
            raise ValidationError(
                f"lines: source(s) {', '.join(map(repr, clash))} are also line sources of the case; "
                "give your lines another source name (column 'source', or --source-name)"
            )
    models = sorted(case_models + own, key=lambda m: m.source)
    available = [m.source for m in models]
    return [m for m in models if _wanted(m.source, sources, available)]


def _wanted(name: str, sources: Any, available: list[str]) -> bool:
    if sources is None:
        return True
    wanted = [sources] if isinstance(sources, str) else list(sources)
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise ValidationError(
            f"sources: unknown line source(s) {', '.join(map(repr, unknown))}; available: {', '.join(available)}"
        )
    return name in wanted


def case_line_models(case: Any) -> tuple[LineModel, ...]:
    """The prepared line sources (lines and territories) of a case, cached per case.

    *case* is a bundled case's registry name (its lines and territories are read after their
    sha256 is checked; the other layers are not read), or a loaded case: any object with
    ``lines`` and ``territories`` GeoDataFrames, such as :class:`borderkit.cases.Case` (from
    ``borderkit.cases.load(NAME_OR_DIR)`` — loading is the caller's: locate sits below cases).
    A loaded case is prepared once while its ``lines`` object lives.
    """
    if hasattr(case, "lines"):
        key = id(case.lines)
        hit = _LOADED.get(key)
        if hit is not None and hit[0]() is case.lines:
            return hit[1]
        models = tuple(_build_models(case.lines, getattr(case, "territories", None), None))
        try:
            _LOADED[key] = (weakref.ref(case.lines), models)
            weakref.finalize(case.lines, _LOADED.pop, key, None)
        except TypeError:  # pragma: no cover - an object without weak references is just not cached
            pass
        return models
    from borderkit.registry import names

    if not isinstance(case, str) or case not in names():
        raise ValidationError(
            f"case: {case!r} is not a bundled case ({', '.join(names())}); load a user case or case folder "
            "with borderkit.cases.load(NAME_OR_DIR) and pass it"
        )
    return _case_models(case)


_LOADED: dict[int, tuple[Any, tuple[LineModel, ...]]] = {}


@cache
def _case_models(name: str) -> tuple[LineModel, ...]:
    """Lines and territories of a bundled case (hashes verified), prepared.

    The prepared models are cached on disk (:mod:`borderkit.indexcache`, keyed by
    :func:`case_cache_key`), so a new process (one ``borderkit check --lat --lon``) reads a
    few numpy arrays instead of two GeoPackages through GDAL and geopandas. The files are
    verified against the registry on every call, with or without the cache.
    """
    from borderkit import registry
    from borderkit.indexcache import load_arrays, save_arrays

    paths = registry.verify(name)  # a changed file is a registry error (exit 3) whatever the cache holds
    key = case_cache_key(name)
    models: tuple[LineModel, ...] | None = None
    cached = load_arrays(f"case-{name}", key)
    if cached is not None:
        try:
            models = models_from_arrays(cached)
        except (KeyError, ValueError, TypeError, IndexError):
            pass  # the right key but not the content this code writes: rebuilt and overwritten below
    if models is None:
        from borderkit.io import read_layer

        lines, territories = read_layer(paths["lines"], "lines"), read_layer(paths["territories"], "territories")
        models = tuple(_build_models(lines, territories, None))
        try:
            save_arrays(f"case-{name}", key, models_to_arrays(models))
        except ValueError:  # pragma: no cover - a model holding Python objects is simply not cached
            pass
    for i, m in enumerate(models):  # their fast indexes are cached too, each when first built
        m.cache = (f"case-{name}-m{i}", key)
        if m.others is not None:
            m.others.cache = (f"case-{name}-m{i}-others", key)
    return models


_CACHE_FORMAT = 1
"""Bumped when the layout of :func:`models_to_arrays` changes."""


def case_cache_key(name: str) -> str:
    """sha256 (hex) of what a bundled case's prepared models depend on.

    The registry entries (path, sha256, size) of the case's ``lines`` and ``territories``,
    the borderkit version, the cache layout and the source text of the modules that build
    the models and their fast indexes (this module, :mod:`borderkit.geodesy`, :mod:`borderkit.lines`,
    ``borderkit._fastgeo``), so an edited checkout never reads models built by other code.
    """
    import hashlib
    import json
    from pathlib import Path

    from borderkit import registry
    from borderkit._version import __version__

    files = registry.dataset_entry(name)["files"]
    h = hashlib.sha256()
    h.update(json.dumps({"case": name, "lines": files["lines"], "territories": files["territories"],
                         "version": __version__, "format": _CACHE_FORMAT}, sort_keys=True).encode())
    # the source files, read as bytes (importing _fastgeo would load numba on the one-point path)
    for module in ("locate.py", "geodesy.py", "lines.py", "_fastgeo.py"):
        h.update(Path(__file__).with_name(module).read_bytes())
    return h.hexdigest()


def models_to_arrays(models: tuple[LineModel, ...] | list[LineModel]) -> dict[str, np.ndarray]:
    """Prepared line models as plain numpy arrays (no Python objects), for :mod:`borderkit.indexcache`.

    Strings become unicode arrays, territory polygons WKB bytes (one ``uint8`` buffer and
    offsets), a model's other borders a nested prefix. :func:`models_from_arrays` inverts it.

    Raises
    ------
    ValueError
        A model holds values that are not plain numbers or strings.
    """
    out: dict[str, np.ndarray] = {"n_models": np.array(len(models), dtype=np.int64)}
    for i, m in enumerate(models):
        _model_to_arrays(m, f"m{i}.", out)
    return out


def _model_to_arrays(m: LineModel, prefix: str, out: dict[str, np.ndarray]) -> None:
    import dataclasses

    import shapely

    out[prefix + "source"] = np.array(m.source)
    out[prefix + "reference"] = np.array(m.reference)
    out[prefix + "third_bits"] = np.array(m.third_bits, dtype=np.uint64)
    for f in ("sections", "left_party", "right_party", "territory_parties"):
        out[prefix + f] = np.asarray(getattr(m, f), dtype=str)
    out[prefix + "accuracy_m"] = np.asarray(m.accuracy_m, dtype=np.float64)
    for f in ("terminal_a", "terminal_b"):
        if getattr(m, f) is not None:
            out[prefix + f] = np.asarray(getattr(m, f), dtype=bool)
    for fld in dataclasses.fields(m.segs):
        v = np.asarray(getattr(m.segs, fld.name))
        if v.dtype == object:  # line labels: positional integers (or names) as objects
            v = np.asarray(v.tolist())
            if v.dtype == object or v.dtype.kind not in "iufU":
                raise ValueError(f"segments.{fld.name}: not plain numbers or strings")
        out[prefix + "segs." + fld.name] = v
    wkb = shapely.to_wkb(m.territory_geoms) if m.territory_geoms.size else np.empty(0, dtype=object)
    sizes = np.array([len(b) for b in wkb], dtype=np.int64)  # a loop over territory rows (<= 64)
    out[prefix + "wkb"] = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    out[prefix + "wkb_offsets"] = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    if m.others is not None:
        _model_to_arrays(m.others, prefix + "others.", out)


def models_from_arrays(arrays: dict[str, np.ndarray]) -> tuple[LineModel, ...]:
    """The line models stored by :func:`models_to_arrays`.

    Raises
    ------
    KeyError, ValueError, TypeError
        The arrays are not such a set (the caller rebuilds the models).
    """
    n = int(arrays["n_models"])
    return tuple(_model_from_arrays(arrays, f"m{i}.") for i in range(n))


def _model_from_arrays(a: dict[str, np.ndarray], prefix: str) -> LineModel:
    import dataclasses

    import shapely

    from borderkit.geodesy import LineSegments

    segs_kw = {}
    for fld in dataclasses.fields(LineSegments):
        v = a[prefix + "segs." + fld.name]
        segs_kw[fld.name] = v.astype(object) if fld.name == "labels" else v
    buf, off = a[prefix + "wkb"].tobytes(), a[prefix + "wkb_offsets"]
    wkb = np.array([buf[off[k]:off[k + 1]] for k in range(off.size - 1)], dtype=object)
    geoms = shapely.from_wkb(wkb) if wkb.size else np.empty(0, dtype=object)
    others = _model_from_arrays(a, prefix + "others.") if prefix + "others.source" in a else None
    parties = a[prefix + "territory_parties"].astype(object)
    if geoms.size != parties.size:
        raise ValueError("territories: geometries and parties differ in number")
    return LineModel(
        source=str(a[prefix + "source"]),
        sections=a[prefix + "sections"].astype(object),
        left_party=a[prefix + "left_party"].astype(object),
        right_party=a[prefix + "right_party"].astype(object),
        accuracy_m=a[prefix + "accuracy_m"],
        reference=str(a[prefix + "reference"]),
        segs=LineSegments(**segs_kw),
        territory_geoms=np.asarray(geoms, dtype=object),
        territory_parties=parties,
        others=others,
        third_bits=int(a[prefix + "third_bits"]),
        terminal_a=a.get(prefix + "terminal_a"),
        terminal_b=a.get(prefix + "terminal_b"),
    )


def _build_models(lines: Any, territories: Any, sources: Any) -> list[LineModel]:
    import geopandas as gpd
    import pandas as pd

    from borderkit.geodesy import line_segments

    if not isinstance(lines, gpd.GeoDataFrame):
        raise ValidationError(f"lines: expected a GeoDataFrame with the LINES columns, got {type(lines).__name__}")
    missing = [c for c in ("source", "left_party", "right_party") if c not in lines.columns]
    if missing:
        raise ValidationError(
            f"lines: missing column(s) {', '.join(missing)}; read the file with borderkit.read_lines "
            "or add them (see borderkit.schema.LINES)"
        )
    lines = _to_wgs84(lines, "lines")
    names = sorted({_text(v) for v in lines["source"]})
    if "" in names:
        raise ValidationError("lines: some rows have an empty 'source'; name the source of every line")
    if territories is not None:
        if not isinstance(territories, gpd.GeoDataFrame) or not {"source", "party"} <= set(territories.columns):
            raise ValidationError("territories: expected a GeoDataFrame with columns 'source', 'party' and geometry")
        territories = _to_wgs84(territories, "territories")
    models = []
    for name in names:
        if not _wanted(name, sources, names):
            continue
        rows = lines[lines["source"].map(_text) == name]
        rows = rows[~(rows.geometry.isna() | rows.geometry.is_empty)]
        if len(rows) == 0:
            continue
        left = np.array(
            [_check_party(_text(v), f"lines {name!r} left_party") for v in rows["left_party"]], dtype=object
        )
        right = np.array(
            [_check_party(_text(v), f"lines {name!r} right_party") for v in rows["right_party"]], dtype=object
        )
        acc = (
            pd.to_numeric(rows["scale_or_accuracy_m"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
            if "scale_or_accuracy_m" in rows.columns
            else np.zeros(len(rows))
        )
        if (acc < 0).any():
            raise ValidationError(f"lines {name!r}: scale_or_accuracy_m must be >= 0 metres")
        sections = (
            np.array([_text(v) for v in rows["section"]], dtype=object)
            if "section" in rows.columns
            else np.full(len(rows), "", dtype=object)
        )
        segs = line_segments(rows.geometry.reset_index(drop=True), f"lines {name!r}")
        tg = np.empty(0, dtype=object)
        tp = np.empty(0, dtype=object)
        if territories is not None:
            trows = territories[territories["source"].map(_text) == name]
            trows = trows[~(trows.geometry.isna() | trows.geometry.is_empty)]
            if len(trows) > 64:
                raise ValidationError(f"territories {name!r}: at most 64 territory rows per source")
            tg = np.asarray(trows.geometry.values, dtype=object)
            tp = np.array([_check_party(_text(v), f"territories {name!r} party") for v in trows["party"]], dtype=object)
        others, third_bits = _other_borders(name, tg, tp, set(left) | set(right))
        terminal_a, terminal_b = _terminal_ends(segs)
        models.append(
            LineModel(
                source=name,
                sections=sections,
                left_party=left,
                right_party=right,
                accuracy_m=acc,
                reference=sorted(set(left) | set(right))[0],
                segs=segs,
                territory_geoms=tg,
                territory_parties=tp,
                others=others,
                third_bits=third_bits,
                terminal_a=terminal_a,
                terminal_b=terminal_b,
            )
        )
    if not models:
        raise ValidationError("lines: no line geometry to check against")
    return models


def _terminal_ends(segs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Which segment ends are real ends of a source's line (per segment: at A, at B).

    An end of an open part is a real end (a tripoint, where the line stops separating the
    two parties) unless another open end of the source (a last vertex to a
    first vertex) lies within :data:`borderkit.measure.BRIDGE_GAPS_M` (5 km): such a gap (OSM's line is interrupted
    where it crosses water, e.g. 1.9 km across Sev Lake) is bridged, as in
    :mod:`borderkit.measure`. The two ends of one part count as such a gap only when the
    gap is shorter than a third of the part (an outline left open, not a short piece).
    """
    from borderkit.geodesy import GEOD
    from borderkit.lines import BRIDGE_GAPS_M

    ia = np.flatnonzero(segs.prev < 0)
    ib = np.flatnonzero(segs.next < 0)
    lon = np.r_[segs.a_lon[ia], segs.b_lon[ib]]
    lat = np.r_[segs.a_lat[ia], segs.b_lat[ib]]
    part = np.r_[segs.part_global[ia], segs.part_global[ib]]
    part_length = np.bincount(segs.part_global, weights=segs.length)
    k = lon.size
    real = np.ones(k, dtype=bool)
    if k > 1:  # a handful of ends: all pairs
        i, j = np.triu_indices(k, 1)
        _, _, d = GEOD.inv(lon[i], lat[i], lon[j], lat[j])
        d = np.asarray(d)
        # the two ends of one part bridge only when it is an outline left open by a short gap
        # (GSHHG's Yukhari Askipara exclave), not a short piece of line
        same = part[i] == part[j]
        is_a = np.arange(k) < ia.size
        start_to_end = is_a[i] != is_a[j]  # a gap runs from the end of one part to the start of another
        close = (d <= BRIDGE_GAPS_M) & start_to_end & (~same | (d < part_length[part[i]] / 3))
        real[i[close]] = False
        real[j[close]] = False
    ta = np.zeros(segs.prev.size, dtype=bool)
    tb = np.zeros(segs.next.size, dtype=bool)
    ta[ia] = real[: ia.size]
    tb[ib] = real[ia.size:]
    return ta, tb


def _other_borders(name: str, geoms: np.ndarray, parties: np.ndarray, line_parties: set[str]) -> tuple[Any, int]:
    """The outlines of a source's third-party territories as a line model, and their bit mask.

    A third party's territory touches the line's parties along their other international
    borders (ARM-GEO, AZE-IRN ...), so the geodesic distance to its outline is the distance
    to the nearest other border of the source (0 inside it). Outlines clipped to the case
    region also have clip edges; those lie beyond the third party, never nearer to the
    line's parties than its real border.
    """
    import shapely

    from borderkit.geodesy import line_segments

    third = np.array([p not in line_parties for p in parties], dtype=bool)
    if not third.any():
        return None, 0
    outline = shapely.boundary(geoms[third])
    party = parties[third]
    bits = sum(1 << int(k) for k in np.flatnonzero(third))
    model = LineModel(
        source=name,
        sections=party.copy(),
        left_party=party.copy(),
        right_party=party.copy(),
        accuracy_m=np.zeros(party.size),
        reference=str(party[0]),
        segs=line_segments(outline, f"territories {name!r} outlines"),
    )
    return model, bits


def _to_wgs84(gdf: Any, what: str) -> Any:
    from borderkit._projection import is_wgs84_geographic

    if gdf.crs is None:
        return gdf  # taken as EPSG:4326, like the readers do for CSV
    if not is_wgs84_geographic(gdf.crs):
        return gdf.to_crs(4326)
    return gdf


# =================================================================================================
# points
# =================================================================================================
class _Points(NamedTuple):
    lon: np.ndarray
    lat: np.ndarray
    precision: np.ndarray


def _as_points(points: Any, precision_m: Any) -> _Points:
    """lon, lat (degrees) and precision_m (metres, NaN -> 0) of the input points."""
    from borderkit._projection import check_lat, check_lon

    column_precision = None
    if isinstance(points, tuple) and len(points) == 2:
        lon, lat = points
    else:
        try:
            import geopandas as gpd
        except ImportError:  # pragma: no cover
            gpd = None
        if gpd is not None and isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
            if isinstance(points, gpd.GeoDataFrame) and "precision_m" in points.columns:
                column_precision = points["precision_m"]
            geoms = _to_wgs84(points if isinstance(points, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=points),
                              "points").geometry
            lon, lat = _xy(np.asarray(geoms.values, dtype=object))
        else:
            arr = np.asarray(points)
            if arr.dtype == object:
                lon, lat = _xy(arr.ravel())
            elif arr.ndim == 2 and arr.shape[1] == 2:
                lon, lat = arr[:, 0], arr[:, 1]
            else:
                raise ValidationError(
                    "points: expected a GeoDataFrame/GeoSeries of points, shapely Points, a (lon, lat) tuple of "
                    "arrays or an (n, 2) array of lon, lat degrees"
                )
    lon = np.atleast_1d(check_lon(lon, "points longitude")).astype(np.float64).ravel()
    lat = np.atleast_1d(check_lat(lat, "points latitude")).astype(np.float64).ravel()
    if lon.shape != lat.shape:
        raise ValidationError(f"points: {lon.size} longitudes but {lat.size} latitudes")
    if precision_m is None:
        precision_m = column_precision
    if precision_m is None:
        prec = np.zeros(lon.size)
    else:
        if isinstance(precision_m, int | float | np.integer | np.floating) and not isinstance(precision_m, bool):
            # a plain number (the CLI's --precision-m): no pandas needed to read it
            prec = np.full(lon.size, float(precision_m))
        elif isinstance(precision_m, np.ndarray) and precision_m.dtype.kind == "f":
            # already numbers (check_arrays' precisions): no object array and pandas parse of them
            prec = np.broadcast_to(precision_m.astype(np.float64, copy=False), lon.shape)
        else:
            import pandas as pd

            try:
                prec = np.asarray(pd.to_numeric(pd.Series(np.broadcast_to(np.asarray(precision_m, dtype=object),
                                                                          lon.shape)), errors="raise"),
                                  dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"precision_m: expected metres as numbers ({exc})") from exc
        prec = _checked_precision(prec)
    return _Points(lon, lat, prec)


def _checked_precision(prec: np.ndarray) -> np.ndarray:
    """Precisions (metres, float64) with NaN as 0 (a new array), or ValidationError for a negative or
    infinite one."""
    prec = np.where(np.isnan(prec), 0.0, prec)
    bad = ~np.isfinite(prec) | (prec < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"precision_m: must be a finite number of metres >= 0; {int(bad.sum())} value(s), first at "
            f"point {i}: {prec[i]!r}"
        )
    return prec


def _xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    try:
        types = shapely.get_type_id(geoms)  # -1 for None
    except TypeError:
        types = None
    if types is None or (types < 0).any():  # error path only: find the first item that is not a geometry
        ok = np.array([isinstance(g, shapely.Geometry) for g in geoms], dtype=bool)
        i = int(np.flatnonzero(~ok)[0])
        raise ValidationError(f"points: item {i} is {type(geoms[i]).__name__}, not a shapely Point")
    bad = (types != 0) | shapely.is_empty(geoms)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"points: {int(bad.sum())} geometry(ies) are not (non-empty) Points, first at position {i}: "
            f"{geoms[i].geom_type}"
        )
    return shapely.get_x(geoms), shapely.get_y(geoms)


def _expect_array(expect: Any, n: int, *, first: int = 0) -> np.ndarray:
    # first: the position of expect[0] among all the points (a block of a file names the file's point)
    if expect is None:
        return np.full(n, None, dtype=object)
    if isinstance(expect, str):
        code = expect.strip().upper()
        _check_party(code, "expect")
        return np.full(n, code, dtype=object)
    arr = np.asarray(expect, dtype=object).ravel()
    if arr.size != n:
        raise ValidationError(f"expect: {arr.size} values for {n} points")
    import pandas as pd

    # validate each distinct value once (no Python loop per point); None/NaN -> code -1 -> None
    codes, uniq = pd.factorize(arr)
    mapped = np.full(len(uniq) + 1, None, dtype=object)
    for j, v in enumerate(uniq):
        t = _text(v).upper()
        mapped[j] = _check_party(t, f"expect (point {first + int(np.argmax(codes == j))})") if t else None
    return mapped[codes]


# =================================================================================================
# the engine (wide: one array per source and quantity)
# =================================================================================================
AUTO_EXACT_BELOW = 2_000
"""``method="auto"`` uses the exact engine for fewer points than this (it is faster there: no index to
build and no compiled code to load), and the fast engine from there on when numba is installed."""


def resolve_method(method: str, n_points: int = AUTO_EXACT_BELOW) -> str:
    """The engine (``"fast"`` or ``"exact"``) that *method* means for *n_points* points in all.

    ``"auto"`` is ``"exact"`` below :data:`AUTO_EXACT_BELOW` points, else ``"fast"`` when numba
    is installed. A caller that splits its input (the dask path, :mod:`borderkit.scale`, the
    blocks of :func:`check_file`) resolves it once for the whole input and passes the result
    to every part: a small part would otherwise get the exact engine (answers within 0.1 mm of
    the fast one, not identical).

    Raises
    ------
    ValidationError
        An unknown method.
    OptionalDependencyError
        ``method="fast"`` without numba.
    """
    if method not in ("auto", "fast", "exact"):
        raise ValidationError(f"method: unknown method {method!r}; use 'auto', 'fast' or 'exact'")
    if method == "exact" or (method == "auto" and n_points < AUTO_EXACT_BELOW):
        return "exact"
    from borderkit._fastgeo import HAVE_NUMBA

    if method == "auto":
        return "fast" if HAVE_NUMBA else "exact"
    if not HAVE_NUMBA:
        raise OptionalDependencyError("method='fast' needs numba: pip install numba (or use method='exact')")
    return method


def _one_source(model: LineModel, lon: np.ndarray, lat: np.ndarray, method: str, n_total: int) -> dict[str, Any]:
    """Nearest point, side and territory of every point for one source (arrays)."""
    from borderkit.geodesy import GEOD

    if method == "fast":
        from borderkit._fastgeo import FAR_M

        idx = model.line_index(n_total)
        r = idx.query(lon, lat)
        seg, dist, nlon, nlat = idx.piece_segment[r["seg"]], r["distance_m"], r["nearest_lon"], r["nearest_lat"]
        left = r["left"].astype(bool)
        far = dist > FAR_M
        if far.any():  # beyond the chord formula's millimetre range: the exact point-to-point geodesic
            _, _, d = GEOD.inv(lon[far], lat[far], nlon[far], nlat[far])
            dist = dist.copy()
            dist[far] = d
    else:
        from borderkit.geodesy import nearest_with_side

        near, left = nearest_with_side(lon, lat, model.segs)
        seg, dist, nlon, nlat = near.seg, near.dist, near.lon, near.lat
    row = model.segs.line[seg]
    on = dist < _ON_LINE_M
    # beyond an open end of the line (not a closed ring) the side is only the end segment
    # extended: the line does not separate anything there
    segs = model.segs
    line_end = np.zeros(seg.size, dtype=bool)
    if model.terminal_a is not None and model.terminal_b is not None:
        open_a, open_b = model.terminal_a[seg], model.terminal_b[seg]
        cand = np.flatnonzero(open_a | open_b)
    else:
        cand = np.empty(0, dtype=np.int64)
    if cand.size:
        s = seg[cand]
        for open_end, e_lon, e_lat in ((open_a, segs.a_lon, segs.a_lat), (open_b, segs.b_lon, segs.b_lat)):
            # the geodesic only where it can be under 1 mm: a geodesic is at least as long as the
            # meridian arc between its latitudes (>= 6.33e6 m per radian), so a latitude difference
            # over _END_LAT_DEG (about 0.1 m of arc) is more than _END_M away
            k = cand[open_end[cand] & (np.abs(nlat[cand] - e_lat[s]) < _END_LAT_DEG)]
            if k.size:
                _, _, d = GEOD.inv(nlon[k], nlat[k], e_lon[seg[k]], e_lat[seg[k]])
                line_end[k] |= np.asarray(d) < _END_M
    out: dict[str, Any] = {
        "row": row,
        "distance": np.where(on, 0.0, dist),
        "nearest_lon": nlon,
        "nearest_lat": nlat,
        "left": left,  # the point's side of its nearest segment (the party there: see _compute)
        "on": on,
        "line_end": line_end & ~on,
    }
    if model.has_territories:
        if method == "fast":
            masks = model.polygon_index().query(lon, lat)
        else:
            import shapely

            masks = np.zeros(lon.size, dtype=np.uint64)
            for k, g in enumerate(model.territory_geoms):
                shapely.prepare(g)
                masks |= shapely.contains_xy(g, lon, lat).astype(np.uint64) << np.uint64(k)
        out["masks"] = masks
    return out


def _is_null(values: np.ndarray) -> np.ndarray:
    """None or NaN per item of an object array of party labels (``pandas.isna`` without pandas)."""
    v = np.asarray(values, dtype=object)
    return (v == None) | (v != v)  # noqa: E711 - elementwise; NaN is the only value unequal to itself


class _Vocab:
    """Party labels as small integer codes for one run (-1: no party).

    Parties, sides, other borders and expected parties stay codes through the computation (no
    object array per point, no Python object per cell); text is made once at the end
    (:meth:`decode` for the long results, :meth:`text` for a table's columns).
    """

    def __init__(self) -> None:
        self.labels: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, label: Any) -> int:
        if label is None or (isinstance(label, float) and label != label):
            return -1
        key = str(label)
        if key not in self._index:
            self._index[key] = len(self.labels)
            self.labels.append(key)
        return self._index[key]

    def codes(self, values: Any) -> np.ndarray:
        """Codes of an array of labels (None/NaN -> -1), each distinct label looked up once."""
        v = np.asarray(values, dtype=object).ravel()
        if v.size > 20_000:  # a file: pandas is loaded anyway, and its hash factorizer beats a sort
            import pandas as pd

            inv, uniq = pd.factorize(v)  # None/NaN -> -1
            table = np.array([self.code(u) for u in uniq] + [-1], dtype=np.int32)
            return table[inv]
        null = _is_null(v)
        out = np.full(v.size, -1, dtype=np.int32)
        if (~null).any():
            keys, inv = np.unique(v[~null].astype(str), return_inverse=True)
            out[~null] = np.array([self.code(k) for k in keys], dtype=np.int32)[inv.ravel()]
        return out

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Object array of labels (None for -1), as :func:`locate` returns them."""
        return np.asarray([*self.labels, None], dtype=object)[codes]

    def text(self, codes: np.ndarray) -> Any:
        """A pandas-ready text column: the strings pandas makes of :meth:`decode`'s array (NaN for
        no party; an object column of None when no row has one), built by Arrow without a Python
        object per cell."""
        return _text_column(codes, self.labels)


def _text_column(codes: np.ndarray, labels: Sequence[str] | np.ndarray) -> Any:
    """Text column from codes into *labels* (-1: missing), equal to what pandas infers from the
    object array of the labels and None (tested)."""
    return _pandas_column(_arrow_text(codes, labels))


def _arrow_text(codes: np.ndarray, labels: Sequence[str] | np.ndarray) -> Any:
    """Arrow dictionary array of ``labels[codes]`` (-1: null) over ``large_string`` labels: no Python object
    and no copy of the text per cell (a CSV writer looks for characters to quote in the labels alone).

    ``large_string`` is the type pandas' text columns become in Arrow (and in GeoParquet files)."""
    import pyarrow as pa

    codes = np.asarray(codes)
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=codes < 0),
                                          pa.array([str(v) for v in labels], pa.large_string()))


def _pandas_column(arr: Any) -> Any:
    """A result column of :func:`check_arrays` as :func:`check_table` gives it: text as pandas'
    strings (an object column of None when no row has a value), booleans and floats as numpy arrays."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_null(arr.type) or (pa.types.is_large_string(arr.type) and arr.null_count == len(arr)):
        return np.full(len(arr), None, dtype=object)
    if pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type):
        return pd.array(arr, dtype=pd.Series(["a"], dtype=object).astype(str).dtype)
    return arr.to_numpy(zero_copy_only=False)


_INSIDE, _ACROSS, _INDETERMINATE, _NOT_NEAR = (VERDICTS.index(v) for v in VERDICTS)
_PARTY_METHODS = ("territory", "line side")


def _verdict_codes(verdicts: np.ndarray) -> np.ndarray:
    """Codes (index into :data:`VERDICTS`, -1 for None) of an object array of verdicts."""
    v = np.asarray(verdicts, dtype=object)
    out = np.full(v.shape, -1, dtype=np.int8)
    for i, name in enumerate(VERDICTS):  # a loop over the four verdicts, not points
        out[v == name] = i
    return out


_SMALL_UNIQUE = 1 << 20


def _small_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of non-negative integer codes, and one row holding each.

    Codes below 2**20 (party masks of a handful of territories, combinations of a few parties)
    are counted into a table in one pass, not sorted: the same sorted values and inverse as
    ``np.unique``; larger ones go to ``np.unique``. The third array gives, for each value, the
    index of *some* row holding it (the caller only needs a representative)."""
    values = np.asarray(values).ravel()
    top = int(values.max()) if values.size else -1
    if top >= _SMALL_UNIQUE or (values.size and int(values.min()) < 0):
        uniq, first, inv = np.unique(values, return_index=True, return_inverse=True)
        return uniq, inv.ravel(), first
    idx = values.astype(np.intp)
    seen = np.zeros(top + 1, dtype=bool)
    seen[idx] = True
    uniq = np.flatnonzero(seen)
    lut = np.empty(top + 1, dtype=np.intp)
    lut[uniq] = np.arange(uniq.size)
    rep = np.empty(top + 1, dtype=np.intp)
    rep[idx] = np.arange(values.size)  # with repeated values, one of their rows (any is a representative)
    return uniq.astype(values.dtype), lut[idx], rep[uniq]


def _decode_masks(masks: np.ndarray, parties: np.ndarray, vocab: _Vocab) -> tuple[np.ndarray, np.ndarray]:
    """Party code (of None, 'ARM', or 'ARM;AZE' for an overlap) and overlap flag per mask."""
    uniq, inv, _ = _small_unique(masks)
    codes = np.empty(uniq.size, dtype=np.int32)
    overlap = np.zeros(uniq.size, dtype=bool)
    for i, m in enumerate(uniq):  # a loop over the distinct masks (a handful), not points
        members = sorted({parties[k] for k in range(parties.size) if (int(m) >> k) & 1})
        codes[i] = vocab.code(";".join(members) if members else None)
        overlap[i] = len(members) > 1
    inv = inv.ravel()
    return codes[inv], overlap[inv]


def _compute(
    pts: _Points,
    models: list[LineModel],
    *,
    method: str,
    expect: np.ndarray,
    reference_party: str | None,
    combine: str,
    n_total: int,
    vocab: _Vocab,
    keep: Sequence[str] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Result arrays per source for one chunk of points (*keep*: only these quantities; None: all).

    *expect* and the results ``party``, ``line_party``, ``other_border`` and ``sign_reference``
    are codes of *vocab*; ``verdict`` is a code of :data:`VERDICTS` (-1: no expected party);
    ``party_method`` a code of ``("territory", "line side")``; ``section`` is the row of the
    nearest line (its section is ``model.sections[row]``). :func:`_decoded` turns them to text.
    """
    results: dict[str, dict[str, np.ndarray]] = {}
    for model in models:
        r = _one_source(model, pts.lon, pts.lat, method, n_total)
        n = pts.lon.size
        row = r["row"]
        left_codes = vocab.codes(model.left_party)
        right_codes = vocab.codes(model.right_party)
        # the party of the point's side of the line (-1 on it), filled in place: no full-size temporaries
        lp = right_codes[row].astype(np.int32, copy=False)
        left = np.asarray(r["left"], dtype=bool)
        lp[left] = left_codes[row[left]]
        lp[r["on"]] = -1
        if model.has_territories:
            party, overlap = _decode_masks(r["masks"], model.territory_parties, vocab)
            party_method = np.zeros(n, dtype=np.int8)
        else:
            party = lp.copy()
            overlap = np.zeros(n, dtype=bool)
            party_method = np.ones(n, dtype=np.int8)
        acc = model.accuracy_m[row]
        if combine == "sum":
            unc = pts.precision + acc
        else:
            unc = np.hypot(pts.precision, acc)
        dist = r["distance"]
        margin = dist - unc
        determinate = (margin > 0.0) & ~overlap & (party >= 0)
        ref = np.where(expect >= 0, expect, vocab.code(reference_party or model.reference)).astype(np.int32)
        # dist * (1 on the reference party's side, -1 on the other, 0 on the line), bit for bit
        signed = np.array(dist, dtype=np.float64)
        np.negative(signed, out=signed, where=lp != ref)
        signed[lp < 0] = 0.0  # dist is 0 there
        other_d, other_p = _other_border(model, r, pts.lon, pts.lat, method, n_total, vocab)
        with np.errstate(invalid="ignore"):
            nearer_other = other_d < dist  # NaN (no other border in the source) compares False
        near = ~r["line_end"] & ~nearer_other
        verdict = np.full(n, _INDETERMINATE, dtype=np.int8)
        verdict[determinate] = np.where(party[determinate] == expect[determinate], _INSIDE, _ACROSS)
        verdict[~near] = _NOT_NEAR
        verdict[expect < 0] = -1
        full = {
            "party": party,
            "overlap": overlap,
            "party_method": party_method,
            "line_party": lp,
            "section": row,
            "distance_to_line_m": dist,
            "signed_distance_m": signed,
            "sign_reference": ref,
            "nearest_lon": r["nearest_lon"],
            "nearest_lat": r["nearest_lat"],
            "precision_m": pts.precision,
            "line_accuracy_m": acc,
            "uncertainty_m": unc,
            "margin_m": margin,
            "determinate": determinate,
            "near_line": near,
            "beyond_line_end": r["line_end"],
            "other_border": other_p,
            "other_border_distance_m": other_d,
            "verdict": verdict,
        }
        # the quantities the caller does not use are freed now, not held until every source is done
        results[model.source] = full if keep is None else {k: full[k] for k in keep}
        del full, r
    return results


_PARTY_KEYS = ("party", "line_party", "other_border", "sign_reference")


def _decoded(res: dict[str, dict[str, np.ndarray]], models: list[LineModel],
             vocab: _Vocab) -> dict[str, dict[str, np.ndarray]]:
    """:func:`_compute`'s codes as the object arrays of text (None for none) of the long results."""
    out: dict[str, dict[str, np.ndarray]] = {}
    verdicts = np.asarray([*VERDICTS, None], dtype=object)
    methods = np.asarray(_PARTY_METHODS, dtype=object)
    for model in models:
        r = dict(res[model.source])
        for key in _PARTY_KEYS:
            r[key] = vocab.decode(r[key])
        r["verdict"] = verdicts[r["verdict"]]
        r["party_method"] = methods[r["party_method"]]
        r["section"] = model.sections[r["section"]]
        out[model.source] = r
    return out


def _other_border(
    model: LineModel, r: dict[str, Any], lon: np.ndarray, lat: np.ndarray, method: str, n_total: int,
    vocab: _Vocab,
) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (m) to the source's nearest other border and the third party across it.

    NaN and code -1 (no party) where the source has no third-party territory; 0 inside one.
    """
    n = lon.size
    dist = np.full(n, np.nan)
    party = np.full(n, -1, dtype=np.int32)
    if model.others is None:
        return dist, party
    ro = _one_source(model.others, lon, lat, method, n_total)
    dist = np.asarray(ro["distance"], dtype=float).copy()
    party = vocab.codes(model.others.left_party)[ro["row"]]
    m3 = r["masks"] & np.uint64(model.third_bits)
    inside = m3 != 0
    if inside.any():
        label, _ = _decode_masks(m3[inside], model.territory_parties, vocab)
        dist[inside] = 0.0
        party[inside] = label
    return dist, party


def _iter_chunks(n: int, chunk_size: int) -> Any:
    for start in range(0, n, chunk_size):
        yield start, min(n, start + chunk_size)


def _run(
    points: Any,
    lines: Any,
    *,
    territories: Any,
    precision_m: Any,
    sources: Any,
    method: str,
    reference_party: str | None,
    combine: str,
    chunk_size: int,
    expect: Any,
    case: Any = None,
) -> tuple[_Points, list[LineModel], str, np.ndarray, list[tuple[int, dict[str, dict[str, np.ndarray]]]]]:
    if combine not in ("sum", "rss"):
        raise ValidationError(f"combine: unknown rule {combine!r}; use 'sum' or 'rss'")
    if reference_party is not None:
        reference_party = _check_party(str(reference_party).strip().upper(), "reference_party")
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValidationError(f"chunk_size: must be a positive integer, got {chunk_size!r}")
    pts = _as_points(points, precision_m)
    method = resolve_method(method, pts.lon.size)
    exp = _expect_array(expect, pts.lon.size)
    models = prepare(lines, territories, sources=sources, case=case)
    vocab = _Vocab()
    exp_codes = vocab.codes(exp)
    chunks = []
    for a, b in _iter_chunks(pts.lon.size, int(chunk_size)):
        sub = _Points(pts.lon[a:b], pts.lat[a:b], pts.precision[a:b])
        res = _compute(sub, models, method=method, expect=exp_codes[a:b], reference_party=reference_party,
                       combine=combine, n_total=pts.lon.size, vocab=vocab)
        chunks.append((a, _decoded(res, models, vocab)))
    return pts, models, method, exp, chunks


def _long_frame(
    n: int, models: list[LineModel], method: str, chunks: list[Any], with_verdict: bool, exp: np.ndarray
) -> pd.DataFrame:
    import pandas as pd

    names = [m.source for m in models]
    s = len(names)
    cols = list(RESULT_COLUMNS) + (["expect", "verdict"] if with_verdict else [])
    data: dict[str, Any] = {}
    for col in cols:
        if col == "point":
            data[col] = np.repeat(np.arange(n, dtype=np.int64), s)
        elif col == "source":
            data[col] = pd.Categorical(np.tile(np.array(names, dtype=object), n), categories=names)
        elif col == "method":
            data[col] = pd.Categorical(np.full(n * s, method, dtype=object), categories=["fast", "exact"])
        elif col == "expect":
            data[col] = np.repeat(exp, s)
        else:
            parts = []
            for _, res in chunks:
                stacked = np.stack([np.asarray(res[name][col]) for name in names], axis=1)  # (chunk, s)
                parts.append(stacked.reshape(-1))
            data[col] = np.concatenate(parts) if parts else np.empty(0)
    df = pd.DataFrame(data, columns=cols)
    for col in ("overlap", "determinate", "near_line", "beyond_line_end"):
        df[col] = df[col].astype(bool)
    for col in ("distance_to_line_m", "signed_distance_m", "nearest_lon", "nearest_lat", "precision_m",
                "line_accuracy_m", "uncertainty_m", "margin_m", "other_border_distance_m"):
        df[col] = df[col].astype(np.float64)
    df.attrs["units"] = "metres (geodesic distances on the WGS84 ellipsoid); degrees for lon/lat"
    df.attrs["method"] = _METHOD_TEXT[method]
    df.attrs["sign_convention"] = (
        "signed_distance_m > 0: the point is on the sign_reference party's side of the line; < 0: on the "
        "other side; 0: on the line"
    )
    return df


# =================================================================================================
# public API
# =================================================================================================
def locate(
    points: Any,
    lines: Any = None,
    *,
    territories: Any = None,
    precision_m: Any = None,
    sources: Any = None,
    method: str = "auto",
    reference_party: str | None = None,
    combine: str = "sum",
    chunk_size: int = _DEFAULT_CHUNK,
    case: Any = None,
) -> pd.DataFrame:
    """Side, party, distance and determinacy of every point for every line source.

    Parameters
    ----------
    points
        A GeoDataFrame/GeoSeries of Points (EPSG:4326, or any CRS, transformed), an
        array of shapely Points, a ``(lon, lat)`` tuple of arrays, or an ``(n, 2)``
        array of lon, lat (degrees).
    lines
        Lines GeoDataFrame (schema ``LINES``), e.g. a user's own claimed line read
        with :func:`borderkit.io.read_lines` (``defaults=`` fills its metadata);
        None: the lines of *case*.
    territories
        Territories GeoDataFrame (``source``, ``party``, geometry) giving the party
        polygons of the sources of *lines*; None or False: none (the side of the
        line names the party). A case always brings its own territories.
    precision_m
        Radius of each point's location uncertainty, metres (scalar or per point);
        None: the ``precision_m`` column of a GeoDataFrame, else 0. NaN counts as 0.
    sources
        Registry name(s) of the line sources to use (default: all).
    method
        ``"auto"`` (``"fast"`` when numba is installed, else ``"exact"``), ``"fast"``
        or ``"exact"`` (see the module docstring and ``docs/check.md``).
    reference_party
        Party whose side gets a positive ``signed_distance_m`` (default: the
        alphabetically first party of each source's line).
    combine
        How ``precision_m`` and the line's accuracy combine: ``"sum"`` (default) or
        ``"rss"`` (root sum of squares).
    chunk_size
        Points processed at once (bounds memory; never changes the results).
    case
        Case whose line sources are checked (see :func:`prepare`): a bundled case name or a
        loaded case (``borderkit.cases.load(NAME_OR_DIR)``). None: the bundled case when *lines* is None; no case
        when *lines* is given. With both, the sources of *lines* are checked together
        with those of the case.

    Returns
    -------
    pandas.DataFrame
        One row per point and source (point-major, sources in name order), columns
        :data:`RESULT_COLUMNS`:

        ``point``: 0-based position of the point in the input;
        ``source``: registry name of the line source;
        ``party``: ISO alpha-3 code of the party whose ground the point is on in that
        source (``"ARM;AZE"`` where the source's territories overlap; None outside
        every territory or exactly on a line without territories);
        ``overlap``: the point is in more than one party's territory;
        ``party_method``: ``"territory"`` or ``"line side"``;
        ``line_party``: the party on the point's side of the nearest line section;
        ``section``: that section;
        ``distance_to_line_m`` (≥ 0), ``signed_distance_m``, ``sign_reference``;
        ``nearest_lon``, ``nearest_lat``: the nearest point of the line;
        ``precision_m``, ``line_accuracy_m``, ``uncertainty_m``, ``margin_m``
        (distance minus uncertainty), ``determinate``; ``method`` (``fast``/``exact``).

    Raises
    ------
    borderkit.errors.ValidationError
        Bad coordinates, precision, party codes, unknown sources or lines.
    borderkit.errors.OptionalDependencyError
        ``method="fast"`` without numba.
    """
    pts, models, m, exp, chunks = _run(
        points, lines, territories=territories, precision_m=precision_m, sources=sources, method=method,
        reference_party=reference_party, combine=combine, chunk_size=chunk_size, expect=None, case=case,
    )
    return _long_frame(pts.lon.size, models, m, chunks, False, exp)


class CheckResult(NamedTuple):
    """Result of :func:`check`: ``results`` (one row per point and source, with ``expect`` and
    ``verdict``) and ``summary`` (one row per point, see :func:`summarize`)."""

    results: pd.DataFrame
    summary: pd.DataFrame


def check(
    points: Any,
    lines: Any = None,
    *,
    expect: Any,
    territories: Any = None,
    precision_m: Any = None,
    sources: Any = None,
    method: str = "auto",
    combine: str = "sum",
    chunk_size: int = _DEFAULT_CHUNK,
    case: Any = None,
) -> CheckResult:
    """Is each point inside the party it is reported in, across the line, or indeterminate?

    Parameters
    ----------
    expect
        ISO alpha-3 code of the party each point is reported in (one code, or one per
        point; None/"" for a point gives it no verdict).
    points, lines, territories, precision_m, sources, method, combine, chunk_size, case
        As in :func:`locate`. The sign reference is *expect*: ``signed_distance_m`` is
        positive on the expected party's side.

    Returns
    -------
    CheckResult
        ``results``: the columns of :func:`locate` plus ``expect`` and ``verdict``:
        ``inside`` (determinate and the party is *expect*), ``across`` (determinate and
        another party — the point is beyond the line on the other side, or in a third
        party's territory), ``indeterminate`` (not determinate: the uncertainty reaches
        the line, the point is in an overlap, or no party). ``summary``: one row per
        point (:func:`summarize`), with the overall ``verdict``: ``inside`` when every
        source says inside, ``across`` when every source says across, else
        ``indeterminate``.
    """
    if expect is None:
        raise ValidationError("expect: give the party each point is reported in (ISO alpha-3, e.g. 'ARM')")
    pts, models, m, exp, chunks = _run(
        points, lines, territories=territories, precision_m=precision_m, sources=sources, method=method,
        reference_party=None, combine=combine, chunk_size=chunk_size, expect=expect, case=case,
    )
    results = _long_frame(pts.lon.size, models, m, chunks, True, exp)
    return CheckResult(results, summarize(results))


class PointAnswer(NamedTuple):
    """Result of :func:`locate_point`: ``results`` (one dict per line source, in name order, keyed
    by :data:`RESULT_COLUMNS` without ``point``, plus ``expect`` and ``verdict``), ``summary``
    (``parties``, ``sources_agree``, ``determinate_all``, ``min_margin_m`` and, with *expect*,
    ``verdict``, ``n_inside`` …, as in :func:`summarize`) and ``method`` (the full description)."""

    results: list[dict[str, Any]]
    summary: dict[str, Any]
    method: str


def locate_point(
    lon: float,
    lat: float,
    lines: Any = None,
    *,
    territories: Any = None,
    precision_m: float | None = None,
    sources: Any = None,
    method: str = "auto",
    combine: str = "sum",
    expect: str | None = None,
    case: Any = None,
) -> PointAnswer:
    """One point: the answers of :func:`locate` (and of :func:`check` with *expect*) as plain values.

    The same engine and the same rules as :func:`locate`/:func:`check`/:func:`summarize`,
    without building DataFrames: this path imports neither pandas nor geopandas once the
    case's models are cached on disk, so one ``borderkit check --lat --lon`` starts fast.

    Parameters
    ----------
    lon, lat
        The point (degrees, WGS84).
    lines, territories, precision_m, sources, method, combine, case
        As in :func:`locate`.
    expect
        The party the point is reported in (adds ``expect`` and ``verdict``, as :func:`check`).

    Returns
    -------
    PointAnswer
    """
    pts, models, m, exp, chunks = _run(
        (np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64)), lines, territories=territories,
        precision_m=precision_m, sources=sources, method=method, reference_party=None, combine=combine,
        chunk_size=_DEFAULT_CHUNK, expect=expect, case=case,
    )
    res = chunks[0][1]
    names = [mod.source for mod in models]
    rows = []
    for nm in names:
        r = res[nm]
        item: dict[str, Any] = {"source": nm, "method": m}
        for col in RESULT_COLUMNS:
            if col not in ("point", "source", "method"):
                item[col] = np.asarray(r[col])[0]
        item["expect"] = exp[0]
        item["verdict"] = np.asarray(r["verdict"])[0]
        rows.append(item)
    stack = lambda q: np.array([[res[nm][q][0] for nm in names]], dtype=object)  # noqa: E731 - (1, sources)
    summary = _summary(names, stack("party"), stack("determinate").astype(bool), stack("margin_m").astype(float),
                       stack("verdict") if expect is not None else None)
    return PointAnswer(rows, {k: np.asarray(v)[0] for k, v in summary.items()}, _METHOD_TEXT[m])


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per point across the line sources of a :func:`locate`/:func:`check` result.

    Columns: ``point``; ``sources`` (how many); ``parties`` (``"source=PARTY; …"``,
    ``-`` for no party); ``sources_agree`` (every source names the same party, or
    every source none); ``determinate_all``; ``min_margin_m``. When the results have a
    ``verdict`` column: ``expect``, ``verdict`` (:func:`overall_verdict`), ``n_inside``,
    ``n_across``, ``n_indeterminate``, ``n_not_near``.
    """
    import pandas as pd

    with_verdict = "verdict" in results.columns
    if len(results) == 0:
        cols = list(SUMMARY_COLUMNS) + (
            ["expect", "verdict", "n_inside", "n_across", "n_indeterminate", "n_not_near"] if with_verdict else []
        )
        return pd.DataFrame(columns=cols)
    r = results.sort_values(["point", "source"], kind="stable")
    points = r["point"].to_numpy()
    n_src = r.groupby("point", sort=True).size()
    s = int(n_src.iloc[0])
    if not (n_src == s).all():  # pragma: no cover - locate always gives every source for every point
        raise ValidationError("results: every point must have one row per source")
    n = n_src.size
    names = [str(v) for v in np.asarray(r["source"].astype(str), dtype=object)[:s]]
    summary = _summary(
        names,
        r["party"].to_numpy(dtype=object).reshape(n, s),
        r["determinate"].to_numpy(dtype=bool).reshape(n, s),
        r["margin_m"].to_numpy(dtype=float).reshape(n, s),
        np.asarray(r["verdict"], dtype=object).reshape(n, s) if with_verdict else None,
    )
    out = pd.DataFrame({"point": points.reshape(n, s)[:, 0], "sources": s})
    for key in ("parties", "sources_agree", "determinate_all", "min_margin_m"):
        out[key] = summary[key]
    if with_verdict:
        out["expect"] = np.asarray(r["expect"], dtype=object).reshape(n, s)[:, 0]
        for key in ("verdict", "n_inside", "n_across", "n_indeterminate", "n_not_near"):
            out[key] = summary[key]
    return out


def overall_verdict(verdicts: np.ndarray) -> np.ndarray:
    """The verdict across sources, per row of an ``(n points, n sources)`` array of verdicts.

    ``inside`` when every source says inside, ``across`` when every source says across,
    else :data:`NOT_NEAR` when any source says the line is not the relevant border, else
    ``indeterminate``; None where a source gives no verdict (no ``expect``).
    """
    codes = _overall_verdict_codes(_verdict_codes(np.asarray(verdicts, dtype=object)))
    return np.asarray([*VERDICTS, None], dtype=object)[codes]


def _overall_verdict_codes(v: np.ndarray) -> np.ndarray:
    """:func:`overall_verdict` on codes of :data:`VERDICTS` (-1: no verdict), ``(n, sources)``."""
    has = (v >= 0).all(axis=1)
    overall = np.where(
        (v == _INSIDE).all(axis=1),
        _INSIDE,
        np.where((v == _ACROSS).all(axis=1), _ACROSS,
                 np.where((v == _NOT_NEAR).any(axis=1), _NOT_NEAR, _INDETERMINATE)),
    )
    return np.where(has, overall, -1).astype(np.int8)


def _summary(names: list[str], party: np.ndarray, det: np.ndarray, margin: np.ndarray,
             verdict: np.ndarray | None) -> dict[str, np.ndarray]:
    """The per-point summary from ``(n points, n sources)`` object arrays of labels and verdicts
    (the long results of :func:`summarize`, one point): :func:`_summary_codes` on their codes."""
    vocab = _Vocab()
    codes = vocab.codes(party).reshape(np.shape(party))
    out = _summary_codes(names, codes, vocab.labels, det, margin,
                         None if verdict is None else _verdict_codes(verdict))
    index, texts = out.pop("parties_index"), out.pop("parties_texts")
    out = {"parties": texts[index] if texts.size else np.empty(0, dtype=object), **out}
    if verdict is not None:
        out["verdict"] = np.asarray([*VERDICTS, None], dtype=object)[out["verdict"]]
    return out


def _summary_codes(names: list[str], party: np.ndarray, labels: Sequence[str], det: np.ndarray,
                   margin: np.ndarray, verdict: np.ndarray | None) -> dict[str, np.ndarray]:
    """The per-point summary from ``(n points, n sources)`` arrays: party codes into *labels*
    (-1: none), determinacy, margins and verdict codes (one implementation for the long results,
    one point and the wide table of :func:`check_table`).

    ``parties_index`` and ``parties_texts``: each row's text ``"src=PARTY; ..."`` is
    ``parties_texts[parties_index]``; ``verdict`` is a code of :data:`VERDICTS`.
    """
    s = len(names)
    codes = np.asarray(party, dtype=np.int64) + 1  # 0: no party ("-")
    vocab = np.asarray(["-", *labels], dtype=object)
    # the text "src=PARTY; ..." is made once per distinct combination of parties (a handful), not
    # per point: each row one combination
    if float(vocab.size) ** s < 2.0**62:  # one integer per row (mixed radix): a fast unique
        combo = np.zeros(codes.shape[0], dtype=np.int64)
        for k in range(s):  # a loop over sources, not points
            combo = combo * vocab.size + codes[:, k]
        uniq, inverse, first = _small_unique(combo)
    else:  # pragma: no cover - very many sources: unique rows
        uniq, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    texts = np.array(["; ".join(f"{nm}={vocab[c]}" for nm, c in zip(names, codes[i], strict=True))
                      for i in first], dtype=object)  # one per distinct combination
    out: dict[str, Any] = {
        "parties_index": inverse.ravel(),
        "parties_texts": texts,
        "sources_agree": (codes == codes[:, :1]).all(axis=1),
        "determinate_all": det.all(axis=1),
        "min_margin_m": margin.min(axis=1),
    }
    if verdict is not None:
        out["verdict"] = _overall_verdict_codes(verdict)
        out["n_inside"] = (verdict == _INSIDE).sum(axis=1)
        out["n_across"] = (verdict == _ACROSS).sum(axis=1)
        out["n_indeterminate"] = (verdict == _INDETERMINATE).sum(axis=1)
        out["n_not_near"] = (verdict == _NOT_NEAR).sum(axis=1)
    return out


# =================================================================================================
# tables and files (borderkit check FILE)
# =================================================================================================
PER_SOURCE_COLUMNS = (
    "party",
    "distance_to_line_m",
    "signed_distance_m",
    "determinate",
    "margin_m",
    "near_line",
    "other_border",
    "other_border_distance_m",
)
"""Quantities of :func:`check_table` per line source, as columns ``<source>__<quantity>``
(and ``<source>__verdict`` with ``expect``)."""

_ROUND_MM = ("distance_to_line_m", "signed_distance_m", "margin_m", "other_border_distance_m")
_FILE_CHUNK = 200_000


class FileCheck(NamedTuple):
    """Result of :func:`check_file`: ``table`` (every row read, with the result columns of
    :func:`check_table`) and ``rejected`` (``errors="collect"``: the rows the reader refused,
    as in :func:`borderkit.io.readers.read_layer`; None with ``errors="raise"``). Rows in the
    file = ``len(table) + len(rejected)``."""

    table: Any
    rejected: pd.DataFrame | None


def precision_of(points: Any, default_precision_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's location precision (metres) and where it comes from.

    A row's own precision always wins: the ``precision_m`` column where it holds a finite
    number (for a file read by :func:`borderkit.io.readers.read_points`, named after the
    file's column it came from: ``geo_precision`` for ACLED, ``where_prec`` for UCDP GED,
    ``precision_m``). Only a row without one gets ``default_precision_m`` (source
    ``"default"``), else 0 m (source ``"none"``).

    Returns
    -------
    tuple of numpy.ndarray
        ``precision_m`` (float, metres) and ``precision_source`` (str) per row.
    """
    prec, has, (own_name, fallback) = _precision_codes(points, default_precision_m, len(points))
    return prec, np.where(has, own_name, fallback).astype(object)


def _precision_codes(points: Any, default_precision_m: float | None,
                     n: int) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """:func:`precision_of` of the *n* rows of *points* (a table, or None: no columns) with the source
    as a flag per row (True: the row's own precision) and the two names, so that a table gets the
    text column without an object per row."""
    if default_precision_m is not None:
        d = float(default_precision_m)
        if not math.isfinite(d) or d < 0:
            raise ValidationError(
                f"default precision: must be a finite number of metres >= 0, got {default_precision_m!r}"
            )
    import pandas as pd

    own = np.full(n, np.nan)
    if "precision_m" in getattr(points, "columns", ()):
        own = pd.to_numeric(points["precision_m"], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(own)
    name = (getattr(points, "attrs", {}).get("borderkit") or {}).get("precision_column") or "precision_m"
    fallback = "none" if default_precision_m is None else "default"
    prec = np.where(has, own, 0.0 if default_precision_m is None else float(default_precision_m))
    return prec, has, (str(name), fallback)


def check_arrays(
    lon: Any,
    lat: Any,
    *,
    frame: Any = None,
    expect: Any = None,
    expect_column: str | None = None,
    default_precision_m: float | None = None,
    lines: Any = None,
    territories: Any = None,
    sources: Any = None,
    method: str = "auto",
    combine: str = "sum",
    chunk_size: int = _FILE_CHUNK,
    progress: Any = None,
    case: Any = None,
    n_total: int | None = None,
    coordinates_validated: bool = False,
) -> Any:
    """The result columns of :func:`check_table` for points given as coordinate arrays, as Arrow arrays.

    The one implementation behind :func:`check_table` and ``borderkit check FILE -o OUT``: the
    columns are made from the engine's arrays straight into Arrow (no pandas frame, no object
    array per cell), so that a caller writing a file block by block (CSV or GeoParquet) never
    builds a DataFrame of the results.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes of the points (degrees, WGS84), one block of rows of the input.
    frame
        The other columns of the same rows (a pandas DataFrame, e.g. the columns that
        :func:`borderkit.io.readers.read_points` returns, without the geometry): its
        ``precision_m`` column and ``attrs["borderkit"]["precision_column"]`` give each row's own
        precision (:func:`precision_of`); *expect_column* is read from it. None: no such columns.
    expect, expect_column, default_precision_m, lines, territories, sources, method, combine, case
        As in :func:`check_table` (*lines* keyword-only here).
    chunk_size, progress, n_total
        As in :func:`check_table`.
    coordinates_validated
        False (default): *lon* and *lat* are checked here (finite degrees, longitude in
        ``[-180, 360)``, latitude in ``[-90, 90]``; :func:`borderkit._projection.check_lon`).
        True: the caller has already checked them with the readers' validation (e.g. the
        blocks of :func:`borderkit.io.blocks.read_point_blocks`, or :func:`check_table`'s
        points) and they are not checked a second time; give True only for coordinates
        validated so, never for a user's arrays. Precisions are checked either way.

    Returns
    -------
    pyarrow.Table
        One row per point and the result columns of :func:`check_table`, in its order: text as
        Arrow dictionary arrays of ``large_string`` labels (null for no party/verdict; a column of
        Arrow type ``null`` for a quantity the source cannot have: ``<source>__other_border`` of a
        source without other borders), booleans as ``bool``, metres as ``float64`` rounded to 1 mm
        (null where :func:`check_table` has NaN). The schema's
        metadata holds ``method`` and ``units`` (the texts of ``check_table``'s ``attrs``).

    Raises
    ------
    ValidationError
        Bad coordinates, precisions or expected parties, an unknown *expect_column*, or a
        result column that *frame* already has.
    """
    import pyarrow as pa

    if expect is not None and expect_column is not None:
        raise ValidationError("give expect or expect_column, not both")
    if combine not in ("sum", "rss"):
        raise ValidationError(f"combine: unknown rule {combine!r}; use 'sum' or 'rss'")
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValidationError(f"chunk_size: must be a positive integer, got {chunk_size!r}")
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    n = lon.size
    if n == 0:
        raise ValidationError("points: no rows to check")
    if frame is not None and len(frame) != n:
        raise ValidationError(f"frame: {len(frame)} rows for {n} points")
    prec, own_precision, prec_names = _precision_codes(frame, default_precision_m, n)
    if expect_column is not None:
        columns = [] if frame is None else list(frame.columns)
        if expect_column not in columns:
            raise ValidationError(
                f"expect_column: no column {expect_column!r}; the columns are {', '.join(map(str, columns))}"
            )
        exp = _expect_array(frame[expect_column].to_numpy(dtype=object), n)
    else:
        exp = _expect_array(expect, n)
    if coordinates_validated:  # checked once, by the reader (or check_table): not again per block
        pts = _Points(lon, lat, _checked_precision(prec))
    else:
        pts = _as_points((lon, lat), prec)
    whole = n if n_total is None else max(int(n_total), n)
    method = resolve_method(method, whole)
    models = prepare(lines, territories, sources=sources, case=case)
    names = [m.source for m in models]
    with_verdict = expect is not None or expect_column is not None
    keys = list(PER_SOURCE_COLUMNS) + (["verdict"] if with_verdict else [])
    vocab = _Vocab()
    exp_codes = vocab.codes(exp)
    parts: dict[tuple[str, str], list[np.ndarray]] = {(nm, q): [] for nm in names for q in keys}
    for a, b in _iter_chunks(n, int(chunk_size)):
        sub = _Points(pts.lon[a:b], pts.lat[a:b], pts.precision[a:b])
        res = _compute(sub, models, method=method, expect=exp_codes[a:b], reference_party=None, combine=combine,
                       n_total=whole, vocab=vocab, keep=keys)
        for nm in names:
            for q in keys:
                v = res[nm][q]
                # rounded in place: these arrays are _compute's own, made for this chunk
                parts[(nm, q)].append(np.round(v, 3, out=v) if q in _ROUND_MM else v)
        del res
        if progress is not None:
            progress(b - a)
    arr = {k: (v[0] if len(v) == 1 else np.concatenate(v)) for k, v in parts.items()}
    del parts
    stack = lambda q: np.stack([arr[(nm, q)] for nm in names], axis=1)  # noqa: E731 - (n, sources)
    # margins are rounded per source above; the minimum of rounded values is the rounded minimum
    summary = _summary_codes(names, stack("party"), vocab.labels, stack("determinate"), stack("margin_m"),
                             stack("verdict") if with_verdict else None)
    cols: dict[str, Any] = {}
    for model in models:
        nm = model.source
        for q in keys:
            v = arr.pop((nm, q))
            if q == "other_border" and model.others is None:
                cols[f"{nm}__{q}"] = pa.nulls(n)  # no other border in this source, whatever the points
            elif q in ("party", "other_border"):
                cols[f"{nm}__{q}"] = _arrow_text(v, vocab.labels)
            elif q == "verdict":
                cols[f"{nm}__{q}"] = _arrow_text(v, VERDICTS)
            else:  # NaN (no other border) -> null, as pandas' columns become Arrow ones
                cols[f"{nm}__{q}"] = pa.array(v, from_pandas=True)
    cols["check__parties"] = _arrow_text(summary["parties_index"], summary["parties_texts"])
    cols["check__sources_agree"] = pa.array(summary["sources_agree"])
    cols["check__determinate_all"] = pa.array(summary["determinate_all"])
    cols["check__min_margin_m"] = pa.array(summary["min_margin_m"], from_pandas=True)
    cols["check__precision_m"] = pa.array(prec, from_pandas=True)
    cols["check__precision_source"] = _arrow_text(np.where(own_precision, 0, 1), prec_names)
    if with_verdict:
        cols["check__expect"] = _arrow_text(exp_codes, vocab.labels)
        cols["check__verdict"] = _arrow_text(summary["verdict"], VERDICTS)
    clash = [c for c in cols if frame is not None and c in frame.columns]
    if clash:
        raise ValidationError(
            f"the input already has result column(s) {', '.join(clash)}; rename them or check the original file"
        )
    return pa.table(cols, metadata={"method": _METHOD_TEXT[method],
                                    "units": "metres (geodesic distances on the WGS84 ellipsoid, rounded to 1 mm)"})


def check_table(
    points: Any,
    lines: Any = None,
    *,
    expect: Any = None,
    expect_column: str | None = None,
    default_precision_m: float | None = None,
    territories: Any = None,
    sources: Any = None,
    method: str = "auto",
    combine: str = "sum",
    chunk_size: int = _FILE_CHUNK,
    progress: Any = None,
    case: Any = None,
    n_total: int | None = None,
) -> Any:
    """Check every row of a GeoDataFrame of points; the rows come back with result columns.

    Parameters
    ----------
    points
        GeoDataFrame of Points (any CRS; transformed to EPSG:4326), e.g. from
        :func:`borderkit.io.readers.read_points`.
    expect
        ISO alpha-3 code of the party every point is reported in (adds verdicts).
    expect_column
        Column holding each row's expected party instead (empty: no verdict for the row).
    default_precision_m
        Precision (metres) of rows that have none of their own (:func:`precision_of`).
    lines, territories, sources, method, combine, case
        As in :func:`locate`.
    chunk_size
        Rows processed at once (bounds memory; never changes the results).
    progress
        Called with the number of rows done after each chunk (e.g. a progress bar's update).
    n_total
        When *points* is one block of a larger input (:func:`check_file_blocks`): the number of
        rows of the whole input, for which the engine of ``method="auto"`` and the fast index are
        chosen, so that every block gets exactly the answers of one call on the whole input.

    Returns
    -------
    geopandas.GeoDataFrame
        Every input column unchanged, then per source ``<source>__<quantity>`` for
        :data:`PER_SOURCE_COLUMNS` (metres rounded to 1 mm) and ``<source>__verdict``, then
        ``check__parties``, ``check__sources_agree``, ``check__determinate_all``,
        ``check__min_margin_m``, ``check__precision_m``, ``check__precision_source`` and,
        with an expected party, ``check__expect`` and ``check__verdict``
        (:func:`overall_verdict`). ``attrs["method"]`` and ``attrs["units"]`` describe them.
        The result columns are :func:`check_arrays`'s, as pandas columns.
    """
    import geopandas as gpd
    import pandas as pd

    if not isinstance(points, gpd.GeoDataFrame):
        raise ValidationError(f"points: expected a GeoDataFrame of points, got {type(points).__name__}")
    if len(points) == 0:
        raise ValidationError("points: no rows to check")
    pts = _as_points(points.geometry, None)
    table = check_arrays(pts.lon, pts.lat, frame=points, expect=expect, expect_column=expect_column,
                         default_precision_m=default_precision_m, lines=lines, territories=territories,
                         sources=sources, method=method, combine=combine, chunk_size=chunk_size, progress=progress,
                         case=case, n_total=n_total, coordinates_validated=True)  # by _as_points above
    added = pd.DataFrame({name: _pandas_column(table.column(name)) for name in table.column_names},
                         index=points.index)
    out = gpd.GeoDataFrame(pd.concat([pd.DataFrame(points), added], axis=1), geometry=points.geometry.name,
                           crs=points.crs)
    out.attrs = dict(points.attrs)
    meta = table.schema.metadata
    out.attrs["method"] = meta[b"method"].decode("utf-8")
    out.attrs["units"] = meta[b"units"].decode("utf-8")
    return out


def check_file(
    path: Any,
    *,
    expect: Any = None,
    expect_column: str | None = None,
    default_precision_m: float | None = None,
    sources: Any = None,
    method: str = "auto",
    combine: str = "sum",
    errors: str = "raise",
    layer: Any = None,
    crs: Any = None,
    encoding: str | None = None,
    region: tuple[float, float, float, float] | None = None,
    projected_crs: Sequence[str] | None = None,
    chunk_size: int = _FILE_CHUNK,
    progress: Any = None,
    lines: Any = None,
    territories: Any = None,
    case: Any = None,
) -> FileCheck:
    """Read a file of points with :func:`borderkit.io.readers.read_points` and check every row.

    The file is read exactly as the readers read it (ACLED with or without the HDX
    hashtag row, UCDP GED, incidents, plain latitude/longitude tables with any delimiter
    and encoding the readers take, GeoJSON, GeoPackage, Shapefile, KML, GPX, GeoParquet)
    and validated the same way (coordinates out of range, NaN, swapped, (0, 0) …).

    Parameters
    ----------
    path
        The file.
    errors
        ``"raise"`` (default): any bad row raises one
        :class:`~borderkit.errors.ValidationError` naming file, row and column.
        ``"collect"``: bad rows are returned in ``rejected`` and the others checked.
    layer, crs, encoding, region, projected_crs
        As in :func:`borderkit.io.readers.read_layer` (the region and projected CRSs
        of a case, e.g. ``borderkit.cases.case_config(name)``; default none).
    expect, expect_column, default_precision_m, sources, method, combine, chunk_size, progress
        As in :func:`check_table`.
    lines, territories, case
        As in :func:`locate` (default: the bundled case).

    Returns
    -------
    FileCheck
        ``table`` and ``rejected``.
    """
    good, rejected = _read_for_check(path, errors=errors, layer=layer, crs=crs, encoding=encoding, region=region,
                                     projected_crs=projected_crs)
    table = check_table(good, lines, expect=expect, expect_column=expect_column,
                        default_precision_m=default_precision_m, territories=territories, sources=sources,
                        method=method, combine=combine, chunk_size=chunk_size, progress=progress, case=case)
    return FileCheck(table, rejected)


def _read_for_check(path: Any, **read: Any) -> tuple[Any, pd.DataFrame | None]:
    """The rows of a file to check and the rejected ones (:func:`borderkit.io.readers.read_points`)."""
    from borderkit.io.readers import read_points

    res = read_points(path, **read)
    good, rejected = res if isinstance(res, tuple) else (res, None)
    if len(good) == 0:
        problems = list(rejected.attrs.get("problems", [])) if rejected is not None else []
        raise ValidationError(
            None if problems else f"{path}: no rows to check", problems=problems, path=str(path)
        )
    return good, rejected


class CheckedBlock(NamedTuple):
    """One block of rows of :func:`check_file_blocks`.

    ``frame``: the input's columns of these rows as :func:`borderkit.io.readers.read_points` reads
    them, without the geometry (a pandas DataFrame; ``attrs`` as read); ``lon``, ``lat``: the
    points (degrees, EPSG:4326); ``results``: their result columns (:func:`check_arrays`, a
    :class:`pyarrow.Table`); ``first_row``: the block's first row among the rows checked (0-based);
    ``geometry``: the points as read (a numpy array of shapely Points) when some point of the
    file has a third coordinate, which ``lon``/``lat`` leave out, else None (the points are
    exactly ``lon``/``lat``)."""

    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    results: Any
    first_row: int
    geometry: np.ndarray | None = None


class FileBlocks(NamedTuple):
    """Result of :func:`check_file_blocks`: ``blocks`` (an iterator of :class:`CheckedBlock`, in file
    order), ``rejected`` (as in :class:`FileCheck`), ``rows`` (rows to check in all), ``geometry``
    (the name of the input's geometry column), ``geometry_at`` (its position among the input's
    columns) and ``crs`` (of ``lon``/``lat``: EPSG:4326)."""

    blocks: Any
    rejected: pd.DataFrame | None
    rows: int
    geometry: str = "geometry"
    geometry_at: int = 0
    crs: Any = "EPSG:4326"


def checked_table(frame: Any, results: Any) -> Any:
    """One block's input columns and result columns as one :class:`pyarrow.Table`, ready to write.

    Parameters
    ----------
    frame
        The input's columns of the block (a pandas DataFrame without the geometry, e.g.
        :attr:`CheckedBlock.frame`); its ``attrs`` (the reader's notes) are not carried over.
    results
        The block's result columns (:func:`check_arrays`).

    Returns
    -------
    pyarrow.Table
        *frame*'s columns, then *results*' columns. An input column without any value in this
        block (Arrow type null) is typed as text, so that a later block holding text in it has
        the same schema (one file, or one dataset of part files).
    """
    import pandas as pd
    import pyarrow as pa

    flat = pd.DataFrame(frame).copy(deep=False)
    flat.attrs = {}  # the reader's notes (row numbers ...) are no column; pyarrow would try to store them
    inputs = pa.Table.from_pandas(flat, preserve_index=False)
    inputs = inputs.cast(pa.schema([pa.field(f.name, pa.large_string()) if pa.types.is_null(f.type) else f
                                    for f in inputs.schema]))
    return pa.Table.from_arrays([*inputs.columns, *results.columns],
                                names=[*inputs.column_names, *results.column_names])


def check_file_blocks(
    path: Any,
    *,
    block_rows: int = _FILE_CHUNK,
    expect: Any = None,
    expect_column: str | None = None,
    default_precision_m: float | None = None,
    sources: Any = None,
    method: str = "auto",
    combine: str = "sum",
    errors: str = "raise",
    layer: Any = None,
    crs: Any = None,
    encoding: str | None = None,
    region: tuple[float, float, float, float] | None = None,
    projected_crs: Sequence[str] | None = None,
    chunk_size: int = _FILE_CHUNK,
    progress: Any = None,
    lines: Any = None,
    territories: Any = None,
    case: Any = None,
) -> FileBlocks:
    """:func:`check_file`, handing the checked rows over one block of *block_rows* rows at a time.

    A file that streams (:mod:`borderkit.io.blocks`: a CSV table of points — plain, an ACLED or
    UCDP GED export, or a table with the incident schema's columns — or a GeoParquet file of
    points, with ``errors="raise"``, or with ``errors="collect"`` as
    :meth:`borderkit.io.blocks.PointBlocks.collect` says: it is then read and validated block by
    block once first, so that ``rejected`` and ``rows`` are known at the call;
    :func:`borderkit.io.blocks.stream_refusal` says why another file does not) is read
    block by block too, so that neither the file's
    rows nor the checked table are ever whole in memory; every block is validated by the readers'
    own checks, and a bad row anywhere raises, after the last block, the error :func:`check_file`
    raises (the caller writes into a temporary file it discards on error). Any other file is read
    and validated whole, exactly as :func:`check_file` reads it (the same rows, rejections and
    messages). Either way the result columns are made block by block by :func:`check_arrays`, as
    Arrow columns, so that a caller writing each block out (``borderkit check FILE -o
    OUT.csv|OUT.parquet``) never holds the whole checked table and builds no DataFrame of the
    results. Each block's results are exactly those of the same rows of :func:`check_file`'s table
    (the engine and index are chosen for the whole file; tested).

    Parameters
    ----------
    block_rows
        Rows per block.
    path, expect, expect_column, default_precision_m, sources, method, combine, errors, layer, crs
        As in :func:`check_file`.
    encoding, region, projected_crs, chunk_size, progress, lines, territories, case
        As in :func:`check_file`.

    Returns
    -------
    FileBlocks
        The blocks (computed as they are taken) and what a writer needs to know of the input.

    Raises
    ------
    ValidationError
        As :func:`check_file`: at the call for a file read whole, while ``blocks`` is iterated
        for a file read block by block.
    """
    if not isinstance(block_rows, int | np.integer) or block_rows < 1:
        raise ValidationError(f"block_rows: must be a positive integer, got {block_rows!r}")
    from borderkit.io.blocks import read_point_blocks

    # errors="collect": a file that streams is validated block by block first; with no bad row its
    # rows and results are those of errors="raise" and nothing is rejected (read_points' empty table)
    stream = read_point_blocks(path, block_rows=int(block_rows), errors="raise" if errors == "collect" else errors,
                               layer=layer, crs=crs, region=region, projected_crs=projected_crs, encoding=encoding)
    source: Any = stream
    rejected = None
    if stream is not None and errors == "collect":
        # validated block by block first: the good rows' number (the engine's n_total) and the
        # rejected rows are known at the call, as read_points gives them; None: read whole
        source = stream.collect()
        rejected = None if source is None else source.rejected
    if source is not None:
        options = dict(expect=expect, expect_column=expect_column, default_precision_m=default_precision_m,
                       territories=territories, sources=sources, method=resolve_method(method, source.rows),
                       combine=combine, chunk_size=chunk_size, progress=progress, case=case, n_total=source.rows,
                       coordinates_validated=True)  # every block yielded passed the readers' checks
        # the streamed points are WGS84 2D points (a file with a Z is read whole); the geometry column
        # comes first, as read_points puts it
        return FileBlocks(_streamed_blocks(source, lines, options), rejected, source.rows, "geometry", 0,
                          "EPSG:4326")
    good, rejected = _read_for_check(path, errors=errors, layer=layer, crs=crs, encoding=encoding, region=region,
                                     projected_crs=projected_crs)
    n = len(good)
    if expect_column is not None and expect_column in good.columns:
        # validated on the whole file first: a bad value is named by its row in the file, not in a block
        _expect_array(good[expect_column].to_numpy(dtype=object), n)
    import shapely

    geom = good.geometry.name
    pts = _as_points(good.geometry, None)  # WGS84 degrees (the readers' output already is)
    geoms = np.asarray(good.geometry.values, dtype=object)
    kept = geoms if bool(shapely.has_z(geoms).any()) else None  # a Z to keep in the output
    frame = _without_column(good, geom)
    options = dict(expect=expect, expect_column=expect_column, default_precision_m=default_precision_m,
                   lines=lines, territories=territories, sources=sources, method=resolve_method(method, n),
                   combine=combine, chunk_size=chunk_size, progress=progress, case=case, n_total=n,
                   coordinates_validated=True)  # read_points validated them; _as_points above too

    def blocks() -> Any:
        for a, b in _iter_chunks(n, int(block_rows)):
            part = frame.iloc[a:b]
            lon, lat = pts.lon[a:b], pts.lat[a:b]
            yield CheckedBlock(part, lon, lat, check_arrays(lon, lat, frame=part, **options), a,
                               None if kept is None else kept[a:b])

    return FileBlocks(blocks(), rejected, n, geom, list(good.columns).index(geom), "EPSG:4326")


def _without_column(table: Any, column: str) -> pd.DataFrame:
    """*table*'s other columns as a plain pandas DataFrame (no copy of their data; ``attrs`` kept)."""
    import pandas as pd

    out = pd.DataFrame(table).drop(columns=[column])
    out.attrs = dict(table.attrs)
    return out


def _streamed_blocks(stream: Any, lines: Any, options: dict[str, Any]) -> Any:
    """The checked blocks of a file read block by block (:mod:`borderkit.io.blocks`), raising what
    the whole-file path raises.

    The whole-file path reads and validates the file, then the expected parties of every row, then
    checks: its first error is the reader's, else the expected-party column's (named by the file's
    row), else :func:`check_arrays`'. Here the reader's error comes at the end of its iteration
    (after every block is validated), so an error of a later stage is held until then and raised
    only when the file reads clean; blocks stop being checked at the first error of any stage.
    No GeoDataFrame and no shapely Point is made: the block's columns and coordinates go to
    :func:`check_arrays` as they are read.
    """
    expect_column = options.get("expect_column")
    expect_error: ValidationError | None = None
    check_error: ValidationError | None = None
    done = 0  # rows checked before this block (the file's rows before it, less the rejected ones)
    for block in stream:  # raises the reader's ValidationError after the last block
        m = len(block.lon)
        first, done = done, done + m
        if expect_error is not None:
            continue
        frame = block.columns
        rows = block.rows if block.rows is not None else np.arange(block.first_row, block.first_row + m)
        # the reader's notes, as read_points(path).iloc[a:b] has them (the precision and coordinate columns)
        frame.attrs["borderkit"] = {**stream.info, "rows": rows}
        if expect_column is not None and expect_column in frame.columns:
            try:
                _expect_array(frame[expect_column].to_numpy(dtype=object), m, first=first)
            except ValidationError as exc:
                expect_error = exc
                continue
        if check_error is not None:
            continue
        try:
            results = check_arrays(block.lon, block.lat, frame=frame, lines=lines, **options)
        except ValidationError as exc:
            check_error = exc
            continue
        yield CheckedBlock(frame, block.lon, block.lat, results, first)
    if expect_error is not None:
        raise expect_error
    if check_error is not None:
        raise check_error
