"""Check GeoParquet files too large for one process on dask, partition by partition.

:func:`check_parquet` runs exactly the per-point computation of the single-process path
(:func:`borderkit.locate.check_arrays`, behind :func:`~borderkit.locate.check_table`) on every
row group of a GeoParquet file, one task per row group (:func:`check_row_group`: the worker reads
its row group block by block with :func:`borderkit.io.blocks.row_group_blocks`, checks each block
and writes it with :class:`~borderkit.io.geoparquet.PointParquetWriter`, Arrow all the way, so a
worker holds one block at a time and only counts travel back), and writes a
GeoParquet 1.1 dataset (a folder of part files, each with the ``bbox`` covering column). The
columns and answers are those of ``check_table`` (``docs/check.md``), row for row.

Where it runs: a ``dask.distributed`` ``LocalCluster`` by default (one worker process per core,
one thread each, a memory limit per worker), or an existing scheduler (``scheduler="tcp://…"``):
the same code runs on a cluster. :func:`check_frame` gives the lazy result of a dask-geopandas
GeoDataFrame already in hand.

The line sources are sent to each worker once: the bundled case is loaded by each worker
process itself (hash-verified, cached for the life of the process with its fast line index);
lines and territories given as GeoDataFrames are scattered once to every worker
(``Client.scatter(..., broadcast=True)``). See ``docs/scale.md`` for measured rates and when to
use this path.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from borderkit.errors import OptionalDependencyError, OutputExistsError, ValidationError
from borderkit.locate import resolve_method  # one implementation; re-exported for this module's users

__all__ = ["check_parquet", "check_frame", "check_partition", "check_row_group", "read_row_group", "ScaleSummary",
           "DEFAULT_MEMORY_LIMIT", "TASK_BLOCK_ROWS", "LOCAL_CLUSTER_CONFIG", "local_cluster", "resolve_method",
           "projected_cost"]

DEFAULT_MEMORY_LIMIT = "2GiB"
"""Memory limit of each worker of the default ``LocalCluster`` (dask pauses a worker at 80 %
and restarts it at 95 %). A row group of 1 M points needs about 0.6 GB in flight with the
bundled case's four sources (measured: ``BENCHMARKS.md``)."""

LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    # The statistical profiler samples each task thread's stack every 10 ms for a dashboard
    # the run does not open: 1.5-2 s of CPU per 2 M points (measured, benchmarks/bench_scale.py).
    "distributed.worker.profile.enabled": False,
    # distributed starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (to hand freed memory back
    # to the OS). Setting it fixes glibc's mmap threshold at 128 kB, so every array of a check
    # (megabytes each) is mmap-ed, page-faulted and unmapped again: the same check took 25-30 %
    # more CPU with it, in a worker or in one process (measured). Unset here; an
    # MALLOC_TRIM_THRESHOLD_ in the environment still wins (distributed reads it first).
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # Diagnostics for a dashboard the run does not open: the event-loop watchdog ticks every 20 ms
    # and the system monitor samples psutil every 500 ms in every process (scheduler, nannies,
    # workers). Together with the profiler they cost 0.115 s of CPU per second of an idle 2-worker
    # cluster, 0.03 s with these settings (measured). The nannies' memory monitor (what enforces
    # memory_limit) keeps its 100 ms.
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}
"""dask configuration of the workers of the ``LocalCluster`` :func:`check_parquet` starts (a
cluster given by address keeps its own: set the same there, ``docs/scale.md``)."""

TASK_BLOCK_ROWS = 50_000
"""Rows a task reads, checks and writes at a time within its row group: the memory in flight of a
worker is that of one such block (the result columns of four sources are ≈ 0.5 kB a point), not
of its row group; each block becomes one row group of the part file."""

AUTO_LARGE = 1 << 62
"""A number of points for which ``method="auto"`` is the engine of large inputs."""

_TEXT_RESULT = ("party", "other_border", "verdict")
_TEXT_SUMMARY = ("check__parties", "check__precision_source", "check__expect", "check__verdict")


@dataclass
class ScaleSummary:
    """What :func:`check_parquet` did.

    Attributes
    ----------
    input, output
        The GeoParquet file read and the GeoParquet dataset (folder of part files) written.
    rows, partitions
        Points checked and partitions (row groups) processed.
    workers
        Workers of the cluster the run used.
    scheduler
        Address of the scheduler (of the ``LocalCluster`` started for the run, or the one given).
    seconds
        Wall time of the run (reading, checking, writing), seconds.
    verdicts
        Counts of the overall verdict (``check__verdict``) when an expected party was given.
    sources
        Per line source: ``{"determinate": n, "near_line": n, "across": n}`` (``across``: points
        determinately on another party's side of that source's line, with an expected party).
    method
        The method text of the results (``docs/check.md``).
    startup_seconds
        Of *seconds*: starting the ``LocalCluster`` (or connecting to *scheduler*) until its
        workers are ready, seconds.
    """

    input: str
    output: str
    rows: int
    partitions: int
    workers: int
    scheduler: str
    seconds: float
    verdicts: dict[str, int] = field(default_factory=dict)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    method: str = ""
    startup_seconds: float = 0.0


def _require_dask(*, frames: bool = False) -> None:
    """Fail in one line when the 'scale' extra is missing (*frames*: dask-geopandas too)."""
    import importlib

    for name in ("dask", "distributed", "pyarrow") + (("dask_geopandas",) if frames else ()):
        try:
            importlib.import_module(name)
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise OptionalDependencyError(
                f"the dask path needs the 'scale' extra ({exc.name} is missing): pip install 'borderkit[scale]'"
            ) from exc


def check_partition(
    part: Any,
    lines: Any = None,
    *,
    territories: Any = None,
    first_row: int = 0,
    where: str = "partition",
    **options: Any,
) -> Any:
    """Check one partition: :func:`borderkit.locate.check_table`, typed for a Parquet dataset.

    Parameters
    ----------
    part
        GeoDataFrame of points (one partition). A ``bbox`` covering column read from the
        input is dropped (the output gets its own).
    lines, territories
        As in :func:`borderkit.locate.check_table` (None: the bundled case).
    first_row
        Position of the partition's first row in the whole input (for messages).
    where
        What the partition is, for messages (file and row group).
    **options
        ``expect``, ``expect_column``, ``default_precision_m``, ``sources``, ``method``,
        ``combine`` of :func:`~borderkit.locate.check_table`.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of *part* with the result columns of ``check_table``; text result columns
        are pandas strings (null where ``check_table`` gives None), so that every part file
        of a dataset has the same Arrow schema.
    """
    from borderkit.locate import check_table

    if "bbox" in part.columns and part.geometry.name != "bbox":
        part = part.drop(columns="bbox")
    if len(part) == 0:
        return part
    try:
        out = check_table(part, lines, territories=territories, **options)
    except ValidationError as exc:
        # the partition's rows are a slice of the file: name the slice, keep the message
        raise ValidationError(f"{where} (rows {first_row}-{first_row + len(part) - 1} of the input): {exc}") from None
    text = [c for c in out.columns if c.split("__")[-1] in _TEXT_RESULT and "__" in c] + [
        c for c in _TEXT_SUMMARY if c in out.columns
    ]
    for c in text:
        out[c] = out[c].astype(pd.StringDtype())
    return out


def check_frame(points: Any, lines: Any = None, *, territories: Any = None, **options: Any) -> Any:
    """The lazy check of a dask-geopandas GeoDataFrame, partition by partition.

    Parameters
    ----------
    points
        ``dask_geopandas.GeoDataFrame`` of points.
    lines, territories, **options
        As in :func:`check_partition`. ``method="auto"`` (the default) is the engine of a large
        input (``fast`` when numba is installed): pass ``method`` to match
        :func:`~borderkit.locate.check_table` on fewer than 2 000 points.

    Returns
    -------
    dask_geopandas.GeoDataFrame
        The result columns of :func:`borderkit.locate.check_table` per partition (compute it, or
        write it with ``to_parquet``). The columns are taken from a check of the first row.
    """
    _require_dask(frames=True)
    # the size of a lazy frame is unknown: "auto" means the engine of a large input here
    options["method"] = resolve_method(options.get("method", "auto"), AUTO_LARGE)
    sample = points.head(1, npartitions=1)
    if len(sample) == 0:
        raise ValidationError("points: no rows to check")
    meta = check_partition(sample, lines, territories=territories, **options).iloc[:0]
    return points.map_partitions(check_partition, lines, territories=territories, meta=meta, **options)


def _row_groups(path: str) -> tuple[list[int], dict[str, Any]]:
    """Rows of each row group and the GeoParquet metadata of the file (one line on error)."""
    import json

    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: not a readable Parquet file ({exc})") from None
    md = pf.metadata
    raw = (md.metadata or {}).get(b"geo")
    if raw is None:
        raise ValidationError(
            f"{path}: no GeoParquet 'geo' metadata; write the points with geopandas to_parquet "
            "(or convert with `borderkit convert FILE OUT.parquet`)"
        )
    try:
        geo = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(f"{path}: the 'geo' metadata is not JSON ({exc})") from None
    rows = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    return rows, geo


def _write_part(part: Any, path: str) -> dict[str, Any]:
    """Write one checked partition as GeoParquet 1.1 with the bbox covering column; its counts."""
    counts: dict[str, Any] = {"rows": len(part), "verdicts": {}, "sources": {}, "method": part.attrs.get("method", "")}
    if len(part) == 0:
        return counts
    part.to_parquet(path, write_covering_bbox=True, schema_version="1.1.0", index=False)
    if "check__verdict" in part.columns:
        counts["verdicts"] = {str(k): int(v) for k, v in part["check__verdict"].value_counts(dropna=True).items()}
    for c in part.columns:
        if c.endswith("__determinate") and not c.startswith("check__"):
            src = c[: -len("__determinate")]
            counts["sources"][src] = {
                "determinate": int(part[c].sum()),
                "near_line": int(part[f"{src}__near_line"].sum()),
                # points determinately on another party's side of this source's line (the exit-10 rule)
                "across": int((part[f"{src}__verdict"] == "across").sum()) if f"{src}__verdict" in part.columns
                else 0,
            }
    return counts


def _geo_columns(geo: dict[str, Any], path: str) -> tuple[str, dict[str, dict[str, Any]], set[str]]:
    """Primary geometry column, geometry columns and covering columns named by GeoParquet metadata."""
    from borderkit.io.blocks import covering_columns

    cols = geo.get("columns")
    primary = geo.get("primary_column")
    if not isinstance(cols, dict) or not isinstance(primary, str) or not isinstance(cols.get(primary), dict):
        raise ValidationError(f"{path}: the 'geo' metadata names no primary geometry column; rewrite the file "
                              "with geopandas to_parquet")
    covering: set[str] = set()
    for name, meta in cols.items():
        if not isinstance(meta, dict):
            raise ValidationError(f"{path}: the 'geo' metadata of column {name!r} is not an object")
        covering |= covering_columns(meta)
    return primary, cols, covering


def read_row_group(path: str | os.PathLike[str], index: int, *, geo: dict[str, Any] | None = None,
                   rows: int | None = None) -> Any:
    """One row group of a GeoParquet file as a GeoDataFrame, without its ``bbox`` covering column.

    Parameters
    ----------
    path
        The GeoParquet file.
    index
        The row group (0-based).
    geo
        The file's parsed ``geo`` metadata (read from the file when None).
    rows
        Decode only the first *rows* rows (None: all).

    Returns
    -------
    geopandas.GeoDataFrame
        The row group's columns in file order, geometry columns decoded with the CRS the
        metadata states (``OGC:CRS84`` when it states none, as the GeoParquet specification
        says). The covering column is not read: it repeats the coordinates, and pandas would
        make one Python dict per row of it (0.6 s of CPU per 500 000 rows, measured).
    """
    import geopandas as gpd
    import pyarrow.parquet as pq

    src = os.fspath(path)
    pf = pq.ParquetFile(src)
    if geo is None:
        _rows, geo = _row_groups(src)
    primary, cols, covering = _geo_columns(geo, src)
    names = [n for n in pf.schema_arrow.names if n not in covering or n in cols]
    # one thread: a worker runs one task per core already (pyarrow's pool would oversubscribe them)
    table = pf.read_row_group(index, columns=names, use_threads=False)
    if rows is not None:
        table = table.slice(0, rows)
    geoms = [n for n in names if n in cols]
    frame = table.drop_columns(geoms).to_pandas(use_threads=False)
    for name in geoms:
        meta = cols[name]
        if meta.get("encoding") != "WKB":
            raise ValidationError(
                f"{src}: geometry column {name!r} is encoded as {meta.get('encoding')!r}; the dask path reads "
                "WKB (write the file with geopandas to_parquet, geometry_encoding='WKB', the default)"
            )
        try:
            values = gpd.GeoSeries.from_wkb(table.column(name).to_numpy(zero_copy_only=False),
                                            crs=meta.get("crs", "OGC:CRS84"), index=frame.index)
        except Exception as exc:  # shapely's and pyproj's errors: bad WKB or CRS in the file
            raise ValidationError(f"{src} row group {index}: column {name!r} is not readable WKB with its CRS "
                                  f"({exc})") from None
        frame.insert(names.index(name), name, values)
    return gpd.GeoDataFrame(frame, geometry=primary)


def check_row_group(
    path: str,
    index: int,
    dest: str,
    lines: Any = None,
    *,
    territories: Any = None,
    first_row: int = 0,
    geo: dict[str, Any] | None = None,
    where: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The whole work of one task: read row group *index* of *path*, check it, write it to *dest*.

    One task per row group, nothing else in the graph, so only the per-row-group counts travel
    back to the client. Arrow all the way for a WGS84 file of 2D points (what
    :func:`borderkit.io.blocks.read_point_row_group` reads): the row group's points are parsed
    from their WKB with numpy and validated by the readers' own per-row checks, checked by
    :func:`borderkit.locate.check_arrays` and written by
    :class:`~borderkit.io.geoparquet.PointParquetWriter` (GeoParquet 1.1 with the ``bbox``
    covering column) — no GeoDataFrame, no shapely Point per row. Any other file (another CRS,
    a third coordinate) takes the GeoDataFrame path (:func:`read_row_group`,
    :func:`check_partition`, geopandas ``to_parquet``).

    Parameters
    ----------
    path, index
        The GeoParquet file and the row group.
    dest
        The part file to write.
    lines, territories, first_row, **options
        As in :func:`check_partition`.
    geo
        The file's parsed ``geo`` metadata (read from the file when None).
    where
        What the row group is, for messages (default: the path and the row group).

    Returns
    -------
    dict
        ``rows``, ``verdicts``, ``sources`` and ``method`` of the part (merged by the caller).
    """
    from borderkit.io.blocks import row_group_blocks

    where = where or f"{path} row group {index}"
    blocks = None
    try:
        blocks = row_group_blocks(path, index, block_rows=TASK_BLOCK_ROWS)
        if blocks is not None:
            if geo is None:
                _rows, geo = _row_groups(path)
            return _check_blocks(path, blocks, dest, geo, lines=lines, territories=territories, **options)
    except ValidationError as exc:
        raise ValidationError(f"{where} (rows {first_row}-{first_row + _group_rows(path, index) - 1} of the input): "
                              f"{exc}") from None
    except Exception:  # noqa: BLE001 - a value the fast reader does not parse: the GeoDataFrame path names it
        blocks = None
    # not a WGS84 file of 2D points (or a value the block reader does not parse): the GeoDataFrame path
    part = read_row_group(path, index, geo=geo)
    checked = check_partition(part, lines, territories=territories, first_row=first_row, where=where, **options)
    return _write_part(checked, dest)


def _check_blocks(path: str, blocks: Any, dest: str, geo: dict[str, Any], **options: Any) -> dict[str, Any]:
    """Check the blocks of one row group (:func:`borderkit.locate.check_arrays`) and write each to one part file
    (:func:`_write_arrow_part`, GeoParquet 1.1 with the covering column); the part's counts."""
    import pyarrow.parquet as pq

    from borderkit.io.geoparquet import PointParquetWriter
    from borderkit.locate import check_arrays

    primary, _cols, covering = _geo_columns(geo, path)
    # the geometry where the input has it (as to_parquet of the GeoDataFrame read from it puts it)
    at = [n for n in pq.read_schema(path).names if n not in covering or n == primary].index(primary)
    counts: list[dict[str, Any]] = []
    with PointParquetWriter(dest, geometry=primary, crs="EPSG:4326", covering=True, geometry_at=at) as writer:
        for block in blocks:
            results = check_arrays(block.lon, block.lat, frame=block.columns, **options)
            _write_arrow_block(writer, block, results)
            counts.append(_arrow_counts(results))
            del results
    rows, verdicts, per_source, method = _merge(counts)
    return {"rows": rows, "verdicts": verdicts, "sources": per_source, "method": method}


def _group_rows(path: str, index: int) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.row_group(index).num_rows)


def _write_arrow_block(writer: Any, block: Any, results: Any) -> None:
    """One checked block into the part's writer: the input's columns, the results (the writer adds the
    geometry where the input has it and the ``bbox`` covering column), the columns of :func:`_write_part`."""
    import pyarrow as pa

    from borderkit.locate import checked_table

    table = checked_table(block.columns, results)
    # a result column empty here (``<source>__other_border`` of a source without other borders) is
    # text in _write_part's parts (the GeoDataFrame path): text type, not null, one schema for the dataset
    table = table.cast(pa.schema([pa.field(f.name, pa.large_string()) if pa.types.is_null(f.type) else f
                                  for f in table.schema]))
    writer.write(table, block.lon, block.lat)


def _arrow_counts(results: Any) -> dict[str, Any]:
    """What :func:`_write_part` counts, from the Arrow result columns of :func:`~borderkit.locate.check_arrays`."""
    import pyarrow.compute as pc

    def tally(column: str) -> dict[str, int]:
        counts = pc.value_counts(results.column(column).combine_chunks().dictionary_decode()
                                 if hasattr(results.column(column).type, "value_type")
                                 else results.column(column))
        return {str(c["values"]): int(c["counts"]) for c in counts.to_pylist() if c["values"] is not None}

    names = results.column_names
    counts: dict[str, Any] = {"rows": results.num_rows, "verdicts": {}, "sources": {},
                              "method": (results.schema.metadata or {}).get(b"method", b"").decode("utf-8")}
    if "check__verdict" in names:
        counts["verdicts"] = tally("check__verdict")
    for c in names:
        if c.endswith("__determinate") and not c.startswith("check__"):
            src = c[: -len("__determinate")]
            counts["sources"][src] = {
                "determinate": int(pc.sum(results.column(c)).as_py() or 0),
                "near_line": int(pc.sum(results.column(f"{src}__near_line")).as_py() or 0),
                # points determinately on another party's side of this source's line (the exit-10 rule)
                "across": tally(f"{src}__verdict").get("across", 0) if f"{src}__verdict" in names else 0,
            }
    return counts


def _merge(counts: list[dict[str, Any]]) -> tuple[int, dict[str, int], dict[str, dict[str, int]], str]:
    rows = 0
    verdicts: dict[str, int] = {}
    sources: dict[str, dict[str, int]] = {}
    method = ""
    for c in counts:
        rows += c["rows"]
        method = method or c["method"]
        for k, v in c["verdicts"].items():
            verdicts[k] = verdicts.get(k, 0) + v
        for s, d in c["sources"].items():
            acc = sources.setdefault(s, {"determinate": 0, "near_line": 0, "across": 0})
            for k, v in d.items():
                acc[k] += v
    return rows, dict(sorted(verdicts.items())), dict(sorted(sources.items())), method


def _progress(futures: list[Any], show: bool) -> list[Any]:
    """Wait for every future, with a bar on stderr (tqdm) when asked; results in order."""
    from distributed import as_completed

    bar = None
    if show:
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(futures), unit=" partitions", file=sys.stderr, desc="borderkit check --dask",
                       mininterval=0.5)
        except ImportError:  # pragma: no cover - tqdm is in the cli extra
            bar = None
    try:
        for fut in as_completed(futures):
            if fut.status == "error":
                fut.result()  # raises the worker's exception here, with its own message
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return [f.result() for f in futures]


def local_cluster(*, workers: int, memory_limit: str | int = DEFAULT_MEMORY_LIMIT, processes: bool = True) -> Any:
    """The ``LocalCluster`` :func:`check_parquet` runs on: one thread per worker, no dashboard,
    :data:`LOCAL_CLUSTER_CONFIG`.

    Parameters
    ----------
    workers
        Worker processes (threads of this process with ``processes=False``).
    memory_limit
        Memory limit of each worker (dask's format).
    processes
        Workers are processes (default) or threads of this process.

    Returns
    -------
    distributed.LocalCluster
        Running; the caller closes it.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set(LOCAL_CLUSTER_CONFIG):  # the nannies copy the configuration when they are made
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, memory_limit=memory_limit,
                            dashboard_address=None)


def check_parquet(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    lines: Any = None,
    territories: Any = None,
    expect: str | None = None,
    expect_column: str | None = None,
    default_precision_m: float | None = None,
    sources: Any = None,
    method: str = "auto",
    combine: str = "sum",
    scheduler: str | None = None,
    workers: int | None = None,
    memory_limit: str | int = DEFAULT_MEMORY_LIMIT,
    processes: bool = True,
    progress: bool = True,
    overwrite: bool = False,
) -> ScaleSummary:
    """Check every point of a GeoParquet file on dask; write a GeoParquet 1.1 dataset.

    Parameters
    ----------
    input
        A GeoParquet file of points (any CRS; transformed to EPSG:4326 per partition). Each
        row group is one partition (one task); a worker reads, checks and writes it in blocks of
        :data:`TASK_BLOCK_ROWS` rows (a WGS84 file of 2D points; any other file one row group
        at a time, which then bounds the memory of a worker: row groups of 100 000 to 1 000 000
        rows).
    output
        The folder to write: ``part.00000.parquet`` … one file per row group, in input order,
        each GeoParquet 1.1 with the ``bbox`` covering column (geopandas
        ``write_covering_bbox=True``). Read it back with ``geopandas.read_parquet(output)`` or
        ``dask_geopandas.read_parquet(output)``. Written atomically: into a temporary folder
        beside it, renamed when every part is written.
    lines, territories, expect, expect_column, default_precision_m, sources, method, combine
        As in :func:`borderkit.locate.check_table` (lines None: the bundled case).
    scheduler
        Address of a running dask scheduler (``"tcp://host:8786"``); None starts a
        ``LocalCluster`` for the run.
    workers
        Workers of the ``LocalCluster`` (default: the number of cores); ignored with *scheduler*.
    memory_limit
        Memory limit of each ``LocalCluster`` worker (dask's format: ``"2GiB"``, bytes).
    processes
        ``LocalCluster`` workers are processes (default; the checks hold the GIL in parts) or
        threads of this process.
    progress
        Show a progress bar of partitions on stderr (tqdm).
    overwrite
        Replace an existing *output*.

    Returns
    -------
    ScaleSummary
        Rows, partitions, workers, wall time and the verdict counts.

    Raises
    ------
    borderkit.errors.OutputExistsError
        *output* exists and *overwrite* is false.
    borderkit.errors.ValidationError
        The input is not GeoParquet, or a partition holds bad points (the message names the
        file, the row group and its rows).
    borderkit.errors.OptionalDependencyError
        dask, distributed, dask-geopandas or pyarrow is missing (``pip install 'borderkit[scale]'``).
    """
    _require_dask()
    from distributed import Client

    src = os.fspath(input)
    dest = Path(output)
    if dest.exists() and not overwrite:
        raise OutputExistsError(f"{dest}: exists; pass --overwrite (overwrite=True) to replace it")
    if expect is not None and expect_column is not None:
        raise ValidationError("give expect or expect_column, not both")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValidationError(f"workers: must be a positive integer, got {workers!r}")
    rows, geo = _row_groups(src)
    if sum(rows) == 0:
        raise ValidationError(f"{src}: no rows to check")
    options = {"expect": expect, "expect_column": expect_column, "default_precision_m": default_precision_m,
               "sources": sources, "method": resolve_method(method, sum(rows)), "combine": combine}
    # fail on bad options here, in one line, before any cluster starts: check the first row
    check_partition(read_row_group(src, 0, geo=geo, rows=1), lines, territories=territories, first_row=0,
                    where=f"{src} row group 0", **options)

    t0 = time.perf_counter()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    cluster = None
    try:
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            cluster = local_cluster(workers=n, memory_limit=memory_limit, processes=processes)
            client = Client(cluster)
        else:
            client = Client(scheduler)
        try:
            n_workers = len(client.scheduler_info()["workers"])
            t_ready = time.perf_counter()
            # the line sources travel to each worker once (the bundled case: each worker loads it)
            lines_ref = client.scatter(lines, broadcast=True) if lines is not None else None
            terr_ref = client.scatter(territories, broadcast=True) if territories is not None else None
            starts = np.r_[0, np.cumsum(rows)[:-1]]
            width = max(5, len(str(len(rows) - 1)))
            # one task per row group (read, check, write): no dataframe graph, nothing but counts comes back
            futures = [
                client.submit(check_row_group, os.path.abspath(src), i,
                              os.path.abspath(tmp / f"part.{i:0{width}d}.parquet"), lines_ref,
                              territories=terr_ref, first_row=int(starts[i]), geo=geo, where=f"{src} row group {i}",
                              pure=False, **options)
                for i in range(len(rows))
            ]
            counts = _progress(futures, progress)
            address = str(client.scheduler.address) if client.scheduler is not None else str(scheduler)
        finally:
            client.close()
        if dest.exists():  # overwrite was checked above; replace only now that every part is written
            shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if cluster is not None:
            cluster.close()
    n_rows, verdicts, per_source, method_text = _merge(counts)
    if n_rows != sum(rows):  # every row read is written: nothing dropped silently
        raise ValidationError(f"{src}: {sum(rows)} rows read but {n_rows} checked")  # pragma: no cover
    return ScaleSummary(
        input=src, output=str(dest), rows=n_rows, partitions=len(rows), workers=n_workers, scheduler=address,
        seconds=round(time.perf_counter() - t0, 3), verdicts=verdicts, sources=per_source, method=method_text,
        startup_seconds=round(t_ready - t0, 3),
    )


def projected_cost(points: float, *, rate_per_core: float, cores: int) -> dict[str, float]:
    """Wall time and core-hours to check *points* at a measured rate (points/s per core).

    Parameters
    ----------
    points
        Number of points.
    rate_per_core
        Measured end-to-end rate of one worker (points per second per core).
    cores
        Worker cores of the cluster.

    Returns
    -------
    dict
        ``core_hours`` and ``wall_hours`` (perfect scaling; see ``docs/scale.md`` for what is
        not included: scheduler overhead per partition, object-store bandwidth).
    """
    if rate_per_core <= 0 or cores < 1 or not math.isfinite(points):
        raise ValidationError("projected_cost: rate_per_core > 0, cores >= 1 and a finite number of points")
    core_s = points / rate_per_core
    return {"core_hours": core_s / 3600.0, "wall_hours": core_s / cores / 3600.0}
