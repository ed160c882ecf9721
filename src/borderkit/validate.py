"""Validation of borderkit layers: every problem, with its row and column, at once.

The readers in :mod:`borderkit.io` and the bundled dataset loader both call the
functions here, so a file a user brings and a file borderkit ships are held to
the same rules.

Public functions
----------------
:func:`validate_lines`, :func:`validate_territories`, :func:`validate_incidents`,
:func:`validate_places` (and the generic :func:`validate_layer`) take a
GeoDataFrame, bring it to the layer's schema and return the conformed copy, or
raise a :class:`~borderkit.errors.ValidationError` whose ``problems`` list holds
every problem found -- never only the first one. :func:`find_problems` returns
that list without raising.

What "conformed" means
----------------------
* EPSG:4326: a layer in another *declared* CRS is reprojected (``always_xy``
  axis order, longitude first); that is not an error. A layer without a CRS is.
* The schema's columns come first, in schema order, then every other column of
  the input, in its order (nothing is dropped). Optional text columns are
  filled with ``""``, optional numbers with NaN.
* Dates become ``datetime64[s]`` at midnight (the date only), so every year
  from 0001 to 9999 is kept (historical dates in a border dispute are
  legitimate data; nanosecond timestamps would stop at 1677 and 2262). Accepted text:
  ``YYYY-MM-DD`` (``/`` also accepted as separator, a time part is ignored),
  ``YYYY-MM`` and ``YYYY`` (first day of the month/year).
* ``sources`` becomes a list of dicts with exactly the keys ``publication``,
  ``title``, ``date``, ``url`` (JSON text, a list, a dict or a plain text/URL
  are accepted); a URL must be ``http://`` or ``https://``.
* ``kind``/``date_precision`` are compared without case and stored lower-case;
  party codes are stored upper-case.

Checks that stop a wrong reading
--------------------------------
Besides the schema: numbers must be finite (``inf``/``1e400`` are refused), a
point at exactly (0, 0) is a missing location, a line must not have the same
party on both sides, and no segment may be a spike (:data:`SPIKE_MIN_KM`) or
longer than :data:`MAX_SEGMENT_KM` (geodesic lengths on WGS84, vectorised).
Swapped latitude/longitude and coordinates in metres labelled as degrees are
reported everywhere; given the case's ``region`` and ``projected_crs`` (keyword
arguments, from ``borderkit.cases.case_config(name)``), the messages are sharper:
data that lands in the region only once swapped is called swapped, and the
projected CRS that puts metres in the region is named. The library holds no region
of its own.

Row numbers
-----------
``Problem.row`` is the 1-based *data* row: the first feature or record is row 1
and header rows are not counted. For CSV files the message also gives the row
as a spreadsheet shows it (``[spreadsheet row 5]``), which counts the header
and, in HDX exports, the HXL hashtag row.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from borderkit.errors import (
    CRSError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    Problem,
    ValidationError,
)
from borderkit.schema import (
    DATE_PRECISIONS,
    INCIDENTS,
    LINES,
    NAMES_COLUMN,
    PLACE_KINDS,
    PLACES,
    SCHEMAS,
    SOURCE_KEYS,
    TERRITORIES,
    LayerSchema,
    language_tag,
    name_language,
)

if TYPE_CHECKING:  # geopandas is imported on first use only
    from geopandas import GeoDataFrame

__all__ = [
    "LAYER_KINDS",
    "Region",
    "GeometryRepairedWarning",
    "validate_layer",
    "validate_lines",
    "validate_territories",
    "validate_incidents",
    "validate_places",
    "find_problems",
    "parse_dates",
    "DATE_DTYPE",
    "IssueLog",
    "conform",
    "to_text",
    "text_to_float",
    "short_repr",
    "guess_projected_crs",
    "projected_hint",
    "layer_schema",
    "MAX_SEGMENT_KM",
    "SPIKE_MIN_KM",
    "SPIKE_RATIO",
    "normalise_sources",
    "parse_names",
]

Region = tuple[float, float, float, float]
"""A region as (west, south, east, north) in degrees, e.g. a case's ``CaseConfig.region``.

Given to the readers and validators (``region=``), it drives the swapped
latitude/longitude check and the naming of a projected CRS: data that lands in
the region only after swapping x/y (or only after reading it in another CRS) was
almost certainly written that way by mistake. Without a region, only what needs
none is checked (a latitude out of range that fits once swapped, metres
labelled as degrees).
"""

LAYER_KINDS: tuple[str, ...] = ("lines", "territories", "incidents", "places")
"""Layer kinds that carry a geometry (``claims`` is a plain table)."""

_PROJECTED_THRESHOLD = 1000.0
"""A coordinate larger than this (in absolute value) is metres, not degrees."""

DATE_DTYPE = "datetime64[s]"
"""dtype of every date column: second resolution covers years 0001-9999
(``datetime64[ns]`` would overflow before 1677 and after 2262)."""

_ROWS_NAMED = 5
"""At most this many row numbers are listed in one message (the rest are counted)."""

_DATE_HINT = "write dates as YYYY-MM-DD (e.g. 2020-07-12)"

_ISO_DATE = re.compile(
    r"^\s*(?P<y>\d{4})(?:[-/](?P<m>\d{1,2})(?:[-/](?P<d>\d{1,2}))?)?"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*$"
)
_PARTY = re.compile(r"^[A-Z]{3}$")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$")

# Categories of problems decide the type of the error raised.
_ERROR_TYPES: dict[str, type[ValidationError]] = {
    "crs": CRSError,
    "encoding": EncodingError,
    "format": FileFormatError,
    "empty": EmptyFileError,
}


class GeometryRepairedWarning(UserWarning):
    """Emitted when ``repair=True`` changed geometries (the rows are also flagged in
    the ``geometry_repaired`` column)."""


# ---------------------------------------------------------------------------
# Problem log
# ---------------------------------------------------------------------------


@dataclass
class _Issue:
    pos: int | None
    column: str | None
    message: str
    category: str


class IssueLog:
    """Collects problems by *position* in a frame and turns them into
    :class:`~borderkit.errors.Problem` objects with user-facing row numbers.

    Parameters
    ----------
    n
        Number of rows of the frame.
    path
        File named in every problem.
    rows
        User-facing 1-based data row number of each position (default 1..n).
    sheet_offset
        Header rows above the data in a spreadsheet view (1 for CSV, 2 for an
        HDX export with its HXL row); when given, messages end with
        ``[spreadsheet row N]``.
    """

    def __init__(
        self,
        n: int,
        *,
        path: str | None = None,
        rows: Sequence[int] | np.ndarray | None = None,
        sheet_offset: int | None = None,
    ) -> None:
        self.n = n
        self.path = None if path is None else str(path)
        self.rows = np.arange(1, n + 1) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(self.rows) != n:
            raise ValueError("rows must have one number per row")
        self.sheet_offset = sheet_offset
        self.items: list[_Issue] = []
        self._blocked: dict[str, np.ndarray] = {}

    # -- adding ---------------------------------------------------------
    def add_file(self, message: str, *, column: str | None = None, category: str = "data") -> None:
        """A problem of the whole file (no row)."""
        self.items.append(_Issue(None, column, message, category))

    def add_rows(
        self,
        where: np.ndarray | Sequence[int] | pd.Series,
        column: str | None,
        message: str | Callable[[int], str] | Sequence[str],
        *,
        category: str = "data",
        block: Iterable[str] = (),
    ) -> None:
        """Add one problem per selected position.

        ``where`` is a boolean mask or an array of positions; ``message`` a
        string, a function of the position, or one string per selected position.
        Columns named in ``block`` are not checked again for these positions
        (so one cause gives one problem, not two).
        """
        pos = _positions(where, self.n)
        if len(pos) == 0:
            return
        if isinstance(message, str):
            msgs: Sequence[str] = [message] * len(pos)
        elif callable(message):
            msgs = [message(int(p)) for p in pos]
        else:
            msgs = list(message)
            if len(msgs) != len(pos):
                raise ValueError("one message per position expected")
        for p, m in zip(pos, msgs, strict=True):
            self.items.append(_Issue(int(p), column, m, category))
        for col in block:
            self.block(col, pos)

    def block(self, column: str, where: np.ndarray | Sequence[int]) -> None:
        mask = self._blocked.setdefault(column, np.zeros(self.n, dtype=bool))
        mask[_positions(where, self.n)] = True

    def blocked(self, column: str) -> np.ndarray:
        """Boolean mask of positions whose ``column`` is already reported."""
        return self._blocked.get(column, np.zeros(self.n, dtype=bool))

    def has_file_issue(self, category: str) -> bool:
        return any(i.pos is None and i.category == category for i in self.items)

    # -- reading --------------------------------------------------------
    @property
    def file_issues(self) -> list[_Issue]:
        return [i for i in self.items if i.pos is None]

    def bad_positions(self) -> np.ndarray:
        return np.array(sorted({i.pos for i in self.items if i.pos is not None}), dtype=np.int64)

    def _problem(self, issue: _Issue) -> Problem:
        if issue.pos is None:
            return Problem(issue.message, path=self.path, column=issue.column)
        row = int(self.rows[issue.pos])
        msg = issue.message
        if self.sheet_offset:
            msg = f"{msg} [spreadsheet row {row + self.sheet_offset}]"
        return Problem(msg, path=self.path, row=row, column=issue.column)

    def problems(self) -> list[Problem]:
        """Every problem: file-level ones first, then by row (stable)."""
        file_level = [self._problem(i) for i in self.items if i.pos is None]
        by_row = sorted(((i.pos, i) for i in self.items if i.pos is not None), key=lambda pos_issue: pos_issue[0])
        return file_level + [self._problem(i) for _, i in by_row]

    def messages_by_position(self) -> dict[int, list[tuple[str | None, str]]]:
        out: dict[int, list[tuple[str | None, str]]] = {}
        for i in self.items:
            if i.pos is not None:
                out.setdefault(i.pos, []).append((i.column, i.message))
        return out

    def error_type(self, items: Iterable[_Issue] | None = None) -> type[ValidationError]:
        return error_type_for(i.category for i in (self.items if items is None else items))

    def raise_if_any(self) -> None:
        if self.items:
            raise self.error_type()(problems=self.problems(), path=self.path)


def error_type_for(categories: Iterable[str]) -> type[ValidationError]:
    """The error raised for problems of these categories: the one subclass they all share
    (``"crs"`` -> :class:`~borderkit.errors.CRSError` …), else :class:`ValidationError`."""
    cats = set(categories)
    if len(cats) == 1:
        return _ERROR_TYPES.get(cats.pop(), ValidationError)
    return ValidationError


def _positions(where: Any, n: int) -> np.ndarray:
    arr = np.asarray(where)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError("mask of the wrong length")
        return np.flatnonzero(arr)
    return arr.astype(np.int64).ravel()


# ---------------------------------------------------------------------------
# Value helpers (shared with borderkit.io)
# ---------------------------------------------------------------------------


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (for quoting a bad value in a message)."""
    text = repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "…" + text[-1]


def _fmt_value(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, float | np.floating) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def to_text(series: pd.Series) -> pd.Series:
    """Text column with ``""`` for missing values (numbers shown without ``.0``)."""
    if isinstance(series.dtype, pd.StringDtype):
        # already text (a CSV column): only the missing values change, without a Python
        # object per cell (same result as the general path below)
        out = series.fillna("").astype(str)
        out.name = None
        return out
    obj = series.astype(object)
    na = pd.isna(obj).to_numpy(dtype=bool) if len(obj) else np.zeros(0, dtype=bool)
    out = obj.where(~na, "")
    nonstr = ~out.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if nonstr.any():
        out[nonstr] = out[nonstr].map(_fmt_value)
    return pd.Series(out.to_numpy(dtype=object), index=series.index, dtype=object).astype(str)


_PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def text_to_float(text: pd.Series) -> np.ndarray:
    """Numbers of a text column (e.g. :func:`to_text` stripped): NaN where empty or not a number.

    The values of ``pandas.to_numeric(text.where(text != ""), errors="coerce")``. A column
    whose every value is a plain decimal number (``-12.5``, ``.5``, ``1e-3``) is parsed by
    Arrow instead, vectorised and about 3x faster; both parsers round correctly, so the floats
    are the same bits (tested); anything else (``inf``, a comma, text) takes the pandas path.
    """
    if len(text) and isinstance(text.dtype, pd.StringDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(text.array)
        empty = pc.equal(arr, "")
        plain = pc.or_(empty, pc.match_substring_regex(arr, _PLAIN_NUMBER))
        if pc.all(plain).as_py():
            values = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), arr), pa.float64())
            return np.asarray(values.to_numpy(zero_copy_only=False), dtype=float)
    return pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)


def parse_dates(series: pd.Series, *, formats: Sequence[str] = ()) -> tuple[pd.Series, np.ndarray, pd.Series]:
    """Parse a column of dates, vectorised.

    Parameters
    ----------
    series
        Text, datetime or date values.
    formats
        Further :func:`~datetime.datetime.strptime` formats tried, in order, for
        values that are not ISO 8601 (e.g. ``"%d %B %Y"`` for ACLED web exports).

    Returns
    -------
    dates
        :data:`DATE_DTYPE` (``datetime64[s]``, years 0001-9999) at midnight,
        NaT where empty or unparseable.
    bad
        Boolean mask of values that are present but not a date.
    granularity
        ``"day"``, ``"month"`` or ``"year"`` (what the text gave), ``""`` if
        unknown.
    """
    n = len(series)
    index = series.index
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        s = series
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        out = s.dt.normalize().astype(DATE_DTYPE)
        gran = pd.Series(np.where(out.isna(), "", "day"), index=index, dtype=object)
        return out, np.zeros(n, dtype=bool), gran
    obj = series.astype(object)
    na = pd.isna(obj).to_numpy(dtype=bool) if n else np.zeros(0, dtype=bool)
    is_str = obj.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    result = pd.Series(pd.NaT, index=index, dtype=DATE_DTYPE)
    gran = pd.Series("", index=index, dtype=object)
    bad = np.zeros(n, dtype=bool)
    # date/datetime objects (GeoParquet date32, GPKG datetimes in object columns)
    other = ~na & ~is_str
    if other.any():
        try:
            conv = pd.to_datetime(obj[other], errors="coerce")
            if getattr(conv.dt, "tz", None) is not None:
                conv = conv.dt.tz_localize(None)
            result[other] = conv.dt.normalize().astype(DATE_DTYPE)
            gran[other] = "day"
            bad[other] = conv.isna().to_numpy()
        except (ValueError, TypeError, OverflowError):
            # out-of-range or mixed objects: read them through their text
            # (ISO for date/datetime objects) below, one rule for all
            obj = obj.copy()
            obj[other] = obj[other].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
            is_str = is_str | other
    text = obj.where(is_str, "").astype(str).str.strip()
    present = is_str & (text != "").to_numpy(dtype=bool)
    if present.any():
        parts = text[present].str.extract(_ISO_DATE)
        matched = parts["y"].notna().to_numpy(dtype=bool)
        y = parts["y"]
        m = parts["m"].fillna("1").str.zfill(2)
        d = parts["d"].fillna("1").str.zfill(2)
        iso = (y + "-" + m + "-" + d).where(parts["y"].notna())
        parsed = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").astype(DATE_DTYPE)
        g = np.where(parts["d"].notna(), "day", np.where(parts["m"].notna(), "month", "year"))
        sub_idx = text.index[present]
        result.loc[sub_idx] = parsed.to_numpy()
        gran.loc[sub_idx] = np.where(matched & parsed.notna().to_numpy(), g, "")
        still = ~matched
        for fmt in formats:
            if not still.any():
                break
            idx = sub_idx[still]
            conv = pd.to_datetime(text.loc[idx], format=fmt, errors="coerce").astype(DATE_DTYPE)
            ok = conv.notna().to_numpy()
            result.loc[idx[ok]] = conv[ok].dt.normalize().to_numpy()
            gran.loc[idx[ok]] = "day"
            still[np.flatnonzero(still)[ok]] = False
        pos = np.flatnonzero(present)
        bad[pos] = result.iloc[pos].isna().to_numpy()
    return result, bad, gran


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _source_record(item: Any, errs: list[str]) -> dict[str, str] | None:
    if isinstance(item, dict):
        rec = dict.fromkeys(SOURCE_KEYS, "")
        for k, v in item.items():
            key = str(k).strip().lower()
            if key not in SOURCE_KEYS:
                errs.append(f"unknown key {str(k)!r} in a source record; use only " + ", ".join(SOURCE_KEYS))
                continue
            rec[key] = "" if v is None or (isinstance(v, float) and math.isnan(v)) else _fmt_value(v).strip()
        return rec
    if isinstance(item, str):
        text = item.strip()
        if not text:
            return None
        if _URL_LIKE.match(text):
            return {"publication": "", "title": "", "date": "", "url": text}
        return {"publication": text, "title": "", "date": "", "url": ""}
    errs.append(f"a source record must be an object with keys {', '.join(SOURCE_KEYS)}, not {short_repr(item)}")
    return None


def normalise_sources(value: Any) -> tuple[list[dict[str, str]], list[str]]:
    """Turn one ``sources`` value into a list of records.

    Accepts JSON text (a list of objects or one object), a list/tuple/array of
    dicts or strings, a dict, or plain text (a URL becomes ``{"url": …}``, other
    text ``{"publication": …}``).

    Returns
    -------
    records, errors
        ``errors`` holds one message per problem (bad JSON, unknown key, a URL
        that is not http(s)); the records are still returned.
    """
    errs: list[str] = []
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return [], errs
    if isinstance(value, np.ndarray):
        value = value.tolist()
    items: list[Any]
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return [], errs
        if text[0] in "[{":
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError as exc:
                errs.append(
                    f"sources is not valid JSON ({exc.msg} at character {exc.pos}); write a JSON list "
                    'like [{"publication": "…", "title": "…", "date": "2021-05-13", "url": "https://…"}]'
                )
                return [], errs
            items = loaded if isinstance(loaded, list) else [loaded]
        else:
            items = [text]
    elif isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, dict):
        items = [value]
    else:
        items = [_fmt_value(value)]
    records = []
    for item in items:
        if isinstance(item, np.ndarray):
            item = item.tolist()
        rec = _source_record(item, errs)
        if rec is not None:
            records.append(rec)
    for rec in records:
        url = rec["url"]
        if url and not _is_http_url(url):
            errs.append(
                f"source URL {short_repr(url)} is not an http(s) link; give the web address starting with "
                "https:// (other schemes such as javascript: or file: are refused)"
            )
    return records, errs


# ---------------------------------------------------------------------------
# Geometry checks
# ---------------------------------------------------------------------------


def _geom_type_ids(names: Iterable[str]) -> set[int]:
    import shapely

    return {int(getattr(shapely.GeometryType, n.upper())) for n in names}


_TYPE_NAMES = {
    -1: "missing geometry",
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}

_TYPE_HINTS = {
    "lines": "convert it to a LineString (polygons: their boundary) or load the file as the right layer kind",
    "territories": "load lines with read_lines, or close the ring into a Polygon",
    "incidents": "give each incident one Point (e.g. the centroid of the area reported)",
    "places": "give a place a Point (roads a LineString)",
}


def _boxes_intersect(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, box: Sequence[float]
) -> np.ndarray:
    w, s, e, n = box
    return (x1 >= w) & (x0 <= e) & (y1 >= s) & (y0 <= n)


def _crs_with_name(code: str) -> str:
    """``"EPSG:32638 (WGS 84 / UTM zone 38N)"``: a CRS as the user wrote it, with pyproj's name."""
    from pyproj import CRS

    return f"{code} ({CRS.from_user_input(code).name})"


def guess_projected_crs(
    cx: np.ndarray, cy: np.ndarray, *, region: Region | None, candidates: Sequence[str] | None
) -> list[str | None]:
    """For each centre (metres), the first of *candidates* that puts it in *region*, or None.

    Parameters
    ----------
    cx, cy
        Centres of features (x, y) whose numbers are metres labelled as degrees.
    region
        (west, south, east, north) in degrees, e.g. ``CaseConfig.region``; None: no guess.
    candidates
        Projected CRSs to try, in order (anything pyproj takes, e.g. ``"EPSG:32638"``),
        e.g. ``CaseConfig.projected_crs``; None or empty: no guess.

    Returns
    -------
    list of str or None
        One entry per centre: the candidate with its name (``"EPSG:32638 (WGS 84 / UTM
        zone 38N)"``) under which the centre falls in *region*, None when none does (or
        without a region or candidates).
    """
    from pyproj import Transformer

    out: list[str | None] = [None] * len(cx)
    if region is None or not candidates:
        return out
    w, s, e, n = region
    todo = np.ones(len(cx), dtype=bool)
    for code in candidates:
        if not todo.any():
            break
        tr = Transformer.from_crs(code, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(cx, cy)
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        with np.errstate(invalid="ignore"):
            inside = np.isfinite(lon) & np.isfinite(lat) & (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        hits = np.flatnonzero(inside & todo)
        if len(hits):
            label = _crs_with_name(code)
            for i in hits:
                out[i] = label
        todo &= ~inside
    return out


def projected_hint(guess: str | None, *, region: Region | None, candidates: Sequence[str] | None) -> str:
    """The fix named when coordinates in metres are labelled as degrees (or have no CRS).

    *guess* is an entry of :func:`guess_projected_crs`; without one, the *candidates*
    are named when given, else the user is asked to declare the CRS.
    """
    if guess:
        return (
            f"read as {guess} they fall in the case region — pass crs={guess.split(' ')[0]!r} to the reader "
            "(or gdf.set_crs(..., allow_override=True))"
        )
    if candidates:
        named = ", ".join(repr(c) for c in candidates)
        where = "" if region is None else ", though none of them puts the data in the case region"
        return (
            f"set the CRS they were written in with the reader's crs= (or gdf.set_crs(..., "
            f"allow_override=True)); the case's projected CRSs are {named}{where}"
        )
    return (
        "declare the CRS they were written in (e.g. the UTM zone of the data) with the reader's crs= "
        "or gdf.set_crs(..., allow_override=True)"
    )


def _check_geometry(
    geoms: np.ndarray,
    schema: LayerSchema,
    log: IssueLog,
    *,
    coord_columns: tuple[str, str] | None,
    crs_label: str,
    check_coordinates: bool,
    swap_check: bool,
    region: Region | None,
    projected_crs: Sequence[str] | None,
    repair: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Check geometries; return (possibly repaired geometries, repaired mask)."""
    import shapely

    n = len(geoms)
    geoms = np.asarray(geoms, dtype=object).copy()
    repaired = np.zeros(n, dtype=bool)
    gcol = "geometry"
    xcol, ycol = coord_columns if coord_columns else (gcol, gcol)
    blocked = log.blocked(gcol)

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report_missing = missing & ~blocked & (not schema.allow_empty_geometry)
    if coord_columns:
        msg_missing = (
            f"no coordinates: {ycol!r} and {xcol!r} are empty; fill in both in decimal degrees "
            "(e.g. latitude 39.2, longitude 46.4)"
        )
        miss_col = ycol
    else:
        msg_missing = (
            "the feature has no geometry; give it a "
            + " or ".join(schema.geometry_types)
            + " in longitude/latitude degrees, or remove the feature"
        )
        miss_col = gcol
    log.add_rows(report_missing, miss_col, msg_missing, block=(gcol,))
    present = ~missing & ~blocked

    # -- geometry type ----------------------------------------------------
    type_ids = shapely.get_type_id(geoms)
    allowed = _geom_type_ids(schema.geometry_types)
    wrong = present & ~np.isin(type_ids, list(allowed))
    want = " or ".join(schema.geometry_types)
    article = "an" if schema.kind[0] in "aeiou" else "a"
    log.add_rows(
        wrong,
        gcol,
        lambda p: (
            f"geometry is a {_TYPE_NAMES.get(int(type_ids[p]), '?')}, but {article} {schema.kind} layer takes "
            f"{want}; {_TYPE_HINTS.get(schema.kind, 'convert it')}"
        ),
        block=(gcol,),
    )
    present &= ~wrong

    # -- NaN / infinite coordinates (vectorised over all vertices) -------
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords):
        nonfinite = ~np.isfinite(coords).all(axis=1)
        bad_rows = np.unique(idx[nonfinite])
        mask = np.zeros(n, dtype=bool)
        mask[bad_rows] = True
        mask &= present
        log.add_rows(
            mask,
            ycol if coord_columns else gcol,
            "coordinates are NaN (missing) or infinite; fill in the missing coordinates or remove the vertex",
            block=(gcol,),
        )
        present &= ~mask

    # -- ranges, swapped, projected, (0, 0) -----------------------------
    if check_coordinates and present.any():
        b = shapely.bounds(geoms)
        present = check_coordinate_values(
            b[:, 0], b[:, 1], b[:, 2], b[:, 3], type_ids == 0, present, log,
            coord_columns=coord_columns, crs_label=crs_label, swap_check=swap_check, region=region,
            projected_crs=projected_crs,
        )

    # -- absurd segments: spikes and jumps (geodesic lengths, vectorised) ----
    if check_coordinates and present.any():
        linear = present & np.isin(type_ids, [1, 3, 5, 6])
        if linear.any():
            for bad, msg in _segment_problems(geoms, linear).items():
                log.add_rows([bad], gcol, msg, block=(gcol,))
                present[bad] = False

    # -- validity ----------------------------------------------------------
    if present.any():
        valid = np.ones(n, dtype=bool)
        valid[present] = shapely.is_valid(geoms[present])
        simple = np.ones(n, dtype=bool)
        crossings: dict[int, tuple[float, float] | None] = {}
        is_line = present & np.isin(type_ids, [1, 5])
        if is_line.any():
            simple[is_line] = shapely.is_simple(geoms[is_line])
            # OGC "simple" also fails for parts that merely meet end to end;
            # only a crossing (noding adds a vertex) is a problem
            for p in np.flatnonzero(is_line & ~simple):
                crossing = _crossing_point(geoms[p])
                crossings[int(p)] = crossing
                simple[p] = crossing is None
        bad_valid = present & ~valid
        bad_simple = present & valid & ~simple
        if repair and (bad_valid.any() or bad_simple.any()):
            fix = bad_valid | bad_simple
            pos = np.flatnonzero(fix)
            new = shapely.make_valid(geoms[pos], method="structure", keep_collapsed=False)
            # OGC calls a self-crossing line valid, so make_valid keeps it as it
            # is: split such lines at their crossings instead.
            lines_left = np.isin(shapely.get_type_id(new), [1, 5]) & ~shapely.is_simple(new)
            for i in np.flatnonzero(lines_left):
                if _crossing_point(new[i]) is not None:
                    new[i] = shapely.node(new[i])
            ok = (
                ~shapely.is_empty(new)
                & np.isin(shapely.get_type_id(new), list(allowed))
                & shapely.is_valid(new)
            )
            geoms[pos[ok]] = new[ok]
            repaired[pos[ok]] = True
            failed = pos[~ok]
            log.add_rows(
                failed,
                gcol,
                lambda p: (
                    f"geometry is invalid ({shapely.is_valid_reason(geoms[p])}) and shapely.make_valid "
                    f"could not turn it into a valid {want}; fix it in the source"
                ),
            )
        else:
            if bad_valid.any():
                pos = np.flatnonzero(bad_valid)
                reasons = shapely.is_valid_reason(geoms[pos])
                log.add_rows(
                    pos,
                    gcol,
                    [
                        f"geometry is invalid ({r}); fix it in the source or pass repair=True "
                        "to repair it with shapely.make_valid"
                        for r in reasons
                    ],
                )
            if bad_simple.any():
                pos = np.flatnonzero(bad_simple)
                log.add_rows(pos, gcol, [_crossing_message(crossings[int(p)]) for p in pos])
    return geoms, repaired


def check_coordinate_values(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    is_point: np.ndarray,
    present: np.ndarray,
    log: IssueLog,
    *,
    coord_columns: tuple[str, str] | None,
    crs_label: str,
    swap_check: bool,
    region: Region | None,
    projected_crs: Sequence[str] | None,
) -> np.ndarray:
    """Report coordinates out of range, swapped, projected (metres as degrees) or exactly (0, 0).

    The one implementation of these checks, for the geometries of a layer (their bounds, from
    :func:`conform`) and for the points of a file read block by block
    (:mod:`borderkit.io.blocks`, ``x0 = x1`` = longitude, ``y0 = y1`` = latitude, no shapely
    geometry). Every check is a check of one row: a block gets exactly the problems of its rows
    in the whole file.

    Parameters
    ----------
    x0, y0, x1, y1
        Bounds of each row's geometry (degrees, as labelled).
    is_point
        Rows whose geometry is a Point (the (0, 0) check applies to points only).
    present
        Rows to check (finite coordinates, not yet reported); the others are skipped.
    log
        Where the problems go (its positions are the rows of the arrays).
    coord_columns
        (longitude, latitude) columns of a table, named in the messages; None: ``geometry``.
    crs_label, swap_check, region, projected_crs
        As in :func:`conform` (``crs_label`` names the CRS the layer declares).

    Returns
    -------
    numpy.ndarray
        *present* without the rows reported here.
    """
    n = len(x0)
    gcol = "geometry"
    xcol, ycol = coord_columns if coord_columns else (gcol, gcol)
    with np.errstate(invalid="ignore"):
        lon_bad = present & ((x0 < -180) | (x1 > 180))
        lat_bad = present & ((y0 < -90) | (y1 > 90))
        out = lon_bad | lat_bad
        # the largest magnitude of the four (NaN ignored: an all-NaN row is not big)
        biggest = np.fmax(np.fmax(np.abs(x0), np.abs(y0)), np.fmax(np.abs(x1), np.abs(y1)))
        big = present & (biggest > _PROJECTED_THRESHOLD)
        # in range once x and y are swapped (needs no region)
        fits_swapped = (x0 >= -90) & (x1 <= 90) & (y0 >= -180) & (y1 <= 180)
    if coord_columns:
        fix = f"swap the columns {ycol!r} and {xcol!r}"
    else:
        fix = "swap x and y (x must be longitude, y latitude), e.g. re-export with the axis order fixed"
    swapped = np.zeros(n, dtype=bool)
    if swap_check and region is not None:
        # outside the region (or out of range) as written, inside it once x and y are
        # swapped: almost certainly written the wrong way round
        with np.errstate(invalid="ignore"):
            orig_in = _boxes_intersect(x0, y0, x1, y1, region)
            swap_in = _boxes_intersect(y0, x0, y1, x1, region)
        swapped = present & ~big & ~orig_in & swap_in
        west, south, east, north = region
        log.add_rows(
            swapped,
            ycol if coord_columns else gcol,
            lambda p: (
                f"looks like latitude and longitude are swapped; swapping puts it in the case region "
                f"({west}–{east} E, {south}–{north} N) — {fix} "
                f"(read now as longitude {_num(x0[p])}, latitude {_num(y0[p])})"
            ),
            block=(gcol,),
        )
    elif swap_check:
        # without a region, only what needs none: a latitude out of range whose values
        # are in range once swapped (with a region, such data that does not land in it
        # is reported as out of range: the region is the better test)
        swapped = present & lat_bad & fits_swapped
        log.add_rows(
            swapped,
            ycol if coord_columns else gcol,
            lambda p: (
                f"latitude {_num(y1[p] if y1[p] > 90 else y0[p])} is outside -90…90 but the values are in "
                f"range once swapped: looks like latitude and longitude are swapped — {fix}, or correct "
                f"the value (read now as longitude {_num(x0[p])}, latitude {_num(y0[p])})"
            ),
            block=(gcol,),
        )
    proj = big & ~swapped
    if proj.any():
        pos = np.flatnonzero(proj)
        guesses = guess_projected_crs(
            (x0[pos] + x1[pos]) / 2, (y0[pos] + y1[pos]) / 2, region=region, candidates=projected_crs
        )
        msgs = [
            f"coordinates ({_num(x0[p])}, {_num(y0[p])}) look like a projected CRS in metres, "
            f"not longitude/latitude degrees, but the layer says {crs_label}; "
            + projected_hint(guess, region=region, candidates=projected_crs)
            for p, guess in zip(pos, guesses, strict=True)
        ]
        log.add_rows(pos, ycol if coord_columns else gcol, msgs, category="crs", block=(gcol,))
    rest = out & ~swapped & ~big
    if rest.any():

        def _range_msg(p: int) -> str:
            parts = []
            if lat_bad[p]:
                v = y1[p] if y1[p] > 90 else y0[p]
                parts.append(f"latitude {_num(v)} is outside -90…90")
            if lon_bad[p]:
                v = x1[p] if x1[p] > 180 else x0[p]
                parts.append(f"longitude {_num(v)} is outside -180…180")
            return " and ".join(parts) + "; correct the value (decimal degrees, WGS84)"

        if coord_columns:
            for mask, col in ((rest & lat_bad, ycol), (rest & lon_bad & ~lat_bad, xcol)):
                log.add_rows(mask, col, _range_msg, block=(gcol,))
        else:
            log.add_rows(rest, gcol, _range_msg, block=(gcol,))
    present = present & ~(swapped | proj | rest)
    # a Point at exactly (0, 0) ("Null Island", in the Gulf of Guinea) is a missing
    # value written as zeros far more often than a real place
    null_island = present & is_point & (x0 == 0.0) & (y0 == 0.0)
    log.add_rows(
        null_island,
        ycol if coord_columns else gcol,
        "coordinates are exactly (0, 0), a missing value written as zeros; fill in the real "
        "coordinates (decimal degrees, WGS84) or remove the row",
        block=(gcol,),
    )
    return present & ~null_island


MAX_SEGMENT_KM = 1000.0
"""A segment of a line or ring longer than this (geodesic, km) is reported.

Boundary data is digitised with vertices every few metres to a few
kilometres; the longest straight land boundaries are drawn with many vertices.
A 1,000 km segment is a misplaced vertex (a typo, a swapped or zero
coordinate), not a boundary."""

SPIKE_MIN_KM = 50.0
"""A vertex whose two segments are both longer than this (km) while its two
neighbours are within :data:`SPIKE_RATIO` of that length of each other is a
spike: the line runs out to a far point and comes back."""

SPIKE_RATIO = 0.2
"""See :data:`SPIKE_MIN_KM`: the neighbours of a spike are closer than this share of its shorter leg."""


def _segment_problems(geoms: np.ndarray, which: np.ndarray) -> dict[int, str]:
    """Position -> message for lines/polygons with a spike or an absurdly long segment.

    Every segment's geodesic length is computed at once (pyproj Geod.inv on
    the WGS84 ellipsoid, through :func:`borderkit.geodesy.geodesic_distance`).
    """
    import shapely

    from borderkit.geodesy import geodesic_distance

    pos = np.flatnonzero(which)
    parts, part_of = shapely.get_parts(geoms[pos], return_index=True)
    # polygons: every ring (exterior and holes) is a closed line
    poly = shapely.get_type_id(parts) == 3
    if poly.any():
        rings, ring_of = shapely.get_rings(parts[poly], return_index=True)
        lines = np.concatenate([parts[~poly], rings])
        line_row = np.concatenate([part_of[~poly], part_of[poly][ring_of]])
    else:
        lines, line_row = parts, part_of
    xy, line_idx = shapely.get_coordinates(lines, return_index=True)
    if len(xy) < 2:
        return {}
    same = line_idx[1:] == line_idx[:-1]
    seg = np.flatnonzero(same)
    d = np.full(len(xy) - 1, np.nan)
    d[seg] = geodesic_distance(xy[seg, 0], xy[seg, 1], xy[seg + 1, 0], xy[seg + 1, 1]) / 1000.0
    out: dict[int, str] = {}

    def vertex_no(k: int) -> int:
        # 1-based number of vertex k within its own line (part or ring)
        return int(k - np.searchsorted(line_idx, line_idx[k]) + 1)

    # spikes: vertex k (k-1 -> k -> k+1 in one line), both legs long, neighbours close
    if len(d) >= 2:
        a, b = d[:-1], d[1:]
        k = np.arange(1, len(xy) - 1)
        both = same[:-1] & same[1:] & (a > SPIKE_MIN_KM) & (b > SPIKE_MIN_KM)
        cand = k[both]
        if len(cand):
            back = geodesic_distance(xy[cand - 1, 0], xy[cand - 1, 1], xy[cand + 1, 0], xy[cand + 1, 1])
            legs = np.minimum(a[cand - 1], b[cand - 1])
            spike = cand[back / 1000.0 < SPIKE_RATIO * legs]
            # one message per row (its first spike): a loop over rows, not vertices
            rows_s, first = np.unique(pos[line_row[line_idx[spike]]], return_index=True)
            for row, v in zip(rows_s.tolist(), spike[first], strict=True):
                out[row] = (
                    f"vertex {vertex_no(v)} at ({_num(xy[v, 0])}, {_num(xy[v, 1])}) is a spike: the line runs "
                    f"{d[v - 1]:,.0f} km out to it and {d[v]:,.0f} km back (geodesic, WGS84) — usually a "
                    "mistyped, swapped or zero coordinate; correct or remove that vertex"
                )
    with np.errstate(invalid="ignore"):
        long_seg = np.flatnonzero(d > MAX_SEGMENT_KM)
    rows_l, first = np.unique(pos[line_row[line_idx[long_seg]]], return_index=True)
    for row, s_ in zip(rows_l.tolist(), long_seg[first], strict=True):
        if row in out:
            continue
        out[row] = (
            f"the segment from vertex {vertex_no(s_)} ({_num(xy[s_, 0])}, {_num(xy[s_, 1])}) to "
            f"({_num(xy[s_ + 1, 0])}, {_num(xy[s_ + 1, 1])}) is {d[s_]:,.0f} km long (geodesic, WGS84; "
            f"more than {MAX_SEGMENT_KM:,.0f} km) — a vertex is probably wrong; correct it, or add the "
            "vertices between"
        )
    return out


def _num(v: float) -> str:
    if not np.isfinite(v):
        return str(v)
    return f"{v:.6f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.1f}"


def _crossing_point(geom: Any) -> tuple[float, float] | None:
    """A point where a line crosses itself (a vertex noding adds), or None."""
    import shapely

    # vectorised set difference (x + iy as one sortable number): a Python
    # set of a million vertex tuples took tens of seconds and gigabytes
    before = shapely.get_coordinates(geom)
    after = shapely.get_coordinates(shapely.node(geom))
    b = before[:, 0] + 1j * before[:, 1]
    a = after[:, 0] + 1j * after[:, 1]
    b.sort()  # complex numbers sort by real, then imaginary part
    at = np.clip(np.searchsorted(b, a), 0, len(b) - 1)
    new = np.flatnonzero(b[at] != a)
    if len(new) == 0:
        return None
    x, y = after[new[0]]
    return float(x), float(y)


def _crossing_message(pt: tuple[float, float] | None) -> str:
    where = ""
    if pt is not None:
        where = f" at ({_num(pt[0])}, {_num(pt[1])})"
    return (
        f"the line crosses itself{where} (self-intersection); fix the vertex order in the source "
        "or pass repair=True to split it at the crossing"
    )


# ---------------------------------------------------------------------------
# Conforming a frame to a schema
# ---------------------------------------------------------------------------


def is_wgs84(crs: Any) -> bool:
    """Whether *crs* (anything pyproj takes) is WGS84 longitude/latitude, in either axis order."""
    from pyproj import CRS

    try:
        c = CRS.from_user_input(crs)
    except Exception:
        return False
    return c.equals(CRS.from_epsg(4326), ignore_axis_order=True)


def crs_label_of(crs: Any) -> str:
    """How messages name a layer's CRS: ``"EPSG:4326"``, else pyproj's name, or ``"no CRS"``."""
    if crs is None:
        return "no CRS"
    try:
        epsg = crs.to_epsg()
    except Exception:
        epsg = None
    return f"EPSG:{epsg}" if epsg else str(getattr(crs, "name", crs))


def conform(
    frame: Any,
    schema: LayerSchema,
    log: IssueLog,
    *,
    coord_columns: tuple[str, str] | None = None,
    source_columns: dict[str, str] | None = None,
    repair: bool = False,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    missing_hint: str = "",
    unique_ids: bool = True,
) -> Any:
    """Bring ``frame`` to ``schema``; record every problem in ``log``.

    Returns the conformed GeoDataFrame (all rows, bad ones included: callers
    decide whether to raise or split). Internal to borderkit: the readers call
    it with extra context (row numbers, coordinate columns, original column
    names for messages). *repair*, *swap_check*, *region* and *projected_crs* are
    those of :func:`validate_layer`; ``unique_ids=False`` leaves out the one check across
    rows (duplicate ids), for a block of a file whose caller checks the ids of every block.
    """
    import geopandas as gpd

    src = source_columns or {}
    n = len(frame)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"expected a GeoDataFrame, got {type(frame).__name__}")
    if len(log.rows) != n:
        raise ValueError("the issue log does not match the frame")
    # work on positions; the caller's index is given back at the end
    original_index = frame.index
    frame = frame.reset_index(drop=True)

    # -- geometry column & CRS -------------------------------------------
    gname = getattr(frame, "_geometry_column_name", None)
    has_geom = gname is not None and gname in frame.columns
    if has_geom:
        geom_name = frame.geometry.name
        geoseries = frame.geometry
        crs = frame.crs
    else:
        geom_name = None
        geoseries = gpd.GeoSeries([None] * n, index=frame.index)
        crs = None
        log.add_file(
            f"the {schema.kind} layer has no geometry column; give it one (or, in a CSV, "
            "latitude/longitude or WKT 'geometry' columns)",
            column="geometry",
            category="columns",
        )
    check_coordinates = True
    if has_geom and crs is None:
        check_coordinates = False
        if not log.has_file_issue("crs"):
            log.add_file(
                "the layer has no CRS; set it, e.g. gdf.set_crs('EPSG:4326') for longitude/latitude degrees",
                column="geometry",
                category="crs",
            )
        crs_label = "no CRS"
    else:
        crs_label = crs_label_of(crs)
    if has_geom and crs is not None and not is_wgs84(crs):
        # Declared CRS other than WGS84: reprojecting is fine, unless the
        # numbers are plainly degrees under a projected label.
        from pyproj import CRS

        c = CRS.from_user_input(crs)
        b = geoseries.bounds.to_numpy(dtype=float)
        finite = np.isfinite(b).all(axis=1)
        if (
            c.is_projected
            and finite.any()
            and (np.abs(b[finite][:, [0, 2]]) <= 180).all()
            and (np.abs(b[finite][:, [1, 3]]) <= 90).all()
        ):
            log.add_file(
                f"the layer says {crs_label} (a projected CRS in metres) but every coordinate is within "
                "±180/±90, i.e. looks like longitude/latitude degrees; if so, pass crs='EPSG:4326' "
                "(or gdf.set_crs('EPSG:4326', allow_override=True))",
                column="geometry",
                category="crs",
            )
            check_coordinates = False
        else:
            # geopandas reprojects with pyproj's always_xy=True (lon, lat order)
            geoseries = geoseries.to_crs("EPSG:4326")
    geoms = geoseries.to_numpy() if n else np.empty(0, dtype=object)
    geoms = np.asarray(geoms, dtype=object)

    new_geoms, repaired = _check_geometry(
        geoms,
        schema,
        log,
        coord_columns=coord_columns,
        crs_label=crs_label,
        check_coordinates=check_coordinates,
        swap_check=swap_check,
        region=region,
        projected_crs=projected_crs,
        repair=repair,
    )

    # -- names in any language: name_<tag> columns and a `names` mapping, one representation ----------
    name_columns: list[str] = []
    if schema.language_prefix:
        frame, name_columns, src = _language_columns(frame, log, src, geom_name=geom_name)

    # -- attribute columns -------------------------------------------------
    out: dict[str, Any] = {}
    for col in schema.columns:
        if col.dtype == "geometry":
            continue
        name = col.name
        shown = src.get(name, name)
        present = name in frame.columns and name != geom_name
        blocked = log.blocked(name)
        if not present:
            if col.required:
                close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1, cutoff=0.75)
                did = f" (is {close[0]!r} meant to be it? rename it)" if close else ""
                log.add_file(
                    f"missing required column {name!r} of the {schema.kind} schema "
                    f"({col.description.rstrip('.')}); add a column named {name!r}{did}{missing_hint}",
                    column=name,
                    category="columns",
                )
                blocked = np.ones(n, dtype=bool)
            raw = pd.Series([None] * n, index=frame.index, dtype=object)
        else:
            raw = frame[name]
        out[name] = _convert_column(raw, col, schema, log, shown=shown, blocked=blocked)
    for name in name_columns:
        if name not in out:  # the schema's own name columns are converted above
            out[name] = to_text(frame[name])

    # -- identity ------------------------------------------------------------
    if schema.id_column and schema.id_column in frame.columns:
        idc = schema.id_column
        shown = src.get(idc, idc)
        ids = out[idc].str.strip()
        blocked = log.blocked(idc)
        empty = (ids == "").to_numpy() & ~blocked
        log.add_rows(empty, shown, f"{shown} is empty; give every row a unique id", block=(idc,))
        # unique_ids=False: a block of a file read block by block, whose caller checks ids across blocks
        dup = ids.duplicated(keep=False).to_numpy() & ~empty & ~blocked if unique_ids else np.zeros(n, dtype=bool)
        if dup.any():
            # one grouping pass (linear); each message names at most
            # _ROWS_NAMED rows of its group, so 20,000 copies of one id give
            # 20,000 short messages, not 20,000 lists of 20,000 rows
            pos = np.flatnonzero(dup)
            groups = pd.Series(log.rows[pos], index=ids.iloc[pos].to_numpy()).groupby(level=0, sort=False)
            named = {
                k: ", ".join(map(str, v.iloc[:_ROWS_NAMED]))
                + (f" … ({len(v)} rows in all)" if len(v) > _ROWS_NAMED else "")
                for k, v in groups
            }
            log.add_rows(
                pos,
                shown,
                lambda p: (
                    f"duplicate id {short_repr(ids.iloc[p])}: used by rows {named[ids.iloc[p]]}"
                    "; ids must be unique — rename or remove the duplicates"
                ),
            )

    # -- cross-column rules ----------------------------------------------------
    if "date" in out and "date_end" in out:
        d0, d1 = out["date"], out["date_end"]
        before = (d1 < d0).to_numpy(dtype=bool) & ~log.blocked("date_end") & ~log.blocked("date")
        shown = src.get("date_end", "date_end")
        log.add_rows(
            before,
            shown,
            lambda p: (
                f"date_end {d1.iloc[p].date()} is before date {d0.iloc[p].date()}; swap them or correct one"
            ),
        )

    if "left_party" in out and "right_party" in out:
        lp, rp = out["left_party"].str.strip(), out["right_party"].str.strip()
        same = (
            (lp == rp).to_numpy(dtype=bool)
            & (lp != "").to_numpy(dtype=bool)
            & ~log.blocked("left_party")
            & ~log.blocked("right_party")
        )
        log.add_rows(
            same,
            src.get("right_party", "right_party"),
            lambda p: (
                f"left_party and right_party are both {lp.iloc[p]!r}; a boundary line separates two "
                "different parties — correct one of them (left/right as seen along the line's direction)"
            ),
        )

    # -- assemble ----------------------------------------------------------------
    extras = [c for c in frame.columns if c not in out and c != geom_name]
    result = pd.concat([pd.DataFrame(out, index=frame.index), pd.DataFrame(frame[extras])], axis=1)
    if "geometry" in extras:  # a non-active column of that name would clash with the geometry
        result = result.rename(columns={"geometry": "geometry_attribute"})
    if repair:
        result["geometry_repaired"] = repaired
    result = gpd.GeoDataFrame(
        result, geometry=gpd.GeoSeries(new_geoms, index=frame.index, crs="EPSG:4326"), crs="EPSG:4326"
    )
    # geometry at the schema position (last in every schema), extras after it
    order = [c for c in schema.names if c in result.columns]
    if name_columns:  # other languages right after the schema's own name columns
        at = max((i for i, c in enumerate(order) if name_language(c)), default=len(order) - 1) + 1
        order[at:at] = sorted(c for c in name_columns if c not in schema.names)
    order += [c for c in result.columns if c not in order]
    result = result[order]
    result.index = original_index
    if repair and repaired.any():
        rows = ", ".join(str(int(r)) for r in log.rows[repaired][:20])
        more = "" if repaired.sum() <= 20 else f" … ({int(repaired.sum())} in all)"
        where = f"{log.path}: " if log.path else ""
        warnings.warn(
            f"{where}repaired {int(repaired.sum())} invalid geometr{'y' if repaired.sum() == 1 else 'ies'} "
            f"with shapely.make_valid (rows {rows}{more}); they are marked in column 'geometry_repaired'",
            GeometryRepairedWarning,
            stacklevel=3,
        )
    return result


_TAG_HINT = "a BCP-47 language tag such as en, ka, os, ky, tg, uz-Cyrl or sr-Latn"


def parse_names(value: Any) -> tuple[dict[str, str], list[str]]:
    """A ``names`` cell as ``{canonical tag: name}`` and the problems found in it.

    The cell is a mapping (a GeoJSON object, a dict), JSON text of one, or empty
    (``None``, NaN, ``""``: no names). Keys are BCP-47 tags in any case (normalised
    with :func:`borderkit.schema.language_tag`); values are text (empty or null
    values mean "unknown" and are left out).

    Examples
    --------
    >>> parse_names('{"KA": "თბილისი", "uz_cyrl": "Тбилиси", "os": ""}')
    ({'ka': 'თბილისი', 'uz-Cyrl': 'Тбилиси'}, [])
    >>> parse_names('{"georgian": "თბილისი"}')[1][0][:41]
    "'georgian' is not a BCP-47 language tag; "
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return {}, []
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if not text.strip():
            return {}, []
        try:
            value = json.loads(text)
        except ValueError:
            return {}, [
                f"{short_repr(text)} is not a JSON object; write names as JSON text such as "
                '{"en": "Tbilisi", "ka": "თბილისი"}'
            ]
    if not isinstance(value, Mapping):
        return {}, [
            f"{short_repr(value)} is not a mapping of language tags to names; write e.g. "
            '{"en": "Tbilisi", "ka": "თბილისი"}'
        ]
    out: dict[str, str] = {}
    errs: list[str] = []
    for key, name in value.items():
        tag = language_tag(str(key))
        if tag is None:
            errs.append(f"{short_repr(key)} is not a BCP-47 language tag; write {_TAG_HINT}")
            continue
        if name is None or (isinstance(name, float) and np.isnan(name)):
            continue
        if not isinstance(name, str):
            errs.append(f"the {tag} name {short_repr(name)} is not text; write the name as a JSON string")
            continue
        if not name.strip():
            continue
        if tag in out and out[tag].strip() != name.strip():
            errs.append(f"two {tag} names ({out[tag]!r}, {name!r}); keep one")
            continue
        out[tag] = name
    return out, errs


def _language_columns(
    frame: Any, log: IssueLog, src: dict[str, str], *, geom_name: str | None
) -> tuple[Any, list[str], dict[str, str]]:
    """Name columns of a places frame in their one representation: text columns ``name_<canonical tag>``.

    Columns spelt ``NAME_KA``, ``name_uz_cyrl`` or ``name:ka`` are renamed to the canonical
    ``name_ka``/``name_uz-Cyrl``; a ``names`` mapping (see :func:`parse_names`) is spread into
    name columns and removed. Where two sources give one language different names in a row,
    that row has a problem (nothing is chosen silently); a ``name_`` column whose suffix is not
    a language tag is a problem of the file (it would otherwise be silently not a name).
    """
    src = dict(src)
    sources: dict[str, list[tuple[str, pd.Series]]] = {}  # canonical column -> (shown name, values)
    mapping: str | None = None
    for c in frame.columns:
        if not isinstance(c, str) or c == geom_name:
            continue
        if c.lower() == NAMES_COLUMN:
            mapping = c
            continue
        if c[:5].lower() not in ("name_", "name:"):
            continue
        tag = name_language(c)
        if tag is None:
            shown = src.get(c, c)
            log.add_file(
                f"column {shown!r} is not a name column: {c[5:]!r} is not a language tag; rename it to "
                f"name_<tag> with {_TAG_HINT} (e.g. name_ka), or, if it holds something other than a name, "
                "to a name that does not start with 'name_'",
                column=shown,
                category="columns",
            )
            continue
        sources.setdefault("name_" + tag, []).append((src.get(c, c), frame[c]))
    n = len(frame)
    if mapping is not None:
        shown_map = src.get(mapping, mapping)
        from_map: dict[str, list[Any]] = {}
        errs_at: list[tuple[int, str]] = []
        for p, cell in enumerate(frame[mapping].astype(object).tolist()):
            names, errs = parse_names(cell)
            errs_at.extend((p, e) for e in errs)
            for tag, name in names.items():
                from_map.setdefault("name_" + tag, [None] * n)[p] = name
        if errs_at:
            log.add_rows([p for p, _ in errs_at], shown_map, [e for _, e in errs_at])
        for col, values in from_map.items():
            sources.setdefault(col, []).append((f"{shown_map}[{col[5:]!r}]", pd.Series(values, index=frame.index)))
    if not sources and mapping is None:
        return frame, [], src
    merged: dict[str, pd.Series] = {}
    for col, given in sources.items():
        value = to_text(given[0][1])
        for shown, other in given[1:]:
            text = to_text(other)
            a, b = value.str.strip(), text.str.strip()
            clash = ((a != "") & (b != "") & (a != b)).to_numpy(dtype=bool)
            first = given[0][0]
            log.add_rows(
                clash,
                shown.split("[", 1)[0],  # names['en'] is column names
                [
                    f"{first} is {a.iloc[p]!r} but {shown} is {b.iloc[p]!r}; give one {col[5:]} name per place"
                    for p in np.flatnonzero(clash)
                ],
            )
            value = value.where(a != "", text)
        merged[col] = value
        if len(given) == 1 and given[0][0] != col and "[" not in given[0][0]:
            src[col] = given[0][0]  # messages name the column as the file spells it
    drop = [c for c in frame.columns if c == mapping or (isinstance(c, str) and name_language(c) is not None)]
    rest = frame.drop(columns=drop)
    for col, value in merged.items():
        rest[col] = value.to_numpy(dtype=object)
    return rest, list(merged), src


def _convert_column(
    raw: pd.Series,
    col: Any,
    schema: LayerSchema,
    log: IssueLog,
    *,
    shown: str,
    blocked: np.ndarray,
) -> pd.Series:
    n = len(raw)
    name = col.name
    if col.dtype == "str":
        text = to_text(raw)
        stripped = text.str.strip()
        if name in ("kind", "date_precision"):
            allowed = PLACE_KINDS if name == "kind" else DATE_PRECISIONS
            low = stripped.str.lower()
            empty = (low == "").to_numpy()
            if col.required:
                log.add_rows(
                    empty & ~blocked,
                    shown,
                    f"{name} is empty; use one of: {', '.join(allowed)}",
                )
            bad = ~low.isin(allowed).to_numpy() & ~empty & ~blocked
            log.add_rows(
                bad,
                shown,
                lambda p: f"{short_repr(text.iloc[p])} is not a valid {name}; use one of: {', '.join(allowed)}",
            )
            return low.where(~bad, text).astype(str)
        if name in ("left_party", "right_party", "party"):
            up = stripped.str.upper()
            bad = ~up.str.match(_PARTY).to_numpy(dtype=bool) & (up != "").to_numpy() & ~blocked
            log.add_rows(
                bad,
                shown,
                lambda p: (
                    f"{short_repr(text.iloc[p])} is not an ISO 3166-1 alpha-3 party code; "
                    "write e.g. ARM, AZE, GEO"
                ),
            )
            return up.where(~bad, text).astype(str)
        if name == "claimant":
            norm = stripped.str.replace(r"\s*;\s*", ";", regex=True)
            low = norm.str.lower()
            up = norm.str.upper()
            is_carto = (low == "cartographic").to_numpy()
            codes_ok = up.str.match(r"^[A-Z]{3}(;[A-Z]{3})*$").to_numpy(dtype=bool)
            bad = ~is_carto & ~codes_ok & (norm != "").to_numpy() & ~blocked
            log.add_rows(
                bad,
                shown,
                lambda p: (
                    f"{short_repr(text.iloc[p])} is not a claimant; use a party code (ARM), codes joined by ';' "
                    "(ARM;AZE) or 'cartographic'"
                ),
            )
            val = np.where(is_carto, "cartographic", np.where(codes_ok, up, text))
            return pd.Series(val, index=raw.index, dtype=object).astype(str)
        return text
    if col.dtype in ("float", "int"):
        obj = raw.astype(object)
        num = pd.to_numeric(raw, errors="coerce") if n else pd.Series([], dtype=float)
        num = pd.Series(np.asarray(num, dtype=float), index=raw.index)
        text = to_text(raw).str.strip()
        empty = (text == "").to_numpy() | pd.isna(obj).to_numpy(dtype=bool)
        notnum = num.isna().to_numpy() & ~empty & ~blocked
        log.add_rows(
            notnum,
            shown,
            lambda p: (
                f"{short_repr(text.iloc[p])} is not a number; write {name} as a plain number "
                "with a dot as decimal separator (e.g. 1500.5)"
            ),
            block=(name,),
        )
        # "inf", "1e400" and "nan" parse as numbers; none is a measurement
        infinite = np.isinf(num.to_numpy()) & ~blocked & ~notnum
        log.add_rows(
            infinite,
            shown,
            lambda p: (
                f"{short_repr(text.iloc[p])} is not a finite number; write {name} as a plain finite number "
                "(e.g. 1500.5), or leave it empty if unknown"
            ),
            block=(name,),
        )
        notnum = notnum | infinite
        num = num.where(~infinite)
        if name in ("precision_m", "scale_or_accuracy_m"):
            what = (
                "the radius of location uncertainty in metres"
                if name == "precision_m"
                else "the horizontal accuracy of the line in metres"
            )
            still = ~blocked & ~notnum
            missing = num.isna().to_numpy() & still
            log.add_rows(missing, shown, f"{name} is missing (NaN); give {what}, a number > 0")
            le0 = (num <= 0).to_numpy() & still
            log.add_rows(
                le0,
                shown,
                lambda p: f"{name} is {_num(num.iloc[p])}; it must be {what}, a number > 0",
            )
        return num
    if col.dtype == "date":
        dates, bad, _ = parse_dates(raw)
        text = to_text(raw).str.strip()
        bad &= ~blocked
        log.add_rows(
            bad,
            shown,
            lambda p: f"{short_repr(text.iloc[p])} is not a date; {_DATE_HINT}",
        )
        if col.required:
            missing = dates.isna().to_numpy() & ~bad & ~blocked
            log.add_rows(missing, shown, f"{name} is empty; {_DATE_HINT}")
        return dates
    if col.dtype == "sources":
        records: list[list[dict[str, str]]] = []
        errs_at: list[tuple[int, str]] = []
        values = raw.astype(object).tolist()
        for p, v in enumerate(values):
            recs, errs = normalise_sources(v)
            records.append(recs)
            if blocked[p]:
                continue
            for e in errs:
                errs_at.append((p, e))
            if not recs and not errs and col.required:
                errs_at.append(
                    (
                        p,
                        "no source given; add at least one source record "
                        '(JSON text such as [{"publication": "…", "url": "https://…"}], or a URL)',
                    )
                )
        if errs_at:
            log.add_rows([p for p, _ in errs_at], shown, [e for _, e in errs_at])
        arr = np.empty(n, dtype=object)
        for i, r in enumerate(records):
            arr[i] = r
        return pd.Series(arr, index=raw.index, dtype=object)
    raise ValueError(f"unknown column dtype {col.dtype!r}")  # pragma: no cover


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def layer_schema(kind: str | LayerSchema) -> LayerSchema:
    """The :class:`~borderkit.schema.LayerSchema` of a layer kind; ValueError for an unknown one."""
    if isinstance(kind, LayerSchema):
        return kind
    if kind not in LAYER_KINDS:
        known = ", ".join(LAYER_KINDS)
        if kind in SCHEMAS:
            raise ValueError(f"{kind!r} has no geometry; layer kinds are: {known}")
        raise ValueError(f"unknown layer kind {kind!r}; use one of: {known}")
    return SCHEMAS[kind]


def find_problems(
    gdf: GeoDataFrame,
    kind: str,
    *,
    path: str | None = None,
    repair: bool = False,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> list[Problem]:
    """Every problem of ``gdf`` as a ``kind`` layer (an empty list when it is fine).

    Parameters
    ----------
    gdf
        The layer.
    kind
        ``"lines"``, ``"territories"``, ``"incidents"`` or ``"places"``.
    path
        File named in the problems.
    repair, swap_check, region, projected_crs
        As in :func:`validate_layer`.
    """
    schema = layer_schema(kind)
    log = IssueLog(len(gdf), path=path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryRepairedWarning)
        conform(gdf, schema, log, repair=repair, swap_check=swap_check, region=region,
                projected_crs=projected_crs)
    return log.problems()


def validate_layer(
    gdf: GeoDataFrame,
    kind: str,
    *,
    path: str | None = None,
    repair: bool = False,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> GeoDataFrame:
    """Check ``gdf`` against the ``kind`` schema and return its conformed copy.

    Parameters
    ----------
    gdf
        A GeoDataFrame (any declared CRS; it is reprojected to EPSG:4326).
    kind
        ``"lines"``, ``"territories"``, ``"incidents"`` or ``"places"``.
    path
        File the data came from, named in every problem.
    repair
        Repair invalid geometries with :func:`shapely.make_valid` (lines that
        cross themselves are split at the crossing) instead of reporting them;
        repaired rows are marked in a ``geometry_repaired`` column and a
        :class:`GeometryRepairedWarning` is emitted.
    swap_check
        Report points/lines written with x and y swapped (a heuristic; turn off for
        data that really lies where the swapped reading would put it). Without
        *region*: a latitude out of -90…90 whose values are in range once swapped.
        With *region*: data outside it as written that lands in it once swapped
        (out-of-range data that does not is reported as out of range).
    region
        (west, south, east, north) in degrees where the data is expected, e.g. a
        case's ``CaseConfig.region`` (``borderkit.cases.case_config(name).region``).
        None (default): no region-specific check.
    projected_crs
        Projected CRSs to name when coordinates in metres are labelled as degrees,
        e.g. a case's ``CaseConfig.projected_crs``: the first under which the data falls
        in *region* is named as the CRS to pass (without a region, all are listed).
        None (default): the message asks to declare the CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, schema columns first in schema order, then the other columns.

    Raises
    ------
    borderkit.errors.ValidationError
        With every problem in ``.problems`` (a :class:`~borderkit.errors.CRSError`
        when all of them are CRS problems).
    """
    schema = layer_schema(kind)
    log = IssueLog(len(gdf), path=path)
    result = conform(
        gdf, schema, log, repair=repair, swap_check=swap_check, region=region, projected_crs=projected_crs
    )
    log.raise_if_any()
    return result


def validate_lines(
    gdf: GeoDataFrame,
    *,
    path: str | None = None,
    repair: bool = False,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> GeoDataFrame:
    """Check a lines layer against :data:`borderkit.schema.LINES`; return its conformed copy.

    Parameters
    ----------
    gdf
        The layer, in any declared CRS.
    path
        File the layer came from, named in every problem.
    repair, swap_check, region, projected_crs
        See :func:`validate_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, schema columns first, then the other columns.

    Raises
    ------
    borderkit.errors.ValidationError
        With every problem in ``.problems``.
    """
    return validate_layer(
        gdf, LINES.kind, path=path, repair=repair, swap_check=swap_check, region=region,
        projected_crs=projected_crs,
    )


def validate_territories(
    gdf: GeoDataFrame,
    *,
    path: str | None = None,
    repair: bool = False,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> GeoDataFrame:
    """Check a territories layer against :data:`borderkit.schema.TERRITORIES`; return its conformed copy.

    Parameters
    ----------
    gdf
        The layer, in any declared CRS.
    path
        File the layer came from, named in every problem.
    repair, swap_check, region, projected_crs
        See :func:`validate_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, schema columns first, then the other columns.

    Raises
    ------
    borderkit.errors.ValidationError
        With every problem in ``.problems``.
    """
    return validate_layer(
        gdf, TERRITORIES.kind, path=path, repair=repair, swap_check=swap_check, region=region,
        projected_crs=projected_crs,
    )


def validate_incidents(
    gdf: GeoDataFrame,
    *,
    path: str | None = None,
    repair: bool = False,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> GeoDataFrame:
    """Check an incidents layer against :data:`borderkit.schema.INCIDENTS`; return its conformed copy.

    Parameters
    ----------
    gdf
        The layer, in any declared CRS.
    path
        File the layer came from, named in every problem.
    repair, swap_check, region, projected_crs
        See :func:`validate_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, schema columns first, then the other columns.

    Raises
    ------
    borderkit.errors.ValidationError
        With every problem in ``.problems``.
    """
    return validate_layer(
        gdf, INCIDENTS.kind, path=path, repair=repair, swap_check=swap_check, region=region,
        projected_crs=projected_crs,
    )


def validate_places(
    gdf: GeoDataFrame,
    *,
    path: str | None = None,
    repair: bool = False,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> GeoDataFrame:
    """Check a places layer against :data:`borderkit.schema.PLACES`; return its conformed copy.

    Parameters
    ----------
    gdf
        The layer, in any declared CRS.
    path
        File the layer came from, named in every problem.
    repair, swap_check, region, projected_crs
        See :func:`validate_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, schema columns first, then the other columns.

    Raises
    ------
    borderkit.errors.ValidationError
        With every problem in ``.problems``.
    """
    return validate_layer(
        gdf, PLACES.kind, path=path, repair=repair, swap_check=swap_check, region=region,
        projected_crs=projected_crs,
    )
