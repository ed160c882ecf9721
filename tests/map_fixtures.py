"""Small synthetic layers that follow the schemas, for tests, docs and trying the maps (internal).

``synthetic_layers()`` makes two line sources with territories (so the sources
disagree somewhere), incidents on several dates, places with names in four
languages (one peak, one road, one unlocated place), and a measurement table.
``synthetic_layers(hostile=True)`` puts :data:`HOSTILE` strings into every text
field, source URL, source name, party and type; ``payloads=`` puts other strings
there instead (e.g. :data:`TEMPLATE_PAYLOADS`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HOSTILE",
    "HOSTILE_URLS",
    "TEMPLATE_PAYLOADS",
    "TEMPLATE_URLS",
    "synthetic_layers",
    "hostile_text",
    "template_payloads",
]

HOSTILE = (
    "<script>window.__bk_pwned=1;alert(1)</script>",
    '<img src=x onerror="window.__bk_pwned=2;alert(2)">',
    "</script><script>window.__bk_pwned=3</script>",
    "<!--",
    "`${window.__bk_pwned=4}`",
    "\"'><svg onload=window.__bk_pwned=5>",
    "\u202eevil\u202c \u2028 \u2029 &amp; &lt;b&gt;",
)
"""Strings that would execute or break out if put into the page unescaped."""

HOSTILE_URLS = (
    "javascript:window.__bk_pwned=6;alert(6)",
    "JaVaScRiPt:alert(7)",
    "data:text/html,<script>alert(8)</script>",
    " https://example.org/lead-space",
    'https://example.org/"onmouseover="alert(9)',
    "vbscript:msgbox(10)",
)
"""Source URLs that must never become links."""


TEMPLATE_PAYLOADS = (
    "{{7*7}}",
    "{{ 7*'7' }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{# c #}",
    "{% raw %}r{% endraw %}",
    "{{",
    "{%",
    "}}",
    "%}",
    "#}",
    '{{ " }}',
    "${{7*7}}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{{ config.items() }}",
    "{{ self.__init__.__globals__ }}",
    "</script>",
    "<!--",
    "\\ \\\\ \"q\" 'q'",
    "$x^2$",
    r"$\frac{1}{2}$",
    "\\$",
    "%s %(x)s {0} {x}",
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=1</script>",
)
"""Template-engine payloads (Jinja2 expressions, statements, comments, raw blocks, unbalanced
braces, other engines' syntax), script breakers and matplotlib mathtext; every one must show literally."""


TEMPLATE_URLS = (
    "https://example.org/{{7*7}}?q={%25raw%25}",
    "https://example.org/a?b={{7*7}}",
    "{{7*7}}",
)
"""Source URLs with template syntax: a link only where it is an http(s) URL, the text kept literally."""


def template_payloads(sentinel: str) -> tuple[str, ...]:
    """:data:`TEMPLATE_PAYLOADS` plus Jinja2 payloads that would create the file *sentinel* if evaluated."""
    return TEMPLATE_PAYLOADS + (
        "{{ lipsum.__globals__.os.system('touch " + sentinel + "') }}",
        "{{ cycler.__init__.__globals__.os.popen('touch " + sentinel + "').read() }}",
        "{% set x = lipsum.__globals__['os'].system('touch " + sentinel + "') %}",
        "{{ lipsum.__globals__.os.getcwd() }}",
    )


def hostile_text(i: int = 0, payloads: tuple[str, ...] = HOSTILE) -> str:
    """All hostile strings joined, rotated by *i* so each field gets them in a different order."""
    items = list(payloads)
    k = i % len(items)
    return " ".join(items[k:] + items[:k])


def synthetic_layers(*, hostile: bool = False, payloads: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A dict of layers (``lines``, ``territories``, ``incidents``, ``places``, ``measurements``, ``viewsheds``).

    ``payloads`` (implies *hostile*) replaces :data:`HOSTILE` as the strings put into every field.

    Coordinates are around 45.5–46.5° E, 39.3–40.3° N (lon/lat, EPSG:4326).
    """
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import LineString, Point, Polygon

    counter = iter(range(1000))
    hostile = hostile or payloads is not None
    words = HOSTILE if payloads is None else tuple(payloads)

    def t(text: str) -> str:
        return text + " " + hostile_text(next(counter), words) if hostile else text

    def src(name: str) -> str:
        return name + (hostile_text(next(counter), words) if hostile else "")

    src_a, src_b = src("synthetic-a"), src("synthetic-b")
    arm, aze = ("ARM", "AZE") if not hostile else ("ARM " + hostile_text(3, words), "AZE " + hostile_text(5, words))
    line_a = [(45.60, 39.30), (45.80, 39.55), (45.70, 39.80), (45.95, 40.05), (45.90, 40.30)]
    line_b = [(45.62, 39.30), (45.85, 39.56), (45.75, 39.78), (45.90, 40.06), (45.90, 40.30)]

    # densify so simplification has something to do
    def dense(coords: list[tuple[float, float]], n: int = 40) -> list[tuple[float, float]]:
        out = []
        for (x0, y0), (x1, y1) in zip(coords[:-1], coords[1:], strict=True):
            for k in range(n):
                f = k / n
                wiggle = 0.00005 * ((k % 3) - 1)
                out.append((x0 + (x1 - x0) * f + wiggle, y0 + (y1 - y0) * f))
        out.append(coords[-1])
        return out

    common = {
        "source_version": t("1.0"),
        "scale_or_accuracy_m": 100.0,
        "licence": t("CC0-1.0"),
        "attribution": t("Synthetic data"),
        "claimant": "cartographic",
        "left_party": arm,
        "right_party": aze,
        "section": t("mainland"),
    }
    lines = gpd.GeoDataFrame(
        [
            {
                "line_id": t("a-1"),
                "name": t("Line A"),
                "source": src_a,
                "source_date": "2017",
                "notes": t("note"),
                **common,
                "geometry": LineString(dense(line_a)),
            },
            {
                "line_id": t("b-1"),
                "name": t("Line B"),
                "source": src_b,
                "source_date": t("1992"),
                "notes": t("note"),
                **common,
                "geometry": LineString(dense(line_b)),
            },
        ],
        crs="EPSG:4326",
    )

    def halves(coords: list[tuple[float, float]]) -> tuple[Polygon, Polygon]:
        west = Polygon([(45.3, 39.30), *coords, (45.3, 40.30)])
        east = Polygon([(46.3, 39.30), *coords, (46.3, 40.30)])
        return west, east

    terr = []
    for s, coords in ((src_a, line_a), (src_b, line_b)):
        w, e = halves(coords)
        for party, geom in ((arm, w), (aze, e)):
            terr.append(
                {
                    "territory_id": t(f"{party[:3]}-{s[:11]}"),
                    "party": party,
                    "name": t(party),
                    "source": s,
                    "source_version": "1.0",
                    "source_date": "2017",
                    "scale_or_accuracy_m": 100.0,
                    "licence": t("CC0-1.0"),
                    "attribution": t("Synthetic"),
                    "notes": t(""),
                    "geometry": geom,
                }
            )
    territories = gpd.GeoDataFrame(terr, crs="EPSG:4326")

    def sources(i: int) -> list[dict[str, str]]:
        recs = [
            {
                "publication": t("Example News"),
                "title": t("Report"),
                "date": "2021-05-14",
                "url": f"https://example.org/report?id={i}&x=1",
            }
        ]
        if hostile:
            recs += [{"publication": t("Bad link"), "title": t("x"), "date": t("d"), "url": u} for u in HOSTILE_URLS]
        if payloads is not None:
            recs += [
                {"publication": t("Templated link"), "title": t("y"), "date": t("d"), "url": u} for u in TEMPLATE_URLS
            ]
        return recs

    inc_rows = []
    specs = [
        ("2020-07-12", "day", "exchange of fire", 45.75, 39.60, 500.0),
        ("2021-05-12", "day", "advance", 45.85, 39.75, 3000.0),
        ("2021-11-16", t("week") if hostile else "week", "exchange of fire", 45.92, 40.00, 1000.0),
        ("2022-09-13", "month", "shelling", 45.70, 39.45, 5000.0),
        ("2024-04-10", "year", "advance", 45.80, 39.90, 2000.0),
    ]
    for i, (date, prec, typ, lon, lat, pm) in enumerate(specs):
        inc_rows.append(
            {
                "incident_id": t(f"inc-{i}"),
                "date": pd.Timestamp(date),
                "date_end": pd.NaT,
                "date_precision": prec,
                "type": t(typ) if hostile and i == 0 else typ,
                "description": t(f"Description {i}"),
                "actors": t("Side A; Side B"),
                "place_name": t(f"Place {i}"),
                "place_id": t(""),
                "precision_m": pm,
                "sources": sources(i),
                "reported_claims": t("up to 3.5 km"),
                "geometry": Point(lon, lat),
            }
        )
    incidents = gpd.GeoDataFrame(inc_rows, crs="EPSG:4326")

    places = gpd.GeoDataFrame(
        [
            {
                "place_id": t("peak1"),
                "kind": "peak",
                "name_en": t("Mount Example"),
                "name_hy": t("Օրինակ"),
                "name_az": t("Nümunə dağı"),
                "name_ru": t("гора Пример"),
                "elevation_m": 3550.0,
                "elevation_source": t("GeoNames 395602 (cities)"),
                "coord_source": t("GeoNames"),
                "notes": t(""),
                "geometry": Point(45.78, 39.70),
            },
            {
                "place_id": t("village1"),
                "kind": t("village") if hostile else "village",
                "name_en": t("Exampleville"),
                "name_hy": t(""),
                "name_az": t("Nümunəkənd"),
                "name_ru": t(""),
                "elevation_m": float("nan"),
                "elevation_source": t(""),
                "coord_source": t("GeoNames"),
                "notes": t("n"),
                "geometry": Point(45.65, 39.95),
            },
            {
                "place_id": t("town1"),
                "kind": "town",
                "name_en": t("Sampletown"),
                "name_hy": t("Նմուշ"),
                "name_az": t(""),
                "name_ru": t("Образец"),
                "elevation_m": 1200.0,
                "elevation_source": t("DEM"),
                "coord_source": t("GeoNames"),
                "notes": t(""),
                "geometry": Point(45.55, 39.50),
            },
            {
                "place_id": t("road1"),
                "kind": "road",
                "name_en": t("Example road"),
                "name_hy": t(""),
                "name_az": t(""),
                "name_ru": t(""),
                "elevation_m": float("nan"),
                "elevation_source": t(""),
                "coord_source": t("OSM"),
                "notes": t(""),
                "geometry": LineString([(45.5, 39.6), (45.7, 39.65), (46.0, 39.7)]),
            },
            {
                "place_id": t("lost1"),
                "kind": "village",
                "name_en": t("Unlocated"),
                "name_hy": t(""),
                "name_az": t(""),
                "name_ru": t(""),
                "elevation_m": float("nan"),
                "elevation_source": t(""),
                "coord_source": t(""),
                "notes": t("no citable coordinates"),
                "geometry": None,
            },
        ],
        crs="EPSG:4326",
    )
    measurements = pd.DataFrame(
        [
            {
                "claim_id": t("town1-to-border"),
                "label": t("Sampletown → border"),
                "from_lon": 45.55,
                "from_lat": 39.50,
                "to_lon": 45.70,
                "to_lat": 39.43,
                "value": 15.26,
                "unit": "km",
                "line_source": src_a,
                "claimed_value": 12.0,
                "claimed_unit": "km",
                "qualifier": t("about"),
                "quantity": "distance",
                "statement": t("about 12 km from the border"),
                "method": t("geodesic WGS84"),
                "range_text": t("2 lines: 15.3–15.9 km"),
                "reading": t("(a) shortest distance"),
                "verdict": t("inconsistent"),
                "accept": t("10.8 km to 13.2 km"),
                "claim_verdict": t("depends on reading"),
                "all_sources": t("synthetic-a 15.3 km ✗"),
                "other_readings": t("(b) toward somewhere: 12.0 km (consistent)"),
                "note": t("note"),
                "features": t("place:town1"),
                "label_at": "to",
                "label_direction": "right",
                "label_min_zoom": 0,
            },
            {
                "claim_id": t("advance-depth"),
                "label": t("advance depth"),
                "from_lon": 45.80,
                "from_lat": 39.55,
                "to_lon": 45.85,
                "to_lat": 39.56,
                "value": 3.5,
                "unit": "km",
                "line_source": src_b,
                "claimed_value": 3.5,
                "claimed_unit": "km",
                "qualifier": t("up to"),
                "quantity": "advance_depth",
                "statement": t("advanced up to 3.5 km"),
                "method": t("geodesic WGS84"),
                "value_text": t("+3.50 km"),
                "reach": t("an advance of 3.5 km from this line reaches the place"),
                "label_offset": [0, -10],
            },
        ]
    )
    viewsheds = gpd.GeoDataFrame(
        [
            {
                "name": t("Viewshed from the peak"),
                "observer_height_m": 2.0,
                "method": t("synthetic"),
                "details": [[t("observer"), t("on the peak")], [t("DEM"), t("synthetic DEM")]],
                "geometry": Polygon([(45.74, 39.66), (45.82, 39.66), (45.82, 39.74), (45.74, 39.74)]),
            }
        ],
        crs="EPSG:4326",
    )
    return {
        "viewsheds": viewsheds,
        "lines": lines,
        "territories": territories,
        "incidents": incidents,
        "places": places,
        "measurements": measurements,
    }
