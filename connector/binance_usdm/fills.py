"""Fills the user-data stream missed while it was down, read back from ``GET /fapi/v1/userTrades``.

The venue does not replay its user-data stream: a fill booked while the private socket was down
reaches us only as an order whose filled quantity grew (the reconciler corrects that), never as a
fill with its price and fee.  So after every reconnect of the private stream the connector reads
the symbols it has orders on this session, and those where it saw a position or one of its
conditional orders (a stop that fires during the outage trades on a symbol perhaps never traded
here), from a minute before the stream was last known alive (never before this session began),
and passes on the trades the stream did not deliver (the ledger's trade ids say which).  A symbol
whose read fails (a 429 or 5xx right after the reconnect) is read again with backoff, a bounded
number of times; until every symbol was read, the window's start stays where the first outage not
yet recovered began, so a later reconnect reads from there.  A window holding more trades than a
page is read page by page (``fromId`` after the first).

``userTrades`` needs a symbol and has no client order id.  A row's order is found by its ``orderId``
in the ledger; failing that (an order whose ``POST`` timed out in the same outage, so its id never
came back; a conditional order's child, which reaches us only on the stream) by one
``GET /fapi/v1/order?orderId=``, whose ``clientOrderId`` carries our ``pd-<index>``.
The fee is read as the stream's is (``wire.trade_fee_q``: its sign kept, a rebate negative).
UNCONFIRMED: that a row's ``id`` is the stream's trade id ``t`` (both are the venue's trade id), and
that ``commission`` carries the same sign as the stream's ``n`` (the docs' example shows it negative).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connector.binance_usdm import wire
from connector.binance_usdm.ledger import Ledger
from connector.binance_usdm.rest import SIGNED, BinanceRest
from connector.clock import Clock
from connector.errors import UnknownOrder, VenueError
from connector.interface import Fill
from connector.transport.ratelimit import Backoff

log = logging.getLogger(__name__)

LOOKBACK_MS = 60_000
"""How far before the stream was last known alive the history is read: a fill may be stamped before its frame."""
LIMIT = 1000
"""Rows per page (the venue's maximum)."""
MAX_PAGES = 100
ATTEMPTS = 6
"""Reads of a symbol after one reconnect before giving up (the next reconnect reads from the same start)."""


def fill_from_trade(row: Mapping[str, Any], f: wire.Filters, coi: int) -> Fill:
    """One ``userTrades`` row as the fill the stream would have carried (``coi``: its order's client index)."""
    return Fill(
        symbol=f.symbol,
        client_order_index=coi,
        order_id=str(row["orderId"]),
        trade_id=f"{f.symbol}:{row['id']}",
        is_ask=row.get("side") == "SELL",
        price_i=wire.px(row["price"], f.price_decimals),
        size_i=wire.px(row["qty"], f.size_decimals),
        fee_q=wire.trade_fee_q(row.get("commission"), row.get("commissionAsset")),
        is_maker=bool(row.get("maker")),
        ts_ms=int(row.get("time") or 0),
        info=dict(row),
    )


def _when(row: Any) -> tuple[int, int]:
    """(time, trade id) of a row, for its order; (0, 0) for a row that has neither readable."""
    try:
        return int(row.get("time") or 0), int(row.get("id") or 0)
    except (AttributeError, TypeError, ValueError):
        return 0, 0


class FillRecovery:
    """The connector's reader of missed fills: which symbols, from when, and whose order a row is."""

    def __init__(
        self,
        rest: Callable[[], BinanceRest],
        filters: Callable[[], Mapping[str, wire.Filters]],
        ledger: Ledger,
        emit: Callable[[str, Any], None],
        *,
        clock: Clock,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        self._rest, self._filters, self.ledger, self._emit = rest, filters, ledger, emit
        self.clock, self._backoff = clock, (backoff_base_s, backoff_max_s)
        self.pending_since: int | None = None
        """Where the window starts while an outage's fills are not all read (venue ms), else None."""
        self.watched: set[str] = set()
        """Symbols where we saw a position or placed/listed a conditional order (beyond the ledger's)."""
        self.session_start_ms: int | None = None
        """Venue time of the first connect: fills before it belong to no outage of this session."""
        self.task: asyncio.Task[Any] | None = None
        self.bad_rows = 0
        """Rows (or whole answers) that could not be read, each logged and skipped."""

    def watch(self, symbol: str) -> None:
        self.watched.add(symbol)

    def symbols(self) -> set[str]:
        return {ref.symbol for ref in self.ledger.orders.values()} | self.watched

    def window_start(self, alive_ms: int) -> int:
        """Venue time to read from, given the local time the stream was last known alive."""
        rest = self._rest()
        start = alive_ms + (rest.server_ms() - rest.clock.now_ms()) - LOOKBACK_MS
        return max(start, self.session_start_ms or 0)

    def after_reconnect(self, alive_ms: int, spawn: Callable[[Any], asyncio.Task[Any]]) -> None:
        """Start reading (again) from the start of the first outage not yet recovered."""
        since = self.window_start(alive_ms)
        self.pending_since = since if self.pending_since is None else min(self.pending_since, since)
        if self.task is not None and not self.task.done():
            self.task.cancel()  # a read still retrying for an earlier outage: this one covers it
        self.task = spawn(self.run(self.pending_since))

    async def run(self, since_ms: int) -> int:
        """Read every symbol, again with backoff where a read failed; the window is closed once all are read."""
        backoff = Backoff(*self._backoff)
        todo, found = set(self.symbols()), 0
        for attempt in range(1, ATTEMPTS + 1):
            got, todo = await self.recover(todo, since_ms)
            found += got
            if not todo:
                if self.pending_since == since_ms:
                    self.pending_since = None
                return found
            if attempt < ATTEMPTS:
                await self.clock.sleep(backoff.next_delay())
        log.warning(
            "binance-usdm: gave up reading the fills missed on %s after %d attempts; the next reconnect reads from "
            "the same start (the reconciler still corrects every order's filled quantity)", ", ".join(sorted(todo)),
            ATTEMPTS,
        )  # fmt: skip
        return found

    async def recover(self, symbols: Iterable[str], since_ms: int) -> tuple[int, set[str]]:
        """Pass on the fills since ``since_ms`` (venue time) the stream did not deliver: (how many, symbols failed)."""
        found, failed = 0, set()
        filters = self._filters()
        for symbol in sorted(symbols):
            f = filters.get(symbol)
            if f is None:
                continue
            try:
                found += await self._recover_symbol(f, since_ms)
            except VenueError as exc:
                failed.add(symbol)
                log.warning("binance-usdm %s: could not read the fills missed while disconnected (%s)", symbol, exc)
            except Exception:  # an answer we cannot read: the next symbols still are (nobody awaits this task)
                self.bad_rows += 1
                log.warning("binance-usdm %s: unreadable userTrades answer; other symbols go on", symbol, exc_info=True)
        if found:
            log.info("binance-usdm: %d fill(s) missed while disconnected recovered from userTrades", found)
        return found, failed

    async def _recover_symbol(self, f: wire.Filters, since_ms: int) -> int:
        """Page through the symbol's trades: from ``since_ms``, then on from the last trade id seen,
        until a page comes back shorter than the limit (``fromId`` goes without ``startTime``)."""
        params: dict[str, Any] = {"symbol": f.symbol, "startTime": max(0, since_ms), "limit": LIMIT}
        found = 0
        for _ in range(MAX_PAGES):
            rows = await self._rest().request("GET", "/fapi/v1/userTrades", params, security=SIGNED, weight=5) or []
            for row in sorted(rows, key=_when):
                try:
                    if self.ledger.seen(f"{f.symbol}:{row['id']}"):
                        continue
                    fill = fill_from_trade(row, f, await self._client_index(row, f))
                except VenueError:
                    raise  # the symbol is read again; no trade id was spent
                except Exception as exc:  # a row we cannot read (no orderId, a price that is not a number)
                    self.bad_rows += 1
                    log.warning("binance-usdm %s: skipped a userTrades row we cannot read (%r): %.300s", f.symbol, exc,
                                row)  # fmt: skip
                    continue
                if self.ledger.first_sight(fill):
                    self._emit("fill", fill)
                    found += 1
            if len(rows) < LIMIT:
                return found
            next_id = max(_when(r)[1] for r in rows) + 1
            if next_id <= int(params.get("fromId") or 0):
                break  # the venue did not move on: stop rather than read the same page forever
            params = {"symbol": f.symbol, "fromId": next_id, "limit": LIMIT}
        log.warning("binance-usdm %s: stopped reading missed fills at %s (page limit or no progress)", f.symbol, params)
        return found

    async def _client_index(self, row: Mapping[str, Any], f: wire.Filters) -> int:
        """The client index of a row's order: the ledger's, else the venue's ``clientOrderId`` for it."""
        order_id = str(row["orderId"])
        coi = self.ledger.client_index_of(order_id)
        if coi is not None:
            return coi
        try:
            body = await self._rest().request(
                "GET", "/fapi/v1/order", {"symbol": f.symbol, "orderId": order_id}, security=SIGNED, weight=1
            )
        except UnknownOrder:  # the venue no longer shows it: an order placed elsewhere, as the stream names one
            return wire.coi_of(None, order_id)
        snap = wire.parse_order(body, f)
        self.ledger.track(snap)  # the ledger learns the id (a timed-out POST's, a trigger's child)
        return snap.client_order_index
