"""Build a bundled case with ``borderkit.casebuild.build_case`` and merge curated, cited facts into it.

This is how every bundled case after Armenia–Azerbaijan is made (that one keeps its own
scripts, ``build_lines.py``/``build_dem.py``/``build_gazetteer.py``, so its bytes do not change):

1. ``build_case(parties, output=<tmp>, cache_dir=..., progress=...)`` writes lines (every
   source, sections found from the polygons), territories (the pair and the third countries
   of the region), GeoNames places, the GLOBE DEM clip, ``case.toml`` and ``registry.json``.
2. Territories of **third** countries are clipped to the extent of the pair's lines widened
   by :attr:`CuratedCase.third_party_margin_deg` (to keep the committed file small; the pair's
   own territories are kept as built). Each clipped row says so in its ``notes``; a third
   country with nothing left in that box is dropped and named in the registry entry.
3. Places: the curated ``places.csv`` over the GeoNames places. A curated row with a
   ``geonames_id`` *replaces* the GeoNames row of that id (``geonames_<id>``): the point is
   GeoNames', the curated ``place_id``, ``kind``, names, notes and citations are kept (and
   GeoNames' ``geonameid``, ``asciiname``, ``alternate_names``, ``population``). Curated rows
   with ``lat``/``lon`` are added; unlocated ones are kept without geometry, with their notes.
   Every ``name_<tag>`` column of the file is kept (BCP-47 tags, PLACES schema).
4. Incidents: the point of each incident is the point of its ``place_id`` (as in
   ``build_gazetteer.py``; an incident at an unlocated place fails the build).
5. Claims: every row is checked as in ``build_gazetteer.py``; rows named in
   :attr:`CuratedCase.claims_left_out` are left out, with the reason in the registry entry.
   When no claim is left, the case has no claims layer (it loads as an empty claims table;
   the claims reader refuses a CSV with a header and no rows).
6. ``case.toml``: the curated ``<sources>/case.toml`` merged over casebuild's (tables key by
   key, the curated value wins).
7. The registry entry of the case, with paths under ``geodata/<name>/``: files with sha256,
   bytes, rows and CRS; the global source entries are reused (their package pins must equal
   casebuild's), and what casebuild found about each source *in this case* goes to the
   entry's ``artefacts``.

Every step is deterministic: the same packages and curated files give the same bytes.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import build_gazetteer as gaz  # noqa: E402
import fetch  # noqa: E402
from borderkit import casebuild  # noqa: E402
from borderkit.io.atomic import atomic_output  # noqa: E402
from borderkit.schema import CLAIMS, TERRITORIES  # noqa: E402

GEONAMES_EXTRAS = ("geonameid", "asciiname", "alternate_names", "population")
"""Columns casebuild adds to GeoNames places; kept on curated rows that replace a GeoNames row."""


class CuratedBuildError(SystemExit):
    """A curated case cannot be built as described; the message says what and where."""


def _fail(msg: str) -> None:
    raise CuratedBuildError(f"build_curated: {msg}")


@dataclass(frozen=True)
class CuratedCase:
    """What a bundled case built by casebuild needs besides its curated files."""

    name: str
    parties: tuple[str, str]
    sources_dir: Path
    facts_title: str
    third_party_margin_deg: float = 0.5
    claims_left_out: dict[str, str] = field(default_factory=dict)

    @property
    def facts_source(self) -> str:
        """Registry name of the curated facts of this case."""
        return f"curated-facts-{self.name}"


_HEIGHT_NOT_MEASURABLE = (
    "left out: a town's height read against the DEM needs the DEM value at the point, but borderkit's "
    "only DEM reading kind (dem_peak) takes the highest cell near the place, which overstates a town's "
    "height (the curated row's own readings say so); no claim about the dispute itself states a number"
)

CASES: dict[str, CuratedCase] = {
    "kyrgyzstan-tajikistan": CuratedCase(
        name="kyrgyzstan-tajikistan",
        parties=("KGZ", "TJK"),
        sources_dir=HERE / "sources" / "kyrgyzstan-tajikistan",
        facts_title="Curated Kyrgyzstan–Tajikistan places, incidents and claims with a citation per row",
        claims_left_out={
            "batken-height-1036m": _HEIGHT_NOT_MEASURABLE,
            "isfara-height-863m": _HEIGHT_NOT_MEASURABLE,
        },
    ),
}
"""The bundled cases built this way, by name."""

CASEBUILD_SOURCE = "borderkit-casebuild"
CASEBUILD_SOURCE_ENTRY = {
    "title": "borderkit.casebuild.build_case",
    "used_for": "the layers, DEM clip and case-file defaults (title, pair, region, projected CRSs, party names "
    "from Natural Earth) of bundled cases built from the pinned packages; what it found in each case is "
    "in that case's 'artefacts'",
    "licence": "CC0-1.0",
}


# --------------------------------------------------------------------------- TOML
def merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base``: tables key by key (recursively), any other value replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge_tables(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _toml_key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "-_" for c in k) and k.isascii() else json.dumps(k, ensure_ascii=False)


def _toml_value(v: Any, where: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            _fail(f"case.toml {where}: {v} is not a finite number")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, list) and not any(isinstance(x, dict) for x in v):
        return "[" + ", ".join(_toml_value(x, where) for x in v) + "]"
    _fail(f"case.toml {where}: cannot write a {type(v).__name__}")
    raise AssertionError  # unreachable


def dump_toml(doc: dict[str, Any], header: list[str]) -> str:
    """TOML text of a case file (scalars, arrays, tables, arrays of tables), keys in the given order."""
    lines = [f"# {h}" if h else "#" for h in header]

    def emit(table: dict[str, Any], path: list[str]) -> None:
        scalars = {k: v for k, v in table.items()
                   if not isinstance(v, dict) and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))}
        for k, v in scalars.items():
            lines.append(f"{_toml_key(k)} = {_toml_value(v, '.'.join([*path, k]))}")
        for k, v in table.items():
            if k in scalars:
                continue
            sub = [*path, k]
            name = ".".join(_toml_key(p) for p in sub)
            if isinstance(v, dict):
                if not v or any(not isinstance(x, dict) for x in v.values()):  # a header only where it holds keys
                    lines.extend(["", f"[{name}]"])
                emit(v, sub)
            else:
                for item in v:
                    lines.extend(["", f"[[{name}]]"])
                    emit(item, sub)

    emit(doc, [])
    return "\n".join(lines) + "\n"


def _case_file(case: CuratedCase, built: Path) -> str:
    base = tomllib.loads(built.read_text(encoding="utf-8"))
    over = tomllib.loads((case.sources_dir / "case.toml").read_text(encoding="utf-8"))
    if tuple(over.get("pair", base["pair"])) != case.parties:
        _fail(f"{case.sources_dir / 'case.toml'}: pair {over.get('pair')} is not {list(case.parties)}")
    doc = merge_tables(base, over)
    order = ["schema_version", "title", "pair", "region", "projected_crs", "parties", "parts", "corridor",
             "terrain", "map", "readings"]
    doc = {k: doc[k] for k in [*order, *sorted(set(doc) - set(order))] if k in doc}
    header = [
        f"borderkit case file of the bundled case {case.name}, written by geodata/build.py: the curated",
        f"geodata/sources/{case.name}/case.toml merged over the file borderkit.casebuild.build_case writes",
        "(region = the two countries' bbox cut to 5° around their shared line; projected_crs = the UTM zones",
        "of the region, its centre's first; party names from Natural Earth unless curated). Do not edit:",
        "edit the curated file and rebuild. Coordinates are (lon, lat) in degrees (EPSG:4326); distances in metres.",
        "",
    ]
    return dump_toml(doc, header)


# --------------------------------------------------------------------------- territories
def _lines_extent(lines_path: Path, margin: float) -> tuple[float, float, float, float]:
    import pyogrio

    b = pyogrio.read_info(lines_path, force_total_bounds=True)["total_bounds"]
    return (math.floor((b[0] - margin) * 10) / 10, math.floor((b[1] - margin) * 10) / 10,
            math.ceil((b[2] + margin) * 10) / 10, math.ceil((b[3] + margin) * 10) / 10)


def clip_third_parties(path: Path, pair: tuple[str, str], box: tuple[float, float, float, float],
                       margin: float) -> tuple[list[str], list[str]]:
    """Clip third countries' territories in ``path`` to ``box``; return (clipped, dropped) territory ids."""
    import pyogrio
    import shapely

    df = pyogrio.read_dataframe(path)
    rows, clipped, dropped = [], [], []
    for rec in df.to_dict("records"):
        if rec["party"] not in pair:
            g = casebuild.polygonal(shapely.clip_by_rect(rec["geometry"], *box))
            if g.is_empty:
                dropped.append(rec["territory_id"])
                continue
            rec["geometry"] = shapely.orient_polygons(g, exterior_cw=False)
            rec["notes"] = (f"Third country of the case: clipped to {box[0]}–{box[2]} E, {box[1]}–{box[3]} N "
                            f"(the extent of the {pair[0]}|{pair[1]} lines widened by {margin}°, rounded out to 0.1°) "
                            "to keep the bundled file small; beyond it this source's polygon is not in the case. "
                            + rec["notes"])
            clipped.append(rec["territory_id"])
        rows.append(rec)
    casebuild.write_lines_geojson(rows, TERRITORIES.names, "territory_id", path)
    return clipped, dropped


# --------------------------------------------------------------------------- places
def merge_places(curated: list[dict], built: list[dict], name_columns: list[str],
                 geonames: dict[str, dict]) -> list[dict]:
    """Curated place features over casebuild's GeoNames features (see the module doc), sorted by place_id."""
    by_gid = {str(f["properties"]["geonameid"]): f for f in built}
    replaced: set[str] = set()
    out = []
    for f in curated:
        p = f["properties"]
        gid = p.pop("_geonames_id", "")
        extras: dict[str, Any] = {k: "" for k in GEONAMES_EXTRAS}
        extras["population"] = None
        if gid:
            g = by_gid.get(gid)
            if g is not None:
                replaced.add(gid)
                extras = {k: g["properties"][k] for k in GEONAMES_EXTRAS}
            else:  # further than casebuild's place radius from the line: GeoNames' own row
                row = geonames[gid]
                extras = {"geonameid": gid, "asciiname": row["asciiname"],
                          "alternate_names": row["alternatenames"], "population": row["population"]}
        out.append({**f, "properties": {**p, **extras}})
    for f in built:
        if str(f["properties"]["geonameid"]) in replaced:
            continue
        p = f["properties"]
        names = {c: p.get(c, "") for c in name_columns}
        props = {"place_id": p["place_id"], "kind": p["kind"], **names,
                 **{k: p[k] for k in ("elevation_m", "elevation_source", "coord_source", "notes")},
                 **{k: p[k] for k in GEONAMES_EXTRAS}}
        out.append({**f, "properties": props})
    ids = [f["properties"]["place_id"] for f in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        _fail(f"place_id(s) {dup} both curated and built from GeoNames")
    keys = [list(f["properties"]) for f in out]
    if any(k != keys[0] for k in keys):
        _fail("merged places do not all have the same columns")
    out.sort(key=lambda f: f["properties"]["place_id"])
    return out


def _curated_places(case: CuratedCase, cache: Path) -> tuple[list[dict], list[str], dict[str, dict]]:
    rows, header = gaz.read_curated_csv(case.sources_dir / "places.csv", gaz.PLACES_CSV_REQUIRED)
    name_columns = gaz.place_name_columns(header)
    wanted = {r["geonames_id"] for r in rows if r["geonames_id"]}
    cities500 = fetch.extract_member("geonames", gaz.GEONAMES_MEMBER, cache=cache)
    geonames = gaz.load_geonames(cities500, wanted)
    feats = gaz.build_places(rows, geonames, name_columns)
    gid_by_pid = {r["place_id"]: r["geonames_id"] for r in rows}
    for f in feats:
        f["properties"]["_geonames_id"] = gid_by_pid[f["properties"]["place_id"]]
    return feats, name_columns, geonames


# --------------------------------------------------------------------------- the build
def _check_source_pins(built_sources: dict[str, Any], global_sources: dict[str, Any]) -> None:
    for name, entry in built_sources.items():
        if name == CASEBUILD_SOURCE:
            continue
        g = global_sources.get(name)
        if g is None:
            _fail(f"casebuild source {name!r} is not in geodata/registry.json; build armenia-azerbaijan first")
        for key in ("package", "licence"):
            if entry.get(key) != g.get(key):
                _fail(f"source {name!r}: casebuild's {key} {entry.get(key)!r} differs from the registry's "
                      f"{g.get(key)!r}; rebuild every bundled case with the same pins")


def build(case: CuratedCase, *, cache: Path, out: Path, global_sources: dict[str, Any],
          progress: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build ``case`` into ``out`` (``geodata/<name>``).

    Returns
    -------
    (sources, dataset)
        Registry source entries to add (the curated facts, casebuild) and the dataset entry,
        file paths relative to ``out.parent`` (the bundled data folder).
    """
    with tempfile.TemporaryDirectory(prefix=f"borderkit-{case.name}-") as tmpdir:
        tmp = Path(tmpdir) / case.name
        casebuild.build_case(case.parties, name=case.name, output=tmp, cache_dir=cache, progress=progress)
        reg = json.loads((tmp / "registry.json").read_text(encoding="utf-8"))
        built_sources = reg["sources"]
        _check_source_pins(built_sources, global_sources)
        entry = reg["datasets"][case.name]
        files = entry["files"]

        box = _lines_extent(tmp / files["lines"]["path"], case.third_party_margin_deg)
        _, dropped = clip_third_parties(tmp / files["territories"]["path"], case.parties, box,
                                              case.third_party_margin_deg)

        curated, name_columns, geonames = _curated_places(case, cache)
        built_places = json.loads((tmp / files["places"]["path"]).read_text(encoding="utf-8"))["features"]
        places = merge_places(curated, built_places, name_columns, geonames)
        by_id = {f["properties"]["place_id"]: f for f in places}
        gaz.write_geojson(tmp / "places.geojson", "places", places)

        incident_rows = gaz.read_curated_csv(case.sources_dir / "incidents.csv", gaz.INCIDENTS_CSV_COLUMNS)[0]
        incidents = gaz.build_incidents(incident_rows, by_id)
        gaz.write_geojson(tmp / "incidents.geojson", "incidents", incidents)

        claim_rows = gaz.read_curated_csv(case.sources_dir / "claims.csv", gaz.CLAIMS_CSV_COLUMNS)[0]
        all_claims = gaz.build_claims(claim_rows, set(by_id), {f["properties"]["incident_id"] for f in incidents})
        unknown = sorted(set(case.claims_left_out) - {c["claim_id"] for c in all_claims})
        if unknown:
            _fail(f"claims_left_out names claims not in claims.csv: {unknown}")
        claims = [c for c in all_claims if c["claim_id"] not in case.claims_left_out]
        if claims:  # no claims layer at all when none is kept: the readers refuse a header-only CSV,
            gaz.write_csv(tmp / "claims.csv", tuple(CLAIMS.names), claims)  # and a case without one loads empty

        with atomic_output(tmp / "case.toml") as t:
            t.write_text(_case_file(case, tmp / "case.toml"), encoding="utf-8")

        out.mkdir(parents=True, exist_ok=True)
        layer_files = {
            "lines": files["lines"], "territories": files["territories"], "dem": files["dem"],
            "places": {"path": "places.geojson", "kind": "places",
                       "sources": [case.facts_source, casebuild.GEONAMES_SOURCE], "licence": "CC0-1.0 (curated rows); "
                       "CC-BY-4.0 (GeoNames points and rows)"},
            "incidents": {"path": "incidents.geojson", "kind": "incidents", "sources": [case.facts_source]},
            **({"claims": {"path": "claims.csv", "kind": "claims", "sources": [case.facts_source]}} if claims else {}),
            "case": {"path": "case.toml", "kind": "case", "sources": [case.facts_source, CASEBUILD_SOURCE]},
            **({"basemap": files["basemap"]} if "basemap" in files else {}),  # casebuild.build_basemap's, as built
        }
        dataset_files = {}
        for key, meta in sorted(layer_files.items()):
            src = tmp / meta["path"]
            with atomic_output(out / meta["path"]) as t:
                shutil.copyfile(src, t)
            fmeta = {k: v for k, v in meta.items() if k not in ("sha256", "bytes", "rows", "crs", "columns",
                                                                   "bounds", "dtype")}
            dataset_files[key] = {**fmeta, "path": f"{out.name}/{meta['path']}", **casebuild.describe_file(out / meta["path"])}

    located = sum(1 for f in places if f["geometry"] is not None)
    curated_ids = {f["properties"]["place_id"] for f in curated}
    dataset = {
        "title": entry["title"],
        "bbox": entry["bbox"],
        "pair": entry["pair"],
        "sections": entry["sections"],
        "notes": " ".join(n for n in [
            entry.get("notes", ""),
            f"Built by borderkit.casebuild.build_case({list(case.parties)}) and merged with the curated facts of "
            f"geodata/sources/{case.name}/ (geodata/build_curated.py).",
            f"Third countries' territories clipped to {box[0]}–{box[2]} E, {box[1]}–{box[3]} N (the "
            f"{case.parties[0]}|{case.parties[1]} lines' extent widened by {case.third_party_margin_deg}°)"
            + (f"; left out (nothing in that box): {', '.join(dropped)}" if dropped else "") + ".",
        ] if n),
        "artefacts": {s: v["artefacts"] for s, v in sorted(built_sources.items()) if v.get("artefacts")},
        "places": {"curated": len(curated_ids), "geonames": len(places) - len(curated_ids),
                   "located": located, "unlocated": len(places) - located},
        "claims_left_out": dict(sorted(case.claims_left_out.items())),
        "files": dataset_files,
    }
    sources = {
        CASEBUILD_SOURCE: CASEBUILD_SOURCE_ENTRY,
        case.facts_source: {
            "title": case.facts_title,
            "files": [f"geodata/sources/{case.name}/{n}" for n in ("places.csv", "incidents.csv", "claims.csv",
                                                                   "case.toml")],
            "provenance": f"geodata/sources/{case.name}/README.md",
            "licence": "CC0-1.0",
            "licence_note": "the curation is CC0; each fact cites its own source (publication, date, URL) on its row",
            "attribution": "",
            "rows": {"places": len(curated_ids),
                     "places_located": sum(1 for f in curated if f["geometry"] is not None),
                     "incidents": len(incidents), "claims": len(all_claims),
                     "claims_bundled": len(claims)},
        },
    }
    return sources, dataset
