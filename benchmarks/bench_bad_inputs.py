"""Time and peak memory of ``borderkit validate`` on the large bad inputs (a script, not a test).

Usage (from the repository root)::

    python benchmarks/bench_bad_inputs.py

The large cases of the bad-input corpus (``tests/data/make_bad_inputs.py``:
``make_large``) are built in a temporary folder: 20,000 rows sharing one id,
a zip of about 1 MB holding a 300 MB CSV, and a self-crossing line of
1,000,000 vertices. Each is validated by ``python -m borderkit validate FILE
--kind KIND`` in a fresh process; the table gives the wall time, the child's
maximum resident set size (GNU ``time -f %M``) and the bytes printed. The issue
measured 85 s / 10 GB / 2.6 GB printed (20,000 ids), a MemoryError (zip) and
81 s / 4.3 GB (1M vertices) before.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("make_bad_inputs", ROOT / "tests" / "data" / "make_bad_inputs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(path: Path, kind: str) -> tuple[float, float, int, int]:
    """(seconds, peak RSS MiB, bytes printed, exit code) of one validate run in a child process.

    The peak resident set size is GNU time's ``%M`` (KiB) of that one child.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    cmd = ["/usr/bin/time", "-f", "RSS_KB %M", sys.executable, "-m", "borderkit", "validate", str(path), "--kind", kind]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    seconds = time.perf_counter() - start
    rss_kb = int(proc.stderr.decode().rsplit("RSS_KB ", 1)[1].split()[0])
    return seconds, rss_kb / 1024, len(proc.stdout), proc.returncode


def main() -> None:
    gen = _generator()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cases = gen.make_large(Path(tmp))
        print(f"built {len(cases)} cases in {time.perf_counter() - t0:.1f} s\n")
        print("| case | size on disk | exit | seconds | peak RSS MiB | bytes printed |")
        print("|---|---:|---:|---:|---:|---:|")
        for case in cases:
            path = Path(tmp) / case["file"]
            seconds, rss, printed, code = _run(path, case["kind"])
            size = path.stat().st_size / 2**20
            print(f"| {case['file']} | {size:,.1f} MB | {code} | {seconds:.1f} | {rss:,.0f} | {printed:,} |")


if __name__ == "__main__":
    main()
