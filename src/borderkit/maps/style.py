"""Styling shared by the interactive (Leaflet) and static (matplotlib) maps.

Colours come from the Okabe–Ito palette (distinguishable with the common forms of
colour blindness); each line source also gets its own dash pattern, so sources
stay distinct in greyscale print. Styles are assigned in the sorted order of the
source names, so the same data always get the same styles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "LINE_COLORS",
    "LINE_DASHES",
    "INCIDENT_COLORS",
    "line_styles",
    "incident_colors",
    "DISAGREEMENT_STYLE",
    "OVERLAP_STYLE",
    "MEASUREMENT_STYLE",
    "VIEWSHED_STYLE",
    "PLACE_COLORS",
    "LANGUAGES",
    "COUNTRY_FILLS",
    "COUNTRY_STYLE",
    "WATER_STYLE",
    "country_fills",
]

LINE_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999933")
"""Okabe–Ito colours (yellow left out: unreadable on light basemaps), then black and olive."""

LINE_DASHES: tuple[str | None, ...] = (None, "10 6", "3 5", "14 5 3 5", "6 3", "1 4", "18 6", "8 3 1 3")
"""SVG dash arrays (Leaflet ``dashArray``); ``None`` is a solid line."""

INCIDENT_COLORS = ("#B2182B", "#2166AC", "#1B7837", "#762A83", "#E08214", "#35978F", "#8C510A", "#4D4D4D")
"""Colours of incident types, assigned in sorted order of the type names."""

DISAGREEMENT_STYLE: dict[str, Any] = {"color": "#7B3294", "weight": 1, "fillColor": "#C2A5CF", "fillOpacity": 0.55}
"""Ground two sources assign to different parties."""

OVERLAP_STYLE: dict[str, Any] = {"color": "#A50026", "weight": 1, "fillColor": "#F46D43", "fillOpacity": 0.5}
"""Ground one source assigns to two parties at once."""

MEASUREMENT_STYLE: dict[str, Any] = {"color": "#111111", "weight": 2, "dashArray": "6 4"}
"""Measurement segments (distance, advance depth)."""

VIEWSHED_STYLE: dict[str, Any] = {"color": "#1A9850", "weight": 1, "fillColor": "#A6D96A", "fillOpacity": 0.35}
"""Ground visible from an observer."""

PLACE_COLORS = {
    "peak": "#5D4037",
    "lake": "#1F78B4",
    "village": "#444444",
    "town": "#333333",
    "city": "#111111",
    "airport": "#6A3D9A",
    "road": "#8D6E63",
    "crossing": "#E31A1C",
    "base": "#B15928",
    "region": "#777777",
}
"""Marker colour of each place kind."""

COUNTRY_FILLS = ("#E8E2D0", "#D9E1E8", "#E0E6D5", "#E8DCE0", "#E2DDEA", "#D8E6E2", "#EAE3D9", "#DEDEDE")
"""Fills of the country context: pale tints of nearly equal lightness (no party darker or more saturated
than another), assigned in sorted order of the party codes, so no side is privileged by its colour."""

COUNTRY_STYLE: dict[str, Any] = {"color": "#7A7A7A", "weight": 0.8, "opacity": 0.8, "fillOpacity": 1.0}
"""Outline and opacity of the country context (quiet: under the basemap tiles and the hillshade, thinner than
any line; opaque, since the page multiplies the hillshade and the vectors onto it)."""

WATER_STYLE: dict[str, Any] = {
    "color": "#5B8DB8",
    "weight": 0.8,
    "opacity": 0.9,
    "fillColor": "#A9CCE8",
    "fillOpacity": 1.0,
}
"""Lakes a source leaves out of its land (context layer)."""

LANGUAGES = ("az", "en", "hy", "ru")
"""Languages of place names, shown in this (alphabetical, ISO 639-1) order with equal weight."""


def line_styles(sources: Iterable[str]) -> dict[str, dict[str, object]]:
    """A distinct style for each line source, assigned in sorted order.

    Returns
    -------
    dict
        source → ``{"color", "dashArray", "weight", "opacity"}``.
    """
    out: dict[str, dict[str, object]] = {}
    for i, src in enumerate(sorted(set(sources))):
        out[src] = {
            "color": LINE_COLORS[i % len(LINE_COLORS)],
            "dashArray": LINE_DASHES[(i + i // len(LINE_COLORS)) % len(LINE_DASHES)],
            "weight": 3,
            "opacity": 0.9,
        }
    return out


def country_fills(parties: Iterable[str]) -> dict[str, str]:
    """A pale fill for each party, assigned in sorted order of the codes (:data:`COUNTRY_FILLS`)."""
    return {p: COUNTRY_FILLS[i % len(COUNTRY_FILLS)] for i, p in enumerate(sorted(set(parties)))}


def incident_colors(types: Iterable[str]) -> dict[str, str]:
    """A colour for each incident type, assigned in sorted order."""
    return {t: INCIDENT_COLORS[i % len(INCIDENT_COLORS)] for i, t in enumerate(sorted(set(types)))}


def mpl_dashes(dash: str | None) -> tuple[int, tuple[float, ...]] | str:
    """Matplotlib ``linestyle`` for an SVG dash array."""
    if not dash:
        return "solid"
    return (0, tuple(float(x) / 2.0 for x in dash.split()))
