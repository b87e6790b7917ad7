"""A field's bound keys (Backspace, Ctrl+U, a form's F2) act in the order typed, and Tab in the chase form
moves focus before the keys after it are taken (``console.widgets.field``): each burst is one read from
the terminal, as a fast typist or an SSH link delivers it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual import events
from textual.pilot import Pilot

from console.screens.chase_form import ChaseForm
from tests.console.harness import Desk, make_desk, ready, settle
from tests.console.test_fast_keys import burst


def _keys(app, *keys: str) -> None:
    """Named keys and text, all queued at once: ``"ctrl+u"``, ``"backspace"``… or a run of characters."""
    control = {"ctrl+u": "\x15", "backspace": "\x7f", "left": None, "home": None, "f2": None, "f3": None}
    for key in keys:
        if key in control:
            app.post_message(events.Key(key, control[key]))
        else:
            burst(app, key)


async def _settled(desk, pilot) -> None:
    for _ in range(3):
        await settle(desk, pilot)


@asynccontextmanager
async def _chase_form_open() -> AsyncIterator[tuple[Desk, Pilot, ChaseForm]]:
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(desk.app.screen, ChaseForm)
        yield desk, pilot, desk.app.screen


async def _the_chase_started(desk, pilot):
    """The one chase the form started, once its first step has run."""
    await _settled(desk, pilot)
    await desk.clock.advance(0.5)
    await settle(desk, pilot)
    [chase] = desk.runtime.tracking.chases.values()
    return chase


async def test_backspace_and_ctrl_u_typed_fast_edit_the_size_in_order():
    """Before: ``0.05⌫1`` left 0.05 (the 1 typed, then deleted) and ``Ctrl+U 0.02`` left the field empty."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "tab")
        await settle(desk, pilot)
        size = desk.app.focused
        assert size.id == "size"
        _keys(desk.app, "0.05", "backspace", "1")
        await _settled(desk, pilot)
        assert size.value == "0.01"
        _keys(desk.app, "ctrl+u", "0.02")
        await _settled(desk, pilot)
        assert size.value == "0.02"
        _keys(desk.app, "home", "1", "left", "backspace")
        await _settled(desk, pilot)
        assert size.value == "10.02", "home, left and backspace ran after the keys typed behind them"


async def test_ctrl_u_then_a_size_and_enter_in_one_read_starts_the_chase_typed():
    """Before: the chase started with size 1 (or not at all): Ctrl+U ran after "0.0" had been typed."""
    async with _chase_form_open() as (desk, pilot, _form):
        _keys(desk.app, "9", "ctrl+u", "0.01\r")
        chase = await _the_chase_started(desk, pilot)
        assert chase.size_i == 100, f"size {chase.size_i}"


async def test_tab_in_the_chase_form_sends_the_keys_after_it_to_the_next_field():
    """Before: ``0.05⇥64000`` typed fast made the size 0.0564000 and left the limit empty."""
    async with _chase_form_open() as (desk, pilot, form):
        _keys(desk.app, "ctrl+u", "0.05\t64000")
        await _settled(desk, pilot)
        assert form.query_one("#chase-size").value == "0.05"
        assert form.query_one("#chase-limit").value == "64000"


async def test_f2_then_the_size_and_enter_in_one_read_starts_the_side_chosen():
    """Before: F2 (side) ran after Enter had read the form, so the chase went the other way."""
    async with _chase_form_open() as (desk, pilot, form):
        assert not form.is_ask
        _keys(desk.app, "f2", "ctrl+u", "0.01\r")
        chase = await _the_chase_started(desk, pilot)
        assert chase.is_ask and chase.size_i == 100


async def test_keys_typed_right_behind_t_fill_the_chase_form_in_order():
    """Before: they reached the form before a field had focus: the size came out empty and the limit
    ``600001`` (the Backspace lost), the form's own later focus taking the size field back."""
    desk = make_desk()
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await ready(desk, pilot)
        _keys(desk.app, "t9", "ctrl+u", "0.02\t60000", "backspace", "1")
        await _settled(desk, pilot)
        form = desk.app.screen
        assert isinstance(form, ChaseForm)
        assert form.query_one("#chase-size").value == "0.02"
        assert form.query_one("#chase-limit").value == "60001"
        assert form.focused is form.query_one("#chase-limit")


async def test_b_f3_and_a_size_in_one_read_send_a_market_order_of_that_size():
    """F3 (market) is a priority key that moves focus to the size at once.  Before, the size went into the
    price field F3 hides and focus was left on nothing (``has_focus`` lags a turn behind ``b``): nothing
    was sent, the default size (0.01) still in the size field for the next Enter."""
    desk = make_desk(sizes={"BTC": "0.01"})
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        _keys(desk.app, "b", "f3", "0.05\r")
        await _settled(desk, pilot)
        await desk.clock.advance(0.05)
        await settle(desk, pilot)
        assert desk.venue.requests == [("market", "BTC-PERP", 1700000000000, 500, False, False)]
