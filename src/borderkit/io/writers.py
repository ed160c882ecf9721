"""Writing lines, territories, incidents and places to every format the readers read.

:func:`write_layer` is the one writer: it checks the layer against its schema
(the rules of :func:`borderkit.validate.validate_layer`, so what it writes the
readers read back), brings it to EPSG:4326, turns the values every format
cannot hold into text, picks the format from the file name and writes the file
atomically (:func:`borderkit.io.atomic.atomic_output`: a failed write leaves no
partial file).

Values
------
``sources`` (a list of source records) and any other column of lists or dicts
are written as JSON text (UTF-8, not ``\\u``-escaped), which every reader of
:mod:`borderkit.io` turns back into lists. Dates are written as ISO 8601 text
(``2021-05-12``; a time only when one is set). The CRS is always EPSG:4326.

Formats and what they keep
--------------------------
=====================  =========================================================
suffix                 limits
=====================  =========================================================
``.geojson``/``.json`` everything (coordinates to 15 significant digits).
``.gpkg``              everything.
``.parquet``           everything (GeoParquet, WKB geometry; needs pyarrow).
``.csv``/``.tsv``      everything, as text: point layers get ``longitude`` and
                       ``latitude`` columns (full float precision), other layers
                       (or a table that already has coordinate-like columns) a
                       WKT ``geometry`` column. Numbers read back as numbers only
                       in schema columns; other columns come back as text, and
                       an empty value and a missing one are the same (``""``).
``.kml``               every attribute (KML ExtendedData), every geometry type.
``.gpx``               points (waypoints) and lines (routes, or tracks when
                       any line is a MultiLineString: single-part lines then
                       come back as one-part MultiLineStrings — warned). No
                       polygons (territories), no mixed points and lines, no
                       feature without geometry. Attributes are kept as GPX
                       extensions.
``.shp``, ``.zip``     Shapefile (a ``.zip`` holds ``.shp .shx .dbf .prj .cpg``),
``.shp.zip``           UTF-8 with a ``.cpg``. Field names are cut to 10
                       characters (the readers restore the schema's names; other
                       columns keep the short name — warned; a places layer's
                       names in languages whose column is longer, such as
                       ``name_uz-Cyrl``, go whole into one ``names`` JSON field,
                       which the readers spread back); text longer than
                       254 bytes is cut at a character boundary (warned;
                       trailing spaces never read back: dBASE pads with them;
                       ``sources`` is shortened so it stays valid JSON: titles
                       first, then extra records); one geometry family per file
                       (points, or lines, or polygons); no difference between an
                       empty text and a missing one (warned when a column has
                       both).
=====================  =========================================================

Whenever a format shortens or changes something a
:class:`~borderkit.errors.FormatLimitWarning` says what and in which rows and
columns; a layer a format cannot hold at all raises
:class:`~borderkit.errors.FormatLimitError` before anything is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from borderkit.errors import FileFormatError, FormatLimitError, FormatLimitWarning, Problem

from .atomic import atomic_output, check_output_path

if TYPE_CHECKING:  # geopandas is imported on first use only
    from geopandas import GeoDataFrame

__all__ = ["FORMATS", "OutputFormat", "output_format", "write_layer", "SHAPEFILE_TEXT_BYTES"]

SHAPEFILE_TEXT_BYTES = 254
"""Longest text a Shapefile (dBASE) field holds, in bytes (UTF-8)."""

_SHAPEFILE_NAME_CHARS = 10
_MIN_CUT = 24  # bytes a shortened source title or publication keeps
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# Index files of an older shapefile of the same name: they would not match the new one.
_SHAPEFILE_STALE = (".qix", ".sbn", ".sbx", ".fix")


@dataclass(frozen=True)
class OutputFormat:
    """One output format of :func:`write_layer`.

    Parameters
    ----------
    name
        Name used in messages and by ``format=`` (``"GeoJSON"``, ``"GPKG"`` …).
    suffixes
        File name endings that choose this format (lower case).
    driver
        GDAL driver that writes it, or ``""`` when borderkit writes it itself.
    """

    name: str
    suffixes: tuple[str, ...]
    driver: str


FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("GeoJSON", (".geojson", ".json"), "GeoJSON"),
    OutputFormat("GPKG", (".gpkg",), "GPKG"),
    OutputFormat("GeoParquet", (".parquet", ".geoparquet", ".pq"), ""),
    OutputFormat("CSV", (".csv", ".tsv"), ""),
    OutputFormat("KML", (".kml",), "KML"),
    OutputFormat("GPX", (".gpx",), "GPX"),
    OutputFormat("Shapefile", (".shp",), "ESRI Shapefile"),
    OutputFormat("Shapefile zip", (".shp.zip", ".zip"), "ESRI Shapefile"),
)
"""The formats :func:`write_layer` writes, each one the readers read."""


def output_format(path: str | os.PathLike[str], format: str | None = None) -> OutputFormat:
    """The output format for ``path``: ``format`` by name, else by the file's suffix.

    Raises
    ------
    borderkit.errors.FormatLimitError
        For an unknown format name or suffix (the message lists the known ones).
    """
    if format is not None:
        for f in FORMATS:
            if f.name.lower() == format.lower() or format.lower().lstrip(".") in (s.lstrip(".") for s in f.suffixes):
                return f
        raise FormatLimitError(f"unknown output format {format!r}; use one of: " + ", ".join(f.name for f in FORMATS))
    low = os.fspath(path).lower()
    for f in FORMATS:
        if low.endswith(f.suffixes):
            return f
    known = ", ".join(s for f in FORMATS for s in f.suffixes)
    raise FormatLimitError(
        f"{os.fspath(path)}: borderkit cannot tell the output format from the file name; end it in one of {known}"
    )


# ---------------------------------------------------------------------------
# values -> text
# ---------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date | pd.Timestamp):
        return _iso(value)
    return str(value)


def _to_json(value: Any, *, compact: bool = False) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    seps = (",", ":") if compact else (", ", ": ")
    return json.dumps(value, ensure_ascii=False, default=_json_default, separators=seps)


def _iso(value: Any) -> str:
    """ISO 8601 text of a date or datetime: the date alone when the time is midnight."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        if value.tzinfo is None and value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _is_nested(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    return bool(series.map(lambda v: isinstance(v, list | tuple | dict | np.ndarray)).any())


def _has_dates(series: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    if series.dtype != object:
        return False
    return bool(series.map(lambda v: isinstance(v, dt.date | pd.Timestamp)).any())


def _dates_to_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        s = series
        if s.dt.tz is None:
            times = s.dropna()
            if bool((times == times.dt.normalize()).all()):
                return s.dt.strftime("%Y-%m-%d").where(s.notna(), None).astype(object)
        return s.map(_iso).where(s.notna(), None).astype(object)
    return series.map(lambda v: _iso(v) if isinstance(v, dt.date | pd.Timestamp) else v)


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def _utf8_len(series: pd.Series) -> np.ndarray:
    text = series.where(series.notna(), "").astype(str)
    return text.str.encode("utf-8").str.len().to_numpy(dtype=np.int64)


def fit_sources_json(records: list[dict[str, str]], limit: int) -> tuple[str, bool]:
    """Compact JSON of source ``records`` in at most ``limit`` bytes, and whether it was shortened.

    Empty keys are left out and the JSON is written without spaces (both
    lossless: the readers fill missing keys with ``""``). When that is still too
    long, what makes a source checkable goes last: the longest titles and
    publications are cut (to no less than 24 bytes, ending in ``…``), then
    dropped, then records after the first are dropped, and only then is the
    first URL cut. The result is always valid JSON.
    """
    recs = [{k: v for k, v in r.items() if v} for r in records]

    def excess() -> int:
        return len(_to_json(recs, compact=True).encode("utf-8")) - limit

    def texts() -> list[tuple[int, int, str]]:
        return [
            (len(r[k].encode("utf-8")), i, k) for i, r in enumerate(recs) for k in ("title", "publication") if k in r
        ]

    shortened = excess() > 0
    # each step makes the JSON strictly shorter, so every loop ends
    while (over := excess()) > 0 and (cands := [c for c in texts() if c[0] > _MIN_CUT + 3]):
        nbytes, i, key = max(cands)
        target = max(_MIN_CUT, nbytes - over - 3)  # "…" takes 3 bytes
        recs[i][key] = _cut_utf8(recs[i][key], target) + "…"
    while excess() > 0 and (cands := texts()):
        _, i, key = max(cands)
        del recs[i][key]
    while excess() > 0 and len(recs) > 1:
        recs.pop()
    while (over := excess()) > 0 and recs and "url" in recs[0]:
        url = recs[0]["url"]
        recs[0]["url"] = _cut_utf8(url, max(len(url.encode("utf-8")) - over, 0))
        if not recs[0]["url"]:
            del recs[0]["url"]
    if excess() > 0:
        raise FormatLimitError(f"a source record does not fit in {limit} bytes")
    return _to_json(recs, compact=True), shortened


def _rows_text(positions: np.ndarray) -> str:
    """ "row 3" or "rows 1, 5 …": 1-based data rows, as the readers number them."""
    rows = [str(int(p) + 1) for p in positions[:10]]
    more = f" … ({len(positions)} rows in all)" if len(positions) > 10 else ""
    return ("row " if len(positions) == 1 else "rows ") + ", ".join(rows) + more


def _warn(path: str, message: str) -> None:
    warnings.warn(f"{path}: {message}", FormatLimitWarning, stacklevel=3)


# ---------------------------------------------------------------------------
# preparing the frame
# ---------------------------------------------------------------------------


def _kind_of(gdf: Any) -> str:
    from borderkit.schema import SCHEMAS
    from borderkit.validate import LAYER_KINDS

    for kind in LAYER_KINDS:  # the order decides: an incident also has a place_id
        if SCHEMAS[kind].id_column in gdf.columns:
            return kind
    ids = ", ".join(f"{SCHEMAS[k].id_column} ({k})" for k in LAYER_KINDS)
    raise FormatLimitError(f"cannot tell the layer kind: no id column ({ids}); pass kind=")


def _text_columns(frame: pd.DataFrame, fmt: OutputFormat, kind: str) -> pd.DataFrame:
    """Lists, dicts and dates as text; everything else as it is."""
    from borderkit.schema import SCHEMAS

    schema = SCHEMAS[kind]
    out = {}
    for name in frame.columns:
        s = frame[name]
        dtype = schema.column(name).dtype if name in schema.names else None
        if dtype == "sources" or _is_nested(s):
            # the Shapefile writer compacts sources itself (it needs the records)
            out[name] = s if (dtype == "sources" and fmt.driver == "ESRI Shapefile") else s.map(_to_json).astype(object)
        elif _has_dates(s):
            out[name] = _dates_to_text(s)
        else:
            out[name] = s
    return pd.DataFrame(out, index=frame.index)


def _check_geometry(gdf: Any, fmt: OutputFormat, kind: str, path: str) -> str | None:
    """Refuse what the format cannot hold; return the GPX layer to write, if GPX."""
    geoms = gdf.geometry
    missing = (geoms.isna() | geoms.is_empty).to_numpy()
    types = set(geoms[~missing].geom_type)
    families = {t.removeprefix("Multi") for t in types}
    if fmt.name == "GPX":
        if families - {"Point", "LineString"}:
            raise FormatLimitError(
                f"{path}: GPX holds points and lines only, not the {'/'.join(sorted(types))} of a {kind} "
                "layer; write GeoJSON, GeoPackage, KML or Shapefile"
            )
        if len(families) > 1:
            raise FormatLimitError(
                f"{path}: this {kind} layer mixes points and lines; GPX keeps them in separate layers that "
                "are read back one at a time — write GeoJSON or GeoPackage, or write points and lines "
                "to two files"
            )
        if missing.any():
            raise FormatLimitError(
                f"{path}: {_rows_text(np.flatnonzero(missing))} without geometry; GPX cannot hold a "
                "feature without coordinates; write GeoJSON or GeoPackage (or drop those rows first)"
            )
        _warn_gpx_number_like(gdf, path)
        if families == {"Point"}:
            if "MultiPoint" in types:
                raise FormatLimitError(f"{path}: GPX cannot hold MultiPoint geometries; write GeoJSON or GeoPackage")
            return "waypoints"
        if "MultiLineString" in types:
            single = int((geoms.geom_type == "LineString").sum())
            if single:
                _warn(
                    path,
                    f"GPX: {single} LineString(s) are written as GPX tracks (because other lines have several "
                    "parts) and read back as one-part MultiLineStrings; write GeoJSON or GeoPackage to keep "
                    "the geometry types",
                )
            return "tracks"
        return "routes"
    if fmt.driver == "ESRI Shapefile" and len(families) > 1:
        raise FormatLimitError(
            f"{path}: a Shapefile holds one geometry family but this {kind} layer has "
            f"{', '.join(sorted(types))}; write GeoJSON or GeoPackage, or split the layer by geometry type"
        )
    return None


def _warn_gpx_number_like(gdf: Any, path: str) -> None:
    """GDAL reads GPX extensions with types guessed from the values: "3.5 km" may come back as 3.5."""
    for name in gdf.columns:
        s = gdf[name]
        if name == gdf.geometry.name or not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        text = s.astype(object).where(s.notna(), "").astype(str).str.strip()
        looks = text.str.match(r"^[-+]?(\d|\.\d)").to_numpy(dtype=bool)
        numeric = pd.to_numeric(text.where(looks, "0"), errors="coerce").notna().to_numpy()
        odd = np.flatnonzero(looks & ~numeric)
        if len(odd):
            _warn(
                path,
                f"GPX: text of column {name!r} in {_rows_text(odd)} starts with a number; GDAL guesses the "
                "types of GPX extensions from their values and may read it back as that number "
                "(e.g. '3.5 km' as 3.5) — write GeoJSON or GeoPackage to keep it",
            )


# ---------------------------------------------------------------------------
# format writers
# ---------------------------------------------------------------------------


def _gdal_write(gdf: Any, dest: Path, driver: str, path: str, **kw: Any) -> None:
    import pyogrio

    try:
        with warnings.catch_warnings():
            # GDAL's own notes (laundered names, truncated values) are replaced by ours
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(gdf, dest, driver=driver, **kw)
    except Exception as exc:  # pyogrio/GDAL errors: one line naming the file
        raise FileFormatError(
            problems=[Problem(f"GDAL cannot write this layer as {driver} ({' '.join(str(exc).split())})", path=path)],
            path=path,
        ) from exc


def _csv_coordinates(attrs: pd.DataFrame, geoms: Any, present: np.ndarray) -> tuple[str, str] | None:
    """Where a point layer's coordinates go in a CSV, or None when they need WKT.

    A table without coordinate-like columns gets ``longitude``/``latitude``;
    one read from a CSV or an ACLED export already has them (holding the
    geometry's own coordinates), and they are reused, so a round trip adds no
    column.
    """
    import shapely

    from ._csv import LAT_NAMES, LON_NAMES, WKT_NAMES, find_column

    if not set(geoms[present].geom_type) <= {"Point"}:
        return None
    cols = [str(c) for c in attrs.columns]
    lon, lat = find_column(cols, LON_NAMES), find_column(cols, LAT_NAMES)
    if find_column(cols, WKT_NAMES) is not None:
        return None
    if lon is None and lat is None:
        return ("longitude", "latitude")
    if lon is None or lat is None:
        return None
    values = geoms.to_numpy()[present]
    x = pd.to_numeric(attrs[lon], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(attrs[lat], errors="coerce").to_numpy(dtype=float)
    same = np.allclose(x[present], shapely.get_x(values), rtol=0, atol=1e-9) and np.allclose(
        y[present], shapely.get_y(values), rtol=0, atol=1e-9
    )
    return (lon, lat) if same else None


def _write_csv(frame: Any, dest: Path, *, sep: str) -> None:
    import shapely

    geoms = frame.geometry
    attrs = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
    values = geoms.to_numpy()
    present = ~(geoms.isna() | geoms.is_empty).to_numpy()
    coords = _csv_coordinates(attrs, geoms, present)
    if coords is not None:
        # the geometry's coordinates, by repr (the shortest text that reads back to the same double)
        x = np.full(len(frame), np.nan)
        y = np.full(len(frame), np.nan)
        x[present] = shapely.get_x(values[present])
        y[present] = shapely.get_y(values[present])
        attrs[coords[0]] = x
        attrs[coords[1]] = y
    else:
        if "geometry" in {str(c).strip().lower() for c in attrs.columns}:
            raise FormatLimitError(
                f"{dest}: the layer has a column named like the CSV geometry column ('geometry'); rename it"
            )
        wkt = np.full(len(frame), "", dtype=object)
        # rounding_precision=-1: every digit of the double, so coordinates read back exactly
        wkt[present] = shapely.to_wkt(values[present], rounding_precision=-1, trim=True)
        attrs["geometry"] = wkt
    attrs.to_csv(dest, index=False, sep=sep, encoding="utf-8", lineterminator="\n")


def _shapefile_prepare(frame: Any, kind: str, path: str) -> Any:
    """Fit text to 254 bytes and warn about every change a DBF forces."""
    from borderkit.schema import SCHEMAS

    schema = SCHEMAS[kind]
    out = _pack_long_name_columns(frame, path) if schema.language_prefix else frame.copy()
    gname = out.geometry.name
    for name in out.columns:
        if name == gname:
            continue
        s = out[name]
        if name in schema.names and schema.column(name).dtype == "sources":
            fitted = [fit_sources_json(list(v) if v is not None else [], SHAPEFILE_TEXT_BYTES) for v in s]
            out[name] = [t for t, _ in fitted]
            cut = np.flatnonzero([c for _, c in fitted])
            if len(cut):
                _warn(
                    path,
                    f"Shapefile: {name!r} in {_rows_text(cut)} is longer than {SHAPEFILE_TEXT_BYTES} bytes "
                    "and was shortened to stay valid JSON (long titles cut with '…', further records dropped); "
                    "write GeoPackage or GeoJSON to keep every source whole",
                )
            continue
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        nbytes = _utf8_len(s)
        long = nbytes > SHAPEFILE_TEXT_BYTES
        if long.any():
            text = s.astype(object)
            text[long] = [_cut_utf8(str(v), SHAPEFILE_TEXT_BYTES) for v in text[long]]
            out[name] = text
            _warn(
                path,
                f"Shapefile: text of column {name!r} in {_rows_text(np.flatnonzero(long))} is longer than "
                f"{SHAPEFILE_TEXT_BYTES} bytes and was cut (at a character boundary); write GeoPackage or "
                "GeoJSON to keep it whole",
            )
        if name not in schema.names:
            isnull = s.isna().to_numpy()
            empty = (s.astype(object).map(lambda v: isinstance(v, str) and v == "")).to_numpy()
            if isnull.any() and empty.any():
                _warn(
                    path,
                    f"Shapefile: column {name!r} has both empty and missing values, which a Shapefile does not "
                    "tell apart; they read back the same",
                )
    long_names = [c for c in out.columns if c != gname and c not in schema.names and len(c) > _SHAPEFILE_NAME_CHARS]
    if long_names:
        _warn(
            path,
            f"Shapefile: field names are at most {_SHAPEFILE_NAME_CHARS} characters; "
            + ", ".join(repr(c) for c in long_names)
            + " will read back under a shortened name (the schema's own columns are restored by the readers)",
        )
    return out


def _pack_long_name_columns(frame: Any, path: str) -> Any:
    """Names in languages whose column is longer than a DBF field name, as one ``names`` JSON field.

    ``name_uz-Cyrl`` would be cut to ``name_uz-Cy``, which reads as another tag (``uz-CY``, Uzbek
    in Cyprus); a ``{"uz-Cyrl": "…"}`` mapping in a ``names`` field reads back as ``name_uz-Cyrl``
    (the readers spread ``names`` into name columns). A row whose mapping would exceed
    the 254-byte field keeps as many whole names as fit, and a warning names the rows and languages.
    """
    from borderkit.schema import NAMES_COLUMN, name_language

    long_cols = [c for c in frame.columns if len(str(c)) > _SHAPEFILE_NAME_CHARS and name_language(str(c))]
    if not long_cols:
        return frame.copy()
    out = frame.drop(columns=long_cols)
    texts: list[str | None] = []
    left_out: dict[str, list[int]] = {}
    values = {c: frame[c].astype(object).tolist() for c in long_cols}
    for p in range(len(frame)):
        names: dict[str, str] = {}
        for c in long_cols:
            v = values[c][p]
            if isinstance(v, str) and v.strip():
                trial = {**names, str(name_language(c)): v}
                if len(_json_compact(trial).encode("utf-8")) <= SHAPEFILE_TEXT_BYTES:
                    names = trial
                else:
                    left_out.setdefault(str(c), []).append(p)
        texts.append(_json_compact(names) if names else None)
    out[NAMES_COLUMN] = pd.Series(texts, index=frame.index, dtype=object)
    for c, rows in left_out.items():
        _warn(
            path,
            f"Shapefile: the names of {c!r} in {_rows_text(np.asarray(rows))} do not fit the "
            f"{SHAPEFILE_TEXT_BYTES}-byte {NAMES_COLUMN!r} field (where names in languages with long tags "
            "are kept) and were left out; write GeoPackage or GeoJSON to keep every name",
        )
    return out


def _json_compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _write_shapefile_set(frame: Any, folder: Path, stem: str, path: str) -> list[Path]:
    _gdal_write(
        frame,
        folder / f"{stem}.shp",
        "ESRI Shapefile",
        path,
        layer=stem,
        encoding="UTF-8",  # pyogrio also writes the .cpg that says so
    )
    return sorted(folder.glob(f"{stem}.*"))


@contextlib.contextmanager
def _scratch_dir(parent: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=".borderkit-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_shapefile(frame: Any, dest: Path, *, overwrite: bool, path: str) -> None:
    """A ``.shp`` and its sidecars, each moved into place atomically, the ``.shp`` last.

    A set of files cannot be renamed in one step; moving the ``.shp`` last
    means no reader ever finds a new ``.shp`` without its ``.dbf``/``.prj``/
    ``.cpg``, and a failed write leaves the old set (or nothing) behind.
    """
    stem = dest.name[: -len(".shp")]
    parts = [dest.with_name(stem + ext) for ext in _SHAPEFILE_PARTS]
    for p in parts:  # refuse before any work, for every member of the set
        check_output_path(p, overwrite=overwrite)
    with _scratch_dir(dest.parent) as scratch, contextlib.ExitStack() as stack:
        written = {f.suffix.lower(): f for f in _write_shapefile_set(frame, scratch, stem, path)}
        # entered first, left last: the .shp is renamed after its sidecars
        for part in parts:
            ext = part.suffix.lower()
            if ext not in written:
                continue
            tmp = stack.enter_context(atomic_output(part, overwrite=overwrite))
            os.replace(written[ext], tmp)
    for ext in _SHAPEFILE_STALE:
        with contextlib.suppress(FileNotFoundError):
            dest.with_name(stem + ext).unlink()


def _write_shapefile_zip(frame: Any, dest: Path, *, overwrite: bool, path: str) -> None:
    low = dest.name.lower()
    stem = dest.name[: -len(".shp.zip")] if low.endswith(".shp.zip") else dest.name[: -len(".zip")]
    with _scratch_dir(dest.parent) as scratch, atomic_output(dest, overwrite=overwrite) as tmp:
        files = _write_shapefile_set(frame, scratch, stem, path)
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, arcname=f.name)


def _write_gdal_file(
    frame: Any, dest: Path, fmt: OutputFormat, *, overwrite: bool, path: str, layer: str | None, gpx_layer: str | None
) -> None:
    kw: dict[str, Any] = {}
    if fmt.name == "GPX":
        kw["layer"] = gpx_layer
        kw["dataset_options"] = {"GPX_USE_EXTENSIONS": "YES"}
        if gpx_layer == "tracks":
            kw["promote_to_multi"] = True
    else:
        kw["layer"] = layer or dest.stem
        # keep LineString and MultiLineString apart (pyogrio would make all of them Multi)
        kw["promote_to_multi"] = False
    with atomic_output(dest, overwrite=overwrite) as tmp:
        _gdal_write(frame, tmp, fmt.driver, path, **kw)
        if fmt.name == "KML":
            _drop_placemark_ids(tmp)


def _drop_placemark_ids(path: Path) -> None:
    """Remove the ``id="layer.N"`` GDAL gives every placemark.

    They are not data: read back, they would appear as a new ``id`` column.
    Text from the data is escaped in the file (``&lt;``), so only real
    placemark tags match.
    """
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'<Placemark id="[^"<>]*">', "<Placemark>", text), encoding="utf-8")


def _write_parquet(frame: Any, dest: Path, *, overwrite: bool) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        from borderkit.errors import OptionalDependencyError

        raise OptionalDependencyError("writing GeoParquet needs pyarrow: pip install 'borderkit[parquet]'") from exc
    with atomic_output(dest, overwrite=overwrite) as tmp:
        frame.to_parquet(tmp, index=False)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def write_layer(
    gdf: GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    kind: str | None = None,
    format: str | None = None,
    overwrite: bool = False,
    layer: str | None = None,
) -> Path:
    """Write a lines, territories, incidents or places layer so the readers read it back.

    Parameters
    ----------
    gdf
        The layer (any declared CRS; it is written in EPSG:4326).
    path
        Output file; its suffix chooses the format (see the module
        documentation): ``.geojson``, ``.gpkg``, ``.parquet``, ``.csv``/``.tsv``,
        ``.kml``, ``.gpx``, ``.shp``, ``.zip``/``.shp.zip`` (a zipped Shapefile).
    kind
        ``"lines"``, ``"territories"``, ``"incidents"`` or ``"places"``; by
        default told by the layer's id column (``line_id`` …).
    format
        Format name (``"GeoJSON"``, ``"GPKG"``, ``"GeoParquet"``, ``"CSV"``,
        ``"KML"``, ``"GPX"``, ``"Shapefile"``, ``"Shapefile zip"``) when the
        suffix does not say it.
    overwrite
        Replace an existing file (for a ``.shp``, an existing set).
    layer
        Layer name inside a GeoPackage or KML file (default: the file
        name without suffix; a Shapefile layer is named by its file). GPX layers are ``waypoints``, ``routes`` or
        ``tracks``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    borderkit.errors.ValidationError
        When the layer breaks its schema (the same problems the readers report).
    borderkit.errors.FormatLimitError
        When the format cannot hold the layer (GPX territories, a Shapefile that
        mixes points and lines …) or the suffix is unknown; nothing is written.
    FileExistsError
        When ``path`` exists and ``overwrite`` is false.

    Warns
    -----
    borderkit.errors.FormatLimitWarning
        When the format shortens or changes something (Shapefile field names
        and 254-byte text, GPX tracks), naming the rows and columns.

    Examples
    --------
    >>> import borderkit, tempfile, pathlib                        # doctest: +SKIP
    >>> case = borderkit.datasets.load("armenia-azerbaijan")       # doctest: +SKIP
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "incidents.gpkg"  # doctest: +SKIP
    >>> borderkit.write_layer(case.incidents, out)                 # doctest: +SKIP
    >>> borderkit.read_incidents(out).sources.iloc[0][0]["url"]    # doctest: +SKIP
    """
    from borderkit.validate import validate_layer

    path_s = os.fspath(path)
    fmt = output_format(path_s, format)
    dest = check_output_path(path_s, overwrite=overwrite)
    if fmt.name == "Shapefile":  # every member of the set, before any work or warning
        stem = dest.name[: -len(".shp")]
        for ext in _SHAPEFILE_PARTS:
            check_output_path(dest.with_name(stem + ext), overwrite=overwrite)
    kind = kind or _kind_of(gdf)
    # the readers' rules, so nothing is written that they would refuse; swap_check
    # is a reading heuristic about the case region and has no place here
    conformed = validate_layer(gdf, kind, path=path_s, swap_check=False)
    gpx_layer = _check_geometry(conformed, fmt, kind, path_s)
    frame = _text_columns(pd.DataFrame(conformed), fmt, kind)
    import geopandas as gpd

    frame = gpd.GeoDataFrame(frame, geometry=conformed.geometry.name, crs="EPSG:4326")
    writers: dict[str, Callable[[], None]] = {
        "CSV": lambda: _write_csv_atomic(frame, dest, overwrite=overwrite),
        "GeoParquet": lambda: _write_parquet(frame, dest, overwrite=overwrite),
        "Shapefile": lambda: _write_shapefile(
            _shapefile_prepare(frame, kind, path_s), dest, overwrite=overwrite, path=path_s
        ),
        "Shapefile zip": lambda: _write_shapefile_zip(
            _shapefile_prepare(frame, kind, path_s), dest, overwrite=overwrite, path=path_s
        ),
    }
    write = writers.get(fmt.name)
    if write is not None:
        write()
    else:
        _write_gdal_file(frame, dest, fmt, overwrite=overwrite, path=path_s, layer=layer, gpx_layer=gpx_layer)
    return dest


def _write_csv_atomic(frame: Any, dest: Path, *, overwrite: bool) -> None:
    sep = "\t" if dest.suffix.lower() == ".tsv" else ","
    with atomic_output(dest, overwrite=overwrite) as tmp:
        _write_csv(frame, tmp, sep=sep)
