"""Readers and writers for the files people bring: lines, territories, incidents, places.

:func:`write_layer` writes every layer kind to every format the readers read
(GeoJSON, GeoPackage, GeoParquet, CSV, KML, GPX, Shapefile and zipped
Shapefile), so that they read it back; :mod:`borderkit.io.writers` lists what
each format keeps (Shapefile: 10-character field names, 254-byte text; GPX:
points and lines only) and warns with
:class:`~borderkit.errors.FormatLimitWarning` whenever a format shortens
something.

Importing :mod:`borderkit.io` is cheap: geopandas, pyogrio and shapely are
imported on first use of a reader, and pyarrow only when a GeoParquet file is
read. See :mod:`borderkit.io.readers` for formats, CRS rules, ``errors=`` and
row numbering, and :mod:`borderkit.io.external` for ACLED and UCDP GED.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "read_layer",
    "read_lines",
    "read_territories",
    "read_incidents",
    "read_places",
    "read_points",
    "read_csv_table",
    "write_layer",
    "layer_columns",
    "detect_layer_kind",
    "max_input_bytes",
    "ACLED_GEO_PRECISION_M",
    "ACLED_TIME_PRECISION",
    "UCDP_WHERE_PREC_M",
    "UCDP_DATE_PREC",
    "UCDP_TYPE_OF_VIOLENCE",
    "is_acled",
    "is_ucdp_ged",
]

_LAZY = {
    "read_layer": ".readers",
    "read_lines": ".readers",
    "read_territories": ".readers",
    "read_incidents": ".readers",
    "read_places": ".readers",
    "read_points": ".readers",
    "read_csv_table": "._csv",
    "write_layer": ".writers",
    "layer_columns": ".readers",
    "detect_layer_kind": ".readers",
    "max_input_bytes": ".readers",
    "ACLED_GEO_PRECISION_M": ".external",
    "ACLED_TIME_PRECISION": ".external",
    "UCDP_WHERE_PREC_M": ".external",
    "UCDP_DATE_PREC": ".external",
    "UCDP_TYPE_OF_VIOLENCE": ".external",
    "is_acled": ".external",
    "is_ucdp_ged": ".external",
}

if TYPE_CHECKING:  # pragma: no cover
    from ._csv import read_csv_table
    from .external import (
        ACLED_GEO_PRECISION_M,
        ACLED_TIME_PRECISION,
        UCDP_DATE_PREC,
        UCDP_TYPE_OF_VIOLENCE,
        UCDP_WHERE_PREC_M,
        is_acled,
        is_ucdp_ged,
    )
    from .readers import (
        detect_layer_kind,
        layer_columns,
        max_input_bytes,
        read_incidents,
        read_layer,
        read_lines,
        read_places,
        read_points,
        read_territories,
    )
    from .writers import write_layer


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'borderkit.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
