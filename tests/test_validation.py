"""Bad inputs: every case raises the right error, naming file, row and column, for every bad row.

Each bad file is made in ``tmp_path``; which rows are bad is known by construction, and
numbers in expectations are worked out by hand (or with pyproj / the csv module).
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

from borderkit.cases import case_config
from borderkit.errors import (
    CRSError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    ValidationError,
)
from borderkit.io import read_incidents, read_lines, read_places, read_territories
from borderkit.validate import (
    GeometryRepairedWarning,
    find_problems,
    validate_incidents,
    validate_layer,
    validate_lines,
    validate_places,
    validate_territories,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Normalized/laundered field name:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning"),
]

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

# The region and projected CRSs of the bundled case, from its case file (what the CLI passes
# by default): the library itself holds no region, so the tests that rely on one pass it.
_AA = case_config("armenia-azerbaijan")
AA = {"region": _AA.region, "projected_crs": _AA.projected_crs}

PLACES_HEADER = "place_id,kind,name_en,latitude,longitude"
GOOD_PLACES = [
    "kapan,town,Kapan,39.2076,46.4057",
    "goris,town,Goris,39.5111,46.3386",
    "sisian,town,Sisian,39.5206,46.0322",
    "jermuk,town,Jermuk,39.8414,45.6869",
    "tegh,village,Tegh,39.5597,46.4797",
    "agarak,village,Agarak,38.8638,46.1833",
]

INC_COLS = [
    "incident_id",
    "date",
    "date_precision",
    "type",
    "description",
    "place_name",
    "precision_m",
    "sources",
    "latitude",
    "longitude",
]


def incident_rows(n: int = 5) -> list[dict[str, object]]:
    return [
        {
            "incident_id": f"i{i + 1}",
            "date": f"2021-05-{10 + i:02d}",
            "date_precision": "day",
            "type": "exchange of fire",
            "description": "Shots fired",
            "place_name": "Tegh",
            "precision_m": 1000,
            "sources": json.dumps([{"publication": "P", "url": f"https://example.org/{i}"}]),
            "latitude": 39.55 + i / 100,
            "longitude": 46.48,
        }
        for i in range(n)
    ]


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_incidents(path: Path, rows: list[dict[str, object]]) -> Path:
    pd.DataFrame(rows, columns=INC_COLS).to_csv(path, index=False)
    return path


def assert_problems(err: ValidationError, path: Path, expected: list[tuple[int | None, str]]) -> None:
    """``err`` names ``path`` and has exactly the (row, column) problems in ``expected``."""
    got = sorted(((p.row or 0), p.column or "") for p in err.problems)
    assert got == sorted(((r or 0), c) for r, c in expected), err.report()
    for p in err.problems:
        assert p.path == str(path)
        text = str(p)
        assert text.startswith(str(path))
        if p.row is not None:
            assert f"row {p.row}" in text
        assert f"column {p.column!r}" in text
    first = str(err)
    assert "\n" not in first
    assert str(path) in first
    assert len(err.report().splitlines()) == len(err.problems)


# ---------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------

BOWTIE = Polygon([(45.0, 39.0), (45.1, 39.1), (45.1, 39.0), (45.0, 39.1), (45.0, 39.0)])


def territories(geoms: list) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "territory_id": [f"t{i}" for i in range(n)],
            "party": ["ARM"] * n,
            "name": ["T"] * n,
            "source": ["hand"] * n,
            "source_version": ["1"] * n,
            "source_date": ["2024"] * n,
            "scale_or_accuracy_m": [100.0] * n,
            "licence": ["CC0-1.0"] * n,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def test_invalid_polygon_is_reported_and_repaired_on_request(tmp_path: Path) -> None:
    square = Polygon([(46.0, 40.0), (46.1, 40.0), (46.1, 40.1), (46.0, 40.1)])
    path = tmp_path / "t.geojson"
    pyogrio.write_dataframe(territories([square, BOWTIE, square, BOWTIE]), path)
    with pytest.raises(ValidationError) as exc:
        read_territories(path)
    assert_problems(exc.value, path, [(2, "geometry"), (4, "geometry")])
    assert "Self-intersection" in exc.value.problems[0].message
    assert "repair=True" in exc.value.problems[0].message

    with pytest.warns(GeometryRepairedWarning, match="rows 2, 4"):
        result = read_territories(path, repair=True)
    assert list(result["geometry_repaired"]) == [False, True, False, True]
    assert result.geometry.is_valid.all()
    # the bow-tie is two triangles of base 0.1 and height 0.05: 2 * 0.1 * 0.05 / 2 = 0.005
    np.testing.assert_allclose(result.geometry.iloc[1].area, 0.005)
    assert "geometry_repaired" not in read_territories(tmp_path / "t.geojson", errors="collect")[0].columns


LINE_HEADER = (
    "line_id,name,source,source_version,source_date,scale_or_accuracy_m,licence,"
    "claimant,left_party,right_party,wkt"
)


def line_row(i: str, wkt: str, *, acc: str = "100", claimant: str = "ARM") -> str:
    return f'{i},L,hand,1,2024,{acc},CC0-1.0,{claimant},ARM,AZE,"{wkt}"'


def test_self_crossing_line(tmp_path: Path) -> None:
    # (45 39)-(45.2 39.2)-(45.2 39)-(45 39.2): the first and last segments cross at (45.1, 39.1)
    crossing = "LINESTRING (45 39, 45.2 39.2, 45.2 39, 45 39.2)"
    path = write_csv(
        tmp_path / "l.csv",
        LINE_HEADER,
        [line_row("a", "LINESTRING (45 39, 45.1 39.1)"), line_row("b", crossing), line_row("c", crossing)],
    )
    with pytest.raises(ValidationError) as exc:
        read_lines(path)
    assert_problems(exc.value, path, [(2, "geometry"), (3, "geometry")])
    assert "crosses itself at (45.1, 39.1)" in exc.value.problems[0].message

    with pytest.warns(GeometryRepairedWarning):
        result = read_lines(path, repair=True)
    fixed = result.geometry.iloc[1]
    assert fixed.geom_type == "MultiLineString" and len(fixed.geoms) == 3
    np.testing.assert_allclose(fixed.length, shapely.from_wkt(crossing).length)
    # the repaired layer passes validation as it is
    assert find_problems(result, "lines") == []


def test_wrong_geometry_type(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "l.csv",
        LINE_HEADER,
        [
            line_row("a", "LINESTRING (45 39, 45.1 39.1)"),
            line_row("b", "POLYGON ((45 39, 45.1 39, 45.1 39.1, 45 39))"),
            line_row("c", "POINT (45 39)"),
        ],
    )
    with pytest.raises(ValidationError) as exc:
        read_lines(path)
    assert_problems(exc.value, path, [(2, "geometry"), (3, "geometry")])
    assert (
        "is a Polygon, but a lines layer takes LineString or MultiLineString" in exc.value.problems[0].message
    )

    gdf = gpd.GeoDataFrame(
        pd.DataFrame(incident_rows(2)).drop(columns=["latitude", "longitude"]),
        geometry=[Point(46.48, 39.55), LineString([(46.4, 39.5), (46.5, 39.6)])],
        crs="EPSG:4326",
    )
    with pytest.raises(ValidationError) as exc:
        validate_incidents(gdf, path="mem")
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "geometry")]


# ---------------------------------------------------------------------------
# coordinates
# ---------------------------------------------------------------------------


def test_latitude_out_of_range(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[1] = "goris,town,Goris,95.0,46.3386"
    rows[3] = "jermuk,town,Jermuk,-91.5,45.6869"
    rows[4] = "tegh,village,Tegh,190,46.4797"
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(2, "latitude"), (4, "latitude"), (5, "latitude")])
    assert "latitude 95 is outside -90…90" in exc.value.problems[0].message
    assert "[spreadsheet row 3]" in exc.value.problems[0].message


def test_longitude_out_of_range(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[0] = "kapan,town,Kapan,39.2076,181"
    rows[2] = "sisian,town,Sisian,39.5206,-200"
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(1, "longitude"), (3, "longitude")])
    assert "longitude 181 is outside -180…180" in exc.value.problems[0].message


SWAP_PHRASE = "looks like latitude and longitude are swapped; swapping puts it in the case region"


def test_swapped_latitude_longitude_csv(tmp_path: Path) -> None:
    swapped = []
    for r in GOOD_PLACES:
        a, b, c, lat, lon = r.split(",")
        swapped.append(",".join([a, b, c, lon, lat]))
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, swapped)
    with pytest.raises(ValidationError) as exc:
        read_places(path, **AA)
    assert_problems(exc.value, path, [(i, "latitude") for i in range(1, 7)])
    for p in exc.value.problems:
        assert SWAP_PHRASE in p.message
        assert "(43.4–50.9 E, 38.3–41.9 N)" in p.message  # the case file's region, as written there
        assert "swap the columns 'latitude' and 'longitude'" in p.message
    # the check can be turned off for data that really is there
    assert len(read_places(path, swap_check=False, **AA)) == 6
    # without a region these are valid coordinates (in the Caspian/Russia): nothing to say
    assert len(read_places(path)) == 6


def test_swapped_rows_among_good_ones(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[2] = "sisian,town,Sisian,46.0322,39.5206"
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path, **AA)
    assert_problems(exc.value, path, [(3, "latitude")])
    assert SWAP_PHRASE in str(exc.value)


def test_swapped_geojson(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"place_id": ["a", "b"], "kind": ["town", "town"], "name_en": ["A", "B"]},
        geometry=[Point(39.2076, 46.4057), Point(39.5111, 46.3386)],
        crs="EPSG:4326",
    )
    path = tmp_path / "p.geojson"
    pyogrio.write_dataframe(gdf, path)
    with pytest.raises(ValidationError) as exc:
        read_places(path, **AA)
    assert_problems(exc.value, path, [(1, "geometry"), (2, "geometry")])
    assert SWAP_PHRASE in exc.value.problems[0].message


def test_swap_check_can_be_turned_off_for_data_outside_the_region() -> None:
    # Krasnodar (39.0 E, 45.0 N) and Rostov (39.7 E, 47.2 N) land in the region if swapped;
    # the heuristic flags them, swap_check=False accepts them (Stavropol is not flagged either way)
    gdf = gpd.GeoDataFrame(
        {"place_id": ["k", "r", "s"], "kind": ["city"] * 3, "name_en": ["Krasnodar", "Rostov", "Stavropol"]},
        geometry=[Point(39.0, 45.0), Point(39.7, 47.2), Point(41.97, 45.04)],
        crs="EPSG:4326",
    )
    assert [p.row for p in find_problems(gdf, "places", **AA)] == [1, 2]
    assert find_problems(gdf, "places", swap_check=False, **AA) == []
    assert find_problems(gdf, "places") == []  # no region given: nothing region-specific


# A second case's region (a Kyrgyzstan–Tajikistan-like box), given the way a case file gives it.
KGZ_TJK = {"region": (67.3, 36.6, 78.7, 43.3), "projected_crs": ("EPSG:32642", "EPSG:32643")}


def test_a_second_region_catches_a_swapped_point_there() -> None:
    # Osh is at 72.80 E, 40.53 N; written with x and y swapped it reads as 40.53 E, 72.80 N (the
    # Barents Sea): in range, so only a region can tell that it is swapped
    gdf = gpd.GeoDataFrame(
        {"place_id": ["osh", "osh-swapped"], "kind": ["city"] * 2, "name_en": ["Osh"] * 2},
        geometry=[Point(72.80, 40.53), Point(40.53, 72.80)],
        crs="EPSG:4326",
    )
    problems = find_problems(gdf, "places", **KGZ_TJK)
    assert [(p.row, p.column) for p in problems] == [(2, "geometry")]
    assert "swapping puts it in the case region (67.3–78.7 E, 36.6–43.3 N)" in problems[0].message
    # the other case's region does not see it, and without a region there is nothing to say
    assert find_problems(gdf, "places", **AA) == []
    assert find_problems(gdf, "places") == []


def test_without_a_region_only_region_free_checks_speak() -> None:
    # a latitude out of range whose values are in range once swapped needs no region; swapping gives
    # a latitude > 90 only for a longitude > 90: Lhasa (91.11 E, 29.65 N) written the wrong way round
    gdf = gpd.GeoDataFrame(
        {"place_id": ["lhasa"], "kind": ["city"], "name_en": ["Lhasa"]},
        geometry=[Point(29.65, 91.11)],
        crs="EPSG:4326",
    )
    free = find_problems(gdf, "places")
    assert [(p.row, p.column) for p in free] == [(1, "geometry")]
    msg = free[0].message
    assert "latitude 91.11 is outside -90…90" in msg and "swapped" in msg
    assert "region" not in msg
    # with a region it lands outside of, the out-of-range value is reported as such (no swap claimed)
    with_region = find_problems(gdf, "places", **KGZ_TJK)
    assert [p.row for p in with_region] == [1]
    assert "latitude 91.11 is outside -90…90; correct the value" in with_region[0].message
    assert "swapped" not in with_region[0].message


def test_projected_hint_names_the_case_crs_only_when_given() -> None:
    # Khujand (69.62 E, 40.28 N) in UTM zone 42N (66–72 E: zone = floor((69.62 + 180) / 6) + 1 = 42)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32642", always_xy=True).transform(69.62, 40.28)
    gdf = gpd.GeoDataFrame(
        {"place_id": ["khujand"], "kind": ["city"], "name_en": ["Khujand"]}, geometry=[Point(x, y)], crs="EPSG:4326"
    )
    (case,) = find_problems(gdf, "places", **KGZ_TJK)
    assert "read as EPSG:32642 (WGS 84 / UTM zone 42N) they fall in the case region" in case.message
    assert "crs='EPSG:32642'" in case.message
    (free,) = find_problems(gdf, "places")
    assert "look like a projected CRS in metres" in free.message and "declare the CRS" in free.message
    assert "EPSG:" not in free.message.split("the layer says")[1].split(";", 1)[1]
    assert "region" not in free.message
    # candidates without a region: named, none claimed to fit
    (named,) = find_problems(gdf, "places", projected_crs=["EPSG:32642", "EPSG:32643"])
    assert "'EPSG:32642', 'EPSG:32643'" in named.message and "region" not in named.message
    # UTM zones all give the same numbers, so under the bundled case's zones these metres land in
    # its region; with candidates none of which puts them in the region, all are listed, none chosen
    (other,) = find_problems(gdf, "places", region=KGZ_TJK["region"], projected_crs=AA["projected_crs"])
    assert "'EPSG:32638'" in other.message and "none of them puts the data in the case region" in other.message


def test_projected_coordinates_labelled_wgs84(tmp_path: Path) -> None:
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    lonlat = [(46.4057, 39.2076), (46.3386, 39.5111), (46.0322, 39.5206)]
    utm = [tr.transform(x, y) for x, y in lonlat]
    gdf = gpd.GeoDataFrame(
        {"place_id": ["a", "b", "c"], "kind": ["town"] * 3, "name_en": ["A", "B", "C"]},
        geometry=[Point(p) for p in utm],
        crs="EPSG:4326",  # wrong label: GeoJSON always says WGS84
    )
    path = tmp_path / "p.geojson"
    pyogrio.write_dataframe(gdf, path)
    with pytest.raises(CRSError) as exc:
        read_places(path, **AA)
    assert isinstance(exc.value, ValueError)
    assert_problems(exc.value, path, [(1, "geometry"), (2, "geometry"), (3, "geometry")])
    msg = exc.value.problems[0].message
    assert (
        "projected CRS" in msg and "EPSG:32638" in msg and "UTM zone 38N" in msg and "crs='EPSG:32638'" in msg
    )
    result = read_places(path, crs="EPSG:32638")
    np.testing.assert_allclose(shapely.get_coordinates(result.geometry.to_numpy()), lonlat, atol=1e-7)


def test_projected_coordinates_in_csv(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[0] = "kapan,town,Kapan,4340000,620000"
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(CRSError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(1, "latitude")])
    assert "projected CRS" in str(exc.value)


def test_missing_coordinates(tmp_path: Path) -> None:
    rows = incident_rows(6)
    rows[1]["latitude"] = ""
    rows[2]["longitude"] = ""
    rows[3]["latitude"] = rows[3]["longitude"] = ""
    rows[4]["latitude"] = "39°33'N"
    path = write_incidents(tmp_path / "i.csv", rows)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(exc.value, path, [(2, "latitude"), (3, "longitude"), (4, "latitude"), (5, "latitude")])
    msgs = {p.row: p.message for p in exc.value.problems}
    assert "'latitude' is empty but 'longitude' is given" in msgs[2]
    assert "'longitude' is empty but 'latitude' is given" in msgs[3]
    assert "no coordinates" in msgs[4]
    assert "degrees/minutes/seconds" in msgs[5]


def test_null_geometry_and_nan_coordinates() -> None:
    rows = pd.DataFrame(incident_rows(3)).drop(columns=["latitude", "longitude"])
    gdf = gpd.GeoDataFrame(rows, geometry=[Point(46.48, 39.55), None, Point(np.nan, np.nan)], crs="EPSG:4326")
    with pytest.raises(ValidationError) as exc:
        validate_incidents(gdf, path="layer.gpkg")
    assert_problems(exc.value, Path("layer.gpkg"), [(2, "geometry"), (3, "geometry")])
    assert "no geometry" in exc.value.problems[0].message
    assert "NaN" in exc.value.problems[1].message


# ---------------------------------------------------------------------------
# CRS
# ---------------------------------------------------------------------------


def _places_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"place_id": ["a", "b"], "kind": ["town", "town"], "name_en": ["A", "B"]},
        geometry=[Point(46.4057, 39.2076), Point(46.3386, 39.5111)],
        crs="EPSG:4326",
    )


def test_shapefile_without_prj(tmp_path: Path) -> None:
    path = tmp_path / "p.shp"
    pyogrio.write_dataframe(_places_gdf(), path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(None, "geometry")])
    msg = exc.value.problems[0].message
    assert ".prj" in msg and "crs='EPSG:4326'" in msg


def test_geopackage_without_srs(tmp_path: Path) -> None:
    gdf = _places_gdf().set_crs(None, allow_override=True)
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(gdf, path)
    with pytest.raises(CRSError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(None, "geometry")])
    assert "spatial reference" in str(exc.value)
    # projected numbers without a CRS: the message suggests the UTM zone
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    utm = gdf.set_geometry([Point(tr.transform(p.x, p.y)) for p in gdf.geometry])
    path2 = tmp_path / "utm.gpkg"
    pyogrio.write_dataframe(utm, path2)
    with pytest.raises(CRSError, match="crs='EPSG:32638'"):
        read_places(path2, **AA)
    with pytest.raises(CRSError, match="look projected") as exc:
        read_places(path2)  # no case: the CRS is asked for, no zone is guessed
    assert "EPSG:32638" not in str(exc.value) and "case region" not in str(exc.value)


def test_geoparquet_with_null_crs(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    _places_gdf().set_crs(None, allow_override=True).to_parquet(path)
    with pytest.raises(CRSError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(None, "geometry")])
    assert "crs is null" in str(exc.value)
    assert len(read_places(path, crs="EPSG:4326")) == 2


def test_truncated_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    _places_gdf().to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="truncated"):
        read_places(path)


def test_geojson_without_crs_member_is_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "p.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"place_id": "kapan", "kind": "town", "name_en": "Kapan"},
                        "geometry": {"type": "Point", "coordinates": [46.4057, 39.2076]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    result = read_places(path)
    assert result.crs.to_epsg() == 4326
    assert result.geometry.iloc[0].equals(Point(46.4057, 39.2076))


def test_in_memory_layer_without_crs() -> None:
    gdf = _places_gdf().set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="no CRS"):
        validate_places(gdf)


def test_degrees_labelled_projected(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(_places_gdf().set_crs("EPSG:32638", allow_override=True), path)
    with pytest.raises(CRSError) as exc:
        read_places(path)
    assert "looks like longitude/latitude degrees" in str(exc.value)


# ---------------------------------------------------------------------------
# file-level: empty, truncated, encoding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("zero.csv", b""),
        ("zero.geojson", b""),
        ("blank.csv", b"\n\n  \n"),
        ("header_only.csv", (PLACES_HEADER + "\n").encode()),
        ("hdx_header_only.csv", b"place_id,kind,name_en,latitude,longitude\n#id,,#name,#geo+lat,#geo+lon\n"),
        ("no_features.geojson", b'{"type": "FeatureCollection", "features": []}'),
    ],
)
def test_empty_files(name: str, content: bytes, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(EmptyFileError) as exc:
        read_places(path)
    assert isinstance(exc.value, ValueError)
    assert str(exc.value).startswith(str(path))


def test_empty_gpkg_layer(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(_places_gdf().iloc[:0], path)
    with pytest.raises(EmptyFileError):
        read_places(path)


def test_truncated_geojson(tmp_path: Path) -> None:
    path = tmp_path / "p.geojson"
    pyogrio.write_dataframe(_places_gdf(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(FileFormatError) as exc:
        read_places(path)
    assert "truncated" in str(exc.value) and str(path) in str(exc.value)


def test_truncated_zip(tmp_path: Path) -> None:
    shp = tmp_path / "p.shp"
    pyogrio.write_dataframe(_places_gdf(), shp)
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(shp.with_suffix("." + ext), "p." + ext)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError) as exc:
        read_places(path)
    assert "zip archive is truncated or corrupt" in str(exc.value)


def test_truncated_csv_inside_quotes(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(PLACES_HEADER + "\n" + GOOD_PLACES[0] + '\nx,town,"Unfinished', encoding="utf-8")
    with pytest.raises(FileFormatError, match="truncated"):
        read_places(path)


def test_truncated_csv_last_row(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(PLACES_HEADER + "\n" + "\n".join(GOOD_PLACES[:3]) + "\njermuk,town,Jer", encoding="utf-8")
    with pytest.raises(FileFormatError) as exc:
        read_places(path)
    (problem,) = exc.value.problems
    assert problem.row == 4 and problem.column == "name_en"
    assert "truncated" in problem.message


def test_short_row_in_the_middle(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[1] = "goris,town"
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    # the short row is named once for the field count (the empty name_en is not required-checked)
    assert (2, "name_en") in [(p.row, p.column) for p in exc.value.problems]
    assert "2 fields but the header has 5" in str(exc.value)


def test_truncated_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(_places_gdf(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError):
        read_places(path)


def test_latin1_csv(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[2] = "sisian,town,Sisian Café,39.5206,46.0322"
    data = (PLACES_HEADER + "\n" + "\n".join(rows) + "\n").encode("latin-1")
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    offset = data.index(b"\xe9")  # where the é is, counted independently
    with pytest.raises(EncodingError) as exc:
        read_places(path)
    assert isinstance(exc.value, UnicodeError) and isinstance(exc.value, ValueError)
    assert_problems(exc.value, path, [(3, "name_en")])
    msg = exc.value.problems[0].message
    assert f"byte offset {offset}" in msg
    assert "encoding='cp1252'" in msg
    assert "[spreadsheet row 4]" in msg
    result = read_places(path, encoding="latin-1")
    assert result["name_en"].iloc[2] == "Sisian Café"


def test_windows1251_csv(tmp_path: Path) -> None:
    header = PLACES_HEADER + ",name_ru"
    rows = [r + "," for r in GOOD_PLACES]
    rows[0] = GOOD_PLACES[0] + ",Капан"
    rows[4] = GOOD_PLACES[4] + ",Тех"
    data = (header + "\n" + "\n".join(rows) + "\n").encode("cp1251")
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    offset = data.index("Капан".encode("cp1251"))
    with pytest.raises(EncodingError) as exc:
        read_places(path)
    (problem,) = exc.value.problems  # decoding stops at the first bad byte
    assert problem.row == 1 and problem.column == "name_ru"
    assert f"byte offset {offset}" in problem.message
    assert "encoding='cp1251'" in problem.message
    result = read_places(path, encoding="cp1251")
    assert list(result["name_ru"]) == ["Капан", "", "", "", "Тех", ""]


def test_non_utf8_geojson(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"place_id": "a", "kind": "town", "name_en": "Café"},
                    "geometry": {"type": "Point", "coordinates": [46.0, 39.5]},
                }
            ],
        },
        ensure_ascii=False,
    )
    data = text.encode("latin-1")
    path = tmp_path / "p.geojson"
    path.write_bytes(data)
    with pytest.raises(EncodingError) as exc:
        read_places(path)
    offset = data.index("é".encode("latin-1"))
    assert f"byte offset {offset}" in str(exc.value)
    assert read_places(path, encoding="latin-1")["name_en"].iloc[0] == "Café"


def test_shapefile_with_wrong_code_page(tmp_path: Path) -> None:
    gdf = _places_gdf()
    gdf["name_ru"] = ["Капан", "Горис"]
    path = tmp_path / "p.shp"
    pyogrio.write_dataframe(gdf, path, encoding="cp1251")
    path.with_suffix(".cpg").write_text("UTF-8")  # the .cpg lies
    with pytest.raises(EncodingError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(1, "name_ru"), (2, "name_ru")])
    assert "encoding='cp1251'" in str(exc.value)
    assert list(read_places(path, encoding="cp1251")["name_ru"]) == ["Капан", "Горис"]


# ---------------------------------------------------------------------------
# attribute values
# ---------------------------------------------------------------------------


def test_unparseable_dates(tmp_path: Path) -> None:
    rows = incident_rows(6)
    rows[1]["date"] = "12/05/2021"
    rows[3]["date"] = "2021-02-30"
    rows[5]["date"] = "yesterday"
    path = write_incidents(tmp_path / "i.csv", rows)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(exc.value, path, [(2, "date"), (4, "date"), (6, "date")])
    for p, bad in zip(exc.value.problems, ["12/05/2021", "2021-02-30", "yesterday"], strict=True):
        assert repr(bad) in p.message and "YYYY-MM-DD" in p.message


def test_date_end_before_date(tmp_path: Path) -> None:
    rows = incident_rows(2)
    df = pd.DataFrame(rows, columns=INC_COLS)
    df["date_end"] = ["2021-05-09", ""]
    path = tmp_path / "i.csv"
    df.to_csv(path, index=False)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(exc.value, path, [(1, "date_end")])


def test_duplicate_ids(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    ids = ["a", "b", "a", "c", "b", "a"]
    rows = [",".join([i, *r.split(",")[1:]]) for i, r in zip(ids, rows, strict=True)]
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert_problems(
        exc.value, path, [(1, "place_id"), (3, "place_id"), (6, "place_id"), (2, "place_id"), (5, "place_id")]
    )
    by_row = {p.row: p.message for p in exc.value.problems}
    assert "duplicate id 'a': used by rows 1, 3, 6" in by_row[6]
    assert "duplicate id 'b': used by rows 2, 5" in by_row[2]


def test_empty_id(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[3] = "," + rows[3].split(",", 1)[1]
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(4, "place_id")])


def test_missing_required_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "place_id,Kind_of_place,latitude,longitude", ["a,town,39.2,46.4"])
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(None, "kind"), (None, "name_en")])
    assert "missing required column 'kind' of the places schema" in exc.value.problems[0].message
    # file-level problems raise in collect mode too
    with pytest.raises(ValidationError):
        read_places(path, errors="collect")


def test_no_coordinate_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "place_id,kind,name_en", ["a,town,A"])
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(None, "geometry")])
    assert "latitude" in str(exc.value)


def test_bad_enum_values(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[0] = rows[0].replace(",town,", ",vilage,")
    rows[2] = rows[2].replace(",town,", ",Town,")  # case is forgiven
    rows[4] = rows[4].replace(",village,", ",hamlet,")
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert_problems(exc.value, path, [(1, "kind"), (5, "kind")])
    assert "'vilage' is not a valid kind; use one of: peak, lake, village" in exc.value.problems[0].message

    inc = incident_rows(4)
    inc[1]["date_precision"] = "dya"
    inc[2]["date_precision"] = ""
    inc[3]["date_precision"] = "Month"
    path = write_incidents(tmp_path / "i.csv", inc)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(exc.value, path, [(2, "date_precision"), (3, "date_precision")])
    ok = read_incidents(path, errors="collect")[0]
    assert list(ok["date_precision"]) == ["day", "month"]


def test_precision_m(tmp_path: Path) -> None:
    rows = incident_rows(6)
    rows[0]["precision_m"] = 0
    rows[2]["precision_m"] = -5
    rows[3]["precision_m"] = ""
    rows[5]["precision_m"] = "about 1 km"
    path = write_incidents(tmp_path / "i.csv", rows)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(
        exc.value, path, [(1, "precision_m"), (3, "precision_m"), (4, "precision_m"), (6, "precision_m")]
    )
    msgs = [p.message for p in exc.value.problems]
    assert "precision_m is 0" in msgs[0] and "precision_m is -5" in msgs[1]
    assert "missing" in msgs[2] and "not a number" in msgs[3]


def test_scale_or_accuracy_and_claimant(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "l.csv",
        LINE_HEADER,
        [
            line_row("a", "LINESTRING (45 39, 45.1 39.1)", acc="0"),
            line_row("b", "LINESTRING (45 39, 45.1 39.1)", claimant="arm; aze"),
            line_row("c", "LINESTRING (45 39, 45.1 39.1)", claimant="Armenia"),
        ],
    )
    with pytest.raises(ValidationError) as exc:
        read_lines(path)
    assert_problems(exc.value, path, [(1, "scale_or_accuracy_m"), (3, "claimant")])
    good, _ = read_lines(path, errors="collect")
    assert list(good["claimant"]) == ["ARM;AZE"]


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        json.dumps([{"publication": "P", "url": "javascript:alert(document.cookie)"}]),
        json.dumps([{"url": "file:///etc/passwd"}]),
        json.dumps({"url": "ftp://example.org/x"}),
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_non_http_urls_are_refused(bad: str, tmp_path: Path) -> None:
    rows = incident_rows(3)
    rows[1]["sources"] = bad
    path = write_incidents(tmp_path / "i.csv", rows)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(exc.value, path, [(2, "sources")])
    assert "is not an http(s) link" in exc.value.problems[0].message


def test_sources_problems(tmp_path: Path) -> None:
    rows = incident_rows(4)
    rows[0]["sources"] = '[{"publication": "P", "url": "https://ok.org"'  # broken JSON
    rows[1]["sources"] = ""  # none
    rows[2]["sources"] = json.dumps([{"publication": "P", "link": "https://x.org"}])  # unknown key
    path = write_incidents(tmp_path / "i.csv", rows)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(exc.value, path, [(1, "sources"), (2, "sources"), (3, "sources")])
    msgs = [p.message for p in exc.value.problems]
    assert "not valid JSON" in msgs[0] and "no source given" in msgs[1] and "unknown key 'link'" in msgs[2]


# ---------------------------------------------------------------------------
# errors="collect", messages, error types
# ---------------------------------------------------------------------------


def test_collect_returns_exactly_the_bad_rows(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[1] = "goris,town,Goris,95.0,46.3386"  # latitude out of range
    rows[3] = "jermuk,tomn,Jermuk,39.8414,45.6869"  # kind
    rows[4] = "tegh,village,Tegh,abc,46.4797"  # not a number
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    good, rejected = read_places(path, errors="collect")
    assert list(good["place_id"]) == ["kapan", "sisian", "agarak"]
    assert list(rejected["row"]) == [2, 4, 5]
    assert list(rejected["spreadsheet_row"]) == [3, 5, 6]
    assert list(rejected["place_id"]) == ["goris", "jermuk", "tegh"]  # original values kept
    assert list(rejected["latitude"]) == ["95.0", "39.8414", "abc"]
    assert list(rejected["columns"]) == ["latitude", "kind", "latitude"]
    assert "outside -90…90" in rejected["problems"].iloc[0]
    assert "'tomn' is not a valid kind" in rejected["problems"].iloc[1]
    assert [p.row for p in rejected.attrs["problems"]] == [2, 4, 5]
    assert len(good) + len(rejected) == len(rows)  # no row dropped silently


def test_collect_with_nothing_wrong(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, GOOD_PLACES)
    good, rejected = read_places(path, errors="collect")
    assert len(good) == 6 and len(rejected) == 0
    assert {"row", "problems", "columns"} <= set(rejected.columns)


def test_collect_one_row_with_several_problems(tmp_path: Path) -> None:
    rows = incident_rows(3)
    rows[1].update(date="not a date", precision_m=-1, sources="javascript:x")
    path = write_incidents(tmp_path / "i.csv", rows)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert len(exc.value.problems) == 3 and exc.value.rows == [2]
    good, rejected = read_incidents(path, errors="collect")
    assert list(good["incident_id"]) == ["i1", "i3"]
    assert list(rejected["row"]) == [2]
    assert rejected["problems"].iloc[0].count(";") >= 2


def test_error_message_is_one_line_naming_file_row_column(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[1] = "goris,tomn,Goris,39.5111,46.3386"
    rows[2] = "sisian,tomn,Sisian,39.5206,46.0322"
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    text = str(exc.value)
    assert text.startswith(f"{path}, row 2, column 'kind': 'tomn' is not a valid kind; use one of:")
    assert text.endswith("(and 1 more problem(s))")
    assert exc.value.report().splitlines()[1].startswith(f"{path}, row 3, column 'kind'")


def test_mixed_problems_raise_the_base_type(tmp_path: Path) -> None:
    rows = list(GOOD_PLACES)
    rows[0] = "kapan,town,Kapan,4340000,620000"  # CRS problem
    rows[1] = "goris,tomn,Goris,39.5111,46.3386"  # value problem
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, rows)
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    assert type(exc.value) is ValidationError


# ---------------------------------------------------------------------------
# the validate_* functions on in-memory layers
# ---------------------------------------------------------------------------


def test_validate_returns_conformed_copy() -> None:
    gdf = gpd.GeoDataFrame(
        {
            "extra": [1, 2],
            "name_en": ["Kapan", "Goris"],
            "kind": ["Town", "town"],
            "place_id": ["kapan", "goris"],
            "elevation_m": ["", "1400"],
        },
        geometry=[Point(46.4057, 39.2076), Point(46.3386, 39.5111)],
        crs="EPSG:4326",
    )
    out = validate_places(gdf)
    assert list(out.columns) == [
        "place_id",
        "kind",
        "name_en",
        "name_hy",
        "name_az",
        "name_ru",
        "elevation_m",
        "elevation_source",
        "coord_source",
        "notes",
        "geometry",
        "extra",
    ]
    assert list(out["kind"]) == ["town", "town"]
    assert np.isnan(out["elevation_m"].iloc[0]) and out["elevation_m"].iloc[1] == 1400.0
    assert list(out["name_hy"]) == ["", ""]
    assert list(out["extra"]) == [1, 2]
    assert gdf["kind"].iloc[0] == "Town"  # the input is not changed


def test_validate_reprojects_declared_crs() -> None:
    tr = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = tr.transform(46.4057, 39.2076)
    gdf = gpd.GeoDataFrame(
        {"place_id": ["a"], "kind": ["town"], "name_en": ["A"]}, geometry=[Point(x, y)], crs="EPSG:3857"
    )
    out = validate_layer(gdf, "places")
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(
        [out.geometry.iloc[0].x, out.geometry.iloc[0].y], [46.4057, 39.2076], atol=1e-9
    )


def test_validate_lines_and_territories_in_memory() -> None:
    lines = gpd.GeoDataFrame(
        {
            "line_id": ["a"],
            "name": ["A"],
            "source": ["s"],
            "source_version": ["1"],
            "source_date": ["2024"],
            "scale_or_accuracy_m": [10.0],
            "licence": ["CC0-1.0"],
            "claimant": ["ARM"],
            "left_party": ["arm"],
            "right_party": ["AZE"],
        },
        geometry=[LineString([(45.0, 39.0), (45.1, 39.1)])],
        crs="EPSG:4326",
    )
    out = validate_lines(lines, path="bundled/lines.geojson")
    assert out["left_party"].iloc[0] == "ARM"
    bad = lines.assign(right_party=["Azerbaijan"])
    with pytest.raises(ValidationError) as exc:
        validate_lines(bad, path="bundled/lines.geojson")
    assert_problems(exc.value, Path("bundled/lines.geojson"), [(1, "right_party")])
    with pytest.raises(ValidationError) as exc:
        validate_territories(territories([BOWTIE]), path="t")
    assert [(p.row, p.column) for p in exc.value.problems] == [(1, "geometry")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert find_problems(territories([BOWTIE]), "territories", repair=True) == []


# ---------------------------------------------------------------------------
# values that used to pass validation and be read wrongly (issue 10)
# ---------------------------------------------------------------------------


def _lines(geoms: list, **cols: list) -> gpd.GeoDataFrame:
    n = len(geoms)
    base = {
        "line_id": [f"l{i}" for i in range(n)],
        "name": ["L"] * n,
        "source": ["s"] * n,
        "source_version": ["1"] * n,
        "source_date": ["2024"] * n,
        "scale_or_accuracy_m": [10.0] * n,
        "licence": ["CC0-1.0"] * n,
        "claimant": ["ARM"] * n,
        "left_party": ["ARM"] * n,
        "right_party": ["AZE"] * n,
    }
    base.update(cols)
    return gpd.GeoDataFrame(base, geometry=geoms, crs="EPSG:4326")


def test_spike_is_reported_with_geodesic_leg_lengths() -> None:
    from pyproj import Geod

    spike = LineString([(45.0, 40.0), (45.1, 40.1), (85.0, 20.0), (45.2, 40.2), (45.3, 40.3)])
    gdf = _lines([LineString([(45.0, 40.0), (45.1, 40.1)]), spike])
    with pytest.raises(ValidationError) as exc:
        validate_lines(gdf, path="l")
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "geometry")]
    # the legs, computed here with pyproj directly (Karney's geodesic on WGS84)
    geod = Geod(ellps="WGS84")
    out_km = geod.inv(45.1, 40.1, 85.0, 20.0)[2] / 1000
    back_km = geod.inv(85.0, 20.0, 45.2, 40.2)[2] / 1000
    msg = exc.value.problems[0].message
    assert (
        f"vertex 3 at (85, 20) is a spike: the line runs {out_km:,.0f} km out to it and {back_km:,.0f} km back" in msg
    )


def test_long_segment_and_legitimate_detail() -> None:
    # 10 degrees of longitude at 40 N: under 1,000 km (kept); 15 degrees: over it (reported)
    ok = LineString([(40.0, 40.0), (50.0, 40.0)])
    jump = LineString([(40.0, 40.0), (55.0, 40.0)])
    # a detailed zigzag with 1 km legs is not a spike
    zigzag = LineString([(45.0 + i * 0.01, 40.0 + (i % 2) * 0.01) for i in range(50)])
    gdf = _lines([ok, jump, zigzag])
    problems = find_problems(gdf, "lines")
    assert [(p.row, p.column) for p in problems] == [(2, "geometry")]
    from pyproj import Geod

    km = Geod(ellps="WGS84").inv(40.0, 40.0, 55.0, 40.0)[2] / 1000
    assert f"(40, 40) to (55, 40) is {km:,.0f} km long" in problems[0].message


def test_same_party_on_both_sides() -> None:
    gdf = _lines([LineString([(45.0, 40.0), (45.1, 40.1)])] * 2, right_party=["AZE", "arm"])
    problems = find_problems(gdf, "lines")
    assert [(p.row, p.column) for p in problems] == [(2, "right_party")]
    assert "both 'ARM'" in problems[0].message


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400", "Infinity"])
def test_non_finite_numbers_are_refused(tmp_path: Path, value: str) -> None:
    rows = incident_rows(2)
    rows[1]["precision_m"] = value
    path = write_incidents(tmp_path / "i.csv", rows)
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert_problems(exc.value, path, [(2, "precision_m")])
    assert "not a finite number" in exc.value.problems[0].message
    places = write_csv(tmp_path / "p.csv", PLACES_HEADER + ",elevation_m", [GOOD_PLACES[0] + f",{value}"])
    with pytest.raises(ValidationError) as exc:
        read_places(places)
    assert_problems(exc.value, places, [(1, "elevation_m")])


def test_null_island_point(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PLACES_HEADER, [GOOD_PLACES[0], "x,village,X,0,0", "y,village,Y,0.0,0.001"])
    with pytest.raises(ValidationError) as exc:
        read_places(path, swap_check=False)
    assert_problems(exc.value, path, [(2, "latitude")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1828-02-10", "1828-02-10"), ("1500", "1500-01-01"), ("9999-12-31", "9999-12-31"), ("0001-01", "0001-01-01")],
)
def test_dates_outside_the_nanosecond_range(tmp_path: Path, text: str, expected: str) -> None:
    rows = incident_rows(1)
    rows[0]["date"] = text
    gdf = read_incidents(write_incidents(tmp_path / "i.csv", rows))
    assert gdf["date"].iloc[0].isoformat()[:10] == expected
