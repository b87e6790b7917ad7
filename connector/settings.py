"""perpdesk's settings, read once at start and passed down.

Sources, strongest first: arguments given to ``Settings``/``Settings.load`` (the command line),
``PERPDESK_*`` environment variables (nested fields joined by ``__``, e.g.
``PERPDESK_SIM__SEED=3``), the TOML config file, then the defaults below.  The config file is
``<user config dir>/config.toml`` unless ``--config PATH`` names another.

A bad config file never gives a traceback: ``ConfigError`` with one line naming the file, the
field and what was expected.  Add a section by adding a sub-model field here; unknown top-level
keys are refused so a typo is caught instead of silently ignored.
"""

from __future__ import annotations

import contextvars
import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connector import toml_write
from connector.errors import ConfigError

ENV_PREFIX = "PERPDESK_"
ENV_DELIMITER = "__"
CONFIG_FILE_NAME = "config.toml"


def config_dir() -> Path:
    """The user config directory (``~/.config/perpdesk`` on Linux; follows ``XDG_CONFIG_HOME``)."""
    return Path(user_config_dir("perpdesk"))


def default_config_path() -> Path:
    return config_dir() / CONFIG_FILE_NAME


class VenueSettings(BaseModel):
    """One venue's endpoints and key file; venue-specific options ride along as extra keys."""

    model_config = ConfigDict(extra="allow")

    base_url: str | None = None
    ws_url: str | None = None
    testnet: bool = False
    key_file: Path | None = None

    def options(self) -> dict[str, Any]:
        """The venue-specific extras (everything beyond the common fields)."""
        return dict(self.model_extra or {})


class RiskSettings(BaseModel):
    """Pre-trade limits in human units (quote currency, base units, basis points); None = no limit."""

    model_config = ConfigDict(extra="forbid")

    max_order_notional: Decimal | None = None
    max_position: Decimal | None = None
    price_band_bps: Decimal | None = Decimal(500)
    """Refuse a limit order priced further than this from mid (fat-finger guard)."""
    confirm_notional: Decimal | None = None
    """Ask the trader to confirm orders above this notional."""


class SimSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 7
    latency_ms: float = Field(default=0, ge=0)


class TrackingSettings(BaseModel):
    """Defaults for every tracking limit (``execution.tracking.chase.TrackingLimitManager``)."""

    model_config = ConfigDict(extra="forbid")

    on_restart: Literal["resume", "cancel"] = "resume"
    actions_per_s: int = Field(default=10, ge=1)
    burst: int | None = Field(default=None, ge=1)
    min_reprice_interval_ms: int = Field(default=200, ge=0)
    stale_after_ms: int = Field(default=2_000, ge=1)
    amend: Literal["fill_safe", "always", "never"] = "fill_safe"


_config_path_var: contextvars.ContextVar[Path | None] = contextvars.ContextVar("perpdesk_config_path", default=None)


class Settings(BaseSettings):
    """Everything configurable.  Build with ``Settings.load(config_path)`` to get friendly errors."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        extra="forbid",
        validate_default=True,
    )

    venues: list[str] = Field(default_factory=lambda: ["sim"])
    symbol: str | None = None
    theme: str = "perpdesk-dark"
    symbol_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    """venue -> canonical symbol -> the venue's own symbol."""
    venue: dict[str, VenueSettings] = Field(default_factory=dict)
    keymap: dict[str, str] = Field(default_factory=dict)
    """binding id -> keys, e.g. ``{"buy_limit": "f2"}``."""
    journal_path: Path | None = None
    risk: RiskSettings = Field(default_factory=RiskSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    reconcile_interval_s: float = Field(default=15, gt=0)
    """How often the reconciler compares our orders, positions and margin with the venue's."""
    journal_load_hours: float = Field(default=24, gt=0)
    """Finished orders younger than this are loaded from the journal at start (live ones always are)."""

    _config_path: Path = PrivateAttr(default_factory=default_config_path)

    @field_validator("journal_path")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_path_var.get() or default_config_path()
        return init_settings, env_settings, _TomlFileSource(settings_cls, read_config_file(path))

    def model_post_init(self, context: Any) -> None:
        self._config_path = _config_path_var.get() or default_config_path()

    @property
    def config_path(self) -> Path:
        """The config file these settings were read from (it may not exist)."""
        return self._config_path

    @classmethod
    def load(cls, config_path: str | Path | None = None, **values: Any) -> Settings:
        """Read the settings; ``values`` (e.g. from the command line) beat env and file.

        A value of None means "not given" (an absent command-line flag) and is dropped.

        Raises ``ConfigError`` with one line saying which file/variable/field is wrong and how.
        """
        path = Path(config_path).expanduser() if config_path is not None else default_config_path()
        if config_path is not None and not path.is_file():
            raise ConfigError(f"config file {path} does not exist: create it or drop --config")
        values = {name: value for name, value in values.items() if value is not None}
        file_data = read_config_file(path)
        token = _config_path_var.set(path)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(_describe_validation_error(exc, path, file_data, values)) from None
        finally:
            _config_path_var.reset(token)

    def venue_settings(self, venue: str) -> VenueSettings:
        return self.venue.get(venue) or VenueSettings()

    def connector_options(self, venue: str) -> dict[str, Any]:
        """Keyword arguments for ``connector.factory.create_connector`` for this venue."""
        return {"settings": self}

    def __repr__(self) -> str:
        return f"Settings(venues={self.venues!r}, theme={self.theme!r}, config={str(self._config_path)!r})"


def load_settings(config_path: str | Path | None = None, **values: Any) -> Settings:
    """``Settings.load`` as a function (what the command line calls)."""
    return Settings.load(config_path, **values)


def save_setting(key: str, value: Any, config_path: str | Path | None = None) -> Path:
    """Write one setting (dotted ``key``, e.g. ``"theme"`` or ``"venue.lighter.testnet"``) into the
    config file, keeping every other key and, where possible, the trader's comments and layout.

    The new value is validated first; a broken config file is refused rather than overwritten.
    Returns the path written.
    """
    path = Path(config_path).expanduser() if config_path is not None else default_config_path()
    parts = tuple(part.strip() for part in key.split("."))
    if not all(parts):
        raise ConfigError(f"setting name {key!r} is not a dotted name like 'theme' or 'sim.seed'")
    data = read_config_file(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new_text = toml_write.set_key(text, parts, _plain(value))
    try:
        Settings.model_validate(tomllib.loads(new_text))
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, path, data, {}, source=f"cannot save to {path}")) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new_text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, Path):
        return str(value)
    return value


class _TomlFileSource(PydanticBaseSettingsSource):
    """The parsed config file as a settings source (weaker than env, stronger than defaults)."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict; ``{}`` when it does not exist; ``ConfigError`` when unreadable or bad."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory: give the path of a TOML file") from None
    except OSError as exc:
        raise ConfigError(
            f"config file {path} cannot be read ({exc.strerror or type(exc).__name__}): check its permissions"
        ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text: save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _describe_validation_error(
    exc: ValidationError, path: Path, file_data: dict[str, Any], init: dict[str, Any], *, source: str | None = None
) -> str:
    """One line for the first problem: where it came from, the field, what is expected."""
    error = exc.errors(include_url=False)[0]
    loc = tuple(str(part) for part in error["loc"])
    field = ".".join(loc) or "(top level)"
    source = source or _source_of(loc, path, file_data, init)
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        hint = f" (known: {', '.join(known)})" if known else ""
        return f"{source}: unknown setting {field!r}{hint}"
    message = str(error["msg"])
    if message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    got = error.get("input")
    # the type, never the value: a misplaced secret must not be echoed back
    got_text = f" (got {_type_name(got)})" if "input" in error and not isinstance(got, dict) else ""
    return f"{source}: {field}: {message}{got_text}"


def _source_of(loc: tuple[str, ...], path: Path, file_data: dict[str, Any], init: dict[str, Any]) -> str:
    if _has_path(init, loc):
        return "setting"
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + ENV_DELIMITER.join(loc[:depth]).upper()
        if any(key.upper() == name for key in os.environ):
            return f"environment variable {name}"
    if _has_path(file_data, loc):
        return f"config file {path}"
    return f"config file {path}" if file_data else "settings"


def _has_path(data: Any, loc: tuple[str, ...]) -> bool:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def _known_keys(parent: tuple[str, ...]) -> list[str]:
    model: Any = Settings
    for part in parent:
        field = getattr(model, "model_fields", {}).get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(getattr(model, "model_fields", {}))


def _type_name(value: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true/false", list: "a list"}.get(
        type(value), type(value).__name__
    )
