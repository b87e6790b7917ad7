"""perpdesk's settings, read once at start and passed down.

``Settings`` is the runtime's settings (``execution.config.RuntimeSettings``, which holds the
connector layer's ``VenueSettings`` and ``SimSettings``) plus what only the console uses (theme,
keymap, first symbol) and the sources below; it inherits rather than nests them so the config file
and the ``PERPDESK_*`` names stay flat.

Sources, strongest first: arguments given to ``Settings.load`` (the command line), ``PERPDESK_*``
environment variables (nested fields joined by ``__``, e.g. ``PERPDESK_SIM__SEED=3``), the TOML
config file, then the defaults below.  The config file is ``<user config dir>/config.toml`` unless
``--config PATH`` names another.  ``Settings.load`` merges them itself (``tomllib``, ``env_values``)
and the pydantic models validate the result: the settings shape the first screen (venues, market,
theme, keys), so they are read before it, and pydantic-settings' import cost is no longer paid for it.
A console start with nothing to read (no config file, no ``PERPDESK_*`` setting, no setting on the
command line) does not import this module at all: ``console.settings_defaults`` gives it the same
defaults as plain objects, and a test keeps the two equal field by field.

A bad config file never gives a traceback: ``ConfigError`` with one line naming the file, the
field and what was expected.  A section the runtime reads is a field of ``RuntimeSettings``; one
only the console reads is a field here.  Unknown keys are refused so a typo is caught instead of
silently ignored.
"""

from __future__ import annotations

import contextvars
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from connector.errors import ConfigError
from console import toml_write
from console.alert_settings import AlertSettings
from console.settings_defaults import CONFIG_FILE_NAME, ENV_DELIMITER, ENV_PREFIX, default_config_path
from execution.config import RuntimeSettings

__all__ = ["CONFIG_FILE_NAME", "ENV_DELIMITER", "ENV_PREFIX", "Settings", "default_config_path", "env_values",
           "load_settings", "read_config_file", "save_setting"]


_config_path_var: contextvars.ContextVar[Path | None] = contextvars.ContextVar("perpdesk_config_path", default=None)


class Settings(RuntimeSettings):
    """Everything configurable.  Build with ``Settings.load(config_path)`` to get friendly errors and
    the sources merged; ``Settings(**values)`` is the values alone (no file, no environment)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    symbol: str | None = None
    theme: str = "perpdesk-dark"
    keymap: dict[str, str] = Field(default_factory=dict)
    """binding id -> keys, e.g. ``{"buy_limit": "f2"}``."""
    sizes: dict[str, str] = Field(default_factory=dict)
    """symbol -> default size, in base units (``"0.01"``) or as quote notional (``"$500"``)."""
    on_hangup: Literal["leave", "cancel"] = "leave"
    paper_journal_path: Path | None = None
    """The journal of paper-trading consoles (default: ``journal-paper.sqlite3`` beside the live one)."""
    """A dropped terminal (SIGHUP), SIGTERM: leave live orders and chases resting, or cancel them first."""
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    """``[alerts]``: bell, osc9, osc777 (how an alert reaches the terminal), fills, chase_end (what alerts)."""

    _config_path: Path = PrivateAttr(default_factory=default_config_path)

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
        merged = _merged(file_data, env_values(os.environ), values)
        token = _config_path_var.set(path)
        try:
            return cls.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_describe_validation_error(exc, path, file_data, values)) from None
        finally:
            _config_path_var.reset(token)

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


def env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``PERPDESK_*`` variables that name a setting, as the nested table they stand for.

    Names are case-insensitive; ``__`` goes one table down (``PERPDESK_SIM__SEED=3`` is
    ``{"sim": {"seed": "3"}}``).  A list or table given whole (``PERPDESK_VENUES='["sim"]'``) is JSON;
    a plain value stays a string, which validation converts.  Variables that name no setting (the
    key-file variables ``PERPDESK_<VENUE>_KEY_FILE``, say) are not settings and are left alone.
    (What pydantic-settings did, without importing it before the first paint: issue 18.)"""
    fields = Settings.model_fields
    found: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_DELIMITER)
        if path[0] not in fields or not all(path):
            continue
        value: Any = raw
        if _is_structured(fields[path[0]].annotation, nested=len(path) > 1) or (
            len(path) > 1 and raw.lstrip()[:1] in ("{", "[")
        ):
            try:
                value = json.loads(raw)
            except ValueError:
                if len(path) == 1:
                    raise ConfigError(
                        f"environment variable {name.upper()}: expected JSON (a list or table), e.g. '[\"sim\"]'"
                    ) from None
        elif len(path) > 1 and not _declared(fields[path[0]].annotation, path[1:]):
            value = _scalar(raw)  # an extra key (a venue's own option): nothing declares its type
        table = found
        for part in path[:-1]:
            if not isinstance(table.get(part), dict):
                table[part] = {}
            table = table[part]
        table[path[-1]] = value
    return found


def _is_structured(annotation: Any, *, nested: bool) -> bool:
    """A list, a table or a model: given whole in one variable, it is JSON."""
    if nested:
        return False
    kinds = {get_origin(a) or a for a in (get_args(annotation) if get_origin(annotation) in _UNIONS else (annotation,))}
    return any(k in (list, dict, tuple, set) or (isinstance(k, type) and issubclass(k, BaseModel)) for k in kinds)


_UNIONS = (Union, UnionType)


def _declared(annotation: Any, path: list[str]) -> bool:
    """Whether the setting at ``path`` below a field of this type is declared (so validation converts
    its text), rather than an extra key a model allows (``VenueSettings`` options), which nothing converts."""
    for part in path:
        args = [a for a in get_args(annotation) if a is not type(None)] if get_origin(annotation) in _UNIONS else []
        annotation = args[0] if len(args) == 1 else annotation
        if get_origin(annotation) in (dict, Mapping):
            annotation = get_args(annotation)[1]  # a table keyed by name (a venue): step into its value
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return False
            annotation = field.annotation
        else:
            return True
    return True


def _scalar(raw: str) -> Any:
    """An extra option's number or boolean as JSON reads it (``"1200"`` is 1200, ``"true"`` True); any
    other text stays text (a URL, a name)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, int | float | bool) else raw


def _merged(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merged key by key, the later layer winning (a nested table merges, a value replaces)."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), dict):
                out[key] = _merged(out[key], value)
            else:
                out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


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
