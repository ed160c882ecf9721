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
* Layout: an ``.npz`` holding three members — the key, a JSON table of contents (name, dtype,
  shape, offset of every array) and one ``uint8`` buffer with all the arrays, each aligned to
  16 bytes. Reading it is three member reads and views into the buffer, not one zip member and
  one header parse per array (a case's ~190 arrays took 35 ms that way, 3 ms this way). The
  table is checked (known dtypes only, never ``object``; every slice inside the buffer) before
  any view is made.
* Files are written atomically (:func:`borderkit.io.atomic.atomic_output`), so a concurrent
  reader sees the old file or the new one, never half of one. A cache folder that cannot be
  written only costs the rebuild next time: nothing fails.

The folder is ``$BORDERKIT_CACHE`` when set, else the platform's user cache folder
(:func:`platformdirs.user_cache_dir`), sub-folder ``index``.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["cache_dir", "cache_path", "load_arrays", "save_arrays", "KEY_FIELD"]

KEY_FIELD = "__key__"
"""Name of the array holding the key inside a cache file."""
_TOC_FIELD = "__toc__"
_BLOB_FIELD = "__blob__"
_ALIGN = 16
_LAYOUT = "borderkit-arrays-1"

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
            if not {KEY_FIELD, _TOC_FIELD, _BLOB_FIELD} <= set(z.files) or str(z[KEY_FIELD]) != key:
                return None
            toc, blob = str(z[_TOC_FIELD]), z[_BLOB_FIELD]
        return _unpack(toc, blob)
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile):
        # missing, truncated, foreign or pickled content: rebuilt by the caller, never trusted
        return None


def _pack(arrays: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
    """All arrays in one aligned ``uint8`` buffer, and the JSON table of contents."""
    entries, chunks, offset = [], [], 0
    for k, v in arrays.items():
        a = np.asarray(v, order="C")  # not ascontiguousarray: it would make a 0-d array 1-d
        pad = -offset % _ALIGN
        if pad:
            chunks.append(np.zeros(pad, dtype=np.uint8))
            offset += pad
        entries.append([k, a.dtype.str, list(a.shape), offset, a.nbytes])
        chunks.append(a.reshape(-1).view(np.uint8) if a.nbytes else np.empty(0, dtype=np.uint8))
        offset += a.nbytes
    blob = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.uint8)
    return json.dumps({"layout": _LAYOUT, "arrays": entries}), blob


def _unpack(toc_text: str, blob: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays of :func:`_pack` as views into *blob*, after checking every entry.

    Raises
    ------
    ValueError, TypeError, KeyError
        Not a table this module wrote (an unknown layout or dtype, an object dtype, a slice
        outside the buffer, a size that does not match the shape).
    """
    toc = json.loads(toc_text)
    if not isinstance(toc, dict) or toc.get("layout") != _LAYOUT:
        raise ValueError("cache file: unknown layout")
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise ValueError("cache file: the buffer is not bytes")
    out: dict[str, np.ndarray] = {}
    for name, dtype_str, shape, offset, nbytes in toc["arrays"]:
        dtype = np.dtype(str(dtype_str))
        if dtype.kind not in "biufU" or dtype.hasobject:  # plain numbers, booleans and text only
            raise ValueError(f"cache file: array {name!r} has dtype {dtype}")
        shape = tuple(int(d) for d in shape)
        offset, nbytes = int(offset), int(nbytes)
        if min(shape, default=0) < 0 or math.prod(shape) * dtype.itemsize != nbytes:
            raise ValueError(f"cache file: array {name!r} does not fill its shape")
        if offset < 0 or offset + nbytes > blob.size or offset % _ALIGN:
            raise ValueError(f"cache file: array {name!r} lies outside the buffer")
        out[str(name)] = blob[offset:offset + nbytes].view(dtype).reshape(shape)
    return out


def save_arrays(name: str, key: str, arrays: dict[str, np.ndarray]) -> Path | None:
    """Store *arrays* for *name* under *key* atomically; the path, or None when it could not be written.

    Raises
    ------
    ValueError
        An array of Python objects (it could not be read back without pickle), of another kind
        than numbers, booleans or text, or a reserved name.
    """
    from borderkit.io.atomic import atomic_output

    if KEY_FIELD in arrays:
        raise ValueError(f"{KEY_FIELD!r} is reserved for the key")

    bad = [k for k, v in arrays.items() if np.asarray(v).dtype == object]
    if bad:
        raise ValueError(f"object arrays cannot be cached without pickle: {', '.join(bad)}")
    other = [k for k, v in arrays.items() if np.asarray(v).dtype.kind not in "biufU"]
    if other:  # what _unpack accepts back: numbers, booleans, text
        raise ValueError(f"only arrays of numbers, booleans and text are cached: {', '.join(other)}")
    path = cache_path(name, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        toc, blob = _pack(arrays)
        payload: dict[str, Any] = {KEY_FIELD: np.array(key), _TOC_FIELD: np.array(toc), _BLOB_FIELD: blob}
        with atomic_output(path, overwrite=True) as tmp, open(tmp, "wb") as f:
            np.savez(f, **payload)
    except OSError:
        return None  # a read-only or full cache folder: the next call rebuilds, nothing fails
    return path
