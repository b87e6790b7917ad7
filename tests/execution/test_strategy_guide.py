"""The runnable example in docs/STRATEGY_GUIDE.md runs, on virtual time, and does what the text says."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

from connector.interface import OrderStatus

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "STRATEGY_GUIDE.md"


def _example_source() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## A complete example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the guide lost its example code block"
    return match.group(1)


async def test_the_strategy_guide_example_runs_against_the_sim(clock, tmp_path, capsys):
    namespace: dict = {"__name__": "strategy_guide_example"}
    exec(compile(_example_source(), str(GUIDE), "exec"), namespace)

    async def drive() -> None:
        while True:
            await clock.advance(0.05)
            await asyncio.sleep(0)

    driver = asyncio.create_task(drive())
    try:
        bid, buy = await asyncio.wait_for(namespace["main"](journal_path=tmp_path / "j.sqlite3", clock=clock), 10)
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
    assert bid.state == OrderStatus.CANCELLED
    assert buy.state == OrderStatus.FILLED and buy.filled_i == buy.size_i
    out = capsys.readouterr().out
    assert "resting: OPEN" in out and "cancelled: CANCELLED" in out and "position: 0.0100" in out


def _chase_source() -> str:
    section = GUIDE.read_text(encoding="utf-8").split("## The tracking limit", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the guide lost its tracking-limit code block"
    return match.group(1)


async def test_the_tracking_limit_example_runs_and_fills_within_its_limit(clock, tmp_path):
    namespace: dict = {"__name__": "strategy_guide_chase"}
    exec(compile(_chase_source(), str(GUIDE), "exec"), namespace)

    async def drive() -> None:
        while True:
            await clock.advance(0.05)
            await asyncio.sleep(0)

    driver = asyncio.create_task(drive())
    try:
        chase = await asyncio.wait_for(namespace["chase"](journal_path=tmp_path / "j.sqlite3", clock=clock), 30)
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
    assert chase.is_done and chase.filled_i == chase.size_i
    assert chase.avg_price_i <= chase.params.limit_price_i
