"""Builds a console on the fake venue in virtual time, for Pilot and snapshot tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from connector.clock import VirtualClock
from console.app import PerpdeskApp
from console.screens.main import MainScreen
from execution.runtime import Runtime
from tests.console.fakes import FakeVenue


@dataclass
class Desk:
    app: PerpdeskApp
    venue: FakeVenue
    runtime: Runtime
    clock: VirtualClock

    @property
    def main(self) -> MainScreen:
        """The desk's screen: its painter (``flush``, ``refresh_status``), ``selected`` market and notices."""
        return self.app.main_screen


def make_desk(*, seed: int = 7, second_venue: bool = False, **app_options) -> Desk:
    """A console on the fake venue; ``second_venue`` adds a venue ``alt`` listing the same markets
    with its prices a little higher."""
    clock = VirtualClock()
    venue = FakeVenue(clock, seed=seed)
    venues = {"sim": venue}
    if second_venue:
        alt = FakeVenue(clock, seed=seed + 1)
        alt.venue = "alt"
        alt.mids = {k: v + 3 * (5 if k == "SOL-PERP" else 1) for k, v in alt.mids.items()}
        venues["alt"] = alt
    runtime = Runtime(venues, clock=clock)
    app = PerpdeskApp(runtime, clock=clock, **app_options)
    return Desk(app, venue, runtime, clock)


async def ready(desk: Desk, pilot, *, ticks: int = 3) -> None:
    """Wait for the runtime to start, move the market a little, paint one frame."""
    await asyncio.wait_for(desk.app.ready.wait(), 30)
    desk.venue.tick(ticks)
    await settle(desk, pilot)


async def settle(desk: Desk, pilot) -> None:
    """Let workers finish their awaits, then paint one frame and let it render."""
    for _ in range(3):
        await pilot.pause()
        await desk.app.workers.wait_for_complete()
    desk.main.flush()
    desk.main.refresh_status()
    await pilot.pause()  # the notices that flush raised reach the app (a Notify message) before they are cleared
    desk.app.clear_notifications()
    await pilot.pause()
