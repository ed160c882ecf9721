"""The CLI through click's runner: output, JSON contracts, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from borderkit import __version__
from borderkit.cli.main import EXIT_DATA, EXIT_INTEGRITY, cli


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args, **kw):
        return runner.invoke(cli, list(args), catch_exceptions=False, **kw)

    return _run


def test_version(run):
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_datasets_list(run):
    r = run("datasets", "list", "--json")
    assert r.exit_code == 0
    assert "armenia-azerbaijan" in json.loads(r.output)


def test_datasets_info_lists_every_layer_with_source_licence_and_rows(run):
    r = run("datasets", "info", "armenia-azerbaijan")
    assert r.exit_code == 0, r.output
    for layer in ("lines", "territories", "incidents", "places", "claims", "dem"):
        assert layer in r.output
    for token in ("osm-2017", "ODbL", "natural-earth-10m", "dcw-gmt", "gshhg-wdbii", "globe-30s", "OpenStreetMap"):
        assert token in r.output, token


def test_datasets_info_json(run):
    r = run("datasets", "info", "--json")
    doc = json.loads(r.output)
    assert set(doc["files"]) >= {"lines", "territories", "incidents", "places", "claims", "dem"}
    for meta in doc["files"].values():
        assert {"sha256", "rows", "sources", "path"} <= set(meta)


def test_datasets_verify(run):
    r = run("datasets", "verify")
    assert r.exit_code == 0 and "match" in r.output


def test_datasets_summary_is_the_main_job(run):
    r = run("datasets", "summary")
    assert r.exit_code == 0, r.output
    assert "Line sources" in r.output and "Incidents" in r.output


def test_unknown_dataset_is_one_line_and_exit_1(run):
    r = CliRunner().invoke(cli, ["datasets", "info", "atlantis"])
    assert r.exit_code == EXIT_DATA
    assert r.output.strip().count("\n") == 0
    assert "Traceback" not in r.output
    assert r.output.startswith("borderkit: error: unknown dataset 'atlantis'")


def test_registry_mismatch_exits_3(tmp_path, monkeypatch):
    import shutil

    from borderkit import datasets

    src = datasets.data_dir()
    dst = tmp_path / "geodata"
    shutil.copytree(src / "armenia-azerbaijan", dst / "armenia-azerbaijan")
    shutil.copy(src / "registry.json", dst / "registry.json")
    f = dst / "armenia-azerbaijan" / "places.geojson"
    f.write_bytes(f.read_bytes() + b"\n")
    monkeypatch.setenv("BORDERKIT_DATA", str(dst))
    r = CliRunner().invoke(cli, ["datasets", "verify"])
    assert r.exit_code == EXIT_INTEGRITY
    assert "places.geojson" in r.output and "Traceback" not in r.output


def test_validate_reports_every_problem(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(
        "place_id,kind,name_en,lat,lon\n"
        "p1,village,Tegh,39.5589,46.4806\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "place_id,kind,name_en,lat,lon\n"
        "p1,village,A,39.5,46.4\n"
        "p2,volcano,B,39.5,46.4\n"
        "p3,village,C,139.5,46.4\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(cli, ["validate", "--kind", "places", str(good)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["validate", "--kind", "places", "--json", str(good), str(bad)])
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc[0]["valid"] and not doc[1]["valid"]
    rows = sorted({p["row"] for p in doc[1]["problems"]})
    assert rows == [2, 3]
