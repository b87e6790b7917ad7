"""REST to Binance USDⓈ-M: security types, signing, the server-time offset, budgets and error bodies.

Security types as the venue names them: ``NONE`` (public), ``KEY`` (``X-MBX-APIKEY`` only: the
listenKey endpoints) and ``SIGNED`` (key, ``timestamp``, ``recvWindow`` and the HMAC signature).
Everything goes in the query string, which is signed exactly as sent.  A ``-1021`` (timestamp
outside the window) re-measures the server time and signs once more: the venue did not act on it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from connector.binance_usdm.codes import ClockSkew, IpBanned, error_for
from connector.binance_usdm.limits import Budget
from connector.binance_usdm.signing import DEFAULT_RECV_WINDOW_MS, ServerTime, Signer, encode_params
from connector.clock import Clock
from connector.errors import AuthError, RateLimited, VenueError
from connector.keys import Secret, redact
from connector.transport.http import HttpClient

log = logging.getLogger(__name__)

NONE, KEY, SIGNED = "NONE", "KEY", "SIGNED"
_BANNED_UNTIL = re.compile(r"banned until (\d{12,14})")
DEFAULT_BAN_S = 120


class BinanceRest:
    """One venue endpoint; ``request`` returns the decoded JSON or raises a ``connector.errors`` type."""

    def __init__(
        self,
        http: HttpClient,
        *,
        clock: Clock,
        budget: Budget,
        api_key: Secret | None = None,
        signer: Signer | None = None,
        recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
        on_ban: Callable[[str], None] | None = None,
        on_unban: Callable[[], None] | None = None,
    ) -> None:
        self.http, self.clock, self.budget = http, clock, budget
        self._api_key, self._signer = api_key, signer
        self.recv_window_ms = recv_window_ms
        self.server_time = ServerTime()
        self.on_ban, self.on_unban = on_ban, on_unban
        self.clock_resyncs = 0
        """Times a ``-1021`` made us re-measure the server time."""
        self._banned = False

    @property
    def has_keys(self) -> bool:
        return self._api_key is not None and self._signer is not None

    def server_ms(self) -> int:
        return self.clock.now_ms() + self.server_time.offset_ms

    async def sync_time(self) -> int:
        """Measure the server-time offset (``GET /fapi/v1/time``, weight 1); returns it in ms."""
        await self.budget.acquire(1)
        sent = self.clock.now_ms()
        response = await self.http.request("GET", "/fapi/v1/time", cost=0)
        received = self.clock.now_ms()
        body = self._decode(response, "GET /fapi/v1/time")
        return self.server_time.observe(sent, int(body["serverTime"]), received)

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        security: str = NONE,
        weight: int = 1,
        orders: int = 0,
        idempotent: bool | None = None,
        background: bool = False,
    ) -> Any:
        what = f"{method} {path}"
        headers: dict[str, str] = {}
        if security != NONE:
            if self._api_key is None or (security == SIGNED and self._signer is None):
                raise AuthError(
                    "binance-usdm: no API key; account data and trading need a key file (see docs/venues/binance_usdm.md)"
                )
            headers["X-MBX-APIKEY"] = self._api_key.reveal()
        await self.budget.acquire(weight, orders, background=background)
        for attempt in (1, 2):
            query = encode_params(params or {})
            if security == SIGNED:
                assert self._signer is not None
                stamp = f"recvWindow={self.recv_window_ms}&timestamp={self.server_time.timestamp(self.clock.now_ms())}"
                query = self._signer.sign(f"{query}&{stamp}" if query else stamp)
            url = f"{path}?{query}" if query else path
            try:
                response = await self.http.request(method, url, headers=headers, cost=0, idempotent=idempotent)
            except RateLimited as exc:
                self.budget.penalize(exc.retry_after_s)
                raise RateLimited(
                    f"binance-usdm: rate limited on {what} (HTTP 429): retry in {exc.retry_after_s:g}s",
                    retry_after_s=exc.retry_after_s,
                    info=exc.info,
                ) from None
            except VenueError as exc:  # the URL carries the signature: name the endpoint only
                reason = str(exc).rsplit(" failed: ", 1)[-1]
                raise VenueError(f"binance-usdm: {what} failed: {reason}", info=exc.info) from None
            try:
                return self._decode(response, what)
            except ClockSkew:
                if attempt == 2 or security != SIGNED:
                    raise
                self.clock_resyncs += 1
                before = self.server_time.offset_ms
                await self.sync_time()
                log.warning(
                    "binance-usdm: %s refused for its timestamp; server-time offset %+d ms -> %+d ms, signing again",
                    what, before, self.server_time.offset_ms,
                )  # fmt: skip
        raise AssertionError("unreachable")

    def _decode(self, response: httpx.Response, what: str) -> Any:
        self.budget.observe(response.headers, self.server_ms())
        status = response.status_code
        if status == 418:
            self._ban(response, what)
        try:
            body = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            body = redact(response.text[:200])
            if status < 400:
                raise VenueError(f"binance-usdm {what}: malformed JSON in the answer: {body}") from None
        if status >= 400:
            raise error_for(what, status, body)
        if self._banned:
            self._banned = False
            if self.on_unban is not None:
                self.on_unban()
        return body

    def _ban(self, response: httpx.Response, what: str) -> None:
        now = self.clock.now_ms()
        until = now + DEFAULT_BAN_S * 1000
        retry = response.headers.get("retry-after")
        found = _BANNED_UNTIL.search(response.text)
        if found:  # the venue's clock
            until = int(found.group(1)) - self.server_time.offset_ms
        elif retry and retry.strip().isdigit():
            until = now + int(retry) * 1000
        self.budget.ban(until)
        self._banned = True
        message = (
            f"binance-usdm: HTTP 418 on {what}: this IP is banned for ignoring rate limits; every request is "
            f"stopped for {(until - now) / 1000:.0f} s. Find what is polling too fast before starting again"
        )
        log.error("%s", message)
        if self.on_ban is not None:
            self.on_ban(message)
        raise IpBanned(message, until_ms=until, info={"status": 418, "body": redact(response.text[:200])})
