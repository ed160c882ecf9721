"""Benchmark of the map's display simplification and of ``borderkit map`` on a detailed line (a script, not a test).

Usage (from the repository root)::

    python benchmarks/bench_map.py                       # 50k, 100k, 200k, 1M vertices + the CLI on 1M
    python benchmarks/bench_map.py --sizes 200000 --no-cli
    python benchmarks/bench_map.py --case-size --runs 5   # the case map: bytes and load time in Chromium

``--case-size`` writes the bundled case's map with ``borderkit map`` (offline and online) and,
for comparison, the offline map without the vector basemap (``--layers`` without ``basemap``),
then opens each in Debian's Chromium (Playwright; every request answered from the vendored
files or a blank tile, nothing from the network) ``--runs`` times, alternating the files, and
reports the median time from navigation start to the ``load`` event and to the first placed
labels (the page sets ``data-borderkit-ready`` after its label placement ran once; polled on
every animation frame, so ±16 ms).

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


_READY = """() => {
  if (document.documentElement.getAttribute("data-borderkit-ready") !== "1") { return false; }
  window.__bk_ready_ms = window.__bk_ready_ms || performance.now();
  return true;
}"""
"""Polled on every animation frame: the first frame after the page's first label placement (±16 ms)."""


def _router(page_url: str, cdn: dict, blank_png: bytes):
    """The page from its file, the pinned CDN files from the vendored copies, anything else a blank tile.

    (Playwright passes the request as a second argument to a handler that takes two: hence a closure.)
    """

    def route(r):
        u = r.request.url
        if u == page_url:
            return r.continue_()
        cors = {"Access-Control-Allow-Origin": "*"}
        if u in cdn:
            ctype = "text/css" if u.endswith(".css") else "application/javascript"
            return r.fulfill(status=200, body=cdn[u].read_bytes(), headers={"Content-Type": ctype, **cors})
        return r.fulfill(status=200, body=blank_png, headers={"Content-Type": "image/png", **cors})

    return route


def case_size(runs: int) -> None:
    """Bytes of the case map (offline, online, offline without the basemap) and load times in Chromium."""
    import os
    import statistics

    from playwright.sync_api import sync_playwright

    from borderkit.maps.context import LAYER_NAMES
    from test_browser import BLANK_PNG, LAUNCH_ARGS, _cdn_files

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory() as tmp:
        maps = {
            "offline": ["--offline"],
            "online": [],
            "offline, no basemap": ["--offline", "--layers", ",".join(n for n in LAYER_NAMES if n != "basemap")],
        }
        paths = {}
        for name, opts in maps.items():
            out = Path(tmp) / (name.replace(", ", "-").replace(" ", "-") + ".html")
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "borderkit", "map", *opts, "-o", str(out)], env=env, check=True,
                           capture_output=True)
            paths[name] = (out, time.perf_counter() - t0, out.stat().st_size)
        cdn = _cdn_files()
        times: dict[str, list[tuple[float, float]]] = {n: [] for n in maps}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
            for _ in range(runs):
                for name, (path, _, _) in paths.items():
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    page.route("**/*", _router(path.resolve().as_uri(), cdn, BLANK_PNG))
                    errors: list[str] = []
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    page.goto(path.resolve().as_uri(), wait_until="commit")
                    try:
                        page.wait_for_function(_READY, polling="raf", timeout=120000)
                    except Exception as exc:  # say which map and why, then stop
                        raise SystemExit(f"{name}: the page never became ready: {errors or exc}") from None
                    page.wait_for_load_state("load")
                    load_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventStart")
                    ready_ms = page.evaluate("window.__bk_ready_ms")
                    times[name].append((load_ms, ready_ms))
                    page.close()
            browser.close()
    print("| map | bytes | written in (s) | to `load` (ms, median) | to first labels (ms, median) |")
    print("|---|---:|---:|---:|---:|")
    for name, (_, dt, size) in paths.items():
        loads = statistics.median(t[0] for t in times[name])
        ready = statistics.median(t[1] for t in times[name])
        print(f"| {name} | {size:,} | {dt:.1f} | {loads:.0f} | {ready:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[50_000, 100_000, 200_000, 1_000_000])
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--case-size", action="store_true", help="the case map's bytes and load time in Chromium")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if args.case_size:
        case_size(args.runs)
        return
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
