"""on_hangup = "leave": the venue's dead-man switch stays armed when a dropped session stops the
runtime (orders left behind do not rest forever); every other way out disarms it as before."""

from __future__ import annotations

import pytest

from tests.console.harness import make_desk, ready
from tests.console.test_quit import rest_an_order


def _with_a_dead_man_switch(desk) -> list[float | None]:
    """The fake venue declares a dead-man switch; returns the timeouts it is sent (None: disarm)."""
    calls: list[float | None] = []

    async def schedule_cancel_all(after_s):
        calls.append(after_s)

    desk.venue.capabilities = frozenset({"dead_man_switch"})
    desk.venue.schedule_cancel_all = schedule_cancel_all
    return calls


async def test_a_hangup_that_leaves_orders_leaves_the_dead_man_switch_armed_and_logs_it():
    desk = make_desk()
    calls = _with_a_dead_man_switch(desk)
    records = []
    desk.runtime.reconciler.add_listener(records.append)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        assert calls and calls[-1] == 60.0
        await rest_an_order(desk, pilot)
        await desk.app.hang_up("SIGHUP")
        await pilot.pause()
    assert not desk.runtime.started
    assert None not in calls  # never disarmed
    assert any(r.subject == "dead-man switch" and r.change == "left armed" for r in records)


@pytest.mark.parametrize("how", ["q", "hangup-cancel"])
async def test_other_ways_out_disarm_it(how):
    desk = make_desk(on_hangup="cancel" if how == "hangup-cancel" else "leave")
    calls = _with_a_dead_man_switch(desk)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        if how == "q":
            await pilot.press("q")
            await pilot.pause()
            await desk.app.workers.wait_for_complete()
        else:
            await rest_an_order(desk, pilot)
            await desk.app.hang_up("SIGTERM")
            await pilot.pause()
    assert not desk.runtime.started
    assert calls[-1] is None
