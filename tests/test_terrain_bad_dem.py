"""Bad DEM inputs (issue 10 §3): one line naming the file and the fix, exit 1, never NaN in JSON.

The corpus is generated here (small files in ``tmp_path``): a truncated DTED0
tile (the first 20,000 of the real tile's 34,162 bytes), a truncated GeoTIFF, a
text file named ``.tif``, an all-nodata GeoTIFF, a GeoTIFF far from the request
(central Europe), and one with data only away from the request. Every case
goes through the API (a :class:`~borderkit.errors.DEMError`, also a
``ValueError``) and through all five DEM commands with click's ``CliRunner``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import require_module, shared_file

rasterio = require_module("rasterio")
from affine import Affine  # noqa: E402

from borderkit.cli.main import cli  # noqa: E402
from borderkit.errors import CRSError, DEMError, DEMFileError  # noqa: E402
from borderkit.terrain.dem import open_dem  # noqa: E402
from borderkit.terrain.peaks import dem_max_near  # noqa: E402
from borderkit.terrain.profile import elevation_profile  # noqa: E402
from borderkit.terrain.visibility import line_of_sight, viewshed  # noqa: E402


def _tif(path, z, west, north, nodata=-32767):
    t = Affine(0.01, 0, west, 0, -0.01, north)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1, dtype="int16",
                       crs="EPSG:4326", transform=t, nodata=nodata) as ds:
        ds.write(z.astype("int16"), 1)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_dem")
    real = shared_file("dted0-caucasus/e046/n39.dt0").read_bytes()
    (d / "truncated.dt0").write_bytes(real[:20_000])
    good = _tif(d / "good.tif", np.full((50, 50), 1500), 46.0, 39.7)
    (d / "truncated.tif").write_bytes(good.read_bytes()[:300])
    (d / "not_a_raster.tif").write_text("lat,lon\n39.5,46.2\n", encoding="utf-8")
    _tif(d / "all_nodata.tif", np.full((50, 50), -32767), 46.0, 39.7)
    _tif(d / "elsewhere.tif", np.full((50, 50), 300), 10.0, 50.0)
    holes = np.full((50, 50), -32767)
    holes[40:, 40:] = 900  # data only in the SE corner, far from the requests below
    _tif(d / "holes.tif", holes, 46.0, 39.7)
    return d


# case -> (what the one-line message must contain, the error class)
CASES = {
    "truncated.dt0": ("truncated or corrupt", DEMFileError),
    # cut inside the header: GDAL still opens it but the georeferencing is gone
    "truncated.tif": ("truncated file", CRSError),
    "not_a_raster.tif": ("cannot read this file as a raster", DEMFileError),
    "all_nodata.tif": ("every cell", DEMError),
    "elsewhere.tif": ("pass a DEM that covers", DEMError),
    "holes.tif": ("pass a DEM", DEMError),
}
OBS, TGT = (46.2, 39.5), (46.25, 39.55)


def _api_calls(path):
    yield "open+los", lambda: line_of_sight(OBS, TGT, dem=path)
    yield "viewshed", lambda: viewshed(OBS, dem=path, radius_m=5000.0)
    yield "profile", lambda: elevation_profile([OBS, TGT], dem=path)
    yield "peak", lambda: dem_max_near(open_dem(path), *OBS, 1500.0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_api_raises_a_dem_error_naming_the_file(corpus, case):
    path = corpus / case
    text, cls = CASES[case]
    for name, call in _api_calls(path):
        with pytest.raises(cls) as info:
            call()
        msg = str(info.value)
        assert isinstance(info.value, ValueError), name
        assert str(path) in msg, (name, msg)
        assert "\n" not in msg, (name, msg)
        if case != "holes.tif":
            assert text in msg, (name, msg)


def _commands(path):
    p = str(path)
    return {
        "peak": ["peak", "Mets Ishkhanasar", "--dem", p, "--json"],
        "los": ["los", "--from", "39.5,46.2", "--to", "39.55,46.25", "--dem", p, "--json"],
        "viewshed": ["viewshed", "--lat", "39.5", "--lon", "46.2", "--radius-km", "5", "--dem", p, "--json"],
        "profile": ["profile", "--path", "39.5,46.2;39.55,46.25", "--dem", p, "--json", "--no-labels"],
        "dem": ["dem", "info", "--dem", p, "--json"],
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_dem_command_gives_one_line_and_exit_1(corpus, case):
    path = corpus / case
    runner = CliRunner()
    for name, args in _commands(path).items():
        res = runner.invoke(cli, args)
        if case in ("elsewhere.tif", "holes.tif") and name == "dem":
            # `dem info` answers about the file itself, which is valid: it must say where it is
            assert res.exit_code == 0, (name, res.output)
            doc = json.loads(res.stdout)
            assert doc["bounds_wsen"][0] in (10.0, 46.0)
            continue
        assert res.exit_code == 1, (case, name, res.exit_code, res.output)
        err = res.stderr.strip()
        assert err.startswith("borderkit: error: "), (case, name, err)
        assert len(err.splitlines()) == 1 and "Traceback" not in res.output, (case, name, err)
        assert str(path) in err, (case, name, err)


def test_profile_json_has_null_and_a_reason_where_the_dem_has_no_data(corpus):
    """A path leaving the DEM: JSON stays valid (null, never NaN) and says why."""
    runner = CliRunner()
    # good.tif covers 46.0-46.5 E; the path runs on to 46.7 E
    res = runner.invoke(cli, ["profile", "--path", "39.5,46.3;39.5,46.7", "--dem", str(corpus / "good.tif"),
                              "--json", "--no-labels"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)  # strict parser: NaN would not get here
    z = [r["elevation_m"] for r in doc["table"]]
    assert None in z and 1500.0 in z
    assert doc["parameters"]["nodata_points"] == z.count(None)
    assert "no data" in doc["parameters"]["nodata_note"]
    # the 46.5 E edge of the DEM: the geodesic distance of the first null from the start, within a cell
    from pyproj import Geod

    first_null = next(r for r in doc["table"] if r["elevation_m"] is None)
    edge_m = Geod(ellps="WGS84").inv(46.3, 39.5, 46.5, 39.5)[2]
    assert abs(first_null["distance_m"] - edge_m) < 1000.0
