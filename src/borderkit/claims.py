"""Structured claims: the numbers that reports state ("advanced up to 3.5 km"), and their evaluation.

A claim names what is measured (``quantity``), the value and unit the source
states, what it is about (``subject``) and against what (``reference``).
:func:`read_claims` / :func:`validate_claims` read and check them;
:func:`evaluate_claims` measures every claim against every line source (or the
DEM, for heights) under each plausible reading and gives a verdict with a stated
tolerance; :func:`claims_report` turns that table into the JSON of
``borderkit claims --json``. Method and tolerances: ``docs/measure.md``.

This module imports only the standard library at import time (it is loaded by
``borderkit.datasets``); numpy, pandas and the measurement modules are imported
by :func:`evaluate_claims`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.errors import (
    BorderkitError,
    FileFormatError,
    Problem,
    ValidationError,
)
from borderkit.schema import CLAIMS

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from borderkit.datasets import Case

__all__ = [
    "read_claims",
    "validate_claims",
    "evaluate_claims",
    "claims_report",
    "claim_band",
    "rounding_step",
    "default_readings",
    "Reading",
    "ToleranceRule",
    "CASE_READINGS",
    "PLACE_PRECISION_M",
    "QUALIFIERS",
    "VERDICTS",
    "QUANTITIES",
    "UNITS_TO_METRES",
]

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

    The bytes are decoded and split by :func:`borderkit.io._csv.read_csv_table`,
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
    from borderkit.io._csv import read_csv_table

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


# =================================================================================================
# Evaluation
# =================================================================================================
VERDICTS = ("consistent", "inconsistent", "cannot be measured", "depends on reading", "depends on source")
"""Verdict words. A single measurement is ``consistent``, ``inconsistent`` or ``cannot be measured``.
Per source, a claim with several measured readings that disagree ``depends on reading``; a claim
whose per-source verdicts disagree ``depends on source`` (borderkit does not pick a line)."""

QUALIFIERS = {
    "about": "approx",
    "approximately": "approx",
    "around": "approx",
    "roughly": "approx",
    "some": "approx",
    "nearly": "approx",
    "almost": "approx",
    "circa": "approx",
    "close to": "approx",
    "~": "approx",
    "up to": "up_to",
    "as far as": "up_to",
    "at most": "up_to",
    "no more than": "up_to",
    "within": "up_to",
    "as much as": "up_to",
    "at least": "at_least",
    "more than": "at_least",
    "over": "at_least",
    "no less than": "at_least",
    "": "stated",
    "exactly": "stated",
    "in a straight line": "stated",
    "straight-line": "stated",
    "as the crow flies": "stated",
}
"""Qualifier wording → how the stated value is read (see :func:`claim_band`).

``approx``: ``value ± max(rounding, approx_fraction × value)``; ``up_to``: ``0 … value + rounding``;
``at_least``: ``value − rounding … ∞``; ``stated`` (no qualifier, or one that names the method such
as "in a straight line"): ``value ± rounding``."""

PLACE_PRECISION_M = {
    "peak": 250.0,
    "lake": 500.0,
    "village": 1000.0,
    "town": 2000.0,
    "city": 5000.0,
    "airport": 1000.0,
    "crossing": 500.0,
    "base": 1000.0,
    "road": 1000.0,
    "region": float("nan"),
}
"""Radius (m) within which the feature a place's point stands for lies, by kind: the extent of a
village, town or lake around its gazetteer point plus coordinate rounding. Used as the point's
precision when a claim is measured from a place (a region has no usable point)."""


@dataclass(frozen=True)
class ToleranceRule:
    """How the tolerance of a claim is built (see ``docs/measure.md``).

    Attributes
    ----------
    approx_fraction
        Relative tolerance of "about"/"approximately" (default 10 %), used when
        larger than the rounding of the stated figure.
    place_precision_m
        Precision of a place's point by kind (default :data:`PLACE_PRECISION_M`).
    absolute_m
        If set, replaces the qualifier/rounding part by ``± absolute_m`` for every
        claim (the line accuracy and point precision are still added).
    """

    approx_fraction: float = 0.10
    place_precision_m: Mapping[str, float] = field(default_factory=lambda: dict(PLACE_PRECISION_M))
    absolute_m: float | None = None


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


_READING_KINDS = ("point_to_line", "toward_to_line", "territory_gap", "point_to_territory", "advance_depth",
                  "dem_peak", "not_measurable")

CASE_READINGS: dict[str, tuple[Reading, ...]] = {
    "ashagi-seyfali-40km-from-border": (
        Reading("(a)", "distance from the military operation centre to the nearest point of the line",
                "not_measurable", reason="the operation centre is not located in any source"),
        Reading("(b)", "shortest distance from the village Ashagi Seyfali to the line", "point_to_line",
                place="ashagi_seyfali"),
        Reading("(c)", "distance to the section facing Tovuz/Gadabay (Tavush)", "not_measurable",
                reason="Ashagi Seyfali is unlocated, so no distance from it can be measured"),
    ),
    "khndzoresk-12km-from-border": (
        Reading("(a)", "shortest distance from the village point to the line", "point_to_line", place="khndzoresk"),
        Reading("(b)", "distance from the village along the geodesic toward Lachin town (the corridor's namesake; "
                "the Hakari bridge checkpoint is unlocated) to where it meets the line", "toward_to_line",
                place="khndzoresk", toward="lachin"),
        Reading("(c)", "distance from the shootout site to the line", "not_measurable",
                reason="the shootout site is not located (only 'near Khndzoresk')"),
    ),
    "nakhchivan-25km-straight-line": (
        Reading("(a)", "narrowest straight-line gap between Nakhchivan and mainland Azerbaijan across Armenia",
                "territory_gap"),
        Reading("(b) goris", "distance from Goris to the nearest point of Nakhchivan", "point_to_territory",
                place="goris"),
        Reading("(b) khndzoresk", "distance from Khndzoresk to the nearest point of Nakhchivan",
                "point_to_territory", place="khndzoresk"),
        Reading("(b) ishkhanasar village", "distance from Ishkhanasar village to the nearest point of Nakhchivan",
                "point_to_territory", place="ishkhanasar_village"),
        Reading("(b) Mets Ishkhanasar", "distance from the Mets Ishkhanasar summit to the nearest point of "
                "Nakhchivan", "point_to_territory", place="mets_ishkhanasar"),
        Reading("(c)", "distance from the line at the Lachin corridor to Nakhchivan", "not_measurable",
                reason="the Lachin corridor has no geometry in the places layer"),
        Reading("(d)", "distance along a corridor route (road length)", "not_measurable",
                reason="the M2 road is unlocated, and 'in a straight line' argues against this reading"),
    ),
    "sev-lake-advance-3.5km": (
        Reading("(a)", "depth of Sev Lake (the place the advance was around) beyond the line into ARM",
                "advance_depth"),
        Reading("(b)", "distance moved from the previous Azerbaijani positions", "not_measurable",
                reason="the previous positions are not located in any source"),
    ),
    "sev-lake-advance-3km": (
        Reading("(a)", "depth of Sev Lake (the place the advance was around) beyond the line into ARM",
                "advance_depth"),
        Reading("(b)", "distance moved from the previous Azerbaijani positions", "not_measurable",
                reason="the previous positions are not located in any source"),
    ),
    "mets-ishkhanasar-3500m": (
        Reading("(a)", "highest cell of the case DEM near the summit", "dem_peak", place="mets_ishkhanasar"),
    ),
}
"""Structured readings of the bundled case's claims, labelled as in their ``readings`` text.

The ``readings`` column is prose; this table is how borderkit turns each reading into a
measurement (or states why it cannot). Claims not listed here get :func:`default_readings`."""


def rounding_step(value: float) -> float:
    """The rounding a stated figure implies: the largest ``1×10^k`` or ``5×10^k`` below it that divides it.

    Examples: 40 → 10, 25 → 5, 12 → 1, 10 → 5, 5 → 1, 3.5 → 0.5, 3 → 1, 3500 → 500. Half of
    it is the figure's rounding tolerance (so a round figure is read to at most ±25 %).
    """
    v = abs(float(value))
    if v == 0 or not math.isfinite(v):
        return 0.0
    for k in range(int(math.floor(math.log10(v))), -10, -1):
        for m in (5, 1):
            step = m * 10.0**k
            if step < v * (1 - 1e-12):
                q = v / step
                if abs(q - round(q)) < 1e-9 * max(1.0, q):
                    return step
    return 0.0


def claim_band(value_m: float, qualifier: str, *, rule: ToleranceRule | None = None,
               unit_m: float = 1.0, value: float | None = None) -> dict[str, Any]:
    """The range of true values a claim allows before measurement uncertainty is added.

    Parameters
    ----------
    value_m
        The claimed value in metres.
    qualifier
        The claim's qualifier (see :data:`QUALIFIERS`).
    rule
        Tolerance rule (default :class:`ToleranceRule`).
    unit_m, value
        Size of the claim's unit in metres and the value as stated (for the
        rounding step); default: the value in metres.

    Returns
    -------
    dict
        ``low_m``, ``high_m`` (``high_m`` may be ``inf``), ``rounding_m`` (half the
        rounding step), ``reading`` (approx/up_to/at_least/stated/unknown) and
        ``text`` explaining it.
    """
    rule = rule or ToleranceRule()
    q = " ".join(str(qualifier or "").lower().split())
    kind = QUALIFIERS.get(q, "unknown")
    stated = value_m / unit_m if value is None else float(value)
    r = 0.5 * rounding_step(stated) * unit_m
    if rule.absolute_m is not None:
        r = float(rule.absolute_m)
    if kind == "approx":
        t = max(r, rule.approx_fraction * value_m) if rule.absolute_m is None else r
        low, high = value_m - t, value_m + t
        text = f"'{q}': ±{t:g} m (the larger of the figure's rounding ±{r:g} m and {rule.approx_fraction:.0%})"
    elif kind == "up_to":
        low, high = 0.0, value_m + r
        text = f"'{q}': any value from 0 to the stated figure + its rounding ({r:g} m)"
    elif kind == "at_least":
        low, high = value_m - r, math.inf
        text = f"'{q}': the stated figure − its rounding ({r:g} m) or more"
    else:
        low, high = value_m - r, value_m + r
        text = (f"no precision qualifier{' (' + repr(q) + ' names the method)' if q else ''}: ±{r:g} m, "
                "the rounding the stated figure implies")
        if kind == "unknown":
            text = f"unrecognised qualifier {q!r}, read as none: ±{r:g} m (rounding of the figure)"
    return {"low_m": max(low, 0.0), "high_m": high, "rounding_m": r, "reading": kind, "text": text}


def _parse_reference(reference: str) -> tuple[str, Any]:
    ref = str(reference).strip()
    kind, _, rest = ref.partition(":")
    if kind == "border":
        parties = tuple(p.strip() for p in rest.split("|") if p.strip())
        return "border", parties
    if kind == "territory":
        party, _, part = rest.partition("/")
        return "territory", (party.strip(), part.strip())
    if ref == "dem":
        return "dem", None
    return "unknown", ref


def default_readings(claim: Mapping[str, Any]) -> list[Reading]:
    """One reading per claim from its quantity, subject and reference (for claims not in :data:`CASE_READINGS`)."""
    quantity = str(claim.get("quantity", ""))
    subject_kind, _, subject_id = str(claim.get("subject", "")).partition(":")
    ref_kind, _ = _parse_reference(str(claim.get("reference", "")))
    place = subject_id if subject_kind == "place" else ""
    if quantity == "elevation" and ref_kind == "dem":
        return [Reading("(a)", "highest DEM cell near the place", "dem_peak", place=place)]
    if quantity == "distance" and ref_kind == "border":
        return [Reading("(a)", "shortest distance from the subject to the line", "point_to_line", place=place)]
    if quantity == "distance" and ref_kind == "territory":
        return [Reading("(a)", "shortest distance from the subject to the territory", "point_to_territory",
                        place=place)]
    if quantity in ("advance_depth", "distance") and subject_kind == "incident" and ref_kind == "border":
        return [Reading("(a)", "depth of the incident's place beyond the line", "advance_depth")]
    return [Reading("(a)", "", "not_measurable",
                    reason=f"no measurement rule for quantity {quantity!r} against reference "
                    f"{claim.get('reference')!r}")]


_PARTY_NAMES = {"ARM": ("Armenia", "Armenian"), "AZE": ("Azerbaijan", "Azerbaijani")}


def _infer_into(texts: Sequence[str], parties: Sequence[str]) -> tuple[str | None, str]:
    """The party an advance went into, from wording such as 'toward Armenia' or "crossing Armenia's border"."""
    found: list[str] = []
    for t in texts:
        for p in parties:
            for name in _PARTY_NAMES.get(p, (p,)):
                n = re.escape(name)
                pattern = (rf"\b(?:toward|towards|into)\s+{n}\b"
                           rf"|\bcross(?:ed|ing)?\s+{n}'s\s+(?:state\s+)?(?:border|frontier)")
                if re.search(pattern, t, flags=re.IGNORECASE):
                    found.append(p)
    uniq = sorted(set(found))
    if len(uniq) == 1:
        return uniq[0], f"party advanced into: {uniq[0]} (from the wording of the claim/incident)"
    said = f" (the wording points to {' and '.join(uniq)})" if uniq else ""
    return None, (f"which party's side the advance went into is not stated unambiguously{said}; "
                  "pass advance_into={claim_id: party}")


def _rss(*values: float) -> float:
    return float(math.sqrt(sum(v * v for v in values if v is not None and math.isfinite(v))))


def evaluate_claims(
    case: Case | None = None,
    *,
    claims: pandas.DataFrame | None = None,
    sources: Iterable[str] | None = None,
    tolerance: ToleranceRule | float | None = None,
    readings: Mapping[str, Sequence[Reading]] | None = None,
    advance_into: Mapping[str, str] | None = None,
) -> pandas.DataFrame:
    """Evaluate every claim against every line source (heights against the DEM), under every reading.

    Parameters
    ----------
    case
        A :class:`~borderkit.datasets.Case` (default: the bundled case).
    claims
        Claims to evaluate (default: ``case.claims``).
    sources
        Line sources to measure against (default: all of the case).
    tolerance
        A :class:`ToleranceRule`, or a number of metres that replaces the
        qualifier/rounding part of every claim's tolerance. Default:
        ``ToleranceRule()``.
    readings
        ``{claim_id: [Reading, ...]}`` overriding :data:`CASE_READINGS` /
        :func:`default_readings`.
    advance_into
        ``{claim_id: party}`` for advance claims whose wording does not say which
        party's side the advance went into.

    Returns
    -------
    pandas.DataFrame
        One row per claim, reading and source: ``claim_id``, ``statement``,
        ``quantity``, ``qualifier``, ``reading``, ``reading_text``, ``source``
        (a line source, or the DEM's name), ``claimed_value``, ``claimed_unit``,
        ``claimed_m``, ``measured_m``, ``measured_value`` (in the claimed unit),
        ``difference_m`` (measured − claimed), ``rounding_m``, ``uncertainty_m``
        (line accuracy ⊕ point precision, or the DEM's vertical accuracy),
        ``accept_min_m``, ``accept_max_m`` (the band the measured value must fall
        in: the claim's band widened by the uncertainty), ``verdict``
        (``consistent`` / ``inconsistent`` / ``cannot be measured``), ``reason``,
        ``note``, ``tolerance_text``, ``method``, ``features``, ``from_lon``,
        ``from_lat``, ``to_lon``, ``to_lat``, ``source_verdict`` and
        ``claim_verdict`` (see :data:`VERDICTS`). ``attrs`` hold units and method.

    Notes
    -----
    Verdict rule: ``consistent`` when ``accept_min_m <= measured_m <= accept_max_m``,
    where the band is :func:`claim_band` widened on both sides by
    ``uncertainty_m = sqrt(line_accuracy² + point_precision²)`` (two line
    accuracies for a gap between two lines of one source). ``consistent`` means
    "not contradicted by this source at this tolerance", not "confirmed".
    """
    import pandas as pd

    from borderkit import measure as M

    if case is None:
        from borderkit import datasets

        case = datasets.load()
    cl = validate_claims(case.claims if claims is None else claims)
    rule = tolerance if isinstance(tolerance, ToleranceRule) else (
        ToleranceRule(absolute_m=float(tolerance)) if tolerance is not None else ToleranceRule())
    all_sources = sorted(set(case.lines["source"]))
    if sources is not None:
        wanted = [sources] if isinstance(sources, str) else list(sources)
        unknown = [s for s in wanted if s not in all_sources]
        if unknown:
            raise ValidationError(f"unknown line source(s) {unknown}; available: {', '.join(all_sources)}")
        line_sources = sorted(wanted)
    else:
        line_sources = all_sources
    lines = case.lines[case.lines["source"].isin(line_sources)]
    places = case.places.set_index("place_id", drop=False)
    incidents = case.incidents.set_index("incident_id", drop=False)
    reading_map = dict(CASE_READINGS)
    if readings:
        reading_map.update({k: tuple(v) for k, v in readings.items()})

    rows: list[dict[str, Any]] = []

    def place_info(pid: str) -> tuple[tuple[float, float] | None, float, str, str]:
        """(lon, lat) or None, precision, label, reason."""
        if pid not in places.index:
            return None, math.nan, pid, f"place {pid!r} is not in the places layer"
        row = places.loc[pid]
        g = row.geometry
        kind = str(row["kind"])
        if g is None or getattr(g, "is_empty", True):
            note = str(row.get("notes", "") or "").split(". ")[0]
            return None, math.nan, pid, f"{row['name_en']} ({pid}) is unlocated in the places layer" + (
                f" — {note}" if note else "")
        prec = float(rule.place_precision_m.get(kind, math.nan))
        if not math.isfinite(prec):
            return None, math.nan, pid, f"{row['name_en']} ({pid}) is a {kind} without a usable point"
        if g.geom_type != "Point":
            g = g.representative_point()
        return (float(g.x), float(g.y)), prec, f"place:{pid} {row['name_en']} ({g.y:.5f}N {g.x:.5f}E, ±{prec:g} m)", ""

    for _, c in cl.iterrows():
        cid = str(c["claim_id"])
        unit_m = UNITS_TO_METRES[str(c["claimed_unit"])]
        claimed_m = float(c["claimed_value"]) * unit_m
        band = claim_band(claimed_m, str(c["qualifier"]), rule=rule, unit_m=unit_m, value=float(c["claimed_value"]))
        ref_kind, ref = _parse_reference(str(c["reference"]))
        subject_kind, _, subject_id = str(c["subject"]).partition(":")
        base = {
            "claim_id": cid, "statement": str(c["statement"]), "quantity": str(c["quantity"]),
            "qualifier": str(c["qualifier"]), "claimed_value": float(c["claimed_value"]),
            "claimed_unit": str(c["claimed_unit"]), "claimed_m": claimed_m, "rounding_m": band["rounding_m"],
            "tolerance_text": band["text"],
        }
        rlist = list(reading_map.get(cid, default_readings(c)))

        def emit(reading: Reading, source: str, measured_m: float | None, uncertainty_m: float, method: str,
                 features: str, reason: str = "", note: str = "", frm: tuple[float, float] | None = None,
                 to: tuple[float, float] | None = None, reach: bool = False, *, base: dict[str, Any] = base,
                 band: dict[str, Any] = band, unit_m: float = unit_m, claimed_m: float = claimed_m) -> None:
            row: dict[str, Any] = dict(base)
            row.update({"reading": reading.label, "reading_text": reading.text, "source": source,
                        "method": method, "features": features, "note": note,
                        "from_lon": frm[0] if frm else math.nan, "from_lat": frm[1] if frm else math.nan,
                        "to_lon": to[0] if to else math.nan, "to_lat": to[1] if to else math.nan})
            if measured_m is None or not math.isfinite(measured_m):
                row.update({"measured_m": math.nan, "measured_value": math.nan, "difference_m": math.nan,
                            "uncertainty_m": math.nan, "accept_min_m": math.nan, "accept_max_m": math.nan,
                            "verdict": "cannot be measured", "reason": reason or "not measurable"})
            else:
                lo = band["low_m"] - uncertainty_m
                hi = band["high_m"] + uncertainty_m
                if band["reading"] == "up_to" or reach:
                    # "up to" admits anything from no advance at all; a place's depth (reach=True) only bounds the
                    # advance from below: consistent when an advance of the claimed depth reaches the place
                    lo = -uncertainty_m
                ok = lo <= measured_m <= hi
                row.update({"measured_m": measured_m, "measured_value": measured_m / unit_m,
                            "difference_m": measured_m - claimed_m, "uncertainty_m": uncertainty_m,
                            "accept_min_m": lo, "accept_max_m": hi,
                            "verdict": "consistent" if ok else "inconsistent", "reason": reason})
            rows.append(row)

        for rd in rlist:
            if rd.kind not in _READING_KINDS:
                raise ValidationError(f"claim {cid!r}: unknown reading kind {rd.kind!r}; use one of {_READING_KINDS}")
            n_before = len(rows)
            try:
                if rd.kind == "not_measurable":
                    for src in line_sources if ref_kind != "dem" else ["dem"]:
                        emit(rd, src, None, math.nan, "", "", reason=rd.reason)
                    continue
                if rd.kind == "dem_peak":
                    pid = rd.place or subject_id
                    xy, prec, label, why = place_info(pid)
                    src_name = f"dem:{Path(str(case.dem)).name}"
                    if xy is None:
                        emit(rd, src_name, None, math.nan, "", "", reason=why)
                        continue
                    try:
                        from borderkit.terrain.peaks import peak_check

                        pk = peak_check(pid, places=case.places, dem=case.dem)
                    except ImportError as exc:  # rasterio missing
                        emit(rd, src_name, None, math.nan, "", "", reason=f"the DEM cannot be read here ({exc})")
                        continue
                    acc = pk["dem"].get("vertical_accuracy_m")
                    src_name = f"dem:{pk['dem']['name']}"
                    note = (f"DEM cell {pk['dem']['resolution_m']:.0f} m; the places layer cites "
                            f"{pk['reported_m']:g} m ({pk['reported_source']}). " if pk.get("reported_m") else "")
                    note += "A coarse DEM reads below a sharp summit (see borderkit peak)."
                    emit(rd, src_name, float(pk["dem_max_m"]), float(acc) if acc is not None else 0.0,
                         "highest DEM cell within " + f"{pk['search_radius_m']:.0f} m of the place (borderkit.terrain."
                         "peaks.peak_check); uncertainty = the DEM's stated vertical accuracy",
                         f"{label}; {pk['dem']['name']}", note=note,
                         frm=xy, to=(pk["dem_max_at"]["lon"], pk["dem_max_at"]["lat"]))
                    continue

                if rd.kind == "advance_depth":
                    # the point: the incident's place (not the incident radius, which includes the claimed depth)
                    if subject_kind == "incident":
                        if subject_id not in incidents.index:
                            for src in line_sources:
                                emit(rd, src, None, math.nan, "", "", reason=f"incident {subject_id!r} not found")
                            continue
                        inc = incidents.loc[subject_id]
                        if "anchor" in str(inc["description"]).lower():
                            for src in line_sources:
                                emit(rd, src, None, math.nan, "", "", reason=(
                                    f"incident {subject_id}'s point is an anchor, not the place the report names"))
                            continue
                        pid = rd.place or str(inc["place_id"])
                        texts = [str(c["readings"]), str(c["notes"]), str(inc["description"]), str(c["statement"])]
                        inc_note = (f"the incident's precision_m ({inc['precision_m']:g} m) is not used as tolerance: "
                                    "it is set to cover the reported depth itself, which would make the test circular; "
                                    "the place's own precision is used")
                    else:
                        pid = rd.place or subject_id
                        texts = [str(c["readings"]), str(c["notes"]), str(c["statement"])]
                        inc_note = ""
                    xy, prec, label, why = place_info(pid)
                    parties = ref if ref_kind == "border" else ()
                    into = (advance_into or {}).get(cid)
                    into_text = f"party advanced into: {into} (given)" if into else ""
                    if into is None:
                        into, into_text = _infer_into(texts, parties)
                    if xy is None or into is None or ref_kind != "border":
                        for src in line_sources:
                            emit(rd, src, None, math.nan, "", "", reason=why or into_text or
                                 f"reference {c['reference']!r} is not a border")
                        continue
                    d = M.distance_to_lines(xy[0], xy[1], lines=lines, pair=parties, into=into)
                    for r in d.itertuples(index=False):
                        note = [into_text]
                        if r.in_gap:
                            note.append(f"{r.source} leaves a gap in its line here (e.g. water outside its land "
                                        f"polygons): the nearest drawn point is the gap's edge; across the gap the "
                                        f"place lies {r.bridged_distance_m:.0f} m from a straight bridge")
                        if abs(r.depth_m) <= _rss(r.accuracy_m, prec):
                            note.append("the place lies within the uncertainty of the line: this measurement cannot "
                                        "tell an advance to it from no crossing at all")
                        if inc_note:
                            note.append(inc_note)
                        note.append("the place is where the advance went, not how far it went: its depth only bounds "
                                    "the advance from below, so the accepted range runs from the line (minus the "
                                    "uncertainty) to the claimed depth plus its tolerance")
                        emit(rd, r.source, float(r.depth_m), _rss(r.accuracy_m, prec),
                             "signed geodesic distance (WGS84) from the place to the nearest section of the line; "
                             f"positive = on {into}'s side (beyond the line into {into})",
                             f"{label}; line {r.line_id}", note="; ".join(n for n in note if n),
                             frm=xy, to=(r.nearest_lon, r.nearest_lat), reach=True)
                    continue

                pid = rd.place or (subject_id if subject_kind == "place" else "")
                if rd.kind in ("point_to_line", "toward_to_line"):
                    xy, prec, label, why = (place_info(pid) if pid else
                                            (None, math.nan, "", "the subject is not a place"))
                    if xy is None or ref_kind != "border":
                        for src in line_sources:
                            emit(rd, src, None, math.nan, "", "",
                                 reason=why or f"reference {c['reference']!r} is not a border")
                        continue
                    if rd.kind == "point_to_line":
                        d = M.distance_to_lines(xy[0], xy[1], lines=lines, pair=ref)
                        for r in d.itertuples(index=False):
                            note = f"the place is on the {r.party} side of this line"
                            if r.at_line_end:
                                note += " (extrapolated: the nearest point is where this source's line stops)"
                            if r.in_gap:
                                note += f"; the nearest point is the edge of a gap in the drawn line ({r.source})"
                            emit(rd, r.source, float(r.distance_m), _rss(r.accuracy_m, prec),
                                 "geodesic distance (WGS84) from the place to the nearest point of the source's line",
                                 f"{label}; line {r.line_id}", note=note, frm=xy, to=(r.nearest_lon, r.nearest_lat))
                    else:
                        txy, _, tlabel, twhy = place_info(rd.toward)
                        if txy is None:
                            for src in line_sources:
                                emit(rd, src, None, math.nan, "", "", reason=twhy)
                            continue
                        d = M.distance_toward(xy[0], xy[1], txy[0], txy[1], lines=lines, pair=ref)
                        acc = lines.groupby("source")["scale_or_accuracy_m"].max()
                        for r in d.itertuples(index=False):
                            emit(rd, r.source, float(r.distance_m), _rss(float(acc[r.source]), prec),
                                 f"geodesic distance (WGS84) from the place along azimuth {r.azimuth_deg:.1f}° (toward "
                                 f"{rd.toward}) to where it first meets the line",
                                 f"{label}; toward {tlabel}; line {r.line_id}",
                                 reason="" if math.isfinite(r.distance_m) else "the geodesic meets no line before the "
                                 "target",
                                 note="the crossing is on a bridged gap of the drawn line" if r.in_gap else "",
                                 frm=xy, to=(r.crossing_lon, r.crossing_lat))
                    continue

                if rd.kind in ("territory_gap", "point_to_territory"):
                    if ref_kind != "territory":
                        for src in line_sources:
                            emit(rd, src, None, math.nan, "", "",
                                 reason=f"reference {c['reference']!r} is not a territory")
                        continue
                    party, part = ref
                    part_xy = None
                    if part:
                        part_xy, _, _, _ = place_info(part)
                        if part_xy is None and part == "nakhchivan":
                            part_xy = M.NAKHCHIVAN_CITY
                    if rd.kind == "territory_gap":
                        if part_xy is None:
                            for src in line_sources:
                                emit(rd, src, None, math.nan, "", "",
                                     reason=f"territory part {part!r} cannot be located")
                            continue
                        has_t = set(case.territories.loc[case.territories["party"] == party, "source"])
                        has_l = set(lines.loc[lines["section"] == part, "source"]) & set(
                            lines.loc[lines["section"] == "mainland", "source"])
                        usable = [s for s in line_sources if s in has_t | has_l]
                        cw = M.corridor_width(case.territories, lines=lines, party=party, part_a_at=part_xy,
                                              sections=(part, "mainland"), sources=usable) if usable else pd.DataFrame(
                            columns=["source"])
                        for src in sorted(set(line_sources) - set(cw["source"])):
                            emit(rd, src, None, math.nan, "", "", reason=(
                                f"{src} has neither a {party} territory nor '{part}' and 'mainland' line sections"))
                        for r in cw.itertuples(index=False):
                            acc = float(r.accuracy_m)
                            emit(rd, r.source, float(r.distance_m), _rss(acc, acc),
                                 f"narrowest geodesic gap (WGS84) between {party}/{part} and {party}'s largest part, "
                                 f"from the source's {r.method}; uncertainty = two line accuracies in quadrature",
                                 f"{r.method}: {r.part_a} ↔ {r.part_b}", note=f"nearest points "
                                 f"{r.a_lat:.5f}N {r.a_lon:.5f}E ↔ {r.b_lat:.5f}N {r.b_lon:.5f}E",
                                 frm=(r.a_lon, r.a_lat), to=(r.b_lon, r.b_lat))
                    else:
                        xy, prec, label, why = (place_info(pid) if pid else
                                                (None, math.nan, "", "the subject is not a place"))
                        if xy is None:
                            for src in line_sources:
                                emit(rd, src, None, math.nan, "", "", reason=why)
                            continue
                        has_t = set(case.territories.loc[case.territories["party"] == party, "source"])
                        has_l = set(lines.loc[lines["section"] == part, "source"]) if part else set()
                        usable = [s for s in line_sources if s in has_t | has_l]
                        d = M.distance_to_territory(xy[0], xy[1], territories=case.territories, party=party,
                                                    part_at=part_xy, part_west_of_lon=M.NAKHCHIVAN_WEST_OF_LON,
                                                    lines=lines, section=part or None,
                                                    sources=usable) if usable else pd.DataFrame(columns=["source"])
                        for src in sorted(set(line_sources) - set(d["source"])):
                            emit(rd, src, None, math.nan, "", "", reason=(
                                f"{src} has neither a {party} territory nor a '{part}' line section"))
                        for r in d.itertuples(index=False):
                            emit(rd, r.source, float(r.distance_m), _rss(float(r.accuracy_m), prec), r.method,
                                 f"{label}; {party}/{part}", frm=xy, to=(r.nearest_lon, r.nearest_lat))
                    continue
            except BorderkitError as exc:  # data that cannot support this reading: say so, keep going
                del rows[n_before:]
                for src in line_sources if ref_kind != "dem" else ["dem"]:
                    emit(rd, src, None, math.nan, "", "", reason=str(exc))

    table = pd.DataFrame(rows)
    # per source, then per claim
    def per_source(v: pd.Series) -> str:
        measured = [x for x in v if x != "cannot be measured"]
        if not measured:
            return "cannot be measured"
        if all(x == "consistent" for x in measured):
            return "consistent"
        if all(x == "inconsistent" for x in measured):
            return "inconsistent"
        return "depends on reading"

    sv = table.groupby(["claim_id", "source"], sort=False)["verdict"].agg(per_source)
    table["source_verdict"] = [sv[(a, b)] for a, b in zip(table["claim_id"], table["source"], strict=True)]

    def per_claim(v: pd.Series) -> str:
        vals = set(v)
        measured = vals - {"cannot be measured"}
        if not measured:
            return "cannot be measured"
        if len(measured) == 1:
            return measured.pop()
        return "depends on source"

    cv = sv.groupby(level=0, sort=False).agg(per_claim)
    table["claim_verdict"] = table["claim_id"].map(cv)
    cols = ["claim_id", "statement", "quantity", "qualifier", "reading", "reading_text", "source", "claimed_value",
            "claimed_unit", "claimed_m", "measured_m", "measured_value", "difference_m", "rounding_m",
            "uncertainty_m", "accept_min_m", "accept_max_m", "verdict", "reason", "note", "tolerance_text", "method",
            "features", "from_lon", "from_lat", "to_lon", "to_lat", "source_verdict", "claim_verdict"]
    table = table[cols]
    table.attrs["units"] = "metres (geodesic, WGS84) unless claimed_unit says otherwise; heights m above MSL"
    table.attrs["method"] = ("each reading measured per line source (heights on the DEM); consistent when "
                             "accept_min_m <= measured_m <= accept_max_m (claim band widened by uncertainty_m)")
    return table


def claims_report(table: pandas.DataFrame, claims: pandas.DataFrame | None = None) -> list[dict[str, Any]]:
    """The JSON of ``borderkit claims --json`` from an :func:`evaluate_claims` table.

    Returns
    -------
    list of dict
        One per claim: ``claim_id``, ``statement``, ``quantity``, ``qualifier``,
        ``claimed`` ``{value, unit, metres}``, ``measured`` (one entry per source
        and measured reading: ``source``, ``reading``, ``value``, ``unit``,
        ``value_m``, ``difference``, ``method``, ``verdict``, ``accept``
        ``{min, max}`` (in the claimed unit), ``uncertainty_m``, ``features``,
        ``from``/``to`` ``{lat, lon}``, ``note``), ``not_measured`` (``source``,
        ``reading``, ``reason``), ``readings`` (``label``, ``text``, ``measured``),
        ``ambiguous`` (more than one measured reading), ``verdict``,
        ``verdict_by_source``, ``tolerance``.
    """

    def num(x: Any) -> float | None:
        x = float(x)
        return x if math.isfinite(x) else None

    def pt(lon: Any, lat: Any) -> dict[str, float] | None:
        lo, la = num(lon), num(lat)
        return None if lo is None or la is None else {"lat": la, "lon": lo}

    out = []
    for cid, g in table.groupby("claim_id", sort=False):
        first = g.iloc[0]
        unit = str(first["claimed_unit"])
        per_m = UNITS_TO_METRES[unit]
        measured = []
        not_measured = []
        for _, r in g.iterrows():
            if r["verdict"] == "cannot be measured":
                not_measured.append({"source": r["source"], "reading": r["reading"], "reason": r["reason"]})
                continue
            hi = num(r["accept_max_m"])
            measured.append({
                "source": r["source"], "reading": r["reading"], "value": float(r["measured_value"]), "unit": unit,
                "value_m": float(r["measured_m"]), "difference": float(r["difference_m"]) / per_m,
                "method": r["method"], "verdict": r["verdict"],
                "accept": {"min": float(r["accept_min_m"]) / per_m, "max": None if hi is None else hi / per_m},
                "uncertainty_m": float(r["uncertainty_m"]), "features": r["features"],
                "from": pt(r["from_lon"], r["from_lat"]), "to": pt(r["to_lon"], r["to_lat"]), "note": r["note"],
            })
        labels = list(dict.fromkeys(g["reading"]))
        readings = []
        for lab in labels:
            sub = g[g["reading"] == lab]
            readings.append({"label": lab, "text": str(sub["reading_text"].iloc[0]),
                             "measured": bool((sub["verdict"] != "cannot be measured").any())})
        by_source = {str(s): str(v) for s, v in g.groupby("source", sort=True)["source_verdict"].first().items()}
        out.append({
            "claim_id": cid, "statement": first["statement"], "quantity": first["quantity"],
            "qualifier": first["qualifier"],
            "claimed": {"value": float(first["claimed_value"]), "unit": unit, "metres": float(first["claimed_m"])},
            "measured": measured, "not_measured": not_measured, "readings": readings,
            "ambiguous": sum(1 for r in readings if r["measured"]) > 1,
            "verdict": first["claim_verdict"], "verdict_by_source": by_source,
            "tolerance": first["tolerance_text"],
        })
    return out
