"""Benchmark of borderkit.locate's fast engine (a script, not a test).

Usage (from the repository root)::

    python benchmarks/bench_locate.py                  # 1M and 10M points, one run each
    python benchmarks/bench_locate.py --sizes 1000000  # only 1M
    python benchmarks/bench_locate.py --full-baseline  # run geopandas on 10M too (slow) instead of extrapolating

What is measured, on uniform random points over the case region (43.4–50.9 E, 38.3–41.9 N),
against the bundled OSM-derived Armenia–Azerbaijan line (``osm-2017`` sections ``mainland``
and ``nakhchivan``) and the ``osm-2017`` territories, one core (numba's threading is not used),
CPU time of one run after a warm-up call that compiles/loads the kernels:

1. Side/territory classification: ``PolygonIndex.query`` (which of the source's party polygons
   contain each point) against shapely's prepared ``contains_xy``, polygon by polygon, on the same
   polygons — both for ARM+AZE only and for all six parties of the source. The answers are
   compared point by point.
2. Signed distance in metres: ``LineIndex.query`` (nearest point, geodesic distance, side) plus the
   sign, against the obvious geopandas way: ``GeoSeries.from_xy(...).to_crs(EPSG:32638)`` and
   ``.distance(line in EPSG:32638)`` (planar UTM metres, vectorised GEOS). The accuracy bound
   (≤ 0.5 m vs the exact geodesic engine, up to 200 km) is verified in the same run on a random
   sample against ``borderkit.geodesy.nearest_points_on_lines``; the side is compared too. The
   geopandas answer's own error is shown for scale.
3. Peak memory per point: ``tracemalloc`` peak of the fast signed-distance call divided by the
   number of points (numpy allocations; the compiled kernels allocate nothing), and the process'
   maximum resident set size.

Two rates are given for the fast engine: the query itself (the index built beforehand, as
:func:`borderkit.locate.locate` keeps it on the prepared model: the per-core throughput) and end to
end with the index build included (it is built once per model, 0.02-0.06 s). ``--repeat N`` runs
the whole comparison N times, alternately, and reports the median of each rate and ratio; the
1-minute load average of the machine is printed with every run (the machine is shared). numba is
limited to one thread, and the kernels are serial anyway: every rate is per core.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np
import pyproj
import shapely

REGION = (43.4, 38.3, 50.9, 41.9)
G = pyproj.Geod(ellps="WGS84")


def cpu(fn):
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def osm_line_and_territories():
    import borderkit.datasets as ds
    from borderkit.locate import prepare

    case = ds.load()
    lines = case.lines[(case.lines.source == "osm-2017") & case.lines.section.isin(["mainland", "nakhchivan"])]
    model = prepare(lines, case.territories, sources="osm-2017")[0]
    terr = case.territories[case.territories.source == "osm-2017"].sort_values("party")
    return lines, model, terr


def fast_signed(model, lon, lat, chunk=1_000_000):
    """Signed distance (positive on ARM's side) with the fast engine, in chunks of 1M points."""
    n = lon.size
    out = np.empty(n)
    idx = model.line_index(n)
    row = model.segs.line[idx.piece_segment]  # line row of every indexed piece (a few thousand)
    arm_left = (model.left_party == "ARM")[row]
    arm_right = (model.right_party == "ARM")[row]
    for a in range(0, n, chunk):
        r = idx.query(lon[a:a + chunk], lat[a:a + chunk])
        seg = r["seg"]
        arm_side = np.where(r["left"].view(bool), arm_left[seg], arm_right[seg])
        out[a:a + chunk] = np.where(arm_side, r["distance_m"], -r["distance_m"])
    return out


def load1() -> float:
    return os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--sample", type=int, default=20_000, help="points checked against the exact engine")
    ap.add_argument("--full-baseline", action="store_true", help="run geopandas on every size (slow)")
    ap.add_argument("--repeat", type=int, default=1, help="run everything N times; report medians")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()

    import geopandas as gpd
    import numba

    from borderkit._fastgeo import PRESORT_MIN_POINTS, PolygonIndex
    from borderkit.geodesy import nearest_with_side

    numba.set_num_threads(1)
    lines, model, terr = osm_line_and_territories()
    n_vertices = int(shapely.get_num_coordinates(lines.geometry.values).sum())
    print(f"# bench_locate: Python {platform.python_version()}, numpy {np.__version__}, shapely "
          f"{shapely.__version__}, pyproj {pyproj.__version__}, numba {numba.__version__}, "
          f"geopandas {gpd.__version__}; {platform.machine()} {platform.processor() or ''}; "
          f"{os.cpu_count()} CPUs, load {load1():.2f}")
    print(f"# line: osm-2017 mainland + nakhchivan, {n_vertices} vertices, {model.segs.length.size} segments "
          f"({model.pieces()['a_lon'].size} pieces <= 1 km); territories: osm-2017, "
          f"{len(terr)} parties, {int(shapely.get_num_coordinates(terr.geometry.values).sum())} vertices")
    rng = np.random.default_rng(args.seed)
    # warm-up: load/compile the kernels
    w_lon = rng.uniform(REGION[0], REGION[2], 1000)
    w_lat = rng.uniform(REGION[1], REGION[3], 1000)
    PolygonIndex(terr.geometry.values).query(w_lon, w_lat)
    fast_signed(model, w_lon, w_lat)
    # the large-query path too (its spatial-order kernels), so that no run pays a compilation
    model.line_index(PRESORT_MIN_POINTS).query(w_lon, w_lat, presort=True)
    model._line_index.clear()

    line_utm = gpd.GeoSeries([shapely.union_all(lines.geometry.values)], crs=4326).to_crs(32638).iloc[0]
    rows: dict[tuple[int, str], list[tuple[float, float, float, float, float]]] = {}
    for n in args.sizes:
        lon = rng.uniform(REGION[0], REGION[2], n)
        lat = rng.uniform(REGION[1], REGION[3], n)
        baseline_1m = None
        for rep in range(args.repeat):
            print(f"\n## {n:,} points, run {rep + 1}/{args.repeat}, load {load1():.2f}")

            # 1. classification
            for label, sel in (("ARM+AZE", terr.party.isin(["ARM", "AZE"])),
                               ("all 6 parties", terr.party == terr.party)):
                geoms = list(terr.geometry[sel])
                t_build, pidx = cpu(lambda g=geoms: PolygonIndex(g))
                t_fast, masks = cpu(lambda p=pidx: p.query(lon, lat))

                def shapely_way(g=geoms):
                    out = np.zeros(n, dtype=np.uint64)
                    for k, poly in enumerate(g):
                        shapely.prepare(poly)
                        out |= shapely.contains_xy(poly, lon, lat).astype(np.uint64) << np.uint64(k)
                    return out

                t_ref, ref = cpu(shapely_way)
                same = int((masks == ref).sum())
                print(f"classification {label:14s}: fast query {n / t_fast / 1e6:6.1f} M pts/s ({t_fast:.3f} s; "
                      f"with index build {n / (t_fast + t_build) / 1e6:5.1f}) | shapely prepared contains_xy "
                      f"{n / t_ref / 1e6:5.2f} M pts/s ({t_ref:.2f} s) | ratio {t_ref / t_fast:5.1f}x "
                      f"({t_ref / (t_fast + t_build):5.1f}x with build) | identical answers {same:,}/{n:,}")
                rows.setdefault((n, f"classification ({label})"), []).append(
                    (n / t_fast, n / (t_fast + t_build), n / t_ref, t_ref / t_fast, t_ref / (t_fast + t_build)))

            # 2. signed distance
            model._line_index.clear()
            t_build, _ = cpu(lambda: model.line_index(n))
            t_fast, signed = cpu(lambda: fast_signed(model, lon, lat))
            tracemalloc.start()
            fast_signed(model, lon, lat)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            tracemalloc.start()
            model.line_index(n).query(lon[:1_000_000], lat[:1_000_000])
            _, peak_q = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            if args.full_baseline or n <= 1_000_000 or baseline_1m is None:
                m = n if (args.full_baseline or n <= 1_000_000) else 1_000_000

                def gpd_way(m=m):
                    pts = gpd.GeoSeries.from_xy(lon[:m], lat[:m], crs=4326).to_crs(32638)
                    return pts.distance(line_utm).to_numpy()

                t_gpd, d_gpd = cpu(gpd_way)
                per_point = t_gpd / m
                baseline_1m = per_point
                extrap = m < n
            else:
                per_point = baseline_1m
                extrap = True
                d_gpd = None
            t_ref = per_point * n
            print(f"signed distance: fast query {n / t_fast / 1e6:5.2f} M pts/s ({t_fast:.2f} s; with index build "
                  f"{t_build:.2f} s: {n / (t_fast + t_build) / 1e6:5.2f}) | geopandas to_crs+distance "
                  f"{1 / per_point / 1e6:5.3f} M pts/s ({t_ref:.1f} s{' extrapolated from 1M' if extrap else ''}) | "
                  f"ratio {t_ref / t_fast:5.1f}x ({t_ref / (t_fast + t_build):5.1f}x with build)")
            print(f"memory: tracemalloc peak, signed distance in 1M chunks {peak / n:.1f} bytes/point, "
                  f"LineIndex.query alone on 1M points {peak_q / min(n, 1_000_000):.1f} bytes/point; max RSS so far "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
            rows.setdefault((n, "signed distance"), []).append(
                (n / t_fast, n / (t_fast + t_build), 1 / per_point, t_ref / t_fast, t_ref / (t_fast + t_build)))

            if rep > 0:
                continue
            # accuracy in the same run
            k = min(args.sample, n)
            pick = rng.choice(n, k, replace=False)
            near, left = nearest_with_side(lon[pick], lat[pick], model.segs)
            row = model.segs.line[near.seg]
            arm_side = np.where(left, model.left_party[row] == "ARM", model.right_party[row] == "ARM")
            exact = np.where(arm_side, near.dist, -near.dist)
            err = np.abs(np.abs(signed[pick]) - near.dist)
            within = near.dist <= 200e3
            sign_ok = np.sign(signed[pick]) == np.sign(exact)
            print(f"accuracy vs exact geodesic engine, {k:,} sampled points: max |error| {err[within].max():.2e} m "
                  f"(<= 200 km, {int(within.sum()):,} points), {err.max():.2e} m (all, up to "
                  f"{near.dist.max() / 1e3:.0f} km); p99 {np.percentile(err, 99):.2e} m; side agrees "
                  f"{int(sign_ok.sum()):,}/{k:,}; bound 0.5 m {'MET' if err[within].max() <= 0.5 else 'NOT MET'}")
            if d_gpd is not None:
                gpd_err = np.abs(d_gpd[pick[pick < d_gpd.size]] - near.dist[pick < d_gpd.size])
                print(f"  for scale, geopandas UTM 38N planar distance: max |error| {gpd_err.max():.1f} m, "
                      f"median {np.median(gpd_err):.1f} m")

    print(f"\n| points | task | fast query (M pts/s) | with index build | baseline (M pts/s) | ratio | ratio with "
          f"build |  (medians of {args.repeat})")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (n, task), vals in rows.items():
        f, fb, b, r, rb = np.median(np.array(vals), axis=0)
        print(f"| {n:,} | {task} | {f / 1e6:.2f} | {fb / 1e6:.2f} | {b / 1e6:.3f} | {r:.1f}x | {rb:.1f}x |")


if __name__ == "__main__":
    sys.exit(main())
