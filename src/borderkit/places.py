"""The places model: finding a named place in any language and its point.

A places layer (schema ``PLACES``) names features in several languages
(``name_en``, ``name_hy``, ``name_az``, ``name_ru``). :func:`find_place` finds one
by ``place_id`` or by name in any of them, case-insensitively, with the dotted
and dotless i of Azerbaijani and Turkish (``İ``/``i``, ``I``/``ı``) treated as
the same letter, so that ``"ismayilli"``, ``"İsmayıllı"`` and ``"ISMAYILLI"``
all match. :func:`place_point` gives the place's (lon, lat).

This module sits beside :mod:`borderkit.lines` above the io and registry layers;
it imports only :mod:`borderkit.errors` (pandas/shapely objects come in as arguments).
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from typing import TYPE_CHECKING, Any

from borderkit.errors import DatasetNotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    import pandas

__all__ = ["NAME_COLUMNS", "fold_name", "find_place", "place_point", "is_empty_geometry"]

NAME_COLUMNS = ("name_en", "name_hy", "name_az", "name_ru", "name")
"""Columns searched for a place's name, in this order (``place_id`` is tried first)."""

# Azerbaijani/Turkish: İ (U+0130) and ı (U+0131) are the dotted/dotless pair of i; str.casefold maps
# İ to "i" + combining dot above and leaves ı alone, so a plain casefold would not match "İsmayıllı"
# with "ismayilli". Both fold to "i" here (a search key only; the names themselves are never changed).
_I_FOLD = str.maketrans({"İ": "i", "ı": "i", "I": "i"})


def fold_name(text: Any) -> str:
    """Search key of a name: NFC-normalised, stripped, case-folded, Azerbaijani/Turkish i's unified.

    Examples
    --------
    >>> fold_name("İsmayıllı") == fold_name("ISMAYILLI") == fold_name("ismayilli")
    True
    >>> fold_name("  Sev Lake ")
    'sev lake'
    """
    s = unicodedata.normalize("NFC", str(text)).strip().translate(_I_FOLD).casefold()
    return s.replace("i\u0307", "i")


def is_empty_geometry(geometry: Any) -> bool:
    """Whether a geometry cell is missing: ``None``, NaN or an empty geometry.

    Examples
    --------
    >>> import shapely
    >>> is_empty_geometry(None), is_empty_geometry(shapely.Point()), is_empty_geometry(shapely.Point(1, 2))
    (True, True, False)
    """
    if geometry is None or (isinstance(geometry, float) and math.isnan(geometry)):
        return True
    return bool(getattr(geometry, "is_empty", True))


def find_place(places: geopandas.GeoDataFrame, name: str) -> pandas.Series:
    """The row of a place by ``place_id`` or by name in any language (case-insensitive).

    Tried in order: exact ``place_id``; an exact name in one of :data:`NAME_COLUMNS`;
    a unique partial name. Comparison uses :func:`fold_name`.

    Parameters
    ----------
    places
        A places layer (schema ``PLACES``).
    name
        ``place_id`` or a name (or part of one) in any language.

    Returns
    -------
    pandas.Series
        The place's row.

    Raises
    ------
    DatasetNotFoundError
        No place matches (the message suggests close names), or a partial name
        matches several places.
    """
    key = fold_name(name)
    if "place_id" in places.columns:
        hit = places[places["place_id"].astype(str).map(fold_name) == key]
        if len(hit):
            return hit.iloc[0]
    cols = [c for c in NAME_COLUMNS if c in places.columns]
    folded = {c: places[c].fillna("").astype(str).map(fold_name) for c in cols}
    for c in cols:
        hit = places[folded[c] == key]
        if len(hit):
            return hit.iloc[0]
    for c in cols:
        hit = places[folded[c].str.contains(key, regex=False)]
        if len(hit) == 1:
            return hit.iloc[0]
        if len(hit) > 1:
            names = ", ".join(sorted(hit[c].astype(str)))
            raise DatasetNotFoundError(f"{name!r} matches several places ({names}); give the full name or place_id")
    choices = sorted({str(v) for c in cols for v in places[c].dropna() if str(v)})
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise DatasetNotFoundError(f"no place named {name!r} in the places layer{hint}")


def place_point(places: geopandas.GeoDataFrame, name: str) -> tuple[float, float]:
    """(lon, lat) of a place by ``place_id`` or name in any language (see :func:`find_place`).

    A road or other non-point place gives its representative point.

    Raises
    ------
    DatasetNotFoundError
        No such place.
    ValidationError
        The place is unlocated (empty geometry): the message quotes why.
    """
    row = find_place(places, name)
    g = row.geometry
    if is_empty_geometry(g):
        note = str(row.get("notes", "") or "").split(". ")[0]
        raise ValidationError(
            f"place {row.get('place_id', name)!r} is unlocated (no geometry in the places layer)"
            + (f": {note}" if note else "")
        )
    if g.geom_type != "Point":
        g = g.representative_point()
    return float(g.x), float(g.y)
