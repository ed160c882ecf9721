"""Peak check (DEM summit vs reported height) and the commanding-height report."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import IN_CI, require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip
import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402
from affine import Affine  # noqa: E402
from pyproj import Geod  # noqa: E402
from rasterio.crs import CRS  # noqa: E402

from borderkit.errors import DatasetNotFoundError, ValidationError  # noqa: E402
from borderkit.terrain.dem import DEM, open_dem  # noqa: E402
from borderkit.terrain.peaks import (  # noqa: E402
    commanding_height,
    dem_max_near,
    find_place,
    format_commanding_report,
    peak_check,
)

GEOD = Geod(ellps="WGS84")


def places_frame(rows):
    cols = ["place_id", "kind", "name_en", "name_hy", "elevation_m", "elevation_source", "geometry"]
    return gpd.GeoDataFrame([dict(zip(cols, r, strict=True)) for r in rows], geometry="geometry", crs=4326)


@pytest.fixture
def cone():
    """A cone peak (3000 m) at (46.2025, 39.5975) on a 0.005° grid, a 2180 m ridge 9 km east, plain at 1000 m.

    From the DEM summit (eye 3002 m) the sight line to East Village passes the ridge ~26 m too low; from
    the reported summit (3100 m, eye 3102 m) it clears it by ~32 m (hand computation in the test below).
    """
    res = 0.005
    lon = 46.0 + (np.arange(121) + 0.5) * res
    lat = 39.9 - (np.arange(121) + 0.5) * res
    lo, la = np.meshgrid(lon, lat)
    _, _, r = GEOD.inv(np.full(lo.size, 46.2025), np.full(lo.size, 39.5975), lo.ravel(), la.ravel())
    z = np.maximum(1000.0, 3000.0 - 0.25 * r.reshape(lo.shape))
    z[:, (lon > 46.30) & (lon < 46.31)] = 2180.0  # a ridge 9 km east
    d = DEM(
        data=z.astype(np.float32),
        transform=Affine(res, 0, 46.0, 0, -res, 39.9),
        crs=CRS.from_epsg(4326),
        name="cone",
        kind="",
        vertical_accuracy_m=10.0,
        vertical_accuracy_note="synthetic",
    )
    places = places_frame(
        [
            ("cone_peak", "peak", "Cone Peak", "Կոն", 3100.0, "test survey", shapely.Point(46.2025, 39.5975)),
            ("west_town", "town", "West Town", "", 1000.0, "", shapely.Point(46.05, 39.6)),
            ("east_village", "village", "East Village", "", 1000.0, "", shapely.Point(46.45, 39.6)),
            ("airfield", "airport", "Airfield", "", np.nan, "", None),
            ("road", "road", "Road", "", np.nan, "", shapely.LineString([(46.05, 39.45), (46.45, 39.45)])),
        ]
    )
    return d, places


def test_find_place_by_id_name_language_and_partial(cone):
    _, places = cone
    assert find_place(places, "cone_peak").name_en == "Cone Peak"
    assert find_place(places, "cone peak").place_id == "cone_peak"
    assert find_place(places, "Կոն").place_id == "cone_peak"
    assert find_place(places, "Airf").place_id == "airfield"
    with pytest.raises(DatasetNotFoundError, match="did you mean"):
        find_place(places, "Cone Peek")


def test_peak_check_against_hand_values(cone):
    d, places = cone
    r = peak_check("Cone Peak", places=places, dem=d)
    # the highest cell is the one whose centre is nearest the apex: 3000 - 0.25 * its distance
    lon = 46.0 + (np.arange(121) + 0.5) * 0.005
    lat = 39.9 - (np.arange(121) + 0.5) * 0.005
    lo, la = np.meshgrid(lon, lat)
    _, _, dist = GEOD.inv(np.full(lo.size, 46.2025), np.full(lo.size, 39.5975), lo.ravel(), la.ravel())
    i = int(np.argmin(dist))
    assert r["dem_max_m"] == pytest.approx(3000 - 0.25 * dist[i], abs=0.01)
    assert r["dem_max_at"] == {"lat": pytest.approx(la.ravel()[i]), "lon": pytest.approx(lo.ravel()[i])}
    assert r["reported_m"] == 3100.0 and r["reported_source"] == "test survey"
    assert r["difference_m"] == pytest.approx(r["dem_max_m"] - 3100, abs=0.1)
    assert r["within_vertical_accuracy"] is False
    for key in ("name", "reported_m", "reported_source", "dem_max_m", "dem_max_at", "dem"):
        assert key in r
    assert set(r["dem"]) >= {"name", "resolution_m", "vertical_accuracy_m"}
    assert "summit is a point" in r["explanation"]


def test_peak_without_coordinates(cone):
    d, places = cone
    with pytest.raises(ValidationError, match="no coordinates"):
        peak_check("airfield", places=places, dem=d)


def test_dem_max_near_radius(cone):
    d, _ = cone
    small = dem_max_near(d, 46.2025, 39.5975, 300.0)
    assert small["distance_m"] <= 300.0
    big = dem_max_near(d, 46.30, 39.60, 3000.0)
    assert big["max_m"] == 2180.0  # the ridge


def test_commanding_height_report(cone):
    d, places = cone
    df = commanding_height("Cone Peak", places=places, dems={"cone": d}, road_spacing_m=1000.0)
    rows = df.set_index("place_id")
    assert bool(rows.loc["west_town", "visible"]) is True  # open slope to the west
    assert bool(rows.loc["east_village", "visible"]) is False  # behind the 2800 m ridge
    assert rows.loc["east_village", "min_clearance_m"] < 0
    assert rows.loc["airfield", "visible"] is None and "not located" in rows.loc["airfield", "note"]
    road = rows.loc["road"]
    assert road["points"] > 30 and 0 < road["visible_fraction"] < 1
    # distance and elevation angle of the west town, by hand from the DEM summit cell
    pk = df.attrs["peaks"]["cone"]
    _, _, dist = GEOD.inv(pk["dem_max_at"]["lon"], pk["dem_max_at"]["lat"], 46.05, 39.6)
    assert rows.loc["west_town", "distance_m"] == pytest.approx(dist, abs=0.5)
    r_eff = 6_374_000 / 0.87
    angle = np.degrees(np.arctan2(1000 - dist**2 / (2 * r_eff) - (pk["dem_max_m"] + 2), dist))
    assert rows.loc["west_town", "elevation_angle_deg"] == pytest.approx(angle, abs=0.01)
    text = format_commanding_report(df)
    assert "East Village" in text and "caveat" in text and "vertical accuracy" in text


def test_reported_summit_changes_the_verdict_when_it_should(cone):
    d, places = cone
    # by hand (R_eff = 6374 km / 0.87 = 7326 km): D = 21.26 km; the far edge of the ridge (cell centre
    # 46.3075 E) is at a = 8.93 km, a/D = 0.420; the target is lowered D²/2R_eff = 30.8 m, the ridge 5.4 m.
    # eye 3002 m: line 3002 + (969.2 - 3002) * 0.420 = 2148.2 m vs ridge 2174.6 m -> blocked by about 26 m;
    # eye 3102 m: 3102 + (969.2 - 3102) * 0.420 = 2206.2 m -> clears it by about 32 m.
    df = commanding_height("Cone Peak", places=places, dems=[d], kinds=("village",))
    row = df.set_index("place_id").loc["east_village"]
    assert not row["visible"]
    assert -30 < row["min_clearance_m"] < -22
    assert row["visible_from_reported_summit"]


@pytest.fixture(scope="module")
def case():
    try:
        from borderkit import datasets

        return datasets.load()
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            raise
        pytest.skip(f"bundled case not available: {exc}")


def test_mets_ishkhanasar_on_dted0_and_globe(case):
    case_places = case.places
    dted = open_dem(shared_file("dted0-caucasus/e046/n39.dt0").parent.parent)
    r = peak_check("Mets Ishkhanasar", places=case_places, dem=dted)
    assert r["dem_max_m"] == 3495.0 and r["dem"]["vertical_accuracy_m"] == 45.0
    assert r["reported_m"] == 3550.0 and r["dem_max_m"] < r["reported_m"]  # the case lists 3550 m
    assert 700 < r["dem"]["resolution_ew_m"] < 730 and 920 < r["dem"]["resolution_ns_m"] < 930
    g = peak_check("Mets Ishkhanasar", places=case_places, dem=case.dem)  # the case's DEM, passed in
    assert g["dem"]["kind"] == "GLOBE" and g["dem_max_m"] == 3495.0  # GLOBE here is DTED0 posts, shifted half a cell


def test_places_and_dem_are_parameters(cone):
    """terrain knows no case: no places or no DEM is one clear error naming what to pass."""
    d, places = cone
    with pytest.raises(ValidationError, match="no places layer given"):
        peak_check("Cone Peak", places=None, dem=d)
    with pytest.raises(ValidationError, match="no DEM given"):
        peak_check("Cone Peak", places=places, dem=None)
