"""``borderkit check`` through the real CLI group: JSON contract, file mode, errors and exit codes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
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
    assert res.exit_code == 10, res.output  # across: the exit code of the script contract
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
            "precision_m": ["", *[str(v) for v in np.round(rng.uniform(10, 3000, n - 1), 1)]],  # row 1: none
            "note": ["keep, me"] * n,
        }
    )
    df.to_csv(path, index=False)
    return df


def test_file_csv_to_stdout_keeps_columns(run, tmp_path):
    src = tmp_path / "pts.csv"
    df = _points_csv(src)
    res = run("check", src, "--expect", "ARM")
    assert res.exit_code in (0, 10), res.output
    out = pd.read_csv(__import__("io").StringIO(res.output), dtype={"precision_m": str}, keep_default_na=False)
    assert list(out.columns[:5]) == list(df.columns)
    assert list(out["note"]) == ["keep, me"] * len(df)
    # exit 10 exactly when some source says across for some row
    any_across = any((out[f"{s}__verdict"] == "across").any() for s in SOURCES)
    assert res.exit_code == (10 if any_across else 0)
    for s in SOURCES:
        for col in ("party", "distance_to_line_m", "signed_distance_m", "determinate", "verdict"):
            assert f"{s}__{col}" in out.columns
    assert {"check__sources_agree", "check__parties", "check__verdict", "check__precision_m"} <= set(out.columns)
    assert out["check__precision_m"].iloc[0] == 0.0  # empty precision and no default: 0
    assert list(out["check__precision_source"]) == ["none"] + ["precision_m"] * (len(df) - 1)
    # a default fills only the rows without their own precision; the file's own always wins
    dflt = pd.read_csv(__import__("io").StringIO(run("check", src, "--precision-m", 777).output))
    assert list(dflt["check__precision_m"]) == [777.0, *[float(v) for v in df.precision_m[1:]]]
    assert list(dflt["check__precision_source"]) == ["default"] + ["precision_m"] * (len(df) - 1)
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
    assert list(back["check__precision_source"]) == ["precision_m", "none"]
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
    assert "row 2" in res.output and "'39,5'" in res.output and "column 'lat'" in res.output
    assert "(and 1 more problem(s))" in res.output  # row 3's 'north' is counted, not dropped
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('lat,lon\n39.5,46.1\n"39.6,46.2\n', encoding="utf-8")
    res = run("check", ragged)
    assert res.exit_code == 1 and "quote" in res.output
    nocoords = tmp_path / "nocoords.csv"
    nocoords.write_text("a,b\n1,2\n", encoding="utf-8")
    res = run("check", nocoords)
    assert res.exit_code == 1 and "latitude" in res.output
    res = run("check", tmp_path / "missing.csv")
    assert res.exit_code == 2 and "does not exist" in res.output


def test_quiet_file_mode_prints_no_progress(run, tmp_path):
    src = tmp_path / "pts.csv"
    _points_csv(src)
    runner = CliRunner()
    res = runner.invoke(main.cli, ["-q", "check", str(src)])
    assert res.exit_code == 0
    assert "points" not in res.stderr if hasattr(res, "stderr") else True
    assert not math.isnan(float(res.output.splitlines()[1].split(",")[1]))


# ------------------------------------------------------------------------------------------------
# issue 10 section 2: one reader, the file's precision, validation, "not near this line"
# ------------------------------------------------------------------------------------------------
ACLED = "acled-armenia-2018-2020-hdx/conflict_data_arm.csv"
# docs/precision-codes.md: ACLED geo_precision 1 = 2 km, 2 = 15 km, 3 = 50 km
GEO_PRECISION_M = {1: 2_000.0, 2: 15_000.0, 3: 50_000.0}
OSM_ACCURACY_M = 10.0  # geodata/armenia-azerbaijan lines.geojson, scale_or_accuracy_m of osm-2017


def _densified_distance(lon, lat, geoms, spacing_m=25.0):
    """Brute force: every geodesic segment of the lines densified with Geod.npts; min Geod.inv."""
    samples = []
    for geom in geoms:
        for part in shapely.get_parts(geom):
            c = np.asarray(part.coords)
            samples.append(c[:1])
            for (x0, y0), (x1, y1) in zip(c[:-1], c[1:], strict=True):
                k = max(1, int(math.ceil(G.inv(x0, y0, x1, y1)[2] / spacing_m)))
                if k > 1:
                    samples.append(np.asarray(G.npts(x0, y0, x1, y1, k - 1)).reshape(-1, 2))
                samples.append(np.array([[x1, y1]]))
    s = np.concatenate(samples)
    return np.array([G.inv(np.full(len(s), x), np.full(len(s), y), s[:, 0], s[:, 1])[2].min()
                     for x, y in zip(lon, lat, strict=True)])



def test_acled_hdx_export_all_rows_with_the_files_precision(run, tmp_path, shared_path):
    path = shared_path(ACLED)
    raw = pd.read_csv(path, skiprows=[1])  # PROVENANCE.md: row 2 is the HXL hashtag row
    out = tmp_path / "acled.csv"
    res = run("check", path, "--expect", "ARM", "-o", out)
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out, low_memory=False)
    assert len(df) == len(raw) == 4960
    assert list(df["event_id_cnty"]) == list(raw["event_id_cnty"])
    assert (df["check__precision_source"] == "geo_precision").all()
    want = raw["geo_precision"].map(GEO_PRECISION_M).to_numpy()
    assert np.array_equal(df["check__precision_m"].to_numpy(), want)
    # determinate (OSM) = distance > precision + accuracy and one party: recompute the rule from the
    # file's precision; the uncertain events are those the precision table makes so
    d = df["osm-2017__distance_to_line_m"].to_numpy()
    single = df["osm-2017__party"].fillna("-").str.fullmatch("[A-Z]{3}").to_numpy()
    det = (d > want + OSM_ACCURACY_M) & single
    assert np.array_equal(df["osm-2017__determinate"].to_numpy(), det)
    with_zero = (d > OSM_ACCURACY_M) & single
    made_uncertain = int((with_zero & ~det).sum())
    assert made_uncertain > 900, made_uncertain  # with precision 0 (the old behaviour) these were determinate
    # a sample of distances against brute-force geodesics on the OSM line (independent of locate)
    import borderkit.datasets as ds

    lines = ds.load().lines
    osm = lines[lines.source == "osm-2017"].geometry
    rng = np.random.default_rng(3)
    idx = rng.choice(len(raw), 12, replace=False)
    truth = _densified_distance(raw.longitude.to_numpy()[idx], raw.latitude.to_numpy()[idx], osm)
    assert np.all(np.abs(truth - d[idx]) < 2.0), np.abs(truth - d[idx]).max()
    assert np.all(d[idx] <= truth + 1e-3)
    assert set(df["check__verdict"]) <= {"inside", "across", "indeterminate", "not near this line"}


def test_acled_without_the_hdx_row_reads_the_same(tmp_path, shared_path):
    from borderkit.locate import check_file

    path = shared_path("acled-armenia-2018-2020-hdx/conflict_data_arm_syunik.csv")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    plain = tmp_path / "syunik.csv"
    plain.write_text(lines[0] + "".join(lines[2:]), encoding="utf-8")
    a = check_file(path, expect="ARM").table
    b = check_file(plain, expect="ARM").table
    assert len(a) == len(b) == 114
    cols = [c for c in a.columns if c.startswith(("check__", "osm-2017__"))]
    pd.testing.assert_frame_equal(pd.DataFrame(a[cols]), pd.DataFrame(b[cols]))


def _table_text():
    return "name;lat;lon;precision_m\nSisian;39.52;46.03;500\nTovuz;40.99;45.63;\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_semicolon_and_utf16_csv(run, tmp_path, encoding):
    from borderkit.locate import check_file

    src = tmp_path / "pts.csv"
    src.write_bytes(_table_text().encode(encoding))  # Python's utf-16 writes a byte-order mark
    res = run("check", src, "--expect", "ARM", "--precision-m", 1000)
    assert res.exit_code == 10, res.output  # Tovuz is across
    out = pd.read_csv(__import__("io").StringIO(res.output))
    assert list(out["name"]) == ["Sisian", "Tovuz"]
    assert list(out["check__precision_m"]) == [500.0, 1000.0]
    assert list(out["check__precision_source"]) == ["precision_m", "default"]
    assert list(out["check__verdict"]) == ["inside", "across"]  # Tovuz is in Azerbaijan
    api = check_file(src, expect="ARM", default_precision_m=1000).table
    assert list(api["check__verdict"]) == ["inside", "across"]
    # the one-point answer for the same point
    one = json.loads(run("check", "--lat", 39.52, "--lon", 46.03, "--precision-m", 500, "--expect", "ARM",
                         "--json").output)
    assert one["verdict"] == "inside"
    for r in one["results"]:
        assert out[f"{r['source']}__distance_to_line_m"][0] == pytest.approx(r["distance_to_line_m"], abs=6e-4)


@pytest.mark.parametrize(
    ("row", "column", "text"),
    [
        ("Swapped,46.20,39.60,", "lat", "swapped"),  # 720 km away in Russia as written
        ("Far,39.6,200.5,", "lon", "outside -180…180"),
        ("Null,0,0,", "lat", "exactly (0, 0)"),
        ("Missing,nan,46.2,", "lat", "not a number"),
        ("Empty,,,", "lat", "no coordinates"),
        ("Bad,39.6,46.2,abc", "precision_m", "not a precision"),
        ("Negative,39.6,46.2,-5", "precision_m", "not a precision"),
    ],
)
def test_plain_table_validation_one_line_and_collect(run, tmp_path, row, column, text):
    from borderkit.cases import case_config
    from borderkit.errors import ValidationError
    from borderkit.locate import check_file

    # what the CLI passes for its default case: the bundled case file's region and projected CRSs
    config = case_config("armenia-azerbaijan")
    region = {"region": config.region, "projected_crs": config.projected_crs}
    src = tmp_path / "pts.csv"
    src.write_text(f"name,lat,lon,precision_m\nGoris,39.51,46.34,100\n{row}\nSisian,39.52,46.03,\n", encoding="utf-8")
    res = run("check", src)
    assert res.exit_code == 1, res.output
    line = res.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert str(src) in line and "row 2" in line and f"column {column!r}" in line and text in line
    with pytest.raises(ValidationError, match="row 2"):
        check_file(src, **region)
    # errors="collect": rows in = rows out + rows rejected, the bad row named with its problem
    fc = check_file(src, errors="collect", **region)
    assert list(fc.table["name"]) == ["Goris", "Sisian"]
    assert list(fc.rejected["row"]) == [2] and text in fc.rejected["problems"][0]
    rej = tmp_path / "rejected.csv"
    res = run("check", src, "--errors", "collect", "--rejected", rej, "-o", tmp_path / "out.csv")
    assert res.exit_code == 0, res.output
    assert "1 row(s)" in res.output and "row 2" in res.output
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2 and len(pd.read_csv(rej)) == 1


def test_file_json_summary(run, tmp_path):
    src = tmp_path / "pts.csv"
    src.write_text(_table_text().replace(";", ","), encoding="utf-8")
    out = tmp_path / "out.geojson"
    res = run("check", src, "--expect", "ARM", "-o", out, "--json")
    assert res.exit_code == 10, res.output  # one point is across
    doc = json.loads(res.output)
    assert doc["schema_version"] == 1
    assert doc["rows_read"] == doc["rows_checked"] == 2 and doc["rows_rejected"] == 0
    assert doc["verdicts"] == {"across": 1, "inside": 1}
    assert doc["precision_sources"] == {"none": 1, "precision_m": 1}
    assert set(doc["sources"]) == set(SOURCES) and doc["output"] == str(out)
    import geopandas as gpd

    assert len(gpd.read_file(out)) == 2


def test_output_is_atomic_on_failure(run, tmp_path, monkeypatch):
    src = tmp_path / "pts.csv"
    src.write_text(_table_text(), encoding="utf-8")
    out = tmp_path / "out.csv"
    from borderkit.io import fastcsv

    real = fastcsv.write_csv

    def half_then_fail(frame, dest, **kwargs):
        dest.write(b"name,lat")  # a partial file, then the writer dies
        raise OSError("disk full")

    monkeypatch.setattr(fastcsv, "write_csv", half_then_fail)
    res = run("check", src, "-o", out)
    assert res.exit_code != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pts.csv"]  # no 0-byte or partial file
    monkeypatch.setattr(fastcsv, "write_csv", real)
    assert run("check", src, "-o", out).exit_code == 0  # the rerun is not blocked
    assert len(pd.read_csv(out)) == 2


# ACLED's own coordinates (conflict_data_arm.csv): Bagratashen by the Georgian border, Tlik by the Turkish one
BAGRATASHEN = (44.8343, 41.2296)
TLIK = (43.622, 40.414)


@pytest.mark.parametrize(("place", "third"), [(BAGRATASHEN, "GEO"), (TLIK, "TUR")])
def test_points_by_another_border_are_not_near_this_line(run, place, third, shared_path):
    res = run("check", "--lat", place[1], "--lon", place[0], "--expect", "ARM", "--precision-m", 2000, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["verdict"] == "not near this line"
    assert all(r["verdict"] != "across" for r in doc["results"])
    for r in doc["results"]:
        if r["source"] == "gshhg-wdbii":  # no territories: only the line's ends can tell
            assert r["other_border"] is None and r["other_border_distance_m"] is None
            continue
        assert r["other_border"] == third and not r["near_line"] and r["verdict"] == "not near this line"
        assert r["other_border_distance_m"] < r["distance_to_line_m"]
    # independent reference: Natural Earth 10 m (German edition, ../shared) — the third country's
    # outline is nearer than any source's ARM|AZE line (Geod on the densified outline)
    import geopandas as gpd

    ne = gpd.read_file(
        shared_path("naturalearth-10m-admin0-countries-deu/ne_10m_admin0_deu_ARM_AZE_GEO_IRN_TUR.geojson")
    )
    iso = next(c for c in ("ADM0_A3", "ISO_A3", "adm0_a3", "iso_a3") if c in ne.columns)
    poly = ne[ne[iso] == third].geometry.iloc[0]
    box = shapely.box(place[0] - 1, place[1] - 1, place[0] + 1, place[1] + 1)
    outline = shapely.intersection(poly.boundary, box)
    inside = poly.contains(shapely.Point(place))
    d_ne = 0.0 if inside else _densified_distance([place[0]], [place[1]], [outline], spacing_m=50.0)[0]
    assert d_ne < min(r["distance_to_line_m"] for r in doc["results"])


# =================================================================================================
# issue 15: the one-point path (no pandas/geopandas, models cached on disk) and the CSV writer
# =================================================================================================
ONE_POINT = ["check", "--lat", "39.60", "--lon", "46.23", "--precision-m", "500", "--expect", "ARM", "--json"]


def _cli(args, cache, *, importtime=False):
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src"
    path = f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    env = dict(os.environ, BORDERKIT_CACHE=str(cache), PYTHONPATH=path)
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "borderkit", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def _cache_files(cache):
    folder = cache / "index"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_one_point_json_same_with_and_without_the_disk_cache(run, tmp_path):
    cache = tmp_path / "cache"
    cold = _cli(ONE_POINT, cache)  # no cache: the case is read from its GeoPackages and the cache written
    assert cold.returncode == 0, cold.stderr
    files = _cache_files(cache)
    assert len(files) == 1 and files[0].startswith("case-armenia-azerbaijan-") and files[0].endswith(".npz")
    warm = _cli(ONE_POINT, cache)  # from the cache
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout == cold.stdout
    # and the same numbers as the DataFrame path of the library (locate.check + summarize)
    from borderkit.locate import check

    res = check((np.array([46.23]), np.array([39.60])), expect="ARM", precision_m=500.0)
    doc = json.loads(warm.stdout)
    assert [r["source"] for r in doc["results"]] == list(res.results["source"].astype(str))
    for r, (_, row) in zip(doc["results"], res.results.iterrows(), strict=True):
        assert r["distance_to_line_m"] == float(row["distance_to_line_m"])
        assert r["signed_distance_m"] == float(row["signed_distance_m"])
        assert r["nearest"] == {"lat": float(row["nearest_lat"]), "lon": float(row["nearest_lon"])}
        assert r["party"] == (None if pd.isna(row["party"]) else row["party"])
        assert r["verdict"] == row["verdict"]
    assert doc["verdict"] == res.summary["verdict"].iloc[0]
    assert doc["summary"]["min_margin_m"] == float(res.summary["min_margin_m"].iloc[0])
    # the distance itself, independently: pyproj's geodesic from the point to the reported nearest point
    for r in doc["results"]:
        _, _, d = G.inv(46.23, 39.60, r["nearest"]["lon"], r["nearest"]["lat"])
        assert r["distance_to_line_m"] == pytest.approx(d, abs=1e-6)


def test_one_point_imports_neither_pandas_nor_geopandas(tmp_path):
    cache = tmp_path / "cache"
    assert _cli(ONE_POINT, cache).returncode == 0  # fills the cache
    res = _cli(ONE_POINT, cache, importtime=True)
    assert res.returncode == 0, res.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert "numpy" in imported and "shapely" in imported and "pyproj" in imported  # the measure is real
    for heavy in ("pandas", "geopandas", "pyogrio", "numba", "pyarrow"):
        assert heavy not in imported, f"{heavy} imported on the one-point path"


def test_case_cache_is_keyed_by_the_registry_entries(monkeypatch):
    from borderkit import locate, registry

    key = locate.case_cache_key("armenia-azerbaijan")
    assert key == locate.case_cache_key("armenia-azerbaijan")  # stable
    real = registry.dataset_entry

    def changed(name, **kw):  # the same case with another lines file (a rebuilt geodata/)
        entry = json.loads(json.dumps(real(name, **kw)))
        entry["files"]["lines"]["sha256"] = "0" * 64
        return entry

    monkeypatch.setattr(registry, "dataset_entry", changed)
    assert locate.case_cache_key("armenia-azerbaijan") != key


def test_cache_file_with_another_key_or_corrupt_is_rebuilt(tmp_path, monkeypatch):
    from borderkit import indexcache, locate

    cache = tmp_path / "cache"
    first = _cli(ONE_POINT, cache)
    (name,) = _cache_files(cache)
    path = cache / "index" / name
    good = path.read_bytes()
    bad_contents = [
        b"not a zip file at all",
        good[: len(good) // 2],  # truncated
    ]
    import io

    buf = io.BytesIO()  # a foreign npz holding a pickled object array: never unpickled
    np.savez(buf, __key__=np.array("x"), n_models=np.array([{"evil": 1}], dtype=object))
    bad_contents.append(buf.getvalue())
    for bad in bad_contents:
        path.write_bytes(bad)
        again = _cli(ONE_POINT, cache)
        assert again.returncode == 0, again.stderr
        assert again.stdout == first.stdout
        assert path.read_bytes() != bad  # rewritten ...
        assert _cache_files(cache) == [name]  # ... in place, no temporary file left
    # the key inside the file must match the key asked for
    monkeypatch.setenv("BORDERKIT_CACHE", str(cache))
    key = locate.case_cache_key("armenia-azerbaijan")
    assert indexcache.load_arrays("case-armenia-azerbaijan", key) is not None
    other = key[:20] + "f" * (len(key) - 20)  # the same file name, another key inside
    assert indexcache.load_arrays("case-armenia-azerbaijan", other) is None


def test_cache_write_is_atomic(tmp_path, monkeypatch):
    from borderkit import indexcache

    monkeypatch.setenv("BORDERKIT_CACHE", str(tmp_path))
    key = "ab" * 32
    arrays = {"x": np.arange(5.0), "s": np.array(["ARM", "AZE"])}
    path = indexcache.save_arrays("t", key, arrays)
    assert path is not None and path.parent == tmp_path / "index"
    back = indexcache.load_arrays("t", key)
    assert back is not None and np.array_equal(back["x"], arrays["x"]) and list(back["s"]) == ["ARM", "AZE"]
    before = path.read_bytes()

    def dies(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", dies)
    assert indexcache.save_arrays("t", key, {"x": np.zeros(3)}) is None  # not written, nothing raised
    assert path.read_bytes() == before  # the old file intact
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary debris
    with pytest.raises(ValueError, match="object arrays"):
        indexcache.save_arrays("t", key, {"o": np.array([None], dtype=object)})


def test_models_round_trip_through_arrays():
    from borderkit.locate import case_line_models, models_from_arrays, models_to_arrays

    models = case_line_models("armenia-azerbaijan")
    back = models_from_arrays(models_to_arrays(models))
    for a, b in zip(models, back, strict=True):
        assert a.source == b.source and a.reference == b.reference and a.third_bits == b.third_bits
        assert list(a.left_party) == list(b.left_party) and list(a.sections) == list(b.sections)
        assert np.array_equal(a.segs.a_lon, b.segs.a_lon) and np.array_equal(a.segs.next, b.segs.next)
        assert all(ga.equals_exact(gb, 0.0) for ga, gb in zip(a.territory_geoms, b.territory_geoms, strict=True))
        assert (a.others is None) == (b.others is None)


def test_csv_output_numbers_unquoted_and_same_values_as_pandas(run, tmp_path):
    import io

    from borderkit.locate import check_file

    src = tmp_path / "pts.csv"
    df = _points_csv(src)
    df.loc[2, "name"] = 'a "quoted", name'
    df.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    res = run("check", src, "-o", out, "--expect", "ARM")
    assert res.exit_code in (0, 10), res.output
    text = out.read_text(encoding="utf-8")
    # the old writer (pandas' to_csv) on the same table, read back: the same values in every cell
    table = check_file(src, expect="ARM").table
    old = pd.DataFrame(table).drop(columns=[table.geometry.name]).to_csv(index=False, lineterminator="\n")
    new_back, old_back = pd.read_csv(io.StringIO(text)), pd.read_csv(io.StringIO(old))
    pd.testing.assert_frame_equal(new_back, old_back, check_dtype=False)
    # quotes only where a cell needs them (pandas' rule): the name with a comma and quotes, the note
    # with a comma; every number, code and flag bare
    lines = text.splitlines()
    assert lines[0] == old.splitlines()[0]
    row3 = lines[3]
    assert row3.startswith('"a ""quoted"", name",')
    bare = row3.replace('"a ""quoted"", name"', "").replace('"keep, me"', "")
    assert '"' not in bare
    assert ",True," in bare or ",False," in bare


def test_fast_indexes_cached_on_disk_give_the_same_answers(tmp_path):
    src = tmp_path / "pts.csv"
    _points_csv(src, n=50)
    cache = tmp_path / "cache"
    outs = []
    for k in range(2):  # builds and stores the indexes, then reads them back
        out = tmp_path / f"out{k}.csv"
        res = _cli(["-q", "check", str(src), "-o", str(out), "--method", "fast", "--expect", "ARM"], cache)
        assert res.returncode in (0, 10), res.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    files = _cache_files(cache)
    assert any("-polygons-" in f for f in files) and any("-others-lines" in f for f in files)
    # and the same as the library in this process (indexes from its own memory or cache folder)
    from borderkit.locate import LineModel, check_file

    assert all(hasattr(LineModel, a) for a in ("line_index", "polygon_index"))
    table = check_file(src, expect="ARM", method="fast").table
    back = pd.read_csv(tmp_path / "out1.csv")
    for s in SOURCES:
        np.testing.assert_array_equal(back[f"{s}__distance_to_line_m"], table[f"{s}__distance_to_line_m"])
        assert list(back[f"{s}__verdict"]) == list(table[f"{s}__verdict"])
