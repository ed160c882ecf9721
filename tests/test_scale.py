"""The dask path (borderkit.scale) gives the single-process answers, on a real LocalCluster.

Reference: :func:`borderkit.locate.check_table` on the same points in one process (the path the
dask one must reproduce, column by column), plus engine-independent facts: a line vertex is at
distance 0 from its own source's line, and the written ``bbox`` covering column equals each
point's coordinates (read back with pyarrow, not geopandas).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import require_module

require_module("dask_geopandas")
require_module("distributed")
require_module("pyarrow")

import geopandas as gpd  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import shapely  # noqa: E402
from distributed import LocalCluster  # noqa: E402

from borderkit import datasets  # noqa: E402
from borderkit.errors import OutputExistsError, ValidationError  # noqa: E402
from borderkit.locate import check_table  # noqa: E402
from borderkit.scale import check_frame, check_parquet  # noqa: E402

CASE = datasets.load("armenia-azerbaijan")


def _sample(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """Points near the case's lines, on them, far away, deep inside territories; mixed precision and expect."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = CASE.lines.total_bounds
    k = n // 4
    # 1. on the lines' box, 2. within ~2 km of a line vertex, 3. far (up to 600 km away), 4. line vertices
    verts = shapely.get_coordinates(CASE.lines.geometry.values)
    pick = verts[rng.integers(0, len(verts), k)]
    near = pick + rng.normal(0, 0.02, pick.shape)
    far = np.c_[rng.uniform(x0 - 6, x1 + 6, k), rng.uniform(y0 - 4, y1 + 4, k)]
    box = np.c_[rng.uniform(x0, x1, n - 3 * k), rng.uniform(y0, y1, n - 3 * k)]
    on = verts[rng.integers(0, len(verts), k)]
    xy = np.r_[box, near, far, on]
    prec = np.where(rng.random(n) < 0.3, np.nan, rng.choice([0.0, 10.0, 500.0, 5000.0], n))
    expect = rng.choice(np.array(["ARM", "AZE", None], dtype=object), n)
    return gpd.GeoDataFrame(
        {"id": np.arange(n), "precision_m": prec, "expect": expect},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326,
    )


def _write(gdf: gpd.GeoDataFrame, path, row_group: int) -> None:
    gdf.to_parquet(path, write_covering_bbox=True, schema_version="1.1.0", row_group_size=row_group)


def _same(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Column by column: same names and order, same values (text and booleans exactly, metres within 1e-6)."""
    ref = ref.reset_index(drop=True)
    got = got.reset_index(drop=True)
    assert list(got.columns) == list(ref.columns)
    assert len(got) == len(ref)
    for c in ref.columns:
        if c == ref.geometry.name:
            assert got[c].geom_equals_exact(ref[c], tolerance=0).all()
            continue
        r, g = ref[c], got[c]
        if pd.api.types.is_float_dtype(r):
            np.testing.assert_allclose(g.to_numpy(float), r.to_numpy(float), rtol=0, atol=1e-6, err_msg=c)
        elif pd.api.types.is_bool_dtype(r):
            assert (g.to_numpy(bool) == r.to_numpy(bool)).all(), c
        else:
            rv = r.astype(object).where(r.notna(), None).to_numpy()
            gv = g.astype(object).where(g.notna(), None).to_numpy()
            assert (rv == gv).all(), (c, np.flatnonzero(rv != gv)[:5])


def _read_dataset(path) -> gpd.GeoDataFrame:
    files = sorted(path.glob("part.*.parquet"))
    return pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)


def test_local_cluster_matches_single_process(tmp_path):
    pts = _sample(20_000)
    src = tmp_path / "in.parquet"
    _write(pts, src, 5_000)
    summary = check_parquet(src, tmp_path / "out", expect_column="expect", workers=2, processes=False,
                            progress=False)
    assert summary.rows == 20_000 and summary.partitions == 4 and summary.workers == 2
    ref = check_table(pts, expect_column="expect")
    got = _read_dataset(tmp_path / "out")
    _same(got.drop(columns="bbox", errors="ignore"), ref)
    # the sample covers every verdict, including far points and points on the lines
    assert set(ref["check__verdict"].dropna()) == {"inside", "across", "indeterminate", "not near this line"}
    assert summary.verdicts == {k: int(v) for k, v in ref["check__verdict"].value_counts().items()}
    # line vertices are on their own source's line (distance 0 by construction, whatever the engine)
    on = np.arange(15_000, 20_000)
    verts = {s: shapely.get_coordinates(g.values) for s, g in CASE.lines.groupby("source").geometry}
    for s, v in verts.items():
        own = np.isin(pts.geometry.x.to_numpy()[on] + 1j * pts.geometry.y.to_numpy()[on], v[:, 0] + 1j * v[:, 1])
        assert own.any()
        assert (got[f"{s}__distance_to_line_m"].to_numpy()[on][own] <= 1e-3).all()


def test_output_is_geoparquet_1_1_with_bbox_covering(tmp_path):
    pts = _sample(4_000, seed=1)
    src = tmp_path / "in.parquet"
    _write(pts, src, 1_500)
    check_parquet(src, tmp_path / "out", expect="ARM", workers=2, processes=False, progress=False)
    files = sorted((tmp_path / "out").glob("part.*.parquet"))
    assert [f.name for f in files] == ["part.00000.parquet", "part.00001.parquet", "part.00002.parquet"]
    table = pq.read_table(files[1])
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    assert geo["columns"]["geometry"]["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    bbox = table.column("bbox").combine_chunks()
    # a point's box is the point: compare with the input coordinates of that row group (rows 1500-2999)
    x = pts.geometry.x.to_numpy()[1_500:3_000]
    y = pts.geometry.y.to_numpy()[1_500:3_000]
    for name, want in (("xmin", x), ("xmax", x), ("ymin", y), ("ymax", y)):
        np.testing.assert_array_equal(bbox.field(name).to_numpy(), want.astype(np.float32).astype(float)
                                      if bbox.field(name).type.bit_width == 32 else want)
    # and the row-group statistics of the covering column are what a reader can skip on
    md = pq.ParquetFile(files[1]).metadata
    names = [md.row_group(0).column(i).path_in_schema for i in range(md.num_columns)]
    st = md.row_group(0).column(names.index("bbox.xmin")).statistics
    assert st.has_min_max and st.min <= x.min() and st.max >= x.max()


def test_worker_processes_and_given_lines(tmp_path):
    """processes=True once (small), with lines/territories given as GeoDataFrames (scattered)."""
    pts = _sample(2_400, seed=2)
    src = tmp_path / "in.parquet"
    _write(pts, src, 1_200)
    lines = CASE.lines[CASE.lines["source"].isin(["gshhg-wdbii", "osm-2017"])]
    terr = CASE.territories[CASE.territories["source"] == "osm-2017"]
    summary = check_parquet(src, tmp_path / "out", lines=lines, territories=terr, expect="AZE", workers=2,
                            processes=True, memory_limit="1GiB", progress=False)
    assert summary.workers == 2 and summary.scheduler.startswith("tcp://")
    ref = check_table(pts, lines, territories=terr, expect="AZE")
    _same(_read_dataset(tmp_path / "out").drop(columns="bbox", errors="ignore"), ref)


def test_given_scheduler(tmp_path):
    pts = _sample(3_000, seed=3)
    src = tmp_path / "in.parquet"
    _write(pts, src, 1_000)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        summary = check_parquet(src, tmp_path / "out", sources=["dcw-gmt", "osm-2017"], expect="ARM",
                                scheduler=cluster.scheduler_address, progress=False)
        assert summary.scheduler == cluster.scheduler_address
        assert len(cluster.scheduler.workers) == 2  # the given cluster is left running for its owner
    ref = check_table(pts, sources=["dcw-gmt", "osm-2017"], expect="ARM")
    _same(_read_dataset(tmp_path / "out").drop(columns="bbox", errors="ignore"), ref)


def test_check_frame_is_lazy_and_the_same(tmp_path):
    import dask_geopandas

    pts = _sample(2_000, seed=4)
    src = tmp_path / "in.parquet"
    _write(pts, src, 700)
    ddf = dask_geopandas.read_parquet(src, split_row_groups=True)
    lazy = check_frame(ddf, expect="ARM")
    got = lazy.compute(scheduler="synchronous")
    _same(gpd.GeoDataFrame(got.drop(columns="bbox", errors="ignore")), check_table(pts, expect="ARM"))


def test_bad_row_named_and_nothing_written(tmp_path):
    pts = _sample(3_000, seed=5)
    geoms = pts.geometry.to_numpy().copy()
    geoms[2_100] = shapely.Point(45.0, 95.0)  # latitude out of range, in row group 2
    pts = pts.set_geometry(geoms)
    src = tmp_path / "in.parquet"
    _write(pts, src, 1_000)
    out = tmp_path / "out"
    with pytest.raises(ValidationError, match=r"row group 2 \(rows 2000-2999 of the input\).*latitude"):
        check_parquet(src, out, expect="ARM", workers=2, processes=False, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]  # no output, no temporary folder


def test_refusals(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    src = tmp_path / "in.parquet"
    _write(_sample(100), src, 100)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        check_parquet(src, out, expect="ARM")
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"lon": [45.0], "lat": [40.0]}).to_parquet(plain)
    with pytest.raises(ValidationError, match="no GeoParquet 'geo' metadata"):
        check_parquet(plain, tmp_path / "o2", expect="ARM")
    with pytest.raises(ValidationError, match="not an ISO 3166"):
        check_parquet(src, tmp_path / "o3", expect="XX1")
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_check_cli_dask_matches_the_single_process_file_mode(tmp_path):
    """`borderkit check FILE.parquet -o DIR --dask` writes the same answers as `check FILE -o OUT.parquet`."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
    from click.testing import CliRunner

    from borderkit.cli.main import cli

    rng = np.random.default_rng(7)
    lon = rng.uniform(45.0, 46.6, 600)
    lat = rng.uniform(38.9, 41.3, 600)
    pts = gpd.GeoDataFrame({"id": np.arange(600)}, geometry=shapely.points(lon, lat), crs="EPSG:4326")
    src = tmp_path / "pts.parquet"
    pts.to_parquet(src, row_group_size=200)
    one = tmp_path / "one.parquet"
    r1 = CliRunner().invoke(cli, ["check", str(src), "-o", str(one), "--expect", "ARM"])
    r2 = CliRunner().invoke(cli, ["check", str(src), "-o", str(tmp_path / "dask"), "--expect", "ARM", "--dask",
                                  "--workers", "1", "--json"])
    assert r1.exit_code in (0, 10), r1.output
    assert r2.exit_code == r1.exit_code, r2.output
    a = gpd.read_parquet(one).sort_values("id").reset_index(drop=True)
    b = pd.concat([gpd.read_parquet(p) for p in sorted((tmp_path / "dask").glob("*.parquet"))])
    b = b.sort_values("id").reset_index(drop=True)
    verdicts = [c for c in a.columns if c.endswith("__verdict")]
    assert verdicts and all((a[c].astype(str) == b[c].astype(str)).all() for c in verdicts)
    dist = [c for c in a.columns if c.endswith("__distance_m")]
    assert np.allclose(a[dist].to_numpy(float), b[dist].to_numpy(float), atol=1e-6, equal_nan=True)


def test_read_row_group_is_the_row_group_geopandas_reads(tmp_path):
    """One row group, read by the worker's reader, equals that slice of geopandas.read_parquet (CRS too)."""
    from borderkit.scale import read_row_group

    pts = _sample(1_500, seed=8).to_crs(32638)  # a projected CRS: the metadata's CRS must come through
    pts["note"] = np.where(np.arange(1_500) % 3 == 0, None, "x")
    src = tmp_path / "in.parquet"
    _write(pts, src, 500)
    ref = gpd.read_parquet(src).drop(columns="bbox", errors="ignore").iloc[500:1_000].reset_index(drop=True)
    got = read_row_group(src, 1)
    assert "bbox" not in got.columns  # the covering column is not read
    assert got.crs == ref.crs and got.crs.to_epsg() == 32638
    _same(got, ref)
    assert len(read_row_group(src, 2, rows=1)) == 1


def test_read_row_group_crs_default_and_encodings(tmp_path):
    import pyarrow as pa

    from borderkit.scale import read_row_group

    # GeoParquet without a "crs" key means OGC:CRS84 (the specification), i.e. lon/lat on WGS84
    wkb = shapely.to_wkb(shapely.points([45.0, 46.0], [40.0, 41.0]))
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}}
    table = pa.table({"id": [1, 2], "geometry": pa.array(list(wkb), pa.binary())})
    src = tmp_path / "nocrs.parquet"
    pq.write_table(table.replace_schema_metadata({"geo": json.dumps(geo)}), src)
    got = read_row_group(src, 0)
    assert got.crs.equals("OGC:CRS84") and list(got.geometry.x) == [45.0, 46.0]
    # native (GeoArrow) encodings are refused in one line that says what to write instead
    arrow = tmp_path / "arrow.parquet"
    _sample(100).to_parquet(arrow, geometry_encoding="geoarrow")
    with pytest.raises(ValidationError, match="encoded as 'point'.*WKB"):
        read_row_group(arrow, 0)


def test_local_cluster_workers_run_without_profiler_and_malloc_trim():
    """The workers check_parquet starts get LOCAL_CLUSTER_CONFIG (distributed's defaults cost 25-30 % CPU)."""
    import os

    from distributed import Client

    from borderkit.scale import local_cluster

    def probe():
        import os

        import dask

        return (dask.config.get("distributed.worker.profile.enabled"), os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                dask.config.get("distributed.admin.tick.interval"))

    with local_cluster(workers=1, memory_limit="1GiB") as cluster, Client(cluster) as client:
        (got,) = client.run(probe).values()
    # distributed would set 65536; only a value the user put in the environment may reach the worker
    assert got == (False, os.environ.get("MALLOC_TRIM_THRESHOLD_"), "1s")


def test_read_point_row_group_is_read_points_rows(tmp_path):
    """One row group read by io.blocks (bbox covering column allowed, not read) is read_points' rows."""
    from borderkit.io.blocks import read_point_row_group
    from borderkit.io.readers import read_points

    pts = _sample(2_000, seed=11)
    src = tmp_path / "in.parquet"
    _write(pts, src, 700)
    whole = read_points(src)
    block = read_point_row_group(src, 1)
    assert block is not None and block.first_row == 701  # 1-based data row of the file
    ref = whole.iloc[700:1400]
    np.testing.assert_array_equal(block.lon, shapely.get_x(ref.geometry.values))
    np.testing.assert_array_equal(block.lat, shapely.get_y(ref.geometry.values))
    assert "bbox" not in block.columns.columns
    pd.testing.assert_frame_equal(block.columns, pd.DataFrame(ref.drop(columns="geometry")).reset_index(drop=True),
                                  check_like=False)
    assert list(block.columns.attrs["borderkit"]["rows"][[0, -1]]) == [701, 1400]
    # a bad row: read_points' problem, named by the file's data row (0-based row 1_500 is data row 1_501)
    geoms = pts.geometry.to_numpy().copy()
    geoms[1_500] = shapely.Point(45.0, 95.0)
    bad = tmp_path / "bad.parquet"
    _write(pts.set_geometry(geoms), bad, 700)
    with pytest.raises(ValidationError, match=r"1501.*latitude|latitude.*1501"):
        read_point_row_group(bad, 2)
    assert read_point_row_group(bad, 0) is not None  # the other row groups are clean
    # another CRS: not this reader's (None), the GeoDataFrame path reads it
    pts.to_crs(32638).to_parquet(tmp_path / "utm.parquet")
    assert read_point_row_group(tmp_path / "utm.parquet", 0) is None


def test_check_row_group_projected_input_takes_the_geodataframe_path(tmp_path):
    """A file in a projected CRS: the part is the check of the points transformed to WGS84."""
    from borderkit.scale import check_row_group

    pts = _sample(1_200, seed=12)
    src = tmp_path / "utm.parquet"
    pts.to_crs(32638).to_parquet(src, row_group_size=600)
    counts = check_row_group(str(src), 1, str(tmp_path / "part.parquet"), expect="ARM", method="fast")
    got = gpd.read_parquet(tmp_path / "part.parquet")
    ref = check_table(pts.iloc[600:].to_crs(32638), expect="ARM", method="fast")
    assert counts["rows"] == 600
    assert (got["check__verdict"].astype(str).to_numpy() == ref["check__verdict"].astype(str).to_numpy()).all()


def test_point_parquet_writer_covering_and_geometry_position(tmp_path):
    """The covering column and the geometry's place are what geopandas writes for the same points."""
    import pyarrow as pa

    from borderkit.io.geoparquet import PointParquetWriter

    lon, lat = np.array([45.5, 46.25, -1.0]), np.array([40.0, 39.5, 51.5])
    ours = tmp_path / "ours.parquet"
    with PointParquetWriter(ours, crs="EPSG:4326", covering=True, geometry_at=1) as w:
        w.write(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}), lon, lat)
    theirs = tmp_path / "theirs.parquet"
    gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)[
        ["id", "geometry", "name"]].to_parquet(theirs, write_covering_bbox=True, schema_version="1.1.0", index=False)
    a, b = pq.read_table(ours), pq.read_table(theirs)
    assert a.column_names == b.column_names == ["id", "geometry", "name", "bbox"]
    assert a.column("bbox").to_pylist() == b.column("bbox").to_pylist()
    ga, gb = (json.loads(t.schema.metadata[b"geo"])["columns"]["geometry"] for t in (a, b))
    assert ga["covering"] == gb["covering"] and ga["bbox"] == [-1.0, 39.5, 46.25, 51.5]
    assert gpd.read_parquet(ours).geometry.geom_equals_exact(gpd.read_parquet(theirs).geometry, 0).all()


def test_check_row_group_in_blocks_is_the_row_group_checked_whole(tmp_path, monkeypatch):
    """A task checks and writes its row group in blocks of TASK_BLOCK_ROWS rows: the part is still the
    check_table of the row group's rows, and a bad row in a later block names the row group."""
    from borderkit import scale

    monkeypatch.setattr(scale, "TASK_BLOCK_ROWS", 300)
    pts = _sample(2_400, seed=13)
    src = tmp_path / "in.parquet"
    _write(pts, src, 1_200)
    counts = scale.check_row_group(str(src), 1, str(tmp_path / "part.parquet"), expect_column="expect", method="fast")
    assert pq.ParquetFile(tmp_path / "part.parquet").metadata.num_row_groups == 4  # 1 200 rows in blocks of 300
    ref = check_table(pts.iloc[1_200:], expect_column="expect", method="fast")
    _same(gpd.read_parquet(tmp_path / "part.parquet").drop(columns="bbox", errors="ignore"), ref)
    assert counts["rows"] == 1_200
    assert counts["verdicts"] == {k: int(v) for k, v in ref["check__verdict"].value_counts().items()}
    geoms = pts.geometry.to_numpy().copy()
    geoms[2_300] = shapely.Point(45.0, 95.0)  # the last block of row group 1
    _write(pts.set_geometry(geoms), src, 1_200)
    with pytest.raises(ValidationError, match=r"row group 1 \(rows 1200-2399 of the input\).*latitude"):
        scale.check_row_group(str(src), 1, str(tmp_path / "bad.parquet"), expect="ARM", first_row=1_200)
