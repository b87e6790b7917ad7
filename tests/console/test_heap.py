"""The collector settings a long session runs with (``console.heap``)."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from console import heap
from tests.console.harness import make_desk, ready, settle


def test_settle_freezes_the_heap_and_sets_the_thresholds():
    saved = gc.get_threshold()
    try:
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > 1000
        assert gc.get_threshold() == heap.THRESHOLDS
    finally:
        heap.unsettle(saved)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == saved


def test_a_hold_keeps_the_collector_off_until_its_resume_and_only_the_outer_hold_counts():
    assert gc.isenabled()
    try:
        resume = heap.hold_collections()
        assert not gc.isenabled()
        inner = heap.hold_collections()  # the collector is already off: this one holds nothing
        inner()
        assert not gc.isenabled()
        resume()
        assert gc.isenabled()
        gc.disable()
        resume()  # a second resume does nothing
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_hold_the_app_leaves_behind_is_released_when_it_goes_away():
    assert gc.isenabled()
    try:
        heap.hold_collections()  # its release never comes (the loop stopped first)
        assert not gc.isenabled()
        heap.release_holds()
        assert gc.isenabled()
        heap.release_holds()  # nothing left to release
        assert gc.isenabled()
    finally:
        gc.enable()


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


ORDERS = 10


async def test_typing_orders_leaves_no_dead_widgets_styles_behind():
    """Widgets come and go (a dialog opened and closed; Textual's footer also recomposed its keys on every
    order typed, until ours drew one line); Textual's ``get_inner_outer`` cache kept each dead one's
    ``StylesCache`` (and its rendered lines) until 1,024 entries: here 115 caches for 65 widgets after 10
    orders and 10 help dialogs.  With ``heap.forget_dead_widgets`` only live widgets have one.
    (``python -m bench soak`` shows the whole heap over a long session.)"""
    from textual._styles_cache import StylesCache
    from textual.widget import Widget

    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        for _ in range(ORDERS):
            for key in ("escape", "b", "tab", "ctrl+u", *"0.001", "enter"):
                await pilot.press(key)
            await settle(desk, pilot)
            for order in desk.runtime.orders.open_orders():
                await desk.runtime.orders.cancel(order)
            await pilot.press("f1")  # a dialog's widgets, gone again on Escape
            await settle(desk, pilot)
            await pilot.press("escape")
            await settle(desk, pilot)
        assert len(desk.runtime.orders.orders) >= ORDERS  # the orders were typed and sent
        gc.collect()
        styles = sum(1 for o in gc.get_objects() if isinstance(o, StylesCache))
        widgets = sum(1 for o in gc.get_objects() if isinstance(o, Widget))
        assert styles <= widgets, f"{styles:,} StylesCaches for {widgets:,} widgets"


def _rss_mb() -> float:
    for line in open("/proc/self/status").read().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_trim_gives_back_the_free_pages_inside_glibcs_heap():
    """64 MB of 2 KiB blocks (glibc's, not CPython's arenas) freed under one still held at the top: free()
    gives back nothing (glibc trims only its top), ``malloc_trim`` gives back the pages in between."""
    trim = heap.trimmer()
    if trim is None:
        pytest.skip("not glibc")
    blocks = [bytes(2048) for _ in range(32_768)]
    top = bytes(2048)  # allocated last: the heap cannot shrink from its top past it
    del blocks
    before = _rss_mb()
    trim()
    assert before - _rss_mb() > 32, f"{before:.1f} -> {_rss_mb():.1f} MB"
    assert len(top) == 2048


async def test_a_long_session_trims_its_heap_beside_the_loop(monkeypatch):
    trimmed = threading.Event()
    threads: list[int] = []

    def trim() -> None:
        threads.append(threading.get_ident())
        trimmed.set()

    monkeypatch.setattr(heap, "settle", lambda: 0)
    monkeypatch.setattr(heap, "trimmer", lambda: trim)
    monkeypatch.setattr(heap, "TRIM_EVERY_S", 0.05)
    desk = make_desk(long_lived_heap=True)
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await ready(desk, pilot)
        assert await asyncio.to_thread(trimmed.wait, 30)
    assert threads and threads[0] != threading.get_ident()  # not on the event loop's thread
