"""``borderkit validate`` warns when a line declared WGS84 looks like SK-42 mislabelled.

The mislabelled file is made independently of the code under test: the bundled OSM line
is moved from WGS84 to Pulkovo 1942 with pyproj's own best EPSG:4326 → EPSG:4284
operation (a TransformerGroup of its own here), and those SK-42 numbers are written as
if they were WGS84 — the error users make. The shift is checked with pyproj Geod.
"""

from __future__ import annotations

import json

import numpy as np
import pyproj
import shapely
from click.testing import CliRunner

import borderkit
from borderkit.cli.main import cli


def _osm_line():
    lines = borderkit.datasets.load("armenia-azerbaijan").lines
    return lines[lines["source"] == "osm-2017"].iloc[[0]].copy()


def _as_sk42_numbers(gdf):
    group = pyproj.transformer.TransformerGroup("EPSG:4326", "EPSG:4284", always_xy=True)
    t = group.transformers[0]

    def move(coords):
        x, y = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = gdf.copy()
    out["geometry"] = shapely.transform(out.geometry.values, move)
    return out


def _validate(path):
    r = CliRunner().invoke(cli, ["validate", "--kind", "lines", str(path), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_mislabelled_sk42_line_gets_a_warning(tmp_path):
    line = _osm_line()
    moved = _as_sk42_numbers(line)
    a = shapely.get_coordinates(line.geometry.values)
    b = shapely.get_coordinates(moved.geometry.values)
    shift = pyproj.Geod(ellps="WGS84").inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]
    assert 60 < np.median(shift) < 200  # the Caucasus shift of the order of 100 m

    good, bad = tmp_path / "good.geojson", tmp_path / "mislabelled.geojson"
    line.to_file(good, driver="GeoJSON")
    moved.to_file(bad, driver="GeoJSON")
    (r_good,) = _validate(good)
    (r_bad,) = _validate(bad)
    assert r_good["valid"] and not any("SK-42" in w for w in r_good["warnings"])
    assert r_bad["valid"], "a warning, never a rejection"
    assert any("SK-42" in w and "EPSG:4284" in w for w in r_bad["warnings"]), r_bad["warnings"]


def test_line_far_from_the_case_gets_no_datum_hint(tmp_path):
    line = _osm_line()
    far = line.copy()
    far["geometry"] = shapely.transform(far.geometry.values, lambda c: c + np.array([20.0, 10.0]))
    path = tmp_path / "far.geojson"
    far.to_file(path, driver="GeoJSON")
    (r,) = _validate(path)
    assert not any("SK-42" in w for w in r["warnings"])
