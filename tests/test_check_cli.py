"""``borderkit check`` through the real CLI group: JSON contract, file mode, errors and exit codes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyproj
import pytest
from click.testing import CliRunner

from borderkit.cli import main
from conftest import require_module

G = pyproj.Geod(ellps="WGS84")
SOURCES = ["dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017"]


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setitem(main.COMMANDS, "check", "borderkit.cli.check_cmd:check")
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(main.cli, [str(a) for a in args])

    return _run


def test_one_point_json_contract(run):
    res = run("check", "--lat", 39.60, "--lon", 46.23, "--precision-m", 500, "--expect", "ARM", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["point"] == {"lat": 39.60, "lon": 46.23}
    assert doc["precision_m"] == 500.0
    assert doc["expect"] == "ARM" and doc["verdict"] in ("inside", "across", "indeterminate")
    assert [r["source"] for r in doc["results"]] == SOURCES
    for r in doc["results"]:
        assert {"source", "party", "distance_to_line_m", "signed_distance_m", "nearest", "determinate",
                "verdict"} <= set(r)
        assert r["party"] is None or isinstance(r["party"], str)
        assert r["distance_to_line_m"] >= 0
        assert abs(r["signed_distance_m"]) == pytest.approx(r["distance_to_line_m"])
        assert isinstance(r["determinate"], bool) and r["verdict"] in ("inside", "across", "indeterminate")
        # independent: the distance is the WGS84 geodesic to the reported nearest point
        d = G.inv(46.23, 39.60, r["nearest"]["lon"], r["nearest"]["lat"])[2]
        assert r["distance_to_line_m"] == pytest.approx(d, abs=1e-3)
        # 500 m precision plus the line's accuracy: never determinate this close to the line
        assert r["distance_to_line_m"] < 2000
    # the point is in the Sev Lake area: OSM's territories leave the lake out (no party)
    osm = doc["results"][-1]
    assert osm["party"] is None and osm["verdict"] == "indeterminate"


def test_one_point_without_expect_and_source_filter(run):
    res = run("check", "--lat", 39.51111, "--lon", 46.34168, "--source", "osm-2017", "--source", "dcw-gmt",
              "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert "verdict" not in doc and "expect" not in doc and doc["precision_m"] is None
    assert [r["source"] for r in doc["results"]] == ["dcw-gmt", "osm-2017"]
    assert all(r["party"] == "ARM" and r["determinate"] and r["signed_distance_m"] > 0 for r in doc["results"])
    assert doc["summary"]["sources_agree"] is True


def test_one_point_table(run):
    res = run("check", "--lat", 40.99249, "--lon", 45.62838, "--expect", "arm")
    assert res.exit_code == 0, res.output
    assert "natural-earth-10m" in res.output and "across" in res.output
    assert "Overall verdict (reported in ARM): across" in res.output


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("check",), 2, "--lat"),
        (("check", "--lat", 39.6), 2, "--lat"),
        (("check", "--lat", 95, "--lon", 46.2), 1, "latitude"),
        (("check", "--lat", 39.6, "--lon", 46.2, "--source", "osm"), 1, "unknown line source"),
        (("check", "--lat", 39.6, "--lon", 46.2, "--expect", "Armenia"), 1, "alpha-3"),
        (("check", "--lat", 39.6, "--lon", 46.2, "--precision-m", -5), 1, "precision_m"),
        (("check", "--lat", 39.6, "--lon", 46.2, "-o", "x.csv"), 2, "FILE mode"),
    ],
)
def test_usage_and_data_errors(run, args, code, text):
    res = run(*args)
    assert res.exit_code == code, res.output
    assert text in res.output
    assert "Traceback" not in res.output


def _points_csv(path, n=7):
    rng = np.random.default_rng(4)
    df = pd.DataFrame(
        {
            "name": [f"p{i}" for i in range(n)],
            "lat": np.round(rng.uniform(39.0, 41.0, n), 5),
            "lon": np.round(rng.uniform(45.0, 46.8, n), 5),
            "precision_m": ["", *[str(v) for v in np.round(rng.uniform(10, 3000, n - 1), 1)]],
            "note": ["keep, me"] * n,
        }
    )
    df.to_csv(path, index=False)
    return df


def test_file_csv_to_stdout_keeps_columns(run, tmp_path):
    src = tmp_path / "pts.csv"
    df = _points_csv(src)
    res = run("check", src, "--expect", "ARM")
    assert res.exit_code == 0, res.output
    out = pd.read_csv(__import__("io").StringIO(res.output), dtype={"precision_m": str}, keep_default_na=False)
    assert list(out.columns[:5]) == list(df.columns)
    assert list(out["note"]) == ["keep, me"] * len(df)
    for s in SOURCES:
        for col in ("party", "distance_to_line_m", "signed_distance_m", "determinate", "verdict"):
            assert f"{s}__{col}" in out.columns
    assert {"check__sources_agree", "check__parties", "check__verdict", "check__precision_m"} <= set(out.columns)
    assert out["check__precision_m"].iloc[0] == 0.0  # empty precision counts as 0
    # same numbers as one-point mode
    one = json.loads(run("check", "--lat", df.lat[1], "--lon", df.lon[1], "--precision-m", df.precision_m[1],
                         "--expect", "ARM", "--json").output)
    for r in one["results"]:
        assert out[f"{r['source']}__distance_to_line_m"].iloc[1] == pytest.approx(r["distance_to_line_m"], abs=6e-4)
        assert str(out[f"{r['source']}__verdict"].iloc[1]) == r["verdict"]


def test_file_outputs_overwrite_and_chunking(run, tmp_path):
    src = tmp_path / "pts.csv"
    _points_csv(src, n=9)
    out = tmp_path / "out.csv"
    assert run("check", src, "-o", out).exit_code == 0
    again = run("check", src, "-o", out)
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert run("check", src, "-o", out, "--overwrite", "--chunk-size", 2).exit_code == 0
    small = pd.read_csv(out)
    assert run("check", src, "-o", tmp_path / "big.csv", "--chunk-size", 1000).exit_code == 0
    pd.testing.assert_frame_equal(small, pd.read_csv(tmp_path / "big.csv"))
    import geopandas as gpd

    gj = tmp_path / "out.geojson"
    res = run("check", src, "-o", gj, "--expect", "AZE")
    assert res.exit_code == 0, res.output
    g = gpd.read_file(gj)
    assert len(g) == 9 and "osm-2017__verdict" in g.columns and g.crs.to_epsg() == 4326
    assert np.allclose(g.geometry.x, small["lon"]) and np.allclose(g.geometry.y, small["lat"])
    clash = run("check", gj)  # a file that already has the result columns
    assert clash.exit_code == 1 and "already has result column" in clash.output
    import shapely

    layer = tmp_path / "layer.geojson"
    gpd.GeoDataFrame({"name": ["a", "b"], "precision_m": [100.0, None]},
                     geometry=[shapely.Point(46.1, 39.5), shapely.Point(45.2, 40.1)], crs=4326).to_file(layer)
    require_module("pyarrow")
    pq = tmp_path / "out.parquet"
    res = run("check", layer, "-o", pq)  # any GDAL point layer as input
    assert res.exit_code == 0, res.output
    back = gpd.read_parquet(pq)
    assert len(back) == 2 and list(back["name"]) == ["a", "b"] and list(back["check__precision_m"]) == [100.0, 0.0]
    assert run("check", src, "-o", tmp_path / "out.xlsx").exit_code == 2


def test_file_incidents_of_the_case(run, tmp_path):
    import borderkit.datasets as ds

    path = ds.verify()["incidents"]
    out = tmp_path / "inc.csv"
    res = run("check", path, "-o", out, "--expect", "ARM")
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    inc = ds.load().incidents
    assert list(df["incident_id"]) == list(inc["incident_id"])
    assert np.allclose(df["check__precision_m"], inc["precision_m"])  # the incidents' own precision
    sev = df[df.incident_id == "2021-05-12-sev-lake"].iloc[0]
    assert sev["check__verdict"] == "indeterminate"  # 5 km precision near the line


def test_file_bad_input_is_one_line(run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text('lat,lon\n39.5,46.1\n"39,5",46.2\nnorth,46\n', encoding="utf-8")
    res = run("check", bad)
    assert res.exit_code == 1
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert "row 2" in res.output and "'39,5'" in res.output and "2 bad value(s)" in res.output
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("lat,lon\n39.5,46.1\n39,5,46.2\n", encoding="utf-8")
    res = run("check", ragged)
    assert res.exit_code == 1 and "cannot parse" in res.output
    nocoords = tmp_path / "nocoords.csv"
    nocoords.write_text("a,b\n1,2\n", encoding="utf-8")
    res = run("check", nocoords)
    assert res.exit_code == 1 and "latitude" in res.output
    res = run("check", tmp_path / "missing.csv")
    assert res.exit_code == 1 and "no such file" in res.output


def test_quiet_file_mode_prints_no_progress(run, tmp_path):
    src = tmp_path / "pts.csv"
    _points_csv(src)
    runner = CliRunner()
    res = runner.invoke(main.cli, ["-q", "check", str(src)])
    assert res.exit_code == 0
    assert "points" not in res.stderr if hasattr(res, "stderr") else True
    assert not math.isnan(float(res.output.splitlines()[1].split(",")[1]))
