"""User cases: made from the user's files (`case new`), found by name or folder, hash-checked.

The case is Armenia–Georgia (not bundled), cut from the shared Natural Earth data
(tests/case_fixtures.py). Expected numbers come from pyproj Geod on the source
geometry, never from borderkit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import shapely.affinity
from pyproj import Geod

from borderkit import cases, datasets, registry
from borderkit.errors import DatasetNotFoundError, FileFormatError, OutputExistsError, RegistryError, ValidationError
from case_fixtures import LEFT, RIGHT, arm_geo, write_fixture_files

GEOD = Geod(ellps="WGS84")
META = dict(claimant="cartographic", left=LEFT, right=RIGHT, source_date="2021", accuracy_m=1000.0,
            licence="public domain", source_version="5.1.1")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("cases")
    files = write_fixture_files(base / "input")
    folder = cases.new_case(base / "user" / "arm-geo", lines=files["lines"], territories=files["territories"],
                            title="Armenia–Georgia (test)", **META)
    return {"base": base, "folder": folder, "files": files}


def test_case_new_writes_the_agreed_folder_format(made):
    folder = made["folder"]
    assert {p.name for p in folder.iterdir()} == {"case.toml", "registry.json", "lines.geojson",
                                                  "territories.geojson"}
    reg = json.loads((folder / "registry.json").read_text(encoding="utf-8"))
    assert list(reg["datasets"]) == ["arm-geo"]
    files = reg["datasets"]["arm-geo"]["files"]
    import hashlib

    for key, meta in files.items():
        data = (folder / meta["path"]).read_bytes()  # paths relative to the case folder
        assert hashlib.sha256(data).hexdigest() == meta["sha256"] and len(data) == meta["bytes"], key
    assert json.loads((folder / "lines.geojson").read_text(encoding="utf-8"))["features"].__len__() == 2
    assert files["lines"]["rows"] == 2 and files["territories"]["rows"] == 2
    assert set(reg["sources"]) == {"ne-admin0-deu", "ne-boundary-lines"}
    assert reg["sources"]["ne-admin0-deu"]["licence"] == "public domain"
    cfg = cases.read_case_file(folder / "case.toml")
    assert cfg.pair == (LEFT, RIGHT) and cfg.title == "Armenia–Georgia (test)"
    geoms = arm_geo()
    w, s, e, n = shapely.union(geoms["arm"], geoms["geo"]).bounds  # region = bbox of the data
    assert cfg.region == pytest.approx((w, s, e, n), abs=1e-4)


def test_load_by_folder_fills_defaults_and_empty_optional_layers(made):
    case = datasets.load(made["folder"])  # datasets.load re-exports cases.load
    assert case.name == "arm-geo" and case.location.where == "folder"
    assert list(case.lines["source"]) == ["ne-admin0-deu", "ne-boundary-lines"]
    assert set(case.lines["left_party"]) == {LEFT} and set(case.lines["right_party"]) == {RIGHT}
    assert set(case.lines["claimant"]) == {"cartographic"}
    assert (case.lines["scale_or_accuracy_m"] == 1000.0).all()
    assert case.lines["line_id"].is_unique
    assert len(case.places) == 0 and "name_en" in case.places.columns and case.places.crs.to_epsg() == 4326
    assert len(case.incidents) == 0 and "precision_m" in case.incidents.columns
    assert len(case.claims) == 0 and "claim_id" in case.claims.columns
    assert case.dem is None
    # the line is the source geometry, unchanged
    assert shapely.equals_exact(case.lines.geometry.iloc[0], arm_geo()["shared"], tolerance=1e-9)


def test_load_by_name_from_the_user_case_folder(made, monkeypatch):
    monkeypatch.setenv("BORDERKIT_CASES", str(made["folder"].parent))
    assert registry.user_cases_dir() == made["folder"].parent
    case = cases.load("arm-geo")
    assert case.location.where == "user" and len(case.lines) == 2
    listed = {c["name"]: c for c in cases.list_cases()}
    assert listed["arm-geo"]["where"] == "user" and listed["arm-geo"]["pair"] == [LEFT, RIGHT]
    assert listed[registry.DEFAULT_CASE]["where"] == "bundled"
    with pytest.raises(DatasetNotFoundError, match="arm-geo") as exc:
        cases.load("atlantis")  # the message lists what exists
    assert registry.DEFAULT_CASE in str(exc.value) and "\n" not in str(exc.value)


def test_user_cases_dir_follows_the_platform_rule(monkeypatch, tmp_path):
    monkeypatch.delenv("BORDERKIT_CASES", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    import sys

    if sys.platform.startswith("linux"):
        assert registry.user_cases_dir() == tmp_path / "borderkit" / "cases"


def test_distance_to_the_user_line_matches_geod_on_the_source_line(made):
    from borderkit.measure import distance_to_lines

    case = cases.load(made["folder"])
    lon, lat = 43.84, 40.79  # a point in Armenia (Gyumri area)
    df = distance_to_lines([lon], [lat], lines=case.lines, sources=["ne-admin0-deu"])
    got = float(df["distance_m"].iloc[0])
    # independent: geodesic distance to the source line densified to ~10 m (vertices only, pyproj Geod)
    line = shapely.segmentize(arm_geo()["shared"], 1e-4)
    xy = np.asarray(line.coords)
    _, _, d = GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])
    assert got == pytest.approx(float(d.min()), abs=15.0)
    assert 30_000 < got < 40_000
    # and the side agrees with the source polygon
    assert arm_geo()["arm"].contains(shapely.Point(lon, lat))
    assert df["party"].iloc[0] == LEFT


def test_hash_mismatch_is_a_registry_error(made, tmp_path):
    import shutil

    folder = tmp_path / "arm-geo"
    shutil.copytree(made["folder"], folder)
    f = folder / "territories.geojson"
    f.write_bytes(f.read_bytes() + b"\n")
    with pytest.raises(RegistryError, match="territories.geojson"):
        cases.load(folder)


def test_folder_without_case_toml(made, tmp_path):
    import shutil

    folder = tmp_path / "no-toml"
    shutil.copytree(made["folder"], folder)
    (folder / "case.toml").unlink()
    with pytest.raises(FileFormatError, match="not a case folder"):
        cases.load(folder)


def test_registry_paths_cannot_leave_the_case_folder(made, tmp_path):
    import shutil

    folder = tmp_path / "escape"
    shutil.copytree(made["folder"], folder)
    reg = json.loads((folder / "registry.json").read_text(encoding="utf-8"))
    reg["datasets"]["arm-geo"]["files"]["lines"]["path"] = "../../etc/passwd"
    (folder / "registry.json").write_text(json.dumps(reg), encoding="utf-8")
    with pytest.raises(RegistryError, match="relative"):
        cases.load(folder)


def test_case_new_needs_the_sides_and_names_the_option(made, tmp_path):
    with pytest.raises(ValidationError, match="left_party"):
        cases.new_case(tmp_path / "x", lines=made["files"]["lines"], claimant="cartographic", source_date="2021",
                       accuracy_m=1000.0)
    assert not (tmp_path / "x").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing half-written


def test_case_new_refuses_to_replace_without_overwrite_or_a_non_case_folder(made, tmp_path):
    with pytest.raises(OutputExistsError):
        cases.new_case(made["folder"], lines=made["files"]["lines"], **META)
    other = tmp_path / "precious"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="not a case folder"):
        cases.new_case(other, lines=made["files"]["lines"], overwrite=True, **META)
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_case_new_overwrite_replaces_a_case_folder(made, tmp_path):
    import shutil

    folder = tmp_path / "arm-geo"
    shutil.copytree(made["folder"], folder)
    cases.new_case(folder, lines=made["files"]["lines"], overwrite=True, **META)
    assert not (folder / "territories.geojson").exists()  # the new case has no territories
    assert len(cases.load(folder).territories) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arm-geo"]


def test_territory_defaults_fill_gaps_and_keep_file_values(tmp_path):
    """Territories take source metadata given once, as lines do (one reader implementation)."""
    import geopandas as gpd

    from borderkit.io.readers import read_territories

    square = shapely.Polygon([(44, 41), (44.1, 41), (44.1, 41.1), (44, 41.1)])
    gdf = gpd.GeoDataFrame({"party": ["ARM", "GEO"], "name": ["a", "b"], "source": ["mine", None]},
                           geometry=[square, shapely.affinity.translate(square, 0.2)], crs="EPSG:4326")
    path = tmp_path / "t.geojson"
    gdf.to_file(path, driver="GeoJSON")
    out = read_territories(path, defaults={"source": "s", "source_date": "2024", "scale_or_accuracy_m": 50.0,
                                           "licence": "", "attribution": "", "source_version": ""})
    assert list(out["source"]) == ["mine", "s"]
    assert list(out["territory_id"]) == ["t-1", "t-2"]
    with pytest.raises(ValueError, match="unknown territories column"):
        read_territories(path, defaults={"claimant": "x"})


def test_bundled_case_still_loads_by_name_and_config():
    case = cases.load()
    assert case.location.where == "bundled" and case.dem is not None
    assert cases.case_config(registry.DEFAULT_CASE).pair == ("ARM", "AZE")
