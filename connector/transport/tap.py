"""The one optional hook a recorder (or a replay) has on the transports.

``install(tap)`` puts one ``Tap`` in place for every ``WsSupervisor`` and ``HttpClient`` built
afterwards (``perpdesk --record`` installs a recorder before the connectors start;
``perpdesk replay`` installs the recording's answers).  With none installed the transports run exactly
as without this module.  The implementations live in ``connector.record``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx  # the transports import it when a client is built: a console on the sim never does

Parse = Callable[[str | bytes], Any]
ConnectHook = Callable[[Any], Any]


class Tap(Protocol):
    def wrap_ws(self, name: str, url: str, parse: Parse, on_connect: ConnectHook | None) -> tuple[Parse, Any]:
        """The parse function and connect hook a websocket uses (see every frame, every (re)connect)."""
        ...

    def ws_sent(self, name: str, data: str | bytes) -> None:
        """A frame we sent on websocket ``name``."""
        ...

    def wrap_http(self, name: str, base_url: str, transport: httpx.AsyncBaseTransport | None) -> Any:
        """The httpx transport an HTTP client uses (see every request and answer)."""
        ...


_tap: Tap | None = None


def install(tap: Tap | None) -> Tap | None:
    """Install ``tap`` (None removes it); returns the one it replaced."""
    global _tap
    previous, _tap = _tap, tap
    return previous


def current() -> Tap | None:
    return _tap
