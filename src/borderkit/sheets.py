"""Sheet nomenclature of the Soviet (and Russian) topographic map series.

Every sheet is a trapezoid of meridians and parallels on SK-42 (Pulkovo 1942). The
1:1,000,000 grid (the International Map of the World grid) has rows of 4° latitude
lettered A … V from the equator and columns of 6° longitude numbered 1 … 60 eastward
from 180° (column *c* = Gauss–Krüger zone *c* − 30 east of Greenwich). Each larger
scale divides its parent:

============  ==============================  ==============  ===============
scale         name                            divides         sheet size
============  ==============================  ==============  ===============
1:1,000,000   ``K-38``                        —               4° × 6°
1:500,000     ``K-38-А`` … ``Г``              1:1M into 2×2   2° × 3°
1:200,000     ``K-38-I`` … ``XXXVI``          1:1M into 6×6   40′ × 1°
1:100,000     ``K-38-1`` … ``144``            1:1M into 12×12 20′ × 30′
1:50,000      ``K-38-1-А`` … ``Г``            1:100k into 2×2 10′ × 15′
1:25,000      ``K-38-1-А-а`` … ``г``          1:50k into 2×2  5′ × 7′30″
============  ==============================  ==============  ===============

Numbers and letters run row by row from the north-west corner (А Б / В Г).

**North of 60°** sheets of every scale are published doubled in longitude, and
**north of 76°** quadrupled — except 1:200,000, which is tripled there. The name of a
combined sheet is the name of its western ordinary sheet followed by the last index of
the others: ``P-37,38``, ``P-52-23,24``, ``P-52-V,VI``, ``T-37,38,39,40``. (Sources:
the Soviet/Russian military topography manuals, e.g. *Военная топография*, 1986;
the rule and the examples ``P-52-V,VI`` and ``P-52-23,24`` are quoted in many teaching
notes on «разграфка и номенклатура топографических карт».) Combined sheets are groups
of ordinary sheets inside one parent, starting at its western edge. Quadrupled
1:500,000, 1:50,000 and 1:25,000 sheets (north of 76°) would cross their parent
sheet; their naming is not implemented and such names are refused.

**Southern hemisphere**: Soviet sheets south of the equator carry a suffix (Ю.П.)
and are not supported; names and areas south of the equator are refused.

Letters: row letters are Latin (Cyrillic look-alikes such as ``К`` are accepted). The
quadrant letters are Cyrillic on the sheets (А Б В Г, lower case а б в г at 1:25,000);
the Latin transliterations A B V G and the A B C D used by some catalogues are
accepted. A lone Latin ``V`` after the column is the Roman numeral 5 (1:200,000): write
the 1:500,000 sheet as ``K-38-В`` (Cyrillic) or ``K-38-C``, or pass ``scale=500000``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from borderkit.errors import ValidationError

__all__ = [
    "SCALES",
    "Sheet",
    "parse_sheet",
    "sheet",
    "sheet_at",
    "sheets_covering",
    "sheets_geojson",
    "sheet_outline",
]

ROWS = "ABCDEFGHIJKLMNOPQRSTUV"
"""1:1M rows from the equator, 4° each (A = 0–4° N … V = 84–88° N)."""

# scale -> (height, width) of an ordinary sheet in arc-seconds (exact integers)
SCALES: dict[int, tuple[int, int]] = {
    1_000_000: (4 * 3600, 6 * 3600),
    500_000: (2 * 3600, 3 * 3600),
    200_000: (40 * 60, 3600),
    100_000: (20 * 60, 30 * 60),
    50_000: (10 * 60, 15 * 60),
    25_000: (5 * 60, 7 * 60 + 30),
}

_UPPER = "АБВГ"
_LOWER = "абвг"
# Latin look-alikes / transliterations of the quadrant letters
_QUAD = {"А": 0, "Б": 1, "В": 2, "Г": 3, "A": 0, "B": 1, "V": 2, "G": 3, "C": 2, "D": 3}
# Cyrillic look-alikes of the Latin row letters
_ROW_CYR = {"А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "К": "K", "М": "M", "О": "O", "Р": "P",
            "Т": "T", "Х": "X"}
_ROMAN = {v: i for i, v in enumerate([
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII",
    "XVIII", "XIX", "XX", "XXI", "XXII", "XXIII", "XXIV", "XXV", "XXVI", "XXVII", "XXVIII", "XXIX", "XXX", "XXXI",
    "XXXII", "XXXIII", "XXXIV", "XXXV", "XXXVI"], start=1)}
_ROMAN_OF = {i: v for v, i in _ROMAN.items()}
_TOKEN = re.compile(r"\d+|[A-Za-zА-Яа-яЁёІі]+|,")


@dataclass(frozen=True)
class Sheet:
    """One (ordinary or combined) sheet: its scale and its SK-42 cell.

    Attributes
    ----------
    scale
        Scale denominator (1,000,000 … 25,000).
    i, j
        Column and row of the western ordinary sheet in the global grid of that scale
        (``i`` from 180° W, ``j`` from the equator, 0-based).
    k
        Number of ordinary sheets combined in longitude (1, 2, 3 or 4).
    """

    scale: int
    i: int
    j: int
    k: int = 1

    @property
    def bounds_arcsec(self) -> tuple[int, int, int, int]:
        h, w = SCALES[self.scale]
        return (self.i * w - 180 * 3600, self.j * h, (self.i + self.k) * w - 180 * 3600, (self.j + 1) * h)

    @property
    def bounds_sk42(self) -> list[float]:
        """``[west, south, east, north]``, SK-42 degrees."""
        return [v / 3600.0 for v in self.bounds_arcsec]

    @property
    def zone(self) -> int:
        """The Gauss–Krüger zone the sheet is drawn in (its 1:1M column − 30, modulo 60)."""
        w = self.bounds_arcsec[0] / 3600.0
        return int(math.floor((w % 360.0) / 6.0)) + 1

    @property
    def name(self) -> str:
        """The normalised name (Latin row letter, Cyrillic quadrant letters, hyphens)."""
        return _name(self.scale, self.i, self.j, self.k)


def _combine(row: int, scale: int) -> int:
    """How many ordinary sheets one published sheet holds in longitude at this row."""
    if row >= 19:  # T, U, V: 76–88° N
        return 3 if scale == 200_000 else 4
    if row >= 15:  # P, Q, R, S: 60–76° N
        return 2
    return 1


def _per_parent(scale: int) -> int:
    """Ordinary sheets across one parent sheet (the unit a combined sheet may not cross)."""
    return {1_000_000: 60, 500_000: 2, 200_000: 6, 100_000: 12, 50_000: 2, 25_000: 2}[scale]


def _parts(scale: int, i: int, j: int) -> tuple[int, int, list[tuple[str, int]]]:
    """1:1M column (1…60), row (0…21) and the indices below it for cell (i, j)."""
    h, w = SCALES[scale]
    col = i * w // (6 * 3600) + 1
    row = j * h // (4 * 3600)
    out: list[tuple[str, int]] = []
    if scale == 500_000:
        out.append(("Q", (1 - j % 2) * 2 + i % 2))
    elif scale == 200_000:
        out.append(("r", (5 - j % 6) * 6 + i % 6 + 1))
    elif scale in (100_000, 50_000, 25_000):
        f = {100_000: 1, 50_000: 2, 25_000: 4}[scale]
        i1, j1 = i // f, j // f
        out.append(("n", (11 - j1 % 12) * 12 + i1 % 12 + 1))
        if scale <= 50_000:
            i2, j2 = i * 2 // f, j * 2 // f
            out.append(("Q", (1 - j2 % 2) * 2 + i2 % 2))
        if scale == 25_000:
            out.append(("q", (1 - j % 2) * 2 + i % 2))
    return col, row, out


def _fmt(kind: str, v: int) -> str:
    if kind == "r":
        return _ROMAN_OF[v]
    if kind == "n":
        return str(v)
    if kind == "Q":  # 1:500k and 1:50k quadrants: upper case
        return _UPPER[v]
    return _LOWER[v]  # 1:25k quadrant: lower case


def _name(scale: int, i: int, j: int, k: int) -> str:
    col, row, parts = _parts(scale, i, j)
    texts = [_fmt(kd, v) for kd, v in parts]
    base = "-".join([ROWS[row], str(col), *texts])
    if k == 1:
        return base
    extra = []
    for m in range(1, k):
        c2, _, p2 = _parts(scale, i + m, j)
        if not p2:
            extra.append(str(c2))
        else:
            extra.append(_fmt(*p2[-1]))
    return base + "," + ",".join(extra)


def _cell(scale: int, col: int, row: int, idx: list[int]) -> tuple[int, int]:
    """Global (i, j) of an ordinary sheet from its 1:1M column/row and sub-indices."""
    h, w = SCALES[scale]
    i0 = (col - 1) * (6 * 3600) // w
    j0 = row * (4 * 3600) // h
    if scale == 1_000_000:
        return i0, j0
    if scale == 500_000:
        q = idx[0]
        return i0 + q % 2, j0 + 1 - q // 2
    if scale == 200_000:
        n = idx[0] - 1
        return i0 + n % 6, j0 + 5 - n // 6
    f = {100_000: 1, 50_000: 2, 25_000: 4}[scale]
    n = idx[0] - 1
    i, j = (col - 1) * 12 + n % 12, row * 12 + 11 - n // 12
    i, j = i * f, j * f
    if scale <= 50_000:
        q = idx[1]
        i, j = i + (q % 2) * f // 2, j + (1 - q // 2) * f // 2
    if scale == 25_000:
        q = idx[2]
        i, j = i + q % 2, j + 1 - q // 2
    return i, j


def _bad(name: str, why: str) -> ValidationError:
    return ValidationError(f"sheet name {name!r}: {why}")


def _quad(tok: str, name: str) -> int:
    t = tok.upper()
    if t not in _QUAD:
        raise _bad(name, f"{tok!r} is not a quadrant letter (А Б В Г, or A B V G / A B C D)")
    return _QUAD[t]


def parse_sheet(name: str, *, scale: int | None = None) -> Sheet:
    """Parse a sheet name in any written form.

    Parameters
    ----------
    name
        E.g. ``"J-38-21"``, ``"j 38 21"``, ``"К-38-Г"``, ``"K-38-XXIII"``, ``"J-38-21-А-а"``,
        ``"J38-21-Aa"``, ``"P-37,38"``, ``"P-52-23,24"``, ``"T-37,38,39,40"``.
    scale
        Expected scale denominator; resolves ``K-38-V`` (1:200,000 sheet V by default) to
        the 1:500,000 sheet В when 500000, and is checked against the name otherwise.

    Returns
    -------
    Sheet

    Raises
    ------
    borderkit.errors.ValidationError
        A name that is not a sheet of the series, names an ordinary sheet where the series
        publishes combined ones (north of 60°), or is in the southern hemisphere.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("sheet name is empty; give e.g. J-38-21")
    if len(name) > 64:
        raise _bad(name[:64] + "…", "too long to be a sheet name")
    raw = name.strip()
    if re.search(r"Ю\.?\s*П\.?|\(S\)", raw, flags=re.IGNORECASE):
        raise _bad(raw, "southern-hemisphere sheets (Ю.П.) are not supported")
    toks = _TOKEN.findall(raw)
    rest = _TOKEN.sub("", raw)
    if re.sub(r"[\s\-‐‑–—._/]", "", rest):
        raise _bad(raw, f"unexpected characters {rest.strip()!r}")
    if not toks or not re.fullmatch(r"[A-Za-zА-Яа-яЁёІі]+", toks[0]):
        raise _bad(raw, "must start with the row letter A … V, e.g. J-38-21")
    first = toks.pop(0)
    letter = _ROW_CYR.get(first[0].upper(), first[0].upper())
    if letter not in ROWS:
        raise _bad(raw, f"row {first[0]!r} is not one of A … V")
    row = ROWS.index(letter)
    if len(first) > 1:  # e.g. "KA" glued: no valid form
        raise _bad(raw, f"{first!r}: the row is one letter, followed by the column number 1 … 60")
    if not toks or not toks[0].isdigit():
        raise _bad(raw, "the row letter must be followed by the column number 1 … 60")
    col = int(toks.pop(0))
    if not 1 <= col <= 60:
        raise _bad(raw, f"column {col} is not in 1 … 60")
    # split main part and the comma-separated last indices of a combined sheet
    main: list[str] = []
    while toks and toks[0] != ",":
        t = toks.pop(0)
        # letter runs such as "Aa" (1:50k + 1:25k quadrants glued) split into letters
        if re.fullmatch(r"[A-Za-zА-Яа-яЁёІі]+", t) and t.upper() not in _ROMAN and len(t) > 1:
            main.extend(t)
        else:
            main.append(t)
    extras = [t for t in toks if t != ","]
    if toks and (toks.count(",") != len(extras) or any(t == "," for t in toks[1::2]) or toks[0] != ","):
        raise _bad(raw, "a combined sheet is written NAME,NEXT[,NEXT…], e.g. P-37,38 or P-52-23,24")

    idx: list[int]
    if not main:
        sc, idx = 1_000_000, []
    elif main[0].isdigit():
        n = int(main[0])
        if not 1 <= n <= 144:
            raise _bad(raw, f"1:100,000 sheet number {n} is not in 1 … 144")
        if len(main) > 3:
            raise _bad(raw, "too many parts after the 1:100,000 number (…-N-А-а is the largest scale, 1:25,000)")
        sc = {1: 100_000, 2: 50_000, 3: 25_000}[len(main)]
        idx = [n] + [_quad(t, raw) for t in main[1:]]
    elif len(main) == 1 and main[0].upper() in _ROMAN and not (scale == 500_000 and main[0].upper() == "V"):
        sc, idx = 200_000, [_ROMAN[main[0].upper()]]
    elif len(main) == 1:
        sc, idx = 500_000, [_quad(main[0], raw)]
    else:
        raise _bad(raw, f"cannot read {'-'.join(main)!r}: after the column comes А…Г (1:500,000), "
                        "I…XXXVI (1:200,000) or 1…144 (1:100,000)")
    if scale is not None and scale != sc:
        raise _bad(raw, f"names a 1:{sc:,} sheet, not 1:{scale:,}")
    i, j = _cell(sc, col, row, idx)
    k_expected = _combine(row, sc)
    k = 1 + len(extras)
    if k_expected == 4 and sc in (500_000, 50_000, 25_000):
        raise _bad(raw, f"quadrupled 1:{sc:,} sheets north of 76° N are not supported")
    if k != k_expected:
        group = (i // k_expected) * k_expected
        hint = _name(sc, group, j, k_expected)
        if k == 1 and k_expected > 1:
            why = (f"north of {60 if k_expected == 2 else 76}° N the 1:{sc:,} series is published as combined "
                   f"sheets of {k_expected}; this area is on {hint}")
        else:
            why = f"a sheet here combines {k_expected} ordinary sheet(s), not {k}; did you mean {hint}?"
        raise _bad(raw, why)
    if k > 1:
        if i % k != 0 or (i % _per_parent(sc)) + k > _per_parent(sc):
            raise _bad(raw, f"combined sheets start at the western sheet of their group; "
                            f"did you mean {_name(sc, (i // k) * k, j, k)}?")
        want = _name(sc, i, j, k).split(",")[1:]
        got = [_normal_token(t, sc) for t in extras]
        if got != want:
            raise _bad(raw, f"the combined sheet is {_name(sc, i, j, k)} (the next sheet(s) {','.join(want)})")
    return Sheet(scale=sc, i=i, j=j, k=k)


def _normal_token(t: str, sc: int) -> str:
    if t.isdigit():
        return str(int(t))
    if sc == 200_000 and t.upper() in _ROMAN:
        return t.upper()
    if t.upper() in _QUAD:
        q = _QUAD[t.upper()]
        return _UPPER[q] if sc in (500_000, 50_000) else _LOWER[q]
    return t


def sheet_at(lon: float, lat: float, *, scale: int) -> Sheet:
    """The published sheet of a scale containing an SK-42 point (lon, lat degrees)."""
    if scale not in SCALES:
        raise ValidationError(f"scale 1:{scale} is not in the series: use one of {sorted(SCALES, reverse=True)}")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValidationError("point has NaN or infinite coordinates")
    if lat < 0 or lat >= 88:
        raise ValidationError(f"latitude {lat}: only the northern hemisphere up to 88° N (rows A … V) is supported")
    h, w = SCALES[scale]
    i = int(math.floor(((lon + 180.0) % 360.0) * 3600.0 / w))
    j = int(math.floor(lat * 3600.0 / h))
    row = j * h // (4 * 3600)
    k = _combine(row, scale)
    if k == 4 and scale in (500_000, 50_000, 25_000):
        raise ValidationError(f"quadrupled 1:{scale:,} sheets north of 76° N are not supported")
    return Sheet(scale=scale, i=(i // k) * k, j=j, k=k)


def sheets_covering(bbox: Sequence[float], scale: int, *, max_sheets: int = 10_000) -> list[Sheet]:
    """Every published sheet of *scale* that intersects ``bbox = (west, south, east, north)``.

    The box is in SK-42 degrees (the ~100 m datum shift matters only at the edges; pad the
    box by 0.01° to be safe when it is in WGS84). Sorted north to south, west to east.
    """
    w, s, e, n = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise ValidationError("bbox has NaN or infinite values")
    if not (w < e and s < n):
        raise ValidationError(f"bbox {w} {s} {e} {n}: give WEST SOUTH EAST NORTH with west < east, south < north")
    if s < 0 or n > 88 or w < -180 or e > 180:
        raise ValidationError("bbox must lie within 0 … 88° N and −180 … 180° E (northern hemisphere only)")
    if scale not in SCALES:
        raise ValidationError(f"scale 1:{scale} is not in the series: use one of {sorted(SCALES, reverse=True)}")
    h, wd = SCALES[scale]
    i0, i1 = int(math.floor((w + 180) * 3600 / wd)), int(math.ceil((e + 180) * 3600 / wd))
    j0, j1 = int(math.floor(s * 3600 / h)), int(math.ceil(n * 3600 / h))
    count = (i1 - i0) * (j1 - j0)
    if count > max_sheets:
        raise ValidationError(f"the box covers about {count:,} sheets at 1:{scale:,}; choose a smaller box or scale")
    out: dict[tuple[int, int], Sheet] = {}
    for j in range(j1 - 1, j0 - 1, -1):
        for i in range(i0, i1):
            k = _combine(j * h // (4 * 3600), scale)
            if k == 4 and scale in (500_000, 50_000, 25_000):
                raise ValidationError(f"quadrupled 1:{scale:,} sheets north of 76° N are not supported")
            g = (i // k) * k
            out.setdefault((g, j), Sheet(scale=scale, i=g, j=j, k=k))
    return list(out.values())


def sheet_outline(s: Sheet, *, points_per_edge: int = 16, transformation: str | None = None) -> Any:
    """The sheet frame as a WGS84 polygon (edges densified, then transformed from SK-42)."""
    import shapely

    from borderkit.datum import to_wgs84

    w, so, e, n = s.bounds_sk42
    t = np.linspace(0.0, 1.0, points_per_edge, endpoint=False)
    lon = np.concatenate([w + (e - w) * t, np.full_like(t, e), e - (e - w) * t, np.full_like(t, w)])
    lat = np.concatenate([np.full_like(t, n), n - (n - so) * t, np.full_like(t, so), so + (n - so) * t])
    (x, y), report = to_wgs84((lon, lat), transformation=transformation)
    return shapely.Polygon(np.column_stack([x, y])), report


def sheet(name: str, *, scale: int | None = None, transformation: str | None = None) -> dict[str, Any]:
    """Everything about one sheet: name, scale, SK-42 bounds, WGS84 corners, datum shift.

    Parameters
    ----------
    name
        Sheet name in any written form (see :func:`parse_sheet`).
    scale
        Expected scale denominator (optional; resolves ``K-38-V``).
    transformation
        SK-42 → WGS84 operation to force (default: chosen by :mod:`borderkit.datum`).

    Returns
    -------
    dict
        ``name`` (normalised), ``scale``, ``datum`` (``"EPSG:4284"``), ``bounds_sk42``
        ``[w, s, e, n]`` (degrees), ``corners_wgs84`` ``{nw, ne, se, sw: [lon, lat]}``,
        ``shift_m`` (geodesic shift at the sheet centre, metres), ``gauss_kruger`` (zone
        and EPSG code the sheet is drawn in), ``transformation`` and ``method``.

    Examples
    --------
    >>> sheet("j-38-21")["bounds_sk42"]
    [46.0, 39.333333333333336, 46.5, 39.666666666666664]
    """
    from borderkit.datum import SK42, to_wgs84

    s = parse_sheet(name, scale=scale)
    w, so, e, n = s.bounds_sk42
    (x, y), report = to_wgs84((np.array([w, e, e, w]), np.array([n, n, so, so])), transformation=transformation)
    corners = {k: [float(x[m]), float(y[m])] for m, k in enumerate(("nw", "ne", "se", "sw"))}
    zone = s.zone
    return {
        "name": s.name,
        "scale": s.scale,
        "datum": SK42,
        "bounds_sk42": [w, so, e, n],
        "corners_wgs84": corners,
        "shift_m": round(report.shift_m, 3),
        "gauss_kruger": {"zone": zone, "crs": f"EPSG:{28400 + zone}" if 2 <= zone <= 32 else None},
        "transformation": report.transformation.to_dict(),
        "method": report.method,
    }


def sheets_geojson(sheets: Sequence[Sheet], *, transformation: str | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS84) of sheet outlines with name, scale and SK-42 bounds."""
    import shapely

    feats = []
    for s in sheets:
        poly, report = sheet_outline(s, transformation=transformation)
        feats.append({
            "type": "Feature",
            "properties": {"name": s.name, "scale": s.scale, "datum": "EPSG:4284", "bounds_sk42": s.bounds_sk42,
                           "shift_m": round(report.shift_m, 3), "transformation": report.transformation.code},
            "geometry": json.loads(shapely.to_geojson(poly)),
        })
    return {"type": "FeatureCollection", "features": feats}
