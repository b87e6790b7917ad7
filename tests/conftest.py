"""Shared fixtures: every test runs with its own config and data directories and no
PERPDESK_* variables from the developer's shell."""

from __future__ import annotations

import os

import pytest

from connector.clock import VirtualClock


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("PERPDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
