"""The layer rule of DESIGN.md, checked by scanning every module's imports (AST, no import is run).

Every import counts: module level, inside functions and under ``if TYPE_CHECKING``. A module may
import modules of its own rank or below, never above; the measurement modules (rank 7) are
independent of each other. Edges that break the rule in modules other helpers are rewriting right
now are listed in ``REMAINING`` for the lead (issue 11); the test fails on any *new* upward edge,
and on an edge of the list that is gone (so the list shrinks as they are fixed).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "borderkit"

# top → bottom in DESIGN.md; a larger rank is a higher layer
RANKS: dict[str, float] = {
    "borderkit.errors": 0, "borderkit.schema": 0, "borderkit._version": 0,
    "borderkit._projection": 1, "borderkit.plotting": 1,
    "borderkit._fastgeo": 2,
    "borderkit.geodesy": 3, "borderkit.datum": 3,
    "borderkit.validate": 4,
    "borderkit.io": 5, "borderkit.claimsfile": 5,
    "borderkit.registry": 6, "borderkit.indexcache": 6,
    "borderkit.lines": 7, "borderkit.places": 7, "borderkit.sheets": 7,
    "borderkit.measure": 8, "borderkit.locate": 8, "borderkit.overlaps": 8, "borderkit.terrain": 8,
    "borderkit.georef": 8,
    "borderkit.cases": 9, "borderkit.datasets": 9, "borderkit.scale": 9,
    "borderkit.claims": 10,
    "borderkit.maps": 11,
    "borderkit.casebuild": 11.5,
    "borderkit.cli": 12, "borderkit.__main__": 12, "borderkit": 12,
}
INDEPENDENT = {"borderkit.measure", "borderkit.locate", "borderkit.overlaps", "borderkit.terrain", "borderkit.georef"}
"""Siblings of one layer that must not import each other."""

MINE = {
    "borderkit", "borderkit.errors", "borderkit.schema", "borderkit._projection", "borderkit._fastgeo",
    "borderkit.geodesy", "borderkit.claimsfile", "borderkit.registry", "borderkit.lines", "borderkit.places",
    "borderkit.measure", "borderkit.overlaps", "borderkit.cases", "borderkit.datasets", "borderkit.claims",
    "borderkit.cli.measure_cmd", "borderkit.cli.overlaps_cmd", "borderkit.cli.claims_cmd",
    "borderkit.cli.datasets_cmd",
}
"""Modules rewritten for issue 11 (core part): they must follow the rule with no exception."""

REMAINING: set[tuple[str, str]] = set()
"""Upward or sideways edges in modules owned by other work in progress; the lead removes them."""

TERRAIN_CLI = {
    "borderkit.cli.peak_cmd", "borderkit.cli.los_cmd", "borderkit.cli.viewshed_cmd", "borderkit.cli.profile_cmd",
    "borderkit.cli.dem_cmd", "borderkit.cli.options",
}
"""The terrain commands and the shared options (issue 11, terrain part): no private library name either."""

TERRAIN_PRIVATE_SUBMODULES = {"borderkit.terrain._kernels", "borderkit.terrain._gdal"}
"""Private submodules of :mod:`borderkit.terrain` used only inside the package (numba kernels; the
GDAL comparison helper the tests use). Terrain modules may import them and nothing else private."""


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every borderkit module *path* imports (absolute names), anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("borderkit")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
            if not base.startswith("borderkit"):
                continue
            if base != "borderkit":
                out.add(base)
            for a in node.names:  # `from borderkit import measure` imports the module borderkit.measure
                if base == "borderkit" and a.name != "*":
                    out.add(f"borderkit.{a.name}")
    out.discard(name)
    return out


def _rank(module: str) -> tuple[str, float] | None:
    """The ranked layer a module belongs to (its longest ranked prefix)."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in RANKS:
            return key, RANKS[key]
    return None


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p, _module_name(p)) for p in sorted(SRC.rglob("*.py"))}


def _violations(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    bad = set()
    for mod, targets in graph.items():
        src = _rank(mod)
        if src is None or mod == "borderkit":  # the top-level lazy facade re-exports every layer
            continue
        for t in targets:
            dst = _rank(t)
            if dst is None or dst[0] == src[0] or t in ("borderkit.errors",):
                continue
            if dst[1] > src[1] or (dst[1] == src[1] and src[0] in INDEPENDENT and dst[0] in INDEPENDENT):
                bad.add((mod, t))
    return bad


def test_every_module_has_a_layer():
    unranked = sorted(m for m in _graph() if _rank(m) is None)
    assert not unranked, f"add these modules to RANKS (and to the layer table of DESIGN.md): {unranked}"


def test_no_module_imports_a_higher_layer():
    bad = _violations(_graph())
    mine = sorted((m, t) for m, t in bad if m in MINE)
    assert not mine, f"modules of the core import a higher layer: {mine}"
    new = sorted(bad - REMAINING)
    assert not new, f"new upward imports (DESIGN.md, layer table): {new}"


def test_remaining_list_is_current():
    gone = sorted(REMAINING - _violations(_graph()))
    assert not gone, f"fixed, remove from REMAINING: {gone}"


def test_the_core_has_no_import_cycle():
    graph = _graph()
    core = {m: {t for t in ts if t in MINE} for m, ts in graph.items() if m in MINE}
    seen: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        seen[m] = 1
        for t in sorted(core.get(m, ())):
            if seen.get(t) == 1:
                pytest.fail("import cycle: " + " → ".join([*stack[stack.index(t):], t]))
            if t not in seen:
                visit(t, [*stack, t])
        seen[m] = 2

    for m in sorted(core):
        if m not in seen:
            visit(m, [m])


@pytest.mark.parametrize("module", sorted({m for m in MINE if m.startswith("borderkit.cli.")} | TERRAIN_CLI))
def test_cli_commands_import_no_private_library_name(module):
    path = SRC.parent / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("borderkit"):
            if any(p.startswith("_") for p in (node.module or "").split(".")):
                private.append(node.module)
            private += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert not private, f"{module} imports private names: {private}"


def _terrain_modules() -> list[Path]:
    return sorted((SRC / "terrain").glob("*.py"))


@pytest.mark.parametrize("path", _terrain_modules(), ids=lambda p: p.name)
def test_terrain_imports_no_private_name_of_another_module(path):
    """``from borderkit.x import _y`` is refused; private submodules of terrain itself are allowed."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("borderkit"):
            for a in node.names:
                if a.name.startswith("_") and f"{node.module}.{a.name}" not in TERRAIN_PRIVATE_SUBMODULES:
                    private.append(f"{node.module}.{a.name}")
    assert not private, f"{path.name} imports private names: {private}"


def test_click_only_under_cli():
    users = []
    for path in sorted(SRC.rglob("*.py")):
        if "cli" in path.relative_to(SRC).parts[:1]:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "click" or n.startswith("click.") for n in names):
                users.append(str(path.relative_to(SRC)))
    assert not users, f"click is imported outside borderkit/cli: {sorted(set(users))}"
