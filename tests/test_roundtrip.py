"""read → write → read for every layer kind × every format the readers read.

The expected values are the layers as first read (the bundled case, and a small
fixture with text in every script the case meets); what a format cannot keep
is stated independently here (the dBASE limit of 254 bytes, GPX tracks), and
the writer must warn exactly when that happens.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import borderkit
from borderkit.errors import FormatLimitError, FormatLimitWarning, ValidationError
from borderkit.io import read_layer, write_layer
from borderkit.schema import SCHEMAS

KINDS = ("lines", "territories", "incidents", "places")
SUFFIXES = (".geojson", ".gpkg", ".parquet", ".csv", ".kml", ".gpx", ".shp", ".zip")
DBF_BYTES = 254  # the dBASE limit of one text field (GDAL's Shapefile driver)

HY = "Սև լիճ, Մեծ Իշխանասար"  # Armenian
AZ = "İsmayıllı, Ağdərə, Şuşa — ə ı İ ğ ş ç ö ü"  # Azerbaijani Latin
RU = "Ереван — Баку, озеро Сев"  # Russian
KA = "ქართული ენა, თბილისი"  # Georgian
AR = "العربية، ناگورنو قره‌باغ"  # Arabic (with a zero-width non-joiner)
EMOJI = "⛰️ 🏔️ 👩🏽‍🌾 🇦🇲🇦🇿"
OS = "Цæгат Ирыстон"  # Ossetian (Cyrillic with Latin æ)
MIX = "大伊什哈納薩爾 Մեծ Իշխանասար İşıqlı ქ"  # a script mix in one name


def _sources(*texts: str) -> list[dict[str, str]]:
    return [
        {"publication": t, "title": f"{t} ({i})", "date": "2021-05-1" + str(i), "url": f"https://example.org/{i}?q={t}"}
        for i, t in enumerate(texts)
    ]


@pytest.fixture(scope="module")
def case():
    return borderkit.datasets.load("armenia-azerbaijan")


@pytest.fixture(scope="module")
def scripts():
    """Small layers of every kind with text in every script, below every format limit."""
    import geopandas as gpd

    meta = {
        "source": "fixture",
        "source_version": "1",
        "source_date": "2024",
        "scale_or_accuracy_m": 12.5,
        "licence": "CC0-1.0",
    }
    lines = gpd.GeoDataFrame(
        {
            "line_id": ["l-hy", "l-multi"],
            "name": [HY, AZ],
            **{k: [v, v] for k, v in meta.items()},
            "attribution": [RU, ""],
            "claimant": ["ARM", "cartographic"],
            "left_party": ["ARM", "ARM"],
            "right_party": ["AZE", "AZE"],
            "section": ["", KA],
            "notes": [AR, EMOJI],
            "note_ka": [KA, ""],  # a column outside the schema
        },
        geometry=[
            shapely.LineString([(45.1234567890123, 40.1), (45.3, 40.2), (45.5, 40.25)]),
            shapely.MultiLineString([[(46.0, 39.0), (46.1, 39.1)], [(46.2, 39.2), (46.3, 39.25)]]),
        ],
        crs="EPSG:4326",
    )
    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["t-hole", "t-multi"],
            "party": ["ARM", "AZE"],
            "name": [HY, AZ],
            **{k: [v, v] for k, v in meta.items()},
            "attribution": ["", KA],
            "notes": [RU, AR + " " + EMOJI],
        },
        geometry=[
            shapely.Polygon(
                [(45.0, 40.0), (45.5, 40.0), (45.5, 40.5), (45.0, 40.5)],
                holes=[[(45.1, 40.1), (45.1, 40.2), (45.2, 40.2), (45.2, 40.1)]],
            ),
            shapely.MultiPolygon(
                [
                    shapely.Polygon([(46.0, 39.0), (46.2, 39.0), (46.2, 39.2)]),
                    shapely.Polygon([(46.5, 39.5), (46.7, 39.5), (46.7, 39.7)]),
                ]
            ),
        ],
        crs="EPSG:4326",
    )
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": ["i-1", "i-2", "i-3"],
            "date": pd.to_datetime(["2021-05-12", "2022-09-13", "1994-05-12"]),
            "date_end": pd.to_datetime([None, "2022-09-14", None]),
            "date_precision": ["day", "day", "month"],
            "type": ["advance", "exchange of fire", "ceasefire"],
            "description": [HY, AZ + " " + RU, KA + " " + AR + " " + EMOJI],
            "actors": [RU, "", AZ],
            "place_name": [HY, AZ, RU],
            "place_id": ["", "p-2", ""],
            "precision_m": [5000.0, 250.5, 1e4],
            "sources": [
                _sources("Azatutyun"),
                [{"publication": "", "title": "", "date": "", "url": "https://a.az/x"}],
                _sources("ОК", "GE"),
            ],
            "reported_claims": ["", "3.5 km", ""],
        },
        geometry=[shapely.Point(46.232, 39.598), shapely.Point(45.5, 40.1), shapely.Point(46.75, 39.8)],
        crs="EPSG:4326",
    )
    places = gpd.GeoDataFrame(
        {
            "place_id": ["p-1", "p-2", "p-3"],
            "kind": ["peak", "village", "lake"],
            "name_en": ["Mets Ishkhanasar", "Ismayilli", "Sev Lake"],
            "name_hy": [HY, "", "Սև լիճ"],
            "name_az": ["", AZ, ""],
            "name_ru": [RU, "", "озеро Сев"],
            # languages outside the schema's four: one column per BCP-47 tag, long tags included
            "name_ka": [KA, "", "სევის ტბა"],
            "name_os": [OS, "", ""],  # Ossetian: Cyrillic with the Latin letter æ
            "name_ky": ["", "", "Севан көлү"],
            "name_tg": ["", "Исмоиллӣ", ""],
            "name_uz-Cyrl": ["", "Исмоиллӣ", "Сев кўли"],  # 12 characters: longer than a dBASE field name
            "name_sr-Latn": ["Mec Išhanasar", "", ""],
            "name_zh-Hant": [MIX, "", ""],
            "elevation_m": [3550.0, np.nan, 2666.25],
            "elevation_source": ["", "", KA],
            "coord_source": [AR, "", ""],
            "notes": [EMOJI, "", ""],
        },
        geometry=[shapely.Point(46.05, 39.56), shapely.Point(48.15, 40.79), shapely.Point(46.23, 39.6)],
        crs="EPSG:4326",
    )
    return {"lines": lines, "territories": territories, "incidents": incidents, "places": places}


def _layer(case, scripts, source: str, kind: str):
    if source == "case":
        return getattr(case, kind)
    # through a reader once, so both sides are conformed the same way
    return borderkit.validate.validate_layer(scripts[kind], kind)


def _write(gdf, path: Path, kind: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_layer(gdf, path, kind=kind)
    return [str(w.message) for w in caught if issubclass(w.category, FormatLimitWarning)]


def _dbf_cut(text: str) -> str:
    # a DBF pads text with spaces, so trailing spaces never read back
    return text.encode("utf-8")[:DBF_BYTES].decode("utf-8", errors="ignore").rstrip(" ")


def _too_long(values) -> bool:
    return any(isinstance(v, str) and len(v.encode("utf-8")) > DBF_BYTES for v in values)


def _number_like(text: str) -> bool:
    try:
        float(text)
        return False
    except ValueError:
        return bool(re.match(r"\s*[-+]?(\d|\.\d)", text))


def _sources_fit(records) -> bool:
    compact = [{k: v for k, v in r.items() if v} for r in records]
    return len(json.dumps(compact, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) <= DBF_BYTES


def _gpx_refuses(gdf) -> bool:
    types = set(gdf.geometry.dropna().geom_type)
    fams = {t.removeprefix("Multi") for t in types}
    return bool(fams - {"Point", "LineString"}) or len(fams) > 1 or bool(gdf.geometry.isna().any())


def _same_geometry(a, b, *, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=tol))


@pytest.mark.parametrize("source", ["case", "scripts"])
@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", KINDS)
def test_read_write_read_keeps_every_attribute_and_geometry(case, scripts, tmp_path, source, kind, suffix):
    before = _layer(case, scripts, source, kind)
    path = tmp_path / f"{kind}{suffix}"
    if suffix == ".gpx" and _gpx_refuses(before):
        with pytest.raises(FormatLimitError, match="GPX"):
            write_layer(before, path, kind=kind)
        assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file
        return
    notes = _write(before, path, kind)
    after = read_layer(path, kind)
    shp = suffix in (".shp", ".zip")

    # columns: the same, in the same order; a CSV point layer gains its coordinate columns
    extra = ["longitude", "latitude"] if suffix == ".csv" and kind in ("incidents", "places") else []
    assert [c for c in after.columns if c not in extra] == list(before.columns)
    assert [c for c in after.columns if c in extra] == extra
    assert len(after) == len(before)
    schema = SCHEMAS[kind]
    expect_warnings = set()
    gpx_number_like = set()
    for col in before.columns:
        if col == "geometry":
            continue
        b, a = before[col].tolist(), after[col].tolist()
        dtype = schema.column(col).dtype if col in schema.names else "str"
        if dtype == "sources":
            if shp and not all(_sources_fit(r) for r in b):
                expect_warnings.add(col)
                for rb, ra in zip(b, a, strict=True):
                    if _sources_fit(rb):
                        assert ra == rb
                    else:  # shortened, but still the first source's link
                        assert ra and ra[0]["url"] == rb[0]["url"]
            else:
                assert a == b, col
        elif dtype in ("float", "int"):
            np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-14, err_msg=col)
        elif dtype == "date":
            assert pd.Series(a).astype("datetime64[ns]").equals(pd.Series(b).astype("datetime64[ns]")), col
        else:
            b_text = ["" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in b]
            a_text = ["" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in a]
            if shp and _too_long(b_text):
                expect_warnings.add(col)
                b_text = [_dbf_cut(v) for v in b_text]
            if suffix == ".gpx" and any(_number_like(v) for v in b_text):
                # GDAL guesses GPX extension types from values: "3.5 km" may read back as 3.5
                gpx_number_like.add(col)
                continue
            assert a_text == b_text, col
    if extra:
        xy = np.array([(g.x, g.y) if g is not None else (np.nan, np.nan) for g in before.geometry])
        np.testing.assert_array_equal(pd.to_numeric(after["longitude"]).to_numpy(), xy[:, 0])
        np.testing.assert_array_equal(pd.to_numeric(after["latitude"]).to_numpy(), xy[:, 1])

    # geometry: same type (GPX tracks excepted, warned), same coordinates
    types_b = before.geometry.geom_type.tolist()
    types_a = after.geometry.geom_type.tolist()
    gpx_tracks = suffix == ".gpx" and "MultiLineString" in types_b and "LineString" in types_b
    if gpx_tracks:
        assert types_a == [
            t.replace("LineString", "MultiLineString").replace("MultiMulti", "Multi") if t else t for t in types_b
        ]
        assert any("GPX" in n and "MultiLineString" in n for n in notes)
    else:
        assert types_a == types_b
    tol = 1e-9  # 0.1 mm; GeoJSON keeps 15 significant digits, the others every bit
    for gb, ga in zip(before.geometry, after.geometry, strict=True):
        if gpx_tracks and gb is not None and gb.geom_type == "LineString":
            gb = shapely.MultiLineString([gb])
        assert _same_geometry(gb, ga, tol=tol), gb.wkt[:80] if gb is not None else None
    assert after.crs.to_epsg() == 4326

    # a warning exactly when something was cut
    warned = {c for c in before.columns for n in notes if f"'{c}'" in n and "254 bytes" in n}
    assert warned == expect_warnings, notes
    assert {
        c for c in before.columns for n in notes if f"'{c}'" in n and "starts with a number" in n
    } == gpx_number_like
    if source == "scripts" and not gpx_tracks and not gpx_number_like:
        assert notes == []


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".zip", ".csv"])
def test_bundled_incidents_with_sources_read_back(case, tmp_path, suffix):
    """The original report: incidents written to GPKG/Shapefile/CSV could not be read back."""
    path = tmp_path / f"incidents{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatLimitWarning)
        write_layer(case.incidents, path)
    back = borderkit.read_incidents(path)
    assert back["incident_id"].tolist() == case.incidents["incident_id"].tolist()
    for got, want in zip(back["sources"], case.incidents["sources"], strict=True):
        if suffix in (".gpkg", ".csv") or _sources_fit(want):
            assert got == want
        else:
            assert [r["url"] for r in got][:1] == [want[0]["url"]]
            assert all(r["url"] in {w["url"] for w in want} for r in got)


def test_shapefile_254_bytes_exactly_is_kept_and_one_more_byte_warns(tmp_path, scripts):
    inc = borderkit.validate.validate_layer(scripts["incidents"], "incidents")
    fits = inc.copy()
    fits["description"] = ["ա" * 127, "x" * 254, "ქ" * 84 + "xx"]  # 254 bytes each (2, 1, 3 bytes per letter)
    assert all(len(t.encode()) == DBF_BYTES for t in fits["description"])
    assert _write(fits, tmp_path / "fits.shp", "incidents") == []
    assert borderkit.read_incidents(tmp_path / "fits.shp")["description"].tolist() == fits["description"].tolist()

    over = inc.copy()
    over["description"] = ["ա" * 128, "x" * 254, "ქ" * 85]  # 256, 254 and 255 bytes
    notes = _write(over, tmp_path / "over.shp", "incidents")
    assert len(notes) == 1 and "'description'" in notes[0] and "rows 1, 3" in notes[0]
    back = borderkit.read_incidents(tmp_path / "over.shp")["description"].tolist()
    assert back == ["ա" * 127, "x" * 254, "ქ" * 84]  # cut between letters, never inside one


def test_shapefile_long_field_names_and_empty_vs_missing_warn(tmp_path, scripts):
    lines = borderkit.validate.validate_layer(scripts["lines"], "lines")
    lines["a_long_attribute_name"] = ["x", "y"]
    lines["maybe"] = pd.Series(["", None], dtype=object)
    notes = _write(lines, tmp_path / "lines.shp", "lines")
    assert any("'a_long_attribute_name'" in n and "10 characters" in n for n in notes)
    assert any("'maybe'" in n and "empty and missing" in n for n in notes)
    back = borderkit.read_lines(tmp_path / "lines.shp")
    assert back["a_long_att"].tolist() == ["x", "y"]  # dBASE keeps the first 10 characters
    assert (tmp_path / "lines.cpg").read_text().strip().upper() in ("UTF-8", "UTF8")


def test_formats_that_cannot_hold_a_layer_refuse_before_writing(case, scripts, tmp_path):
    with pytest.raises(FormatLimitError, match="GPX holds points and lines only"):
        write_layer(case.territories, tmp_path / "t.gpx")
    with pytest.raises(FormatLimitError, match="without geometry"):
        write_layer(case.places, tmp_path / "p.gpx")
    mixed = borderkit.validate.validate_layer(scripts["places"], "places")
    mixed.loc[0, "kind"] = "road"
    mixed.geometry.values[0] = shapely.LineString([(46.0, 39.5), (46.1, 39.6)])
    with pytest.raises(FormatLimitError, match="one geometry family"):
        write_layer(mixed, tmp_path / "p.shp")
    with pytest.raises(FormatLimitError, match="output format"):
        write_layer(case.places, tmp_path / "p.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_invalid_layers_and_existing_files(case, scripts, tmp_path):
    bad = borderkit.validate.validate_layer(scripts["incidents"], "incidents")
    bad["precision_m"] = [5000.0, -1.0, 10.0]
    with pytest.raises(ValidationError, match="row 2"):
        write_layer(bad, tmp_path / "bad.gpkg")
    assert list(tmp_path.iterdir()) == []
    with pytest.warns(FormatLimitWarning):
        write_layer(case.incidents, tmp_path / "inc.shp")
    (tmp_path / "inc.qix").write_bytes(b"old index")
    with pytest.raises(FileExistsError):
        write_layer(case.incidents, tmp_path / "inc.shp")
    # one existing member of a shapefile set is enough to refuse
    (tmp_path / "other.dbf").write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        write_layer(case.incidents, tmp_path / "other.shp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatLimitWarning)
        write_layer(case.incidents, tmp_path / "inc.shp", overwrite=True)
    assert not (tmp_path / "inc.qix").exists()  # the old index would not match the new file
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["inc.shp", "inc.shx", "inc.dbf", "inc.prj", "inc.cpg", "other.dbf"]
    )


def test_reprojected_to_epsg4326_and_dates_as_iso_text(scripts, tmp_path):
    from pyproj import Transformer

    inc = borderkit.validate.validate_layer(scripts["incidents"], "incidents")
    utm = inc.to_crs("EPSG:32638")
    write_layer(utm, tmp_path / "inc.csv")
    text = (tmp_path / "inc.csv").read_text(encoding="utf-8")
    assert "2021-05-12" in text and "00:00:00" not in text
    back = borderkit.read_incidents(tmp_path / "inc.csv")
    # independent: pyproj back from the UTM coordinates
    tr = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(utm.geometry.x.to_numpy(), utm.geometry.y.to_numpy())
    np.testing.assert_allclose(back.geometry.x, lon, atol=1e-9)
    np.testing.assert_allclose(back.geometry.y, lat, atol=1e-9)


def test_csv_round_trip_twice_adds_no_column(case, tmp_path):
    write_layer(case.incidents, tmp_path / "a.csv")
    first = borderkit.read_incidents(tmp_path / "a.csv")
    write_layer(first, tmp_path / "b.csv")
    second = borderkit.read_incidents(tmp_path / "b.csv")
    assert list(second.columns) == list(first.columns)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# ---------------------------------------------------------------------------
# borderkit convert
# ---------------------------------------------------------------------------


def _convert(*args: str):
    from borderkit.cli.main import cli

    return CliRunner().invoke(cli, ["convert", *args])


def test_convert_every_kind_and_reads_back(tmp_path):
    root = Path(__file__).resolve().parent.parent / "geodata" / "armenia-azerbaijan"
    for kind in KINDS:
        out = tmp_path / f"{kind}.gpkg"
        r = _convert(str(root / f"{kind}.geojson"), str(out))
        assert r.exit_code == 0, r.output
        assert read_layer(out, kind).equals(read_layer(root / f"{kind}.geojson", kind))


def test_convert_warns_in_one_line_and_reports_errors_with_exit_codes(tmp_path):
    root = Path(__file__).resolve().parent.parent / "geodata" / "armenia-azerbaijan"
    r = _convert(str(root / "incidents.geojson"), str(tmp_path / "inc.shp"))
    assert r.exit_code == 0
    assert "borderkit: warning:" in r.stderr and "254 bytes" in r.stderr
    # existing output: usage error
    r = _convert(str(root / "incidents.geojson"), str(tmp_path / "inc.shp"))
    assert r.exit_code == 2 and "--overwrite" in r.output
    # unknown suffix: usage error, nothing written
    r = _convert(str(root / "incidents.geojson"), str(tmp_path / "inc.xlsx"))
    assert r.exit_code == 2 and not (tmp_path / "inc.xlsx").exists()
    # a format that cannot hold the layer: exit 1, one line
    r = _convert(str(root / "territories.geojson"), str(tmp_path / "t.gpx"))
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1 and "GPX" in r.stderr
    # bad input: the reader's one line with file, row and column
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "incident_id,date,date_precision,type,description,place_name,precision_m,sources,latitude,longitude\n"
        "a,2021-05-12,day,advance,x,y,-5,https://example.org,39.6,46.2\n",
        encoding="utf-8",
    )
    r = _convert(str(bad), str(tmp_path / "bad.gpkg"))
    assert r.exit_code == 1
    line = r.stderr.strip()
    assert "\n" not in line and "bad.csv" in line and "row 1" in line and "precision_m" in line
    assert not (tmp_path / "bad.gpkg").exists()
    # a file whose kind cannot be told from its columns (GPX extensions): usage error asking for --kind
    assert _convert(str(root / "incidents.geojson"), str(tmp_path / "inc.gpx")).exit_code == 0
    r = _convert(str(tmp_path / "inc.gpx"), str(tmp_path / "back.geojson"))
    assert r.exit_code == 2 and "--kind" in r.output
    r = _convert(str(tmp_path / "inc.gpx"), str(tmp_path / "back.geojson"), "--kind", "incidents")
    assert r.exit_code == 0
