"""borderkit — map and measure border disputes.

Load the lines each side and each old map draws, incidents with their sources and
location uncertainty, and terrain; compute geodesic distances, overlaps, advance
depths and which side of a claimed line a point is on; render Leaflet maps.

The top level is a thin, lazily imported API: ``import borderkit`` does not import
geopandas, pyproj or rasterio until a function that needs them is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from borderkit._version import __version__
from borderkit.errors import (
    BorderkitError,
    CRSError,
    DatasetNotFoundError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    FormatLimitError,
    FormatLimitWarning,
    OfflineError,
    OptionalDependencyError,
    RegistryError,
    ValidationError,
)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs; at run time __getattr__ imports lazily
    from borderkit import datasets, geodesy, locate, maps, measure, overlaps, terrain  # noqa: F401
    from borderkit.claims import evaluate_claims, read_claims  # noqa: F401
    from borderkit.io import (  # noqa: F401
        read_incidents,
        read_layer,
        read_lines,
        read_places,
        read_territories,
        write_layer,  # noqa: F401
    )

# name -> (module, attribute or None for the module itself)
_LAZY = {
    "datasets": ("borderkit.datasets", None),
    "geodesy": ("borderkit.geodesy", None),
    "terrain": ("borderkit.terrain", None),
    "measure": ("borderkit.measure", None),
    "overlaps": ("borderkit.overlaps", None),
    "locate": ("borderkit.locate", None),
    "maps": ("borderkit.maps", None),
    "evaluate_claims": ("borderkit.claims", "evaluate_claims"),
    "read_lines": ("borderkit.io", "read_lines"),
    "read_incidents": ("borderkit.io", "read_incidents"),
    "read_places": ("borderkit.io", "read_places"),
    "read_territories": ("borderkit.io", "read_territories"),
    "read_layer": ("borderkit.io", "read_layer"),
    "write_layer": ("borderkit.io", "write_layer"),
    "read_claims": ("borderkit.claims", "read_claims"),
}

__all__ = [
    "__version__",
    "BorderkitError",
    "CRSError",
    "DatasetNotFoundError",
    "EmptyFileError",
    "EncodingError",
    "FileFormatError",
    "FormatLimitError",
    "FormatLimitWarning",
    "OfflineError",
    "OptionalDependencyError",
    "RegistryError",
    "ValidationError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'borderkit' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
