"""Cases: a case's layers, its DEM and its case file, loaded and checked; user cases made from files.

A case is bundled (``geodata/registry.json``), a user case (a folder in the user
case folder, :func:`borderkit.registry.user_cases_dir`) or any case folder
(``case.toml`` + ``registry.json`` + layer files, the format of
``docs``/DESIGN.md). :func:`load` takes a name or a folder, verifies every file
of the case against its registry (:mod:`borderkit.registry`) and reads each layer through the validating
loaders (:mod:`borderkit.io`, :mod:`borderkit.claimsfile`) into a :class:`Case`.
Everything specific to a case that is not a layer — parties and pair, which part
of a territory is which, claim readings, map title and labels, viewshed
observers, DEM, region — lives in its case file (``geodata/<case>/case.toml``,
read with :mod:`tomllib`) and reaches the library as ``Case.config``
(:class:`CaseConfig`); library functions take these as parameters. Adding a case
needs data only, no code.

Layer: above measure, locate, overlaps and terrain (``Case.territory_overlaps``
calls :mod:`borderkit.overlaps`); below claims, maps and the CLI.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderkit.claimsfile import READING_KINDS, Reading
from borderkit.errors import FileFormatError, RegistryError, ValidationError
from borderkit.registry import CASE_FILE, DEFAULT_CASE, CaseLocation, dataset_entry, find_case, registry, verify

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    import pandas

__all__ = [
    "Case",
    "CaseConfig",
    "MapLabel",
    "PartRule",
    "Party",
    "ViewshedObserver",
    "case_config",
    "load",
    "read_case_file",
    "empty_layer",
    "list_cases",
    "new_case",
]

CASE_FILE_KEY = "case"
"""Registry layer key of a case's case file (``case.toml``)."""


# =================================================================================================
# the case file
# =================================================================================================
@dataclass(frozen=True)
class Party:
    """A party of the case: its code and the names reports use for it ("toward Armenia")."""

    code: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartRule:
    """How to find one part of a party's territory (e.g. an exclave), from ``[parts.<name>]``.

    Attributes
    ----------
    name
        The part's name as a claim's reference writes it (``territory:AZE/<name>``).
    party
        Whose territory.
    place
        ``place_id`` whose point lies in the part.
    at
        (lon, lat) used when the place is unlocated.
    west_of_lon
        Fallback: the largest part wholly west of this longitude.
    largest
        The part is the party's largest (e.g. the mainland).
    section
        The line section that bounds the part (for sources with lines only).
    """

    name: str
    party: str
    place: str = ""
    at: tuple[float, float] | None = None
    west_of_lon: float | None = None
    largest: bool = False
    section: str = ""


@dataclass(frozen=True)
class MapLabel:
    """Where the permanent label of one measurement sits on the case map (``[[map.labels]]``)."""

    claim: str
    reading: str
    label_at: str = "mid"
    label_direction: str = "center"
    label_offset: tuple[int, int] = (0, 0)
    label_min_zoom: int | None = None
    """Zoom from which the label shows; ``None`` always (``"always"`` in the file)."""
    has_min_zoom: bool = False
    """Whether the file sets ``label_min_zoom`` (else the map's default applies)."""

    def placement(self) -> dict[str, Any]:
        """The placement dict the map builder takes (``label_at``, ``label_direction``, …)."""
        out: dict[str, Any] = {"label_at": self.label_at, "label_direction": self.label_direction}
        if self.label_offset != (0, 0):
            out["label_offset"] = list(self.label_offset)
        if self.has_min_zoom:
            out["label_min_zoom"] = self.label_min_zoom
        return out


@dataclass(frozen=True)
class ViewshedObserver:
    """A viewshed drawn on the case map: from a place, within a radius, at a height above ground."""

    place: str
    radius_m: float = 30_000.0
    observer_height_m: float = 2.0


@dataclass(frozen=True)
class CaseConfig:
    """A case file (``case.toml``), typed. Every field has a neutral default: a case may omit any.

    Attributes
    ----------
    path
        The file it was read from (``None`` when the case has no case file).
    title
        Title of the case.
    pair
        The two parties of the case's boundary (default of ``--pair`` options).
    region
        (west, south, east, north) in degrees.
    projected_crs
        Projected CRSs to suggest when metres are labelled as degrees.
    parties
        Party code → :class:`Party`.
    parts
        Part name → :class:`PartRule`.
    corridor
        (part A, part B): the case's corridor question (names in *parts*).
    readings
        Claim id → its :class:`~borderkit.claimsfile.Reading` s.
    dem
        File name of the case DEM.
    viewsheds
        Observers of the map's viewshed layers.
    map_title
        Title of the case map.
    map_readings
        Claim id → reading labels drawn on the map.
    map_labels
        Placement of measurement labels.
    map_label_min_zoom
        Zoom from which measurement labels show by default.
    """

    path: Path | None = None
    title: str = ""
    pair: tuple[str, str] | None = None
    region: tuple[float, float, float, float] | None = None
    projected_crs: tuple[str, ...] = ()
    parties: dict[str, Party] = field(default_factory=dict)
    parts: dict[str, PartRule] = field(default_factory=dict)
    corridor: tuple[str, str] | None = None
    readings: dict[str, tuple[Reading, ...]] = field(default_factory=dict)
    dem: str = ""
    viewsheds: tuple[ViewshedObserver, ...] = ()
    map_title: str = ""
    map_readings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    map_labels: tuple[MapLabel, ...] = ()
    map_label_min_zoom: int | None = None

    def party_names(self) -> dict[str, tuple[str, ...]]:
        """Party code → the names reports use for it (the code itself when the file gives none)."""
        return {code: (p.names or (code,)) for code, p in self.parties.items()}

    def label_placements(self) -> dict[tuple[str, str], dict[str, Any]]:
        """``{(claim_id, reading): placement}`` for the map builder."""
        return {(lab.claim, lab.reading): lab.placement() for lab in self.map_labels}


def _bad(path: Path, where: str, what: str) -> FileFormatError:
    return FileFormatError(f"{path}: {where}: {what}")


def _str(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(path, where, f"expected text, got {value!r}")
    return value


def _num(path: Path, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise _bad(path, where, f"expected a finite number, got {value!r}")
    return float(value)


def _lonlat(path: Path, where: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise _bad(path, where, f"expected [lon, lat], got {value!r}")
    lon, lat = _num(path, where, value[0]), _num(path, where, value[1])
    if not (-180 <= lon <= 360 and -90 <= lat <= 90):
        raise _bad(path, where, f"[lon, lat] out of range: {value!r} (longitude first)")
    return lon, lat


def _table(path: Path, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(path, where, f"expected a table, got {value!r}")
    return value


def read_case_file(path: str | Path) -> CaseConfig:
    """Read and check a case file (TOML).

    Parameters
    ----------
    path
        ``case.toml`` of a case (layout: ``geodata/armenia-azerbaijan/case.toml``).

    Returns
    -------
    CaseConfig

    Raises
    ------
    FileFormatError
        Not TOML, too large, or a key has the wrong type; one line naming the file and key.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read the case file ({exc})") from exc
    if len(data) > 1_000_000:  # a case file is a few kB; refuse anything that could exhaust memory
        raise FileFormatError(f"{path}: {len(data)} bytes; a case file is at most 1 MB")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FileFormatError(f"{path}: not a valid UTF-8 TOML case file ({exc})") from exc

    pair = None
    if "pair" in doc:
        raw = doc["pair"]
        if not isinstance(raw, list) or len(raw) != 2 or raw[0] == raw[1]:
            raise _bad(path, "pair", f"expected two different party codes, got {raw!r}")
        pair = (_str(path, "pair", raw[0]), _str(path, "pair", raw[1]))
    region = None
    if "region" in doc:
        raw = doc["region"]
        if not isinstance(raw, list) or len(raw) != 4:
            raise _bad(path, "region", f"expected [west, south, east, north], got {raw!r}")
        region = tuple(_num(path, "region", v) for v in raw)
    parties = {}
    for code, p in _table(path, "parties", doc.get("parties", {})).items():
        p = _table(path, f"parties.{code}", p)
        parties[code] = Party(code, tuple(_str(path, f"parties.{code}.names", n) for n in p.get("names", [])))
    parts = {}
    for name, p in _table(path, "parts", doc.get("parts", {})).items():
        where = f"parts.{name}"
        p = _table(path, where, p)
        parts[name] = PartRule(
            name=name,
            party=_str(path, where + ".party", p.get("party", "")),
            place=_str(path, where + ".place", p.get("place", "")),
            at=_lonlat(path, where + ".at", p["at"]) if "at" in p else None,
            west_of_lon=_num(path, where + ".west_of_lon", p["west_of_lon"]) if "west_of_lon" in p else None,
            largest=bool(p.get("largest", False)),
            section=_str(path, where + ".section", p.get("section", "")),
        )
    corridor = None
    if "corridor" in doc:
        c = _table(path, "corridor", doc["corridor"])
        corridor = (_str(path, "corridor.part_a", c.get("part_a")), _str(path, "corridor.part_b", c.get("part_b")))
        for key, name in zip(("part_a", "part_b"), corridor, strict=True):
            if name not in parts:
                raise _bad(path, f"corridor.{key}", f"{name!r} is not a [parts.*] table")
    readings: dict[str, tuple[Reading, ...]] = {}
    for cid, rl in _table(path, "readings", doc.get("readings", {})).items():
        if not isinstance(rl, list):
            raise _bad(path, f"readings.{cid}", "expected [[readings.\"<claim_id>\"]] tables")
        out = []
        for i, r in enumerate(rl):
            where = f"readings.{cid}[{i}]"
            r = _table(path, where, r)
            kind = _str(path, where + ".kind", r.get("kind"))
            if kind not in READING_KINDS:
                raise _bad(path, where + ".kind", f"{kind!r} is not one of {list(READING_KINDS)}")
            out.append(Reading(
                _str(path, where + ".label", r.get("label", "")), _str(path, where + ".text", r.get("text", "")),
                kind, place=_str(path, where + ".place", r.get("place", "")),
                toward=_str(path, where + ".toward", r.get("toward", "")),
                reason=_str(path, where + ".reason", r.get("reason", "")),
            ))
        readings[cid] = tuple(out)
    terrain = _table(path, "terrain", doc.get("terrain", {}))
    viewsheds = tuple(
        ViewshedObserver(
            place=_str(path, f"terrain.viewsheds[{i}].place", v.get("place")),
            radius_m=_num(path, f"terrain.viewsheds[{i}].radius_m", v.get("radius_m", 30_000.0)),
            observer_height_m=_num(path, f"terrain.viewsheds[{i}].observer_height_m",
                                   v.get("observer_height_m", 2.0)),
        )
        for i, v in enumerate(terrain.get("viewsheds", []))
    )
    mp = _table(path, "map", doc.get("map", {}))
    labels = []
    for i, lab in enumerate(mp.get("labels", [])):
        where = f"map.labels[{i}]"
        lab = _table(path, where, lab)
        mz = lab.get("label_min_zoom")
        if mz is not None and mz != "always" and (isinstance(mz, bool) or not isinstance(mz, int)):
            raise _bad(path, where + ".label_min_zoom", f"expected a zoom level or \"always\", got {mz!r}")
        off = lab.get("label_offset", [0, 0])
        if not isinstance(off, list) or len(off) != 2:
            raise _bad(path, where + ".label_offset", f"expected [dx, dy] in pixels, got {off!r}")
        labels.append(MapLabel(
            claim=_str(path, where + ".claim", lab.get("claim")), reading=_str(path, where + ".reading",
                                                                              lab.get("reading")),
            label_at=_str(path, where + ".label_at", lab.get("label_at", "mid")),
            label_direction=_str(path, where + ".label_direction", lab.get("label_direction", "center")),
            label_offset=(int(_num(path, where, off[0])), int(_num(path, where, off[1]))),
            label_min_zoom=None if mz in (None, "always") else int(mz), has_min_zoom=mz is not None,
        ))
    mz = mp.get("label_min_zoom")
    return CaseConfig(
        path=path,
        title=_str(path, "title", doc.get("title", "")),
        pair=pair,
        region=region,  # type: ignore[arg-type]
        projected_crs=tuple(_str(path, "projected_crs", c) for c in doc.get("projected_crs", [])),
        parties=parties,
        parts=parts,
        corridor=corridor,
        readings=readings,
        dem=_str(path, "terrain.dem", terrain.get("dem", "")),
        viewsheds=viewsheds,
        map_title=_str(path, "map.title", mp.get("title", "")),
        map_readings={k: tuple(_str(path, f"map.readings.{k}", x) for x in v)
                      for k, v in _table(path, "map.readings", mp.get("readings", {})).items()},
        map_labels=tuple(labels),
        map_label_min_zoom=None if mz is None else int(_num(path, "map.label_min_zoom", mz)),
    )


def case_config(name: str | Path = DEFAULT_CASE) -> CaseConfig:
    """The case file of a case (name or folder), read without loading its layers (empty when it has none).

    Raises
    ------
    DatasetNotFoundError
        Unknown case.
    FileFormatError
        The case file is not valid.
    """
    loc = find_case(name)
    meta = dataset_entry(loc.name, root=loc.registry_root)["files"].get(CASE_FILE_KEY)
    return read_case_file(loc.root / meta["path"]) if meta else CaseConfig()


# =================================================================================================
# the case
# =================================================================================================
@dataclass
class Case:
    """A case: every layer as a (Geo)DataFrame plus the DEM path.

    Attributes
    ----------
    name
        Name of the case (its registry name; for a case folder, the one dataset its registry lists).
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
        Path of the case DEM (GeoTIFF, metres above mean sea level), ``None`` when the case has none.
    meta
        The registry entry of the case.
    sources
        Registry entries of every source the case was built from.
    config
        The case file (``case.toml``) as a :class:`CaseConfig`: parties and pair,
        parts of territories, claim readings, map and terrain settings.
    location
        Where the case lives (:class:`borderkit.registry.CaseLocation`: bundled, user or folder).
    basemap
        Path of the case's ``basemap.geojson`` (water, other borders and towns around the case, for
        the offline map; built by :func:`borderkit.casebuild.build_basemap`), ``None`` when it has none.
    """

    name: str
    lines: geopandas.GeoDataFrame
    territories: geopandas.GeoDataFrame
    incidents: geopandas.GeoDataFrame
    places: geopandas.GeoDataFrame
    claims: pandas.DataFrame
    dem: Path | None
    meta: dict[str, Any] = field(repr=False)
    sources: dict[str, Any] = field(repr=False)
    config: CaseConfig = field(default_factory=lambda: CaseConfig(), repr=False)
    location: CaseLocation | None = field(default=None, repr=False)
    basemap: Path | None = field(default=None, repr=False)

    @property
    def case_file(self) -> Path | None:
        """Path of the case file (``case.toml``), or ``None`` when the case has none."""
        return self.config.path

    def part_location(self, part: str) -> tuple[tuple[float, float] | None, float | None]:
        """Where a named part of a territory is: ``((lon, lat) or None, west_of_lon or None)``.

        The point is the part's place in the places layer when located, else the
        case file's ``at``; for a part the case file does not name, the place with
        that ``place_id`` (if any).
        """
        from borderkit.places import is_empty_geometry

        rule = self.config.parts.get(part)
        pid = (rule.place if rule and rule.place else part)
        hit = self.places[self.places["place_id"] == pid] if "place_id" in self.places.columns else self.places[:0]
        xy = None
        if len(hit) and not is_empty_geometry(hit.geometry.iloc[0]):
            g = hit.geometry.iloc[0]
            g = g if g.geom_type == "Point" else g.representative_point()
            xy = (float(g.x), float(g.y))
        if xy is None and rule is not None and rule.at is not None:
            xy = rule.at
        return xy, (rule.west_of_lon if rule is not None else None)

    def main_part(self, party: str) -> PartRule | None:
        """The part the case file marks ``largest = true`` for *party* (e.g. mainland), or ``None``."""
        return next((p for p in self.config.parts.values() if p.party == party and p.largest), None)

    def corridor_options(
        self,
        *,
        party: str | None = None,
        from_place: str | None = None,
        to_place: str | None = None,
        sections: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments of :func:`borderkit.measure.corridor_width` for this case.

        Defaults come from the case file's ``[corridor]`` (its ``part_a`` and
        ``part_b`` and their ``[parts.*]`` rules); each argument given overrides
        them (places are looked up with :func:`borderkit.places.place_point`).

        Raises
        ------
        ValidationError
            The case file names no corridor and *party*/*from_place* are not given.
        """
        from borderkit.places import place_point

        cor = self.config.corridor
        rule_a = self.config.parts.get(cor[0]) if cor else None
        rule_b = self.config.parts.get(cor[1]) if cor else None
        party = party or (rule_a.party if rule_a else None)
        if party is None or (from_place is None and rule_a is None):
            raise ValidationError(
                f"case {self.name!r} names no corridor in its case file; give the party and the place of part A"
            )
        part_a_at: tuple[float, float] | None
        if from_place is not None:
            part_a_at, west = place_point(self.places, from_place), None
        else:
            assert cor is not None  # rule_a is set only when the case file names a corridor
            part_a_at, west = self.part_location(cor[0])
            if part_a_at is None:
                raise ValidationError(f"case {self.name!r}: part {cor[0]!r} cannot be located")
        part_b_at = place_point(self.places, to_place) if to_place else (
            None if rule_b is None or rule_b.largest else self.part_location(cor[1])[0])  # type: ignore[index]
        if sections is None and rule_a and rule_b and rule_a.section and rule_b.section:
            sections = (rule_a.section, rule_b.section)
        return {"party": party, "part_a_at": part_a_at, "part_a_west_of_lon": west, "part_b_at": part_b_at,
                "sections": sections}

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

        from borderkit.lines import length_m

        rows = []
        for src, group in self.lines.groupby("source", sort=True):
            meta = self.sources.get(src, {})
            length_km = sum(length_m(g) for g in group.geometry) / 1000.0
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
            parts.append(inc.to_string(index=False) if len(inc) else "none")
            parts += ["", "Claims"]
            cl = self.claims[["claim_id", "quantity", "claimed_value", "claimed_unit", "subject", "reference"]]
            parts.append(cl.to_string(index=False) if len(cl) else "none")
            parts += ["", "DEM", f"{self.dem}" if self.dem is not None else "none"]
        return "\n".join(parts)


OPTIONAL_LAYERS = ("territories", "incidents", "places")
"""Layers a case may lack: they load as empty GeoDataFrames of their schema (as do the claims)."""


def empty_layer(kind: str) -> Any:
    """An empty layer of *kind* (``lines``, ``territories``, ``incidents``, ``places``; ``claims``: a
    DataFrame) with the schema's columns and dtypes, EPSG:4326."""
    import geopandas as gpd
    import pandas as pd

    from borderkit.claimsfile import validate_claims
    from borderkit.schema import SCHEMAS
    from borderkit.validate import validate_layer

    schema = SCHEMAS[kind]
    cols = {c.name: pd.Series([], dtype=object) for c in schema.columns if c.dtype != "geometry"}
    if kind == "claims":
        return validate_claims(pd.DataFrame(cols))
    return validate_layer(gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs="EPSG:4326")), kind,
                          swap_check=False)


def load(name: str | Path = DEFAULT_CASE, *, verify_hashes: bool = True) -> Case:
    """Load a case: bundled or user case by name, or a case folder by path.

    Parameters
    ----------
    name
        A bundled case (``"armenia-azerbaijan"``, the default), a case in the user
        case folder (:func:`borderkit.registry.user_cases_dir`: ``$BORDERKIT_CASES``
        or ``~/.local/share/borderkit/cases`` on Linux), or the path of a case folder
        (see :func:`borderkit.registry.find_case` for the lookup order).
    verify_hashes
        Check every file's sha256 against the case's registry before reading (default).

    Returns
    -------
    Case
        ``lines``, ``territories``, ``incidents``, ``places`` (GeoDataFrames, EPSG:4326;
        a layer the case lacks is empty, with its schema's columns), ``claims``
        (DataFrame), ``dem`` (Path of a GeoTIFF, or ``None``) and ``config`` (the
        case file, :class:`CaseConfig`; empty when the case has none).

    Raises
    ------
    DatasetNotFoundError
        Unknown name (the message lists the bundled and user cases) or no such folder.
    RegistryError
        A file is missing or does not match its registry hash; the case has no lines.
    ValidationError
        A layer does not follow its schema.
    FileFormatError
        The case file is not valid, or a folder holds no ``case.toml``.
    """
    from borderkit.claimsfile import read_claims
    from borderkit.io import read_layer

    loc = find_case(name)
    root_arg = loc.registry_root
    entry = dataset_entry(loc.name, root=root_arg)
    if verify_hashes:
        paths = verify(loc.name, root=root_arg)
    else:
        paths = {k: loc.root / m["path"] for k, m in entry["files"].items()}
    fix = "rebuild with geodata/build.py" if loc.where == "bundled" else "remake it with `borderkit case new`"
    if "lines" not in paths:
        raise RegistryError(f"case {loc.name!r} ({loc.folder}) has no 'lines' layer in registry.json; {fix}")
    layers: dict[str, Any] = {"lines": read_layer(paths["lines"], "lines", swap_check=False)}
    for key in OPTIONAL_LAYERS:
        layers[key] = read_layer(paths[key], key, swap_check=False) if key in paths else empty_layer(key)
    claims = read_claims(paths["claims"]) if "claims" in paths else empty_layer("claims")
    config = read_case_file(paths[CASE_FILE_KEY]) if CASE_FILE_KEY in paths else CaseConfig()
    all_sources = registry(root_arg)["sources"]
    for key in ("lines", "territories"):
        unknown = sorted(set(layers[key]["source"]) - set(all_sources))
        if unknown:
            raise ValidationError(f"{paths[key]}: column 'source' names {unknown} which are not in registry.json")
    return Case(
        name=loc.name,
        lines=layers["lines"],
        territories=layers["territories"],
        incidents=layers["incidents"],
        places=layers["places"],
        claims=claims,
        dem=paths.get("dem"),
        meta=entry,
        sources=all_sources,
        config=config,
        location=loc,
        basemap=paths.get("basemap"),
    )


# =================================================================================================
# listing cases
# =================================================================================================
def list_cases() -> list[dict[str, Any]]:
    """Every case borderkit can load by name: the bundled ones, then those of the user case folder.

    Returns
    -------
    list of dict
        ``name``, ``title``, ``pair`` (list or ``None``), ``where`` (``"bundled"``/``"user"``),
        ``folder``, ``layers`` (registry layer keys), ``rows`` (layer → rows). A user case
        whose folder cannot be read is listed with an ``error`` (one line) instead of failing the list.
    """
    from borderkit.errors import BorderkitError
    from borderkit.registry import names, user_case_dirs

    out: list[dict[str, Any]] = []
    try:
        bundled = names()
    except RegistryError:  # no bundled data in this install
        bundled = []
    targets: list[str | Path] = [*bundled, *user_case_dirs().values()]
    for target in targets:
        try:
            loc = find_case(target)
            entry = dataset_entry(loc.name, root=loc.registry_root)
            cfg = case_config(target)
        except BorderkitError as exc:
            out.append({"name": Path(target).name, "where": "user", "folder": str(target),
                        "error": " ".join(str(exc).split())})
            continue
        files = entry["files"]
        out.append({
            "name": loc.name if loc.where == "bundled" else Path(target).name,
            "title": cfg.title or entry.get("title", ""),
            "pair": list(cfg.pair) if cfg.pair else None,
            "where": "bundled" if loc.where == "bundled" else "user",
            "folder": str(loc.folder),
            "layers": sorted(files),
            "rows": {k: m.get("rows") for k, m in sorted(files.items()) if m.get("rows") is not None},
        })
    return out


# =================================================================================================
# a case from the user's own files (`borderkit case new`)
# =================================================================================================
_SOURCE_COLUMNS = ("source", "source_version", "source_date", "scale_or_accuracy_m", "licence", "attribution")
# text columns whose absence means "unknown" (schema convention: "" when unknown); the others must be given
_UNKNOWN_OK = ("source_version", "licence", "attribution")


def _read_with_defaults(path: Path, kind: str, defaults: dict[str, Any]) -> Any:
    """Read a user's lines/territories file with metadata given once (``read_lines``/``read_territories``
    ``defaults=``: one implementation in :mod:`borderkit.io.readers`); one line naming file, row and fix."""
    from borderkit.io import read_layer
    from borderkit.io.readers import read_lines, read_territories

    given = {k: v for k, v in defaults.items() if v is not None}
    if not given:
        return read_layer(path, kind, swap_check=False)
    # what the user did not state is unknown (""), never invented
    given = {**{k: "" for k in _UNKNOWN_OK}, **given}
    if kind == "lines":
        return read_lines(path, defaults=given, swap_check=False)
    return read_territories(path, defaults={k: v for k, v in given.items() if k in _SOURCE_COLUMNS},
                            swap_check=False)


def _utm_epsg(lon: float, lat: float) -> str:
    zone = min(60, max(1, int((lon + 180) // 6) + 1))
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _toml_str(value: str) -> str:
    import json

    # a JSON string with ASCII escapes is a valid TOML basic string: user text never becomes TOML syntax
    return json.dumps(value, ensure_ascii=True)


def _case_toml(*, title: str, pair: tuple[str, str] | None, region: tuple[float, float, float, float],
               parties: list[str], dem: str) -> str:
    lines = [
        "# borderkit case file, written by `borderkit case new` from the user's own files.",
        "# Coordinates are (lon, lat) in degrees (EPSG:4326). Edit freely; then update registry.json's sha256",
        "# (or remake the case with `borderkit case new --overwrite`).",
        "",
        "schema_version = 1",
        f"title = {_toml_str(title)}",
    ]
    if pair:
        lines.append(f"pair = [{_toml_str(pair[0])}, {_toml_str(pair[1])}]")
    lines.append("# west, south, east, north (degrees): the bounding box of the case's data")
    lines.append("region = [" + ", ".join(f"{v:.6f}" for v in region) + "]")
    lines.append(f"projected_crs = [{_toml_str(_utm_epsg((region[0] + region[2]) / 2, (region[1] + region[3]) / 2))}]")
    for code in parties:
        lines += ["", f"[parties.{_toml_str(code)}]", "names = []"]
    if dem:
        lines += ["", "[terrain]", f"dem = {_toml_str(dem)}"]
    lines += ["", "[map]", f"title = {_toml_str(title)}", ""]
    return "\n".join(lines)


def _file_meta(path: Path, kind: str, rows: int | None, crs: str | None, sources: list[str],
               original: Path | None, **extra: Any) -> dict[str, Any]:
    from borderkit.registry import sha256_file

    meta = {"path": path.name, "kind": kind, "sources": sources, "sha256": sha256_file(path),
            "bytes": path.stat().st_size, "rows": rows, "crs": crs, **extra}
    if original is not None:
        meta["original"] = original.name
    return meta


def new_case(
    folder: str | Path,
    *,
    lines: str | Path,
    territories: str | Path | None = None,
    incidents: str | Path | None = None,
    places: str | Path | None = None,
    claims: str | Path | None = None,
    dem: str | Path | None = None,
    claimant: str | None = None,
    left: str | None = None,
    right: str | None = None,
    source_name: str | None = None,
    source_version: str | None = None,
    source_date: str | None = None,
    accuracy_m: float | None = None,
    licence: str | None = None,
    attribution: str | None = None,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Make a case folder from the user's own files (the case folder format, ``case.toml`` + ``registry.json``).

    Every file is read and validated with the library readers; the line metadata
    given here (*claimant*, *left*, *right*, *source_name*, *source_version*,
    *source_date*, *accuracy_m*, *licence*, *attribution*) fills the lines'
    columns the file lacks or leaves empty (the source metadata also the
    territories'). The layers are written as GeoJSON, the DEM as a GeoTIFF, with
    a case file (title, pair from *left*/*right* or the lines' one pair of
    parties, region = bounding box of the data, a UTM zone as projected CRS) and a
    registry (sha256, bytes, rows, CRS, the source metadata). The folder is built
    beside *folder* and renamed into place at the end: it appears whole or not at all.

    Parameters
    ----------
    folder
        The case folder to make; its name is the case's name.
    lines, territories, incidents, places, claims, dem
        The user's files (claims: a claims CSV; dem: any raster GDAL reads).
    claimant, left, right, source_name, source_version, source_date, accuracy_m, licence, attribution
        Line metadata given once (``claimant``, ``left_party``, ``right_party``, ``source``, …).
    title
        Title of the case (default: ``"<left>–<right> (<folder name>)"``).
    overwrite
        Replace an existing case folder (only a folder holding ``case.toml``, or an empty one).

    Returns
    -------
    pathlib.Path
        The case folder.

    Raises
    ------
    OutputExistsError
        *folder* exists and *overwrite* is false.
    ValidationError
        A file breaks its schema (one line naming file, row, column and fix), or a required
        line column is missing and no default was given.
    """
    import json
    import os
    import shutil
    import tempfile

    import numpy as np

    from borderkit.claimsfile import read_claims
    from borderkit.errors import OutputExistsError
    from borderkit.io import read_layer, write_layer
    from borderkit.io.atomic import atomic_output
    from borderkit.registry import REGISTRY_FILE

    target = Path(folder).expanduser()
    name = target.resolve().name
    if target.exists():
        if not overwrite:
            raise OutputExistsError(f"{target} exists; pass --overwrite (overwrite=True) to replace it")
        if not target.is_dir() or (any(target.iterdir()) and not (target / CASE_FILE).is_file()):
            raise OutputExistsError(f"{target} exists and is not a case folder (no {CASE_FILE}); "
                                    "refusing to replace it — choose another folder")
    line_defaults = {"claimant": claimant, "left_party": left, "right_party": right, "source": source_name,
                     "source_version": source_version, "source_date": source_date,
                     "scale_or_accuracy_m": accuracy_m, "licence": licence, "attribution": attribution}
    src_defaults = {k: v for k, v in line_defaults.items() if k in _SOURCE_COLUMNS}
    inputs = {k: Path(v).expanduser() for k, v in (("lines", lines), ("territories", territories),
              ("incidents", incidents), ("places", places), ("claims", claims), ("dem", dem)) if v is not None}
    layers: dict[str, Any] = {"lines": _read_with_defaults(inputs["lines"], "lines", line_defaults)}
    if "territories" in inputs:
        layers["territories"] = _read_with_defaults(inputs["territories"], "territories", src_defaults)
    for key in ("incidents", "places"):
        if key in inputs:
            layers[key] = read_layer(inputs[key], key)
    claims_df = read_claims(inputs["claims"]) if "claims" in inputs else None

    pair: tuple[str, str] | None = None
    if left and right:
        pair = (left, right)
    else:
        pairs = {tuple(sorted(p)) for p in zip(layers["lines"]["left_party"], layers["lines"]["right_party"],
                                               strict=True)}
        if len(pairs) == 1:  # the lines separate one pair: in the order of the first line's sides
            first = layers["lines"].iloc[0]
            pair = (str(first["left_party"]), str(first["right_party"]))
    parties = sorted(set(layers["lines"]["left_party"]) | set(layers["lines"]["right_party"])
                     | (set(layers["territories"]["party"]) if "territories" in layers else set()))
    bounds = np.array([g.total_bounds for g in layers.values() if len(g) and not g.geometry.is_empty.all()])
    region = (float(np.floor(bounds[:, 0].min() * 1e4) / 1e4), float(np.floor(bounds[:, 1].min() * 1e4) / 1e4),
              float(np.ceil(bounds[:, 2].max() * 1e4) / 1e4), float(np.ceil(bounds[:, 3].max() * 1e4) / 1e4))
    title = title or (f"{pair[0]}–{pair[1]} ({name})" if pair else name)

    # sources: one registry entry per line/territory source, from the rows' own metadata
    sources: dict[str, Any] = {}
    for key in ("lines", "territories"):
        if key not in layers:
            continue
        for src, group in layers[key].groupby("source", sort=True):
            row = group.iloc[0]
            entry = sources.setdefault(str(src), {
                "title": str(src), "provided_by": "user", "source_version": str(row["source_version"]),
                "source_date": str(row["source_date"]), "scale_or_accuracy_m": float(row["scale_or_accuracy_m"]),
                "licence": str(row["licence"]), "attribution": str(row["attribution"]), "files": []})
            entry["files"].append(inputs[key].name)

    parent = target.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    try:
        files: dict[str, Any] = {}
        for key, gdf in layers.items():
            out = write_layer(gdf, tmp / f"{key}.geojson", kind=key, overwrite=True)
            srcs = sorted(set(gdf["source"])) if "source" in gdf.columns else []
            licences = sorted({sources[s]["licence"] for s in srcs if s in sources} - {""})
            files[key] = _file_meta(out, key, len(gdf), "EPSG:4326", srcs, inputs[key],
                                    licence="; ".join(licences))
        if claims_df is not None:
            with atomic_output(tmp / "claims.csv") as t:
                claims_df.to_csv(t, index=False)
            files["claims"] = _file_meta(tmp / "claims.csv", "claims", len(claims_df), None, [], inputs["claims"])
        if "dem" in inputs:
            from rasterio.shutil import copy as raster_copy

            from borderkit.terrain.dem import open_dem

            with atomic_output(tmp / "dem.tif") as t:
                raster_copy(str(inputs["dem"]), str(t), driver="GTiff", COMPRESS="DEFLATE")
            d = open_dem(tmp / "dem.tif")
            rows_, cols_ = d.shape
            files["dem"] = _file_meta(tmp / "dem.tif", "dem", int(rows_), d.crs.to_string(), [], inputs["dem"],
                                      columns=int(cols_), bounds=[round(v, 6) for v in d.lonlat_bounds()])
        with atomic_output(tmp / CASE_FILE) as t:
            t.write_text(_case_toml(title=title, pair=pair, region=region, parties=parties,
                                    dem="dem.tif" if "dem" in inputs else ""), encoding="utf-8")
        read_case_file(tmp / CASE_FILE)  # what we wrote must read back
        files[CASE_FILE_KEY] = _file_meta(tmp / CASE_FILE, "case", None, None, [], None)
        doc = {
            "schema_version": 1,
            "sources": sources,
            "datasets": {name: {"title": title, "bbox": list(region),
                                # no timestamp: the same inputs give the same bytes
                                "created_by": "borderkit case new", "files": dict(sorted(files.items()))}},
        }
        with atomic_output(tmp / REGISTRY_FILE) as t:
            t.write_text(json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a case folder is ordinary data
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".old", dir=parent))
            os.replace(target, old / name)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
