"""What the trace tool needs to know about a georeferenced scan (``payload["trace"]`` of the map page).

A scan written by ``borderkit scan georef --sheet NAME`` (:func:`borderkit.georef.georeference`)
carries GeoTIFF tags: ``BORDERKIT_SHEET``, ``_SCALE``, ``_TRANSFORMATION``, ``_METHOD``,
``_GCP_COUNT``, ``_GCP_RMS_M``, ``_GCP_MAX_RESIDUAL_M``. From them this module makes one record
per scan for the page script ``web/trace.js``:

* the sheet frame in WGS84 (:func:`borderkit.sheets.sheets_geojson`, through the same SK-42 →
  WGS84 operation the scan was georeferenced with), drawn and labelled on the map;
* the accuracy a line traced on the scan can claim, in metres, as the root-sum-square of three
  independent errors: the drawing accuracy of the printed map (:data:`DRAWING_ACCURACY_MM` on
  paper at the sheet's scale — 50 m at 1:100,000), the control points' RMS residual of the
  georeferencing, and the stated accuracy of the datum operation;
* the datum note and the attribution that go into every exported line.

Everything here is data: the records go into the page only as JSON (escaped) and the page script
inserts every string with ``textContent`` (DESIGN.md, "Untrusted text").
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from borderkit.errors import ValidationError
from borderkit.maps.escape import clean_text

__all__ = ["DRAWING_ACCURACY_MM", "MAX_TAG_CHARS", "scan_trace_record", "scan_trace_records", "trace_accuracy_m"]

DRAWING_ACCURACY_MM = 0.5
"""Drawing (graphical) accuracy of a printed topographic map, millimetres on paper.

The usual figure for the position of well-defined detail on a Soviet/Russian topographic sheet is
0.5 mm at the map's scale (1 mm for less well-defined detail); it is multiplied by the scale
denominator to give metres on the ground."""

MAX_TAG_CHARS = 500
"""Longest tag text carried into the page (a tag is data from the file; longer text is cut)."""

_CODE = re.compile(r"\(([A-Z]+:[0-9]{1,9})\)")


def trace_accuracy_m(*, scale: int, gcp_rms_m: float, datum_accuracy_m: float) -> dict[str, float]:
    """Accuracy of a line traced on a georeferenced sheet, metres (root-sum-square of independent errors).

    Parameters
    ----------
    scale
        Scale denominator of the sheet (``100000`` for 1:100,000).
    gcp_rms_m
        RMS residual of the georeferencing control points, metres (geodesic on WGS84).
    datum_accuracy_m
        Stated accuracy of the SK-42 → WGS84 operation, metres (0 when the scan is in WGS84).

    Returns
    -------
    dict
        ``drawing_m`` (:data:`DRAWING_ACCURACY_MM` × scale), ``gcp_rms_m``, ``datum_m`` and
        ``total_m`` = √(drawing² + rms² + datum²), all in metres.
    """
    drawing = DRAWING_ACCURACY_MM / 1000.0 * float(scale)
    total = math.sqrt(drawing**2 + float(gcp_rms_m) ** 2 + float(datum_accuracy_m) ** 2)
    return {
        "drawing_m": round(drawing, 3),
        "gcp_rms_m": round(float(gcp_rms_m), 3),
        "datum_m": round(float(datum_accuracy_m), 3),
        "total_m": round(total, 1),
    }


def _tag_text(tags: Mapping[str, str], key: str) -> str:
    return clean_text(tags.get(key, ""))[:MAX_TAG_CHARS]


def _tag_number(path: Path, tags: Mapping[str, str], key: str) -> float:
    text = _tag_text(tags, key)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValidationError(
            f"{path}: tag {key}={text[:40]!r} is not a distance in metres; re-georeference the scan with "
            "borderkit scan georef"
        )
    return value


def _read_tags(path: Path) -> dict[str, str]:
    try:
        import rasterio
    except ImportError:  # pragma: no cover - depends on the installation
        return {}
    with rasterio.open(path) as src:
        return dict(src.tags())


def scan_trace_record(path: str | os.PathLike[str], *, name: str | None = None) -> dict[str, Any] | None:
    """The trace record of one GeoTIFF scan, or ``None`` when borderkit did not georeference it from a sheet.

    Parameters
    ----------
    path
        A GeoTIFF written by :func:`borderkit.georef.georeference` with a sheet name.
    name
        Display name of the scan (default: the file name without extension).

    Returns
    -------
    dict or None
        ``scan``, ``sheet`` (normalised name), ``scale``, ``frame`` (``[[lat, lon], …]``, WGS84
        outline of the sheet), ``accuracy`` (:func:`trace_accuracy_m`, metres), ``accuracy_note``,
        ``datum_note``, ``notes``, ``attribution``, ``units``.

    Raises
    ------
    ValidationError
        The tags name a sheet that does not parse, or a residual that is not a distance.
    """
    from borderkit.sheets import parse_sheet, sheets_geojson
    from borderkit.sheets import sheet as sheet_info

    p = Path(path)
    tags = _read_tags(p)
    raw_sheet = _tag_text(tags, "BORDERKIT_SHEET")
    if not raw_sheet:
        return None
    try:
        parsed = parse_sheet(raw_sheet)
    except ValidationError as exc:
        raise ValidationError(f"{p}: tag BORDERKIT_SHEET: {exc}") from None
    transformation_text = _tag_text(tags, "BORDERKIT_TRANSFORMATION")
    code = _CODE.search(transformation_text)
    info = None
    if code is not None:
        try:  # the operation the scan was georeferenced with, so that the frame lies where the scan does
            info = sheet_info(raw_sheet, transformation=code.group(1))
        except (ValidationError, ValueError):
            info = None
    if info is None:
        info = sheet_info(raw_sheet)
    tr = info["transformation"]
    outline = sheets_geojson([parsed], transformation=tr["code"])["features"][0]["geometry"]["coordinates"][0]
    rms = _tag_number(p, tags, "BORDERKIT_GCP_RMS_M")
    max_res = _tag_number(p, tags, "BORDERKIT_GCP_MAX_RESIDUAL_M") if tags.get("BORDERKIT_GCP_MAX_RESIDUAL_M") else rms
    scale = int(info["scale"])
    acc = trace_accuracy_m(scale=scale, gcp_rms_m=rms, datum_accuracy_m=float(tr["accuracy_m"]))
    method = _tag_text(tags, "BORDERKIT_METHOD")
    count = _tag_text(tags, "BORDERKIT_GCP_COUNT")
    accuracy_note = (
        f"accuracy {acc['total_m']:g} m = root-sum-square of {DRAWING_ACCURACY_MM:g} mm drawing accuracy at "
        f"1:{scale:,} ({acc['drawing_m']:g} m), georeferencing RMS {acc['gcp_rms_m']:g} m and the datum "
        f"operation's stated {acc['datum_m']:g} m"
    )
    datum_note = (
        f"SK-42 (EPSG:4284) → WGS84 with {tr['name']} ({tr['code']}, stated {float(tr['accuracy_m']):g} m); "
        f"shift here {float(info['shift_m']):.1f} m"
    )
    georef_note = (
        f"georeferenced by borderkit ({method or 'method not stated'}, {count or '?'} control points): "
        f"RMS {rms:g} m, max {max_res:g} m (geodesic, WGS84)"
    )
    scan_name = clean_text(name if name is not None else p.stem)[:MAX_TAG_CHARS]
    return {
        "scan": scan_name,
        "sheet": info["name"],
        "scale": scale,
        "frame": [[round(lat, 7), round(lon, 7)] for lon, lat in outline],
        "accuracy": acc,
        "accuracy_note": accuracy_note,
        "datum_note": datum_note,
        "transformation_tag": transformation_text,
        "notes": f"traced on the scan {scan_name}; {datum_note}; {georef_note}; {accuracy_note}",
        "attribution": f"traced by the user over a scan of Soviet topographic sheet {info['name']} 1:{scale:,}",
        "units": "metres; coordinates EPSG:4326 (WGS84)",
    }


def scan_trace_records(scans: Sequence[Any], warnings: list[str] | None = None) -> list[dict[str, Any]]:
    """Trace records of the scans given to a map (GeoTIFF paths or mappings with ``path``).

    Scans given as PNG bytes, or GeoTIFFs without borderkit's sheet tags, have none. A scan
    whose tags do not read adds one line to *warnings* and no record (the scan itself is still
    drawn).
    """
    out: list[dict[str, Any]] = []
    for s in scans:
        path: Any = None
        name = None
        if isinstance(s, (str, os.PathLike)):
            path = s
        elif isinstance(s, Mapping) and isinstance(s.get("path"), (str, os.PathLike)):
            path, name = s["path"], s.get("name")
        if path is None or Path(path).suffix.lower() not in (".tif", ".tiff"):
            continue
        try:
            rec = scan_trace_record(path, name=name)
        except ValidationError as exc:
            if warnings is None:
                raise
            warnings.append(f"no trace tool for this scan: {exc}")
            continue
        if rec is not None:
            out.append(rec)
    return out
