"""The web assets of a map: vendored Leaflet + plugins, and borderkit's own page script (internal).

Two ways to put them into a page:

* **offline** — every CSS and JS file is inlined (``<style>``/``<script>``); the
  images the Leaflet CSS refers to become ``data:`` URIs and the
  ``sourceMappingURL`` comment is dropped, so the page references nothing outside
  itself;
* **online** — ``<link>``/``<script>`` tags pointing at the jsDelivr npm CDN URL of
  the exact vendored version, with ``integrity="sha384-…"`` computed from the
  vendored bytes and ``crossorigin="anonymous"``; the two layer-control images are
  still inlined (a CSS rule after the link) so that no unhashed file is fetched.

borderkit's own scripts and style sheets (``web/``: the page, the vector basemap) are always inlined.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

from borderkit.maps.escape import html_text

__all__ = ["manifest", "asset_bytes", "head_html", "ASSET_ORDER"]

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
WEB = HERE / "web"

# (package, file) in the order they go into the page
ASSET_ORDER = (
    ("leaflet", "dist/leaflet.css"),
    ("leaflet.fullscreen", "dist/Control.FullScreen.css"),
    ("leaflet.polylinemeasure", "Leaflet.PolylineMeasure.css"),
    ("leaflet", "dist/leaflet.js"),
    ("leaflet.fullscreen", "dist/Control.FullScreen.umd.js"),
    ("leaflet.polylinemeasure", "Leaflet.PolylineMeasure.js"),
)

GEOMAN = "@geoman-io/leaflet-geoman-free"
# the trace tool's plugin (only in maps that draw a borderkit-georeferenced scan; see borderkit.maps.trace)
TRACE_ASSET_ORDER = (
    (GEOMAN, "dist/leaflet-geoman.css"),
    (GEOMAN, "dist/leaflet-geoman.min.js"),
)


@cache
def manifest() -> dict[str, Any]:
    """The parsed ``assets/manifest.json``."""
    return json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))


def _package(name: str) -> dict[str, Any]:
    for pkg in manifest()["packages"]:
        if pkg["name"] == name:
            return pkg
    raise KeyError(name)


def _file(name: str, rel: str) -> dict[str, Any]:
    for f in _package(name)["files"]:
        if f["path"] == rel:
            return f
    raise KeyError(f"{name}/{rel}")


@cache
def asset_bytes(name: str, rel: str) -> bytes:
    """Bytes of a vendored file (checked against the manifest's sha256)."""
    import hashlib

    pkg = _package(name)
    data = (ASSETS / pkg["directory"] / _file(name, rel)["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != _file(name, rel)["sha256"]:
        from borderkit.errors import RegistryError

        raise RegistryError(
            f"vendored asset {pkg['directory']}/{rel} does not match assets/manifest.json; "
            "restore it with git checkout or re-vendor with python -m borderkit.maps._vendor"
        )
    return data


def _data_uri(name: str, rel: str, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(asset_bytes(name, rel)).decode("ascii")


def _inline_safe(text: str, what: str) -> str:
    low = text.lower()
    for bad in ("</script", "</style", "<!--"):
        if bad in low:
            raise ValueError(f"{what} contains {bad!r}; it cannot be inlined safely")
    return text


def _leaflet_css_offline() -> str:
    css = asset_bytes("leaflet", "dist/leaflet.css").decode("utf-8")
    for img in ("layers.png", "layers-2x.png", "marker-icon.png"):
        css = css.replace(f"url(images/{img})", f"url({_data_uri('leaflet', 'dist/images/' + img, 'image/png')})")
    if "url(images/" in css:
        raise ValueError("leaflet.css refers to an image that is not inlined")
    return css


def _strip_source_map(js: str) -> str:
    lines = js.splitlines()
    return "\n".join(line for line in lines if not line.startswith("//# sourceMappingURL=")) + "\n"


def _online_image_overrides() -> str:
    return (
        ".leaflet-control-layers-toggle{background-image:url("
        + _data_uri("leaflet", "dist/images/layers.png", "image/png")
        + ")}\n.leaflet-retina .leaflet-control-layers-toggle{background-image:url("
        + _data_uri("leaflet", "dist/images/layers-2x.png", "image/png")
        + ")}\n.leaflet-default-icon-path{background-image:url("
        + _data_uri("leaflet", "dist/images/marker-icon.png", "image/png")
        + ")}\n"
    )


def web_text(name: str) -> str:
    """borderkit's own page script or style sheet (``web/borderkit.js`` / ``web/borderkit.css``)."""
    return (WEB / name).read_text(encoding="utf-8")


def _geoman_css_offline() -> str:
    # The plugin's icons are SVG data URIs in quoted CSS strings, some with an XML comment ("<!--"),
    # which the inliner refuses; the CSS escape \3c (a space ends it) is the same "<" to the CSS parser.
    css = asset_bytes(GEOMAN, "dist/leaflet-geoman.css").decode("utf-8")
    css = "\n".join(line for line in css.splitlines() if not line.startswith("/*# sourceMappingURL="))
    return css.replace("<!--", "\\3c !--") + "\n"


def head_html(*, offline: bool, trace: bool = False, trace_tool: bool = False) -> str:
    """The ``<head>`` fragment that loads every asset of a map.

    *trace* adds borderkit's ``web/trace.js`` (sheet frames), *trace_tool* also the drawing plugin.
    """
    out: list[str] = []
    for name, rel in ASSET_ORDER + (TRACE_ASSET_ORDER if trace and trace_tool else ()):
        is_css = rel.endswith(".css")
        label = f"{name} {_package(name)['version']} ({_package(name)['licence']}) {rel}"
        if offline:
            if is_css:
                if (name, rel) == ("leaflet", "dist/leaflet.css"):
                    text = _leaflet_css_offline()
                elif name == GEOMAN:
                    text = _geoman_css_offline()
                else:
                    text = asset_bytes(name, rel).decode("utf-8")
                out.append(f"<style>/* {label} */\n{_inline_safe(text, label)}</style>")
            else:
                text = _strip_source_map(asset_bytes(name, rel).decode("utf-8"))
                out.append(f"<script>/* {label} */\n{_inline_safe(text, label)}</script>")
        else:
            f = _file(name, rel)
            url = html_text(f["cdn_url"])
            sri = html_text(f["integrity"])
            if is_css:
                out.append(f'<link rel="stylesheet" href="{url}" integrity="{sri}" crossorigin="anonymous"/>')
                if (name, rel) == ("leaflet", "dist/leaflet.css"):
                    out.append(f"<style>/* leaflet images, inlined */\n{_online_image_overrides()}</style>")
            else:
                out.append(f'<script src="{url}" integrity="{sri}" crossorigin="anonymous"></script>')
    out.append(f"<style>/* borderkit */\n{_inline_safe(web_text('borderkit.css'), 'borderkit.css')}</style>")
    out.append(f"<script>/* borderkit */\n{_inline_safe(web_text('borderkit.js'), 'borderkit.js')}</script>")
    out.append(f"<style>/* borderkit basemap */\n{_inline_safe(web_text('basemap.css'), 'basemap.css')}</style>")
    out.append(f"<script>/* borderkit basemap */\n{_inline_safe(web_text('basemap.js'), 'basemap.js')}</script>")
    if trace:
        out.append(f"<style>/* borderkit trace */\n{_inline_safe(web_text('trace.css'), 'trace.css')}</style>")
        out.append(f"<script>/* borderkit trace */\n{_inline_safe(web_text('trace.js'), 'trace.js')}</script>")
    return "\n".join(out)


def software_credits(*, trace_tool: bool = False) -> list[dict[str, str]]:
    """Name, version, licence and homepage of every vendored package the page loads."""
    used = {name for name, _ in ASSET_ORDER + (TRACE_ASSET_ORDER if trace_tool else ())}
    return [
        {"name": p["name"], "version": p["version"], "licence": p["licence"], "url": p["homepage"]}
        for p in manifest()["packages"]
        if p["name"] in used
    ]
