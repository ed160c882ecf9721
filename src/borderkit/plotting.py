"""matplotlib settings shared by every figure borderkit draws (static maps, terrain profiles).

Importing this module imports nothing (matplotlib is imported by the function
that needs it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["TEXT_RC", "literal_text"]

TEXT_RC: dict[Any, Any] = {"text.parse_math": False, "text.usetex": False}
"""matplotlib settings under which every text is drawn literally: no mathtext (``$…$``), no LaTeX.

Every Text artist reads ``text.parse_math`` when it is created, so a whole figure
is built under these settings; data such as ``$x^2$`` or ``\\frac`` are shown as
written, never interpreted.
"""


@contextlib.contextmanager
def literal_text() -> Iterator[None]:
    """``matplotlib.rc_context(TEXT_RC)``: build a figure inside it so that no data text is interpreted.

    Examples
    --------
    >>> from borderkit.plotting import literal_text
    >>> with literal_text():  # doctest: +SKIP
    ...     fig = draw_something()
    """
    import matplotlib

    with matplotlib.rc_context(TEXT_RC):
        yield
