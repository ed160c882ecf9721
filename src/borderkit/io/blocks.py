"""Reading a file of points block by block: what :func:`~borderkit.io.readers.read_points` reads, in parts.

:func:`read_point_blocks` reads a CSV table of points (latitude/longitude columns; a plain table,
an ACLED/UCDP GED export or a table with the incident schema's columns, read as incidents as
:func:`~borderkit.io.readers.read_points` reads them) or a GeoParquet file of points and yields
:class:`PointBlock` s of at most ``block_rows`` rows:
the columns exactly as :func:`~borderkit.io.readers.read_points` returns those rows (without
the geometry), and the coordinates as two float64 arrays taken straight from Arrow (text
parsed by :func:`~borderkit.validate.text_to_float`; a GeoParquet point's WKB read with
numpy) — no shapely Point per row, and never more than one block in memory.

Indistinguishable from read_points
----------------------------------
Every block is validated by the same functions as the whole file
(:func:`~borderkit.io.readers.table_coordinates`,
:func:`~borderkit.validate.check_coordinate_values`,
:func:`~borderkit.io.readers.points_precision`, and :func:`~borderkit.validate.conform` for a
block with a missing or non-finite coordinate or a geometry that is not a plain point), with
the file's own row numbers; an incidents file's block is then read as read_points' second
reading reads it (:func:`~borderkit.io.readers.validate_table_block`: the export mapped, the
incident schema). Every check but one is a check of one row, so the problems of the file are
those of its blocks, in file order. The one check across rows, unique incident ids, keeps a
64-bit hash of every non-empty id (8 bytes a row, sorted once at the end); when two are equal
(a duplicate, or a hash collision) read_points reads the file whole and raises its exact
message — the whole-file price only on that error path. A block is yielded only while every row so
far is clean; after the first problem the rest of the file is read and validated (no block is
yielded) and the iteration ends with the :class:`~borderkit.errors.ValidationError` that
read_points raises — the same type, problems and message (tested on the bad-input corpus). A
caller writes its output into an atomic temporary file and discards it on error. A problem
of the whole file met while reading (the file changed, a WKB value that is not WKB) makes the
iteration run read_points on the file, which raises its own message.

Which files stream
------------------
:func:`stream_refusal` says, before any row is read, why a file does not stream (None when it
does); :func:`read_point_blocks` then returns None and the caller reads the file whole with
read_points. A file streams when all of these hold:

* ``errors="raise"`` (with ``"collect"`` the rows to check, and so the engine
  :func:`borderkit.locate.resolve_method` chooses, are known only at the end; a caller with
  ``"collect"`` reads the blocks of ``errors="raise"`` and asks :meth:`PointBlocks.collect`
  for the good rows and the rejected ones, made block by block), no ``layer=``,
  no ``encoding=``, ``crs=`` None or WGS84, and the file not empty. The readers' size limit
  (:func:`~.readers.max_input_bytes`, which bounds a whole-file read) does not apply: a streamed
  file is held one block at a time, whatever its size;
* a CSV (``.csv``/``.tsv``/``.tab``/``.txt``, not zipped) that read_points reads as plain
  points: UTF-8 (a UTF-8 byte-order mark is skipped, as the reader's decoding drops it), a header
  of unique names with latitude and longitude
  columns (:data:`~borderkit.io._csv.LAT_NAMES`, :data:`~borderkit.io._csv.LON_NAMES`) and no
  WKT column (an HXL hashtag row after the header is kept aside, as the CSV reader does), and a
  body that takes the CSV reader's pyarrow fast path in a form checked record by record: every
  quote in a well-formed quoted value (which may hold the delimiter, doubled quotes and line
  breaks; records are cut at a line break after an even number of quotes; a header name may not
  hold the delimiter or a line break), no NUL, no blank record, every record with the header's
  number of fields, no lone carriage return, no record without a visible ASCII character, none
  longer than 16 MiB;
* a GeoParquet file (not one with the incident schema's columns or an export's) with ``geo``
  metadata whose one geometry column is WKB, whose CRS is WGS84
  (absent = OGC:CRS84), with at least one row, a default index and no other column named
  ``geometry``. A GeoParquet 1.1 ``bbox`` covering column (``write_covering_bbox=True``, the
  part files :mod:`borderkit.scale` writes) is derived data and is not read, as geopandas'
  ``read_parquet`` (so read_points) does not read it (:func:`covering_columns`); a covering that
  does not name one column of the file is left to read_points.

Row count
---------
:attr:`PointBlocks.rows` is the number of data rows, known before the first block: the
Parquet metadata's, or the number of records the CSV check counts (one pass over the bytes,
vectorised). With ``errors="raise"`` every row is either checked or the file is refused, so it
is the ``n_total`` of :func:`borderkit.locate.check_table`. With ``errors="collect"``,
:meth:`PointBlocks.collect` validates every block once before any is yielded, so the number of
good rows (:attr:`CollectedBlocks.rows`, that ``n_total``) and the rejected rows are known before
the first good block (the file is read twice: the price of an engine chosen for the good rows).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from borderkit.errors import Problem, ValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from geopandas import GeoDataFrame

    from borderkit.validate import Region

__all__ = ["PointBlock", "PointBlocks", "read_point_blocks", "read_point_row_group", "row_group_blocks",
           "stream_refusal", "DEFAULT_BLOCK_ROWS"]

DEFAULT_BLOCK_ROWS = 200_000
"""Rows per block by default (as ``borderkit check --chunk-size``)."""

_CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_SCAN_BYTES = 1 << 20  # the CSV check reads the file in parts of this size (its arrays: 4 bytes a byte)
_ARROW_BLOCK_BYTES = 1 << 20  # the CSV's blocks are read this much at a time
_MAX_RECORD_BYTES = 16 << 20  # a longer record (or a quote never closed) is read whole by read_points


class PointBlock(NamedTuple):
    """One block of a point file: ``columns`` (a DataFrame of the block's rows, every column
    exactly as :func:`~borderkit.io.readers.read_points` returns it except the geometry, index
    from 0), ``lon`` and ``lat`` (float64 degrees, WGS84) and ``first_row`` (the 1-based data
    row of the file the block starts at; its rows are ``first_row, first_row + 1, …``, unless
    ``rows`` gives them: the 1-based data rows of the block's rows when some rows of the file
    between them were rejected, :meth:`PointBlocks.collect`)."""

    columns: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    first_row: int
    rows: np.ndarray | None = None


@dataclass
class _Plan:
    path: str
    fmt: str  # "CSV" or "GeoParquet"
    rows: int
    crs: Any  # pyproj CRS of the coordinates (WGS84)
    header: list[str] = field(default_factory=list)
    delimiter: str = ","
    coord_columns: tuple[str, str] | None = None
    precision_column: str | None = None
    geometry_column: str = "geometry"
    body_offset: int = 0  # CSV: the byte where the first data record starts
    kind: str = "points"  # "points", or "incidents" (an ACLED/UCDP export or the incident schema's columns)
    export: str | None = None  # "acled", "ucdp-ged" or None
    header_rows: int = 1  # 2 with an HXL hashtag row
    hxl: dict[str, str] | None = None
    multiline: bool = False  # a quoted value holds a line break (records are cut by quote parity)
    covering: tuple[str, ...] = ()  # GeoParquet: bbox covering columns, not read (they repeat the points)


# ---------------------------------------------------------------------------
# which files stream
# ---------------------------------------------------------------------------


def stream_refusal(
    path: str | os.PathLike[str],
    *,
    errors: str = "raise",
    layer: str | int | None = None,
    crs: Any = None,
    encoding: str | None = None,
) -> str | None:
    """Why *path* is not read block by block (the caller then reads it whole), or None when it is.

    The rule is in the module documentation; the check reads the CSV's bytes once (vectorised)
    or the Parquet metadata, never the rows' values.

    Parameters
    ----------
    path
        The file.
    errors, layer, crs, encoding
        As in :func:`~borderkit.io.readers.read_points`.

    Returns
    -------
    str or None
        A short reason (e.g. ``"a blank record …"``), or None.
    """
    plan = _plan(os.fspath(path), errors=errors, layer=layer, crs=crs, encoding=encoding)
    return plan if isinstance(plan, str) else None


def _plan(path: str, *, errors: str, layer: Any, crs: Any, encoding: str | None) -> _Plan | str:
    from borderkit.validate import is_wgs84

    if errors != "raise":
        return "errors='collect': the rows to check are known only once the whole file is read"
    if layer is not None:
        return "layer= is given"
    if encoding is not None:
        return "encoding= is given"
    if crs is not None and not is_wgs84(crs):
        return "crs= is not WGS84 (the whole file is reprojected and checked as one)"
    if not os.path.isfile(path):
        return "not a file"
    # no size limit here: a streamed file is held one block at a time (and its pre-scans read it in
    # parts), so its memory does not grow with its size; max_input_bytes bounds the whole-file readers
    if os.path.getsize(path) == 0:
        return "empty"
    low = path.lower()
    if low.endswith(_CSV_SUFFIXES):
        return _plan_csv(path, crs)
    if low.endswith(_PARQUET_SUFFIXES):
        return _plan_parquet(path, crs)
    return "not a CSV or GeoParquet file"


def _user_crs(crs: Any) -> Any:
    from pyproj import CRS

    return CRS.from_user_input("EPSG:4326" if crs is None else crs)


def _kind_of_columns(path: str, columns: list[str], *, incidents: bool = False) -> str | None:
    """Why a table with these columns is not read as plain points, or None; with *incidents*, an
    incidents table (an export or the incident schema's columns) with latitude/longitude columns is
    taken too (:func:`is_incidents_table` tells which)."""
    from ._csv import LAT_NAMES, LON_NAMES, WKT_NAMES, find_column

    if not incidents and is_incidents_table(columns):
        return "an ACLED/UCDP export or the incident schema's columns (read as incidents)"
    if find_column(columns, WKT_NAMES) is not None:
        return "a WKT geometry column"
    if find_column(columns, LAT_NAMES) is None or find_column(columns, LON_NAMES) is None:
        return "no latitude/longitude columns"
    return None


def is_incidents_table(columns: list[str]) -> bool:
    """Whether :func:`~borderkit.io.readers.read_points` reads a table with these columns as incidents
    (an ACLED/UCDP export, or the incident schema's columns)."""
    from borderkit.schema import INCIDENTS

    from .external import detect_export

    return bool(detect_export(columns)) or set(INCIDENTS.required) - {"geometry"} <= set(columns)


def _plan_csv(path: str, crs: Any) -> _Plan | str:
    from ._csv import LAT_NAMES, LON_NAMES, find_column, sniff_delimiter

    with open(path, "rb") as f:
        head = f.read(1 << 16)
        # a UTF-8 byte-order mark (Excel's "CSV UTF-8") is dropped by the reader's decoding: skipped here
        start = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        if head[start:].startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "a UTF-16 or repeated byte-order mark"
        end = head.find(b"\n")
        if end < 0:
            return "no complete header line in the first 64 KiB"
        line = head[start:end].rstrip(b"\r")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return "the header is not UTF-8"
        delimiter = sniff_delimiter(text, path)
        if "\r" in text or "\x00" in text:
            return "a carriage return or NUL in the header"
        try:
            cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
        except (csv.Error, StopIteration):
            return "a header the csv module does not split cleanly"
        if len(cells) != text.count(delimiter) + 1:
            return "a quoted header name holds the delimiter"
        header = [c.strip() for c in cells]
        if not any(header) or len(set(header)) < len(header):
            return "an empty header or duplicate column names"
        why = _kind_of_columns(path, header, incidents=True)
        if why:
            return why
        f.seek(end + 1)
        scan = _scan_csv_body(f, delimiter=delimiter, n_fields=len(header))
    if isinstance(scan, str):
        return scan
    from .external import detect_export
    from .readers import PRECISION_COLUMNS

    n, first_cells, first_bytes, multiline = scan
    body_offset, header_rows, hxl = end + 1, 1, None
    if _is_hxl(first_cells):
        # an HDX export's hashtag row: kept aside, as the whole-file reader does
        hxl = {h: t.strip() for h, t in zip(header, first_cells, strict=False) if t.strip()}
        body_offset, header_rows, n = body_offset + first_bytes, 2, n - 1
        if n == 0:
            return "no data rows"
    lon, lat = find_column(header, LON_NAMES), find_column(header, LAT_NAMES)
    assert lon is not None and lat is not None  # _kind_of_columns refused the file otherwise
    prec: str | None
    if is_incidents_table(header):
        export = detect_export(header)
        kind, prec = "incidents", PRECISION_COLUMNS.get(export or "", "precision_m")
    else:
        export, kind = None, "points"
        prec = next((c for c in header if c.lower() == "precision_m"), None)
    return _Plan(path=path, fmt="CSV", rows=n, crs=_user_crs(crs), header=header, delimiter=delimiter,
                 coord_columns=(lon, lat), precision_column=prec, body_offset=body_offset, kind=kind,
                 export=export, header_rows=header_rows, hxl=hxl, multiline=multiline)


def _is_hxl(cells: list[str]) -> bool:
    """An HXL hashtag row (as the CSV reader decides: every non-empty cell starts with ``#``)."""
    stripped = [c.strip() for c in cells]
    return any(stripped) and all(not c or c.startswith("#") for c in stripped)


def _record_ends(arr: np.ndarray, parity: int) -> tuple[np.ndarray, int]:
    """Positions of the line breaks of *arr* that end a record (outside quotes: an even number of
    quotes before them, counting from *parity*, the quote parity at its start), and the parity at
    its end. A doubled quote inside a quoted value counts twice, so parity is exact for well-formed
    quoting (the body check refuses any other quote)."""
    quotes = np.cumsum(arr == 0x22, dtype=np.int64)
    inside = ((quotes + parity) & 1).astype(bool)
    ends = np.flatnonzero((arr == 0x0A) & ~inside)
    return ends, int((int(quotes[-1]) + parity) & 1) if len(arr) else parity


def _scan_csv_body(f: Any, *, delimiter: str, n_fields: int) -> tuple[int, list[str], int, bool] | str:
    """(records, cells of the first record, its bytes, whether a quoted value holds a line break) of a
    CSV body that takes the fast path unchanged, or why it does not.

    One pass over the bytes in parts of :data:`_SCAN_BYTES`, cut at record ends (a line break outside
    quotes, by quote parity: :func:`_record_ends`); each part is checked with numpy (no Python loop
    per record): valid UTF-8, every quote in a well-formed quoted value (one regular-expression pass,
    only over parts that hold a quote), no NUL or lone carriage return, every record with
    ``n_fields - 1`` delimiters outside quotes and some visible text.
    """
    from ._csv import quoted_field_pattern

    delim = ord(delimiter)
    decoder = codecs.getincrementaldecoder("utf-8")()
    # visible ASCII characters other than the delimiter and the quote: a record without any is refused
    ascii_text = np.zeros(256, dtype=bool)
    ascii_text[0x21:0x7F] = True
    ascii_text[[delim, 0x22]] = False
    quoted_value = quoted_field_pattern(delimiter)
    n = 0
    carry = b""
    first_cells: list[str] = []
    first_bytes = 0
    multiline = False
    while True:
        part = f.read(_SCAN_BYTES)
        data = carry + part
        if not data:
            break
        arr = np.frombuffer(data, dtype=np.uint8)
        ends, parity = _record_ends(arr, 0)  # a part starts at a record's start
        if part:
            if not len(ends):
                if len(data) > _MAX_RECORD_BYTES:
                    return "a record longer than 16 MiB (or a quote that never ends)"
                carry = data
                continue
            cut = int(ends[-1]) + 1
            chunk, carry = data[:cut], data[cut:]
            arr = arr[:cut]
        else:
            if parity:
                return "a quoted value that never ends"
            chunk, carry = data, b""
            if not len(ends) or ends[-1] != len(arr) - 1:
                ends = np.append(ends, len(arr))  # the last record has no line break
        try:
            text = decoder.decode(chunk, final=False)  # the part ends at a line break: no character is cut
        except UnicodeDecodeError:
            return "bytes that are not UTF-8"
        quoted = b'"' in chunk
        if quoted and '"' in quoted_value.sub("", text):
            return "a quote that is not part of a well-formed quoted value"
        if b"\x00" in chunk:
            return "a NUL character"
        if b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n"):
            return "a carriage return that does not end a line"
        starts = np.concatenate(([0], ends[:-1] + 1))
        # each segment [start, end] holds its record and the line break: never empty (reduceat needs that)
        delims = arr == delim
        if quoted:
            # a delimiter or line break after an odd number of quotes is inside a quoted value
            inside = (np.cumsum(arr == 0x22, dtype=np.int64) & 1).astype(bool)
            delims &= ~inside
            multiline = multiline or bool((inside & (arr == 0x0A)).any())
        if (np.add.reduceat(delims.view(np.uint8), starts, dtype=np.int64) != n_fields - 1).any():
            return "a record whose number of fields differs from the header's"
        if not ascii_text[arr[starts]].all():
            # some record does not start with a visible character: look at every byte of the part
            seen = np.add.reduceat(np.take(ascii_text, arr).view(np.uint8), starts, dtype=np.int64)
            if (seen == 0).any():
                # no visible ASCII character: a blank record (the reader numbers those on its Python path),
                # or one of only non-ASCII characters (which may all be Unicode blanks)
                return "a blank record, or one without any visible ASCII character"
        if n == 0 and len(starts):
            first_bytes = int(min(ends[0] + 1, len(chunk)))
            line = bytes(chunk[:first_bytes]).decode("utf-8")
            first_cells = next(csv.reader(io.StringIO(line, newline=""), delimiter=delimiter))
        n += len(starts)
        if not part:
            break
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "bytes that are not UTF-8"
    if n == 0:
        return "no data rows"
    return n, first_cells, first_bytes, multiline


def covering_columns(column_meta: Any) -> set[str]:
    """Names of the columns a GeoParquet 1.1 ``bbox`` covering of one geometry column names.

    The covering is derived data (each row's bounding box, repeating the geometry): the readers
    do not read it — :func:`~borderkit.io.readers.read_points` (as geopandas' ``read_parquet``),
    the blocks of this module and :func:`borderkit.scale.read_row_group`.

    Parameters
    ----------
    column_meta
        The ``geo`` metadata of one geometry column (``geo["columns"][name]``).

    Returns
    -------
    set of str
        The column names (normally ``{"bbox"}``); empty when the metadata names no covering
        or names it in a form that is not the specification's (``[column, field]`` lists).
    """
    cover = column_meta.get("covering") if isinstance(column_meta, dict) else None
    box = cover.get("bbox") if isinstance(cover, dict) else None
    if not isinstance(box, dict):
        return set()
    return {v[0] for v in box.values() if isinstance(v, list) and v and isinstance(v[0], str)}


def _plan_parquet(path: str, crs: Any) -> _Plan | str:
    from pyproj import CRS

    from borderkit.validate import is_wgs84

    try:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
    except Exception:  # noqa: BLE001 - read_points names the problem
        return "not readable as Parquet"
    meta = pf.schema_arrow.metadata or {}
    if b"geo" not in meta:
        return "a plain Parquet table (no geo metadata)"
    try:
        geo = json.loads(meta[b"geo"])
        primary = str(geo["primary_column"])
        gcols = geo["columns"]
        gmeta = gcols[primary]
    except Exception:  # noqa: BLE001
        return "geo metadata not understood"
    if len(gcols) != 1 or not isinstance(gmeta, dict) or str(gmeta.get("encoding", "")).upper() != "WKB":
        return "not one WKB geometry column"
    skip: tuple[str, ...] = ()
    if "covering" in gmeta:
        # geopandas' read_parquet (so read_points) drops the column the bbox covering names; a
        # covering it would read otherwise (or refuse) is left to read_points and its message
        named = covering_columns(gmeta)
        if len(named) != 1 or primary in named or not named <= set(pf.schema_arrow.names):
            return "a covering not read as a GeoParquet 1.1 bbox column"
        skip = tuple(named)
    names = [str(c) for c in pf.schema_arrow.names if str(c) not in skip]
    if primary != "geometry" and "geometry" in names:
        return "another column named 'geometry'"
    if b"pandas" in meta:
        try:
            index = json.loads(meta[b"pandas"]).get("index_columns", [])
        except Exception:  # noqa: BLE001
            return "pandas metadata not understood"
        plain = all(isinstance(i, dict) and i.get("kind") == "range" and i.get("start", 0) == 0
                    and i.get("step", 1) == 1 for i in index)
        if not plain:
            return "a stored index"
    if crs is None:
        if "crs" in gmeta and gmeta["crs"] is None:
            return "the GeoParquet file's crs is null"
        try:
            file_crs = CRS.from_user_input(gmeta["crs"]) if "crs" in gmeta else CRS.from_user_input("OGC:CRS84")
        except Exception:  # noqa: BLE001
            return "a CRS pyproj does not read"
        if not is_wgs84(file_crs):
            return "a CRS other than WGS84"
    else:
        file_crs = _user_crs(crs)
    columns = [c for c in names if c != primary]
    why = _kind_of_columns(path, columns) if columns else None
    if why and why != "no latitude/longitude columns" and why != "a WKT geometry column":
        return why
    if pf.metadata.num_rows == 0:
        return "no rows"
    prec = next((c for c in columns if c.lower() == "precision_m"), None)
    return _Plan(path=path, fmt="GeoParquet", rows=int(pf.metadata.num_rows), crs=file_crs,
                 precision_column=prec, geometry_column=primary, covering=skip)


# ---------------------------------------------------------------------------
# the blocks
# ---------------------------------------------------------------------------


class PointBlocks:
    """The blocks of one point file (from :func:`read_point_blocks`); iterate once.

    Attributes
    ----------
    rows
        Data rows of the file (all of them are checked: ``errors="raise"``).
    info
        What :func:`~borderkit.io.readers.read_points` puts in ``gdf.attrs["borderkit"]``
        (path, format, precision and coordinate columns …) except ``rows``.
    """

    def __init__(self, plan: _Plan, *, block_rows: int, swap_check: bool, region: Region | None,
                 projected_crs: Sequence[str] | None, crs: Any) -> None:
        self._plan = plan
        self._block_rows = int(block_rows)
        self._kw: dict[str, Any] = {"swap_check": swap_check, "region": region, "projected_crs": projected_crs}
        self._crs_arg = crs
        self._geometry_at = _geometry_position(plan.kind)
        self.rows = plan.rows
        table = plan.fmt == "CSV"
        self.info: dict[str, Any] = {
            "path": plan.path, "format": plan.fmt, "layer": None, "export": plan.export, "hxl": plan.hxl,
            "header_rows": plan.header_rows if table else None,
            "precision_column": plan.precision_column,
            "coordinate_columns": plan.coord_columns if table else None,
        }

    def frame(self, block: PointBlock) -> GeoDataFrame:
        """The GeoDataFrame :func:`~borderkit.io.readers.read_points` returns for the block's rows
        (a shapely Point per row of this block only; index and ``attrs`` as in
        ``read_points(path).iloc[a:b]``, ``rows`` the block's)."""
        import geopandas as gpd
        import shapely

        m = len(block.lon)
        index = pd.RangeIndex(block.first_row - 1, block.first_row - 1 + m)
        cols = block.columns.set_axis(index, axis=0)
        geoms = gpd.GeoSeries(shapely.points(block.lon, block.lat), index=index, crs="EPSG:4326")
        gdf = gpd.GeoDataFrame(cols, geometry=geoms, crs="EPSG:4326")
        order = [c for c in gdf.columns if c != "geometry"]
        order.insert(self._geometry_at, "geometry")  # where the reader's schema puts it
        gdf = gdf[order]
        gdf.attrs["borderkit"] = {**self.info, "rows": np.arange(block.first_row, block.first_row + m)}
        return gdf

    def __iter__(self) -> Iterator[PointBlock]:
        plan = self._plan
        parts = _csv_parts(plan, self._block_rows) if plan.fmt == "CSV" else _parquet_parts(plan, self._block_rows)
        first_pass: list[Problem] = []
        first_cats: set[str] = set()
        second: list[Problem] = []
        second_cats: set[str] = set()
        # incidents: the hash of every non-empty id (8 bytes a row), checked for duplicates at the end
        id_hashes: list[np.ndarray] = []
        try:
            for first_row, frame, lon, lat, wkb in parts:
                columns, x, y, log, plog = self._validate(first_row, frame, lon, lat, wkb)
                if plan.kind == "incidents":
                    ids = columns["incident_id"].astype(str).str.strip()
                    id_hashes.append(pd.util.hash_array(ids[ids != ""].to_numpy(dtype=object)))
                if log.items:
                    first_pass += log.problems()
                    first_cats |= {i.category for i in log.items}
                if plog is not None and plog.items:
                    second += plog.problems()
                    second_cats |= {i.category for i in plog.items}
                if not first_pass and not second:
                    yield PointBlock(columns, x, y, first_row)
        except ValidationError:
            raise
        except Exception as exc:
            # a problem of the whole file met while reading: read_points names it
            self._whole_file_error(exc)
        from borderkit.validate import error_type_for

        if first_pass:
            raise error_type_for(first_cats)(problems=first_pass, path=plan.path)
        if id_hashes:
            hashes = np.concatenate(id_hashes)
            del id_hashes
            if len(np.unique(hashes)) < len(hashes):
                # a duplicate id (or a 64-bit hash collision): its message names every row of the id,
                # anywhere in the file; read_points reads the file whole and raises its exact error
                self._read_whole()
        if second:
            raise error_type_for(second_cats)(problems=second, path=plan.path)

    def collect(self) -> CollectedBlocks | None:
        """``errors="collect"``: the good rows block by block and the rejected ones, exactly as
        read_points(errors="collect") returns them; None when the file is read whole instead.

        Every block is read and validated once first (the memory of one block, and of the rejected
        rows): each block's rejected rows are made by the readers' own
        :func:`~borderkit.io.readers.collect_rows` with the file's row numbers, as read_points makes
        them for the whole file (every check but unique ids is a check of one row). Read whole
        instead (None): a bad row in a GeoParquet file or in a plain table with a precision column
        (their second validation pass is not made block by block), two equal id hashes (the
        duplicate-id rows are named across the file), a problem of the whole file, or no good row.

        Returns
        -------
        CollectedBlocks or None
            Iterate it for the good rows' :class:`PointBlock` s (each with its ``rows``); its
            ``rows`` is their number, ``rejected`` the rejected table (with no bad row: read_points'
            empty table for the file's columns).
        """
        plan = self._plan
        rows_ok = plan.fmt == "CSV" and (plan.kind == "incidents" or plan.precision_column is None)
        parts = _csv_parts(plan, self._block_rows) if plan.fmt == "CSV" else _parquet_parts(plan, self._block_rows)
        pieces: list[pd.DataFrame] = []
        bad_at: list[np.ndarray] = []
        id_hashes: list[np.ndarray] = []
        good = 0
        from .readers import collect_rows

        try:
            for first_row, frame, lon, lat, wkb in parts:
                columns, _x, _y, log, plog = self._validate(first_row, frame, lon, lat, wkb)
                if log.file_issues or (plog is not None and plog.file_issues):
                    return None
                if plan.kind == "incidents":
                    ids = columns["incident_id"].astype(str).str.strip()
                    id_hashes.append(pd.util.hash_array(ids[ids != ""].to_numpy(dtype=object)))
                    use = plog  # read_points keeps the incident reading's rejections only
                elif plog is not None and len(plog.bad_positions()):
                    return None  # a bad precision: its second pass is read whole
                else:
                    use = log
                bad = np.asarray(use.bad_positions(), dtype=np.int64)
                if len(bad):
                    if not rows_ok:
                        return None
                    pieces.append(collect_rows(columns, frame, use, fmt="CSV", sheet_offset=plan.header_rows)[1])
                bad_at.append(bad)
                good += len(columns) - len(bad)
        except Exception:  # noqa: BLE001 - any problem: read_points reads the file whole and says it
            return None
        if id_hashes:
            hashes = np.concatenate(id_hashes)
            if len(np.unique(hashes)) < len(hashes):
                return None
        if good == 0:
            return None  # read_points' error (no rows to check) from the whole file
        if pieces:
            rejected = pd.concat(pieces, ignore_index=True)
            rejected.attrs["problems"] = [p for r in pieces for p in r.attrs["problems"]]
        else:
            empty = self._empty_rejected()
            if empty is None:
                return None
            rejected = empty
        return CollectedBlocks(self, bad_at, good, rejected)

    def good_blocks(self, bad_at: list[np.ndarray]) -> Iterator[PointBlock]:
        """The blocks again, without the rows at *bad_at* (positions in each block), with their rows."""
        plan = self._plan
        parts = _csv_parts(plan, self._block_rows) if plan.fmt == "CSV" else _parquet_parts(plan, self._block_rows)
        for k, (first_row, frame, lon, lat, wkb) in enumerate(parts):
            columns, x, y, _log, _plog = self._validate(first_row, frame, lon, lat, wkb)
            m = len(x)
            keep = np.ones(m, dtype=bool)
            keep[bad_at[k]] = False
            rows = np.arange(first_row, first_row + m, dtype=np.int64)[keep]
            if not len(rows):
                continue
            if not keep.all():
                at = np.flatnonzero(keep)
                columns, x, y = columns.iloc[at].reset_index(drop=True), x[keep], y[keep]
            yield PointBlock(columns, x, y, int(rows[0]), rows)

    def _empty_rejected(self) -> pd.DataFrame | None:
        import tempfile

        from .readers import read_points

        plan = self._plan
        with tempfile.TemporaryDirectory(prefix="borderkit-") as folder:
            copy = os.path.join(folder, "first" + os.path.splitext(plan.path)[1].lower())
            if plan.fmt == "CSV":
                with open(plan.path, "rb") as f:
                    head = f.read(plan.body_offset)
                    first = next(_record_blocks(f, 1))
                with open(copy, "wb") as out:
                    out.write(head + first)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pf = pq.ParquetFile(plan.path)
                batch = next(pf.iter_batches(batch_size=1))
                pq.write_table(pa.Table.from_batches([batch]).replace_schema_metadata(pf.schema_arrow.metadata),
                               copy)
            try:
                res = read_points(copy, errors="collect", crs=self._crs_arg, **self._kw)
            except ValidationError:
                return None
        rejected = res[1] if isinstance(res, tuple) else None
        # the first record alone is rejected (a check of the whole file's rows seen from one): read whole
        return rejected if rejected is not None and len(rejected) == 0 else None

    def _read_whole(self) -> None:
        from .readers import read_points

        read_points(self._plan.path, crs=self._crs_arg, **self._kw)

    def _whole_file_error(self, exc: Exception) -> None:
        self._read_whole()
        raise exc  # read_points read the file without error: the block reader's own failure

    def _validate(self, first_row: int, frame: pd.DataFrame, lon: np.ndarray | None, lat: np.ndarray | None,
                  wkb: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, Any, Any]:
        """Check one block with the readers' own per-row checks; (columns, lon, lat, log, precision log)."""
        from borderkit.validate import IssueLog, check_coordinate_values, crs_label_of, to_text

        from .readers import points_precision, table_coordinates

        plan = self._plan
        m = len(frame)
        rows = np.arange(first_row, first_row + m, dtype=np.int64)
        sheet = plan.header_rows if plan.fmt == "CSV" else None
        log = IssueLog(m, path=plan.path, rows=rows, sheet_offset=sheet)
        if plan.fmt == "CSV":
            assert plan.coord_columns is not None
            x, y = table_coordinates(frame, *plan.coord_columns, log)
            geoms_needed = not _all_finite(x, y, log)
        else:
            x, y = (lon, lat) if lon is not None and lat is not None else (np.full(m, np.nan), np.full(m, np.nan))
            geoms_needed = lon is None or not _all_finite(x, y, log)
        if geoms_needed:
            # a missing or non-finite coordinate, or a geometry that is not a plain point: the whole
            # validation of the readers (conform) on this block, with its shapely geometries
            self._conform_block(frame, x, y, wkb, log)
            if plan.fmt != "CSV" and not log.items:
                import shapely

                g = shapely.from_wkb(np.asarray(wkb, dtype=object))
                x, y = shapely.get_x(g), shapely.get_y(g)
        else:
            present = ~log.blocked("geometry")
            check_coordinate_values(
                x, y, x, y, np.ones(m, dtype=bool), present, log,
                coord_columns=plan.coord_columns if plan.fmt == "CSV" else None,
                crs_label=crs_label_of(plan.crs), **self._kw,
            )
        columns = frame
        plog = None
        if plan.kind == "incidents":
            # read_points' second reading: the incident schema (exports mapped), every check but unique ids
            from .readers import validate_table_block

            result, plog = validate_table_block(
                frame, "incidents", path=plan.path, rows=rows, header_rows=plan.header_rows, hxl=plan.hxl,
                crs=self._crs_arg, **self._kw)
            if plog.file_issues:
                raise _WholeFileProblem("a problem of the whole file")  # read_points names it once
            columns = pd.DataFrame(result.drop(columns=[result.geometry.name])).reset_index(drop=True)
        elif plan.precision_column is not None:
            col = plan.precision_column
            text = to_text(frame[col]).str.strip()
            plog = IssueLog(m, path=plan.path, rows=rows, sheet_offset=sheet)
            value, _bad = points_precision(text, col, plog)
            columns = frame.copy()
            columns[col] = value
            if col != "precision_m":
                columns = columns.rename(columns={col: "precision_m"})
        return columns, np.asarray(x, dtype=float), np.asarray(y, dtype=float), log, plog

    def _conform_block(self, frame: pd.DataFrame, x: np.ndarray, y: np.ndarray, wkb: Any, log: Any) -> None:
        import geopandas as gpd
        import shapely

        from borderkit.validate import conform

        from .readers import POINTS

        plan = self._plan
        if plan.fmt == "CSV":
            geoms = np.full(len(frame), None, dtype=object)
            ok = ~np.isnan(x) & ~np.isnan(y)
            if ok.any():
                geoms[ok] = shapely.points(x[ok], y[ok])
        else:
            geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=plan.crs)
        conform(gdf, POINTS, log, coord_columns=plan.coord_columns if plan.fmt == "CSV" else None, **self._kw)


class CollectedBlocks:
    """The good rows of a file read with ``errors="collect"`` (:meth:`PointBlocks.collect`); iterate once.

    Attributes
    ----------
    rows
        Good rows of the file (those checked).
    rejected
        The rejected rows, as read_points(errors="collect") returns them.
    info
        As :attr:`PointBlocks.info`.
    """

    def __init__(self, blocks: PointBlocks, bad_at: list[np.ndarray], rows: int, rejected: pd.DataFrame) -> None:
        self._blocks = blocks
        self._bad_at = bad_at
        self.rows = rows
        self.rejected = rejected
        self.info = blocks.info

    def __iter__(self) -> Iterator[PointBlock]:
        return self._blocks.good_blocks(self._bad_at)


class _WholeFileProblem(Exception):
    """A block met a problem of the whole file: read_points reads it and raises its message."""


def _geometry_position(kind: str) -> int:
    """Where read_points puts the geometry column of a file of this kind."""
    from borderkit.schema import INCIDENTS

    if kind != "incidents":
        return 0
    names = [c.name for c in INCIDENTS.columns]
    return names.index("geometry") if "geometry" in names else 0


def _all_finite(x: np.ndarray, y: np.ndarray, log: Any) -> bool:
    """Whether every row not yet reported has finite coordinates (the fast path's condition)."""
    todo = ~log.blocked("geometry")
    return bool((np.isfinite(x[todo]) & np.isfinite(y[todo])).all())


def _csv_parts(plan: _Plan, block_rows: int) -> Iterator[tuple[int, pd.DataFrame, None, None, None]]:
    """(first row, text frame) of every block of a CSV the plan accepted, parsed by pyarrow.

    The bytes of *block_rows* records are read and cut at a record's end (a line break outside
    quotes), then parsed as one in-memory table: the memory of one block's bytes and values.
    (pyarrow's own streaming reader held about 25 MB of Arrow memory ahead, whatever the block.)
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from ._csv import TEXT_DTYPE

    names = [f"f{i}" for i in range(len(plan.header))]
    read_options = pacsv.ReadOptions(column_names=names, use_threads=False)  # one block's memory at a time
    parse_options = pacsv.ParseOptions(delimiter=plan.delimiter, newlines_in_values=plan.multiline,
                                       ignore_empty_lines=False)
    convert_options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                           strings_can_be_null=False, quoted_strings_can_be_null=False)
    first = 1
    with open(plan.path, "rb") as f:
        f.seek(plan.body_offset)
        for data in _record_blocks(f, block_rows):
            table = pacsv.read_csv(pa.py_buffer(data), read_options=read_options, parse_options=parse_options,
                                   convert_options=convert_options)
            del data
            frame = pd.DataFrame({h: pd.Series(table.column(i), dtype=TEXT_DTYPE)
                                  for i, h in enumerate(plan.header)})
            yield first, frame, None, None, None
            first += table.num_rows
    if first - 1 != plan.rows:
        raise ValueError(f"the file has {first - 1} rows, not the {plan.rows} counted (it changed)")


def _record_blocks(f: Any, block_rows: int) -> Iterator[bytes]:
    """The bytes of *block_rows* records at a time (the last block: the rest), cut at record ends
    (:func:`_record_ends`: a line break outside quotes)."""
    parts: list[bytes] = []
    ends: list[np.ndarray] = []  # record ends in the joined parts
    size = records = parity = 0
    while True:
        part = f.read(_ARROW_BLOCK_BYTES)
        if part:
            e, parity = _record_ends(np.frombuffer(part, dtype=np.uint8), parity)
            parts.append(part)
            ends.append(e + size)
            size += len(part)
            records += len(e)
        if records >= block_rows or (not part and parts):
            data = b"".join(parts)
            all_ends = np.concatenate(ends)
            start = 0
            for k in range(block_rows - 1, len(all_ends), block_rows):
                cut = int(all_ends[k]) + 1
                yield data[start:cut]
                start = cut
            rest = data[start:]
            del data
            if not part:
                if rest:
                    yield rest
                return
            left = all_ends[all_ends >= start] - start
            parts, ends, size, records = [rest], [left], len(rest), len(left)
        elif not part:
            return


def _parquet_parts(plan: _Plan, block_rows: int) -> Iterator[tuple[int, pd.DataFrame, Any, Any, Any]]:
    """(first row, columns, lon, lat, WKB values) of every block of a GeoParquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # pages read as needed (a file of one row group is not pre-buffered whole)
    pf = pq.ParquetFile(plan.path, pre_buffer=False, buffer_size=_ARROW_BLOCK_BYTES)
    first = 1
    names = [n for n in pf.schema_arrow.names if n not in plan.covering]
    for batch in pf.iter_batches(batch_size=block_rows, columns=names):
        yield _parquet_part(plan, pa.Table.from_batches([batch]), first, pf.schema_arrow.metadata)
        first += batch.num_rows


def _parquet_part(plan: _Plan, table: Any, first: int, metadata: Any) -> tuple[int, pd.DataFrame, Any, Any, Any]:
    """(first row, columns, lon, lat, WKB values) of one block of rows of a GeoParquet file."""
    geom = table.column(plan.geometry_column)
    # the file's pandas metadata kept (nullable and categorical dtypes, column names), as geopandas reads it
    rest = table.replace_schema_metadata(metadata)
    frame = _to_pandas(rest.drop_columns([plan.geometry_column]))
    lon, lat = _wkb_points(geom)
    wkb = geom.to_numpy(zero_copy_only=False) if lon is None else geom
    return first, frame, lon, lat, wkb


def read_point_row_group(
    path: str | os.PathLike[str],
    index: int,
    *,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> PointBlock | None:
    """Row group *index* of a GeoParquet point file as one :class:`PointBlock`
    (:func:`row_group_blocks` with one block of the whole row group); None when the file does not stream."""
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(os.fspath(path)).metadata.row_group(index).num_rows if index >= 0 else 1
    blocks = row_group_blocks(path, index, block_rows=max(1, rows), swap_check=swap_check, region=region,
                              projected_crs=projected_crs)
    return None if blocks is None else next(iter(blocks))


def row_group_blocks(
    path: str | os.PathLike[str],
    index: int,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> Iterator[PointBlock] | None:
    """Row group *index* of a GeoParquet point file in blocks of at most *block_rows* rows, each
    validated as :func:`read_point_blocks` validates its blocks; None when the file does not stream.

    The rule of the module documentation. Each block's ``columns`` carry ``attrs["borderkit"]`` as
    ``read_points(path).iloc[a:b]`` has them (the file's row numbers, precision column …). The
    row group's pages are read as the blocks need them, so the memory is that of one block, not
    of the row group. One task of a cluster reads one row group with it
    (:func:`borderkit.scale.check_row_group`).

    Parameters
    ----------
    path
        The GeoParquet file.
    index
        The row group (0-based).
    block_rows
        Rows per block (the last one may be shorter).
    swap_check, region, projected_crs
        As in :func:`~borderkit.io.readers.read_points`.

    Returns
    -------
    iterator of PointBlock, or None
        The row group's columns (without geometry and covering columns) and points, block by block.

    Raises
    ------
    ValueError
        No row group *index* in the file.
    borderkit.errors.ValidationError
        While iterating, at the first block holding a bad row: the problems the readers report for
        that block's rows, named by the file's rows (the later blocks are not read).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from borderkit.validate import error_type_for

    plan = _plan_parquet(os.fspath(path), None)
    if isinstance(plan, str):
        return None
    md = pq.ParquetFile(plan.path).metadata
    if not 0 <= index < md.num_row_groups:
        raise ValueError(f"{plan.path}: no row group {index} (the file has {md.num_row_groups})")
    first = 1 + sum(md.row_group(i).num_rows for i in range(index))
    reader = PointBlocks(plan, block_rows=int(block_rows), swap_check=swap_check, region=region,
                         projected_crs=projected_crs, crs=None)

    def blocks() -> Iterator[PointBlock]:
        # pages read as needed, one thread: a worker runs one task per core already
        pf = pq.ParquetFile(plan.path, pre_buffer=False, buffer_size=_ARROW_BLOCK_BYTES)
        names = [n for n in pf.schema_arrow.names if n not in plan.covering]
        at = first
        for batch in pf.iter_batches(batch_size=int(block_rows), row_groups=[index], columns=names,
                                     use_threads=False):
            part = _parquet_part(plan, pa.Table.from_batches([batch]), at, pf.schema_arrow.metadata)
            del batch
            columns, x, y, log, plog = reader._validate(*part)
            del part
            for found in (log, plog):  # the reader's first pass first, then the precision column (read_points' order)
                if found is not None and found.items:
                    raise error_type_for({i.category for i in found.items})(problems=found.problems(),
                                                                            path=plan.path)
            columns.attrs["borderkit"] = {**reader.info, "rows": np.arange(at, at + len(x))}
            yield PointBlock(columns, x, y, at)
            at += len(x)

    return blocks()


def _to_pandas(table: Any) -> pd.DataFrame:
    """Columns of a Parquet block as geopandas' read_parquet converts them."""
    frame = table.to_pandas()
    frame.index = pd.RangeIndex(len(frame))
    return frame


def _wkb_points(values: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(lon, lat) of a WKB column when every value is a 21-byte little-endian 2D point, else (None, None)."""
    import pyarrow as pa

    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if arr.null_count or len(arr) == 0:
        return None, None
    if pa.types.is_large_binary(arr.type) or pa.types.is_binary(arr.type):
        off_type = np.dtype(np.int64 if pa.types.is_large_binary(arr.type) else np.int32)
    else:
        return None, None
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_type, count=len(arr) + 1, offset=arr.offset * off_type.itemsize)
    if not (np.diff(offsets) == 21).all():
        return None, None
    raw = np.frombuffer(bufs[2], dtype=np.uint8, count=21 * len(arr), offset=int(offsets[0])).reshape(-1, 21)
    if not (raw[:, 0] == 1).all():
        return None, None
    kind = raw[:, 1:5].copy().view("<u4").ravel()
    if not (kind == 1).all():
        return None, None
    xy = raw[:, 5:21].copy().view("<f8")
    return np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])


def read_point_blocks(
    path: str | os.PathLike[str],
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    errors: str = "raise",
    layer: str | int | None = None,
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    encoding: str | None = None,
) -> PointBlocks | None:
    """The blocks of a point file read block by block, or None when it does not stream.

    Parameters
    ----------
    path
        A CSV table of points or a GeoParquet file (the module documentation says which stream).
    block_rows
        Rows per block (the last block may be shorter); bounds the memory of the read.
    errors, layer, crs, swap_check, region, projected_crs, encoding
        As in :func:`~borderkit.io.readers.read_points`.

    Returns
    -------
    PointBlocks or None
        Iterate it for :class:`PointBlock` s in file order; its ``rows`` is known before the
        first block. None: the file does not stream (:func:`stream_refusal` says why) — read it
        with :func:`~borderkit.io.readers.read_points`.

    Raises
    ------
    ValueError
        *block_rows* not a positive integer.
    borderkit.errors.ValidationError
        While iterating, after the last block: the error read_points raises for the file.
    """
    if not isinstance(block_rows, int | np.integer) or isinstance(block_rows, bool) or block_rows < 1:
        raise ValueError(f"block_rows: must be a positive integer, got {block_rows!r}")
    plan = _plan(os.fspath(path), errors=errors, layer=layer, crs=crs, encoding=encoding)
    if isinstance(plan, str):
        return None
    return PointBlocks(plan, block_rows=int(block_rows), swap_check=swap_check, region=region,
                       projected_crs=projected_crs, crs=crs)
