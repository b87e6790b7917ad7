"""The connector factory: venue lookup, key-file discovery order, options, clear failures."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from connector.config import SimSettings
from connector.errors import ConfigError
from connector.factory import (
    VENUES,
    create_connector,
    default_key_file,
    describe_venues,
    discover_key_file,
    key_file_env_var,
    key_status,
)
from connector.keys import Secret
from console.settings import Settings

CANARY = "CANARY-9f8e7d"


class FakeVenueConnector:
    venue = "fakevenue"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ws_url: str | None = None,
        testnet: bool = False,
        keys: dict[str, Any] | None = None,
        clock: Any = None,
        account_index: int = 0,
    ) -> None:
        self.base_url, self.ws_url, self.testnet, self.keys, self.clock = base_url, ws_url, testnet, keys, clock
        self.account_index = account_index


@pytest.fixture
def fake_venue():
    VENUES.register("fakevenue", FakeVenueConnector)
    yield "fakevenue"
    VENUES.unregister("fakevenue")


def write_key(path: Path, text: str = f'private_key = "{CANARY}"\n', mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def settings_with(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return Settings.load(path)


def test_registered_venues_are_listed_without_importing_them():
    assert {"sim", "hyperliquid", "lighter"} <= set(VENUES)
    assert "nope" not in VENUES


def test_unknown_venue_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown venue 'kraken': use one of .*hyperliquid.*lighter.*sim"):
        create_connector("kraken")


def test_sim_needs_no_key_and_takes_seed_and_latency_from_settings(clock):
    connector = create_connector("sim", sim=SimSettings(seed=11, latency_ms=3), clock=clock)
    assert connector.venue == "sim"
    assert connector.clock is clock
    assert key_status("sim").ok and not key_status("sim").needs_keys


def test_missing_optional_sdk_names_the_extra_to_install(tmp_path, monkeypatch):
    (tmp_path / "venue_needs_sdk.py").write_text("import perpdesk_absent_sdk_xyz\nclass C: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    VENUES.register("needsdk", "venue_needs_sdk:C", extra="needsdk")
    try:
        with pytest.raises(ConfigError, match=r"the needsdk venue needs its extra: pip install -e '\.\[needsdk\]'"):
            create_connector("needsdk")
    finally:
        VENUES.unregister("needsdk")


def test_venue_module_missing_from_the_build_is_said_plainly():
    VENUES.register("ghost", "connector.ghost_venue:GhostConnector")
    try:
        with pytest.raises(ConfigError, match="the ghost venue is not part of this build"):
            VENUES["ghost"]
    finally:
        VENUES.unregister("ghost")


def test_key_file_discovery_order(tmp_path, monkeypatch, fake_venue):
    default = write_key(default_key_file(fake_venue))
    assert discover_key_file(fake_venue).path == default
    assert discover_key_file(fake_venue).source == "default"

    configured = write_key(tmp_path / "configured.toml")
    settings = settings_with(tmp_path, f'[venue.{fake_venue}]\nkey_file = "{configured}"\n')
    from_config = settings.venue_settings(fake_venue).key_file
    assert discover_key_file(fake_venue, configured=from_config).path == configured

    from_env = write_key(tmp_path / "env.toml")
    monkeypatch.setenv(key_file_env_var(fake_venue), str(from_env))
    found = discover_key_file(fake_venue, configured=from_config)
    assert (found.path, found.source) == (from_env, "env PERPDESK_FAKEVENUE_KEY_FILE")

    explicit = write_key(tmp_path / "explicit.toml")
    assert discover_key_file(fake_venue, configured=from_config, override=explicit).path == explicit


def test_no_key_file_anywhere_gives_a_connector_without_keys(fake_venue):
    assert discover_key_file(fake_venue) is None
    assert create_connector(fake_venue).keys is None
    status = key_status(fake_venue)
    assert not status.ok and "PERPDESK_FAKEVENUE_KEY_FILE" in status.message


def test_env_key_file_var_does_not_upset_settings(tmp_path, monkeypatch, fake_venue):
    monkeypatch.setenv("PERPDESK_HYPERLIQUID_KEY_FILE", str(tmp_path / "x.toml"))
    assert Settings.load().venues == ["sim"]


def test_create_connector_passes_keys_urls_and_options(tmp_path, clock, fake_venue):
    key = write_key(tmp_path / "k.toml", f'private_key = "{CANARY}"\naccount_address = "0xabc"\n')
    settings = settings_with(
        tmp_path,
        f'[venue.{fake_venue}]\nbase_url = "http://127.0.0.1:1"\ntestnet = true\nkey_file = "{key}"\naccount_index = 4\n',
    )
    venue_settings = settings.venue_settings(fake_venue)
    connector = create_connector(fake_venue, venue_settings=venue_settings, ws_url="ws://127.0.0.1:2", clock=clock)
    assert connector.base_url == "http://127.0.0.1:1"
    assert connector.ws_url == "ws://127.0.0.1:2"
    assert connector.testnet is True
    assert connector.clock is clock
    assert connector.account_index == 4
    assert isinstance(connector.keys["private_key"], Secret)
    assert connector.keys["private_key"].reveal() == CANARY
    assert connector.keys["account_address"] == "0xabc"
    assert (
        create_connector(fake_venue, venue_settings=venue_settings, testnet=False, base_url="http://127.0.0.1:3").testnet
        is False
    )


def test_the_config_files_venue_table_round_trips_through_the_factory(tmp_path, fake_venue):
    settings = settings_with(tmp_path, f"[venue.{fake_venue}]\ntestnet = true\n")
    assert create_connector(fake_venue, venue_settings=settings.venue_settings(fake_venue)).testnet is True


def test_option_the_venue_does_not_take_is_a_clear_error(tmp_path, fake_venue):
    settings = settings_with(tmp_path, f"[venue.{fake_venue}]\nacount_index = 4\n")
    with pytest.raises(ConfigError, match=r"does not take option 'acount_index'.*account_index"):
        create_connector(fake_venue, venue_settings=settings.venue_settings(fake_venue))


def test_group_readable_key_file_is_refused_by_the_factory(tmp_path, fake_venue):
    key = write_key(tmp_path / "k.toml", mode=0o644)
    with pytest.raises(ConfigError, match=f"readable by group or others: run chmod 600 {key}"):
        create_connector(fake_venue, key_file=key)
    settings = settings_with(tmp_path, f'[venue.{fake_venue}]\nkey_file = "{key}"\n')
    status = key_status(fake_venue, venue_settings=settings.venue_settings(fake_venue))
    assert not status.ok and "chmod 600" in status.message


def test_key_status_masks_secrets_for_the_venues_listing(tmp_path, caplog, fake_venue):
    write_key(default_key_file(fake_venue), f'private_key = "{CANARY}"\naccount_address = "0xabc"\n')
    with caplog.at_level(logging.DEBUG):
        statuses = {s.venue: s for s in describe_venues()}
        logging.getLogger("perpdesk.test").info("statuses %r", statuses)
    status = statuses[fake_venue]
    assert status.ok and status.source == "default"
    assert status.fields == {"private_key": "***", "account_address": "0xabc"}
    assert CANARY not in repr(statuses)
    assert CANARY not in caplog.text
