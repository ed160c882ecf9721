"""The HTML page of a map: deterministic element ids, rendering, the offline check and saving.

:func:`render_html` renders a ``folium.Map`` from :func:`borderkit.maps.make_map`
to one string, byte-for-byte the same for the same inputs (element ids come
from a counter, not ``uuid``); :func:`save_html` writes it atomically and, for
an offline map, checks that the page refers to nothing outside itself
(:func:`external_references`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.io.atomic import atomic_output

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = ["deterministic_ids", "render_html", "external_references", "save_html"]

_ID_LOCK = threading.Lock()


@contextlib.contextmanager
def deterministic_ids(prefix: str = "bk") -> Iterator[None]:
    """Give every branca/folium element created inside the block a counter id instead of a uuid."""
    from branca.element import Element

    counter = itertools.count(1)
    with _ID_LOCK:
        original = Element.__dict__["_generate_id"]
        Element._generate_id = classmethod(lambda cls: f"{prefix}{next(counter):04d}")  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            Element._generate_id = original  # type: ignore[method-assign]



_HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _random_names(root: Any, html: str) -> list[str]:
    """Names of elements that kept a random (uuid) id and whose name is in the page."""
    seen: set[int] = set()
    found: list[str] = []
    stack = [root]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        if _HEX_ID.match(str(getattr(el, "_id", ""))) and el.get_name() in html:
            found.append(el.get_name())
        stack.extend(getattr(el, "_children", {}).values())
        for part in ("header", "html", "script"):
            child = getattr(el, part, None)
            if child is not None and hasattr(child, "_children"):
                stack.append(child)
    return sorted(found)


def _fix_random_ids(root: Any) -> None:
    """Give elements that kept a random id (added to the map after :func:`make_map`) a counter id.

    Depth-first in insertion order, so the same code adding the same elements
    gives the same ids; the parents' child dicts are re-keyed to the new names.
    """
    from collections import OrderedDict

    counter = itertools.count(1)
    stack = [root]
    seen: set[int] = set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        children = getattr(el, "_children", None)
        if children:
            items = []
            for key, child in children.items():
                if _HEX_ID.match(str(getattr(child, "_id", ""))):
                    old = child.get_name()
                    child._id = f"ux{next(counter):04d}"
                    key = child.get_name() if key == old else key
                items.append((key, child))
            el._children = OrderedDict(items)
            stack.extend(reversed(list(el._children.values())))
        for part in ("script", "html", "header"):  # e.g. a Popup's Html, a Figure's sections
            child = getattr(el, part, None)
            if child is not None and hasattr(child, "_children") and hasattr(child, "get_name"):
                if _HEX_ID.match(str(getattr(child, "_id", ""))):
                    child._id = f"ux{next(counter):04d}"
                stack.append(child)


def render_html(m: folium.Map) -> str:
    """The complete HTML page of a map, as a string (deterministic for the same inputs).

    Raises
    ------
    RuntimeError
        An element still has a random (uuid) id and its name is in the page (the
        output would not be reproducible). Elements added to the map after
        :func:`make_map` get counter ids here, in the order they were added.
    """
    root = m.get_root()
    _fix_random_ids(root)
    with deterministic_ids("bx"):
        html = root.render()
    html = "\n".join(line.rstrip() for line in html.splitlines()) + "\n"
    bad = _random_names(root, html)
    if bad:
        raise RuntimeError(
            f"the map contains elements with random ids ({', '.join(bad[:3])}); add elements inside make_map "
            "or give them a fixed _id so that the output is reproducible"
        )
    return html


def external_references(html: str) -> list[str]:
    """``src``/``href`` attribute values of the page's tags that are not ``data:`` URIs or fragments.

    Parsed with :class:`html.parser.HTMLParser`, which (like a browser) does not
    parse tags inside ``<script>``/``<style>`` bodies, so inlined library source is
    not mistaken for markup.
    """
    from html.parser import HTMLParser

    found: list[str] = []

    class _P(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name in ("src", "href", "srcset", "poster", "data", "action", "formaction") and value is not None:
                    v = value.strip()
                    if not (v.startswith("data:") or v.startswith("#")):
                        found.append(f"<{tag} {name}={v}>")

    parser = _P(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return found


def save_html(m: folium.Map, path: str | os.PathLike[str], *, offline: bool | None = None) -> Path:
    """Write the map as one UTF-8 HTML file (byte-identical for the same inputs).

    Parameters
    ----------
    m
        A map from :func:`make_map`.
    path
        Output file; parent folders are created.
    offline
        ``None`` writes the map as it was built. ``True``/``False`` checks that
        it was built that way (offline-ness is decided in :func:`make_map`,
        which drops the tile layers and inlines the assets).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        *offline* disagrees with how the map was built, or an offline map
        refers to an external resource.
    """
    built_offline = getattr(m, "borderkit_offline", False)
    if offline is not None and bool(offline) != built_offline:
        raise ValueError(
            f"this map was built with offline={built_offline}; build it with make_map(..., offline={bool(offline)})"
        )
    html = render_html(m)
    if built_offline:
        refs = external_references(html)
        if refs:
            raise ValueError("offline map refers to external resources: " + ", ".join(refs[:5]))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as tmp:
        tmp.write_bytes(html.encode("utf-8"))
    return out
