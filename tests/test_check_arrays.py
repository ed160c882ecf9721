"""Arrow-native results (:func:`borderkit.locate.check_arrays`) and the GeoParquet block writer.

References: pyproj's ``Geod.inv`` on a line whose distances are known by hand (the equator) for
the values themselves; :func:`borderkit.locate.check_table` on the same points (built on
``check_arrays``: this checks the pandas conversion, not the values),
``shapely.to_wkb`` for the WKB of points, numpy's minimum/maximum of the
coordinates for the bounding box, and ``geopandas.GeoDataFrame.to_parquet`` of the whole table
(the writer of ``borderkit check -o OUT.parquet`` before the blocks) for the file read back.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

from borderkit.cli import main
from borderkit.errors import ValidationError
from borderkit.io.geoparquet import PointParquetWriter, point_wkb
from borderkit.locate import check_arrays, check_file, check_table


def _points(n, seed=15):
    # around the Armenia-Azerbaijan border (both sides, and beyond some lines' ends)
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(44.8, 46.9, n), 6)
    lat = np.round(rng.uniform(38.7, 41.3, n), 6)
    return lon, lat


def _same(a, b):
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    return all((x == y) or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("options", [{}, {"expect": "ARM", "default_precision_m": 250.0},
                                     {"expect_column": "expected"}])
def test_check_arrays_are_check_tables_columns(options):
    lon, lat = _points(2500)
    frame = pd.DataFrame({"id": np.arange(lon.size),
                          "expected": np.array(["ARM", "AZE", "", "IRN", None], dtype=object)[np.arange(lon.size) % 5],
                          "precision_m": np.where(np.arange(lon.size) % 3 == 0, 1000.0, np.nan)})
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    ref = check_table(gdf, **options)
    got = check_arrays(lon, lat, frame=frame, **options)
    assert got.num_rows == lon.size
    assert got.column_names == [c for c in ref.columns if c not in gdf.columns]
    for name in got.column_names:
        col, want = got.column(name), ref[name]
        assert _same(col.to_pandas(), want), name
        if want.dtype == bool:
            assert pa.types.is_boolean(col.type), name
        elif want.dtype == np.float64:
            assert pa.types.is_float64(col.type), name
        else:  # text: Arrow dictionary-encoded strings, or a null column where the source has no such border
            assert (pa.types.is_dictionary(col.type) and pa.types.is_large_string(col.type.value_type)
                    or pa.types.is_null(col.type)), name
    # the source without other borders (gshhg-wdbii): a null column, whatever the points
    assert pa.types.is_null(got.column("gshhg-wdbii__other_border").type)
    assert got.schema.metadata[b"method"].decode() == ref.attrs["method"]


def test_check_arrays_refuses_what_check_table_refuses():
    lon, lat = _points(5)
    with pytest.raises(ValidationError, match="no column 'nope'"):
        check_arrays(lon, lat, expect_column="nope")
    with pytest.raises(ValidationError, match="latitude"):
        check_arrays(lon, np.full(5, 95.0))
    with pytest.raises(ValidationError, match="already has result column"):
        check_arrays(lon, lat, frame=pd.DataFrame({"check__parties": ["x"] * 5}))


def test_point_wkb_is_shapelys():
    x = np.array([46.123456, -0.0, 0.0, -180.0, 180.0, 1e-300, 12345.678])
    y = np.array([39.5, 0.0, -0.0, -90.0, 90.0, -1e-300, -1.5])
    got = point_wkb(x, y)
    assert got.type == pa.binary()
    assert got.to_pylist() == list(shapely.to_wkb(shapely.points(x, y)))
    assert point_wkb(np.empty(0), np.empty(0)).to_pylist() == []


def test_parquet_blocks_read_back_with_the_whole_files_bbox(tmp_path):
    lon, lat = _points(3000, seed=3)
    path = tmp_path / "pts.parquet"
    notes = np.where(np.arange(3000) < 1000, None, "a note")  # empty in the first block only
    with PointParquetWriter(path, crs="EPSG:4326") as writer:
        for a in range(0, 3000, 1000):
            block = pa.table({"id": np.arange(a, a + 1000),
                              "note": pa.array(notes[a:a + 1000], pa.large_string())})
            writer.write(block, lon[a:a + 1000], lat[a:a + 1000])
    meta = json.loads(pq.read_schema(path).metadata[b"geo"])
    col = meta["columns"]["geometry"]
    assert meta["version"] == "1.1.0" and meta["primary_column"] == "geometry"
    assert col["encoding"] == "WKB" and col["geometry_types"] == ["Point"]
    assert col["bbox"] == [lon.min(), lat.min(), lon.max(), lat.max()]
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    back = gpd.read_parquet(path)
    assert back.crs.to_epsg() == 4326
    np.testing.assert_array_equal(back.geometry.x, lon)
    np.testing.assert_array_equal(back.geometry.y, lat)
    assert back["id"].tolist() == list(range(3000)) and _same(back["note"], notes)
    assert pq.read_table(path, columns=["geometry"]).column(0).to_pylist() == list(
        shapely.to_wkb(shapely.points(lon, lat)))


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setitem(main.COMMANDS, "check", "borderkit.cli.check_cmd:check")
    runner = CliRunner()
    return lambda *args: runner.invoke(main.cli, [str(a) for a in args])


@pytest.mark.parametrize("z", [False, True])
def test_cli_parquet_blocks_equal_the_whole_tables_file(run, tmp_path, z):
    from borderkit.cli.check_cmd import _write

    lon, lat = _points(2600, seed=5)
    expected = np.array(["ARM", "AZE", ""])[np.arange(lon.size) % 3]
    pts = gpd.GeoDataFrame({"id": np.arange(lon.size), "expected": expected},
                           geometry=gpd.points_from_xy(lon, lat, np.full(lon.size, 900.0) if z else None), crs=4326)
    src = tmp_path / "in.geojson"
    pts.to_file(src, driver="GeoJSON")
    out = tmp_path / "out.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on the user's terminal (e.g. pyarrow on the reader's attrs)
        res = run("check", src, "--expect-column", "expected", "-o", out, "--chunk-size", 700)
    assert res.exit_code == 10, res.output  # some point is across
    whole = tmp_path / "whole.parquet"
    _write(check_file(src, expect_column="expected").table, whole, overwrite=True)  # geopandas, whole table
    got, want = gpd.read_parquet(out), gpd.read_parquet(whole)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.crs == want.crs and bool(got.geometry.has_z.all()) is z
    geo = json.loads(pq.read_schema(out).metadata[b"geo"])["columns"]["geometry"]
    assert geo["geometry_types"] == (["Point Z"] if z else ["Point"])
    assert geo["bbox"] == [lon.min(), lat.min(), lon.max(), lat.max()]
    csv_out = tmp_path / "out.csv"
    assert run("check", src, "--expect-column", "expected", "-o", csv_out, "--chunk-size", 700).exit_code in (0, 10)
    whole_csv = tmp_path / "whole.csv"
    _write(check_file(src, expect_column="expected").table, whole_csv, overwrite=True)
    assert csv_out.read_bytes() == whole_csv.read_bytes()


def test_cli_parquet_output_is_atomic_when_a_later_block_fails(run, tmp_path, monkeypatch):
    from borderkit.io import geoparquet

    lon, lat = _points(2500, seed=8)
    src = tmp_path / "in.csv"
    pd.DataFrame({"latitude": lat, "longitude": lon}).to_csv(src, index=False)
    real = geoparquet.PointParquetWriter.write
    calls = []

    def first_then_fail(self, table, lon, lat, **kwargs):
        calls.append(table.num_rows)
        if len(calls) > 1:  # the first block is in the file: a partial file on disk
            raise OSError("disk full")
        real(self, table, lon, lat, **kwargs)

    monkeypatch.setattr(geoparquet.PointParquetWriter, "write", first_then_fail)
    out = tmp_path / "out.parquet"
    res = run("check", src, "-o", out, "--chunk-size", 1000)
    assert res.exit_code != 0 and calls == [1000, 1000]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # no partial file
    monkeypatch.setattr(geoparquet.PointParquetWriter, "write", real)
    assert run("check", src, "-o", out, "--chunk-size", 1000).exit_code == 0
    assert len(gpd.read_parquet(out)) == 2500


def test_csv_of_an_arrow_table_is_pandas_csv():
    import io

    from borderkit.io.fastcsv import write_csv

    codes = np.array([0, 1, -1, 2, 0])
    labels = ["ARM", 'a, "quoted" label', "AZE"]
    table = pa.table({
        "party": pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(labels, pa.large_string())),
        "ok": pa.array([True, False, True, True, False]),
        "m": pa.array([1.5, None, -2.25, 3.0e6, 0.125]),
        "none": pa.nulls(5),
    })
    frame = pd.DataFrame({"party": np.array([*labels, None], dtype=object)[codes],
                          "ok": [True, False, True, True, False], "m": [1.5, np.nan, -2.25, 3.0e6, 0.125],
                          "none": [None] * 5})
    want = frame.to_csv(index=False, lineterminator="\n").encode()  # pandas' own writer
    for block_rows in (100_000, 2):
        buf = io.BytesIO()
        write_csv(table, buf, block_rows=block_rows)
        assert buf.getvalue() == want.replace(b"3000000.0", b"3000000")  # Arrow's shortest float text


def test_check_arrays_coordinates_validated_only_skips_the_coordinate_check():
    # the same table with the caller's word that the coordinates are checked (the block reader's);
    # precisions are still checked, and a user's call (the default) still checks the coordinates
    lon, lat = _points(300)
    frame = pd.DataFrame({"precision_m": np.where(np.arange(lon.size) % 2 == 0, 500.0, np.nan)})
    assert check_arrays(lon, lat, frame=frame, coordinates_validated=True).equals(check_arrays(lon, lat, frame=frame))
    with pytest.raises(ValidationError, match="precision_m"):
        check_arrays(lon, lat, frame=pd.DataFrame({"precision_m": np.full(lon.size, -1.0)}),
                     coordinates_validated=True)
    with pytest.raises(ValidationError, match="longitude"):
        check_arrays(np.where(np.arange(lon.size) == 7, np.nan, lon), lat)


def test_checked_table_puts_inputs_then_results_and_types_an_empty_input_column_as_text():
    import pandas as pd
    import pyarrow as pa

    from borderkit.locate import checked_table

    frame = pd.DataFrame({"id": [1, 2], "note": [None, None]})
    frame.attrs = {"borderkit": {"rows": [2, 3]}}  # the reader's notes: not a column, not stored
    results = pa.table({"x__verdict": ["inside", "across"]})
    table = checked_table(frame, results)
    assert table.column_names == ["id", "note", "x__verdict"]
    assert table.schema.field("note").type == pa.large_string()
    assert table.column("note").null_count == 2
    assert table.column("id").to_pylist() == [1, 2]
    assert b"borderkit" not in (table.schema.metadata or {}).get(b"pandas", b"")


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_check_arrays_against_geodesics_by_hand(method):
    """Values independent of check_table (which is built on check_arrays): the equator is a geodesic
    and meridians cross it at right angles, so the distance of (1, ±φ) is pyproj's Geod.inv to
    (1, 0); walking east, north is on the left (ARM's side here), south on the right (AZE's)."""
    import pyproj

    line = gpd.GeoDataFrame({"source": ["eq"], "left_party": ["ARM"], "right_party": ["AZE"],
                             "scale_or_accuracy_m": [10.0], "section": ["s"]},
                            geometry=[shapely.LineString([(0.0, 0.0), (2.0, 0.0)])], crs=4326)
    lon, lat = np.array([1.0, 1.0, 0.5]), np.array([0.01, -0.02, 0.00005])
    got = check_arrays(lon, lat, lines=line, expect="ARM", default_precision_m=5.0, method=method).to_pandas()
    geod = pyproj.Geod(ellps="WGS84")
    want = geod.inv(lon, lat, lon, np.zeros(3))[2]
    assert got["eq__distance_to_line_m"].to_numpy() == pytest.approx(np.round(want, 3), abs=1e-3)
    assert list(got["eq__party"]) == ["ARM", "AZE", "ARM"]
    assert got["eq__signed_distance_m"].to_numpy() == pytest.approx(np.round(want, 3) * [1, -1, 1], abs=1e-3)
    # margin = distance - (5 m precision + 10 m line accuracy): the third point, 5.5 m off, is not determinate
    assert got["eq__margin_m"].to_numpy() == pytest.approx(np.round(want, 3) - 15.0, abs=1e-3)
    assert list(got["eq__determinate"]) == [True, True, False]
    assert list(got["check__verdict"]) == ["inside", "across", "indeterminate"]
