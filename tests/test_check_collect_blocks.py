"""``errors="collect"`` on a file that streams: the results of the whole-file path, exactly.

A streamable file is validated block by block first; with no bad row it streams (every row
checked, read_points' empty rejected table), else it is read whole as before. The reference is
always the whole-file path: :func:`borderkit.locate.check_file` and the CLI with the block reader
switched off.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pandas.testing import assert_frame_equal

import conftest
from borderkit.errors import ValidationError
from borderkit.io.blocks import read_point_blocks
from borderkit.locate import check_file, check_file_blocks

BAD = Path(__file__).parent / "data" / "bad"
ACLED = "acled-armenia-2018-2020-hdx/conflict_data_arm_syunik.csv"  # 115 events


def _streams(path: Path) -> bool:
    """Whether check_file_blocks(errors="collect") reads *path* block by block."""
    stream = read_point_blocks(path, block_rows=100)
    return stream is not None and stream.collect() is not None


def _table(b) -> pd.DataFrame:
    res = b.results
    cols = {n: (c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c).to_pandas()
            for n, c in zip(res.column_names, res.columns, strict=True)}
    return pd.concat([b.frame.reset_index(drop=True), pd.DataFrame(cols)], axis=1)


def _same_as_check_file(path: Path, *, block_rows: int) -> str:
    """'error', 'streamed' or 'whole', after asserting check_file_blocks(errors="collect") is check_file's."""
    try:
        ref = check_file(path, errors="collect")
    except ValidationError as exc:
        with pytest.raises(ValidationError) as got:
            res = check_file_blocks(path, block_rows=block_rows, errors="collect")
            list(res.blocks)
        assert (type(got.value), str(got.value)) == (type(exc), str(exc))
        return "error"
    res = check_file_blocks(path, block_rows=block_rows, errors="collect")
    blocks = list(res.blocks)
    streamed = pd.concat([_table(b) for b in blocks], ignore_index=True)
    whole = pd.DataFrame(ref.table).drop(columns="geometry").reset_index(drop=True)
    assert_frame_equal(streamed, whole, check_dtype=False)
    xy = np.column_stack([np.concatenate([b.lon for b in blocks]), np.concatenate([b.lat for b in blocks])])
    np.testing.assert_array_equal(xy, np.column_stack([ref.table.geometry.x, ref.table.geometry.y]))
    assert res.rejected is not None and ref.rejected is not None
    assert_frame_equal(res.rejected, ref.rejected)
    assert [str(p) for p in res.rejected.attrs["problems"]] == [str(p) for p in ref.rejected.attrs["problems"]]
    return "streamed" if _streams(path) else "whole"


@pytest.mark.parametrize("path", sorted(BAD.glob("*.csv")) + [BAD.parent / "ucdp_ged_sample.csv"],
                         ids=lambda p: p.name)
def test_bad_corpus_collect_is_check_files(path):
    outcome = _same_as_check_file(path, block_rows=1)
    # clean files and files with rejected rows stream; a duplicate id is read whole
    if path.name in ("ucdp_ged_sample.csv", "historical_dates.csv", "swapped_lat_lon.csv", "bad_date.csv",
                     "null_island.csv", "latitude_text.csv", "javascript_url.csv", "date_end_before_date.csv"):
        assert outcome == "streamed"
    if path.name == "duplicate_id_small.csv":
        assert outcome == "whole"


def _acled_with(tmp_path: Path, name: str, export: str = ACLED, **edits: dict[str, str]) -> Path:
    """A real ACLED export with cells of some data rows (0-based, "r12") replaced."""
    lines = conftest.shared_file(export).read_bytes().splitlines(keepends=True)
    header = next(csv.reader([lines[0].decode()]))
    body = lines[2:]
    for key, values in edits.items():
        k = int(key[1:])
        cells = next(csv.reader([body[k].decode()]))
        for col, v in values.items():
            cells[header.index(col)] = v
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(cells)
        body[k] = out.getvalue().encode()
    path = tmp_path / name
    path.write_bytes(b"".join(lines[:2] + body))
    return path


def test_acled_export_collect_streams_when_clean_and_is_check_files_with_bad_rows(tmp_path):
    src = conftest.shared_file(ACLED)
    assert _same_as_check_file(src, block_rows=30) == "streamed"
    first_id = next(csv.reader([src.read_bytes().splitlines()[2].decode()]))[1]
    # bad rows in three blocks, one of them the first row's id again
    bad = _acled_with(tmp_path, "bad.csv", r3={"event_date": "2020-13-45"}, r50={"latitude": "99.5"},
                      r100={"event_id_cnty": first_id})
    assert _same_as_check_file(bad, block_rows=30) == "whole"
    assert len(check_file(bad, errors="collect").rejected) >= 3


def test_acled_bad_rows_across_blocks_stream(tmp_path):
    # a bad date, a latitude out of range, a bad precision code with a text longitude, an empty latitude
    bad = _acled_with(tmp_path, "bad.csv", r3={"event_date": "2020-13-45"}, r50={"latitude": "99.5"},
                      r70={"geo_precision": "7", "longitude": "abc"}, r100={"latitude": ""})
    assert _same_as_check_file(bad, block_rows=30) == "streamed"
    rej = check_file_blocks(bad, block_rows=30, errors="collect").rejected
    assert rej["row"].tolist() == [4, 51, 71, 101] and rej["spreadsheet_row"].tolist() == [6, 53, 73, 103]


def test_plain_csv_bad_rows_around_the_engine_threshold(tmp_path):
    # 2,010 rows, 21 bad (rows 5, 105, ..., 2005): 1,989 checked, so the exact engine, as check_file chooses
    rng = np.random.default_rng(7)
    lon, lat = np.round(rng.uniform(45.0, 46.8, 2010), 6), np.round(rng.uniform(39.0, 41.2, 2010), 6)
    rows = ["id,latitude,longitude,expected"] + [f"{i},{float(lat[i])!r},{float(lon[i])!r},{['ARM', 'AZE', ''][i % 3]}"
                                                 for i in range(2010)]
    for k in range(5, 2010, 100):
        rows[k] = f"{k - 1},95.5,{float(lon[k - 1])!r},ARM" if k % 200 == 5 else f"{k - 1},abc,1,AZE"
    src = tmp_path / "pts.csv"
    src.write_text("\n".join(rows) + "\n")
    assert _same_as_check_file(src, block_rows=300) == "streamed"
    res = check_file_blocks(src, block_rows=300, errors="collect")
    assert res.rows == 1989 and len(res.rejected) == 21
    # a bad expected party after rejected rows: check_file's message (the row among the good ones)
    bad = rows.copy()
    bad[1500] = bad[1500].rsplit(",", 1)[0] + ",Armenia"
    src.write_text("\n".join(bad) + "\n")
    with pytest.raises(ValidationError) as ref:
        check_file(src, errors="collect", expect_column="expected")
    with pytest.raises(ValidationError) as got:
        list(check_file_blocks(src, block_rows=300, errors="collect", expect_column="expected").blocks)
    assert str(got.value) == str(ref.value) and "point 1484" in str(ref.value)  # 15 rows rejected before it
    # with a precision column a bad row is read whole (its second validation pass)
    src.write_text("\n".join([rows[0] + ",precision_m"] + [r + ",10" for r in rows[1:]]) + "\n")
    assert _same_as_check_file(src, block_rows=300) == "whole"


def test_geoparquet_collect_streams_when_clean(tmp_path):
    import geopandas as gpd

    n = 2100  # the fast engine (>= 2,000 points) in blocks of 500
    rng = np.random.default_rng(21)
    lon, lat = np.round(rng.uniform(45.0, 46.8, n), 6), np.round(rng.uniform(39.0, 41.2, n), 6)
    src = tmp_path / "pts.parquet"
    gpd.GeoDataFrame({"id": np.arange(n)}, geometry=gpd.points_from_xy(lon, lat), crs=4326).to_parquet(src)
    assert _same_as_check_file(src, block_rows=500) == "streamed"
    lat[1700] = 95.0  # a row out of range: read whole, the row rejected
    gpd.GeoDataFrame({"id": np.arange(n)}, geometry=gpd.points_from_xy(lon, lat), crs=4326).to_parquet(src)
    assert _same_as_check_file(src, block_rows=500) == "whole"


@pytest.fixture
def run(monkeypatch):
    from click.testing import CliRunner

    from borderkit.cli import main

    monkeypatch.setitem(main.COMMANDS, "check", "borderkit.cli.check_cmd:check")
    runner = CliRunner()  # output: stdout and stderr (the rejected count, messages)
    return lambda *args: runner.invoke(main.cli, [str(a) for a in args])


def test_cli_collect_is_the_whole_file_path(run, tmp_path, monkeypatch):
    import borderkit.io.blocks

    first_id = next(csv.reader([conftest.shared_file(ACLED).read_bytes().splitlines()[2].decode()]))[1]
    srcs = [conftest.shared_file(ACLED),
            _acled_with(tmp_path, "bad.csv", r5={"latitude": "99.5"}, r100={"geo_precision": "7"}),
            _acled_with(tmp_path, "dup.csv", r90={"event_id_cnty": first_id}),
            BAD / "historical_dates.csv", BAD / "swapped_lat_lon.csv", BAD / "bad_date.csv",
            BAD.parent / "ucdp_ged_sample.csv"]
    for src in srcs:
        results = {}
        for streamed in (True, False):
            if not streamed:
                monkeypatch.setattr(borderkit.io.blocks, "read_point_blocks", lambda *a, **k: None)
            out, rej = tmp_path / f"{src.stem}{streamed}.csv", tmp_path / f"{src.stem}{streamed}.rej.csv"
            res = run("check", src, "-o", out, "--errors", "collect", "--rejected", rej, "--chunk-size", 500)
            assert "Traceback" not in res.output
            results[streamed] = (res.exit_code, res.output.replace(str(out), "OUT").replace(str(rej), "REJ"),
                                 out.read_bytes() if out.exists() else None,
                                 rej.read_bytes() if rej.exists() else None)
        monkeypatch.undo()
        assert results[True] == results[False], src.name
        assert results[True][2] is not None
        if src.name in ("bad.csv", "dup.csv"):  # rejected rows written; the rest checked
            assert results[True][3] is not None and "2 row(s)" in results[True][1]
        if src.name == "dup.csv":
            assert "duplicate id" in results[True][1]
