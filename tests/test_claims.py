"""borderkit.claims: tolerance rules, the evaluation of claims and the `borderkit claims` CLI.

Measured values are checked against independent computations (pyproj ``Geod``
on densely sampled lines, a UTM overlay, the DEM read directly with rasterio);
verdicts against the tolerance rule worked out by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod, Transformer

from borderkit import datasets
from borderkit.cases import CaseConfig, Party
from borderkit.claims import (
    Reading,
    ToleranceRule,
    claim_band,
    claims_report,
    evaluate_claims,
    read_claims,
    rounding_step,
)
from borderkit.datasets import Case
from conftest import require_module

GEOD = Geod(ellps="WGS84")
SOURCES = ["dcw-gmt", "gshhg-wdbii", "natural-earth-10m", "osm-2017"]


def brute_nearest(lon, lat, geoms, step_m=1.0) -> float:
    """Smallest Geod.inv distance to lines sampled every step_m on their geodesic segments (rigorous prefilter)."""
    segs = np.vstack([np.column_stack([np.asarray(p.coords)[:-1], np.asarray(p.coords)[1:]])
                      for g in geoms for p in shapely.get_parts(g)])
    n = len(segs)
    da = GEOD.inv(np.full(n, lon), np.full(n, lat), segs[:, 0], segs[:, 1])[2]
    db = GEOD.inv(np.full(n, lon), np.full(n, lat), segs[:, 2], segs[:, 3])[2]
    az, _, length = GEOD.inv(segs[:, 0], segs[:, 1], segs[:, 2], segs[:, 3])
    keep = np.minimum(da, db) <= min(da.min(), db.min()) + length + 1
    best = math.inf
    for s, a, L in zip(segs[keep], np.asarray(az)[keep], np.asarray(length)[keep], strict=True):
        k = max(2, int(math.ceil(L / step_m)) + 1)
        x, y, _ = GEOD.fwd(np.full(k, s[0]), np.full(k, s[1]), np.full(k, a), np.linspace(0, L, k))
        best = min(best, float(GEOD.inv(np.full(k, lon), np.full(k, lat), x, y)[2].min()))
    return best


# ------------------------------------------------------------------------------------ tolerance rules
@pytest.mark.parametrize(("value", "step"), [(40, 10), (25, 5), (12, 1), (3.5, 0.5), (3, 1), (3500, 500),
                                             (0.2, 0.1), (120, 10), (7.25, 0.05), (10, 5), (5, 1), (100, 50)])
def test_rounding_step(value, step):
    assert rounding_step(value) == pytest.approx(step)


def test_claim_bands_by_qualifier():
    b = claim_band(12_000, "approximately", unit_m=1000, value=12)
    assert (b["low_m"], b["high_m"]) == (10_800, 13_200) and b["reading"] == "approx"  # 10 % > rounding 500 m
    b = claim_band(3_500, "up to", unit_m=1000, value=3.5)
    assert (b["low_m"], b["high_m"]) == (0.0, 3_750)
    b = claim_band(25_000, "in a straight line", unit_m=1000, value=25)
    assert (b["low_m"], b["high_m"]) == (22_500, 27_500) and "method" in b["text"]
    b = claim_band(3_500, "", unit_m=1, value=3500)
    assert (b["low_m"], b["high_m"]) == (3_250, 3_750)
    b = claim_band(12_000, "at least", unit_m=1000, value=12)
    assert b["low_m"] == 11_500 and math.isinf(b["high_m"])
    b = claim_band(10_000, "about", rule=ToleranceRule(absolute_m=100), unit_m=1000, value=10)
    assert (b["low_m"], b["high_m"]) == (9_900, 10_100)
    assert claim_band(5_000, "reportedly", unit_m=1000, value=5)["reading"] == "unknown"


# ------------------------------------------------------------------------------------ a hand-built case
def hand_case(claims_rows: list[dict]) -> Case:
    line = shapely.LineString([(45.0, 39.5), (45.0, 40.5)])  # ARM west (left walking north)
    lines = gpd.GeoDataFrame({"line_id": ["h:mainland"], "source": ["hand"], "section": ["mainland"],
                              "left_party": ["ARM"], "right_party": ["AZE"], "scale_or_accuracy_m": [100.0]},
                             geometry=[line], crs="EPSG:4326")
    lon, lat, _ = GEOD.fwd(45.0, 40.0, 270.0, 10_000.0)  # 10 km west of the line, on a perpendicular geodesic
    places = gpd.GeoDataFrame({"place_id": ["v", "ghost"], "kind": ["village", "village"], "name_en": ["V", "Ghost"],
                               "notes": ["", "UNLOCATED: never found"]},
                              geometry=[shapely.Point(lon, lat), None], crs="EPSG:4326")
    incidents = gpd.GeoDataFrame({"incident_id": ["i1"], "place_id": ["v"], "precision_m": [5000.0],
                                  "description": ["Forces advanced toward Armenia near V."]},
                                 geometry=[shapely.Point(lon, lat)], crs="EPSG:4326")
    territories = gpd.GeoDataFrame({"party": [], "source": [], "scale_or_accuracy_m": []}, geometry=[],
                                   crs="EPSG:4326")
    base = {"qualifier": "", "reference": "border:ARM|AZE", "source": "test", "incident_id": "", "source_url": "",
            "readings": "", "notes": ""}
    claims = pd.DataFrame([{**base, **r} for r in claims_rows])
    # the names reports use for the parties are case data (a case file's [parties.*] names)
    config = CaseConfig(parties={"ARM": Party("ARM", ("Armenia", "Armenian")), "AZE": Party("AZE", ("Azerbaijan",))})
    return Case(name="hand", lines=lines, territories=territories, incidents=incidents, places=places, claims=claims,
                dem=Path("none.tif"), meta={}, sources={}, config=config)


def test_default_readings_and_verdicts_on_a_hand_case():
    case = hand_case([
        {"claim_id": "c1", "statement": "about 10 km", "quantity": "distance", "claimed_value": 10,
         "claimed_unit": "km", "qualifier": "about", "subject": "place:v"},
        {"claim_id": "c2", "statement": "3 km", "quantity": "distance", "claimed_value": 3, "claimed_unit": "km",
         "subject": "place:v"},
        {"claim_id": "c3", "statement": "ghost 5 km", "quantity": "distance", "claimed_value": 5,
         "claimed_unit": "km", "subject": "place:ghost"},
        {"claim_id": "c4", "statement": "advanced up to 12 km", "quantity": "advance_depth", "claimed_value": 12,
         "claimed_unit": "km", "qualifier": "up to", "subject": "incident:i1"},
        {"claim_id": "c5", "statement": "advanced 5 km", "quantity": "advance_depth", "claimed_value": 5,
         "claimed_unit": "km", "subject": "incident:i1"},
        {"claim_id": "c6", "statement": "20 km from X", "quantity": "distance", "claimed_value": 20,
         "claimed_unit": "km", "subject": "place:v", "reference": "territory:AZE/nowhere"},
    ])
    t = evaluate_claims(case).set_index("claim_id")
    e = math.hypot(100.0, 1000.0)  # line accuracy ⊕ village precision
    assert t.loc["c1", "measured_m"] == pytest.approx(10_000.0, abs=0.01)
    assert t.loc["c1", "uncertainty_m"] == pytest.approx(e)
    # "about 10 km": the larger of the rounding of "10" (step 5 km: ±2.5 km) and 10 %
    assert t.loc["c1", "accept_min_m"] == pytest.approx(7_500 - e) and t.loc["c1", "verdict"] == "consistent"
    assert t.loc["c2", "verdict"] == "inconsistent" and t.loc["c2", "accept_max_m"] == pytest.approx(3_500 + e)
    assert t.loc["c3", "verdict"] == "cannot be measured" and "unlocated" in t.loc["c3", "reason"]
    # advance: the place is 10 km into ARM; "up to 12 km" reaches it, "5 km" does not
    assert t.loc["c4", "measured_m"] == pytest.approx(10_000.0, abs=0.01) and t.loc["c4", "verdict"] == "consistent"
    assert t.loc["c5", "verdict"] == "inconsistent"
    assert "circular" in t.loc["c4", "note"]  # the incident's 5 km radius is not the tolerance
    assert t.loc["c4", "uncertainty_m"] == pytest.approx(e)
    # a reference the data cannot support is reported, not an error
    assert t.loc["c6", "verdict"] == "cannot be measured" and "territory" in t.loc["c6", "reason"]
    # the party advanced into must be known; override with advance_into
    flipped = evaluate_claims(case, advance_into={"c4": "AZE"}).set_index("claim_id")
    assert flipped.loc["c4", "measured_m"] == pytest.approx(-10_000.0, abs=0.01)
    assert flipped.loc["c4", "verdict"] == "inconsistent"
    # readings can be supplied
    r = evaluate_claims(case, readings={"c2": [Reading("(x)", "no way to tell", "not_measurable", reason="why not")]})
    assert r.set_index("claim_id").loc["c2", "verdict"] == "cannot be measured"


# ------------------------------------------------------------------------------------ the bundled case
@pytest.fixture(scope="module")
def case():
    return datasets.load()


@pytest.fixture(scope="module")
def table(case):
    return evaluate_claims(case)


def test_every_claim_against_every_source(case, table):
    assert set(table["claim_id"]) == set(case.claims["claim_id"])
    for cid, g in table.groupby("claim_id"):
        if cid == "mets-ishkhanasar-3500m":
            assert g["source"].str.startswith("dem:").all()
        else:
            assert set(g["source"]) == set(SOURCES), cid
    assert set(table["verdict"]) <= {"consistent", "inconsistent", "cannot be measured"}
    measured = table[table["verdict"] != "cannot be measured"]
    assert measured["method"].str.len().gt(0).all() and measured["features"].str.len().gt(0).all()


def test_ashagi_seyfali_cannot_be_measured(table):
    g = table[table["claim_id"] == "ashagi-seyfali-40km-from-border"]
    assert (g["verdict"] == "cannot be measured").all() and (g["claim_verdict"] == "cannot be measured").all()
    assert g.loc[g["reading"] == "(b)", "reason"].str.contains("unlocated").all()


def test_khndzoresk_readings(case, table):
    g = table[table["claim_id"] == "khndzoresk-12km-from-border"].set_index(["reading", "source"])
    k = case.places.set_index("place_id").loc["khndzoresk"].geometry
    for src in SOURCES:
        lines = case.lines[case.lines.source == src].geometry
        truth = brute_nearest(k.x, k.y, list(lines))
        row = g.loc[("(a)", src)]
        assert row["measured_m"] == pytest.approx(truth, abs=0.02), src
        acc = float(case.lines.loc[case.lines.source == src, "scale_or_accuracy_m"].iloc[0])
        e = math.hypot(acc, 1000.0)
        assert row["accept_min_m"] == pytest.approx(12_000 - 1_200 - e)
        assert row["verdict"] == ("consistent" if truth >= 12_000 - 1_200 - e else "inconsistent")
    # (b): along the geodesic toward Lachin; independent for OSM: walk the geodesic, find the side change
    la = case.places.set_index("place_id").loc["lachin"].geometry
    az, _, total = GEOD.inv(k.x, k.y, la.x, la.y)
    s = np.arange(0, total, 5.0)
    x, y, _ = GEOD.fwd(np.full(s.size, k.x), np.full(s.size, k.y), np.full(s.size, az), s)
    path = shapely.LineString(np.column_stack([x, y]))
    osm = case.lines[(case.lines.source == "osm-2017") & (case.lines.section == "mainland")].geometry.iloc[0]
    hit = shapely.intersection(path, osm)
    first = min(shapely.get_parts(hit), key=lambda p: path.project(p))
    expected = GEOD.inv(k.x, k.y, first.x, first.y)[2]
    assert g.loc[("(b)", "osm-2017"), "measured_m"] == pytest.approx(expected, abs=20.0)
    assert (g.loc["(c)"]["verdict"] == "cannot be measured").all()
    assert set(table.loc[table["claim_id"] == "khndzoresk-12km-from-border", "claim_verdict"]) == {
        "depends on reading"}


def test_nakhchivan_corridor_reading(case, table):
    g = table[(table["claim_id"] == "nakhchivan-25km-straight-line") & (table["reading"] == "(a)")].set_index("source")
    to_utm = Transformer.from_crs(4326, 32638, always_xy=True)

    def utm(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))

    nak = shapely.Point(45.41222, 39.20889)
    for src in ("dcw-gmt", "natural-earth-10m", "osm-2017"):
        geom = case.territories[(case.territories.source == src) & (case.territories.party == "AZE")].geometry.iloc[0]
        parts = list(shapely.get_parts(geom))
        a = next(p for p in parts if p.contains(nak))
        b = max(parts, key=lambda p: abs(GEOD.geometry_area_perimeter(p)[0]))
        assert g.loc[src, "measured_m"] == pytest.approx(shapely.distance(utm(a), utm(b)), rel=1e-3), src
    sec = case.lines[case.lines.source == "gshhg-wdbii"].set_index("section").geometry
    assert g.loc["gshhg-wdbii", "measured_m"] == pytest.approx(
        shapely.distance(utm(sec["nakhchivan"]), utm(sec["mainland"])), rel=1e-3)
    # 25 km "in a straight line": ±2.5 km rounding, widened by two line accuracies
    for src, row in g.iterrows():
        acc = float(case.lines.loc[case.lines.source == src, "scale_or_accuracy_m"].iloc[0])
        assert row["accept_min_m"] == pytest.approx(22_500 - math.sqrt(2) * acc)
        assert row["verdict"] == "consistent"
    readings = set(table.loc[table["claim_id"] == "nakhchivan-25km-straight-line", "reading"])
    assert {"(a)", "(b) goris", "(c)", "(d)"} <= readings


def test_sev_lake_advance(case, table):
    g = table[(table["claim_id"] == "sev-lake-advance-3.5km") & (table["reading"] == "(a)")].set_index("source")
    lake = case.places.set_index("place_id").loc["sev_lake"].geometry
    for src in SOURCES:
        truth = brute_nearest(lake.x, lake.y, list(case.lines[case.lines.source == src].geometry))
        assert abs(g.loc[src, "measured_m"]) == pytest.approx(truth, abs=0.02)
    pt = shapely.Point(lake.x, lake.y)
    for src in ("dcw-gmt", "natural-earth-10m"):
        arm = case.territories[(case.territories.source == src) & (case.territories.party == "ARM")].geometry.iloc[0]
        assert (g.loc[src, "measured_m"] > 0) == arm.covers(pt)
    assert (g["verdict"] == "consistent").all()
    assert g.loc["osm-2017", "note"].count("gap") >= 1  # OSM's line stops at the lake shore
    # the lake lies within the uncertainty of every line but OSM's (whose stated 10 m is its generator's error)
    for src in ("dcw-gmt", "gshhg-wdbii", "natural-earth-10m"):
        assert "cannot tell" in g.loc[src, "note"]


def test_mets_ishkhanasar_against_the_dem(case, table):
    rasterio = require_module("rasterio")
    row = table[table["claim_id"] == "mets-ishkhanasar-3500m"].iloc[0]
    peak = case.places.set_index("place_id").loc["mets_ishkhanasar"].geometry
    with rasterio.open(case.dem) as ds:
        z = ds.read(1).astype(float)
        rows, cols = np.indices(z.shape)
        xs, ys = rasterio.transform.xy(ds.transform, rows.ravel(), cols.ravel())
        dx, dy = abs(ds.transform.a), abs(ds.transform.e)
    xs, ys = np.asarray(xs), np.asarray(ys)
    ew = GEOD.inv(peak.x, peak.y, peak.x + dx, peak.y)[2]
    ns = GEOD.inv(peak.x, peak.y, peak.x, peak.y + dy)[2]
    radius = max(1000.0, 1.5 * max(ew, ns))
    near = (np.abs(xs - peak.x) < 0.05) & (np.abs(ys - peak.y) < 0.05)
    d = GEOD.inv(np.full(near.sum(), peak.x), np.full(near.sum(), peak.y), xs[near], ys[near])[2]
    expected = z.ravel()[near][d <= radius].max()
    assert row["measured_m"] == expected
    assert row["verdict"] == "consistent"  # 3,500 ± 250 (rounding) ± the DEM's 30 m
    assert row["uncertainty_m"] == 30.0


def test_report_contract(table):
    rep = claims_report(table)
    assert len(rep) == 6
    for c in rep:
        assert {"claim_id", "statement", "claimed", "measured", "verdict"} <= set(c)
        assert set(c["claimed"]) >= {"value", "unit"}
        for m in c["measured"]:
            assert {"source", "value", "unit", "method"} <= set(m)
            assert isinstance(m["value"], float) and m["unit"] == c["claimed"]["unit"]
    by = {c["claim_id"]: c for c in rep}
    assert by["ashagi-seyfali-40km-from-border"]["verdict"] == "cannot be measured"
    assert by["ashagi-seyfali-40km-from-border"]["measured"] == []
    assert by["nakhchivan-25km-straight-line"]["ambiguous"] is True
    json.dumps(rep, allow_nan=False)


def test_cli_claims(tmp_path):
    from borderkit.cli.claims_cmd import claims

    r = CliRunner().invoke(claims, ["--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert isinstance(doc, list) and len(doc) == 6
    assert all({"claim_id", "statement", "claimed", "measured", "verdict"} <= set(c) for c in doc)
    r = CliRunner().invoke(claims, ["--source", "osm-2017"], catch_exceptions=False)
    assert r.exit_code == 0 and "CANNOT BE MEASURED" in r.output and "osm-2017" in r.output
    assert "natural-earth-10m" not in r.output
    out = tmp_path / "claims.csv"
    r = CliRunner().invoke(claims, ["-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0 and pd.read_csv(out).shape[0] > 6
    r = CliRunner().invoke(claims, ["-o", str(out)])
    assert r.exit_code == 2 and "--overwrite" in r.output


def test_read_claims_still_validates(tmp_path, case):
    path = tmp_path / "c.csv"
    case.claims.to_csv(path, index=False)
    assert read_claims(path)["claim_id"].tolist() == case.claims["claim_id"].tolist()


def test_a_second_case_needs_only_a_case_file(tmp_path):
    """Readings and party names come from the case file: a new case (other parties) needs no code."""
    from borderkit.cases import read_case_file

    (tmp_path / "case.toml").write_text(
        '\n'.join([
            'pair = ["RUR", "GRA"]',
            '[parties.RUR]', 'names = ["Ruritania"]',
            '[[readings."c1"]]', 'label = "(z)"', 'text = "from the village"', 'kind = "point_to_line"',
            'place = "v"',
        ]),
        encoding="utf-8",
    )
    config = read_case_file(tmp_path / "case.toml")
    case = hand_case([
        {"claim_id": "c1", "statement": "10 km", "quantity": "distance", "claimed_value": 10, "claimed_unit": "km",
         "subject": "place:v", "reference": "border:RUR|GRA"},
        {"claim_id": "c2", "statement": "advanced toward Ruritania 10 km", "quantity": "advance_depth",
         "claimed_value": 10, "claimed_unit": "km", "subject": "incident:i1", "reference": "border:RUR|GRA"},
    ])
    case.lines["left_party"], case.lines["right_party"] = "RUR", "GRA"
    case.config = config
    t = evaluate_claims(case).set_index("claim_id")
    assert t.loc["c1", "reading"] == "(z)"
    _, _, d = GEOD.inv(45.0, 40.0, *GEOD.fwd(45.0, 40.0, 270.0, 10_000.0)[:2])  # the place is 10 km west
    assert t.loc["c1", "measured_m"] == pytest.approx(d, abs=0.01)
    # "toward Ruritania" is read with the case file's name for RUR; the place is on RUR's (left) side
    assert t.loc["c2", "measured_m"] == pytest.approx(10_000.0, abs=0.01)
    assert "RUR" in t.loc["c2", "note"]


def test_case_readings_are_case_data(case):
    import borderkit.claims as C

    assert case.config.readings["sev-lake-advance-3km"][0].kind == "advance_depth"
    assert C.CASE_READINGS == case.config.readings  # the old module attribute reads the bundled case file
