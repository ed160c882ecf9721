"""Readers: every format round-trips, CRSs are handled, columns come out in schema order.

Expected values are the hand-written inputs below (or pyproj for reprojection), never the
readers' own output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon

from borderkit.errors import OptionalDependencyError
from borderkit.io import read_incidents, read_layer, read_lines, read_places, read_territories
from borderkit.schema import INCIDENTS, LINES, PLACES, TERRITORIES

DATA = Path(__file__).parent / "data"

# GDAL shortens long field names when writing shapefiles; the readers undo that.
pytestmark = pytest.mark.filterwarnings("ignore:Normalized/laundered field name:RuntimeWarning")

# ---------------------------------------------------------------------------
# hand-made valid layers (the expected values)
# ---------------------------------------------------------------------------

SOURCES = [
    [
        {
            "publication": "Eurasianet",
            "title": "Sev Lake",
            "date": "2021-05-13",
            "url": "https://eurasianet.org/x",
        }
    ],
    [
        {"publication": "Agency A", "title": "", "date": "", "url": ""},
        {"publication": "", "title": "", "date": "", "url": "https://example.org/report"},
    ],
    [
        {
            "publication": "Agency B",
            "title": "Shots fired",
            "date": "2024-04-01",
            "url": "http://example.com/a?b=1",
        }
    ],
]


def lines_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "line_id": ["l1", "l2"],
            "name": ["Line one", "Line two"],
            "source": ["hand-made", "hand-made"],
            "source_version": ["1", "2"],
            "source_date": ["2024", "1992-06"],
            "scale_or_accuracy_m": [50.0, 250.5],
            "licence": ["CC0-1.0", "CC0-1.0"],
            "attribution": ["", "© someone"],
            "claimant": ["ARM", "cartographic"],
            "left_party": ["ARM", "ARM"],
            "right_party": ["AZE", "AZE"],
            "section": ["mainland", "nakhchivan"],
            "notes": ["", "a note"],
            "extra_col": ["x", "y"],
        },
        geometry=[
            LineString([(45.9, 39.6), (45.95, 39.55), (46.0, 39.5)]),
            MultiLineString([[(45.1, 39.2), (45.2, 39.3)], [(45.3, 39.4), (45.4, 39.45)]]),
        ],
        crs="EPSG:4326",
    )


def territories_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "territory_id": ["t1", "t2"],
            "party": ["ARM", "AZE"],
            "name": ["Square", "Two squares"],
            "source": ["hand-made", "hand-made"],
            "source_version": ["1", "1"],
            "source_date": ["2024", "2024"],
            "scale_or_accuracy_m": [100.0, 100.0],
            "licence": ["CC0-1.0", "CC0-1.0"],
            "attribution": ["", ""],
            "notes": ["", ""],
            "extra_col": ["x", "y"],
        },
        geometry=[
            Polygon([(45.0, 39.0), (45.1, 39.0), (45.1, 39.1), (45.0, 39.1)]),
            MultiPolygon(
                [
                    Polygon([(46.0, 40.0), (46.1, 40.0), (46.1, 40.1), (46.0, 40.1)]),
                    Polygon([(46.2, 40.0), (46.3, 40.0), (46.3, 40.1), (46.2, 40.1)]),
                ]
            ),
        ],
        crs="EPSG:4326",
    )


def incidents_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": ["i1", "i2", "i3"],
            "date": ["2021-05-12", "2022-09-13", "2024-04-01"],
            "date_end": ["", "2022-09-14", ""],
            "date_precision": ["day", "day", "week"],
            "type": ["advance", "shelling", "exchange of fire"],
            "description": ["Troops advanced", "Shelling of Jermuk", "Shots fired"],
            "actors": ["AZE armed forces", "", "ARM; AZE"],
            "place_name": ["Sev Lake", "Jermuk", "Tegh"],
            "place_id": ["sev-lake", "", ""],
            "precision_m": [500.0, 2000.0, 1000.0],
            "sources": SOURCES,
            "reported_claims": ["advanced up to 3.5 km", "", ""],
            "extra_col": ["x", "y", "z"],
        },
        geometry=[Point(46.0353, 39.5544), Point(45.6869, 39.8414), Point(46.4797, 39.5597)],
        crs="EPSG:4326",
    )


def places_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "place_id": ["kapan", "mets-ishkhanasar", "road-1"],
            "kind": ["town", "peak", "road"],
            "name_en": ["Kapan", "Mets Ishkhanasar", "Goris–Kapan road"],
            "name_hy": ["Կապան", "", ""],
            "name_az": ["", "", ""],
            "name_ru": ["Капан", "", ""],
            "elevation_m": [np.nan, 3550.0, np.nan],
            "elevation_source": ["", "DTED0 (hand check)", ""],
            "coord_source": ["hand", "hand", "hand"],
            "notes": ["", "", ""],
            "extra_col": ["x", "y", "z"],
        },
        geometry=[
            Point(46.4057, 39.2076),
            Point(46.0303, 39.6558),
            LineString([(46.34, 39.51), (46.38, 39.35), (46.4057, 39.2076)]),
        ],
        crs="EPSG:4326",
    )


FACTORIES = {
    "lines": lines_gdf,
    "territories": territories_gdf,
    "incidents": incidents_gdf,
    "places": places_gdf,
}
SCHEMAS = {"lines": LINES, "territories": TERRITORIES, "incidents": INCIDENTS, "places": PLACES}


def _flat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sources as JSON text: what flat files hold."""
    out = gdf.copy()
    if "sources" in out:
        out["sources"] = [json.dumps(s) for s in out["sources"]]
    return out


def _write_shp(gdf: gpd.GeoDataFrame, folder: Path) -> Path:
    folder.mkdir()
    path = folder / "layer.shp"
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding="UTF-8")
    return path


def write_layer(gdf: gpd.GeoDataFrame, fmt: str, tmp: Path) -> Path:
    flat = _flat(gdf)
    if fmt == "geojson":
        path = tmp / "layer.geojson"
        pyogrio.write_dataframe(flat, path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp / "layer.gpkg"
        pyogrio.write_dataframe(flat, path, driver="GPKG", layer="data")
    elif fmt == "shp":
        path = _write_shp(flat, tmp / "shp")
    elif fmt in ("zip", "shp.zip"):
        shp = _write_shp(flat, tmp / "shp")
        path = tmp / f"layer.{fmt}"
        with zipfile.ZipFile(path, "w") as zf:
            for f in sorted(shp.parent.iterdir()):
                zf.write(f, f.name)
    elif fmt == "kml":
        path = tmp / "layer.kml"
        pyogrio.write_dataframe(flat, path, driver="KML")
    elif fmt == "gpx":
        path = tmp / "layer.gpx"
        types = set(flat.geom_type)
        if types <= {"Point"}:
            layer, gtype = "waypoints", "Point"
        else:
            layer, gtype = "tracks", "MultiLineString"
            flat = flat.set_geometry(
                [MultiLineString([g]) if g.geom_type == "LineString" else g for g in flat.geometry]
            )
        pyogrio.write_dataframe(
            flat,
            path,
            driver="GPX",
            layer=layer,
            geometry_type=gtype,
            dataset_options={"GPX_USE_EXTENSIONS": "YES"},
        )
    elif fmt == "parquet":
        path = tmp / "layer.parquet"
        gdf.to_parquet(path)  # sources stay a list of records
    elif fmt == "csv":
        path = tmp / "layer.csv"
        df = pd.DataFrame(flat.drop(columns="geometry"))
        if set(flat.geom_type) <= {"Point"}:
            df["latitude"] = flat.geometry.y
            df["longitude"] = flat.geometry.x
        else:
            df["wkt"] = flat.geometry.to_wkt()
        df.to_csv(path, index=False)
    else:  # pragma: no cover
        raise ValueError(fmt)
    return path


FORMATS = ["geojson", "gpkg", "shp", "zip", "shp.zip", "kml", "gpx", "parquet", "csv"]


def _cases():
    for kind in FACTORIES:
        for fmt in FORMATS:
            if fmt == "gpx" and kind == "territories":
                continue  # GPX has no polygons
            if fmt == "gpx" and kind == "places":
                continue  # mixed points and lines: one GPX layer cannot hold both (see test_gpx_waypoints)
            if fmt in ("shp", "zip", "shp.zip") and kind == "places":
                continue  # a shapefile holds one geometry type (see test_shapefile_places_points)
            yield pytest.param(kind, fmt, id=f"{kind}-{fmt}")


def _assert_same_layer(result: gpd.GeoDataFrame, expected: gpd.GeoDataFrame, kind: str) -> None:
    schema = SCHEMAS[kind]
    assert list(result.columns[: len(schema.names)]) == schema.names
    assert "extra_col" in result.columns and list(result["extra_col"]) == list(expected["extra_col"])
    assert result.crs is not None and result.crs.to_epsg() == 4326
    assert len(result) == len(expected)
    idc = schema.id_column
    assert list(result[idc]) == list(expected[idc])
    got = shapely.force_2d(result.geometry.to_numpy())
    want = expected.geometry.to_numpy()
    # topological equality (GPX turns lines into multi-lines) and the same vertices
    assert shapely.equals(got, want).all()
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(
            np.unique(shapely.get_coordinates(g), axis=0),
            np.unique(shapely.get_coordinates(w), axis=0),
            atol=1e-9,
        )
    for col in schema.columns:
        if col.dtype == "str" and col.name in expected:
            assert list(result[col.name]) == list(expected[col.name]), col.name
        elif col.dtype == "float" and col.name in expected:
            np.testing.assert_allclose(result[col.name].to_numpy(float), expected[col.name].to_numpy(float))
    if kind == "incidents":
        assert list(result["date"]) == [
            pd.Timestamp("2021-05-12"),
            pd.Timestamp("2022-09-13"),
            pd.Timestamp("2024-04-01"),
        ]
        assert result["date_end"].isna().tolist() == [True, False, True]
        assert result["date_end"].iloc[1] == pd.Timestamp("2022-09-14")
        assert list(result["sources"]) == SOURCES


@pytest.mark.parametrize(("kind", "fmt"), list(_cases()))
def test_round_trip(kind: str, fmt: str, tmp_path: Path) -> None:
    expected = FACTORIES[kind]()
    path = write_layer(expected, fmt, tmp_path)
    result = read_layer(path, kind)
    _assert_same_layer(result, expected, kind)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv", "parquet"])
def test_shapefile_places_points(fmt: str, tmp_path: Path) -> None:
    expected = places_gdf().iloc[:2].reset_index(drop=True)
    path = write_layer(expected, fmt, tmp_path)
    result = read_places(path)
    _assert_same_layer(result, expected, "places")
    if fmt == "shp":
        # elevation_m and elevation_source are both 'elevation_' in a DBF; GDAL renames the second
        fields = pyogrio.read_info(path)["fields"].tolist()
        assert "elevation_" in fields and "elevatio_1" in fields


def test_gpx_waypoints(tmp_path: Path) -> None:
    expected = places_gdf().iloc[:2].reset_index(drop=True)
    path = write_layer(expected, "gpx", tmp_path)
    result = read_places(path)
    _assert_same_layer(result, expected, "places")


def test_hand_written_kml_is_read_by_bundled_gdal() -> None:
    result = read_places(DATA / "places.kml")
    assert list(result["place_id"]) == ["kapan", "mets-ishkhanasar"]
    assert list(result["name_en"]) == ["Kapan", "Mets Ishkhanasar"]  # KML <name>
    assert list(result["kind"]) == ["town", "peak"]
    assert np.isnan(result["elevation_m"].iloc[0]) and result["elevation_m"].iloc[1] == 3550.0
    np.testing.assert_allclose(
        shapely.get_coordinates(result.geometry.to_numpy()), [[46.4057, 39.2076], [46.0303, 39.6558]]
    )


def test_hand_written_gpx_is_read_by_bundled_gdal() -> None:
    result = read_lines(DATA / "lines.gpx")
    assert list(result["line_id"]) == ["test-a"]
    assert result["name"].iloc[0] == "Test line A"  # GPX <name>
    assert result["scale_or_accuracy_m"].iloc[0] == 50.0
    g = result.geometry.iloc[0]
    assert g.geom_type == "MultiLineString" and len(g.geoms) == 2
    np.testing.assert_allclose(
        shapely.get_coordinates(g), [[45.90, 39.60], [45.95, 39.55], [45.95, 39.55], [46.00, 39.50]]
    )


def test_gdal_drivers_for_kml_and_gpx_are_present() -> None:
    drivers = pyogrio.list_drivers()
    assert "GPX" in drivers
    assert "KML" in drivers or "LIBKML" in drivers


# ---------------------------------------------------------------------------
# CRS handling
# ---------------------------------------------------------------------------

LONLAT = [(46.4057, 39.2076), (46.0303, 39.6558)]


def _utm38(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    return [tr.transform(x, y) for x, y in points]


def _places_at(points, crs) -> gpd.GeoDataFrame:
    gdf = places_gdf().iloc[:2].reset_index(drop=True)
    return gdf.set_geometry(gpd.GeoSeries([Point(p) for p in points]), crs=crs)


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "parquet"])
def test_declared_projected_crs_is_reprojected(fmt: str, tmp_path: Path) -> None:
    utm = _utm38(LONLAT)
    path = write_layer(_places_at(utm, "EPSG:32638"), fmt, tmp_path)
    result = read_places(path)
    assert result.crs.to_epsg() == 4326
    np.testing.assert_allclose(shapely.get_coordinates(result.geometry.to_numpy()), LONLAT, atol=1e-7)


def test_other_geographic_crs_is_transformed(tmp_path: Path) -> None:
    # Pulkovo 1942 (EPSG:4284) differs from WGS84 by ~100 m here; expectation from pyproj
    tr = Transformer.from_crs("EPSG:4284", "EPSG:4326", always_xy=True)
    expected = [tr.transform(x, y) for x, y in LONLAT]
    path = write_layer(_places_at(LONLAT, "EPSG:4284"), "gpkg", tmp_path)
    result = read_places(path)
    np.testing.assert_allclose(shapely.get_coordinates(result.geometry.to_numpy()), expected, atol=1e-9)
    assert not np.allclose(expected, LONLAT, atol=1e-5)  # the test would notice a missing transformation


def test_csv_with_crs_keyword(tmp_path: Path) -> None:
    utm = _utm38(LONLAT)
    df = pd.DataFrame(places_gdf().iloc[:2].drop(columns="geometry"))
    df["x"] = [p[0] for p in utm]
    df["y"] = [p[1] for p in utm]
    path = tmp_path / "utm.csv"
    df.to_csv(path, index=False)
    result = read_places(path, crs="EPSG:32638")
    np.testing.assert_allclose(shapely.get_coordinates(result.geometry.to_numpy()), LONLAT, atol=1e-7)


def test_crs_keyword_overrides_a_wrong_declaration(tmp_path: Path) -> None:
    # A GeoJSON file is WGS84 by RFC 7946, but this one holds UTM numbers.
    utm = _utm38(LONLAT)
    path = write_layer(_places_at(utm, "EPSG:4326"), "geojson", tmp_path)
    result = read_places(path, crs="EPSG:32638")
    np.testing.assert_allclose(shapely.get_coordinates(result.geometry.to_numpy()), LONLAT, atol=1e-7)


def test_missing_crs_is_fine_when_given(tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(_places_at(LONLAT, "EPSG:4326"), path, driver="ESRI Shapefile")
    path.with_suffix(".prj").unlink()
    result = read_places(path, crs="EPSG:4326")
    np.testing.assert_allclose(shapely.get_coordinates(result.geometry.to_numpy()), LONLAT)


# ---------------------------------------------------------------------------
# CSV specifics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [("lat", "lon"), ("Latitude", "Longitude"), ("y", "x"), ("LAT", "lng"), ("latitude", "long")],
)
def test_csv_coordinate_column_names(lat: str, lon: str, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        f"place_id,kind,name_en,{lat},{lon}\nkapan,town,Kapan,39.2076,46.4057\n", encoding="utf-8"
    )
    result = read_places(path)
    assert (result.geometry.iloc[0].x, result.geometry.iloc[0].y) == (46.4057, 39.2076)
    assert lat in result.columns and lon in result.columns  # originals kept


def test_csv_semicolon_bom_and_crlf(tmp_path: Path) -> None:
    text = "place_id;kind;name_en;latitude;longitude\r\nkapan;town;Kapan;39.2076;46.4057\r\n"
    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = read_places(path)
    assert list(result["place_id"]) == ["kapan"]
    assert result.geometry.iloc[0].equals(Point(46.4057, 39.2076))


def test_csv_quoted_line_break_counts_as_one_row(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "place_id,kind,name_en,notes,latitude,longitude\n"
        'a,town,A,"two\nlines",39.2,46.4\n'
        "b,twon,B,,39.3,46.3\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as exc:
        read_places(path)
    (problem,) = exc.value.problems
    assert problem.row == 2  # the second record, although it starts on line 4
    assert "[spreadsheet row 3]" in problem.message


def test_unlocated_place_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "place_id,kind,name_en,latitude,longitude,notes\n"
        "kapan,town,Kapan,39.2076,46.4057,\n"
        "old-post,base,Old post,,,location unknown\n",
        encoding="utf-8",
    )
    result = read_places(path)
    assert len(result) == 2
    assert result.geometry.iloc[1] is None or result.geometry.iloc[1].is_empty


def test_optional_columns_are_filled_and_extras_kept(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "zzz,place_id,kind,name_en,latitude,longitude\n1,kapan,town,Kapan,39.2,46.4\n", encoding="utf-8"
    )
    result = read_places(path)
    assert list(result.columns) == PLACES.names + ["zzz", "latitude", "longitude"]
    assert result["name_hy"].iloc[0] == "" and result["notes"].iloc[0] == ""
    assert np.isnan(result["elevation_m"].iloc[0])
    assert result["zzz"].iloc[0] == "1"


def test_sources_forms(tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    rows = [
        ("a", '[{"publication": "P", "title": "T", "date": "2021-05-13", "url": "https://x.org/a"}]'),
        ("b", '{"publication": "Only one"}'),
        ("c", "https://example.org/report"),
        ("d", "Radio Azatutyun"),
    ]
    df = pd.DataFrame(
        {
            "incident_id": [r[0] for r in rows],
            "date": "2021-05-12",
            "date_precision": "day",
            "type": "t",
            "description": "d",
            "place_name": "p",
            "precision_m": 100,
            "sources": [r[1] for r in rows],
            "lat": 39.5,
            "lon": 46.0,
        }
    )
    df.to_csv(path, index=False)
    result = read_incidents(path)
    empty = {"publication": "", "title": "", "date": "", "url": ""}
    assert list(result["sources"]) == [
        [{"publication": "P", "title": "T", "date": "2021-05-13", "url": "https://x.org/a"}],
        [{**empty, "publication": "Only one"}],
        [{**empty, "url": "https://example.org/report"}],
        [{**empty, "publication": "Radio Azatutyun"}],
    ]


def test_dates_are_dates_only(tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    values = ["2021-05-12", "2021-05-12T23:59:00", "2021/05/12 10:00:00", "2021-05", "2021"]
    df = pd.DataFrame(
        {
            "incident_id": list("abcde"),
            "date": values,
            "date_precision": ["day", "day", "day", "month", "year"],
            "type": "t",
            "description": "d",
            "place_name": "p",
            "precision_m": 100,
            "sources": "https://x.org",
            "lat": 39.5,
            "lon": 46.0,
        }
    )
    df.to_csv(path, index=False)
    result = read_incidents(path)
    assert pd.api.types.is_datetime64_any_dtype(result["date"])
    assert list(result["date"]) == [pd.Timestamp(2021, 5, 12)] * 3 + [
        pd.Timestamp(2021, 5, 1),
        pd.Timestamp(2021, 1, 1),
    ]


def test_wkt_csv_falls_back_to_lat_lon(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "place_id,kind,name_en,wkt,latitude,longitude\n"
        'road,road,Road,"LINESTRING (46.3 39.5, 46.4 39.2)",,\n'
        "kapan,town,Kapan,,39.2076,46.4057\n",
        encoding="utf-8",
    )
    result = read_places(path)
    assert result.geometry.iloc[0].equals(LineString([(46.3, 39.5), (46.4, 39.2)]))
    assert result.geometry.iloc[1].equals(Point(46.4057, 39.2076))


# ---------------------------------------------------------------------------
# layers, zip contents, API details
# ---------------------------------------------------------------------------


def test_layer_choice_in_multi_layer_gpkg(tmp_path: Path) -> None:
    path = tmp_path / "multi.gpkg"
    pyogrio.write_dataframe(lines_gdf(), path, layer="lines")
    pyogrio.write_dataframe(_flat(incidents_gdf()), path, layer="incidents")
    assert list(read_lines(path)["line_id"]) == ["l1", "l2"]  # the only line layer
    assert list(read_incidents(path)["incident_id"]) == ["i1", "i2", "i3"]
    assert list(read_layer(path, "incidents", layer="incidents")["incident_id"]) == ["i1", "i2", "i3"]
    with pytest.raises(ValueError, match="no layer 'nope'"):
        read_lines(path, layer="nope")


def test_zip_holding_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "places.csv", "place_id,kind,name_en,latitude,longitude\nkapan,town,Kapan,39.2076,46.4057\n"
        )
    result = read_places(path)
    assert list(result["place_id"]) == ["kapan"]


def test_read_territories_function(tmp_path: Path) -> None:
    expected = territories_gdf()
    result = read_territories(write_layer(expected, "geojson", tmp_path))
    _assert_same_layer(result, expected, "territories")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="errors must be"):
        read_places(DATA / "places.kml", errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown layer kind"):
        read_layer(DATA / "places.kml", "roads")
    with pytest.raises(ValueError, match="no geometry"):
        read_layer(DATA / "places.kml", "claims")
    with pytest.raises(FileNotFoundError):
        read_places(DATA / "does-not-exist.geojson")


def test_attrs_describe_the_source() -> None:
    result = read_places(DATA / "places.kml")
    meta = result.attrs["borderkit"]
    assert meta["path"].endswith("places.kml")
    assert meta["format"] in ("KML", "LIBKML")


def test_import_is_light() -> None:
    code = (
        "import sys, borderkit.io\n"
        "heavy = [m for m in ('geopandas', 'pyogrio', 'pyarrow', 'shapely', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(borderkit.io.read_lines)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_parquet_needs_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_layer(places_gdf(), "parquet", tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(OptionalDependencyError, match="pyarrow"):
        read_places(path)
    with pytest.raises(ImportError):
        read_places(path)


def test_detect_layer_kind(tmp_path):
    import json as _json

    from borderkit.errors import EmptyFileError as _Empty
    from borderkit.io import detect_layer_kind, layer_columns

    csv_path = tmp_path / "p.csv"
    csv_path.write_text("name_en;place_id;lat;lon\nTegh;p1;39.5;46.4\n", encoding="utf-16")
    assert layer_columns(csv_path) == ["name_en", "place_id", "lat", "lon"]
    assert detect_layer_kind(csv_path) == "places"
    typo = tmp_path / "t.csv"
    typo.write_text("line_idd,name\na,b\n", encoding="utf-8")
    assert detect_layer_kind(typo) == "lines"
    # no id column: the geometry tells lines and territories, not points
    for geom, kind in (
        ({"type": "MultiLineString", "coordinates": [[[45, 40], [45.1, 40.1]]]}, "lines"),
        ({"type": "Polygon", "coordinates": [[[45, 40], [45.1, 40], [45.1, 40.1], [45, 40]]]}, "territories"),
        ({"type": "Point", "coordinates": [45, 40]}, None),
    ):
        f = tmp_path / "g.geojson"
        f.write_text(
            _json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [{"type": "Feature", "properties": {"a": 1}, "geometry": geom}],
                }
            ),
            encoding="utf-8",
        )
        assert detect_layer_kind(f) == kind
    empty = tmp_path / "e.csv"
    empty.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(_Empty, match="no data rows"):
        detect_layer_kind(empty)
