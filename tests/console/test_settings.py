"""Settings: source priority, env prefix and nesting, friendly errors, persisting one key."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from connector.config import config_dir
from connector.errors import ConfigError
from console.settings import (
    Settings,
    default_config_path,
    load_settings,
    read_config_file,
    save_setting,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_config_file():
    settings = Settings.load()
    assert settings.venues == ["sim"]
    assert settings.theme == "perpdesk-dark"
    assert settings.sim.seed == 7
    assert settings.risk.max_order_notional is None
    assert settings.config_path == default_config_path()


def test_config_file_in_the_user_config_dir_is_read():
    assert str(config_dir()).startswith(os.environ["XDG_CONFIG_HOME"])
    write(default_config_path(), 'theme = "perpdesk-light"\n[sim]\nseed = 3\n')
    settings = Settings.load()
    assert settings.theme == "perpdesk-light"
    assert settings.sim.seed == 3


def test_explicit_config_path_overrides_the_default(tmp_path):
    write(default_config_path(), 'theme = "perpdesk-light"\n')
    other = write(tmp_path / "other.toml", 'theme = "perpdesk-colorblind"\n')
    assert Settings.load(other).theme == "perpdesk-colorblind"
    assert load_settings(other).config_path == other


def test_missing_explicit_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nope.toml does not exist"):
        Settings.load(tmp_path / "nope.toml")


def test_priority_is_arguments_then_env_then_file_then_defaults(tmp_path, monkeypatch):
    path = write(tmp_path / "c.toml", 'theme = "from-file"\nsymbol = "ETH"\n[sim]\nseed = 1\nlatency_ms = 4\n')
    monkeypatch.setenv("PERPDESK_THEME", "from-env")
    monkeypatch.setenv("PERPDESK_SIM__SEED", "2")
    settings = Settings.load(path, symbol="SOL")
    assert settings.symbol == "SOL"  # argument beats file
    assert settings.theme == "from-env"  # env beats file
    assert settings.sim.seed == 2  # nested env beats file ...
    assert settings.sim.latency_ms == 4  # ... without wiping the file's sibling key
    assert Settings.load(path, theme="from-arg").theme == "from-arg"


def test_env_nested_delimiter_reaches_per_venue_settings(monkeypatch):
    monkeypatch.setenv("PERPDESK_VENUE__HYPERLIQUID__TESTNET", "true")
    monkeypatch.setenv("PERPDESK_VENUE__HYPERLIQUID__BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PERPDESK_VENUES", '["sim", "hyperliquid"]')
    settings = Settings.load()
    assert settings.venues == ["sim", "hyperliquid"]
    assert settings.venue_settings("hyperliquid").testnet is True
    assert settings.venue_settings("hyperliquid").base_url == "http://127.0.0.1:9"
    assert settings.venue_settings("lighter").testnet is False


def test_a_venues_own_numeric_option_from_the_environment_is_a_number(monkeypatch):
    """An extra key (nothing declares its type) from the environment: "1000000" must reach the connector
    as a number; as text it broke the start (``requests_per_min / 120``: str / int)."""
    from connector.factory import create_connector

    monkeypatch.setenv("PERPDESK_VENUE__LIGHTER__REQUESTS_PER_MIN", "1000000")
    monkeypatch.setenv("PERPDESK_VENUE__LIGHTER__BASE_URL", "http://127.0.0.1:9")
    settings = Settings.load().venue_settings("lighter")
    assert settings.options() == {"requests_per_min": 1_000_000}
    assert create_connector("lighter", venue_settings=settings, keys=None).requests_per_min == 1_000_000
    from console.settings import env_values

    assert env_values({"PERPDESK_VENUE__X__NAME": "desk-1", "PERPDESK_VENUE__X__ON": "true"}) == {
        "venue": {"x": {"name": "desk-1", "on": True}}  # other text stays text
    }


def test_venue_sections_keep_venue_specific_options(tmp_path):
    path = write(tmp_path / "c.toml", '[venue.lighter]\nkey_file = "~/k.toml"\naccount_index = 12\n')
    lighter = Settings.load(path).venue["lighter"]
    assert lighter.key_file == Path("~/k.toml")
    assert lighter.options() == {"account_index": 12}


def test_risk_limits_are_exact_decimals(tmp_path):
    path = write(
        tmp_path / "c.toml", '[risk]\nmax_order_notional = "25000.10"\nmax_position = 0.1\nprice_band_bps = 50\n'
    )
    risk = Settings.load(path).risk
    assert risk.max_order_notional == Decimal("25000.10")
    assert risk.max_position == Decimal("0.1")
    assert risk.price_band_bps == Decimal(50)


def test_symbol_map_and_keymap_and_journal(tmp_path):
    path = write(
        tmp_path / "c.toml",
        'journal_path = "journals/j.sqlite"\n[symbol_map.sim]\nXBT = "BTC-PERP"\n[keymap]\nbuy_limit = "f2"\n',
    )
    settings = Settings.load(path)
    assert settings.symbol_map == {"sim": {"XBT": "BTC-PERP"}}
    assert settings.keymap == {"buy_limit": "f2"}
    assert settings.journal_path == Path("journals/j.sqlite")


def one_line_error(path: Path, text: str) -> str:
    write(path, text)
    with pytest.raises(ConfigError) as caught:
        Settings.load(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_bad_toml_names_the_file_and_position(tmp_path):
    path = tmp_path / "c.toml"
    message = one_line_error(path, 'theme = "x"\nvenues = sim\n')
    assert message.startswith(f"config file {path} is not valid TOML")
    assert "line" in message


def test_wrong_type_names_file_field_and_expectation(tmp_path):
    path = tmp_path / "c.toml"
    message = one_line_error(path, '[sim]\nseed = "seven"\n')
    assert message.startswith(f"config file {path}: sim.seed: expected a valid integer")
    message = one_line_error(path, '[risk]\nmax_position = "lots"\n')
    assert "risk.max_position: expected a valid decimal" in message


def test_unknown_key_is_refused_with_the_known_ones(tmp_path):
    message = one_line_error(tmp_path / "c.toml", 'them = "perpdesk-light"\n')
    assert "unknown setting 'them'" in message
    assert "theme" in message


def test_wrong_value_is_never_echoed_back(tmp_path):
    message = one_line_error(tmp_path / "c.toml", '[sim]\nseed = "CANARY-9f8e7d"\n')
    assert "CANARY-9f8e7d" not in message


def test_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("PERPDESK_SIM__SEED", "many")
    with pytest.raises(ConfigError, match=r"^environment variable PERPDESK_SIM__SEED: sim.seed: expected"):
        Settings.load()


def test_config_path_that_is_a_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        read_config_file(tmp_path)


def test_save_setting_changes_one_key_and_keeps_comments_and_the_rest(tmp_path):
    path = write(
        tmp_path / "c.toml",
        '# my desk\ntheme = "perpdesk-dark"  # for now\nvenues = ["sim"]\n\n[sim]\nseed = 3 # keep\n',
    )
    save_setting("theme", "perpdesk-light", path)
    text = path.read_text()
    assert "# my desk" in text and "seed = 3 # keep" in text
    settings = Settings.load(path)
    assert settings.theme == "perpdesk-light"
    assert settings.sim.seed == 3
    assert settings.venues == ["sim"]


def test_save_setting_creates_the_default_file_and_nested_tables():
    path = save_setting("venue.lighter.testnet", True)
    assert path == default_config_path()
    save_setting("theme", "perpdesk-colorblind")
    save_setting("risk.max_position", Decimal("0.25"))
    settings = Settings.load()
    assert settings.venue["lighter"].testnet is True
    assert settings.theme == "perpdesk-colorblind"
    assert settings.risk.max_position == Decimal("0.25")


def test_save_setting_rewrites_dotted_key_layouts_correctly(tmp_path):
    path = write(tmp_path / "c.toml", "venue.hyperliquid.testnet = false\nsim.seed = 4\n")
    save_setting("venue.hyperliquid.testnet", True, path)
    settings = Settings.load(path)
    assert settings.venue["hyperliquid"].testnet is True
    assert settings.sim.seed == 4


def test_save_setting_refuses_an_invalid_value_and_leaves_the_file(tmp_path):
    path = write(tmp_path / "c.toml", "[sim]\nseed = 3\n")
    with pytest.raises(ConfigError, match=r"sim\.seed"):
        save_setting("sim.seed", "abc", path)
    assert path.read_text() == "[sim]\nseed = 3\n"


def test_save_setting_refuses_to_overwrite_a_broken_file(tmp_path):
    path = write(tmp_path / "c.toml", "theme = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        save_setting("theme", "x", path)
    assert path.read_text() == "theme = \n"


def test_the_settings_are_the_runtime_settings_and_their_sim_table_reaches_the_factory(tmp_path):
    from connector.factory import create_connector
    from execution.config import RuntimeSettings

    path = write(tmp_path / "c.toml", "[sim]\nseed = 11\n")
    settings = Settings.load(path)
    assert isinstance(settings, RuntimeSettings)
    assert create_connector("sim", sim=settings.sim).engine.seed == 11


def test_absent_command_line_values_do_not_mask_the_file(tmp_path):
    path = write(tmp_path / "c.toml", 'symbol = "ETH"\ntheme = "perpdesk-light"\n')
    settings = Settings.load(path, symbol=None, theme=None)
    assert (settings.symbol, settings.theme) == ("ETH", "perpdesk-light")


def test_journal_path_expands_the_home_directory(tmp_path):
    path = write(tmp_path / "c.toml", 'journal_path = "~/perpdesk/journal.sqlite"\n')
    assert Settings.load(path).journal_path == Path("~/perpdesk/journal.sqlite").expanduser()


def test_tracking_and_reconcile_settings_reach_the_runtime(tmp_path):
    from execution.runtime import Runtime

    config = tmp_path / "config.toml"
    config.write_text(
        'reconcile_interval_s = 3\n[tracking]\non_restart = "cancel"\nactions_per_s = 4\namend = "never"\n'
    )
    settings = Settings.load(config_path=config, journal_path=tmp_path / "j.sqlite3")
    runtime = Runtime.from_settings(settings)
    try:
        assert runtime.tracking.on_restart == "cancel"
        assert runtime.tracking.actions_per_s == 4
        assert runtime.tracking.amend == "never"
        assert runtime.reconciler.interval_s == 3
    finally:
        runtime.journal.close()


def test_a_bad_tracking_setting_is_one_clear_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[tracking]\non_restart = "maybe"\n')
    with pytest.raises(ConfigError, match=r"tracking\.on_restart") as info:
        Settings.load(config_path=config)
    assert "\n" not in str(info.value)


def test_on_hangup_is_leave_or_cancel(tmp_path):
    from console.settings import load_settings

    path = tmp_path / "c.toml"
    path.write_text('on_hangup = "cancel"\n')
    assert load_settings(path).on_hangup == "cancel"
    path.write_text("")
    assert load_settings(path).on_hangup == "leave"
    path.write_text('on_hangup = "maybe"\n')
    with pytest.raises(Exception, match="on_hangup"):
        load_settings(path)


def test_default_sizes_per_market(tmp_path):
    from console.settings import load_settings

    path = tmp_path / "c.toml"
    path.write_text('[sizes]\nBTC = "0.01"\nETH = "$500"\n')
    assert load_settings(path).sizes == {"BTC": "0.01", "ETH": "$500"}


def test_env_names_are_case_insensitive_and_key_file_variables_are_not_settings(monkeypatch):
    from console.settings import env_values

    env = {"perpdesk_theme": "t", "PERPDESK_LIGHTER_KEY_FILE": "/k.toml", "PERPDESK_SIM__LATENCY_MS": "3", "HOME": "/"}
    assert env_values(env) == {"theme": "t", "sim": {"latency_ms": "3"}}


def test_a_list_given_in_one_variable_that_is_not_json_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PERPDESK_VENUES", "sim,hyperliquid")
    with pytest.raises(ConfigError, match=r"^environment variable PERPDESK_VENUES: expected JSON"):
        Settings.load()


def test_a_table_in_one_variable_merges_with_its_nested_variables(monkeypatch):
    monkeypatch.setenv("PERPDESK_SIM", '{"seed": 4, "latency_ms": 2}')
    monkeypatch.setenv("PERPDESK_SIM__SEED", "5")
    settings = Settings.load()
    assert (settings.sim.seed, settings.sim.latency_ms) == (5, 2)
