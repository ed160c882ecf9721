"""CSV tables: decoding, records with their spreadsheet row numbers, HXL rows, geometry.

Conventions
-----------
* Every value is read as text (``""`` when empty); nothing is converted here.
* The first record is the header. When the second record is an HXL hashtag row
  (every non-empty cell starts with ``#``, as in HDX exports such as ACLED's
  ``conflict_data_arm.csv``), it is kept aside in ``hxl`` and not read as data.
* Data rows are numbered from 1 (the first record after the header rows);
  ``header_rows`` (1, or 2 with an HXL row) turns that into the row a
  spreadsheet shows. A record may span several lines (quoted line breaks): the
  numbers count records, as a spreadsheet does, not physical lines.
* CSV carries no CRS: coordinates are taken as WGS84 longitude/latitude
  degrees (EPSG:4326) unless the reader is given ``crs=``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from borderkit.errors import EmptyFileError, FileFormatError, Problem

from ._text import decode_bytes

__all__ = ["CsvTable", "read_csv_table", "read_csv_header", "sniff_delimiter", "TEXT_DTYPE",
           "quoted_field_pattern", "LAT_NAMES", "LON_NAMES",
           "WKT_NAMES", "find_column"]

LAT_NAMES = ("latitude", "lat", "y")
"""Column names taken as latitude (compared without case), in order of preference."""
LON_NAMES = ("longitude", "lon", "lng", "long", "x")
"""Column names taken as longitude (compared without case), in order of preference."""
WKT_NAMES = ("geometry", "wkt", "geom", "the_geom")
"""Column names taken as WKT geometry (compared without case)."""

# pandas' text dtype of a column of str (what ``astype(str)`` gives; both parsers and the block reader use it)
TEXT_DTYPE = pd.Series(["a"], dtype=object).astype(str).dtype


@dataclass
class CsvTable:
    frame: pd.DataFrame
    rows: np.ndarray
    header_rows: int
    hxl: dict[str, str] | None
    delimiter: str
    # (position, column, message) problems found while splitting records
    issues: list[tuple[int, str | None, str]] = field(default_factory=list)
    # which parser split the records: "pyarrow" (the fast path) or "python" (the csv module)
    engine: str = "python"


def find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in reversed(columns)}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def sniff_delimiter(text: str, path: str) -> str:
    if path.lower().endswith((".tsv", ".tab")):
        return "\t"
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _is_hxl(record: list[str]) -> bool:
    cells = [c.strip() for c in record]
    return any(cells) and all((not c) or c.startswith("#") for c in cells)


def read_csv_table(data: bytes, *, path: str, encoding: str | None = None, engine: str = "auto") -> CsvTable:
    """Parse CSV bytes into a text DataFrame, keeping every record.

    ``engine="auto"`` (default) splits the records with ``pyarrow.csv`` when the
    file is plain — every record has the header's number of fields, no blank
    record, every quoted value well formed, no NUL character — and with Python's
    ``csv`` module otherwise (``engine="python"`` always), so that every
    irregular file gets the same per-row messages and row numbers on both paths.
    The frame, row numbers and HXL row are identical on both paths (tested on
    the bad-input corpus).

    Raises
    ------
    EmptyFileError
        No bytes, or a header without data rows.
    EncodingError
        Bytes that are not valid in the encoding (see :func:`decode_bytes`).
    FileFormatError
        A quoted value that never ends (a truncated file), a duplicate column
        name, or a last row cut short in a file without a final line break.
    """
    if not data.strip():
        raise EmptyFileError(
            problems=[Problem(f"the file is empty ({len(data)} bytes); export the data again", path=path)],
            path=path,
        )
    # the delimiter is guessed on the ASCII part of the first line, so it can
    # be known before decoding (for the row/column of an encoding error)
    first_line = data.split(b"\n", 1)[0].decode("latin-1")
    delimiter = sniff_delimiter(first_line, path)
    text = decode_bytes(data, path=path, encoding=encoding, csv_delimiter=delimiter)
    if engine not in ("auto", "python"):
        raise ValueError(f"engine: unknown CSV engine {engine!r}; use 'auto' or 'python'")
    if engine == "auto":
        plain_utf8 = encoding is None and not data.startswith(
            (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        )
        fast = _arrow_table(data if plain_utf8 else text.encode("utf-8"), text, delimiter)
        if fast is not None:
            return fast
    return _python_table(text, delimiter, path=path)


def _python_table(text: str, delimiter: str, *, path: str) -> CsvTable:
    """The csv module's records, with every per-row check and its message (the reference path)."""
    # A WKT polygon cell easily exceeds the csv module's default 128 KiB field
    # limit; no field can be longer than the text, which is already in memory.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    try:
        for rec in reader:
            records.append(rec)
    except csv.Error as exc:
        n_data = max(len(records) - 1, 0)
        raise FileFormatError(
            problems=[
                Problem(
                    f"cannot parse the CSV at line {reader.line_num} ({exc}) after {n_data} complete "
                    "row(s): a quoted value never ends — the file looks truncated or has a stray "
                    "quote; export it again or close the quote",
                    path=path,
                    row=n_data + 1 if n_data else None,
                )
            ],
            path=path,
        ) from exc
    if not records or not any(c.strip() for c in records[0]):
        raise EmptyFileError(
            problems=[Problem("the file has no header row; export the data again", path=path)], path=path
        )
    header = [c.strip() for c in records[0]]
    seen: dict[str, int] = {}
    for c in header:
        seen[c] = seen.get(c, 0) + 1
    dups = [c for c, k in seen.items() if k > 1]
    if dups:
        raise FileFormatError(
            problems=[
                Problem(
                    f"column {d!r} appears {seen[d]} times in the header; give every column a unique name",
                    path=path,
                    column=d,
                )
                for d in dups
            ],
            path=path,
        )
    header_rows = 1
    hxl = None
    if len(records) > 1 and _is_hxl(records[1]):
        header_rows = 2
        hxl = {h: t.strip() for h, t in zip(header, records[1], strict=False) if t.strip()}
    body = records[header_rows:]
    # a record that is entirely empty (a blank line) is not data, but it keeps
    # its number so that rows match what a spreadsheet shows
    keep = [i for i, r in enumerate(body) if any(c.strip() for c in r)]
    if not keep:
        raise EmptyFileError(
            problems=[
                Problem(
                    "the file has a header but no data rows; add rows or choose the right file", path=path
                )
            ],
            path=path,
        )
    ncol = len(header)
    issues: list[tuple[int, str | None, str]] = []
    extra: dict[int, str] = {}
    rows_data: list[list[str]] = []
    last = keep[-1]
    ends_with_newline = text.endswith(("\n", "\r"))
    for pos, i in enumerate(keep):
        r = body[i]
        if len(r) < ncol:
            if i == last and not ends_with_newline:
                raise FileFormatError(
                    problems=[
                        Problem(
                            f"the last row has {len(r)} of {ncol} fields and the file does not end with a "
                            "line break: the file looks truncated; export or download it again",
                            path=path,
                            row=i + 1,
                            column=header[len(r) - 1] if r else None,
                        )
                    ],
                    path=path,
                )
            issues.append(
                (
                    pos,
                    header[len(r)] if len(r) < ncol else None,
                    f"the row has {len(r)} fields but the header has {ncol}; the row was cut short "
                    "or a value holds an unquoted line break — complete the row or quote the value",
                )
            )
            r = r + [""] * (ncol - len(r))
        elif len(r) > ncol:
            issues.append(
                (
                    pos,
                    None,
                    f"the row has {len(r)} fields but the header has {ncol}; quote values that "
                    f"contain the delimiter {delimiter!r}",
                )
            )
            extra[pos] = delimiter.join(r[ncol:])
            r = r[:ncol]
        rows_data.append(r)
    frame = pd.DataFrame(rows_data, columns=header, dtype=object)
    for c in frame.columns:
        frame[c] = frame[c].astype(str)
    if extra:
        col = "_extra_fields"
        frame[col] = [extra.get(p, "") for p in range(len(frame))]
    rows = np.asarray(keep, dtype=np.int64) + 1
    return CsvTable(
        frame=frame, rows=rows, header_rows=header_rows, hxl=hxl, delimiter=delimiter, issues=issues
    )


def quoted_field_pattern(delimiter: str, *, within_line: bool = False) -> re.Pattern[str]:
    """A well-formed quoted field: it opens at the start of a field and closes before a delimiter or
    a line end (``""`` inside is a quote); with *within_line*, one that holds no line break."""
    d = re.escape(delimiter)
    # the quote comes first, so that the search jumps from quote to quote
    other = '[^"\r\n]' if within_line else '[^"]'
    return re.compile(rf'"(?<![^{d}\r\n]"){other}*(?:""{other}*)*"(?=[{d}\r\n]|$)')


def _quoted_field_patterns(delimiter: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    d = re.escape(delimiter)
    good = quoted_field_pattern(delimiter)
    # a quote still at the start of a field once the well-formed ones are gone: Python's strict
    # reader refuses it (text after the closing quote, a quote that never ends), pyarrow may not
    start = re.compile(rf'"(?<![^{d}\r\n]")')
    return good, start


def _arrow_table(raw: bytes, text: str, delimiter: str) -> CsvTable | None:
    """The records split by pyarrow, or None when the file needs the Python parser's checks.

    None (the caller then uses the csv module, which names every irregular row) when: a NUL
    character, a quoted value that is not well formed, a record whose number of fields differs
    from the header's (pyarrow refuses it), a blank record (it keeps its row number only in the
    Python path), an empty header or no data record. Every value stays text, as in the Python path.
    """
    if "\x00" in text or text.startswith("\ufeff"):
        return None  # the csv module refuses a NUL; a byte-order mark left in the text stays in the header
    if '"' in text:
        good, start = _quoted_field_patterns(delimiter)
        if start.search(good.sub("", text)) is not None:
            return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    # at most this many fields in the header (more when a quoted name holds the delimiter); a
    # column beyond it is inferred instead of read as text, which sends the file to the Python path
    n_fields = text.split("\n", 1)[0].count(delimiter) + 1
    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                # the column names are generated (f0, f1 ...): the header is read as the first
                # record, so every column is text and the header gets the Python path's checks
                column_types={f"f{i}": pa.string() for i in range(n_fields)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if table.num_rows < 2 or any(pa.types.is_null(t) or not pa.types.is_string(t) for t in table.schema.types):
        return None
    header_cells = [str(table.column(i)[0].as_py()) for i in range(table.num_columns)]
    header = [c.strip() for c in header_cells]
    if not any(header) or len(set(header)) < len(header):
        return None  # no header, or duplicate names: the Python path raises its message
    blank = None
    for col in table.columns:  # a loop over columns, not rows
        empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
    if pc.any(pc.invert(blank).slice(1)).as_py() is not True or pc.any(blank).as_py():
        return None  # a blank record (or no data): numbered by the Python path
    header_rows = 1
    hxl = None
    if table.num_rows > 1:
        cells = [str(table.column(i)[1].as_py()) for i in range(table.num_columns)]
        if _is_hxl(cells):
            header_rows = 2
            hxl = {h: t.strip() for h, t in zip(header, cells, strict=False) if t.strip()}
    body = table.slice(header_rows)
    if body.num_rows == 0:
        return None
    frame = pd.DataFrame(
        {h: pd.Series(body.column(i), dtype=TEXT_DTYPE) for i, h in enumerate(header)}
    )
    rows = np.arange(1, body.num_rows + 1, dtype=np.int64)
    return CsvTable(frame=frame, rows=rows, header_rows=header_rows, hxl=hxl, delimiter=delimiter,
                    engine="pyarrow")


def read_csv_header(head: bytes, *, path: str, encoding: str | None = None) -> list[str]:
    """Column names from the first bytes of a CSV file (the same rules as :func:`read_csv_table`).

    ``head`` may stop anywhere (e.g. the first 64 KiB): it is decoded
    incrementally, so a character cut at the end is not an error.

    Raises
    ------
    UnicodeDecodeError, LookupError
        When the header is not valid text in the encoding (the full reader then
        gives the detailed message).
    """
    if encoding is None:
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8"
    text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    delimiter = sniff_delimiter(text, path)
    for rec in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        return [c.strip() for c in rec]
    return []
