"""Key files and keeping their secrets out of sight.

A key file is TOML, private to its owner (``chmod 600``).  Every value whose name does not
say it is public (an address, an index, an id, a URL...) is wrapped in ``Secret``, which prints
as ``***`` everywhere; a connector calls ``.reveal()`` at the one place it signs.  Loaded
secrets are also registered with a log-record hook that masks them in any log line, in case a
library echoes one back.  No exception raised here ever contains a value from the file.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import stat
import threading
import tomllib
from pathlib import Path
from typing import Any

from connector.errors import ConfigError

MASK = "***"

_PUBLIC_NAME = re.compile(r"(address|index|(^|_)id$|name|url|testnet|network|label|comment|chain)", re.IGNORECASE)
"""Key-file fields that identify an account rather than authorise it; they stay plain."""


class Secret:
    """A string that never shows itself: ``repr``, ``str`` and formatting all give ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The real value: use it only where it is needed (signing), never to log or display."""
        return self._value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def is_public_field(name: str) -> bool:
    return bool(_PUBLIC_NAME.search(name))


def load_key_file(path: str | Path, *, venue: str | None = None) -> dict[str, Any]:
    """Read a key file; secret-looking values become ``Secret`` (and are registered for log masking).

    Refuses a file that group or others can read, with the ``chmod`` that fixes it.
    """
    path = Path(path).expanduser()
    what = f"{venue} key file" if venue else "key file"
    try:
        info = path.stat()
    except FileNotFoundError:
        hint = f" or set PERPDESK_{venue.upper()}_KEY_FILE" if venue else ""
        raise ConfigError(f"{what} {path} does not exist: create it{hint}") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{what} {path} is not a regular file")
    check_private(path, info.st_mode, what)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{what} {path} cannot be read ({exc.strerror or type(exc).__name__}): check its owner"
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message has no file content in it, but keep only the position to be sure
        where = re.search(r"\(at [^)]*\)", str(exc))
        raise ConfigError(f"{what} {path} is not valid TOML {where.group(0) if where else ''}".rstrip()) from None
    return _wrap(data)


def check_private(path: Path, mode: int, what: str = "key file") -> None:
    if os.name != "posix":
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        raise ConfigError(f"{what} {path} is readable by group or others: run chmod 600 {path}")
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"{what} {path} is writable by group or others: run chmod 600 {path}")


def _wrap(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, dict):
            out[name] = _wrap(value)
        elif isinstance(value, str) and not is_public_field(name):
            out[name] = register_secret(Secret(value))
        elif not isinstance(value, str | bool) and not is_public_field(name):
            out[name] = register_secret(Secret(str(value)))
        else:
            out[name] = value
    return out


def describe_keys(keys: dict[str, Any]) -> dict[str, str]:
    """Field -> printable value (secrets masked) for ``perpdesk venues`` and error reports."""
    out: dict[str, str] = {}
    for name, value in keys.items():
        if isinstance(value, dict):
            for sub, text in describe_keys(value).items():
                out[f"{name}.{sub}"] = text
        else:
            out[name] = str(value)
    return out


def require(keys: dict[str, Any] | None, name: str, *, venue: str) -> Any:
    """One field of a key file, or a ``ConfigError`` naming the missing field (never a value)."""
    if not keys or name not in keys:
        raise ConfigError(f"{venue} key file has no {name!r}: add it (see docs/venues/{venue}.md)")
    return keys[name]


# -- masking secrets in log records -------------------------------------------------------------

_registry: set[str] = set()
_registry_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None
_installed = False


def register_secret(secret: Secret | str) -> Secret:
    """Remember a secret so any log line containing it is masked; returns it as a ``Secret``."""
    wrapped = secret if isinstance(secret, Secret) else Secret(secret)
    value = wrapped.reveal()
    if len(value) >= 4:  # masking every "a" or "12" would shred ordinary log lines
        global _pattern
        with _registry_lock:
            if value not in _registry:
                _registry.add(value)
                _pattern = re.compile("|".join(re.escape(v) for v in sorted(_registry, key=len, reverse=True)))
        install_log_redaction()
    return wrapped


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (use on venue error text)."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A handler/logger filter that masks registered secrets in the message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if _pattern is None:
        return
    try:
        message = record.getMessage()
    except Exception:
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_log_redaction() -> None:
    """Mask registered secrets in every log record, whichever logger or handler sees it (idempotent)."""
    global _installed
    with _registry_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
