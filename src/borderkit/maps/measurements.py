"""Measurement segments of a case's claims, drawn on the case map.

:func:`case_measurements` reads the claims table
(:func:`borderkit.claims.evaluate_claims`: every claim × reading × line
source, with the measured points) and makes one segment per measured reading
and line source, with its label and popup. Which readings are drawn, where
their labels sit and from which zoom they show come from the case file
(``[map]``: ``readings``, ``labels``, ``label_min_zoom``; see
:class:`borderkit.cases.CaseConfig`) or from the arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from borderkit.errors import Problem, ValidationError
from borderkit.maps.escape import clean_text
from borderkit.maps.text import length_text, place_names, range_text, verdict_mark

__all__ = ["case_measurements", "read_measurements"]

FROM_CASE: Literal["case"] = "case"
"""Default of :func:`case_measurements`' ``label_min_zoom``: the case file's ``[map] label_min_zoom``."""

_PLACE_IN_FEATURES = re.compile(r"place:([^\s;]+)")
_INTO_IN_METHOD = re.compile(r"beyond the line into ([^)\s]+)\)")


def _reading_of(case: Any, claim_id: str, label: str, claim: Mapping[str, Any] | None) -> Any:
    """The :class:`borderkit.claims.Reading` with this label: the case file's, else the default (or ``None``)."""
    from borderkit.claims import default_readings

    config = getattr(case, "config", None)
    options = (getattr(config, "readings", {}) or {}).get(claim_id) or (
        default_readings(claim) if claim is not None else []
    )
    return next((r for r in options if r.label == label), None)


def _what_label(reading: Any, row: Mapping[str, Any], claim: Mapping[str, Any] | None, names: Mapping[str, str]) -> str:
    """Short text saying what a segment measures (the first line of its label)."""
    found = _PLACE_IN_FEATURES.search(str(row.get("features", "")))
    pid = found.group(1) if found else (getattr(reading, "place", "") or "")
    place = names.get(pid, pid)
    kind = getattr(reading, "kind", "")
    reference = str((claim or {}).get("reference", ""))
    if kind == "point_to_line":
        return f"{place} → line, shortest"
    if kind == "toward_to_line":
        toward = names.get(reading.toward, reading.toward)
        return f"{place} → line, toward {toward}"
    if kind == "territory_gap":
        party, _, part = reference.partition(":")[2].partition("/")
        return f"{names.get(part, part) or party} ↔ mainland {party}: narrowest gap"
    if kind == "point_to_territory":
        _, _, part = reference.partition(":")[2].partition("/")
        return f"{place} → {names.get(part, part)}"
    if kind == "advance_depth":
        into = _INTO_IN_METHOD.search(str(row.get("method", "")))
        return f"{place}: depth into {into.group(1)}" if into else f"{place}: depth beyond the line"
    return clean_text(row.get("reading_text", ""))[:60] or clean_text(row.get("claim_id", ""))


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _reading_summary(g: Any, unit: str, signed: bool) -> str:
    """One reading over every source: the range of its values and verdicts, or why it cannot be measured."""
    m = g[g["_measured"]]
    if not len(m):
        reasons = sorted({clean_text(x) for x in g["reason"] if clean_text(x)})
        return "cannot be measured" + (f" — {reasons[0]}" if reasons else "")
    vals = [float(v) for v in m["measured_value"]]
    rng = range_text(vals, unit, signed=signed) or length_text(vals[0], unit, signed=signed)
    verdicts = sorted(set(m["verdict"]))
    return f"{rng} ({', '.join(verdicts)})"


def _reach_texts(
    first: Mapping[str, Any], claim: Mapping[str, Any] | None, lines: Any, sources: Sequence[str], unit: str
) -> dict[str, str]:
    """Per source, the reach test of an advance: does an advance of the claimed depth from the line reach the place?

    :func:`borderkit.measure.advance_reach`; empty when the method names no
    party advanced into or the test cannot be made (the popup goes without it).
    """
    from borderkit import measure
    from borderkit.claims import UNITS_TO_METRES

    into = _INTO_IN_METHOD.search(str(first.get("method", "")))
    if not into:
        return {}
    parties = str((claim or {}).get("reference", "")).partition(":")[2].split("|")
    per_unit = UNITS_TO_METRES.get(unit, 1.0)
    try:
        r = measure.advance_reach(
            float(first["from_lon"]),
            float(first["from_lat"]),
            lines=lines,
            into=into.group(1),
            advance_m=float(first["claimed_m"]),
            sources=list(sources),
            pair=[p for p in parties if p] or None,
        )
    except Exception:  # noqa: BLE001 - the popup just goes without it
        return {}
    claimed = length_text(float(first["claimed_value"]), unit)
    out: dict[str, str] = {}
    for rr in r.itertuples(index=False):
        margin = length_text(float(rr.reach_margin_m) / per_unit, unit)
        if not rr.beyond_line:
            out[str(rr.source)] = (
                f"the place is not beyond this line (it is on the {rr.party} side): an advance of "
                f"{claimed} into {into.group(1)} need not have reached it"
            )
        elif rr.within_reach:
            out[str(rr.source)] = f"an advance of {claimed} from this line reaches the place, with {margin} to spare"
        else:
            short = margin.lstrip("-")
            out[str(rr.source)] = f"an advance of {claimed} from this line stops {short} short of the place"
    return out


def _segment(
    r: Mapping[str, Any], *, value: float, unit: str, signed: bool, common: Mapping[str, Any]
) -> dict[str, Any]:
    """The measurement record of one reading on one source (a row of the table :func:`make_map` takes)."""
    from borderkit.claims import UNITS_TO_METRES

    per_unit = UNITS_TO_METRES.get(unit, 1.0)
    src = str(r["source"])
    frm = (float(r["from_lon"]), float(r["from_lat"]))
    to = (float(r["to_lon"]), float(r["to_lat"]))
    if signed:  # the depth runs from the line to the place
        frm, to = to, frm
    hi = float(r["accept_max_m"])
    accept_hi = length_text(hi / per_unit, unit) if math.isfinite(hi) else "∞"
    accept = (
        f"{length_text(float(r['accept_min_m']) / per_unit, unit, signed=signed)} to "
        f"{accept_hi}: the claim read as {clean_text(r['tolerance_text'])}, widened by the "
        f"uncertainty ± {length_text(float(r['uncertainty_m']) / per_unit, unit)} "
        "(line accuracy and point precision)"
    )
    cid, rlabel, placement = common["claim_id"], common["reading"], common["placement"]
    return {
        "measurement_id": f"{cid} {rlabel} {src}",
        "claim_id": cid,
        "label": common["what"],
        "from_lon": frm[0],
        "from_lat": frm[1],
        "to_lon": to[0],
        "to_lat": to[1],
        "value": value,
        "unit": unit,
        "value_text": length_text(value, unit, signed=signed),
        "range_text": common["range_text"],
        "line_source": src,
        "quantity": str(r["quantity"]),
        "permanent": src == common["labelled"],
        "label_min_zoom": placement.get("label_min_zoom", common["label_min_zoom"]),
        "label_at": placement.get("label_at", "mid"),
        "label_direction": placement.get("label_direction", "center"),
        "label_offset": list(placement.get("label_offset", (0, 0))),
        "statement": str(r["statement"]),
        "claimed_value": float(r["claimed_value"]),
        "claimed_unit": unit,
        "qualifier": str(r["qualifier"]),
        "reading": f"{rlabel} {clean_text(r['reading_text'])}",
        "verdict": f"{r['verdict']} (on {src})",
        "accept": accept,
        "reach": common["reach"].get(src, ""),
        "claim_verdict": str(r["claim_verdict"]),
        "all_sources": common["all_sources"],
        "other_readings": common["other_readings"],
        "method": str(r["method"]),
        "note": str(r["note"]),
        "features": str(r["features"]),
    }


def _reading_segments(
    g: Any,
    t: Any,
    *,
    case: Any,
    claim: Mapping[str, Any] | None,
    names: Mapping[str, str],
    order: Mapping[str, int],
    primary: str,
    placement: Mapping[str, Any],
    label_min_zoom: int | None,
) -> list[dict[str, Any]]:
    """The segments of one measured reading (*g*: its rows of the claims table *t*), one per line source."""
    first = g.iloc[0].to_dict()
    cid, rlabel = str(first["claim_id"]), str(first["reading"])
    unit = str(first["claimed_unit"])
    signed = str(first["quantity"]) == "advance_depth"
    g = g.assign(_rank=[order.get(str(s), len(order)) for s in g["source"]]).sort_values(["_rank", "source"])
    sources = [str(s) for s in g["source"]]
    values = [float(v) for v in g["measured_value"]]
    others = [
        f"{other} {clean_text(og['reading_text'].iloc[0])}: {_reading_summary(og, unit, signed)}"
        for other, og in t[t["claim_id"] == cid].groupby("reading", sort=False)
        if str(other) != rlabel
    ]
    common = {
        "claim_id": cid,
        "reading": rlabel,
        "what": _what_label(_reading_of(case, cid, rlabel, claim), first, claim, names),
        "labelled": primary if primary in sources else sources[0],
        "range_text": range_text(values, unit, signed=signed),
        "all_sources": " · ".join(
            f"{s} {length_text(v, unit, signed=signed)} {verdict_mark(str(vd))}"
            for s, v, vd in zip(sources, values, g["verdict"], strict=True)
        ),
        "other_readings": " | ".join(others),
        "reach": _reach_texts(first, claim, case.lines, sources, unit) if signed else {},
        "placement": dict(placement),
        "label_min_zoom": label_min_zoom,
    }
    return [
        _segment(r, value=value, unit=unit, signed=signed, common=common)
        for (_, r), value in zip(g.iterrows(), values, strict=True)
    ]


def case_measurements(
    case: Any,
    *,
    table: Any = None,
    readings: Mapping[str, Sequence[str]] | None = None,
    primary_source: str | None = None,
    labels: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    label_min_zoom: int | None | Literal["case"] = FROM_CASE,
) -> Any:
    """Measurement segments of a case's claims, from the claims table (``None`` when there are none).

    The table is :func:`borderkit.claims.evaluate_claims` (every claim × reading
    × line source, with the measured points). One segment is drawn per measured
    reading and line source, from the table's points: place → nearest point of
    the line (``point_to_line``), place → where the geodesic toward another
    place meets the line (``toward_to_line``), the two nearest points of a gap
    (``territory_gap``), place → territory; for an advance depth the segment
    runs from the nearest point of the line to the place and its value is the
    signed depth (positive beyond the line, in the party advanced into), and
    the popup adds the reach test (:func:`borderkit.measure.advance_reach`:
    does an advance of the claimed depth from this line reach the place?).
    Heights (``dem_peak``) are not segments: the peak's label shows them.

    Labels: per reading one segment — the one measured on *primary_source*
    (default: the line source with the smallest stated ``scale_or_accuracy_m``,
    the most detailed drawing) — carries a permanent label "what · value ·
    line: source" and the range over all sources; the other sources' segments
    are thinner and show their label on hover. Every segment's popup gives the
    claim's statement, claimed value, this source's verdict and accepted range,
    the claim's overall verdict, all sources' values for the reading, the other
    readings, the method and notes.

    Parameters
    ----------
    case
        A :class:`borderkit.datasets.Case`.
    table
        An :func:`~borderkit.claims.evaluate_claims` table (computed when not given).
    readings
        ``{claim_id: (reading label, …)}``: readings to draw (default: the case
        file's ``[map.readings]``); claims not listed: every measured reading.
    primary_source
        Line source whose segments are labelled (when it measured the reading).
    labels
        ``{(claim_id, reading): {"label_at", "label_direction", "label_offset",
        "label_min_zoom"}}`` (default: the case file's ``[[map.labels]]``).
    label_min_zoom
        Zoom from which the permanent labels show (``None``: always; default:
        the case file's ``[map] label_min_zoom``).

    Returns
    -------
    pandas.DataFrame or None
        The columns :func:`make_map` takes as ``measurements``; ``attrs["map_note"]``
        says which source is labelled (shown in the legend).
    """
    import pandas as pd

    claims = getattr(case, "claims", None)
    lines = getattr(case, "lines", None)
    if claims is None or lines is None or not len(claims) or not len(lines):
        return None
    from borderkit.claims import evaluate_claims

    config = getattr(case, "config", None)
    if table is None:
        table = evaluate_claims(case)
    readings = (getattr(config, "map_readings", None) or {}) if readings is None else readings
    labels = (config.label_placements() if config is not None else {}) if labels is None else labels
    if label_min_zoom == FROM_CASE:
        label_min_zoom = getattr(config, "map_label_min_zoom", None)
    names = place_names(case)
    claim_rows = {str(r["claim_id"]): r.to_dict() for _, r in claims.iterrows()}
    accuracy = lines.groupby("source")["scale_or_accuracy_m"].min()
    rank = sorted((str(s) for s in accuracy.index), key=lambda s: (float(accuracy[s]), s))
    order = {s: i for i, s in enumerate(rank)}
    primary = primary_source or (rank[0] if rank else "")

    t = table.copy()
    t["_measured"] = [
        _finite(r.measured_m) and all(_finite(getattr(r, c)) for c in ("from_lon", "from_lat", "to_lon", "to_lat"))
        for r in t.itertuples(index=False)
    ]
    rows: list[dict[str, Any]] = []
    measured = t[t["_measured"] & (t["quantity"] != "elevation")]
    for (cid, rlabel), g in measured.groupby(["claim_id", "reading"], sort=True):
        cid, rlabel = str(cid), str(rlabel)
        if cid in readings and rlabel not in readings[cid]:
            continue
        rows += _reading_segments(
            g,
            t,
            case=case,
            claim=claim_rows.get(cid),
            names=names,
            order=order,
            primary=primary,
            placement=labels.get((cid, rlabel), {}),
            label_min_zoom=label_min_zoom,
        )
    if not rows:
        return None
    df = pd.DataFrame(rows)
    df.attrs["map_note"] = _map_note(primary, float(accuracy[primary]) if primary in accuracy.index else float("nan"))
    return df


def _map_note(primary: str, acc: float) -> str:
    """The legend's note: which source carries the labels, and why (its stated accuracy figure)."""
    return (
        f"Each measurement is labelled on one line source, {primary}"
        + (
            f" (the smallest stated accuracy figure, ± {acc:g} m: the most detailed drawing, not a more "
            "authoritative one)"
            if acc == acc
            else ""
        )
        + ", with the range over every source; the thin segments are the other sources (hover or click). "
        "Depths are signed: + beyond the line, − short of it."
    )


_COORDINATE_RANGES = {"from_lon": 180.0, "from_lat": 90.0, "to_lon": 180.0, "to_lat": 90.0}


def read_measurements(path: Any) -> Any:
    """A measurement table (CSV) to draw: ``from_lon``, ``from_lat``, ``to_lon``, ``to_lat``, a value, …

    Read with the CSV reader of :mod:`borderkit.io` (:func:`borderkit.io.kinds.read_table`).
    The four coordinates (WGS84 degrees) must be numbers in range in every row,
    and the value column (``value``, ``measured_value``, ``distance_km``,
    ``distance_m``, ``depth_m`` or ``depth_km``) a number: no row is dropped.
    Other columns stay text (see :func:`borderkit.maps.layers.measurement_records`).

    Raises
    ------
    ValidationError
        Every bad cell, with its row and column and what to write instead.
    """
    import pandas as pd

    from borderkit.io.kinds import read_table
    from borderkit.maps.layers import MEASUREMENT_ALIASES

    frame = read_table(path)
    rows = frame.attrs.get("rows", list(range(1, len(frame) + 1)))
    lower = {str(c).strip().lower(): c for c in frame.columns}
    problems: list[Problem] = []
    missing = [c for c in _COORDINATE_RANGES if c not in lower]
    value_col = next((lower[a] for a in MEASUREMENT_ALIASES["value"] if a in lower), None)
    if missing or value_col is None:
        need = missing + ([] if value_col is not None else ["value"])
        raise ValidationError(
            f"{path}: a measurement table needs the column(s) {', '.join(need)}; add them "
            "(coordinates in WGS84 degrees, the measured value in its unit)"
        )
    for name, limit in [*_COORDINATE_RANGES.items(), (value_col, float("inf"))]:
        col = lower.get(name, name)
        values = pd.to_numeric(frame[col].str.strip(), errors="coerce")
        bad = values.isna() | (values.abs() > limit)
        for pos in bad.to_numpy().nonzero()[0]:
            what = f"a number between -{limit:g} and {limit:g} (degrees)" if limit != float("inf") else "a number"
            problems.append(
                Problem(f"{frame[col].iloc[pos]!r} is not {what}; write {what}", path=str(path), row=rows[pos],
                        column=str(col))
            )
        frame[col] = values
    if problems:
        raise ValidationError(problems=problems, path=str(path))
    return frame
