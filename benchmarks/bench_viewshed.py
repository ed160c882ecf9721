"""Viewshed, line-of-sight and profile benchmarks (results go to BENCHMARKS.md by hand).

Viewshed: a 3600 × 3600 synthetic fractal DEM with 30 m cells (UTM 38N), observer
at the centre, 30 km radius, observer 2 m, target 0 m, k = 0.13 (GDAL ``-cc
0.87``). In the same run, and on the same GeoTIFF:

* ``gdal_viewshed`` (the program, e.g. Debian's gdal-bin) — process start, read,
  compute, write;
* ``GDALViewshedGenerate`` of the GDAL library in rasterio's wheel (in-process);
* borderkit end to end (``open_dem`` of the window + ``viewshed`` +
  ``to_geotiff``), and compute only (DEM already in memory).

Target: borderkit end to end ≤ 1.5 × the ``gdal_viewshed`` program. The cell
agreement of the outputs is printed too.

Line of sight: 10,000 random targets within 30 km, on the 30 m DEM and on the
bundled GLOBE DEM (1 km); profile: points per second along a long path.
Target: ≥ 10,000 targets (points) per second.

Usage::

    python benchmarks/bench_viewshed.py            # full size (about a minute)
    python benchmarks/bench_viewshed.py --size 1200 --repeat 3   # quicker
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def fractal_dem(n: int, seed: int = 2) -> np.ndarray:
    """A fractal (1/f^1.8 spectrum) surface, 500–3000 m, float32."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(n)
    k = np.hypot(*np.meshgrid(f, f))
    k[0, 0] = 1.0
    spec = (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))) / k**1.8
    spec[0, 0] = 0.0
    z = np.real(np.fft.ifft2(spec))
    return ((z - z.min()) / (z.max() - z.min()) * 2500.0 + 500.0).astype(np.float32)


def timed(fn, repeat: int) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=3600)
    ap.add_argument("--res", type=float, default=30.0)
    ap.add_argument("--radius-km", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--targets", type=int, default=10_000)
    args = ap.parse_args()

    import rasterio
    from affine import Affine
    from pyproj import Geod, Transformer
    from rasterio.crs import CRS

    from borderkit.terrain import _gdal, _kernels
    from borderkit.terrain.dem import DEM, open_dem
    from borderkit.terrain.profile import elevation_profile
    from borderkit.terrain.visibility import lines_of_sight, viewshed

    geod = Geod(ellps="WGS84")
    n, res, radius = args.size, args.res, args.radius_km * 1000.0
    tmp = Path(tempfile.mkdtemp(prefix="bench_viewshed_"))
    z = fractal_dem(n)
    cx, cy = Transformer.from_crs(4326, 32638, always_xy=True).transform(46.2, 39.55)
    left, top = round(cx - n / 2 * res), round(cy + n / 2 * res)
    transform = Affine(res, 0, left, 0, -res, top)
    dem_path = tmp / "fractal.tif"
    with rasterio.open(dem_path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="EPSG:32638", transform=transform, tiled=True, blockxsize=256, blockysize=256) as ds:
        ds.write(z, 1)
    mem = DEM(data=z, transform=transform, crs=CRS.from_epsg(32638), name="fractal")
    oc = n // 2
    ox, oy = left + (oc + 0.5) * res, top - (oc + 0.5) * res
    olon, olat = Transformer.from_crs(32638, 4326, always_xy=True).transform(ox, oy)
    kw = dict(observer_height_m=2.0, target_height_m=0.0, refraction=0.13, earth_radius_m=6378137.0)
    gkw = dict(x=ox, y=oy, radius_m=radius, observer_height_m=2.0, target_height_m=0.0, curvature_coefficient=0.87)
    deg = radius / 111_000.0 * 1.05
    bbox = (olon - deg / np.cos(np.radians(olat)), olat - deg, olon + deg / np.cos(np.radians(olat)), olat + deg)

    print(f"# borderkit viewshed benchmark — {n}×{n} cells of {res:g} m, radius {args.radius_km:g} km")
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba "
          f"{getattr(sys.modules.get('numba'), '__version__', 'absent') if _kernels.HAVE_NUMBA else 'absent'}, "
          f"rasterio {rasterio.__version__} (GDAL {rasterio.__gdal_version__}), CLI GDAL "
          f"{'.'.join(map(str, _gdal.gdal_version() or ())) or 'absent'}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}")

    t0 = time.perf_counter()
    viewshed((olon, olat), dem=mem, radius_m=radius, **kw)
    first = time.perf_counter() - t0

    def ours_e2e():
        d = open_dem(dem_path, bbox=bbox)
        vs = viewshed((olon, olat), dem=d, radius_m=radius, **kw)
        vs.to_geotiff(tmp / "ours.tif", overwrite=True)
        return vs

    rows = []
    t_e2e, all_e2e, vs = timed(ours_e2e, args.repeat)
    t_mem, _, vs_mem = timed(lambda: viewshed((olon, olat), dem=mem, radius_m=radius, **kw), args.repeat)
    rows.append(("borderkit end to end (read window + viewshed + write GeoTIFF)", t_e2e))
    rows.append(("borderkit viewshed only (DEM in memory)", t_mem))
    rows.append(("borderkit numpy engine (no numba), DEM in memory",
                 timed(lambda: viewshed((olon, olat), dem=mem, radius_m=radius, engine="numpy", **kw), 1)[0]))
    t_cli = t_lib = None
    agree = {}
    if _gdal.gdal_viewshed_path():
        t_cli, _, (g, gt) = timed(lambda: _gdal.run_gdal_viewshed(dem_path, tmp / "gdal_cli.tif", **gkw), args.repeat)
        rows.append((f"gdal_viewshed program (GDAL {'.'.join(map(str, _gdal.gdal_version() or ()))})", t_cli))
        agree["borderkit vs gdal_viewshed program"] = _gdal.compare(vs.array, vs.transform, g, gt)
        compat = viewshed((olon, olat), dem=mem, radius_m=radius, gdal_compat="3.6", **kw)
        agree["borderkit gdal_compat=3.6 vs program"] = _gdal.compare(compat.array, compat.transform, g, gt)
    if _gdal.library_gdal_version():
        t_lib, _, (gl, glt) = timed(
            lambda: _gdal.run_gdal_viewshed_library(dem_path, tmp / "gdal_lib.tif", **gkw), args.repeat
        )
        rows.append((f"GDALViewshedGenerate in rasterio's GDAL {_gdal.library_gdal_version()} (in-process)", t_lib))
        agree["borderkit vs GDAL library"] = _gdal.compare(vs.array, vs.transform, gl, glt)

    print("\n| viewshed | median s | × gdal_viewshed |")
    print("|---|---:|---:|")
    for name, t in rows:
        ratio = f"{t / t_cli:.2f}" if t_cli else "–"
        print(f"| {name} | {t:.3f} | {ratio} |")
    print(f"\nfirst call in this process (numba compile or cache load): {first:.2f} s; "
          f"end-to-end runs: {', '.join(f'{t:.3f}' for t in all_e2e)}")
    if t_cli:
        verdict = "meets" if t_e2e <= 1.5 * t_cli else "MISSES"
        print(f"target ≤ 1.5 × gdal_viewshed: {t_e2e / t_cli:.2f} × — {verdict} the target")
    print("\n| agreement (cells analysed by both) | cells | agreement | visible only here | visible only in GDAL |")
    print("|---|---:|---:|---:|---:|")
    for name, a in agree.items():
        print(f"| {name} | {a['cells_compared']} | {a['agreement'] * 100:.3f} % | {a['visible_here_not_gdal']} | "
              f"{a['visible_gdal_not_here']} |")

    # --- line of sight and profile throughput ----------------------------------------------
    rng = np.random.default_rng(0)
    m = args.targets

    def targets(lon0, lat0):
        az = rng.uniform(0, 360, m)
        dist = np.sqrt(rng.uniform(0.0, 1.0, m)) * radius
        lon, lat, _ = geod.fwd(np.full(m, lon0), np.full(m, lat0), az, dist)
        return np.column_stack([lon, lat])

    print("\n| line of sight / profile | items | median s | per second |")
    print("|---|---:|---:|---:|")
    tg = targets(olon, olat)
    lines_of_sight((olon, olat), tg[:10], dem=mem)
    t, _, df = timed(lambda: lines_of_sight((olon, olat), tg, dem=mem), 3)
    print(f"| LOS, {m} targets ≤ {args.radius_km:g} km, {res:g} m DEM "
          f"({int(df['samples'].sum())} samples) | {m} | {t:.3f} | {m / t:,.0f} |")
    try:
        globe = open_dem(None)
        peak = (46.179167, 39.579167)
        tg2 = targets(*peak)
        lines_of_sight(peak, tg2[:10], dem=globe)
        t, _, df = timed(lambda: lines_of_sight(peak, tg2, dem=globe), 3)
        print(f"| LOS, {m} targets ≤ {args.radius_km:g} km, bundled GLOBE 30″ ({int(df['samples'].sum())} samples) "
              f"| {m} | {t:.3f} | {m / t:,.0f} |")
    except Exception as exc:  # noqa: BLE001 - the bundled DEM is optional here
        print(f"| LOS on the bundled GLOBE DEM: skipped ({exc}) | | | |")
    path = [(olon - 0.3 + 0.06 * i, olat - 0.1 + 0.2 * (i % 2)) for i in range(11)]
    elevation_profile(path, dem=mem, spacing_m=50.0)
    t, _, prof = timed(lambda: elevation_profile(path, dem=mem, spacing_m=5.0), 3)
    print(f"| profile, {prof.parameters['length_m'] / 1000:.0f} km path every 5 m, {res:g} m DEM | {len(prof.table)} | "
          f"{t:.3f} | {len(prof.table) / t:,.0f} |")
    print(f"\ncommand: {sys.executable} {' '.join(sys.argv)}")
    subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    main()
