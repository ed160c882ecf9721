"""CSV text from a table at Arrow speed, quoted like pandas (only the cells that need it).

pandas' ``to_csv`` formats every cell in Python-level blocks (28 s of a 1M-row ``borderkit check``
run); ``pyarrow.csv.write_csv`` is fast but quotes *every* text cell with its default
``quoting_style="needed"`` ("every value whose type could need quotes") and refuses a comma in a
cell with ``"none"``. This writer keeps pandas' quoting with Arrow's speed, block by block of rows:

* numbers are written by Arrow (the shortest text that reads back to the same float: ``0`` for
  0.0, ``1e-7``; pandas writes ``0.0``, ``1e-07`` — the same values when read back); NaN and
  null as an empty cell, as pandas; booleans as ``True``/``False``, as pandas;
* text cells are written as they are, except those holding a comma, a quote or a line break,
  which are quoted with inner quotes doubled (RFC 4180), as pandas does;
* columns Arrow cannot represent faithfully (dates and times, categories, mixed Python objects)
  get exactly pandas' own text for them.

A block in which no text cell needs quotes goes through ``pyarrow.csv.write_csv`` with
``quoting_style="none"``; a block with such cells is joined by Arrow compute with those cells quoted.
"""

from __future__ import annotations

from typing import IO, Any

__all__ = ["to_arrow", "write_csv"]

_BLOCK_ROWS = 100_000
_STRUCTURAL = r'[,"\r\n]'
_STRUCTURAL_BYTES = (ord(","), ord('"'), ord("\r"), ord("\n"))


def _structural_table() -> Any:
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[list(_STRUCTURAL_BYTES)] = True
    return table


def _quote(text: Any) -> Any:
    """Quote the cells of an Arrow string array that need it (comma, quote, CR or LF)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    needs = pc.match_substring_regex(text, _STRUCTURAL)
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise(pa.scalar('"'), pc.replace_substring(text, '"', '""'), pa.scalar('"'), "")
    return pc.if_else(needs, quoted, text)


def _arrow_column(series: Any) -> Any:
    """One pandas column as an Arrow array for CSV: numbers as numbers, the rest as text (pandas' text)."""
    import io

    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(series, from_pandas=True)  # spelled True/False by _csv_cells
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        return pa.array(series, from_pandas=True)  # NaN -> null -> an empty cell, as pandas writes it
    if pd.api.types.is_string_dtype(dtype):
        try:  # pandas' Arrow-backed text is handed over without a copy; object arrays of str are converted
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None  # mixed Python objects: pandas' own text below
        if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return arr
    # dates, times, categories, mixed objects: exactly the text pandas' CSV writer gives them, read
    # back as plain strings by Arrow's CSV reader (which undoes pandas' quoting)
    text = series.to_frame(name="v").to_csv(index=False, lineterminator="\n").encode("utf-8")
    table = pacsv.read_csv(
        io.BytesIO(text),
        read_options=pacsv.ReadOptions(column_names=["v"], skip_rows=1),
        convert_options=pacsv.ConvertOptions(column_types={"v": pa.string()}, strings_can_be_null=False),
    )
    return table.column("v").combine_chunks()


def _csv_cells(arr: Any) -> Any:
    """An Arrow column as the CSV writer writes it: booleans as pandas spells them (``True``/``False``,
    not Arrow's ``true``/``false``; null stays null).

    Both come out as dictionary arrays, which Arrow's CSV writer writes as their text without a
    string per cell being made first (booleans: int8 indices into ``["False", "True"]``);
    :func:`_joined_rows` casts them to text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(arr.type):
        words = pa.array(["False", "True"])  # pandas' spelling, not true/false

        def spelled(chunk: Any) -> Any:
            return pa.DictionaryArray.from_arrays(pc.cast(chunk, pa.int8()), words)

        if isinstance(arr, pa.ChunkedArray):
            return pa.chunked_array([spelled(c) for c in arr.chunks], type=pa.dictionary(pa.int8(), pa.string()))
        return spelled(arr)
    return arr


def to_arrow(frame: Any) -> Any:
    """A pandas DataFrame as the :class:`pyarrow.Table` :func:`write_csv` writes for it.

    Numbers, booleans and text are handed to Arrow as they are; the columns Arrow cannot represent
    faithfully (dates and times, categories, mixed Python objects) become pandas' own CSV text.
    Used to write a table made of pandas columns and Arrow columns (``borderkit check FILE -o
    OUT.csv``: the input's columns and the results) with the bytes of one pandas table.
    """
    import pyarrow as pa

    return pa.Table.from_arrays([_arrow_column(frame.iloc[:, j]) for j in range(frame.shape[1])],
                                names=[str(c) for c in frame.columns])


def _needs_quotes(arr: Any) -> bool:
    import numpy as np
    import pyarrow as pa

    if pa.types.is_dictionary(arr.type):  # its text is its dictionary's: look there alone
        chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
        return any(_needs_quotes(c.dictionary) for c in chunks)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        # a string array's data buffer is its values back to back: one scan of the bytes (no hash
        # of every distinct value, no regex per cell) says whether any cell holds , " CR or LF
        if len(chunk) == 0 or chunk.buffers()[2] is None:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        off = np.frombuffer(chunk.buffers()[1], dtype=width, count=len(chunk) + 1,
                            offset=chunk.offset * np.dtype(width).itemsize)
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[int(off[0]):int(off[-1])]
        # one lookup per byte (numpy's isin makes a pass per structural byte)
        if _structural_table()[data].any():
            return True
    return False


def _joined_rows(cols: list[Any]) -> bytes:
    """Rows of columns as CSV text, cells quoted where needed, joined by Arrow compute (no Python loop per row)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = [pc.fill_null(_quote(pc.cast(c, pa.string())), "") for c in cols]
    if len(text) == 1:  # an empty line would be a blank line, not an empty cell: quote it, as pandas does
        text[0] = pc.if_else(pc.equal(text[0], ""), pa.scalar('""'), text[0])
    lines = pc.binary_join_element_wise(*text, ",")  # the last argument is the separator
    lines = pc.binary_join_element_wise(lines, pa.scalar(""), "\n")  # each row + "\n"
    arr = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    # a string array's data buffer is its values back to back: the block's text, no copy per row
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    off = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    data = arr.buffers()[2]
    return b"" if data is None else memoryview(data)[int(off[0]):int(off[-1])].tobytes()


def _quote_name(name: str) -> str:
    if any(c in name for c in ',"\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def write_csv(frame: Any, dest: IO[bytes], *, block_rows: int = _BLOCK_ROWS, header: bool = True) -> None:
    """Write a pandas DataFrame or a :class:`pyarrow.Table` as CSV (header, no index, ``\\n`` line ends,
    UTF-8) to a binary file object.

    A table's columns are written as :func:`to_arrow` makes a DataFrame's (booleans as ``True``/
    ``False``, nulls as empty cells, text quoted only where needed), so that a DataFrame and its
    :func:`to_arrow` table give the same bytes.

    Memory: one block of *block_rows* rows as Arrow arrays at a time (see the module docstring).
    ``header=False`` leaves the header line out (a later part of a table written part by part).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    is_table = isinstance(frame, pa.Table)
    names = frame.column_names if is_table else list(frame.columns)
    if header:
        dest.write((",".join(_quote_name(str(c)) for c in names) + "\n").encode("utf-8"))
    plain = pacsv.WriteOptions(include_header=False, quoting_style="none")
    n = frame.num_rows if is_table else len(frame)
    for start in range(0, n, block_rows):
        if is_table:
            arrays = frame.slice(start, block_rows).columns
        else:
            block = frame.iloc[start:start + block_rows]
            arrays = [_arrow_column(block.iloc[:, j]) for j in range(block.shape[1])]
        quote = any(_needs_quotes(c) for c in arrays)  # before decoding: a dictionary's text is looked at once
        cols = [_csv_cells(c) for c in arrays]
        if len(cols) > 1 and not quote:
            table = pa.Table.from_arrays(cols, names=[f"c{j}" for j in range(len(cols))])
            pacsv.write_csv(table, dest, write_options=plain)
        else:
            dest.write(_joined_rows(cols))
