"""Errors a connector raises.  Each carries ``.info`` (the venue's raw answer) and a
message a trader can act on; none ever contains a secret."""

from __future__ import annotations

from typing import Any


class _InfoMixin:
    info: dict[str, Any]

    def _set_info(self, info: dict[str, Any] | None) -> None:
        self.info = dict(info or {})


class VenueError(RuntimeError, _InfoMixin):
    """The venue or the link to it failed in a way not covered below."""

    def __init__(self, message: str, *, info: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self._set_info(info)


class Unconfirmed(VenueError):
    """The venue took the request but has not said yet whether it applied it (reading it back failed);
    the caller may record it as unconfirmed and ask again later."""


class OrderRejected(VenueError):
    """The venue refused the order; the message is the venue's reason."""


class InsufficientMargin(OrderRejected):
    pass


class PostOnlyWouldCross(OrderRejected):
    pass


class UnknownOrder(VenueError):
    """The venue does not know this order (never placed, or long gone)."""


class RateLimited(VenueError):
    def __init__(self, message: str, *, retry_after_s: float = 1.0, info: dict[str, Any] | None = None) -> None:
        super().__init__(message, info=info)
        self.retry_after_s = retry_after_s


class AuthError(VenueError):
    """Credentials missing, malformed or refused."""


class StaleMarketData(VenueError):
    """The book is older than the caller allows."""


class InvalidOrder(ValueError, _InfoMixin):
    """The order cannot be expressed on this venue (tick, step, size, symbol)."""

    def __init__(self, message: str, *, info: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self._set_info(info)


class ConfigError(ValueError):
    """Bad configuration or key file; the message says what to fix."""
