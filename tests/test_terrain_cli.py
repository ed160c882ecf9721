"""The terrain commands through the real CLI entry point: JSON contracts, LAT,LON order, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import IN_CI, require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip

from borderkit.cli import main  # noqa: E402

COMMANDS = {
    "peak": "borderkit.cli.peak_cmd:peak",
    "los": "borderkit.cli.los_cmd:los",
    "viewshed": "borderkit.cli.viewshed_cmd:viewshed",
    "profile": "borderkit.cli.profile_cmd:profile",
    "dem": "borderkit.cli.dem_cmd:dem",
}


@pytest.fixture
def run(monkeypatch):
    for k, v in COMMANDS.items():
        monkeypatch.setitem(main.COMMANDS, k, v)
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(main.cli, [str(a) for a in args])

    return _run


@pytest.fixture(scope="module")
def dted():
    return str(shared_file("dted0-caucasus/e046/n39.dt0").parent.parent)


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame(
        {
            "place_id": ["mets_ishkhanasar", "goris", "sisian"],
            "kind": ["peak", "town", "town"],
            "name_en": ["Mets Ishkhanasar", "Goris", "Sisian"],
            "name_hy": ["", "", ""],
            "name_az": ["", "", ""],
            "name_ru": ["", "", ""],
            "elevation_m": [3550.0, np.nan, np.nan],
            "elevation_source": ["test value", "", ""],
            "coord_source": ["test", "test", "test"],
            "notes": ["", "", ""],
        },
        geometry=[shapely.Point(46.18, 39.58222), shapely.Point(46.342, 39.511), shapely.Point(46.027, 39.522)],
        crs=4326,
    )
    p = tmp_path_factory.mktemp("places") / "places.geojson"
    gdf.to_file(p)
    return str(p)


def test_peak_json_contract(run, dted, places):
    r = run("peak", "Mets Ishkhanasar", "--dem", dted, "--places", places, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {"name", "reported_m", "reported_source", "dem_max_m", "dem_max_at", "dem"} <= set(doc)
    assert set(doc["dem_max_at"]) == {"lat", "lon"}
    assert {"name", "resolution_m", "vertical_accuracy_m"} <= set(doc["dem"])
    assert doc["dem_max_m"] == 3495.0 and doc["reported_m"] == 3550.0 and doc["dem"]["vertical_accuracy_m"] == 45.0


def test_peak_commanding_text_and_json(run, dted, places):
    r = run("peak", "mets_ishkhanasar", "--dem", dted, "--places", places, "--commanding")
    assert r.exit_code == 0, r.output
    assert "Goris" in r.stdout and "Sisian" in r.stdout and "caveat" in r.stdout
    r = run("peak", "mets_ishkhanasar", "--dem", dted, "--places", places, "--commanding", "--json")
    doc = json.loads(r.stdout)
    names = {row["name"] for row in doc["commanding"]["rows"]}
    assert names == {"Goris", "Sisian"}


def test_peak_unknown_name_is_one_line(run, dted, places):
    r = run("peak", "Nowhere", "--dem", dted, "--places", places)
    assert r.exit_code == main.EXIT_DATA
    assert r.output.count("\n") == 1 and "no place named" in r.output


def test_los_json_contract_and_lat_lon_order(run, dted):
    r = run("los", "--from", "39.5833,46.175", "--to", "39.5111,46.3417", "--dem", dted, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc) >= {"visible", "obstruction", "parameters"}
    assert isinstance(doc["visible"], bool)
    if doc["obstruction"] is not None:
        assert set(doc["obstruction"]) == {"lat", "lon", "distance_m", "clearance_m"}
    assert doc["observer"]["lat"] == 39.5833 and doc["observer"]["lon"] == 46.175
    assert doc["parameters"]["refraction_coefficient"] == 0.13
    r = run(
        "los",
        "--from",
        "39.5833,46.175",
        "--to",
        "39.5111,46.3417",
        "--dem",
        dted,
        "--observer-height",
        "30",
        "--target-height",
        "10",
        "--refraction",
        "0.2",
        "--json",
    )
    p = json.loads(r.stdout)["parameters"]
    assert p["observer_height_m"] == 30 and p["target_height_m"] == 10 and p["refraction_coefficient"] == 0.2
    # a latitude out of range is a usage error (exit 2), naming the LAT,LON order
    r = run("los", "--from", "146.175,39.58", "--to", "39.5111,46.3417", "--dem", dted)
    assert r.exit_code == 2 and "LAT,LON" in r.output


def test_viewshed_writes_geotiff_and_refuses_overwrite(run, dted, tmp_path):
    out = tmp_path / "vs.tif"
    r = run("viewshed", "--lat", "39.5833", "--lon", "46.175", "--radius-km", "20", "--dem", dted, "-o", out, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["visible_area_km2"] > 0 and doc["parameters"]["radius_m"] == 20000
    with rasterio.open(out) as ds:
        arr = ds.read(1)
        assert ds.dtypes[0] == "uint8" and set(np.unique(arr)) <= {0, 1, 255}
        assert "BORDERKIT_VIEWSHED" in ds.tags()
    r = run("viewshed", "--lat", "39.5833", "--lon", "46.175", "--radius-km", "20", "--dem", dted, "-o", out)
    assert r.exit_code == 2 and "--overwrite" in r.output
    r = run(
        "viewshed",
        "--lat",
        "39.5833",
        "--lon",
        "46.175",
        "--radius-km",
        "20",
        "--dem",
        dted,
        "-o",
        out,
        "--overwrite",
        "--polygons",
        tmp_path / "vs.geojson",
    )
    assert r.exit_code == 0 and (tmp_path / "vs.geojson").exists()
    r = run("viewshed", "--lat", "39.5833", "--lon", "46.175", "--radius-km", "80", "--dem", dted, "--json")
    assert r.exit_code == 2


def test_profile_csv_and_png(run, dted, tmp_path):
    r = run("profile", "--path", "39.5167,46.0333;39.5833,46.175;39.5111,46.3417", "--dem", dted, "--no-labels")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "distance_m,elevation_m,lat,lon" and len(lines) > 50
    first = lines[1].split(",")
    assert float(first[2]) == pytest.approx(39.5167) and float(first[3]) == pytest.approx(46.0333)
    r = run(
        "profile",
        "--path",
        "39.5167,46.0333;39.5111,46.3417",
        "--dem",
        dted,
        "--no-labels",
        "-o",
        tmp_path / "p.csv",
        "--png",
        tmp_path / "p.png",
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p.csv").exists() and (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_dem_info(run, dted):
    r = run("dem", "info", "--dem", dted, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["vertical_accuracy_m"] == 45.0 and doc["kind"] == "DTED0"


def test_missing_dem_is_one_line(run, tmp_path):
    r = run("los", "--from", "39.5,46.1", "--to", "39.6,46.2", "--dem", tmp_path / "nope.tif")
    assert r.exit_code == main.EXIT_DATA and r.output.count("\n") == 1 and "does not exist" in r.output


def test_case_supplies_the_dem(run):
    """No --dem: the DEM of --case (the registry's `dem` layer, i.e. Case.dem), the same as passing that file."""
    from borderkit import registry

    try:
        path = registry.verify(registry.DEFAULT_CASE)["dem"]
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            raise
        pytest.skip(f"bundled case not available: {exc}")
    args = ["los", "--from", "39.5833,46.175", "--to", "39.5111,46.3417", "--json"]
    by_case = run(*args, "--case", registry.DEFAULT_CASE)
    by_file = run(*args, "--dem", path)
    assert by_case.exit_code == 0 and by_file.exit_code == 0, by_case.output + by_file.output
    assert json.loads(by_case.stdout) == json.loads(by_file.stdout)
    bad = run(*args, "--case", "no-such-case")
    assert bad.exit_code == main.EXIT_DATA and bad.output.count("\n") == 1
    assert "no-such-case" in bad.output and "--dem" in bad.output
