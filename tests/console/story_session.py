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


async def _until(predicate: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def record_chase_session(path: Path, *, reprices: int = 2, attempts: int = 5) -> dict[str, Any]:
    """Record a paper console's session on the fake (its book moves every 50 ms) while a buy chase
    joins the bid, follows it ``reprices`` times and is then cancelled (a chase that fills first is
    tried again, up to ``attempts``).  Returns ``chase`` (the id of the chase that did) and ``events``
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
                    offset_ticks=1, min_reprice_interval_ms=10,
                )  # fmt: skip
                await _until(lambda c=chase: c.reprices >= reprices or c.is_done)
                if chase.is_done:
                    continue
                await chase.cancel()
                await _until(lambda c=chase: c.is_done)
                break
            else:
                raise AssertionError("no chase repriced twice before it filled")
            await asyncio.sleep(0.2)  # a few frames after the end
        finally:
            story.detach()
            await runtime.stop()
    finally:
        recorder.uninstall()
        await fake.stop()
    assert tap.current() is None
    return {"chase": chase.id, "events": list(chase.events)}
