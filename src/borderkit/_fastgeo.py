"""Compiled kernels for side-of-line, distance-to-line and point-in-territory (internal).

Used by :mod:`borderkit.locate` (``method="fast"``). Everything here works in
**earth-centred 3-D coordinates** (ECEF, metres, WGS84), where a chord is a
straight segment and every bound below is a plain inequality between lengths.
No distance is ever computed in degrees. The kernels are plain Python in the
subset numba compiles; without numba they still run (slowly) and
:func:`borderkit.locate.locate` uses the exact engine instead.

Line model
----------
A segment between two vertices A, B is the curve obtained by lifting its 3-D
chord radially onto the ellipsoid (the *great-ellipse* arc through A and B).
It departs from the WGS84 geodesic between A and B (the model of
:mod:`borderkit.geodesy`) by about 1.6 mm for a 5 km segment, growing as the
square of the length, so :mod:`borderkit.locate` cuts segments into geodesic
pieces of at most 1 km (≤ 0.1 mm; measured in ``docs/check.md``).

Nearest point on a set of segments
----------------------------------
For a point P and a segment S with chord AB, curve C and ``h_S`` a bound on the
distance between C and its chord (``1.01 L**2 / (8 R_min)``: a curve of length
L whose curvature is at most 1/R_min lies within the sagitta of its chord):

* every point X of C has ``|P - X| >= dist(P, AB) - h_S`` (3-D, exact);
* the geodesic distance s and the chord c of a surface arc satisfy
  ``c <= s - s**3 / (24 R_max**2)`` (R_max = largest radius of curvature; used
  with a factor 0.98): so a segment whose chord bound exceeds
  ``g(best) = best - 0.98 best**3 / (24 R_max**2)`` cannot beat ``best``.

Candidates are found through a uniform grid in the orthographic projection onto
the tangent plane at the centre of the data (a linear map of ECEF, hence
1-Lipschitz: planar distances never exceed chords). Segments are grouped in
*chunks* of up to 6 consecutive segments bounded by a capsule (the chunk's
end-to-end chord and the largest distance ``w`` of its vertices from it). For a
capsule at planar distance ``l > 0`` from a cell centre c, with unit normal n from
the capsule towards c, the capsule lies behind its supporting line, so
``dist(p, capsule) >= l + (p - c).n`` for every point p (a proven linear bound, tight
far from the line). Each cell stores a seed segment (planar-nearest to its centre),
the chunks that can matter in the cell sorted by ``l``, each with n and the run of its
segments that can matter, and two lower bounds of everything left out (chunks and
segments outside the runs): ``T0 + (p - c).m`` (``T0 = min (l_k - cs/2 |n_k - m|_1)``)
and ``Tiso - |p - c|``. A query ranks candidates by their 3-D distance to the chord
(no lift, no square root) and bounds the leader's distance from above without evaluating
it: the formula below gives at most ``psi(chord + h)`` (curvature <= 1/R_min, with slack),
so ``best`` in ``g(best)`` is that bound until the end. It ranks the seed, scans the list
until ``l - |p - c|`` exceeds ``g(best)``, skips entries whose linear bound exceeds it,
keeps every segment whose chord bound is within it, then evaluates the distance formula
for the chord leader and, with ``best`` now its exact value, for every kept segment whose
bound is still within ``g(best)`` (near-ties, mostly the two segments of a vertex); last it
checks that the bounds of what was left out exceed ``g(best)`` too; if not (or the point
is outside the grid) it scans every chunk. The winner is therefore the argmin of
(distance, segment index) over all segments -- the same answer, bit for bit, as
evaluating every segment -- whatever the grid and whichever entries the build chose to
list (cells are built by blocks of 4 x 4 from the block's own candidates, to build the
index quickly). Ranking by chord first measured ~10 % faster than evaluating the seed and
every candidate that passed the chord test (random points over the case region: 1 + 1.3
evaluations per point before, 1 + at most 0.75 near-ties after, most of them vertex ties
settled without an evaluation).

Large queries visit their points in spatial order (:func:`spatial_order`, a counting sort of
each chunk by lon/lat buckets) and write every answer back to its input position; each point is
answered on its own, so the order changes the speed only, never a bit of the answer. A block of
points goes through the query in passes: the arithmetic that is the same for every point (the
conversion to 3-D, the seed's chord, the exact evaluation of the chord leader, the nearest
lon/lat and the side) is written without branches, over gathered block arrays, so that LLVM
compiles it to AVX2 vector instructions; the candidate scan and the near-ties stay point by
point. The conversion to 3-D uses its own sine and cosine (fdlibm's kernel polynomials after a
reduction by pi/2, within 2 ulp of the C library's; a call to the C library, one value at a time,
kept the loop scalar): 3-D coordinates within 2e-9 m of PROJ's.

On each candidate the nearest point is the foot of P on the chord, lifted to
the ellipsoid (callers cut segments longer than 1 km into geodesic pieces: the
great-ellipse arc departs from the geodesic by ~1.6 mm at 5 km, 13 cm at 45 km);
the distance is the chord |P - X| turned into a geodesic length
with the curvature of the normal section at the midpoint in the chord's
direction (Euler's formula): ``s = c + c**3 k**2 / 24 + 3 c**5 k**4 / 640``.
Measured against ``pyproj.Geod.inv`` (GeographicLib): 4 nm at 50 km, 3.6 µm at
200 km, 0.4 mm at 500 km, 6 mm at 800 km; callers recompute distances beyond
:data:`FAR_M` with ``Geod.inv``.

Point in territory
------------------
A uniform longitude/latitude grid over the polygons. For every cell the
membership of its centre in each polygon is known (bit mask, one bit per
polygon); edges are binned into every cell they touch. A point takes its cell's
mask and flips the bit of every edge that crosses the segment from the point to
the cell centre, decided by the signs of orientation determinants with a
half-open rule -- the same predicate that propagated the centre masks along each
grid row from a column outside every polygon, so the parities are consistent.
Polygon edges are straight in longitude/latitude, as in the source files and in
GEOS: the answers equal shapely's ``contains_xy`` (tested on 200 000 points per
source; points exactly on an edge may differ). This is a topological convention,
not a distance: it matters only for long edges such as the case's lon/lat clip box,
whose geodesic would bulge up to 2 km north of the parallel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from borderkit._projection import WGS84_A, WGS84_E2, WGS84_F, LocalProjection

__all__ = [
    "HAVE_NUMBA",
    "LineIndex",
    "PolygonIndex",
    "ecef",
    "fast_distance",
    "FAR_M",
    "PRESORT_MIN_POINTS",
    "spatial_order",
    "index_arrays",
    "index_from_arrays",
]

try:  # numba is optional (borderkit[terrain] and the test extra install it)
    import numba as _numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised when numba is absent
    _numba = None  # type: ignore[assignment]
    HAVE_NUMBA = False


def _jit(fn, **kw):
    if HAVE_NUMBA:
        # error_model="numpy": no division-by-zero checks (the kernels rely on IEEE inf/nan)
        return _numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False, **kw)(fn)
    return fn  # pragma: no cover


def _jit_inline(fn):
    # inlined by numba itself: LLVM does not inline a function this large into a loop, and a call
    # keeps the loop from being vectorised
    return _jit(fn, inline="always")


# WGS84 (defined once, in borderkit._projection)
A_M = WGS84_A
F = WGS84_F
E2 = WGS84_E2
B_M = A_M * (1.0 - F)
R_MIN = A_M * (1.0 - E2)  # smallest radius of curvature (meridional, equator)
R_MAX = A_M / math.sqrt(1.0 - E2)  # largest radius of curvature (at the poles)
_INV_A2 = 1.0 / (A_M * A_M)
_INV_B2 = 1.0 / (B_M * B_M)
_G_COEF = 0.98 / (24.0 * R_MAX * R_MAX)  # chord <= s - s**3/(24 R_max**2); 2 % safety
_TOL_M = 1e-3  # evaluations closer than this to the best are treated as ties (formula error << 1 mm)
FAR_M = 400_000.0
"""Beyond this distance (m) callers recompute the distance with ``pyproj.Geod.inv``."""
CHUNK = 6
ON_LINE_M = 1e-6


# =================================================================================================
# scalar helpers (compiled inline)
# =================================================================================================
# sine and cosine on [-pi/4, pi/4]: the minimax polynomials of fdlibm's __kernel_sin/__kernel_cos
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_PIO2_1 = 1.57079632673412561417e00  # first 33 bits of pi/2 (k * _PIO2_1 is exact for |k| < 2**20)
_PIO2_1T = 6.07710050650619224932e-11  # pi/2 - _PIO2_1
_TWO_OVER_PI = 0.63661977236758134308


@_jit
def _sincos(x):
    """sin(x), cos(x) for |x| <= 4 (radians; longitudes and latitudes), within about 1 ulp of the
    C library's. No branch and no call (the C library's are calls, one point at a time), so that
    a loop over a block of points compiles to vector instructions."""
    k = np.floor(x * _TWO_OVER_PI + 0.5)
    r = (x - k * _PIO2_1) - k * _PIO2_1T  # |r| <= pi/4
    z = r * r
    sr = r + r * z * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    cr = 1.0 - 0.5 * z + z * z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    q = k - 4.0 * np.floor(0.25 * k)  # quadrant 0..3 (np.floor: a float; math.floor gives an int)
    swap = (q == 1.0) | (q == 3.0)
    sn = cr if swap else sr
    cn = sr if swap else cr
    sn = -sn if q >= 2.0 else sn
    cn = -cn if (q == 1.0) | (q == 2.0) else cn
    return sn, cn


@_jit_inline
def _ecef1(lon_deg, lat_deg):
    s, c = _sincos(math.radians(lat_deg))
    sl, cl = _sincos(math.radians(lon_deg))
    n = A_M / math.sqrt(1.0 - E2 * s * s)
    return n * c * cl, n * c * sl, n * (1.0 - E2) * s


@_jit
def _geodetic1(x, y, z):
    """Longitude, latitude (degrees) of a point on the ellipsoid surface."""
    p = math.sqrt(x * x + y * y)
    return math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, (1.0 - E2) * p))


@_jit
def _surface_dist(px, py, pz, xx, xy, xz):
    """Geodesic length (m) between two points on the ellipsoid, from their chord
    (:func:`_surface_dist_sel`, called, not inlined, by the scalar paths)."""
    return _surface_dist_sel(px, py, pz, xx, xy, xz)


@_jit_inline
def _surface_dist_sel(px, py, pz, xx, xy, xz):
    """Geodesic length (m) between two points on the ellipsoid, from their chord.

    ``s = c + c^3 k^2/24 + 3 c^5 k^4/640`` with k the normal curvature of the
    ellipsoid at the chord's midpoint M (lifted to the surface) in the chord's
    direction d: for ``F(X) = X'QX - 1``, ``Q = diag(1/a^2, 1/a^2, 1/b^2)``,
    ``k = d'Qd / (|d|^2 |Q M_s|)`` with ``|Q M_s| = |QM| / sqrt(M'QM)``, so that
    ``k^2 c^2 = (d'Qd)^2 (M'QM) / (c^2 |QM|^2)`` needs no square root.
    """
    dx = xx - px
    dy = xy - py
    dz = xz - pz
    c2 = dx * dx + dy * dy + dz * dz
    mx = 0.5 * (px + xx)
    my = 0.5 * (py + xy)
    mz = 0.5 * (pz + xz)
    dqd = (dx * dx + dy * dy) * _INV_A2 + dz * dz * _INV_B2
    mqm = (mx * mx + my * my) * _INV_A2 + mz * mz * _INV_B2
    qm2 = (mx * mx + my * my) * (_INV_A2 * _INV_A2) + mz * mz * (_INV_B2 * _INV_B2)
    k2c2 = dqd * dqd * mqm / (c2 * qm2)
    c = math.sqrt(c2)
    # below 1 m the chord is the distance; a select, not a branch, so that a loop calling this
    # (inlined) over a block of points compiles to vector instructions (0/0 there is discarded)
    sd = c * (1.0 + k2c2 / 24.0 + 3.0 * k2c2 * k2c2 / 640.0)
    return c if c2 < 1.0 else sd


@_jit
def _atan_small(u):
    """atan(u) for |u| <= 1e-3 (the next term, u**9/9, is below 1e-28)."""
    u2 = u * u
    return u * (1.0 - u2 * (1.0 / 3.0 - u2 * (0.2 - u2 * (1.0 / 7.0))))


@_jit
def _geodetic_near_sel(x, y, z, ax, ay, az, alon, alat):
    """Longitude, latitude (degrees) of a surface point X near a surface point A of known
    longitude/latitude (within ~6 km), and whether the short series applies: the angles between
    the two meridian-plane directions and between the two normals' elevation directions are small,
    so ``atan`` is a short series (same values as :func:`_geodetic1` to ~1e-15 degrees). No branch
    (selects only), so that a loop over a block of points compiles to vector instructions."""
    dot = ax * x + ay * y
    crs = ax * y - ay * x
    p = math.sqrt(x * x + y * y)
    pa = math.sqrt(ax * ax + ay * ay)
    k = 1.0 - E2
    c2 = k * (pa * z - az * p)
    d2 = k * k * pa * p + az * z
    ok = (dot > 0.0) & (abs(crs) <= 1e-3 * dot) & (abs(alat) <= 80.0) & (d2 > 0.0) & (abs(c2) <= 1e-3 * d2)
    lon = alon + math.degrees(_atan_small(crs / dot))
    lon = lon - 360.0 if lon > 180.0 else lon  # two selects: nested ones did not vectorise
    lon = lon + 360.0 if lon <= -180.0 else lon
    return lon, alat + math.degrees(_atan_small(c2 / d2)), ok


@_jit
def _g(best):
    """Largest chord a surface arc shorter than ``best + tol`` can have."""
    s = best + _TOL_M
    return s - _G_COEF * s * s * s


_INV_RMIN2 = 1.0 / (R_MIN * R_MIN)


@_jit
def _psi(c):
    """Largest value :func:`_surface_dist` can give for a chord of length ``c``.

    Its series ``c (1 + c^2 k^2/24 + 3 c^4 k^4/640)`` grows with the normal curvature k, which
    is at most ``1/R_MIN`` on the surface; the 10 % slack on both terms covers the midpoint's
    depth below the surface (k is taken there) for chords up to ~1,000 km. A chord-ranked
    winner's distance is therefore at most ``_psi(chord + h)`` before it is evaluated.
    """
    x = c * c * _INV_RMIN2
    return c * (1.0 + x * (1.1 / 24.0) + x * x * (1.1 * 3.0 / 640.0))


@_jit
def _lift(x, y, z):
    """Radial (geocentric) projection of a 3-D point onto the ellipsoid."""
    f = 1.0 / math.sqrt((x * x + y * y) * _INV_A2 + z * z * _INV_B2)
    return x * f, y * f, z * f


# =================================================================================================
# public scalar-array helpers
# =================================================================================================
@_jit
def _ecef_arrays(lon, lat, out):
    for i in range(lon.shape[0]):
        x, y, z = _ecef1(lon[i], lat[i])
        out[i, 0] = x
        out[i, 1] = y
        out[i, 2] = z


def ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """ECEF coordinates (m, shape (n, 3)) of points on the WGS84 ellipsoid (degrees in)."""
    lon = np.ascontiguousarray(lon, dtype=np.float64).ravel()
    lat = np.ascontiguousarray(lat, dtype=np.float64).ravel()
    out = np.empty((lon.size, 3))
    _ecef_arrays(lon, lat, out)
    return out


@_jit
def _fast_distance_arrays(lon1, lat1, lon2, lat2, out):
    for i in range(lon1.shape[0]):
        px, py, pz = _ecef1(lon1[i], lat1[i])
        qx, qy, qz = _ecef1(lon2[i], lat2[i])
        out[i] = _surface_dist(px, py, pz, qx, qy, qz)


def fast_distance(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance (m) by the chord formula of this module (validation helper).

    Accurate to micrometres up to 200 km, millimetres up to 800 km (see the module
    docstring); not meant for antipodal or intercontinental distances.
    """
    arrs = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (lon1, lat1, lon2, lat2)))
    flat = [np.ascontiguousarray(a.ravel()) for a in arrs]
    out = np.empty(flat[0].size)
    _fast_distance_arrays(*flat, out)
    return out.reshape(arrs[0].shape)


# =================================================================================================
# spatial order of query points (speed only: every point is answered independently)
# =================================================================================================
PRESORT_MIN_POINTS = 50_000
"""Queries with at least this many points visit them in spatial order (``presort=None``)."""
PRESORT_CHUNK = 65_536
"""Points sorted together: the sorted path works chunk by chunk (measured on 1M random points over
the case region: 10 % faster than unsorted with chunks of 64k, less with 16k or 256k, nothing when
10M points were sorted at once, where the gather/scatter's random accesses leave the cache)."""


@_jit
def _finite_box(lon, lat, box):
    """Longitude/latitude box of the finite points (False when there is none); no temporary arrays."""
    x0 = np.inf
    y0 = np.inf
    x1 = -np.inf
    y1 = -np.inf
    for i in range(lon.shape[0]):
        x = lon[i]
        y = lat[i]
        if math.isfinite(x) and math.isfinite(y):
            x0 = min(x0, x)
            x1 = max(x1, x)
            y0 = min(y0, y)
            y1 = max(y1, y)
    box[0] = x0
    box[1] = y0
    box[2] = x1
    box[3] = y1
    return x0 <= x1


@_jit
def _bucket_order(lon, lat, lon0, lat0, inv_w, inv_h, nbx, nby, order):
    """Counting sort of the points by a lon/lat bucket grid, O(n): ``order`` lists the indices of
    the points bucket by bucket (row-major; points outside the grid or NaN last, input order kept
    within a bucket). Neighbouring points then share cells, candidate lists and branch outcomes,
    and the index's tables stay in cache."""
    n = lon.shape[0]
    nb = nbx * nby
    start = np.zeros(nb + 2, dtype=np.int64)
    for i in range(n):
        gx = (lon[i] - lon0) * inv_w
        gy = (lat[i] - lat0) * inv_h
        b = nb
        if 0.0 <= gx < nbx and 0.0 <= gy < nby:
            b = int(gy) * nbx + int(gx)
        start[b + 2] += 1
    for b in range(2, nb + 2):
        start[b] += start[b - 1]
    for i in range(n):
        gx = (lon[i] - lon0) * inv_w
        gy = (lat[i] - lat0) * inv_h
        b = nb
        if 0.0 <= gx < nbx and 0.0 <= gy < nby:
            b = int(gy) * nbx + int(gx)
        order[start[b + 1]] = i
        start[b + 1] += 1


def spatial_order(lon: np.ndarray, lat: np.ndarray, *, bucket_deg: float, max_buckets: int = 16_384) -> np.ndarray:
    """Indices of the points (degrees) grouped by lon/lat buckets of about ``bucket_deg`` (int64, O(n)).

    The buckets cover the points' own longitude/latitude box; they are widened when more than
    ``max_buckets`` (or more than one per 8 points) would be needed.
    """
    n = lon.size
    order = np.empty(n, dtype=np.int64)
    if n == 0:
        return order
    box = np.empty(4)
    if not _finite_box(lon, lat, box):
        order[:] = np.arange(n)
        return order
    lo_min, la_min, lo_max, la_max = (float(v) for v in box)
    w = max(float(bucket_deg), 1e-9)
    span_x = max(lo_max - lo_min, 0.0)
    span_y = max(la_max - la_min, 0.0)
    cap = max(1, min(int(max_buckets), n // 8))
    while (math.floor(span_x / w) + 1) * (math.floor(span_y / w) + 1) > cap:
        w *= 1.5
    nbx = int(math.floor(span_x / w)) + 1
    nby = int(math.floor(span_y / w)) + 1
    _bucket_order(lon, lat, lo_min, la_min, 1.0 / w, 1.0 / w, nbx, nby, order)
    return order



# =================================================================================================
# nearest point on segments
# =================================================================================================
@_jit
def _pt_seg2v(px, py, ax, ay, bx, by):
    """Planar distance from (px, py) to the segment (a, b), and the vector from its nearest point to p."""
    dx = bx - ax
    dy = by - ay
    l2 = dx * dx + dy * dy
    t = 0.0
    if l2 > 0.0:
        t = ((px - ax) * dx + (py - ay) * dy) / l2
        if t < 0.0:
            t = 0.0
        elif t > 1.0:
            t = 1.0
    ex = px - (ax + t * dx)
    ey = py - (ay + t * dy)
    return math.sqrt(ex * ex + ey * ey), ex, ey


@_jit
def _pt_seg2(px, py, ax, ay, bx, by):
    """Planar distance from (px, py) to the segment (a, b)."""
    return _pt_seg2v(px, py, ax, ay, bx, by)[0]


@_jit
def _build_cells(
    nx, ny, x0, y0, cs, cpx, cpy, cw, chmax, ch_first, ch_last, sax, say, sbx, sby, h,
    out_hdr, out_start, est_mult, lin_slack, block,
):
    """Per cell: candidate chunks with a linear lower bound over the cell (sorted by its value at
    the centre), lower bounds over the cell of every chunk left out, and a seed segment
    (planar-nearest to the cell centre).

    For a chunk whose planar capsule is at distance ``l > 0`` from the cell centre c, with unit
    normal n pointing from the capsule's nearest point to c, the capsule lies in the half-plane
    behind the supporting line at that point, so ``dist(p, capsule) >= l + (p - c).n`` for every p
    (a proven bound, not an approximation); when c is inside the capsule, n = 0 and l <= 0.
    The chunks left out are bounded together by ``T0 + (p - c).m`` with
    ``T0 = min_k (l_k - cs/2 |n_k - m|_1)`` (the minimum of ``(p - c).(n_k - m)`` over the cell)
    and by ``Tiso - |p - c|`` with ``Tiso = min_k l_k``.
    Cells are built by blocks of ``block x block``: a block keeps the chunks that can matter
    anywhere in it (isotropic test, a superset of its cells' lists); chunks it drops are bounded
    in its cells through the block's own ``Tiso`` minus the distance between the centres.
    Which chunks are listed only changes the speed: the query proves its answer with these bounds
    (or scans every chunk)."""
    nch = cw.shape[0]
    half = 0.5 * cs
    r_c = half * math.sqrt(2.0)
    bhalf = 0.5 * cs * block
    r_b = bhalf * math.sqrt(2.0)
    blbs = np.empty(nch)
    bsel = np.empty(nch, dtype=np.int64)
    lbs = np.empty(nch)
    nxs = np.empty(nch)
    nys = np.empty(nch)
    keep = np.empty(nch, dtype=np.bool_)
    run_lo = np.empty(nch, dtype=np.int64)
    run_hi = np.empty(nch, dtype=np.int64)
    maxlen = 1
    for k in range(nch):
        maxlen = max(maxlen, ch_last[k] - ch_first[k] + 1)
    slb = np.empty(maxlen)
    snx = np.empty(maxlen)
    sny = np.empty(maxlen)
    lists = []
    pos_of = np.empty(nx * ny, dtype=np.int64)
    seed = 0
    total = 0
    for bj in range(0, ny, block):
        for bi in range(0, nx, block):
            # ---- block: isotropic candidate list over the whole block
            bcx = x0 + bi * cs + bhalf
            bcy = y0 + bj * cs + bhalf
            for k in range(nch):
                blbs[k] = _pt_seg2(bcx, bcy, cpx[k, 0], cpy[k, 0], cpx[k, 1], cpy[k, 1]) - cw[k] - chmax[k] - 1e-3
            bbest = _pt_seg2(bcx, bcy, sax[seed], say[seed], sbx[seed], sby[seed]) + h[seed]
            for k in range(nch):
                if blbs[k] > bbest:
                    continue
                for s in range(ch_first[k], ch_last[k] + 1):
                    d = _pt_seg2(bcx, bcy, sax[s], say[s], sbx[s], sby[s]) + h[s]
                    if d < bbest:
                        bbest = d
                        seed = s
            best_est = est_mult * (bbest + r_b) + 1.0
            nb = 0
            Tb = np.inf
            for k in range(nch):
                if blbs[k] - r_b <= best_est:
                    bsel[nb] = k
                    nb += 1
                elif blbs[k] < Tb:
                    Tb = blbs[k]
            # ---- the block's cells
            for j in range(bj, min(bj + block, ny)):
                for i in range(bi, min(bi + block, nx)):
                    cx = x0 + (i + 0.5) * cs
                    cy = y0 + (j + 0.5) * cs
                    for q in range(nb):
                        k = bsel[q]
                        d, ex, ey = _pt_seg2v(cx, cy, cpx[k, 0], cpy[k, 0], cpx[k, 1], cpy[k, 1])
                        gap = d - cw[k] - chmax[k]
                        lbs[q] = gap - 1e-3  # safety for rounding
                        if gap > 0.0 and d > 0.0:
                            nxs[q] = ex / d
                            nys[q] = ey / d
                        else:
                            nxs[q] = 0.0
                            nys[q] = 0.0
                    # planar nearest segment to the centre: branch and bound from the last seed
                    best = _pt_seg2(cx, cy, sax[seed], say[seed], sbx[seed], sby[seed]) + h[seed]
                    for q in range(nb):
                        if lbs[q] > best:
                            continue
                        k = bsel[q]
                        for s in range(ch_first[k], ch_last[k] + 1):
                            d = _pt_seg2(cx, cy, sax[s], say[s], sbx[s], sby[s]) + h[s]
                            if d < best:
                                best = d
                                seed = s
                    # direction u of the nearest distance at the centre (from the seed's nearest point)
                    ds, ux, uy = _pt_seg2v(cx, cy, sax[seed], say[seed], sbx[seed], sby[seed])
                    if ds > 0.0:
                        ux /= ds
                        uy /= ds
                    else:
                        ux = 0.0
                        uy = 0.0
                    est = est_mult * (best + r_c) + 1.0
                    far = best > 4.0 * r_c and ds > 0.0
                    est_lin = 0.0
                    if far:
                        # estimate of the largest nearest distance over the cell, linear in p - c
                        est_lin = est_mult * (best + r_c * r_c / (2.0 * ds)) + 1.0 + lin_slack * r_c
                    n_in = 0
                    T0 = np.inf
                    Tiso = np.inf
                    for q in range(nb):
                        kq = lbs[q] - r_c <= est
                        if kq and far:
                            pen = half * (abs(nxs[q] - est_mult * ux) + abs(nys[q] - est_mult * uy))
                            kq = lbs[q] - pen <= est_lin
                        keep[q] = kq
                        if kq:
                            n_in += 1
                        else:
                            # left out: linear bound with slope m = u, and isotropic bound
                            v = lbs[q] - half * (abs(nxs[q] - ux) + abs(nys[q] - uy))
                            if v < T0:
                                T0 = v
                            if lbs[q] < Tiso:
                                Tiso = lbs[q]
                    # chunks the block left out: lb >= Tb - |centre shift|
                    if Tb < np.inf:
                        shift = math.sqrt((cx - bcx) ** 2 + (cy - bcy) ** 2)
                        tb_c = Tb - shift - 1e-3
                        if tb_c < Tiso:
                            Tiso = tb_c
                        tl = tb_c - half * (math.sqrt(2.0) + abs(ux) + abs(uy))
                        if tl < T0:
                            T0 = tl
                    # within each kept chunk, the run of segments that can matter in the cell (same
                    # tests on the segments' own bounds); the segments outside the run join T0/Tiso
                    m = 0
                    for q in range(nb):
                        if not keep[q]:
                            continue
                        k = bsel[q]
                        lo = -1
                        hi = -2
                        for s in range(ch_first[k], ch_last[k] + 1):
                            d, ex, ey = _pt_seg2v(cx, cy, sax[s], say[s], sbx[s], sby[s])
                            gap = d - h[s]
                            slb[s - ch_first[k]] = gap - 1e-3
                            if gap > 0.0 and d > 0.0:
                                snx[s - ch_first[k]] = ex / d
                                sny[s - ch_first[k]] = ey / d
                            else:
                                snx[s - ch_first[k]] = 0.0
                                sny[s - ch_first[k]] = 0.0
                            sl = slb[s - ch_first[k]]
                            ks = sl - r_c <= est
                            if ks and far:
                                pen = half * (abs(snx[s - ch_first[k]] - est_mult * ux)
                                              + abs(sny[s - ch_first[k]] - est_mult * uy))
                                ks = sl - pen <= est_lin
                            if ks or s == seed:
                                if lo < 0:
                                    lo = s
                                hi = s
                        for s in range(ch_first[k], ch_last[k] + 1):
                            if lo <= s <= hi:
                                continue
                            sl = slb[s - ch_first[k]]
                            v = sl - half * (abs(snx[s - ch_first[k]] - ux) + abs(sny[s - ch_first[k]] - uy))
                            if v < T0:
                                T0 = v
                            if sl < Tiso:
                                Tiso = sl
                        if lo < 0:
                            keep[q] = False
                            continue
                        run_lo[q] = lo
                        run_hi[q] = hi
                        m += 1
                    n_in = m
                    lb_arr = np.empty(n_in)
                    idx_arr = np.empty(n_in, dtype=np.int64)
                    m = 0
                    for q in range(nb):
                        if keep[q]:
                            lb_arr[m] = lbs[q]
                            idx_arr[m] = q
                            m += 1
                    order = np.argsort(lb_arr)
                    ent = np.empty((n_in, 6))
                    for m in range(n_in):
                        q = idx_arr[order[m]]
                        ent[m, 0] = lbs[q]
                        ent[m, 1] = nxs[q]
                        ent[m, 2] = nys[q]
                        ent[m, 3] = bsel[q]
                        ent[m, 4] = run_lo[q]
                        ent[m, 5] = run_hi[q]
                    cell = j * nx + i
                    out_hdr[cell, 0] = T0
                    out_hdr[cell, 1] = ux
                    out_hdr[cell, 2] = uy
                    out_hdr[cell, 3] = seed
                    out_hdr[cell, 4] = Tiso
                    pos_of[cell] = len(lists)
                    total += n_in
                    lists.append(ent)
    total = 0
    for c in range(nx * ny):
        total += lists[pos_of[c]].shape[0]
    flat = np.empty((total, 6))
    pos = 0
    out_start[0] = 0
    for c in range(nx * ny):
        ent = lists[pos_of[c]]
        for q in range(ent.shape[0]):
            for f in range(6):
                flat[pos, f] = ent[q, f]
            pos += 1
        out_start[c + 1] = pos
    return flat


@_jit
def _eval_seg(px, py, pz, s, A, B, D, inv_l2):
    """Nearest point of segment s to P: (geodesic distance, t, X on the ellipsoid)."""
    ax = A[s, 0]
    ay = A[s, 1]
    az = A[s, 2]
    dx = D[s, 0]
    dy = D[s, 1]
    dz = D[s, 2]
    t = ((px - ax) * dx + (py - ay) * dy + (pz - az) * dz) * inv_l2[s]
    if t < 0.0:
        t = 0.0
    elif t > 1.0:
        t = 1.0
    if t == 0.0:
        xx, xy, xz = ax, ay, az
    elif t == 1.0:
        xx, xy, xz = B[s, 0], B[s, 1], B[s, 2]
    else:
        xx, xy, xz = _lift(ax + t * dx, ay + t * dy, az + t * dz)
    return _surface_dist_sel(px, py, pz, xx, xy, xz), t, xx, xy, xz


@_jit
def _d2seg(px, py, pz, ax, ay, az, dx, dy, dz, inv_l2):
    """Squared 3-D distance from P to the chord A + t D, t in [0, 1]."""
    t = ((px - ax) * dx + (py - ay) * dy + (pz - az) * dz) * inv_l2
    t = min(max(t, 0.0), 1.0)
    ex = px - (ax + t * dx)
    ey = py - (ay + t * dy)
    ez = pz - (az + t * dz)
    return ex * ex + ey * ey + ez * ez


@_jit
def _scan_chunk(px, py, pz, lo, hi, A, B, D, inv_l2, h, best, bseg, bt, bx, by, bz):
    """Evaluate the segments lo..hi that can beat ``best`` (pruned by their chord distance)."""
    thr = _g(best)
    for s in range(lo, hi + 1):
        if s == bseg:
            continue
        r = thr + h[s]
        ax = A[s, 0]
        ay = A[s, 1]
        az = A[s, 2]
        dx = D[s, 0]
        dy = D[s, 1]
        dz = D[s, 2]
        t = ((px - ax) * dx + (py - ay) * dy + (pz - az) * dz) * inv_l2[s]
        t = min(max(t, 0.0), 1.0)
        ex = px - (ax + t * dx)
        ey = py - (ay + t * dy)
        ez = pz - (az + t * dz)
        if ex * ex + ey * ey + ez * ez > r * r:
            continue
        # nearest at a vertex that is already the best point (the shared end of the best segment):
        # its distance is bit for bit the best one, only the tie rule applies
        if t == 0.0 and ax == bx and ay == by and az == bz:
            if s < bseg:
                bseg = s
                bt = t
            continue
        if t == 1.0 and B[s, 0] == bx and B[s, 1] == by and B[s, 2] == bz:
            if s < bseg:
                bseg = s
                bt = t
            continue
        sd, t, xx, xy, xz = _eval_seg(px, py, pz, s, A, B, D, inv_l2)
        if sd < best or (sd == best and s < bseg):
            best = sd
            bseg = s
            bt = t
            bx = xx
            by = xy
            bz = xz
            thr = _g(best)
    return best, bseg, bt, bx, by, bz


@_jit
def _left_sel(px, py, pz, xx, xy, xz, dx, dy, dz, ox, oy, oz, vertex):
    """1 when P is on the left of the direction of travel D at X, else 0; at a vertex
    (``vertex``: X is the shared end with a segment of direction O) the pseudo-normal, the sum of
    the two unit left normals, decides. No branch (selects only), for vector instructions."""
    # ellipsoid normal at X
    ux = xx * _INV_A2
    uy = xy * _INV_A2
    uz = xz * _INV_B2
    ex = px - xx
    ey = py - xy
    ez = pz - xz
    # left normal of the segment: up x D
    nx = uy * dz - uz * dy
    ny = uz * dx - ux * dz
    nz = ux * dy - uy * dx
    ln = math.sqrt(nx * nx + ny * ny + nz * nz)
    mx = uy * oz - uz * oy
    my = uz * ox - ux * oz
    mz = ux * oy - uy * ox
    lm = math.sqrt(mx * mx + my * my + mz * mz)
    sx = nx / ln + mx / lm
    sy = ny / ln + my / lm
    sz = nz / ln + mz / lm
    use = vertex & (ln > 0.0) & (lm > 0.0) & (math.sqrt(sx * sx + sy * sy + sz * sz) > 1e-9)
    side = ex * sx + ey * sy + ez * sz if use else ex * nx + ey * ny + ez * nz
    return 1 if side > 0.0 else 0


@_jit
def _other_seg(s, t, prev, nxt):
    """The segment sharing the vertex X is at (t = 0: previous, t = 1: next), or -1."""
    if t <= 0.0 and prev[s] >= 0:
        return prev[s]
    if t >= 1.0 and nxt[s] >= 0:
        return nxt[s]
    return -1


_BLOCK = 512  # points gathered / answered / scattered together


@_jit
def _eval_sel(px, py, pz, ax, ay, az, dx, dy, dz, bx_, by_, bz_, il2):
    """:func:`_eval_seg` on gathered segment data, branch-free (selects instead of branches, the
    same operations, hence the same values bit for bit), so that a loop over a block of points
    compiles to vector instructions."""
    t = ((px - ax) * dx + (py - ay) * dy + (pz - az) * dz) * il2
    t = min(max(t, 0.0), 1.0)
    lx, ly, lz = _lift(ax + t * dx, ay + t * dy, az + t * dz)
    end0 = t == 0.0
    end1 = t == 1.0
    xx = ax if end0 else (bx_ if end1 else lx)
    xy = ay if end0 else (by_ if end1 else ly)
    xz = az if end0 else (bz_ if end1 else lz)
    return _surface_dist_sel(px, py, pz, xx, xy, xz), t, xx, xy, xz


@_jit
def _query_lines(
    lon, lat, C0, E0, N0, nx, ny, x0, y0, cs, cell_off, cells,
    Q0, QD, Qil2, cw, chmax, ch_first, ch_last,
    A, B, D, inv_l2, h, prev, nxt, vlon, vlat,
    out_seg, out_t, out_d, out_lon, out_lat, out_left, out_scan, order,
):
    """Nearest segment of every point, visited in ``order`` when it has one entry per point.

    Points are taken by blocks: a tight loop gathers a block (so that the cache misses of reads
    in spatial order overlap), then the block goes through passes -- the conversion to 3-D of every
    point, the candidate scan point by point (chord-ranked, no evaluation), the exact evaluation of
    every point's chord leader (a loop with no branch, which compiles to vector instructions), the
    near-ties and the proof of each answer point by point, the nearest lon/lat and the side -- and
    a tight loop writes the answers back to the input positions."""
    n = lon.shape[0]
    nch = cw.shape[0]
    nseg = A.shape[0]
    use_order = order.shape[0] == n
    bl = np.empty(_BLOCK)
    bb = np.empty(_BLOCK)
    px_ = np.empty(_BLOCK)
    py_ = np.empty(_BLOCK)
    pz_ = np.empty(_BLOCK)
    gx_ = np.empty(_BLOCK)
    gy_ = np.empty(_BLOCK)
    ga = np.empty((3, _BLOCK))  # the leaders' segment data, gathered for the vector pass
    gd = np.empty((3, _BLOCK))
    gb = np.empty((3, _BLOCK))
    gi = np.empty(_BLOCK)
    gh = np.empty(_BLOCK)
    co = np.empty(_BLOCK, dtype=np.int64)  # offset of the point's cell in ``cells`` (-1: outside the grid)
    cdx = np.empty(_BLOCK)  # offset of the point from its cell's centre in the plane (m)
    cdy = np.empty(_BLOCK)
    crho = np.empty(_BLOCK)
    cq0 = np.empty(_BLOCK)  # squared chord distance to the seed
    thr0 = np.empty(_BLOCK)
    gvl = np.empty((4, _BLOCK))
    gvx = np.empty(_BLOCK, dtype=np.bool_)
    gok = np.empty(_BLOCK, dtype=np.bool_)
    lead = np.empty(_BLOCK, dtype=np.int64)  # chord leader (-1: outside the grid)
    c0 = np.empty(_BLOCK + 1, dtype=np.int64)  # the point's candidates in cseg/cq
    rs = np.empty(_BLOCK, dtype=np.int64)
    rt = np.empty(_BLOCK)
    rd = np.empty(_BLOCK)
    rx_ = np.empty(_BLOCK)
    ry_ = np.empty(_BLOCK)
    rz_ = np.empty(_BLOCK)
    rlo = np.empty(_BLOCK)
    rla = np.empty(_BLOCK)
    rl = np.empty(_BLOCK, dtype=np.int8)
    rf = np.empty(_BLOCK, dtype=np.int8)
    # chord-ranked candidates of the block's points (each segment at most once per point); a
    # block is cut short when fewer than nseg entries are left
    cap = 8 * _BLOCK + nseg
    cseg = np.empty(cap, dtype=np.int64)
    cq = np.empty(cap)
    for k0 in range(0, n, _BLOCK):
        m_ = min(_BLOCK, n - k0)
        for j in range(m_):
            i = order[k0 + j] if use_order else k0 + j
            bl[j] = lon[i]
            bb[j] = lat[i]
        # pass 1: 3-D coordinates and grid position of every point of the block
        for j in range(m_):
            px, py, pz = _ecef1(bl[j], bb[j])
            px_[j] = px
            py_[j] = py
            pz_[j] = pz
            rx = px - C0[0]
            ry = py - C0[1]
            rz = pz - C0[2]
            gx_[j] = (rx * E0[0] + ry * E0[1] + rz * E0[2] - x0) / cs
            gy_[j] = (rx * N0[0] + ry * N0[1] + rz * N0[2] - y0) / cs
        # pass 1b: the cell and its seed segment of every point (gathered point by point), the seed's
        # chord and the first pruning threshold (no branch: vector instructions)
        for j in range(m_):
            gx = gx_[j]
            gy = gy_[j]
            o = -1
            seed = 0
            dx = 0.0
            dy = 0.0
            if 0.0 <= gx < nx and 0.0 <= gy < ny:
                ix = int(gx)
                iy = int(gy)
                o = cell_off[iy * nx + ix]
                seed = int(cells[o + 3])
                # offset of the point from the cell centre in the plane (m)
                dx = (gx - ix - 0.5) * cs
                dy = (gy - iy - 0.5) * cs
            co[j] = o
            lead[j] = seed
            cdx[j] = dx
            cdy[j] = dy
            for f in range(3):
                ga[f, j] = A[seed, f]
                gd[f, j] = D[seed, f]
            gi[j] = inv_l2[seed]
            gh[j] = h[seed]
        for j in range(np.uint64(0), np.uint64(m_)):
            q = _d2seg(px_[j], py_[j], pz_[j], ga[0, j], ga[1, j], ga[2, j], gd[0, j], gd[1, j], gd[2, j], gi[j])
            cq0[j] = q
            # the winner's distance is at most _psi(chord + h); nothing farther than g of it matters
            thr0[j] = _g(_psi(math.sqrt(q) + gh[j]))
            crho[j] = math.sqrt(cdx[j] * cdx[j] + cdy[j] * cdy[j])
        j1 = 0
        while j1 < m_:
            j0 = j1
            nc = 0
            # pass 2: candidate scan, point by point
            while j1 < m_ and nc + nseg <= cap:
                j = j1
                j1 += 1
                c0[j] = nc
                o = co[j]
                if o < 0:
                    lead[j] = -1
                    continue
                px = px_[j]
                py = py_[j]
                pz = pz_[j]
                dx = cdx[j]
                dy = cdy[j]
                rho = crho[j]
                seed = lead[j]
                # rank candidates by their chord distance (no square root, no lift); the distance
                # formula is evaluated for the chord winner only (pass 3), then for every candidate
                # whose chord bound is within reach of that exact value (near-ties, pass 4), so the
                # answer is the same argmin of (distance, segment) as evaluating every candidate
                bq = cq0[j]
                bs = seed
                cseg[nc] = seed
                cq[nc] = bq
                nc += 1
                thr = thr0[j]
                e = o + 6
                for _q in range(int(cells[o + 5])):
                    lbq = cells[e]
                    if lbq - rho > thr:
                        break
                    if not (lbq + dx * cells[e + 1] + dy * cells[e + 2] > thr):
                        k = int(cells[e + 3])
                        r = thr + cw[k] + chmax[k]
                        d2 = _d2seg(px, py, pz, Q0[k, 0], Q0[k, 1], Q0[k, 2], QD[k, 0], QD[k, 1], QD[k, 2], Qil2[k])
                        if not (d2 > r * r):
                            for s in range(int(cells[e + 4]), int(cells[e + 5]) + 1):
                                if s == seed:
                                    continue
                                q = _d2seg(px, py, pz, A[s, 0], A[s, 1], A[s, 2], D[s, 0], D[s, 1], D[s, 2], inv_l2[s])
                                rr = thr + h[s]
                                if q > rr * rr:
                                    continue
                                cseg[nc] = s
                                cq[nc] = q
                                nc += 1
                                if q < bq:
                                    bq = q
                                    bs = s
                                    thr = _g(_psi(math.sqrt(bq) + h[bs]))
                    e += 6
                lead[j] = bs
            c0[j1] = nc
            # pass 3: exact evaluation of every chord leader (no branch: vector instructions)
            for j in range(j0, j1):
                s = max(lead[j], 0)
                for f in range(3):
                    ga[f, j] = A[s, f]
                    gd[f, j] = D[s, f]
                    gb[f, j] = B[s, f]
                gi[j] = inv_l2[s]
            # (unsigned indices: with signed ones numba's negative-index wrap-around keeps LLVM from
            # vectorising a loop that does not start at 0)
            for j in range(np.uint64(j0), np.uint64(j1)):
                sd, t, xx, xy, xz = _eval_sel(px_[j], py_[j], pz_[j], ga[0, j], ga[1, j], ga[2, j],
                                              gd[0, j], gd[1, j], gd[2, j], gb[0, j], gb[1, j], gb[2, j], gi[j])
                rd[j] = sd
                rt[j] = t
                rx_[j] = xx
                ry_[j] = xy
                rz_[j] = xz
            # pass 4: near-ties, proof of the answer (else a scan of every chunk), point by point
            for j in range(j0, j1):
                px = px_[j]
                py = py_[j]
                pz = pz_[j]
                bs = lead[j]
                full = True
                if bs >= 0:
                    best = rd[j]
                    bt = rt[j]
                    bx = rx_[j]
                    by = ry_[j]
                    bz = rz_[j]
                    bseg = bs
                    thr = _g(best)
                    for c in range(c0[j], c0[j + 1]):
                        s = cseg[c]
                        rr = thr + h[s]
                        if s != bs and cq[c] <= rr * rr:
                            best, bseg, bt, bx, by, bz = _scan_chunk(
                                px, py, pz, s, s, A, B, D, inv_l2, h, best, bseg, bt, bx, by, bz
                            )
                            thr = _g(best)
                    dx = cdx[j]
                    dy = cdy[j]
                    rho = crho[j]
                    o = co[j]
                    full = not (cells[o] + dx * cells[o + 1] + dy * cells[o + 2] > thr or cells[o + 4] - rho > thr)
                else:
                    best = np.inf
                    bseg = -1
                    bt = 0.0
                    bx = 0.0
                    by = 0.0
                    bz = 0.0
                if full:
                    for k in range(nch):
                        thr = _g(best)
                        r = thr + cw[k] + chmax[k]
                        if _d2seg(px, py, pz, Q0[k, 0], Q0[k, 1], Q0[k, 2], QD[k, 0], QD[k, 1], QD[k, 2],
                                  Qil2[k]) > r * r:
                            continue
                        best, bseg, bt, bx, by, bz = _scan_chunk(
                            px, py, pz, ch_first[k], ch_last[k], A, B, D, inv_l2, h, best, bseg, bt, bx, by, bz
                        )
                rs[j] = bseg
                rt[j] = bt
                rd[j] = best
                rx_[j] = bx
                ry_[j] = by
                rz_[j] = bz
                rf[j] = 1 if full else 0
            # pass 5: nearest lon/lat and side -- the segment data gathered point by point, then a
            # loop with no branch (vector instructions); the rare points where the short series of
            # the nearest lon/lat does not apply are redone with atan2
            for j in range(j0, j1):
                bseg = rs[j]
                bt = rt[j]
                o = _other_seg(bseg, bt, prev, nxt)
                oo = o if o >= 0 else bseg
                gvx[j] = o >= 0
                end = 1 if bt == 1.0 else 0
                gvl[0, j] = vlon[bseg, end]
                gvl[1, j] = vlat[bseg, end]
                gvl[2, j] = vlon[bseg, 0]
                gvl[3, j] = vlat[bseg, 0]
                for f in range(3):
                    ga[f, j] = A[bseg, f]
                    gd[f, j] = D[bseg, f]
                    gb[f, j] = D[oo, f]
            for j in range(np.uint64(j0), np.uint64(j1)):
                bt = rt[j]
                bx = rx_[j]
                by = ry_[j]
                bz = rz_[j]
                glon, glat, ok = _geodetic_near_sel(bx, by, bz, ga[0, j], ga[1, j], ga[2, j], gvl[2, j], gvl[3, j])
                vert = (bt == 0.0) | (bt == 1.0)
                rlo[j] = gvl[0, j] if vert else glon
                rla[j] = gvl[1, j] if vert else glat
                gok[j] = vert | ok
                rl[j] = _left_sel(px_[j], py_[j], pz_[j], bx, by, bz, gd[0, j], gd[1, j], gd[2, j],
                                  gb[0, j], gb[1, j], gb[2, j], gvx[j])
            for j in range(j0, j1):
                if not gok[j]:
                    rlo[j], rla[j] = _geodetic1(rx_[j], ry_[j], rz_[j])
        for j in range(m_):
            i = order[k0 + j] if use_order else k0 + j
            out_seg[i] = rs[j]
            out_t[i] = rt[j]
            out_d[i] = rd[j]
            out_lon[i] = rlo[j]
            out_lat[i] = rla[j]
            out_left[i] = rl[j]
            out_scan[i] = rf[j]


class LineIndex:
    """Nearest-point index over a set of segments (see the module docstring).

    Parameters
    ----------
    a_lon, a_lat, b_lon, b_lat
        Segment end points, degrees.
    length_m
        Geodesic length of each segment (bounds the chord-to-curve offset).
    part
        Part id of each segment (chunks never span two parts).
    prev, next
        Previous / next segment of the same part or closed ring (-1: none), for
        the pseudo-normal side rule at vertices.
    margin_m
        The grid covers the segments' box plus this margin; points beyond it are
        answered by a scan of every chunk (exact, slower).
    max_cells
        Upper bound of the number of grid cells.
    est_mult, lin_slack, block, max_chunk, chunk_width_m
        Tuning of the candidate lists (speed only: every answer is proven at query time).
    """

    piece_segment: np.ndarray | None = None
    """Set by the caller: the source segment of each indexed piece (pieces split long segments)."""

    def __init__(
        self,
        a_lon: np.ndarray,
        a_lat: np.ndarray,
        b_lon: np.ndarray,
        b_lat: np.ndarray,
        length_m: np.ndarray,
        part: np.ndarray,
        prev: np.ndarray,
        next: np.ndarray,
        *,
        margin_m: float = 500_000.0,
        max_cells: int = 16_384,
        est_mult: float = 1.003,
        lin_slack: float = 0.1,
        block: int = 4,
        max_chunk: int = CHUNK,
        chunk_width_m: float = math.inf,
    ) -> None:
        self.est_mult = float(est_mult)
        self.lin_slack = float(lin_slack)
        n = a_lon.size
        if n == 0:
            raise ValueError("no segments")
        A = ecef(a_lon, a_lat)
        B = ecef(b_lon, b_lat)
        D = B - A
        l2 = np.einsum("ij,ij->i", D, D)
        with np.errstate(divide="ignore"):
            inv_l2 = np.where(l2 > 0, 1.0 / np.where(l2 > 0, l2, 1.0), 0.0)
        length = np.maximum(np.asarray(length_m, dtype=np.float64), np.sqrt(l2))
        h = 1.01 * length * length / (8.0 * R_MIN) + 1e-6
        self.A, self.B, self.D, self.inv_l2, self.h = A, B, np.ascontiguousarray(D), inv_l2, h
        self.vlon = np.column_stack([a_lon, b_lon]).astype(np.float64)
        self.vlat = np.column_stack([a_lat, b_lat]).astype(np.float64)
        self.prev = np.ascontiguousarray(prev, dtype=np.int64)
        self.next = np.ascontiguousarray(next, dtype=np.int64)

        # chunks: runs of up to max_chunk consecutive segments of one part that stay within
        # chunk_width_m of their end-to-end chord (long where the line is straight)
        part = np.ascontiguousarray(part, dtype=np.int64)
        key = np.zeros(n, dtype=np.bool_)
        _chunk_starts(A, B, part, int(max_chunk), float(chunk_width_m), key)
        ch_first = np.flatnonzero(key)
        ch_last = np.r_[ch_first[1:] - 1, n - 1]
        Q0 = A[ch_first]
        Q1 = B[ch_last]
        nch = ch_first.size
        chunk_of = np.cumsum(key) - 1
        # w: largest distance of a chunk's vertices from its end-to-end chord
        dA = _pt_seg3_np(A, Q0[chunk_of], Q1[chunk_of])
        dB = _pt_seg3_np(B, Q0[chunk_of], Q1[chunk_of])
        cw = np.zeros(nch)
        np.maximum.at(cw, chunk_of, np.maximum(dA, dB))
        cw = cw * (1 + 1e-12) + 1e-6
        chmax = np.zeros(nch)
        np.maximum.at(chmax, chunk_of, h)
        self.Q0, self.Q1, self.cw, self.chmax = Q0, Q1, cw, chmax
        self.QD = np.ascontiguousarray(Q1 - Q0)
        ql2 = np.einsum("ij,ij->i", self.QD, self.QD)
        self.Qil2 = np.where(ql2 > 0, 1.0 / np.where(ql2 > 0, ql2, 1.0), 0.0)
        self.ch_first = ch_first.astype(np.int64)
        self.ch_last = ch_last.astype(np.int64)

        # tangent plane at the centre of the data
        lon_mid, lat_mid = _centre(np.r_[a_lon, b_lon], np.r_[a_lat, b_lat])
        C0 = ecef(np.array([lon_mid]), np.array([lat_mid]))[0]
        lam, phi = math.radians(lon_mid), math.radians(lat_mid)
        E0 = np.array([-math.sin(lam), math.cos(lam), 0.0])
        N0 = np.array([-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)])
        self.C0, self.E0, self.N0 = C0, E0, N0

        def plane(X):
            R = X - C0
            return R @ E0, R @ N0

        sax, say = plane(A)
        sbx, sby = plane(B)
        q0x, q0y = plane(Q0)
        q1x, q1y = plane(Q1)
        cpx = np.column_stack([q0x, q1x])
        cpy = np.column_stack([q0y, q1y])
        margin = float(margin_m)
        xmin = min(sax.min(), sbx.min()) - margin
        xmax = max(sax.max(), sbx.max()) + margin
        ymin = min(say.min(), sby.min()) - margin
        ymax = max(say.max(), sby.max()) + margin
        cs = max(math.sqrt((xmax - xmin) * (ymax - ymin) / max_cells), 1.0)
        nx = max(1, int(math.ceil((xmax - xmin) / cs)))
        ny = max(1, int(math.ceil((ymax - ymin) / cs)))
        self.nx, self.ny, self.x0, self.y0, self.cs = nx, ny, float(xmin), float(ymin), float(cs)
        hdr = np.zeros((nx * ny, 5))
        cstart = np.zeros(nx * ny + 1, dtype=np.int64)
        ent = _build_cells(
            nx, ny, float(xmin), float(ymin), float(cs), cpx, cpy, cw, chmax, self.ch_first, self.ch_last,
            sax, say, sbx, sby, h, hdr, cstart, self.est_mult, self.lin_slack, int(block),
        )
        # one contiguous record per cell, so that a query reads one memory region:
        # [T0, mx, my, seed, Tiso, count, then per entry: lb, nx, ny, chunk, first segment, last segment]
        ncell = nx * ny
        counts = np.diff(cstart)
        off = (6 * np.arange(ncell) + 6 * cstart[:-1]).astype(np.int64)
        cells = np.empty(6 * ncell + 6 * int(counts.sum()))
        head = off[:, None] + np.arange(6)
        cells[head[:, :5]] = hdr
        cells[off + 5] = counts
        cell_of = np.repeat(np.arange(ncell), counts)
        pos = off[cell_of] + 6 + 6 * (np.arange(cell_of.size) - cstart[:-1][cell_of])
        cells[pos[:, None] + np.arange(6)] = ent
        self.cell_off = off
        self.cells = cells
        self.n_entries = int(ent.shape[0])

    def query(self, lon: np.ndarray, lat: np.ndarray, *, presort: bool | None = None) -> dict[str, np.ndarray]:
        """Nearest point for every (lon, lat) (degrees, validated by the caller).

        Returns arrays ``seg`` (index of the nearest segment), ``t`` (position on its
        chord, 0..1), ``distance_m``, ``nearest_lon``, ``nearest_lat``, ``left``
        (1: left of the direction of travel, 0: right; meaningless when the
        distance is below 1 µm) and ``full_scan`` (1 when the grid could not prove
        the answer and every chunk was scanned), in the order of the input points.

        ``presort`` (default: from :data:`PRESORT_MIN_POINTS` points on) visits the points of
        each chunk of :data:`PRESORT_CHUNK` grouped by lon/lat buckets of about half a grid cell
        and writes each answer back to its input position: the same answers bit for bit, about
        10 % faster on scattered points, for 512 KiB of visiting order per call.

        Memory: the outputs, 42 bytes per point; the kernels allocate only fixed buffers.
        """
        lon = np.ascontiguousarray(lon, dtype=np.float64).ravel()
        lat = np.ascontiguousarray(lat, dtype=np.float64).ravel()
        n = lon.size
        if presort is None:
            presort = n >= PRESORT_MIN_POINTS
        out: dict[str, np.ndarray] = {
            "seg": np.empty(n, dtype=np.int64),
            "t": np.empty(n),
            "distance_m": np.empty(n),
            "nearest_lon": np.empty(n),
            "nearest_lat": np.empty(n),
            "left": np.empty(n, dtype=np.int8),
            "full_scan": np.empty(n, dtype=np.int8),
        }
        # sorted path: by chunks, so that the random reads and writes of the gather/scatter stay
        # within the cache (measured: sorting 10M points at once gained nothing) and the visiting
        # order costs 8 bytes per point of one chunk only
        step = PRESORT_CHUNK if presort else max(n, 1)
        no_order = np.empty(0, dtype=np.int64)
        for a in range(0, n, step):
            b = min(n, a + step)
            la, lb = lon[a:b], lat[a:b]
            order = spatial_order(la, lb, bucket_deg=0.5 * self.cs / 111_320.0) if presort else no_order
            _query_lines(
                la, lb, self.C0, self.E0, self.N0, self.nx, self.ny, self.x0, self.y0, self.cs,
                self.cell_off, self.cells,
                self.Q0, self.QD, self.Qil2, self.cw, self.chmax, self.ch_first, self.ch_last,
                self.A, self.B, self.D, self.inv_l2, self.h, self.prev, self.next, self.vlon, self.vlat,
                out["seg"][a:b], out["t"][a:b], out["distance_m"][a:b], out["nearest_lon"][a:b],
                out["nearest_lat"][a:b], out["left"][a:b], out["full_scan"][a:b], order,
            )
        return out


@_jit
def _chunk_starts(A, B, part, max_chunk, max_w, key):
    n = A.shape[0]
    s0 = 0
    key[0] = True
    for s in range(1, n):
        new = part[s] != part[s - 1] or s - s0 >= max_chunk
        if not new:
            # would the chunk s0..s stay within max_w of the chord A[s0] -> B[s]?
            for v in range(s0, s + 1):
                d = math.sqrt(_d2seg_pts(A[v, 0], A[v, 1], A[v, 2], A[s0], B[s]))
                if d > max_w:
                    new = True
                    break
        if new:
            key[s] = True
            s0 = s


@_jit
def _d2seg_pts(px, py, pz, Q0, Q1):
    dx = Q1[0] - Q0[0]
    dy = Q1[1] - Q0[1]
    dz = Q1[2] - Q0[2]
    l2 = dx * dx + dy * dy + dz * dz
    il2 = 1.0 / l2 if l2 > 0.0 else 0.0
    return _d2seg(px, py, pz, Q0[0], Q0[1], Q0[2], dx, dy, dz, il2)


def _pt_seg3_np(P: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    D = B - A
    l2 = np.einsum("ij,ij->i", D, D)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.einsum("ij,ij->i", P - A, D) / l2
    t = np.clip(np.where(l2 > 0, t, 0.0), 0.0, 1.0)
    return np.linalg.norm(P - (A + t[:, None] * D), axis=1)


def _centre(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """Centre of the lon/lat box of the points (the same centre LocalProjection.from_lonlat uses)."""
    proj = LocalProjection.from_lonlat(lon, lat)
    return proj.lon_0, proj.lat_0


# =================================================================================================
# point in polygon
# =================================================================================================
@_jit
def _orient2(ax, ay, bx, by, px, py):
    """Sign of the cross product (B - A) x (P - A) in the lon/lat plane."""
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


@_jit
def _crosses2(px, py, cx, cy, ax, ay, bx, by):
    """Does the segment P-C cross the edge A-B (half-open rule: zero counts as negative)?"""
    s1 = _orient2(ax, ay, bx, by, px, py) > 0.0
    s2 = _orient2(ax, ay, bx, by, cx, cy) > 0.0
    if s1 == s2:
        return False
    s3 = _orient2(px, py, cx, cy, ax, ay) > 0.0
    s4 = _orient2(px, py, cx, cy, bx, by) > 0.0
    return s3 != s4


@_jit
def _centre_masks(nx, ny, lon0, lat0, cw, chh, cell_start, cell_edge, E, ebit, masks):
    ne = E.shape[0]
    stamp = np.full(ne, -1, dtype=np.int64)
    tick = 0
    for j in range(ny):
        y = lat0 + (j + 0.5) * chh
        m = np.uint64(0)
        masks[j * nx] = m  # first column: west of every vertex, outside every polygon
        x0 = lon0 + 0.5 * cw
        for i in range(1, nx):
            x1 = lon0 + (i + 0.5) * cw
            tick += 1
            for c in (j * nx + i - 1, j * nx + i):
                for q in range(cell_start[c], cell_start[c + 1]):
                    e = cell_edge[q]
                    if stamp[e] == tick:
                        continue
                    stamp[e] = tick
                    if _crosses2(x0, y, x1, y, E[e, 0], E[e, 1], E[e, 2], E[e, 3]):
                        m ^= ebit[e]
            masks[j * nx + i] = m
            x0 = x1


@_jit
def _query_pip(lon, lat, nx, ny, lon0, lat0, cw, chh, masks, cell_start, cell_edge, E, ebit, out):
    for k in range(lon.shape[0]):
        lo = lon[k]
        if lo >= 180.0:
            lo -= 360.0
        la = lat[k]
        gi = (lo - lon0) / cw
        gj = (la - lat0) / chh
        if not (0.0 <= gi < nx and 0.0 <= gj < ny):
            out[k] = 0
            continue
        i = int(gi)
        j = int(gj)
        c = j * nx + i
        m = masks[c]
        a = cell_start[c]
        b = cell_start[c + 1]
        if b > a:
            cx = lon0 + (i + 0.5) * cw
            cy = lat0 + (j + 0.5) * chh
            for q in range(a, b):
                e = cell_edge[q]
                if _crosses2(lo, la, cx, cy, E[e, 0], E[e, 1], E[e, 2], E[e, 3]):
                    m ^= ebit[e]
        out[k] = m


class PolygonIndex:
    """Which of up to 64 polygons contain each point (bit masks; see the module docstring).

    Polygon edges are straight in longitude/latitude, as in the source files and in
    GEOS/shapely (this is a topological convention, not a distance computation; it
    matters only for long edges such as the lon/lat clip box of the case region).

    Parameters
    ----------
    polygons
        Shapely Polygons/MultiPolygons in EPSG:4326 (holes are honoured). Polygon k
        sets bit k of the result.
    max_cells
        Upper bound of the number of grid cells.
    """

    def __init__(self, polygons, *, max_cells: int = 1_000_000, target_edges_per_cell: float = 0.5) -> None:
        import shapely

        polys = list(polygons)
        if len(polys) > 64:
            raise ValueError("at most 64 polygons per index")
        self.n_polygons = len(polys)
        parts, poly_of = shapely.get_parts(np.asarray(polys, dtype=object), return_index=True)
        rings, part_of = shapely.get_rings(parts, return_index=True)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        if coords.shape[0] < 2:
            self.empty = True
            return
        self.empty = False
        same = ring_of[1:] == ring_of[:-1]
        a = coords[:-1][same]
        b = coords[1:][same]
        bit = poly_of[part_of[ring_of[:-1][same]]]
        keep = np.any(a != b, axis=1)
        a, b, bit = a[keep], b[keep], bit[keep]
        a = a.copy()
        b = b.copy()
        for arr in (a, b):
            arr[:, 0] = np.where(arr[:, 0] >= 180.0, arr[:, 0] - 360.0, arr[:, 0])
        if np.any(np.abs(b[:, 0] - a[:, 0]) > 180.0):
            raise ValueError("polygons crossing the antimeridian are not supported by the fast index")
        ne = a.shape[0]
        self.E = np.ascontiguousarray(np.column_stack([a, b]))
        self.ebit = (np.uint64(1) << bit.astype(np.uint64)).astype(np.uint64)

        lon_min = float(min(a[:, 0].min(), b[:, 0].min()))
        lon_max = float(max(a[:, 0].max(), b[:, 0].max()))
        lat_min = float(min(a[:, 1].min(), b[:, 1].min()))
        lat_max = float(max(a[:, 1].max(), b[:, 1].max()))
        span_lon = max(lon_max - lon_min, 1e-9)
        span_lat = max(lat_max - lat_min, 1e-9)
        n_cells = int(min(max_cells, max(1024, ne / target_edges_per_cell)))
        ratio = span_lon / span_lat
        ny = max(8, int(round(math.sqrt(n_cells / ratio))))
        nx = max(8, int(round(n_cells / ny)))
        # two spare columns/rows on each side: the first column's centres are west of every vertex
        cw = span_lon / (nx - 4)
        chh = span_lat / (ny - 4)
        lon0 = lon_min - 2.0 * cw
        lat0 = lat_min - 2.0 * chh
        eps = 1e-9
        # bin edges: split each into pieces no longer than half a cell; bin each piece's box (+ eps)
        dx = b[:, 0] - a[:, 0]
        dy = b[:, 1] - a[:, 1]
        npieces = np.maximum(1, np.ceil(np.maximum(np.abs(dx) / cw, np.abs(dy) / chh) * 2)).astype(np.int64)
        e_of = np.repeat(np.arange(ne), npieces)
        k_in = np.arange(e_of.size) - np.repeat(np.cumsum(npieces) - npieces, npieces)
        t0 = k_in / npieces[e_of]
        t1 = (k_in + 1) / npieces[e_of]
        x_a = a[e_of, 0] + t0 * dx[e_of]
        x_b = a[e_of, 0] + t1 * dx[e_of]
        y_a = a[e_of, 1] + t0 * dy[e_of]
        y_b = a[e_of, 1] + t1 * dy[e_of]
        i0 = np.clip(np.floor((np.minimum(x_a, x_b) - eps - lon0) / cw).astype(np.int64), 0, nx - 1)
        i1 = np.clip(np.floor((np.maximum(x_a, x_b) + eps - lon0) / cw).astype(np.int64), 0, nx - 1)
        j0 = np.clip(np.floor((np.minimum(y_a, y_b) - eps - lat0) / chh).astype(np.int64), 0, ny - 1)
        j1 = np.clip(np.floor((np.maximum(y_a, y_b) + eps - lat0) / chh).astype(np.int64), 0, ny - 1)
        ni = i1 - i0 + 1
        nj = j1 - j0 + 1
        cnt = ni * nj
        piece = np.repeat(np.arange(e_of.size), cnt)
        r = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        ci = i0[piece] + r % ni[piece]
        cj = j0[piece] + r // ni[piece]
        pairs = np.unique((cj * nx + ci) * ne + e_of[piece])
        cell_of = pairs // ne
        counts = np.bincount(cell_of, minlength=nx * ny)
        self.cell_start = np.r_[0, np.cumsum(counts)].astype(np.int64)
        self.cell_edge = (pairs % ne).astype(np.int32)
        self.nx, self.ny, self.lon0, self.lat0, self.cw, self.chh = nx, ny, lon0, lat0, cw, chh
        self.masks = np.zeros(nx * ny, dtype=np.uint64)
        _centre_masks(nx, ny, lon0, lat0, cw, chh, self.cell_start, self.cell_edge, self.E, self.ebit, self.masks)

    def query(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Bit mask (uint64) of the polygons containing each point (degrees)."""
        lon = np.ascontiguousarray(lon, dtype=np.float64).ravel()
        lat = np.ascontiguousarray(lat, dtype=np.float64).ravel()
        out = np.zeros(lon.size, dtype=np.uint64)
        if self.empty or lon.size == 0:
            return out
        _query_pip(lon, lat, self.nx, self.ny, self.lon0, self.lat0, self.cw, self.chh, self.masks,
                   self.cell_start, self.cell_edge, self.E, self.ebit, out)
        return out


def index_arrays(index: LineIndex | PolygonIndex) -> dict[str, np.ndarray]:
    """The state of a built :class:`LineIndex` or :class:`PolygonIndex` as plain numpy arrays.

    For an on-disk cache (:mod:`borderkit.indexcache` through :mod:`borderkit.locate`): building the
    indexes of a case costs about a second per process; reading them back costs milliseconds.
    :func:`index_from_arrays` inverts it.

    Raises
    ------
    ValueError
        An attribute that is neither an array nor a number.
    """
    out: dict[str, np.ndarray] = {}
    for k, v in vars(index).items():
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                raise ValueError(f"{type(index).__name__}.{k}: an object array")
            out[k] = v
        elif isinstance(v, bool | int | float | np.number):
            out["scalar." + k] = np.array(v)
        elif v is not None:
            raise ValueError(f"{type(index).__name__}.{k}: {type(v).__name__} is not an array or a number")
    return out


def index_from_arrays(cls: type, arrays: dict[str, np.ndarray]) -> Any:
    """A :class:`LineIndex` or :class:`PolygonIndex` (*cls*) from :func:`index_arrays`' arrays."""
    if cls not in (LineIndex, PolygonIndex):
        raise TypeError(f"not an index class: {cls!r}")
    obj = cls.__new__(cls)
    for k, v in arrays.items():
        if k.startswith("scalar."):
            obj.__dict__[k[len("scalar."):]] = v.item()  # bool, int, float as the constructor left them
        else:
            obj.__dict__[k] = np.ascontiguousarray(v)
    return obj
