"""The story recorder remembers a bounded number of closed orders (issue 18, the soak)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from console.story import StoryRecorder


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
