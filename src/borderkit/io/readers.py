"""Reading lines, territories, incidents and places from the files people bring.

Formats
-------
GeoJSON, GeoPackage, Shapefile (also zipped: ``.zip``/``.shp.zip``), KML, GPX,
GeoParquet and CSV. Other formats GDAL reads are tried through pyogrio.

CSV
    Point coordinates in ``latitude``/``lat``/``y`` and
    ``longitude``/``lon``/``lng``/``long``/``x`` columns (any case), or WKT in a
    ``geometry``/``wkt`` column (for lines and polygons; rows with an empty WKT
    cell fall back to latitude/longitude). CSV carries no CRS: coordinates are
    taken as WGS84 degrees (EPSG:4326) unless ``crs=`` says otherwise. The
    delimiter (``,``, ``;``, tab, ``|``) is taken from the header line.

CRS
    GeoJSON is EPSG:4326 by RFC 7946, and so are KML and GPX by their
    specifications. A Shapefile without ``.prj``, a GeoPackage layer without a
    spatial reference, or a GeoParquet file whose ``crs`` is null has *no* CRS:
    that is an error (:class:`~borderkit.errors.CRSError`) unless ``crs=`` is
    given. A declared CRS other than WGS84 is reprojected to EPSG:4326 with
    ``always_xy`` (longitude, latitude) axis order; that is not an error.

ACLED and UCDP GED
    Recognised by their columns in any format and mapped to the INCIDENTS
    schema by :func:`read_incidents` (see :mod:`borderkit.io.external`); every
    original column is kept. HDX exports, whose second row holds HXL hashtags
    (``#date``, ``#geo+lat`` …), are read with that row set aside (in
    ``gdf.attrs["borderkit"]["hxl"]``).

Untrusted files
---------------
Every file is bounded: one larger than :func:`max_input_bytes` (256 MiB, or
``$BORDERKIT_MAX_INPUT_MB``) is refused with
:class:`~borderkit.errors.InputTooLargeError`; for a zip the members'
uncompressed sizes are checked before anything is inflated (a zip bomb never
reaches memory). A zip may hold the GIS files in one folder. A shapefile whose
``.dbf`` declares no encoding (no ``.cpg``, no code page) is read as UTF-8 when
it is valid UTF-8, else in the encoding :func:`~borderkit.io._text.guess_encoding`
names, with a :class:`~borderkit.errors.GuessedEncodingWarning`. KML placemarks
with an empty ``<coordinates>`` have no geometry (GDAL would give POINT (0 0)).
GeoParquet is read with pyarrow, never through GDAL. :func:`detect_layer_kind`
tells the kind of a file from its columns (and its geometry).

Errors and row numbers
----------------------
No row is ever dropped silently. With ``errors="raise"`` (the default) any
problem raises one :class:`~borderkit.errors.ValidationError` (or a subclass:
``CRSError``, ``FileFormatError``, ``EmptyFileError``, ``EncodingError``)
whose ``problems`` lists every problem of every row. With
``errors="collect"`` the reader returns ``(good, rejected)``:

``good``
    GeoDataFrame of the rows without any problem (conformed to the schema).
``rejected``
    DataFrame with one row per rejected input row: ``row`` (1-based data row),
    ``spreadsheet_row`` (CSV only: the row a spreadsheet shows, counting the
    header and an HXL row), ``columns`` (the columns at fault, comma-separated),
    ``problems`` (the messages, ``"; "``-separated), then the row's original
    values as read. ``rejected.attrs["problems"]`` holds the
    :class:`~borderkit.errors.Problem` objects.

Problems of the whole file (unreadable, empty, truncated, not valid text in the
encoding, a required column missing, no CRS) raise in both modes.

Nothing is dropped: every column of the input is kept after the schema's
columns. The only exception are the columns GDAL adds to every KML and GPX
feature (``altitudeMode``, ``link1_href`` …) when they are empty in every row.

``Problem.row`` is the 1-based *data* row: the first feature or record is row
1 (the CSV header, and the HXL row of an HDX export, are not counted). CSV
messages end with ``[spreadsheet row N]``, the number a spreadsheet shows
(data row + 1, or + 2 with an HXL row).
"""

from __future__ import annotations

import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeAlias

import numpy as np
import pandas as pd

from borderkit.errors import (
    EmptyFileError,
    EncodingError,
    FileFormatError,
    GuessedEncodingWarning,
    InputError,
    InputTooLargeError,
    OptionalDependencyError,
    Problem,
    ValidationError,
)
from borderkit.schema import SCHEMAS, Column, LayerSchema

if TYPE_CHECKING:  # geopandas is imported on first use only
    from collections.abc import Mapping, Sequence

    from geopandas import GeoDataFrame

    from borderkit.validate import Region

__all__ = [
    "read_layer",
    "read_lines",
    "read_territories",
    "read_incidents",
    "read_places",
    "read_points",
    "table_coordinates",
    "points_precision",
    "validate_table_block",
    "PRECISION_COLUMNS",
    "LINE_DEFAULT_KEYS",
    "TERRITORY_DEFAULT_KEYS",
    "POINTS",
    "max_input_bytes",
    "layer_columns",
    "detect_layer_kind",
    "MAX_INPUT_ENV",
    "DEFAULT_MAX_INPUT_MB",
]

MAX_INPUT_ENV = "BORDERKIT_MAX_INPUT_MB"
"""Environment variable that sets the readers' size limit, in megabytes (MiB)."""

DEFAULT_MAX_INPUT_MB = 256
"""Default size limit of one input file (uncompressed, for a zip) in MiB.

The readers hold a file's rows in memory several times over (text, parsed
values, geometries), so the limit is what bounds their memory: a 256 MiB CSV
needs a few GiB. Larger files are refused with a message naming
:data:`MAX_INPUT_ENV`, which raises the limit."""

Errors = Literal["raise", "collect"]
Result: TypeAlias = "GeoDataFrame | tuple[GeoDataFrame, pd.DataFrame]"

_CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_XML_SUFFIXES = (".kml", ".gpx")
_JSON_SUFFIXES = (".geojson", ".json", ".geojsonl", ".geojsons")

# Columns of other names that mean a schema column (compared without case).
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "places": {"name_en": ("name",), "elevation_m": ("ele", "elevation")},
    "incidents": {"description": ("desc",)},
    "lines": {},
    "territories": {},
}

# Columns GDAL adds to every KML/GPX layer; dropped when empty in every row.
_KML_COLUMNS = frozenset(
    (
        "id Name description timestamp begin end altitudeMode tessellate extrude visibility "
        "drawOrder icon snippet"
    ).split()
)
_GPX_COLUMNS = frozenset(
    (
        "ele time magvar geoidheight name cmt desc src link1_href link1_text link1_type link2_href "
        "link2_text link2_type sym type fix sat hdop vdop pdop ageofdgpsdata dgpsid number"
    ).split()
)
_DRIVER_COLUMNS = {"KML": _KML_COLUMNS, "LIBKML": _KML_COLUMNS, "GPX": _GPX_COLUMNS}
# KML/LIBKML default values of their style columns count as empty
_KML_DEFAULTS = {"tessellate": (-1, 0), "extrude": (0,), "visibility": (-1, 1)}

_GPX_LAYERS = {
    "lines": ("tracks", "routes"),
    "territories": (),
    "incidents": ("waypoints",),
    "places": ("waypoints", "tracks", "routes"),
}


@dataclass
class _Loaded:
    frame: Any  # GeoDataFrame, or DataFrame for tables before geometry
    raw: pd.DataFrame
    log: Any
    fmt: str
    driver: str = ""
    is_table: bool = False
    crs_carrying: bool = False
    crs_missing_what: str = ""
    sheet_offset: int | None = None
    coord_columns: tuple[str, str] | None = None
    source_columns: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _fail(error: type, message: str, path: str, **kw: Any) -> NoReturn:
    raise error(problems=[Problem(message, path=path, **kw)], path=path)


def _suffix(path: str) -> str:
    low = path.lower()
    if low.endswith(".shp.zip"):
        return ".shp.zip"
    return os.path.splitext(low)[1]


def max_input_bytes() -> int:
    """The readers' size limit in bytes: ``$BORDERKIT_MAX_INPUT_MB`` MiB, else 256 MiB.

    Raises
    ------
    borderkit.errors.InputError
        When the variable is set but is not a positive number.
    """
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_MB * 2**20
    try:
        mb = float(raw)
    except ValueError:
        mb = float("nan")
    if not (math.isfinite(mb) and mb > 0):
        raise InputError(
            f"the environment variable {MAX_INPUT_ENV}={raw!r} is not a positive number of megabytes; "
            f"set it to e.g. 1024, or unset it for the default {DEFAULT_MAX_INPUT_MB}"
        )
    return int(mb * 2**20)


def _mb(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.1f} MB" if nbytes >= 2**20 / 10 else f"{int(nbytes):,} bytes"


def _check_size(nbytes: int, path: str, what: str) -> None:
    limit = max_input_bytes()
    if nbytes > limit:
        _fail(
            InputTooLargeError,
            f"{what} is {_mb(nbytes)}, more than the readers' limit of {_mb(limit)}; split the file, "
            f"or raise the limit with the environment variable {MAX_INPUT_ENV} (megabytes)",
            path,
        )


def _zip_parts(src: str) -> tuple[str, str]:
    """(archive path, folder inside it) of a ``/vsizip/`` source."""
    rest = src[len("/vsizip/") :]
    end = rest.lower().find(".zip") + len(".zip")
    return rest[:end], rest[end:].strip("/")


def _shp_truncations(names: list[str]) -> dict[str, str]:
    """The names GDAL gives ``names`` in a DBF (10 characters, made unique in order)."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        cand = name[:10]
        if cand.lower() in used:
            for i in range(1, 100):
                cand = f"{name[:8]}_{i}" if i < 10 else f"{name[:7]}_{i:02d}"
                if cand.lower() not in used:
                    break
        used.add(cand.lower())
        out[name] = cand
    return out


def _harmonise(frame: pd.DataFrame, schema: LayerSchema, driver: str) -> pd.DataFrame:
    """Rename columns that clearly mean a schema column (never overwriting one)."""
    cols = [str(c) for c in frame.columns]
    present = set(cols)
    rename: dict[str, str] = {}

    def take(old: str, new: str) -> None:
        if old in present and new not in present and old not in rename and new not in rename.values():
            rename[old] = new

    if driver == "GPX":
        for c in cols:
            if c.startswith("ogr_"):
                take(c, c[4:])
    if driver == "ESRI Shapefile":
        for name, short in _shp_truncations(schema.names).items():
            if name != short:
                take(short, name)
    targets = set(present) - set(rename) | set(rename.values())
    for name in schema.names:
        if name in targets or name == "geometry":
            continue
        matches = [c for c in cols if c.lower() == name.lower() and c not in rename]
        if len(matches) == 1:
            take(matches[0], name)
            targets.add(name)
            continue
        for alias in _ALIASES.get(schema.kind, {}).get(name, ()):
            matches = [c for c in cols if c.lower() == alias and c not in rename]
            if len(matches) == 1:
                take(matches[0], name)
                targets.add(name)
                break
    return frame.rename(columns=rename) if rename else frame


def _drop_empty_driver_columns(frame: Any, driver: str) -> Any:
    names = _DRIVER_COLUMNS.get(driver)
    if not names:
        return frame
    drop = []
    for c in frame.columns:
        if c not in names or c == getattr(frame, "_geometry_column_name", None):
            continue
        s = frame[c]
        empty = s.isna() | (s.astype(str).str.strip() == "")
        if c in _KML_DEFAULTS and driver in ("KML", "LIBKML"):
            empty |= s.isin(_KML_DEFAULTS[c])
        if bool(empty.all()):
            drop.append(c)
    return frame.drop(columns=drop) if drop else frame


def _bounds_hint(gdf: Any, *, region: Region | None, projected_crs: Sequence[str] | None) -> str:
    from borderkit.validate import guess_projected_crs, projected_hint

    b = gdf.geometry.total_bounds
    if not np.isfinite(b).all():
        return "pass crs= with the CRS the coordinates are in"
    if abs(b[0]) <= 180 and abs(b[2]) <= 180 and abs(b[1]) <= 90 and abs(b[3]) <= 90:
        return "its coordinates look like longitude/latitude degrees: pass crs='EPSG:4326' if they are WGS84"
    guess = guess_projected_crs(
        np.array([(b[0] + b[2]) / 2]), np.array([(b[1] + b[3]) / 2]), region=region, candidates=projected_crs
    )[0]
    return "its coordinates look projected (metres): " + projected_hint(
        guess, region=region, candidates=projected_crs
    )


# ---------------------------------------------------------------------------
# loading by format
# ---------------------------------------------------------------------------


def _load_csv_bytes(data: bytes, path: str, *, encoding: str | None) -> _Loaded:
    from borderkit.validate import IssueLog

    from ._csv import read_csv_table

    table = read_csv_table(data, path=path, encoding=encoding)
    log = IssueLog(len(table.frame), path=path, rows=table.rows, sheet_offset=table.header_rows)
    for pos, col, msg in table.issues:
        log.add_rows([pos], col, msg)
    return _Loaded(
        frame=table.frame,
        raw=table.frame.copy(),
        log=log,
        fmt="CSV",
        is_table=True,
        sheet_offset=table.header_rows,
        meta={"hxl": table.hxl, "delimiter": table.delimiter},
    )


def _check_zip(path: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            # the sizes in the central directory come first: a zip bomb (a
            # small archive that inflates to gigabytes) is refused before any
            # byte is decompressed, and Python's zipfile never inflates a
            # member beyond its declared size
            infos = zf.infolist()
            total = sum(i.file_size for i in infos if not i.is_dir())
            packed = sum(i.compress_size for i in infos if not i.is_dir())
            if total > max_input_bytes():
                ratio = f", {total / max(packed, 1):,.0f} times its compressed size" if packed else ""
                _check_size(total, path, f"the zip archive's content, uncompressed{ratio},")
            bad = zf.testzip()
            names = zf.namelist()
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        _fail(
            FileFormatError,
            f"the zip archive is truncated or corrupt ({exc}); download or zip it again",
            path,
        )
    if bad is not None:
        _fail(
            FileFormatError,
            f"member {bad!r} of the zip archive is corrupt (CRC mismatch); zip it again",
            path,
        )
    return names


def _xml_encoding(data: bytes) -> str | None:
    m = re.match(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._\-]+)[\"']", data[:300])
    return m.group(1).decode("ascii") if m else None


def _precheck_text(path: str, suffix: str, encoding: str | None) -> None:
    """Decode text formats up front so a bad byte is reported with its offset."""
    from ._text import decode_bytes

    data = Path(path).read_bytes()
    if suffix in _XML_SUFFIXES:
        declared = _xml_encoding(data)
        decode_bytes(data, path=path, encoding=declared or encoding)
    else:
        decode_bytes(data, path=path, encoding=encoding)


def _choose_layer(src: str, path: str, schema: LayerSchema, layer: str | int | None) -> tuple[str, str]:
    import pyogrio

    try:
        layers = pyogrio.list_layers(src)
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        _fail(
            FileFormatError,
            f"cannot open the file as a GIS dataset ({exc}); it may be truncated, corrupt or of an "
            "unsupported format — export it again as GeoJSON, GeoPackage or CSV",
            path,
        )
    names = [str(x) for x in layers[:, 0]] if len(layers) else []
    if not names:
        _fail(EmptyFileError, "the file holds no layers; export the data again", path)
    info = pyogrio.read_info(src, layer=names[0])
    driver = str(info.get("driver", ""))
    if layer is not None:
        if isinstance(layer, int):
            if not 0 <= layer < len(names):
                _fail(FileFormatError, f"layer index {layer} does not exist; the layers are {names}", path)
            return names[layer], driver
        if layer not in names:
            _fail(FileFormatError, f"no layer {layer!r}; the layers are {names}: pass one as layer=", path)
        return layer, driver
    if len(names) == 1:
        return names[0], driver
    if driver == "GPX":
        for cand in _GPX_LAYERS.get(schema.kind, ()):
            if cand in names and len(pyogrio.read_dataframe(src, layer=cand, read_geometry=False)):
                return cand, driver
        _fail(
            EmptyFileError,
            f"the GPX file has no {'/'.join(_GPX_LAYERS.get(schema.kind, ())) or 'usable'} features "
            f"for a {schema.kind} layer; pass layer= (one of {names})",
            path,
        )
    wanted = [t.lower() for t in schema.geometry_types]
    fits = []
    for name, gtype in zip(names, layers[:, 1], strict=True):
        g = str(gtype).lower().replace("3d ", "").replace(" z", "").replace(" m", "")
        if g in wanted:
            try:
                count = pyogrio.read_info(src, layer=name).get("features", -1)
            except Exception:
                count = -1
            if count != 0:
                fits.append(name)
    if len(fits) == 1:
        return fits[0], driver
    _fail(
        FileFormatError,
        f"the file has {len(names)} layers ({', '.join(names)}) and "
        + (
            f"{len(fits)} of them fit a {schema.kind} layer"
            if fits
            else f"none is clearly a {schema.kind} layer"
        )
        + "; pass layer= with the one to read",
        path,
    )


def _dbf_bytes(src: str, layer: str) -> bytes | None:
    """The .dbf of shapefile layer ``layer`` (plain or inside a zip), if there is one."""
    return _sidecar(src, layer, ".dbf")


def _sidecar(src: str, layer: str, ext: str) -> bytes | None:
    """The ``layer + ext`` file next to a shapefile (plain or inside a zip), if there is one."""
    if src.startswith("/vsizip/"):
        archive, _folder = _zip_parts(src)
        try:
            with zipfile.ZipFile(archive) as zf:
                for n in zf.namelist():
                    if n.lower().endswith(ext) and os.path.basename(n)[: -len(ext)].lower() == layer.lower():
                        return zf.read(n)
        except (OSError, zipfile.BadZipFile):
            return None
        return None
    base = Path(src)
    folder = base if base.is_dir() else base.parent
    for f in folder.iterdir():
        if f.suffix.lower() == ext and f.stem.lower() == layer.lower():
            return f.read_bytes()
    return None


def _dbf_non_utf8(data: bytes) -> list[tuple[int, str, bytes, int]]:
    """(row, field, raw value, offset of the bad byte) of every DBF text value that is not UTF-8.

    A DBF is a 32-byte header (record count at 4, header length at 8, record
    length at 10), 32-byte field descriptors up to 0x0D, then fixed-width
    records that start with a deletion flag byte.
    """
    import struct

    n_rec, header_len, rec_len = struct.unpack("<IHH", data[4:12])
    fields = []
    pos = 32
    offset = 1
    while pos + 32 <= header_len and data[pos] != 0x0D:
        name = data[pos : pos + 11].split(b"\0", 1)[0].decode("ascii", errors="replace")
        ftype = chr(data[pos + 11])
        length = data[pos + 16]
        fields.append((name, ftype, offset, length))
        offset += length
        pos += 32
    out = []
    for i in range(n_rec):
        start = header_len + i * rec_len
        rec = data[start : start + rec_len]
        if len(rec) < rec_len:
            break
        for name, ftype, off, length in fields:
            if ftype not in "CM":
                continue
            raw = rec[off : off + length].rstrip(b" \0")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                out.append((i + 1, name, raw, start + off + e.start))
    return out


def _locate_bad_text(src: str, layer: str | None, path: str, exc: UnicodeDecodeError) -> NoReturn:
    """Name the rows and columns whose text is not UTF-8 (shapefiles: read from the .dbf).

    ``layer`` is None for a GeoJSON file read without listing its one layer: it has no .dbf.
    """
    from ._text import guess_encoding

    found: list[tuple[int, str, bytes, int]] = []
    dbf = _dbf_bytes(src, layer) if layer is not None else None
    if dbf is not None:
        try:
            found = _dbf_non_utf8(dbf)
        except Exception:  # a damaged .dbf: fall back to the general message
            found = []
    guess = guess_encoding(b" ".join(raw for _, _, raw, _ in found)) if found else "cp1251"
    fix = f"pass encoding={guess!r} to the reader (or write the file as UTF-8)"
    if found:
        assert dbf is not None  # found is only ever filled from the .dbf
        problems = [
            Problem(
                f"text {raw[:40]!r} is not valid UTF-8 (byte {dbf[off]:02x} at byte offset {off} of the "
                f".dbf); {fix}",
                path=path,
                row=row,
                column=name,
            )
            for row, name, raw, off in found
        ]
    else:
        problems = [Problem(f"text is not valid UTF-8 ({exc.reason} at byte {exc.start}); {fix}", path=path)]
    raise EncodingError(problems=problems, path=path) from exc


def _undeclared_shapefile_encoding(src: str, layer: str, path: str) -> str | None:
    """The encoding to read a shapefile's .dbf with when nothing declares it, or None.

    With neither a ``.cpg`` file nor a code page in the .dbf header (byte 29,
    the "language driver id"), GDAL decodes the text as ISO-8859-1: Cyrillic
    text written as Windows-1251 comes out as mojibake (``Òåãõ`` for
    ``Тегх``) without any error. So: text that is valid UTF-8 is read as
    UTF-8; other text is read in the encoding :func:`guess_encoding` names,
    with a :class:`~borderkit.errors.GuessedEncodingWarning` saying so.
    """
    from ._text import encoding_label, guess_encoding

    dbf = _dbf_bytes(src, layer)
    if dbf is None or len(dbf) < 32 or dbf[29] != 0 or _sidecar(src, layer, ".cpg") is not None:
        return None
    try:
        bad = _dbf_non_utf8(dbf)
    except Exception:  # a damaged .dbf: GDAL's own reading reports it
        return None
    if not bad:
        # pure ASCII needs nothing; UTF-8 text must not be read as ISO-8859-1
        return "utf-8" if any(b >= 0x80 for b in dbf[32:]) else None
    guess = guess_encoding(b" ".join(raw for _, _, raw, _ in bad))
    row, column, _, _ = bad[0]
    warnings.warn(
        f"{path}: the shapefile declares no text encoding (no .cpg file, no code page in the .dbf) "
        f"and its text is not UTF-8 (first at row {row}, column {column!r}); it was read as "
        f"{encoding_label(guess)} by a guess — check the names, pass encoding='…' if they look "
        f"wrong, or add a {layer}.cpg file holding the encoding's name",
        GuessedEncodingWarning,
        stacklevel=2,
    )
    return guess


_EMPTY_KML_COORDS = re.compile(rb"<(?:\w+:)?coordinates\s*(?:/>|>\s*</(?:\w+:)?coordinates>)")
_KML_PLACEMARK = re.compile(rb"<(?:\w+:)?Placemark\b.*?</(?:\w+:)?Placemark>", re.S)


def _empty_kml_coordinates(path: str, gdf: Any, log: Any) -> Any:
    """Placemarks whose ``<coordinates>`` is empty: GDAL reads them as POINT (0 0).

    When the placemarks of the file are the rows read (one layer), each such
    row gets an empty geometry, so the schema's rule for a missing geometry
    applies (an unlocated place is allowed, an incident without a location
    is not). Otherwise every POINT (0 0) of the file is reported.
    """
    import shapely

    try:
        if _suffix(path) == ".kmz":  # sizes already checked by _check_zip
            with zipfile.ZipFile(path) as zf:
                kml = [n for n in zf.namelist() if n.lower().endswith(".kml")]
                data = zf.read(kml[0]) if len(kml) == 1 else b""
        else:
            data = Path(path).read_bytes()
    except (OSError, zipfile.BadZipFile):
        return gdf
    if not _EMPTY_KML_COORDS.search(data):
        return gdf
    marks = _KML_PLACEMARK.findall(data)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    point = ~shapely.is_missing(geoms) & (shapely.get_type_id(geoms) == 0)
    zero = np.zeros(len(geoms), dtype=bool)
    zero[point] = (shapely.get_x(geoms[point]) == 0) & (shapely.get_y(geoms[point]) == 0)
    if len(marks) == len(gdf):
        empty = np.array([_EMPTY_KML_COORDS.search(m) is not None for m in marks]) & zero
        if empty.any():
            gdf = gdf.copy()
            gdf.loc[gdf.index[empty], gdf.geometry.name] = None
        return gdf
    log.add_rows(
        zero,
        "geometry",
        "the point is (0, 0) and the file has placemarks with an empty <coordinates> (GDAL reads those "
        "as POINT (0 0)); give their coordinates as longitude,latitude or remove the placemarks",
        block=("geometry",),
    )
    return gdf


def _load_ogr(src: str, path: str, schema: LayerSchema, *, layer: Any, encoding: str | None) -> _Loaded:
    import pyogrio

    from borderkit.validate import IssueLog

    if layer is None and src == path and _suffix(path) == ".geojson":
        # GeoJSON holds exactly one layer; listing layers and reading the
        # layer's info would parse the whole file twice more (seconds for a
        # line of a million vertices)
        name: str | None = None
        driver = "GeoJSON"
    else:
        name, driver = _choose_layer(src, path, schema, layer)
    kw: dict[str, Any] = {}
    if encoding:
        kw["encoding"] = encoding
    elif driver == "ESRI Shapefile" and name is not None:  # always named: _choose_layer found it
        guessed = _undeclared_shapefile_encoding(src, name, path)
        if guessed:
            kw["encoding"] = guessed
    try:
        gdf = pyogrio.read_dataframe(src, layer=name, **kw)
    except UnicodeDecodeError as exc:
        _locate_bad_text(src, name, path, exc)
    except Exception as exc:
        if name is None:
            _fail(
                FileFormatError,
                f"cannot open the file as a GIS dataset ({exc}); it may be truncated, corrupt or of an "
                "unsupported format — export it again as GeoJSON, GeoPackage or CSV",
                path,
            )
        _fail(
            FileFormatError,
            f"cannot read layer {name!r} ({exc}); the file may be truncated or corrupt — export it again",
            path,
        )
    if len(gdf) == 0:
        what = f"layer {name!r} has" if name is not None else "the file has"
        _fail(EmptyFileError, f"{what} no features; add features or choose another layer", path)
    gdf = _drop_empty_driver_columns(gdf, driver)
    log = IssueLog(len(gdf), path=path)
    if driver in ("KML", "LIBKML") and not src.startswith("/vsi"):
        gdf = _empty_kml_coordinates(path, gdf, log)
    crs_carrying = driver not in ("GeoJSON", "GeoJSONSeq", "KML", "LIBKML", "GPX")
    what = {
        "ESRI Shapefile": "the shapefile has no .prj file, so its CRS is unknown",
        "GPKG": "the GeoPackage layer has no spatial reference system (srs_id 0/-1), so its CRS is unknown",
    }.get(driver, f"the {driver} layer declares no CRS")
    return _Loaded(
        frame=gdf,
        raw=pd.DataFrame(gdf),
        log=log,
        fmt=driver,
        driver=driver,
        crs_carrying=crs_carrying,
        crs_missing_what=what,
        meta={"layer": name},
    )


def _load_parquet(path: str) -> _Loaded:
    from borderkit.validate import IssueLog

    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise OptionalDependencyError(
            "reading GeoParquet needs pyarrow: pip install 'borderkit[parquet]'"
        ) from exc
    import geopandas as gpd

    try:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path).metadata or {}
    except Exception as exc:
        _fail(
            FileFormatError,
            f"cannot read the Parquet file ({exc}); it may be truncated or corrupt — export it again",
            path,
        )
    if b"geo" in meta:
        try:
            gdf = gpd.read_parquet(path)
        except Exception as exc:
            _fail(FileFormatError, f"cannot read the GeoParquet file ({exc}); export it again", path)
        if gdf.geometry.name != "geometry":
            if "geometry" in gdf.columns:
                gdf = gdf.rename(columns={"geometry": "geometry_attribute"})
            gdf = gdf.rename_geometry("geometry")
        if len(gdf) == 0:
            _fail(EmptyFileError, "the GeoParquet file has no rows", path)
        return _Loaded(
            frame=gdf,
            raw=pd.DataFrame(gdf),
            log=IssueLog(len(gdf), path=path),
            fmt="GeoParquet",
            crs_carrying=True,
            crs_missing_what="the GeoParquet file's crs is null (unknown CRS)",
        )
    # a plain Parquet table: read it like a CSV (latitude/longitude or WKT)
    df = pd.read_parquet(path)
    if len(df) == 0:
        _fail(EmptyFileError, "the Parquet file has no rows", path)
    return _Loaded(frame=df, raw=df.copy(), log=IssueLog(len(df), path=path), fmt="Parquet", is_table=True)


def _load(path: str, schema: LayerSchema, *, layer: Any, encoding: str | None) -> _Loaded:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if p.is_dir():
        # a folder of shapefiles, a FileGDB …: let GDAL open it
        return _load_ogr(str(p), path, schema, layer=layer, encoding=encoding)
    size = p.stat().st_size
    if size == 0:
        _fail(EmptyFileError, "the file is empty (0 bytes); export or download it again", path)
    _check_size(size, path, "the file")
    suffix = _suffix(path)
    if suffix in _CSV_SUFFIXES:
        return _load_csv_bytes(p.read_bytes(), path, encoding=encoding)
    if suffix in _PARQUET_SUFFIXES:
        return _load_parquet(path)
    if suffix in (".zip", ".shp.zip"):
        names = [n for n in _check_zip(path) if not n.endswith("/")]
        data_files = [n for n in names if not os.path.basename(n).startswith((".", "__MACOSX"))]
        csvs = [n for n in data_files if n.lower().endswith(_CSV_SUFFIXES)]
        gis = [
            n
            for n in data_files
            if n.lower().endswith((".shp", ".gpkg", ".geojson", ".json", ".kml", ".gpx"))
        ]
        if csvs and not gis:
            if len(csvs) > 1:
                _fail(FileFormatError, f"the zip holds several CSV files ({', '.join(csvs)}); unzip it", path)
            with zipfile.ZipFile(path) as zf:
                data = zf.read(csvs[0])
            return _load_csv_bytes(data, f"{path}/{csvs[0]}", encoding=encoding)
        # GIS files in one folder inside the archive (as "Compress folder"
        # makes them): GDAL opens the folder, not the archive's root
        folders = sorted({os.path.dirname(n) for n in gis})
        if len(folders) > 1:
            _fail(
                FileFormatError,
                f"the zip holds GIS files in {len(folders)} folders ({', '.join(f or '/' for f in folders)}); "
                "unzip it and read one of them",
                path,
            )
        inner = f"/{folders[0]}" if folders and folders[0] else ""
        return _load_ogr(
            f"/vsizip/{os.path.abspath(path)}{inner}", path, schema, layer=layer, encoding=encoding
        )
    if suffix == ".kmz":
        _check_zip(path)  # a KMZ is a zip: its sizes are checked before GDAL inflates it
    if suffix in _XML_SUFFIXES or suffix in _JSON_SUFFIXES:
        _precheck_text(path, suffix, encoding)
    return _load_ogr(path, path, schema, layer=layer, encoding=encoding)


# ---------------------------------------------------------------------------
# tables (CSV, plain Parquet) -> geometry
# ---------------------------------------------------------------------------


def _table_geometry(loaded: _Loaded, schema: LayerSchema) -> Any:
    import geopandas as gpd
    import shapely

    from borderkit.validate import short_repr, to_text

    from ._csv import LAT_NAMES, LON_NAMES, WKT_NAMES, find_column

    frame: pd.DataFrame = loaded.frame
    log = loaded.log
    cols = [str(c) for c in frame.columns]
    n = len(frame)
    wkt = find_column(cols, WKT_NAMES)
    lat = find_column(cols, LAT_NAMES)
    lon = find_column(cols, LON_NAMES)
    geoms = np.full(n, None, dtype=object)
    need = np.ones(n, dtype=bool)
    if wkt is not None:
        col = frame[wkt]
        if col.map(lambda v: isinstance(v, bytes | bytearray)).any():
            has = col.notna().to_numpy()
            parsed = shapely.from_wkb(np.where(has, col.to_numpy(dtype=object), None), on_invalid="ignore")
            kind = "WKB"
        else:
            text = to_text(col).str.strip()
            has = (text != "").to_numpy()
            parsed = shapely.from_wkt(np.where(has, text.to_numpy(dtype=object), None), on_invalid="ignore")
            kind = "WKT"
        bad = has & shapely.is_missing(parsed)
        log.add_rows(
            bad,
            wkt,
            lambda p: (
                f"{short_repr(str(frame[wkt].iloc[p]))} is not valid {kind}; write e.g. "
                "LINESTRING (45.1 39.2, 45.3 39.4) (longitude first)"
            ),
            block=("geometry",),
        )
        geoms = np.asarray(parsed, dtype=object)
        need = ~has
    coord_columns = None
    if lat is not None and lon is not None:
        x, y = table_coordinates(frame, lon, lat, log, need=need)
        ok = need & ~np.isnan(x) & ~np.isnan(y)
        if ok.any():
            geoms[ok] = shapely.points(x[ok], y[ok])
        coord_columns = (lon, lat)
    elif wkt is None:
        log.add_file(
            "no coordinates: the table has no latitude/lat/y and longitude/lon/lng/long/x columns and "
            "no WKT 'geometry'/'wkt' column; add them",
            column="geometry",
            category="columns",
        )
    attrs = frame.drop(columns=[wkt]) if wkt is not None else frame
    loaded.coord_columns = coord_columns
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=None)


def table_coordinates(
    frame: pd.DataFrame, lon: str, lat: str, log: Any, *, need: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of a table's text columns, every unreadable cell reported in *log*.

    The one implementation of a table's coordinate cells, for a whole file (:func:`read_layer`)
    and for one block of a file read block by block (:mod:`borderkit.io.blocks`): a cell that
    is not a number, and a row with one of the two cells empty, is a problem of that row
    (reported on the rows of *need*, default all; the geometry of those rows is then not
    checked again).

    Parameters
    ----------
    frame
        The table, its values as read (text).
    lon, lat
        The longitude and latitude columns.
    log
        :class:`~borderkit.validate.IssueLog` of the frame's rows.
    need
        Rows that take their geometry from these columns (default all).

    Returns
    -------
    tuple of numpy.ndarray
        (x, y) as float64; NaN where empty or not a number.
    """
    from borderkit.validate import short_repr, text_to_float, to_text

    if need is None:
        need = np.ones(len(frame), dtype=bool)
    tx = to_text(frame[lon]).str.strip()
    ty = to_text(frame[lat]).str.strip()
    x, y = text_to_float(tx), text_to_float(ty)
    ex = (tx == "").to_numpy()
    ey = (ty == "").to_numpy()

    def _nan_msg(col: str, t: pd.Series) -> Any:
        def f(p: int) -> str:
            v = t.iloc[p]
            hint = (
                "convert degrees/minutes/seconds to decimal degrees"
                if re.search(r"[°'\"NSEW]", v)
                else "use a dot as decimal separator"
                if "," in v
                else "write decimal degrees"
            )
            return f"{short_repr(v)} is not a number; {hint} (e.g. {'39.2' if col == lat else '46.4'})"

        return f

    nx = need & ~ex & np.isnan(x)
    ny = need & ~ey & np.isnan(y)
    log.add_rows(nx, lon, _nan_msg(lon, tx), block=("geometry",))
    log.add_rows(ny, lat, _nan_msg(lat, ty), block=("geometry",))
    only_x = need & ~ex & ey & ~nx
    only_y = need & ex & ~ey & ~ny
    log.add_rows(only_x, lat, f"{lat!r} is empty but {lon!r} is given; fill in both", block=("geometry",))
    log.add_rows(only_y, lon, f"{lon!r} is empty but {lat!r} is given; fill in both", block=("geometry",))
    return x, y


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def _collect(result: Any, loaded: _Loaded) -> tuple[Any, pd.DataFrame]:
    log = loaded.log
    bad = log.bad_positions()
    problems = log.problems()
    by_pos = log.messages_by_position()
    keep = np.ones(len(result), dtype=bool)
    keep[bad] = False
    good = result.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    raw = loaded.raw.iloc[bad].reset_index(drop=True)
    info = pd.DataFrame(
        {
            "row": log.rows[bad].astype(np.int64),
            "columns": [", ".join(dict.fromkeys(c for c, _ in by_pos[p] if c)) for p in bad],
            "problems": ["; ".join(m for _, m in by_pos[p]) for p in bad],
        }
    )
    if loaded.sheet_offset:
        info.insert(1, "spreadsheet_row", info["row"] + loaded.sheet_offset)
    raw = raw.rename(columns={c: f"input_{c}" for c in raw.columns if c in info.columns})
    rejected = pd.concat([info, raw], axis=1)
    rejected.attrs["problems"] = [p for p in problems if p.row is not None]
    return good, rejected


def _validated(loaded: _Loaded, schema: LayerSchema, path_s: str, *, crs: Any, repair: bool, swap_check: bool,
               region: Region | None, projected_crs: Sequence[str] | None, unique_ids: bool = True) -> Any:
    """A loaded layer brought to *schema* (exports mapped, geometry of a table built, CRS set,
    :func:`~borderkit.validate.conform`), every problem in ``loaded.log``: the one implementation
    for a whole file (:func:`read_layer`) and for one block of a CSV (:func:`validate_table_block`)."""
    import geopandas as gpd

    from borderkit.validate import conform

    log = loaded.log
    frame = loaded.frame
    geom_name = getattr(frame, "_geometry_column_name", None) if isinstance(frame, gpd.GeoDataFrame) else None
    frame_crs = frame.crs if geom_name else None

    # ACLED / UCDP GED
    from .external import detect_export, map_acled, map_ucdp_ged

    attrs = pd.DataFrame(frame.drop(columns=[geom_name])) if geom_name else frame
    export = detect_export(attrs.columns)
    missing_hint = ""
    if export and schema.kind == "incidents":
        mapper = map_acled if export == "acled" else map_ucdp_ged
        attrs, loaded.source_columns = mapper(attrs, log)
    elif export:
        article = "an" if export == "acled" else "a"
        missing_hint = (
            f" — this file looks like {article} {export.upper()} export: read it with read_incidents"
        )
    attrs = _harmonise(attrs, schema, loaded.driver)
    if loaded.is_table:
        loaded.frame = attrs
        gdf = _table_geometry(loaded, schema)
    else:
        gdf = gpd.GeoDataFrame(attrs, geometry=frame.geometry.values, crs=frame_crs)

    # CRS
    if crs is not None:
        gdf = gdf.set_crs(crs, allow_override=True)
    elif gdf.crs is None:
        if loaded.crs_carrying:
            log.add_file(
                f"{loaded.crs_missing_what}; "
                f"{_bounds_hint(gdf, region=region, projected_crs=projected_crs)}, or fix the file",
                column="geometry",
                category="crs",
            )
        else:
            gdf = gdf.set_crs("EPSG:4326")

    result = conform(
        gdf,
        schema,
        log,
        coord_columns=loaded.coord_columns,
        source_columns=loaded.source_columns,
        repair=repair,
        swap_check=swap_check,
        region=region,
        projected_crs=projected_crs,
        missing_hint=missing_hint,
        unique_ids=unique_ids,
    )
    result.attrs["borderkit"] = {
        "path": path_s,
        "format": loaded.fmt,
        "layer": loaded.meta.get("layer"),
        "export": export if schema.kind == "incidents" else None,
        "hxl": loaded.meta.get("hxl"),
        # the file's 1-based data row of every row returned, and the header rows above the
        # data (for "spreadsheet row" numbers), so later checks can name rows as the reader does
        "rows": log.rows,
        "header_rows": loaded.sheet_offset,
    }
    return result


def validate_table_block(
    frame: pd.DataFrame,
    kind: str | LayerSchema,
    *,
    path: str,
    rows: np.ndarray,
    header_rows: int,
    hxl: dict[str, str] | None = None,
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
) -> tuple[Any, Any]:
    """One block of a CSV table's text records validated as :func:`read_layer` validates the whole file.

    The same code as the whole file (exports mapped, geometry built, :func:`~borderkit.validate.conform`)
    with the file's own row numbers, except the one check of the whole file, unique ids, which the
    caller makes across blocks.

    Parameters
    ----------
    frame
        The block's records as text (the CSV reader's columns, index from 0).
    kind
        As in :func:`read_layer`.
    path, rows, header_rows, hxl
        The file, the 1-based data row of every record of the block, the header rows above the
        data (2 with an HXL row) and the HXL tags.
    crs, swap_check, region, projected_crs
        As in :func:`read_layer`.

    Returns
    -------
    tuple
        (the conformed GeoDataFrame of every row of the block, its :class:`~borderkit.validate.IssueLog`).
    """
    from borderkit.validate import IssueLog, layer_schema

    log = IssueLog(len(frame), path=path, rows=np.asarray(rows, dtype=np.int64), sheet_offset=header_rows)
    loaded = _Loaded(frame=frame, raw=frame, log=log, fmt="CSV", is_table=True, sheet_offset=header_rows,
                     meta={"hxl": hxl})
    result = _validated(loaded, layer_schema(kind), path, crs=crs, repair=False, swap_check=swap_check,
                        region=region, projected_crs=projected_crs, unique_ids=False)
    return result, log


def read_layer(
    path: str | os.PathLike[str],
    kind: str | LayerSchema,
    *,
    layer: str | int | None = None,
    errors: Errors = "raise",
    repair: bool = False,
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    encoding: str | None = None,
) -> Result:
    """Read a layer of ``kind`` from a file, validated against its schema.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped), KML, GPX,
        GeoParquet or CSV file (see the module documentation).
    kind
        ``"lines"``, ``"territories"``, ``"incidents"`` or ``"places"``, or a
        :class:`~borderkit.schema.LayerSchema` (such as :data:`POINTS`).
    layer
        Layer name or index in multi-layer files (GeoPackage, KML, GPX); by
        default the only layer, or the only one whose geometry fits ``kind``.
    errors
        ``"raise"`` (default): raise on any problem, listing every bad row.
        ``"collect"``: return ``(good, rejected)`` (see the module
        documentation); problems of the whole file still raise.
    repair
        Repair invalid geometries with :func:`shapely.make_valid` (rows marked
        in a ``geometry_repaired`` column, and a
        :class:`~borderkit.validate.GeometryRepairedWarning`).
    crs
        CRS of the coordinates in the file (anything pyproj accepts, e.g.
        ``"EPSG:32638"``): needed when the file has none, and overrides a wrong
        one. The result is always EPSG:4326.
    swap_check
        Report data written with latitude and longitude swapped (see
        :func:`borderkit.validate.validate_layer`).
    region
        (west, south, east, north) in degrees where the data is expected, e.g. a
        case's ``borderkit.cases.case_config(name).region``: data that lands in it
        only once swapped is reported as swapped. None (default): only the checks
        that need no region.
    projected_crs
        Projected CRSs to name when coordinates in metres are labelled as degrees
        (e.g. the case's ``projected_crs``); None: the message asks for the CRS.
    encoding
        Text encoding of the file (default UTF-8), e.g. ``"cp1251"``.

    Returns
    -------
    geopandas.GeoDataFrame or tuple of (GeoDataFrame, pandas.DataFrame)
        EPSG:4326; the schema's columns in schema order, then every other column
        of the input. ``gdf.attrs["borderkit"]`` tells the path, format, layer,
        the export recognised (``"acled"``/``"ucdp-ged"``) and any HXL tags.

    Raises
    ------
    borderkit.errors.ValidationError
        Listing every problem (``.problems``); subclasses name the kind:
        ``CRSError``, ``FileFormatError``, ``EmptyFileError``, ``EncodingError``.
    FileNotFoundError
        When ``path`` does not exist.
    """
    from borderkit.validate import layer_schema

    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
    schema = layer_schema(kind)
    path_s = os.fspath(path)
    loaded = _load(path_s, schema, layer=layer, encoding=encoding)
    log = loaded.log
    result = _validated(loaded, schema, path_s, crs=crs, repair=repair, swap_check=swap_check, region=region,
                        projected_crs=projected_crs)
    if errors == "raise" or log.file_issues:
        log.raise_if_any()
        if errors == "raise":
            return result
    good, rejected = _collect(result, loaded)
    good.attrs["borderkit"] = {**result.attrs["borderkit"], "rows": np.delete(log.rows, log.bad_positions())}
    return good, rejected


def collect_rows(result: Any, raw: pd.DataFrame, log: Any, *, fmt: str,
                 sheet_offset: int | None) -> tuple[Any, pd.DataFrame]:
    """``errors="collect"`` on validated rows: (the good rows of *result*, the rejected table).

    The one implementation of the rejected table (``row``, ``spreadsheet_row``, ``columns``,
    ``problems``, the input values of *raw*; ``attrs["problems"]``), for a whole file or for a
    block of it validated with the file's row numbers (:mod:`borderkit.io.blocks`).
    """
    return _collect(result, _Loaded(frame=result, raw=raw, log=log, fmt=fmt, sheet_offset=sheet_offset))


LINE_DEFAULT_KEYS = (
    "line_id",
    "name",
    "source",
    "source_version",
    "source_date",
    "scale_or_accuracy_m",
    "licence",
    "attribution",
    "claimant",
    "left_party",
    "right_party",
    "section",
    "notes",
)
"""Columns of :data:`borderkit.schema.LINES` that ``read_lines(defaults=...)`` can fill."""

TERRITORY_DEFAULT_KEYS = (
    "territory_id",
    "party",
    "name",
    "source",
    "source_version",
    "source_date",
    "scale_or_accuracy_m",
    "licence",
    "attribution",
    "notes",
)
"""Columns of :data:`borderkit.schema.TERRITORIES` that ``read_territories(defaults=...)`` can fill."""


def read_lines(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    errors: Errors = "raise",
    repair: bool = False,
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    encoding: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Result:
    """Read a lines layer (claimed or cartographic boundary lines).

    See :func:`read_layer` for the parameters, the return value and the errors;
    the columns are :data:`borderkit.schema.LINES`.

    Parameters
    ----------
    defaults
        Line metadata given once for the whole file instead of in every row (a KML
        or GPX line has none of the schema's columns): column → value for any of
        :data:`LINE_DEFAULT_KEYS` (``claimant``, ``left_party``, ``right_party``,
        ``source``, ``name``, ``source_date``, ``scale_or_accuracy_m``, ``licence``,
        ``attribution``, ``section``, ``notes``, ``source_version``). A value fills
        the column where it is missing or empty; a row's own value always wins. With
        *defaults* (even ``{}``), an absent or empty ``line_id`` is made from the
        file's name and the row number (``"<file stem>-<row>"``), and an absent or
        empty ``name`` is the ``line_id``. Then every row is
        validated as usual (file, row and column named in every problem): a default
        that is not valid (``left_party="Armenia"``) is reported on the rows it filled.
    """
    kw: dict[str, Any] = {"layer": layer, "repair": repair, "crs": crs, "swap_check": swap_check,
                          "region": region, "projected_crs": projected_crs, "encoding": encoding}
    if defaults is None:
        return read_layer(path, "lines", errors=errors, **kw)
    return _read_with_defaults(path, "lines", LINE_DEFAULT_KEYS, defaults, errors=errors, **kw)


def _read_with_defaults(
    path: str | os.PathLike[str], kind: str, keys: Sequence[str], defaults: Mapping[str, Any], *,
    errors: Errors, **kw: Any,
) -> Result:
    """Read a layer whose metadata columns may be given once for the whole file (*defaults*).

    One implementation for lines (:func:`read_lines`) and territories
    (:func:`read_territories`): the file is read with its geometry checked but
    without the columns *defaults* may fill, the gaps are filled (a row's own
    value always wins), an absent or empty id is made from the file's stem and the
    row number, and every row is then validated against the whole schema with the
    file's own row numbers.
    """
    from dataclasses import replace

    from borderkit.schema import SCHEMAS
    from borderkit.validate import IssueLog, conform

    schema = SCHEMAS[kind]
    id_column = schema.id_column or ""
    unknown = sorted(set(defaults) - set(keys))
    if unknown:
        raise ValueError(
            f"defaults: unknown {kind} column(s) {', '.join(map(repr, unknown))}; use {', '.join(keys)}"
        )
    fill = {k: v for k, v in defaults.items() if v is not None}
    # the id and the name may be absent too: they are made from the file's stem and the row
    relaxed_names = set(fill) | {id_column} | ({"name"} & set(keys))
    # First pass: the file read and its geometry checked, without the columns that defaults may fill
    # (they stay as they are, as extra columns, so that a missing or empty one is not refused yet).
    relaxed = replace(schema, id_column=None, columns=tuple(c for c in schema.columns if c.name not in relaxed_names))
    first = read_layer(path, relaxed, errors=errors, **kw)
    good, rejected = first if isinstance(first, tuple) else (first, None)
    info = dict(good.attrs.get("borderkit") or {})
    rows = np.asarray(info.get("rows", np.arange(1, len(good) + 1)), dtype=np.int64)
    frame = good.copy()
    for key, value in fill.items():
        frame[key] = _filled(frame[key] if key in frame.columns else None, value, len(frame))
    generated = np.char.add(f"{Path(os.fspath(path)).stem}-", rows.astype(str)).astype(object)
    frame[id_column] = _filled(frame[id_column] if id_column in frame.columns else None, generated, len(frame))
    if "name" in keys:  # a KML/GPX feature without a name is named by its id
        frame["name"] = _filled(frame["name"] if "name" in frame.columns else None,
                                frame[id_column].to_numpy(dtype=object), len(frame))
    # Second pass: the whole schema, rows named by their row in the file.
    log = IssueLog(len(frame), path=os.fspath(path), rows=rows, sheet_offset=info.get("header_rows"))
    result = conform(frame, schema, log, swap_check=False)
    result.attrs["borderkit"] = {**info, "defaults": dict(fill)}
    if errors == "raise" or log.file_issues:
        log.raise_if_any()
        return result if rejected is None else (result, rejected)
    raw = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
    return _collect_second_pass(result, raw, log, result.attrs["borderkit"], rejected)


def _collect_second_pass(
    result: Any, raw: pd.DataFrame, log: Any, info: dict[str, Any], earlier: pd.DataFrame | None
) -> tuple[Any, pd.DataFrame]:
    """``errors="collect"`` after a second validation pass over rows that passed a first one.

    The rows the second pass rejects are set aside as :func:`_collect` does for a first pass
    (file row, spreadsheet row, columns, problems, the input values), merged with the first
    pass's rejects in file order; nothing is dropped silently.
    """
    loaded = _Loaded(frame=result, raw=raw, log=log, fmt=str(info.get("format", "")),
                     sheet_offset=info.get("header_rows"))
    kept, more = _collect(result, loaded)
    kept.attrs["borderkit"] = {**info, "rows": np.delete(log.rows, log.bad_positions())}
    if earlier is None:
        return kept, more
    problems = list(earlier.attrs.get("problems", [])) + list(more.attrs.get("problems", []))
    both = pd.concat([earlier, more], ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
    both.attrs["problems"] = problems
    return kept, both


def _filled(column: Any, value: Any, n: int) -> Any:
    """*column* with *value* (a scalar or one per row) where a cell is missing or empty text."""
    values = np.empty(n, dtype=object)
    values[:] = value if np.ndim(value) else [value] * n
    if column is None:
        return values
    col = pd.Series(column).reset_index(drop=True)
    empty = (col.astype("string").str.strip().fillna("") == "").to_numpy(dtype=bool)
    return np.where(empty, values, col.to_numpy(dtype=object))


def read_territories(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    errors: Errors = "raise",
    repair: bool = False,
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    encoding: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Result:
    """Read a territories layer (polygons a source assigns to a party).

    See :func:`read_layer`; the columns are :data:`borderkit.schema.TERRITORIES`.
    *defaults* fills the source columns given once for the whole file, as in
    :func:`read_lines` (keys: :data:`TERRITORY_DEFAULT_KEYS`).
    """
    kw: dict[str, Any] = {"layer": layer, "repair": repair, "crs": crs, "swap_check": swap_check,
                          "region": region, "projected_crs": projected_crs, "encoding": encoding}
    if defaults is None:
        return read_layer(path, "territories", errors=errors, **kw)
    return _read_with_defaults(path, "territories", TERRITORY_DEFAULT_KEYS, defaults, errors=errors, **kw)


def read_incidents(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    errors: Errors = "raise",
    repair: bool = False,
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    encoding: str | None = None,
) -> Result:
    """Read an incidents layer; ACLED and UCDP GED exports are recognised and mapped.

    See :func:`read_layer`; the columns are :data:`borderkit.schema.INCIDENTS`,
    and :mod:`borderkit.io.external` describes the ACLED/UCDP mapping and the
    precision tables (:data:`~borderkit.io.external.ACLED_GEO_PRECISION_M`,
    :data:`~borderkit.io.external.UCDP_WHERE_PREC_M`).
    """
    return read_layer(
        path,
        "incidents",
        layer=layer,
        errors=errors,
        repair=repair,
        crs=crs,
        swap_check=swap_check,
        region=region,
        projected_crs=projected_crs,
        encoding=encoding,
    )


def read_places(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    errors: Errors = "raise",
    repair: bool = False,
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    encoding: str | None = None,
) -> Result:
    """Read a places layer (gazetteer points; roads as lines).

    See :func:`read_layer`; the columns are :data:`borderkit.schema.PLACES`.
    A ``name`` column (KML/GPX) is taken as ``name_en`` and GPX ``ele`` as
    ``elevation_m`` when those are missing.
    """
    return read_layer(
        path,
        "places",
        layer=layer,
        errors=errors,
        repair=repair,
        crs=crs,
        swap_check=swap_check,
        region=region,
        projected_crs=projected_crs,
        encoding=encoding,
    )


# ---------------------------------------------------------------------------
# points of any kind (borderkit check)
# ---------------------------------------------------------------------------

POINTS = LayerSchema(
    kind="points",
    id_column=None,
    columns=(Column("geometry", "geometry", True, "Point, EPSG:4326."),),
    geometry_types=("Point",),
)
"""Schema of a plain table of points: a Point per row and nothing else required.

Every other column is kept as it is. Coordinates get the same checks as every
layer (range, NaN, swapped latitude/longitude, projected numbers, (0, 0))."""

PRECISION_COLUMNS = {"acled": "geo_precision", "ucdp-ged": "where_prec"}
"""The column of an export its ``precision_m`` comes from (:func:`read_points`)."""


def read_points(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    errors: Errors = "raise",
    crs: Any = None,
    swap_check: bool = True,
    region: Region | None = None,
    projected_crs: Sequence[str] | None = None,
    encoding: str | None = None,
) -> Result:
    """Read points to check from any file the other readers take.

    One reader for every kind of point file, so that a file reads the same in
    ``borderkit check`` as in ``read_incidents``, ``validate`` and ``map``:

    * an ACLED or UCDP GED export (with or without the HDX hashtag row), or a
      file with the incident schema's columns, is read by :func:`read_incidents`
      (its ``precision_m`` comes from ``geo_precision``/``where_prec`` through
      the published tables of :mod:`borderkit.io.external`);
    * any other table or point layer is read as :data:`POINTS`; a ``precision_m``
      column, when present, is validated as in incidents (a number of metres > 0
      in every row).

    Formats, encodings (UTF-8, UTF-16 with its byte-order mark, ``encoding=``),
    delimiters, CRS rules, ``errors=``, ``region=``/``projected_crs=`` and row
    numbers are those of :func:`read_layer`.

    Returns
    -------
    geopandas.GeoDataFrame or tuple of (GeoDataFrame, pandas.DataFrame)
        As :func:`read_layer`. ``gdf.attrs["borderkit"]`` also tells
        ``precision_column``: the file's column the ``precision_m`` values come
        from (``"geo_precision"``, ``"where_prec"``, ``"precision_m"``), or None
        when the file gives no precision; and ``coordinate_columns``: the
        (longitude, latitude) columns of a table, or None.
    """
    from borderkit.schema import INCIDENTS

    from ._csv import LAT_NAMES, LON_NAMES, find_column
    from .external import detect_export

    if layer is None and _suffix(os.fspath(path)) == ".gpx":
        layer = "waypoints"  # a GPX file's points (tracks and routes are lines)
    kw: dict[str, Any] = {"layer": layer, "errors": errors, "crs": crs, "swap_check": swap_check,
                          "region": region, "projected_crs": projected_crs, "encoding": encoding}
    # The schema depends on the columns, known only once the file is read: read it as
    # plain points first (the coordinate checks are the same for every schema, so an
    # error raised here is the file's error whatever it holds), then once more when it
    # is an incidents file or carries its own precision.
    first = read_layer(path, POINTS, **kw)
    gdf = first[0] if isinstance(first, tuple) else first
    columns = [str(c) for c in gdf.columns]
    export = detect_export(columns)
    precision_column: str | None = None
    if export or set(INCIDENTS.required) - {"geometry"} <= set(columns):
        result = read_layer(path, "incidents", **kw)
        precision_column = PRECISION_COLUMNS.get(export or "", "precision_m")
    else:
        result = first
        prec_col = next((c for c in columns if c.lower() == "precision_m"), None)
        if prec_col is not None:
            result = _points_precision(result, prec_col, errors)
            precision_column = prec_col
    out = result[0] if isinstance(result, tuple) else result
    info = dict(out.attrs.get("borderkit", {}))
    cols = [str(c) for c in out.columns]
    lon, lat = find_column(cols, LON_NAMES), find_column(cols, LAT_NAMES)
    table = info.get("format") in ("CSV", "Parquet")
    info["precision_column"] = precision_column
    info["coordinate_columns"] = (lon, lat) if table and lon is not None and lat is not None else None
    out.attrs["borderkit"] = info
    return result


def _points_precision(result: Result, column: str, errors: Errors) -> Result:
    """The ``precision_m`` column of a plain table of points as metres (NaN where empty).

    Unlike incidents, an empty cell is allowed here: that row has no precision of its own
    (``borderkit check`` then uses its default). A value that is not a finite number of
    metres >= 0 is a problem of that row, reported like every other reader problem.
    """
    from borderkit.validate import IssueLog, to_text

    good, rejected = result if isinstance(result, tuple) else (result, None)
    info = good.attrs.get("borderkit", {})
    text = to_text(good[column]).str.strip()
    log = IssueLog(len(good), path=info.get("path"), rows=info.get("rows"), sheet_offset=info.get("header_rows"))
    value, bad = points_precision(text, column, log)
    good = good.copy()
    good[column] = value
    good.attrs["borderkit"] = info
    if column != "precision_m":
        good = good.rename(columns={column: "precision_m"})
    if not bad.any():
        return (good, rejected) if rejected is not None else good
    if errors == "raise":
        log.raise_if_any()
    raw = good.drop(columns=[good.geometry.name])
    raw[column] = text.to_numpy()
    return _collect_second_pass(good, pd.DataFrame(raw), log, info, rejected)


def points_precision(text: pd.Series, column: str, log: Any) -> tuple[np.ndarray, np.ndarray]:
    """Metres of a plain table's precision column (stripped text), every bad cell reported in *log*.

    The one implementation of the check, for a whole file (:func:`read_points`) and for one block
    of a file read block by block (:mod:`borderkit.io.blocks`). An empty cell is NaN (the row has
    no precision of its own); a value that is not a finite number >= 0 is a problem of its row.

    Returns
    -------
    tuple of numpy.ndarray
        (metres, float64 with NaN where empty; mask of the rows reported).
    """
    from borderkit.validate import text_to_float

    value = text_to_float(text)
    bad = (text != "").to_numpy() & ~(np.isfinite(value) & (value >= 0))
    if bad.any():
        log.add_rows(
            bad,
            column,
            lambda p: (
                f"{text.iloc[p]!r} is not a precision: write the radius of location uncertainty as a number of "
                "metres >= 0 with a dot as decimal separator (e.g. 1500), or leave the cell empty for the default"
            ),
        )
    return value, bad


# ---------------------------------------------------------------------------
# what a file holds (for commands given a file without --kind)
# ---------------------------------------------------------------------------


def _cheap_columns(path: str) -> tuple[list[str], str]:
    """(column names, geometry type) read without the rows; raises on any trouble."""
    suffix = _suffix(path)
    if suffix in _CSV_SUFFIXES:
        from ._csv import read_csv_header

        with open(path, "rb") as f:
            head = f.read(1 << 16)
        return read_csv_header(head, path=path), ""
    if suffix in _PARQUET_SUFFIXES:
        # pyarrow, never GDAL's (ADBC/duckdb) Parquet driver
        import pyarrow.parquet as pq

        return [str(c) for c in pq.read_schema(path).names], ""
    if suffix in (".zip", ".shp.zip"):
        raise ValueError("zip archives are read in full")
    import pyogrio

    info = pyogrio.read_info(path)
    return [str(c) for c in info["fields"]], str(info.get("geometry_type") or "")


def layer_columns(path: str | os.PathLike[str], *, encoding: str | None = None) -> list[str]:
    """Column names of a file as the readers see them.

    Reads only the header (CSV), the schema (Parquet, with pyarrow) or the
    layer definition (GDAL formats) when that works; otherwise the file is
    loaded as the readers load it, so a broken file raises the reader's own
    error (truncated, wrong encoding, empty, too large …).

    Raises
    ------
    borderkit.errors.ValidationError
        The reader's message for a file it cannot read.
    FileNotFoundError
        When ``path`` does not exist.
    """
    return _columns_and_geometry(os.fspath(path), encoding=encoding)[0]


def _columns_and_geometry(path: str, *, encoding: str | None, full: bool = False) -> tuple[list[str], str]:
    from borderkit.schema import LINES

    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such file")
    if Path(path).is_file():
        _check_size(Path(path).stat().st_size, path, "the file")
    try:
        if encoding is None and not full:
            return _cheap_columns(path)
    except Exception:  # noqa: BLE001 - the full load below names the problem
        pass
    # schema only steers the choice among several layers
    loaded = _load(path, LINES, layer=None, encoding=encoding)
    frame = loaded.frame
    gname = getattr(frame, "_geometry_column_name", None)
    cols = [str(c) for c in frame.columns if c != gname]
    gtype = ""
    if gname is not None and len(frame):
        # one kind for Polygon + MultiPolygon (or LineString + MultiLineString)
        kinds = {_KIND_BY_GEOMETRY.get(t.lower(), "") for t in frame.geometry.geom_type.dropna().unique()}
        gtype = {"lines": "LineString", "territories": "Polygon"}.get(kinds.pop(), "") if len(kinds) == 1 else ""
    return cols, gtype


_ID_COLUMNS = {s.kind: s.id_column for s in SCHEMAS.values() if s.id_column}
_KIND_BY_GEOMETRY = {"linestring": "lines", "multilinestring": "lines", "polygon": "territories"}
_KIND_BY_GEOMETRY["multipolygon"] = "territories"


def detect_layer_kind(path: str | os.PathLike[str], *, encoding: str | None = None) -> str | None:
    """The layer kind a file holds, from its columns; None when they do not tell.

    ``"claims"`` by ``claim_id`` (claims also carry ``incident_id``), then the
    id column of each schema (``line_id``, ``territory_id``, ``incident_id``,
    ``place_id``), then ACLED and UCDP GED exports (incidents), then a column
    whose name is one typo away from an id column (``incident_idd``: the
    reader then names the missing column), then the geometry type (lines,
    polygons as territories).

    Raises
    ------
    borderkit.errors.ValidationError
        A file the readers cannot read, with the reader's own message.
    """
    kind = _kind_from(*_columns_and_geometry(os.fspath(path), encoding=encoding))
    if kind is None:
        # the header did not tell: load the file as the readers do, so that a
        # broken file (no rows, truncated, bad bytes further down) gets the
        # reader's own message, and a CSV's WKT column its geometry type
        try:
            kind = _kind_from(*_columns_and_geometry(os.fspath(path), encoding=encoding, full=True))
        except ValidationError:
            # a GPX file keeps points, routes and tracks in separate layers: loading it as lines to
            # learn its columns fails for a file of waypoints, which is readable — its kind is unknown
            if _suffix(os.fspath(path)) == ".gpx":
                return None
            raise
    return kind


def _kind_from(cols: list[str], gtype: str) -> str | None:
    import difflib

    from .external import detect_export

    lower = {c.strip().lower() for c in cols}
    order = ["claims"] + [k for k in _ID_COLUMNS if k != "claims"]
    for kind in order:
        if _ID_COLUMNS[kind] in lower:
            return kind
    if detect_export(cols):
        return "incidents"
    for kind in order:
        if difflib.get_close_matches(_ID_COLUMNS[kind], lower, n=1, cutoff=0.85):
            return kind
    return _KIND_BY_GEOMETRY.get(gtype.lower().replace(" z", "").replace("3d ", ""))
