"""A tiny deterministic venue for the console tests: fixed markets, a seeded book that moves only
when the test says so, orders that rest or fill on request, and a fixed account.

The console tests need a screen that is identical on every run (snapshots) and orders whose
fate the test decides (cancel, reject, fill); the full simulated venue is tested elsewhere.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from connector.base import BaseConnector
from connector.clock import Clock
from connector.errors import UnknownOrder
from connector.interface import (
    QUOTE_DECIMALS,
    BookUpdate,
    ConnectionState,
    Fill,
    FundingSnapshot,
    Margin,
    MarketInfo,
    OrderSnapshot,
    OrderStatus,
    Position,
    Trade,
)

MARKETS = [
    MarketInfo("BTC-PERP", "BTC", "USD", 1, 4, 10, max_leverage=20, prev_day_price_i=641_250),
    MarketInfo("ETH-PERP", "ETH", "USD", 2, 3, 10, max_leverage=20, prev_day_price_i=352_900),
    MarketInfo("SOL-PERP", "SOL", "USD", 3, 2, 10, max_leverage=10),
]
MIDS = {"BTC-PERP": 649_505, "ETH-PERP": 345_012, "SOL-PERP": 152_345}
TICKS = {"BTC-PERP": 1, "ETH-PERP": 1, "SOL-PERP": 5}


class FakeVenue(BaseConnector):
    venue = "sim"
    capabilities = frozenset({"funding"})

    def __init__(self, clock: Clock, *, seed: int = 7, levels: int = 25) -> None:
        super().__init__(clock=clock)
        self.rng = random.Random(seed)
        self.levels = levels
        self.mids = dict(MIDS)
        self.orders: dict[int, OrderSnapshot] = {}
        self.positions: dict[str, Position] = {}
        self.trade_seq = 0
        self.reject_next: str | None = None
        self.requests: list[tuple] = []
        self.latency_s = 0.0
        """Each order request waits this long on the clock before the venue answers."""

    async def start(self) -> None:
        await super().start()
        for stream in ("book", "account"):
            self.set_connection(stream, ConnectionState.CONNECTED)

    async def stop(self) -> None:
        await super().stop()

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            self._emit_book(symbol)

    def tick(self, steps: int = 1) -> None:
        """Move every market a few ticks (seeded), with one public trade each."""
        for _ in range(steps):
            for symbol in self.mids:
                self.mids[symbol] += self.rng.randint(-3, 3) * TICKS[symbol]
                self._emit_book(symbol)
                self.trade_seq += 1
                self.emit(
                    "trade",
                    Trade(symbol, self.mids[symbol], self.rng.randint(1, 50) * 10, self.rng.random() < 0.5,
                          self.clock.now_ms(), str(self.trade_seq)),
                )

    def _emit_book(self, symbol: str) -> None:
        tick = TICKS[symbol]
        mid = self.mids[symbol]
        rng = random.Random(mid * 31 + len(symbol))
        bids = tuple((mid - tick * (i + 1), rng.randint(1, 400) * 10) for i in range(self.levels))
        asks = tuple((mid + tick * (i + 1), rng.randint(1, 400) * 10) for i in range(self.levels))
        self.emit("book", BookUpdate(symbol, bids, asks, True, self.clock.now_ms()))

    async def list_markets(self) -> list[MarketInfo]:
        return list(MARKETS)

    async def get_price_size_decimals(self, symbol: str) -> tuple[int, int]:
        m = next(m for m in MARKETS if m.symbol == symbol)
        return m.price_decimals, m.size_decimals

    async def get_min_size_i(self, symbol: str) -> int:
        return next(m for m in MARKETS if m.symbol == symbol).min_size_i

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        return self.mids[symbol] - TICKS[symbol], self.mids[symbol] + TICKS[symbol], 10

    def _snap(self, snap: OrderSnapshot) -> None:
        self.orders[snap.client_order_index] = snap
        self.emit("order", snap)

    async def submit_limit_order(self, *, symbol, client_order_index, base_amount, price, is_ask,
                                 post_only=False, reduce_only=False) -> str:
        self.requests.append(("limit", symbol, client_order_index, base_amount, price, is_ask, post_only, reduce_only))
        if self.latency_s:
            await self.clock.sleep(self.latency_s)
        if self.reject_next:
            from connector.errors import OrderRejected

            reason, self.reject_next = self.reject_next, None
            raise OrderRejected(reason)
        oid = str(1000 + len(self.requests))
        self._snap(OrderSnapshot(symbol, client_order_index, oid, is_ask, price, base_amount, 0, OrderStatus.OPEN,
                                 post_only, reduce_only, ts_ms=self.clock.now_ms()))
        return oid

    async def submit_market_order(self, *, symbol, client_order_index, size_i, is_ask, reduce_only=False) -> str:
        self.requests.append(("market", symbol, client_order_index, size_i, is_ask, reduce_only))
        oid = str(1000 + len(self.requests))
        price = self.mids[symbol] + (-TICKS[symbol] if is_ask else TICKS[symbol])
        self.fill(OrderSnapshot(symbol, client_order_index, oid, is_ask, price, size_i, 0, OrderStatus.OPEN,
                                reduce_only=reduce_only), size_i, price)
        return oid

    def fill(self, snap: OrderSnapshot, size_i: int, price_i: int) -> None:
        """Fill ``size_i`` of an order (emits the fill, the order and the position)."""
        filled = snap.filled_i + size_i
        status = OrderStatus.FILLED if filled >= snap.size_i else OrderStatus.PARTIALLY_FILLED
        self.trade_seq += 1
        fee = price_i * size_i * 10**QUOTE_DECIMALS // 10**5 // 2000
        self.emit("fill", Fill(snap.symbol, snap.client_order_index, snap.order_id, f"t{self.trade_seq}", snap.is_ask,
                               price_i, size_i, fee, False, self.clock.now_ms()))
        self._snap(OrderSnapshot(snap.symbol, snap.client_order_index, snap.order_id, snap.is_ask, snap.price_i,
                                 snap.size_i, filled, status, snap.post_only, snap.reduce_only,
                                 ts_ms=self.clock.now_ms()))
        old = self.positions.get(snap.symbol)
        size = (old.size_i if old else 0) + (-size_i if snap.is_ask else size_i)
        self.set_position(snap.symbol, size, old.entry_price_i if old and old.size_i else price_i)

    def set_position(self, symbol: str, size_i: int, entry_price_i: int, liquidation_price_i: int | None = None) -> None:
        pos = Position(symbol, size_i, entry_price_i, self.mids[symbol], 0, 0, liquidation_price_i, 0, self.clock.now_ms())
        self.positions[symbol] = pos
        self.emit("position", pos)

    def set_funding(self, symbol: str, rate_e8: int, interval_ms: int, next_ms: int | None, mark_i: int | None) -> None:
        """Publish a funding snapshot (nothing is published unless a test says so: the tab shows "-")."""
        self.emit("funding", FundingSnapshot(symbol, rate_e8, interval_ms, next_ms, mark_i, self.clock.now_ms()))

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        snap = self.orders.get(client_order_index)
        if snap is None or snap.status.is_final:
            raise UnknownOrder(f"order {client_order_index} is not open")
        self._snap(OrderSnapshot(symbol, client_order_index, snap.order_id, snap.is_ask, snap.price_i, snap.size_i,
                                 snap.filled_i, OrderStatus.CANCELLED, snap.post_only, snap.reduce_only,
                                 ts_ms=self.clock.now_ms()))

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        for snap in list(self.orders.values()):
            if snap.order_id == order_id:
                await self.cancel_by_client_id(symbol, snap.client_order_index)
                return
        raise UnknownOrder(f"order {order_id} is not open")

    async def cancel_all(self, symbol: str | None = None) -> None:
        for snap in list(self.orders.values()):
            if not snap.status.is_final and (symbol is None or snap.symbol == symbol):
                await self.cancel_by_client_id(snap.symbol, snap.client_order_index)

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        snap = self.orders.get(client_order_index)
        if snap is None:
            raise UnknownOrder(f"order {client_order_index} unknown")
        return snap

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        return [s for s in self.orders.values() if not s.status.is_final and (symbol is None or s.symbol == symbol)]

    async def get_positions(self) -> list[Position]:
        return list(self.positions.values())

    async def get_margin(self) -> Margin:
        q = 10**QUOTE_DECIMALS
        return Margin(100_000 * q, 100_250 * q, 3_200 * q, 1_600 * q, 97_050 * q, self.clock.now_ms())
