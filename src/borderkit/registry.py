"""The registries of case data: where cases live, what a ``registry.json`` lists, and hash checks.

A registry (``registry.json``) lists every file of one or more cases with its
sha256, size, row count, CRS, the sources it was built from and their licences,
in the manner of *geodatasets*. There is one for the bundled cases
(``geodata/registry.json``, :func:`data_dir`) and one in every user case folder
(``NAME/registry.json``, paths relative to that folder; see
``docs``/DESIGN.md "case folder"). Every function that reads a registry takes
the folder that holds it (``root``, default: the bundled data), so bundled and
user cases are checked by the same code. :func:`find_case` tells where a case
given by name or folder lives. This module reads no layer (that is
:mod:`borderkit.cases`) and imports only :mod:`borderkit.errors` and the
standard library (and :mod:`platformdirs` when installed).

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
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from borderkit.errors import DatasetNotFoundError, FileFormatError, RegistryError

__all__ = [
    "data_dir",
    "registry",
    "names",
    "info",
    "verify",
    "dataset_entry",
    "sha256_file",
    "user_cases_dir",
    "user_cache_dir",
    "user_case_dirs",
    "find_case",
    "CaseLocation",
    "REGISTRY_FILE",
    "CASE_FILE",
    "DEFAULT_CASE",
]

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


REGISTRY_FILE = "registry.json"
"""File name of a registry, in the bundled data folder and in every case folder."""

CASE_FILE = "case.toml"
"""File name of the case file in a case folder; a folder without it is not a case."""

MAX_REGISTRY_BYTES = 8_000_000
"""A registry lists files, it is a few kB; a larger ``registry.json`` is refused (bounded memory)."""


@cache
def _registry_cached(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    if size > MAX_REGISTRY_BYTES:
        raise RegistryError(f"{path}: {size} bytes; a registry is at most {MAX_REGISTRY_BYTES} bytes")
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RegistryError(f"{path}: not a readable UTF-8 JSON registry ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("datasets"), dict):
        raise RegistryError(f"{path}: a registry is a JSON object with a \"datasets\" object")
    for name, entry in doc["datasets"].items():
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, dict) or not all(
            isinstance(m, dict) and isinstance(m.get("path"), str) and isinstance(m.get("sha256"), str)
            for m in files.values()
        ):
            raise RegistryError(
                f"{path}: datasets.{name}: expected \"files\": {{layer: {{\"path\", \"sha256\", …}}}}"
            )
    if not isinstance(doc.get("sources", {}), dict):
        raise RegistryError(f"{path}: \"sources\" must be an object")
    doc.setdefault("sources", {})
    return doc


def _root(root: str | os.PathLike[str] | None) -> Path:
    return data_dir() if root is None else Path(root)


def registry(root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The parsed registry of a data folder: ``{"sources": {...}, "datasets": {...}}``.

    Parameters
    ----------
    root
        Folder holding ``registry.json``: a case folder, or ``None`` for the bundled data.

    Raises
    ------
    RegistryError
        No ``registry.json`` there, or it is not a registry.
    """
    path = _root(root) / REGISTRY_FILE
    try:
        st = path.stat()
    except OSError as exc:
        raise RegistryError(
            f"{path.parent}: no {REGISTRY_FILE} (a case folder needs one; `borderkit case new` writes it)"
        ) from exc
    return _registry_cached(str(path), st.st_mtime_ns, st.st_size)


def names(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the datasets of a registry (default: the bundled cases)."""
    return sorted(registry(root)["datasets"])


def dataset_entry(name: str, *, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The registry entry of one dataset (``title``, ``bbox``, ``files``).

    Raises
    ------
    DatasetNotFoundError
        Unknown name (the message lists the available ones).
    """
    datasets = registry(root)["datasets"]
    if name not in datasets:
        raise DatasetNotFoundError(
            f"unknown dataset {name!r}; available: {', '.join(sorted(datasets))} "
            "(list them with `borderkit case list`)"
        )
    return datasets[name]


def sha256_file(path: Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB blocks (bounded memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_path(root: Path, rel: str, where: str) -> Path:
    """``root / rel``, refusing a path that leaves *root* (a registry is untrusted input)."""
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts or not rel.strip():
        raise RegistryError(f"{root / REGISTRY_FILE}: {where}: path {rel!r} must be relative to the folder, "
                            "without '..'")
    return root / p


def verify(name: str = DEFAULT_CASE, *, root: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Check every file of a dataset against its registry entry.

    Parameters
    ----------
    name
        Dataset name in the registry.
    root
        Folder holding ``registry.json`` (a case folder); ``None`` for the bundled data.

    Returns
    -------
    dict
        Layer key → absolute path of the verified file.

    Raises
    ------
    RegistryError
        A file is missing or its sha256 or size differs from the registry.
    """
    base = _root(root)
    entry = dataset_entry(name, root=base)
    fix = ("rebuild with geodata/build.py" if root is None
           else "restore the file, or remake the case with `borderkit case new`")
    restore = "restore it with `git checkout` or " if root is None else ""
    paths: dict[str, Path] = {}
    for key, meta in entry["files"].items():
        path = _file_path(base, meta["path"], f"datasets.{name}.files.{key}")
        if not path.is_file():
            raise RegistryError(f"{path}: file of dataset {name!r} layer {key!r} is missing; {fix}")
        size = path.stat().st_size
        if "bytes" in meta and size != meta["bytes"]:
            raise RegistryError(
                f"{path}: {size} bytes, the registry says {meta['bytes']}; the file was changed by hand or is "
                f"truncated — {restore}{fix}"
            )
        digest = sha256_file(path)
        if digest != meta["sha256"]:
            raise RegistryError(
                f"{path}: sha256 {digest} does not match the registry ({meta['sha256']}); "
                f"the file was changed by hand or is corrupt — {restore}{fix}"
            )
        paths[key] = path
    return paths


def info(name: str = DEFAULT_CASE, *, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Registry entry of a dataset, with the entries of its sources."""
    entry = dataset_entry(name, root=root)
    src_names = sorted({s for f in entry["files"].values() for s in f.get("sources", [])})
    all_sources = registry(root)["sources"]
    return {**entry, "name": name, "source_entries": {s: all_sources.get(s, {}) for s in src_names}}


# =================================================================================================
# where cases live: bundled, the user case folder, any folder
# =================================================================================================
def user_cases_dir() -> Path:
    """The user case folder: ``$BORDERKIT_CASES``, else ``<user data dir>/borderkit/cases``.

    The user data dir is the platform's (:func:`platformdirs.user_data_dir`):
    ``$XDG_DATA_HOME`` or ``~/.local/share`` on Linux, ``~/Library/Application
    Support`` on macOS, ``%LOCALAPPDATA%`` on Windows. The folder need not exist.
    """
    env = os.environ.get("BORDERKIT_CASES")
    if env:
        return Path(env).expanduser()
    # imported only when the environment does not name the folder (start-up time of one-point checks)
    from platformdirs import user_data_dir

    return Path(user_data_dir("borderkit", appauthor=False)) / "cases"


def user_cache_dir(part: str = "") -> Path:
    """borderkit's cache folder (or its sub-folder *part*): ``$BORDERKIT_CACHE``, else the platform's
    user cache dir (:func:`platformdirs.user_cache_dir`: ``$XDG_CACHE_HOME/borderkit`` or
    ``~/.cache/borderkit`` on Linux). One rule for every cache: registry packages (case builds),
    DEM tiles (``dem``), prepared line indexes (``index``). The folder need not exist.
    """
    env = os.environ.get("BORDERKIT_CACHE")
    if env:
        root = Path(env).expanduser()
    else:  # imported only here: with $BORDERKIT_CACHE set, a one-point check never loads platformdirs
        from platformdirs import user_cache_dir as platform_cache_dir

        root = Path(platform_cache_dir("borderkit", appauthor=False))
    return root / part if part else root


def user_case_dirs() -> dict[str, Path]:
    """Name → folder of every case in the user case folder (sub-folders holding ``case.toml``)."""
    base = user_cases_dir()
    if not base.is_dir():
        return {}
    return {p.name: p for p in sorted(base.iterdir()) if p.is_dir() and (p / CASE_FILE).is_file()}


@dataclass(frozen=True)
class CaseLocation:
    """Where a case lives.

    Attributes
    ----------
    name
        The case's name in its registry (for a folder: the one dataset its ``registry.json`` lists).
    root
        Folder holding the ``registry.json`` that lists the case's files (paths relative to it).
    where
        ``"bundled"``, ``"user"`` (found by name in :func:`user_cases_dir`) or ``"folder"`` (a path).
    folder
        The case folder (for a bundled case: its folder in the data folder).
    """

    name: str
    root: Path
    where: str
    folder: Path

    @property
    def registry_root(self) -> Path | None:
        """``root`` for a case folder, ``None`` for the bundled data (the default of the registry functions)."""
        return None if self.where == "bundled" else self.root


def _looks_like_path(text: str) -> bool:
    seps = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(s in text for s in seps) or text.startswith((".", "~"))


def _folder_case(folder: Path, where: str) -> CaseLocation:
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{folder}: no such case folder")
    if not (folder / CASE_FILE).is_file():
        raise FileFormatError(
            f"{folder}: not a case folder (no {CASE_FILE}); make one with `borderkit case new {folder} --lines FILE`"
        )
    datasets = registry(folder)["datasets"]
    if len(datasets) != 1:
        raise RegistryError(
            f"{folder / REGISTRY_FILE}: lists {len(datasets)} datasets; the registry of a case folder lists one"
        )
    folder = folder.resolve()
    return CaseLocation(next(iter(datasets)), folder, where, folder)


def find_case(name_or_dir: str | os.PathLike[str] = DEFAULT_CASE) -> CaseLocation:
    """Where a case given by name or folder lives.

    A name is looked up among the bundled cases, then in the user case folder
    (:func:`user_cases_dir`); anything that looks like a path (has a ``/``,
    starts with ``.`` or ``~``, or is a path object), or a name that matches
    neither but is an existing folder, is a case folder.

    Raises
    ------
    DatasetNotFoundError
        No case of that name (the message lists the bundled and user cases), or no such folder.
    FileFormatError
        The folder holds no ``case.toml``.
    RegistryError
        The folder's ``registry.json`` is missing or not a registry of one case.
    """
    text = os.fspath(name_or_dir)
    if not isinstance(name_or_dir, os.PathLike) and not _looks_like_path(text):
        try:
            bundled = names()
        except RegistryError:  # no bundled data (a stripped install): user cases still work
            bundled = []
        if text in bundled:
            root = data_dir()
            return CaseLocation(text, root, "bundled", root / text)
        user = user_case_dirs()
        if text in user:
            return _folder_case(user[text], "user")
        if not Path(text).is_dir():
            raise DatasetNotFoundError(
                f"unknown dataset {text!r} (no case of that name); bundled: {', '.join(bundled) or 'none'}; "
                f"user cases in "
                f"{user_cases_dir()}: {', '.join(user) or 'none'} (or give a case folder's path; "
                "`borderkit case list` shows them)"
            )
    return _folder_case(Path(text).expanduser(), "folder")
