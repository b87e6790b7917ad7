"""Issue 12, defect 4 in the console: an order refused because the venue is disconnected offers
"send anyway" behind a confirmation that only the send key again or Enter on its button gives."""

from __future__ import annotations

from connector.interface import ConnectionState
from console.screens.dialogs import DestructiveScreen
from tests.console.harness import make_desk, ready, settle


async def refused_order(desk, pilot) -> None:
    await ready(desk, pilot)
    desk.venue.set_connection("book", ConnectionState.DISCONNECTED, "socket closed")
    await pilot.press("b", "tab", *"0.01", "enter")
    await settle(desk, pilot)
    assert desk.venue.requests == []
    assert isinstance(desk.app.screen, DestructiveScreen)


async def test_f9_again_sends_anyway_and_y_does_not():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await refused_order(desk, pilot)
        await pilot.press("y")  # no letter confirms
        await settle(desk, pilot)
        assert desk.venue.requests == [] and isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("f9")
        await settle(desk, pilot)
        assert not isinstance(desk.app.screen, DestructiveScreen)
        [req] = desk.venue.requests
        assert req[0] == "limit" and req[3] == 100


async def test_enter_on_the_button_sends_anyway_and_escape_sends_nothing():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await refused_order(desk, pilot)
        await pilot.press("escape")
        await settle(desk, pilot)
        assert desk.venue.requests == [] and not isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("b", "tab", *"0.01", "enter")
        await settle(desk, pilot)
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("tab", "enter")  # from "Stay" to "Send anyway"
        await settle(desk, pilot)
        assert len(desk.venue.requests) == 1


async def test_a_chase_refused_for_a_disconnected_venue_is_offered_again_and_f9_starts_it():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        desk.venue.set_connection("book", ConnectionState.DISCONNECTED, "socket closed")
        await pilot.press("t", *"0.01", "enter")
        await settle(desk, pilot)
        assert desk.runtime.tracking.chases == {} and desk.venue.requests == []
        assert isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("y")  # no letter confirms
        await settle(desk, pilot)
        assert desk.runtime.tracking.chases == {} and isinstance(desk.app.screen, DestructiveScreen)
        await pilot.press("f9")
        await settle(desk, pilot)
        await desk.clock.advance(0.5)
        await settle(desk, pilot)
        [chase] = desk.runtime.tracking.chases.values()
        assert not chase.is_ask and chase.size_i == 100
        assert not isinstance(desk.app.screen, DestructiveScreen)
