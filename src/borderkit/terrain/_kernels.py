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

The kernel reproduces GDAL 3.6's recurrence exactly, with one deliberate
difference selected by ``gdal36_neighbours=False`` (the default in
:mod:`borderkit.terrain.visibility`): the eight cells around the observer are
always visible and keep their own height. GDAL up to 3.9 compared the four
N/S/diagonal neighbours with the observer's *ground* height and raised them
to it, which hides everything below a summit except along the observer's row
(OSGeo/gdal#10205, #8291). ``gdal36_neighbours=True`` replicates that
behaviour, which the tests use to show that the remaining algorithm is the
same as GDAL's, cell for cell.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HAVE_NUMBA", "viewshed_edge", "viewshed_edge_numpy", "los_scan"]

try:  # numba is optional: the terrain extra installs it
    import numba as _numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised when numba is absent
    _numba = None
    HAVE_NUMBA = False


def _jit(fn):
    if HAVE_NUMBA:
        return _numba.njit(cache=True, nogil=True, fastmath=False)(fn)
    return fn


VISIBLE = np.uint8(1)
INVISIBLE = np.uint8(0)
OUTSIDE = np.uint8(255)


def _viewshed_edge_py(z, inrange, oy, ox, zo, target_h, gdal36_neighbours, out):  # pragma: no cover - compiled
    """Edge-mode viewshed recurrence (see module docstring).

    ``z`` (float64, modified in place) holds curvature-corrected heights,
    ``inrange`` marks the cells within the maximum distance, ``zo`` is the
    observer's eye height (ground + observer height), ``out`` receives 1 / 0 / 255.
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
    for d in range(2, ox + 1):  # leftwards
        x = ox - d
        if not inrange[oy, x]:
            break
        za = z[oy, x + 1]
        zz = za if d == 1 else (za - zo) / (d - 1) + za
        if z[oy, x] + target_h < zz:
            out[oy, x] = 0
        else:
            out[oy, x] = 1
        if z[oy, x] < zz:
            z[oy, x] = zz
    for d in range(2, nx - ox):  # rightwards
        x = ox + d
        if not inrange[oy, x]:
            break
        za = z[oy, x - 1]
        zz = za if d == 1 else (za - zo) / (d - 1) + za
        if z[oy, x] + target_h < zz:
            out[oy, x] = 0
        else:
            out[oy, x] = 1
        if z[oy, x] < zz:
            z[oy, x] = zz
    # --- rows above (step -1) then below (step +1) ----------------------------------------
    for step in (-1, 1):
        y = oy + step
        while 0 <= y < ny:
            dy = abs(y - oy)
            yl = y - step  # the row processed just before (closer to the observer)
            # column of the observer
            if inrange[y, ox]:
                if dy == 1:
                    zz = zg if gdal36_neighbours else -np.inf
                else:
                    za = z[yl, ox]
                    zz = (za - zo) / (dy - 1) + za
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
                    if dx == 1 and dy == 1 and not gdal36_neighbours:
                        zz = -np.inf
                    elif dx == dy:
                        za = z[yl, xb]
                        zz = za if dx == 1 else (za - zo) / (dx - 1) + za
                    elif dx > dy:
                        za = z[yl, xb]
                        zb = z[y, xb]
                        zz = ((za - zo) * dy + (zb - zo) * (dx - dy)) / (dx - 1) + zo
                    else:
                        za = z[yl, xb]
                        zb = z[yl, x]
                        zz = ((za - zo) * dx + (zb - zo) * (dy - dx)) / (dy - 1) + zo
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


def viewshed_edge_numpy(z, inrange, oy, ox, zo, target_h, gdal36_neighbours, out):
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
            line = (za - zo) / (big - 1) + za
            edge = ((za - zo) * small + (zb - zo) * (big - small)) / (big - 1) + zo
        zz = np.where(small == 0, line, np.where(d == e, line, edge))
        if k == 1:
            if gdal36_neighbours:
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
