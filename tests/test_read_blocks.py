"""A point file read block by block (:mod:`borderkit.io.blocks`) is indistinguishable from read_points.

For every file: either :func:`stream_refusal` names why it does not stream (the caller reads it
whole), or the blocks put together are read_points' rows column by column, with coordinates equal
to ``shapely.get_coordinates`` of its geometry, or the iteration raises read_points' error (type,
message, every problem). The reference is always read_points on the same file.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from pandas.testing import assert_frame_equal

import conftest
from borderkit.errors import ValidationError
from borderkit.io.blocks import read_point_blocks, stream_refusal
from borderkit.io.readers import read_points
from borderkit.locate import check_file, check_file_blocks
from borderkit.schema import INCIDENTS

BAD = Path(__file__).parent / "data" / "bad"
REGION = (44.0, 38.0, 47.0, 42.0)


def _error(exc: BaseException) -> tuple[str, str, list[str]]:
    return type(exc).__name__, str(exc), [str(p) for p in getattr(exc, "problems", [])]


def _same_as_read_points(path: Path, *, block_rows: int, **kw) -> str:
    """'refused', 'error' or 'rows': what the file did, after asserting it matches read_points."""
    stream = read_point_blocks(path, block_rows=block_rows, **kw)
    if stream is None:
        assert stream_refusal(path, **{k: v for k, v in kw.items() if k in ("crs", "encoding", "errors")})
        return "refused"
    try:
        ref = read_points(path, **kw)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as got:
            list(stream)
        assert _error(got.value) == _error(exc)
        return "error"
    blocks = list(stream)
    assert stream.rows == len(ref)
    assert [b.first_row for b in blocks] == list(range(1, len(ref) + 1, block_rows))
    assert all(len(b.lon) == len(b.columns) <= block_rows for b in blocks)
    columns = pd.concat([b.columns for b in blocks], ignore_index=True)
    assert_frame_equal(columns, pd.DataFrame(ref.drop(columns="geometry")).reset_index(drop=True))
    xy = shapely.get_coordinates(ref.geometry.values)
    assert np.array_equal(np.concatenate([b.lon for b in blocks]), xy[:, 0])
    assert np.array_equal(np.concatenate([b.lat for b in blocks]), xy[:, 1])
    info = {k: v for k, v in ref.attrs["borderkit"].items() if k != "rows"}
    assert stream.info == info
    # the GeoDataFrame a consumer checks: read_points' rows of the block, index and columns included
    last = blocks[-1]
    a = last.first_row - 1
    part = stream.frame(last)
    assert_frame_equal(pd.DataFrame(part), pd.DataFrame(ref.iloc[a:]), check_like=False)
    return "rows"


def _plain(src: Path, dest: Path) -> Path:
    """*src* with its incident columns renamed in the header (every byte of the body kept): a plain table."""
    data = src.read_bytes()
    end = data.find(b"\n")
    head = data[:end]
    for c in INCIDENTS.required:
        if c != "geometry":
            head = head.replace(c.encode(), b"orig_" + c.encode())
    dest.write_bytes(head + data[end:])
    return dest


@pytest.mark.parametrize("path", sorted(BAD.glob("*.csv")), ids=lambda p: p.name)
def test_bad_corpus_streams_the_same_or_is_refused(path, tmp_path):
    # as it is (most are incident files: read as incidents, block by block too)
    outcome = _same_as_read_points(path, block_rows=1)
    if path.name in ("bad_date.csv", "duplicate_id_small.csv", "date_end_before_date.csv", "javascript_url.csv"):
        assert outcome == "error"  # an incident file with a bad row: streamed, read_points' error
    outcome = _same_as_read_points(_plain(path, tmp_path / path.name), block_rows=1)
    expected = {"latitude_text.csv": "error", "longitude_out_of_range.csv": "error", "null_island.csv": "error",
                "projected_coordinates.csv": "error"}.get(path.name)
    if expected:
        assert outcome == expected


def _rows(n: int = 2500) -> list[str]:
    return ["id;Lat;LON;precision_m;note"] + [
        f"{i};{39.5 + i * 1e-4:.4f};{45.1 + i * 1e-4:.4f};{i % 7 * 100 if i % 3 else ''};n{i}" for i in range(n)
    ]


def _csv(path: Path, rows: list[str], end: str = "\r\n") -> Path:
    path.write_text(end.join(rows) + end, encoding="utf-8")
    return path


def test_plain_csv_streams_as_read_points(tmp_path):
    # semicolons, CRLF, mixed-case coordinate columns, a precision column renamed and parsed
    src = _csv(tmp_path / "ok.csv", _rows())
    assert stream_refusal(src) is None
    assert _same_as_read_points(src, block_rows=700) == "rows"


def test_quoted_values_stream_as_read_points(tmp_path):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rows = _rows(2500)
    rows[7] = '6;39.5;45.1;100;"a;b ""c"""'  # the delimiter and doubled quotes in a quoted value
    rows[1500] = '"1499";"39.6";"45.2";"";"x"'
    src = _csv(tmp_path / "quoted.csv", rows)
    assert stream_refusal(src) is None
    assert _same_as_read_points(src, block_rows=700) == "rows"
    # pyarrow quotes every text value and the header (as a pandas or Arrow export does)
    n = 3000
    table = pa.table({"name": [f"p, {i}" for i in range(n)], "lat": np.linspace(39, 41, n),
                      "lon": np.linspace(45, 46, n)})
    pacsv.write_csv(table, tmp_path / "arrow.csv")
    assert stream_refusal(tmp_path / "arrow.csv") is None
    assert _same_as_read_points(tmp_path / "arrow.csv", block_rows=1000) == "rows"


def test_every_row_problem_across_blocks_raises_read_points_error(tmp_path):
    rows = _rows()
    rows[3] = "2;;45.2;;x"  # latitude empty
    rows[800] = "799;nan;45;;x"  # not a number
    rows[900] = "899;inf;45;;x"  # not finite: the block takes the shapely path
    rows[1001] = "1000;39,5;45;;x"  # decimal comma
    rows[1500] = "1499;;;;x"  # no coordinates
    rows[2000] = "1999;95;45;;x"  # latitude out of range
    rows[2100] = "2099;45.3;39.6;;x"  # swapped (with the region)
    rows[2400] = "2399;4413000;447000;;"  # projected metres
    rows[2401] = "2400;0;0;;"  # (0, 0)
    src = _csv(tmp_path / "bad.csv", rows)
    assert _same_as_read_points(src, block_rows=700) == "error"
    assert _same_as_read_points(src, block_rows=700, region=REGION, projected_crs=["EPSG:32638"]) == "error"
    with pytest.raises(ValidationError) as got:
        list(read_point_blocks(src, block_rows=700, region=REGION))
    assert got.value.rows == [3, 800, 900, 1001, 1500, 2000, 2100, 2400, 2401]  # the file's rows, by hand
    assert "[spreadsheet row 2402]" in got.value.report()


def test_precision_problems_only_when_the_coordinates_are_clean(tmp_path):
    # read_points checks precision in a second pass over a file whose coordinates are clean
    rows = _rows()
    rows[2300] = "2299;39;45;-5;x"
    src = _csv(tmp_path / "prec.csv", rows)
    assert _same_as_read_points(src, block_rows=700) == "error"
    rows[10] = "9;39;;;x"
    src = _csv(tmp_path / "both.csv", rows)
    assert _same_as_read_points(src, block_rows=700) == "error"
    with pytest.raises(ValidationError) as got:
        list(read_point_blocks(src, block_rows=700))
    assert got.value.rows == [10]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda r: r.insert(5, ""), "number of fields"),  # an empty line: one field
        (lambda r: r.insert(5, ";;;;"), "blank record"),
        (lambda r: r.__setitem__(5, '4;39.5;45.1;;a"b"'), "quote"),  # a quote inside a value
        (lambda r: r.__setitem__(5, '4;39.5;45.1;;"a'), "quote"),  # a quote that never ends
        (lambda r: r.insert(5, '"";"";"";"";""'), "blank record"),
        (lambda r: r.__setitem__(5, "4;39.5;45.1;;x;y"), "number of fields"),
        (lambda r: r.__setitem__(5, "4;39.5;45.1;;a\rb"), "carriage return"),
        (lambda r: r.__setitem__(0, "id;lat;lon;wkt;note"), "WKT"),
    ],
)
def test_files_that_do_not_stream_say_why_and_read_whole(tmp_path, edit, reason):
    rows = _rows(30)
    edit(rows)
    src = _csv(tmp_path / "x.csv", rows, end="\n")
    why = stream_refusal(src)
    assert why is not None and reason in why
    assert read_point_blocks(src) is None
    # the caller's whole-file path still reads (or refuses) it: check_file_blocks falls back
    try:
        read_points(src)
    except ValidationError:
        pass


def _incident_rows(n: int) -> list[str]:
    names = [c for c in INCIDENTS.names if c != "geometry"]
    return [";".join(names) + ";lat;lon"] + [f"i{k % 20}" + ";" * len(names) + "39.5;45.1" for k in range(n)]


@pytest.mark.parametrize(
    ("edit", "outcome"),
    [
        (lambda r: r.__setitem__(5, '4;39.5;45.1;;"a\nb"'), "rows"),  # a line break in a quoted value
        (lambda r: r.__setitem__(5, '4;39.5;45.1;;"a\r\n;""b\n"'), "rows"),  # CRLF, delimiter, quotes inside
        (lambda r: r.insert(1, "#id;#geo+lat;#geo+lon;;"), "rows"),  # an HXL row
        (lambda r: r.insert(1, "#id;;;;"), "rows"),
        # the incident schema's columns: read as incidents (here every date and id is bad)
        (lambda r: r.__setitem__(slice(None), _incident_rows(len(r))), "error"),
    ],
)
def test_files_that_stream_since_s18(tmp_path, edit, outcome):
    rows = _rows(30)
    edit(rows)
    src = _csv(tmp_path / "x.csv", rows, end="\n")
    assert stream_refusal(src) is None
    assert _same_as_read_points(src, block_rows=7) == outcome


def test_options_that_do_not_stream(tmp_path):
    src = _csv(tmp_path / "ok.csv", _rows(30))
    assert "collect" in stream_refusal(src, errors="collect")
    assert "encoding" in stream_refusal(src, encoding="utf-8")
    assert "WGS84" in stream_refusal(src, crs="EPSG:32638")
    assert stream_refusal(src, crs="EPSG:4326") is None
    assert stream_refusal(BAD / "semicolon_utf16.csv") is not None  # a byte-order mark
    with pytest.raises(ValueError, match="block_rows"):
        read_point_blocks(src, block_rows=0)


def _parquet(path: Path, geoms, crs="EPSG:4326", **cols) -> Path:
    import geopandas as gpd

    n = len(geoms)
    gpd.GeoDataFrame({"name": [f"p{i}" for i in range(n)], **cols}, geometry=list(geoms), crs=crs).to_parquet(path)
    return path


def _points(n: int = 2500):
    return [shapely.Point(45.1 + i * 0.001, 39.5 - i * 0.0005) for i in range(n)]


def test_geoparquet_streams_as_read_points(tmp_path):
    pts = _points()
    src = _parquet(tmp_path / "ok.parquet", pts, val=np.arange(2500.0), flag=[True] * 2500,
                   when=pd.date_range("2020-01-01", periods=2500, freq="h"))
    assert _same_as_read_points(src, block_rows=700) == "rows"
    # no CRS in the geo metadata is OGC:CRS84; its name is the one the messages use
    assert _same_as_read_points(_parquet(tmp_path / "crs84.parquet", pts, crs="OGC:CRS84"), block_rows=700) == "rows"
    assert _same_as_read_points(_parquet(tmp_path / "prec.parquet", pts[:5], precision_m=[1.0, np.nan, 3, 4, 5]),
                                block_rows=2) == "rows"
    # the dtypes pandas writes into the file's metadata come back as read_points reads them
    n = 50
    typed = _parquet(tmp_path / "types.parquet", pts[:n],
                     cat=pd.Categorical(["a", "b"] * 25, categories=["b", "a"], ordered=True),
                     tz=pd.date_range("2020", periods=n, tz="Asia/Yerevan"), u8=np.arange(n, dtype="uint8"),
                     maybe=pd.array([1, None] * 25, dtype="Int64"), s=pd.array(["x", None] * 25, dtype="string"))
    assert _same_as_read_points(typed, block_rows=20) == "rows"


def test_geoparquet_1_1_with_bbox_covering_streams_without_it(tmp_path):
    import json

    import geopandas as gpd
    import pyarrow.parquet as pq

    from borderkit.io.blocks import row_group_blocks

    pts = _points()
    src = tmp_path / "cov.parquet"
    gpd.GeoDataFrame({"name": [f"p{i}" for i in range(2500)], "val": np.arange(2500.0)}, geometry=pts,
                     crs=4326).to_parquet(src, write_covering_bbox=True, schema_version="1.1.0", row_group_size=1000)
    assert "bbox" in pq.read_schema(src).names  # the file carries the covering column ...
    assert stream_refusal(src) is None
    # ... which is derived data: neither read_points nor its blocks read it (geopandas drops it too)
    assert sorted(read_points(src).columns) == ["geometry", "name", "val"]
    assert _same_as_read_points(src, block_rows=700) == "rows"
    # the dask path's row-group reader, the same rule: its blocks are read_points' rows of the group
    ref = read_points(src)
    got = list(row_group_blocks(src, 1, block_rows=400))
    assert [b.first_row for b in got] == [1001, 1401, 1801]
    assert [list(b.columns.attrs["borderkit"]["rows"]) for b in got] == [
        list(range(a, min(a + 400, 2001))) for a in (1001, 1401, 1801)]
    parts = [b.columns.copy() for b in got]
    for part in parts:
        part.attrs = {}  # the row numbers, compared just above (concat does not merge array attrs)
    columns = pd.concat(parts, ignore_index=True)
    expected = pd.DataFrame(ref.drop(columns="geometry")).iloc[1000:2000].reset_index(drop=True)
    expected.attrs = {}
    assert_frame_equal(columns, expected)
    assert np.array_equal(np.concatenate([b.lon for b in got]), [p.x for p in pts[1000:2000]])
    # a covering that does not name one column of the file is not streamed: read_points reads it
    table = pq.read_table(src)
    geo = json.loads(table.schema.metadata[b"geo"])
    geo["columns"]["geometry"]["covering"]["bbox"]["xmin"] = ["box2", "xmin"]
    odd = tmp_path / "odd.parquet"
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"geo": json.dumps(geo).encode()}), odd)
    assert "covering" in stream_refusal(odd)


def test_geoparquet_wkb_read_with_numpy_is_shapely_s():
    import pyarrow as pa

    from borderkit.io.blocks import _wkb_points  # noqa: PLC2701 - the numpy WKB reader against shapely's

    rng = np.random.default_rng(3)
    xy = rng.uniform(-180, 180, (1000, 2))
    wkb = shapely.to_wkb(shapely.points(xy), byte_order=1)
    lon, lat = _wkb_points(pa.array(list(wkb), type=pa.binary()).slice(10))
    assert np.array_equal(lon, xy[10:, 0]) and np.array_equal(lat, xy[10:, 1])
    big_endian = shapely.to_wkb(shapely.points(xy[:3]), byte_order=0)
    assert _wkb_points(pa.array(list(big_endian), type=pa.binary())) == (None, None)  # shapely reads those
    z = shapely.to_wkb(shapely.points(np.c_[xy[:3], xy[:3, :1]]), byte_order=1)
    assert _wkb_points(pa.array(list(z), type=pa.binary())) == (None, None)


def test_geoparquet_row_problems_raise_read_points_error(tmp_path):
    pts = _points()
    bad = list(pts)
    bad[5], bad[6], bad[1800] = None, shapely.Point(), shapely.Point(np.nan, 39.0)
    bad[2000] = shapely.LineString([(45, 39), (45.1, 39.1)])
    assert _same_as_read_points(_parquet(tmp_path / "bad.parquet", bad), block_rows=700) == "error"
    bad = list(pts)
    bad[10], bad[1000], bad[2400] = shapely.Point(39.5, 45.1), shapely.Point(0, 0), shapely.Point(447000, 4413000)
    src = _parquet(tmp_path / "bad2.parquet", bad)
    assert _same_as_read_points(src, block_rows=700) == "error"
    assert _same_as_read_points(src, block_rows=700, region=REGION, projected_crs=["EPSG:32638"]) == "error"
    crs84 = _parquet(tmp_path / "bad84.parquet", bad, crs="OGC:CRS84")
    assert _same_as_read_points(crs84, block_rows=700) == "error"
    with pytest.raises(ValidationError) as got:
        list(read_point_blocks(crs84, block_rows=700))
    assert "but the layer says WGS 84 (CRS84)" in got.value.report()  # the projected row names the file's CRS
    prec = _parquet(tmp_path / "prec_bad.parquet", pts[:5], precision_m=[1.0, -1, 3, 4, 5])
    assert _same_as_read_points(prec, block_rows=2) == "error"


def test_geoparquet_that_does_not_stream(tmp_path):
    import geopandas as gpd

    pts = _points(3)
    assert "WGS84" in stream_refusal(_parquet(tmp_path / "utm.parquet", [shapely.Point(447000, 4413000)] * 3,
                                              crs="EPSG:32638"))
    gpd.GeoDataFrame({"a": [1, 2, 3]}, geometry=pts, crs=None).to_parquet(tmp_path / "nocrs.parquet")
    assert "null" in stream_refusal(tmp_path / "nocrs.parquet")
    assert stream_refusal(tmp_path / "nocrs.parquet", crs="EPSG:4326") is None
    indexed = gpd.GeoDataFrame({"a": [1, 2, 3]}, geometry=pts, crs=4326, index=["x", "y", "z"])
    indexed.to_parquet(tmp_path / "indexed.parquet")
    assert "index" in stream_refusal(tmp_path / "indexed.parquet")
    pd.DataFrame({"lat": [39.5], "lon": [45.1]}).to_parquet(tmp_path / "plain.parquet")
    assert "plain" in stream_refusal(tmp_path / "plain.parquet")


def test_real_acled_export_and_its_points_stream(tmp_path):
    """The whole ACLED export streams as read_points reads it (as incidents); its own coordinates,
    written as a plain table, stream as read_points reads them."""
    path = conftest.shared_file("acled-armenia-2018-2020-hdx/conflict_data_arm.csv")
    assert stream_refusal(path) is None
    assert _same_as_read_points(path, block_rows=1500) == "rows"
    with open(path, encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))[1:]  # the HXL row
    plain = tmp_path / "acled_points.csv"
    with open(plain, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["event", "day", "latitude", "longitude", "admin1"])
        for r in records:
            w.writerow([r["event_id_cnty"], r["event_date"], r["latitude"], r["longitude"], r["admin1"]])
    assert stream_refusal(plain) is None
    assert _same_as_read_points(plain, block_rows=1000) == "rows"
    stream = read_point_blocks(plain, block_rows=1000)
    assert stream.rows == len(records) == 4960  # the export's events (PROVENANCE.md)


def test_check_file_blocks_streams_check_files_table_and_errors(tmp_path):
    rows = ["id,latitude,longitude,expected"] + [
        f"{i},{39.0 + i * 0.0008:.6f},{45.0 + i * 0.0007:.6f},{['ARM', 'AZE', ''][i % 3]}" for i in range(2500)]
    src = _csv(tmp_path / "pts.csv", rows, end="\n")
    assert stream_refusal(src) is None
    whole = check_file(src, expect_column="expected").table
    res = check_file_blocks(src, block_rows=700, expect_column="expected")
    assert res.rows == 2500 and res.rejected is None
    blocks = list(res.blocks)
    assert [len(b.frame) for b in blocks] == [700, 700, 700, 400]
    assert [b.first_row for b in blocks] == [0, 700, 1400, 2100]

    def table(b):  # the block's input columns and its Arrow results, as a pandas table
        res = b.results
        cols = {n: (c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c).to_pandas()
                for n, c in zip(res.column_names, res.columns, strict=True)}
        return pd.concat([b.frame.reset_index(drop=True), pd.DataFrame(cols)], axis=1)

    streamed = pd.concat([table(b) for b in blocks], ignore_index=True)
    assert_frame_equal(streamed, pd.DataFrame(whole).drop(columns="geometry").reset_index(drop=True),
                       check_dtype=False)
    np.testing.assert_array_equal(np.concatenate([b.lon for b in blocks]), whole.geometry.x.to_numpy())
    np.testing.assert_array_equal(np.concatenate([b.lat for b in blocks]), whole.geometry.y.to_numpy())
    # a bad expected party in an early block and a bad coordinate in a later one: the reader's error wins,
    # as in check_file (which reads the whole file before it looks at the expected parties)
    rows[5] = rows[5].rsplit(",", 1)[0] + ",Armenia"
    rows[2300] = "2299,95,45,ARM"
    src = _csv(tmp_path / "bad.csv", rows, end="\n")
    with pytest.raises(ValidationError) as ref:
        check_file(src, expect_column="expected")
    with pytest.raises(ValidationError) as got:
        list(check_file_blocks(src, block_rows=700, expect_column="expected").blocks)
    assert _error(got.value) == _error(ref.value) and got.value.rows == [2300]


@pytest.fixture
def run(monkeypatch):
    from click.testing import CliRunner

    from borderkit.cli import main

    monkeypatch.setitem(main.COMMANDS, "check", "borderkit.cli.check_cmd:check")
    runner = CliRunner()
    return lambda *args: runner.invoke(main.cli, [str(a) for a in args])


def test_cli_streams_csv_and_geoparquet_to_the_bytes_of_the_whole_file_path(run, tmp_path, monkeypatch):
    import geopandas as gpd

    import borderkit.io.blocks

    n = 2500
    rng = np.random.default_rng(18)
    lon, lat = np.round(rng.uniform(45.0, 46.8, n), 6), np.round(rng.uniform(39.0, 41.2, n), 6)
    rows = ["id,latitude,longitude,expected"] + [
        f"{i},{float(lat[i])!r},{float(lon[i])!r},{['ARM', 'AZE', ''][i % 3]}" for i in range(n)]
    csv_src = _csv(tmp_path / "pts.csv", rows, end="\n")
    pq_src = tmp_path / "pts.parquet"
    gpd.GeoDataFrame({"id": np.arange(n), "expected": [["ARM", "AZE", ""][i % 3] for i in range(n)]},
                     geometry=gpd.points_from_xy(lon, lat), crs=4326).to_parquet(pq_src)
    cov_src = tmp_path / "cov.parquet"  # GeoParquet 1.1 with the bbox covering column (not in the output)
    gpd.read_parquet(pq_src).to_parquet(cov_src, write_covering_bbox=True, schema_version="1.1.0")
    for src in (csv_src, pq_src, cov_src):
        assert stream_refusal(src) is None
        outs = {}
        for streamed in (True, False):  # streamed in blocks of 700 rows; read whole (the path before streaming)
            if not streamed:
                monkeypatch.setattr(borderkit.io.blocks, "read_point_blocks", lambda *a, **k: None)
            out = tmp_path / f"{src.name}{streamed}.csv"
            res = run("check", src, "--expect-column", "expected", "-o", out, "--chunk-size", 700)
            assert res.exit_code in (0, 10), res.output
            outs[streamed] = out.read_bytes()
        monkeypatch.undo()
        assert outs[True] == outs[False]
        assert b"bbox" not in outs[True].split(b"\n", 1)[0]


def test_cli_bad_row_in_a_late_block_fails_without_output(run, tmp_path, monkeypatch):
    import borderkit.io.blocks

    rows = ["id,latitude,longitude"] + [f"{i},{39 + i * 1e-4:.4f},{45 + i * 1e-4:.4f}" for i in range(3000)]
    rows[2900] = "2899,95,45"  # in the last block of 1,000 rows: the first blocks were already written
    rows[1200] = "1199,39.1,450"
    src = _csv(tmp_path / "late.csv", rows, end="\n")
    out = tmp_path / "out.csv"
    res = run("check", src, "-o", out, "--chunk-size", 1000)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "row 1200" in res.output and "(and 1 more problem(s))" in res.output
    assert list(tmp_path.iterdir()) == [src]  # no output, and no temporary file left
    monkeypatch.setattr(borderkit.io.blocks, "read_point_blocks", lambda *a, **k: None)
    whole = run("check", src, "-o", out, "--chunk-size", 1000)
    assert (whole.exit_code, whole.output) == (res.exit_code, res.output)


def test_a_file_that_changes_while_streamed_is_not_read_silently(tmp_path):
    src = _csv(tmp_path / "ok.csv", _rows(50))
    stream = read_point_blocks(src, block_rows=20)
    _csv(src, _rows(60))  # rewritten after its records were counted
    with pytest.raises(ValueError, match="changed"):
        list(stream)
    stream = read_point_blocks(_csv(src, _rows(50)), block_rows=20)
    rows = _rows(60)
    rows[55] = "54;abc;45;;x"
    _csv(src, rows)  # changed, with a bad row: read_points' own error is raised
    with pytest.raises(ValidationError, match="row 55"):
        list(stream)


ACLED = "acled-armenia-2018-2020-hdx/conflict_data_arm_syunik.csv"


def _acled_lines() -> list[bytes]:
    """The real ACLED HDX export (Syunik), one bytes object per record (it has no quoted line break)."""
    lines = conftest.shared_file(ACLED).read_bytes().splitlines(keepends=True)
    assert lines[1].startswith(b",#event+code")  # the HDX hashtag row
    return lines


def test_acled_export_streams_as_read_points(tmp_path):
    lines = _acled_lines()
    src = conftest.shared_file(ACLED)
    assert stream_refusal(src) is None
    assert _same_as_read_points(src, block_rows=30, region=REGION) == "rows"
    stream = read_point_blocks(src, block_rows=50)
    assert stream.rows == len(lines) - 2  # header and hashtag rows
    assert stream.info["export"] == "acled" and stream.info["header_rows"] == 2 and stream.info["hxl"]
    # without the hashtag row (an export from ACLED's own site)
    plain = tmp_path / "acled.csv"
    plain.write_bytes(lines[0] + b"".join(lines[2:]))
    assert stream_refusal(plain) is None
    assert _same_as_read_points(plain, block_rows=10) == "rows"
    # saved again by Excel ("CSV UTF-8"): a byte-order mark and CRLF line breaks
    excel = tmp_path / "excel.csv"
    excel.write_bytes(codecs.BOM_UTF8 + b"".join(ln.rstrip(b"\n") + b"\r\n" for ln in lines))
    assert stream_refusal(excel) is None
    assert _same_as_read_points(excel, block_rows=40) == "rows"


def test_acled_notes_with_line_breaks_stream(tmp_path):
    # ACLED notes often hold line breaks inside their quotes: records are cut at record ends only
    lines = _acled_lines()
    body = [ln.replace(b'",', b'\r\nsecond line, with ""quotes"".",', 1) if i % 3 == 0 else ln
            for i, ln in enumerate(lines[2:])]
    assert sum(b'\r\nsecond' in ln for ln in body) > 30
    src = tmp_path / "notes.csv"
    src.write_bytes(b"".join(lines[:2] + body))
    assert stream_refusal(src) is None
    assert _same_as_read_points(src, block_rows=25) == "rows"
    ref = read_points(src)
    assert "\r\nsecond line, with \"quotes\"." in ref["description"].iloc[0]  # the value kept whole
    # a quote that never ends is not streamed (read_points names it)
    bad = tmp_path / "open.csv"
    bad.write_bytes(b"".join(lines[:3]) + b'1,"no end\n' + b"".join(lines[3:]))
    assert stream_refusal(bad)


def test_acled_duplicate_and_bad_rows_across_blocks(tmp_path):
    lines = _acled_lines()
    first_id = next(csv.reader([lines[2].decode()]))[1]
    last = next(csv.reader([lines[-1].decode()]))
    other = lines[-1].decode().replace(last[1], first_id, 1).encode()
    src = tmp_path / "dup.csv"
    src.write_bytes(b"".join(lines[:-1]) + other)
    # the two rows are in different blocks; the message names both rows, as read_points does
    assert _same_as_read_points(src, block_rows=40) == "error"
    with pytest.raises(ValidationError, match=f"duplicate id '{first_id}': used by rows 1, {len(lines) - 2}"):
        list(read_point_blocks(src, block_rows=40))
    # a bad date and a bad precision code in two blocks, and a latitude out of range
    header = next(csv.reader([lines[0].decode()]))

    def edit(line: bytes, **values: str) -> bytes:
        cells = next(csv.reader([line.decode()]))
        for k, v in values.items():
            cells[header.index(k)] = v
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(cells)
        return out.getvalue().encode()

    body = lines[2:]
    body[3] = edit(body[3], event_date="2020-13-45")
    body[20] = edit(body[20], geo_precision="7")
    body[40] = edit(body[40], latitude="99.5")
    src.write_bytes(b"".join(lines[:2] + body))
    assert _same_as_read_points(src, block_rows=20) == "error"
    body[40] = lines[42]
    src.write_bytes(b"".join(lines[:2] + body))
    assert _same_as_read_points(src, block_rows=20) == "error"


def test_ucdp_export_streams_as_read_points(tmp_path):
    src = Path(__file__).parent / "data" / "ucdp_ged_sample.csv"
    assert stream_refusal(src) is None
    assert _same_as_read_points(src, block_rows=2) == "rows"
    assert read_point_blocks(src).info["precision_column"] == "where_prec"


def test_cli_streams_the_acled_export_to_the_bytes_of_the_whole_file_path(run, tmp_path, monkeypatch):
    import borderkit.io.blocks

    lines = _acled_lines()
    dup = tmp_path / "dup.csv"  # the last event given the first one's id
    first_id = next(csv.reader([lines[2].decode()]))[1]
    last_id = next(csv.reader([lines[-1].decode()]))[1]
    dup.write_bytes(b"".join(lines[:-1]) + lines[-1].replace(last_id.encode(), first_id.encode(), 1))
    for src in (conftest.shared_file(ACLED), dup):
        results = {}
        for streamed in (True, False):
            if not streamed:
                monkeypatch.setattr(borderkit.io.blocks, "read_point_blocks", lambda *a, **k: None)
            out = tmp_path / f"{src.stem}{streamed}.csv"
            res = run("check", src, "-o", out, "--chunk-size", 30)
            results[streamed] = (res.exit_code, res.output.replace(str(out), "OUT"),
                                 out.read_bytes() if out.exists() else None)
        monkeypatch.undo()
        assert results[True] == results[False]
        if src == dup:
            assert results[True][0] == 1 and results[True][2] is None and "duplicate id" in results[True][1]
        else:
            assert results[True][2] is not None and results[True][2].count(b"\n") > len(lines) - 2


def test_a_file_over_the_whole_file_readers_limit_streams_in_blocks(tmp_path, monkeypatch):
    """The readers' size limit bounds a whole-file read; a streamed file is held one block at a time,
    so a file over the limit is checked block by block (and read_points still refuses it)."""
    from borderkit.errors import InputTooLargeError

    rng = np.random.default_rng(7)
    n = 60_000
    lat, lon = rng.uniform(38.9, 41.2, n), rng.uniform(44.5, 46.6, n)
    path = tmp_path / "big.csv"
    path.write_text("id,latitude,longitude\n" + "".join(f"{i},{a:.6f},{o:.6f}\n" for i, (a, o) in
                                                         enumerate(zip(lat, lon, strict=True))))
    monkeypatch.setenv("BORDERKIT_MAX_INPUT_MB", str(path.stat().st_size / 2 / 2**20))  # half the file
    with pytest.raises(InputTooLargeError):
        read_points(path)
    assert stream_refusal(path) is None
    stream = read_point_blocks(path, block_rows=20_000)
    blocks = list(stream)
    assert stream.rows == n and len(blocks) == 3
    # the coordinates as written, parsed independently of the reader
    assert np.array_equal(np.concatenate([b.lat for b in blocks]), np.round(lat, 6))
    assert np.array_equal(np.concatenate([b.lon for b in blocks]), np.round(lon, 6))
