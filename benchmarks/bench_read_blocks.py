"""Reading a point file whole (``read_points``) against block by block (``read_point_blocks``): CPU and memory.

Usage (from the repository root; a script, not a test)::

    python benchmarks/bench_read_blocks.py                       # 1M rows (the files of bench_check_cli)
    python benchmarks/bench_read_blocks.py --rows 200000 --block-rows 50000 --repeat 3
    python benchmarks/bench_read_blocks.py --acled ../shared/data/acled-armenia-2018-2020-hdx/conflict_data_arm.csv

With ``--acled EXPORT`` the file is ACLED-like instead: the real export's header, HDX hashtag row and
event rows repeated to ``--rows`` rows, each copy with new ids (``data_id``, ``event_id_cnty``), every
third event's notes given a quoted line break (as ACLED notes often hold); the export itself is
never copied anywhere but the temporary folder. read_points reads it as incidents (two passes: the
points, then the incident schema), read_point_blocks too, block by block.

Each measurement runs in its own child process (so that each has its own peak memory): the child
imports everything and reads a 10-row file of the same format first (warm imports), notes its
resident set size (the baseline) and resets its peak (``/proc/self/clear_refs``, Linux), then reads
the file once:

* ``pyarrow``: ``pyarrow.csv.read_csv`` / ``pyarrow.parquet.read_table`` alone (the I/O price);
* ``read_points``: :func:`borderkit.io.readers.read_points`, the whole file as a GeoDataFrame;
* ``blocks``: :func:`borderkit.io.blocks.read_point_blocks`, every block read and validated (the
  record count of a CSV included), the blocks dropped;
* ``blocks+frame``: the same, plus the GeoDataFrame of each block (``PointBlocks.frame``: a shapely
  Point per row of the block) that ``check_file_blocks`` hands to ``check_table`` today.

Printed per measurement: CPU seconds of the read (user + system, all threads; medians over the
repeats, the runs of the four alternating), peak RSS above the warm baseline, and that peak per row
of the file and per row of one block.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
path, tiny, mode, block_rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
import pyarrow.csv as pacsv, pyarrow.parquet as pq
from borderkit.io.blocks import read_point_blocks
from borderkit.io.readers import read_points

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

def hwm():
    # the peak resident set size since the last reset (VmHWM), in bytes
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

def run(p):
    if mode == "pyarrow":
        # the ACLED-like file's notes hold quoted line breaks
        opts = pacsv.ParseOptions(newlines_in_values="acled" in p)
        return (pacsv.read_csv(p, parse_options=opts) if p.endswith(".csv") else pq.read_table(p)).num_rows
    if mode == "read_points":
        return len(read_points(p))
    stream = read_point_blocks(p, block_rows=block_rows)
    n = 0
    for b in stream:
        n += len(stream.frame(b)) if mode == "blocks+frame" else len(b.lon)
    return n

run(tiny)  # every import and first-call cost before the baseline
base = rss()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current RSS: the peak below is the read's own (Linux >= 4.0)
t0 = time.process_time()
n = run(path)
cpu = time.process_time() - t0
print(json.dumps({"cpu": cpu, "rows": n, "peak_over_base": hwm() - base}))
"""


def make_acled(export: Path, rows: int, dest: Path) -> Path:
    """An ACLED-like CSV of *rows* events made from the real export's rows (new ids per copy)."""
    import csv as csvmod
    import io

    with export.open(encoding="utf-8", newline="") as f:
        records = list(csvmod.reader(f))
    header, hxl, events = records[0], records[1], records[2:]
    i_data, i_event, i_notes = header.index("data_id"), header.index("event_id_cnty"), header.index("notes")
    with dest.open("w", encoding="utf-8", newline="") as f:
        w = csvmod.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerow(hxl)
        buf = io.StringIO()
        bw = csvmod.writer(buf, lineterminator="\n")
        for k in range(rows):
            row = list(events[k % len(events)])
            row[i_data] = str(10_000_000 + k)
            row[i_event] = f"{row[i_event]}-{k // len(events)}"
            if k % 3 == 0:
                row[i_notes] = row[i_notes].replace(". ", ".\n", 1)
            bw.writerow(row)
            if k % 10_000 == 9_999:
                f.write(buf.getvalue())
                buf.seek(0)
                buf.truncate()
        f.write(buf.getvalue())
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--block-rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--folder", type=Path, default=None, help="where the test files are made (default: a temp dir)")
    ap.add_argument("--acled", type=Path, default=None, help="an ACLED export: measure an ACLED-like CSV made from it")
    ap.add_argument("--modes", default="pyarrow,read_points,blocks,blocks+frame")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_check_cli import make_points

    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench_read_blocks_"))
    folder.mkdir(parents=True, exist_ok=True)
    small = folder / "small"
    small.mkdir(exist_ok=True)
    if args.acled is not None:
        files = [("ACLED CSV", make_acled(args.acled, args.rows, folder / "acled.csv"),
                  make_acled(args.acled, 10, small / "acled.csv"))]
    else:
        csv, pq, _, _ = make_points(args.rows, folder)
        tiny_csv, tiny_pq, _, _ = make_points(10, small)
        files = [("CSV", csv, tiny_csv), ("GeoParquet", pq, tiny_pq)]
    env_path = str(ROOT / "src")
    modes = tuple(args.modes.split(","))
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(args.repeat):
        for fmt, path, tiny in files:
            for mode in modes:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(path), str(tiny), mode, str(args.block_rows)],
                    env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin",
                         # a 1M-row ACLED-like file (~480 MB) is above the readers' default limit
                         "BORDERKIT_MAX_INPUT_MB": str(max(256, 2 * path.stat().st_size >> 20))}, capture_output=True, text=True,
                    check=True,
                )
                results.setdefault((fmt, mode), []).append(json.loads(out.stdout))
    print(f"{args.rows:,} rows, blocks of {args.block_rows:,} rows; medians of {args.repeat} runs")
    print(f"{'file':<11}{'reader':<14}{'CPU s':>7}{'peak MB':>9}{'B/row of file':>15}{'B/row of block':>16}")
    for (fmt, mode), runs in results.items():
        cpu = statistics.median(r["cpu"] for r in runs)
        peak = statistics.median(r["peak_over_base"] for r in runs)
        per_block = peak / min(args.block_rows, args.rows) if mode.startswith("blocks") else float("nan")
        print(f"{fmt:<11}{mode:<14}{cpu:7.2f}{peak / 2**20:9.1f}{peak / args.rows:15.0f}{per_block:16.0f}")


if __name__ == "__main__":
    main()
