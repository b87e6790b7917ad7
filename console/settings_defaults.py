"""The settings of a start with no config file and no ``PERPDESK_*`` setting, without pydantic (issue 18).

Importing pydantic and building the settings models costs a cold start about 90 ms of CPU, a fifth of
it, and with nothing to read there is nothing to validate: the result is the models' defaults.
``plain_defaults`` returns those defaults as plain dataclasses (``PlainSettings`` and its parts), or
None when there is something to read: the config file exists (even a broken one: ``Settings.load``
reports it), or an environment variable names a setting (the rule ``console.settings.env_values``
applies).  ``cli.prepare`` takes this path only when the command line gives no setting either
(no ``--config``, ``--venue``, ``--theme``, ``--journal`` or ``--read-only``); everything else goes
through ``Settings.load`` and its validation, with the same errors as before.

``console.settings.Settings`` stays the one definition: tests/console/test_settings_defaults.py builds
``Settings.load`` with no file and no environment and compares it with ``plain_defaults`` field by
field (values and types, nested models included, and the same field names), so the two cannot drift.
The plain objects answer what the start reads of the models: the fields, ``venue_settings``,
``config_path``, ``VenueSettings.options``/``model_copy`` and ``RiskSettings.model_dump``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.user_config import config_dir

ENV_PREFIX = "PERPDESK_"
ENV_DELIMITER = "__"
CONFIG_FILE_NAME = "config.toml"


def default_config_path() -> Path:
    return config_dir() / CONFIG_FILE_NAME


@dataclass(slots=True)
class PlainVenueSettings:
    """``connector.config.VenueSettings()``."""

    base_url: str | None = None
    ws_url: str | None = None
    testnet: bool = False
    key_file: Path | None = None
    paper: bool = False
    paper_collateral: int = 100_000

    def options(self) -> dict[str, object]:
        return {}

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> PlainVenueSettings:
        return replace(self, **dict(update or {}))


@dataclass(slots=True)
class PlainSimSettings:
    """``connector.config.SimSettings()``."""

    seed: int = 7
    latency_ms: int = 0


@dataclass(slots=True)
class PlainRiskSettings:
    """``execution.config.RiskSettings()``."""

    max_order_notional: Decimal | None = None
    max_position: Decimal | None = None
    price_band_bps: Decimal | None = Decimal(500)
    confirm_notional: Decimal | None = None
    fee_bps: Decimal | None = Decimal(10)

    def model_dump(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class PlainTrackingSettings:
    """``execution.config.TrackingSettings()``."""

    on_restart: str = "resume"
    actions_per_s: int = 10
    burst: int | None = None
    min_reprice_interval_ms: int = 200
    stale_after_ms: int = 2_000
    amend: str = "fill_safe"


@dataclass(slots=True)
class PlainTriggerSettings:
    """``execution.config.TriggerSettings()``."""

    force_emulation: bool = False


@dataclass(slots=True)
class PlainAlertSettings:
    """``console.alert_settings.AlertSettings()``."""

    bell: bool = True
    osc9: bool = True
    osc777: bool = True
    fills: bool = True
    chase_end: bool = True


@dataclass(slots=True)
class PlainSettings:
    """``console.settings.Settings.load()`` with no config file and no environment (``RuntimeSettings``
    validates its defaults, so its floats are floats)."""

    config_path: Path
    """The config file these settings would be read from (it does not exist)."""
    venues: list[str] = field(default_factory=lambda: ["sim"])
    symbol_map: dict[str, dict[str, str]] = field(default_factory=dict)
    venue: dict[str, PlainVenueSettings] = field(default_factory=dict)
    journal_path: Path | None = None
    risk: PlainRiskSettings = field(default_factory=PlainRiskSettings)
    sim: PlainSimSettings = field(default_factory=PlainSimSettings)
    tracking: PlainTrackingSettings = field(default_factory=PlainTrackingSettings)
    triggers: PlainTriggerSettings = field(default_factory=PlainTriggerSettings)
    reconcile_interval_s: float = 15.0
    dead_man_switch: bool = True
    journal_load_hours: float = 24.0
    symbol: str | None = None
    theme: str = "perpdesk-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)
    on_hangup: str = "leave"
    paper_journal_path: Path | None = None
    alerts: PlainAlertSettings = field(default_factory=PlainAlertSettings)

    def venue_settings(self, venue: str) -> PlainVenueSettings:
        """The ``[venue.<name>]`` table, or the defaults when there is none."""
        return self.venue.get(venue) or PlainVenueSettings()


SETTING_NAMES = frozenset(f.name for f in fields(PlainSettings)) - {"config_path"}
"""The top-level settings (``Settings.model_fields``, as the test checks)."""


def names_a_setting(name: str) -> bool:
    """Whether the environment variable ``name`` is a setting (``console.settings.env_values`` reads it)."""
    if not name.upper().startswith(ENV_PREFIX):
        return False
    path = name[len(ENV_PREFIX) :].lower().split(ENV_DELIMITER)
    return path[0] in SETTING_NAMES and all(path)


def plain_defaults(environ: Mapping[str, str]) -> PlainSettings | None:
    """The defaults, when the default config file does not exist and no variable in ``environ`` names a
    setting; None when ``Settings.load`` has something to read."""
    if any(names_a_setting(name) for name in environ):
        return None
    path = default_config_path()
    if path.exists() or path.is_symlink():  # a file, a directory, a dangling link: Settings.load says what is wrong
        return None
    return PlainSettings(config_path=path)
