"""Our own story in a recording: each chase's decisions and our orders' transitions (docs/RECORDING.md,
lines ``chase`` and ``order``), written while recording and told again, step by step, on replay.

Plain Python (no Textual).  The console owns both sides of the hook, so neither layer below learns of
the other: ``StoryRecorder`` listens to ``runtime.tracking`` and ``runtime.orders`` and hands each
event to the recorder (``connector.record.recorder.Recorder.story``, which masks secrets and stamps
the recording clock); ``StoryLog`` turns the lines a replay tells (``ReplayConnector.add_story_listener``)
into the rows of the console's Replay tab, beside the replayed book of that moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.once import Labels, Recent

if TYPE_CHECKING:
    from execution.market import MarketDataService
    from execution.orders import Order
    from execution.runtime import Runtime
    from execution.tracking import ChaseEvent, TrackingLimit

STORY_COLUMNS = [("t", "Time"), ("chase", "Chase"), ("what", "What"), ("detail", "Why / detail"), ("book", "Book then")]


def _side(is_ask: bool) -> str:
    return "sell" if is_ask else "buy"


def _top(md: MarketDataService, venue: str, symbol: str) -> list[int | None]:
    try:
        bid, ask = md.top_of_book(venue, symbol)
    except (KeyError, LookupError):
        return [None, None]
    return [bid, ask]


def chase_line(md: MarketDataService, chase: TrackingLimit, event: ChaseEvent) -> dict[str, Any]:
    """A ``chase`` line's fields (the recorder adds ``k`` and ``t``): one event of one chase, with the
    touch the runtime saw when it happened."""
    return {
        "venue": chase.venue,
        "symbol": chase.symbol,
        "chase": chase.id,
        "side": _side(chase.is_ask),
        "what": event.kind,
        "msg": event.message,
        "data": dict(event.data),
        "state": str(chase.state),
        "filled_i": chase.filled_i,
        "size_i": chase.size_i,
        "top": _top(md, chase.venue, chase.symbol),
        "ts": event.ts_ms,
    }


def order_line(order: Order) -> dict[str, Any]:
    """An ``order`` line's fields: one of our orders as it stands after a transition or a fill."""
    return {
        "venue": order.venue,
        "symbol": order.symbol,
        "coi": order.client_order_index,
        "oid": order.order_id,
        "parent": order.parent_id,
        "side": _side(order.is_ask),
        "type": order.kind,
        "price_i": order.price_i,
        "size_i": order.size_i,
        "filled_i": order.filled_i,
        "state": str(order.state),
        "reason": order.reason,
        "ts": order.updated_ms,
    }


KEEP_CLOSED = 200
"""Closed orders whose last written line the recorder remembers (to skip a repeated announcement); an
older closed order announced again is written again, harmlessly.  Live orders are all remembered."""


class StoryRecorder:
    """Writes the runtime's chase events and order transitions to ``recorder`` (``Recorder.story``)
    until ``detach``.  An order is written when its state, price, fill or venue id changed."""

    def __init__(self, recorder: Any, runtime: Runtime, *, keep_closed: int = KEEP_CLOSED) -> None:
        self.recorder = recorder
        self.runtime = runtime
        self.keep_closed = keep_closed
        self._last: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._closed: dict[tuple[str, int], None] = {}
        """Keys of the closed orders in ``_last``, oldest closed first (``keep_closed``)."""
        runtime.tracking.add_listener(self._on_chase)
        runtime.orders.add_listener(self._on_order)

    def detach(self) -> None:
        self.runtime.tracking.remove_listener(self._on_chase)
        self.runtime.orders.remove_listener(self._on_order)

    def _on_chase(self, chase: TrackingLimit, event: ChaseEvent) -> None:
        self.recorder.story("chase", chase_line(self.runtime.market_data, chase, event))

    def _on_order(self, order: Order) -> None:
        key = (order.venue, order.client_order_index)
        seen = (order.state, order.price_i, order.size_i, order.filled_i, order.order_id)
        if self._last.get(key) == seen:
            return
        self._last[key] = seen
        if order.is_final:
            self._closed.pop(key, None)
            self._closed[key] = None
            while len(self._closed) > self.keep_closed:
                old = next(iter(self._closed))
                del self._closed[old]
                self._last.pop(old, None)
        else:
            self._closed.pop(key, None)  # revived by a reconcile: remembered as live orders are
        self.recorder.story("order", order_line(order))


# -- on replay ----------------------------------------------------------------------------------


def _stamp(ts_ms: int) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(ts_ms // 1000)) + f".{ts_ms % 1000:03d}"


class StoryLog:
    """The rows of the Replay tab, one per story line told, oldest first.  ``on_row(key, cells)`` is
    told of each new row (the tab paints it)."""

    def __init__(self, md: MarketDataService, *, keep: int = 2_000) -> None:
        self.md = md
        self.keep = keep
        self.rows: list[tuple[str, tuple[str, ...]]] = []
        self.labels = Labels("#")
        """A short number per chase (``console.once.KEEP`` remembered)."""
        self.on_row: Callable[[str, tuple[str, ...]], None] | None = None
        self._seq = 0
        self._orders: Recent[tuple[str, Any], tuple[str, Any]] = Recent()
        """(venue, client index) -> (state, price_i) as last told (``console.once.KEEP`` orders): an amend shows
        as one."""

    def label(self, chase_id: str | None) -> str:
        if not chase_id:
            return ""
        return self.labels.label(chase_id)

    def _price(self, venue: str, symbol: str, price_i: Any) -> str:
        if not isinstance(price_i, int) or isinstance(price_i, bool):
            return "-"
        try:
            return self.md.format_price(venue, symbol, price_i)
        except (KeyError, LookupError):
            return str(price_i)

    def _size(self, venue: str, symbol: str, size_i: Any) -> str:
        if not isinstance(size_i, int) or isinstance(size_i, bool):
            return "-"
        try:
            return self.md.format_size(venue, symbol, size_i)
        except (KeyError, LookupError):
            return str(size_i)

    def book(self, venue: str, symbol: str, recorded: Any) -> str:
        """The replayed touch now (the line is told right after the frames before it), else the recorded one."""
        bid, ask = _top(self.md, venue, symbol)
        if bid is None and ask is None and isinstance(recorded, list) and len(recorded) == 2:
            bid, ask = recorded
        return f"{self._price(venue, symbol, bid)} / {self._price(venue, symbol, ask)}"

    def detail(self, line: dict[str, Any]) -> tuple[str, str]:
        """(what, why / detail) of one story line (told once, in order), prices and sizes in the market's units."""
        venue, symbol = str(line.get("venue")), str(line.get("symbol"))
        price = lambda v: self._price(venue, symbol, v)  # noqa: E731
        size = lambda v: self._size(venue, symbol, v)  # noqa: E731
        if line.get("k") == "order":
            state = str(line.get("state", ""))
            before = self._orders.get((venue, line.get("coi")))
            self._orders.put((venue, line.get("coi")), (state, line.get("price_i")))
            amended = before is not None and before[0] == state and before[1] != line.get("price_i")
            at = f"{price(before[1])} → " if amended and before is not None else ""
            text = (f"{line.get('side')} {size(line.get('size_i'))} at {at}{price(line.get('price_i'))}"
                    f" filled {size(line.get('filled_i'))}")  # fmt: skip
            if line.get("reason"):
                text += f": {line['reason']}"
            return ("order amended" if amended else f"order {state.lower()}"), text
        what, data = str(line.get("what", "")), line.get("data") or {}
        if what == "repriced":
            return what, f"{price(data.get('old'))} → {price(data.get('new'))}: {data.get('why', '')}"
        if what == "placed":
            return what, f"{line.get('side')} {size(data.get('size_i'))} at {price(data.get('price_i'))}"
        if what == "filled":
            return what, f"{size(data.get('size_i'))} at {price(data.get('price_i'))}"
        if what == "ended":
            avg = data.get("avg_price_i")
            return what, (f"{data.get('reason', '')}: filled {size(line.get('filled_i'))}/{size(line.get('size_i'))}"
                          + (f" avg {price(avg)}" if avg is not None else ""))  # fmt: skip
        return what, str(line.get("msg", ""))

    def tell(self, line: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        """Add the row of one story line (as a replay tells it) and return it."""
        self._seq += 1
        venue, symbol = str(line.get("venue")), str(line.get("symbol"))
        chase = line.get("chase") if line.get("k") == "chase" else line.get("parent")
        who = self.label(chase) or f"order {line.get('coi')}"
        what, detail = self.detail(line)
        row = (str(self._seq), (_stamp(int(line.get("t", 0))), f"{who} {symbol}", what, detail,
                                self.book(venue, symbol, line.get("top"))))  # fmt: skip
        self.rows.append(row)
        del self.rows[: -self.keep]
        if self.on_row is not None:
            self.on_row(*row)
        return row
