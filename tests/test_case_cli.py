"""`borderkit case list/new/build` and `--case DIR` on the commands that use case data.

The user case is Armenia–Georgia made by `case new` from fixture files cut from the shared
Natural Earth data (tests/case_fixtures.py); expected numbers come from pyproj Geod.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pyproj import Geod

from borderkit.cli.main import EXIT_DATA, EXIT_INTEGRITY, EXIT_OK, EXIT_USAGE, cli
from case_fixtures import LEFT, NEW_ARGS, RIGHT, arm_geo, write_fixture_files
from conftest import require_module

GEOD = Geod(ellps="WGS84")


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture(scope="module")
def user_case(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli-cases")
    files = write_fixture_files(base / "input")
    folder = base / "cases" / "arm-geo"
    r = invoke("case", "new", str(folder), "--lines", str(files["lines"]), "--territories",
               str(files["territories"]), *NEW_ARGS)
    assert r.exit_code == EXIT_OK, r.output
    return {"folder": folder, "files": files, "cases_dir": folder.parent}


def test_case_list_json_shows_bundled_and_user_cases(user_case):
    r = invoke("case", "list", "--json", env={"BORDERKIT_CASES": str(user_case["cases_dir"])})
    assert r.exit_code == EXIT_OK, r.output
    doc = json.loads(r.stdout)
    by = {c["name"]: c for c in doc}
    assert by["armenia-azerbaijan"]["where"] == "bundled"
    u = by["arm-geo"]
    assert u["where"] == "user" and u["pair"] == [LEFT, RIGHT]
    assert u["rows"] == {"lines": 2, "territories": 2}
    assert set(u["layers"]) == {"case", "lines", "territories"}


def test_overlaps_on_the_case_folder_matches_geod_lengths(user_case):
    r = invoke("overlaps", "--case", str(user_case["folder"]), "--json")
    assert r.exit_code == EXIT_OK, r.output
    doc = json.loads(r.output)
    (pair,) = doc["pairs"]
    geoms = arm_geo()
    by_src = {"ne-admin0-deu": GEOD.geometry_length(geoms["shared"]),
              "ne-boundary-lines": GEOD.geometry_length(geoms["ne_lines"])}
    assert pair["length_a_m"] == pytest.approx(by_src[pair["source_a"]], rel=1e-6)
    assert pair["length_b_m"] == pytest.approx(by_src[pair["source_b"]], rel=1e-6)
    # the two Natural Earth products draw this boundary identically (Hausdorff 0 in the source data)
    assert pair["area_km2"] < 0.01


def test_measure_to_line_by_user_case_name(user_case):
    env = {"BORDERKIT_CASES": str(user_case["cases_dir"])}
    r = invoke("measure", "to-line", "--at", "40.79,43.84", "--case", "arm-geo", "--source", "ne-admin0-deu",
               "--json", env=env)
    assert r.exit_code == EXIT_OK, r.output
    (res,) = json.loads(r.output)["results"]
    assert res["party"] == LEFT
    # the nearest point it reports is at the distance it reports (pyproj Geod)
    _, _, d = GEOD.inv(43.84, 40.79, res["nearest_lon"], res["nearest_lat"])
    assert res["distance_m"] == pytest.approx(d, abs=0.01)


def test_claims_on_a_case_without_claims_is_an_empty_result(user_case):
    r = invoke("claims", "--case", str(user_case["folder"]), "--json")
    assert r.exit_code == EXIT_OK, r.output
    assert json.loads(r.output) == []
    r = invoke("claims", "--case", str(user_case["folder"]))
    assert r.exit_code == EXIT_OK and "no claims" in r.output


def test_datasets_info_verify_summary_take_a_folder(user_case):
    r = invoke("datasets", "info", str(user_case["folder"]))
    assert r.exit_code == EXIT_OK, r.output
    assert "ne-admin0-deu" in r.output and "public domain" in r.output
    r = invoke("datasets", "verify", str(user_case["folder"]))
    assert r.exit_code == EXIT_OK and "3 files match" in r.output
    r = invoke("datasets", "summary", str(user_case["folder"]))
    assert r.exit_code == EXIT_OK and "Line sources" in r.output


def test_hash_mismatch_exits_3(user_case, tmp_path):
    import shutil

    folder = tmp_path / "arm-geo"
    shutil.copytree(user_case["folder"], folder)
    f = folder / "lines.geojson"
    f.write_bytes(f.read_bytes().replace(b"cartographic", b"ARM         "))
    for args in (("datasets", "verify", str(folder)), ("overlaps", "--case", str(folder))):
        r = invoke(*args)
        assert r.exit_code == EXIT_INTEGRITY, r.output
        assert "lines.geojson" in r.output and r.output.strip().count("\n") == 0


def test_missing_case_toml_and_unknown_case_are_one_line(user_case, tmp_path):
    import shutil

    folder = tmp_path / "no-toml"
    shutil.copytree(user_case["folder"], folder)
    (folder / "case.toml").unlink()
    r = invoke("overlaps", "--case", str(folder))
    assert r.exit_code == EXIT_DATA and "not a case folder" in r.output
    r = invoke("claims", "--case", "no-such-case", env={"BORDERKIT_CASES": str(tmp_path)})
    assert r.exit_code == EXIT_DATA and r.output.strip().count("\n") == 0
    assert "armenia-azerbaijan" in r.output  # lists what exists


def test_terrain_command_on_a_case_without_dem_says_so(user_case):
    r = invoke("dem", "info", "--case", str(user_case["folder"]))
    assert r.exit_code == EXIT_DATA and "no DEM" in r.output and "--dem" in r.output


def test_case_new_with_a_dem_serves_terrain_commands(user_case, tmp_path, shared_path):
    rasterio = require_module("rasterio")
    tile = shared_path("dted0-caucasus/e045/n40.dt0")
    folder = tmp_path / "with-dem"
    r = invoke("case", "new", str(folder), "--lines", str(user_case["files"]["lines"]), "--dem", str(tile), *NEW_ARGS)
    assert r.exit_code == EXIT_OK, r.output
    r = invoke("dem", "info", "--case", str(folder), "--json")
    assert r.exit_code == EXIT_OK, r.output
    with rasterio.open(tile) as src:  # independent read of the original tile
        assert json.loads(r.output)["shape"] == [src.height, src.width]


def test_case_new_errors_are_one_line(user_case, tmp_path):
    r = invoke("case", "new", str(user_case["folder"]), "--lines", str(user_case["files"]["lines"]), *NEW_ARGS)
    assert r.exit_code == EXIT_USAGE and "--overwrite" in r.output
    r = invoke("case", "new", str(tmp_path / "x"), "--lines", str(user_case["files"]["lines"]),
               "--claimant", "cartographic")
    assert r.exit_code == EXIT_DATA and r.output.strip().count("\n") == 0 and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()


def test_case_build_parses_parties_and_calls_the_library(monkeypatch, tmp_path):
    """The CLI is thin: it checks --parties and calls borderkit.casebuild.build_case (built and
    checked against independent geometry in tests/test_casebuild.py); an offline registry is one
    line and exit 4."""
    import borderkit.casebuild as casebuild
    from borderkit.errors import OfflineError

    r = invoke("case", "build", "--parties", "ARM")
    assert r.exit_code == EXIT_USAGE
    seen = {}

    def fake(parties, **kw):
        seen.update(parties=parties, **kw)
        return tmp_path / "kgz-tjk"

    monkeypatch.setattr(casebuild, "build_case", fake)
    r = invoke("case", "build", "--parties", "kgz, tjk", "-o", str(tmp_path / "kgz-tjk"))
    assert r.exit_code == EXIT_OK, r.output
    assert seen["parties"] == ("KGZ", "TJK") and str(seen["output"]) == str(tmp_path / "kgz-tjk")

    def offline(parties, **kw):
        raise OfflineError("cannot reach the package registries (pip download failed); connect and rerun")

    monkeypatch.setattr(casebuild, "build_case", offline)
    r = invoke("case", "build", "--parties", "KGZ,TJK")
    assert r.exit_code == 4 and r.output.strip().count("\n") == 0 and "Traceback" not in r.output


def test_case_new_names_the_option_for_missing_line_metadata(tmp_path):
    """A line file without its sides: the one-line error names the option that gives them once."""
    import geopandas as gpd
    import shapely

    line = tmp_path / "bare.geojson"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(44.0, 41.0), (44.2, 41.1)])], crs="EPSG:4326").to_file(
        line, driver="GeoJSON")
    r = CliRunner().invoke(cli, ["case", "new", str(tmp_path / "mine"), "--lines", str(line),
                                 "--claimant", "cartographic", "--source-date", "2021", "--accuracy-m", "100"])
    assert r.exit_code == 1, r.output
    assert "--left" in r.stderr and "--right" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "mine").exists()
