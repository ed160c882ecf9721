"""The CSV reader's pyarrow fast path gives exactly what the csv-module path gives.

``read_csv_table(engine="auto")`` splits plain files with ``pyarrow.csv`` and hands every
irregular one to Python's ``csv`` module; ``engine="python"`` is the reference. For each file
of the bad-input corpus, the real ACLED HDX export and a set of irregular byte strings, both
engines must give the same frame, row numbers, HXL row and per-row issues, or the same error
message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

import conftest
from borderkit.io import read_csv_table
from borderkit.io.readers import read_points

DATA = Path(__file__).parent / "data"
CORPUS = sorted(p for p in DATA.rglob("*") if p.suffix.lower() in (".csv", ".tsv", ".txt"))


def _both(data: bytes, path: str, encoding: str | None = None):
    out = []
    for engine in ("auto", "python"):
        try:
            out.append(read_csv_table(data, path=path, encoding=encoding, engine=engine))
        except Exception as exc:  # the error itself is compared
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def _assert_same(data: bytes, path: str, encoding: str | None = None) -> str:
    fast, ref = _both(data, path, encoding)
    if isinstance(ref, str) or isinstance(fast, str):
        assert fast == ref
        return "error"
    assert_frame_equal(fast.frame, ref.frame)
    assert np.array_equal(fast.rows, ref.rows)
    assert (fast.header_rows, fast.hxl, fast.delimiter, fast.issues) == (
        ref.header_rows, ref.hxl, ref.delimiter, ref.issues)
    return fast.engine


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_files_read_the_same_on_both_engines(path):
    _assert_same(path.read_bytes(), str(path))


@pytest.mark.parametrize("name", ["conflict_data_arm.csv", "conflict_data_arm_syunik.csv"])
def test_real_acled_export_takes_the_fast_path_and_reads_the_same(name):
    path = conftest.shared_file(f"acled-armenia-2018-2020-hdx/{name}")
    # the export has the HDX hashtag row and quoted notes holding commas: still the fast path
    assert _assert_same(path.read_bytes(), str(path)) == "pyarrow"


IRREGULAR = {
    "plain": b"id,lat,lon\n1,39.2,46.4\n2,39.3,46.5\n",
    "plain_no_final_newline": b"id,lat,lon\n1,39.2,46.4\n2,39.3,46.5",
    "crlf": b"id,lat,lon\r\n1,39.2,46.4\r\n2,39.3,46.5\r\n",
    "lone_cr": b"id,lat,lon\r1,39.2,46.4\r2,39.3,46.5\r",
    "blank_line": b"id,lat,lon\n1,39.2,46.4\n\n2,39.3,46.5\n",
    "delimiters_only_line": b"id,lat,lon\n1,39.2,46.4\n,,\n2,39.3,46.5\n",
    "whitespace_only_cells": b"id,lat,lon\n1,39.2,46.4\n , ,\t\n2,39.3,46.5\n",
    "trailing_blank_lines": b"id,lat,lon\n1,39.2,46.4\n\n\n",
    "hxl_row": b"id,lat,lon\n#id,#geo+lat,#geo+lon\n1,39.2,46.4\n",
    "hxl_row_then_blank": b"id,lat,lon\n#id,#geo+lat,\n\n1,39.2,46.4\n",
    "text_after_closing_quote": b'id,name,lat,lon\n1,"a"b,39.2,46.4\n',
    "quote_inside_unquoted_value": b'id,name,lat,lon\n1,a"b,39.2,46.4\n',
    "quote_never_ends": b'id,name,lat,lon\n1,"ab,39.2,46.4\n2,c,39.3,46.5\n',
    "quoted_delimiter_and_quote": b'id,name,lat,lon\n1,"a, ""b""",39.2,46.4\n',
    "quoted_line_break": b'id,name,lat,lon\n1,"two\nlines",39.2,46.4\n2,x,39.3,46.5\n',
    "quoted_empty": b'id,name,lat,lon\n1,"",39.2,46.4\n',
    "space_before_quote": b'id,name,lat,lon\n1, "a",39.2,46.4\n',
    "short_row": b"id,lat,lon\n1,39.2\n2,39.3,46.5\n",
    "long_row": b"id,lat,lon\n1,39.2,46.4,9\n2,39.3,46.5\n",
    "truncated_last_row": b"id,lat,lon\n1,39.2,46.4\n2,39.3",
    "nul_byte": b"id,lat,lon\n1,39.2\x00,46.4\n",
    "utf8_bom": b"\xef\xbb\xbfid,lat,lon\n1,39.2,46.4\n",
    "duplicate_header": b"id,lat,lat\n1,39.2,46.4\n",
    "blank_header": b" , ,\n1,39.2,46.4\n",
    "header_only": b"id,lat,lon\n",
    "header_spaces": b" id , lat ,lon \n1,39.2,46.4\n",
    "quoted_header_with_delimiter": b'"id","lat, deg",lon\n1,39.2,46.4\n',
    "semicolons": b"id;lat;lon\n1;39,2;46,4\n",
    "tabs": b"id\tlat\tlon\n1\t39.2\t46.4\n",
    "single_column": b"id\n1\n\n2\n",
    "unicode": "id,name,lat,lon\n1,Ստեփանակերտ,39.8,46.75\n".encode(),
    "empty_cells": b"id,lat,lon\n1,,46.4\n,39.3,\n",
}


@pytest.mark.parametrize("name", sorted(IRREGULAR))
def test_irregular_bytes_read_the_same_on_both_engines(name):
    _assert_same(IRREGULAR[name], f"{name}.csv")


def test_explicit_utf8_with_a_byte_order_mark_reads_the_same():
    _assert_same(b"\xef\xbb\xbfid,lat,lon\n1,39.2,46.4\n", "bom.csv", encoding="utf-8")


@pytest.mark.parametrize(
    "name, engine",
    [("plain", "pyarrow"), ("crlf", "pyarrow"), ("quoted_delimiter_and_quote", "pyarrow"),
     ("hxl_row", "pyarrow"), ("blank_line", "python"), ("text_after_closing_quote", "python"),
     ("short_row", "python"), ("nul_byte", "python")],
)
def test_which_engine_splits_the_records(name, engine):
    # the fast path is taken for plain files, and every irregular one goes to the csv module
    try:
        table = read_csv_table(IRREGULAR[name], path=f"{name}.csv")
    except Exception:
        assert engine == "python"
        return
    assert table.engine == engine


def test_rows_keep_their_numbers_through_read_points(tmp_path):
    # a blank line (the Python path) and a bad latitude: the message names the file's own row
    p = tmp_path / "points.csv"
    p.write_bytes(b"id,latitude,longitude\n1,39.2,46.4\n\n2,99.3,46.5\n")
    with pytest.raises(Exception, match=r"row 3") as info:
        read_points(p)
    q = tmp_path / "plain.csv"
    q.write_bytes(b"id,latitude,longitude\n1,39.2,46.4\n2,99.3,46.5\n")
    with pytest.raises(type(info.value), match=r"row 2"):
        read_points(q)


def test_text_to_float_gives_pandas_to_numeric_bits():
    # the reference is pandas' own parser; the Arrow path must give the same float bits
    import pandas as pd

    from borderkit.validate import text_to_float

    rng = np.random.default_rng(15)
    v = np.concatenate([np.round(rng.uniform(-180, 180, 20_000), 6), rng.uniform(-90, 90, 20_000),
                        rng.uniform(-1, 1, 5_000) * 10.0 ** rng.integers(-300, 300, 5_000)]).tolist()
    cells = [repr(x) for x in v] + [f"{x:.17e}" for x in v[:5000]] + [f"{x:.25f}" for x in v[:5000]]
    cells += ["", "1.", ".5", "+3", "-0", "00012.5000", "1E5"]
    for extra in ([], ["inf"], ["39,2"], ["abc"], ["0x10"]):  # the last four take the pandas path
        text = pd.Series(cells + extra, dtype="str")
        ref = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)
        got = text_to_float(text)
        assert np.array_equal(got, ref, equal_nan=True)
        assert np.array_equal(got[~np.isnan(ref)].view(np.int64), ref[~np.isnan(ref)].view(np.int64))


def test_to_text_of_a_string_column_matches_the_object_path():
    import pandas as pd
    from pandas.testing import assert_series_equal

    from borderkit.validate import to_text

    values = ["a", None, " b ", "", "39.2"]
    s = pd.Series(values, dtype="str", name="col", index=[3, 4, 5, 6, 7])
    assert_series_equal(to_text(s), to_text(s.astype(object)))
    assert to_text(s).tolist() == ["a", "", " b ", "", "39.2"]
