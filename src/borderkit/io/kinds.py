"""What a file or frame holds, told from its columns (or, for a GeoTIFF, its bands), and plain tables.

One set of rules for every command that takes "any data file" (``borderkit map``,
``validate``, ``convert``) and for the map's list of frames:

* a table or vector layer is told by its id column (:data:`ID_COLUMNS`, checked
  in that order: claims first, since claims also carry ``incident_id``);
* ACLED and UCDP GED exports are incidents (:func:`borderkit.io.external.detect_export`);
* a table with ``from_lon``, ``from_lat``, ``to_lon``, ``to_lat`` is a
  measurement table (:data:`MEASUREMENT_COLUMNS`);
* a GeoTIFF with one band that is not 8-bit and no colour map is a DEM, any
  other GeoTIFF a scanned map.

CSV column names are read from the first line only, with the delimiter rule of
the CSV reader (``,``, ``;``, tab or ``|``, whichever the header line has most of;
tab for ``.tsv``/``.tab``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from borderkit.errors import FileFormatError, OptionalDependencyError, Problem

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "ID_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "FILE_KINDS",
    "kind_of_columns",
    "file_columns",
    "is_dem",
    "detect_kind",
    "read_table",
    "MAX_TABLE_BYTES",
]

ID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("claim_id", "claims"),
    ("line_id", "lines"),
    ("territory_id", "territories"),
    ("incident_id", "incidents"),
    ("place_id", "places"),
)
"""Id column → layer kind, in the order they are checked (claims also carry ``incident_id``)."""

MEASUREMENT_COLUMNS = ("from_lon", "from_lat", "to_lon", "to_lat")
"""Columns that make a table a measurement table (segments drawn on a map)."""

FILE_KINDS = ("claims", "lines", "territories", "incidents", "places", "measurements", "dem", "scan")
"""Every kind :func:`detect_kind` returns."""

MAX_TABLE_BYTES = 512 * 1024 * 1024
"""Largest CSV :func:`read_table` reads (bytes); a larger file is refused before it is read."""

_HEADER_BYTES = 1024 * 1024
"""At most this much of a CSV is read to find its header line."""

_CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")


def kind_of_columns(columns: Iterable[object]) -> str | None:
    """The kind of a table from its column names (compared without case), or ``None``.

    One of ``claims``, ``lines``, ``territories``, ``incidents``, ``places``,
    ``measurements``.
    """
    cols = [str(c) for c in columns]
    lower = {c.strip().lower() for c in cols}
    for col, kind in ID_COLUMNS:
        if col in lower:
            return kind
    if set(MEASUREMENT_COLUMNS) <= lower:
        return "measurements"
    from .external import detect_export

    if detect_export(cols):
        return "incidents"
    return None


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".shp.zip" if name.endswith(".shp.zip") else path.suffix.lower()


def file_columns(path: str | os.PathLike[str]) -> list[str]:
    """Column names of a CSV or vector file, without reading its rows.

    Raises
    ------
    FileFormatError
        The file cannot be opened or has no header line.
    """
    p = Path(path)
    if _suffix(p) in _CSV_SUFFIXES:
        from ._csv import _sniff_delimiter as sniff_delimiter  # the CSV reader's own rule

        try:
            with open(p, "rb") as f:
                head = f.read(_HEADER_BYTES).split(b"\n", 1)[0]
        except OSError as exc:
            raise FileFormatError(f"{p}: cannot read the file ({exc.strerror or exc})") from exc
        text = head.decode("utf-8-sig", errors="replace").rstrip("\r")
        if not text.strip():
            raise FileFormatError(f"{p}: the first line is empty; a table needs a header row with its column names")
        delimiter = sniff_delimiter(text, str(p))
        return [c.strip() for c in next(csv.reader([text], delimiter=delimiter))]
    try:
        import pyogrio
    except ImportError as exc:  # pragma: no cover - a dependency of borderkit[io]
        raise OptionalDependencyError("reading vector files needs pyogrio: pip install 'borderkit[io]'") from exc
    try:
        info = pyogrio.read_info(p)
    except Exception as exc:  # noqa: BLE001 - GDAL's errors vary by driver; each is a file-format problem
        reason = " ".join(str(exc).split())[:200]
        raise FileFormatError(f"{p}: cannot read the columns of this file ({reason})") from exc
    return [str(c) for c in info["fields"]]


def is_dem(path: str | os.PathLike[str]) -> bool:
    """Tell a DEM from a scanned map: one band that is not 8-bit, without a colour map, is a DEM.

    Scans are RGB(A), palette (colour-mapped) or single-band 8-bit images.

    Raises
    ------
    FileFormatError
        Not a readable raster.
    OptionalDependencyError
        rasterio is not installed.
    """
    try:
        import rasterio
        from rasterio.errors import RasterioError
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError("reading GeoTIFFs needs rasterio: pip install 'borderkit[terrain]'") from exc
    try:
        with rasterio.open(path) as ds:
            if ds.count != 1 or ds.dtypes[0] == "uint8":
                return False
            try:
                ds.colormap(1)
                return False
            except ValueError:
                return True
    except RasterioError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise FileFormatError(
            f"{path}: not a readable GeoTIFF ({reason}); check that the file is complete "
            "(e.g. with gdalinfo) or download it again"
        ) from exc


def detect_kind(path: str | os.PathLike[str]) -> str:
    """What a data file holds: one of :data:`FILE_KINDS`.

    GeoTIFFs are a DEM when they have one band that is not 8-bit and no colour
    map, else a scanned map. Tables and vector files are told by
    :func:`kind_of_columns`.

    Raises
    ------
    FileFormatError
        The file cannot be read, or its columns say nothing of what it holds.
    """
    p = Path(path)
    if p.suffix.lower() in (".tif", ".tiff"):
        return "dem" if is_dem(p) else "scan"
    kind = kind_of_columns(file_columns(p))
    if kind is None:
        raise FileFormatError(
            f"{p}: cannot tell what this file holds; it needs one of the columns line_id (lines), "
            "incident_id (incidents), place_id (places), territory_id (territories), claim_id (claims), "
            "from_lon/from_lat/to_lon/to_lat (measurements), or be a GeoTIFF (DEM or georeferenced map scan)"
        )
    return kind


def read_table(path: str | os.PathLike[str], *, encoding: str | None = None) -> pandas.DataFrame:
    """A CSV table as text, every record kept, with the CSV reader's rules (delimiter, encoding, HXL row).

    Returns
    -------
    pandas.DataFrame
        Every value as text (``""`` when empty); ``attrs["rows"]`` holds each
        row's number as the readers count them (the first data row is 1; blank
        lines keep their number).

    Raises
    ------
    FileFormatError
        The file is larger than :data:`MAX_TABLE_BYTES`, cannot be read, or a
        row has too few or too many fields (every such row is named).
    EmptyFileError, EncodingError
        As :func:`borderkit.io.readers.read_layer`.
    """
    from ._csv import read_csv_table

    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_TABLE_BYTES:
            raise FileFormatError(
                f"{p}: the table is {size / 1e6:,.0f} MB; tables up to {MAX_TABLE_BYTES / 1e6:,.0f} MB are read — "
                "split it or keep the rows you need"
            )
        data = p.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{p}: cannot read the file ({exc.strerror or exc})") from exc
    table = read_csv_table(data, path=str(p), encoding=encoding)
    rows = [int(r) for r in table.rows]
    if table.issues:
        raise FileFormatError(
            problems=[Problem(msg, path=str(p), row=rows[pos], column=col) for pos, col, msg in table.issues],
            path=str(p),
        )
    frame = table.frame
    frame.attrs["rows"] = rows
    return frame
