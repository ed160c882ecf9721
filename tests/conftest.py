"""Shared test fixtures.

* ``shared_path(rel)`` finds a file of the reference data in ``../shared`` (or
  ``$BORDERKIT_SHARED``). Outside CI a missing file skips the test; with
  ``CI=true`` it fails, so CI can never go green by skipping.
* Every test runs with outbound network blocked (only loopback is allowed), so a
  hidden download fails loudly instead of passing on a developer's machine.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BORDERKIT_SHARED", REPO.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def shared_file(rel: str) -> Path:
    """Path of a file in the shared reference data; skip (or fail in CI) when missing."""
    path = SHARED / "data" / rel
    if not path.exists():
        msg = f"shared reference file {path} not found (set BORDERKIT_SHARED)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def load_case():
    """The bundled case; skipped outside CI when it cannot be loaded (with ``CI=true`` its error fails the test)."""
    import borderkit

    try:
        return borderkit.datasets.load()
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            raise
        pytest.skip(f"bundled case not loadable yet: {exc}")


def require_module(name: str):
    """Import an optional dependency; skip when missing, but fail with ``CI=true`` (unlike ``importorskip``)."""
    try:
        return __import__(name)
    except ImportError as exc:
        msg = f"optional dependency {name!r} not installed ({exc})"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg, allow_module_level=True)


@pytest.fixture
def shared_path():
    return shared_file


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, (bytes, str)) and str(host) in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False  # a host name other than localhost: would need DNS, i.e. the network


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise OSError(f"network access blocked in tests (tried {address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield
