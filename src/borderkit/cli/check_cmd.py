"""``borderkit check``: which side of each line source a point (or every point of a file) is on.

One point::

    borderkit check --lat 39.60 --lon 46.23 [--precision-m 500] [--source NAME ...] [--expect ARM] [--json]

A file (anything :func:`borderkit.io.readers.read_points` reads: ACLED/UCDP GED exports,
incidents, latitude/longitude tables, GeoJSON, GeoPackage, Shapefile, KML, GPX, GeoParquet),
or ``-`` for CSV or GeoJSON text on stdin::

    borderkit check FILE|- [-o OUT.csv|.geojson|.gpkg|.parquet] [--overwrite] [--expect ARM | --expect-column COL]
                           [--errors raise|collect] [--rejected REJ.csv] [--json]

Line sources: those of ``--case NAME|DIR`` (default: the bundled case), plus ``--lines FILE``
(the user's own line, metadata from ``--claimant --left --right --source-name --source-date
--accuracy-m``); ``--lines`` without ``--case`` checks only the user's lines.

Exit codes: 0 done; **10** with ``--expect``/``--expect-column`` when some point is
determinately on another party's side of some checked line (a verdict ``across``);
1 invalid data, 2 usage, 3 registry, … (``borderkit.cli.main``).

The CLI only parses options, calls :mod:`borderkit.locate` (``locate``, ``check``,
``summarize``, ``check_file``) and prints or writes the result. The JSON contract,
the sign convention, the verdict rules and the result columns are in ``docs/check.md``.
Imports are lazy: one point imports neither pandas nor geopandas (docs/check.md, BENCHMARKS.md).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

from borderkit.cli.options import (
    case_option,
    case_region,
    check_output,
    echo_json,
    echo_json_lines,
    json_option,
    line_source_options,
    output_option,
    overwrite_option,
    show_progress,
)

_OUTPUT_KINDS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".geojson": "geojson", ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet", ".geoparquet": "parquet", ".pq": "parquet",
}
EXIT_ACROSS = 10
"""Exit code when, with an expected party, some point is determinately across some checked line
(documented in :mod:`borderkit.cli.main`)."""
_PROGRESS_MIN_ROWS = 50_000


@click.command()
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=True, allow_dash=True, path_type=Path))
@click.option("--lat", type=float, default=None, metavar="DEG", help="Latitude of one point (degrees north).")
@click.option("--lon", type=float, default=None, metavar="DEG", help="Longitude of one point (degrees east).")
@click.option("--precision-m", type=float, default=None, metavar="M",
              help="Radius of the point's location uncertainty, metres. FILE mode: the default for rows "
                   "without a precision of their own (a file's own precision always wins).")
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
@click.option("--errors", type=click.Choice(["raise", "collect"]), default="raise", show_default=True,
              help="File mode: stop at bad rows (one line naming file, row, column), or check the good "
                   "rows and set the bad ones aside (--rejected).")
@click.option("--rejected", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="CSV",
              help="File mode with --errors collect: write the rejected rows (with their problems) here.")
@click.option("--encoding", default=None, metavar="NAME", help="File mode: text encoding (default UTF-8/BOM).")
@click.option("--layer", default=None, metavar="NAME", help="File mode: layer of a multi-layer file.")
@click.option("--dask", "use_dask", is_flag=True,
              help="File mode, GeoParquet in and out: check row group by row group on a dask cluster "
                   "(a LocalCluster, or --scheduler); -o is the output folder (docs/scale.md).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --dask: address of a running dask scheduler (e.g. tcp://10.0.0.5:8786).")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --dask and no --scheduler: workers of the LocalCluster (default: the cores).")
@case_option
@line_source_options
@output_option("File mode: write CSV, GeoJSON, GeoPackage or GeoParquet (by suffix: .csv, .geojson, .gpkg, "
               ".parquet) instead of CSV to stdout; every input column is kept.")
@overwrite_option
@json_option
@click.pass_context
def check(ctx: click.Context, file: Path | None, lat: float | None, lon: float | None, precision_m: float | None,
          sources: tuple[str, ...], expect: str | None, expect_column: str | None, combine: str, method: str,
          chunk_size: int, errors: str, rejected: Path | None, encoding: str | None, layer: str | None,
          use_dask: bool, scheduler: str | None, workers: int | None,
          case_name: Any, user_lines: Any, output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Which party's side of each line source is a point on, and is that certain?

    Give one point with --lat/--lon, or a FILE of points. For each line source the
    answer names the party (from the source's territories, else the side of its
    line), the geodesic distance to the line (metres, WGS84), a signed distance
    (positive on the --expect party's side, else on the first party's side in
    alphabetical order), the nearest point of the line, and whether the answer is
    determinate: the distance exceeds precision_m plus the line's accuracy. With
    --expect each source gives a verdict: inside, across, indeterminate, or
    "not near this line" (another border of the source is nearer, or the point
    is beyond the line's end).

    FILE may be - for CSV or GeoJSON text on stdin. FILE mode with --json prints
    JSON Lines (one object per input row, in input order: every input column and
    the results); with -o it prints a summary of the run instead.

    Line sources: those of --case (default: the bundled case) and your own
    --lines FILE; --lines without --case checks only your lines.

    Exit code 10 with --expect/--expect-column when some point is determinately
    on another party's side of some checked line (a verdict "across"), 0 when
    none is; errors keep their codes (1 invalid data, 2 usage, 3 registry ...).
    """
    if expect is not None:
        expect = expect.strip().upper()
    lines_kw = _line_sources(case_name, user_lines)
    if file is None:
        if lat is None or lon is None:
            raise click.UsageError("give a FILE (or - for stdin), or one point with both --lat and --lon")
        if output is not None or expect_column is not None or rejected is not None:
            raise click.UsageError("-o/--output, --expect-column and --rejected are for FILE mode")
        across = _check_point(lat, lon, precision_m, list(sources) or None, expect, combine, method, as_json,
                              lines_kw)
        if across:
            ctx.exit(EXIT_ACROSS)
        return
    if lat is not None or lon is not None:
        raise click.UsageError("give either a FILE or --lat/--lon, not both")
    if expect is not None and expect_column is not None:
        raise click.UsageError("give --expect or --expect-column, not both")
    if rejected is not None and errors != "collect":
        raise click.UsageError("--rejected needs --errors collect")
    if (scheduler is not None or workers is not None) and not use_dask:
        raise click.UsageError("--scheduler and --workers go with --dask")
    if use_dask:
        if output is None or str(file) == "-":
            raise click.UsageError("--dask reads a GeoParquet FILE and writes the folder given with -o")
        verbosity = (ctx.find_root().obj or {}).get("verbosity", 0)
        if _check_dask(file, output, lines_kw, expect=expect, expect_column=expect_column,
                       default_precision_m=precision_m, sources=list(sources) or None, method=method,
                       combine=combine, scheduler=scheduler, workers=workers, progress=verbosity >= 0,
                       overwrite=overwrite, as_json=as_json):
            ctx.exit(EXIT_ACROSS)
        return
    check_output(output, overwrite)
    check_output(rejected, overwrite)
    if output is not None:
        _output_kind(output)  # refuse an unknown suffix before any work
    verbosity = (ctx.find_root().obj or {}).get("verbosity", 0)
    kw = dict(output=output, rejected_path=rejected, overwrite=overwrite, as_json=as_json,
              quiet=verbosity < 0, expect=expect, expect_column=expect_column, default_precision_m=precision_m,
              sources=list(sources) or None, method=method, combine=combine, errors=errors, layer=layer,
              encoding=encoding, chunk_size=chunk_size, **_file_region(case_name, user_lines), **lines_kw)
    across = _check_stdin(**kw) if str(file) == "-" else _check_file(file, **kw)
    if across:
        ctx.exit(EXIT_ACROSS)


def _check_dask(file: Path, output: Path, lines_kw: dict[str, Any], *, as_json: bool, **options: Any) -> bool:
    """``--dask``: :func:`borderkit.scale.check_parquet`; True when some point is ``across`` some line."""
    import dataclasses

    import pandas as pd

    from borderkit.scale import check_parquet

    case, lines = lines_kw["case"], lines_kw["lines"]
    territories = None
    if isinstance(case, str):
        from borderkit import cases

        case = cases.load(case)
    if case is not None:  # the case's layers (and the user's lines) are sent to the workers once
        lines = case.lines if lines is None else pd.concat([case.lines, lines], ignore_index=True)
        territories = case.territories
    summary = check_parquet(file, output, lines=lines, territories=territories, **options)
    if as_json:
        echo_json(dataclasses.asdict(summary))
    else:
        click.echo(f"checked {summary.rows} points in {summary.partitions} row groups on {summary.workers} "
                   f"worker(s) in {summary.seconds:.1f} s; wrote {summary.output}", err=True)
    return any(s.get("across", 0) for s in summary.sources.values())


def _file_region(case_name: str | None, user_lines: Any) -> dict[str, Any]:
    """``region``/``projected_crs`` for reading FILE: those of the case checked against (--case, default the
    bundled case); none when only the user's --lines are checked (their region is not known)."""
    if case_name is None and user_lines is not None:
        return {"region": None, "projected_crs": None}
    return case_region(case_name)


def _line_sources(case: Any, user_lines: Any) -> dict[str, Any]:
    """``lines``/``case`` for :mod:`borderkit.locate`: --case (default: the bundled case) plus --lines;
    --lines alone: only the user's lines. A bundled case goes by name (locate reads only its lines
    and territories, cached); a user case or folder is loaded here (locate sits below cases)."""
    if isinstance(case, str):
        from borderkit.registry import names

        if case not in names():
            from borderkit import cases

            case = cases.load(case)
    return {"lines": user_lines, "case": case}


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
    return str(v)


def point_json(answer: Any, lat: float, lon: float, precision_m: float | None, expect: str | None,
               combine: str) -> dict[str, Any]:
    """The JSON document of one point (the contract of docs/check.md) from a
    :class:`borderkit.locate.PointAnswer`."""
    rows = []
    for r in answer.results:
        party = _party(r["party"])
        item: dict[str, Any] = {
            "source": str(r["source"]),
            "party": party,
            "parties": party.split(";") if party else [],
            "overlap": bool(r["overlap"]),
            "party_method": str(r["party_method"]),
            "line_party": _party(r["line_party"]),
            "section": str(r["section"]),
            "distance_to_line_m": float(r["distance_to_line_m"]),
            "signed_distance_m": float(r["signed_distance_m"]),
            "sign_reference": str(r["sign_reference"]),
            "nearest": {"lat": float(r["nearest_lat"]), "lon": float(r["nearest_lon"])},
            "line_accuracy_m": float(r["line_accuracy_m"]),
            "uncertainty_m": float(r["uncertainty_m"]),
            "margin_m": float(r["margin_m"]),
            "determinate": bool(r["determinate"]),
            "near_line": bool(r["near_line"]),
            "beyond_line_end": bool(r["beyond_line_end"]),
            "other_border": _party(r["other_border"]),
            "other_border_distance_m": _finite(float(r["other_border_distance_m"])),
            "method": str(r["method"]),
        }
        if expect is not None:
            item["verdict"] = str(r["verdict"])
        rows.append(item)
    s = answer.summary
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
        "method": answer.method,
    }
    if expect is not None:
        doc["expect"] = expect
        doc["verdict"] = str(s["verdict"])
    return doc


def _check_point(lat: float, lon: float, precision_m: float | None, sources: list[str] | None, expect: str | None,
                 combine: str, method: str, as_json: bool, lines_kw: dict[str, Any]) -> bool:
    """Check one point and print it; True when some source's verdict is ``across``.

    :func:`borderkit.locate.locate_point` builds no DataFrame: with the case's models cached on
    disk, this path imports neither pandas nor geopandas (tests/test_check_cli.py checks it)."""
    from borderkit.locate import locate_point

    answer = locate_point(lon, lat, precision_m=precision_m, sources=sources, method=method, combine=combine,
                          expect=expect, **lines_kw)
    doc = point_json(answer, lat, lon, precision_m, expect, combine)
    if as_json:
        echo_json(doc)
    else:
        _print_table(doc)
    return expect is not None and any(r["verdict"] == "across" for r in answer.results)


def _fmt_m(v: float, signed: bool = False) -> str:
    if abs(v) >= 10_000:
        return f"{v / 1000:{'+' if signed else ''},.1f} km"
    return f"{v:{'+' if signed else ''},.0f} m"


def _print_table(doc: dict[str, Any]) -> None:
    p = doc["point"]
    prec = doc["precision_m"]
    click.echo(
        f"Point {p['lat']:.5f} N, {p['lon']:.5f} E; location precision "
        f"{'not given (0 m)' if prec is None else _fmt_m(prec)}; uncertainty = precision "
        f"{'+' if doc['combine'] == 'sum' else '⊕'} line accuracy"
    )
    head = ["source", "party", "line side", "distance", "signed", "uncertainty", "margin", "determinate",
            "nearer border"]
    has_verdict = "verdict" in doc
    if has_verdict:
        head.append("verdict")
    rows = []
    for r in doc["results"]:
        if r["beyond_line_end"]:
            other = "beyond line end"
        elif not r["near_line"]:
            other = f"{r['other_border']} ({_fmt_m(r['other_border_distance_m'])})"
        else:
            other = "-"
        row = [
            r["source"],
            (r["party"] or "-") + (" (overlap)" if r["overlap"] else ""),
            r["line_party"] or "on line",
            _fmt_m(r["distance_to_line_m"]),
            _fmt_m(r["signed_distance_m"], signed=True),
            _fmt_m(r["uncertainty_m"]),
            _fmt_m(r["margin_m"], signed=True),
            "yes" if r["determinate"] else "no",
            other,
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
    kind = _OUTPUT_KINDS.get(path.suffix.lower())
    if kind is None:
        raise click.UsageError(
            f"{path}: unknown output format {path.suffix!r}; use .csv, .geojson, .gpkg or .parquet"
        )
    return kind


def _progress_bar(quiet: bool) -> Any:
    # the one rule of every command (options.show_progress): not with -q, and only on a terminal —
    # a bar on a script's captured stderr is noise
    if quiet or not show_progress(click.get_current_context()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    # shown only for large files (tqdm's delay: nothing appears for a run under 2 s)
    return tqdm(unit=" points", file=sys.stderr, mininterval=0.5, delay=2.0, desc="borderkit check")


def _check_stdin(**kwargs: Any) -> bool:
    """``check -``: CSV or GeoJSON text on stdin, at most :func:`borderkit.io.max_input_bytes`, read by
    the same reader as a file (through a temporary file, removed afterwards); problems name ``<stdin>``."""
    import shutil
    import tempfile

    from borderkit.errors import InputTooLargeError, ValidationError
    from borderkit.io import max_input_bytes

    limit = max_input_bytes()
    stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
    data = stdin.read(limit + 1)
    if isinstance(data, str):  # a text stream without a byte layer (an embedding application)
        data = data.encode("utf-8")
    if len(data) > limit:
        raise InputTooLargeError(
            f"<stdin>: more than {limit // 2**20} MB; give a file, or raise the limit with the environment "
            "variable BORDERKIT_MAX_INPUT_MB (megabytes)"
        )
    if not data.strip():
        raise ValidationError("<stdin>: no input; pipe CSV or GeoJSON text into `borderkit check -`")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]  # after a UTF-8 byte-order mark and blanks
    suffix = ".geojson" if head in (b"{", b"[") else ".csv"
    folder = tempfile.mkdtemp(prefix="borderkit-stdin-")
    try:
        tmp = Path(folder) / f"stdin{suffix}"
        tmp.write_bytes(data)
        del data
        try:
            return _check_file(tmp, shown_path="<stdin>", **kwargs)
        except ValidationError as exc:
            text = str(exc).replace(str(tmp), "<stdin>")
            raise type(exc)(text, problems=exc.problems, path="<stdin>") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_file(path: Path, *, output: Path | None, rejected_path: Path | None, overwrite: bool, as_json: bool,
                quiet: bool, shown_path: str | None = None, **kwargs: Any) -> bool:
    """Check a file and write/print the result; True when some row's verdict is ``across`` for some source."""
    from borderkit.locate import check_file

    shown = shown_path or str(path)
    if output is not None and not as_json and _output_kind(output) in ("csv", "parquet"):
        return _check_file_in_blocks(path, output=output, rejected_path=rejected_path, overwrite=overwrite,
                                     quiet=quiet, shown=shown, **kwargs)
    # GeoJSON, GeoPackage, --json (JSON Lines, or the run summary of -o) and CSV on stdout: the
    # checked table whole
    bar = _progress_bar(quiet)
    try:
        res = check_file(path, progress=None if bar is None else bar.update, **kwargs)
    finally:
        if bar is not None:
            bar.close()
    table, rejected = res.table, res.rejected
    if output is not None:
        _write(table, output, overwrite=overwrite)
    elif as_json:
        echo_json_lines(_json_frame(table))
    else:
        _write_csv(_flat(table), None)
    n_rej = _report_rejected(rejected, rejected_path, overwrite=overwrite, shown=shown)
    if as_json and output is not None:
        echo_json(_run_summary(shown, table, n_rej, output, rejected_path))
    verdicts = [c for c in table.columns if str(c).endswith("__verdict") and not str(c).startswith("check__")]
    return any(bool((table[c] == "across").any()) for c in verdicts)


def _check_file_in_blocks(path: Path, *, output: Path, rejected_path: Path | None, overwrite: bool, quiet: bool,
                          shown: str, **kwargs: Any) -> bool:
    """``check FILE -o OUT.csv|OUT.parquet``: the checked rows written block by block (the checked table
    is never whole in memory, and no DataFrame of the results is made: :func:`borderkit.locate.check_arrays`'
    Arrow columns go to the writer), atomically (a failed run leaves no output); the same file as
    :func:`_write`'s (CSV: the same bytes; GeoParquet: the same table read back)."""
    from borderkit.io.atomic import atomic_output
    from borderkit.locate import check_file_blocks

    bar = _progress_bar(quiet)
    across = False
    try:
        # blocks of --chunk-size rows: the memory of one block's results, whatever the file's size
        res = check_file_blocks(path, block_rows=kwargs["chunk_size"], progress=None if bar is None else bar.update,
                                **kwargs)
        with atomic_output(output, overwrite=overwrite) as tmp:
            if _output_kind(output) == "csv":
                across = _write_csv_blocks(res, tmp)
            else:
                across = _write_parquet_blocks(res, tmp)
    finally:
        if bar is not None:
            bar.close()
    _report_rejected(res.rejected, rejected_path, overwrite=overwrite, shown=shown)
    return across


def _across(results: Any) -> bool:
    """Whether some row of a block's results (Arrow) is ``across`` some source's line."""
    import pyarrow.compute as pc

    return any(bool(pc.any(pc.equal(results.column(c), "across")).as_py())
               for c in results.column_names
               if c.endswith("__verdict") and not c.startswith("check__") and results.column(c).null_count
               < len(results))


def _write_csv_blocks(res: Any, tmp: Path) -> bool:
    """The blocks of :func:`borderkit.locate.check_file_blocks` as one CSV file; True when some row is across."""
    import pyarrow as pa

    from borderkit.io.fastcsv import to_arrow, write_csv

    across = False
    with open(tmp, "wb") as f:
        for k, block in enumerate(res.blocks):
            info = block.frame.attrs.get("borderkit") or {}
            inputs = to_arrow(_flat(block.frame))
            if not info.get("coordinate_columns"):  # the points as WKT, where the geometry column was
                import shapely

                geoms = block.geometry if block.geometry is not None else shapely.points(block.lon, block.lat)
                inputs = inputs.add_column(res.geometry_at, res.geometry, pa.array(shapely.to_wkt(geoms), pa.string()))
            table = pa.Table.from_arrays([*inputs.columns, *block.results.columns],
                                         names=[*inputs.column_names, *block.results.column_names])
            write_csv(table, f, header=k == 0)
            across = across or _across(block.results)
    return across


def _write_parquet_blocks(res: Any, tmp: Path) -> bool:
    """The blocks of :func:`borderkit.locate.check_file_blocks` as one GeoParquet file (the geometry last, as
    :func:`_write` writes it); True when some row is across."""
    from borderkit.io.geoparquet import PointParquetWriter
    from borderkit.locate import checked_table

    across = False
    with PointParquetWriter(tmp, geometry=res.geometry, crs=res.crs) as writer:
        for block in res.blocks:
            writer.write(checked_table(_flat(block.frame), block.results), block.lon, block.lat,
                         geometry=block.geometry)
            across = across or _across(block.results)
    return across


def _report_rejected(rejected: Any, rejected_path: Path | None, *, overwrite: bool, shown: str) -> int:
    """Write the rejected rows (``--rejected``) and say how many there are; their number."""
    n_rej = 0 if rejected is None else len(rejected)
    if rejected is not None and n_rej:
        if rejected_path is not None:
            _write(rejected, rejected_path, overwrite=overwrite)
        first = rejected["problems"].iloc[0] if "problems" in rejected.columns else ""
        where = f"written to {rejected_path}" if rejected_path is not None else "pass --rejected FILE to keep them"
        click.echo(f"borderkit: {n_rej} row(s) of {shown} rejected (row {int(rejected['row'].iloc[0])}: {first}); "
                   f"{where}", err=True)
    return n_rej


def _run_summary(path: Path | str, table: Any, n_rejected: int, output: Path | None,
                 rejected_path: Path | None) -> dict[str, Any]:
    """The JSON summary of a FILE run (docs/check.md)."""
    names = [c[: -len("__party")] for c in table.columns if str(c).endswith("__party")]
    per_source = {}
    for nm in names:
        item: dict[str, Any] = {
            "determinate": int(table[f"{nm}__determinate"].sum()),
            "near_line": int(table[f"{nm}__near_line"].sum()),
            "parties": {str(k): int(v) for k, v in table[f"{nm}__party"].fillna("-").value_counts().items()},
        }
        if f"{nm}__verdict" in table.columns:
            item["verdicts"] = _counts(table[f"{nm}__verdict"])
        per_source[nm] = item
    doc: dict[str, Any] = {
        "path": str(path),
        "rows_read": len(table) + n_rejected,
        "rows_checked": len(table),
        "rows_rejected": n_rejected,
        "output": None if output is None else str(output),
        "rejected_output": None if rejected_path is None else str(rejected_path),
        "precision_sources": _counts(table["check__precision_source"]),
        "determinate_all": int(table["check__determinate_all"].sum()),
        "sources": per_source,
        "units": "m",
        "method": table.attrs.get("method", ""),
    }
    if "check__verdict" in table.columns:
        doc["verdicts"] = _counts(table["check__verdict"])
    return doc


def _counts(col: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in col.fillna("-").value_counts().sort_index().items()}


def _flat(frame: Any) -> Any:
    """The table with plain cells: lists/dicts (an incidents ``sources`` column) as JSON text; for CSV,
    the geometry as WKT unless the coordinates are already in latitude/longitude columns."""
    import json

    import pandas as pd

    info = frame.attrs.get("borderkit") or {}
    out = pd.DataFrame(frame).copy(deep=False)  # columns are replaced below, never written into: no data copy
    geom = getattr(frame, "_geometry_column_name", None)
    if geom is not None and geom in out.columns:
        if info.get("coordinate_columns"):
            out = out.drop(columns=[geom])
        else:
            out[geom] = frame.geometry.to_wkt()
    for col in out.columns:
        if (out[col].dtype == object and out[col].notna().any()  # an all-empty column: nothing to look at
                and out[col].map(lambda v: isinstance(v, list | dict)).any()):
            out[col] = out[col].map(lambda v: json.dumps(v, ensure_ascii=False, default=str)
                                    if isinstance(v, list | dict) else v)
    return out


def _json_frame(frame: Any) -> Any:
    """The table for JSON Lines: the geometry as WKT unless the coordinates are already in
    latitude/longitude columns; lists and dicts stay JSON arrays and objects."""
    import pandas as pd

    info = frame.attrs.get("borderkit") or {}
    out = pd.DataFrame(frame)
    geom = getattr(frame, "_geometry_column_name", None)
    if geom is not None and geom in out.columns:
        if info.get("coordinate_columns"):
            out = out.drop(columns=[geom])
        else:
            out = out.assign(**{geom: frame.geometry.to_wkt()})
    return out


def _write_csv(flat: Any, path: Path | None) -> None:
    """CSV (stdout when *path* is None), quoted as pandas quotes (only the cells that need it, so
    ``cut``/``awk`` see plain numbers and codes) at Arrow speed (:mod:`borderkit.io.fastcsv`);
    pandas' writer when pyarrow is not installed."""
    import importlib.util

    from borderkit.io.fastcsv import write_csv

    if importlib.util.find_spec("pyarrow") is None:  # pragma: no cover - the slower writer, same values
        flat.to_csv(sys.stdout if path is None else path, index=False, lineterminator="\n")
        return
    if path is None:
        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stream (an embedding application): the text, decoded
            import io

            buf = io.BytesIO()
            write_csv(flat, buf)
            sys.stdout.write(buf.getvalue().decode("utf-8"))
            return
        write_csv(flat, out)
        out.flush()
        return
    with open(path, "wb") as f:
        write_csv(flat, f)


def _write(frame: Any, path: Path, *, overwrite: bool) -> None:
    """Write a table atomically (a failed run leaves no file behind); every column is kept."""
    import geopandas as gpd

    from borderkit.io.atomic import atomic_output

    kind = _output_kind(path)
    is_geo = isinstance(frame, gpd.GeoDataFrame)
    with atomic_output(path, overwrite=overwrite) as tmp:
        if kind == "csv" or not is_geo:
            _write_csv(_flat(frame), tmp)
            return
        flat = _flat_geo(frame)
        if kind == "geojson":
            flat.to_file(tmp, driver="GeoJSON")
        elif kind == "gpkg":
            flat.to_file(tmp, driver="GPKG", layer=path.stem)
        else:
            try:
                flat.to_parquet(tmp)
            except ImportError as exc:
                from borderkit.errors import OptionalDependencyError

                raise OptionalDependencyError("writing GeoParquet needs pyarrow: pip install 'borderkit[parquet]'") \
                    from exc


def _flat_geo(frame: Any) -> Any:
    import geopandas as gpd

    geom = frame.geometry.name
    attrs = frame.drop(columns=[geom])
    attrs.attrs = {}
    flat = _flat(attrs)
    return gpd.GeoDataFrame(flat, geometry=frame.geometry.values, crs=frame.crs)
