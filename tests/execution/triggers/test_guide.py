"""The protective-orders example in docs/STRATEGY_GUIDE.md runs on virtual time and does what the text says."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import pytest

from execution.triggers import TriggerState

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "STRATEGY_GUIDE.md"


def _source() -> str:
    section = GUIDE.read_text(encoding="utf-8").split("## Protective orders", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the guide lost its protective-orders code block"
    return match.group(1)


@pytest.mark.parametrize("emulate", [False, True])
async def test_the_protective_orders_example_runs_against_the_sim(clock, tmp_path, capsys, emulate, monkeypatch):
    namespace: dict = {"__name__": "strategy_guide_triggers"}
    exec(compile(_source(), str(GUIDE), "exec"), namespace)
    if emulate:  # the same example, every trigger held by perpdesk
        runtime_cls = namespace["Runtime"]
        monkeypatch.setitem(namespace, "Runtime", lambda *a, **kw: runtime_cls(
            *a, settings={"triggers": {"force_emulation": True}}, **kw))  # fmt: skip

    async def drive() -> None:
        while True:
            await clock.advance(0.05)
            await asyncio.sleep(0)

    driver = asyncio.create_task(drive())
    try:
        bracket, trail = await asyncio.wait_for(namespace["protect"](journal_path=tmp_path / "j.sqlite3", clock=clock), 60)
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
    fired = bracket.fired
    assert fired is not None and fired.state is TriggerState.DONE and fired.end_reason == "filled"
    other = bracket.take_profit if fired is bracket.stop else bracket.stop
    assert other.state is TriggerState.CANCELLED and trail.state is TriggerState.CANCELLED
    assert trail.native is not emulate
    out = capsys.readouterr().out
    assert "armed: ARMED ARMED" in out and "position: 0.000" in out
    assert ("emulated" if emulate else "native") in out
