"""Binance's request signing: HMAC-SHA256 over the exact bytes sent, and the server-time offset.

A SIGNED request carries ``timestamp`` (ms, on the *server's* clock) and ``recvWindow``; the
venue refuses it with ``-1021`` when ``timestamp >= serverTime + 1000`` or
``serverTime - timestamp > recvWindow``.  A bigger window only hides a clock that runs behind,
never one that runs ahead, so the timestamp is taken from a measured server-time offset
(``ServerTime``), re-measured on a schedule and at once after a ``-1021``.

The signature is ``hex(HMAC_SHA256(secret, totalParams))`` where ``totalParams`` is the query
string concatenated with the form body (no ``&`` between them).  Parameters are not sorted: we
sign the encoded text we send, and send everything in the query string.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from connector.keys import Secret

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000


def encode_value(value: Any) -> str:
    """One parameter value as the venue expects it: booleans lower-case, text percent-encoded (RFC 3986)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise TypeError("floats are inexact on the wire: pass the decimal string")
    return quote(str(value), safe="-_.~")


def encode_params(params: dict[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """``k=v&...`` in the given order; ``None`` values are left out."""
    items = params.items() if isinstance(params, dict) else params
    return "&".join(f"{k}={encode_value(v)}" for k, v in items if v is not None)


def signature(secret: bytes, total_params: str) -> str:
    return hmac.new(secret, total_params.encode(), hashlib.sha256).hexdigest()


class Signer:
    """Holds the API secret (as bytes, never printed) and signs query strings."""

    __slots__ = ("_secret",)

    def __init__(self, secret: Secret | str) -> None:
        raw = secret.reveal() if isinstance(secret, Secret) else str(secret)
        self._secret = raw.encode()

    def sign(self, query: str, body: str = "") -> str:
        """``query`` + ``&signature=<hex>`` (the signature covers query then body)."""
        sig = signature(self._secret, query + body)
        return f"{query}&signature={sig}" if query else f"signature={sig}"

    def __repr__(self) -> str:
        return "<Signer ***>"


class ServerTime:
    """The venue's clock as an offset from ours, measured from ``GET /fapi/v1/time``.

    ``observe(sent_ms, server_ms, received_ms)`` assumes the server read its clock half-way
    through the round trip.  ``safety_ms`` keeps timestamps a little behind the server's clock:
    a timestamp ahead by 1000 ms is refused, one behind only needs to stay inside the window.
    """

    def __init__(self, safety_ms: int = 200) -> None:
        self.offset_ms = 0
        self.measured = False
        self.safety_ms = safety_ms
        self.last_rtt_ms: int | None = None

    def observe(self, sent_ms: int, server_ms: int, received_ms: int) -> int:
        self.last_rtt_ms = max(0, received_ms - sent_ms)
        self.offset_ms = server_ms - (sent_ms + received_ms) // 2
        self.measured = True
        return self.offset_ms

    def timestamp(self, local_ms: int) -> int:
        return local_ms + self.offset_ms - self.safety_ms
