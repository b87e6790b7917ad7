"""``runtime.leverage``: leverage and margin mode per market on the sim and on Hyperliquid (its fake)."""

from __future__ import annotations

import asyncio

import pytest

from connector.errors import InvalidOrder
from connector.hyperliquid.connector import HyperliquidConnector
from connector.interface import SupportsLeverage
from connector.keys import load_key_file
from connector.sim.connector import SimConnector
from execution.runtime import Runtime
from tests.fakes.hyperliquid import FakeHyperliquid


async def test_the_sim_sets_leverage_its_margin_follows_and_the_mode_is_kept_between_calls(tmp_path):
    sim = SimConnector(seed=7)
    assert isinstance(sim, SupportsLeverage) and "leverage" in sim.capabilities
    runtime = Runtime([sim], journal_path=tmp_path / "j.sqlite")
    await runtime.start()
    try:
        # read from the venue at start: nothing configured yet, so each market's maximum and cross
        assert runtime.leverage.get("sim", "BTC").short == "20x cross"
        assert runtime.leverage.get("sim", "SOL").short == "10x cross"
        seen = []
        runtime.leverage.add_listener(seen.append)
        venue_symbol = runtime.market_data.venue_symbol("sim", "BTC")
        s = await runtime.leverage.set_leverage("sim", "BTC", 5)
        assert (s.leverage, s.mode) == (5, "cross") and sim.engine.account.leverage[venue_symbol] == 5
        s = await runtime.leverage.set_margin_mode("sim", "BTC", cross=False)
        assert (s.leverage, s.mode) == (5, "isolated") and sim.margin_modes[venue_symbol] == "isolated"
        s = await runtime.leverage.set_leverage("sim", "BTC", 3)
        assert (s.leverage, s.mode) == (3, "isolated")  # the mode stays as it was
        assert runtime.leverage.get("sim", "BTC") == s and seen[-1] == s and len(seen) == 3
        max_lev = runtime.market_data.market("sim", "BTC").max_leverage
        for bad in (0, max_lev + 1):
            with pytest.raises(InvalidOrder, match="leverage is 1 to"):
                await runtime.leverage.set_leverage("sim", "BTC", bad)
        with pytest.raises(InvalidOrder):
            await runtime.leverage.set_leverage("sim", "BTC", 2.0)  # type: ignore[arg-type]
        assert sim.engine.account.leverage[venue_symbol] == 3
    finally:
        await runtime.stop()


async def test_hyperliquid_sends_update_leverage_and_reports_the_mode_on_the_position(tmp_path):
    fake = await FakeHyperliquid(step_s=0.02).start()
    keys = load_key_file(fake.write_key_file(tmp_path / "hl.toml"), venue="hyperliquid")
    runtime = Runtime([HyperliquidConnector(base_url=fake.base_url, keys=keys)], journal_path=tmp_path / "j.sqlite")
    await runtime.start()
    try:
        await runtime.leverage.set_leverage("hyperliquid", "BTC", 5, cross=False)
        assert fake.actions[-1] == {"type": "updateLeverage", "asset": 0, "isCross": False, "leverage": 5}
        assert fake.engine.account.leverage["BTC"] == 5 and fake.margin_modes["BTC"] == "isolated"
        s = await runtime.leverage.set_margin_mode("hyperliquid", "BTC", cross=True)
        assert fake.actions[-1] == {"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 5}
        assert s.describe() == "BTC 5x cross"
        md = runtime.market_data
        while md.mid_i("hyperliquid", "BTC") is None:
            await asyncio.sleep(0.01)
        await runtime.leverage.set_margin_mode("hyperliquid", "BTC", cross=False)
        order = await runtime.orders.submit_market("hyperliquid", "BTC", is_ask=False, size_i=md.to_size_i(
            "hyperliquid", "BTC", "0.01"))  # fmt: skip
        await order.wait_final(timeout=5)
        (pos,) = await runtime.connectors["hyperliquid"].get_positions()
        assert pos.info["leverage"] == {"type": "isolated", "value": 5}
        (lev,) = await runtime.connectors["hyperliquid"].get_leverage()
        assert (lev.symbol, lev.leverage, lev.cross) == ("BTC", 5, False)
        again = Runtime([HyperliquidConnector(base_url=fake.base_url, keys=keys)], journal_path=tmp_path / "j2.sqlite")
        await again.start()  # a new desk reads the held coin's setting from the venue at start
        try:
            known = again.leverage.get("hyperliquid", "BTC")
            assert known is not None and known.describe() == "BTC 5x isolated"
        finally:
            await again.stop()
    finally:
        await runtime.stop()
        await fake.stop()


async def test_a_venue_without_the_capability_is_refused_before_any_request(tmp_path):
    runtime = Runtime([SimConnector(seed=7)], journal_path=tmp_path / "j.sqlite")
    await runtime.start()
    try:
        runtime.connectors["sim"].capabilities = frozenset()  # type: ignore[misc]
        with pytest.raises(InvalidOrder, match="does not let perpdesk set leverage"):
            await runtime.leverage.set_margin_mode("sim", "BTC", cross=False)
    finally:
        await runtime.stop()


async def test_a_venue_whose_settings_cannot_be_read_is_left_unknown_and_the_rest_still_load(clock):
    from connector.errors import VenueError
    from connector.interface import LeverageInfo, MarketInfo
    from execution.leverage import LeverageService
    from execution.market import MarketDataService

    class Venue:
        capabilities = frozenset({"leverage"})

        def __init__(self, answer) -> None:
            self.answer = answer

        async def get_leverage(self):
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer

        async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None: ...

    md = MarketDataService(clock)
    venues = {"down": Venue(VenueError("HTTP 503")), "odd": Venue(KeyError("leverage")),
              "ok": Venue([LeverageInfo("BTC-PERP", 3, False)])}  # fmt: skip
    for name in venues:
        md.add_markets(name, [MarketInfo("BTC-PERP", "BTC", "USD", 1, 4, 10, max_leverage=20)])
    service = LeverageService(md, venues)  # type: ignore[arg-type]
    await service.load()
    assert service.get("down", "BTC") is None and service.leverage_of("odd", "BTC") is None
    assert service.get("ok", "BTC").short == "3x iso" and service.leverage_of("ok", "BTC") == 3


async def test_a_margin_type_only_event_for_a_market_of_unknown_leverage_records_the_mode_alone(clock):
    from connector.interface import LeverageChange, MarketInfo
    from execution.leverage import LeverageService
    from execution.market import MarketDataService

    class Venue:
        capabilities = frozenset({"leverage", "leverage_pushed"})

        def __init__(self) -> None:
            self.sent: list[tuple[str, int, bool]] = []

        async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
            self.sent.append((symbol, leverage, cross))

    md = MarketDataService(clock)
    md.add_markets("v", [MarketInfo("BTC-PERP", "BTC", "USD", 1, 4, 10, max_leverage=20)])
    venue = Venue()
    service = LeverageService(md, {"v": venue})  # type: ignore[dict-item]
    service.on_venue("v", LeverageChange("BTC-PERP", None, False))  # the venue names the margin type only
    known = service.get("v", "BTC")
    assert known is not None and known.leverage is None and not known.cross
    assert known.short == "iso" and known.describe() == "BTC isolated (leverage not known)"
    assert service.leverage_of("v", "BTC") is None  # the margin check assumes the market's maximum, as unknown
    service.on_venue("v", LeverageChange("BTC-PERP", 5, None))  # then the leverage: the mode is kept
    assert service.get("v", "BTC").short == "5x iso" and service.leverage_of("v", "BTC") == 5
    service.on_venue("v", LeverageChange("BTC-PERP", None, True))
    assert service.get("v", "BTC").short == "5x cross"
    md.add_markets("v", [MarketInfo("ETH-PERP", "ETH", "USD", 2, 3, 10, max_leverage=10)])
    service.on_venue("v", LeverageChange("ETH-PERP", None, False))
    s = await service.set_margin_mode("v", "ETH", cross=True)  # the leverage sent as unknown: the market's maximum
    assert venue.sent[-1] == ("ETH-PERP", 10, True) and s.short == "10x cross"
    s = await service.set_leverage("v", "ETH", 3)
    assert venue.sent[-1] == ("ETH-PERP", 3, True) and s.short == "3x cross"
