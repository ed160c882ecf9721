"""What a data file or frame holds (any kind ``borderkit map`` draws), and plain CSV tables.

Layer files are told by the readers' own rules (:func:`borderkit.io.detect_layer_kind`:
id column, claims first, ACLED/UCDP exports, geometry type). On top of those,
for the files a map takes:

* a table with ``from_lon``, ``from_lat``, ``to_lon``, ``to_lat`` is a
  measurement table (:data:`MEASUREMENT_COLUMNS`; checked first: a measurement
  table may carry a ``claim_id``);
* a GeoTIFF with one band that is not 8-bit and no colour map is a DEM, any
  other GeoTIFF a scanned map.

Column names come from :func:`borderkit.io.layer_columns` (the header only,
when that works).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from borderkit.errors import FileFormatError, Problem

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


def _id_columns() -> tuple[tuple[str, str], ...]:
    from borderkit.schema import SCHEMAS

    pairs = [(s.id_column, s.kind) for s in SCHEMAS.values() if s.id_column]
    return tuple(sorted(pairs, key=lambda p: p[1] != "claims"))  # claims first: they also carry incident_id


ID_COLUMNS: tuple[tuple[str, str], ...] = _id_columns()
"""Id column → layer kind (from the schemas), in the order they are checked (claims first)."""

MEASUREMENT_COLUMNS = ("from_lon", "from_lat", "to_lon", "to_lat")
"""Columns that make a table a measurement table (segments drawn on a map)."""

FILE_KINDS = ("claims", "lines", "territories", "incidents", "places", "measurements", "dem", "scan")
"""Every kind :func:`detect_kind` returns."""

MAX_TABLE_BYTES = 512 * 1024 * 1024
"""Largest CSV :func:`read_table` reads (bytes); a larger file is refused before it is read."""


def kind_of_columns(columns: Iterable[object]) -> str | None:
    """The kind of a table or frame from its column names (compared without case), or ``None``.

    ``measurements`` by :data:`MEASUREMENT_COLUMNS`, else the kind of its id
    column (:data:`ID_COLUMNS`).
    """
    lower = {str(c).strip().lower() for c in columns}
    if set(MEASUREMENT_COLUMNS) <= lower:
        return "measurements"
    for col, kind in ID_COLUMNS:
        if col in lower:
            return kind
    return None


def file_columns(path: str | os.PathLike[str]) -> list[str]:
    """Column names of a CSV or vector file: :func:`borderkit.io.layer_columns`."""
    from borderkit.io import layer_columns

    return layer_columns(path)


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
    from borderkit.io.rasters import open_raster

    with open_raster(path) as ds:
        if ds.count != 1 or ds.dtypes[0] == "uint8":
            return False
        try:
            ds.colormap(1)
            return False
        except ValueError:
            return True


def detect_kind(path: str | os.PathLike[str]) -> str:
    """What a data file holds: one of :data:`FILE_KINDS`.

    GeoTIFFs are a DEM or a scan (:func:`is_dem`); a measurement table by its
    columns; every other file by :func:`borderkit.io.detect_layer_kind`.

    Raises
    ------
    FileFormatError
        The columns say nothing of what the file holds.
    ValidationError
        The readers cannot read the file (their own message).
    """
    from borderkit.io import detect_layer_kind

    p = Path(path)
    if p.suffix.lower() in (".tif", ".tiff"):
        return "dem" if is_dem(p) else "scan"
    if kind_of_columns(file_columns(p)) == "measurements":
        return "measurements"
    kind = detect_layer_kind(p)
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
