"""Pre-trade checks, trading states and the kill switch (against stand-in services)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.interface import BookUpdate, Fill, MarketInfo, OrderStatus
from execution.config import RiskSettings
from execution.kill_switch import kill_switch
from execution.market import MarketDataService
from execution.position_service import PositionService
from execution.risk import RiskLimits, RiskManager, RiskRejected, TradingState

# price 1 dp tick 0.5, size 4 dp step 0.0005, min 0.001
BTC = MarketInfo("BTC-PERP", "BTC", "USDC", 1, 4, 10, tick_i=5, step_i=5)


def setup(clock, limits=None, bid=649_500, ask=649_510):
    md = MarketDataService(clock)
    md.add_markets("sim", [BTC])
    md.on_book("sim", BookUpdate("BTC-PERP", ((bid, 10),), ((ask, 10),), True, 0))
    positions = PositionService(md)
    return md, positions, RiskManager(md, positions, limits or RiskLimits())


def hold(positions, size_i, price_i=649_500):
    positions.ingest("sim", Fill("BTC-PERP", 1, "1", f"t{size_i}", size_i < 0, price_i, abs(size_i), 0, False, 1))


def refuse(risk, match, **order):
    order.setdefault("is_ask", False)
    order.setdefault("size_i", 100)
    with pytest.raises(RiskRejected, match=match) as err:
        risk.check("sim", "BTC", **order)
    return err.value


async def test_an_ordinary_order_passes(clock):
    _, _, risk = setup(clock)
    risk.check("sim", "BTC", is_ask=False, size_i=100, price_i=649_500)
    risk.check("sim", "BTC", is_ask=True, size_i=100, price_i=None)


async def test_size_below_the_minimum_is_refused(clock):
    _, _, risk = setup(clock)
    err = refuse(risk, r"size 0.0005 BTC is below the minimum 0.001$", size_i=5, price_i=649_500)
    assert err.check == "min_size" and isinstance(err, ValueError)
    assert risk.rejections == 1


async def test_size_off_the_step_is_refused(clock):
    _, _, risk = setup(clock)
    refuse(risk, "size 0.0012 BTC is not a multiple of the size step 0.0005", size_i=12, price_i=649_500)


async def test_zero_size_is_refused(clock):
    _, _, risk = setup(clock)
    refuse(risk, "size must be positive", size_i=0)


async def test_price_off_the_tick_is_refused(clock):
    _, _, risk = setup(clock)
    refuse(risk, r"price 64950.3 is not on BTC's tick of 0.5", price_i=649_503)


async def test_a_price_far_from_mid_is_refused_as_a_fat_finger(clock):
    _, _, risk = setup(clock, RiskLimits(price_band_bps=100))
    refuse(risk, r"buy price 65650 is 1.07% above mid 64950.5 \(band 1%\): probable fat finger", price_i=656_500)
    refuse(risk, r"sell price 6495 is 90% below mid", is_ask=True, price_i=64_950)
    risk.check("sim", "BTC", is_ask=False, size_i=100, price_i=655_000)  # 0.85 % away


async def test_without_a_book_the_band_cannot_apply(clock):
    md = MarketDataService(clock)
    md.add_markets("sim", [BTC])
    RiskManager(md).check("sim", "BTC", is_ask=False, size_i=100, price_i=10)


async def test_order_notional_above_the_maximum_is_refused(clock):
    _, _, risk = setup(clock, RiskLimits(max_order_notional_q=1_000 * 10**6))
    refuse(risk, r"order notional 1,298.00 USDC is above the maximum 1,000.00", size_i=200, price_i=649_000)
    # a market buy is valued at the ask: 0.02 * 64951 = 1299.02
    refuse(risk, r"order notional 1,299.02 USDC", size_i=200, price_i=None)
    risk.check("sim", "BTC", is_ask=False, size_i=150, price_i=649_000)


async def test_position_beyond_the_maximum_is_refused_but_reducing_it_is_not(clock):
    _, positions, risk = setup(clock, RiskLimits(max_position={"BTC": Decimal("0.05")}))
    hold(positions, 400)
    refuse(risk, r"position would be 0.06 BTC, beyond the maximum 0.05", size_i=200, price_i=649_500)
    risk.check("sim", "BTC", is_ask=False, size_i=100, price_i=649_500)
    risk.check("sim", "BTC", is_ask=True, size_i=800, price_i=649_500)  # flips to -0.04: within


async def test_position_notional_beyond_the_maximum_is_refused(clock):
    _, positions, risk = setup(clock, RiskLimits(max_position_notional_q=2_000 * 10**6))
    hold(positions, -200)
    refuse(risk, r"position notional would be 2,598.02 USDC, beyond the maximum 2,000.00", is_ask=True,
           size_i=200, price_i=649_500)


async def test_reduce_only_needs_a_position_on_the_other_side(clock):
    _, positions, risk = setup(clock)
    refuse(risk, "reduce-only sell: there is no BTC position to reduce", is_ask=True, reduce_only=True)
    hold(positions, 300)
    refuse(risk, "reduce-only buy would increase the long 0.03 BTC position", reduce_only=True)
    refuse(risk, "reduce-only sell of 0.04 BTC is larger than the position 0.03", is_ask=True, size_i=400,
           reduce_only=True)
    risk.check("sim", "BTC", is_ask=True, size_i=300, reduce_only=True)


async def test_reduce_only_may_close_a_position_below_the_minimum_and_ignores_notional(clock):
    _, positions, risk = setup(clock, RiskLimits(max_order_notional_q=1))
    hold(positions, -3)
    risk.check("sim", "BTC", is_ask=False, size_i=3, reduce_only=True)


async def test_reducing_state_accepts_only_reduce_only_orders(clock):
    _, positions, risk = setup(clock)
    hold(positions, 100)
    seen = []
    risk.add_listener(lambda state, reason: seen.append((state, reason)))
    risk.reduce_only("drawdown")
    refuse(risk, "only reduce-only orders are accepted", price_i=649_500)
    risk.check("sim", "BTC", is_ask=True, size_i=100, reduce_only=True)
    assert seen == [(TradingState.REDUCING, "drawdown")]


async def test_halted_state_refuses_everything_until_rearmed(clock):
    _, positions, risk = setup(clock)
    hold(positions, 100)
    risk.halt("manual")
    err = refuse(risk, r"trading is halted \(manual\); rearm to trade again", is_ask=True, reduce_only=True)
    assert err.check == "halted"
    risk.rearm()
    assert risk.state is TradingState.ACTIVE
    risk.check("sim", "BTC", is_ask=True, size_i=100, reduce_only=True)


async def test_stale_market_data_is_refused_when_asked(clock):
    _, _, risk = setup(clock, RiskLimits(max_book_age_ms=2_000))
    await clock.advance(3)
    refuse(risk, r"BTC market data on sim is stale \(the book is 3.0 s old\)", price_i=649_500)


def test_limits_from_settings_take_whole_quote_units_and_decimal_sizes():
    limits = RiskLimits.from_mapping(
        {"max_order_notional": 10_000, "max_position": {"BTC": "0.5"}, "price_band_bps": None}
    )
    assert limits.max_order_notional_q == 10_000 * 10**6
    assert limits.max_position == {"BTC": Decimal("0.5")}
    assert limits.price_band_bps is None and limits.max_position_notional_q is None


def test_limits_from_the_settings_model_apply_one_max_position_to_every_symbol():
    limits = RiskLimits.from_mapping(RiskSettings(max_order_notional=Decimal("2500.5"), max_position=Decimal("2")))
    assert limits.max_order_notional_q == 2_500_500_000
    assert limits.max_position == {"*": Decimal("2")}
    assert limits.price_band_bps == 500


async def test_a_max_position_for_every_symbol_applies_to_btc(clock):
    _, _, risk = setup(clock, RiskLimits(max_position={"*": Decimal("0.01")}))
    refuse(risk, "beyond the maximum 0.01", size_i=200, price_i=649_500)


class Accepted:
    """A flattening order the stand-in venue took."""

    state = OrderStatus.OPEN
    reason = ""


FLATTEN = Accepted()


class StubOrders:
    def __init__(self, fail_cancel=False):
        self.calls = []
        self.fail_cancel = fail_cancel

    async def cancel_all(self, venue=None, symbol=None):
        self.calls.append(("cancel_all", venue, symbol))
        if self.fail_cancel:
            raise RuntimeError("venue down")
        return ["o1", "o2"]

    async def submit_market(self, venue, symbol, *, is_ask, size_i, reduce_only=False, allow_disconnected=False):
        self.risk.check(venue, symbol, is_ask=is_ask, size_i=size_i, price_i=None, reduce_only=reduce_only)
        self.calls.append(("market", venue, symbol, is_ask, size_i, reduce_only))
        return FLATTEN


class Services:
    def __init__(self, clock, fail_cancel=False):
        self.market_data, self.positions, self.risk = setup(clock)
        self.orders = StubOrders(fail_cancel)
        self.orders.risk = self.risk
        self.tracking = None


async def test_kill_switch_cancels_everything_and_halts(clock):
    services = Services(clock)
    hold(services.positions, 300)
    report = await kill_switch(services)
    assert services.orders.calls == [("cancel_all", None, None)]
    assert report.cancelled == ["o1", "o2"] and report.flatten_orders == [] and report.errors == []
    assert services.risk.state is TradingState.HALTED


async def test_kill_switch_with_flatten_sends_reduce_only_market_orders_past_its_own_state(clock):
    services = Services(clock)
    hold(services.positions, -300)
    report = await kill_switch(services, flatten=True)
    assert services.orders.calls[1] == ("market", "sim", "BTC", False, 300, True)
    assert report.flatten_orders == [FLATTEN]
    assert services.risk.state is TradingState.HALTED and "flattened" in services.risk.state_reason


async def test_kill_switch_still_flattens_and_halts_when_cancel_all_fails(clock):
    services = Services(clock, fail_cancel=True)
    hold(services.positions, 300)
    report = await kill_switch(services, flatten=True)
    assert report.errors == ["cancel all failed: venue down"]
    assert report.flatten_orders == [FLATTEN]
    assert services.risk.state is TradingState.HALTED


async def test_kill_switch_stops_running_chases_first(clock):
    stopped = []

    class Chase:
        chase_id = "c1"

        async def cancel(self, keep_resting=False):
            stopped.append(keep_resting)

    class Tracking:
        def active(self):
            return [Chase()]

    services = Services(clock)
    services.tracking = Tracking()
    report = await kill_switch(services)
    assert stopped == [False] and report.chases_stopped == 1


async def test_kill_switch_halts_even_when_a_step_blows_up(clock):
    class Exploding:
        def positions(self):
            raise RuntimeError("corrupt state")

    services = Services(clock)
    services.positions = Exploding()
    with pytest.raises(RuntimeError, match="corrupt state"):
        await kill_switch(services, flatten=True)
    assert services.risk.state is TradingState.HALTED


async def test_a_rejected_flatten_order_is_reported(clock):
    class Rejected:
        state = OrderStatus.REJECTED
        reason = "reduce-only order would increase position"

    services = Services(clock)
    hold(services.positions, 300)

    async def submit_market(venue, symbol, **kw):
        return Rejected()

    services.orders.submit_market = submit_market
    report = await kill_switch(services, flatten=True)
    assert report.errors == ["flattening sim BTC was rejected: reduce-only order would increase position"]


async def test_two_kill_switches_never_interleave(clock):
    import asyncio

    services = Services(clock)
    order_of_events = []
    release = asyncio.Event()

    async def cancel_all(venue=None, symbol=None):
        order_of_events.append("start")
        await release.wait()
        order_of_events.append("end")
        return []

    services.orders.cancel_all = cancel_all
    first = asyncio.create_task(kill_switch(services))
    second = asyncio.create_task(kill_switch(services))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, second)
    assert order_of_events == ["start", "end", "start", "end"]
    assert services.risk.state is TradingState.HALTED
