"""The user-data stream's listenKey: create, keep alive, and re-create when the venue drops it.

A listenKey lives 60 minutes unless a ``PUT`` extends it (we send one every ``keepalive_s``, 30
minutes by default).  The venue can still end it: a ``listenKeyExpired`` event on the stream, or
``-1125`` on a keep-alive or at the socket's door.  Either way a new key is made, the private
socket reconnects with it, and the reconnect makes the runtime's reconciler ask REST for what
happened meanwhile.  There is one listenKey per account: another client's ``DELETE`` ends ours too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from connector.binance_usdm import wire
from connector.binance_usdm.codes import ListenKeyMissing
from connector.binance_usdm.rest import KEY, BinanceRest
from connector.clock import Clock
from connector.errors import VenueError
from connector.interface import LeverageChange
from connector.keys import register_secret

log = logging.getLogger(__name__)

PATH = "/fapi/v1/listenKey"


class ListenKeyKeeper:
    def __init__(
        self,
        rest: BinanceRest,
        *,
        clock: Clock,
        on_new_key: Callable[[str], Awaitable[None]],
        keepalive_s: float = 1800.0,
    ) -> None:
        self.rest, self.clock = rest, clock
        self.on_new_key = on_new_key
        self.keepalive_s = keepalive_s
        self.key: str | None = None
        self.renewals = 0
        self.keepalives = 0
        self._lock = asyncio.Lock()

    async def create(self) -> str:
        """``POST`` (an active key is returned and extended rather than replaced)."""
        body = await self.rest.request("POST", PATH, security=KEY, weight=1, idempotent=True)
        key = str(body["listenKey"])
        register_secret(key)  # it opens the account's stream: keep it out of logs
        self.key = key
        return key

    async def keepalive(self) -> bool:
        """``PUT``; False when the venue no longer knows the key."""
        try:
            await self.rest.request("PUT", PATH, security=KEY, weight=1)
        except ListenKeyMissing:
            return False
        self.keepalives += 1
        return True

    async def renew(self, why: str) -> None:
        """A new key and a reconnect with it (serialised: many triggers make one renewal)."""
        stale = self.key
        async with self._lock:
            if self.key != stale:
                return  # renewed while we waited
            log.warning("binance-usdm: %s; creating a new listenKey", why)
            key = await self.create()
            self.renewals += 1
            await self.on_new_key(key)

    async def check(self, why: str) -> None:
        """After the private socket dropped: renew if the venue has forgotten the key."""
        try:
            if not await self.keepalive():
                await self.renew(f"{why}: the listenKey no longer exists (-1125)")
        except VenueError as exc:
            log.warning("binance-usdm: listenKey check failed: %s", exc)

    async def run(self) -> None:
        while True:
            await self.clock.sleep(self.keepalive_s)
            try:
                if not await self.keepalive():
                    await self.renew("keep-alive answered -1125")
            except VenueError as exc:
                log.warning("binance-usdm: listenKey keep-alive failed: %s", exc)


IGNORED = frozenset(
    {"TRADE_LITE", "ALGO_UPDATE", "STRATEGY_UPDATE", "GRID_UPDATE", "listenKeyExpired",
     "CONDITIONAL_ORDER_TRIGGER_REJECT"}
)  # fmt: skip
"""Events that carry nothing for the runtime (fills come with their fee on ORDER_TRADE_UPDATE; an
expired key is handled by the connector)."""


def user_events(
    msg: dict[str, Any], markets: Mapping[str, wire.Filters], marks: Mapping[str, tuple[int, int]]
) -> list[tuple[str, Any]]:
    """(kind, event) pairs from one user-data frame, a fill before its order's state; markets we do
    not list are skipped.  Built in full before anything is emitted, so a malformed frame delivers nothing."""
    kind = msg.get("e")
    out: list[tuple[str, Any]] = []
    if kind == "ORDER_TRADE_UPDATE":
        f = markets.get(msg["o"]["s"])
        if f is not None:
            snap, fill = wire.parse_order_update(msg, f)
            if fill is not None:
                out.append(("fill", fill))
            out.append(("order", snap))
    elif kind == "ACCOUNT_UPDATE":
        ts = int(msg.get("E") or 0)
        mode_changed = msg["a"].get("m") == "MARGIN_TYPE_CHANGE"
        for p in msg["a"].get("P") or []:
            f = markets.get(p.get("s"))
            if f is not None and p.get("ps", "BOTH") == "BOTH":
                mark = marks.get(f.symbol, (None, 0))[0]
                out.append(("position", wire.position_from_update(p, f, mark, ts)))
                if mode_changed and p.get("mt") in ("cross", "isolated"):
                    out.append(("leverage", LeverageChange(f.symbol, None, p["mt"] == "cross")))
    elif kind == "ACCOUNT_CONFIG_UPDATE":
        ac = msg.get("ac")  # "ai" (multi-assets mode) says nothing of a market
        if ac is not None and ac["s"] in markets:
            leverage = ac["l"]
            if type(leverage) is not int or leverage < 1:
                raise ValueError(f"leverage {leverage!r} in {str(msg)[:80]}")
            out.append(("leverage", LeverageChange(markets[ac["s"]].symbol, leverage, None)))
    elif kind == "MARGIN_CALL":
        log.warning("binance-usdm: MARGIN CALL: %.300s", msg)
    elif kind not in IGNORED:
        raise ValueError(f"unexpected frame on the private stream: {str(msg)[:80]}")
    return out
