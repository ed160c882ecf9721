"""The places model: names in any language, the name to show, finding a place, its point.

A places layer (schema ``PLACES``) names features in any number of languages, one text
column ``name_<tag>`` per BCP-47 language tag (``name_en``, ``name_hy``, ``name_ka``,
``name_uz-Cyrl`` …; see :func:`borderkit.schema.name_language`). :func:`place_names`
lists the languages a layer has, :func:`display_name` gives one name per place in a
chosen language with a documented fallback, and :func:`find_place` finds a place by
``place_id`` or by name in any of them, case-insensitively in every script
(:func:`fold_name`; the dotted and dotless i of Azerbaijani and Turkish included, so
``"ismayilli"``, ``"İsmayıllı"`` and ``"ISMAYILLI"`` all match). :func:`place_point`
gives the place's (lon, lat).

This module sits beside :mod:`borderkit.lines` above the io and registry layers; it
imports only :mod:`borderkit.errors` and :mod:`borderkit.schema` (pandas/shapely
objects come in as arguments).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from borderkit.errors import DatasetNotFoundError, ValidationError
from borderkit.schema import language_tag, name_language

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    import numpy
    import pandas

__all__ = [
    "DEFAULT_FALLBACK",
    "name_columns",
    "place_names",
    "display_name",
    "fold_name",
    "plain_name",
    "name_index",
    "find_place",
    "place_point",
    "is_empty_geometry",
]

DEFAULT_FALLBACK: tuple[str, ...] = ("en",)
"""Languages :func:`display_name` tries after the requested one, before any other."""

# Azerbaijani/Turkish: İ (U+0130) and ı (U+0131) are the dotted/dotless pair of i, and a capital I is
# the capital of ı in these languages but of i elsewhere. A search cannot know which reading a user
# meant, so every one of the four letters folds to "i": "ISMAYILLI" then matches both "İsmayıllı"
# (I read as ı) and "Ismayilli" (I read as i). Search keys only; the names themselves are never changed.
_I_FOLD = str.maketrans({"İ": "i", "ı": "i", "I": "i"})
_SPACES = re.compile(r"\s+")


def fold_name(text: Any) -> str:
    """Search key of a name: NFKC, case-folded in every script, Azerbaijani/Turkish i's unified.

    Unicode full case folding (``str.casefold``) handles Latin (``ß`` → ``ss``), Cyrillic
    (``Ё`` → ``ё``), Greek (final ``ς`` → ``σ``), Armenian (``Ա`` → ``ա``; the ligature ``և``,
    its capitals ``ԵՎ`` and the classical ``եւ`` are one key) and Georgian
    Mtavruli capitals (``Თ`` → ``თ``; Mkhedruli itself has no case). NFKC first makes
    compatibility forms (full-width letters, ligatures) and composed/decomposed spellings
    one key; runs of white space become one space. Diacritics are kept (see
    :func:`plain_name` for the diacritic-free key).

    Examples
    --------
    >>> fold_name("İsmayıllı") == fold_name("ISMAYILLI") == fold_name("ismayilli")
    True
    >>> fold_name("  Sev   Lake "), fold_name("Straße"), fold_name("ЁЛКА"), fold_name("ԱՐԱՐԱՏ")
    ('sev lake', 'strasse', 'ёлка', 'արարատ')
    """
    s = unicodedata.normalize("NFKC", str(text)).translate(_I_FOLD).casefold()
    # casefold can leave i + combining dot above (from a decomposed İ); it is the same i here
    s = unicodedata.normalize("NFKC", s).replace("i\u0307", "i")
    # Armenian: the ligature և folds to ե + ւ (classical spelling, Երեւան) but its capital is ԵՎ
    # (reformed spelling, ԵՐԵՎԱՆ); ե + ւ is always read "ev", so both spellings become եվ
    s = s.replace("եւ", "եվ")
    return _SPACES.sub(" ", s).strip()


def plain_name(text: Any) -> str:
    """:func:`fold_name` without diacritics (combining marks removed after canonical decomposition).

    Used only as a second search pass, when the exact key finds nothing. Letters that
    are not a base letter plus a mark (Azerbaijani ``ə``, Danish ``ø``) stay as they are;
    in Cyrillic, ``й`` and ``ё`` become ``и`` and ``е``.

    Examples
    --------
    >>> plain_name("Ağdam"), plain_name("Şuşa"), plain_name("Kəlbəcər"), plain_name("Ёлка")
    ('agdam', 'susa', 'kəlbəcər', 'елка')
    """
    d = unicodedata.normalize("NFD", fold_name(text))
    return unicodedata.normalize("NFC", "".join(ch for ch in d if not unicodedata.combining(ch)))


def name_columns(places: pandas.DataFrame) -> list[str]:
    """The name columns of a places layer (``name_<tag>``), in the layer's column order.

    A plain ``name`` column (a layer not read through the readers) counts too, last.
    """
    cols = [c for c in places.columns if isinstance(c, str) and name_language(c)]
    if "name" in places.columns:
        cols.append("name")
    return cols


def place_names(places: pandas.DataFrame) -> list[str]:
    """The languages a places layer names its places in: canonical BCP-47 tags, in column order.

    Only languages with at least one non-empty name are listed (``name_hy`` is always
    present in a layer read by borderkit, but may be empty in every row).

    Examples
    --------
    >>> import pandas as pd
    >>> place_names(pd.DataFrame({"name_en": ["Tbilisi"], "name_hy": [""], "name_KA": ["თბილისი"]}))
    ['en', 'ka']
    """
    out = []
    for c in places.columns:
        tag = name_language(c) if isinstance(c, str) else None
        if tag and tag not in out and bool(_text(places[c]).str.strip().ne("").any()):
            out.append(tag)
    return out


def _text(series: pandas.Series) -> pandas.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _candidates(columns: Sequence[str], lang: str, fallback: Sequence[str]) -> list[str]:
    """Columns to try, in order, for a name in ``lang`` (see :func:`display_name`)."""
    by_tag: dict[str, str] = {}
    for c in columns:
        tag = name_language(c)
        if tag and tag not in by_tag:
            by_tag[tag] = c
    order: list[str] = []

    def add(tag: str) -> None:
        low = tag.lower()
        # RFC 4647 lookup: the tag, then shorter and shorter prefixes (uz-Cyrl-UZ, uz-Cyrl, uz) …
        parts = low.split("-")
        for k in range(len(parts), 0, -1):
            prefix = "-".join(parts[:k])
            if parts[k - 1 : k] == ["x"] or len(parts[k - 1]) == 1:
                continue  # never stop at a singleton (x-, u-…)
            for t in by_tag:
                if t.lower() == prefix and t not in order:
                    order.append(t)
        # … then the more specific forms of it (zh → zh-Hans, zh-Hant), in column order
        for t in by_tag:
            if t.lower().startswith(low + "-") and t not in order:
                order.append(t)

    for tag in (lang, *fallback):
        canon = language_tag(tag)
        if canon is None:
            raise ValueError(f"{tag!r} is not a BCP-47 language tag; give one such as 'en', 'ka', 'uz-Cyrl'")
        add(canon)
    order += [t for t in by_tag if t not in order]  # then any language, in column order
    return [by_tag[t] for t in order]


def display_name(
    places: Any,
    *,
    lang: str = "en",
    fallback: Sequence[str] = DEFAULT_FALLBACK,
    return_lang: bool = False,
) -> Any:
    """One name per place in the language asked for, else the next language that has one.

    Order tried for each place (the first non-empty name wins):

    1. ``lang``, then its shorter forms (BCP-47 lookup, RFC 4647 3.4: ``uz-Cyrl-UZ``,
       ``uz-Cyrl``, ``uz``), then its longer forms present in the layer (``zh`` →
       ``zh-Hans``, ``zh-Hant``, in column order);
    2. each language of ``fallback`` (default ``("en",)``) the same way;
    3. any other language, in column order (``name_en`` first in a layer read by borderkit);
    4. a plain ``name`` column, then ``place_id``; else ``""``.

    Names are never transliterated or translated: a place without a Georgian name
    shows its English (or other) name, not a made-up Georgian one.

    Parameters
    ----------
    places
        A places layer (one name per row, vectorised over columns) or one row of it.
    lang
        BCP-47 tag of the language wanted (any case: ``"uz-cyrl"`` is ``"uz-Cyrl"``).
    fallback
        Languages to try next, in order.
    return_lang
        Also return the tag of the language each name is in (``""`` for ``name``/``place_id``),
        e.g. for an HTML ``lang`` attribute.

    Returns
    -------
    pandas.Series or str
        The names (a Series on the layer's index), or the name of one row; with
        ``return_lang``, a pair (names, languages).

    Raises
    ------
    ValueError
        When ``lang`` or a ``fallback`` entry is not a BCP-47 tag.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"place_id": ["tb", "x"], "name_en": ["Tbilisi", ""], "name_ka": ["თბილისი", ""],
    ...                   "name_uz-Cyrl": ["Тбилиси", "Тошкент"]})
    >>> display_name(p, lang="ka").tolist(), display_name(p, lang="uz").tolist()
    (['თბილისი', 'Тошкент'], ['Тбилиси', 'Тошкент'])
    >>> display_name(p.iloc[0], lang="os")
    'Tbilisi'
    """
    import pandas as pd

    row = isinstance(places, pd.Series)
    frame = places.to_frame().T if row else places
    cols = _candidates([str(c) for c in frame.columns], lang, fallback)
    cols += [c for c in ("name", "place_id") if c in frame.columns]
    names = pd.Series("", index=frame.index, dtype=object)
    langs = pd.Series("", index=frame.index, dtype=object)
    todo = pd.Series(True, index=frame.index)
    for c in cols:  # one vectorised pass per column, not per place
        text = _text(frame[c])
        take = todo & text.str.strip().ne("")
        names = names.where(~take, text)
        langs = langs.where(~take, name_language(c) or "")
        todo &= ~take
        if not todo.any():
            break
    if row:
        return (str(names.iloc[0]), str(langs.iloc[0])) if return_lang else str(names.iloc[0])
    return (names, langs) if return_lang else names


def name_index(places: pandas.DataFrame) -> pandas.DataFrame:
    """Every non-empty name of a places layer as a search index, built once per layer.

    One row per (place, name column) with ``pos`` (0-based row position in ``places``),
    ``column``, ``name``, ``key`` (:func:`fold_name`) and ``plain`` (:func:`plain_name`).
    ``place_id`` is indexed as a name too (column ``place_id``). Pass it to
    :func:`find_place` (``index=``) to search one layer many times.
    """
    import numpy as np
    import pandas as pd

    parts = []
    for c in ["place_id", *name_columns(places)] if "place_id" in places.columns else name_columns(places):
        text = _text(places[c])
        keep = text.str.strip().ne("").to_numpy()
        pos = np.flatnonzero(keep)
        parts.append(pd.DataFrame({"pos": pos, "column": c, "name": text.to_numpy(dtype=object)[pos]}))
    idx = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"pos": [], "column": [], "name": []})
    # folding is per string (Python's Unicode tables), but done once per layer
    idx["key"] = idx["name"].map(fold_name).astype(object)
    idx["plain"] = idx["key"].map(plain_name).astype(object)
    idx["pos"] = idx["pos"].astype(np.int64)
    return idx


def _pick(places: pandas.DataFrame, idx: pandas.DataFrame, hit: numpy.ndarray, query: str, how: str) -> Any:
    """The one place among ``idx[hit]``, None when none, an error naming them when several."""
    pos = idx["pos"].to_numpy()[hit]
    unique = sorted(set(pos.tolist()))
    if not unique:
        return None
    if len(unique) == 1:
        return places.iloc[unique[0]]
    shown = [
        f"{places.iloc[p]['place_id']} ({display_name(places.iloc[p])})"
        if "place_id" in places.columns
        else display_name(places.iloc[p])
        for p in unique[:8]
    ]
    more = f" … ({len(unique)} in all)" if len(unique) > 8 else ""
    raise DatasetNotFoundError(
        f"{query!r} {how} several places: {', '.join(shown)}{more}; give the full name or the place_id"
    )


def find_place(places: geopandas.GeoDataFrame, query: str, *, index: pandas.DataFrame | None = None) -> pandas.Series:
    """The row of a place by ``place_id`` or by its name in any language.

    Every name column (:func:`name_columns`) is searched with :func:`fold_name`: case-
    insensitive in every script, the Azerbaijani/Turkish ``İ``/``i``/``I``/``ı`` taken as one
    letter (so both readings of a capital ``I`` match). Passes, the first that finds
    something decides:

    1. ``place_id`` (folded);
    2. the whole name, in any language;
    3. a part of a name (substring), in any language;
    4. the whole name without diacritics (:func:`plain_name`: ``"Agdam"`` finds ``Ağdam``);
    5. a part of a name without diacritics.

    A pass that finds several places raises an error listing them (never a silent pick).
    The diacritic-free passes run only when the exact ones find nothing, so a name spelt
    with its diacritics is never confused with one spelt without.

    Parameters
    ----------
    places
        A places layer (schema ``PLACES``).
    query
        ``place_id`` or a name (or part of one) in any language.
    index
        :func:`name_index` of ``places``, to search one layer many times without folding it again.

    Returns
    -------
    pandas.Series
        The place's row.

    Raises
    ------
    DatasetNotFoundError
        No place matches (the message suggests close names), or a pass matches several places.
    """
    import numpy as np

    idx = name_index(places) if index is None else index
    key = fold_name(query)
    if not key:
        raise DatasetNotFoundError("no place name given; give a place_id or a name")
    keys = idx["key"].to_numpy(dtype=object)
    is_id = (idx["column"] == "place_id").to_numpy()
    found = _pick(places, idx, is_id & (keys == key), query, "is the place_id of")
    if found is not None:
        return found
    plain = plain_name(query)
    # each pass is computed only when the ones before it found nothing
    passes: list[tuple[Callable[[], numpy.ndarray], str]] = [
        (lambda: keys == key, "names"),
        (lambda: idx["key"].str.contains(key, regex=False).to_numpy(dtype=bool), "is part of the names of"),
        (lambda: idx["plain"].to_numpy(dtype=object) == plain, "names (without diacritics)"),
        (
            lambda: idx["plain"].str.contains(plain, regex=False).to_numpy(dtype=bool),
            "is part of the names (without diacritics) of",
        ),
    ]
    for hit, how in passes:
        found = _pick(places, idx, ~is_id & np.asarray(hit(), dtype=bool), query, how)
        if found is not None:
            return found
    choices = sorted(set(idx.loc[~is_id, "name"].astype(str)))
    close = difflib.get_close_matches(str(query), choices, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise DatasetNotFoundError(f"no place named {query!r} in the places layer{hint}")


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
