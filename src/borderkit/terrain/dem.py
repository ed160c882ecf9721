"""Digital elevation models: open one or many rasters, sample heights, describe resolution.

A :class:`DEM` is an in-memory grid of heights (metres above mean sea level,
``float32``, ``NaN`` where the source has no data) with its affine transform,
CRS, name and vertical accuracy. :func:`open_dem` reads anything GDAL reads
through rasterio — GeoTIFF/COG, SRTM ``.hgt``, DTED ``.dt0/.dt1/.dt2``, VRT,
remote files (``/vsicurl/…`` or ``https://…``) — and merges several tiles into
one grid (``rasterio.merge``), so callers never see tile edges.

Coordinates given to and returned by this module are longitude/latitude on
WGS84 (``always_xy``); a DEM in another CRS is sampled through a pyproj
transformation.

Cell centres are the sample points: a pixel-is-point raster (DTED, SRTM
``.hgt``) is opened by GDAL with its transform shifted by half a cell so that
the posts are the cell centres, and a pixel-is-area raster (GLOBE) stores the
value of the cell around the centre. Either way ``sample(method="nearest")``
returns the value of the cell whose centre is nearest, and
``method="bilinear"`` interpolates between the four surrounding centres.
"""

from __future__ import annotations

import glob
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from borderkit._projection import WGS84_A, WGS84_E2, is_wgs84_geographic
from borderkit.errors import (
    CRSError,
    DatasetNotFoundError,
    DEMError,
    DEMFileError,
    FileFormatError,
    OfflineError,
    OptionalDependencyError,
    ValidationError,
)

if TYPE_CHECKING:  # pragma: no cover
    from affine import Affine
    from rasterio.crs import CRS

__all__ = [
    "DEM",
    "open_dem",
    "sample_elevation",
    "DEM_SUFFIXES",
    "VERTICAL_ACCURACY",
    "gaussian_radius_m",
    "sample_grid",
]

# The WGS84 constants have one home, borderkit._projection (WGS84_A, WGS84_F, WGS84_E2).

DEM_SUFFIXES = (".tif", ".tiff", ".hgt", ".dt0", ".dt1", ".dt2", ".vrt", ".img", ".asc", ".bil", ".nc")
"""File name endings :func:`open_dem` picks up when given a directory."""

GLOBE_CITATION = (
    "GLOBE Task Team and others (Hastings, D.A., and P.K. Dunbar), 1999: Global Land One-kilometer Base "
    "Elevation (GLOBE) Digital Elevation Model, Version 1.0, NOAA National Geophysical Data Center, "
    "Key to Geophysical Records Documentation No. 34, section 7.B.i "
    "(https://www.ngdc.noaa.gov/mgg/topo/report/s7/s7Bi.html)"
)

VERTICAL_ACCURACY: dict[str, tuple[float | None, str]] = {
    "GLOBE": (
        30.0,
        "±30 m linear error at 90% confidence (RMSE about 18 m) for the DTED-derived areas of GLOBE where the "
        "source DTED meets its specification; the GLOBE documentation adds that about half of the DTED cells do "
        "not meet it (25% at 30–50 m, some worse) and that accuracy varies with the source/lineage of each cell. "
        f"Source: {GLOBE_CITATION}.",
    ),
    "SRTM": (
        16.0,
        "SRTM mission specification: absolute vertical accuracy 16 m at 90% (linear error); measured "
        "performance is better in most regions. Source: Farr, T.G. et al., 2007, The Shuttle Radar Topography "
        "Mission, Rev. Geophys. 45, RG2004, doi:10.1029/2005RG000183.",
    ),
    "Terrarium": (
        None,
        "AWS/Mapzen Terrain Tiles mix several sources (SRTM, GMTED2010, ETOPO1, national DEMs) by zoom level and "
        "region and state no single vertical accuracy "
        "(https://github.com/tilezen/joerd/blob/master/docs/data-sources.md).",
    ),
}
"""Stated vertical accuracy per DEM family: ``(metres or None, explanation with citation)``."""


# --------------------------------------------------------------------------------------------
# geodesy helpers
# --------------------------------------------------------------------------------------------
def gaussian_radius_m(lat_deg: float) -> float:
    """Gaussian mean radius of curvature ``sqrt(M N)`` of WGS84 at a latitude, metres.

    The radius of the sphere that best fits the ellipsoid around that latitude
    in every azimuth; used for Earth-curvature corrections over distances of
    tens of kilometres (it differs from the curvature in any one azimuth by at
    most ±0.34 %).
    """
    s2 = math.sin(math.radians(lat_deg)) ** 2
    w = 1.0 - WGS84_E2 * s2
    m = WGS84_A * (1.0 - WGS84_E2) / w**1.5
    n = WGS84_A / math.sqrt(w)
    return math.sqrt(m * n)


# --------------------------------------------------------------------------------------------
# the DEM object
# --------------------------------------------------------------------------------------------
@dataclass(eq=False)
class DEM:
    """Heights on a regular grid, in memory.

    Attributes
    ----------
    data
        ``float32`` array ``(rows, cols)`` of heights in metres above mean sea
        level; ``NaN`` where the source has no data.
    transform
        Affine transform from (col, row) of the cell corner to CRS coordinates
        (north-up, no rotation).
    crs
        CRS of the grid (``rasterio.crs.CRS``).
    name
        Human-readable name ("GLOBE 30″", "DTED0", a file name …).
    kind
        DEM family used to look up the stated vertical accuracy ("GLOBE",
        "DTED0", "SRTM", "Terrarium", "" when unknown).
    sources
        The files (or URLs) the grid was read from.
    vertical_accuracy_m
        Stated absolute vertical accuracy (90 % linear error) in metres, or
        ``None`` when the source states none.
    vertical_accuracy_note
        Where that number comes from.
    """

    data: np.ndarray
    transform: Affine
    crs: CRS
    name: str
    kind: str = ""
    sources: tuple[str, ...] = ()
    vertical_accuracy_m: float | None = None
    vertical_accuracy_note: str = ""
    tags: dict[str, str] = field(default_factory=dict, repr=False)

    # --- geometry ------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """The DEM's file(s) for messages: the path, or the first two and how many more."""
        if not self.sources:
            return self.name
        more = f" and {len(self.sources) - 2} more tile(s)" if len(self.sources) > 2 else ""
        return ", ".join(self.sources[:2]) + more

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        rows, cols = self.data.shape
        return (rows, cols)

    @property
    def res(self) -> tuple[float, float]:
        """Cell size ``(x, y)`` in CRS units (degrees for a geographic DEM)."""
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in CRS units."""
        t = self.transform
        rows, cols = self.shape
        return (t.c, t.f + t.e * rows, t.c + t.a * cols, t.f)

    @property
    def is_lonlat(self) -> bool:
        """True when the grid is longitude/latitude on WGS84 (no transformation needed)."""
        return self.crs is not None and is_wgs84_geographic(self.crs)

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in degrees on WGS84."""
        if self.is_lonlat:
            return self.bounds
        from rasterio.warp import transform_bounds

        w, s, e, n = transform_bounds(self.crs, "EPSG:4326", *self.bounds, densify_pts=21)
        return (w, s, e, n)

    def center_lonlat(self) -> tuple[float, float]:
        """Longitude and latitude of the centre of the grid."""
        w, s, e, n = self.lonlat_bounds()
        return ((w + e) / 2.0, (s + n) / 2.0)

    # --- coordinates ---------------------------------------------------------------------
    def to_crs_xy(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Longitude/latitude (WGS84) → x, y in the DEM's CRS (vectorised, ``always_xy``)."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        if self.is_lonlat:
            return lon, lat
        tr = _transformer("EPSG:4326", self.crs.to_wkt())
        x, y = tr.transform(lon, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def to_lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """x, y in the DEM's CRS → longitude/latitude on WGS84."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.is_lonlat:
            return x, y
        tr = _transformer(self.crs.to_wkt(), "EPSG:4326")
        lon, lat = tr.transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def fractional_rowcol(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of points in cell-centre units (cell ``(i, j)`` has its centre at ``(i, j)``)."""
        x, y = self.to_crs_xy(lon, lat)
        t = self.transform
        col = (x - t.c) / t.a - 0.5
        row = (y - t.f) / t.e - 0.5
        return row, col

    def cell_center(self, row: Any, col: Any) -> tuple[np.ndarray, np.ndarray]:
        """Longitude/latitude of cell centres."""
        t = self.transform
        x = t.c + (np.asarray(col, dtype=np.float64) + 0.5) * t.a
        y = t.f + (np.asarray(row, dtype=np.float64) + 0.5) * t.e
        return self.to_lonlat(x, y)

    def index(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (int) of the cells that contain the points; ``-1`` outside the grid."""
        row, col = self.fractional_rowcol(lon, lat)
        r = np.floor(row + 0.5).astype(np.int64)
        c = np.floor(col + 0.5).astype(np.int64)
        rows, cols = self.shape
        bad = ~((r >= 0) & (r < rows) & (c >= 0) & (c < cols))
        return np.where(bad, -1, r), np.where(bad, -1, c)

    # --- heights -------------------------------------------------------------------------
    def sample(self, lon: Any, lat: Any, *, method: str = "bilinear") -> np.ndarray:
        """Heights at points, metres above mean sea level.

        Parameters
        ----------
        lon, lat
            Degrees on WGS84 (scalars or arrays of one shape).
        method
            ``"nearest"``: value of the cell whose centre is nearest (the
            DEM's own number). ``"bilinear"``: interpolated between the four
            surrounding cell centres; within half a cell of the grid edge the
            edge values are used.

        Returns
        -------
        numpy.ndarray
            ``float64`` heights, ``NaN`` outside the grid or where a needed
            cell has no data.
        """
        if method not in ("nearest", "bilinear"):
            raise ValidationError(f"method: unknown sampling method {method!r}; use 'nearest' or 'bilinear'")
        row, col = self.fractional_rowcol(lon, lat)
        return sample_grid(self.data, row, col, method)

    # --- resolution ----------------------------------------------------------------------
    def resolution_m(self, lat: float | None = None) -> tuple[float, float]:
        """Cell size ``(east-west, north-south)`` in metres at a latitude (default: the grid centre).

        For a geographic grid both are geodesic lengths on WGS84 of one cell side
        at that latitude; for a projected grid they are the cell size in CRS
        metres.
        """
        if self.is_lonlat or self.crs.is_geographic:
            lon0, lat0 = self.center_lonlat()
            if lat is not None:
                lat0 = float(lat)
            rx, ry = self.res
            from borderkit.geodesy import GEOD as g  # the one WGS84 Geod (imported here: pyproj is heavy)

            _, _, ew = g.inv(lon0 - rx / 2, lat0, lon0 + rx / 2, lat0)
            _, _, ns = g.inv(lon0, lat0 - ry / 2, lon0, lat0 + ry / 2)
            return (float(ew), float(ns))
        factor = self.crs.linear_units_factor[1] if self.crs.linear_units_factor else 1.0
        return (self.res[0] * factor, self.res[1] * factor)

    def info(self, lat: float | None = None) -> dict[str, Any]:
        """Description for results: name, CRS, resolution (deg and m), vertical accuracy, sources.

        ``resolution_m`` is the coarser of the two cell dimensions at ``lat``.
        """
        ew, ns = self.resolution_m(lat)
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "crs": self.crs.to_string(),
            "resolution_m": round(max(ew, ns), 1),
            "resolution_ew_m": round(ew, 1),
            "resolution_ns_m": round(ns, 1),
            "vertical_accuracy_m": self.vertical_accuracy_m,
            "vertical_accuracy_note": self.vertical_accuracy_note,
            "sources": list(self.sources),
        }
        if self.is_lonlat or self.crs.is_geographic:
            out["resolution_deg"] = [self.res[0], self.res[1]]
            out["resolution_arcsec"] = [round(self.res[0] * 3600, 3), round(self.res[1] * 3600, 3)]
        return out

    # --- copies --------------------------------------------------------------------------
    def reproject(
        self,
        crs: Any,
        *,
        resolution: float | tuple[float, float] | None = None,
        resampling: str = "bilinear",
        name: str | None = None,
    ) -> DEM:
        """A copy of the DEM warped to another CRS (e.g. UTM for ``gdal_viewshed``).

        Parameters
        ----------
        crs
            Target CRS (anything rasterio accepts, e.g. ``"EPSG:32638"``).
        resolution
            Cell size in target units; default chosen by GDAL to keep the
            number of cells.
        resampling
            ``"bilinear"`` (default), ``"nearest"``, ``"cubic"`` …
        """
        from rasterio.enums import Resampling
        from rasterio.warp import calculate_default_transform, reproject

        rows, cols = self.shape
        dst_t, w, h = calculate_default_transform(
            self.crs, crs, cols, rows, *self.bounds, resolution=resolution
        )
        dst = np.full((h, w), np.nan, dtype=np.float32)
        reproject(
            source=self.data,
            destination=dst,
            src_transform=self.transform,
            src_crs=self.crs,
            src_nodata=np.nan,
            dst_transform=dst_t,
            dst_crs=crs,
            dst_nodata=np.nan,
            resampling=getattr(Resampling, resampling),
        )
        from rasterio.crs import CRS as RCRS

        return replace(
            self,
            data=dst,
            transform=dst_t,
            crs=RCRS.from_user_input(crs),
            name=name or f"{self.name}, warped to {crs} ({resampling})",
        )

    def to_geotiff(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the DEM as a float32 GeoTIFF (nodata NaN) with its name and accuracy in the tags."""
        import rasterio

        from borderkit.io.atomic import atomic_output

        path = Path(path)
        rows, cols = self.shape
        with atomic_output(path, overwrite=overwrite) as tmp, rasterio.open(
            tmp, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="float32", crs=self.crs,
            transform=self.transform, nodata=np.nan, compress="deflate", tiled=True,
        ) as ds:
            ds.write(self.data.astype(np.float32), 1)
            tags = {"BORDERKIT_DEM_NAME": self.name, "BORDERKIT_DEM_KIND": self.kind,
                    "BORDERKIT_VERTICAL_ACCURACY_NOTE": self.vertical_accuracy_note}
            if self.vertical_accuracy_m is not None:
                tags["BORDERKIT_VERTICAL_ACCURACY_M"] = str(self.vertical_accuracy_m)
            ds.update_tags(**tags)
        return path

    # --- subsets -------------------------------------------------------------------------
    def subset(self, bbox: Sequence[float], *, pad_cells: int = 1) -> DEM:
        """The part of the grid covering a ``(west, south, east, north)`` box in degrees.

        Raises
        ------
        ValidationError
            The box does not overlap the grid.
        """
        from rasterio.warp import transform_bounds
        from rasterio.windows import from_bounds

        w, s, e, n = (float(v) for v in bbox)
        if not self.is_lonlat:
            w, s, e, n = transform_bounds("EPSG:4326", self.crs, w, s, e, n, densify_pts=21)
        win = from_bounds(w, s, e, n, transform=self.transform)
        rows, cols = self.shape
        r0 = max(0, int(math.floor(win.row_off)) - pad_cells)
        c0 = max(0, int(math.floor(win.col_off)) - pad_cells)
        r1 = min(rows, int(math.ceil(win.row_off + win.height)) + pad_cells)
        c1 = min(cols, int(math.ceil(win.col_off + win.width)) + pad_cells)
        if r1 <= r0 or c1 <= c0:
            raise DEMError(
                f"{self.location}: bbox {tuple(bbox)} does not overlap this DEM (lon/lat bounds "
                f"{tuple(round(v, 4) for v in self.lonlat_bounds())}); pass a DEM that covers the area"
            )
        t = self.transform
        from affine import Affine

        new_t = Affine(t.a, t.b, t.c + c0 * t.a, t.d, t.e, t.f + r0 * t.e)
        return replace(self, data=self.data[r0:r1, c0:c1], transform=new_t)


# --------------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------------
def sample_grid(data: np.ndarray, row: np.ndarray, col: np.ndarray, method: str) -> np.ndarray:
    """Nearest or bilinear sampling of a grid at fractional cell-centre coordinates (vectorised).

    Parameters
    ----------
    data
        ``(rows, cols)`` grid of heights.
    row, col
        Fractional row and column in cell-centre units (cell ``(i, j)`` has its
        centre at ``(i, j)``; see :meth:`DEM.fractional_rowcol`).
    method
        ``"nearest"`` or ``"bilinear"`` (as :meth:`DEM.sample`).

    Returns
    -------
    numpy.ndarray
        ``float64`` values; ``NaN`` outside the grid or where a needed cell is ``NaN``.
    """
    row = np.asarray(row, dtype=np.float64)
    col = np.asarray(col, dtype=np.float64)
    rows, cols = data.shape
    inside = (row >= -0.5) & (row <= rows - 0.5) & (col >= -0.5) & (col <= cols - 0.5)
    inside &= np.isfinite(row) & np.isfinite(col)
    out = np.full(row.shape, np.nan)
    if not inside.any():
        return out
    r = row[inside]
    c = col[inside]
    if method == "nearest" or rows == 1 or cols == 1:
        ri = np.clip(np.floor(r + 0.5).astype(np.int64), 0, rows - 1)
        ci = np.clip(np.floor(c + 0.5).astype(np.int64), 0, cols - 1)
        out[inside] = data[ri, ci]
        return out
    r0 = np.clip(np.floor(r).astype(np.int64), 0, rows - 2)
    c0 = np.clip(np.floor(c).astype(np.int64), 0, cols - 2)
    fr = np.clip(r - r0, 0.0, 1.0)
    fc = np.clip(c - c0, 0.0, 1.0)
    z00 = data[r0, c0].astype(np.float64)
    z01 = data[r0, c0 + 1]
    z10 = data[r0 + 1, c0]
    z11 = data[r0 + 1, c0 + 1]
    top = z00 + (z01 - z00) * fc
    bot = z10 + (z11 - z10) * fc
    out[inside] = top + (bot - top) * fr
    return out


def sample_elevation(lon: Any, lat: Any, *, dem: DEM | str | os.PathLike[str], method: str = "bilinear"):
    """Heights (m above mean sea level) at longitude/latitude points on a DEM.

    Parameters
    ----------
    lon, lat
        Degrees on WGS84.
    dem
        A :class:`DEM` or a path (file, directory of tiles, glob); a case's
        DEM is ``Case.dem`` (:func:`borderkit.datasets.load`).
    method
        ``"nearest"`` or ``"bilinear"`` (see :meth:`DEM.sample`).
    """
    d = dem if isinstance(dem, DEM) else open_dem(dem)
    return d.sample(lon, lat, method=method)


# --------------------------------------------------------------------------------------------
# opening
# --------------------------------------------------------------------------------------------
_TRANSFORMERS: dict[tuple[str, str], Any] = {}


def _transformer(src: str, dst: str):
    key = (src, dst)
    tr = _TRANSFORMERS.get(key)
    if tr is None:
        from pyproj import Transformer

        tr = Transformer.from_crs(src, dst, always_xy=True)
        _TRANSFORMERS[key] = tr
    return tr


def _expand(source: Any) -> list[str]:
    """A path, URL, directory, glob or list of them → list of paths GDAL can open."""
    if isinstance(source, (str, os.PathLike)):
        items = [source]
    elif isinstance(source, Iterable):
        items = list(source)
    else:
        raise ValidationError(f"dem: expected a path, a list of paths or a DEM, got {type(source).__name__}")
    out: list[str] = []
    for item in items:
        s = os.fspath(item)
        if s.startswith(("http://", "https://")):
            out.append("/vsicurl/" + s)
        elif s.startswith("/vsi"):
            out.append(s)
        elif any(ch in s for ch in "*?["):
            hits = sorted(glob.glob(s, recursive=True))
            if not hits:
                raise DatasetNotFoundError(f"dem: no file matches {s!r}; check the pattern")
            out.extend(hits)
        elif os.path.isdir(s):
            hits = sorted(
                str(p) for p in Path(s).rglob("*") if p.is_file() and p.name.lower().endswith(DEM_SUFFIXES)
            )
            if not hits:
                raise DatasetNotFoundError(
                    f"dem: directory {s} holds no DEM file (looked for {', '.join(DEM_SUFFIXES)})"
                )
            out.extend(hits)
        elif os.path.exists(s):
            out.append(s)
        else:
            raise DatasetNotFoundError(f"dem: {s} does not exist; pass an existing file, directory or glob")
    if not out:
        raise ValidationError("dem: no DEM file given")
    return out


def _family(path: str, tags: dict[str, str], driver: str) -> str:
    name = os.path.basename(path).lower()
    if driver == "DTED" or "DTED_NimaDesignator" in tags:
        return tags.get("DTED_NimaDesignator", "DTED").strip() or "DTED"
    explicit = tags.get("BORDERKIT_DEM_KIND") or tags.get("DEM_KIND")
    if explicit:
        return explicit
    text = " ".join([name, *tags.values()]).lower()
    if "globe" in text:
        return "GLOBE"
    if driver == "SRTMHGT" or name.endswith(".hgt") or "srtm" in text:
        return "SRTM"
    if "terrarium" in text or "terrain tiles" in text:
        return "Terrarium"
    return ""


def _vertical_accuracy(kind: str, tags: dict[str, str]) -> tuple[float | None, str]:
    for key in ("BORDERKIT_VERTICAL_ACCURACY_M", "VERTICAL_ACCURACY_M", "vertical_accuracy_m"):
        if key in tags:
            try:
                value = float(tags[key])
            except ValueError:
                continue
            note = tags.get("BORDERKIT_VERTICAL_ACCURACY_NOTE") or tags.get("VERTICAL_ACCURACY_NOTE") or (
                f"from the file's {key} tag"
            )
            return value, note
    acc = tags.get("DTED_VerticalAccuracy_ACC") or tags.get("DTED_VerticalAccuracy_UHL")
    if acc is not None:
        try:
            value = float(acc)
        except ValueError:
            value = float("nan")
        if math.isfinite(value) and 0 < value < 9999:
            return value, (
                f"{value:g} m absolute vertical accuracy (90% linear error) stated in the DTED header "
                "(ACC record, field 'absolute vertical accuracy')"
            )
        return None, "the DTED header states no absolute vertical accuracy (field 'NA' or 9999)"
    if kind in VERTICAL_ACCURACY:
        return VERTICAL_ACCURACY[kind]
    return None, "the source states no vertical accuracy; pass vertical_accuracy_m= if you know it"


def open_dem(
    source: DEM | str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
    *,
    bbox: Sequence[float] | None = None,
    name: str | None = None,
    vertical_accuracy_m: float | None = None,
    band: int = 1,
) -> DEM:
    """Open a DEM (one file, several tiles, a directory, a glob or a URL) into memory.

    Parameters
    ----------
    source
        A :class:`DEM` (returned as is, or subset to *bbox*); a path to any raster GDAL reads
        (GeoTIFF/COG, ``.hgt``, ``.dt0/.dt1/.dt2``, VRT …); a directory (every
        DEM file below it); a glob pattern; an ``http(s)://`` URL or a
        ``/vsicurl/`` path; or a list of these. Several files are merged into
        one grid (they must share CRS and cell size). The DEM of a case is
        ``Case.dem`` (:func:`borderkit.datasets.load`); terrain knows no case.
        None (no DEM given, e.g. an unset option) raises :class:`ValidationError` saying how to name one.
    bbox
        ``(west, south, east, north)`` in degrees: read only this area (plus
        one cell around it).
    name
        Name to report (default: derived from the DEM family and file names).
    vertical_accuracy_m
        Override the stated vertical accuracy (metres, 90 % linear error).
    band
        Band holding the heights.

    Returns
    -------
    DEM

    Raises
    ------
    DatasetNotFoundError
        A path does not exist.
    FileFormatError
        GDAL cannot read a file, or tiles have different CRS or cell size.
    CRSError
        The raster has no CRS or a rotated transform.
    OfflineError
        A remote DEM cannot be reached.
    ValidationError
        *source* is None.
    """
    if isinstance(source, DEM):
        return source.subset(bbox) if bbox is not None else source
    if source is None:  # terrain knows no case: the caller (the CLI, a Case) names the DEM
        raise ValidationError(
            "dem: no DEM given; pass a file, directory, glob or URL (a case's DEM is borderkit.datasets.load().dem; "
            "on the command line --dem PATH or --case NAME)"
        )
    try:
        import rasterio
        from rasterio.errors import RasterioIOError
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            "terrain functions need rasterio; install it with `pip install 'borderkit[terrain]'`"
        ) from exc

    paths = _expand(source)
    datasets = []
    try:
        for p in paths:
            try:
                datasets.append(rasterio.open(p))
            except RasterioIOError as exc:
                msg = " ".join(str(exc).split())
                if p.startswith("/vsicurl/") and any(
                    k in msg.lower() for k in ("resolve", "connect", "timed out", "timeout", "network")
                ):
                    raise OfflineError(f"cannot reach {p[len('/vsicurl/'):]} ({msg}); check the network") from exc
                raise DEMFileError(
                    f"{p}: GDAL cannot read this file as a raster ({msg}); check that it is a DEM "
                    "(GeoTIFF, .hgt, DTED, VRT) and not truncated, download it again, or pass another --dem",
                    path=p,
                ) from exc
        first = datasets[0]
        for ds in datasets:
            if ds.crs is None:
                raise CRSError(
                    f"{ds.name}: the raster has no CRS (a truncated file loses it too); assign one "
                    "(gdal_edit.py -a_srs EPSG:4326) or download the file again"
                )
            t = ds.transform
            if t.b != 0 or t.d != 0 or t.e >= 0:
                raise CRSError(f"{ds.name}: rotated or south-up rasters are not supported; warp it north-up first")
            if ds.crs != first.crs:
                raise FileFormatError(
                    f"{ds.name}: CRS {ds.crs} differs from {first.name} ({first.crs}); warp the tiles to one CRS"
                )
            if not np.allclose(ds.res, first.res, rtol=1e-9, atol=0):
                raise FileFormatError(
                    f"{ds.name}: cell size {ds.res} differs from {first.name} ({first.res}); "
                    "merge only tiles of one resolution"
                )
        tags_all = [{**ds.tags(), **ds.tags(band)} for ds in datasets]
        try:
            data, transform = _read(datasets, bbox, band)
        except rasterio.errors.RasterioError as exc:
            # the header opened but the cells do not read: a truncated or corrupt file
            msg = " ".join(str(exc.__cause__ or exc).split())
            where = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            raise DEMFileError(
                f"{where}: the DEM's cells cannot be read ({msg}); the file is truncated or corrupt — "
                "download it again or pass another --dem",
                path=paths[0],
            ) from exc
        crs = first.crs
        nodatas = {ds.nodata for ds in datasets}
        drivers = {ds.driver for ds in datasets}
    finally:
        for ds in datasets:
            ds.close()

    if not np.isfinite(data).any():
        where = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        area = f" inside bbox {tuple(bbox)}" if bbox is not None else ""
        raise DEMError(
            f"{where}: every cell{area} is no-data (nodata value {sorted(map(str, nodatas))}), so it has no "
            "heights to use; pass a DEM that has data there (or fix its nodata value with gdal_edit.py -a_nodata)",
            path=paths[0],
        )
    kind = _family(paths[0], tags_all[0], next(iter(drivers)))
    accs = [_vertical_accuracy(kind, t) for t in tags_all]
    values = [a for a, _ in accs if a is not None]
    if vertical_accuracy_m is not None:
        acc, note = float(vertical_accuracy_m), "given by the caller"
    elif values and len(values) == len(accs):
        acc = max(values)
        # every tile states one here, so ``values`` is ``accs``'s accuracies in order
        note = accs[int(np.argmax(values))][1]
        if len(set(values)) > 1:
            note += f" (tiles state {sorted(set(values))} m; the worst is reported)"
    else:
        acc, note = None, accs[0][1]
    if name is None:
        name = _default_name(kind, paths, tags_all[0])
    del nodatas
    return DEM(
        data=data,
        transform=transform,
        crs=crs,
        name=name,
        kind=kind,
        sources=tuple(p for p in paths),
        vertical_accuracy_m=acc,
        vertical_accuracy_note=note,
        tags=tags_all[0],
    )


def _default_name(kind: str, paths: list[str], tags: dict[str, str]) -> str:
    explicit = tags.get("BORDERKIT_DEM_NAME")
    if explicit:
        return explicit
    base = os.path.basename(paths[0]) if len(paths) == 1 else f"{len(paths)} tiles in {os.path.commonpath(paths)}"
    if kind == "GLOBE":
        return f"GLOBE 30″ ({base})"
    if kind:
        return f"{kind} ({base})"
    return base


def _read(datasets: list, bbox: Sequence[float] | None, band: int) -> tuple[np.ndarray, Affine]:
    """Read (and merge) the band into float32 with NaN for nodata."""
    from rasterio.warp import transform_bounds

    first = datasets[0]
    bounds: tuple[float, float, float, float] | None = None
    asked = ""  # the caller's bbox for messages; the overlap errors below only arise when one was given
    if bbox is not None:
        asked = str(tuple(bbox))
        w, s, e, n = (float(v) for v in bbox)
        if not (w < e and s < n):
            raise ValidationError(f"bbox {tuple(bbox)}: expected west < east and south < north (degrees)")
        if not is_wgs84_geographic(first.crs):
            w, s, e, n = transform_bounds("EPSG:4326", first.crs, w, s, e, n, densify_pts=21)
        rx, ry = first.res
        bounds = (w - rx, s - ry, e + rx, n + ry)
    if len(datasets) == 1 and bounds is None:
        arr = first.read(band, masked=True)
        transform = first.transform
    elif bounds is not None and len(datasets) == 1:
        from rasterio.windows import Window, from_bounds

        fw = from_bounds(*bounds, transform=first.transform)
        r0 = max(0, int(math.floor(fw.row_off)))
        c0 = max(0, int(math.floor(fw.col_off)))
        r1 = min(first.height, int(math.ceil(fw.row_off + fw.height)))
        c1 = min(first.width, int(math.ceil(fw.col_off + fw.width)))
        if r1 <= r0 or c1 <= c0:
            raise DEMError(f"{first.name}: bbox {asked} does not overlap this DEM; choose a DEM that covers it")
        win = Window(c0, r0, c1 - c0, r1 - r0)
        arr = first.read(band, window=win, masked=True)
        transform = first.window_transform(win)
    else:
        from rasterio.merge import merge

        if bounds is not None:
            lb = [ds.bounds for ds in datasets]
            ub = (min(b.left for b in lb), min(b.bottom for b in lb), max(b.right for b in lb), max(b.top for b in lb))
            bounds = (max(bounds[0], ub[0]), max(bounds[1], ub[1]), min(bounds[2], ub[2]), min(bounds[3], ub[3]))
            if bounds[0] >= bounds[2] or bounds[1] >= bounds[3]:
                raise DEMError(
                    f"bbox {asked} does not overlap the DEM tiles ({first.name} …); choose tiles that cover it"
                )
            # snap to the tiles' cell grid, so that merge does not resample
            rx, ry = first.res
            x0, y0 = first.transform.c, first.transform.f
            bounds = (
                x0 + math.floor((bounds[0] - x0) / rx + 1e-9) * rx,
                y0 - math.ceil((y0 - bounds[1]) / ry - 1e-9) * ry,
                x0 + math.ceil((bounds[2] - x0) / rx - 1e-9) * rx,
                y0 - math.floor((y0 - bounds[3]) / ry + 1e-9) * ry,
            )
        # float32 with NaN as nodata: each source's own nodata is honoured, and a valid 0 stays 0
        merged, transform = merge(datasets, bounds=bounds, indexes=[band], dtype="float32", nodata=np.nan)
        arr = merged[0]
    data = np.ma.filled(arr.astype(np.float32), np.nan)
    if data.size == 0:
        raise DEMError(
            f"{first.name}: bbox {tuple(bbox) if bbox else ''} does not overlap the DEM; choose one that covers it"
        )
    return np.ascontiguousarray(data), transform
