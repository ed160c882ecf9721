"""Line of sight and viewshed against hand-computed answers (a ridge; a flat curved plain)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import IN_CI, require_module, shared_file

rasterio = require_module("rasterio")  # CI=true: fail, never skip
from affine import Affine  # noqa: E402
from pyproj import Geod  # noqa: E402

from borderkit.errors import OutputExistsError, ValidationError  # noqa: E402
from borderkit.terrain import _kernels  # noqa: E402
from borderkit.terrain.dem import DEM, gaussian_radius_m, open_dem  # noqa: E402
from borderkit.terrain.visibility import (  # noqa: E402
    horizon_distance_m,
    line_of_sight,
    lines_of_sight,
    viewshed,
)

GEOD = Geod(ellps="WGS84")
LAT0 = 39.5


def grid_dem(z, *, res=0.001, west=46.0, north=LAT0 + 0.05, name="synthetic") -> DEM:
    from rasterio.crs import CRS

    return DEM(
        data=np.asarray(z, dtype=np.float32),
        transform=Affine(res, 0, west, 0, -res, north),
        crs=CRS.from_epsg(4326),
        name=name,
        vertical_accuracy_m=1.0,
        vertical_accuracy_note="synthetic",
    )


def centre(dem: DEM, row: int, col: int) -> tuple[float, float]:
    lon, lat = dem.cell_center(row, col)
    return float(lon), float(lat)


# --- a single ridge ------------------------------------------------------------------------------
RIDGE = (100, 104)  # columns of a flat-topped ridge
OBS_COL, TGT_COL, ROW = 10, 210, 50
H_OBS = 500.0


def ridge_dem(height: float) -> DEM:
    z = np.zeros((101, 221))
    z[:, RIDGE[0] : RIDGE[1] + 1] = height
    return grid_dem(z)


def sight_line_at(dem: DEM, col: int, *, curvature: bool, k: float = 0.13) -> float:
    """Height of the observer→target sight line above the (curved) datum at the centre of a column, by hand."""
    obs = centre(dem, ROW, OBS_COL)
    _, _, a = GEOD.inv(*obs, *centre(dem, ROW, col))
    _, _, big_d = GEOD.inv(*obs, *centre(dem, ROW, TGT_COL))
    if not curvature:
        return H_OBS * (1 - a / big_d)
    r_eff = gaussian_radius_m(obs[1]) / (1 - k)
    line = H_OBS + (-(big_d**2) / (2 * r_eff) - H_OBS) * a / big_d
    return line + a**2 / (2 * r_eff)  # terrain at a is lowered by a²/2R_eff: compare with H directly


@pytest.mark.parametrize("curvature", [False, True])
def test_ridge_blocks_exactly_above_the_hand_computed_height(curvature):
    threshold = sight_line_at(ridge_dem(0), RIDGE[1], curvature=curvature)  # the far edge of the ridge is critical
    for h, visible in ((threshold - 3.0, True), (threshold + 3.0, False)):
        d = ridge_dem(h)
        res = line_of_sight(
            centre(d, ROW, OBS_COL),
            centre(d, ROW, TGT_COL),
            dem=d,
            observer_height_m=H_OBS,
            curvature=curvature,
            spacing_m=10.0,
        )
        assert res["visible"] is visible, (h, threshold, res)
        if visible:
            assert res["obstruction"] is None
            assert 0 < res["min_clearance"]["clearance_m"] <= 3.5
        else:
            o = res["obstruction"]
            _, _, near = GEOD.inv(*centre(d, ROW, OBS_COL), *centre(d, ROW, RIDGE[0] - 1))
            _, _, far = GEOD.inv(*centre(d, ROW, OBS_COL), *centre(d, ROW, RIDGE[1]))
            assert near < o["distance_m"] <= far + 1
            assert -3.5 <= o["clearance_m"] < 0
            # on the geodesic, which bulges ~5 m north of the parallel midway (d²·tanφ/8R)
            assert o["lat"] == pytest.approx(centre(d, ROW, 0)[1], abs=1e-4)


def test_target_height_lifts_the_target_over_the_ridge():
    threshold = sight_line_at(ridge_dem(0), RIDGE[1], curvature=False)
    d = ridge_dem(threshold + 10)
    obs, tgt = centre(d, ROW, OBS_COL), centre(d, ROW, TGT_COL)
    assert not line_of_sight(obs, tgt, dem=d, observer_height_m=H_OBS, curvature=False)["visible"]
    # raising the target by t lifts the line at the ridge by t*a/D: 10 m needs t > 10*D/a
    _, _, a = GEOD.inv(*obs, *centre(d, ROW, RIDGE[1]))
    _, _, big_d = GEOD.inv(*obs, *tgt)
    t = 10 * big_d / a
    assert line_of_sight(obs, tgt, dem=d, observer_height_m=H_OBS, target_height_m=t + 2, curvature=False)["visible"]
    assert not line_of_sight(obs, tgt, dem=d, observer_height_m=H_OBS, target_height_m=t - 2, curvature=False)[
        "visible"
    ]


# --- a flat plain: the horizon --------------------------------------------------------------------
def plain(res=0.003, size=501) -> DEM:
    return grid_dem(np.zeros((size, size)), res=res, west=46.0, north=LAT0 + res * size / 2)


@pytest.mark.parametrize("h_obs,h_tgt", [(100.0, 0.0), (30.0, 20.0)])
def test_curvature_hides_targets_beyond_the_horizon(h_obs, h_tgt):
    d = plain()
    obs = (46.0 + 0.003 * 250.5, LAT0)
    k = 0.13
    r_eff = gaussian_radius_m(LAT0) / (1 - k)
    horizon = math.sqrt(2 * r_eff * h_obs) + math.sqrt(2 * r_eff * h_tgt)  # hand formula
    az = np.repeat(np.arange(0, 360, 30.0), 6)
    frac = np.tile([0.80, 0.90, 0.97, 1.03, 1.10, 1.20], 12)
    lon, lat, _ = GEOD.fwd(np.full(az.size, obs[0]), np.full(az.size, obs[1]), az, horizon * frac)
    df = lines_of_sight(
        obs,
        np.column_stack([lon, lat]),
        dem=d,
        observer_height_m=h_obs,
        target_height_m=h_tgt,
        refraction=k,
        spacing_m=50.0,
    )
    np.testing.assert_array_equal(df["visible"].to_numpy(), frac < 1)
    # without curvature everything on the plain is visible
    flat = lines_of_sight(
        obs,
        np.column_stack([lon, lat]),
        dem=d,
        observer_height_m=h_obs,
        target_height_m=h_tgt,
        curvature=False,
        spacing_m=50.0,
    )
    assert flat["visible"].all()
    assert horizon_distance_m(h_obs, refraction=k, lat=LAT0) == pytest.approx(math.sqrt(2 * r_eff * h_obs))


def test_elevation_angle_includes_curvature():
    d = plain()
    obs = (46.0 + 0.003 * 250.5, LAT0)
    lon, lat, _ = GEOD.fwd(obs[0], obs[1], 90.0, 20_000.0)
    res = line_of_sight(obs, (lon, lat), dem=d, observer_height_m=10.0)
    r_eff = gaussian_radius_m(LAT0) / 0.87
    expected = math.degrees(math.atan2(-(20_000.0**2) / (2 * r_eff) - 10.0, 20_000.0))
    assert res["elevation_angle_deg"] == pytest.approx(expected, abs=1e-3)
    assert res["distance_m"] == pytest.approx(20_000.0, abs=0.1)


def test_parameters_are_reported():
    d = plain(size=101)
    res = line_of_sight((46.1, LAT0), (46.12, LAT0), dem=d, observer_height_m=1.7, target_height_m=3, refraction=0.2)
    p = res["parameters"]
    assert p["observer_height_m"] == 1.7 and p["target_height_m"] == 3 and p["refraction_coefficient"] == 0.2
    assert p["effective_earth_radius_m"] == pytest.approx(p["earth_radius_m"] / 0.8, rel=1e-6)
    assert p["gdal_curvature_coefficient"] == pytest.approx(0.8)
    assert p["dem"]["name"] == "synthetic" and "method" in p and "units" in p


def test_bad_inputs():
    d = plain(size=51)
    with pytest.raises(ValidationError, match="refraction"):
        line_of_sight((46.05, LAT0), (46.06, LAT0), dem=d, refraction=1.5)
    with pytest.raises(ValidationError, match="LAT,LON"):
        line_of_sight((LAT0, 46.05), (46.06, LAT0), dem=d)
    with pytest.raises(ValidationError, match="observer_height"):
        line_of_sight((46.05, LAT0), (46.06, LAT0), dem=d, observer_height_m=-1)


def test_many_targets_are_vectorised_and_consistent():
    d = open_dem(shared_file("dted0-caucasus/e046/n39.dt0"))
    obs = (46.175, 39.5833)
    rng = np.random.default_rng(1)
    tg = np.column_stack([rng.uniform(45.95, 46.45, 300), rng.uniform(39.35, 39.8, 300)])
    many = lines_of_sight(obs, tg, dem=d)
    for i in (0, 17, 123, 299):
        one = line_of_sight(obs, tuple(tg[i]), dem=d)
        assert one["visible"] == bool(many["visible"].iloc[i])
        if one["obstruction"]:
            assert one["obstruction"]["distance_m"] == pytest.approx(many["obstruction_distance_m"].iloc[i], abs=0.1)
    assert 0 < many["visible"].mean() < 1


def test_geodesic_sample_positions_are_exact_enough():
    """Samples between the exact 2 km geodesic nodes are interpolated in lon/lat: error below 0.1 m."""
    from borderkit.terrain import visibility as vis

    lon0, lat0, az, dist = 46.0, 39.5, 63.0, 48_000.0
    nn = math.ceil(dist / vis._NODE_SPACING_M)
    f = np.linspace(0, 1, 2001)
    lon_n, lat_n, _ = GEOD.fwd(
        np.full(nn + 1, lon0), np.full(nn + 1, lat0), np.full(nn + 1, az), dist * np.arange(nn + 1) / nn
    )
    lon_i = np.interp(f * nn, np.arange(nn + 1), lon_n)
    lat_i = np.interp(f * nn, np.arange(nn + 1), lat_n)
    lon_x, lat_x, _ = GEOD.fwd(np.full(f.size, lon0), np.full(f.size, lat0), np.full(f.size, az), dist * f)
    _, _, err = GEOD.inv(lon_i, lat_i, lon_x, lat_x)
    assert np.max(err) < 0.1


# --- viewshed ----------------------------------------------------------------------------------
def test_viewshed_on_a_curved_plain_matches_the_horizon_formula():
    d = plain(res=0.004, size=301)
    obs = centre(d, 150, 150)
    h = 60.0
    vs = viewshed(obs, dem=d, radius_m=40_000, observer_height_m=h)
    horizon = math.sqrt(2 * gaussian_radius_m(obs[1]) / 0.87 * h)
    rows, cols = np.indices(vs.array.shape)
    lon, lat = (vs.transform.c + (cols + 0.5) * vs.transform.a, vs.transform.f + (rows + 0.5) * vs.transform.e)
    _, _, r = GEOD.inv(np.full(lon.size, obs[0]), np.full(lon.size, obs[1]), lon.ravel(), lat.ravel())
    r = r.reshape(lon.shape)
    cell = 0.004 * 111_000
    inside = r < 40_000
    clear_in = inside & (r < horizon - 2 * cell)
    clear_out = inside & (r > horizon + 2 * cell)
    assert (vs.array[clear_in] == 1).all()
    assert (vs.array[clear_out] == 0).all()
    assert (vs.array[r > 40_000 + cell] == 255).all()
    # visible area ≈ π d_h² (ellipsoidal cell areas)
    assert vs.visible_area_km2() == pytest.approx(math.pi * horizon**2 / 1e6, rel=0.05)


def test_viewshed_ridge_shadow():
    z = np.zeros((101, 221))
    z[:, 100:105] = 300.0
    d = grid_dem(z)
    vs = viewshed(centre(d, 50, 10), dem=d, radius_m=15_000, observer_height_m=2.0, curvature=False)
    c0 = int(round((vs.transform.c - d.transform.c) / d.transform.a))
    r0 = int(round((d.transform.f - vs.transform.f) / -d.transform.e))
    row = vs.array[50 - r0]
    assert (row[: 100 - c0] == 1).all()  # the plain before the ridge
    assert row[100 - c0] == 1  # the ridge's near edge is seen …
    assert (row[101 - c0 : 105 - c0] == 0).all()  # … but not its flat top from 298 m below
    assert (row[110 - c0 : 160 - c0] == 0).all()  # its shadow


def test_viewshed_engines_agree_exactly():
    d = open_dem(shared_file("dted0-caucasus/e046/n39.dt0"), bbox=(45.9, 39.2, 46.5, 39.9))
    for obs in ((46.175, 39.5833), (46.342, 39.511)):
        a = viewshed(obs, dem=d, radius_m=25_000, engine="numpy")
        if _kernels.HAVE_NUMBA:
            b = viewshed(obs, dem=d, radius_m=25_000, engine="numba")
            np.testing.assert_array_equal(a.array, b.array)
        assert a.parameters["engine"] == "numpy"


def test_kernels_identical_on_random_terrain():
    if not _kernels.HAVE_NUMBA:
        if IN_CI:
            pytest.fail("numba not installed (borderkit[terrain]); CI must compare both engines")
        pytest.skip("numba not installed: only the numpy engine exists")
    rng = np.random.default_rng(7)
    for trial in range(8):
        ny, nx = (int(v) for v in rng.integers(3, 60, 2))
        z = rng.normal(0, 40, (ny, nx)).cumsum(0).cumsum(1) / 10
        oy, ox = int(rng.integers(0, ny)), int(rng.integers(0, nx))
        yy, xx = np.indices((ny, nx))
        r2 = ((xx - ox) * 30.0) ** 2 + ((yy - oy) * 40.0) ** 2
        from borderkit.terrain.visibility import _contiguous

        inr = _contiguous(r2 <= rng.choice([1e12, 600.0**2]), ox)
        zc = z - 0.87 * r2 / 12_756_274.0
        outs = []
        for fn in (_kernels.viewshed_edge, _kernels.viewshed_edge_numpy):
            out = np.empty((ny, nx), np.uint8)
            fn(zc.copy(), inr, oy, ox, float(z[oy, ox] + 2), float(trial % 3), bool(trial % 2), out)
            outs.append(out)
        np.testing.assert_array_equal(*outs)


def test_viewshed_outputs_and_parameters(tmp_path):
    d = open_dem(shared_file("dted0-caucasus/e046/n39.dt0").parent.parent, bbox=(45.7, 39.2, 46.6, 39.9))
    vs = viewshed((46.175, 39.5833), dem=d, radius_m=20_000, observer_height_m=5, target_height_m=1)
    p = vs.parameters
    for key in (
        "observer_height_m",
        "target_height_m",
        "curvature",
        "refraction_coefficient",
        "earth_radius_m",
        "effective_earth_radius_m",
        "radius_m",
        "algorithm",
        "distance_method",
    ):
        assert key in p
    assert p["dem"]["resolution_m"] > 900 and p["dem"]["vertical_accuracy_m"] == 45
    assert set(np.unique(vs.array)) <= {0, 1, 255}
    path = vs.to_geotiff(tmp_path / "vs.tif")
    with pytest.raises(OutputExistsError):
        vs.to_geotiff(path)
    with rasterio.open(path) as ds:
        assert ds.dtypes[0] == "uint8" and ds.nodata == 255
        tags = ds.tags()
        assert tags["BORDERKIT_OBSERVER_HEIGHT_M"] == "5"
        assert tags["BORDERKIT_REFRACTION_COEFFICIENT"] == "0.13"
        assert "GDAL" in tags["BORDERKIT_ALGORITHM"]
        np.testing.assert_array_equal(ds.read(1), vs.array)
        # on the DEM's grid
        assert (ds.transform.c - d.transform.c) / d.transform.a == pytest.approx(
            round((ds.transform.c - d.transform.c) / d.transform.a), abs=1e-6
        )
    polys = vs.polygons()
    assert polys.crs.to_epsg() == 4326
    assert polys.loc[polys.visible, "area_km2"].sum() == pytest.approx(vs.visible_area_km2(), rel=1e-6)
    total = polys["area_km2"].sum()
    assert total == pytest.approx(math.pi * 20**2, rel=0.03)


def test_viewshed_cell_areas_are_ellipsoidal():
    import shapely

    d = plain(res=0.01, size=41)
    vs = viewshed(centre(d, 20, 20), dem=d, radius_m=10_000)
    t = vs.transform
    cell = shapely.box(t.c, t.f + t.e, t.c + t.a, t.f)
    area = abs(GEOD.geometry_area_perimeter(cell)[0]) / 1e6
    assert vs.cell_areas_km2()[0, 0] == pytest.approx(area, rel=1e-7)


def test_viewshed_limits():
    d = plain(size=51)
    with pytest.raises(ValidationError, match="50 km"):
        viewshed((46.05, LAT0), dem=d, radius_m=60_000)
    with pytest.raises(ValidationError, match="outside"):
        viewshed((40.0, LAT0), dem=d, radius_m=1000)
