"""Benchmark and accuracy measurement of borderkit.geodesy (a script, not a test).

Usage (from the repository root, with ../shared beside it or $BORDERKIT_SHARED set)::

    python benchmarks/bench_geodesy.py              # speed: 100,000 points vs the ARM–AZE boundary
    python benchmarks/bench_geodesy.py --accuracy   # also errors vs a brute-force ground truth

Speed compares ``nearest_points_on_lines`` (both methods) with the obvious
alternatives: a Python loop calling ``shapely.ops.nearest_points`` + ``Geod.inv``
per point (run on a subset and extrapolated), and geopandas ``to_crs`` + ``distance``
(planar metres in a projected CRS, vectorised). The boundary is the shared edge of
the ARM and AZE polygons of Natural Earth 10m (German POV), read from shared/ and
never copied into the repository.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pyproj
import shapely
import shapely.ops

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from borderkit.geodesy import LocalProjection, nearest_points_on_lines  # noqa: E402

G = pyproj.Geod(ellps="WGS84")
REGION = (43.4, 38.3, 50.9, 41.9)
NE_ADMIN0 = "naturalearth-10m-admin0-countries-deu/ne_10m_admin0_deu_ARM_AZE_GEO_IRN_TUR.geojson"


def shared_file(relative: str) -> Path:
    roots = []
    if os.environ.get("BORDERKIT_SHARED"):
        roots += [Path(os.environ["BORDERKIT_SHARED"]) / "data", Path(os.environ["BORDERKIT_SHARED"])]
    roots.append(REPO.parent / "shared" / "data")
    for root in roots:
        if (root / relative).is_file():
            return root / relative
    raise SystemExit(f"cannot find {relative} under {[str(r) for r in roots]}; set BORDERKIT_SHARED")


def boundary():
    import geopandas as gpd

    g = gpd.read_file(shared_file(NE_ADMIN0))
    arm = g.loc[g.ADM0_A3 == "ARM"].geometry.iloc[0]
    aze = g.loc[g.ADM0_A3 == "AZE"].geometry.iloc[0]
    return shapely.line_merge(shapely.intersection(arm.boundary, aze.boundary))


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Best process-CPU time and best wall time over *repeat* runs, and the last result.

    CPU time is the figure to compare: everything here is single-threaded, and on a shared
    machine wall time also counts the time other processes held the CPU.
    """
    cpu, wall = [], []
    out = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall), out


def densify(line, spacing_m: float):
    """The same line with vertices added along each segment's geodesic every <= spacing_m."""
    parts = []
    for part in shapely.get_parts(line):
        c = shapely.get_coordinates(part)
        pts = [c[:1]]
        for (lo1, la1), (lo2, la2) in zip(c[:-1], c[1:], strict=True):
            _, _, d = G.inv(lo1, la1, lo2, la2)
            k = max(int(np.ceil(d / spacing_m)) - 1, 0)
            if k:
                pts.append(np.array(G.npts(lo1, la1, lo2, la2, k)))
            pts.append(np.array([[lo2, la2]]))
        parts.append(np.concatenate(pts))
    return shapely.multilinestrings([shapely.linestrings(p) for p in parts])


def speed(line, n: int, loop_subset: int, repeat: int, label: str) -> None:
    rng = np.random.default_rng(2024)
    lon = rng.uniform(REGION[0], REGION[2], n)
    lat = rng.uniform(REGION[1], REGION[3], n)
    nearest_points_on_lines(lon[:100], lat[:100], line)  # warm-up (imports, PROJ database)

    print(
        f"\n== speed: {n:,} random points in {REGION} vs {label} "
        f"({shapely.get_num_geometries(line)} parts, {shapely.get_num_coordinates(line)} vertices); "
        f"best of {repeat}, CPU / wall seconds"
    )

    def show(name: str, cpu: float, wall: float, count: int = n, note: str = "") -> None:
        print(f"{name:<52} cpu {cpu:8.3f} s  wall {wall:8.3f} s  ({cpu / count * 1e6:7.2f} us/point cpu){note}")

    cpu_g, wall_g, geo = timed(lambda: nearest_points_on_lines(lon, lat, line), repeat)
    show("borderkit nearest_points_on_lines, geodesic", cpu_g, wall_g)
    cpu_p, wall_p, pla = timed(lambda: nearest_points_on_lines(lon, lat, line, method="planar"), repeat)
    show("borderkit nearest_points_on_lines, planar", cpu_p, wall_p)
    dref = geo.distance_m.to_numpy()
    print(f"  planar - geodesic distance: max |diff| {np.abs(pla.distance_m.to_numpy() - dref).max():.4f} m")

    # (a) the obvious loop: shapely nearest_points on lon/lat degrees + Geod.inv, per point
    k = min(loop_subset, n)

    def loop():
        out = np.empty(k)
        for i in range(k):
            p = shapely.Point(lon[i], lat[i])
            _, q = shapely.ops.nearest_points(p, line)
            out[i] = G.inv(lon[i], lat[i], q.x, q.y)[2]
        return out

    cpu_l, wall_l, dloop = timed(loop, repeat)
    cpu_lf, wall_lf = cpu_l / k * n, wall_l / k * n
    show(f"python loop, {k:,} points, extrapolated to {n:,}", cpu_lf, wall_lf)
    err_loop = np.abs(dloop - dref[:k])
    print(
        "  (shapely.ops.nearest_points on lon/lat degrees + Geod.inv per point) its error vs geodesic: "
        f"max {err_loop.max():.1f} m, p95 {np.percentile(err_loop, 95):.1f} m"
    )

    # (b) geopandas: to_crs + planar distance, vectorised
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    lines = gpd.GeoSeries([line], crs="EPSG:4326")
    results = {}
    for name, crs in (
        ("UTM 38N", "EPSG:32638"),
        ("local aeqd", LocalProjection.from_bounds(REGION).crs),
    ):

        def gp(crs=crs):
            ln = lines.to_crs(crs).iloc[0]
            return pts.to_crs(crs).distance(ln).to_numpy()

        cpu_gp, wall_gp, dgp = timed(gp, repeat)
        results[name] = (cpu_gp, wall_gp)
        show(f"geopandas to_crs({name}) + .distance (planar metres)", cpu_gp, wall_gp)
        e = np.abs(dgp - dref)
        print(f"  its error vs geodesic: max {e.max():.1f} m, p95 {np.percentile(e, 95):.1f} m")

    print("ratios, alternative / borderkit geodesic (CPU time; wall time in brackets):")
    print(f"  python loop (extrapolated): {cpu_lf / cpu_g:6.2f} x  [{wall_lf / wall_g:6.2f} x]")
    for name, (c, w) in results.items():
        print(f"  geopandas {name:<17}: {c / cpu_g:6.2f} x  [{w / wall_g:6.2f} x]")
    print(f"  borderkit planar method   : {cpu_p / cpu_g:6.2f} x  [{wall_p / wall_g:6.2f} x]")


def naive_plane(lon, lat, line, projection):
    """Baseline: nearest point in one fixed plane (shapely.shortest_line), then Geod.inv."""
    x, y = projection.to_local(lon, lat)
    local = projection.geometry_to_local(line)
    q = shapely.get_coordinates(shapely.shortest_line(shapely.points(x, y), local))[1::2]
    q_lon, q_lat = projection.to_geographic(q[:, 0], q[:, 1])
    return G.inv(lon, lat, q_lon, q_lat)[2]


BANDS = [(0, 1e3), (1e3, 1e4), (1e4, 5e4), (5e4, 2e5), (2e5, 1e9), (0, 2e5)]


def report(err, dist, label):
    print(label)
    for lo, hi in BANDS:
        sel = (dist >= lo) & (dist < hi)
        if sel.any():
            a = np.abs(err[sel])
            name = "ALL <= 200 km" if (lo, hi) == (0, 2e5) else f"{lo / 1e3:g}-{min(hi, 9e5) / 1e3:g} km"
            print(
                f"  {name:>14}: n={sel.sum():6d}  max |err| {a.max():.3e} m  p95 {np.percentile(a, 95):.3e} m"
                f"  median {np.median(a):.3e} m"
            )


def accuracy(line, n_all: int, n_region: int, n_near: int, n_hard: int, n_literal: int) -> None:
    from test_geodesy import brute_force_distance, near_line_points, segments_of

    segs = segments_of(line)
    proj = LocalProjection.from_bounds(REGION)
    rng = np.random.default_rng(2024)
    lon_all = rng.uniform(REGION[0], REGION[2], n_all)
    lat_all = rng.uniform(REGION[1], REGION[3], n_all)
    geo = nearest_points_on_lines(lon_all, lat_all, line).distance_m.to_numpy()
    pla = nearest_points_on_lines(lon_all, lat_all, line, method="planar").distance_m.to_numpy()
    naive = naive_plane(lon_all, lat_all, line, proj)
    hard = np.argsort(-np.abs(naive - geo))[:n_hard]

    rng = np.random.default_rng(7)
    lon1 = rng.uniform(REGION[0], REGION[2], n_region)
    lat1 = rng.uniform(REGION[1], REGION[3], n_region)
    lon2, lat2 = near_line_points(segs, n_near, seed=8, max_offset_m=2000.0)
    lon = np.concatenate([lon1, lon2, lon_all[hard]])
    lat = np.concatenate([lat1, lat2, lat_all[hard]])
    print(
        f"\n== accuracy A: {lon.size:,} points ({n_region} uniform in the region, {n_near} within 2 km "
        f"of the line, {n_hard} hardest of section B) vs brute-force truth (geodesic densification, "
        "exhaustive with triangle-inequality pruning, tol 1e-6 m)"
    )
    t0 = time.perf_counter()
    truth = brute_force_distance(lon, lat, segs)
    print(f"brute force: {time.perf_counter() - t0:.1f} s")
    for method in ("geodesic", "planar"):
        err = nearest_points_on_lines(lon, lat, line, method=method).distance_m.to_numpy() - truth
        report(err, truth, f"method={method}")
    report(
        naive_plane(lon, lat, line, proj) - truth,
        truth,
        "baseline: nearest point in one fixed aeqd plane (no candidates, no refinement) + Geod.inv",
    )

    print(f"\n== accuracy B: {n_all:,} uniform points, error vs the geodesic method (validated in A)")
    report(pla - geo, geo, "method=planar")
    report(naive - geo, geo, "baseline: nearest point in one fixed aeqd plane + Geod.inv")

    # the literal recipe: every segment densified at 5 m along its geodesic, min of Geod.inv
    if n_literal:
        az, _, length = G.inv(*segs.T)
        m = np.maximum(np.ceil(np.asarray(length) / 5.0).astype(int), 1)
        seg = np.repeat(np.arange(length.size), m + 1)
        j = np.arange(seg.size) - np.repeat(np.cumsum(m + 1) - (m + 1), m + 1)
        pos = j * np.repeat(np.asarray(length) / m, m + 1)
        dl, dla, _ = G.fwd(segs[seg, 0], segs[seg, 1], np.asarray(az)[seg], pos)
        sub = np.arange(0, lon.size, max(lon.size // n_literal, 1))[:n_literal]
        print()
        lit = np.array([G.inv(np.full(dl.size, lon[i]), np.full(dl.size, lat[i]), dl, dla)[2].min() for i in sub])
        d = np.abs(lit - truth[sub])
        print(
            f"cross-check, literal 5 m densification ({dl.size:,} samples) on {sub.size} points: "
            f"max |literal - brute| {d.max():.2e} m (5 m spacing overestimates by <= 2.5**2/(8 d))"
        )

    # straight-in-projection chords vs geodesic segments, at each segment's midpoint
    p = LocalProjection.from_lonlat(np.r_[segs[:, 0], segs[:, 2]], np.r_[segs[:, 1], segs[:, 3]])
    az, _, length = G.inv(*segs.T)
    mlon, mlat, _ = G.fwd(segs[:, 0], segs[:, 1], az, np.asarray(length) / 2)
    for kind in ("aeqd", "tmerc"):
        q = LocalProjection(p.lon_0, p.lat_0, kind=kind)
        ax, ay = q.to_local(segs[:, 0], segs[:, 1])
        bx, by = q.to_local(segs[:, 2], segs[:, 3])
        mx, my = q.to_local(mlon, mlat)
        chord_mid = q.to_geographic((ax + bx) / 2, (ay + by) / 2)
        off = G.inv(mlon, mlat, *chord_mid)[2]
        print(
            f"chord straight in local {kind} vs geodesic, at segment midpoints: max {off.max():.3f} m, "
            f"median {np.median(off):.4f} m (segments {np.median(length) / 1e3:.2f} km median, "
            f"{np.max(length) / 1e3:.1f} km max)"
        )
    ll_mid_lon = (segs[:, 0] + segs[:, 2]) / 2
    ll_mid_lat = (segs[:, 1] + segs[:, 3]) / 2
    off = G.inv(mlon, mlat, ll_mid_lon, ll_mid_lat)[2]
    print(
        f"chord straight in lon/lat degrees vs geodesic, at midpoints: max {off.max():.2f} m, "
        f"median {np.median(off):.3f} m"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--loop-subset", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--accuracy", action="store_true", help="also measure errors vs brute force")
    ap.add_argument("--accuracy-points", type=int, default=5_000)
    ap.add_argument("--near-points", type=int, default=1_000)
    ap.add_argument("--hard-points", type=int, default=500)
    ap.add_argument("--literal-points", type=int, default=30)
    ap.add_argument(
        "--dense-spacing",
        type=float,
        default=100.0,
        help="also time against the boundary densified to this vertex spacing (m); 0: skip",
    )
    args = ap.parse_args()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, shapely {shapely.__version__}, "
        f"pyproj {pyproj.__version__} (PROJ {pyproj.proj_version_str}), {platform.machine()}, "
        f"{os.cpu_count()} CPU(s)"
    )
    line = boundary()
    speed(line, args.points, args.loop_subset, args.repeat, "the ARM-AZE boundary (Natural Earth 10m)")
    if args.dense_spacing > 0:
        dense = densify(line, args.dense_spacing)
        speed(
            dense,
            args.points,
            max(args.loop_subset // 10, 100),
            args.repeat,
            f"the same boundary densified to <= {args.dense_spacing:g} m vertex spacing",
        )
    if args.accuracy:
        accuracy(line, args.points, args.accuracy_points, args.near_points, args.hard_points, args.literal_points)


if __name__ == "__main__":
    main()
