"""Bundled case data and its registry.

The registry (``geodata/registry.json``) lists every bundled file with its sha256,
size, row count, CRS, the sources it was built from and their licences, in the
manner of *geodatasets*. :func:`load` checks the hashes before it reads anything,
then reads every layer through the validating loaders, so a corrupted or
hand-edited file is reported instead of silently used.

Examples
--------
>>> import borderkit
>>> case = borderkit.datasets.load("armenia-azerbaijan")   # doctest: +SKIP
>>> case.lines.source.unique()                             # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.errors import DatasetNotFoundError, RegistryError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    import pandas

__all__ = ["data_dir", "registry", "names", "info", "verify", "load", "Case", "DEFAULT_CASE"]

DEFAULT_CASE = "armenia-azerbaijan"


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


def _entry(name: str) -> dict[str, Any]:
    datasets = registry()["datasets"]
    if name not in datasets:
        raise DatasetNotFoundError(
            f"unknown dataset {name!r}; available: {', '.join(sorted(datasets))} "
            "(list them with `borderkit datasets list`)"
        )
    return datasets[name]


def _sha256(path: Path) -> str:
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
    entry = _entry(name)
    root = data_dir()
    paths: dict[str, Path] = {}
    for key, meta in entry["files"].items():
        path = root / meta["path"]
        if not path.is_file():
            raise RegistryError(f"{path}: file of dataset {name!r} layer {key!r} is missing; rebuild with geodata/build.py")
        size = path.stat().st_size
        if "bytes" in meta and size != meta["bytes"]:
            raise RegistryError(
                f"{path}: {size} bytes, the registry says {meta['bytes']}; the file was changed by hand or is "
                "truncated — restore it with `git checkout` or rebuild with geodata/build.py"
            )
        digest = _sha256(path)
        if digest != meta["sha256"]:
            raise RegistryError(
                f"{path}: sha256 {digest} does not match the registry ({meta['sha256']}); "
                "the file was changed by hand or is corrupt — restore it with `git checkout` "
                "or rebuild with geodata/build.py"
            )
        paths[key] = path
    return paths


@dataclass
class Case:
    """A bundled case: every layer as a (Geo)DataFrame plus the DEM path.

    Attributes
    ----------
    name
        Registry name of the case.
    lines
        Boundary lines, one row per source and section (schema ``LINES``).
    territories
        Territory polygons per party per source (schema ``TERRITORIES``).
    incidents
        Reported incidents (schema ``INCIDENTS``).
    places
        Named places with names in en/hy/az/ru (schema ``PLACES``).
    claims
        Numbers stated in the reports, as structured records (schema ``CLAIMS``).
    dem
        Path of the case DEM (GeoTIFF, EPSG:4326, metres above mean sea level).
    meta
        The registry entry of the case.
    sources
        Registry entries of every source the case was built from.
    """

    name: str
    lines: geopandas.GeoDataFrame
    territories: geopandas.GeoDataFrame
    incidents: geopandas.GeoDataFrame
    places: geopandas.GeoDataFrame
    claims: pandas.DataFrame
    dem: Path
    meta: dict[str, Any] = field(repr=False)
    sources: dict[str, Any] = field(repr=False)

    def layers(self) -> pandas.DataFrame:
        """One row per bundled file: layer, kind, rows, sources, licences, path."""
        import pandas as pd

        rows = []
        for key, m in self.meta["files"].items():
            srcs = m.get("sources", [])
            licences = sorted({self.sources.get(s, {}).get("licence", "?") for s in srcs})
            rows.append(
                {
                    "layer": key,
                    "kind": m.get("kind", key),
                    "rows": m.get("rows"),
                    "crs": m.get("crs"),
                    "sources": ", ".join(srcs),
                    "licences": ", ".join(licences),
                    "path": m["path"],
                }
            )
        return pd.DataFrame(rows)

    def line_sources(self) -> pandas.DataFrame:
        """One row per line source: what it is, its date, accuracy, licence, sections and length."""
        import pandas as pd
        from pyproj import Geod

        geod = Geod(ellps="WGS84")
        rows = []
        for src, group in self.lines.groupby("source", sort=True):
            meta = self.sources.get(src, {})
            length_km = sum(geod.geometry_length(g) for g in group.geometry) / 1000.0
            rows.append(
                {
                    "source": src,
                    "title": meta.get("title", ""),
                    "source_date": group["source_date"].iloc[0],
                    "accuracy_m": float(group["scale_or_accuracy_m"].iloc[0]),
                    "licence": meta.get("licence", group["licence"].iloc[0]),
                    "sections": len(group),
                    "length_km": round(length_km, 1),
                    "has_territories": bool((self.territories["source"] == src).any()),
                }
            )
        return pd.DataFrame(rows)

    def territory_overlaps(self) -> pandas.DataFrame:
        """Ground that one source assigns to two parties at once (e.g. exclaves drawn twice).

        One row per source and pair of parties, summed over the polygons of
        :func:`borderkit.overlaps.territory_overlaps` (which computes them);
        ``parts`` is the number of polygons, ``area_km2`` their total area on the
        WGS84 ellipsoid. Overlaps are data, not errors: they are reported, never removed.
        """
        from borderkit.overlaps import territory_overlaps

        ov = territory_overlaps(self.territories)
        cols = ["source", "party_a", "party_b", "parts", "area_km2", "method"]
        out = ov.groupby(["source", "party_a", "party_b"], as_index=False, sort=True).agg(
            parts=("area_km2", "size"), area_km2=("area_km2", "sum")
        )
        out["method"] = "overlay in a local aeqd projection, WGS84 ellipsoidal areas (borderkit.overlaps)"
        return out.reindex(columns=cols)

    def summary(self) -> str:
        """A plain-text summary: layers, line sources, overlaps, incidents, claims."""
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_colwidth", 60, "display.max_columns", 20):
            parts = [
                f"{self.meta.get('title', self.name)} ({self.name})",
                f"region (lon/lat): {self.meta.get('bbox')}",
                "",
                "Layers",
                self.layers().drop(columns=["path"]).to_string(index=False),
                "",
                "Line sources (lengths are geodesic, WGS84)",
                self.line_sources().to_string(index=False),
                "",
                "Territory overlaps within one source (km², WGS84 ellipsoid)",
            ]
            ov = self.territory_overlaps()
            parts.append(ov.round({"area_km2": 2}).to_string(index=False) if len(ov) else "none")
            parts += ["", "Incidents"]
            inc = self.incidents[["incident_id", "date", "date_precision", "type", "place_name", "precision_m"]].copy()
            inc["date"] = pd.to_datetime(inc["date"]).dt.strftime("%Y-%m-%d")
            parts.append(inc.to_string(index=False))
            parts += ["", "Claims"]
            parts.append(
                self.claims[["claim_id", "quantity", "claimed_value", "claimed_unit", "subject", "reference"]].to_string(
                    index=False
                )
            )
            parts += ["", "DEM", f"{self.dem}"]
        return "\n".join(parts)


def info(name: str = DEFAULT_CASE) -> dict[str, Any]:
    """Registry entry of a dataset, with the entries of its sources."""
    entry = _entry(name)
    src_names = sorted({s for f in entry["files"].values() for s in f.get("sources", [])})
    all_sources = registry()["sources"]
    return {**entry, "name": name, "source_entries": {s: all_sources.get(s, {}) for s in src_names}}


def load(name: str = DEFAULT_CASE, *, verify_hashes: bool = True) -> Case:
    """Load a bundled case.

    Parameters
    ----------
    name
        Registry name, ``"armenia-azerbaijan"`` by default.
    verify_hashes
        Check every file's sha256 against the registry before reading (default).

    Returns
    -------
    Case
        ``lines``, ``territories``, ``incidents``, ``places`` (GeoDataFrames, EPSG:4326),
        ``claims`` (DataFrame) and ``dem`` (Path of a GeoTIFF).

    Raises
    ------
    DatasetNotFoundError
        Unknown name.
    RegistryError
        A file is missing or does not match its registry hash.
    ValidationError
        A layer does not follow its schema.
    """
    from borderkit.claims import read_claims
    from borderkit.io import read_layer

    entry = _entry(name)
    root = data_dir()
    paths = verify(name) if verify_hashes else {k: root / m["path"] for k, m in entry["files"].items()}
    for key in ("lines", "territories", "incidents", "places", "claims", "dem"):
        if key not in paths:
            raise RegistryError(f"dataset {name!r} has no {key!r} layer in registry.json; rebuild with geodata/build.py")
    layers = {key: read_layer(paths[key], key) for key in ("lines", "territories", "incidents", "places")}
    claims = read_claims(paths["claims"])
    all_sources = registry()["sources"]
    for key in ("lines", "territories"):
        unknown = sorted(set(layers[key]["source"]) - set(all_sources))
        if unknown:
            raise ValidationError(f"{paths[key]}: column 'source' names {unknown} which are not in registry.json")
    return Case(
        name=name,
        lines=layers["lines"],
        territories=layers["territories"],
        incidents=layers["incidents"],
        places=layers["places"],
        claims=claims,
        dem=paths["dem"],
        meta=entry,
        sources=all_sources,
    )
