"""Publishable maps: interactive Leaflet HTML (folium) and static PNG/SVG (matplotlib).

Importing this package imports neither folium nor matplotlib; they are imported
by the functions that need them (install them with ``pip install 'borderkit[maps]'``).

Functions
---------
make_map
    Build a ``folium.Map`` of a case or of any layers (:mod:`borderkit.maps.folium_build`).
save_html
    Write it as one deterministic HTML file (``offline=True`` maps are self-contained;
    :mod:`borderkit.maps.html`).
render_html
    The HTML page as a string.
prepare_context
    The layers gathered and prepared once, for both maps (:mod:`borderkit.maps.context`).
save_static
    PNG/SVG with the same styling, scale bar, north arrow, legend and credits
    (:mod:`borderkit.maps.static`).
case_layers, case_measurements, case_viewsheds
    The computed layers of a case's map: measurement segments from the claims
    table (:mod:`borderkit.maps.measurements`) and the viewsheds the case file
    names (:mod:`borderkit.maps.viewsheds`); which readings, where their labels
    sit and the title come from the case file's ``[map]``
    (``make_map(case, **case_layers(case))`` is what ``borderkit map`` draws).

Modules
-------
``context`` (what goes on the map) → ``layers`` (layers → JSON records) →
``folium_build`` (the Leaflet page) → ``html`` (rendering and saving);
``measurements`` and ``viewsheds`` compute a case's own layers; ``static``
draws the same context with matplotlib.
"""

from __future__ import annotations

from typing import Any

from borderkit.maps.context import DEFAULT_SIMPLIFY_M, MapContext, case_layers, prepare_context
from borderkit.maps.escape import html_text, safe_url, script_json
from borderkit.maps.folium_build import BASEMAPS, make_map
from borderkit.maps.html import render_html, save_html
from borderkit.maps.measurements import case_measurements
from borderkit.maps.viewsheds import case_viewsheds

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
