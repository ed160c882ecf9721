"""`borderkit check FILE -o OUT` end to end against pyarrow alone and the kernels alone (a script, not a test).

Usage (from the repository root)::

    python benchmarks/bench_check_cli.py                 # 1M rows, CSV->CSV and GeoParquet->GeoParquet
    python benchmarks/bench_check_cli.py --rows 200000   # smaller
    python benchmarks/bench_check_cli.py --one-point 7   # also: 7 cold one-point runs vs import shapely, pyproj
    python benchmarks/bench_check_cli.py --rows 0 --one-point 7 --compare-src /tmp/base/src
                                                         # only the one-point runs, and another checkout's
                                                         # sources (e.g. ``git archive BASE src``) in the same loop

What is measured, in one run, on N synthetic points near the bundled lines (a random vertex of the
``osm-2017`` line plus a uniform offset of up to 0.2 degrees in longitude and latitude; fixed seed),
against the case's four line sources (every source, its territories and its other borders):

* ``read``: pyarrow alone reading the input (``pyarrow.csv.read_csv`` / ``pyarrow.parquet.read_table``);
* ``kernels``: the compiled queries alone, on the coordinate arrays, with the indexes built beforehand
  (per source: ``LineIndex.query`` on the line, ``PolygonIndex.query`` on the territories,
  ``LineIndex.query`` on the other borders) — what :mod:`borderkit._fastgeo` computes and nothing else;
* ``write``: pyarrow alone writing the CLI's output table (read back from the CLI's own output file,
  so the same columns and cells): ``pyarrow.csv.write_csv`` / ``pyarrow.parquet.write_table``;
* ``cli``: ``python -m borderkit -q check IN -o OUT --overwrite`` in a child process, end to end
  (interpreter start, imports, reading and validating, index build, kernels, glue, writing).

Times are CPU seconds (user + system; of the child for ``cli``), which a shared, loaded machine
disturbs much less than wall time; wall seconds are printed too, with the load average. The
measure of issue 15 ("reading, writing and glue add at most 50 % to the kernels' own compute time,
where reading and writing are priced at what pyarrow alone takes") is::

    excess = cli - kernels - (read + write)      # what borderkit adds beyond the kernels and pyarrow I/O
    met    = excess <= 0.5 * kernels

and the ratio ``(cli - kernels) / (read + write)`` is printed as well. Peak memory of the CLI is its
maximum resident set size (``ru_maxrss`` of the child), also per point.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def cpu(fn):
    t0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - t0, time.perf_counter() - w0, out


def child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, int]:
    """(cpu s, wall s, max RSS bytes, exit code) of one child process.

    The peak memory is GNU time's (``/usr/bin/time -f %M``) when it is installed: the ``ru_maxrss``
    that ``wait4`` gives for a child of this process is at least this process's own resident size
    when it forked (Linux keeps the high-water mark across ``exec``), so after the benchmark has read
    a 1M-row table every child would seem to take ~1.4 GB. GNU time forks the command from its own
    small process. The CPU time is the same either way (``wait4`` counts the reaped grandchild).
    """
    import shutil

    time_bin = shutil.which("time", path="/usr/bin:/bin")
    rss_file = None
    if time_bin is not None:
        fd, rss_file = tempfile.mkstemp(prefix="bk-rss-")
        os.close(fd)
        cmd = [time_bin, "-f", "%M", "-o", rss_file, *cmd]
    w0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - w0
    rc = os.waitstatus_to_exitcode(status)
    if rc not in (0, 10):
        sys.exit(f"{' '.join(cmd)} failed ({rc}): {p.stderr.read().decode() if p.stderr else ''}")
    rss = ru.ru_maxrss * 1024
    if rss_file is not None:
        text = Path(rss_file).read_text().strip().splitlines()
        os.unlink(rss_file)
        rss = int(text[-1]) * 1024 if text and text[-1].isdigit() else rss
    return ru.ru_utime + ru.ru_stime, wall, rss, rc


def make_points(n: int, folder: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    import geopandas as gpd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from borderkit.locate import case_line_models

    osm = next(m for m in case_line_models("armenia-azerbaijan") if m.source == "osm-2017")
    rng = np.random.default_rng(15)
    k = rng.integers(0, osm.segs.a_lon.size, n)
    lon = np.round(osm.segs.a_lon[k] + rng.uniform(-0.2, 0.2, n), 6)
    lat = np.round(osm.segs.a_lat[k] + rng.uniform(-0.2, 0.2, n), 6)
    csv = folder / "points.csv"
    pacsv.write_csv(pa.table({"id": np.arange(n), "latitude": lat, "longitude": lon}), csv)
    pq = folder / "points.parquet"
    gpd.GeoDataFrame({"id": np.arange(n)}, geometry=gpd.points_from_xy(lon, lat), crs=4326).to_parquet(pq)
    return csv, pq, lon, lat


def kernels(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    from borderkit.locate import prepare

    models = prepare(case="armenia-azerbaijan")
    n = lon.size
    jobs = []
    for m in models:  # indexes built (and numba's cached code loaded) before timing
        jobs.append(m.line_index(n))
        if m.has_territories:
            jobs.append(m.polygon_index())
        if m.others is not None:
            jobs.append(m.others.line_index(n))
    for j in jobs:
        j.query(lon[:1000], lat[:1000])
    c, w, _ = cpu(lambda: [j.query(lon, lat) for j in jobs])
    return c, w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--one-point", type=int, default=0, metavar="RUNS",
                    help="also time RUNS one-point runs (cold cache and warm) against import shapely, pyproj")
    ap.add_argument("--compare-src", type=Path, action="append", default=[], metavar="SRC",
                    help="with --one-point: also time the one-point check of the sources in SRC (another checkout's "
                         "src folder), interleaved in the same loop; repeatable")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import pyarrow.csv as pacsv
    import pyarrow.parquet as papq

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    py = sys.executable
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bk-bench-check-") as tmp:
        folder = Path(tmp)
        env["BORDERKIT_CACHE"] = str(folder / "cache")
        n = args.rows
        if n <= 0:  # the one-point runs only
            if args.one_point:
                one_point(args.one_point, py, env, folder, args.compare_src)
            return
        csv, pq, lon, lat = make_points(n, folder)
        k_cpu, k_wall = kernels(lon, lat)
        print(f"kernels alone: {k_cpu:.2f} s CPU ({k_wall:.2f} s wall), {n / k_cpu / 1e6:.2f} M points/s "
              f"for the 4 sources (11 queries per point)")
        # one warm-up CLI run: the cache of the case's models and numba's cache are in place after it
        child([py, "-m", "borderkit", "-q", "check", str(csv), "-o", str(folder / "warm.csv")], env)
        rows = []
        for kind, src in (("CSV -> CSV", csv), ("GeoParquet -> GeoParquet", pq)):
            out = folder / ("out.csv" if src == csv else "out.parquet")
            c_cpu, c_wall, rss, _ = child([py, "-m", "borderkit", "-q", "check", str(src), "-o", str(out),
                                           "--overwrite"], env)
            if src == csv:
                r_cpu, r_wall, _ = cpu(lambda: pacsv.read_csv(src))
                table = pacsv.read_csv(out)
                w_cpu, w_wall, _ = cpu(lambda: pacsv.write_csv(table, folder / "pa.csv"))
            else:
                r_cpu, r_wall, _ = cpu(lambda: papq.read_table(src))
                table = papq.read_table(out)
                w_cpu, w_wall, _ = cpu(lambda: papq.write_table(table, folder / "pa.parquet"))
            excess = c_cpu - k_cpu - (r_cpu + w_cpu)
            ratio = (c_cpu - k_cpu) / (r_cpu + w_cpu)
            rows.append((kind, r_cpu, w_cpu, c_cpu, c_wall, excess, ratio, rss))
            print(f"{kind}: pyarrow read {r_cpu:.2f} s, pyarrow write {w_cpu:.2f} s ({table.num_columns} columns), "
                  f"CLI {c_cpu:.2f} s CPU ({c_wall:.2f} s wall), load {os.getloadavg()[0]:.1f}")
            print(f"   excess = CLI - kernels - (read + write) = {excess:.2f} s = {excess / k_cpu:.0%} of the kernels "
                  f"(target <= 50 %: {'met' if excess <= 0.5 * k_cpu else 'NOT met'}); "
                  f"(CLI - kernels) / (read + write) = {ratio:.1f}; peak RSS {rss / 2**20:.0f} MiB = "
                  f"{rss / n:.0f} bytes/point")
        if args.one_point:
            one_point(args.one_point, py, env, folder, args.compare_src)
    print(f"load at the end {os.getloadavg()}; max RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} KiB")


def one_point(runs: int, py: str, env: dict[str, str], folder: Path, others: list[Path] = ()) -> None:
    """Cold one-point runs (a new process each; the disk cache first removed, then kept) vs the imports alone.

    Every source tree is byte-compiled first (``compileall``), as an installed package is: without it
    a checkout run under ``PYTHONDONTWRITEBYTECODE`` compiles borderkit's modules on every start, a cost
    no installed borderkit pays. Each tree gets its own cache folder. Wall and CPU (user + system of the
    child) medians are printed, with the load average before and after the loop.
    """
    import compileall
    import shutil
    import statistics

    trees = [("this checkout", ROOT / "src"), *((str(p), Path(p).resolve()) for p in others)]
    for _, src in trees:
        compileall.compile_dir(str(src / "borderkit"), quiet=1)
    cmd = [py, "-m", "borderkit", "check", "--lat", "39.60", "--lon", "46.23", "--json"]
    envs = {label: dict(env, PYTHONPATH=str(src), BORDERKIT_CACHE=str(folder / f"cache-{k}"))
            for k, (label, src) in enumerate(trees)}
    for e in envs.values():
        e.pop("PYTHONDONTWRITEBYTECODE", None)
    times: dict[str, list[tuple[float, float]]] = {"import shapely, pyproj": []}
    print(f"one point: {runs} interleaved runs, load before {os.getloadavg()}")
    for _ in range(runs):  # interleaved, so load changes hit all alike
        times["import shapely, pyproj"].append(child([py, "-c", "import shapely, pyproj"], env)[:2])
        for label, e in envs.items():
            shutil.rmtree(e["BORDERKIT_CACHE"], ignore_errors=True)
            times.setdefault(f"check ({label}), no disk cache", []).append(child(cmd, e)[:2])
            times.setdefault(f"check ({label}), disk cache", []).append(child(cmd, e)[:2])
    print(f"load after {os.getloadavg()}")
    for name, xs in times.items():
        print(f"{name}: median {statistics.median(x[1] for x in xs):.3f} s wall, "
              f"{statistics.median(x[0] for x in xs):.3f} s CPU; fastest {min(x[1] for x in xs):.3f} s wall, "
              f"{min(x[0] for x in xs):.3f} s CPU ({runs} runs)")
    for label, e in envs.items():  # where the time goes: CPU of each step in one process, best of the runs
        rows = []
        for _ in range(runs):
            out = subprocess.run([py, "-c", _STAGES], env=e, capture_output=True, text=True, check=True).stdout
            rows.append([float(v) for v in out.split()])
        best = np.min(np.array(rows), axis=0)
        print(f"stages ({label}), CPU s, best of {runs}: " + ", ".join(
            f"{name} {v:.4f}" for name, v in zip(_STAGE_NAMES, best, strict=True)))


_STAGE_NAMES = ("numpy+shapely+pyproj", "borderkit CLI modules+click", "registry check", "cached models",
                "one point, all sources")
_STAGES = """
import time
c0 = time.process_time()
import numpy, shapely, pyproj
c1 = time.process_time()
import borderkit.cli.main, borderkit.cli.check_cmd, borderkit.locate as L
c2 = time.process_time()
from borderkit import registry
registry.verify("armenia-azerbaijan")
c3 = time.process_time()
L.case_line_models("armenia-azerbaijan")  # verifies the files again, then reads the cache
c4 = time.process_time()
L.locate_point(46.23, 39.60, method="exact", case="armenia-azerbaijan")
c5 = time.process_time()
print(c1 - c0, c2 - c1, c3 - c2, (c4 - c3) - (c3 - c2), c5 - c4)
"""


if __name__ == "__main__":
    main()
