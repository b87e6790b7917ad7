"""Enter in the order form hands the order to execution before the screen changes (issue 18, the keys).

Counts and orderings, never times: between the app taking the Enter key and the order's send no message
is dispatched anywhere (no hop through the form's or the screen's queues), the send comes before the
focus move, and execution is asked to place it before any layout pass or composed frame.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from textual import events
from textual.message_pump import MessagePump

from tests.console.harness import make_desk, ready, settle


class Trace:
    def __init__(self) -> None:
        self.on = False
        self.seen: list[str] = []

    def note(self, what: str) -> None:
        if self.on:
            self.seen.append(what)

    def before(self, first: str, then: str) -> bool:
        return first in self.seen and (then not in self.seen or self.seen.index(first) < self.seen.index(then))


def traced(desk: Any, monkeypatch: pytest.MonkeyPatch) -> Trace:
    trace = Trace()
    app, screen, orders = desk.app, desk.main, desk.runtime.orders
    dispatch = MessagePump._dispatch_message

    async def noted_dispatch(self: MessagePump, message: Any) -> Any:
        if not isinstance(message, events.Key | events.Idle):
            trace.note(f"message {type(message).__name__}")
        return await dispatch(self, message)

    monkeypatch.setattr(MessagePump, "_dispatch_message", noted_dispatch)
    check_bindings = app._check_bindings

    async def noted_check_bindings(key: str, priority: bool = False) -> bool:
        if key == "enter" and priority:
            trace.note("enter")
        return await check_bindings(key, priority)

    def wrap(owner: Any, name: str, what: str) -> None:
        original = getattr(owner, name)

        def noted(*args: Any, **kwargs: Any) -> Any:
            trace.note(what)
            return original(*args, **kwargs)

        setattr(owner, name, noted)

    app._check_bindings = noted_check_bindings
    wrap(screen, "_send_ticket", "send")
    wrap(screen, "_place_ticket", "worker")
    wrap(screen, "set_focus", "focus")
    wrap(screen, "_refresh_layout", "layout")
    wrap(screen, "_compositor_refresh", "frame")
    wrap(orders, "submit_limit", "place")
    return trace


async def press_enter(app: Any) -> None:
    """Enter as the driver delivers it, waited for on the app's own queue only (Pilot's waits post a
    callback to every widget, the field included: one would be waiting on the field when Enter comes)."""
    app.post_message(events.Key("enter", "\r"))
    handled = asyncio.Event()
    app.call_later(handled.set)
    await asyncio.wait_for(handled.wait(), 10)


async def type_order(pilot: Any, size: str) -> None:
    for key in ("escape", "b", "tab", "ctrl+u", *size):
        await pilot.press(key)


async def test_enter_sends_the_order_before_any_hop_focus_move_or_layout(monkeypatch):
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        trace = traced(desk, monkeypatch)
        for n in range(1, 6):
            await type_order(pilot, "0.01")
            await settle(desk, pilot)
            trace.seen.clear()
            trace.on = True
            await press_enter(desk.app)
            await settle(desk, pilot)
            trace.on = False
            seen = trace.seen
            assert seen[0] == "enter", seen
            assert seen[1] == "send", f"something ran between Enter and the send: {seen[:6]}"
            assert trace.before("send", "focus"), f"focus moved before the order went: {seen}"
            assert trace.before("place", "layout") and trace.before("place", "frame"), seen
            assert desk.app.focused is desk.main._markets, "focus is back on the desk"
            assert len(desk.venue.requests) == n


async def test_keys_still_waiting_on_the_field_are_read_before_the_send(monkeypatch):
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await type_order(pilot, "0.0")
        await settle(desk, pilot)
        trace = traced(desk, monkeypatch)
        trace.on = True
        # one read from the terminal: the app hands the 1 to the field and takes Enter before the field runs
        desk.app.post_message(events.Key("1", "1"))
        await press_enter(desk.app)
        await settle(desk, pilot)
        seen = trace.seen
        assert seen.index("focus") < seen.index("send"), "focus left at once (the keys after Enter are the desk's)"
        between = seen[seen.index("enter") + 1 : seen.index("send")]
        assert between[-1] == "message Callback", f"the send runs in the callback on the field's queue: {between}"
        assert set(between) <= {"focus", "message Callback", "message Blur"}, f"no other hop: {between}"
        [request] = desk.venue.requests
        assert request[0] == "limit" and request[3] == 100, "the 1 typed before Enter is in the size"


async def test_leaving_the_form_restyles_nothing_inside_set_focus_and_the_border_still_follows_focus():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        entry, screen = desk.main.query_one("#entry"), desk.main
        await type_order(pilot, "0.01")
        await settle(desk, pilot)
        assert entry.has_class("-active"), "the accent border while focus is in the form"
        restyled: list[int] = []
        update_nodes = desk.app.stylesheet.update_nodes

        def counted(nodes: Any, animate: bool = False) -> None:
            nodes = list(nodes)
            restyled.append(len(nodes))
            update_nodes(nodes, animate=animate)

        desk.app.stylesheet.update_nodes = counted
        screen.set_focus(screen._markets)  # what Enter does once the order is handed over
        assert restyled == [], f"set_focus restyled {restyled} nodes before returning"
        desk.app.stylesheet.update_nodes = update_nodes
        await settle(desk, pilot)
        assert not entry.has_class("-active"), "the border goes back once focus has left"


async def test_a_frame_due_in_the_same_loop_turn_waits_for_the_request(monkeypatch):
    """Under a streaming book a layout pass and a frame are often due in the very loop turn that handles
    Enter; the order's worker runs on the next one.  The screen is held until it has placed the order."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        screen = desk.main
        trace = traced(desk, monkeypatch)
        loop = asyncio.get_running_loop()

        def due_frame() -> None:  # what the screen's update timer does when it fires
            screen.refresh(layout=True)
            screen._on_timer_update()

        for n in range(1, 4):
            await type_order(pilot, "0.01")
            await settle(desk, pilot)
            trace.seen.clear()
            trace.on = True
            desk.app.post_message(events.Key("enter", "\r"))
            loop.call_soon(due_frame)  # in the turn that handles Enter, after the app's step
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            await settle(desk, pilot)
            trace.on = False
            seen = trace.seen
            assert trace.before("place", "layout") and trace.before("place", "frame"), seen
            assert "frame" in seen[seen.index("place") :], "the screen is painted once the order is out"
            assert len(desk.venue.requests) == n
        assert desk.app._batch_count == 0


async def test_no_garbage_collection_between_the_send_and_the_request(monkeypatch):
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        trace = traced(desk, monkeypatch)

        def noted(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                trace.note("gc")

        saved = gc.get_threshold()
        gc.callbacks.append(noted)
        try:
            for n in range(1, 4):
                await type_order(pilot, "0.01")
                await settle(desk, pilot)
                trace.seen.clear()
                trace.on = True
                gc.set_threshold(1)  # a young pass at nearly every allocation, unless held
                await press_enter(desk.app)
                await settle(desk, pilot)
                gc.set_threshold(*saved)
                trace.on = False
                seen = trace.seen
                between = seen[seen.index("worker") : seen.index("place")]  # from the order's worker being made
                assert "gc" not in between, f"a collection ran between the send and the request: {between}"
                assert "gc" in seen[seen.index("place") :], "the pass that was due runs once the request is out"
                assert gc.isenabled() and len(desk.venue.requests) == n
        finally:
            gc.set_threshold(*saved)
            gc.callbacks.remove(noted)


async def test_form_labels_set_to_the_text_they_show_ask_for_no_layout_pass(monkeypatch):
    from textual.widgets import Static

    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        entry = desk.main.query_one("#entry")
        await type_order(pilot, "0.01")
        await settle(desk, pilot)
        asked: list[str | None] = []
        refresh = Static.refresh

        def noted(self: Static, *regions: Any, **kwargs: Any) -> Any:
            if kwargs.get("layout") and entry in self.ancestors:
                asked.append(self.id)
            return refresh(self, *regions, **kwargs)

        monkeypatch.setattr(Static, "refresh", noted)
        entry.set_side(False)  # the side it already has: the mode line, size label and hint are unchanged
        entry.show_errors({})
        entry.show_hint()
        entry.show_hint()
        assert asked.count("entry-summary") <= 1, asked
        assert [a for a in asked if a != "entry-summary"] == [], asked
