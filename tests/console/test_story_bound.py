"""The story recorder remembers a bounded number of closed orders (issue 18, the soak)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from console.once import KEEP
from console.story import StoryLog, StoryRecorder


class _Hub:
    def __init__(self) -> None:
        self.fns: list[Any] = []

    def add_listener(self, fn: Any) -> None:
        self.fns.append(fn)

    def remove_listener(self, fn: Any) -> None:
        self.fns.remove(fn)


def _order(coi: int, state: str) -> SimpleNamespace:
    return SimpleNamespace(
        venue="sim", symbol="BTC", client_order_index=coi, order_id=f"v{coi}", parent_id=None, is_ask=False,
        kind="limit", price_i=100, size_i=1, filled_i=0, state=state, reason="", updated_ms=0,
        is_final=state in ("CANCELED", "FILLED"),
    )  # fmt: skip


def test_closed_orders_beyond_the_bound_are_forgotten_live_ones_kept():
    lines: list[tuple[str, dict]] = []
    recorder = SimpleNamespace(story=lambda kind, fields: lines.append((kind, fields)))
    orders = _Hub()
    story = StoryRecorder(recorder, SimpleNamespace(tracking=_Hub(), orders=orders), keep_closed=10)
    (announce,) = orders.fns
    announce(_order(0, "OPEN"))  # stays open throughout
    for coi in range(1, 501):
        announce(_order(coi, "OPEN"))
        announce(_order(coi, "OPEN"))  # a repeated announcement is not written
        announce(_order(coi, "CANCELED"))
    assert len(lines) == 1 + 2 * 500
    assert len(story._last) == 1 + 10  # the open order and the last 10 closed
    assert ("sim", 0) in story._last
    announce(_order(500, "CANCELED"))  # a recent closed one announced again: still skipped
    assert len(lines) == 1 + 2 * 500


def test_the_replay_tab_remembers_a_bounded_number_of_chases_and_orders():
    md = SimpleNamespace(
        top_of_book=lambda venue, symbol: (None, None),
        format_price=lambda venue, symbol, p: str(p),
        format_size=lambda venue, symbol, s: str(s),
    )
    log = StoryLog(md, keep=10)  # type: ignore[arg-type]
    shown = {"k": "chase", "venue": "sim", "symbol": "BTC", "chase": "shown", "what": "placed", "t": 0}
    for i in range(KEEP + 10):
        log.tell(shown)  # a chase still working tells something every so often
        log.tell({"k": "chase", "venue": "sim", "symbol": "BTC", "chase": f"c{i}", "what": "placed", "t": i})
        log.tell({"k": "order", "venue": "sim", "symbol": "BTC", "coi": i, "state": "OPEN", "price_i": 1, "t": i})
    assert len(log.labels) <= KEEP and len(log._orders) <= KEEP and len(log.rows) == 10
    assert log.label("shown") == "#1"
