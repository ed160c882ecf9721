"""Conflict-event exports read as incidents: ACLED and UCDP GED.

Both are recognised by their columns (whatever the file format) and mapped to
:data:`borderkit.schema.INCIDENTS`. Every original column is kept: under its
own name, or with an ``acled_``/``ucdp_`` prefix where its name is also an
INCIDENTS column (UCDP's ``date_end`` becomes ``ucdp_date_end``).

The precision tables below turn each source's location codes into a radius of
uncertainty in metres (``precision_m``); ``docs/precision-codes.md`` gives the
codebook definitions and the reasoning behind each number.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from borderkit.schema import INCIDENTS

__all__ = [
    "ACLED_GEO_PRECISION_M",
    "ACLED_TIME_PRECISION",
    "ACLED_COLUMNS",
    "ACLED_DATE_FORMATS",
    "UCDP_WHERE_PREC_M",
    "UCDP_DATE_PREC",
    "UCDP_TYPE_OF_VIOLENCE",
    "UCDP_COLUMNS",
    "is_acled",
    "is_ucdp_ged",
    "detect_export",
    "map_acled",
    "map_ucdp_ged",
]

ACLED_GEO_PRECISION_M: Mapping[int, float] = MappingProxyType({1: 2_000.0, 2: 15_000.0, 3: 50_000.0})
"""ACLED ``geo_precision`` code -> ``precision_m`` (radius of location uncertainty, metres).

1 = the named town (its extent plus gazetteer error), 2 = near a town / a small
part of a region (an Armenian or Azerbaijani district), 3 = a larger region,
coded to the provincial capital or a natural feature (a province). See
``docs/precision-codes.md``.
"""

ACLED_TIME_PRECISION: Mapping[int, str] = MappingProxyType({1: "day", 2: "week", 3: "month"})
"""ACLED ``time_precision`` code -> ``date_precision``.

1 = the actual date, 2 = some time in that week (or a similar span),
3 = some time in that month (ACLED then codes the month's middle).
"""

UCDP_WHERE_PREC_M: Mapping[int, float] = MappingProxyType(
    {1: 2_000.0, 2: 25_000.0, 3: 30_000.0, 4: 60_000.0, 5: 100_000.0, 6: 200_000.0, 7: 100_000.0}
)
"""UCDP GED ``where_prec`` code -> ``precision_m`` (metres).

1 = exact location, 2 = a limited area around a named place, 3 = second-order
administrative unit (ADM2) centroid, 4 = ADM1 centroid, 5 = larger than ADM1 /
between places / vague, 6 = the country's centroid, 7 = over water or in
international airspace. See ``docs/precision-codes.md``.
"""

UCDP_DATE_PREC: Mapping[int, str] = MappingProxyType({1: "day", 2: "week", 3: "week", 4: "month", 5: "year"})
"""UCDP GED ``date_prec`` code -> ``date_precision``.

1 = exact day, 2 = a span of 2-6 days, 3 = a known week, 4 = a known month,
5 = a known year (``date``/``date_end`` are UCDP's ``date_start``/``date_end``).
"""

UCDP_TYPE_OF_VIOLENCE: Mapping[int, str] = MappingProxyType(
    {1: "state-based conflict", 2: "non-state conflict", 3: "one-sided violence"}
)
"""UCDP GED ``type_of_violence`` code -> incident ``type``."""

ACLED_COLUMNS = frozenset({"event_id_cnty", "event_date", "latitude", "longitude", "geo_precision"})
"""Columns whose presence marks an ACLED export."""

UCDP_COLUMNS = frozenset({"id", "date_start", "date_end", "latitude", "longitude", "where_prec"})
"""Columns whose presence marks a UCDP GED export."""

ACLED_DATE_FORMATS = ("%d %B %Y", "%d-%B-%Y", "%d-%b-%Y", "%d %b %Y", "%d-%m-%Y")
"""Date formats accepted in ACLED's ``event_date`` besides ISO ``YYYY-MM-DD``.

ACLED's website exports write ``05 December 2020``; its codebook describes
``dd-mm-yyyy``; HDX and API exports write ``2020-12-05``. Day-first always.
"""


def _lower_columns(columns: Any) -> set[str]:
    return {str(c).strip().lower() for c in columns}


def is_acled(columns: Any) -> bool:
    """True when ``columns`` contain the columns of an ACLED export."""
    return ACLED_COLUMNS <= _lower_columns(columns)


def is_ucdp_ged(columns: Any) -> bool:
    """True when ``columns`` contain the columns of a UCDP GED export."""
    return UCDP_COLUMNS <= _lower_columns(columns)


def detect_export(columns: Any) -> str | None:
    """``"acled"``, ``"ucdp-ged"`` or None."""
    if is_acled(columns):
        return "acled"
    if is_ucdp_ged(columns):
        return "ucdp-ged"
    return None


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column ``name`` (without case) as text, or empty text."""
    from borderkit.validate import to_text

    for c in frame.columns:
        if str(c).strip().lower() == name:
            return to_text(frame[c]).str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype=object).astype(str)


def _codes(frame: pd.DataFrame, name: str) -> tuple[pd.Series, pd.Series]:
    text = _col(frame, name)
    num = pd.to_numeric(text.where(text != ""), errors="coerce")
    return text, num


def _join(*parts: pd.Series, sep: str = "; ") -> pd.Series:
    """Join the non-empty values of several text columns, row by row."""
    lists = [p.tolist() for p in parts]
    joined = [sep.join(v for v in values if v) for values in zip(*lists, strict=True)]
    return pd.Series(joined, index=parts[0].index, dtype=object).astype(str)


def _objects(values: list[Any], index: pd.Index) -> pd.Series:
    """A Series holding one Python object (e.g. a list) per row."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return pd.Series(arr, index=index, dtype=object)


def _keep_originals(out: dict[str, Any], frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    result = pd.DataFrame(out, index=frame.index)
    for c in frame.columns:
        name = str(c)
        new = f"{prefix}{name}" if name in INCIDENTS.names and name != "geometry" else name
        while new in result.columns:
            new = f"{prefix}{new}"
        result[new] = frame[c]
    return result


def _code_problem(
    log: Any,
    text: pd.Series,
    num: pd.Series,
    table: Mapping[int, Any],
    *,
    column: str,
    block: str,
    what: str,
) -> pd.Series:
    """Map codes through ``table``; report values that are not codes."""
    codes = ", ".join(f"{k} ({v:g} m)" if isinstance(v, float) else f"{k} ({v})" for k, v in table.items())
    mapped = num.map(lambda v: table.get(int(v)) if pd.notna(v) and float(v).is_integer() else None)
    bad = mapped.isna().to_numpy()
    empty = (text == "").to_numpy()
    log.add_rows(
        bad & empty,
        column,
        f"{column} is empty; {what} uses the codes {codes}",
        block=(block,),
    )
    log.add_rows(
        bad & ~empty,
        column,
        lambda p: f"{text.iloc[p]!r} is not a {column} code; {what} uses {codes}",
        block=(block,),
    )
    return mapped


def map_acled(frame: pd.DataFrame, log: Any) -> tuple[pd.DataFrame, dict[str, str]]:
    """Map an ACLED table to INCIDENTS columns (geometry is built by the reader).

    =================  ==============================================================
    incidents          from ACLED
    =================  ==============================================================
    incident_id        ``event_id_cnty``
    date               ``event_date`` (ISO or :data:`ACLED_DATE_FORMATS`)
    date_precision     ``time_precision`` via :data:`ACLED_TIME_PRECISION`
    type               ``event_type: sub_event_type``
    description        ``notes``
    actors             ``actor1``, ``assoc_actor_1``, ``actor2``, ``assoc_actor_2``
                       (non-empty ones joined by ``"; "``)
    place_name         ``location``
    precision_m        ``geo_precision`` via :data:`ACLED_GEO_PRECISION_M`
    sources            ``source`` split at ``;``: one ``{"publication": …}`` each
    reported_claims    ``""``
    =================  ==============================================================

    Returns the mapped frame (originals kept) and, per INCIDENTS column, the
    ACLED column named in problem messages.
    """
    from borderkit.validate import DATE_DTYPE, parse_dates

    n = len(frame)
    event_date = _col(frame, "event_date")
    dates, bad, _ = parse_dates(event_date, formats=ACLED_DATE_FORMATS)
    log.add_rows(
        bad,
        "event_date",
        lambda p: (
            f"{event_date.iloc[p]!r} is not a date; ACLED dates are written YYYY-MM-DD "
            "(or DD Month YYYY, e.g. 05 December 2020)"
        ),
        block=("date",),
    )
    tp_text, tp_num = _codes(frame, "time_precision")
    date_precision = _code_problem(
        log,
        tp_text,
        tp_num,
        ACLED_TIME_PRECISION,
        column="time_precision",
        block="date_precision",
        what="ACLED's codebook",
    )
    gp_text, gp_num = _codes(frame, "geo_precision")
    precision = _code_problem(
        log,
        gp_text,
        gp_num,
        ACLED_GEO_PRECISION_M,
        column="geo_precision",
        block="precision_m",
        what="ACLED's codebook",
    )
    event_type = _col(frame, "event_type")
    sub = _col(frame, "sub_event_type")
    typ = np.where(
        (event_type != "") & (sub != ""), event_type + ": " + sub, np.where(event_type != "", event_type, sub)
    )
    source = _col(frame, "source")
    sources = [
        [{"publication": s.strip(), "title": "", "date": "", "url": ""} for s in v.split(";") if s.strip()]
        for v in source.tolist()
    ]
    out = {
        "incident_id": _col(frame, "event_id_cnty"),
        "date": dates,
        "date_end": pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE),
        "date_precision": pd.Series(date_precision.fillna("").to_numpy(), index=frame.index).astype(str),
        "type": pd.Series(typ, index=frame.index).astype(str),
        "description": _col(frame, "notes"),
        "actors": _join(
            _col(frame, "actor1"),
            _col(frame, "assoc_actor_1"),
            _col(frame, "actor2"),
            _col(frame, "assoc_actor_2"),
        ),
        "place_name": _col(frame, "location"),
        "place_id": pd.Series([""] * n, index=frame.index).astype(str),
        "precision_m": pd.Series(precision.to_numpy(dtype=float), index=frame.index),
        "sources": _objects(sources, frame.index),
        "reported_claims": pd.Series([""] * n, index=frame.index).astype(str),
    }
    shown = {
        "incident_id": "event_id_cnty",
        "date": "event_date",
        "date_precision": "time_precision",
        "type": "event_type",
        "description": "notes",
        "place_name": "location",
        "precision_m": "geo_precision",
        "sources": "source",
    }
    return _keep_originals(out, frame, "acled_"), shown


def map_ucdp_ged(frame: pd.DataFrame, log: Any) -> tuple[pd.DataFrame, dict[str, str]]:
    """Map a UCDP GED table to INCIDENTS columns (geometry is built by the reader).

    =================  ==============================================================
    incidents          from UCDP GED
    =================  ==============================================================
    incident_id        ``id``
    date, date_end     ``date_start``, ``date_end`` (the time part is dropped)
    date_precision     ``date_prec`` via :data:`UCDP_DATE_PREC`
    type               ``type_of_violence`` via :data:`UCDP_TYPE_OF_VIOLENCE`
    description        ``conflict_name — dyad_name; deaths: best B (low L, high H)``
    actors             ``side_a; side_b``
    place_name         ``where_coordinates`` (else ``where_description``)
    precision_m        ``where_prec`` via :data:`UCDP_WHERE_PREC_M`
    sources            ``source_office`` split at ``;``, with ``source_date`` and
                       ``source_headline`` when they split into as many parts
    reported_claims    ``""``
    =================  ==============================================================
    """
    from borderkit.validate import parse_dates

    n = len(frame)
    ds, de = _col(frame, "date_start"), _col(frame, "date_end")
    date, bad0, _ = parse_dates(ds)
    date_end, bad1, _ = parse_dates(de)
    hint = "UCDP dates are written YYYY-MM-DD (a time part such as 00:00:00.000 is ignored)"
    log.add_rows(bad0, "date_start", lambda p: f"{ds.iloc[p]!r} is not a date; {hint}", block=("date",))
    log.add_rows(bad1, "date_end", lambda p: f"{de.iloc[p]!r} is not a date; {hint}", block=("date_end",))
    dp_text, dp_num = _codes(frame, "date_prec")
    date_precision = _code_problem(
        log,
        dp_text,
        dp_num,
        UCDP_DATE_PREC,
        column="date_prec",
        block="date_precision",
        what="the UCDP GED codebook",
    )
    wp_text, wp_num = _codes(frame, "where_prec")
    precision = _code_problem(
        log,
        wp_text,
        wp_num,
        UCDP_WHERE_PREC_M,
        column="where_prec",
        block="precision_m",
        what="the UCDP GED codebook",
    )
    tv_text, tv_num = _codes(frame, "type_of_violence")
    typ = tv_num.map(
        lambda v: UCDP_TYPE_OF_VIOLENCE.get(int(v)) if pd.notna(v) and float(v).is_integer() else None
    )
    typ = typ.where(typ.notna(), tv_text).astype(str)

    conflict, dyad = _col(frame, "conflict_name"), _col(frame, "dyad_name")
    best, low, high = _col(frame, "best"), _col(frame, "low"), _col(frame, "high")
    head = _join(conflict, dyad, sep=" — ")
    deaths = np.where(
        best != "",
        "deaths: best "
        + best
        + np.where((low != "") & (high != ""), " (low " + low + ", high " + high + ")", ""),
        "",
    )
    description = _join(head, pd.Series(deaths, index=frame.index).astype(str))
    place = _col(frame, "where_coordinates")
    place = place.where(place != "", _col(frame, "where_description"))
    offices, sdates, heads = (
        _col(frame, "source_office"),
        _col(frame, "source_date"),
        _col(frame, "source_headline"),
    )
    sources = []
    for o, d, h in zip(offices.tolist(), sdates.tolist(), heads.tolist(), strict=True):
        pubs = [s.strip() for s in o.split(";")]
        ds_ = [s.strip() for s in d.split(";")]
        hs = [s.strip() for s in h.split(";")]
        recs = []
        for i, pub in enumerate(pubs):
            rec = {
                "publication": pub,
                "title": hs[i] if len(hs) == len(pubs) else "",
                "date": ds_[i] if len(ds_) == len(pubs) else "",
                "url": "",
            }
            if any(rec.values()):
                recs.append(rec)
        if not recs and h:
            recs.append({"publication": "", "title": h, "date": d, "url": ""})
        sources.append(recs)
    out = {
        "incident_id": _col(frame, "id"),
        "date": date,
        "date_end": date_end,
        "date_precision": pd.Series(date_precision.fillna("").to_numpy(), index=frame.index).astype(str),
        "type": typ,
        "description": description,
        "actors": _join(_col(frame, "side_a"), _col(frame, "side_b")),
        "place_name": place,
        "place_id": pd.Series([""] * n, index=frame.index).astype(str),
        "precision_m": pd.Series(precision.to_numpy(dtype=float), index=frame.index),
        "sources": _objects(sources, frame.index),
        "reported_claims": pd.Series([""] * n, index=frame.index).astype(str),
    }
    shown = {
        "incident_id": "id",
        "date": "date_start",
        "date_end": "date_end",
        "date_precision": "date_prec",
        "type": "type_of_violence",
        "place_name": "where_coordinates",
        "precision_m": "where_prec",
        "sources": "source_office",
    }
    return _keep_originals(out, frame, "ucdp_"), shown
