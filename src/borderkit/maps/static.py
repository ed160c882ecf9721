"""Static maps (PNG, SVG, PDF) with matplotlib — the map a newsroom prints or publishes.

The static map uses the same prepared data and the same styles as the
interactive one (:mod:`borderkit.maps.style`): the country context (every party
of the reference source filled with its neutral tint and named, its borders,
lakes drawn as water), one colour and dash pattern per line source,
disagreement and overlap polygons, incidents coloured by type with their
uncertainty rings, places, peaks with height and source, measurement segments
with labels, the hillshade, plus a title, a scale bar, an optional north arrow,
a legend and a credits block naming every source drawn and its licence.

Page
----
The figure has a print size in millimetres (:data:`PAGE_SIZES_MM`, or any
``WxH`` in mm) and, for PNG, a resolution in dots per inch: the PNG is
``size_mm / 25.4 * dpi`` pixels. Title, legend and credits are measured with
the renderer and laid out around the map (legend beside a landscape map, below
a portrait one); the credits are wrapped to the page width and never cut.

Labels
------
Labels never overlap each other, the map frame, the scale bar, the north arrow
or the point symbols: they are placed in priority order — measurements, then
incidents, then country names, then places by kind (city, town, peak, lake, …,
the web map's order) — each trying several anchor offsets before it is left
off; labels left off are listed in the report and in a :class:`MapLayerWarning`.

Projection
----------
The map is drawn in a transverse Mercator projection centred on the data
(``+proj=tmerc``, ``k_0 = 1``, WGS84), which is conformal and whose scale error
is below 0.2 % within 300 km of the centre. The scale bar's length is measured
on the ellipsoid at the bar's position (``pyproj.Geod``), and the north arrow
points to true north at its own position, so both are exact where they are
drawn. Uncertainty rings are geodesic circles (72 points).

Text
----
SVG text stays text (``svg.fonttype = 'none'``): every label is a ``<text>``
element whose ``font-family`` names DejaVu Sans and its fallbacks
(:data:`FONT_FAMILY`), editable in Inkscape or Illustrator; the PDF embeds the
font as TrueType (``pdf.fonttype = 42``), so its text is selectable. Text from
the data is drawn literally (mathtext and LaTeX off, :data:`borderkit.plotting.TEXT_RC`)
and XML-escaped by matplotlib's SVG writer; matplotlib's per-text comments are removed.

Outputs are deterministic: fixed fonts, PNG metadata without a timestamp, SVG
with a fixed hash salt and no date, PDF without a creation date.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from borderkit._projection import LocalProjection
from borderkit.errors import MapLayerWarning
from borderkit.geodesy import GEOD
from borderkit.io.atomic import atomic_output
from borderkit.maps.context import MapContext, prepare_context
from borderkit.maps.escape import BIDI_CONTROLS
from borderkit.maps.layers import credits
from borderkit.maps.style import (
    COUNTRY_STYLE,
    DISAGREEMENT_STYLE,
    MEASUREMENT_STYLE,
    OVERLAP_STYLE,
    VIEWSHED_STYLE,
    WATER_STYLE,
    mpl_dashes,
)
from borderkit.plotting import TEXT_RC

__all__ = [
    "DEFAULT_PAGE",
    "FONT_FAMILY",
    "PAGE_SIZES_MM",
    "STATIC_FORMATS",
    "page_size_mm",
    "render_figure",
    "save_static",
]

FONT_FAMILY: tuple[str, ...] = ("DejaVu Sans", "Bitstream Vera Sans", "Verdana", "Arial", "Helvetica", "sans-serif")
"""Fonts of every text, in order: DejaVu Sans (Debian ``fonts-dejavu-core``, also bundled with matplotlib, so
PNG and PDF always use it), then fallbacks with the same metrics (Bitstream Vera Sans, its origin; Verdana)
and common sans-serif faces, named in the SVG's ``font-family`` for the program that opens it."""

PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
    "A4-landscape": (297.0, 210.0),
    "A3-landscape": (420.0, 297.0),
}
"""Named print sizes, (width, height) in millimetres (ISO 216)."""

DEFAULT_PAGE = "A4-landscape"
"""Print size of a static map when none is given."""

STATIC_FORMATS = ("png", "svg", "pdf")
"""Formats :func:`save_static` writes (from the file's suffix)."""

PLACE_LABEL_RANK = ("city", "town", "peak", "lake", "crossing", "airport", "base", "village", "region", "road")
"""Label priority of place kinds after measurements, incidents and country names (the web map's order)."""

MAJOR_PLACE_KINDS = ("city", "town", "peak", "lake")
"""Place kinds labelled at every scale; the others from the web map's ``label_min_zoom`` (as on screen)."""

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(mm)?\s*$", re.I)
_SIZE_HELP = "give A4, A3, A4-landscape, A3-landscape or WIDTHxHEIGHT in millimetres, e.g. 180x120mm"


def page_size_mm(size: str | Sequence[float]) -> tuple[float, float]:
    """(width, height) in millimetres of a print size.

    Parameters
    ----------
    size
        A name of :data:`PAGE_SIZES_MM` (case-insensitive: ``"a4"``, ``"A3-landscape"``),
        ``"WxH"`` or ``"WxHmm"`` in millimetres (``"180x120mm"``), or a ``(width, height)`` pair in mm.

    Raises
    ------
    ValueError
        Anything else, or a side outside 20–2000 mm (the message says what to give).
    """
    if isinstance(size, str):
        named = {k.lower(): v for k, v in PAGE_SIZES_MM.items()}
        key = size.strip().lower()
        if key in named:
            return named[key]
        m = _SIZE_RE.match(size)
        if not m:
            raise ValueError(f"print size {size!r} not understood: {_SIZE_HELP}")
        w, h = float(m.group(1)), float(m.group(2))
    else:
        vals = list(size)
        if len(vals) != 2:
            raise ValueError(f"print size {size!r} not understood: {_SIZE_HELP}")
        w, h = float(vals[0]), float(vals[1])
    if not (20.0 <= w <= 2000.0 and 20.0 <= h <= 2000.0):
        raise ValueError(f"print size {w:g}x{h:g} mm out of range: each side 20 to 2000 mm ({_SIZE_HELP})")
    return (w, h)


def _t(text: Any) -> str:
    """Data text for matplotlib: as it is (the figure is built with mathtext and LaTeX off, see TEXT_RC)."""
    return str(text)


def _projection(bounds: Sequence[float]) -> LocalProjection:
    """The figure's transverse Mercator (``k_0 = 1``, WGS84) centred on the map's bounds (rounded to 1e-6°)."""
    west, south, east, north = bounds
    return LocalProjection(round((west + east) / 2.0, 6), round((south + north) / 2.0, 6), kind="tmerc")


def _xy(proj: LocalProjection, coords: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Figure coordinates (metres) of ``[[lon, lat], …]``."""
    arr = np.asarray(coords, dtype=float).reshape(-1, 2)
    x, y = proj.to_local(arr[:, 0], arr[:, 1])
    return np.asarray(x), np.asarray(y)


def _hillshade_image(ctx: MapContext, proj: LocalProjection, extent: tuple[float, float, float, float], px: int) -> Any:
    """The hillshade overlay resampled (nearest) onto the figure's projected grid, or ``None``."""
    import io

    from PIL import Image

    hill = ctx.inputs.hillshade
    if hill is None:
        return None
    img = Image.open(io.BytesIO(hill.png))
    img.load()
    arr = np.asarray(img.convert("LA"))
    rows, cols = arr.shape[:2]
    west, south, east, north = hill.bounds
    x0, x1, y0, y1 = extent
    ny = max(2, int(px * (y1 - y0) / (x1 - x0)))
    xs = np.linspace(x0, x1, px)
    ys = np.linspace(y1, y0, ny)
    gx, gy = np.meshgrid(xs, ys)
    lon, lat = proj.to_geographic(gx.ravel(), gy.ravel())
    lon = np.asarray(lon).reshape(gx.shape)
    lat = np.asarray(lat).reshape(gx.shape)

    def merc(v: np.ndarray) -> np.ndarray:
        return np.log(np.tan(np.pi / 4 + np.radians(np.clip(v, -85, 85)) / 2))

    col = (lon - west) / (east - west) * cols
    row = (merc(np.full(1, north)) - merc(lat)) / (merc(np.full(1, north)) - merc(np.full(1, south))) * rows
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    ci = np.clip(col.astype(int), 0, cols - 1)
    ri = np.clip(row.astype(int), 0, rows - 1)
    grey = arr[ri, ci, 0].astype(float) / 255.0
    alpha = np.where(inside, arr[ri, ci, 1].astype(float) / 255.0, 0.0)
    # shade only: dark where the slope faces away from the light, clear on flat ground, so the country
    # tints under it keep their colour (the web map multiplies the hillshade onto them)
    shade = np.clip(1.0 - grey / max(float(np.median(grey[inside])) if inside.any() else 1.0, 1e-6), 0.0, 1.0)
    rgba = np.dstack([np.zeros_like(grey), np.zeros_like(grey), np.zeros_like(grey), alpha * shade * 0.6])
    return rgba


def _nice_length(target_m: float) -> float:
    exp = 10 ** math.floor(math.log10(target_m))
    for m in (1, 2, 5, 10):
        if m * exp >= target_m:
            return m * exp
    return 10 * exp


def _scale_bar(
    ax: Any, proj: LocalProjection, extent: tuple[float, float, float, float], fs: float, m_per_pt: float
) -> list[Any]:
    """A scale bar at the lower left, its length measured on the ellipsoid where it is drawn; its artists.

    Sizes and gaps are in points (*m_per_pt*: metres of the map per point of the page), so the bar's
    texts never overlap at any page size.
    """
    x0, x1, y0, y1 = extent
    h = 0.5 * fs * m_per_pt
    bx, by = x0 + 2.0 * fs * m_per_pt, y0 + 2.6 * fs * m_per_pt
    lon, lat = proj.to_geographic(bx, by)
    length = _nice_length((x1 - x0) / 6.0)
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90.0, length)
    ex, ey = proj.to_local(lon2, lat2)
    dx = math.hypot(ex - bx, ey - by)
    out = [
        ax.add_patch(_rect(bx, by, dx / 2, h, "#222222")),
        ax.add_patch(_rect(bx + dx / 2, by, dx / 2, h, "#ffffff", edge="#222222")),
    ]
    out[0].set_gid("scale-bar")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    top = by + h + 0.3 * fs * m_per_pt
    out.append(ax.text(bx, top, "0", fontsize=fs, ha="center", va="bottom", zorder=31))
    out.append(ax.text(bx + dx, top, label, fontsize=fs, ha="center", va="bottom", zorder=31))
    out[-1].set_gid("scale-bar-label")
    out.append(
        ax.text(
            bx,
            by - 0.4 * fs * m_per_pt,
            "geodesic length at this latitude",
            fontsize=fs * 0.8,
            ha="left",
            va="top",
            color="#444444",
            zorder=31,
        )
    )
    return out


def _rect(x: float, y: float, w: float, h: float, color: str, edge: str | None = None) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor=edge or color, linewidth=0.6, zorder=30)


def _north_arrow(
    ax: Any, proj: LocalProjection, extent: tuple[float, float, float, float], fs: float, m_per_pt: float
) -> list[Any]:
    """An arrow to true north at the upper left (its direction computed on the ellipsoid there); its artists.

    Sized in points (*m_per_pt*: metres of the map per point), so it stays inside the frame at any page size.
    """
    x0, x1, y0, y1 = extent
    size = 1.8 * fs * m_per_pt
    ax_x, ax_y = x0 + 1.6 * fs * m_per_pt, y1 - size - 2.2 * fs * m_per_pt
    lon, lat = proj.to_geographic(ax_x, ax_y)
    lon2, lat2, _ = GEOD.fwd(lon, lat, 0.0, 1000.0)
    nx, ny = proj.to_local(lon2, lat2)
    ang = math.atan2(nx - ax_x, ny - ax_y)
    tipx, tipy = ax_x + size * math.sin(ang), ax_y + size * math.cos(ang)
    arrow = ax.annotate(
        "",
        xy=(tipx, tipy),
        xytext=(ax_x, ax_y),
        arrowprops={"arrowstyle": "-|>", "color": "#111111", "lw": 1.6, "mutation_scale": 14},
        zorder=31,
    )
    n = ax.text(
        tipx, tipy + 0.2 * fs * m_per_pt, "N", ha="center", va="bottom", fontsize=fs, fontweight="bold", zorder=31
    )
    return [arrow, n]


def _poly_path(proj: LocalProjection, rings: Sequence[Sequence[Sequence[float]]]) -> Any:
    from matplotlib.path import Path as MPath

    verts: list[tuple[float, float]] = []
    codes: list[int] = []
    for ring in rings:
        x, y = _xy(proj, ring)
        if len(x) < 3:
            continue
        verts += list(zip(x.tolist(), y.tolist(), strict=True))
        codes += [int(MPath.MOVETO)] + [int(MPath.LINETO)] * (len(x) - 2) + [int(MPath.CLOSEPOLY)]
    return MPath(verts, codes) if verts else None


def _geodesic_circle(proj: LocalProjection, lon: float, lat: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    az = np.linspace(0.0, 360.0, 73)
    lons, lats, _ = GEOD.fwd(np.full(az.shape, lon), np.full(az.shape, lat), az, np.full(az.shape, radius_m))
    x, y = proj.to_local(lons, lats)
    return np.asarray(x), np.asarray(y)


# ------------------------------------------------------------------------------------------ labels


@dataclass
class _Label:
    """A label to place: its priority (lower first), anchor (figure metres), text, style and candidate offsets."""

    prio: int
    kind: str
    text: str
    anchors: list[tuple[float, float]]
    offsets: list[tuple[float, float, str, str]]  # (dx, dy) in points, ha, va
    style: dict[str, Any] = field(default_factory=dict)
    min_zoom: float | None = None
    leader: float | None = None  # radius (points) of the symbol: farther positions with a leader line to it
    area: Any = None  # a country's shape (figure metres): its name goes inside the part in the frame
    shorter: list[str] = field(default_factory=list)  # shorter texts to try where the full one finds no room


def _around(gap: float) -> list[tuple[float, float, str, str]]:
    """Eight positions around a point, *gap* points from it: right, left, above, below, then the diagonals."""
    d = gap * 0.75
    return [
        (gap, 0.0, "left", "center"),
        (-gap, 0.0, "right", "center"),
        (0.0, gap, "center", "bottom"),
        (0.0, -gap, "center", "top"),
        (d, d, "left", "bottom"),
        (d, -d, "left", "top"),
        (-d, d, "right", "bottom"),
        (-d, -d, "right", "top"),
    ]


def _overlaps(a: Any, b: Any) -> bool:
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


def _text_box(t: Any, renderer: Any) -> Any:
    """The window extent of a text with its background box (pixels)."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    if hasattr(t, "update_positions"):  # an annotation: its text's position follows from the offset
        t.update_positions(renderer)
    bb = Text.get_window_extent(t, renderer)  # the text, without an annotation's leader line
    patch = t.get_bbox_patch()
    if patch is not None:
        t.update_bbox_position_size(renderer)
        bb = Bbox.union([bb, patch.get_window_extent(renderer)])
    return bb


def _place_labels(
    ax: Any, renderer: Any, labels: Sequence[_Label], obstacles: list[Any], *, placement: bool
) -> tuple[list[Any], list[dict[str, str]]]:
    """Place *labels* in priority order; a label goes at its first candidate that is inside the map frame and
    meets no obstacle and no label already placed, else it is left off. Returns the texts and those left off.

    With ``placement=False`` every label goes at its first candidate, overlaps or not (for comparison).
    """
    from matplotlib.transforms import Bbox

    frame = ax.get_window_extent(renderer)
    frame = Bbox.from_extents(frame.x0 + 2, frame.y0 + 2, frame.x1 - 2, frame.y1 - 2)
    kept = list(obstacles)
    texts: list[Any] = []
    dropped: list[dict[str, str]] = []
    order = sorted(range(len(labels)), key=lambda i: (labels[i].prio, i))
    for i in order:
        lab = labels[i]
        done = False
        variants = [lab.text, *lab.shorter]
        # near the symbol first (the full text, then shorter ones), then farther with a leader line
        tries: list[tuple[str, tuple[float, float], tuple[float, float, str, str], dict[str, Any] | None]] = [
            (txt, a, o, None) for txt in variants for a in lab.anchors for o in lab.offsets
        ]
        if lab.leader is not None:
            leader = {"arrowstyle": "-", "color": "#555555", "lw": 0.5, "shrinkA": 0, "shrinkB": lab.leader}
            far = [o for k in (3.0, 5.5, 8.0) for o in _around(k * (lab.leader + 1.5))]
            tries += [(txt, lab.anchors[0], o, leader) for txt in variants for o in far]
        for text, (ax_x, ax_y), (dx, dy, ha, va), lead in tries:
            t = ax.annotate(
                text,
                (ax_x, ax_y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                annotation_clip=False,
                arrowprops=lead,
                **lab.style,
            )
            if not placement:
                texts.append(t)
                done = True
                break
            box = _text_box(t, renderer)
            box = Bbox.from_extents(box.x0 - 1, box.y0 - 1, box.x1 + 1, box.y1 + 1)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(_overlaps(box, k) for k in kept):
                kept.append(box)
                texts.append(t)
                done = True
                break
            t.remove()
        if not done:
            dropped.append({"kind": lab.kind, "text": " ".join(lab.text.split())})
    return texts, dropped


def _marker_boxes(ax: Any, marks: Sequence[tuple[float, float, float]], dpi: float) -> list[Any]:
    """Pixel boxes of the point symbols ``(x, y, radius in points)``, obstacles for the labels."""
    from matplotlib.transforms import Bbox

    if not marks:
        return []
    arr = np.asarray(marks, dtype=float)
    px = ax.transData.transform(arr[:, :2])
    r = arr[:, 2] * dpi / 72.0
    return [Bbox.from_extents(x - rr, y - rr, x + rr, y + rr) for (x, y), rr in zip(px, r, strict=True)]


# ------------------------------------------------------------------------------------------ layers


@dataclass
class _Drawn:
    """What the drawing functions collect: labels to place, point symbols (obstacles) and legend handles."""

    labels: list[_Label] = field(default_factory=list)
    marks: list[tuple[float, float, float]] = field(default_factory=list)
    context_handles: list[Any] = field(default_factory=list)
    place_kinds: set[str] = field(default_factory=set)


def _context_sections(cx: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """The context payload's lists of drawable records (lakes, and any layer added later), by key."""
    out = []
    for key in sorted(cx):
        value = cx[key]
        if key == "countries" or not isinstance(value, list):
            continue
        recs = [r for r in value if isinstance(r, Mapping) and ("polygons" in r or "lines" in r or "point" in r)]
        if recs:
            out.append((key, recs))
    return out


def _draw_context(ax: Any, proj: LocalProjection, p: Mapping[str, Any], fs: float, drawn: _Drawn) -> None:
    """The country context as the web map draws it: fills, borders and names; lakes as water; other layers."""
    from matplotlib.patches import Patch, PathPatch

    cx = p.get("context")
    if not cx:
        return
    style = {**COUNTRY_STYLE, **(cx.get("style") or {})}
    for c in cx.get("countries", []):
        path = None
        shape = _shape(proj, c["polygons"])
        for rings in c["polygons"]:
            part = _poly_path(proj, rings)
            if part is None:
                continue
            ax.add_patch(
                PathPatch(
                    part,
                    facecolor=c["fill"],
                    edgecolor=style["color"],
                    linewidth=0.75 * float(style["weight"]),
                    alpha=float(style.get("fillOpacity", 1.0)),
                    zorder=0.5,
                )
            )
            path = path or part
        if path is not None:
            x, y = _xy(proj, [c["label_at"]])
            drawn.labels.append(
                _Label(
                    prio=2,
                    kind="country",
                    text=_t(c["name"]).upper(),
                    anchors=[(float(x[0]), float(y[0]))],
                    offsets=[(0.0, 0.0, "center", "center"), (0.0, 14.0, "center", "center")]
                    + [(0.0, -14.0, "center", "center"), (24.0, 0.0, "center", "center")]
                    + [(-24.0, 0.0, "center", "center"), (0.0, 28.0, "center", "center")]
                    + [(0.0, -28.0, "center", "center")],
                    style={"fontsize": fs * 1.3, "color": "#555555", "fontweight": "bold", "zorder": 8},
                    area=shape,
                )
            )
    if cx.get("countries"):
        drawn.context_handles.append(
            Patch(
                facecolor=cx["countries"][0]["fill"],
                edgecolor=style["color"],
                label=_t(f"countries and borders ({cx.get('source', '')}), one pale tint each"),
            )
        )
    water = {**WATER_STYLE, **(cx.get("water_style") or {})}
    for key, recs in _context_sections(cx):
        own = cx.get(key[:-1] + "_style") or cx.get(key + "_style") or {}
        st = {**water, **own} if key in ("lakes", "rivers", "water") or not own else {**COUNTRY_STYLE, **own}
        colour, fill = st.get("color", "#5B8DB8"), st.get("fillColor", st.get("color", "#A9CCE8"))
        drew = False
        for r in recs:
            for rings in r.get("polygons", []):
                path = _poly_path(proj, rings)
                if path is not None:
                    ax.add_patch(PathPatch(path, facecolor=fill, edgecolor=colour, linewidth=0.6, zorder=0.8))
                    drew = True
            for part in r.get("lines", []):
                x, y = _xy(proj, part)
                ax.plot(x, y, color=colour, linewidth=0.8, zorder=0.8)
                drew = True
            if "point" in r and r.get("name") and key not in ("lakes",):
                x, y = _xy(proj, [r["point"]])
                ax.scatter(x, y, s=6, color="#555555", zorder=0.9)
                drawn.marks.append((float(x[0]), float(y[0]), 1.5))
                drawn.labels.append(
                    _Label(
                        prio=3 + len(PLACE_LABEL_RANK),
                        kind=key,
                        text=_t(r["name"]),
                        anchors=[(float(x[0]), float(y[0]))],
                        offsets=_around(3.5),
                        style={"fontsize": fs * 0.85, "color": "#555555", "zorder": 8},
                    )
                )
        if drew:
            srcs = sorted({str(r.get("source", "")) for r in recs} - {""})
            what = key.replace("_", " ")
            drawn.context_handles.append(
                Patch(facecolor=fill, edgecolor=colour, label=_t(what + (f" ({', '.join(srcs)})" if srcs else "")))
            )


def _draw_basemap(ax: Any, proj: LocalProjection, p: Mapping[str, Any], fs: float, drawn: _Drawn,
                  zoom: float) -> None:
    """The case's basemap as the web map draws it at *zoom*: the band's water, rivers and other borders, and
    the towns the web map names from that zoom (their labels below every other label)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, PathPatch

    bm = p.get("basemap")
    if not bm or not bm.get("bands"):
        return
    bands = bm["bands"]
    # the band the web map shows at this scale (the nearest one outside the bands' range)
    band = next((b for b in bands if b["min_zoom"] <= zoom <= b["max_zoom"] + 1), None)
    if band is None:
        band = bands[0] if zoom < bands[0]["min_zoom"] else bands[-1]
    style = bm.get("style") or {}
    water, river, border = style.get("water", {}), style.get("river", {}), style.get("border", {})
    wfill, wline = water.get("fillColor", "#C3D3DF"), water.get("color", "#7F9CB3")
    for rings in band.get("water", []):
        path = _poly_path(proj, rings)
        if path is not None:
            ax.add_patch(PathPatch(path, facecolor=wfill, edgecolor=wline, linewidth=0.4, zorder=0.7))
    for part in band.get("rivers", []):
        x, y = _xy(proj, part)
        ax.plot(x, y, color=river.get("color", "#8FAABF"), linewidth=0.6, zorder=0.7)
    for part in band.get("borders", []):
        x, y = _xy(proj, part)
        ax.plot(x, y, color=border.get("color", "#8C8C8C"), linewidth=0.6, linestyle=(0, (4, 2)), zorder=0.7)
    if band.get("water") or band.get("rivers"):
        drawn.context_handles.append(
            Patch(facecolor=wfill, edgecolor=wline, label="lakes and rivers (the case's basemap)")
        )
    if band.get("borders"):
        drawn.context_handles.append(Line2D([], [], color=border.get("color", "#8C8C8C"), linewidth=0.6,
                                            linestyle=(0, (4, 2)),
                                            label="other international borders (the case's basemap)"))
    towns = [t for t in bm.get("towns", []) if t.get("min_zoom", 99) <= zoom]
    for rank, t in enumerate(towns):  # sorted by population, largest first
        x, y = _xy(proj, [t["point"]])
        ax.scatter(x, y, s=4, color=style.get("town", {}).get("color", "#6E6E6E"), zorder=0.9, linewidths=0)
        drawn.marks.append((float(x[0]), float(y[0]), 1.2))
        drawn.labels.append(
            _Label(
                prio=4 + len(PLACE_LABEL_RANK) + rank,  # below every place, the larger town first
                kind="town",
                text=_t(t["name"]),
                anchors=[(float(x[0]), float(y[0]))],
                offsets=_around(3.0),
                style={"fontsize": fs * 0.75, "color": "#6E6E6E", "zorder": 8},
            )
        )


def _shape(proj: LocalProjection, polygons: Sequence[Any]) -> Any:
    """A shapely (multi)polygon in figure metres of payload polygons ``[[ring, …], …]``."""
    import shapely

    parts = []
    for rings in polygons:
        xy = [np.column_stack(_xy(proj, r)) for r in rings if len(r) >= 4]
        if xy:
            parts.append(shapely.Polygon(xy[0], xy[1:]))
    return shapely.make_valid(shapely.MultiPolygon(parts)) if parts else None


def _in_frame(lab: _Label, extent: tuple[float, float, float, float]) -> _Label | None:
    """A country name's label moved inside the part of the country in the frame, or ``None`` when not in it.

    The payload's anchor is the pole of inaccessibility of the country's part in the web map's initial view
    (:func:`borderkit.maps.layers.context_records`); the print's frame differs, so where that anchor is outside
    it the name goes to the pole of the part that is in the frame.
    """
    import shapely
    from shapely.ops import polylabel

    if lab.area is None:
        return lab
    x0, x1, y0, y1 = extent
    mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    frame = shapely.box(x0 + mx, y0 + my, x1 - mx, y1 - my)
    seen = lab.area.intersection(frame)
    if seen.is_empty or seen.area < 0.02 * frame.area:  # not in the frame, or a sliver too small to hold a name
        return None
    if seen.contains(shapely.Point(lab.anchors[0])):
        return lab
    parts = [g for g in getattr(seen, "geoms", [seen]) if g.geom_type == "Polygon"]
    at = polylabel(max(parts, key=lambda g: g.area), tolerance=0.002 * (x1 - x0))
    return _Label(**{**lab.__dict__, "anchors": [(float(at.x), float(at.y))]})


def _draw_areas(ax: Any, proj: LocalProjection, p: Mapping[str, Any]) -> list[Any]:
    """Disagreement and overlap polygons; their legend handles."""
    from matplotlib.patches import Patch, PathPatch

    handles: list[Any] = []
    for area in p["areas"]:
        style = OVERLAP_STYLE if area["kind"] == "overlap" else DISAGREEMENT_STYLE
        for rings in area["polygons"]:
            path = _poly_path(proj, rings)
            if path is not None:
                ax.add_patch(
                    PathPatch(
                        path, facecolor=style["fillColor"], edgecolor=style["color"], linewidth=0.4, alpha=0.8, zorder=3
                    )
                )
    kinds = {a["kind"] for a in p["areas"]}
    if "disagreement" in kinds:
        handles.append(
            Patch(
                facecolor=DISAGREEMENT_STYLE["fillColor"],
                edgecolor=DISAGREEMENT_STYLE["color"],
                label="two sources assign to different parties",
            )
        )
    if "overlap" in kinds:
        handles.append(
            Patch(
                facecolor=OVERLAP_STYLE["fillColor"],
                edgecolor=OVERLAP_STYLE["color"],
                label="one source assigns to two parties",
            )
        )
    return handles


def _draw_viewsheds(ax: Any, proj: LocalProjection, p: Mapping[str, Any]) -> list[Any]:
    """The viewsheds the web map shows when it opens; their legend handle."""
    from matplotlib.patches import Patch, PathPatch

    handles: list[Any] = []
    shown_viewsheds = [v for v in p.get("viewsheds", []) if v.get("show", True)]  # as the web map opens
    for v in shown_viewsheds:
        for rings in v["polygons"]:
            path = _poly_path(proj, rings)
            if path is not None:
                ax.add_patch(
                    PathPatch(
                        path,
                        facecolor=VIEWSHED_STYLE["fillColor"],
                        edgecolor=VIEWSHED_STYLE["color"],
                        linewidth=0.4,
                        alpha=0.6,
                        zorder=3,
                    )
                )
    if shown_viewsheds:
        handles.append(
            Patch(facecolor=VIEWSHED_STYLE["fillColor"], edgecolor=VIEWSHED_STYLE["color"], label="viewshed")
        )
    return handles


def _draw_lines(ax: Any, proj: LocalProjection, p: Mapping[str, Any]) -> list[Any]:
    """One line style per source; a legend handle per source (date, accuracy, licence)."""
    from matplotlib.lines import Line2D

    line_handles = []
    for g in p["lines"]:
        st = g["style"]
        for f in g["features"]:
            for part in f["lines"]:
                x, y = _xy(proj, part)
                ax.plot(
                    x,
                    y,
                    color=st["color"],
                    linestyle=cast(Any, mpl_dashes(st["dashArray"])),
                    linewidth=1.4,
                    alpha=0.95,
                    zorder=5,
                    solid_capstyle="round",
                )
        meta = []
        if g["date"]:
            meta.append(g["date"])
        if g["accuracy_m"] is not None:
            meta.append(f"±{g['accuracy_m']:,.0f} m")
        if g["meta"].get("licence"):
            meta.append(g["meta"]["licence"])
        label = _t(g["source"] + (" — " + ", ".join(meta) if meta else ""))
        line_handles.append(
            Line2D(
                [0],
                [0],
                color=st["color"],
                linestyle=cast(Any, mpl_dashes(st["dashArray"])),
                linewidth=1.6,
                label=label,
            )
        )
    return line_handles


def _draw_incidents(ax: Any, proj: LocalProjection, p: Mapping[str, Any], fs: float, drawn: _Drawn) -> list[Any]:
    """Incidents with their uncertainty rings (geodesic circles), labelled with date and place; legend handles."""
    from matplotlib.lines import Line2D

    for r in p["incidents"]:
        if r["precision_m"] is not None:  # unknown uncertainty: no ring (never a ring of a made-up size)
            x, y = _geodesic_circle(proj, r["lon"], r["lat"], r["precision_m"])
            ax.fill(x, y, facecolor=r["color"], alpha=0.08, zorder=6)
            ax.plot(x, y, color=r["color"], linewidth=0.7, linestyle=(0, (2, 2)), zorder=6)
        px, py = _xy(proj, [[r["lon"], r["lat"]]])
        k = fs / 6.0  # symbols scale with the page's text
        ax.scatter(px, py, s=42 * k * k, color=r["color"], edgecolors="white", linewidths=1.2 * k, zorder=9)
        drawn.marks.append((float(px[0]), float(py[0]), 4.0 * k))
        text = " · ".join(t for t in (r.get("date_label", ""), textwrap.shorten(r.get("place_name", ""), 34)) if t)
        if text:
            drawn.labels.append(
                _Label(
                    prio=1,
                    kind="incident",
                    text=_t(text),
                    anchors=[(float(px[0]), float(py[0]))],
                    offsets=_around(5.5 * k),
                    leader=4.0 * k,
                    shorter=[_t(r["date_label"])] if r.get("date_label") and r.get("place_name") else [],
                    style={
                        "fontsize": fs * 0.9,
                        "color": r["color"],
                        "fontweight": "bold",
                        "zorder": 14,
                        "bbox": {"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.8},
                    },
                )
            )
    return [
        Line2D(
            [0],
            [0],
            marker="o",
            linestyle="none",
            markerfacecolor=t["color"],
            markeredgecolor="white",
            markersize=7,
            label=_t(t["type"]),
        )
        for t in p.get("incident_types", [])
    ]


def _draw_places(
    ax: Any, proj: LocalProjection, p: Mapping[str, Any], fs: float, drawn: _Drawn, water_ids: set[str]
) -> list[Any]:
    """Places (peaks with height and source; every named place labelled by its kind's priority); legend handles."""
    from matplotlib.lines import Line2D

    for pl in p["places"]:
        # the label in the chosen language (make_map/save_static lang=); every name is in the HTML popup
        names = pl["label"]["name"] if pl.get("label") else " / ".join(n["name"] for n in pl["names"])
        kind = str(pl["kind"])
        if "point" not in pl:
            for part in pl.get("lines", []):
                x, y = _xy(proj, part)
                ax.plot(x, y, color=pl["color"], linewidth=0.9, linestyle=(0, (3, 2)), zorder=4)
            continue
        px, py = _xy(proj, [pl["point"]])
        x0, y0 = float(px[0]), float(py[0])
        k = fs / 6.0
        shorter: list[str] = []
        drawn.place_kinds.add(kind)
        if kind == "peak":
            ax.scatter(px, py, marker="^", s=36 * k * k, color="#5d4037", edgecolors="white", linewidths=0.6, zorder=10)
            drawn.marks.append((x0, y0, 3.5 * k))
            elev = ""
            if pl.get("elevation_m") is not None:
                elev = f"\n{pl['elevation_m']:,.0f} m · " + pl.get("elevation_source_short", "")
            text, style = names + elev, {"fontsize": fs, "color": "#3e2723"}
            if elev:  # where the full label finds no room: name and height, then the name
                shorter = [f"{names}\n{pl['elevation_m']:,.0f} m", names]
        elif pl.get("id") in water_ids:  # drawn as water: the outline is the symbol, the name its label
            text, style = names, {"fontsize": fs, "color": "#1F4E79", "fontstyle": "italic"}
        else:
            ax.scatter(px, py, s=9 * k * k, color=pl["color"], edgecolors="white", linewidths=0.4, zorder=10)
            drawn.marks.append((x0, y0, 2.0 * k))
            major = kind in MAJOR_PLACE_KINDS
            text, style = names, {"fontsize": fs if major else fs * 0.85, "color": "#111111" if major else "#333333"}
        if not text.strip():
            continue
        rank = PLACE_LABEL_RANK.index(kind) if kind in PLACE_LABEL_RANK else len(PLACE_LABEL_RANK)
        drawn.labels.append(
            _Label(
                prio=3 + rank,
                kind=kind,
                text=_t(text),
                anchors=[(x0, y0)],
                offsets=[(0, 0, "center", "center")] + _around(4.5)
                if pl.get("id") in water_ids
                else _around((5.0 if kind == "peak" else 4.0) * k),
                style={
                    **style,
                    "zorder": 11,
                    "bbox": {"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.6},
                },
                min_zoom=None if kind in MAJOR_PLACE_KINDS else -1.0,  # -1: the map's label_min_zoom
                leader=None if pl.get("id") in water_ids else (3.5 if kind == "peak" else 2.0) * k,
                shorter=[_t(x) for x in shorter],
            )
        )
    handles: list[Any] = []
    if "peak" in drawn.place_kinds:
        handles.append(Line2D([0], [0], marker="^", linestyle="none", color="#5d4037", label="peak: height · source"))
    if drawn.place_kinds - {"peak"}:
        handles.append(Line2D([0], [0], marker="o", linestyle="none", color="#333333", markersize=4, label="place"))
    return handles


def _draw_measurements(ax: Any, proj: LocalProjection, p: Mapping[str, Any], fs: float, drawn: _Drawn) -> list[Any]:
    """Measurement segments; their labels anchored and offset as on the web map first, then around."""
    from matplotlib.lines import Line2D

    for m in p["measurements"]:
        x, y = _xy(proj, [m["from"], m["to"]])
        primary = m.get("permanent", True) is not False
        ax.plot(
            x,
            y,
            color=MEASUREMENT_STYLE["color"],
            linewidth=1.3 if primary else 0.7,
            linestyle=(0, (4, 2.5)),
            alpha=1.0 if primary else 0.5,
            zorder=12,
        )
        k = fs / 6.0
        ax.scatter(x, y, s=10 * k * k, color="white", edgecolors="#111111", linewidths=0.8 * k, zorder=12)
        drawn.marks += [(float(a), float(b), 1.8 * k) for a, b in zip(x, y, strict=True)]
        if not primary:  # as on the web map: only the primary segment of a claim is labelled
            continue
        value = m["value_text"] + (" · line: " + m["line_source"] if m["line_source"] else "")
        text = "\n".join(
            _t(textwrap.shorten(t, 60, placeholder="…"))
            for t in (m.get("label", ""), value, m.get("range_text", ""))
            if t
        )
        at = m.get("label_at", "mid")
        points = {"from": (x[0], y[0]), "to": (x[1], y[1]), "mid": (x.mean(), y.mean())}
        anchors = [points.get(at, points["mid"])] + [v for k, v in points.items() if k != at]
        direction = m.get("label_direction", "center")
        dx, dy = (m.get("label_offset") or [0, 0])[:2]
        gap = {"right": (6, 0), "left": (-6, 0), "top": (0, 6), "bottom": (0, -6)}.get(direction, (0, 0))
        ha = {"right": "left", "left": "right"}.get(direction, "center")
        va = {"top": "bottom", "bottom": "top"}.get(direction, "center")
        # the web map's tooltip direction and offset (pixels → points) first, then around the anchor
        first = (gap[0] + 0.75 * float(dx), gap[1] - 0.75 * float(dy), ha, va)
        drawn.labels.append(
            _Label(
                prio=0,
                kind="measurement",
                text=text,
                anchors=[(float(a), float(b)) for a, b in anchors],
                offsets=[first] + _around(6.0),
                style={
                    "fontsize": fs,
                    "color": "white",
                    "zorder": 13,
                    "bbox": {"facecolor": "#111111", "alpha": 0.88, "edgecolor": "none", "pad": 1.2},
                },
                min_zoom=None if m.get("label_min_zoom") is None else float(m["label_min_zoom"]),
                shorter=[text.rsplit("\n", 1)[0]] if text.count("\n") >= 2 else [],  # without the range
            )
        )
    if p["measurements"]:
        return [
            Line2D(
                [0],
                [0],
                color=MEASUREMENT_STYLE["color"],
                linestyle=(0, (4, 2.5)),
                label="measurement: what · value · line source",
            )
        ]
    return []


# ------------------------------------------------------------------------------------------ page layout


def _prop(fs: float, weight: str = "normal") -> Any:
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=FONT_FAMILY[0], size=fs, weight=weight)


def _wrap(text: str, width_px: float, fs: float, renderer: Any, weight: str = "normal") -> str:
    """*text* broken into lines that fit *width_px* at *fs* points, measured by the renderer (never cut).

    Each word is measured once and a line's width is the sum of its words and spaces (no kerning across a
    space), with a 2 % margin, so long credits wrap in linear time.
    """
    prop = _prop(fs, weight)
    cache: dict[str, float] = {}

    def width(s: str) -> float:
        if s not in cache:
            cache[s] = float(renderer.get_text_width_height_descent(s, prop, ismath=False)[0])
        return cache[s]

    budget = 0.98 * width_px
    space = width("a a") - width("aa")
    out: list[str] = []
    for para in str(text).split("\n"):
        cur, cur_w = "", 0.0
        for word in para.split(" "):
            ww = width(word)
            if cur and cur_w + space + ww <= budget:
                cur, cur_w = cur + " " + word, cur_w + space + ww
                continue
            if cur:
                out.append(cur)
            cur, cur_w = word, ww
            while len(cur) > 1 and cur_w > budget:  # a word longer than the line: break it
                lo, hi = 1, len(cur) - 1  # the longest head that fits (bisection: the word may be long)
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    lo, hi = (mid, hi) if width(cur[:mid]) <= budget else (lo, mid - 1)
                out.append(cur[:lo])
                cur = cur[lo:]
                cur_w = width(cur)
        out.append(cur)
    return "\n".join(out)


def _incident_credit(ctx: MapContext) -> str | None:
    """The incidents' sources: the publications the records cite, and the file name where a record cites none."""
    from borderkit.maps.escape import clean_text

    inc = ctx.inputs.incidents
    if inc is None or not len(inc) or not ctx.payload.get("incidents"):
        return None
    pubs: dict[str, None] = {}
    uncited = 0
    for value in inc["sources"] if "sources" in inc.columns else [None] * len(inc):
        recs: Any = value
        if isinstance(value, str):
            try:
                recs = json.loads(value) if value.strip() else []
            except ValueError:
                recs = [value]
        if recs is None or (isinstance(recs, float) and math.isnan(recs)):
            recs = []
        if isinstance(recs, Mapping) or isinstance(recs, str):
            recs = [recs]
        names = [
            clean_text(r.get("publication") or r.get("title") or r.get("url") or "")
            if isinstance(r, Mapping)
            else clean_text(r)
            for r in recs
        ]
        names = [n for n in names if n]
        uncited += not names
        pubs.update(dict.fromkeys(names))
    path = (inc.attrs.get("borderkit") or {}).get("path")
    text = f"Incidents ({len(inc)})"
    if pubs:
        text += ": reported by " + "; ".join(sorted(pubs))
    if path and (uncited or not pubs):
        text += f"{',' if pubs else ':'} from the file {clean_text(Path(str(path)).name)}"
        if uncited:
            text += f" ({uncited} without a source)"
    return text


def _credits_text(ctx: MapContext) -> str:
    """Every source drawn (data, context, incidents, hillshade DEM, scans) with its licence, and the method."""
    parts = []
    for c in credits(ctx.inputs, ctx.payload):
        bits = [c["name"]]
        if c.get("licence"):
            bits.append(c["licence"])
        if c.get("attribution"):
            bits.append(c["attribution"])
        parts.append(" — ".join(bits))
    for ov in ctx.overlays:
        bits = [ov.name]
        if ov.attribution:
            bits.append(ov.attribution)
        bits.append("licence: " + (ov.licence or "not stated"))
        parts.append(" — ".join(bits))
    inc = _incident_credit(ctx)
    if inc:
        parts.append(inc)
    tol = ctx.report.get("simplify_tolerance_m", 0)
    disp = ctx.report.get("max_displacement_m", {})
    worst = max(disp.values()) if disp else 0.0
    text = "Sources: " + "; ".join(parts) + ". "
    text += (
        f"Lines simplified for display ({tol:g} m tolerance, largest displacement {worst:.1f} m). "
        "Each line is one source's drawing; borderkit does not decide where the border is. "
        "Transverse Mercator centred on the data; distances and areas on the WGS84 ellipsoid. Made with borderkit."
    )
    return _t(text)


def _legend_section(
    fig: Any,
    renderer: Any,
    section: tuple[str, list[Any], list[str]],
    x_in: float,
    top_in: float,
    width_in: float,
    fs: float,
) -> tuple[list[Any], float]:
    """One legend (title, entries, notes below) at ``(x_in, top_in)`` fitted to *width_in*; artists, height (in)."""
    title, handles, notes = section
    w_in, h_in = fig.get_size_inches()
    dpi = fig.dpi
    labels = [str(h.get_label()) for h in handles]
    # a first guess from DejaVu Sans' mean advance (about 0.6 em), then measured
    limit = min(max(len(s) for s in labels + [title]), max(12, int(width_in * 72.0 / (0.6 * fs))))
    leg = None
    for _ in range(12):  # shorten the longest entries until the legend fits the column
        short = [textwrap.shorten(s, limit, placeholder="…") if len(s) > limit else s for s in labels]
        leg = fig.legend(
            handles=handles,
            labels=short,
            loc="upper left",
            bbox_to_anchor=(x_in / w_in, top_in / h_in),
            bbox_transform=fig.transFigure,
            title=_t(textwrap.shorten(title, limit, placeholder="…") if len(title) > limit else title),
            title_fontsize=fs * 1.15,
            frameon=False,
            alignment="left",
            prop={"size": fs},
            borderaxespad=0.0,
            borderpad=0.0,
            handlelength=1.8,
        )
        if leg.get_window_extent(renderer).width <= width_in * dpi or limit <= 12:
            break
        leg.remove()
        limit = max(12, int(limit * 0.88))
    assert leg is not None
    artists: list[Any] = [leg]
    y = top_in - leg.get_window_extent(renderer).height / dpi - 0.02
    for note in notes:
        txt = fig.text(
            x_in / w_in + 0.01,
            y / h_in,
            _wrap(_t(note), width_in * dpi * 0.97, fs * 0.85, renderer),
            fontsize=fs * 0.85,
            va="top",
            color="#333333",
        )
        artists.append(txt)
        y -= txt.get_window_extent(renderer).height / dpi + 0.02
    return artists, top_in - y


def _legend_block(
    fig: Any,
    renderer: Any,
    sections: Sequence[tuple[str, list[Any], list[str]]],
    x_in: float,
    top_in: float,
    width_in: float,
    fs: float,
    columns: int,
) -> tuple[list[Any], float]:
    """The legend sections in *columns* columns (sections flow down, then to the next column); artists, height."""
    gap = 0.12
    col_w = (width_in - gap * (columns - 1)) / columns
    heights = []
    for sec in sections:  # measure each once
        arts, h = _legend_section(fig, renderer, sec, x_in, top_in, col_w, fs)
        heights.append(h)
        for a in arts:
            a.remove()
    total = sum(heights) + gap * max(0, len(heights) - 1)
    target = total / columns
    artists: list[Any] = []
    col, y, tallest = 0, top_in, 0.0
    for sec, h in zip(sections, heights, strict=True):
        if y < top_in and top_in - y + h > target + 1e-9 and col < columns - 1:
            col, y = col + 1, top_in
        arts, h = _legend_section(fig, renderer, sec, x_in + col * (col_w + gap), y, col_w, fs)
        artists += arts
        y -= h + gap
        tallest = max(tallest, top_in - y - gap)
    return artists, tallest


@dataclass
class _Page:
    """Where things go, in inches from the lower left: the map's box and the legend's, and the font sizes."""

    map_box: tuple[float, float, float, float]  # left, bottom, width, height
    fs: float
    artists: list[Any]


def _layout(fig: Any, renderer: Any, ctx: MapContext, sections: Sequence[tuple[str, list[Any], list[str]]]) -> _Page:
    """Title and subtitle at the top, credits at the bottom (wrapped to the page, never cut), the legend beside a
    landscape map or below a portrait one, all measured with the renderer; the map gets the rest."""
    w, h = (float(v) for v in fig.get_size_inches())
    dpi = fig.dpi
    m = min(0.3, max(0.12, 0.035 * min(w, h)))
    gap = 0.6 * m
    s = min(1.25, max(0.72, min(w, h) / 7.0))
    fs = 6.5 * s
    inner = (w - 2 * m) * dpi
    artists: list[Any] = []
    k = 1.0
    for attempt in range(2):  # title and subtitle up to a fifth of the page; beyond that, smaller (never cut)
        title = fig.text(
            m / w,
            1 - m / h,
            _wrap(ctx.title, inner, 14 * s * k, renderer, "bold"),
            fontsize=14 * s * k,
            fontweight="bold",
            va="top",
        )
        y = h - m - title.get_window_extent(renderer).height / dpi - 0.05 * s
        sub = fig.text(
            m / w,
            y / h,
            _wrap(ctx.subtitle, inner, 8.5 * s * k, renderer),
            fontsize=8.5 * s * k,
            va="top",
            color="#444444",
        )
        top = y - sub.get_window_extent(renderer).height / dpi - gap
        if attempt or h - top <= h / 5:
            break
        title.remove()
        sub.remove()
        k = max(0.35, math.sqrt((h / 5) / (h - top)))  # a text's area goes with the size squared
    artists += [title, sub]
    credit_fs = max(4.0, 5.6 * s)
    credits_text = _credits_text(ctx)
    for attempt in range(2):  # credits up to a quarter of the page; beyond that, a smaller size (never cut)
        cred = fig.text(
            m / w,
            m / h,
            _wrap(credits_text, inner, credit_fs, renderer),
            fontsize=credit_fs,
            va="bottom",
            color="#333333",
            linespacing=1.3,
        )
        cred.set_gid("credits")
        tall = cred.get_window_extent(renderer).height / dpi
        if attempt or tall < h / 4 or credit_fs <= 3.0:
            break
        cred.remove()
        credit_fs = max(3.0, credit_fs * math.sqrt(h / 4 / tall))
    artists.append(cred)
    bottom = m + cred.get_window_extent(renderer).height / dpi + gap
    landscape = w / h >= 1.2
    for attempt in range(5):
        if attempt >= 1:  # too tall: the area totals (also in the web map and the report) go first
            sections = [(t, hs, [n for n in notes if "left off" in n]) for t, hs, notes in sections]
        if attempt >= 2:
            fs *= 0.88
        if landscape:
            col_w = min(3.6, max(2.0, 0.3 * (w - 2 * m)))
            leg, leg_h = _legend_block(fig, renderer, sections, w - m - col_w, top, col_w, fs, 1)
            box = (m, bottom, w - 2 * m - col_w - gap, top - bottom)
            fits = leg_h <= top - bottom
        else:
            cols = 2 if w >= 2.5 else 1
            probe, leg_h = _legend_block(fig, renderer, sections, m, top, w - 2 * m, fs, cols)
            for a in probe:
                a.remove()
            leg, _ = _legend_block(fig, renderer, sections, m, bottom + leg_h, w - 2 * m, fs, cols)
            box = (m, bottom + leg_h + gap, w - 2 * m, top - bottom - leg_h - gap)
            fits = box[3] >= 0.4 * (top - bottom) or fs <= 4.5
        if fits or attempt == 4:
            break
        for a in leg:
            a.remove()
    return _Page(map_box=box, fs=6.0 * s, artists=artists + leg)


# ------------------------------------------------------------------------------------------ the figure


def _size_inches(size: str | Sequence[float] | None, size_in: Sequence[float] | None) -> tuple[float, float]:
    if size_in is not None and size is None:
        return (float(size_in[0]), float(size_in[1]))
    w_mm, h_mm = page_size_mm(size if size is not None else DEFAULT_PAGE)
    return (w_mm / 25.4, h_mm / 25.4)


def render_figure(
    ctx: MapContext,
    *,
    size: str | Sequence[float] | None = None,
    size_in: Sequence[float] | None = None,
    dpi: int = 150,
    north_arrow: bool = True,
    placement: bool = True,
    label_min_zoom: float = 9,
    report: dict[str, Any] | None = None,
    view: Sequence[float] | None = None,
    bounds: Sequence[float] | None = None,
) -> Any:
    """Draw the static map of a prepared context; returns a ``matplotlib.figure.Figure``.

    Built with mathtext and LaTeX off (:data:`TEXT_RC`): text from data is never interpreted.

    Parameters
    ----------
    ctx
        From :func:`borderkit.maps.prepare_context`.
    size
        Print size: a name of :data:`PAGE_SIZES_MM`, ``"WxHmm"`` or ``(width, height)`` in mm
        (:func:`page_size_mm`); default :data:`DEFAULT_PAGE`. *size_in* gives it in inches instead.
    dpi
        Resolution of the figure (the PNG's pixels are ``size_mm / 25.4 * dpi``).
    north_arrow
        Draw an arrow to true north.
    placement
        Place labels without overlaps (the default). ``False`` puts every label at its first position,
        overlapping or not (to compare).
    label_min_zoom
        As :func:`borderkit.maps.make_map`'s: the web map's zoom from which minor places (villages,
        crossings, …) are labelled; the static map labels them when its scale is that zoom or larger.
    report
        A dict to fill with what was drawn: ``size_mm``, ``dpi``, ``labels_placed``,
        ``labels_left_off`` (``[{"kind", "text"}]``: no room without an overlap),
        ``labels_not_at_this_scale`` (count: labelled on the web map only when zoomed in).
    view, bounds
        What the map shows, as :func:`borderkit.maps.make_map`'s initial view: ``(lat, lon, zoom)``
        (the web map's zoom: the print shows what a screen of the map's width in CSS pixels shows)
        or ``(west, south, east, north)`` in degrees. Default: the data, with a 4 % margin.
    """
    from borderkit.maps.folium_build import initial_view

    start = initial_view(view=view, bounds=bounds)  # checked as the web map checks it (ValueError)
    import matplotlib

    with matplotlib.rc_context({**TEXT_RC, "font.family": [FONT_FAMILY[0]]}):
        return _render_figure(
            ctx,
            size_in=_size_inches(size, size_in),
            dpi=dpi,
            north_arrow=north_arrow,
            placement=placement,
            label_min_zoom=label_min_zoom,
            report=report,
            start=None if start is None else (("view" if view is not None else "bounds"), start),
        )


def _render_figure(
    ctx: MapContext,
    *,
    size_in: tuple[float, float],
    dpi: int,
    north_arrow: bool,
    placement: bool,
    label_min_zoom: float,
    report: dict[str, Any] | None,
    start: tuple[str, tuple[float, ...]] | None = None,
) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    p = ctx.payload
    w, h = size_in
    m = min(0.3, max(0.12, 0.035 * min(w, h)))
    box_w_guess = w - 2 * m - (min(3.6, max(2.0, 0.3 * (w - 2 * m))) + 0.6 * m if w / h >= 1.2 else 0.0)
    if start is not None and start[0] == "view":  # centre and the web map's zoom: a screen of the box's width
        lat_c, lon_c, zoom = start[1]
        half = 156543.03392 * math.cos(math.radians(lat_c)) / 2**zoom * box_w_guess * 96.0 / 2
        west, south, east, north = lon_c, lat_c, lon_c, lat_c
    else:
        west, south, east, north = start[1] if start is not None else p["bounds"]
    proj = _projection((west, south, east, north))
    bx, by = _xy(proj, [[west, south], [east, south], [east, north], [west, north], [(west + east) / 2, north]])
    x0, x1, y0, y1 = float(bx.min()), float(bx.max()), float(by.min()), float(by.max())
    if start is not None and start[0] == "view":
        data_box = (x0 - half, x1 + half, y0 - 1.0, y1 + 1.0)  # the height follows from the box's aspect
    elif start is not None:  # the box asked for, as it is
        data_box = (x0, x1, y0, y1)
    else:
        pad_x, pad_y = 0.04 * (x1 - x0), 0.04 * (y1 - y0)
        data_box = (x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y)

    fig = Figure(figsize=size_in, dpi=dpi)
    fig.patch.set_facecolor("white")
    renderer = FigureCanvasAgg(fig).get_renderer()
    s = min(1.25, max(0.72, min(size_in) / 7.0))
    fs = 6.0 * s
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))  # moved by the layout below
    drawn = _Drawn()
    lat0 = math.radians((south + north) / 2)

    def zoom_for(box_w_in: float, extent_w_m: float) -> float:
        # the web map's zoom at this scale (Leaflet's CSS pixel = 1/96 inch), for label_min_zoom
        return math.log2(156543.03392 * math.cos(lat0) * box_w_in * 96.0 / extent_w_m)

    _draw_context(ax, proj, p, fs, drawn)
    _draw_basemap(ax, proj, p, fs, drawn, zoom_for(box_w_guess, data_box[1] - data_box[0]))
    water_ids = {str(r.get("place_id")) for r in (p.get("context") or {}).get("lakes", [])}
    area_handles = _draw_areas(ax, proj, p) + _draw_viewsheds(ax, proj, p)
    line_handles = _draw_lines(ax, proj, p)
    inc_handles = _draw_incidents(ax, proj, p, fs, drawn)
    inc_handles += _draw_places(ax, proj, p, fs, drawn, water_ids)
    inc_handles += _draw_measurements(ax, proj, p, fs, drawn)
    area_notes = [
        f"{t['source_a']} {t['party_a']} / {t['source_b']} {t['party_b']}: {t['area_km2']:,.1f} km²"
        for t in p.get("area_totals", [])
        if t["kind"] == "disagreement"
    ][:8]
    meas_zooms = [lab.min_zoom for lab in drawn.labels if lab.kind == "measurement" and lab.min_zoom is not None]

    # the page: the map's box depends on the legend, whose notes say how many measurement labels are left off
    # at this scale, which depends on the box's width: the width is fixed by the page's orientation first
    zoom_eq = zoom_for(box_w_guess, data_box[1] - data_box[0])
    scaled_out = [z for z in meas_zooms if zoom_eq < z]
    notes = (
        [
            f"{len(scaled_out)} measurement label(s) left off at this scale (shown on the web map from zoom "
            f"{int(min(scaled_out))})"
        ]
        if scaled_out
        else []
    )
    sections = [
        ("Context", drawn.context_handles, []),
        ("Lines (one per source)", line_handles, []),
        ("Areas (km², WGS84 ellipsoid)", area_handles, area_notes),
        ("Incidents (ring: location uncertainty), places, measurements", inc_handles, notes),
    ]
    page = _layout(fig, renderer, ctx, [sec for sec in sections if sec[1]])
    left, bottom, bw, bh = page.map_box
    if bw <= 0.5 or bh <= 0.5:
        raise ValueError(
            f"no room for the map on a {size_in[0] * 25.4:.0f}x{size_in[1] * 25.4:.0f} mm page: "
            "give a larger --size (the title, legend and credits take the whole page)"
        )
    ax.set_position((left / w, bottom / h, bw / w, bh / h))
    extent = _fill_box(data_box, bw, bh)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_facecolor("#f4f3ef")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#666666")

    hill = _hillshade_image(ctx, proj, extent, 900)
    if hill is not None:
        ax.imshow(hill, extent=extent, origin="upper", interpolation="bilinear", zorder=1)
    furniture = _scale_bar(ax, proj, extent, page.fs * 1.1, (extent[1] - extent[0]) / (bw * 72.0))
    if north_arrow:
        furniture += _north_arrow(ax, proj, extent, page.fs * 1.6, (extent[1] - extent[0]) / (bw * 72.0))

    zoom_eq = zoom_for(bw, extent[1] - extent[0])
    labels, not_at_scale = [], 0
    for candidate in drawn.labels:
        lab_or_none = _in_frame(candidate, extent) if candidate.kind == "country" else candidate
        if lab_or_none is None:  # a country not in the frame: nothing to name
            continue
        lab = lab_or_none
        if not any(extent[0] <= a <= extent[1] and extent[2] <= b <= extent[3] for a, b in lab.anchors):
            continue  # its symbol is outside the frame (clipped): not labelled
        need = label_min_zoom if lab.min_zoom == -1.0 else lab.min_zoom
        if need is not None and zoom_eq < need:
            not_at_scale += 1  # as on the web map at this scale
            continue
        labels.append(lab)
    obstacles = [a.get_window_extent(renderer) for a in furniture] + _marker_boxes(ax, drawn.marks, fig.dpi)
    texts, dropped = _place_labels(ax, renderer, labels, obstacles, placement=placement)
    if report is not None:
        report.update(
            {
                "size_mm": [round(size_in[0] * 25.4, 3), round(size_in[1] * 25.4, 3)],
                "dpi": dpi,
                "labels_placed": len(texts),
                "labels_left_off": dropped,
                "labels_not_at_this_scale": not_at_scale,
            }
        )
    return fig


def _fill_box(
    data_box: tuple[float, float, float, float], box_w: float, box_h: float
) -> tuple[float, float, float, float]:
    """The data's extent widened (metres) to the box's aspect, so the map fills its box at one scale."""
    x0, x1, y0, y1 = data_box
    if (y1 - y0) / (x1 - x0) > box_h / box_w:
        extra = ((y1 - y0) * box_w / box_h - (x1 - x0)) / 2
        return (x0 - extra, x1 + extra, y0, y1)
    extra = ((x1 - x0) * box_h / box_w - (y1 - y0)) / 2
    return (x0, x1, y0 - extra, y1 + extra)


def _svg_fonts(svg: str) -> str:
    """Name DejaVu Sans' fallbacks in every ``<text>``'s font-family (the figure is laid out with DejaVu Sans).

    Only the style attribute matplotlib writes is changed: text content is XML-escaped, so ``<text style="``
    cannot come from the data.
    """
    names = ", ".join(f"'{n}'" if n != "sans-serif" else n for n in FONT_FAMILY)
    return re.sub(r"(<text style=\"[^\"]*?font-family: )'DejaVu Sans'", lambda mt: mt.group(1) + names, svg)


def save_static(
    case_or_layers: Any,
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    size: str | Sequence[float] | None = None,
    size_in: Sequence[float] | None = None,
    dpi: int = 150,
    north_arrow: bool = True,
    placement: bool = True,
    label_min_zoom: float = 9,
    report: dict[str, Any] | None = None,
    view: Sequence[float] | None = None,
    bounds: Sequence[float] | None = None,
    **kwargs: Any,
) -> Path:
    """Write a static PNG, SVG or PDF map.

    Parameters
    ----------
    case_or_layers
        What :func:`borderkit.maps.make_map` accepts (a ``Case``, layers, or a
        :class:`~borderkit.maps.context.MapContext` to reuse prepared data).
    path
        Output file; the format follows its suffix unless *fmt* is given.
    fmt
        ``"png"``, ``"svg"`` or ``"pdf"`` (:data:`STATIC_FORMATS`).
    size, size_in, dpi, north_arrow, placement, label_min_zoom, view, bounds
        As :func:`render_figure` (print size in mm, or in inches; resolution of the PNG).
    report
        A dict to fill (:func:`render_figure`'s, plus ``pixels`` for a PNG).
    **kwargs
        Passed to :func:`borderkit.maps.context.prepare_context` (``title``,
        ``hillshade``, ``simplify_m``, layers …).

    Returns
    -------
    pathlib.Path
        The written file. Labels left off for lack of room are named in a
        :class:`~borderkit.errors.MapLayerWarning` (and in *report*).
    """
    import matplotlib

    out = Path(path)
    fmt = (fmt or out.suffix.lstrip(".") or "png").lower()
    if fmt not in STATIC_FORMATS:
        raise ValueError(f"unsupported static format {fmt!r}; use png, svg or pdf")
    ctx = prepare_context(case_or_layers, **kwargs)
    rep: dict[str, Any] = {} if report is None else report
    with (
        matplotlib.rc_context(
            {
                "svg.hashsalt": "borderkit",
                "svg.fonttype": "none",  # text stays text, editable
                "pdf.fonttype": 42,  # TrueType embedded: text selectable
                "font.family": [FONT_FAMILY[0]],
                "path.simplify": False,
                **TEXT_RC,
            }
        ),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing from.*")
        warnings.filterwarnings("ignore", message=r".*Matplotlib currently does not support.*")
        fig = render_figure(
            ctx,
            size=size,
            size_in=size_in,
            dpi=dpi,
            north_arrow=north_arrow,
            placement=placement,
            label_min_zoom=label_min_zoom,
            report=rep,
            view=view,
            bounds=bounds,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(out) as tmp:
            if fmt == "png":
                fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": "borderkit (matplotlib)"})
                from PIL import Image

                with Image.open(tmp) as im:
                    rep["pixels"] = list(im.size)
            elif fmt == "pdf":
                fig.savefig(tmp, format="pdf", metadata={"CreationDate": None, "Creator": "borderkit (matplotlib)"})
            else:
                import io

                buf = io.StringIO()
                fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "borderkit (matplotlib)"})
                # matplotlib writes an XML comment before some elements; drop them (no data string in a comment)
                svg = re.sub(r"<!--.*?-->\n?", "", buf.getvalue(), flags=re.S)
                # bidirectional controls from the data as character references (as in the HTML): the text is
                # the same once parsed, and no invisible control reorders what a reader of the file sees
                for ch in BIDI_CONTROLS:
                    svg = svg.replace(ch, f"&#x{ord(ch):x};")
                tmp.write_text(_svg_fonts(svg), encoding="utf-8")
    if rep.get("labels_left_off"):
        names = ", ".join(repr(d["text"][:40]) for d in rep["labels_left_off"][:8])
        more = len(rep["labels_left_off"]) - 8
        warnings.warn(
            f"static map {out.name}: {len(rep['labels_left_off'])} label(s) left off, no room without an "
            f"overlap at this size: {names}{f' and {more} more' if more > 0 else ''}",
            MapLayerWarning,
            stacklevel=2,
        )
    return out
