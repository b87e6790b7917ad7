"""Runtime: connectors started, markets loaded, events wired, connection state tracked."""

from __future__ import annotations

import pytest

from connector.base import BaseConnector
from connector.interface import BookUpdate, ConnectionEvent, ConnectionState, MarketInfo, Trade
from execution.market import UnknownVenue
from execution.runtime import Runtime

BTC = MarketInfo("BTC-PERP", "BTC", "USDC", 1, 4, 10)
ETH = MarketInfo("ETH-PERP", "ETH", "USDC", 2, 3, 10)


class FakeVenue(BaseConnector):
    venue = "sim"

    def __init__(self, venue="sim", markets=(BTC, ETH), **kw):
        super().__init__(**kw)
        self.venue = venue
        self.markets = list(markets)
        self.subscribed: list[str] = []
        self.stopped = 0

    async def start(self):
        await super().start()
        self.set_connection("public", ConnectionState.CONNECTED)

    async def stop(self):
        await super().stop()
        self.stopped += 1
        self.set_connection("public", ConnectionState.STOPPED)

    async def list_markets(self):
        return list(self.markets)

    async def subscribe_market_data(self, symbols):
        self.subscribed.extend(symbols)

    async def cancel_all(self, symbol=None):
        self.cancel_alls = getattr(self, "cancel_alls", 0) + 1

    async def get_open_orders(self, symbol=None):
        return []


async def test_start_loads_markets_and_subscribes_every_symbol(clock):
    venue = FakeVenue(clock=clock)
    runtime = Runtime([venue], clock=clock)
    await runtime.start()
    assert venue.started
    assert runtime.market_data.symbols("sim") == ["BTC", "ETH"]
    assert venue.subscribed == ["BTC-PERP", "ETH-PERP"]
    assert runtime.connectors == {"sim": venue}
    assert runtime.orders is not None and runtime.journal is not None
    await runtime.stop()
    assert not venue.started


async def test_book_and_trade_events_reach_market_data(clock):
    venue = FakeVenue(clock=clock)
    runtime = Runtime([venue], clock=clock)
    await runtime.start()
    seen = []
    runtime.market_data.add_listener(lambda v, s: seen.append((v, s)))
    venue.emit("book", BookUpdate("BTC-PERP", ((649_500, 1),), ((649_510, 2),), True, 1))
    venue.emit("trade", Trade("BTC-PERP", 649_505, 3, True, 2))
    assert runtime.market_data.top_of_book("sim", "BTC") == (649_500, 649_510)
    assert [t.size_i for t in runtime.market_data.trades("sim", "BTC")] == [3]
    assert seen == [("sim", "BTC")]
    await runtime.stop()


async def test_connection_state_follows_the_worst_stream_and_listeners_hear_changes(clock):
    venue = FakeVenue(clock=clock)
    runtime = Runtime({"sim": venue}, clock=clock)
    heard: list[ConnectionEvent] = []
    runtime.add_connection_listener(heard.append)
    assert runtime.connection_state("sim") == ConnectionState.STOPPED
    await runtime.start()
    assert runtime.connection_state("sim") == ConnectionState.CONNECTED
    venue.set_connection("private", ConnectionState.DISCONNECTED, "socket closed")
    assert runtime.connection_state("sim") == ConnectionState.DISCONNECTED
    assert heard[-1].reason == "socket closed" and heard[-1].stream == "private"
    venue.set_connection("private", ConnectionState.CONNECTED)
    assert runtime.connection_state("sim") == ConnectionState.CONNECTED
    assert [e.state for e in runtime.connection_events][-2:] == ["disconnected", "connected"]
    await runtime.stop()
    assert runtime.connection["sim"]["public"] == ConnectionState.STOPPED


async def test_connection_state_of_an_unknown_venue_names_the_known_ones(clock):
    runtime = Runtime([FakeVenue(clock=clock)], clock=clock)
    with pytest.raises(UnknownVenue, match="unknown venue 'lighter'; venues: sim"):
        runtime.connection_state("lighter")


async def test_a_failing_connector_stop_does_not_keep_the_others_running(clock):
    class Broken(FakeVenue):
        async def stop(self):
            raise RuntimeError("boom")

    broken, fine = Broken("a", clock=clock), FakeVenue("b", clock=clock)
    runtime = Runtime([broken, fine], clock=clock)
    await runtime.start()
    await runtime.stop()
    assert fine.stopped == 1


async def test_two_connectors_for_one_venue_need_names(clock):
    with pytest.raises(ValueError, match="two connectors for venue 'sim'"):
        Runtime([FakeVenue(clock=clock), FakeVenue(clock=clock)], clock=clock)


async def test_start_and_stop_are_idempotent_and_work_as_a_context_manager(clock):
    venue = FakeVenue(clock=clock)
    async with Runtime([venue], clock=clock) as runtime:
        await runtime.start()
        assert venue.subscribed == ["BTC-PERP", "ETH-PERP"]
    await runtime.stop()
    assert venue.stopped == 1


async def test_symbol_map_from_settings_names_the_markets(clock):
    runtime = Runtime([FakeVenue(clock=clock)], clock=clock, settings={"symbol_map": {"sim": {"XBT": "BTC-PERP"}}})
    await runtime.start()
    assert runtime.market_data.symbols("sim") == ["ETH", "XBT"]
    await runtime.stop()


async def test_fills_positions_and_margin_reach_the_position_service(clock):
    from connector.interface import Fill, Margin, Position

    venue = FakeVenue(clock=clock)
    runtime = Runtime([venue], clock=clock)
    await runtime.start()
    venue.emit("fill", Fill("BTC-PERP", 1, "1", "t1", False, 600_000, 100, 0, True, 1))
    assert runtime.positions.size_i("sim", "BTC") == 100
    venue.emit("position", Position("ETH-PERP", -5, 300_000, 300_000, 0, ts_ms=2))
    assert runtime.positions.size_i("sim", "ETH") == -5
    venue.emit("margin", Margin(10, 10, 0, 0, 10))
    assert runtime.positions.account("sim").collateral_q == 10
    await runtime.stop()


async def test_risk_limits_come_from_settings_and_guard_the_order_service(clock):
    from execution.risk import RiskRejected

    settings = {"risk": {"max_order_notional": 100}}
    runtime = Runtime([FakeVenue(clock=clock)], clock=clock, settings=settings)
    assert runtime.risk.limits.max_order_notional_q == 100 * 10**6
    assert runtime.orders.risk is runtime.risk
    await runtime.start()
    with pytest.raises(RiskRejected, match=r"above the maximum 100\.00"):
        await runtime.orders.submit_limit("sim", "BTC", is_ask=False, size_i=10_000, price_i=600_000)
    await runtime.stop()


async def test_runtime_kill_switch_cancels_on_every_venue_and_halts(clock):
    from execution.risk import TradingState

    a, b = FakeVenue("a", clock=clock), FakeVenue("b", clock=clock)
    runtime = Runtime([a, b], clock=clock)
    await runtime.start()
    report = await runtime.kill_switch()
    assert (a.cancel_alls, b.cancel_alls) == (1, 1)
    assert report.errors == []
    assert runtime.risk.state is TradingState.HALTED
    runtime.risk.rearm()
    assert runtime.risk.state is TradingState.ACTIVE
    await runtime.stop()


async def test_a_venue_that_fails_to_start_stops_the_ones_already_started(clock):
    class Refusing(FakeVenue):
        async def start(self):
            raise RuntimeError("key refused")

    fine, refusing = FakeVenue("a", clock=clock), Refusing("b", clock=clock)
    runtime = Runtime([fine, refusing], clock=clock)
    with pytest.raises(RuntimeError, match="key refused"):
        await runtime.start()
    assert fine.stopped == 1 and not fine.started and not runtime.started


async def test_from_settings_builds_one_connector_per_venue_through_the_factory(clock, monkeypatch):
    from connector.config import VenueSettings
    from execution import runtime as runtime_module
    from execution.config import RuntimeSettings

    made = []

    def create_connector(venue, **options):
        made.append((venue, options))
        return FakeVenue(venue, clock=clock)

    monkeypatch.setattr(runtime_module, "create_connector", create_connector)
    other = VenueSettings(testnet=True)
    settings = RuntimeSettings(venues=["sim", "other"], venue={"other": other})
    runtime = Runtime.from_settings(settings, clock=clock)
    assert list(runtime.connectors) == ["sim", "other"]
    assert made == [
        ("sim", {"venue_settings": VenueSettings(), "sim": settings.sim, "clock": clock}),
        ("other", {"venue_settings": other, "sim": settings.sim, "clock": clock}),
    ]
    runtime.journal.close()


async def test_from_real_settings_runs_the_sim_with_its_risk_limits(clock, tmp_path):
    from console.settings import Settings

    settings = Settings(venues=["sim"], journal_path=tmp_path / "j.sqlite3", risk={"max_order_notional": 1000})
    runtime = Runtime.from_settings(settings, clock=clock)
    assert runtime.connectors["sim"].clock is clock
    assert runtime.risk.limits.max_order_notional_q == 1000 * 10**6
    await runtime.start()
    await clock.advance(0.5)
    bid_i, ask_i = runtime.market_data.top_of_book("sim", "BTC")
    assert bid_i is not None and ask_i is not None and bid_i < ask_i
    await runtime.stop()


async def test_a_sim_only_runtime_journals_for_the_run_and_leaves_no_stale_journal_behind(clock):
    from connector.sim.connector import SimConnector
    from execution.journal import default_journal_path

    runtime = Runtime([SimConnector(clock=clock)], clock=clock)
    path = runtime.journal.path
    assert path != default_journal_path() and path.parent.exists()
    await runtime.start()
    await runtime.stop()
    assert not path.parent.exists()


async def test_a_real_venue_or_an_explicit_path_keeps_the_persistent_journal(clock, tmp_path):
    from connector.sim.connector import SimConnector

    runtime = Runtime([SimConnector(clock=clock)], clock=clock, journal_path=tmp_path / "j.sqlite3")
    assert runtime.journal.path == tmp_path / "j.sqlite3"
    runtime.journal.close()
