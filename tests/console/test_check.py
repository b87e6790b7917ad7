"""``perpdesk check`` prints what a trader needs to trust a venue before opening the screen:
its markets with the top of book, the account, and each open position."""

from __future__ import annotations

from connector.clock import VirtualClock
from console.cli import _check_runtime
from execution.runtime import Runtime
from tests.console.fakes import FakeVenue


async def test_check_prints_top_of_book_account_and_positions(capsys):
    clock = VirtualClock()
    venue = FakeVenue(clock)
    venue.set_position("ETH-PERP", -1500, 345_100)
    runtime = Runtime([venue], clock=clock)
    assert await _check_runtime(runtime, 5) == 0
    out = capsys.readouterr().out.splitlines()
    assert "sim: connected, 3 markets (BTC, ETH, SOL)" in out
    assert "  BTC      bid      64950.4  ask      64950.6" in out
    assert "  SOL      bid      152.340  ask      152.350" in out
    assert "  position ETH SHORT 1.500 @ 3451.00" in out
    assert not runtime.started


async def test_check_reports_an_unreadable_top_of_book_goes_on_and_fails(capsys):
    clock = VirtualClock()
    venue = FakeVenue(clock)

    async def broken(symbol: str):
        raise TimeoutError("no answer")

    venue.get_top_of_book = broken
    runtime = Runtime([venue], clock=clock)
    assert await _check_runtime(runtime, 5) == 1
    out = capsys.readouterr().out
    assert "BTC      top of book not readable (no answer)" in out and "equity" in out
