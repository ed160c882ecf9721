"""The notebooks in ``notebooks/``: committed without outputs, and every one runs.

Each notebook is executed with nbmake in a fresh kernel (the interpreter running
pytest), with the notebook's folder as the working directory, exactly as a user
opens it. A run must

* finish without an error in any cell;
* write its map into ``maps/`` (and notebook 5 its synthetic CSV into
  ``notebooks/data/``), and nothing else in the checkout: every tracked file keeps
  its bytes and no other untracked file appears;
* reproduce a *committed* output byte for byte — the exporters are
  deterministic, so a difference means the committed file is stale (the run has
  just rewritten it: review and commit the new version) or something became
  non-deterministic.

Notebook 4 compares the bundled DEM with the DTED tiles in ``../shared`` when they
are there; on CI (``CI=true``) it fails without them, like the other tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# notebook -> files (relative to the repo root) it may write
OUTPUTS = {
    "01-quickstart": ["maps/01-quickstart.html"],
    "02-sev-lake-may-2021": ["maps/02-sev-lake-may-2021.html"],
    "03-april-2024-shootings": ["maps/03-april-2024-shootings.html"],
    "04-mets-ishkhanasar": ["maps/04-mets-ishkhanasar.html"],
    "05-checking-points-at-scale": [
        "maps/05-checking-points-at-scale.html",
        "notebooks/data/synthetic-acled-format-sample.csv",
    ],
    "06-kyrgyzstan-tajikistan": ["maps/06-kyrgyzstan-tajikistan.html"],
    "07-soviet-sheet": [],  # writes only to a temporary folder
}
MAX_MAP_BYTES = 1_000_000
CELL_TIMEOUT_S = 300


def _names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_is_listed() -> None:
    assert _names() == sorted(OUTPUTS), "add the notebook and the files it writes to OUTPUTS"


@pytest.mark.parametrize("name", _names())
def test_notebook_is_committed_without_outputs(name: str) -> None:
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {i} has outputs: run `nbstripout notebooks/*.ipynb`"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count: run nbstripout"
        assert not cell.get("metadata"), f"cell {i} has metadata {cell.get('metadata')}: run nbstripout"
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}, "run nbstripout"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", _names())
def test_notebook_never_reads_the_acled_file(name: str) -> None:
    """ACLED's terms forbid republishing; notebook 5 uses synthetic data only."""
    text = (NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8")
    for needle in ("acled-armenia", "conflict_data_arm"):
        assert needle not in text


def _git(*args: str) -> list[str] | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, check=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [line for line in out.split("\0") if line]


def _snapshot() -> dict[str, str] | None:
    """sha256 of every tracked file plus the names of untracked, not ignored files (None outside git)."""
    tracked = _git("ls-files", "-z")
    untracked = _git("ls-files", "-z", "--others", "--exclude-standard")
    if tracked is None or untracked is None:
        if IN_CI:  # CI runs in a git clone: without git the "changes no other file" check would be lost
            pytest.fail("git is not available, so the notebook runs cannot be checked for side effects")
        return None
    state = {}
    for rel in tracked:
        p = REPO / rel
        state[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "missing"
    for rel in untracked:
        p = REPO / rel
        state[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "missing"
    return state


@pytest.mark.slow
@pytest.mark.parametrize("name", _names())
def test_notebook_runs(name: str) -> None:
    try:
        import ipykernel  # noqa: F401  (the kernel the notebooks run in)
        from nbmake.nb_run import NotebookRun
    except ImportError as exc:
        msg = f"{exc.name} is not installed: pip install -e '.[test]' (nbmake, ipykernel)"
        if IN_CI:
            pytest.fail(f"CI=true but {msg}")
        pytest.skip(msg)

    outputs = [REPO / rel for rel in OUTPUTS[name]]
    committed = set(_git("ls-files", "-z", "--", *OUTPUTS[name]) or [])
    before = {p: p.read_bytes() for p in outputs if p.is_file() and p.relative_to(REPO).as_posix() in committed}
    snap_before = _snapshot()

    t0 = time.perf_counter()
    # nbmake runs the notebook in a fresh kernel with the notebook's folder as working directory
    result = NotebookRun(NOTEBOOKS / f"{name}.ipynb", CELL_TIMEOUT_S).execute()
    seconds = time.perf_counter() - t0
    if result.error is not None:
        error = result.error
        pytest.fail(f"{name} failed in cell {error.failing_cell_index}:\n{error.summary}\n{error.trace}")
    assert seconds < 120, f"{name} took {seconds:.0f} s; the notebooks should stay fast enough for every test run"

    for p in outputs:
        assert p.is_file(), f"{name} did not write {p.relative_to(REPO)}"
        if p.suffix == ".html":
            size = p.stat().st_size
            assert size <= MAX_MAP_BYTES, f"{p.name} is {size:,} bytes; keep notebook maps small"
    stale = [p.relative_to(REPO).as_posix() for p, data in before.items() if p.read_bytes() != data]
    assert not stale, (
        f"running {name} changed the committed {stale}: the committed file is stale (this run has rewritten "
        "it — check the difference with `git diff` and commit it) or the output is no longer deterministic"
    )

    snap_after = _snapshot()
    if snap_before is not None and snap_after is not None:
        allowed = set(OUTPUTS[name])
        changed = {k for k in snap_before.keys() | snap_after.keys() if snap_before.get(k) != snap_after.get(k)}
        assert changed <= allowed, f"{name} changed files it does not own: {sorted(changed - allowed)}"
