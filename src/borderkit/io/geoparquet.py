"""GeoParquet 1.1 files of points written block by block with :class:`pyarrow.parquet.ParquetWriter`.

``geopandas.GeoDataFrame.to_parquet`` needs the whole table at once (and a shapely Point per row,
turned into WKB by GEOS). :class:`PointParquetWriter` takes one block of rows at a time: the
block's columns as a :class:`pyarrow.Table` and its points as longitude/latitude arrays, whose
WKB it makes with numpy (:func:`point_wkb`); each block becomes one or more row groups. The
file's ``geo`` metadata (GeoParquet 1.1: encoding WKB, CRS as PROJJSON, geometry type ``Point``,
the bounding box of *all* the points) is known only when the last block is written: it is added
to the file's footer on :meth:`PointParquetWriter.close`
(:meth:`pyarrow.parquet.ParquetWriter.add_key_value_metadata`), where readers
(``geopandas.read_parquet``, GDAL, DuckDB) read the schema's metadata.

The geometry column comes last and carries the GeoArrow extension name ``geoarrow.wkb`` and
the CRS in its field metadata, as geopandas writes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["GEOPARQUET_VERSION", "PointParquetWriter", "point_wkb"]

GEOPARQUET_VERSION = "1.1.0"
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])  # packed: 21 bytes


def point_wkb(lon: Any, lat: Any) -> Any:
    """2D points as an Arrow binary array of ISO WKB (21 bytes each, little-endian), made with numpy.

    Each value is byte order ``1`` (little-endian), geometry type ``1`` (Point) as a
    little-endian uint32, then x (longitude) and y (latitude) as little-endian float64: the
    bytes ``shapely.to_wkb`` gives a 2D point (tested), without a shapely object per point.
    """
    import pyarrow as pa

    x = np.asarray(lon, dtype=np.float64).ravel()
    y = np.asarray(lat, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"{x.size} longitudes but {y.size} latitudes")
    n = x.size
    rec = np.empty(n, dtype=_WKB_POINT)
    rec["order"] = 1
    rec["type"] = 1
    rec["x"] = x
    rec["y"] = y
    # int32 offsets: a block of up to 100 million points (2**31 / 21 bytes)
    offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rec.view(np.uint8))])


def _projjson(crs: Any) -> dict[str, Any] | None:
    """The CRS as PROJJSON for the ``geo`` metadata, the IDs of datum ensemble members removed (as
    GDAL and geopandas write it: older PROJ versions do not know those IDs)."""
    if crs is None:
        return None
    from pyproj import CRS

    doc = CRS.from_user_input(crs).to_json_dict()

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "members" and isinstance(value, list):
                    for member in value:
                        if isinstance(member, dict):
                            member.pop("id", None)
                else:
                    strip(value)
        elif isinstance(node, list):
            for item in node:
                strip(item)

    strip(doc)
    return doc


class PointParquetWriter:
    """Write a GeoParquet 1.1 file of points one block of rows at a time.

    Parameters
    ----------
    where
        Path (or writable binary file object) of the file.
    geometry
        Name of the geometry column (written last).
    crs
        CRS of the longitudes/latitudes (anything :class:`pyproj.CRS` takes; None: unknown).
    compression
        Parquet compression (pyarrow's default, ``snappy``, as ``GeoDataFrame.to_parquet``).
    covering
        Also write the GeoParquet 1.1 ``bbox`` covering column (a struct of float64 ``xmin``,
        ``ymin``, ``xmax``, ``ymax`` after the geometry, as ``to_parquet(write_covering_bbox=True)``
        writes it; a point's box is the point), named in the ``geo`` metadata, so that a reader
        can skip row groups on its statistics.
    geometry_at
        Position of the geometry column among the table's columns (None: last), e.g. where
        ``to_parquet`` of the GeoDataFrame read from the input would put it.

    Notes
    -----
    Dictionary-encoded columns are written as they are (Parquet dictionary-encodes them, no value
    per cell is made) and read back as their values (text as text: the file pandas' text columns
    give), because the Arrow schema stored on :meth:`close` has the value types. The first block
    fixes the schema; a later block is cast to it (a column of Arrow type ``null`` in the first
    block must therefore stay null: give text columns that may be empty in one block a text type).
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, where: str | Path | Any, *, geometry: str = "geometry", crs: Any = None,
                 compression: str = "snappy", covering: bool = False, geometry_at: int | None = None) -> None:
        self._where = where
        self._geometry_at = geometry_at
        self._covering = covering
        self._geometry = geometry
        self._crs = _projjson(crs)
        self._compression = compression
        self._writer: Any = None
        self._schema: Any = None
        self._stored: Any = None
        self._bbox = [np.inf, np.inf, -np.inf, -np.inf]
        self._types: set[str] = set()
        self.rows = 0

    def write(self, table: Any, lon: Any, lat: Any, *, geometry: Any = None) -> None:
        """Append one block: *table*'s columns and the points (*lon*, *lat*, degrees) as the geometry.

        *geometry*: the same points as shapely Points when they may have a third coordinate
        (written as ISO WKB by shapely, as geopandas writes them); None: made from *lon*, *lat*.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        if x.size != table.num_rows or y.size != table.num_rows:
            raise ValueError(f"{table.num_rows} rows but {x.size} longitudes and {y.size} latitudes")
        if self._geometry in table.column_names:
            raise ValueError(f"the table already has a column {self._geometry!r}")
        if geometry is None:
            wkb = point_wkb(x, y)
        else:
            import shapely

            geoms = np.asarray(geometry, dtype=object)
            wkb = pa.array(shapely.to_wkb(geoms, flavor="iso"), pa.binary())
            self._types.update(np.where(shapely.has_z(geoms), "Point Z", "Point").tolist())
        block = table.replace_schema_metadata(None)
        if self._geometry_at is None:
            block = block.append_column(self._geometry_field(), wkb)
        else:
            block = block.add_column(self._geometry_at, self._geometry_field(), wkb)
        if self._covering:
            if "bbox" in block.column_names:
                raise ValueError("the table already has a column 'bbox' (the covering column)")
            xy = [pa.array(x), pa.array(y)]
            block = block.append_column("bbox", pa.StructArray.from_arrays(xy + xy, ["xmin", "ymin", "xmax", "ymax"]))
        if self._writer is None:
            self._schema = block.schema
            # dictionary text (the result columns) is written as it is — Parquet dictionary-encodes text
            # anyway, so no string per cell is made — and read back as plain text: the Arrow schema
            # stored on close (which readers take the column types from) has the dictionaries' value
            # types, the type pandas' text has
            self._stored = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                                      for f in self._schema])
            # dictionary encoding only for text (parties, verdicts: a handful of values); numbers and
            # points are nearly all distinct, where each row group would first fill a 1 MB dictionary page
            # and then fall back to plain encoding (a larger, slower file)
            text = [f.name for f in self._schema
                    if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_dictionary(f.type)]
            self._writer = pq.ParquetWriter(self._where, self._schema, compression=self._compression,
                                            use_dictionary=text or False)
        elif block.schema != self._schema:
            block = block.cast(self._schema)
        self._writer.write_table(block)
        if x.size and geometry is None:
            self._types.add("Point")
        if x.size:  # the bounding box of the whole file, block by block
            self._bbox = [min(self._bbox[0], float(x.min())), min(self._bbox[1], float(y.min())),
                          max(self._bbox[2], float(x.max())), max(self._bbox[3], float(y.max()))]
        self.rows += x.size

    def _geometry_field(self) -> Any:
        import pyarrow as pa

        ext = {"crs": self._crs} if self._crs is not None else {}
        return pa.field(self._geometry, pa.binary(), metadata={
            "ARROW:extension:name": "geoarrow.wkb", "ARROW:extension:metadata": json.dumps(ext)})

    def geo_metadata(self) -> dict[str, Any]:
        """The GeoParquet ``geo`` metadata of the rows written so far."""
        from borderkit._version import __version__

        column: dict[str, Any] = {"encoding": "WKB", "crs": self._crs, "geometry_types": sorted(self._types)}
        if self.rows:
            column["bbox"] = [float(v) for v in self._bbox]
        if self._covering:
            column["covering"] = {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}}
        return {"primary_column": self._geometry, "columns": {self._geometry: column},
                "version": GEOPARQUET_VERSION, "creator": {"library": "borderkit", "version": __version__}}

    def close(self) -> None:
        """Add the ``geo`` metadata (with the bounding box of every block) and close the file."""
        if self._writer is None:
            raise ValueError("no block written: a GeoParquet file needs a schema")
        import base64

        geo = json.dumps(self.geo_metadata())
        # pyarrow (and so geopandas) takes a file's schema metadata from the Arrow schema stored in
        # the footer (``ARROW:schema``, written when the file was opened, before the bounding box
        # was known), other readers (GDAL, DuckDB) from the footer's key "geo": both get the final
        # metadata; the stored schema is serialized as pyarrow serializes it (base64 of the IPC message)
        schema = self._stored.with_metadata({**(self._stored.metadata or {}), b"geo": geo.encode("utf-8")})
        stored = base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")
        self._writer.add_key_value_metadata({"geo": geo, "ARROW:schema": stored})
        self._writer.close()

    def __enter__(self) -> PointParquetWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        elif self._writer is not None:  # a failed run: release the file (the caller removes it)
            self._writer.close()
