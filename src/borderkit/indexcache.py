"""Prepared data cached on disk: named sets of numpy arrays, keyed, never trusted blindly.

``borderkit check --lat --lon`` answers one point in a fraction of a second because it does
not read the case's GeoPackages (GDAL, geopandas) nor rebuild the line models on every call:
:mod:`borderkit.locate` stores the prepared models of a bundled case here, as plain numpy
arrays in one ``.npz`` file per case, and reads them back on the next call.

Safety rules:

* The file name carries the *key* (a sha256 the caller computes from everything the arrays
  depend on: the registry entries of the layers, the borderkit version, the code that builds
  them) and the key is stored inside the file too; a file whose stored key differs is a miss.
* Files are read with ``numpy.load(allow_pickle=False)``: no Python object is ever unpickled
  from the cache, whatever the file holds. A file that cannot be read (truncated, not a zip,
  a foreign format) is a miss; the caller rebuilds and overwrites it.
* Files are written atomically (:func:`borderkit.io.atomic.atomic_output`), so a concurrent
  reader sees the old file or the new one, never half of one. A cache folder that cannot be
  written only costs the rebuild next time: nothing fails.

The folder is ``$BORDERKIT_CACHE`` when set, else the platform's user cache folder
(:func:`platformdirs.user_cache_dir`), sub-folder ``index``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["cache_dir", "cache_path", "load_arrays", "save_arrays", "KEY_FIELD"]

KEY_FIELD = "__key__"
"""Name of the array holding the key inside a cache file."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


def cache_dir() -> Path:
    """Folder of the cached indexes: ``$BORDERKIT_CACHE/index``, else the user cache dir's ``index``.

    Linux ``$XDG_CACHE_HOME/borderkit`` or ``~/.cache/borderkit``; macOS ``~/Library/Caches/borderkit``;
    Windows ``%LOCALAPPDATA%\\borderkit`` (:func:`platformdirs.user_cache_dir`).
    """
    from borderkit.registry import user_cache_dir

    return user_cache_dir("index")


def cache_path(name: str, key: str) -> Path:
    """The file of *name* for *key* (hex digest): ``<cache_dir>/<name>-<first 20 hex of key>.npz``."""
    if not _NAME_RE.match(name):
        raise ValueError(f"cache name {name!r}: letters, digits, '.', '_' and '-' only")
    if not re.fullmatch(r"[0-9a-f]{20,}", key):
        raise ValueError("cache key: expected a hex digest")
    return cache_dir() / f"{name}-{key[:20]}.npz"


def load_arrays(name: str, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored for *name* under *key*, or None (no file, another key, unreadable file).

    Every array is read into memory (the file is closed on return). Object arrays are refused
    by ``allow_pickle=False``: such a file is a miss, like any other unreadable one.
    """
    path = cache_path(name, key)
    try:
        with np.load(path, allow_pickle=False) as z:
            if KEY_FIELD not in z.files or str(z[KEY_FIELD]) != key:
                return None
            return {k: z[k] for k in z.files if k != KEY_FIELD}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        # missing, truncated, foreign or pickled content: rebuilt by the caller, never trusted
        return None


def save_arrays(name: str, key: str, arrays: dict[str, np.ndarray]) -> Path | None:
    """Store *arrays* for *name* under *key* atomically; the path, or None when it could not be written.

    Raises
    ------
    ValueError
        An array of Python objects (it could not be read back without pickle) or a reserved name.
    """
    from borderkit.io.atomic import atomic_output

    if KEY_FIELD in arrays:
        raise ValueError(f"{KEY_FIELD!r} is reserved for the key")
    bad = [k for k, v in arrays.items() if np.asarray(v).dtype == object]
    if bad:
        raise ValueError(f"object arrays cannot be cached without pickle: {', '.join(bad)}")
    path = cache_path(name, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {KEY_FIELD: np.array(key), **arrays}
        with atomic_output(path, overwrite=True) as tmp, open(tmp, "wb") as f:
            np.savez(f, **payload)
    except OSError:
        return None  # a read-only or full cache folder: the next call rebuilds, nothing fails
    return path
