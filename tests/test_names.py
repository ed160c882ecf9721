"""Place names in any language: name_<BCP-47 tag> columns, a `names` mapping, display and search.

Expected values are written out by hand from the standards they follow (RFC 5646 for the
case of language tags, the Unicode case-folding table as it is published) or from the
fixture itself, never taken from the code under test.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import borderkit
from borderkit.errors import DatasetNotFoundError, FormatLimitWarning, ValidationError
from borderkit.io import read_places, write_layer
from borderkit.places import display_name, find_place, fold_name, name_index, place_names, plain_name
from borderkit.schema import language_tag, name_column, name_language
from borderkit.validate import parse_names, validate_places

# ---------------------------------------------------------------------------
# language tags and name columns
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        # RFC 5646 2.1.1: language lower case, script title case, region upper case, the rest lower case
        ("en", "en"),
        ("KA", "ka"),
        ("uz-cyrl", "uz-Cyrl"),
        ("UZ_CYRL", "uz-Cyrl"),  # '_' as written by tools that launder '-' in column names
        ("sr-latn-rs", "sr-Latn-RS"),
        ("zh-hant", "zh-Hant"),
        ("es-419", "es-419"),
        ("de-ch-1901", "de-CH-1901"),
        ("sl-rozaj-biske", "sl-rozaj-biske"),
        ("az-Arab-x-AZE-derbend", "az-Arab-x-aze-derbend"),  # an example of RFC 5646 appendix A
        ("zh-yue-HK", "zh-yue-HK"),  # extended language subtag
    ],
)
def test_language_tag_canonical_case(given, canonical):
    assert language_tag(given) == canonical
    assert name_column(given) == "name_" + canonical


@pytest.mark.parametrize("bad", ["", "e", "english", "long", "en-", "uz-Cyrl-Latn", "en--US", "ka ge", "x-only", "ẞa"])
def test_not_a_language_tag(bad):
    assert language_tag(bad) is None
    with pytest.raises(ValueError, match="BCP-47"):
        name_column(bad)


def test_name_language_of_columns():
    assert [
        name_language(c) for c in ("name_en", "NAME_KA", "Name_uz_cyrl", "name:os", "name", "name_long", "kind")
    ] == [
        "en",
        "ka",
        "uz-Cyrl",
        "os",
        None,
        None,
        None,
    ]


# ---------------------------------------------------------------------------
# reading: any language, one representation
# ---------------------------------------------------------------------------

HEADER = "place_id,kind,latitude,longitude"


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_names_in_any_language_and_any_case_become_canonical_columns(tmp_path):
    path = _csv(
        tmp_path / "p.csv",
        HEADER + ",NAME_EN,name_KA,Name_uz_cyrl,name:os,name_ky,name_tg",
        [
            "tbilisi,city,41.7167,44.7833,Tbilisi,თბილისი,Тбилиси,Тбилис,Тбилиси,Тбилисӣ",
            "vorukh,village,39.85,70.58,Vorukh,,Ворух,,Ворух,Ворух",
        ],
    )
    got = read_places(path)
    names = [c for c in got.columns if c.startswith("name_")]
    # the schema's four first, the others sorted by tag, each once
    assert names == [
        "name_en",
        "name_hy",
        "name_az",
        "name_ru",
        "name_ka",
        "name_ky",
        "name_os",
        "name_tg",
        "name_uz-Cyrl",
    ]
    assert got["name_ka"].tolist() == ["თბილისი", ""]  # empty, never NaN
    assert got["name_uz-Cyrl"].tolist() == ["Тбилиси", "Ворух"]
    assert got["name_tg"].tolist() == ["Тбилисӣ", "Ворух"]
    assert place_names(got) == ["en", "ka", "ky", "os", "tg", "uz-Cyrl"]


def test_names_mapping_in_csv_and_geojson_object(tmp_path):
    mapping = {"en": "Vorukh", "ky": "Ворух", "tg": "Ворух", "UZ_cyrl": "Ворух", "fa": "وروخ"}
    csv = tmp_path / "p.csv"
    pd.DataFrame(
        {
            "place_id": ["vorukh"],
            "kind": ["village"],
            "latitude": [39.85],
            "longitude": [70.58],
            "names": [json.dumps(mapping, ensure_ascii=False)],
        }
    ).to_csv(csv, index=False)
    gj = tmp_path / "p.geojson"
    gj.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [70.58, 39.85]},
                        "properties": {"place_id": "vorukh", "kind": "village", "names": mapping},
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    for path in (csv, gj):
        got = read_places(path)
        assert "names" not in got.columns  # one representation: name_<tag> columns
        row = got.iloc[0]
        assert (row["name_en"], row["name_ky"], row["name_tg"], row["name_uz-Cyrl"], row["name_fa"]) == (
            "Vorukh",
            "Ворух",
            "Ворух",
            "Ворух",
            "وروخ",
        )


def test_names_mapping_from_code_merges_with_columns():
    gdf = gpd.GeoDataFrame(
        {
            "place_id": ["a", "b"],
            "kind": ["town", "town"],
            "name_en": ["Isfara", ""],
            "names": [{"tg": "Исфара", "en": "Isfara"}, '{"en": "Batken", "ky": "Баткен"}'],
        },
        geometry=[shapely.Point(70.63, 40.13), shapely.Point(70.82, 40.06)],
        crs="EPSG:4326",
    )
    got = validate_places(gdf)
    assert got["name_en"].tolist() == ["Isfara", "Batken"]  # the same name twice is no conflict
    assert got["name_tg"].tolist() == ["Исфара", ""]
    assert got["name_ky"].tolist() == ["", "Баткен"]


def test_wrong_tags_and_conflicts_are_named_by_file_row_and_column(tmp_path):
    path = _csv(
        tmp_path / "p.csv",
        HEADER + ",name_en,name_georgian,names",
        [
            'a,town,40.1,44.5,A,x,"{""ka"": ""ა""}"',
            'b,town,40.2,44.6,B,y,"{""kyrgyz"": ""Б""}"',
            'c,town,40.3,44.7,C,z,"{""en"": ""Not C""}"',
            "d,town,40.4,44.8,D,w,[1]",
        ],
    )
    with pytest.raises(ValidationError) as exc:
        read_places(path)
    got = sorted(((p.row or 0), p.column) for p in exc.value.problems)
    assert got == [(0, "name_georgian"), (2, "names"), (3, "names"), (4, "names")]
    text = {(p.row or 0): str(p) for p in exc.value.problems}
    assert "'georgian' is not a language tag" in text[0] and "name_ka" in text[0] and str(path) in text[0]
    assert "'kyrgyz' is not a BCP-47 language tag" in text[2] and "row 2" in text[2]
    assert "name_en is 'C' but names['en'] is 'Not C'" in text[3]
    assert "not a mapping" in text[4]
    assert "\n" not in str(exc.value)


def test_parse_names_cells():
    assert parse_names(None) == ({}, [])
    assert parse_names("") == ({}, [])
    assert parse_names({"KA": "ა", "os": None, "ky": "  "}) == ({"ka": "ა"}, [])
    assert "not text" in parse_names({"ka": 5})[1][0]
    assert "not a JSON object" in parse_names("{ka: ა}")[1][0]


def test_validate_cli_names_a_bad_name_column(tmp_path):
    from borderkit.cli.main import cli

    path = _csv(tmp_path / "p.csv", HEADER + ",name_en,name_ka-", ["a,town,40.1,44.5,A,ა"])
    r = CliRunner().invoke(cli, ["validate", "--kind", "places", str(path)])
    assert r.exit_code == 1
    assert "name_ka-" in r.output and "Traceback" not in r.output


# ---------------------------------------------------------------------------
# writing: every name column in every format, Shapefile included
# ---------------------------------------------------------------------------


@pytest.fixture()
def many_languages():
    return validate_places(
        gpd.GeoDataFrame(
            {
                "place_id": ["vorukh", "sokh"],
                "kind": ["village", "town"],
                "name_en": ["Vorukh", "Sokh"],
                "name_ka": ["ვორუხი", ""],
                "name_os": ["Ворух", ""],
                "name_ky": ["Ворух", "Сох"],
                "name_tg": ["Ворух", "Сӯх"],
                "name_uz-Cyrl": ["Ворух", "Сўх"],
                "name_uz-Latn": ["Vorux", "So‘x"],
                "name_sr-Latn": ["", "Soh"],
            },
            geometry=[shapely.Point(70.583, 39.85), shapely.Point(71.12, 39.96)],
            crs="EPSG:4326",
        )
    )


@pytest.mark.parametrize("suffix", [".shp", ".zip"])
def test_shapefile_keeps_long_tags_whole_in_a_names_field(many_languages, tmp_path, suffix):
    path = tmp_path / f"p{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("error", FormatLimitWarning)  # nothing is lost, nothing to warn about
        write_layer(many_languages, path)
    if suffix == ".shp":
        fields = pyogrio.read_info(path)["fields"].tolist()
        assert "names" in fields and "name_ka" in fields and not any(f.startswith("name_uz") for f in fields)
        raw = pyogrio.read_dataframe(path, read_geometry=False)
        # read independently of borderkit: the long tags are JSON in the DBF
        assert json.loads(raw["names"][0]) == {"uz-Cyrl": "Ворух", "uz-Latn": "Vorux"}  # empty names left out
        assert json.loads(raw["names"][1]) == {"sr-Latn": "Soh", "uz-Cyrl": "Сўх", "uz-Latn": "So‘x"}
    back = read_places(path)
    assert list(back.columns) == list(many_languages.columns)
    for c in many_languages.columns:
        if c.startswith("name_"):
            assert back[c].tolist() == many_languages[c].tolist(), c


def test_shapefile_names_field_too_long_warns_and_keeps_what_fits(tmp_path, many_languages):
    p = many_languages.copy()
    p.loc[0, "name_uz-Cyrl"] = "Ў" * 100  # 200 bytes
    p.loc[0, "name_uz-Latn"] = "x" * 100  # would make the mapping longer than 254 bytes
    with pytest.warns(FormatLimitWarning, match=r"'name_uz-Latn' in row 1 .*254-byte 'names' field"):
        write_layer(p, tmp_path / "p.shp")
    back = read_places(tmp_path / "p.shp")
    assert back["name_uz-Cyrl"].tolist() == ["Ў" * 100, "Сўх"]
    assert back["name_uz-Latn"].tolist() == ["", "So‘x"]


# ---------------------------------------------------------------------------
# display_name
# ---------------------------------------------------------------------------


def test_display_name_fallback_order(many_languages):
    p = many_languages
    assert display_name(p, lang="ka").tolist() == ["ვორუხი", "Sokh"]  # Sokh has no Georgian name: English
    assert display_name(p, lang="uz-Cyrl-UZ").tolist() == ["Ворух", "Сўх"]  # lookup: uz-Cyrl-UZ → uz-Cyrl
    assert display_name(p, lang="uz").tolist() == ["Ворух", "Сўх"]  # first uz-* column in column order
    assert display_name(p, lang="sr", fallback=("ka", "en")).tolist() == ["ვორუხი", "Soh"]
    names, langs = display_name(p, lang="os", return_lang=True)
    assert names.tolist() == ["Ворух", "Sokh"] and langs.tolist() == ["os", "en"]
    assert display_name(p.iloc[1], lang="tg") == "Сӯх"
    with pytest.raises(ValueError, match="BCP-47"):
        display_name(p, lang="georgian")


def test_display_name_on_the_bundled_places():
    places = borderkit.datasets.load("armenia-azerbaijan").places
    got = display_name(places, lang="hy")
    want = [r.name_hy if r.name_hy.strip() else r.name_en for r in places.itertuples()]
    assert got.tolist() == want
    assert got.index.equals(places.index)
    assert place_names(places) == ["en", "hy", "az", "ru"]


# ---------------------------------------------------------------------------
# find_place: case-insensitive in every script
# ---------------------------------------------------------------------------


@pytest.fixture()
def gazetteer():
    return validate_places(
        gpd.GeoDataFrame(
            {
                "place_id": ["ismayilli", "sevan", "tbilisi", "yolka", "strasse", "agdam", "aghdara"],
                "kind": ["town", "lake", "city", "village", "road", "town", "town"],
                "name_en": ["Ismayilli", "Lake Sevan", "Tbilisi", "Yolkino", "Main Street", "Aghdam", "Aghdara"],
                "name_az": ["İsmayıllı", "Göyçə gölü", "Tiflis", "", "", "Ağdam", "Ağdərə"],
                "name_hy": ["", "Սևանա լիճ", "Թբիլիսի", "", "", "Աղդամ", "Մարտակերտ"],
                "name_ka": ["", "", "თბილისი", "", "", "", ""],
                "name_ru": ["Исмаиллы", "Севан", "Тбилиси", "Ёлкино", "", "Агдам", "Агдере"],
                "name_de": ["", "Sewansee", "Tiflis", "", "Hauptstraße", "", ""],
            },
            geometry=[shapely.Point(48.15 + i / 10, 40.79) for i in range(7)],
            crs="EPSG:4326",
        )
    )


@pytest.mark.parametrize(
    ("query", "place_id"),
    [
        ("İSMAYILLI", "ismayilli"),  # Azerbaijani capitals, dotted İ
        ("ismayıllı", "ismayilli"),  # dotless ı
        ("ISMAYILLI", "ismayilli"),  # I read as ı (az) or as i (en): both match
        ("ismayilli", "ismayilli"),
        ("ՍԵՎԱՆԱ ԼԻՃ", "sevan"),  # Armenian capitals Ս Ե Վ Ա Ն Ա, Լ Ի Ճ
        ("սևանա լիճ", "sevan"),
        ("սեւանա լիճ", "sevan"),  # classical spelling: ե + ւ for the ligature և (capital ԵՎ)
        ("თბილისი", "tbilisi"),  # Georgian Mkhedruli (no case)
        ("ᲗᲑᲘᲚᲘᲡᲘ", "tbilisi"),  # Georgian Mtavruli capitals fold to Mkhedruli
        ("ЁЛКИНО", "yolka"),  # Cyrillic Ё / ё
        ("ёлкино", "yolka"),
        ("HAUPTSTRASSE", "strasse"),  # German ß folds to ss
        ("hauptstraße", "strasse"),
        ("ＴＢＩＬＩＳＩ", "tbilisi"),  # full-width letters (NFKC)
        ("  lake   sevan ", "sevan"),  # white space
        ("GÖYÇƏ", "sevan"),  # part of the Azerbaijani name
        ("Agdam", "agdam"),  # exact English name (the diacritic pass is not needed)
        ("АГДЕРЕ", "aghdara"),  # Russian Агдере
    ],
)
def test_find_place_in_every_script(gazetteer, query, place_id):
    assert find_place(gazetteer, query)["place_id"] == place_id


def test_find_place_second_pass_without_diacritics_only_when_unambiguous(gazetteer):
    g = gazetteer.copy()
    g["place_id"] = g["place_id"] + "_1"  # so that no place_id reads "agdam"
    g.loc[g.place_id == "agdam_1", "name_en"] = "Aghdam town"  # no exact "agdam" any more
    assert find_place(g, "AGDAM")["place_id"] == "agdam_1"  # Ağdam without its breve
    g.loc[g.place_id == "aghdara_1", "name_en"] = "Aġdam"  # now two places read "agdam" without diacritics
    with pytest.raises(DatasetNotFoundError, match=r"several places: agdam_1 \(Aghdam town\), aghdara_1 \(Aġdam\)"):
        find_place(g, "Agdam")
    # a name spelt with its diacritics still finds its place exactly
    assert find_place(g, "Ağdam")["place_id"] == "agdam_1"
    assert find_place(g, "AĠDAM")["place_id"] == "aghdara_1"


def test_find_place_errors(gazetteer):
    with pytest.raises(DatasetNotFoundError, match="several places"):
        find_place(gazetteer, "ag")  # part of Aghdam, Aghdara, Ağdam, Ağdərə
    with pytest.raises(DatasetNotFoundError, match="did you mean 'Tbilisi'"):
        find_place(gazetteer, "Tblisi")
    with pytest.raises(DatasetNotFoundError, match="no place name given"):
        find_place(gazetteer, "  ")


def test_find_place_on_the_bundled_places():
    places = borderkit.datasets.load("armenia-azerbaijan").places
    # each query is the stored name in another case or script, as a user would type it
    assert find_place(places, "КАПАН")["place_id"] == "kapan"  # Russian Капан
    assert find_place(places, "ԲԵՐԴ")["place_id"] == "berd"  # Armenian Բերդ
    assert find_place(places, "BAKI")["place_id"] == "baku"  # Azerbaijani Bakı (dotless ı)
    assert find_place(places, "İSTİSU")["place_id"] == "jermuk"  # Azerbaijani İstisu
    assert find_place(places, "kəlbəcər")["place_id"] == "kalbajar"
    idx = name_index(places)
    assert find_place(places, "goris", index=idx)["place_id"] == "goris"


def test_name_index_scales_to_thousands_of_places():
    n = 5000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "place_id": [f"p{i}" for i in range(n)],
            "name_en": [f"Place {i}" for i in range(n)],
            "name_ru": [f"Место {i}" for i in range(n)],
            "name_ka": [f"ადგილი {i}" for i in range(n)],
        }
    )
    idx = name_index(frame)
    assert len(idx) == 4 * n
    for i in rng.integers(0, n, 20):
        assert find_place(frame, f"МЕСТО {i}", index=idx)["place_id"] == f"p{i}"


def test_fold_and_plain_keys():
    # values from the Unicode case-folding table (CaseFolding.txt), written out by hand
    assert fold_name("ΣΊΣΥΦΟΣ") == fold_name("σίσυφος") == fold_name("σίσυφοσ")
    assert fold_name("Ꭰ") == fold_name("ꭰ")  # Cherokee: folds to the capital, both ways equal
    assert fold_name("ﬁle") == "file"
    assert plain_name("Şuşa") == "susa" and plain_name("Ağdərə") == "agdərə"
