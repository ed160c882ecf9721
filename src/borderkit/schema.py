"""Column schemas of the three layer kinds (lines, incidents, places), territories and claims.

The schemas are data, not code: loaders, validators, the dataset builder and the
documentation (DESIGN.md) all read them from here, so there is one definition.

Conventions
-----------
* Every layer is a GeoDataFrame in EPSG:4326 (longitude, latitude in degrees,
  ``always_xy`` order).
* Parties are ISO 3166-1 alpha-3 codes (``ARM``, ``AZE``, ``GEO``, ``IRN``,
  ``TUR`` …). A line's ``claimant`` is a party code, several codes joined by
  ``;``, or ``"cartographic"`` for a line drawn by a map maker who asserts no
  claim.
* Lengths are metres (suffix ``_m``), areas square kilometres (``_km2``).
* Text columns hold ``""`` (never NaN) when a value is unknown; numbers hold NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Column",
    "LayerSchema",
    "LINES",
    "TERRITORIES",
    "INCIDENTS",
    "PLACES",
    "CLAIMS",
    "PLACE_KINDS",
    "DATE_PRECISIONS",
    "SOURCE_KEYS",
    "SCHEMAS",
    "NAME_PREFIX",
    "NAMES_COLUMN",
    "language_tag",
    "name_column",
    "name_language",
]


@dataclass(frozen=True)
class Column:
    """One column of a layer schema.

    Parameters
    ----------
    name
        Column name.
    dtype
        One of ``"str"``, ``"float"``, ``"int"``, ``"date"``, ``"sources"``
        (list of source records), ``"geometry"``.
    required
        A file that lacks a required column is rejected (with the name of the
        column and how to add it); optional columns are filled with their empty
        value.
    description
        Meaning and unit, shown in DESIGN.md and by ``borderkit validate``.
    """

    name: str
    dtype: str
    required: bool
    description: str


@dataclass(frozen=True)
class LayerSchema:
    """The columns of one layer kind and the geometry types it accepts."""

    kind: str
    id_column: str | None
    columns: tuple[Column, ...]
    geometry_types: tuple[str, ...]
    allow_empty_geometry: bool = False
    language_prefix: str | None = None
    """When set (``"name_"`` for places), every column ``<prefix><BCP-47 tag>`` is a text
    column of the layer, one per language (see :func:`name_language`), besides the listed ones."""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


PLACE_KINDS = (
    "peak",
    "lake",
    "village",
    "town",
    "city",
    "airport",
    "road",
    "crossing",
    "base",
    "region",
)
"""Allowed values of ``places.kind``."""

DATE_PRECISIONS = ("day", "week", "month", "year")
"""Allowed values of ``incidents.date_precision``."""

SOURCE_KEYS = ("publication", "title", "date", "url")
"""Keys of one record in ``incidents.sources`` (a list of such records)."""

_SOURCE_META = (
    Column("source", "str", True, "Registry name of the source this feature comes from (e.g. 'natural-earth-10m')."),
    Column("source_version", "str", True, "Version of the source data (e.g. '5.1.1')."),
    Column("source_date", "str", True, "Date or year the source depicts, ISO 8601 ('2017', '1992-06')."),
    Column(
        "scale_or_accuracy_m",
        "float",
        True,
        "Horizontal accuracy of the line in metres (for a map, its scale-limited accuracy).",
    ),
    Column("licence", "str", True, "Licence of the source data (SPDX id or short name)."),
    Column("attribution", "str", False, "Attribution text the licence requires (empty when none)."),
)

LINES = LayerSchema(
    kind="lines",
    id_column="line_id",
    columns=(
        Column("line_id", "str", True, "Unique id of the line."),
        Column("name", "str", True, "Human-readable name of the line."),
        *_SOURCE_META,
        Column(
            "claimant",
            "str",
            True,
            "Who asserts this line: an ISO alpha-3 party code, codes joined by ';', or 'cartographic'.",
        ),
        Column("left_party", "str", True, "Party on the left of the line's direction of travel (ISO alpha-3)."),
        Column("right_party", "str", True, "Party on the right of the line's direction of travel (ISO alpha-3)."),
        Column("section", "str", False, "Which part of the boundary (e.g. 'mainland', 'nakhchivan', 'exclave')."),
        Column("notes", "str", False, "Known artefacts or caveats of this line."),
        Column("geometry", "geometry", True, "LineString or MultiLineString, EPSG:4326."),
    ),
    geometry_types=("LineString", "MultiLineString"),
)

TERRITORIES = LayerSchema(
    kind="territories",
    id_column="territory_id",
    columns=(
        Column("territory_id", "str", True, "Unique id of the territory."),
        Column("party", "str", True, "Party the source assigns this area to (ISO alpha-3)."),
        Column("name", "str", True, "Name of the territory as the source gives it."),
        *_SOURCE_META,
        Column("notes", "str", False, "Known artefacts or caveats."),
        Column("geometry", "geometry", True, "Polygon or MultiPolygon, EPSG:4326."),
    ),
    geometry_types=("Polygon", "MultiPolygon"),
)

INCIDENTS = LayerSchema(
    kind="incidents",
    id_column="incident_id",
    columns=(
        Column("incident_id", "str", True, "Unique id of the incident."),
        Column("date", "date", True, "Date of the incident (first day when it spans several)."),
        Column("date_end", "date", False, "Last day when the incident spans several days (else empty)."),
        Column("date_precision", "str", True, "How precise 'date' is: day, week, month or year."),
        Column("type", "str", True, "Kind of incident (e.g. 'exchange of fire', 'advance', 'exercise')."),
        Column("description", "str", True, "What happened, in the project's words."),
        Column("actors", "str", False, "Who was involved; several joined by '; '."),
        Column("place_name", "str", True, "The place the reports name."),
        Column("place_id", "str", False, "Id of the place in the places layer the point was taken from."),
        Column("precision_m", "float", True, "Radius of location uncertainty in metres (> 0)."),
        Column(
            "sources",
            "sources",
            True,
            "One or more source records {publication, title, date, url}; JSON text in flat files.",
        ),
        Column("reported_claims", "str", False, "Numbers the sources state (e.g. 'advanced up to 3.5 km')."),
        Column("geometry", "geometry", True, "Point, EPSG:4326."),
    ),
    geometry_types=("Point",),
)

PLACES = LayerSchema(
    kind="places",
    id_column="place_id",
    columns=(
        Column("place_id", "str", True, "Unique id of the place."),
        Column("kind", "str", True, "One of: " + ", ".join(PLACE_KINDS) + "."),
        Column("name_en", "str", True, "English name."),
        Column("name_hy", "str", False, "Armenian name (empty when unknown, never guessed)."),
        Column("name_az", "str", False, "Azerbaijani name (empty when unknown, never guessed)."),
        Column("name_ru", "str", False, "Russian name (empty when unknown, never guessed)."),
        # any other language: a column name_<BCP-47 tag> (name_ka, name_uz-Cyrl ...), see language_tag
        Column("elevation_m", "float", False, "Elevation above mean sea level in metres (NaN when unknown)."),
        Column("elevation_source", "str", False, "Citation of elevation_m."),
        Column("coord_source", "str", False, "Citation of the coordinates."),
        Column("notes", "str", False, "Caveats (e.g. why a place has no geometry)."),
        Column("geometry", "geometry", True, "Point (or LineString for roads), EPSG:4326; empty when unlocated."),
    ),
    geometry_types=("Point", "LineString", "MultiLineString"),
    allow_empty_geometry=True,
    language_prefix="name_",
)

CLAIMS = LayerSchema(
    kind="claims",
    id_column="claim_id",
    columns=(
        Column("claim_id", "str", True, "Unique id of the claim."),
        Column("statement", "str", True, "The claim as a short quotation of the source's wording."),
        Column("quantity", "str", True, "What is claimed: 'distance', 'advance_depth' or 'elevation'."),
        Column("claimed_value", "float", True, "The number the source states."),
        Column("claimed_unit", "str", True, "Unit of claimed_value: 'm' or 'km'."),
        Column("qualifier", "str", False, "'about', 'up to', 'at least', 'exactly' … as the source words it."),
        Column("subject", "str", True, "What the number is about: 'place:<id>' or 'incident:<id>'."),
        Column(
            "reference",
            "str",
            True,
            "What it is measured against, e.g. 'border:ARM|AZE', 'territory:AZE/nakhchivan', 'dem'.",
        ),
        Column("incident_id", "str", False, "The incident the claim was made about, if any."),
        Column("source", "str", True, "Publication, title and date of the report that states the claim."),
        Column("source_url", "str", False, "http(s) URL of the report."),
        Column("readings", "str", False, "Plausible readings when the claim is ambiguous ('from what?')."),
        Column("notes", "str", False, "Context."),
    ),
    geometry_types=(),
)

SCHEMAS = {s.kind: s for s in (LINES, TERRITORIES, INCIDENTS, PLACES, CLAIMS)}
"""Every schema by its kind name."""


# ---------------------------------------------------------------------------
# Names in any language: name_<BCP-47 tag> columns
# ---------------------------------------------------------------------------

NAME_PREFIX = "name_"
"""Prefix of a places layer's name columns: ``name_<tag>`` holds the names in language ``<tag>``."""

NAMES_COLUMN = "names"
"""Column a file may use instead of (or besides) name columns: a mapping ``{tag: name}`` (JSON text in
flat files, an object in GeoJSON). The readers turn it into ``name_<tag>`` columns; it is never kept."""

# RFC 5646 (BCP 47) "langtag" syntax, ASCII only (re.ASCII: with IGNORECASE alone [a-z] would also
# match U+017F and U+212A). The primary language subtag is restricted to the 2-3 letters of ISO 639
# (the 4-8 letter forms the grammar allows are reserved or unassigned), so that an unrelated column
# such as "name_long" is not read as a language. Registry membership is not checked: "name_qq" is
# well formed and accepted, as a tag for a language the registry lacks would be.
_LANGTAG = re.compile(
    r"""
    (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3})
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?P<rest>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*
             (?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*
             (?:-x(?:-[a-z0-9]{1,8})+)?)
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)


def language_tag(text: str) -> str | None:
    """The canonical spelling of a BCP-47 language tag, or ``None`` when ``text`` is not one.

    Case is not significant in BCP 47; the canonical form (RFC 5646, 2.1.1) has the language
    in lower case, the script in title case and the region in upper case. ``_`` is accepted as a
    separator (some tools turn ``-`` into ``_`` in column names) and written as ``-``.

    Examples
    --------
    >>> language_tag("UZ_cyrl"), language_tag("sr-latn-rs"), language_tag("zh-hant"), language_tag("ka")
    ('uz-Cyrl', 'sr-Latn-RS', 'zh-Hant', 'ka')
    >>> language_tag("long") is None, language_tag("en-") is None, language_tag("") is None
    (True, True, True)
    """
    t = str(text).strip().replace("_", "-")
    m = _LANGTAG.fullmatch(t)
    if m is None:
        return None
    parts = [m["language"].lower()]
    if m["script"]:
        parts.append(m["script"].title())
    if m["region"]:
        parts.append(m["region"].upper())
    if m["rest"]:
        parts.append(m["rest"].lstrip("-").lower())
    return "-".join(parts)


def name_language(column: str) -> str | None:
    """The language tag of a name column (``"name_uz-Cyrl"`` → ``"uz-Cyrl"``), else ``None``.

    The prefix is matched without case and may also be written ``name:`` (as OpenStreetMap does);
    the tag is returned in its canonical case (:func:`language_tag`).

    Examples
    --------
    >>> name_language("NAME_KA"), name_language("name:sr-Latn"), name_language("name_long"), name_language("kind")
    ('ka', 'sr-Latn', None, None)
    """
    c = str(column)
    if len(c) <= len(NAME_PREFIX) or c[: len(NAME_PREFIX)].lower() not in (NAME_PREFIX, "name:"):
        return None
    return language_tag(c[len(NAME_PREFIX) :])


def name_column(tag: str) -> str:
    """The column that holds names in language ``tag`` (``"UZ-cyrl"`` → ``"name_uz-Cyrl"``).

    Raises
    ------
    ValueError
        When ``tag`` is not a BCP-47 language tag.
    """
    canon = language_tag(tag)
    if canon is None:
        raise ValueError(
            f"{tag!r} is not a BCP-47 language tag; write a tag such as 'en', 'ka', 'uz-Cyrl' or 'sr-Latn'"
        )
    return NAME_PREFIX + canon
