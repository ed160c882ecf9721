"""Small fixture files for user-case tests, cut from the shared Natural Earth data (never copied into the repo).

The Armenia–Georgia boundary (a pair that is not bundled) as two line sources — the edge the two
admin-0 polygons share (NE 10m admin-0 v5.1.1, German POV) and the NE 10m admin-0 boundary-lines
feature of the same boundary — and the two territories. The files carry only geometry (and
``source``/``party``), so every test also exercises the metadata given once (``case new --left …``).
Lines are oriented with ARM on the left, checked here with shapely against the ARM polygon.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from conftest import shared_file

ADMIN0 = "naturalearth-10m-admin0-countries-deu/ne_10m_admin0_deu_ARM_AZE_GEO_IRN_TUR.geojson"
BOUNDARY_LINES = "naturalearth-10m-lines-caucasus-clip/ne_10m_admin_0_boundary_lines_land_caucasus.geojson"
LEFT, RIGHT = "ARM", "GEO"


def _left_point(line: shapely.LineString) -> shapely.Point:
    c = np.asarray(line.coords)
    i = len(c) // 2
    (x0, y0), (x1, y1) = c[i], c[i + 1]
    dx, dy = x1 - x0, y1 - y0
    n = float(np.hypot(dx, dy))
    return shapely.Point((x0 + x1) / 2 - dy / n * 1e-3, (y0 + y1) / 2 + dx / n * 1e-3)


def _oriented(line: shapely.LineString, left_poly) -> shapely.LineString:
    return line if left_poly.contains(_left_point(line)) else shapely.reverse(line)


def arm_geo() -> dict:
    """The source geometries: ``arm``, ``geo`` (polygons), ``shared`` and ``ne_lines`` (oriented lines)."""
    import geopandas as gpd

    g = gpd.read_file(shared_file(ADMIN0))
    arm = g.loc[g["ADM0_A3"] == "ARM"].geometry.iloc[0]
    geo = g.loc[g["ADM0_A3"] == "GEO"].geometry.iloc[0]
    shared = shapely.line_merge(arm.boundary.intersection(geo.boundary))
    assert shared.geom_type == "LineString"
    b = gpd.read_file(shared_file(BOUNDARY_LINES))
    # the boundary-lines feature that draws this boundary: the one nearest to the shared edge
    ne_line = b.geometry.iloc[int(np.argmin([shapely.hausdorff_distance(x, shared) for x in b.geometry]))]
    ne_line = shapely.line_merge(ne_line)
    return {"arm": arm, "geo": geo, "shared": _oriented(shared, arm), "ne_lines": _oriented(ne_line, arm)}


def write_fixture_files(folder: Path) -> dict[str, Path]:
    """Write ``lines.geojson`` (two sources, geometry + ``source`` only) and ``territories.geojson``."""
    import geopandas as gpd

    geoms = arm_geo()
    folder.mkdir(parents=True, exist_ok=True)
    lines = folder / "my-lines.geojson"
    gpd.GeoDataFrame({"source": ["ne-admin0-deu", "ne-boundary-lines"]},
                     geometry=[geoms["shared"], geoms["ne_lines"]], crs="EPSG:4326").to_file(lines)
    terr = folder / "my-territories.geojson"
    gpd.GeoDataFrame({"party": ["ARM", "GEO"], "name": ["Armenia", "Georgia"], "source": "ne-admin0-deu"},
                     geometry=[geoms["arm"], geoms["geo"]], crs="EPSG:4326").to_file(terr)
    return {"lines": lines, "territories": terr}


NEW_ARGS = ["--claimant", "cartographic", "--left", LEFT, "--right", RIGHT, "--source-date", "2021",
            "--accuracy-m", "1000", "--licence", "public domain", "--source-version", "5.1.1"]
