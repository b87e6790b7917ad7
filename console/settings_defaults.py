"""The settings of a start with no config file and no ``PERPDESK_*`` setting, without pydantic (issue 18).

Importing pydantic and building the settings models costs a cold start about 90 ms of CPU, a fifth of
it, and with nothing to read there is nothing to validate: the result is the models' defaults.
``plain_defaults`` returns those defaults as plain objects (``PlainSettings`` and its parts), or
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
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from connector.user_config import config_dir

ENV_PREFIX = "PERPDESK_"
ENV_DELIMITER = "__"
CONFIG_FILE_NAME = "config.toml"


def default_config_path() -> Path:
    return config_dir() / CONFIG_FILE_NAME


class _Plain(SimpleNamespace):
    """Fields as attributes, equal when the fields are (``SimpleNamespace``: no dataclass to build at
    import, which costs ~0.5 ms a class); ``changes`` replace defaults."""

    def __init__(self, **changes: Any) -> None:
        super().__init__(**self._defaults())
        unknown = set(changes) - vars(self).keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        vars(self).update(changes)

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {}

    def model_dump(self) -> dict[str, Any]:
        return dict(vars(self))


class PlainVenueSettings(_Plain):
    """``connector.config.VenueSettings()``."""

    base_url: str | None
    ws_url: str | None
    testnet: bool
    key_file: Path | None
    paper: bool
    paper_collateral: int

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {"base_url": None, "ws_url": None, "testnet": False, "key_file": None, "paper": False,
                "paper_collateral": 100_000}  # fmt: skip

    def options(self) -> dict[str, object]:
        return {}

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> PlainVenueSettings:
        return PlainVenueSettings(**{**vars(self), **dict(update or {})})


class PlainSimSettings(_Plain):
    """``connector.config.SimSettings()``."""

    seed: int
    latency_ms: int

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {"seed": 7, "latency_ms": 0}


class PlainRiskSettings(_Plain):
    """``execution.config.RiskSettings()``."""

    max_order_notional: Decimal | None
    max_position: Decimal | None
    price_band_bps: Decimal | None
    confirm_notional: Decimal | None
    fee_bps: Decimal | None

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {"max_order_notional": None, "max_position": None, "price_band_bps": Decimal(500),
                "confirm_notional": None, "fee_bps": Decimal(10)}  # fmt: skip


class PlainTrackingSettings(_Plain):
    """``execution.config.TrackingSettings()``."""

    on_restart: str
    actions_per_s: int
    burst: int | None
    min_reprice_interval_ms: int
    stale_after_ms: int
    amend: str

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {"on_restart": "resume", "actions_per_s": 10, "burst": None, "min_reprice_interval_ms": 200,
                "stale_after_ms": 2_000, "amend": "fill_safe"}  # fmt: skip


class PlainTriggerSettings(_Plain):
    """``execution.config.TriggerSettings()``."""

    force_emulation: bool

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {"force_emulation": False}


class PlainAlertSettings(_Plain):
    """``console.alert_settings.AlertSettings()``."""

    bell: bool
    osc9: bool
    osc777: bool
    fills: bool
    chase_end: bool

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {"bell": True, "osc9": True, "osc777": True, "fills": True, "chase_end": True}


class PlainSettings(_Plain):
    """``console.settings.Settings.load()`` with no config file and no environment (``RuntimeSettings``
    validates its defaults, so its floats are floats); ``config_path`` is the file they would be read
    from (it does not exist)."""

    config_path: Path
    venues: list[str]
    symbol_map: dict[str, dict[str, str]]
    venue: dict[str, PlainVenueSettings]
    journal_path: Path | None
    risk: PlainRiskSettings
    sim: PlainSimSettings
    tracking: PlainTrackingSettings
    triggers: PlainTriggerSettings
    reconcile_interval_s: float
    dead_man_switch: bool
    journal_load_hours: float
    symbol: str | None
    theme: str
    keymap: dict[str, str]
    sizes: dict[str, str]
    on_hangup: str
    paper_journal_path: Path | None
    alerts: PlainAlertSettings

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {
            "config_path": None, "venues": ["sim"], "symbol_map": {}, "venue": {}, "journal_path": None,
            "risk": PlainRiskSettings(), "sim": PlainSimSettings(), "tracking": PlainTrackingSettings(),
            "triggers": PlainTriggerSettings(), "reconcile_interval_s": 15.0, "dead_man_switch": True,
            "journal_load_hours": 24.0, "symbol": None, "theme": "perpdesk-dark", "keymap": {}, "sizes": {},
            "on_hangup": "leave", "paper_journal_path": None, "alerts": PlainAlertSettings(),
        }  # fmt: skip

    def venue_settings(self, venue: str) -> PlainVenueSettings:
        """The ``[venue.<name>]`` table, or the defaults when there is none."""
        return self.venue.get(venue) or PlainVenueSettings()


SETTING_NAMES = frozenset(PlainSettings._defaults()) - {"config_path"}
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
