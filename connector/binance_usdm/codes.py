"""Binance error bodies (``{"code": -2019, "msg": "..."}``) to the typed errors in ``connector.errors``.

Each error keeps the venue's code and message in ``info`` and says what to do where there is
something to do (a key's permissions, the IP whitelist, hedge mode).  Two codes are not errors
for the caller: ``-1021`` (the connector re-measures the server time and signs again) and
``-1125`` (the connector makes a new listenKey); they get their own exception types here.
"""

from __future__ import annotations

from typing import Any

from connector.errors import (
    AuthError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    UnknownOrder,
    VenueError,
)
from connector.keys import redact

TIMESTAMP_OUTSIDE_WINDOW = -1021
LISTEN_KEY_MISSING = -1125
STATUS_UNKNOWN = (-1000, -1001, -1006, -1007)
"""The venue may or may not have acted: the order service marks the order UNKNOWN and reconciles."""
AUTH = (-1002, -1022, -2014, -2015, -2017, -1099)
MARGIN = (-2018, -2019, -2027, -2028, -4050)
NOT_FOUND = (-2011, -2013)
FILTERS = (-1111, -4001, -4002, -4003, -4004, -4005, -4013, -4014, -4023, -1013)
HEDGE_MODE = -4061
SAME_ORDER = -5027
HEDGE_MODE_HINT = (
    "perpdesk trades Binance USDⓈ-M in one-way mode only: switch the account to One-way Mode "
    "(Binance Futures > Preferences > Position Mode > One-way; it needs no open positions or orders on USDⓈ-M) "
    "or send POST /fapi/v1/positionSide/dual with dualSidePosition=false"
)
_AUTH_HINT = (
    "check api_key/api_secret in the key file, that the key has 'Enable Futures' permission, "
    "and that this machine's IP is on the key's whitelist"
)


class ClockSkew(VenueError):
    """``-1021``: our timestamp was outside the venue's window; re-measure the server time."""


class ListenKeyMissing(VenueError):
    """``-1125``: the listenKey expired or was closed; create a new one."""


class IpBanned(VenueError):
    """HTTP 418: the venue banned this IP for ignoring 429s; every request stops until ``until_ms``."""

    def __init__(self, message: str, *, until_ms: int, info: dict[str, Any] | None = None) -> None:
        super().__init__(message, info=info)
        self.until_ms = until_ms


def error_for(what: str, status: int, body: Any, retry_after_s: float | None = None) -> Exception:
    """The exception for a non-2xx answer to ``what`` (e.g. ``"POST /fapi/v1/order"``)."""
    if not isinstance(body, dict):
        text = redact(str(body))[:200]
        if status == 403:
            return AuthError(f"binance-usdm {what}: HTTP 403 (the venue's firewall refused the request): {text}")
        return VenueError(f"binance-usdm {what}: HTTP {status}: {text}", info={"status": status, "body": text})
    code = int(body.get("code") or 0)
    msg = redact(str(body.get("msg") or ""))
    info = {"status": status, "code": code, "msg": msg}
    text = f"binance-usdm {what}: {msg or 'error'} (code {code})"
    if status == 429 or code == -1003:
        retry = retry_after_s if retry_after_s is not None else 1.0
        return RateLimited(f"{text}; retry in {retry:g}s", retry_after_s=retry, info=info)
    if code == TIMESTAMP_OUTSIDE_WINDOW:
        return ClockSkew(text, info=info)
    if code == LISTEN_KEY_MISSING:
        return ListenKeyMissing(text, info=info)
    if code in AUTH or status == 401:
        return AuthError(f"{text}: {_AUTH_HINT}", info=info)
    if code == -5022:
        return PostOnlyWouldCross(text, info=info)
    if code in MARGIN:
        return InsufficientMargin(text, info=info)
    if code in NOT_FOUND:
        return UnknownOrder(text, info=info)
    if code == HEDGE_MODE:
        return OrderRejected(f"{text}: {HEDGE_MODE_HINT}", info=info)
    if code in FILTERS:
        return InvalidOrder(text, info=info)
    if code in STATUS_UNKNOWN or status >= 500:
        return VenueError(f"{text}: the venue did not say whether it acted", info=info)
    if what.endswith("/order") or what.endswith("/batchOrders"):
        return OrderRejected(text, info=info)
    return VenueError(text, info=info)
