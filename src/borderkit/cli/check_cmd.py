"""``borderkit check``: which side of each line source a point (or every point of a file) is on.

One point::

    borderkit check --lat 39.60 --lon 46.23 [--precision-m 500] [--source NAME ...] [--expect ARM] [--json]

A file (CSV of lat/lon with an optional ``precision_m`` column, an incidents file, or any
point layer GDAL reads; GeoParquet)::

    borderkit check FILE [-o OUT.csv|.geojson|.parquet] [--overwrite] [--expect ARM | --expect-column COL]

The JSON contract, the sign convention, the verdict rules and the result columns are in
``docs/check.md``. Imports are lazy so that one point answers in about a second.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

from borderkit.cli.options import check_output, echo_json, json_option, output_option, overwrite_option

_CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
_GEOJSON_SUFFIXES = (".geojson", ".json")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_PROGRESS_MIN_ROWS = 50_000
_PER_SOURCE = ("party", "distance_to_line_m", "signed_distance_m", "determinate", "margin_m")
_MM = ("distance_to_line_m", "signed_distance_m", "margin_m")  # written rounded to 1 mm


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--lat", type=float, default=None, metavar="DEG", help="Latitude of one point (degrees north).")
@click.option("--lon", type=float, default=None, metavar="DEG", help="Longitude of one point (degrees east).")
@click.option("--precision-m", type=float, default=None, metavar="M",
              help="Radius of the point's location uncertainty, metres (file: overrides the precision_m column).")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Line source(s) to check against (registry names; repeatable). Default: all.")
@click.option("--expect", default=None, metavar="CODE",
              help="ISO alpha-3 code of the party the point is reported in; adds a verdict.")
@click.option("--expect-column", default=None, metavar="COL",
              help="File mode: column holding each row's expected party (ISO alpha-3).")
@click.option("--combine", type=click.Choice(["sum", "rss"]), default="sum", show_default=True,
              help="How precision_m and the line's accuracy combine.")
@click.option("--method", type=click.Choice(["auto", "fast", "exact"]), default="auto", show_default=True,
              help="Engine (docs/check.md).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=200_000, show_default=True,
              help="File mode: rows processed at once.")
@output_option("File mode: write CSV, GeoJSON or GeoParquet (by suffix) instead of CSV to stdout.")
@overwrite_option
@json_option
@click.pass_context
def check(ctx: click.Context, file: Path | None, lat: float | None, lon: float | None, precision_m: float | None,
          sources: tuple[str, ...], expect: str | None, expect_column: str | None, combine: str, method: str,
          chunk_size: int, output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Which party's side of each line source is a point on, and is that certain?

    Give one point with --lat/--lon, or a FILE of points. For each line source the
    answer names the party (from the source's territories, else the side of its
    line), the geodesic distance to the line (metres, WGS84), a signed distance
    (positive on the --expect party's side, else on the first party's side in
    alphabetical order), the nearest point of the line, and whether the answer is
    determinate: the distance exceeds precision_m plus the line's accuracy. With
    --expect each source gives a verdict: inside, across or indeterminate.
    """
    if expect is not None:
        expect = expect.strip().upper()
    if file is None:
        if lat is None or lon is None:
            raise click.UsageError("give a FILE, or one point with both --lat and --lon")
        if output is not None or expect_column is not None:
            raise click.UsageError("-o/--output and --expect-column are for FILE mode")
        _check_point(lat, lon, precision_m, list(sources) or None, expect, combine, method, as_json)
        return
    if lat is not None or lon is not None:
        raise click.UsageError("give either a FILE or --lat/--lon, not both")
    if as_json:
        raise click.UsageError("--json is for one point; a FILE gives a table (CSV/GeoJSON/GeoParquet)")
    if expect is not None and expect_column is not None:
        raise click.UsageError("give --expect or --expect-column, not both")
    check_output(output, overwrite)
    if output is not None:
        _output_kind(output)  # refuse an unknown suffix before any work
    verbosity = (ctx.find_root().obj or {}).get("verbosity", 0)
    _check_file(file, output, precision_m, list(sources) or None, expect, expect_column, combine, method,
                chunk_size, quiet=verbosity < 0)


# =================================================================================================
# one point
# =================================================================================================
def _finite(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _party(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        import pandas as pd

        if v is pd.NA:
            return None
    except ImportError:  # pragma: no cover
        pass
    return str(v)


def point_json(results: Any, summary: Any, lat: float, lon: float, precision_m: float | None,
               expect: str | None, combine: str) -> dict[str, Any]:
    """The JSON document of one point (the contract of docs/check.md)."""
    rows = []
    for r in results.itertuples(index=False):
        party = _party(r.party)
        item: dict[str, Any] = {
            "source": str(r.source),
            "party": party,
            "parties": party.split(";") if party else [],
            "overlap": bool(r.overlap),
            "party_method": str(r.party_method),
            "line_party": _party(r.line_party),
            "section": str(r.section),
            "distance_to_line_m": float(r.distance_to_line_m),
            "signed_distance_m": float(r.signed_distance_m),
            "sign_reference": str(r.sign_reference),
            "nearest": {"lat": float(r.nearest_lat), "lon": float(r.nearest_lon)},
            "line_accuracy_m": float(r.line_accuracy_m),
            "uncertainty_m": float(r.uncertainty_m),
            "margin_m": float(r.margin_m),
            "determinate": bool(r.determinate),
            "method": str(r.method),
        }
        if expect is not None:
            item["verdict"] = str(r.verdict)
        rows.append(item)
    s = summary.iloc[0]
    doc: dict[str, Any] = {
        "point": {"lat": float(lat), "lon": float(lon)},
        "precision_m": _finite(None if precision_m is None else float(precision_m)),
        "combine": combine,
        "units": "m",
        "results": rows,
        "summary": {
            "sources_agree": bool(s["sources_agree"]),
            "parties": {item["source"]: item["party"] for item in rows},
            "determinate_all": bool(s["determinate_all"]),
            "min_margin_m": float(s["min_margin_m"]),
        },
        "method": results.attrs.get("method", ""),
    }
    if expect is not None:
        doc["expect"] = expect
        doc["verdict"] = str(s["verdict"])
    return doc


def _check_point(lat: float, lon: float, precision_m: float | None, sources: list[str] | None, expect: str | None,
                 combine: str, method: str, as_json: bool) -> None:
    import numpy as np

    from borderkit.locate import check, locate, summarize

    pts = (np.array([lon]), np.array([lat]))
    if expect is not None:
        res = check(pts, expect=expect, precision_m=precision_m, sources=sources, method=method, combine=combine)
        results, summary = res.results, res.summary
    else:
        results = locate(pts, precision_m=precision_m, sources=sources, method=method, combine=combine)
        summary = summarize(results)
    doc = point_json(results, summary, lat, lon, precision_m, expect, combine)
    if as_json:
        echo_json(doc)
        return
    _print_table(doc)


def _fmt_m(v: float, signed: bool = False) -> str:
    if abs(v) >= 10_000:
        text = f"{v / 1000:{'+' if signed else ''},.1f} km"
    else:
        text = f"{v:{'+' if signed else ''},.0f} m"
    return text


def _print_table(doc: dict[str, Any]) -> None:
    p = doc["point"]
    prec = doc["precision_m"]
    click.echo(
        f"Point {p['lat']:.5f} N, {p['lon']:.5f} E; location precision "
        f"{'not given (0 m)' if prec is None else _fmt_m(prec)}; uncertainty = precision "
        f"{'+' if doc['combine'] == 'sum' else '⊕'} line accuracy"
    )
    head = ["source", "party", "line side", "distance", "signed", "uncertainty", "margin", "determinate"]
    has_verdict = "verdict" in doc
    if has_verdict:
        head.append("verdict")
    rows = []
    for r in doc["results"]:
        row = [
            r["source"],
            (r["party"] or "-") + (" (overlap)" if r["overlap"] else ""),
            r["line_party"] or "on line",
            _fmt_m(r["distance_to_line_m"]),
            _fmt_m(r["signed_distance_m"], signed=True),
            _fmt_m(r["uncertainty_m"]),
            _fmt_m(r["margin_m"], signed=True),
            "yes" if r["determinate"] else "no",
        ]
        if has_verdict:
            row.append(r["verdict"])
        rows.append(row)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    s = doc["summary"]
    ref = doc["results"][0]["sign_reference"] if doc["results"] else ""
    agree = "yes" if s["sources_agree"] else "no"
    click.echo(f"signed distance > 0: on {ref}'s side of the line. Sources agree: {agree}.")
    if has_verdict:
        click.echo(f"Overall verdict (reported in {doc['expect']}): {doc['verdict']}")


# =================================================================================================
# a file
# =================================================================================================
def _output_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        return "csv"
    if suffix in _GEOJSON_SUFFIXES:
        return "geojson"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    raise click.UsageError(f"{path}: unknown output format {suffix!r}; use .csv, .geojson or .parquet")


def _progress(total: int | None, quiet: bool) -> Any:
    if quiet or (total is not None and total < _PROGRESS_MIN_ROWS):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit=" points", file=sys.stderr, mininterval=0.5, desc="borderkit check")


class _Reader:
    """Chunks of (frame with every input column, lon, lat, precision) from a file."""

    def __init__(self, path: Path, chunk_size: int) -> None:
        self.path = path
        self.chunk_size = chunk_size
        self.geo = None  # a GeoDataFrame for GIS inputs; None for a plain CSV
        self.total: int | None = None
        self.csv_lat = self.csv_lon = self.csv_prec = None
        self.sep = ","
        self._open()

    def _open(self) -> None:
        from borderkit.errors import ValidationError

        path = self.path
        if not path.exists():
            raise ValidationError(f"{path}: no such file")
        suffix = path.suffix.lower()
        if suffix in _CSV_SUFFIXES:
            header = _csv_header(path)
            from borderkit.schema import INCIDENTS

            if set(INCIDENTS.required) - {"geometry"} <= {h.strip() for h in header}:
                from borderkit.io import read_incidents

                self.geo = read_incidents(path)
            else:
                self._plain_csv(header)
                return
        elif suffix in _PARQUET_SUFFIXES:
            self.geo = _read_geo_parquet(path)
        else:
            self.geo = _read_gis(path)
        self.total = len(self.geo)

    def _plain_csv(self, header: list[str]) -> None:
        from borderkit.errors import ValidationError
        from borderkit.io._csv import LAT_NAMES, LON_NAMES, find_column

        self.csv_lat = find_column(header, LAT_NAMES)
        self.csv_lon = find_column(header, LON_NAMES)
        if self.csv_lat is None or self.csv_lon is None:
            raise ValidationError(
                f"{self.path}: no coordinates: the CSV needs latitude/lat/y and longitude/lon/lng/long/x columns "
                "(decimal degrees, WGS84), or the incident schema columns"
            )
        self.csv_prec = find_column(header, ("precision_m",))
        with open(self.path, "rb") as fh:
            self.total = max(0, sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) - 1)

    def chunks(self) -> Any:
        import numpy as np
        import pandas as pd

        if self.geo is not None:
            import shapely

            gdf = self.geo
            for a in range(0, len(gdf), self.chunk_size):
                part = gdf.iloc[a:a + self.chunk_size]
                geoms = np.asarray(part.geometry.values, dtype=object)
                prec = None
                if "precision_m" in part.columns:
                    prec = _coords(part["precision_m"], self.path, a, "precision_m", allow_empty=True)
                yield a, part, shapely.get_x(geoms), shapely.get_y(geoms), prec
            return
        try:
            reader = pd.read_csv(self.path, dtype=str, keep_default_na=False, chunksize=self.chunk_size,
                                 sep=None if self.path.suffix.lower() != ".csv" else ",", engine="python"
                                 if self.path.suffix.lower() != ".csv" else "c", encoding="utf-8")
            start = 0
            for part in reader:
                lon = _coords(part[self.csv_lon], self.path, start, self.csv_lon)
                lat = _coords(part[self.csv_lat], self.path, start, self.csv_lat)
                prec = None
                if self.csv_prec is not None:
                    prec = _coords(part[self.csv_prec], self.path, start, self.csv_prec, allow_empty=True)
                yield start, part, lon, lat, prec
                start += len(part)
        except UnicodeDecodeError as exc:
            from borderkit.errors import EncodingError

            raise EncodingError(f"{self.path}: not valid UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except pd.errors.ParserError as exc:
            from borderkit.errors import FileFormatError

            raise FileFormatError(f"{self.path}: cannot parse the CSV ({' '.join(str(exc).split())})") from None


def _csv_header(path: Path) -> list[str]:
    import csv

    from borderkit.errors import EmptyFileError, EncodingError

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError:
        raise EncodingError(f"{path}: not valid UTF-8 text; save it as UTF-8") from None
    if not first.strip():
        raise EmptyFileError(f"{path}: the file is empty (no header line)")
    delim = "\t" if "\t" in first and "," not in first else (";" if first.count(";") > first.count(",") else ",")
    return next(csv.reader([first], delimiter=delim))


def _coords(col: Any, path: Path, start: int, name: str, allow_empty: bool = False) -> Any:
    import numpy as np
    import pandas as pd

    from borderkit.errors import ValidationError

    text = col.astype(object).where(col.notna(), "").astype(str).str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ((text != "").to_numpy() | (not allow_empty))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{path}: row {start + i + 1} [spreadsheet row {start + i + 2}], column {name!r}: "
            f"{text.iloc[i]!r} is not a number (decimal degrees / metres, dot as decimal separator); "
            f"{int(bad.sum())} bad value(s) in this chunk"
        )
    return values


def _read_geo_parquet(path: Path) -> Any:
    from borderkit.errors import OptionalDependencyError, ValidationError

    try:
        import geopandas as gpd

        gdf = gpd.read_parquet(path)
    except ImportError as exc:
        raise OptionalDependencyError(f"reading {path} needs pyarrow: pip install 'borderkit[parquet]'") from exc
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise ValidationError(f"{path}: cannot read as GeoParquet ({' '.join(str(exc).split())})") from None
    return _points_layer(gdf, path)


def _read_gis(path: Path) -> Any:
    import geopandas as gpd

    from borderkit.errors import ValidationError

    try:
        import pyogrio

        fields = [str(f) for f in pyogrio.read_info(str(path))["fields"]]
    except Exception as exc:  # noqa: BLE001
        raise ValidationError(f"{path}: cannot read this file ({' '.join(str(exc).split())})") from None
    from borderkit.schema import INCIDENTS

    if set(INCIDENTS.required) - {"geometry"} <= set(fields):
        from borderkit.io import read_incidents

        return read_incidents(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001
        raise ValidationError(f"{path}: cannot read this file ({' '.join(str(exc).split())})") from None
    return _points_layer(gdf, path)


def _points_layer(gdf: Any, path: Path) -> Any:
    import numpy as np
    import shapely

    from borderkit.errors import CRSError, ValidationError

    if gdf.crs is None:
        if path.suffix.lower() in _GEOJSON_SUFFIXES:
            gdf = gdf.set_crs(4326)
        else:
            raise CRSError(f"{path}: the layer declares no CRS; save it with one (EPSG:4326)")
    elif gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | (shapely.get_type_id(geoms) != 0) | shapely.is_empty(geoms)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{path}: row {i + 1}: every feature must be a Point ({int(bad.sum())} are not: empty, missing or "
            "another geometry type)"
        )
    return gdf


def _result_columns(res: dict[str, dict[str, Any]], with_verdict: bool, n: int, expect: Any) -> dict[str, Any]:
    """The appended columns: per source, then the summary (check__*)."""
    import numpy as np
    import pandas as pd

    cols: dict[str, Any] = {}
    names = list(res)
    for name in names:
        r = res[name]
        for q in _PER_SOURCE:
            cols[f"{name}__{q}"] = np.round(r[q], 3) if q in _MM else r[q]
        if with_verdict:
            cols[f"{name}__verdict"] = r["verdict"]
    party = np.stack([pd.Series(res[nm]["party"], dtype=object).fillna("-").to_numpy(dtype=str) for nm in names],
                     axis=1)
    joined = np.char.add(f"{names[0]}=", party[:, 0])
    for k in range(1, len(names)):
        joined = np.char.add(np.char.add(joined, f"; {names[k]}="), party[:, k])
    cols["check__parties"] = joined.astype(object)
    cols["check__sources_agree"] = (party == party[:, :1]).all(axis=1)
    det = np.stack([res[nm]["determinate"] for nm in names], axis=1)
    cols["check__determinate_all"] = det.all(axis=1)
    cols["check__min_margin_m"] = np.round(np.stack([res[nm]["margin_m"] for nm in names], axis=1).min(axis=1), 3)
    cols["check__precision_m"] = res[names[0]]["precision_m"]
    if with_verdict:
        v = np.stack([np.asarray(res[nm]["verdict"], dtype=object) for nm in names], axis=1)
        s = len(names)
        has = (v != None).all(axis=1)  # noqa: E711
        overall = np.where((v == "inside").sum(axis=1) == s, "inside",
                           np.where((v == "across").sum(axis=1) == s, "across", "indeterminate"))
        cols["check__expect"] = expect
        cols["check__verdict"] = np.where(has, overall, None)
    return cols


def _check_file(path: Path, output: Path | None, precision_m: float | None, sources: list[str] | None,
                expect: str | None, expect_column: str | None, combine: str, method: str, chunk_size: int,
                *, quiet: bool) -> None:
    import numpy as np
    import pandas as pd

    from borderkit.errors import ValidationError
    from borderkit.locate import _as_points, _compute, _expect_array, _resolve_method, prepare

    reader = _Reader(path, chunk_size)
    method = _resolve_method(method, reader.total if reader.total is not None else 0)
    models = prepare(sources=sources)
    kind = _output_kind(output) if output is not None else "csv"
    bar = _progress(reader.total, quiet)
    with_verdict = expect is not None or expect_column is not None
    pieces = []
    wrote_header = False
    out_fh = None
    try:
        if kind == "csv":
            out_fh = open(output, "w", encoding="utf-8", newline="") if output is not None else sys.stdout
        for _start, part, lon, lat, prec in reader.chunks():
            n = len(part)
            if precision_m is not None:
                prec = np.full(n, float(precision_m))
            pts = _as_points((lon, lat), None if prec is None else np.asarray(prec, dtype=float))
            if expect_column is not None:
                if expect_column not in part.columns:
                    raise ValidationError(f"{path}: no column {expect_column!r} (--expect-column)")
                exp = _expect_array(part[expect_column].to_numpy(dtype=object), n)
            else:
                exp = _expect_array(expect, n)
            res = _compute(pts, models, method=method, expect=exp, reference_party=None, combine=combine,
                           n_total=reader.total or n)
            cols = _result_columns(res, with_verdict, n, exp)
            clash = [c for c in cols if c in part.columns]
            if clash:
                raise ValidationError(f"{path}: the input already has result column(s) {', '.join(clash)}; "
                                      "rename them or check the original file")
            frame = part.reset_index(drop=True)
            add = pd.DataFrame(cols)
            if kind == "csv":
                if reader.geo is not None:
                    geom_name = frame.geometry.name
                    frame = pd.DataFrame(frame)
                    frame[geom_name] = frame[geom_name].to_wkt() if hasattr(frame[geom_name], "to_wkt") else [
                        g.wkt for g in frame[geom_name]]
                    frame = _flatten_objects(frame)
                out = pd.concat([frame, add], axis=1)
                out.to_csv(out_fh, index=False, header=not wrote_header, lineterminator="\n")
                wrote_header = True
            else:
                pieces.append(_to_geo(frame, add, lon, lat, reader.geo is not None))
            if bar is not None:
                bar.update(n)
        if kind != "csv":
            _write_geo(pieces, output, kind)
        elif not wrote_header:
            raise ValidationError(f"{path}: no rows to check")
    finally:
        if bar is not None:
            bar.close()
        if out_fh is not None and out_fh is not sys.stdout:
            out_fh.close()


def _flatten_objects(frame: Any) -> Any:
    """Lists/dicts (e.g. an incidents 'sources' column) as JSON text for CSV."""
    import json

    for col in frame.columns:
        if frame[col].dtype == object and frame[col].map(lambda v: isinstance(v, list | dict)).any():
            frame[col] = frame[col].map(lambda v: json.dumps(v, ensure_ascii=False, default=str)
                                        if isinstance(v, list | dict) else v)
    return frame


def _to_geo(frame: Any, add: Any, lon: Any, lat: Any, is_geo: bool) -> Any:
    import geopandas as gpd
    import pandas as pd
    import shapely

    if is_geo:
        geom = frame.geometry.values
        attrs = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
        name = frame.geometry.name
    else:
        geom = shapely.points(lon, lat)
        attrs = frame
        name = "geometry"
    out = pd.concat([_flatten_objects(attrs.copy()), add], axis=1)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom, crs=4326), crs=4326).rename_geometry(name) \
        if name != "geometry" else gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom, crs=4326), crs=4326)


def _write_geo(pieces: list[Any], output: Path, kind: str) -> None:
    import pandas as pd

    from borderkit.errors import OptionalDependencyError, ValidationError

    if not pieces:
        raise ValidationError("no rows to check")
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(pd.concat(pieces, ignore_index=True), crs=4326)
    if kind == "geojson":
        if output.exists():
            output.unlink()  # --overwrite was checked; GDAL refuses to replace a GeoJSON file
        gdf.to_file(output, driver="GeoJSON")
    else:
        try:
            gdf.to_parquet(output)
        except ImportError as exc:
            raise OptionalDependencyError("writing GeoParquet needs pyarrow: pip install 'borderkit[parquet]'") \
                from exc
