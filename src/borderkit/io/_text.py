"""Decoding text files, with an error that says where the bad byte is and what to pass."""

from __future__ import annotations

import codecs
import csv
import io

from borderkit.errors import EncodingError, Problem

__all__ = ["decode_bytes", "guess_encoding", "encoding_label"]


def guess_encoding(data: bytes) -> str:
    """A likely single-byte encoding for ``data`` that is not valid UTF-8.

    Cyrillic text in Windows-1251 comes in words: most of its bytes >= 0x80
    stand next to another such byte. Western European text (Windows-1252,
    Latin-1) has accented letters between ASCII ones. So: Windows-1251 when
    most high bytes have a high neighbour and they decode to Cyrillic letters,
    else Windows-1252, else Latin-1 (which decodes any byte).
    """
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if high:
        hs = set(high)
        paired = sum(1 for i in high if (i - 1) in hs or (i + 1) in hs)
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError:
            text = ""
        non_ascii = [c for c in text if ord(c) > 127]
        cyr = sum(1 for c in non_ascii if "\u0400" <= c <= "\u04ff")
        if non_ascii and paired / len(high) >= 0.5 and cyr / len(non_ascii) >= 0.6:
            return "cp1251"
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


_NAMES = {
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "Latin-1",
}


def encoding_label(encoding: str) -> str:
    """A reader-friendly name of an encoding (``"Windows-1251 (Cyrillic)"`` for ``"cp1251"``)."""
    return _NAMES.get(encoding, encoding)


def _location_in_csv(prefix: str, delimiter: str) -> tuple[int, int, str | None, bool]:
    """(record index, field index, header name, hxl) of the end of ``prefix``."""
    records = list(csv.reader(io.StringIO(prefix, newline=""), delimiter=delimiter))
    if not records:
        return 0, 0, None, False
    header = records[0]
    rec_index = len(records) - 1
    field = max(len(records[-1]) - 1, 0)
    name = header[field] if rec_index > 0 and field < len(header) else None
    hxl = (
        len(records) > 2
        and any(c.strip() for c in records[1])
        and all((not c.strip()) or c.strip().startswith("#") for c in records[1])
    )
    return rec_index, field, name, hxl


def decode_bytes(
    data: bytes,
    *,
    path: str,
    encoding: str | None = None,
    csv_delimiter: str | None = None,
) -> str:
    """Decode a whole text file.

    Parameters
    ----------
    data
        File content.
    path
        Named in the error.
    encoding
        Codec to use; default UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured).
    csv_delimiter
        When the file is CSV: the error then names the data row and column.

    Raises
    ------
    borderkit.errors.EncodingError
        (also a :class:`UnicodeError`) naming the byte offset, the line, the
        row/column for CSV, and the ``encoding=`` to pass.
    """
    if encoding is None:
        if data.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            enc = "utf-16"
        else:
            enc = "utf-8"
    else:
        enc = encoding
    try:
        return data.decode(enc)
    except LookupError as exc:
        raise EncodingError(
            problems=[
                Problem(f"unknown encoding {encoding!r} ({exc}); pass e.g. encoding='cp1251'", path=path)
            ],
            path=path,
        ) from exc
    except UnicodeDecodeError as exc:
        start = exc.start
        head = data[:start]
        line = head.count(b"\n") + 1
        col = start - (head.rfind(b"\n") + 1) + 1
        bad = data[start : min(exc.end, start + 4)]
        guess = guess_encoding(data) if enc.startswith("utf") else "utf-8"
        row = None
        column = None
        where = f"byte {bad.hex(' ')} at byte offset {start} (line {line}, character {col})"
        if csv_delimiter is not None:
            prefix = head.decode(enc, errors="replace")
            rec, _field, name, hxl = _location_in_csv(prefix, csv_delimiter)
            header_rows = 2 if hxl else 1
            if rec >= header_rows:
                row = rec - header_rows + 1
                column = name
                where += f" [spreadsheet row {rec + 1}]"
            else:
                where += " in the header"
        msg = (
            f"{where} is not valid {'UTF-8' if enc == 'utf-8-sig' else enc.upper()} text; "
            "the file looks like "
            f"{_NAMES.get(guess, guess)}: pass encoding={guess!r} to the reader, or save the file as UTF-8"
        )
        raise EncodingError(problems=[Problem(msg, path=path, row=row, column=column)], path=path) from exc
