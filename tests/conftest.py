"""Shared fixtures: every test runs with its own config and data directories and no
PERPDESK_* variables from the developer's shell."""

from __future__ import annotations

import os
import socket
import sys
import tempfile

import pytest


def _share_bytecode() -> None:
    """Compile the project once per machine, not once per process.

    This machine's environment sets PYTHONDONTWRITEBYTECODE, so every process of the suite compiled
    every module it imported again: collecting the suite took 7.8 s of CPU against 3.2 s with the
    cache (once serially, once per xdist worker), and each of the ~200 runtimes, consoles, servers and
    fake venues the tests start ~0.1 s more. The suite writes bytecode to a cache
    outside the tree instead (PYTHONPYCACHEPREFIX: the tree stays clean), for itself and, through the
    environment, for every process it starts. A prefix already set is kept.
    """
    prefix = os.environ.get("PYTHONPYCACHEPREFIX") or os.path.join(
        tempfile.gettempdir(), f"perpdesk-pycache-{os.getuid()}"
    )
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


_share_bytecode()

from connector.clock import VirtualClock  # noqa: E402 (after the bytecode cache is set)
from tests import snapshot_xdist  # noqa: E402
from tests.snapshot_xdist import pytest_configure_node, pytest_sessionfinish  # noqa: E402, F401 (hooks)


def pytest_configure(config):
    snapshot_xdist.configure(config)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("PERPDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


_LOOPBACK = {None, "localhost", "127.0.0.1", "::1", b"localhost", b"127.0.0.1", b"::1"}
_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    if host not in _LOOPBACK:
        raise OSError(f"tests may only reach 127.0.0.1 / ::1, not {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_traffic_beyond_loopback(monkeypatch):
    """A venue's default (real) address can never be reached by a test, even by mistake."""
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
