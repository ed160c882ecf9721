"""The dask path against the best single process: one GeoParquet file of N points, checked end to end.

    PYTHONPATH=src python benchmarks/bench_scale.py --points 10000000 --workers 2

Both runs read the same GeoParquet 1.1 file (row groups of ``--row-group`` points, with the ``bbox``
covering column, which both paths leave unread), check
every point against the bundled case's four sources with ``expect="ARM"`` and write GeoParquet 1.1
with the ``bbox`` covering column:

* one process (``single``): the fastest one-process path of the library,
  ``locate.check_file_blocks`` (the file read block by block by ``io.blocks``, results as Arrow
  by ``check_arrays``) written block by block with ``io.geoparquet.PointParquetWriter`` — what
  ``borderkit check IN.parquet -o OUT.parquet`` does, plus the covering column the dask parts have;
* dask: ``borderkit.scale.check_parquet`` on a ``LocalCluster`` of ``--workers`` worker
  processes (one thread each), cluster start-up included;
* ``--with-geopandas`` adds the old one-process path (``geopandas.read_parquet`` →
  ``check_table`` → ``to_parquet``, the whole table in memory) as an extra row.

Each run is a fresh child process (so the one-off costs are counted the same way and the peak
memory is its own); the workers report their own peak RSS (``getrusage``) before the cluster
closes. ``rowgroup`` measures the memory in flight of one task: a fresh process loads the case
(as a worker does), then runs ``scale.check_row_group`` on one row group; its peak RSS minus its
RSS before the task, per point of the row group, is the memory a worker needs per point in flight.

CPU seconds (user + system) of each run's whole process tree come from ``getrusage`` of the
reaped children around each child run (every worker and nanny is reaped before its child
exits); the workers also report their own CPU, and the dask child its own (client, scheduler and
nannies live in it). On a shared machine compare CPU, not wall: on 2 idle cores the wall speed-up
is at most ``2 × CPU(one process) / CPU(dask)``. ``--src FILE`` reuses a file, ``--only`` runs one
path, ``--runs N`` alternates N pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (all its threads) or of its reaped children."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def make_file(path: Path, n: int, row_group: int, seed: int = 0) -> None:
    import geopandas as gpd
    import numpy as np

    from borderkit import datasets

    x0, y0, x1, y1 = datasets.load("armenia-azerbaijan").lines.total_bounds
    rng = np.random.default_rng(seed)
    # uniform over the lines' box widened by 1 degree: near the lines, deep inside ARM/AZE, in the neighbours
    g = gpd.GeoDataFrame({"id": np.arange(n)},
                         geometry=gpd.points_from_xy(rng.uniform(x0 - 1, x1 + 1, n), rng.uniform(y0 - 1, y1 + 1, n)),
                         crs=4326)
    g.to_parquet(path, write_covering_bbox=True, schema_version="1.1.0", row_group_size=row_group, index=False)


def child_single(src: str, out: str) -> dict:
    """The fastest one-process path: the file streamed block by block, written block by block."""

    from borderkit.io.geoparquet import PointParquetWriter
    from borderkit.locate import check_file_blocks, checked_table

    t0 = time.perf_counter()
    res = check_file_blocks(src, expect="ARM")
    verdicts: dict[str, int] = {}
    with PointParquetWriter(out, geometry=res.geometry, crs=res.crs, covering=True) as writer:
        for block in res.blocks:
            writer.write(checked_table(block.frame, block.results), block.lon, block.lat)
            for c in block.results.column("check__verdict").combine_chunks().dictionary_decode().value_counts():
                k = c["values"].as_py()
                if k is not None:
                    verdicts[k] = verdicts.get(k, 0) + c["counts"].as_py()
    return {"rows": writer.rows, "streamed": res.rejected is None, "total_s": time.perf_counter() - t0,
            "peak_rss_mb": _peak_mb(), "cpu_self_s": _cpu(), "verdicts": dict(sorted(verdicts.items()))}


def child_rowgroup(src: str, out: str) -> dict:
    """Memory in flight of one task: RSS before and peak RSS after ``check_row_group`` on row group 0."""
    import pyarrow.parquet as pq

    from borderkit import scale
    from borderkit.locate import prepare

    def status(key: str) -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))

    prepare()  # what a worker holds for the whole run (cached)
    rows = pq.ParquetFile(src).metadata.row_group(0).num_rows
    scale.check_row_group(src, 0, out, expect="ARM", method=scale.resolve_method("auto", 10**7))  # numba warm-up

    with open("/proc/self/clear_refs", "w") as f:  # reset the peak RSS (VmHWM) to the current RSS (Linux)
        f.write("5")
    rss_before = status("VmRSS")
    scale.check_row_group(src, 0, out, expect="ARM", method=scale.resolve_method("auto", 10**7))
    peak = status("VmHWM")
    return {"rows": rows, "rss_before_mb": rss_before / 2**20, "peak_mb": peak / 2**20,
            "bytes_per_point_in_flight": (peak - rss_before) / rows}


def child_geopandas(src: str, out: str) -> dict:
    import geopandas as gpd

    from borderkit.locate import check_table, prepare

    t0 = time.perf_counter()
    models = prepare()
    t_case = time.perf_counter() - t0
    t1 = time.perf_counter()
    for m in models:  # the indexes check_table would build on the first chunk (numba code from its cache)
        m.line_index(10**6)
        if m.others is not None:
            m.others.line_index(10**6)
        if m.has_territories:
            m.polygon_index()
    t_index = time.perf_counter() - t1
    t2 = time.perf_counter()
    pts = gpd.read_parquet(src)
    t_read = time.perf_counter() - t2
    t3 = time.perf_counter()
    res = check_table(pts, expect="ARM")
    t_check = time.perf_counter() - t3
    t4 = time.perf_counter()
    res.to_parquet(out, write_covering_bbox=True, schema_version="1.1.0", index=False)
    t_write = time.perf_counter() - t4
    return {"rows": len(res), "case_load_s": t_case, "index_build_s": t_index, "read_s": t_read,
            "check_s": t_check, "write_s": t_write, "total_s": time.perf_counter() - t0, "peak_rss_mb": _peak_mb(),
            "cpu_self_s": _cpu(), "sys_self_s": resource.getrusage(resource.RUSAGE_SELF).ru_stime,
            "verdicts": {str(k): int(v) for k, v in res["check__verdict"].value_counts().items()}}


def _worker_stats() -> dict:
    import resource as r

    from borderkit.locate import prepare

    t = time.perf_counter()
    prepare()  # cached in the worker: ~0 when the run already loaded it
    u = r.getrusage(r.RUSAGE_SELF)
    return {"peak_rss_mb": u.ru_maxrss / 1024.0, "prepare_again_s": time.perf_counter() - t,
            "cpu_s": u.ru_utime + u.ru_stime, "sys_s": u.ru_stime}


def child_dask(src: str, out: str, workers: int, memory_limit: str) -> dict:
    import distributed

    from borderkit import scale

    stats: dict = {}
    orig_close = distributed.Client.close

    def close(self, *a, **k):  # ask the workers for their peak RSS just before the run closes its client
        if not stats:
            try:
                stats.update(self.run(_worker_stats))
            except Exception as exc:  # noqa: BLE001 - a measurement, not the run
                stats["error"] = repr(exc)
        return orig_close(self, *a, **k)

    distributed.Client.close = close  # type: ignore[method-assign]
    t0 = time.perf_counter()
    s = scale.check_parquet(src, out, expect="ARM", workers=workers, memory_limit=memory_limit, progress=False,
                            overwrite=True)
    return {"rows": s.rows, "partitions": s.partitions, "workers": s.workers, "run_s": s.seconds, "startup_s": getattr(s, "startup_seconds", float("nan")),
            "total_s": time.perf_counter() - t0, "worker_stats": stats, "verdicts": s.verdicts,
            # this process: the client, the scheduler and the nannies of the LocalCluster
            "cpu_self_s": _cpu()}


def _child(kind: str, *args: str) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, *args]
    c0, t0 = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), timeout=1800)
    if p.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    # every process of the run (the child, its workers, their children), each reaped before the child exits
    res["cpu_tree_s"] = _cpu(resource.RUSAGE_CHILDREN) - c0
    res["wall_s"] = time.perf_counter() - t0
    return res


def _report(n: int, single: dict, dsk: dict) -> None:
    print(f"one process (check_file_blocks + PointParquetWriter, streamed: {single['streamed']}): "
          f"{single['total_s']:.1f} s end to end ({n / single['total_s'] / 1e6:.2f} M points/s), "
          f"peak RSS {single['peak_rss_mb']:.0f} MB; CPU {single['cpu_tree_s']:.1f} s")
    ws = [v for v in dsk["worker_stats"].values() if isinstance(v, dict)]
    peaks = ", ".join(f"{w['peak_rss_mb']:.0f}" for w in ws)
    cpus = ", ".join(f"{w['cpu_s']:.1f}" for w in ws)
    print(f"dask {dsk['workers']} workers: {dsk['total_s']:.1f} s end to end incl. cluster start "
          f"({dsk['startup_s']:.1f} s; {n / dsk['total_s'] / 1e6:.2f} M points/s), peak RSS per worker "
          f"{peaks} MB; CPU {dsk['cpu_tree_s']:.1f} s in all "
          f"(workers {cpus} s; client + scheduler + nannies "
          f"{dsk['cpu_self_s']:.1f} s)")
    bound = 2 * single["cpu_tree_s"] / dsk["cpu_tree_s"]
    print(f"speed-up (wall): {single['total_s'] / dsk['total_s']:.2f}x; CPU one / CPU dask: "
          f"{single['cpu_tree_s'] / dsk['cpu_tree_s']:.2f} (bound on 2 idle cores {bound:.2f}x); "
          "verdict counts identical")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--row-group", type=int, default=500_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GiB")
    ap.add_argument("--runs", type=int, default=1, help="pairs of runs (one process, dask), alternating")
    ap.add_argument("--src", help="an existing GeoParquet file of points to use instead of writing one")
    ap.add_argument("--only", choices=["single", "dask"], help="run one path only")
    ap.add_argument("--with-geopandas", action="store_true", help="also the old whole-table geopandas path")
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        kind, *rest = a.child
        if kind == "make":
            make_file(Path(rest[0]), int(rest[1]), int(rest[2]))
            return
        kinds = {"single": child_single, "geopandas": child_geopandas, "rowgroup": child_rowgroup}
        res = kinds[kind](*rest) if kind in kinds else child_dask(rest[0], rest[1], int(rest[2]), rest[3])
        print(json.dumps(res))
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as d:
        if a.src:
            src = Path(a.src)
            import pyarrow.parquet as pq

            md = pq.ParquetFile(src).metadata
            a.points = md.num_rows
            print(f"file: {src}, {a.points:,} points, {md.num_row_groups} row groups")
        else:
            src = Path(d) / "points.parquet"
            t = time.perf_counter()
            # in a child: a forked child's peak RSS (ru_maxrss) starts at its parent's RSS, so the parent
            # must never hold the 10 M-point GeoDataFrame (it made the one-process peak read 3.6 GB, not 0.6)
            subprocess.run([sys.executable, __file__, "--child", "make", str(src), str(a.points), str(a.row_group)],
                           check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
            print(f"file: {a.points:,} points, row groups of {a.row_group:,}, {src.stat().st_size / 1e6:.0f} MB "
                  f"(written in {time.perf_counter() - t:.1f} s)")
        mem = _child("rowgroup", str(src), str(Path(d) / "rowgroup.parquet"))
        print(f"one task in flight: row group of {mem['rows']:,} points, RSS {mem['rss_before_mb']:.0f} MB before, "
              f"peak {mem['peak_mb']:.0f} MB: {mem['bytes_per_point_in_flight']:.0f} bytes per point")
        for run in range(a.runs):
            print(f"run {run + 1}; load before:", os.getloadavg())
            res = {}
            if a.only != "dask":
                res["single"] = _child("single", str(src), str(Path(d) / "single.parquet"))
                print("load between:", os.getloadavg())
            if a.with_geopandas:
                res["geopandas"] = _child("geopandas", str(src), str(Path(d) / "gpd.parquet"))
                print("load between:", os.getloadavg())
            if a.only != "single":
                res["dask"] = _child("dask", str(src), str(Path(d) / "dask_out"), str(a.workers), a.memory_limit)
                print("load after:", os.getloadavg())
            print(json.dumps(res, indent=1))
            if "single" in res and "dask" in res:
                assert res["single"]["verdicts"] == res["dask"]["verdicts"], res
                _report(a.points, res["single"], res["dask"])
                if "geopandas" in res:
                    g = res["geopandas"]
                    assert g["verdicts"] == res["dask"]["verdicts"], res
                    print(f"old geopandas one process: wall {g['total_s']:.1f} s, CPU {g['cpu_tree_s']:.1f} s, "
                          f"peak RSS {g['peak_rss_mb']:.0f} MB")
            else:
                (kind, r), = res.items()
                print(f"{kind}: wall {r['total_s']:.1f} s, CPU {r['cpu_tree_s']:.1f} s")


if __name__ == "__main__":
    main()
