"""``perpdesk`` on bad input: one line on stderr that says what to fix, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_cli(*args: str, tmp_path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           **extra_env}
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


def test_missing_key_file_names_the_file_and_the_variable(tmp_path):
    missing = tmp_path / "hl.toml"
    result = run_cli("--venue", "hyperliquid", tmp_path=tmp_path, PERPDESK_HYPERLIQUID_KEY_FILE=str(missing))
    assert_one_clear_line(result, str(missing), "does not exist")


def test_key_file_readable_by_others_says_to_chmod_it(tmp_path):
    key = tmp_path / "hl.toml"
    key.write_text('private_key = "0x' + "ab" * 32 + '"\n')
    key.chmod(0o644)
    result = run_cli("--venue", "hyperliquid", tmp_path=tmp_path, PERPDESK_HYPERLIQUID_KEY_FILE=str(key))
    assert_one_clear_line(result, "chmod 600")
    assert "ab" * 32 not in result.stderr


def test_venues_lists_every_venue_and_where_keys_are_expected(tmp_path):
    result = run_cli("venues", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok sim") for line in lines)
    assert any("hyperliquid" in line and "no key file" in line for line in lines)


def test_check_connects_to_the_sim_and_reports_its_markets_and_account(tmp_path):
    result = run_cli("check", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sim: connected, 3 markets (BTC, ETH, SOL)" in result.stdout
    assert "equity 100,000.00" in result.stdout


def test_a_corrupt_journal_stops_the_start_with_one_line(tmp_path):
    journal = tmp_path / "journal.sqlite"
    journal.write_bytes(b"this is not a database" * 100)
    config = tmp_path / "config.toml"
    config.write_text(f'journal_path = "{journal}"\n')
    result = run_cli("--config", str(config), tmp_path=tmp_path)
    assert_one_clear_line(result, str(journal))
