"""Short display texts of the maps: source names, lengths with their unit, ranges, place names.

Every function returns plain text; the page escapes it (:mod:`borderkit.maps.escape`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from borderkit.maps.escape import clean_text

__all__ = ["MINUS", "short_source", "length_text", "range_text", "verdict_mark", "place_names"]

MINUS = "\u2212"
"""The minus sign of signed depths (U+2212, not a hyphen)."""


def short_source(text: str, limit: int = 40) -> str:
    """The name part of a source text (before ``(`` or ``;``), cut to *limit* characters with an ellipsis."""
    short = re.split(r"[(;]", text, maxsplit=1)[0].strip().rstrip(",")
    if len(short) > limit:
        short = short[: limit - 1].rstrip() + "…"
    return short


def length_text(value: float, unit: str, *, signed: bool = False) -> str:
    """A length in its unit: km with 2 decimals below 10 and 1 above, m without decimals; optional sign."""
    v = abs(value) if signed else value
    if unit == "km":
        text = f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    elif unit == "m":
        text = f"{v:,.0f}"
    else:
        text = f"{v:g}"
    if signed:
        sign = "+" if value > 0 and text.strip("0.,") else MINUS if value < 0 and text.strip("0.,") else ""
        text = sign + text
    return f"{text} {unit}".strip()


def range_text(values: Sequence[float], unit: str, *, signed: bool = False) -> str:
    """``"n lines: lo–hi unit"`` over several values (``""`` for fewer than two)."""
    lo, hi = min(values), max(values)
    n = len(values)
    if n < 2:
        return ""
    if signed:
        return f"{n} lines: {length_text(lo, unit, signed=True)} to {length_text(hi, unit, signed=True)}"
    a, b = length_text(lo, unit), length_text(hi, unit)
    return f"{n} lines: {a.removesuffix(' ' + unit)}–{b}"


def verdict_mark(verdict: str) -> str:
    """✓ for consistent, ✗ for inconsistent, – otherwise."""
    return {"consistent": "✓", "inconsistent": "✗"}.get(verdict, "–")


def place_names(case: Any) -> dict[str, str]:
    """``{place_id: short English name}`` of a case's places (the id when a place has no English name)."""
    places = getattr(case, "places", None)
    if places is None or not len(places):
        return {}
    return {
        str(r["place_id"]): short_source(clean_text(r.get("name_en", "")), 40) or str(r["place_id"])
        for _, r in places.iterrows()
    }
