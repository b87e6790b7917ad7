"""The collector settings a long session runs with (``console.heap``)."""

from __future__ import annotations

import asyncio
import gc

from console import heap
from tests.console.harness import make_desk, ready


def test_settle_freezes_the_heap_and_sets_the_thresholds():
    saved = gc.get_threshold()
    try:
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > 1000
        assert gc.get_threshold() == heap.THRESHOLDS
    finally:
        heap.unsettle(saved)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == saved


async def test_the_console_settles_its_heap_once_the_first_market_is_painted(monkeypatch):
    settled = asyncio.Event()
    monkeypatch.setattr(heap, "settle", settled.set)
    desk = make_desk(long_lived_heap=True)
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await ready(desk, pilot)
        await asyncio.wait_for(settled.wait(), 5)


async def test_a_console_in_a_test_leaves_the_collector_alone(monkeypatch):
    calls = []
    monkeypatch.setattr(heap, "settle", lambda: calls.append(1))
    desk = make_desk()
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await ready(desk, pilot)
    assert calls == []
