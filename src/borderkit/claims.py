"""Structured claims: the numbers that reports state ("advanced up to 3.5 km").

A claim names what is measured (``quantity``), the value and unit the source
states, what it is about (``subject``) and against what (``reference``). The
measurement engine evaluates claims against every line source; this module reads
and validates them.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from borderkit.errors import EmptyFileError, EncodingError, FileFormatError, Problem, ValidationError
from borderkit.schema import CLAIMS

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["read_claims", "validate_claims", "QUANTITIES", "UNITS_TO_METRES"]

QUANTITIES = ("distance", "advance_depth", "elevation", "width", "area")
"""Allowed values of ``claims.quantity``."""

UNITS_TO_METRES = {"m": 1.0, "km": 1000.0}
"""Length units a claim may state, with their size in metres."""


def validate_claims(df: pandas.DataFrame, *, path: str | PathLike[str] | None = None) -> pandas.DataFrame:
    """Check a claims table against the ``CLAIMS`` schema; return it with typed columns.

    Raises
    ------
    ValidationError
        Listing every problem (missing columns, duplicate ids, bad numbers, units,
        quantities, subject/reference forms, non-http(s) URLs), each with its row
        (1-based data row) and column.
    """
    import pandas as pd

    where = None if path is None else str(path)
    problems: list[Problem] = []
    missing = [c for c in CLAIMS.required if c not in df.columns]
    if missing:
        raise ValidationError(
            problems=[
                Problem(
                    f"required column missing; add it (claims columns: {', '.join(CLAIMS.names)})",
                    path=where,
                    column=c,
                )
                for c in missing
            ],
            path=where,
        )
    df = df.copy()
    for col in CLAIMS.names:
        if col not in df.columns:
            df[col] = ""
        if CLAIMS.column(col).dtype == "str":
            df[col] = df[col].fillna("").astype(str)
    values = pd.to_numeric(df["claimed_value"], errors="coerce")
    for i in range(len(df)):
        row = i + 1
        rec = df.iloc[i]
        if pd.isna(values.iloc[i]) or values.iloc[i] < 0:
            problems.append(
                Problem(
                    f"claimed_value {rec['claimed_value']!r} is not a non-negative number",
                    path=where,
                    row=row,
                    column="claimed_value",
                )
            )
        if rec["claimed_unit"] not in UNITS_TO_METRES:
            problems.append(
                Problem(
                    f"unit {rec['claimed_unit']!r} is not one of {sorted(UNITS_TO_METRES)}",
                    path=where,
                    row=row,
                    column="claimed_unit",
                )
            )
        if rec["quantity"] not in QUANTITIES:
            problems.append(
                Problem(f"quantity {rec['quantity']!r} is not one of {list(QUANTITIES)}", path=where, row=row, column="quantity")
            )
        if not rec["subject"].partition(":")[2]:
            problems.append(
                Problem("subject must look like 'place:<id>' or 'incident:<id>'", path=where, row=row, column="subject")
            )
        url = rec["source_url"].strip()
        if url and not url.lower().startswith(("http://", "https://")):
            problems.append(
                Problem(f"source_url {url!r} is not an http(s) URL", path=where, row=row, column="source_url")
            )
    dup = df["claim_id"][df["claim_id"].duplicated(keep=False)]
    for i, cid in dup.items():
        problems.append(
            Problem(f"duplicate claim_id {cid!r}; ids must be unique", path=where, row=int(df.index.get_loc(i)) + 1, column="claim_id")
        )
    if problems:
        raise ValidationError(problems=problems, path=where)
    df["claimed_value"] = values.astype(float)
    ordered = CLAIMS.names + [c for c in df.columns if c not in CLAIMS.names]
    return df[ordered].reset_index(drop=True)


def read_claims(path: str | PathLike[str], *, encoding: str = "utf-8") -> pandas.DataFrame:
    """Read a claims CSV (UTF-8, header row) and validate it.

    Parameters
    ----------
    path
        CSV file with the ``CLAIMS`` columns.
    encoding
        Text encoding of the file.
    """
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{path}: byte {exc.start} is not valid {encoding}; save the file as UTF-8 "
            "or pass encoding=... (e.g. 'cp1251')"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise EmptyFileError(f"{path}: the file is empty; a claims CSV needs a header row and one row per claim") from exc
    except (pd.errors.ParserError, OSError) as exc:
        raise FileFormatError(f"{path}: cannot parse as CSV ({exc}); check quoting and the number of fields") from exc
    if df.empty:
        raise EmptyFileError(f"{path}: the file has a header but no claims")
    return validate_claims(df, path=path)
