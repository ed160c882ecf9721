"""The claims file: reading and validating a claims table, and the reading kinds a claim can have.

A claims table (schema ``CLAIMS``) lists numbers stated in reports; this module
reads it from CSV (:func:`read_claims`), checks it (:func:`validate_claims`) and
defines :class:`Reading`, one measurable interpretation of a claim. Evaluating
claims is :mod:`borderkit.claims`, which re-exports everything here.

This module is in the io layer: it imports the standard library, :mod:`borderkit.errors`,
:mod:`borderkit.schema` and the CSV reader of :mod:`borderkit.io` (pandas only inside functions).
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from borderkit.errors import FileFormatError, Problem, ValidationError
from borderkit.schema import CLAIMS

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["read_claims", "validate_claims", "Reading", "READING_KINDS", "QUANTITIES", "UNITS_TO_METRES"]

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
                Problem(f"quantity {rec['quantity']!r} is not one of {list(QUANTITIES)}", path=where, row=row,
                        column="quantity")
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
            Problem(f"duplicate claim_id {cid!r}; ids must be unique", path=where, row=int(df.index.get_loc(i)) + 1,
                    column="claim_id")
        )
    if problems:
        raise ValidationError(problems=problems, path=where)
    df["claimed_value"] = values.astype(float)
    ordered = CLAIMS.names + [c for c in df.columns if c not in CLAIMS.names]
    return df[ordered].reset_index(drop=True)


def read_claims(path: str | PathLike[str], *, encoding: str | None = None) -> pandas.DataFrame:
    """Read a claims CSV (header row) and validate it.

    The bytes are decoded and split by :func:`borderkit.io.read_csv_table`,
    the same CSV reader as the layer readers: a UTF-8 byte-order mark is
    honoured, encoding errors name the row and column, and a row with too few
    or too many fields is an error instead of being padded or dropped.

    Parameters
    ----------
    path
        CSV file with the ``CLAIMS`` columns.
    encoding
        Text encoding of the file (default UTF-8, byte-order mark honoured).
    """
    from borderkit.io import read_csv_table

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read the claims CSV ({exc})") from exc
    table = read_csv_table(data, path=str(path), encoding=encoding)
    if table.issues:
        raise FileFormatError(
            problems=[
                Problem(msg, path=str(path), row=int(table.rows[pos]), column=col) for pos, col, msg in table.issues
            ],
            path=str(path),
        )
    return validate_claims(table.frame, path=path)


@dataclass(frozen=True)
class Reading:
    """One plausible reading of a claim, as something borderkit can measure (or says it cannot).

    Attributes
    ----------
    label
        The reading's letter as in the claim's ``readings`` text, e.g. ``"(a)"``.
    text
        What the reading measures, in words.
    kind
        ``point_to_line`` (shortest distance from a place to the reference line),
        ``toward_to_line`` (distance from a place along the geodesic toward
        another place to where it meets the line), ``territory_gap`` (narrowest
        gap between the reference part of a territory and the party's largest
        part), ``point_to_territory`` (distance from a place to the reference
        territory part), ``advance_depth`` (signed depth of the subject's place
        beyond the line into the party advanced into), ``dem_peak`` (highest DEM
        cell near a peak) or ``not_measurable``.
    place
        ``place_id`` of the point measured from (default: the claim's subject).
    toward
        ``place_id`` giving the direction (``toward_to_line``).
    reason
        Why a ``not_measurable`` reading cannot be measured.
    """

    label: str
    text: str
    kind: str
    place: str = ""
    toward: str = ""
    reason: str = ""


READING_KINDS = ("point_to_line", "toward_to_line", "territory_gap", "point_to_territory", "advance_depth",
                  "dem_peak", "not_measurable")
"""The kinds of :class:`Reading` borderkit can evaluate (see :func:`borderkit.claims.evaluate_claims`)."""
