"""Inner loops of the viewshed and line-of-sight computations.

The functions here are plain Python written in the subset numba compiles. When
numba is installed (``pip install borderkit[terrain]``) they are compiled on
first use (and cached on disk); without numba the viewshed falls back to
:func:`viewshed_edge_numpy`, a vectorised formulation of the same recurrence
that gives bit-identical results, only slower.

Viewshed algorithm
------------------
GDAL's ``gdal_viewshed`` default ("edge" cell mode), after Wang, Robinson &
White (2000), *Generating viewsheds without using sightlines*, PE&RS 66(1):
87–90. Cells are visited line by line outwards from the observer's row. The
height of the sight line above a cell is extrapolated from the two already
processed cells between it and the observer (``CalcHeightEdge``: the cell one
step back along the major axis and the diagonal one step back); every cell
keeps ``max(own height, sight-line height)`` so that it acts as the horizon for
the cells behind it. Heights are already corrected for Earth curvature and
refraction (``z - r**2 * (1 - k) / (2 R)``) when they reach the kernel.

Two variants, both exact reproductions of a GDAL release (``legacy`` argument):

* GDAL >= 3.10 (``legacy=False``, the default of
  :func:`borderkit.terrain.visibility.viewshed`). GDAL 3.10 rewrote the
  viewshed (``alg/viewshed/viewshed_executor.cpp``) and changed two things:

  1. the eight cells around the observer are always visible and keep their own
     height (OSGeo/gdal#10205, #8291); up to 3.9 the N/S/diagonal neighbours
     were compared with the observer's *ground* height and raised to it, which
     hides everything below a summit except along the observer's row;
  2. heights are made relative to the eye *before* the recurrence
     (``z - (c·r² + z_eye)``), and the sight line is extrapolated on those
     (``Za·n/(n-1)``, ``(Za·i + Zb·(j-i))/(j-1)``) instead of on absolute
     heights (``(Za - Zo)/(n-1) + Za`` …). The plane is the same; the rounding
     is not, and where the terrain ties the sight line to the last bit (flat or
     stepped integer DEMs, a lake) the two releases answer differently. The
     caller passes eye-relative heights for this variant.

* GDAL <= 3.9 (``legacy=True``, ``viewshed(..., gdal_compat="3.6")``): the old
  neighbour rule and the old arithmetic on absolute heights, cell for cell as
  ``gdal_viewshed`` 3.6.

The tests compare both variants with the GDAL that produced them
(``tests/test_terrain_gdal.py``).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

__all__ = ["HAVE_NUMBA", "viewshed_edge", "viewshed_edge_numpy", "los_scan"]

# numba is optional (the terrain extra installs it); declared so that the ``None`` fallback type-checks.
_numba: ModuleType | None
try:
    import numba as _numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised when numba is absent
    _numba = None
    HAVE_NUMBA = False


def _jit(fn):
    if _numba is not None:
        return _numba.njit(cache=True, nogil=True, fastmath=False)(fn)
    return fn


VISIBLE = np.uint8(1)
INVISIBLE = np.uint8(0)
OUTSIDE = np.uint8(255)


def _sight_height(legacy, z, yl, y, xb, x, dx, dy, zo):  # pragma: no cover - compiled
    """Height of the sight line above cell ``(y, x)`` ("edge" cell mode), from processed cells.

    ``legacy`` selects GDAL <= 3.9's arithmetic on absolute heights (``zo`` the
    eye); otherwise GDAL >= 3.10's on heights already relative to the eye
    (``zo`` unused). Both are the same plane in exact arithmetic, but round
    differently, which decides ties (see the module docstring).
    """
    if dx == dy:
        za = z[yl, xb]
        if legacy:
            return (za - zo) / (dx - 1) + za
        return za * dx / (dx - 1)
    if dx > dy:
        za = z[yl, xb]  # one step back on the diagonal
        zb = z[y, xb]  # one step back along the row
        if legacy:
            return ((za - zo) * dy + (zb - zo) * (dx - dy)) / (dx - 1) + zo
        return (za * dy + zb * (dx - dy)) / (dx - 1)
    za = z[yl, xb]
    zb = z[yl, x]  # one step back along the column
    if legacy:
        return ((za - zo) * dx + (zb - zo) * (dy - dx)) / (dy - 1) + zo
    return (za * dx + zb * (dy - dx)) / (dy - 1)


_sight_height_c = _jit(_sight_height)


def _line_height(legacy, za, d, zo):  # pragma: no cover - compiled
    """Sight-line height ``d`` cells out along a row or column, from the cell ``d - 1`` out."""
    if legacy:
        return (za - zo) / (d - 1) + za
    return za * d / (d - 1)


_line_height_c = _jit(_line_height)


def _viewshed_edge_py(z, inrange, oy, ox, zo, target_h, legacy, out):  # pragma: no cover - compiled
    """Edge-mode viewshed recurrence (see module docstring).

    ``z`` (float64, modified in place) holds curvature-corrected heights:
    absolute with ``legacy`` (GDAL <= 3.9), relative to the eye otherwise
    (GDAL >= 3.10). ``inrange`` marks the cells within the maximum distance,
    ``zo`` is the eye height (ground + observer height; only used with
    ``legacy``), ``out`` receives 1 / 0 / 255.
    """
    ny, nx = z.shape
    for y in range(ny):
        for x in range(nx):
            out[y, x] = 255
    # --- observer row ---------------------------------------------------------------
    out[oy, ox] = 1
    zg = z[oy, ox]  # observer ground (r = 0, no curvature correction)
    for x in (ox - 1, ox + 1):
        if 0 <= x < nx and inrange[oy, x]:
            out[oy, x] = 1
    for side in (-1, 1):
        d = 2
        x = ox + 2 * side
        while 0 <= x < nx:
            if not inrange[oy, x]:
                break
            zz = _line_height_c(legacy, z[oy, x - side], d, zo)
            if z[oy, x] + target_h < zz:
                out[oy, x] = 0
            else:
                out[oy, x] = 1
            if z[oy, x] < zz:
                z[oy, x] = zz
            d += 1
            x += side
    # --- rows above (step -1) then below (step +1) ----------------------------------------
    for step in (-1, 1):
        y = oy + step
        while 0 <= y < ny:
            dy = abs(y - oy)
            yl = y - step  # the row processed just before (closer to the observer)
            # column of the observer
            if inrange[y, ox]:
                if dy == 1:
                    zz = zg if legacy else -np.inf
                else:
                    zz = _line_height_c(legacy, z[yl, ox], dy, zo)
                if z[y, ox] + target_h < zz:
                    out[y, ox] = 0
                else:
                    out[y, ox] = 1
                if z[y, ox] < zz:
                    z[y, ox] = zz
            for side in (-1, 1):
                dx = 1
                x = ox + side
                while 0 <= x < nx:
                    if not inrange[y, x]:
                        break
                    xb = x - side  # one step back towards the observer's column
                    if dx == 1 and dy == 1:
                        # GDAL <= 3.9 compares the diagonal neighbours with the observer's
                        # ground (OSGeo/gdal#10205); GDAL >= 3.10 keeps them visible.
                        zz = zg if legacy else -np.inf
                    else:
                        zz = _sight_height_c(legacy, z, yl, y, xb, x, dx, dy, zo)
                    if z[y, x] + target_h < zz:
                        out[y, x] = 0
                    else:
                        out[y, x] = 1
                    if z[y, x] < zz:
                        z[y, x] = zz
                    dx += 1
                    x += side
            y += step


viewshed_edge = _jit(_viewshed_edge_py)


def viewshed_edge_numpy(z, inrange, oy, ox, zo, target_h, legacy, out):
    """Same recurrence as :func:`viewshed_edge`, vectorised with numpy (no numba needed).

    Every cell at Chebyshev distance ``k`` from the observer depends only on
    cells at distance ``k - 1`` (the cell one step back along the major axis and
    the diagonal one step back), so the square rings around the observer are
    swept one at a time with array operations. ``inrange`` must already be
    contiguous from the observer along each row (see
    :func:`borderkit.terrain.visibility.viewshed`), as the compiled kernel stops
    a row at its first out-of-range cell. The arithmetic is written exactly as
    in the compiled kernel, so both give identical results.
    """
    ny, nx = z.shape
    out[:] = 255
    out[oy, ox] = 1
    zg = z[oy, ox]
    zf = z.reshape(-1)
    kmax = max(oy, ny - 1 - oy, ox, nx - 1 - ox)
    for k in range(1, kmax + 1):
        span = np.arange(-k, k + 1)
        inner = np.arange(-k + 1, k)
        ys = np.concatenate([np.full(span.size, oy - k), np.full(span.size, oy + k), oy + inner, oy + inner])
        xs = np.concatenate([ox + span, ox + span, np.full(inner.size, ox - k), np.full(inner.size, ox + k)])
        keep = (ys >= 0) & (ys < ny) & (xs >= 0) & (xs < nx)
        ys, xs = ys[keep], xs[keep]
        keep = inrange[ys, xs]
        ys, xs = ys[keep], xs[keep]
        if ys.size == 0:
            continue
        sy = np.sign(ys - oy)
        sx = np.sign(xs - ox)
        d = np.abs(xs - ox)
        e = np.abs(ys - oy)
        big = np.maximum(d, e)
        small = np.minimum(d, e)
        za = zf[(ys - sy) * nx + (xs - sx)]
        zb = np.where(d > e, zf[ys * nx + (xs - sx)], zf[(ys - sy) * nx + xs])
        with np.errstate(divide="ignore", invalid="ignore"):
            if legacy:
                line = (za - zo) / (big - 1) + za
                edge = ((za - zo) * small + (zb - zo) * (big - small)) / (big - 1) + zo
            else:
                line = za * big / (big - 1)
                edge = (za * small + zb * (big - small)) / (big - 1)
        zz = np.where(small == 0, line, np.where(d == e, line, edge))
        if k == 1:
            if legacy:
                # GDAL <= 3.9: the E/W neighbours are visible, the other six are
                # compared with the observer's ground height (OSGeo/gdal#10205).
                zz = np.where(e == 0, -np.inf, zg)
            else:
                zz = np.full(zz.shape, -np.inf)
        cur = zf[ys * nx + xs]
        out[ys, xs] = np.where(cur + target_h < zz, 0, 1).astype(np.uint8)
        zf[ys * nx + xs] = np.where(cur < zz, zz, cur)


def _sample_one(data, r, c, bilinear):  # pragma: no cover - compiled
    """Height at fractional cell-centre coordinates, as ``borderkit.terrain.dem._sample_grid``."""
    rows, cols = data.shape
    if not (r >= -0.5 and r <= rows - 0.5 and c >= -0.5 and c <= cols - 0.5):
        return np.nan
    if not bilinear or rows == 1 or cols == 1:
        ri = min(max(int(np.floor(r + 0.5)), 0), rows - 1)
        ci = min(max(int(np.floor(c + 0.5)), 0), cols - 1)
        return np.float64(data[ri, ci])
    r0 = min(max(int(np.floor(r)), 0), rows - 2)
    c0 = min(max(int(np.floor(c)), 0), cols - 2)
    fr = min(max(r - r0, 0.0), 1.0)
    fc = min(max(c - c0, 0.0), 1.0)
    z00 = np.float64(data[r0, c0])
    z01 = np.float64(data[r0, c0 + 1])
    z10 = np.float64(data[r0 + 1, c0])
    z11 = np.float64(data[r0 + 1, c0 + 1])
    top = z00 + (z01 - z00) * fc
    bot = z10 + (z11 - z10) * fc
    return top + (bot - top) * fr


_sample_one_c = _jit(_sample_one)


def _los_scan_py(data, row_n, col_n, nseg, dist, tz, eye, cf, bilinear,
                 first_k, first_c, min_k, min_c, nodata):  # pragma: no cover - compiled
    """Clearance of every sample of every line (see ``visibility._los_chunk``).

    For target ``i`` the samples are ``k = 1 … nseg[i] - 1`` at fraction
    ``t = k / nseg[i]``; their grid position is interpolated between the
    ``row_n``/``col_n`` nodes. Writes the first obstructing sample (``-1`` if
    none) and its clearance, the tightest sample and its clearance, and the
    number of samples without data.
    """
    m, nn1 = row_n.shape
    nn = nn1 - 1
    for i in range(m):
        first_k[i] = -1
        first_c[i] = np.nan
        min_k[i] = -1
        min_c[i] = np.inf
        nodata[i] = 0
        n = nseg[i]
        for k in range(1, n):
            t = k / n
            u = t * nn
            j = min(int(np.floor(u)), nn - 1)
            f = u - j
            r = row_n[i, j] + f * (row_n[i, j + 1] - row_n[i, j])
            c = col_n[i, j] + f * (col_n[i, j + 1] - col_n[i, j])
            z = _sample_one_c(data, r, c, bilinear)
            s = t * dist[i]
            clear = (eye + (tz[i] - eye) * t) - (z - cf * s * s)
            if not np.isfinite(clear):
                nodata[i] += 1
                continue
            if clear < min_c[i]:
                min_c[i] = clear
                min_k[i] = k
            if clear < 0 and first_k[i] < 0:
                first_k[i] = k
                first_c[i] = clear
        if min_k[i] < 0:
            min_c[i] = np.nan


los_scan = _jit(_los_scan_py)
