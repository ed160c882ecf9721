"""Generate borderkit's corpus of bad (and tricky but valid) input files.

Usage::

    python tests/data/make_bad_inputs.py            # small cases -> tests/data/bad/
    python tests/data/make_bad_inputs.py OUT_DIR     # small cases -> OUT_DIR

Every case is one file and one entry of ``manifest.json`` saying what a user
must get from it:

``file``            file name in the corpus folder
``kind``            layer kind to read it as (what ``--kind`` would say)
``auto``            True when ``borderkit validate FILE`` without ``--kind``
                    must tell the same kind (False: the columns cannot tell)
``exit``            exit code of ``borderkit validate`` (0 valid, 1 invalid data)
``error``           error class raised with ``errors="raise"`` (None: loads)
``message``         substring of the one-line message the user must see
``row``, ``column`` where the problem is (None for problems of the whole file)
``rows_in``         data rows in the file (None when the file cannot be read)
``rows_out``        rows a reader returns with ``errors="collect"``
``rows_rejected``   rows in ``rejected`` with ``errors="collect"``
``large``           True for cases built at test time (:func:`make_large`):
                    too big to commit (20,000 rows, a zip bomb, 1M vertices)
``why``             what the case is about

The manifest is meant to be reused for every command that reads files
(``validate``, ``check``, ``map``, ``convert``): each must give the same
one-line message and exit code.

Output is deterministic: fixed content, fixed zip timestamps, and the .dbf
header's "last update" date pinned, so rerunning the script changes no byte.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "bad"

INCIDENT_HEADER = "incident_id,date,date_precision,type,description,place_name,latitude,longitude,precision_m,sources"
SRC = "https://example.org/report"
PLACE_HEADER = "place_id,kind,name_en,latitude,longitude"
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def _incident(i: str, *, date: str = "2021-05-12", lat: str = "39.9", lon: str = "45.7", prec: str = "2000") -> str:
    return f"{i},{date},day,exchange of fire,shots reported,Sotk,{lat},{lon},{prec},{SRC}"


def _case(file: str, kind: str, **kw: Any) -> dict[str, Any]:
    entry = {
        "file": file,
        "kind": kind,
        "auto": True,
        "exit": 1,
        "error": "ValidationError",
        "message": "",
        "row": None,
        "column": None,
        "rows_in": None,
        "rows_out": None,
        "rows_rejected": None,
        "large": False,
        "why": "",
    }
    entry.update(kw)
    return entry


def _write(out: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> None:
    path = out / name
    if isinstance(data, str):
        data = data.encode(encoding)
    path.write_bytes(data)


def _feature_collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)


def _line(props: dict[str, Any], coords: list[list[float]]) -> dict[str, Any]:
    base = {
        "line_id": "l1",
        "name": "test line",
        "source": "survey",
        "source_version": "1",
        "source_date": "2020-01-01",
        "scale_or_accuracy_m": 50,
        "licence": "CC-BY-4.0",
        "attribution": "",
        "left_party": "ARM",
        "right_party": "AZE",
        "claimant": "cartographic",
    }
    base.update(props)
    return {"type": "Feature", "properties": base, "geometry": {"type": "LineString", "coordinates": coords}}


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def _cp1251_shapefile_members(folder: str) -> dict[str, bytes]:
    """A places shapefile whose .dbf holds Windows-1251 text and no .cpg (as old GIS exports do)."""
    import tempfile

    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame(
        {
            "place_id": ["p1", "p2"],
            "kind": ["village", "town"],
            "name_en": ["Tegh", "Goris"],
            "name_ru": ["Тех", "Горис"],
        },
        geometry=[shapely.Point(46.4806, 39.5589), shapely.Point(46.3398, 39.5111)],
        crs="EPSG:4326",
    )
    members: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "places.shp"
        gdf.to_file(shp, engine="pyogrio", encoding="cp1251")
        for f in sorted(Path(tmp).iterdir()):
            if f.suffix.lower() == ".cpg":
                continue  # the point of the case: nothing declares the encoding
            data = bytearray(f.read_bytes())
            if f.suffix.lower() == ".dbf":
                data[1:4] = bytes([124, 1, 1])  # pin "last update" (2024-01-01); keep LDID 0
                data[29] = 0
            members[f"{folder}/{f.name}"] = bytes(data)
    return members


def make_small(out: Path = DEFAULT_OUT) -> list[dict[str, Any]]:
    """Write the small cases into ``out``; return their manifest entries."""
    out.mkdir(parents=True, exist_ok=True)
    cases: list[dict[str, Any]] = []
    inc = INCIDENT_HEADER + "\n"

    # -- loads correctly ---------------------------------------------------------
    _write(
        out,
        "historical_dates.csv",
        inc
        + "\n".join(
            [
                _incident("h1", date="1828-02-10"),  # Treaty of Turkmenchay
                _incident("h2", date="1500-01-01"),
                _incident("h3", date="9999-12-31"),
            ]
        )
        + "\n",
    )
    cases.append(
        _case(
            "historical_dates.csv",
            "incidents",
            exit=0,
            error=None,
            rows_in=3,
            rows_out=3,
            rows_rejected=0,
            why="dates outside pandas' nanosecond range load as they are",
        )
    )
    _write(out, "semicolon_utf16.csv", (inc + _incident("s1") + "\n").replace(",", ";"), encoding="utf-16")
    cases.append(
        _case(
            "semicolon_utf16.csv",
            "incidents",
            exit=0,
            error=None,
            rows_in=1,
            rows_out=1,
            rows_rejected=0,
            why="UTF-16 with BOM and ';' as delimiter",
        )
    )
    payload = '"{{7*7}} {% raw %} <script>alert(1)</script> {{ lipsum.__globals__ }}"'
    _write(out, "template_payload.csv", inc + _incident("t1").replace("shots reported", payload) + "\n")
    cases.append(
        _case(
            "template_payload.csv",
            "incidents",
            exit=0,
            error=None,
            rows_in=1,
            rows_out=1,
            rows_rejected=0,
            why="template/HTML text is data: loads literally",
        )
    )
    kml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n'
        '<Placemark><name>Tegh</name><ExtendedData><Data name="place_id"><value>p1</value></Data>'
        '<Data name="kind"><value>village</value></Data></ExtendedData>'
        "<Point><coordinates>46.4806,39.5589</coordinates></Point></Placemark>\n"
        '<Placemark><name>Unlocated</name><ExtendedData><Data name="place_id"><value>p2</value></Data>'
        '<Data name="kind"><value>village</value></Data></ExtendedData>'
        "<Point><coordinates></coordinates></Point></Placemark>\n</Document></kml>\n"
    )
    _write(out, "kml_empty_coordinates_place.kml", kml)
    cases.append(
        _case(
            "kml_empty_coordinates_place.kml",
            "places",
            exit=0,
            error=None,
            rows_in=2,
            rows_out=2,
            rows_rejected=0,
            why="empty <coordinates> is an unlocated place, not POINT (0 0)",
        )
    )
    _zip(out / "kml_empty_coordinates_place.kmz", {"doc.kml": kml.encode("utf-8")})
    cases.append(
        _case(
            "kml_empty_coordinates_place.kmz",
            "places",
            exit=0,
            error=None,
            rows_in=2,
            rows_out=2,
            rows_rejected=0,
            why="the same inside a KMZ (a zip, size-checked before GDAL inflates it)",
        )
    )
    _zip(out / "shapefile_cp1251_in_folder.zip", _cp1251_shapefile_members("export"))
    cases.append(
        _case(
            "shapefile_cp1251_in_folder.zip",
            "places",
            exit=0,
            error=None,
            rows_in=2,
            rows_out=2,
            rows_rejected=0,
            message="read as Windows-1251 (Cyrillic) by a guess",
            why="shapefile in a folder of a zip, cp1251 .dbf without .cpg: loads, with a warning",
        )
    )

    # -- one bad row ---------------------------------------------------------------
    def one_row(
        name: str,
        rows: list[str],
        *,
        row: int,
        column: str,
        message: str,
        why: str,
        kind: str = "incidents",
        header: str = INCIDENT_HEADER,
    ) -> None:
        _write(out, name, header + "\n" + "\n".join(rows) + "\n")
        cases.append(
            _case(
                name,
                kind,
                row=row,
                column=column,
                message=message,
                rows_in=len(rows),
                rows_out=len(rows) - 1,
                rows_rejected=1,
                why=why,
            )
        )

    one_row(
        "precision_inf.csv",
        [_incident("a1"), _incident("a2", prec="inf")],
        row=2,
        column="precision_m",
        message="is not a finite number",
        why="precision_m inf would show as '± 0 m'",
    )
    one_row(
        "precision_1e400.csv",
        [_incident("a1", prec="1e400"), _incident("a2")],
        row=1,
        column="precision_m",
        message="is not a finite number",
        why="1e400 overflows to inf",
    )
    one_row(
        "latitude_text.csv",
        [_incident("a1"), _incident("a2", lat="39°55'N")],
        row=2,
        column="latitude",
        message="convert degrees/minutes/seconds",
        why="DMS instead of decimal degrees",
    )
    one_row(
        "longitude_out_of_range.csv",
        [_incident("a1", lon="200.5"), _incident("a2")],
        row=1,
        column="longitude",
        message="longitude 200.5 is outside -180…180",
        why="out of range",
    )
    one_row(
        "null_island.csv",
        [_incident("a1"), _incident("a2", lat="0", lon="0")],
        row=2,
        column="latitude",
        message="(0, 0)",
        why="a missing location exported as zeros",
    )
    one_row(
        "swapped_lat_lon.csv",
        [_incident("a1"), _incident("a2", lat="45.7", lon="39.9")],
        row=2,
        column="latitude",
        message="latitude and longitude are swapped",
        why="a point swapped into Russia",
    )
    one_row(
        "bad_date.csv",
        [_incident("a1", date="12/05/2021x"), _incident("a2")],
        row=1,
        column="date",
        message="is not a date",
        why="unparseable date",
    )
    one_row(
        "javascript_url.csv",
        [_incident("a1"), _incident("a2").replace(SRC, "javascript:alert(1)")],
        row=2,
        column="sources",
        message="is not an http(s) link",
        why="only http(s) links",
    )
    one_row(
        "date_end_before_date.csv",
        [
            "e1,2021-05-12,2021-05-01,day,t,d,Sotk,39.9,45.7,2000," + SRC,
            "e2,2021-05-12,,day,t,d,Sotk,39.9,45.7,2000," + SRC,
        ],
        header=INCIDENT_HEADER.replace("date,", "date,date_end,", 1),
        row=1,
        column="date_end",
        message="is before date",
        why="date_end before date",
    )
    _write(out, "duplicate_id_small.csv", inc + "\n".join([_incident("d1"), _incident("d2"), _incident("d1")]) + "\n")
    cases.append(
        _case(
            "duplicate_id_small.csv",
            "incidents",
            row=1,
            column="incident_id",
            message="duplicate id 'd1': used by rows 1, 3",
            rows_in=3,
            rows_out=1,
            rows_rejected=2,
            why="ids must be unique (two rows rejected, one message each)",
        )
    )

    one_row(
        "projected_coordinates.csv",
        [_incident("a1"), _incident("a2", lat="4413000", lon="447000")],
        row=2,
        column="latitude",
        message="look like a projected CRS in metres",
        why="UTM metres in latitude/longitude columns",
    )
    one_row(
        "extra_field.csv",
        [_incident("a1"), _incident("a2").replace("Sotk", "Sotk, Gegharkunik")],
        row=2,
        column=None,
        message="quote values that contain the delimiter ','",
        why="an unquoted comma shifts the columns",
    )
    _write(
        out,
        "polygon_as_incident.geojson",
        _feature_collection(
            [
                {
                    "type": "Feature",
                    "properties": dict(
                        zip(INCIDENT_HEADER.split(","), _incident("g1").split(","), strict=True),
                        precision_m=2000,
                    ),
                    "geometry": {"type": "Polygon", "coordinates": [[[45, 40], [45.1, 40], [45.1, 40.1], [45, 40]]]},
                }
            ]
        ),
    )
    cases.append(
        _case(
            "polygon_as_incident.geojson",
            "incidents",
            row=1,
            column="geometry",
            message="geometry is a Polygon, but an incidents layer takes Point",
            rows_in=1,
            rows_out=0,
            rows_rejected=1,
            why="wrong geometry type",
        )
    )

    # -- lines ------------------------------------------------------------------------
    _write(
        out,
        "same_party_both_sides.geojson",
        _feature_collection(
            [
                _line({"line_id": "l1"}, [[45.0, 40.0], [45.1, 40.1]]),
                _line({"line_id": "l2", "left_party": "ARM", "right_party": "arm"}, [[45.0, 40.0], [45.1, 40.1]]),
            ]
        ),
    )
    cases.append(
        _case(
            "same_party_both_sides.geojson",
            "lines",
            row=2,
            column="right_party",
            message="left_party and right_party are both 'ARM'",
            rows_in=2,
            rows_out=1,
            rows_rejected=1,
            why="a boundary separates two different parties",
        )
    )
    _write(
        out,
        "spike_4400km.geojson",
        _feature_collection(
            [
                _line({"line_id": "l1"}, [[45.0, 40.0], [45.1, 40.1], [85.0, 20.0], [45.2, 40.2], [45.3, 40.3]]),
            ]
        ),
    )
    cases.append(
        _case(
            "spike_4400km.geojson",
            "lines",
            row=1,
            column="geometry",
            message="is a spike",
            rows_in=1,
            rows_out=0,
            rows_rejected=1,
            why="one vertex 4,400 km away",
        )
    )
    _write(
        out,
        "self_crossing.geojson",
        _feature_collection(
            [
                _line({"line_id": "l1"}, [[45.0, 40.0], [45.2, 40.2], [45.2, 40.0], [45.0, 40.2]]),
            ]
        ),
    )
    cases.append(
        _case(
            "self_crossing.geojson",
            "lines",
            row=1,
            column="geometry",
            message="the line crosses itself at (45.1, 40.1)",
            rows_in=1,
            rows_out=0,
            rows_rejected=1,
            why="self-intersection, located",
        )
    )

    # -- whole-file problems ------------------------------------------------------------
    def whole(
        name: str,
        data: str | bytes,
        *,
        kind: str,
        message: str,
        error: str,
        why: str,
        auto: bool = True,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        _write(out, name, data)
        cases.append(_case(name, kind, message=message, error=error, why=why, auto=auto, row=row, column=column))

    whole(
        "empty.csv",
        b"",
        kind="incidents",
        message="the file is empty",
        error="EmptyFileError",
        auto=False,
        why="0 bytes",
    )
    whole(
        "header_only.csv",
        inc,
        kind="incidents",
        message="header but no data rows",
        error="EmptyFileError",
        why="no rows",
    )
    whole(
        "truncated_quote.csv",
        inc + _incident("a1") + '\na2,2021-05-12,day,"never closed\n',
        kind="incidents",
        message="a quoted value never ends",
        error="FileFormatError",
        row=2,
        why="truncated file",
    )
    whole(
        "cp1251_text.csv",
        (inc + _incident("a1").replace("Sotk", "Сотк") + "\n").encode("cp1251"),
        kind="incidents",
        message="pass encoding='cp1251'",
        error="EncodingError",
        row=1,
        column="place_name",
        why="Windows-1251 bytes without encoding=",
    )
    whole(
        "misspelt_id_column.csv",
        inc.replace("incident_id", "incident_idd") + _incident("a1") + "\n",
        kind="incidents",
        message="(is 'incident_idd' meant to be it? rename it)",
        error="ValidationError",
        column="incident_id",
        why="a typo in the id column: the reader's own message, not 'pass --kind'",
    )
    whole(
        "truncated.geojson",
        _feature_collection([_line({}, [[45.0, 40.0], [45.1, 40.1]])])[:-40],
        kind="lines",
        message="cannot open the file as a GIS dataset",
        error="FileFormatError",
        auto=False,
        why="cut-off JSON",
    )
    whole(
        "latin1.geojson",
        _feature_collection([_line({"name": "Fluß"}, [[45.0, 40.0], [45.1, 40.1]])]).encode("latin-1"),
        kind="lines",
        message="is not valid UTF-8 text",
        error="EncodingError",
        why="GeoJSON must be UTF-8 (RFC 7946)",
    )
    whole(
        "truncated.kml",
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>A</name><Point><coordinates>46.1,39.5",
        kind="places",
        message="cannot open the file as a GIS dataset",
        error="FileFormatError",
        auto=False,
        why="cut-off XML",
    )
    _zip(out / "corrupt.zip", {"places.csv": (PLACE_HEADER + "\np1,village,Tegh,39.5589,46.4806\n").encode()})
    data = (out / "corrupt.zip").read_bytes()
    (out / "corrupt.zip").write_bytes(data[: len(data) // 2])
    cases.append(
        _case(
            "corrupt.zip",
            "places",
            message="truncated or corrupt",
            error="FileFormatError",
            auto=False,
            why="half a zip",
        )
    )

    (out / "manifest.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return cases


def make_large(out: Path) -> list[dict[str, Any]]:
    """Build the large cases in ``out`` (a temporary folder); return their manifest entries.

    Never committed: 20,000 rows of one id, a zip of about 1 MB that inflates to
    300 MB, and a self-crossing line of 1,000,000 vertices.
    """
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    cases = []
    n = 20_000
    _write(out, "duplicate_id_20k.csv", INCIDENT_HEADER + "\n" + (_incident("same") + "\n") * n)
    cases.append(
        _case(
            "duplicate_id_20k.csv",
            "incidents",
            row=1,
            column="incident_id",
            message=f"duplicate id 'same': used by rows 1, 2, 3, 4, 5 … ({n} rows in all)",
            rows_in=n,
            rows_out=0,
            rows_rejected=n,
            large=True,
            why="validate took 85 s, 10 GB and printed 2.6 GB",
        )
    )
    with zipfile.ZipFile(out / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        info = zipfile.ZipInfo("incidents.csv", date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            f.write((INCIDENT_HEADER + "\n").encode())
            row = (_incident("z") + "\n").encode()
            block = row * (2**20 // len(row))
            for _ in range(300):
                f.write(block)
    cases.append(
        _case(
            "zip_bomb.zip",
            "incidents",
            message="BORDERKIT_MAX_INPUT_MB",
            error="InputTooLargeError",
            large=True,
            why="a small zip holding a 300 MB CSV (MemoryError before)",
        )
    )
    m = 1_000_000
    t = np.linspace(0.0, 1.0, m)
    x = 45.0 + 0.5 * t + 0.0005 * np.sin(t * 2000)
    y = 40.0 + 0.001 * np.cos(t * 3000)
    # the last 1,000 vertices run back west across the line
    x[-1000:] = np.linspace(45.5, 45.2, 1000)
    y[-1000:] = np.linspace(40.0, 40.02, 1000) - 0.01
    coords = np.round(np.column_stack([x, y]), 7).tolist()
    _write(out, "self_crossing_1m.geojson", _feature_collection([_line({}, coords)]))
    cases.append(
        _case(
            "self_crossing_1m.geojson",
            "lines",
            row=1,
            column="geometry",
            message="the line crosses itself at",
            rows_in=1,
            rows_out=0,
            rows_rejected=1,
            large=True,
            why="validation took 81 s and 4.3 GB",
        )
    )
    return cases


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    made = make_small(target)
    print(f"{len(made)} cases written to {target}")
