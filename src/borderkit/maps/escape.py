"""Escaping helpers for everything that goes from data into a map.

The maps never build HTML from data strings in JavaScript: data travel as JSON in
a ``<script type="application/json">`` block and the page's own script puts them
into the DOM with ``textContent``. Where a string must be HTML (the names in
Leaflet's layer control, which Leaflet inserts with ``innerHTML``, and the page
title) it is escaped with :func:`html_text` first.

Rules
-----
* :func:`html_text` — ``&``, ``<``, ``>``, ``"`` and ``'`` become entities, and
  bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F,
  U+061C) become numeric character references, so a right-to-left override in a
  source name cannot reorder the text around it in the file.
* :func:`script_json` — JSON that is safe inside ``<script>``: ``<``, ``>``, ``&``,
  ``'``, the backtick, U+2028, U+2029 and the bidi controls are written as
  ``\\uXXXX`` escapes, so ``</script>`` or ``<!--`` inside data cannot end or
  change the script block and the JSON is also valid JavaScript.
* :func:`safe_url` — only absolute ``http``/``https`` URLs with a host are links;
  anything else (``javascript:``, ``data:``, relative, with control characters or
  whitespace) returns ``None`` and is shown as plain text.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

__all__ = ["BIDI_CONTROLS", "html_text", "script_json", "safe_url", "clean_text"]

BIDI_CONTROLS = (
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
)
"""Unicode bidirectional formatting characters (escaped wherever data are written)."""

_HTML = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "`": "&#x60;",
    **{c: f"&#x{ord(c):x};" for c in BIDI_CONTROLS},
}
_HTML_RE = re.compile("[" + re.escape("".join(_HTML)) + "]")

_SCRIPT = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "`": "\\u0060",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
    **{c: f"\\u{ord(c):04x}" for c in BIDI_CONTROLS},
}
_SCRIPT_RE = re.compile("[" + re.escape("".join(_SCRIPT)) + "]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: Any) -> str:
    """A data value as display text: ``None``/NaN → ``""``, other values → ``str``.

    C0 control characters other than tab and newline are dropped (they have no
    display form and some break JSON consumers); everything else is kept as it
    is — escaping is the job of the writer, not of this function.
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, (str, list, dict, tuple)) and pd.isna(value)):
            return ""
    except (ImportError, TypeError, ValueError):
        pass
    return _CONTROL_RE.sub("", str(value))


def html_text(value: Any) -> str:
    """Escape *value* for HTML text or a quoted attribute value.

    Examples
    --------
    >>> html_text('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return _HTML_RE.sub(lambda m: _HTML[m.group(0)], clean_text(value))


def script_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialise *obj* as JSON that can be placed inside ``<script>`` verbatim.

    Keys are sorted and floats must be finite, so the same object always gives the
    same bytes. Non-ASCII letters (Armenian, Azerbaijani, Russian names) are kept
    as UTF-8; only the characters listed in the module docstring are escaped.

    Examples
    --------
    >>> script_json({"a": "</script><b>"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(
        obj,
        ensure_ascii=False,
        allow_nan=False,
        sort_keys=True,
        indent=indent,
        separators=(",", ":") if indent is None else (",", ": "),
    )
    return _SCRIPT_RE.sub(lambda m: _SCRIPT[m.group(0)], text)


def safe_url(value: Any) -> str | None:
    """Return *value* if it is an absolute ``http(s)`` URL that is safe as a link, else ``None``.

    Examples
    --------
    >>> safe_url("https://example.org/a?b=1")
    'https://example.org/a?b=1'
    >>> safe_url("javascript:alert(1)") is None
    True
    >>> safe_url(" https://example.org") is None
    True
    """
    if not isinstance(value, str) or not value:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch in BIDI_CONTROLS for ch in value):
        return None
    if any(ch in value for ch in "<>\"`'\\"):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or not value.lower().startswith(("http://", "https://"))
    ):
        return None
    try:
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    return value
