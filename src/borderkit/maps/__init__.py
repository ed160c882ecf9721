"""Publishable maps: interactive Leaflet HTML (folium) and static PNG/SVG (matplotlib).

Importing this package imports neither folium nor matplotlib; they are imported
by the functions that need them (install them with ``pip install 'borderkit[maps]'``).

Functions
---------
make_map
    Build a ``folium.Map`` of a case or of any layers (:mod:`borderkit.maps.builder`).
save_html
    Write it as one deterministic HTML file (``offline=True`` maps are self-contained).
render_html
    The HTML page as a string.
save_static
    PNG/SVG with the same styling, scale bar, north arrow, legend and credits
    (:mod:`borderkit.maps.static`).
case_layers, case_measurements, case_viewsheds
    The computed layers of the case map: measurement segments from the claims
    table and the viewshed from Mets Ishkhanasar
    (``make_map(case, **case_layers(case))`` is what ``borderkit map`` draws).
"""

from __future__ import annotations

from typing import Any

from borderkit.maps.builder import (
    BASEMAPS,
    DEFAULT_SIMPLIFY_M,
    MapContext,
    case_layers,
    case_measurements,
    case_viewsheds,
    make_map,
    prepare_context,
    render_html,
    save_html,
)
from borderkit.maps.escape import html_text, safe_url, script_json

__all__ = [
    "BASEMAPS",
    "DEFAULT_SIMPLIFY_M",
    "MapContext",
    "case_layers",
    "case_measurements",
    "case_viewsheds",
    "make_map",
    "prepare_context",
    "render_html",
    "save_html",
    "save_static",
    "html_text",
    "safe_url",
    "script_json",
]


def save_static(*args: Any, **kwargs: Any) -> Any:
    """See :func:`borderkit.maps.static.save_static`."""
    from borderkit.maps.static import save_static as _save_static

    return _save_static(*args, **kwargs)
