"""Compare the outputs of ``check_table``/``locate``/``check``/``summarize`` of two source trees (a script, not a test).

Usage (from the repository root)::

    git worktree add /tmp/bk-old OLD_COMMIT        # or: git archive OLD_COMMIT src | tar -x -C /tmp/bk-old
    python benchmarks/compare_check_outputs.py --old /tmp/bk-old/src --rows 100000

Each tree computes, in its own child process, the same results on the same synthetic points near
the bundled lines (as ``bench_check_cli.py`` makes them, seed 15), with and without expected
parties (one for all, and a column mixing ISO codes, empty cells and parties of no source),
chunked and not, fast and exact engines; the frames must be identical (values, dtypes, column
order, ``attrs``). Used to show that a change of the glue (e.g. integer codes in place of object
arrays) leaves every output unchanged.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SNAPSHOT = r'''
import pickle, sys
import numpy as np
from borderkit.io.readers import read_points
from borderkit.locate import case_line_models, check, check_table, locate, summarize

n = int(sys.argv[2])
osm = next(m for m in case_line_models("armenia-azerbaijan") if m.source == "osm-2017")
rng = np.random.default_rng(15)
k = rng.integers(0, osm.segs.a_lon.size, n)
lon = np.round(osm.segs.a_lon[k] + rng.uniform(-0.2, 0.2, n), 6)
lat = np.round(osm.segs.a_lat[k] + rng.uniform(-0.2, 0.2, n), 6)
path = sys.argv[3]  # the same path for both trees (it is in the results' attrs)
with open(path, "w") as f:
    f.write("id,latitude,longitude\n")
    f.writelines(f"{i},{y!r},{x!r}\n" for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist())))
g = read_points(path)
g["exp"] = rng.choice(np.array(["ARM", "AZE", "", "IRN", "GEO"], dtype=object), len(g))
plain = g.drop(columns=["exp"])
case = "armenia-azerbaijan"
out = {
    "table": check_table(plain, case=case),
    "table_expect": check_table(plain, expect="AZE", case=case, chunk_size=max(1, n // 3)),
    "table_column": check_table(g, expect_column="exp", case=case, default_precision_m=250.0),
    "table_exact": check_table(g.iloc[:3000], expect_column="exp", case=case, method="exact"),
    "locate": locate(g.geometry.iloc[:20000], case=case),
}
res = check(g.geometry.iloc[:20000], expect="ARM", case=case)
out["check_results"], out["check_summary"] = res.results, res.summary
out["summarize_locate"] = summarize(out["locate"])
with open(sys.argv[1], "wb") as f:
    pickle.dump(out, f)
'''


def snapshot(src: str, rows: int, folder: Path, tag: str) -> dict:
    out = folder / tag
    env = dict(os.environ, PYTHONPATH=src, BORDERKIT_DATA=str(ROOT / "geodata"))
    subprocess.run([sys.executable, "-c", SNAPSHOT, str(out), str(rows), str(folder / "points.csv")], env=env,
                   check=True)
    with open(out, "rb") as f:
        return pickle.load(f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="the src/ folder of the other tree")
    ap.add_argument("--new", default=str(ROOT / "src"))
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    import pandas as pd
    from pandas.testing import assert_frame_equal

    with tempfile.TemporaryDirectory(prefix="bk-compare-") as tmp:
        old = snapshot(args.old, args.rows, Path(tmp), "old")
        new = snapshot(args.new, args.rows, Path(tmp), "new")
    for key in old:
        a, b = pd.DataFrame(old[key]), pd.DataFrame(new[key])
        assert list(a.columns) == list(b.columns), key
        assert_frame_equal(a, b, check_exact=True)
        assert repr(old[key].attrs) == repr(new[key].attrs), key
        print(f"{key}: {len(a)} rows x {a.shape[1]} columns identical")


if __name__ == "__main__":
    main()
