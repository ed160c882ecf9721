"""The registry of bundled data: where it lives, what ``registry.json`` lists, and hash checks.

The registry (``geodata/registry.json``) lists every bundled file with its sha256,
size, row count, CRS, the sources it was built from and their licences, in the
manner of *geodatasets*. This module finds the data folder, reads the registry
and verifies files against it; it reads no layer (that is :mod:`borderkit.cases`)
and imports only :mod:`borderkit.errors` and the standard library.

Examples
--------
>>> from borderkit import registry
>>> "armenia-azerbaijan" in registry.names()      # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from borderkit.errors import DatasetNotFoundError, RegistryError

__all__ = ["data_dir", "registry", "names", "info", "verify", "dataset_entry", "sha256_file", "DEFAULT_CASE"]

DEFAULT_CASE = "armenia-azerbaijan"
"""Name of the case loaded when none is given (the one case bundled with borderkit)."""


def data_dir() -> Path:
    """Directory that holds ``registry.json`` and the case folders.

    Looked up in this order: the ``BORDERKIT_DATA`` environment variable; the
    copy installed inside the package (``borderkit/_geodata`` in a wheel); the
    ``geodata/`` folder of a source checkout (editable install).
    """
    env = os.environ.get("BORDERKIT_DATA")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent
    candidates += [here / "_geodata", here.parent.parent / "geodata"]
    for c in candidates:
        if (c / "registry.json").is_file():
            return c
    raise RegistryError(
        "cannot find the bundled data (registry.json); looked in "
        + ", ".join(str(c) for c in candidates)
        + ". Set BORDERKIT_DATA to the geodata/ folder of a borderkit checkout."
    )


@cache
def _registry_cached(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def registry() -> dict[str, Any]:
    """The parsed registry: ``{"sources": {...}, "datasets": {...}}``."""
    path = data_dir() / "registry.json"
    return _registry_cached(str(path), path.stat().st_mtime)


def names() -> list[str]:
    """Names of the bundled datasets."""
    return sorted(registry()["datasets"])


def dataset_entry(name: str) -> dict[str, Any]:
    """The registry entry of one dataset (``title``, ``bbox``, ``files``).

    Raises
    ------
    DatasetNotFoundError
        Unknown name (the message lists the available ones).
    """
    datasets = registry()["datasets"]
    if name not in datasets:
        raise DatasetNotFoundError(
            f"unknown dataset {name!r}; available: {', '.join(sorted(datasets))} "
            "(list them with `borderkit datasets list`)"
        )
    return datasets[name]


def sha256_file(path: Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB blocks (bounded memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(name: str = DEFAULT_CASE) -> dict[str, Path]:
    """Check every file of a dataset against its registry entry.

    Returns
    -------
    dict
        Layer key → absolute path of the verified file.

    Raises
    ------
    RegistryError
        A file is missing or its sha256 or size differs from the registry.
    """
    entry = dataset_entry(name)
    root = data_dir()
    paths: dict[str, Path] = {}
    for key, meta in entry["files"].items():
        path = root / meta["path"]
        if not path.is_file():
            raise RegistryError(
                f"{path}: file of dataset {name!r} layer {key!r} is missing; rebuild with geodata/build.py"
            )
        size = path.stat().st_size
        if "bytes" in meta and size != meta["bytes"]:
            raise RegistryError(
                f"{path}: {size} bytes, the registry says {meta['bytes']}; the file was changed by hand or is "
                "truncated — restore it with `git checkout` or rebuild with geodata/build.py"
            )
        digest = sha256_file(path)
        if digest != meta["sha256"]:
            raise RegistryError(
                f"{path}: sha256 {digest} does not match the registry ({meta['sha256']}); "
                "the file was changed by hand or is corrupt — restore it with `git checkout` "
                "or rebuild with geodata/build.py"
            )
        paths[key] = path
    return paths


def info(name: str = DEFAULT_CASE) -> dict[str, Any]:
    """Registry entry of a dataset, with the entries of its sources."""
    entry = dataset_entry(name)
    src_names = sorted({s for f in entry["files"].values() for s in f.get("sources", [])})
    all_sources = registry()["sources"]
    return {**entry, "name": name, "source_entries": {s: all_sources.get(s, {}) for s in src_names}}
