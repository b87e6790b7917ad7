"""``perpdesk`` on bad input: one line on stderr that says what to fix, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_cli(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=30, env=env,
        stdin=subprocess.DEVNULL,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_unknown_venue_names_the_known_ones(tmp_path):
    assert_one_clear_line(run_cli("--venue", "nosuchvenue", tmp_path=tmp_path), "nosuchvenue", "sim")


def test_missing_config_file_says_so(tmp_path):
    missing = tmp_path / "nope.toml"
    assert_one_clear_line(run_cli("--config", str(missing), tmp_path=tmp_path), str(missing), "does not exist")


def test_config_file_that_is_not_toml_is_reported_with_its_path(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("venues = [sim\n")
    assert_one_clear_line(run_cli("--config", str(bad), tmp_path=tmp_path), str(bad), "TOML")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_config_file_says_to_check_permissions(tmp_path):
    locked = tmp_path / "locked.toml"
    locked.write_text('venues = ["sim"]\n')
    locked.chmod(0)
    assert_one_clear_line(run_cli("--config", str(locked), tmp_path=tmp_path), str(locked), "permissions")


def test_unknown_theme_lists_the_themes(tmp_path):
    assert_one_clear_line(run_cli("--theme", "purple", tmp_path=tmp_path), "purple", "perpdesk-dark")


def test_unknown_option_is_one_line_not_a_usage_dump(tmp_path):
    assert_one_clear_line(run_cli("--frobnicate", tmp_path=tmp_path), "--frobnicate", "--help")


def test_symbol_that_is_not_a_name_is_refused(tmp_path):
    assert_one_clear_line(run_cli("--symbol", "BTC;rm", tmp_path=tmp_path), "BTC;rm")
