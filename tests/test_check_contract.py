"""The `borderkit check` contract for scripts (issue 12): stdin, -o by suffix, JSON Lines, schema_version,
exit code 10 with --expect, and --lines FILE with its metadata defaults.

Every side and distance is known independently of borderkit: the user's line is a meridian (a geodesic),
travelled south to north, so its left is the west; a point placed with pyproj ``Geod.fwd`` at azimuth
90°/270° from a point of the meridian is on the east/west side at exactly that geodesic distance (a
geodesic leaving a meridian at a right angle is the shortest way back to it).
"""

from __future__ import annotations

import io
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
LON0, LAT_S, LAT_N = 45.0, 40.0, 40.5  # the user's line: the meridian 45° E from 40.0° N to 40.5° N
WEST, EAST = "KGZ", "TJK"  # left (west) and right (east) of the line as travelled south -> north
ACCURACY_M = 100.0


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setitem(main.COMMANDS, "check", "borderkit.cli.check_cmd:check")
    runner = CliRunner()

    def _run(*args, input=None):
        return runner.invoke(main.cli, [str(a) for a in args], input=input)

    return _run


def _line_geojson(path, props=None):
    feature = {"type": "Feature", "properties": props or {},
               "geometry": {"type": "LineString", "coordinates": [[LON0, LAT_S], [LON0, LAT_N]]}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    return path


def _line_kml(path):
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<Placemark><LineString><coordinates>{LON0},{LAT_S} {LON0},{LAT_N}</coordinates></LineString>"
        "</Placemark></Document></kml>",
        encoding="utf-8",
    )
    return path


def _points(dist_m, azimuths, lat=40.25):
    """Points at geodesic distance *dist_m* from (LON0, lat) at the given azimuths (90: east, 270: west)."""
    az = np.asarray(azimuths, dtype=float)
    lon, la, _ = G.fwd(np.full(az.size, LON0), np.full(az.size, lat), az, np.full(az.size, float(dist_m)))
    return np.asarray(lon), np.asarray(la)


def _line_opts(line):
    return ["--lines", line, "--left", WEST, "--right", EAST, "--claimant", WEST, "--accuracy-m", ACCURACY_M,
            "--source-date", "2021"]


def _jsonl(text):
    return [json.loads(x) for x in text.splitlines() if x.strip()]


# -------------------------------------------------------------------------------------------------
# --lines: the user's own line, metadata given once
# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["geojson", "kml"])
def test_own_line_sides_distance_and_exit_codes(run, tmp_path, fmt):
    line = _line_kml(tmp_path / "my_line.kml") if fmt == "kml" else _line_geojson(tmp_path / "my_line.geojson")
    (e_lon,), (e_lat,) = _points(5_000, [90])  # 5 km east: TJK's side, 50x the line's accuracy
    res = run("check", "--lat", e_lat, "--lon", e_lon, "--expect", WEST, "--json", *_line_opts(line))
    assert res.exit_code == 10, res.output  # determinately on another party's side
    doc = json.loads(res.output)
    assert doc["schema_version"] == 1
    (r,) = doc["results"]  # --lines without --case: only the user's line
    assert r["source"] == "my_line"  # no --source-name: the file's name
    assert r["party"] == EAST and r["verdict"] == "across" and r["determinate"]
    assert r["distance_to_line_m"] == pytest.approx(5_000.0, abs=0.01)
    assert r["line_accuracy_m"] == ACCURACY_M
    assert r["signed_distance_m"] == pytest.approx(-5_000.0, abs=0.01)  # negative: not on the expected side
    # inside: exit 0
    res = run("check", "--lat", e_lat, "--lon", e_lon, "--expect", EAST, "--json", *_line_opts(line))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["results"][0]["verdict"] == "inside"
    # the point's precision reaches the line: indeterminate, exit 0
    res = run("check", "--lat", e_lat, "--lon", e_lon, "--expect", WEST, "--precision-m", 4_950, "--json",
              *_line_opts(line))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["results"][0]["verdict"] == "indeterminate"
    # west side, swapped roles: the sign follows the parties
    (w_lon,), (w_lat,) = _points(2_000, [270])
    r = json.loads(run("check", "--lat", w_lat, "--lon", w_lon, "--json", *_line_opts(line)).output)["results"][0]
    assert r["party"] == WEST and r["distance_to_line_m"] == pytest.approx(2_000.0, abs=0.01)


def test_own_line_with_the_case_is_one_more_source(run, tmp_path):
    line = _line_geojson(tmp_path / "claimed.geojson")
    (lon,), (lat,) = _points(5_000, [90])
    res = run("check", "--lat", lat, "--lon", lon, "--json", "--case", "armenia-azerbaijan",
              *_line_opts(line), "--source-name", "my-claim")
    assert res.exit_code == 0, res.output
    sources = [r["source"] for r in json.loads(res.output)["results"]]
    assert sources == sorted(["dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017", "my-claim"])
    # a source name that is already the case's is refused in one line
    res = run("check", "--lat", lat, "--lon", lon, "--case", "armenia-azerbaijan", *_line_opts(line),
              "--source-name", "osm-2017")
    assert res.exit_code == 1 and "another source name" in res.output and len(res.output.splitlines()) == 1


def test_file_attributes_win_over_the_defaults(run, tmp_path):
    line = _line_geojson(tmp_path / "l.geojson", {"left_party": EAST, "right_party": WEST, "source": "file-src",
                                                 "scale_or_accuracy_m": 7000})
    (lon,), (lat,) = _points(5_000, [90])
    r = json.loads(run("check", "--lat", lat, "--lon", lon, "--json", *_line_opts(line)).output)["results"][0]
    # the file says east is KGZ; its accuracy (7 km) makes 5 km indeterminate
    assert r["source"] == "file-src" and r["line_party"] == WEST and r["line_accuracy_m"] == 7000.0
    assert not r["determinate"]


@pytest.mark.parametrize(
    ("setup", "args", "text"),
    [
        ("kml", ["--left", WEST, "--right", EAST, "--claimant", WEST], "--accuracy-m"),  # accuracy never guessed
        ("kml", ["--right", EAST, "--claimant", WEST, "--accuracy-m", 10], "--left"),
        ("kml", ["--left", "Kyrgyzstan", "--right", EAST, "--claimant", WEST, "--accuracy-m", 10,
                 "--source-date", "2021"], "alpha-3"),
        ("kml", ["--left", EAST, "--right", EAST, "--claimant", WEST, "--accuracy-m", 10, "--source-date", "2021"],
         "two different"),
        ("garbage", ["--left", WEST, "--right", EAST, "--claimant", WEST, "--accuracy-m", 10], "bad.geojson"),
        ("points", ["--left", WEST, "--right", EAST, "--claimant", WEST, "--accuracy-m", 10], "pt.geojson"),
    ],
)
def test_bad_lines_file_is_one_line_exit_1(run, tmp_path, setup, args, text):
    if setup == "kml":
        line = _line_kml(tmp_path / "l.kml")
    elif setup == "garbage":
        line = tmp_path / "bad.geojson"
        line.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    else:
        line = tmp_path / "pt.geojson"
        line.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [45, 40]}}]}))
    res = run("check", "--lat", 40.2, "--lon", 45.1, "--lines", line, *args)
    assert res.exit_code == 1, res.output
    assert len(res.output.strip().splitlines()) == 1 and text in res.output
    assert "Traceback" not in res.output


def test_line_metadata_without_lines_is_a_usage_error(run):
    res = run("check", "--lat", 40.2, "--lon", 45.1, "--left", WEST)
    assert res.exit_code == 2 and "--lines" in res.output


# -------------------------------------------------------------------------------------------------
# files: stdin, -o by suffix, JSON Lines, --expect / --expect-column exit codes
# -------------------------------------------------------------------------------------------------
def _table(n_east=2, n_west=2):
    e_lon, e_lat = _points(5_000, [90] * n_east, lat=40.1)
    w_lon, w_lat = _points(8_000, [270] * n_west, lat=40.4)
    lon, lat = np.r_[e_lon, w_lon], np.r_[e_lat, w_lat]
    n = lon.size
    return pd.DataFrame({
        "id": [f"p{i}" for i in range(n)],
        "lat": np.round(lat, 7),
        "lon": np.round(lon, 7),
        "место": ["Սիսիան", "Tovuz şəhəri", "Ош, Кыргызстан", "İsfara"][:n] + ["x"] * max(0, n - 4),
        "score": [1.5, None, 3.0, 4.0][:n] + [0.0] * max(0, n - 4),
        "reported_in": [EAST, WEST, WEST, WEST][:n] + [WEST] * max(0, n - 4),
    })


WANT_PARTY = [EAST, EAST, WEST, WEST]
WANT_DIST = [5_000.0, 5_000.0, 8_000.0, 8_000.0]


def test_stdin_csv_and_geojson_json_lines(run, tmp_path):
    line = _line_geojson(tmp_path / "mine.geojson")
    df = _table()
    for kind, text in (("csv", df.to_csv(index=False)), ("geojson", _geojson_text(df))):
        res = run("check", "-", "--json", *_line_opts(line), input=text)
        assert res.exit_code == 0, res.output
        rows = _jsonl(res.stdout)
        assert len(rows) == len(df)  # one object per input row, in input order
        assert all(r["schema_version"] == 1 for r in rows)
        assert [r["id"] for r in rows] == list(df["id"])
        assert [r["место"] for r in rows] == list(df["место"])
        # cells as read: a CSV's empty cell is empty text, GeoJSON's null stays null
        assert rows[1]["score"] == ("" if kind == "csv" else None)
        assert all(r["mine__other_border_distance_m"] is None for r in rows)  # NaN -> null (no other border)
        assert [r["mine__party"] for r in rows] == WANT_PARTY
        np.testing.assert_allclose([r["mine__distance_to_line_m"] for r in rows], WANT_DIST, atol=0.01)


def _geojson_text(df):
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
              "properties": {k: (None if isinstance(v, float) and math.isnan(v) else v)
                             for k, v in r._asdict().items() if k not in ("lat", "lon", "Index")}}
             for r in df.itertuples()]
    # itertuples renames non-identifier columns: put the real names back
    for f, (_, row) in zip(feats, df.iterrows(), strict=True):
        f["properties"] = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                           for k, v in row.items() if k not in ("lat", "lon")}
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False)


def test_stdin_errors_name_stdin(run, tmp_path):
    line = _line_geojson(tmp_path / "mine.geojson")
    res = run("check", "-", *_line_opts(line), input="id,lat,lon\na,95,45\n")
    assert res.exit_code == 1 and "<stdin>" in res.output and "borderkit-stdin" not in res.output
    res = run("check", "-", *_line_opts(line), input="")
    assert res.exit_code == 1 and "no input" in res.output


def test_stdin_is_bounded(run, tmp_path, monkeypatch):
    line = _line_geojson(tmp_path / "mine.geojson")
    monkeypatch.setenv("BORDERKIT_MAX_INPUT_MB", "0.001")  # ~1 kB
    text = _table(20, 20).to_csv(index=False)
    assert len(text.encode()) > 1100
    res = run("check", "-", *_line_opts(line), input=text)
    assert res.exit_code == 1 and "BORDERKIT_MAX_INPUT_MB" in res.output


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg", ".parquet"])
def test_output_by_suffix_keeps_every_input_column(run, tmp_path, suffix):
    import geopandas as gpd

    if suffix == ".parquet":
        require_module("pyarrow")
    line = _line_geojson(tmp_path / "mine.geojson")
    df = _table()
    src = tmp_path / "pts.csv"
    df.to_csv(src, index=False)
    out = tmp_path / f"out{suffix}"
    res = run("check", src, "-o", out, "--expect-column", "reported_in", *_line_opts(line))
    # rows 0, 2, 3 are inside; row 1 (reported in KGZ, 5 km on TJK's side) is across
    assert res.exit_code == 10, res.output
    got = pd.read_csv(out, keep_default_na=True) if suffix == ".csv" else gpd.read_file(out) \
        if suffix != ".parquet" else gpd.read_parquet(out)
    assert len(got) == len(df)
    for col in ("id", "место", "reported_in"):
        assert list(got[col]) == list(df[col]), col
    # a CSV's cells are kept as the file's text; the empty score stays empty (NaN once parsed)
    np.testing.assert_allclose(pd.to_numeric(got["lat"]), df["lat"], atol=1e-9)
    np.testing.assert_allclose(pd.to_numeric(got["score"], errors="coerce"), df["score"], atol=1e-12)
    assert list(got["mine__party"]) == WANT_PARTY
    assert list(got["mine__verdict"]) == ["inside", "across", "inside", "inside"]
    np.testing.assert_allclose(got["mine__distance_to_line_m"].astype(float), WANT_DIST, atol=0.01)
    if suffix != ".csv":
        np.testing.assert_allclose(got.geometry.x, df["lon"], atol=1e-9)


def test_expect_exit_codes_on_files(run, tmp_path):
    line = _line_geojson(tmp_path / "mine.geojson")
    src = tmp_path / "east.csv"
    _table(n_east=3, n_west=0).to_csv(src, index=False)
    assert run("check", src, "--expect", EAST, *_line_opts(line)).exit_code == 0  # every point inside
    assert run("check", src, "--expect", WEST, *_line_opts(line)).exit_code == 10  # every point across
    assert run("check", src, *_line_opts(line)).exit_code == 0  # no --expect: no verdict, no 10
    # an error keeps its own code even with --expect
    assert run("check", src, "--expect", WEST, "--expect-column", "x", *_line_opts(line)).exit_code == 2


def test_acled_export_json_lines(run, shared_path):
    path = shared_path("acled-armenia-2018-2020-hdx/conflict_data_arm.csv")
    res = run("-q", "check", path, "--json")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert len(lines) == 4960  # PROVENANCE.md: 4,960 events below the header and the HXL row
    raw = pd.read_csv(path, skiprows=[1], usecols=["event_id_cnty"])
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert first["schema_version"] == last["schema_version"] == 1
    assert first["event_id_cnty"] == raw["event_id_cnty"].iloc[0]
    assert last["event_id_cnty"] == raw["event_id_cnty"].iloc[-1]


def test_every_command_json_has_schema_version(run):
    res = CliRunner().invoke(main.cli, ["datasets", "info", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["schema_version"] == 1


def test_echo_json_lines_refuses_a_schema_version_column():
    from borderkit.cli.options import echo_json_lines
    from borderkit.errors import ValidationError

    with pytest.raises(ValidationError, match="schema_version"):
        echo_json_lines(pd.DataFrame({"schema_version": [2]}), stream=io.StringIO())


# -------------------------------------------------------------------------------------------------
# read_lines(defaults=...) and locate(case=...)
# -------------------------------------------------------------------------------------------------
def test_read_lines_defaults_fill_only_missing_or_empty(tmp_path):
    from borderkit.errors import ValidationError
    from borderkit.io import read_lines

    path = tmp_path / "two.geojson"
    feats = [
        {"type": "Feature", "properties": {"left_party": "", "name": "own name"},
         "geometry": {"type": "LineString", "coordinates": [[45, 40], [45, 40.5]]}},
        {"type": "Feature", "properties": {"left_party": "UZB", "line_id": "mine-7"},
         "geometry": {"type": "LineString", "coordinates": [[45, 40.5], [45.2, 40.6]]}},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    d = {"left_party": WEST, "right_party": EAST, "claimant": WEST, "source": "s", "name": "dflt",
         "source_date": "2021", "scale_or_accuracy_m": 25, "licence": "CC0-1.0", "source_version": "1"}
    g = read_lines(path, defaults=d)
    assert list(g["left_party"]) == [WEST, "UZB"]  # empty filled, a row's own value wins
    assert list(g["name"]) == ["own name", "dflt"]
    assert list(g["line_id"]) == ["two-1", "mine-7"]  # generated from the file's name and row
    assert list(g["scale_or_accuracy_m"]) == [25.0, 25.0]
    # a bad default is reported on the rows it filled, with the file and column
    with pytest.raises(ValidationError) as err:
        read_lines(path, defaults={**d, "right_party": "Tajikistan"})
    assert err.value.problems[0].column == "right_party" and err.value.rows == [1, 2]
    with pytest.raises(ValueError, match="unknown lines column"):
        read_lines(path, defaults={"colour": "red"})


def test_locate_takes_the_case_as_a_parameter(tmp_path):
    import geopandas as gpd
    import shapely

    from borderkit.locate import locate, prepare

    assert prepare() == prepare(case="armenia-azerbaijan")  # the default is the bundled case, cached
    lines = gpd.GeoDataFrame(
        {"source": ["mine"], "left_party": [WEST], "right_party": [EAST], "scale_or_accuracy_m": [ACCURACY_M]},
        geometry=[shapely.LineString([(LON0, LAT_S), (LON0, LAT_N)])], crs=4326,
    )
    lon, lat = _points(3_000, [90, 270])
    only = locate((lon, lat), lines)
    assert list(only["source"]) == ["mine", "mine"] and list(only["party"]) == [EAST, WEST]
    np.testing.assert_allclose(only["distance_to_line_m"], [3_000.0, 3_000.0], atol=0.01)
    both = locate((lon, lat), lines, case="armenia-azerbaijan")
    assert sorted(set(both["source"])) == sorted({"mine", "dcw-gmt", "gshhg-wdbii", "natural-earth-10m",
                                                  "osm-2017"})


def test_a_loaded_case_is_prepared_once_and_unknown_names_are_refused():
    import types

    from borderkit import datasets
    from borderkit.errors import ValidationError
    from borderkit.locate import case_line_models

    case = datasets.load("armenia-azerbaijan")
    loaded = types.SimpleNamespace(lines=case.lines, territories=case.territories)  # any object with the layers
    first = case_line_models(loaded)
    assert case_line_models(loaded) is first
    assert [m.source for m in first] == [m.source for m in case_line_models("armenia-azerbaijan")]
    with pytest.raises(ValidationError, match="borderkit.cases.load"):
        case_line_models("no-such-case")


def test_lines_option_on_measure_and_overlaps(tmp_path):
    """A user's line is one more source for `measure to-line` and `overlaps` (as for `check`)."""
    import geopandas as gpd
    import pyproj
    import shapely

    from borderkit import datasets

    case = datasets.load("armenia-azerbaijan")
    # the user's line: OSM's main ARM|AZE line shifted 0.01° east (about 850 m)
    osm = case.lines[(case.lines["source"] == "osm-2017")].iloc[[0]]
    moved = shapely.transform(osm.geometry.values, lambda c: c + [0.01, 0.0])
    mine = tmp_path / "mine.geojson"
    gpd.GeoDataFrame(geometry=moved, crs="EPSG:4326").to_file(mine, driver="GeoJSON")
    opts = ["--lines", str(mine), "--left", "ARM", "--right", "AZE", "--claimant", "ARM", "--source-date", "2024",
            "--accuracy-m", "50", "--source-name", "my-line"]
    lat, lon = 40.2, 45.6
    r = CliRunner().invoke(main.cli, ["measure", "to-line", "--at", f"{lat},{lon}", *opts, "--json"])
    assert r.exit_code == 0, r.output
    rows = {x["source"]: x for x in json.loads(r.output)["results"]}
    assert "my-line" in rows and "osm-2017" in rows
    # independent: the geodesic distance to the densified user line (pyproj Geod), within 15 m
    geod = pyproj.Geod(ellps="WGS84")
    dense = shapely.get_coordinates(shapely.segmentize(moved[0], 0.0005))
    d = geod.inv([lon] * len(dense), [lat] * len(dense), dense[:, 0], dense[:, 1])[2].min()
    assert abs(rows["my-line"]["distance_m"] - d) < 15
    r = CliRunner().invoke(main.cli, ["overlaps", "--source", "osm-2017", "--source", "my-line", *opts, "--json"])
    assert r.exit_code == 0, r.output
    assert "my-line" in r.output
