"""Benchmark of the map's display simplification and of ``borderkit map`` on a detailed line (a script, not a test).

Usage (from the repository root)::

    python benchmarks/bench_map.py                       # 50k, 100k, 200k, 1M vertices + the CLI on 1M
    python benchmarks/bench_map.py --sizes 200000 --no-cli

The lines are y-monotone random walks (so they never cross themselves) over about
110 km x 10 km in the case region. Measured: wall time of
``borderkit.maps.layers.simplify_for_display`` at the default 30 m tolerance (local
azimuthal equidistant projection, GEOS topology-preserving Douglas-Peucker, and the
largest geodesic displacement of every original vertex from the simplified line), and
the end-to-end ``borderkit map LINE.geojson`` on the 1M-vertex line (reading,
validation, simplification, HTML), wall time and peak RSS of the child process.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def detailed_line(n: int, seed: int = 1) -> shapely.LineString:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    lat = 39.3 + 1.0 * t  # strictly increasing: a simple line
    lon = 45.7 + 0.05 * np.sin(t * 60) + 0.02 * np.cumsum(rng.normal(size=n)) / np.sqrt(n)
    return shapely.linestrings(np.column_stack([lon, lat]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[50_000, 100_000, 200_000, 1_000_000])
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args()
    from borderkit._projection import LocalProjection
    from borderkit.maps.layers import simplify_for_display

    print("| vertices | simplify_for_display (s) | vertices kept | largest displacement (m) |")
    print("|---:|---:|---:|---:|")
    for n in args.sizes:
        line = detailed_line(n)
        local = LocalProjection.from_bounds(line.bounds)
        t0 = time.perf_counter()
        (out,), worst = simplify_for_display([line], tolerance_m=30.0, local=local)
        dt = time.perf_counter() - t0
        print(f"| {n:,} | {dt:.2f} | {shapely.get_num_coordinates(out):,} | {worst:.2f} |")
    if args.no_cli:
        return
    from map_fixtures import synthetic_layers

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "line-1m.geojson"
        frame = synthetic_layers()["lines"].iloc[:1].copy()
        frame["geometry"] = [detailed_line(1_000_000)]
        frame.to_file(path, driver="GeoJSON")
        cmd = [sys.executable, "-m", "borderkit", "map", str(path), "-o", str(Path(tmp) / "m.html")]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src")}, check=False)
        dt = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"\nborderkit map on a 1,000,000-vertex line: exit {res.returncode}, {dt:.1f} s wall, "
            f"peak RSS {rss:.0f} MiB"
        )
        print(res.stdout.strip() or res.stderr.strip())


if __name__ == "__main__":
    main()
