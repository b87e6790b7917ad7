"""A recorded paper session on the Hyperliquid fake with one chase that reprices and ends, for the
story (``chase`` / ``order`` lines) tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from connector.factory import create_connector
from connector.record.recorder import Recorder
from connector.transport import tap
from console.story import StoryRecorder
from execution.runtime import Runtime
from tests.fakes.hyperliquid import FakeHyperliquid

VENUE = "hyperliquid"
OFFSET_TICKS = 30
"""The chase rests this far behind the bid: the fake's book moves a few ticks a step, so it follows
the bid without being filled (a fill before the reprices means another try)."""


async def _until(predicate: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def record_chase_session(
    path: Path, *, reprices: int = 2, timeout_s: float = 0.8, attempts: int = 5
) -> dict[str, Any]:
    """Record a paper console's session on the fake (its book moves every 50 ms) while a buy chase
    follows the bid, repricing, until its timeout ends it (a chase that fills first, or repriced fewer
    than ``reprices`` times, is tried again, up to ``attempts``).  Returns ``chase`` (the id of the chase that did) and ``events``
    (its events as the runtime saw them)."""
    fake = await FakeHyperliquid(step_s=0.05).start()
    urls = {"base_url": fake.base_url, "ws_url": fake.ws_url}
    recorder = Recorder(path, meta={"venues": {VENUE: urls}, "paper": True}).install()
    try:
        conn = create_connector(VENUE, paper=True, **urls)
        runtime = Runtime({VENUE: conn}, journal_path=":memory:", settings={"dead_man_switch": False})
        story = StoryRecorder(recorder, runtime)
        await runtime.start()
        try:
            await _until(lambda: None not in runtime.market_data.top_of_book(VENUE, "BTC"))
            for _ in range(attempts):
                chase = await runtime.tracking.start(
                    VENUE, "BTC", is_ask=False, size_i=runtime.market_data.market(VENUE, "BTC").min_size_i,
                    offset_ticks=OFFSET_TICKS, min_reprice_interval_ms=10, timeout_s=timeout_s, end_action="cancel",
                )  # fmt: skip
                await _until(lambda c=chase: c.is_done)
                if chase.reprices >= reprices and chase.end_reason == "timeout":
                    break
            else:
                raise AssertionError(f"no chase repriced {reprices} times before its timeout")
            await asyncio.sleep(0.2)  # a few frames after the end
        finally:
            story.detach()
            await runtime.stop()
    finally:
        recorder.uninstall()
        await fake.stop()
    assert tap.current() is None
    return {"chase": chase.id, "events": list(chase.events)}
