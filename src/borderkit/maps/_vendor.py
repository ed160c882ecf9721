"""Re-vendor the web assets of the maps (maintainers only; never run at import or in tests).

The Leaflet library and its plugins are copied from pinned npm packages into
``src/borderkit/maps/assets/<package>-<version>/`` together with their licence
files, and ``assets/manifest.json`` records, for every package, the registry, the
version, the sha256 of the package tarball as the registry serves it, and for
every file its path in the package, its path here (``file``: without a leading
``dist/``, which ``.gitignore`` excludes), its sha256, its Subresource-Integrity
hash (``sha384-…``) and the CDN URL that serves the same bytes.

Usage (from the repository root, needs ``npm`` on PATH)::

    python -m borderkit.maps._vendor            # fetch, verify, copy, write manifest
    python -m borderkit.maps._vendor --check    # only recompute hashes of the vendored files

A tarball whose sha256 differs from the pinned value is refused.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent / "assets"
MANIFEST = ASSETS / "manifest.json"
CDN = "https://cdn.jsdelivr.net/npm/{name}@{version}/{path}"

# name, version, sha256 of the npm tarball, licence (SPDX), files (path inside the package), licence file
PACKAGES: list[dict] = [
    {
        "name": "leaflet",
        "version": "1.9.4",
        "tarball_sha256": "84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77",
        "licence": "BSD-2-Clause",
        "homepage": "https://leafletjs.com",
        "files": [
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
        ],
        "licence_file": "LICENSE",
    },
    {
        "name": "leaflet.fullscreen",
        "version": "5.3.3",
        "tarball_sha256": "a4fb228c6cfbc4e2c0e9eb655e62623e608004d3084966d9cf013fe8f9a80449",
        "licence": "MIT",
        "homepage": "https://github.com/brunob/leaflet.fullscreen",
        "files": ["dist/Control.FullScreen.umd.js", "dist/Control.FullScreen.css"],
        "licence_file": "LICENSE.md",
    },
    {
        "name": "leaflet.polylinemeasure",
        "version": "3.0.0",
        "tarball_sha256": "1225fbea543b52a0cb4d7ec08af11eed0c521e6f74624abd644705ca79e2a040",
        "licence": "BSD-2-Clause",
        "homepage": "https://github.com/ppete2/Leaflet.PolylineMeasure",
        "files": ["Leaflet.PolylineMeasure.js", "Leaflet.PolylineMeasure.css"],
        "licence_file": "LICENSE.txt",
    },
    {
        # the trace tool (borderkit.maps.trace): draw and edit a polyline over a georeferenced scan
        "name": "@geoman-io/leaflet-geoman-free",
        "version": "2.20.2",
        "tarball_sha256": "1688a81159de5610fcb7af59f7d76a5133aa5fe58d1840aa43b5915a0c1699a0",
        "licence": "MIT",
        "homepage": "https://github.com/geoman-io/leaflet-geoman",
        "files": ["dist/leaflet-geoman.min.js", "dist/leaflet-geoman.css"],
        "licence_file": "LICENSE",
    },
]


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of *data*."""
    return hashlib.sha256(data).hexdigest()


def sri_sha384(data: bytes) -> str:
    """Subresource-Integrity value (``sha384-<base64>``) of *data*."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def local_name(rel: str) -> str:
    """Where a package file is stored under ``assets/<package>-<version>/``.

    A leading ``dist/`` is dropped: the project's ``.gitignore`` (and so git and
    the wheel build) ignores every ``dist/`` folder.
    """
    return rel.removeprefix("dist/")


def folder_name(name: str) -> str:
    """Folder-safe form of an npm package name (a scoped ``@scope/name`` becomes ``scope-name``)."""
    return name.removeprefix("@").replace("/", "-")


def _file_entry(pkg: dict, rel: str, data: bytes) -> dict:
    return {
        "path": rel,
        "file": local_name(rel),
        "bytes": len(data),
        "sha256": sha256_hex(data),
        "integrity": sri_sha384(data),
        "cdn_url": CDN.format(name=pkg["name"], version=pkg["version"], path=rel),
    }


def vendor(*, work: Path | None = None) -> dict:
    """Fetch every pinned package with ``npm pack``, verify it and copy its files.

    Returns
    -------
    dict
        The manifest that was written.
    """
    manifest: dict[str, Any] = {
        "about": "Web assets vendored from the npm registry; regenerate with python -m borderkit.maps._vendor",
        "packages": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(work or tmp)
        for pkg in PACKAGES:
            spec = f"{pkg['name']}@{pkg['version']}"
            out = subprocess.run(
                ["npm", "pack", spec, "--pack-destination", str(tmpdir), "--silent"],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
            tgz = tmpdir / out.stdout.strip().splitlines()[-1]
            digest = sha256_hex(tgz.read_bytes())
            if digest != pkg["tarball_sha256"]:
                raise SystemExit(f"{spec}: tarball sha256 {digest} != pinned {pkg['tarball_sha256']}")
            dest = ASSETS / f"{folder_name(pkg['name'])}-{pkg['version']}"
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            files = []
            with tarfile.open(tgz) as tar:
                for rel in [*pkg["files"], pkg["licence_file"]]:
                    member = tar.extractfile(f"package/{rel}")
                    if member is None:
                        raise SystemExit(f"{spec}: {rel} missing from the package")
                    data = member.read()
                    target = dest / local_name(rel)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    files.append(_file_entry(pkg, rel, data))
            manifest["packages"].append(
                {
                    "name": pkg["name"],
                    "version": pkg["version"],
                    "registry": "npm",
                    "package": tgz.name,
                    "package_sha256": digest,
                    "licence": pkg["licence"],
                    "licence_file": pkg["licence_file"],
                    "homepage": pkg["homepage"],
                    "directory": dest.name,
                    "files": files,
                }
            )
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def check() -> list[str]:
    """Recompute the hashes of the vendored files; return the list of mismatches."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    bad = []
    for pkg in manifest["packages"]:
        for f in pkg["files"]:
            data = (ASSETS / pkg["directory"] / f["file"]).read_bytes()
            if sha256_hex(data) != f["sha256"] or sri_sha384(data) != f["integrity"]:
                bad.append(f"{pkg['directory']}/{f['path']}")
    return bad


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - maintainer tool
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the vendored files")
    args = parser.parse_args(argv)
    if args.check:
        bad = check()
        print("\n".join(bad) if bad else "all vendored files match manifest.json")
        return 1 if bad else 0
    manifest = vendor()
    for pkg in manifest["packages"]:
        print(f"{pkg['name']} {pkg['version']}: {len(pkg['files'])} files, package sha256 {pkg['package_sha256']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
