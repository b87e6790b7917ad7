"""Paper trading on a real venue's market: the venue's public side, a simulated account behind it.

``PaperConnector`` wraps any venue's connector built without keys and uses it for its public side
only: markets, books and trades (``list_markets``, ``subscribe_market_data``, ``get_top_of_book`` and
the ``book``/``trade``/``connection`` events).  Orders, positions, margin and fills never reach the
venue: ``connector.paper.engine.PaperEngine`` (the sim's matching and account over the venue's book)
answers them.  Nothing is signed, nothing private is requested.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from connector.base import BaseConnector
from connector.checks import require_ints
from connector.clock import Clock
from connector.errors import VenueError
from connector.interface import (
    BookUpdate,
    Fill,
    IConnector,
    Margin,
    MarketInfo,
    OrderSnapshot,
    Position,
    Trade,
)
from connector.paper.engine import DEFAULT_COLLATERAL_Q, PaperEngine

log = logging.getLogger(__name__)

T = TypeVar("T")
_KIND: dict[type, str] = {OrderSnapshot: "order", Fill: "fill", Position: "position", Margin: "margin"}
FIRST_BOOK_S = 10.0
"""How long an order for a market nobody watched waits for the venue's first book."""


class PaperConnector(BaseConnector):
    """``venue`` is the wrapped venue's slug; ``paper`` says what this is to anyone who asks."""

    paper = True
    capabilities = frozenset({"amend", "amend_fill_safe", "dead_man_switch"})

    def __init__(
        self,
        public: IConnector,
        *,
        clock: Clock | None = None,
        collateral_q: int = DEFAULT_COLLATERAL_Q,
        maker_fee_ppm: int = 100,
        taker_fee_ppm: int = 450,
    ) -> None:
        super().__init__(clock=clock or getattr(public, "clock", None))
        self.public = public
        self.venue = public.venue
        self.engine = PaperEngine(
            clock=self.clock, venue=public.venue, collateral_q=collateral_q,
            maker_fee_ppm=maker_fee_ppm, taker_fee_ppm=taker_fee_ppm,
        )  # fmt: skip
        self._books: dict[str, asyncio.Event] = {}
        self._dms: asyncio.Task[None] | None = None
        public.add_handler("book", self._on_book)
        public.add_handler("trade", self._on_trade)
        public.add_handler("connection", lambda event: self.emit("connection", event))
        if "funding" in public.capabilities:  # public data: paper positions show the venue's funding too
            self.capabilities = self.capabilities | {"funding"}
            public.add_handler("funding", lambda event: self.emit("funding", event))

    def __repr__(self) -> str:
        return f"<PaperConnector over {self.public!r}>"

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        await self.public.start()
        self.engine.install(await self.public.list_markets())
        self.engine.subscribe(self._on_engine_event, ())
        await super().start()

    async def stop(self) -> None:
        if self._dms is not None:
            self._dms.cancel()
            self._dms = None
        self.engine.unsubscribe(self._on_engine_event)
        await self.public.stop()
        await super().stop()

    # -- the venue's public side ------------------------------------------------------------------

    def _on_book(self, update: BookUpdate) -> None:
        self.engine.on_book(update)
        self.emit("book", update)
        event = self._books.get(update.symbol)
        if event is not None:
            event.set()

    def _on_trade(self, trade: Trade) -> None:
        self.emit("trade", trade)
        self.engine.on_trade(trade)

    def _on_engine_event(self, event: Any) -> None:
        self.emit(_KIND[type(event)], event)

    async def subscribe_market_data(self, symbols: Iterable[str]) -> None:
        wanted = list(symbols)
        for s in wanted:
            self._books.setdefault(s, asyncio.Event())
        await self.public.subscribe_market_data(wanted)

    async def list_markets(self) -> list[MarketInfo]:
        if not self.engine.markets:
            self.engine.install(await self.public.list_markets())
        return list(self.engine.markets.values())

    def _market(self, symbol: str) -> MarketInfo:
        return self.engine.state(symbol).info

    async def get_top_of_book(self, symbol: str) -> tuple[int | None, int | None, int]:
        st = self.engine.state(symbol)
        if not st.has_book:
            return await self.public.get_top_of_book(symbol)
        return st.venue_touch(False), st.venue_touch(True), 10**st.info.price_decimals

    async def _book_for(self, symbol: str) -> None:
        """An order needs the venue's book: subscribe a market nobody watched and wait for it."""
        if self.engine.state(symbol).has_book:
            return
        if symbol not in self._books:
            await self.subscribe_market_data([symbol])
        try:
            await asyncio.wait_for(self._books[symbol].wait(), FIRST_BOOK_S)
        except TimeoutError:
            raise VenueError(f"paper {self.venue}: no book for {symbol} from the venue yet") from None

    # -- the paper account ------------------------------------------------------------------------

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self.engine.advance_to(self.clock.now_ms())
        return fn(*args, **kwargs)

    def _order(self, fn: Callable[..., T], what: str, symbol: str, **kwargs: Any) -> T:
        """An order request, logged as PAPER (never mistaken for a live one in a log)."""
        try:
            result = self._call(fn, symbol, **kwargs)
        except Exception as exc:
            log.info("PAPER %s %s %s %s refused: %s", self.venue, what, symbol, kwargs, exc)
            raise
        log.info("PAPER %s %s %s %s", self.venue, what, symbol, kwargs)
        return result

    async def submit_limit_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        post_only: bool = False,
        reduce_only: bool = False,
    ) -> str:
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        await self._book_for(symbol)
        snap = self._order(
            self.engine.place, "limit", symbol, client_order_index=client_order_index, is_ask=is_ask, price_i=price,
            size_i=base_amount, tif="POST_ONLY" if post_only else "GTC", reduce_only=reduce_only,
        )  # fmt: skip
        return str(snap.order_id)

    async def submit_market_order(
        self, *, symbol: str, client_order_index: int, size_i: int, is_ask: bool, reduce_only: bool = False
    ) -> str:
        require_ints(client_order_index=client_order_index, size_i=size_i)
        await self._book_for(symbol)
        snap = self._order(
            self.engine.place, "market", symbol, client_order_index=client_order_index, is_ask=is_ask,
            price_i=self._worst_price(symbol, is_ask), size_i=size_i, tif="MARKET", reduce_only=reduce_only,
        )  # fmt: skip
        return str(snap.order_id)

    def _worst_price(self, symbol: str, is_ask: bool) -> int:
        """A venue that sends a market order as an aggressive IOC capped ``market_slippage_bps`` from the
        touch (Hyperliquid, Lighter) fills no further on paper; 0 (no cap) for a venue with true market
        orders."""
        bps = getattr(self.public, "market_slippage_bps", None)
        st = self.engine.state(symbol)
        touch = st.venue_touch(not is_ask)
        if not bps or touch is None:
            return 0
        tick = st.info.tick_i
        move = touch * bps // 10_000
        return max(tick, (touch - move) // tick * tick) if is_ask else -(-(touch + move) // tick) * tick

    async def modify_order(self, *, symbol: str, client_order_index: int, price: int, base_amount: int) -> str:
        require_ints(client_order_index=client_order_index, price=price, base_amount=base_amount)
        snap = self._order(
            self.engine.amend, "amend", symbol, client_order_index=client_order_index, price_i=price, size_i=base_amount,
            cap_to_remaining=True,
        )  # fmt: skip
        return str(snap.order_id)

    async def cancel_by_client_id(self, symbol: str, client_order_index: int) -> None:
        self._order(self.engine.cancel, "cancel", symbol, client_order_index=client_order_index)

    async def cancel_by_order_id(self, symbol: str, order_id: str) -> None:
        self._order(self.engine.cancel, "cancel", symbol, order_id=order_id)

    async def cancel_all(self, symbol: str | None = None) -> None:
        log.info("PAPER %s cancel-all %s", self.venue, symbol or "every market")
        self._call(self.engine.cancel_all, symbol)

    async def schedule_cancel_all(self, after_s: float | None) -> None:
        """Dead man's switch on the paper account: cancel everything ``after_s`` from now unless re-armed."""
        if self._dms is not None:
            self._dms.cancel()
            self._dms = None
        if after_s is not None:
            self._dms = asyncio.create_task(self._cancel_all_after(after_s), name="paper-dead-man-switch")

    async def _cancel_all_after(self, after_s: float) -> None:
        await self.clock.sleep(after_s)
        self._dms = None
        self._call(self.engine.cancel_all)

    async def get_order(self, symbol: str, client_order_index: int) -> OrderSnapshot:
        return self._call(self.engine.order, symbol, client_order_index=client_order_index)

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        return self._call(self.engine.open_orders, symbol)

    async def get_positions(self) -> list[Position]:
        return self._call(self.engine.positions)

    async def get_margin(self) -> Margin:
        return self._call(self.engine.margin)
