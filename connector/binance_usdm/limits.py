"""Binance's request budgets: IP weight per minute and order counts per 10 s and per minute.

Two defences, both on the connector's clock.  Local token buckets sized from
``exchangeInfo.rateLimits`` pace requests before they leave.  The venue's own counters come back
on every answer (``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S``, ``X-MBX-ORDER-COUNT-1M``);
once one passes ``slow_at`` of its limit, that bucket is held until the venue's window rolls over,
so we slow down *before* a 429.  A 429's ``Retry-After`` holds the weight bucket (done by
``HttpClient``); a 418 (the IP is banned for ignoring 429s) stops every request until the ban ends.
"""

from __future__ import annotations

from collections.abc import Mapping

from connector.binance_usdm.codes import IpBanned
from connector.clock import Clock
from connector.transport.ratelimit import RateLimiter

WEIGHT_PER_MIN = 2400
ORDERS_PER_10S = 300
ORDERS_PER_MIN = 1200
BACKGROUND_SHARE = 0.4
"""Of the weight budget, what book snapshots may use."""


class Budget:
    def __init__(
        self,
        clock: Clock,
        *,
        weight_per_min: int = WEIGHT_PER_MIN,
        orders_per_10s: int = ORDERS_PER_10S,
        orders_per_min: int = ORDERS_PER_MIN,
        slow_at: float = 0.8,
    ) -> None:
        self.clock = clock
        self.slow_at = slow_at
        self.banned_until_ms = 0
        self.used_weight = self.orders_10s = self.orders_1m = 0
        self.slowdowns = 0
        """Times a venue counter passed ``slow_at`` and a bucket was held until its window ended."""
        self.configure(weight_per_min, orders_per_10s, orders_per_min)

    def configure(self, weight_per_min: int, orders_per_10s: int, orders_per_min: int) -> None:
        self.limits = (weight_per_min, orders_per_10s, orders_per_min)
        # what a trader waits on (cancels, queries) never queues behind book snapshots: those take
        # BACKGROUND_SHARE of the weight from a bucket of their own
        fg, bg = weight_per_min * (1 - BACKGROUND_SHARE), weight_per_min * BACKGROUND_SHARE
        self.weight = RateLimiter(fg / 60, fg / 4, clock=self.clock)
        self.background = RateLimiter(bg / 60, max(bg / 8, 20), clock=self.clock)
        self.orders = RateLimiter(orders_per_10s / 10, orders_per_10s / 2, clock=self.clock)
        self.orders_minute = RateLimiter(orders_per_min / 60, orders_per_min / 4, clock=self.clock)

    def configure_from(self, limits: Mapping[str, int]) -> None:
        """From ``wire.parse_rate_limits`` (missing entries keep their defaults)."""
        weight, o10, o60 = self.limits
        wanted = (
            limits.get("REQUEST_WEIGHT:1M") or weight,
            limits.get("ORDERS:10S") or o10,
            limits.get("ORDERS:1M") or o60,
        )
        if wanted != self.limits:  # new buckets only when the venue's limits changed: a hold stays held
            self.configure(*wanted)

    def check_ban(self) -> None:
        now = self.clock.now_ms()
        if now < self.banned_until_ms:
            raise IpBanned(
                f"binance-usdm: this IP is banned by the venue (HTTP 418) for another "
                f"{(self.banned_until_ms - now) / 1000:.0f} s; every request is stopped until then",
                until_ms=self.banned_until_ms,
            )

    def ban(self, until_ms: int) -> None:
        self.banned_until_ms = max(self.banned_until_ms, until_ms)

    async def acquire(self, weight: int, orders: int = 0, *, background: bool = False) -> None:
        self.check_ban()
        if orders:
            await self.orders.acquire(orders)
            await self.orders_minute.acquire(orders)
        if weight:
            await (self.background if background else self.weight).acquire(weight)

    def penalize(self, seconds: float) -> None:
        """The venue said to slow down (a 429's Retry-After): every weight bucket holds."""
        self.weight.penalize(seconds)
        self.background.penalize(seconds)

    def observe(self, headers: Mapping[str, str], server_ms: int) -> None:
        """Read the venue's counters from an answer's headers; hold a bucket that nears its limit."""
        weight_limit, o10_limit, o60_limit = self.limits
        checks = (
            ("x-mbx-used-weight-1m", weight_limit, 60_000, (self.weight, self.background), "used_weight"),
            ("x-mbx-order-count-10s", o10_limit, 10_000, (self.orders,), "orders_10s"),
            ("x-mbx-order-count-1m", o60_limit, 60_000, (self.orders_minute,), "orders_1m"),
        )
        for header, limit, window_ms, buckets, attr in checks:
            value = headers.get(header)
            if value is None:
                continue
            try:
                used = int(value)
            except ValueError:
                continue
            setattr(self, attr, used)
            if limit and used >= self.slow_at * limit:
                self.slowdowns += 1
                for bucket in buckets:
                    bucket.penalize((window_ms - server_ms % window_ms) / 1000)
