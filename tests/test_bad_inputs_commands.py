"""The bad-input corpus through every command that reads users' files: check, map, convert.

``tests/test_bad_inputs.py`` runs the corpus through the API and ``borderkit validate``;
this file runs the same cases (``tests/data/bad/manifest.json``) through the other
commands. What a user must get from each, whatever the command:

* a file the readers refuse: a non-zero exit code that is not 70 (internal error),
  one line on stderr that names the file, no traceback, and no output file left behind;
* a file the readers take: exit 0 and every row in the output (rows in = rows out).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from borderkit.cli.main import EXIT_INTERNAL, cli

CORPUS = Path(__file__).parent / "data" / "bad"
CASES: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
POINT_KINDS = {"incidents", "places"}


def _ids(case: dict[str, Any]) -> str:
    return case["file"]


def _invoke(args: list[str]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CliRunner().invoke(cli, args, catch_exceptions=False)


def _assert_refused(result: Any, case: dict[str, Any], out: Path) -> None:
    assert result.exit_code not in (0, EXIT_INTERNAL), (case["file"], result.output)
    err = result.stderr.strip()
    assert "Traceback" not in result.output
    lines = [ln for ln in err.splitlines() if ln.startswith("borderkit: error")]
    assert len(lines) == 1, err
    assert case["file"] in lines[0] or "--kind" in lines[0], lines[0]
    assert not out.exists(), "a failed run must leave no output file"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")], "temporary file left"


@pytest.mark.parametrize("case", [c for c in CASES if not c["large"]], ids=_ids)
def test_convert(case: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out.geojson"
    result = _invoke(["convert", str(CORPUS / case["file"]), str(out), "--kind", case["kind"]])
    if case["error"] is not None:
        _assert_refused(result, case, out)
        return
    assert result.exit_code == 0, result.output
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(features) == case["rows_in"]


COORDINATE_COLUMNS = {"latitude", "longitude", "geometry", "precision_m"}


@pytest.mark.parametrize("case", [c for c in CASES if not c["large"] and c["kind"] in POINT_KINDS], ids=_ids)
def test_check(case: dict[str, Any], tmp_path: Path) -> None:
    """``check`` needs only points: a file with a bad point is refused, other schema problems
    (a misspelt id column, a bad date) are not its business, and no row is ever lost."""
    import pandas as pd

    out = tmp_path / "checked.csv"
    result = _invoke(["check", str(CORPUS / case["file"]), "-o", str(out)])
    if case["error"] is not None and (case["column"] in COORDINATE_COLUMNS or case["rows_in"] is None):
        if result.exit_code != 0 or case["rows_in"] is not None:
            _assert_refused(result, case, out)
            return
    if result.exit_code != 0:
        _assert_refused(result, case, out)
        return
    if case["rows_in"] is not None:
        assert len(pd.read_csv(out)) == case["rows_in"]
    if case["error"] is not None and case["rows_in"] is not None and case["column"] in COORDINATE_COLUMNS:
        return
    # with --errors collect no row is dropped silently either
    rej = tmp_path / "rejected.csv"
    out.unlink()
    result = _invoke(["check", str(CORPUS / case["file"]), "-o", str(out), "--errors", "collect",
                      "--rejected", str(rej)])
    assert result.exit_code == 0, result.output
    n_rej = len(pd.read_csv(rej)) if rej.exists() else 0
    if case["rows_in"] is not None:
        assert len(pd.read_csv(out)) + n_rej == case["rows_in"]


@pytest.mark.parametrize("case", [c for c in CASES if not c["large"]], ids=_ids)
def test_map(case: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    # with DATA and no --case, the map draws the user's files only
    result = _invoke(["map", str(CORPUS / case["file"]), "-o", str(out)])
    if case["error"] is not None:
        _assert_refused(result, case, out)
        return
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0

