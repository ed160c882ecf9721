"""Georeference a scanned map sheet: control points → a WGS84 GeoTIFF with stated residuals.

Two ways to give control points:

* ``sheet`` + ``corners``: the pixel positions of the sheet frame's NW, NE, SE and SW
  corners. Their ground positions are the sheet's SK-42 corners
  (:func:`borderkit.sheets.sheet`), transformed to WGS84 with the explicitly chosen
  datum operation (:mod:`borderkit.datum`).
* ``gcps``: ``(x, y, lon, lat)`` tuples in ``gcp_crs`` (SK-42 ones go through the same
  datum operation; any other CRS is converted by PROJ to EPSG:4326).

**Model.** A Soviet sheet is printed in the Gauss–Krüger projection of its zone, so a
flat scan is (nearly) an affine image of that plane, not of longitude/latitude.
``polynomial1`` (default) fits an affine map pixel → transverse-Mercator plane on WGS84
centred on the zone's central meridian (the same conformal projection as the sheet's
Gauss–Krüger zone up to the ~100 m datum translation), by least squares;
``polynomial2`` fits a second-order polynomial (≥ 6 points); ``tps`` is GDAL's thin
plate spline through the points (exact, so its residuals are zero by construction and
measure nothing). The residual of a control point is the geodesic distance on WGS84
(metres) between its ground position and where the model puts its pixel; the RMS and
maximum are returned, printed by the CLI and stored in the GeoTIFF's tags.

**Warp.** For the polynomial models the fitted map is sampled on a 9 × 9 grid of
pixels and GDAL warps with a thin plate spline through those samples (so the curvature
of parallels and the convergence of meridians are reproduced, which a polynomial in
longitude/latitude would not). The output grid is EPSG:4326 at about the scan's
ground resolution. With ``sheet`` the output is cropped to the sheet frame: the grid
covers the frame's WGS84 extent and, when the frame corners are known in pixels, a
cutline along the frame removes the collar (outside is transparent: an alpha band).

**Memory.** The scan is never read into numpy: GDAL warps block by block
(``warp_mem_limit``, 64 MB by default) from the source file to a tiled, compressed
GeoTIFF written through :func:`borderkit.io.atomic.atomic_output`.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj

from borderkit.errors import FileFormatError, OptionalDependencyError, ValidationError

__all__ = ["METHODS", "georeference", "parse_corners", "parse_gcp"]

METHODS = ("polynomial1", "polynomial2", "tps")
MAX_OUTPUT_PIXELS = 1_000_000_000
"""Largest output grid (pixels) accepted; a larger one means wrong control points."""


def parse_corners(text: str) -> list[tuple[float, float]]:
    """Parse ``"x,y;x,y;x,y;x,y"`` (pixel positions of NW, NE, SE, SW) into four pairs."""
    parts = [p.strip() for p in str(text).split(";") if p.strip()]
    if len(parts) != 4:
        raise ValidationError(f"--corners {text!r}: give four pixel positions x,y;x,y;x,y;x,y (NW;NE;SE;SW)")
    out = []
    for name, p in zip(("NW", "NE", "SE", "SW"), parts, strict=True):
        xy = p.split(",")
        try:
            x, y = (float(v) for v in xy)
        except ValueError:
            raise ValidationError(f"--corners: {name} corner {p!r} is not x,y (two numbers)") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValidationError(f"--corners: {name} corner {p!r} is not finite")
        out.append((x, y))
    return out


def parse_gcp(text: str) -> tuple[float, float, float, float]:
    """Parse one ``"x,y,lon,lat"`` control point (pixel column, row; ground lon, lat)."""
    xy = str(text).split(",")
    try:
        vals = tuple(float(v) for v in xy)
    except ValueError:
        vals = ()
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise ValidationError(f"--gcp {text!r}: give x,y,lon,lat (pixel column, pixel row, longitude, latitude)")
    return vals[0], vals[1], vals[2], vals[3]


def _terms(px: np.ndarray, py: np.ndarray, order: int) -> np.ndarray:
    cols = [np.ones_like(px), px, py]
    if order == 2:
        cols += [px * px, px * py, py * py]
    return np.column_stack(cols)


class _Model:
    """Least-squares polynomial pixel → plane (metres) with normalised pixel coordinates."""

    def __init__(self, px: np.ndarray, py: np.ndarray, e: np.ndarray, n: np.ndarray, order: int) -> None:
        self.cx, self.cy = float(px.mean()), float(py.mean())
        self.s = float(max(np.ptp(px), np.ptp(py), 1.0))
        self.order = order
        a = _terms((px - self.cx) / self.s, (py - self.cy) / self.s, order)
        if np.linalg.matrix_rank(a) < a.shape[1]:
            raise ValidationError("the control points are collinear or repeated: they do not fix the image; "
                                  "use points spread over the sheet")
        self.ce = np.linalg.lstsq(a, e, rcond=None)[0]
        self.cn = np.linalg.lstsq(a, n, rcond=None)[0]

    def __call__(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = _terms((np.asarray(px, float) - self.cx) / self.s, (np.asarray(py, float) - self.cy) / self.s, self.order)
        return a @ self.ce, a @ self.cn

    def inverse_affine(self, e: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = np.array([[self.ce[1], self.ce[2]], [self.cn[1], self.cn[2]]]) / self.s
        d = np.linalg.solve(m, np.vstack([np.asarray(e) - self.ce[0], np.asarray(n) - self.cn[0]]))
        return d[0] + self.cx, d[1] + self.cy


_GDAL_TYPES = {"uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
               "int32": "Int32", "float32": "Float32", "float64": "Float64"}


def _vrt_xml(path: Path, width: int, height: int, dtypes: Sequence[str], gcps: Sequence[Any]) -> str:
    """A VRT of *path* with GCPs in EPSG:4326 (every string escaped for XML)."""
    from xml.sax.saxutils import escape, quoteattr

    gcp = "".join(
        f'<GCP Id="{k}" Pixel="{g.col!r}" Line="{g.row!r}" X="{g.x!r}" Y="{g.y!r}"/>' for k, g in enumerate(gcps, 1)
    )
    bands = []
    for b, dt in enumerate(dtypes, 1):
        if dt not in _GDAL_TYPES:
            raise FileFormatError(f"{path.name}: band {b} has pixel type {dt}, which cannot be georeferenced")
        bands.append(
            f'<VRTRasterBand dataType="{_GDAL_TYPES[dt]}" band="{b}"><SimpleSource>'
            f'<SourceFilename relativeToVRT="0">{escape(str(path))}</SourceFilename><SourceBand>{b}</SourceBand>'
            f"</SimpleSource></VRTRasterBand>"
        )
    wkt = pyproj.CRS.from_epsg(4326).to_wkt()
    return (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}"><GCPList Projection={quoteattr(wkt)}>'
            f"{gcp}</GCPList>{''.join(bands)}</VRTDataset>")


def _datum_tag(datum: dict[str, Any] | None) -> str:
    if datum is None:
        return "EPSG:4326 (control points given in WGS84)"
    if "transformation" in datum:
        return f"{datum['source_crs']} (SK-42, Pulkovo 1942) transformed to EPSG:4326"
    return f"{datum['source_crs']} → EPSG:4326"


def _ground_to_wgs84(
    lon: np.ndarray, lat: np.ndarray, crs: Any, transformation: str | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
    from borderkit.datum import is_sk42, to_wgs84

    c = pyproj.CRS.from_user_input(crs)
    if is_sk42(c):
        (x, y), report = to_wgs84((lon, lat), crs=c, transformation=transformation)
        return x, y, report.to_dict()
    if c.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return lon, lat, None
    t = pyproj.Transformer.from_crs(c, "EPSG:4326", always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x, float), np.asarray(y, float), {"source_crs": c.to_string(), "method": t.description}


def georeference(
    image: str | Path,
    output: str | Path,
    *,
    sheet: str | None = None,
    corners: Sequence[tuple[float, float]] | None = None,
    gcps: Sequence[tuple[float, float, float, float]] | None = None,
    gcp_crs: Any = "EPSG:4326",
    method: str = "polynomial1",
    transformation: str | None = None,
    overwrite: bool = False,
    warp_mem_limit_mb: int = 64,
) -> dict[str, Any]:
    """Georeference a scanned sheet to a WGS84 GeoTIFF (see the module notes).

    Parameters
    ----------
    image
        The scan: JPEG, PNG, TIFF or anything GDAL reads. Pixel (0, 0) is the top-left
        corner of the top-left pixel (GDAL's convention).
    output
        GeoTIFF to write (atomically).
    sheet
        Sheet name (any written form): its SK-42 corners are the ground positions of
        *corners*, and the output is cropped to its frame.
    corners
        Pixel positions ``[(x, y) × 4]`` of the frame's NW, NE, SE, SW corners.
    gcps
        Control points ``(x, y, lon, lat)`` instead of (or, with *sheet* but no
        *corners*, besides) the corners.
    gcp_crs
        CRS of the GCP ground coordinates (default EPSG:4326; ``"EPSG:4284"`` or a
        Gauss–Krüger CRS for points read off a Soviet sheet).
    method
        ``"polynomial1"`` (affine, ≥ 3 points), ``"polynomial2"`` (≥ 6) or ``"tps"``.
    transformation
        SK-42 → WGS84 operation to force (default: chosen by :mod:`borderkit.datum`).
    overwrite
        Replace *output* if it exists.
    warp_mem_limit_mb
        GDAL warp working memory (MB); the scan itself is read block by block.

    Returns
    -------
    dict
        ``output``, ``sheet``, ``scale``, ``method``, ``gcp_count``, ``rms_m``,
        ``max_residual_m``, ``residuals_m``, ``residual_note``, ``datum`` (the datum
        report, or ``None``), ``grid`` (crs, size, resolution), ``units``.
    """
    try:
        import rasterio
        from affine import Affine
        from rasterio.control import GroundControlPoint
        from rasterio.enums import Resampling
        from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
        from rasterio.warp import reproject
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise OptionalDependencyError("georeferencing needs rasterio: pip install 'borderkit[terrain]'") from exc

    from borderkit.datum import gauss_kruger_zone
    from borderkit.geodesy import GEOD, geodesic_distance
    from borderkit.io.atomic import atomic_output, check_output_path
    from borderkit.sheets import sheet as sheet_info

    if method not in METHODS:
        raise ValidationError(f"method {method!r}: use one of {', '.join(METHODS)}")
    if corners is not None and gcps:
        raise ValidationError("give either the frame corners (with --sheet) or --gcp points, not both")
    if corners is not None and sheet is None:
        raise ValidationError("--corners needs --sheet NAME (the corners' ground positions come from the sheet)")
    if corners is None and not gcps:
        raise ValidationError("give --sheet NAME --corners x,y;x,y;x,y;x,y or at least three --gcp x,y,lon,lat")
    check_output_path(output, overwrite=overwrite)
    info = sheet_info(sheet, transformation=transformation) if sheet is not None else None

    if corners is not None:
        if len(corners) != 4:
            raise ValidationError("corners: give the four frame corners NW, NE, SE, SW")
        assert info is not None
        px = np.array([c[0] for c in corners], float)
        py = np.array([c[1] for c in corners], float)
        w, s, e, n = info["bounds_sk42"]
        glon, glat = np.array([w, e, e, w], float), np.array([n, n, s, s], float)
        lon, lat, datum = _ground_to_wgs84(glon, glat, "EPSG:4284", transformation)
    else:
        assert gcps is not None
        arr = np.asarray(gcps, float).reshape(-1, 4)
        px, py = arr[:, 0], arr[:, 1]
        lon, lat, datum = _ground_to_wgs84(arr[:, 2], arr[:, 3], gcp_crs, transformation)
    if not (np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)):
        raise ValidationError("a control point's longitude/latitude is out of range (lon −180…180, lat −90…90); "
                              "give x,y,lon,lat in that order")
    need = {"polynomial1": 3, "polynomial2": 6, "tps": 3}[method]
    if len(px) < need:
        raise ValidationError(f"method {method} needs at least {need} control points, got {len(px)}")

    image = Path(image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            src = rasterio.open(image)
        except RasterioIOError as exc:
            raise FileFormatError(f"{image}: not an image GDAL can read ({str(exc).splitlines()[0]}); "
                                  "give a JPEG, PNG or TIFF scan") from None
    with src:
        width, height = src.width, src.height
        bad = (px < 0) | (px > width) | (py < 0) | (py > height)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"control point {k + 1} at pixel ({px[k]:g}, {py[k]:g}) is outside the "
                                  f"{width} × {height} image {image.name}")

        # local conformal plane on WGS84: the sheet's Gauss–Krüger zone meridian
        zone = gauss_kruger_zone(float(np.mean(lon)))
        lon0 = 6 * zone - 3 if zone <= 30 else 6 * zone - 3 - 360
        plane = pyproj.Transformer.from_crs(
            "EPSG:4326", pyproj.CRS.from_proj4(f"+proj=tmerc +lat_0=0 +lon_0={lon0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 "
                                               "+units=m +no_defs"), always_xy=True)
        ge, gn = (np.asarray(v, float) for v in plane.transform(lon, lat))

        model: _Model | None = None
        if method == "tps":
            residuals = np.zeros(len(px))
            note = ("thin plate spline passes through every control point: residuals are zero by construction "
                    "and do not measure the fit (use polynomial1 to measure it)")
            samples = (px, py, lon, lat)
        else:
            model = _Model(px, py, ge, gn, 1 if method == "polynomial1" else 2)
            fe, fn = model(px, py)
            flon, flat = plane.transform(fe, fn, direction=pyproj.enums.TransformDirection.INVERSE)
            residuals = np.asarray(geodesic_distance(lon, lat, flon, flat), float)
            dof = len(px) - (3 if method == "polynomial1" else 6)
            note = (f"least-squares {method} in a transverse Mercator plane (WGS84, central meridian {lon0}°); "
                    f"{dof} redundant point(s) per coordinate"
                    + ("" if dof > 0 else ": residuals are zero and measure nothing"))
            gx, gy = np.meshgrid(np.linspace(0, width, 9), np.linspace(0, height, 9))
            se, sn = model(gx.ravel(), gy.ravel())
            slon, slat = plane.transform(se, sn, direction=pyproj.enums.TransformDirection.INVERSE)
            samples = (gx.ravel(), gy.ravel(), np.asarray(slon, float), np.asarray(slat, float))
        rms = float(np.sqrt(np.mean(residuals ** 2)))
        mx = float(residuals.max())

        # output extent: the sheet frame (WGS84) or the image mapped by the control points
        if info is not None:
            c = info["corners_wgs84"]
            xs = [c[k][0] for k in ("nw", "ne", "se", "sw")]
            ys = [c[k][1] for k in ("nw", "ne", "se", "sw")]
        else:
            xs, ys = list(samples[2]), list(samples[3])
        west, east, south, north = min(xs), max(xs), min(ys), max(ys)
        # ground size of one scan pixel: from the control points' spread
        dpx = float(np.hypot(np.ptp(px), np.ptp(py)))
        dgr = float(np.hypot(np.ptp(ge), np.ptp(gn)))
        px_m = dgr / dpx if dpx > 0 else float("nan")
        if not math.isfinite(px_m) or px_m <= 0:
            raise ValidationError("control points do not span the image; spread them over the sheet")
        clat = (south + north) / 2.0
        clon = (west + east) / 2.0
        _, _, m_lon = GEOD.inv(clon - 0.005, clat, clon + 0.005, clat)
        _, _, m_lat = GEOD.inv(clon, clat - 0.005, clon, clat + 0.005)
        res_x = px_m / (m_lon / 0.01)
        res_y = px_m / (m_lat / 0.01)
        out_w = max(1, int(math.ceil((east - west) / res_x)))
        out_h = max(1, int(math.ceil((north - south) / res_y)))
        if out_w * out_h > MAX_OUTPUT_PIXELS:
            raise ValidationError(f"the output would be {out_w} × {out_h} pixels: the control points do not match "
                                  "the image (check the corner order NW;NE;SE;SW and x,y,lon,lat)")
        dst_transform = Affine(res_x, 0.0, west, 0.0, -res_y, north)

        gcp_objs = [GroundControlPoint(row=float(r), col=float(cc), x=float(x), y=float(y))
                    for cc, r, x, y in zip(*samples, strict=True)]
        count = src.count
        profile = {
            "driver": "GTiff", "width": out_w, "height": out_h, "count": count + 1, "dtype": src.dtypes[0],
            "crs": "EPSG:4326", "transform": dst_transform, "tiled": True, "blockxsize": 256, "blockysize": 256,
            "compress": "deflate", "BIGTIFF": "IF_SAFER",
        }
        if count >= 3 and src.dtypes[0] == "uint8":
            profile["photometric"] = "RGB"
        opts: dict[str, Any] = {"SRC_METHOD": "GCP_TPS"}
        if info is not None:
            frame = None
            if corners is not None:
                frame = list(zip(px.tolist(), py.tolist(), strict=True))
            elif model is not None and method == "polynomial1":
                cw = info["corners_wgs84"]
                ce, cn = plane.transform([cw[k][0] for k in ("nw", "ne", "se", "sw")],
                                         [cw[k][1] for k in ("nw", "ne", "se", "sw")])
                fx, fy = model.inverse_affine(np.asarray(ce), np.asarray(cn))
                frame = list(zip(fx.tolist(), fy.tolist(), strict=True))
            if frame is not None:
                ring = ", ".join(f"{x!r} {y!r}" for x, y in [*frame, frame[0]])
                opts["CUTLINE"] = f"POLYGON (({ring}))"
        tags = {
            "BORDERKIT_SHEET": "" if info is None else info["name"],
            "BORDERKIT_SCALE": "" if info is None else f"1:{info['scale']}",
            "BORDERKIT_DATUM": _datum_tag(datum),
            "BORDERKIT_TRANSFORMATION": "" if not datum or "transformation" not in datum else
            f"{datum['transformation']['name']} ({datum['transformation']['code']}), stated accuracy "
            f"{datum['transformation']['accuracy_m']} m, shift at the centre {datum['shift_m']} m",
            "BORDERKIT_METHOD": method,
            "BORDERKIT_GCP_COUNT": str(len(px)),
            "BORDERKIT_GCP_RMS_M": f"{rms:.3f}",
            "BORDERKIT_GCP_MAX_RESIDUAL_M": f"{mx:.3f}",
            "BORDERKIT_RESIDUALS": "metres, geodesic on WGS84; " + note,
            "BORDERKIT_GCPS": json.dumps([[float(a), float(b), float(c), float(d)]
                                          for a, b, c, d in zip(px, py, lon, lat, strict=True)]),
        }
        bands = list(range(1, count + 1))
        dtypes = list(src.dtypes)
    # GDAL needs the control points on the source dataset itself: a VRT that points at the scan
    # (block by block, nothing is copied) and carries them.
    with tempfile.TemporaryDirectory(prefix="borderkit-georef-") as tmpdir:
        vrt = Path(tmpdir) / "scan.vrt"
        vrt.write_text(_vrt_xml(image.resolve(), width, height, dtypes, gcp_objs), encoding="utf-8")
        with rasterio.open(vrt) as vsrc, atomic_output(output, overwrite=overwrite) as tmp, \
                rasterio.open(tmp, "w", **profile) as dst:
            reproject(
                source=rasterio.band(vsrc, bands), destination=rasterio.band(dst, bands),
                dst_transform=dst_transform, dst_crs="EPSG:4326",
                resampling=Resampling.bilinear, dst_alpha=count + 1, warp_mem_limit=int(warp_mem_limit_mb),
                num_threads=1, **opts,
            )
            dst.update_tags(**tags)
            dst.set_band_description(count + 1, "alpha (0 outside the sheet frame / scan)")

    return {
        "output": str(output),
        "sheet": None if info is None else info["name"],
        "scale": None if info is None else info["scale"],
        "method": method,
        "gcp_count": int(len(px)),
        "rms_m": rms,
        "max_residual_m": mx,
        "residuals_m": [float(r) for r in residuals],
        "residual_note": note,
        "datum": datum,
        "grid": {"crs": "EPSG:4326", "width": out_w, "height": out_h, "resolution_deg": [res_x, res_y],
                 "pixel_m": px_m},
        "units": "metres (geodesic distance on the WGS84 ellipsoid)",
    }
