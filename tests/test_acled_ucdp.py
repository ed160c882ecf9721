"""ACLED and UCDP GED exports read as incidents.

The real ACLED HDX export lives in ``../shared`` (or ``$BORDERKIT_SHARED``) and is never
copied into the repository. Every expected number here is computed with the ``csv`` module
from the file itself, or restated by hand from docs/precision-codes.md.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import conftest
from borderkit.errors import ValidationError
from borderkit.io import (
    ACLED_GEO_PRECISION_M,
    ACLED_TIME_PRECISION,
    UCDP_DATE_PREC,
    UCDP_WHERE_PREC_M,
    is_acled,
    is_ucdp_ged,
    read_incidents,
    read_places,
)
from borderkit.schema import INCIDENTS

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]
ACLED_DIR = "acled-armenia-2018-2020-hdx"

# restated by hand from docs/precision-codes.md (not imported from the code)
ACLED_GEO_M = {"1": 2_000.0, "2": 15_000.0, "3": 50_000.0}
ACLED_TIME = {"1": "day", "2": "week", "3": "month"}
UCDP_WHERE_M = {
    "1": 2_000.0,
    "2": 25_000.0,
    "3": 30_000.0,
    "4": 60_000.0,
    "5": 100_000.0,
    "6": 200_000.0,
    "7": 100_000.0,
}
UCDP_DATE = {"1": "day", "2": "week", "3": "week", "4": "month", "5": "year"}


def shared_file(name: str) -> Path:
    """A file of ../shared; a missing one skips locally and fails on CI (CI=true)."""
    return conftest.shared_file(f"{ACLED_DIR}/{name}")


def csv_records(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    """(header, HXL row, events) read with the csv module."""
    with path.open(newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    return records[0], records[1], records[2:]


# ---------------------------------------------------------------------------
# the real ACLED HDX export
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def acled_full() -> tuple[Path, pd.DataFrame]:
    path = shared_file("conflict_data_arm.csv")
    return path, read_incidents(path)


def _check_against_csv(path: Path, gdf: pd.DataFrame) -> None:
    header, hxl, events = csv_records(path)
    col = {name: i for i, name in enumerate(header)}
    assert hxl[col["latitude"]] == "#geo+lat"  # the hashtag row is there …
    assert len(gdf) == len(events)  # … and was not read as an event; no event lost
    assert list(gdf["incident_id"]) == [e[col["event_id_cnty"]] for e in events]
    # precision via the documented table
    assert list(gdf["precision_m"]) == [ACLED_GEO_M[e[col["geo_precision"]]] for e in events]
    assert list(gdf["date_precision"]) == [ACLED_TIME[e[col["time_precision"]]] for e in events]
    assert list(gdf["date"]) == [
        pd.Timestamp(datetime.strptime(e[col["event_date"]], "%Y-%m-%d")) for e in events
    ]
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    np.testing.assert_array_equal(coords[:, 0], [float(e[col["longitude"]]) for e in events])
    np.testing.assert_array_equal(coords[:, 1], [float(e[col["latitude"]]) for e in events])
    assert list(gdf["description"]) == [e[col["notes"]] for e in events]
    assert list(gdf["place_name"]) == [e[col["location"]] for e in events]
    pubs = [[p["publication"] for p in s] for s in gdf["sources"]]
    assert pubs == [[x.strip() for x in e[col["source"]].split(";") if x.strip()] for e in events]
    # every original column is kept, with its values
    for name in header:
        assert list(gdf[name]) == [e[col[name]] for e in events], name
    assert list(gdf.columns[: len(INCIDENTS.names)]) == INCIDENTS.names
    assert gdf.crs.to_epsg() == 4326


def test_acled_hdx_full_file_loads_completely(acled_full) -> None:
    path, gdf = acled_full
    _check_against_csv(path, gdf)
    assert len(gdf) == 4960  # PROVENANCE.md
    meta = gdf.attrs["borderkit"]
    assert meta["export"] == "acled"
    assert meta["hxl"]["latitude"] == "#geo+lat" and meta["hxl"]["event_date"] == "#date+occurred"


def test_acled_hdx_precision_counts(acled_full) -> None:
    path, gdf = acled_full
    header, _, events = csv_records(path)
    i = header.index("geo_precision")
    expected = {ACLED_GEO_M[k]: sum(1 for e in events if e[i] == k) for k in ("1", "2", "3")}
    got = gdf["precision_m"].value_counts().to_dict()
    assert got == expected
    assert sum(expected.values()) == len(events)
    assert gdf["precision_m"].notna().all() and (gdf["precision_m"] > 0).all()


def test_acled_hdx_syunik_subset() -> None:
    path = shared_file("conflict_data_arm_syunik.csv")
    gdf = read_incidents(path)
    _check_against_csv(path, gdf)
    assert len(gdf) == 114  # PROVENANCE.md
    assert set(gdf["admin1"]) == {"Syunik"}


def test_acled_hdx_row_numbers_count_the_hashtag_row(tmp_path: Path) -> None:
    src = shared_file("conflict_data_arm_syunik.csv")
    header, hxl, events = csv_records(src)
    events = [list(e) for e in events[:6]]
    col = {name: i for i, name in enumerate(header)}
    events[2][col["geo_precision"]] = "7"  # third event
    events[4][col["latitude"]] = "39,5"  # fifth event
    events[5][col["event_date"]] = "2020-13-01"  # sixth event
    path = tmp_path / "hdx_bad.csv"  # a temporary, modified copy of six events
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, hxl, *events])
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    found = [(p.row, p.column) for p in exc.value.problems]
    assert found == [(3, "geo_precision"), (5, "latitude"), (6, "event_date")]
    msgs = [p.message for p in exc.value.problems]
    # a spreadsheet shows the header on row 1 and the hashtags on row 2
    assert msgs[0].endswith("[spreadsheet row 5]")
    assert msgs[1].endswith("[spreadsheet row 7]")
    assert "'7' is not a geo_precision code" in msgs[0]
    assert "use a dot as decimal separator" in msgs[1]
    assert "'2020-13-01' is not a date" in msgs[2]
    good, rejected = read_incidents(path, errors="collect")
    assert len(good) == 3
    assert list(rejected["row"]) == [3, 5, 6]
    assert list(rejected["spreadsheet_row"]) == [5, 7, 8]
    assert list(rejected["event_id_cnty"]) == [events[i][col["event_id_cnty"]] for i in (2, 4, 5)]


def test_acled_hdx_encoding_error_counts_the_hashtag_row(tmp_path: Path) -> None:
    src = shared_file("conflict_data_arm_syunik.csv")
    header, hxl, events = csv_records(src)
    events = [list(e) for e in events[:4]]
    col = {name: i for i, name in enumerate(header)}
    events[1][col["location"]] = "Agarak Café"  # second event; the file is written as Latin-1
    assert all(ord(c) < 128 for e in events for c in "".join(e) if c != "é")  # é is the only non-ASCII
    path = tmp_path / "hdx_latin1.csv"
    with path.open("w", newline="", encoding="latin-1", errors="replace") as f:
        csv.writer(f).writerows([header, hxl, *events])
    data = path.read_bytes()
    with pytest.raises(UnicodeError) as exc:
        read_incidents(path)
    (problem,) = exc.value.problems
    assert (problem.row, problem.column) == (2, "location")
    assert f"byte offset {data.index('é'.encode('latin-1'))}" in problem.message
    assert "[spreadsheet row 4]" in problem.message
    assert read_incidents(path, encoding="latin-1")["place_name"].iloc[1] == "Agarak Café"


def test_acled_in_another_format_is_recognised(tmp_path: Path) -> None:
    src = shared_file("conflict_data_arm_syunik.csv")
    header, _, events = csv_records(src)
    df = pd.DataFrame(events, columns=header)
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["longitude"].astype(float), df["latitude"].astype(float)), crs=4326
    )
    path = tmp_path / "acled.gpkg"
    pyogrio.write_dataframe(gdf, path)
    result = read_incidents(path)
    assert len(result) == len(events)
    assert result.attrs["borderkit"]["export"] == "acled"
    assert list(result["incident_id"]) == list(df["event_id_cnty"])


# ---------------------------------------------------------------------------
# hand-made ACLED rows (non-HDX, website date format)
# ---------------------------------------------------------------------------

ACLED_HEADER = [
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "actor2",
    "assoc_actor_2",
    "admin1",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "fatalities",
]


def acled_row(i: int, **change: str) -> dict[str, str]:
    row = {
        "event_id_cnty": f"ARM{9000 + i}",
        "event_date": "05 December 2020",
        "year": "2020",
        "time_precision": "1",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": "Military Forces of Armenia (2018-)",
        "assoc_actor_1": "",
        "actor2": "Military Forces of Azerbaijan (2003-)",
        "assoc_actor_2": "",
        "admin1": "Syunik",
        "location": "Tegh",
        "latitude": "39.5597",
        "longitude": "46.4797",
        "geo_precision": "2",
        "source": "Armenpress; Caucasian Knot",
        "notes": "Exchange of fire near Tegh.",
        "fatalities": "0",
    }
    row.update(change)
    return row


def write_acled(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=ACLED_HEADER)
        w.writeheader()
        w.writerows(rows)
    return path


def test_acled_mapping_by_hand(tmp_path: Path) -> None:
    path = write_acled(
        tmp_path / "acled.csv",
        [
            acled_row(1),
            acled_row(
                2, event_date="2020-11-30", time_precision="2", geo_precision="1", assoc_actor_1="Police"
            ),
            acled_row(3, event_date="15-10-2020", time_precision="3", geo_precision="3", source="News.am"),
        ],
    )
    gdf = read_incidents(path)
    assert list(gdf["incident_id"]) == ["ARM9001", "ARM9002", "ARM9003"]
    assert list(gdf["date"]) == [
        pd.Timestamp(2020, 12, 5),
        pd.Timestamp(2020, 11, 30),
        pd.Timestamp(2020, 10, 15),
    ]
    assert list(gdf["date_precision"]) == ["day", "week", "month"]
    assert list(gdf["precision_m"]) == [15_000.0, 2_000.0, 50_000.0]
    assert gdf["type"].iloc[0] == "Battles: Armed clash"
    assert (
        gdf["actors"].iloc[0] == "Military Forces of Armenia (2018-); Military Forces of Azerbaijan (2003-)"
    )
    assert (
        gdf["actors"].iloc[1]
        == "Military Forces of Armenia (2018-); Police; Military Forces of Azerbaijan (2003-)"
    )
    assert gdf["place_name"].iloc[0] == "Tegh" and gdf["description"].iloc[0] == "Exchange of fire near Tegh."
    assert gdf["sources"].iloc[0] == [
        {"publication": "Armenpress", "title": "", "date": "", "url": ""},
        {"publication": "Caucasian Knot", "title": "", "date": "", "url": ""},
    ]
    assert list(gdf["reported_claims"]) == ["", "", ""]
    assert gdf["fatalities"].iloc[0] == "0"  # a column borderkit does not use is kept
    assert gdf.geometry.iloc[0].equals(shapely.Point(46.4797, 39.5597))


def test_acled_bad_codes_are_named_by_acled_column(tmp_path: Path) -> None:
    path = write_acled(
        tmp_path / "acled.csv",
        [
            acled_row(1),
            acled_row(2, geo_precision="4"),
            acled_row(3, time_precision=""),
            acled_row(4, event_date="31/12/2020"),
            acled_row(5, event_id_cnty="ARM9001"),
            acled_row(6, source=""),
        ],
    )
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    found = sorted((p.row, p.column) for p in exc.value.problems)
    assert found == [
        (1, "event_id_cnty"),
        (2, "geo_precision"),
        (3, "time_precision"),
        (4, "event_date"),
        (5, "event_id_cnty"),
        (6, "source"),
    ]
    assert all(str(path) in str(p) for p in exc.value.problems)


def test_acled_file_read_as_places_points_to_read_incidents(tmp_path: Path) -> None:
    path = write_acled(tmp_path / "acled.csv", [acled_row(1)])
    with pytest.raises(ValidationError, match="read it with read_incidents"):
        read_places(path)


# ---------------------------------------------------------------------------
# UCDP GED
# ---------------------------------------------------------------------------


def test_ucdp_ged_fixture_loads() -> None:
    path = DATA / "ucdp_ged_sample.csv"
    with path.open(newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    header, events = records[0], records[1:]
    col = {name: i for i, name in enumerate(header)}
    gdf = read_incidents(path)
    assert len(gdf) == len(events) == 4
    assert gdf.attrs["borderkit"]["export"] == "ucdp-ged"
    assert list(gdf["incident_id"]) == [e[col["id"]] for e in events]
    assert list(gdf["precision_m"]) == [UCDP_WHERE_M[e[col["where_prec"]]] for e in events]
    assert list(gdf["date_precision"]) == [UCDP_DATE[e[col["date_prec"]]] for e in events]
    assert list(gdf["date"]) == [pd.Timestamp(e[col["date_start"]][:10]) for e in events]
    assert list(gdf["date_end"]) == [pd.Timestamp(e[col["date_end"]][:10]) for e in events]
    assert list(gdf["type"]) == ["state-based conflict"] * 3 + ["one-sided violence"]
    assert gdf["actors"].iloc[0] == "Government of Armenia; Government of Azerbaijan"
    assert gdf["place_name"].iloc[0] == "Movses village"
    assert gdf["sources"].iloc[0] == [
        {"publication": "Agency A", "title": "Clashes on the border", "date": "2020-07-13", "url": ""},
        {"publication": "Agency B", "title": "Fighting near Movses", "date": "2020-07-13", "url": ""},
    ]
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    np.testing.assert_array_equal(
        coords, [[float(e[col["longitude"]]), float(e[col["latitude"]])] for e in events]
    )
    # originals kept; UCDP's date_end would clash with the schema's, so it is prefixed
    assert list(gdf["ucdp_date_end"]) == [e[col["date_end"]] for e in events]
    for name in header:
        if name != "date_end":
            assert list(gdf[name]) == [e[col[name]] for e in events], name


def test_ucdp_bad_precision_code(tmp_path: Path) -> None:
    text = (DATA / "ucdp_ged_sample.csv").read_text(encoding="utf-8")
    with (DATA / "ucdp_ged_sample.csv").open(newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    i = records[0].index("where_prec")
    records[2][i] = "9"
    path = tmp_path / "ged.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(records)
    assert text  # the fixture itself is untouched
    with pytest.raises(ValidationError) as exc:
        read_incidents(path)
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "where_prec")]
    assert "'9' is not a where_prec code" in str(exc.value)


# ---------------------------------------------------------------------------
# the tables themselves
# ---------------------------------------------------------------------------


def test_precision_tables_match_the_documentation() -> None:
    assert dict(ACLED_GEO_PRECISION_M) == {int(k): v for k, v in ACLED_GEO_M.items()}
    assert dict(ACLED_TIME_PRECISION) == {int(k): v for k, v in ACLED_TIME.items()}
    assert dict(UCDP_WHERE_PREC_M) == {int(k): v for k, v in UCDP_WHERE_M.items()}
    assert dict(UCDP_DATE_PREC) == {int(k): v for k, v in UCDP_DATE.items()}
    doc = (REPO / "docs" / "precision-codes.md").read_text(encoding="utf-8")
    for table in (ACLED_GEO_M, UCDP_WHERE_M):
        for metres in table.values():
            assert f"**{metres:,.0f} m**" in doc
    with pytest.raises(TypeError):
        ACLED_GEO_PRECISION_M[1] = 1.0  # type: ignore[index]


def test_recognisers() -> None:
    assert is_acled(["event_id_cnty", "event_date", "latitude", "longitude", "geo_precision", "x"])
    assert is_acled(["EVENT_ID_CNTY", "EVENT_DATE", "LATITUDE", "LONGITUDE", "GEO_PRECISION"])
    assert not is_acled(["event_id_cnty", "latitude", "longitude"])
    assert is_ucdp_ged(["id", "date_start", "date_end", "latitude", "longitude", "where_prec"])
    assert not is_ucdp_ged(["id", "latitude", "longitude"])
