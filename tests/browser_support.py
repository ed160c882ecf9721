"""Shared pieces of the browser tests (Playwright driving Debian's Chromium): the browser and
case fixtures, a logged page (:class:`Session`) whose requests are routed to the vendored CDN files,
and the on-screen geometry helpers that ``test_browser*.py`` measure with.

Outside CI the fixtures skip when Playwright or Chromium is missing; with ``CI=true`` a missing
browser fails them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import IN_CI, load_case

CHROMIUM = os.environ.get("BORDERKIT_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
]
ASSETS = Path(__file__).resolve().parent.parent / "src" / "borderkit" / "maps" / "assets"
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


def missing(msg: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {msg}: browser tests must run in CI")
    pytest.skip(msg)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install playwright)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


def cdn_files() -> dict[str, Path]:
    manifest = json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))
    return {f["cdn_url"]: ASSETS / p["directory"] / f["file"] for p in manifest["packages"] for f in p["files"]}


class Session:
    """One page with console, error, dialog and request logging."""

    def __init__(
        self,
        browser,
        path: Path,
        *,
        block_all: bool = False,
        width: int = 1400,
        height: int = 900,
        hash: str = "",
        also: tuple[Path, ...] = (),
        ready: bool = True,
    ):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.aborted: list[str] = []
        self.url = path.resolve().as_uri()
        local = {self.url} | {p.resolve().as_uri() for p in also}  # e.g. the map inside a host page's iframe
        cdn = cdn_files()
        page = self.page
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)

        def route(r):
            u = r.request.url
            self.requests.append(u)
            if u in local:
                return r.continue_()
            if not block_all and u in cdn:
                ctype = "text/css" if u.endswith(".css") else "application/javascript"
                return r.fulfill(
                    status=200,
                    body=cdn[u].read_bytes(),
                    headers={"Content-Type": ctype, "Access-Control-Allow-Origin": "*"},
                )
            if not block_all and any(
                h in u for h in ("tile.openstreetmap.org", "tile.opentopomap.org", "server.arcgisonline.com")
            ):
                return r.fulfill(
                    status=200,
                    body=BLANK_PNG,
                    headers={"Content-Type": "image/png", "Access-Control-Allow-Origin": "*"},
                )
            self.aborted.append(u)
            return r.abort()

        page.route("**/*", route)
        page.goto(self.url + hash)
        if ready:
            page.wait_for_selector('html[data-borderkit-ready="1"]', timeout=20000)
        page.wait_for_timeout(300)

    def console_errors(self) -> list[str]:
        return [t for k, t in self.console if k == "error"] + self.errors

    def flag(self):
        return self.page.evaluate("window.__bk_pwned === undefined ? null : window.__bk_pwned")

    def visible_incidents(self) -> int:
        return self.page.locator("path.bk-incident").count()

    def close(self):
        self.page.close()


@pytest.fixture(scope="module")
def maps_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("maps")


@pytest.fixture(scope="module")
def case():
    return load_case()


def overlap(a, b) -> bool:
    return a["x0"] < b["x1"] - 1 and b["x0"] < a["x1"] - 1 and a["y0"] < b["y1"] - 1 and b["y0"] < a["y1"] - 1


WIDTHS = {360: 740, 390: 844, 680: 600, 1024: 768, 1400: 900}
"""Phone (small, common), the usual article iframe width, tablet, desktop → window heights."""

CONTROL_BOXES = """(root) => {
  const doc = root || document;
  const map = doc.querySelector('.leaflet-container').getBoundingClientRect();
  const boxes = Array.from(doc.querySelectorAll('.leaflet-control, .bk-title')).filter((e) => {
    const r = e.getBoundingClientRect();
    return e.offsetParent !== null && r.width > 0 && r.height > 0;
  }).map((e) => {
    const r = e.getBoundingClientRect();
    return {name: e.className, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
  });
  return {map: {x0: map.left, y0: map.top, x1: map.right, y1: map.bottom}, boxes: boxes};
}"""


def artefact_dir(tmp_path: Path) -> Path:
    """Screenshots go to $BORDERKIT_TEST_ARTEFACTS when set (CI keeps them), else to the test's tmp_path."""
    out = Path(os.environ.get("BORDERKIT_TEST_ARTEFACTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def check_layout(boxes: dict, where: str) -> float:
    """Assert no two controls intersect and all stay inside the map; return the share of the map they cover."""
    m = boxes["map"]
    items = boxes["boxes"]
    assert len(items) >= 5, (where, items)
    for b in items:  # inside the map (1 px of rounding)
        assert b["x0"] >= m["x0"] - 1 and b["y0"] >= m["y0"] - 1, (where, b)
        assert b["x1"] <= m["x1"] + 1 and b["y1"] <= m["y1"] + 1, (where, b)
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            assert w <= 0 or h <= 0, f"{where}: {a['name']!r} overlaps {b['name']!r} ({w:.0f}×{h:.0f} px)"
    area = sum((b["x1"] - b["x0"]) * (b["y1"] - b["y0"]) for b in items)
    share = area / ((m["x1"] - m["x0"]) * (m["y1"] - m["y0"]))
    assert share <= 0.25, f"{where}: controls cover {share:.0%} of the map"
    return share


LABELS = ".leaflet-tooltip, .bk-country-name"
SHOWN = """(sel) => Array.from(document.querySelectorAll(sel)).filter(e => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return s.display !== "none" && s.visibility !== "hidden" && r.width > 0 && r.right > 0 && r.bottom > 0
        && r.left < window.innerWidth && r.top < window.innerHeight;
}).map(e => { const r = e.getBoundingClientRect();
              return {text: e.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })"""
