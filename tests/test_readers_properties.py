"""Property-based tests of the readers: any text in any field of one row never crashes
and never changes another row.

A file holds a fixed "witness" row and a row whose every field is arbitrary
text (hypothesis). Whatever the text, the reader either succeeds or raises a
:class:`~borderkit.errors.ValidationError` (never another exception), with
``errors="collect"`` every row is either returned or rejected, and the
witness row comes back with exactly the values written.
"""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from borderkit.errors import ValidationError
from borderkit.io import read_layer

# any Unicode text a UTF-8 file can hold (lone surrogates cannot be encoded)
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

INCIDENT_COLUMNS = [
    "incident_id",
    "date",
    "date_precision",
    "type",
    "description",
    "actors",
    "place_name",
    "latitude",
    "longitude",
    "precision_m",
    "sources",
]
WITNESS_INCIDENT = {
    "incident_id": "witness-1",
    "date": "2021-05-12",
    "date_precision": "day",
    "type": "exchange of fire",
    "description": 'Shots near Sotk, "quoted", with; delimiters',
    "actors": "A; B",
    "place_name": "Սոթք",
    "latitude": "39.9",
    "longitude": "45.7",
    "precision_m": "2000",
    "sources": "https://example.org/report",
}

PLACE_PROPS = ["place_id", "kind", "name_en", "name_hy", "name_az", "name_ru", "elevation_m", "notes"]
WITNESS_PLACE = {
    "place_id": "witness-1",
    "kind": "village",
    "name_en": "Tegh",
    "name_hy": "Տեղ",
    "name_az": "Təx",
    "name_ru": "Тех",
    "elevation_m": 1380.0,
    "notes": "",
}


def _read_both(path, kind):
    """Read in both modes; only the ValidationError family may escape."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read_layer(path, kind)
        except ValidationError:
            pass
        try:
            return read_layer(path, kind, errors="collect")
        except ValidationError:
            return None


@SETTINGS
@given(values=st.fixed_dictionaries({c: TEXT for c in INCIDENT_COLUMNS}), witness_first=st.booleans())
def test_any_text_in_a_csv_incident_row(tmp_path, values, witness_first):
    assume(values["incident_id"].strip() != WITNESS_INCIDENT["incident_id"])
    buf = io.StringIO()
    # csv's default "\r\n" terminator makes the writer quote values holding
    # "\r" or "\n" (with "\n" alone a bare "\r" would really end the record)
    w = csv.writer(buf)
    w.writerow(INCIDENT_COLUMNS)
    rows = [WITNESS_INCIDENT, values] if witness_first else [values, WITNESS_INCIDENT]
    for r in rows:
        w.writerow([r[c] for c in INCIDENT_COLUMNS])
    path = tmp_path / "incidents.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    result = _read_both(path, "incidents")
    assert result is not None  # the header and the witness are fine: no problem of the whole file
    good, rejected = result
    witness = good[good["incident_id"] == "witness-1"]
    assert len(witness) == 1
    row = witness.iloc[0]
    for col in ("type", "description", "actors", "place_name", "date_precision"):
        assert row[col] == WITNESS_INCIDENT[col]
    assert str(row["date"].date()) == "2021-05-12"
    assert row["precision_m"] == 2000.0
    assert (row.geometry.x, row.geometry.y) == (45.7, 39.9)
    assert row["sources"] == [{"publication": "", "title": "", "date": "", "url": "https://example.org/report"}]
    # every data row is accounted for: returned or rejected, never dropped
    blank = all(not str(v).strip() for v in values.values())
    assert len(good) + len(rejected) == (1 if blank else 2)


@SETTINGS
@given(values=st.fixed_dictionaries({c: TEXT for c in PLACE_PROPS}))
def test_any_text_in_a_geojson_place(tmp_path, values):
    assume(values["place_id"].strip() != WITNESS_PLACE["place_id"])

    def feature(props, lon, lat):
        return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}}

    doc = {
        "type": "FeatureCollection",
        "features": [feature(WITNESS_PLACE, 46.4806, 39.5589), feature(values, 46.3398, 39.5111)],
    }
    path = tmp_path / "places.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = _read_both(path, "places")
    assert result is not None  # the file itself is always fine: only row 2 can be wrong
    good, rejected = result
    assert len(good) + len(rejected) == 2
    witness = good[good["place_id"] == "witness-1"]
    assert len(witness) == 1
    row = witness.iloc[0]
    for col in ("kind", "name_en", "name_hy", "name_az", "name_ru", "notes"):
        assert row[col] == WITNESS_PLACE[col]
    assert row["elevation_m"] == 1380.0
    assert (row.geometry.x, row.geometry.y) == (46.4806, 39.5589)
    if len(rejected):
        assert list(rejected["row"]) == [2]


@pytest.mark.parametrize("text", ["{{7*7}}", "{% raw %}", "=cmd|' /C calc'!A0", "\x00", "\u202e", "a\r\nb"])
def test_known_nasty_text_stays_literal(tmp_path, text):
    values = dict(WITNESS_INCIDENT, incident_id="nasty", description=text)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(INCIDENT_COLUMNS)
    w.writerow([values[c] for c in INCIDENT_COLUMNS])
    path = tmp_path / "incidents.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    gdf = read_layer(path, "incidents")
    assert gdf["description"].iloc[0] == text


PLACE_CSV_COLUMNS = ["place_id", "kind", "name_en", "name_ru", "elevation_m", "latitude", "longitude"]
WITNESS_PLACE_CSV = {
    "place_id": "witness-1",
    "kind": "village",
    "name_en": "Tegh",
    "name_ru": "Тех",
    "elevation_m": "1380",
    "latitude": "39.5589",
    "longitude": "46.4806",
}


@SETTINGS
@given(values=st.fixed_dictionaries({c: TEXT for c in PLACE_CSV_COLUMNS}))
def test_any_text_in_a_csv_place_row(tmp_path, values):
    assume(values["place_id"].strip() != "witness-1")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(PLACE_CSV_COLUMNS)
    for r in (values, WITNESS_PLACE_CSV):
        w.writerow([r[c] for c in PLACE_CSV_COLUMNS])
    path = tmp_path / "places.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    result = _read_both(path, "places")
    assert result is not None
    good, rejected = result
    blank = all(not str(v).strip() for v in values.values())
    assert len(good) + len(rejected) == (1 if blank else 2)
    row = good[good["place_id"] == "witness-1"].iloc[0]
    assert (row["kind"], row["name_en"], row["name_ru"], row["elevation_m"]) == ("village", "Tegh", "Тех", 1380.0)
    assert (row.geometry.x, row.geometry.y) == (46.4806, 39.5589)


@SETTINGS
@given(values=st.fixed_dictionaries({c: TEXT for c in INCIDENT_COLUMNS if c not in ("latitude", "longitude")}))
def test_any_text_in_a_geojson_incident(tmp_path, values):
    assume(values["incident_id"].strip() != "witness-1")
    witness = {k: v for k, v in WITNESS_INCIDENT.items() if k not in ("latitude", "longitude")}

    def feature(props, lon, lat):
        return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}}

    doc = {"type": "FeatureCollection", "features": [feature(values, 45.6, 39.8), feature(witness, 45.7, 39.9)]}
    path = tmp_path / "incidents.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = _read_both(path, "incidents")
    assert result is not None
    good, rejected = result
    assert len(good) + len(rejected) == 2
    row = good[good["incident_id"] == "witness-1"].iloc[0]
    for col in ("type", "description", "actors", "place_name", "date_precision"):
        assert row[col] == WITNESS_INCIDENT[col]
    assert str(row["date"].date()) == "2021-05-12"
    assert row["precision_m"] == 2000.0
    assert (row.geometry.x, row.geometry.y) == (45.7, 39.9)
    if len(rejected):
        assert list(rejected["row"]) == [1]
