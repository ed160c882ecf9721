"""Static maps (PNG, SVG) with matplotlib — no browser needed.

The static map uses the same prepared data and the same styles as the
interactive one (:mod:`borderkit.maps.style`): one colour and dash pattern per
line source, disagreement and overlap polygons, incidents coloured by type with
their uncertainty rings, places with all their names, peaks with height and
source, measurement segments with labels, the hillshade, plus a scale bar, a
north arrow, a legend and a credits block naming every source and licence.

Projection
----------
The map is drawn in a transverse Mercator projection centred on the data
(``+proj=tmerc``, ``k_0 = 1``, WGS84), which is conformal and whose scale error
is below 0.2 % within 300 km of the centre. The scale bar's length is measured
on the ellipsoid at the bar's position (``pyproj.Geod``), and the north arrow
points to true north at its own position, so both are exact where they are
drawn. Uncertainty rings are geodesic circles (72 points).

Outputs are deterministic: fixed figure size and DPI, fixed fonts (DejaVu),
PNG metadata without a timestamp, SVG with a fixed hash salt and no date. SVG
text is converted to glyph paths and matplotlib's text comments are removed, so
no string from the data appears in the SVG file at all.
"""

from __future__ import annotations

import math
import os
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from borderkit._projection import LocalProjection
from borderkit.geodesy import GEOD
from borderkit.io.atomic import atomic_output
from borderkit.maps.context import MapContext, prepare_context
from borderkit.maps.layers import credits
from borderkit.maps.style import (
    DISAGREEMENT_STYLE,
    MEASUREMENT_STYLE,
    OVERLAP_STYLE,
    VIEWSHED_STYLE,
    mpl_dashes,
)
from borderkit.plotting import TEXT_RC

__all__ = ["save_static", "render_figure"]

_FONT = "DejaVu Sans"


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
    rgba = np.dstack([grey, grey, grey, alpha * 0.55])
    return rgba


def _nice_length(target_m: float) -> float:
    exp = 10 ** math.floor(math.log10(target_m))
    for m in (1, 2, 5, 10):
        if m * exp >= target_m:
            return m * exp
    return 10 * exp


def _scale_bar(ax: Any, proj: LocalProjection, extent: tuple[float, float, float, float]) -> None:
    x0, x1, y0, y1 = extent
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    lon, lat = proj.to_geographic(bx, by)
    length = _nice_length((x1 - x0) / 6.0)
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90.0, length)
    ex, ey = proj.to_local(lon2, lat2)
    dx = math.hypot(ex - bx, ey - by)
    h = 0.008 * (y1 - y0)
    ax.add_patch(_rect(bx, by, dx / 2, h, "#222222"))
    ax.add_patch(_rect(bx + dx / 2, by, dx / 2, h, "#ffffff", edge="#222222"))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx, by + 2.2 * h, "0", fontsize=7, ha="center", va="bottom", family=_FONT)
    ax.text(bx + dx, by + 2.2 * h, label, fontsize=7, ha="center", va="bottom", family=_FONT)
    ax.text(
        bx + dx / 2,
        by - 1.2 * h,
        "geodesic length at this latitude",
        fontsize=5.5,
        ha="center",
        va="top",
        family=_FONT,
        color="#444444",
    )


def _rect(x: float, y: float, w: float, h: float, color: str, edge: str | None = None) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor=edge or color, linewidth=0.6, zorder=30)


def _north_arrow(ax: Any, proj: LocalProjection, extent: tuple[float, float, float, float]) -> None:
    x0, x1, y0, y1 = extent
    ax_x, ax_y = x0 + 0.05 * (x1 - x0), y1 - 0.16 * (y1 - y0)
    lon, lat = proj.to_geographic(ax_x, ax_y)
    lon2, lat2, _ = GEOD.fwd(lon, lat, 0.0, 1000.0)
    nx, ny = proj.to_local(lon2, lat2)
    ang = math.atan2(nx - ax_x, ny - ax_y)
    size = 0.07 * (y1 - y0)
    tipx, tipy = ax_x + size * math.sin(ang), ax_y + size * math.cos(ang)
    ax.annotate(
        "",
        xy=(tipx, tipy),
        xytext=(ax_x, ax_y),
        arrowprops={"arrowstyle": "-|>", "color": "#111111", "lw": 1.6, "mutation_scale": 14},
        zorder=31,
    )
    ax.text(
        tipx,
        tipy + 0.01 * (y1 - y0),
        "N",
        ha="center",
        va="bottom",
        fontsize=10,
        fontweight="bold",
        family=_FONT,
        zorder=31,
    )


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


def render_figure(ctx: MapContext, *, size_in: tuple[float, float] = (12.0, 9.0), dpi: int = 150) -> Any:
    """Draw the static map of a prepared context; returns a ``matplotlib.figure.Figure``.

    Built with mathtext and LaTeX off (:data:`TEXT_RC`): text from data is never interpreted.
    """
    import matplotlib

    with matplotlib.rc_context(TEXT_RC):
        return _render_figure(ctx, size_in=size_in, dpi=dpi)


def _render_figure(ctx: MapContext, *, size_in: tuple[float, float], dpi: int) -> Any:
    from matplotlib.figure import Figure

    p = ctx.payload
    west, south, east, north = p["bounds"]
    proj = _projection((west, south, east, north))
    bx, by = _xy(proj, [[west, south], [east, south], [east, north], [west, north], [(west + east) / 2, north]])
    x0, x1, y0, y1 = float(bx.min()), float(bx.max()), float(by.min()), float(by.max())
    pad_x, pad_y = 0.04 * (x1 - x0), 0.04 * (y1 - y0)
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y

    fig = Figure(figsize=size_in, dpi=dpi)
    ax, extent, box_w = _map_axes(fig, (x0, x1, y0, y1), size_in)

    hill = _hillshade_image(ctx, proj, extent, 900)
    if hill is not None:
        ax.imshow(hill, extent=extent, origin="upper", interpolation="bilinear", zorder=1)
    handles = _draw_areas(ax, proj, p) + _draw_viewsheds(ax, proj, p)
    line_handles = _draw_lines(ax, proj, p)
    inc_handles = _draw_incidents(ax, proj, p) + _draw_places(ax, proj, p)
    # the web map's zoom at this scale (Leaflet's CSS pixel = 1/96 inch), for the labels' label_min_zoom
    lat0 = math.radians((south + north) / 2)
    zoom_eq = math.log2(156543.03392 * math.cos(lat0) * box_w * 96.0 / (extent[1] - extent[0]))
    unlabelled, min_zooms, meas_handles = _draw_measurements(ax, proj, p, zoom_eq)
    inc_handles += meas_handles

    _scale_bar(ax, proj, extent)
    _north_arrow(ax, proj, extent)

    fig.text(0.02, 0.965, _t(ctx.title), fontsize=14, fontweight="bold", family=_FONT, va="center")
    fig.text(0.02, 0.94, _t(ctx.subtitle), fontsize=8.5, family=_FONT, color="#444444", va="center")

    lax = fig.add_axes((0.70, 0.13, 0.28, 0.80))
    lax.axis("off")
    _stack_legends(
        fig,
        lax,
        [
            ("Lines (one per source)", line_handles, []),
            (
                "Areas (km², WGS84 ellipsoid)",
                handles,
                [
                    f"{t['source_a']} {t['party_a']} / {t['source_b']} {t['party_b']}: {t['area_km2']:,.1f} km²"
                    for t in p.get("area_totals", [])
                    if t["kind"] == "disagreement"
                ][:8],
            ),
            (
                "Incidents (ring: location uncertainty), places, measurements",
                inc_handles,
                [
                    f"{unlabelled} measurement label(s) left off at this scale (shown on the web map from zoom "
                    f"{min(min_zooms)})"
                ]
                if unlabelled
                else [],
            ),
        ],
    )

    credit_lines = _credits_text(ctx)
    fig.text(0.02, 0.115, credit_lines, fontsize=5.6, family=_FONT, va="top", color="#333333", linespacing=1.35)
    return fig


def _map_axes(
    fig: Any, bounds: tuple[float, float, float, float], size_in: tuple[float, float]
) -> tuple[Any, tuple[float, float, float, float], float]:
    """The map's axes, its extent widened to keep the map's aspect (metres), and the axes' width in inches."""
    x0, x1, y0, y1 = bounds
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.02, 0.13, 0.66, 0.80))
    # keep the map's aspect (metres) inside the axes box
    box_w, box_h = 0.66 * size_in[0], 0.80 * size_in[1]
    data_ratio = (y1 - y0) / (x1 - x0)
    if data_ratio > box_h / box_w:
        extra = ((y1 - y0) * box_w / box_h - (x1 - x0)) / 2
        x0, x1 = x0 - extra, x1 + extra
    else:
        extra = ((x1 - x0) * box_h / box_w - (y1 - y0)) / 2
        y0, y1 = y0 - extra, y1 + extra
    extent = (x0, x1, y0, y1)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_facecolor("#e9e7e1")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#666666")
    return ax, extent, box_w


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
        bits = [g["source"]]
        meta = []
        if g["date"]:
            meta.append(g["date"])
        if g["accuracy_m"] is not None:
            meta.append(f"±{g['accuracy_m']:,.0f} m")
        if g["meta"].get("licence"):
            meta.append(g["meta"]["licence"])
        label = _t(bits[0] + (" — " + ", ".join(meta) if meta else ""))
        line_handles.append(
            Line2D(
                [0],
                [0],
                color=st["color"],
                linestyle=cast(Any, mpl_dashes(st["dashArray"])),
                linewidth=1.6,
                label=textwrap.shorten(label, 70, placeholder="…"),
            )
        )
    return line_handles


def _draw_incidents(ax: Any, proj: LocalProjection, p: Mapping[str, Any]) -> list[Any]:
    """Incidents with their uncertainty rings (geodesic circles); a legend handle per incident type."""
    from matplotlib.lines import Line2D

    for r in p["incidents"]:
        if r["precision_m"] is not None:  # unknown uncertainty: no ring (never a ring of a made-up size)
            x, y = _geodesic_circle(proj, r["lon"], r["lat"], r["precision_m"])
            ax.fill(x, y, facecolor=r["color"], alpha=0.08, zorder=6)
            ax.plot(x, y, color=r["color"], linewidth=0.7, linestyle=(0, (2, 2)), zorder=6)
        px, py = _xy(proj, [[r["lon"], r["lat"]]])
        ax.scatter(px, py, s=42, color=r["color"], edgecolors="white", linewidths=1.2, zorder=9)
    inc_handles = [
        Line2D(
            [0],
            [0],
            marker="o",
            linestyle="none",
            markerfacecolor=t["color"],
            markeredgecolor="white",
            markersize=7,
            label=_t(textwrap.shorten(t["type"], 50, placeholder="…")),
        )
        for t in p.get("incident_types", [])
    ]
    return inc_handles


def _draw_places(ax: Any, proj: LocalProjection, p: Mapping[str, Any]) -> list[Any]:
    """Places (peaks with height and source, cities and towns labelled); the peak legend handle."""
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    for pl in p["places"]:
        # the label in the chosen language (make_map/save_static lang=); every name is in the HTML popup
        names = pl["label"]["name"] if pl.get("label") else " / ".join(n["name"] for n in pl["names"])
        if "point" in pl:
            px, py = _xy(proj, [pl["point"]])
            if pl["kind"] == "peak":
                ax.scatter(px, py, marker="^", s=36, color="#5d4037", edgecolors="white", linewidths=0.6, zorder=10)
                elev = ""
                if pl.get("elevation_m") is not None:
                    elev = f"\n{pl['elevation_m']:,.0f} m · " + pl.get("elevation_source_short", "")
                ax.text(
                    px[0],
                    py[0],
                    "  " + _t(textwrap.shorten(names, 60, placeholder="…")) + _t(elev),
                    fontsize=6,
                    va="center",
                    family=_FONT,
                    color="#3e2723",
                    zorder=11,
                    bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.6},
                )
            else:
                ax.scatter(px, py, s=9, color=pl["color"], edgecolors="white", linewidths=0.4, zorder=10)
                if pl["kind"] in ("city", "town"):
                    ax.text(
                        px[0],
                        py[0],
                        "  " + _t(textwrap.shorten(names, 60, placeholder="…")),
                        fontsize=5.5,
                        va="center",
                        family=_FONT,
                        color="#111111",
                        zorder=11,
                        bbox={"facecolor": "white", "alpha": 0.55, "edgecolor": "none", "pad": 0.5},
                    )
        else:
            for part in pl.get("lines", []):
                x, y = _xy(proj, part)
                ax.plot(x, y, color=pl["color"], linewidth=0.9, linestyle=(0, (3, 2)), zorder=4)
    if p["places"]:
        handles.append(
            Line2D([0], [0], marker="^", linestyle="none", color="#5d4037", label="peak: height · source")
        )
    return handles


def _draw_measurements(
    ax: Any, proj: LocalProjection, p: Mapping[str, Any], zoom_eq: float
) -> tuple[int, list[int], list[Any]]:
    """Measurement segments, labelled as on the web map at the zoom *zoom_eq*.

    Returns the number of labels left off at this scale, the labels' minimum zooms and the legend handle.
    """
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    unlabelled = 0
    min_zooms = [int(m["label_min_zoom"]) for m in p["measurements"] if m.get("label_min_zoom") is not None]
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
        ax.scatter(x, y, s=10, color="white", edgecolors="#111111", linewidths=0.8, zorder=12)
        if not primary:  # as on the web map: only the primary segment of a claim is labelled
            continue
        if m.get("label_min_zoom") is not None and zoom_eq < m["label_min_zoom"]:
            unlabelled += 1  # as on the web map at this scale: the label would stack on others
            continue
        value = m["value_text"] + (" · line: " + m["line_source"] if m["line_source"] else "")
        text = "\n".join(
            _t(textwrap.shorten(t, 60, placeholder="…"))
            for t in (m.get("label", ""), value, m.get("range_text", ""))
            if t
        )
        # anchored and offset as on the web map (Leaflet tooltip directions; offsets in pixels → points)
        at = m.get("label_at", "mid")
        ax_x = float(x[0] if at == "from" else x[1] if at == "to" else x.mean())
        ax_y = float(y[0] if at == "from" else y[1] if at == "to" else y.mean())
        direction = m.get("label_direction", "center")
        dx, dy = (m.get("label_offset") or [0, 0])[:2]
        gap = {"right": (6, 0), "left": (-6, 0), "top": (0, 6), "bottom": (0, -6)}.get(direction, (0, 0))
        ha = {"right": "left", "left": "right"}.get(direction, "center")
        va = {"top": "bottom", "bottom": "top"}.get(direction, "center")
        ax.annotate(
            text,
            (ax_x, ax_y),
            xytext=(gap[0] + 0.75 * float(dx), gap[1] - 0.75 * float(dy)),
            textcoords="offset points",
            fontsize=6,
            ha=ha,
            va=va,
            color="white",
            family=_FONT,
            zorder=13,
            bbox={"facecolor": "#111111", "alpha": 0.88, "edgecolor": "none", "pad": 1.2},
        )
    if p["measurements"]:
        handles.append(
            Line2D(
                [0],
                [0],
                color=MEASUREMENT_STYLE["color"],
                linestyle=(0, (4, 2.5)),
                label="measurement: what · value · line source",
            )
        )
    return unlabelled, min_zooms, handles


def _stack_legends(fig: Any, lax: Any, sections: Sequence[tuple[str, list[Any], list[str]]]) -> None:
    """Legends one below the other in *lax*, placed by their measured heights."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    ax_h = lax.get_window_extent(renderer).height
    y = 1.0
    for title, handles, notes in sections:
        if not handles:
            continue
        leg = lax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0, y),
            title=_t(title),
            title_fontsize=7.5,
            frameon=False,
            alignment="left",
            prop={"family": _FONT, "size": 6.5},
        )
        lax.add_artist(leg)
        y -= leg.get_window_extent(renderer).height / ax_h + (0.012 if notes else 0.0)
        for note in notes:
            txt = lax.text(
                0.02, y, _t(note), fontsize=5.5, family=_FONT, transform=lax.transAxes, va="top", color="#333333"
            )
            y -= txt.get_window_extent(renderer).height / ax_h * 1.25
        y -= 0.02


def _credits_text(ctx: MapContext) -> str:
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
    tol = ctx.report.get("simplify_tolerance_m", 0)
    disp = ctx.report.get("max_displacement_m", {})
    worst = max(disp.values()) if disp else 0.0
    text = "Sources: " + "; ".join(parts) + ". "
    text += (
        f"Lines simplified for display ({tol:g} m tolerance, largest displacement {worst:.1f} m). "
        "Each line is one source's drawing; borderkit does not decide where the border is. "
        "Transverse Mercator centred on the data; distances and areas on the WGS84 ellipsoid. Made with borderkit."
    )
    wrapped = textwrap.wrap(text, 210)
    if len(wrapped) > 9:
        wrapped = wrapped[:8] + [textwrap.shorten(" ".join(wrapped[8:]), 205, placeholder=" …")]
    return _t("\n".join(wrapped))


def save_static(
    case_or_layers: Any,
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    size_in: tuple[float, float] = (12.0, 9.0),
    dpi: int = 150,
    **kwargs: Any,
) -> Path:
    """Write a static PNG or SVG map.

    Parameters
    ----------
    case_or_layers
        What :func:`borderkit.maps.make_map` accepts (a ``Case``, layers, or a
        :class:`~borderkit.maps.context.MapContext` to reuse prepared data).
    path
        Output file; the format follows its suffix unless *fmt* is given.
    fmt
        ``"png"`` or ``"svg"``.
    size_in, dpi
        Figure size in inches and resolution (PNG).
    **kwargs
        Passed to :func:`borderkit.maps.context.prepare_context` (``title``,
        ``hillshade``, ``simplify_m``, layers …).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import matplotlib

    out = Path(path)
    fmt = (fmt or out.suffix.lstrip(".") or "png").lower()
    if fmt not in ("png", "svg"):
        raise ValueError(f"unsupported static format {fmt!r}; use png or svg")
    ctx = prepare_context(case_or_layers, **kwargs)
    with (
        matplotlib.rc_context(
            {
                "svg.hashsalt": "borderkit",
                "svg.fonttype": "path",
                "font.family": _FONT,
                "path.simplify": False,
                **TEXT_RC,
            }
        ),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing from.*")
        warnings.filterwarnings("ignore", message=r".*Matplotlib currently does not support.*")
        fig = render_figure(ctx, size_in=size_in, dpi=dpi)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(out) as tmp:
            if fmt == "png":
                fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": "borderkit (matplotlib)"})
            else:
                import io
                import re

                buf = io.StringIO()
                fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "borderkit (matplotlib)"})
                # matplotlib writes each text as an XML comment before its glyph paths (escaped, with "--"
                # broken up); drop the comments so that no data string is in the file at all.
                svg = re.sub(r"<!--.*?-->\n?", "", buf.getvalue(), flags=re.S)
                tmp.write_text(svg, encoding="utf-8")
    return out
