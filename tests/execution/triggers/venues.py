"""The four venues whose fakes hold native triggers, behind one shape, for the parametrized tests in
``test_native_venues.py`` (what differs per venue stays in its own ``test_<venue>_native.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.keys import load_key_file
from execution.runtime import Runtime

SYMBOL = "BTC"


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@dataclass(frozen=True)
class Venue:
    name: str
    engine_symbol: str
    """The fake's sim engine's name for BTC."""
    lot: str
    start_fake: Callable[[Path], Awaitable[Any]]
    connector: Callable[[Any, Path], Any]
    bracket_wire: Callable[[Any], None] = lambda fake: None
    """Venue-specific checks of what a whole-position bracket sent."""

    def __repr__(self) -> str:
        return self.name

    async def runtime(self, fake: Any, tmp_path: Path) -> Runtime:
        runtime = Runtime([self.connector(fake, tmp_path)], journal_path=tmp_path / "j.sqlite")
        await runtime.start()
        await until(lambda: runtime.market_data.mid_i(self.name, SYMBOL) is not None)
        return runtime

    async def long(self, runtime: Runtime) -> int:
        size_i = runtime.market_data.to_size_i(self.name, SYMBOL, self.lot)
        entry = await runtime.orders.submit_market(self.name, SYMBOL, is_ask=False, size_i=size_i)
        await entry.wait_final(timeout=5)
        await until(lambda: runtime.positions.size_i(self.name, SYMBOL) == size_i)
        return size_i

    def held(self, fake: Any) -> list[str]:
        """Kinds of the triggers the venue holds."""
        return sorted(s.kind for s in fake.engine.triggers.snapshots())

    def nothing_resting(self, fake: Any) -> bool:
        return not fake.engine.triggers and not getattr(fake, "algos", None)

    def move(self, fake: Any, ppm: int) -> None:
        """Move the venue's mid by ``ppm`` millionths (negative: down); the venue fires what it crosses."""
        mid = fake.engine.mid_i(self.engine_symbol)
        fake.engine.set_mid(self.engine_symbol, mid * (1_000_000 + ppm) // 1_000_000)


# -- the venues -----------------------------------------------------------------------------


async def _hyperliquid_fake(tmp_path: Path) -> Any:
    from tests.fakes.hyperliquid import FakeHyperliquid

    fake = await FakeHyperliquid(step_s=0.02).start()
    fake.write_key_file(tmp_path / "hl.toml")
    return fake


def _hyperliquid(fake: Any, tmp_path: Path) -> Any:
    from connector.hyperliquid.connector import HyperliquidConnector

    return HyperliquidConnector(base_url=fake.base_url, keys=load_key_file(tmp_path / "hl.toml", venue="hyperliquid"))


async def _lighter_fake(tmp_path: Path) -> Any:
    from tests.fakes.lighter import FakeLighter, write_key_file

    fake = await FakeLighter(step_s=0.02).start()
    write_key_file(tmp_path / "lighter.toml", account_index=fake.account_index, api_key_index=fake.api_key_index)
    return fake


def _lighter(fake: Any, tmp_path: Path) -> Any:
    from connector.lighter.connector import LighterConnector

    return LighterConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=load_key_file(tmp_path / "lighter.toml"))


async def _backpack_fake(tmp_path: Path) -> Any:
    from tests.fakes.backpack import FakeBackpack

    fake = await FakeBackpack(step_s=0.02).start()
    fake.write_key_file(tmp_path / "backpack.toml")
    return fake


def _backpack(fake: Any, tmp_path: Path) -> Any:
    from connector.backpack.connector import BackpackConnector

    return BackpackConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=load_key_file(tmp_path / "backpack.toml", venue="backpack"),
        reconnect_min_s=0.02, reconnect_max_s=0.1, requests_per_s=1000, burst=1000,
    )  # fmt: skip


def _backpack_wire(fake: Any) -> None:
    bodies = [body for method, path, body in fake.requests if path == "/api/v1/order" and method == "POST"]
    assert {b["triggerQuantity"] for b in bodies if "triggerPrice" in b} == {"100%"}  # the whole position


async def _binance_fake(tmp_path: Path) -> Any:
    from tests.fakes.binance_usdm import FakeBinanceUsdm

    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, mark_interval_s=0.2).start()
    fake.write_key_file(tmp_path / "binance-usdm.toml")
    return fake


def _binance(fake: Any, tmp_path: Path) -> Any:
    from connector.binance_usdm.connector import BinanceUsdmConnector

    keys = load_key_file(tmp_path / "binance-usdm.toml", venue="binance-usdm")
    return BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, account_refresh_s=0.05)


def _binance_wire(fake: Any) -> None:
    assert {r["orderType"] for r in fake.algos.values()} == {"STOP_MARKET", "TAKE_PROFIT_MARKET"}
    assert all(r["closePosition"] for r in fake.algos.values())  # the whole position


HYPERLIQUID = Venue("hyperliquid", "BTC", "0.01", _hyperliquid_fake, _hyperliquid)
LIGHTER = Venue("lighter", "BTC-PERP", "0.01", _lighter_fake, _lighter)
BACKPACK = Venue("backpack", "BTC_USDC_PERP", "0.01", _backpack_fake, _backpack, _backpack_wire)
BINANCE_USDM = Venue("binance-usdm", "BTCUSDT", "0.1", _binance_fake, _binance, _binance_wire)
ALL = [HYPERLIQUID, LIGHTER, BACKPACK, BINANCE_USDM]
