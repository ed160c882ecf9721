"""Structured claims: the numbers that reports state ("advanced up to 3.5 km"), and their evaluation.

A claim names what is measured (``quantity``), the value and unit the source
states, what it is about (``subject``) and against what (``reference``).
:func:`read_claims` / :func:`validate_claims` read and check them;
:func:`evaluate_claims` measures every claim against every line source (or the
DEM, for heights) under each plausible reading and gives a verdict with a stated
tolerance; :func:`claims_report` turns that table into the JSON of
``borderkit claims --json``. Method and tolerances: ``docs/measure.md``.

Claims are above cases in the layers: :func:`evaluate_claims` takes a
:class:`~borderkit.cases.Case`, whose case file says how each claim can be read
(``[[readings."<claim_id>"]]``), what the parties are called and which part of a
territory a reference names; the library holds no case ids. Reading and
validating the claims file is :mod:`borderkit.claimsfile` (re-exported here).
This module imports only the standard library at import time; numpy, pandas and
the measurement modules are imported by :func:`evaluate_claims`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.claimsfile import (
    QUANTITIES,
    READING_KINDS,
    UNITS_TO_METRES,
    Reading,
    read_claims,
    validate_claims,
)
from borderkit.errors import BorderkitError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from borderkit.cases import Case

__all__ = [
    "read_claims",
    "validate_claims",
    "evaluate_claims",
    "claims_report",
    "claim_band",
    "rounding_step",
    "default_readings",
    "Reading",
    "READING_KINDS",
    "EVALUATORS",
    "infer_into",
    "ToleranceRule",
    "PLACE_PRECISION_M",
    "QUALIFIERS",
    "VERDICTS",
    "QUANTITIES",
    "UNITS_TO_METRES",
]

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


@cache
def _default_case_readings() -> dict[str, tuple[Reading, ...]]:
    from borderkit.cases import case_config

    return dict(case_config().readings)


def __getattr__(name: str) -> Any:
    # CASE_READINGS is case data now (the case file's [[readings."<claim_id>"]] tables); the old module
    # attribute stays readable and gives the bundled case's readings
    if name == "CASE_READINGS":
        return _default_case_readings()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    """One reading per claim from its quantity, subject and reference (for claims the case file does not read)."""
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


def infer_into(
    texts: Sequence[str], parties: Sequence[str], party_names: Mapping[str, Sequence[str]] | None = None
) -> tuple[str | None, str]:
    """The party an advance went into, from wording such as 'toward Armenia' or "crossing Armenia's border".

    Parameters
    ----------
    texts
        The claim's and incident's texts.
    parties
        Candidate party codes (the claim's reference).
    party_names
        Code → names reports use for the party (the case file's ``[parties.*] names``);
        a code without names is matched as itself.

    Returns
    -------
    (str or None, str)
        The party (``None`` when the wording names none or several) and a note saying so.

    Examples
    --------
    >>> infer_into(["Forces advanced toward Ruritania"], ["RUR", "GRA"], {"RUR": ["Ruritania"]})[0]
    'RUR'
    """
    names = party_names or {}
    found: list[str] = []
    for t in texts:
        for p in parties:
            for name in names.get(p) or (p,):
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


# -------------------------------------------------------------------------------------------------
# evaluation context: what every reading of every claim needs
# -------------------------------------------------------------------------------------------------
@dataclass
class _Context:
    """The case, the chosen line sources and the rules shared by every claim (internal)."""

    case: Any
    config: Any
    lines: Any
    line_sources: list[str]
    places: Any
    incidents: Any
    rule: ToleranceRule
    advance_into: Mapping[str, str]
    party_names: Mapping[str, Sequence[str]]

    def place_info(self, pid: str) -> tuple[tuple[float, float] | None, float, str, str]:
        """(lon, lat) or None, precision, label, reason."""
        places = self.places
        if pid not in places.index:
            return None, math.nan, pid, f"place {pid!r} is not in the places layer"
        row = places.loc[pid]
        g = row.geometry
        kind = str(row["kind"])
        if g is None or getattr(g, "is_empty", True):
            note = str(row.get("notes", "") or "").split(". ")[0]
            return None, math.nan, pid, f"{row['name_en']} ({pid}) is unlocated in the places layer" + (
                f" — {note}" if note else "")
        prec = float(self.rule.place_precision_m.get(kind, math.nan))
        if not math.isfinite(prec):
            return None, math.nan, pid, f"{row['name_en']} ({pid}) is a {kind} without a usable point"
        if g.geom_type != "Point":
            g = g.representative_point()
        return (float(g.x), float(g.y)), prec, f"place:{pid} {row['name_en']} ({g.y:.5f}N {g.x:.5f}E, ±{prec:g} m)", ""

    def part(self, party: str, part: str) -> tuple[tuple[float, float] | None, float | None, str, str]:
        """A territory part named by a reference: ((lon, lat) or None, west_of_lon, its section, main section).

        The case file's ``[parts.<part>]`` says which place (or point) lies in it and
        which line section bounds it; the party's ``largest = true`` part is the
        other side of a gap (its section, e.g. ``mainland``).
        """
        rule = self.config.parts.get(part) if part else None
        xy = None
        if part:
            xy, _, _, _ = self.place_info(rule.place if rule is not None and rule.place else part)
            if xy is None and rule is not None and rule.at is not None:
                xy = rule.at
        main = next((p for p in self.config.parts.values() if p.party == party and p.largest), None)
        return (xy, rule.west_of_lon if rule is not None else None,
                (rule.section if rule is not None and rule.section else part), main.section if main else "")


@dataclass
class _Claim:
    """One claim being evaluated: its parsed fields, its band and the rows emitted for it (internal)."""

    ctx: _Context
    record: Any
    rows: list[dict[str, Any]]
    cid: str = ""
    base: dict[str, Any] = field(default_factory=dict)
    band: dict[str, Any] = field(default_factory=dict)
    unit_m: float = 1.0
    claimed_m: float = 0.0
    ref_kind: str = ""
    ref: Any = None
    subject_kind: str = ""
    subject_id: str = ""

    def __post_init__(self) -> None:
        c = self.record
        self.cid = str(c["claim_id"])
        self.unit_m = UNITS_TO_METRES[str(c["claimed_unit"])]
        self.claimed_m = float(c["claimed_value"]) * self.unit_m
        self.band = claim_band(self.claimed_m, str(c["qualifier"]), rule=self.ctx.rule, unit_m=self.unit_m,
                               value=float(c["claimed_value"]))
        self.ref_kind, self.ref = _parse_reference(str(c["reference"]))
        self.subject_kind, _, self.subject_id = str(c["subject"]).partition(":")
        self.base = {
            "claim_id": self.cid, "statement": str(c["statement"]), "quantity": str(c["quantity"]),
            "qualifier": str(c["qualifier"]), "claimed_value": float(c["claimed_value"]),
            "claimed_unit": str(c["claimed_unit"]), "claimed_m": self.claimed_m,
            "rounding_m": self.band["rounding_m"], "tolerance_text": self.band["text"],
        }

    @property
    def targets(self) -> list[str]:
        """What a reading of this claim is measured against: the line sources, or the DEM."""
        return self.ctx.line_sources if self.ref_kind != "dem" else ["dem"]

    def emit(self, reading: Reading, source: str, measured_m: float | None, uncertainty_m: float, method: str,
             features: str, reason: str = "", note: str = "", frm: tuple[float, float] | None = None,
             to: tuple[float, float] | None = None, reach: bool = False) -> None:
        """Append one row: the measurement, its acceptance band and verdict (or why it cannot be measured)."""
        band = self.band
        row: dict[str, Any] = dict(self.base)
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
            row.update({"measured_m": measured_m, "measured_value": measured_m / self.unit_m,
                        "difference_m": measured_m - self.claimed_m, "uncertainty_m": uncertainty_m,
                        "accept_min_m": lo, "accept_max_m": hi,
                        "verdict": "consistent" if ok else "inconsistent", "reason": reason})
        self.rows.append(row)

    def cannot(self, reading: Reading, reason: str, targets: Iterable[str] | None = None) -> None:
        """One 'cannot be measured' row per target (default: every line source), with the reason."""
        for src in self.ctx.line_sources if targets is None else targets:
            self.emit(reading, src, None, math.nan, "", "", reason=reason)

    def subject_place(self, rd: Reading) -> tuple[tuple[float, float] | None, float, str, str]:
        """The reading's place (default: the claim's subject when it is a place)."""
        pid = rd.place or (self.subject_id if self.subject_kind == "place" else "")
        return self.ctx.place_info(pid) if pid else (None, math.nan, "", "the subject is not a place")


# -------------------------------------------------------------------------------------------------
# one function per reading kind
# -------------------------------------------------------------------------------------------------
def _eval_not_measurable(cl: _Claim, rd: Reading) -> None:
    cl.cannot(rd, rd.reason, cl.targets)


def _eval_dem_peak(cl: _Claim, rd: Reading) -> None:
    """Highest DEM cell near a peak (borderkit.terrain.peaks.peak_check) against a stated height."""
    case = cl.ctx.case
    pid = rd.place or cl.subject_id
    xy, _, label, why = cl.ctx.place_info(pid)
    src_name = f"dem:{Path(str(case.dem)).name}"
    if xy is None:
        cl.emit(rd, src_name, None, math.nan, "", "", reason=why)
        return
    try:
        from borderkit.terrain.peaks import peak_check

        pk = peak_check(pid, places=case.places, dem=case.dem)
    except ImportError as exc:  # rasterio missing
        cl.emit(rd, src_name, None, math.nan, "", "", reason=f"the DEM cannot be read here ({exc})")
        return
    acc = pk["dem"].get("vertical_accuracy_m")
    src_name = f"dem:{pk['dem']['name']}"
    note = (f"DEM cell {pk['dem']['resolution_m']:.0f} m; the places layer cites "
            f"{pk['reported_m']:g} m ({pk['reported_source']}). " if pk.get("reported_m") else "")
    note += "A coarse DEM reads below a sharp summit (see borderkit peak)."
    cl.emit(rd, src_name, float(pk["dem_max_m"]), float(acc) if acc is not None else 0.0,
            "highest DEM cell within " + f"{pk['search_radius_m']:.0f} m of the place (borderkit.terrain."
            "peaks.peak_check); uncertainty = the DEM's stated vertical accuracy",
            f"{label}; {pk['dem']['name']}", note=note,
            frm=xy, to=(pk["dem_max_at"]["lon"], pk["dem_max_at"]["lat"]))


def _eval_advance_depth(cl: _Claim, rd: Reading) -> None:
    """Signed depth of the subject's place beyond the line into the party advanced into."""
    from borderkit.measure import distance_to_lines

    ctx, c = cl.ctx, cl.record
    # the point: the incident's place (not the incident radius, which includes the claimed depth)
    if cl.subject_kind == "incident":
        if cl.subject_id not in ctx.incidents.index:
            cl.cannot(rd, f"incident {cl.subject_id!r} not found")
            return
        inc = ctx.incidents.loc[cl.subject_id]
        if "anchor" in str(inc["description"]).lower():
            cl.cannot(rd, f"incident {cl.subject_id}'s point is an anchor, not the place the report names")
            return
        pid = rd.place or str(inc["place_id"])
        texts = [str(c["readings"]), str(c["notes"]), str(inc["description"]), str(c["statement"])]
        inc_note = (f"the incident's precision_m ({inc['precision_m']:g} m) is not used as tolerance: "
                    "it is set to cover the reported depth itself, which would make the test circular; "
                    "the place's own precision is used")
    else:
        pid = rd.place or cl.subject_id
        texts = [str(c["readings"]), str(c["notes"]), str(c["statement"])]
        inc_note = ""
    xy, prec, label, why = ctx.place_info(pid)
    parties = cl.ref if cl.ref_kind == "border" else ()
    into = ctx.advance_into.get(cl.cid)
    into_text = f"party advanced into: {into} (given)" if into else ""
    if into is None:
        into, into_text = infer_into(texts, parties, ctx.party_names)
    if xy is None or into is None or cl.ref_kind != "border":
        cl.cannot(rd, why or into_text or f"reference {c['reference']!r} is not a border")
        return
    d = distance_to_lines(xy[0], xy[1], lines=ctx.lines, pair=parties, into=into)
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
        cl.emit(rd, r.source, float(r.depth_m), _rss(r.accuracy_m, prec),
                "signed geodesic distance (WGS84) from the place to the nearest section of the line; "
                f"positive = on {into}'s side (beyond the line into {into})",
                f"{label}; line {r.line_id}", note="; ".join(n for n in note if n),
                frm=xy, to=(r.nearest_lon, r.nearest_lat), reach=True)


def _eval_point_to_line(cl: _Claim, rd: Reading) -> None:
    """Shortest geodesic distance from a place to each source's line."""
    from borderkit.measure import distance_to_lines

    xy, prec, label, why = cl.subject_place(rd)
    if xy is None or cl.ref_kind != "border":
        cl.cannot(rd, why or f"reference {cl.record['reference']!r} is not a border")
        return
    d = distance_to_lines(xy[0], xy[1], lines=cl.ctx.lines, pair=cl.ref)
    for r in d.itertuples(index=False):
        note = f"the place is on the {r.party} side of this line"
        if r.at_line_end:
            note += " (extrapolated: the nearest point is where this source's line stops)"
        if r.in_gap:
            note += f"; the nearest point is the edge of a gap in the drawn line ({r.source})"
        cl.emit(rd, r.source, float(r.distance_m), _rss(r.accuracy_m, prec),
                "geodesic distance (WGS84) from the place to the nearest point of the source's line",
                f"{label}; line {r.line_id}", note=note, frm=xy, to=(r.nearest_lon, r.nearest_lat))


def _eval_toward_to_line(cl: _Claim, rd: Reading) -> None:
    """Distance from a place along the geodesic toward another place to where it meets the line."""
    from borderkit.measure import distance_toward

    ctx = cl.ctx
    xy, prec, label, why = cl.subject_place(rd)
    if xy is None or cl.ref_kind != "border":
        cl.cannot(rd, why or f"reference {cl.record['reference']!r} is not a border")
        return
    txy, _, tlabel, twhy = ctx.place_info(rd.toward)
    if txy is None:
        cl.cannot(rd, twhy)
        return
    d = distance_toward(xy[0], xy[1], txy[0], txy[1], lines=ctx.lines, pair=cl.ref)
    acc = ctx.lines.groupby("source")["scale_or_accuracy_m"].max()
    for r in d.itertuples(index=False):
        cl.emit(rd, r.source, float(r.distance_m), _rss(float(acc[r.source]), prec),
                f"geodesic distance (WGS84) from the place along azimuth {r.azimuth_deg:.1f}° (toward "
                f"{rd.toward}) to where it first meets the line",
                f"{label}; toward {tlabel}; line {r.line_id}",
                reason="" if math.isfinite(r.distance_m) else "the geodesic meets no line before the target",
                note="the crossing is on a bridged gap of the drawn line" if r.in_gap else "",
                frm=xy, to=(r.crossing_lon, r.crossing_lat))


def _eval_territory_gap(cl: _Claim, rd: Reading) -> None:
    """Narrowest gap between the referenced part of a territory and the party's largest part."""
    import pandas as pd

    from borderkit.measure import corridor_width

    ctx = cl.ctx
    if cl.ref_kind != "territory":
        cl.cannot(rd, f"reference {cl.record['reference']!r} is not a territory")
        return
    party, part = cl.ref
    part_xy, west, section_a, section_b = ctx.part(party, part)
    if part_xy is None:
        cl.cannot(rd, f"territory part {part!r} cannot be located")
        return
    lines, terr = ctx.lines, ctx.case.territories
    has_t = set(terr.loc[terr["party"] == party, "source"])
    has_l = (set(lines.loc[lines["section"] == section_a, "source"])
             & set(lines.loc[lines["section"] == section_b, "source"])) if section_b else set()
    usable = [s for s in ctx.line_sources if s in has_t | has_l]
    cw = corridor_width(terr, lines=lines, party=party, part_a_at=part_xy, part_a_west_of_lon=west,
                        sections=(section_a, section_b) if section_b else None,
                        sources=usable) if usable else pd.DataFrame(columns=["source"])
    for src in sorted(set(ctx.line_sources) - set(cw["source"])):
        main = f"'{section_b}'" if section_b else "a main-part"
        cl.emit(rd, src, None, math.nan, "", "", reason=(
            f"{src} has neither a {party} territory nor '{part}' and {main} line sections"))
    for r in cw.itertuples(index=False):
        acc = float(r.accuracy_m)
        cl.emit(rd, r.source, float(r.distance_m), _rss(acc, acc),
                f"narrowest geodesic gap (WGS84) between {party}/{part} and {party}'s largest part, "
                f"from the source's {r.method}; uncertainty = two line accuracies in quadrature",
                f"{r.method}: {r.part_a} ↔ {r.part_b}", note=f"nearest points "
                f"{r.a_lat:.5f}N {r.a_lon:.5f}E ↔ {r.b_lat:.5f}N {r.b_lon:.5f}E",
                frm=(r.a_lon, r.a_lat), to=(r.b_lon, r.b_lat))


def _eval_point_to_territory(cl: _Claim, rd: Reading) -> None:
    """Geodesic distance from a place to the referenced territory (part)."""
    import pandas as pd

    from borderkit.measure import distance_to_territory

    ctx = cl.ctx
    if cl.ref_kind != "territory":
        cl.cannot(rd, f"reference {cl.record['reference']!r} is not a territory")
        return
    party, part = cl.ref
    part_xy, west, section_a, _ = ctx.part(party, part)
    xy, prec, label, why = cl.subject_place(rd)
    if xy is None:
        cl.cannot(rd, why)
        return
    lines, terr = ctx.lines, ctx.case.territories
    has_t = set(terr.loc[terr["party"] == party, "source"])
    has_l = set(lines.loc[lines["section"] == section_a, "source"]) if part else set()
    usable = [s for s in ctx.line_sources if s in has_t | has_l]
    d = distance_to_territory(xy[0], xy[1], territories=terr, party=party, part_at=part_xy,
                              part_west_of_lon=west, lines=lines, section=section_a or None,
                              sources=usable) if usable else pd.DataFrame(columns=["source"])
    for src in sorted(set(ctx.line_sources) - set(d["source"])):
        cl.emit(rd, src, None, math.nan, "", "", reason=(
            f"{src} has neither a {party} territory nor a '{part}' line section"))
    for r in d.itertuples(index=False):
        cl.emit(rd, r.source, float(r.distance_m), _rss(float(r.accuracy_m), prec), r.method,
                f"{label}; {party}/{part}", frm=xy, to=(r.nearest_lon, r.nearest_lat))


EVALUATORS: dict[str, Callable[[_Claim, Reading], None]] = {
    "point_to_line": _eval_point_to_line,
    "toward_to_line": _eval_toward_to_line,
    "territory_gap": _eval_territory_gap,
    "point_to_territory": _eval_point_to_territory,
    "advance_depth": _eval_advance_depth,
    "dem_peak": _eval_dem_peak,
    "not_measurable": _eval_not_measurable,
}
"""Reading kind → the function that measures it (one per kind of :data:`READING_KINDS`)."""


def _per_source(v: pandas.Series) -> str:
    measured = [x for x in v if x != "cannot be measured"]
    if not measured:
        return "cannot be measured"
    if all(x == "consistent" for x in measured):
        return "consistent"
    if all(x == "inconsistent" for x in measured):
        return "inconsistent"
    return "depends on reading"


def _per_claim(v: pandas.Series) -> str:
    measured = set(v) - {"cannot be measured"}
    if not measured:
        return "cannot be measured"
    if len(measured) == 1:
        return measured.pop()
    return "depends on source"


_TABLE_COLUMNS = ["claim_id", "statement", "quantity", "qualifier", "reading", "reading_text", "source",
                  "claimed_value", "claimed_unit", "claimed_m", "measured_m", "measured_value", "difference_m",
                  "rounding_m", "uncertainty_m", "accept_min_m", "accept_max_m", "verdict", "reason", "note",
                  "tolerance_text", "method", "features", "from_lon", "from_lat", "to_lon", "to_lat",
                  "source_verdict", "claim_verdict"]


def evaluate_claims(
    case: Case | None = None,
    *,
    claims: pandas.DataFrame | None = None,
    sources: Iterable[str] | None = None,
    tolerance: ToleranceRule | float | None = None,
    readings: Mapping[str, Sequence[Reading]] | None = None,
    advance_into: Mapping[str, str] | None = None,
    party_names: Mapping[str, Sequence[str]] | None = None,
) -> pandas.DataFrame:
    """Evaluate every claim against every line source (heights against the DEM), under every reading.

    Parameters
    ----------
    case
        A :class:`~borderkit.cases.Case` (default: the bundled case). Its case file
        (``case.config``) supplies the claims' readings, the names of the parties
        and the parts of territories that references name.
    claims
        Claims to evaluate (default: ``case.claims``).
    sources
        Line sources to measure against (default: all of the case).
    tolerance
        A :class:`ToleranceRule`, or a number of metres that replaces the
        qualifier/rounding part of every claim's tolerance. Default:
        ``ToleranceRule()``.
    readings
        ``{claim_id: [Reading, ...]}`` overriding the case file's readings /
        :func:`default_readings`.
    advance_into
        ``{claim_id: party}`` for advance claims whose wording does not say which
        party's side the advance went into.
    party_names
        ``{party: [names]}`` used to read "toward <name>" in advance claims
        (default: the case file's ``[parties.*] names``).

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
    Each reading kind is measured by its own function (:data:`EVALUATORS`).
    """
    import pandas as pd

    from borderkit.cases import CaseConfig
    from borderkit.lines import pick_sources

    if case is None:
        from borderkit.cases import load

        case = load()
    config = getattr(case, "config", None) or CaseConfig()
    cl_table = validate_claims(case.claims if claims is None else claims)
    rule = tolerance if isinstance(tolerance, ToleranceRule) else (
        ToleranceRule(absolute_m=float(tolerance)) if tolerance is not None else ToleranceRule())
    line_sources = pick_sources(case.lines["source"], sources)
    ctx = _Context(
        case=case, config=config, lines=case.lines[case.lines["source"].isin(line_sources)],
        line_sources=line_sources, places=case.places.set_index("place_id", drop=False),
        incidents=case.incidents.set_index("incident_id", drop=False), rule=rule,
        advance_into=dict(advance_into or {}),
        party_names=dict(party_names) if party_names is not None else config.party_names(),
    )
    reading_map = dict(config.readings)
    if readings:
        reading_map.update({k: tuple(v) for k, v in readings.items()})

    rows: list[dict[str, Any]] = []
    for _, c in cl_table.iterrows():
        claim = _Claim(ctx, c, rows)
        for rd in reading_map.get(claim.cid, default_readings(c)):
            if rd.kind not in EVALUATORS:
                raise ValidationError(
                    f"claim {claim.cid!r}: unknown reading kind {rd.kind!r}; use one of {READING_KINDS}")
            n_before = len(rows)
            try:
                EVALUATORS[rd.kind](claim, rd)
            except BorderkitError as exc:  # data that cannot support this reading: say so, keep going
                del rows[n_before:]
                claim.cannot(rd, str(exc), claim.targets)

    table = pd.DataFrame(rows)
    # per source, then per claim
    sv = table.groupby(["claim_id", "source"], sort=False)["verdict"].agg(_per_source)
    table["source_verdict"] = [sv[(a, b)] for a, b in zip(table["claim_id"], table["source"], strict=True)]
    cv = sv.groupby(level=0, sort=False).agg(_per_claim)
    table["claim_verdict"] = table["claim_id"].map(cv)
    table = table[_TABLE_COLUMNS]
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
