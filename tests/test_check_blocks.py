"""``borderkit check FILE -o OUT.csv`` writes the checked table block by block: the same bytes as one block.

The reference is the same command with one block for the whole file (the table made in one
:func:`borderkit.locate.check_table` call) and :func:`borderkit.locate.check_file`'s table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from borderkit.cli import main
from borderkit.errors import ValidationError
from borderkit.locate import check_file, check_file_blocks


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setitem(main.COMMANDS, "check", "borderkit.cli.check_cmd:check")
    runner = CliRunner()
    return lambda *args: runner.invoke(main.cli, [str(a) for a in args])


def _points_csv(path, n, *, bad_row=None, blank_after=None):
    # points around the Armenia-Azerbaijan border (both sides), expected parties of several kinds
    rng = np.random.default_rng(15)
    lon = np.round(rng.uniform(45.0, 46.8, n), 6)
    lat = np.round(rng.uniform(39.0, 41.2, n), 6)
    exp = np.array(["ARM", "AZE", "", "IRN", "GEO"])[np.arange(n) % 5]
    lines = ["id,latitude,longitude,expected"]
    for i in range(n):
        y = "95.0" if i + 1 == bad_row else repr(float(lat[i]))
        lines.append(f"{i},{y},{float(lon[i])!r},{exp[i]}")
        if i + 1 == blank_after:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_blocks_write_the_bytes_of_one_block(run, tmp_path):
    # 2,500 rows: the fast engine (>= 2,000 points in all) even in blocks of 700 rows; a blank line
    # (its row number kept) and a bad latitude rejected
    src = _points_csv(tmp_path / "pts.csv", 2500, bad_row=1800, blank_after=40)
    outs = {}
    for size in (100_000, 700):
        out = tmp_path / f"out{size}.csv"
        res = run("check", src, "--expect-column", "expected", "--errors", "collect", "--rejected",
                  tmp_path / f"rej{size}.csv", "-o", out, "--chunk-size", size)
        assert res.exit_code in (0, 10), res.output
        assert "1 row(s)" in res.output and "row 1801" in res.output  # the file's own row (after the blank line)
        outs[size] = out.read_bytes()
    assert outs[700] == outs[100_000]
    table = pd.read_csv(tmp_path / "out700.csv", dtype=str, keep_default_na=False)
    assert len(table) == 2499 and table["id"].tolist() == [str(i) for i in range(2500) if i != 1799]


def test_check_file_blocks_are_check_files_rows(tmp_path):
    src = _points_csv(tmp_path / "pts.csv", 2300)
    whole = check_file(src, expect_column="expected").table
    res = check_file_blocks(src, block_rows=1000, expect_column="expected")
    blocks = list(res.blocks)
    assert [len(b.frame) for b in blocks] == [1000, 1000, 300] and res.rows == 2300 and res.rejected is None
    assert [b.first_row for b in blocks] == [0, 1000, 2000] and res.geometry == whole.geometry.name
    for k, block in enumerate(blocks):
        part = whole.iloc[k * 1000:(k + 1) * 1000]
        got = block.results.to_pandas()
        inputs = [c for c in whole.columns if c not in got.columns and c != res.geometry]
        assert list(block.frame.columns) == inputs
        assert list(whole.columns) == [*inputs[:res.geometry_at], res.geometry, *inputs[res.geometry_at:],
                                       *got.columns]
        np.testing.assert_array_equal(block.lon, part.geometry.x.to_numpy())
        np.testing.assert_array_equal(block.lat, part.geometry.y.to_numpy())
        for col in [*inputs, *got.columns]:
            a = part[col].to_numpy(dtype=object)
            b = (got if col in got.columns else block.frame)[col].to_numpy(dtype=object)
            same = [(x == y) or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True)]
            assert all(same), col


def test_a_bad_expected_party_is_named_by_its_row_in_the_file(tmp_path):
    src = _points_csv(tmp_path / "pts.csv", 30)
    text = src.read_text().splitlines()
    text[26] = text[26].rsplit(",", 1)[0] + ",Armenia"  # data row 26 (point 25): not an ISO code
    src.write_text("\n".join(text) + "\n")
    with pytest.raises(ValidationError) as whole:
        check_file(src, expect_column="expected")
    with pytest.raises(ValidationError) as blocks:
        # a file read block by block raises while its blocks are iterated (from the block that holds the row)
        list(check_file_blocks(src, block_rows=10, expect_column="expected").blocks)
    assert str(blocks.value) == str(whole.value) and "25" in str(whole.value)


def test_one_resolve_method_for_blocks_and_dask():
    import borderkit.scale as scale
    from borderkit.locate import AUTO_EXACT_BELOW, resolve_method

    assert scale.resolve_method is resolve_method
    assert resolve_method("auto", AUTO_EXACT_BELOW - 1) == "exact"
    assert resolve_method("exact", 10**9) == "exact"
    with pytest.raises(ValidationError, match="unknown method"):
        resolve_method("quick", 10)
