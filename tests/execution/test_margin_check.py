"""Pre-trade initial margin and the per-order notional ceiling (issue 12, defect 3)."""

from __future__ import annotations

import pytest

from connector.interface import BookUpdate, Margin, MarketInfo
from execution.market import MarketDataService
from execution.position_service import PositionService
from execution.risk import RiskLimits, RiskManager, RiskRejected

Q = 10**6  # quote scale
# price 1 dp, size 4 dp, 20x max leverage; book 64,950.0 / 64,951.0
BTC = MarketInfo("BTC-PERP", "BTC", "USDC", 1, 4, 10, tick_i=5, step_i=5, max_leverage=20)


def setup(clock, available=100_000, limits=None):
    md = MarketDataService(clock)
    md.add_markets("sim", [BTC])
    md.on_book("sim", BookUpdate("BTC-PERP", ((649_500, 10),), ((649_510, 10),), True, 0))
    positions = PositionService(md)
    if available is not None:
        positions.ingest("sim", Margin(available * Q, available * Q, 0, 0, available * Q))
    return positions, RiskManager(md, positions, limits or RiskLimits(price_band_bps=None))


def btc(n: float) -> int:
    return round(n * 10_000)


async def test_a_thousand_btc_is_refused_with_the_numbers_in_trader_units(clock):
    _, risk = setup(clock)
    with pytest.raises(RiskRejected) as err:
        risk.check("sim", "BTC", is_ask=False, size_i=btc(1000), price_i=650_000)
    # 65,000,000 notional ÷ 20x = 3,250,000 + 0.1% fees 65,000
    assert "needs 3,315,000.00 USDC, 100,000.00 available" in str(err.value)
    assert err.value.check == "margin" and risk.rejections == 1
    # a market order is valued at the ask it would take
    with pytest.raises(RiskRejected, match=r"needs 3,312,501\.00 USDC"):
        risk.check("sim", "BTC", is_ask=False, size_i=btc(1000))


async def test_an_order_within_the_margin_passes_and_the_boundary_is_exact(clock):
    _, risk = setup(clock, available=3_315)
    risk.check("sim", "BTC", is_ask=False, size_i=btc(1), price_i=650_000)  # needs 3,250 + 65
    with pytest.raises(RiskRejected, match=r"needs 3,315\.00 USDC, 3,314\.00 available"):
        setup(clock, available=3_314)[1].check("sim", "BTC", is_ask=False, size_i=btc(1), price_i=650_000)


async def test_reduce_only_is_never_blocked_by_margin(clock):
    from connector.interface import Fill

    positions, risk = setup(clock, available=0)
    positions.ingest("sim", Fill("BTC-PERP", 1, "1", "t1", False, 650_000, btc(2), 0, False, 1))
    risk.check("sim", "BTC", is_ask=True, size_i=btc(2), price_i=650_000, reduce_only=True)


async def test_no_margin_known_lets_the_venue_decide(clock):
    _, risk = setup(clock, available=None)
    risk.check("sim", "BTC", is_ask=False, size_i=btc(1000), price_i=650_000)


async def test_the_notional_ceiling_is_configurable_and_defaults_to_margin_times_leverage(clock):
    _, risk = setup(clock, limits=RiskLimits(price_band_bps=None, fee_bps=None))  # margin check off
    with pytest.raises(RiskRejected, match=r"above the ceiling \(available margin × 20x\) 2,000,000.00") as err:
        risk.check("sim", "BTC", is_ask=False, size_i=btc(31), price_i=650_000)  # 2,015,000
    assert err.value.check == "notional"
    risk.check("sim", "BTC", is_ask=False, size_i=btc(30), price_i=650_000)  # 1,950,000
    limits = RiskLimits.from_mapping({"max_order_notional": 10_000, "price_band_bps": None})
    _, risk = setup(clock, limits=limits)
    with pytest.raises(RiskRejected, match=r"above the maximum 10,000\.00"):
        risk.check("sim", "BTC", is_ask=False, size_i=btc(0.2), price_i=650_000)  # 13,000


async def test_check_capacity_is_the_chase_start_check(clock):
    _, risk = setup(clock)
    risk.check_capacity("sim", "BTC", is_ask=True, size_i=btc(1))
    with pytest.raises(RiskRejected, match="not enough margin"):
        risk.check_capacity("sim", "BTC", is_ask=True, size_i=btc(1000))
    risk.check_capacity("sim", "BTC", is_ask=True, size_i=btc(1000), reduce_only=True)


async def test_margin_preview_says_needed_and_available(clock):
    _, risk = setup(clock)
    preview = risk.margin_preview("sim", "BTC", False, btc(1), 650_000)
    assert (preview.needed_q, preview.available_q, preview.fits) == (3_315 * Q, 100_000 * Q, True)
    assert preview.text() == "margin 3,315.00 / 100,000.00 USDC"
    assert risk.margin_preview("sim", "BTC", False, btc(1000), None).fits is False
    _, unknown = setup(clock, available=None)
    assert unknown.margin_preview("sim", "BTC", False, btc(1), 650_000).fits is None
    assert unknown.rejections == 0


async def test_a_chase_beyond_the_margin_is_refused_at_its_start_and_sends_nothing(clock):
    from tests.execution.tracking.harness import SYMBOL, Desk

    desk = await Desk(clock, quiet=True).start()
    positions = PositionService(desk.md)
    positions.ingest("sim", Margin(100_000 * Q, 100_000 * Q, 0, 0, 100_000 * Q))
    desk.orders.risk = RiskManager(desk.md, positions, RiskLimits(price_band_bps=None))
    submits: list[dict] = []
    original = desk.connector.submit_limit_order

    async def recorded(**kw):
        submits.append(kw)
        return await original(**kw)

    desk.connector.submit_limit_order = recorded
    with pytest.raises(RiskRejected, match=r"needs [\d,.]+ USDC, 100,000.00 available"):
        await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=btc(1000))
    assert submits == [] and desk.tracking.chases == {}
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=btc(0.01))
    await clock.advance(1)
    assert len(submits) == 1 and not chase.is_done
    await desk.stop()


class _ReportsFiveX:
    """A venue that declares ``leverage`` and reports BTC at 5x isolated (``ReadsLeverage``)."""

    capabilities = frozenset({"leverage"})

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, bool]] = []

    async def get_leverage(self):
        from connector.interface import LeverageInfo

        return [LeverageInfo("BTC-PERP", 5, False), LeverageInfo("DELISTED-PERP", 3, True)]

    async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
        self.sent.append((symbol, leverage, cross))


async def test_the_margin_check_uses_the_leverage_set_for_the_market_else_the_maximum(clock):
    from execution.leverage import LeverageService

    _, risk = setup(clock, available=13_065)
    venue = _ReportsFiveX()
    leverage = LeverageService(risk.market_data, {"sim": venue})  # type: ignore[dict-item]
    risk.leverage_of = leverage.leverage_of
    # nothing known: 2 BTC at 65,000 ÷ 20x = 6,500 + 130 fees fits
    assert risk.margin_preview("sim", "BTC", False, btc(2), 650_000).leverage == 20
    risk.check("sim", "BTC", is_ask=False, size_i=btc(2), price_i=650_000)
    await leverage.load()  # the venue reports 5x: 1 BTC needs 13,000 + 65, exactly what is there
    assert leverage.get("sim", "BTC").short == "5x iso"
    assert risk.margin_preview("sim", "BTC", False, btc(1), 650_000).leverage == 5
    risk.check("sim", "BTC", is_ask=False, size_i=btc(1), price_i=650_000)
    with pytest.raises(RiskRejected, match=r"needs 26,130\.00 USDC.*÷ 5x leverage"):
        risk.check("sim", "BTC", is_ask=False, size_i=btc(2), price_i=650_000)
    await leverage.set_leverage("sim", "BTC", 4)  # set here: 16,250 + 65 for 1 BTC
    assert venue.sent == [("BTC-PERP", 4, False)]  # the mode the venue reported is kept
    with pytest.raises(RiskRejected, match=r"needs 16,315\.00 USDC.*÷ 4x leverage") as err:
        risk.check("sim", "BTC", is_ask=False, size_i=btc(1), price_i=650_000)
    assert err.value.check == "margin"
    with pytest.raises(RiskRejected, match=r"available margin × 4x"):
        RiskManager(risk.market_data, risk.positions, RiskLimits(price_band_bps=None, fee_bps=None),
                    leverage_of=leverage.leverage_of).check("sim", "BTC", is_ask=False, size_i=btc(1), price_i=650_000)  # fmt: skip
