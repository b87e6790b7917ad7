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


def _working_sources() -> list[str]:
    section = GUIDE.read_text(encoding="utf-8").split("## Working orders", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the guide's working-orders section lost an example"
    return blocks


async def _run_on_clock(clock, coro, limit_s: float):
    async def drive() -> None:
        while True:
            await clock.advance(0.05)
            await asyncio.sleep(0)

    driver = asyncio.create_task(drive())
    try:
        return await asyncio.wait_for(coro, limit_s)
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver


async def test_the_chase_variants_example_runs_and_reports(clock, tmp_path, capsys):
    namespace: dict = {"__name__": "strategy_guide_variants"}
    exec(compile(_working_sources()[0], str(GUIDE), "exec"), namespace)
    aggr, trail = await _run_on_clock(clock, namespace["variants"](journal_path=tmp_path / "j.sqlite3", clock=clock),
                                      60)  # fmt: skip
    assert aggr.params.aggressive and trail.params.trail
    assert aggr.is_done and aggr.filled_i == aggr.size_i
    assert aggr.avg_price_i <= aggr.params.limit_price_i  # the 0.2 % chase-to, folded into a price
    assert aggr.report.filled_i == aggr.filled_i and trail.is_done
    assert "slippage" in capsys.readouterr().out


async def test_the_scale_and_twap_example_runs(clock, tmp_path, capsys):
    namespace: dict = {"__name__": "strategy_guide_algos"}
    exec(compile(_working_sources()[1], str(GUIDE), "exec"), namespace)
    ladder, twap = await _run_on_clock(
        clock, namespace["working_orders"](journal_path=tmp_path / "j.sqlite3", clock=clock), 60
    )
    assert len(ladder.children) == 10 and sum(c.size_i for c in ladder.children) == ladder.size_i
    assert ladder.is_done and all(c.is_final for c in ladder.children)
    assert twap.is_done and twap.filled_i == twap.size_i and twap.report.children == 6
    assert "10 of 10 orders placed" in capsys.readouterr().out


def _funding_source() -> str:
    section = GUIDE.read_text(encoding="utf-8").split("## Funding, mark and liquidation distance", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the guide lost its funding code block"
    return match.group(1)


async def test_the_funding_example_reads_funding_and_the_distance_to_liquidation(clock, tmp_path, capsys):
    namespace: dict = {"__name__": "strategy_guide_funding"}
    exec(compile(_funding_source(), str(GUIDE), "exec"), namespace)
    f, p, to_liq = await _run_on_clock(clock, namespace["funding_report"](journal_path=tmp_path / "j.sqlite3", clock=clock), 10)
    assert f.symbol == "BTC" and f.interval_ms == 3_600_000 and type(f.rate_e8) is int
    assert p.size_i > 0 and p.liquidation_price_i < f.mark_price_i and to_liq < 0  # a long: liquidated lower
    out = capsys.readouterr().out
    assert "funding " in out and "% per 1h, next in " in out and f"({to_liq / 10_000:+.1f}%)" in out
