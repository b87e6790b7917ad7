"""Backpack's ED25519 request signing.

Every signed request carries an *instruction* (``orderExecute``, ``orderCancel``, ...).  The
string signed is ``instruction=<instr>&<sorted k=v of the body or query>&timestamp=<ms>&window=<ms>``;
a batch signs one ``instruction=orderExecute&<sorted k=v>`` chunk per order, then one
``&timestamp=..&window=..``.  Values are the JSON scalars without quotes (``true``/``false`` for
booleans), so a body must be signed exactly as it is sent.

The secret is the base64 32-byte seed (the 64-byte seed‖public form other tools write is accepted
too).  It is revealed once, here, to build the signing key, and never leaves this module.
An ED25519 signature costs tens of microseconds (see docs/venues/backpack.md), so signing runs
inline on the event loop.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from connector.errors import ConfigError
from connector.keys import Secret, register_secret

INSTALL_HINT = "pynacl is not installed: run pip install -e '.[backpack]'"
DEFAULT_WINDOW_MS = 5000
MAX_WINDOW_MS = 60_000


def _nacl() -> Any:
    """Import pynacl lazily, so the venue module loads (and says how to install it) without it."""
    try:
        import nacl.signing
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    return nacl.signing


def render(value: Any) -> str:
    """A JSON scalar as Backpack puts it in the signing string."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _pairs(params: Mapping[str, Any]) -> str:
    return "&".join(f"{k}={render(params[k])}" for k in sorted(params) if params[k] is not None)


def signing_string(instruction: str, params: Mapping[str, Any] | None, timestamp_ms: int, window_ms: int) -> str:
    """``instruction=X&a=1&b=2&timestamp=T&window=W`` (no params: ``instruction=X&timestamp=T&window=W``)."""
    body = _pairs(params or {})
    middle = f"&{body}" if body else ""
    return f"instruction={instruction}{middle}&timestamp={timestamp_ms}&window={window_ms}"


def batch_signing_string(
    instruction: str, items: Iterable[Mapping[str, Any]], timestamp_ms: int, window_ms: int
) -> str:
    """One ``instruction=X&<sorted k=v>`` chunk per item, joined by ``&``, then ``&timestamp=..&window=..``."""
    chunks = []
    for item in items:
        body = _pairs(item)
        chunks.append(f"instruction={instruction}&{body}" if body else f"instruction={instruction}")
    return "&".join(chunks) + f"&timestamp={timestamp_ms}&window={window_ms}"


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"backpack key file: {what} is not valid base64 (see docs/venues/backpack.md)") from None


class Signer:
    """Signs for one API key.  ``repr`` shows only the public key's first characters."""

    __slots__ = ("_key", "api_key")

    def __init__(self, api_key: str | Secret, api_secret: str | Secret) -> None:
        signing = _nacl()
        public = api_key.reveal() if isinstance(api_key, Secret) else str(api_key)
        secret = api_secret.reveal() if isinstance(api_secret, Secret) else str(api_secret)
        raw = _b64(secret, "api_secret")
        if len(raw) not in (32, 64):
            raise ConfigError(
                f"backpack key file: api_secret must be a base64 32-byte ED25519 seed (or 64-byte seed+public key), "
                f"got {len(raw)} bytes"
            )
        self._key = signing.SigningKey(raw[:32])
        derived = base64.b64encode(bytes(self._key.verify_key)).decode()
        register_secret(secret)
        if len(_b64(public, "api_key")) != 32:
            raise ConfigError("backpack key file: api_key must be the base64 32-byte ED25519 public key")
        if derived != public.strip():
            raise ConfigError(
                "backpack key file: api_key is not the public key of api_secret: copy both from the same API key"
            )
        self.api_key = derived

    def __repr__(self) -> str:
        return f"<backpack Signer key={self.api_key[:8]}…>"

    def sign(self, message: str) -> str:
        """Base64 of the 64-byte ED25519 signature of ``message`` (UTF-8)."""
        return base64.b64encode(self._key.sign(message.encode()).signature).decode()

    def headers(
        self, instruction: str, params: Mapping[str, Any] | None, timestamp_ms: int, window_ms: int = DEFAULT_WINDOW_MS
    ) -> dict[str, str]:
        return self._headers(
            self.sign(signing_string(instruction, params, timestamp_ms, window_ms)), timestamp_ms, window_ms
        )

    def batch_headers(
        self,
        instruction: str,
        items: Iterable[Mapping[str, Any]],
        timestamp_ms: int,
        window_ms: int = DEFAULT_WINDOW_MS,
    ) -> dict[str, str]:
        message = batch_signing_string(instruction, items, timestamp_ms, window_ms)
        return self._headers(self.sign(message), timestamp_ms, window_ms)

    def _headers(self, signature: str, timestamp_ms: int, window_ms: int) -> dict[str, str]:
        return {
            "X-API-Key": self.api_key,
            "X-Signature": signature,
            "X-Timestamp": str(timestamp_ms),
            "X-Window": str(window_ms),
        }

    def ws_signature(self, timestamp_ms: int, window_ms: int = DEFAULT_WINDOW_MS) -> list[str]:
        """The ``signature`` array of a private SUBSCRIBE: ``[key, sig, timestamp, window]``."""
        sig = self.sign(signing_string("subscribe", None, timestamp_ms, window_ms))
        return [self.api_key, sig, str(timestamp_ms), str(window_ms)]


def signer_from_keys(keys: Mapping[str, Any]) -> Signer:
    """The key file's ``api_key`` and ``api_secret``; a ``ConfigError`` naming what is missing."""
    missing = [k for k in ("api_key", "api_secret") if not keys.get(k)]
    if missing:
        raise ConfigError(f"backpack key file is missing {', '.join(missing)} (see docs/venues/backpack.md)")
    return Signer(keys["api_key"], keys["api_secret"])
