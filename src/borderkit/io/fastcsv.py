"""CSV text from a table at Arrow speed, quoted like pandas (only the cells that need it).

pandas' ``to_csv`` formats every cell in Python-level blocks (28 s of a 1M-row ``borderkit check``
run); ``pyarrow.csv.write_csv`` is fast but quotes *every* text cell (``quoting_style="needed"``
means "every value whose type could need quotes") or refuses a comma in one (``"none"``). This
writer keeps pandas' output and Arrow's speed: every column is turned into text by Arrow compute
(numbers in their shortest round-trip form, ``True``/``False`` as pandas writes them, null and
NaN as an empty cell), the cells that contain a comma, a quote or a line break are quoted (inner
quotes doubled, RFC 4180), the others are written as they are, and the rows are joined in Arrow
blocks. Columns Arrow cannot represent faithfully (Python objects, dates and times, categories)
are formatted by pandas itself, column by column, so their text is pandas' text.

Numbers are written in the shortest form that reads back to the same float (Arrow's formatter):
``0`` for 0.0 and ``1e-07`` style exponents may differ in spelling from pandas (``0.0``,
``1e-07``), never in value (tests/test_check_cli.py reads both back and compares).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

__all__ = ["write_csv", "csv_blocks"]

_BLOCK_ROWS = 100_000


def _quote(text: Any) -> Any:
    """Quote the cells of an Arrow string array that need it (comma, quote, CR or LF)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    needs = pc.match_substring_regex(text, r'[,"\r\n]')
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise(pa.scalar('"'), pc.replace_substring(text, '"', '""'), pa.scalar('"'), "")
    return pc.if_else(needs, quoted, text)


def _text_column(series: Any) -> Any:
    """One pandas column as an Arrow string array (null for an empty cell), pandas' spelling."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    values = series.to_numpy()
    if pd.api.types.is_bool_dtype(dtype):
        arr = pa.array(series, from_pandas=True)
        return pc.if_else(arr, pa.scalar("True"), pa.scalar("False"))
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        arr = pa.array(series, from_pandas=True)  # NaN -> null -> empty cell, as pandas writes it
        text = pc.cast(arr, pa.string())
        if pa.types.is_floating(arr.type):  # Python's spelling: 0.0 not 0, 1e-07 not 1e-7
            text = pc.if_else(pc.match_substring_regex(text, r"^-?[0-9]+$"),
                              pc.binary_join_element_wise(text, pa.scalar(".0"), ""), text)
            text = pc.replace_substring_regex(text, r"e([-+])([0-9])$", r"e\10\2")  # RE2 reads \1 then a literal 0
        return text
    if pd.api.types.is_string_dtype(dtype) or dtype == object:
        try:
            arr = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None  # mixed Python objects: pandas' own text below
        if arr is not None:
            return _quote(arr)
    # dates, times, categories, mixed objects: exactly the text pandas' CSV writer gives them, read
    # back as plain strings by Arrow's CSV reader (which undoes pandas' quoting), then quoted again
    import io

    import pyarrow.csv as pacsv

    text = series.to_frame(name="v").to_csv(index=False, lineterminator="\n").encode("utf-8")
    table = pacsv.read_csv(
        io.BytesIO(text),
        read_options=pacsv.ReadOptions(column_names=["v"], skip_rows=1),
        convert_options=pacsv.ConvertOptions(column_types={"v": pa.string()}, strings_can_be_null=False),
    )
    return _quote(table.column("v").combine_chunks())


def _quote_name(name: str) -> str:
    if any(c in name for c in ',"\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def csv_blocks(frame: Any, *, block_rows: int = _BLOCK_ROWS) -> Iterator[bytes]:
    """The CSV text of a pandas DataFrame (header first, no index, ``\\n`` line ends) as UTF-8 blocks
    of *block_rows* rows (memory: one block of text at a time)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    yield (",".join(_quote_name(str(c)) for c in frame.columns) + "\n").encode("utf-8")
    for start in range(0, len(frame), block_rows):
        block = frame.iloc[start:start + block_rows]
        cols = [pc.fill_null(_text_column(block.iloc[:, j]), "") for j in range(block.shape[1])]
        if len(cols) == 1:  # an empty line would be a blank line, not an empty cell: quote it, as pandas does
            cols[0] = pc.if_else(pc.equal(cols[0], ""), pa.scalar('""'), cols[0])
        lines = pc.binary_join_element_wise(*cols, ",")  # the last argument is the separator
        lines = pc.binary_join_element_wise(lines, pa.scalar(""), "\n")  # each row + "\n"
        arr = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
        # a string array's data buffer is its values back to back: the block's text, no copy per row
        off = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
        data = arr.buffers()[2]
        yield b"" if data is None else memoryview(data)[int(off[0]):int(off[-1])].tobytes()


def write_csv(frame: Any, dest: IO[bytes]) -> None:
    """Write a pandas DataFrame as CSV to a binary file object (see the module docstring)."""
    for chunk in csv_blocks(frame):
        dest.write(chunk)
