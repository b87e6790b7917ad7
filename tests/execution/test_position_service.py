"""PositionService: size-weighted entry, realized/unrealized PnL in exact integers, venue wins."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.interface import BookUpdate, Fill, Margin, MarketInfo, Position
from execution.market import MarketDataService
from execution.position_service import PositionService

BTC = MarketInfo("BTC-PERP", "BTC", "USDC", 1, 4, 10)  # price 1 dp, size 4 dp: notional has 5 dp
UNIT = MarketInfo("U-PERP", "U", "USDC", 0, 0, 1)  # whole prices and sizes: notional is whole quote units

_ids = iter(range(10**9))


def fill(price_i, size_i, *, sell=False, symbol="BTC-PERP", fee_q=0, ts=0, trade_id=None):
    tid = str(next(_ids)) if trade_id is None else trade_id
    return Fill(symbol, 1, "1", tid, sell, price_i, size_i, fee_q, False, ts)


def service(clock):
    md = MarketDataService(clock)
    md.add_markets("sim", [BTC, UNIT])
    return md, PositionService(md)


def set_mid(md, bid_i, ask_i, symbol="BTC-PERP"):
    md.on_book("sim", BookUpdate(symbol, ((bid_i, 1),), ((ask_i, 1),), True, 0))


async def test_entry_is_size_weighted_and_a_partial_close_realizes_pnl(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(600_000, 100))  # buy 0.01 @ 60000.0
    ps.ingest("sim", fill(610_000, 300))  # buy 0.03 @ 61000.0 -> entry (600 + 1830) / 0.04 = 60750.0
    assert ps.position("sim", "BTC").entry_price_i == 607_500
    ps.ingest("sim", fill(620_000, 200, sell=True))  # sell 0.02 @ 62000.0 -> 0.02 * 1250 = 25
    view = ps.position("sim", "BTC")
    assert view.size_i == 200
    assert view.entry_price_i == 607_500
    assert view.realized_pnl_q == 25_000_000


async def test_unrealized_pnl_and_notional_are_at_the_mid(clock):
    md, ps = service(clock)
    ps.ingest("sim", fill(607_500, 200))  # long 0.02 @ 60750.0
    set_mid(md, 630_000, 630_002)  # mid 63000.1
    view = ps.position("sim", "BTC")
    assert view.mark_price_i == 630_001
    assert view.unrealized_pnl_q == 45_002_000  # 0.02 * 2250.1 = 45.002
    assert view.notional_q == 1_260_002_000  # 0.02 * 63000.1 = 1260.002


async def test_short_position_pnl_has_the_right_sign(clock):
    md, ps = service(clock)
    ps.ingest("sim", fill(100, 2, sell=True, symbol="U-PERP"))
    ps.ingest("sim", fill(90, 1, symbol="U-PERP"))  # buy back 1 at 90: +10
    set_mid(md, 94, 96, symbol="U-PERP")  # mid 95, still short 1 from 100: +5
    view = ps.position("sim", "U")
    assert (view.size_i, view.entry_price_i) == (-1, 100)
    assert view.realized_pnl_q == 10_000_000
    assert view.unrealized_pnl_q == 5_000_000


async def test_a_fill_through_zero_closes_then_opens_at_the_fill_price(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 2, symbol="U-PERP"))
    ps.ingest("sim", fill(110, 3, sell=True, symbol="U-PERP"))
    view = ps.position("sim", "U")
    assert (view.size_i, view.entry_price_i, view.realized_pnl_q) == (-1, 110, 20_000_000)


async def test_entry_rounds_to_the_nearest_unit_and_rounding_never_drifts(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="U-PERP"))
    ps.ingest("sim", fill(101, 2, symbol="U-PERP"))  # cost 302 / 3 = 100.67 -> 101
    assert ps.position("sim", "U").entry_price_i == 101
    ps.ingest("sim", fill(110, 1, sell=True, symbol="U-PERP"))  # removes round(302/3) = 101: +9
    view = ps.position("sim", "U")
    assert view.realized_pnl_q == 9_000_000
    assert view.entry_price_i == 101  # cost 201 / 2 = 100.5, halves away from zero
    ps.ingest("sim", fill(110, 2, sell=True, symbol="U-PERP"))  # removes the remaining 201: +19
    view = ps.position("sim", "U")
    assert view.is_flat and view.entry_price_i is None
    assert view.realized_pnl_q == 28_000_000  # sold 330 - bought 302, exactly


async def test_fees_are_kept_beside_gross_realized_pnl(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", fee_q=50_000))
    ps.ingest("sim", fill(101, 1, sell=True, symbol="U-PERP", fee_q=-20_000))
    view = ps.position("sim", "U")
    assert (view.realized_pnl_q, view.fees_q) == (1_000_000, 30_000)


async def test_a_duplicated_fill_counts_once(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", trade_id="t1"))
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", trade_id="t1"))
    assert ps.size_i("sim", "U") == 1 and ps.duplicate_fills == 1


async def test_fill_listeners_hear_each_new_fill_once_by_its_canonical_symbol(clock):
    _, ps = service(clock)
    heard = []
    ps.add_fill_listener(lambda venue, symbol, f: heard.append((venue, symbol, f.trade_id, ps.size_i(venue, symbol))))
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", trade_id="t1"))
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", trade_id="t1"))
    ps.ingest("sim", fill(100, 1, symbol="NOPE-PERP", trade_id="t2"))
    assert heard == [("sim", "U", "t1", 1)]  # after the position moved; duplicates and unknown markets unheard


async def test_a_venue_snapshot_that_disagrees_wins_and_is_reported(clock):
    _, ps = service(clock)
    reported, changed = [], []
    ps.add_discrepancy_listener(reported.append)
    ps.add_listener(lambda v, s: changed.append((v, s)))
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", ts=10))
    ps.ingest("sim", Position("U-PERP", 3, 102, 102, 0, ts_ms=20, liquidation_price_i=50, margin_q=7))
    view = ps.position("sim", "U")
    assert (view.size_i, view.entry_price_i, view.liquidation_price_i, view.margin_q) == (3, 102, 50, 7)
    assert [(d.field, d.ours, d.venue_value) for d in reported] == [("size", 1, 3)]
    assert ps.discrepancies == reported
    assert changed == [("sim", "U"), ("sim", "U")]
    assert "size was 1 from fills, venue says 3" in reported[0].describe()


async def test_a_snapshot_that_agrees_reports_nothing(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", ts=10))
    ps.ingest("sim", Position("U-PERP", 1, 100, 100, 0, ts_ms=10))
    assert ps.discrepancies == []


async def test_a_different_entry_price_is_reported_and_adopted(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", ts=10))
    ps.ingest("sim", Position("U-PERP", 1, 105, 105, 0, ts_ms=11))
    assert [(d.field, d.ours, d.venue_value) for d in ps.discrepancies] == [("entry_price", 100, 105)]
    assert ps.position("sim", "U").entry_price_i == 105


async def test_an_entry_price_the_venue_rounded_is_not_a_discrepancy_and_ours_stays(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(650_001, 1, symbol="U-PERP", ts=10))  # 65,000.1 from the fill
    ps.ingest("sim", Position("U-PERP", 1, 650_000, 650_000, 0, ts_ms=11))  # 65,000 to five significant figures
    ps.ingest("sim", Position("U-PERP", 1, 650_070, 650_070, 0, ts_ms=12))  # 1 bp is 65 units: beyond it
    assert [(d.field, d.ours, d.venue_value) for d in ps.discrepancies] == [("entry_price", 650_001, 650_070)]


async def test_a_snapshot_older_than_an_applied_fill_is_ignored(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="U-PERP", ts=10))
    ps.ingest("sim", Position("U-PERP", 0, 0, 0, 0, ts_ms=5))
    assert ps.size_i("sim", "U") == 1 and ps.stale_snapshots == 1 and ps.discrepancies == []


async def test_a_fill_older_than_the_venue_snapshot_only_adds_its_fee(clock):
    _, ps = service(clock)
    ps.ingest("sim", Position("U-PERP", 2, 100, 100, 0, ts_ms=20))
    ps.ingest("sim", fill(100, 2, symbol="U-PERP", ts=15, fee_q=3))
    view = ps.position("sim", "U")
    assert (view.size_i, view.fees_q, ps.fills_in_snapshot) == (2, 3, 1)


async def test_events_for_unknown_markets_are_counted_and_dropped(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="DOGE-PERP"))
    ps.ingest("sim", Position("DOGE-PERP", 1, 1, 1, 0))
    assert ps.unknown_symbol_events == 2 and ps.positions() == []


async def test_without_a_mid_the_venue_mark_is_used(clock):
    _, ps = service(clock)
    ps.ingest("sim", Position("U-PERP", 2, 100, 104, 0))
    assert ps.position("sim", "U").unrealized_pnl_q == 8_000_000


async def test_account_equity_margin_ratio_and_leverage(clock):
    md, ps = service(clock)
    changed = []
    ps.add_listener(lambda v, s: changed.append((v, s)))
    ps.ingest("sim", fill(607_500, 200))  # long 0.02 @ 60750.0
    set_mid(md, 630_000, 630_002)  # upnl 45.002, notional 1260.002
    ps.ingest("sim", Margin(1_000_000_000, 1_000_000_000, 100_000_000, 50_000_000, 900_000_000))
    acct = ps.account("sim")
    assert changed[-1] == ("sim", None)
    assert acct.equity_q == 1_045_002_000
    assert acct.available_q == 945_002_000
    assert acct.notional_q == 1_260_002_000
    assert acct.margin_ratio_bps == 478  # 50 / 1045.002 = 4.78 %
    assert acct.leverage_bps == 12_057  # 1260.002 / 1045.002 = 1.2057x
    assert ps.margin("sim").collateral_q == 1_000_000_000


async def test_account_without_equity_has_no_ratios(clock):
    _, ps = service(clock)
    acct = ps.account("sim")
    assert (acct.equity_q, acct.margin_ratio_bps, acct.leverage_bps) == (0, None, None)


async def test_positions_lists_open_positions_per_venue(clock):
    _, ps = service(clock)
    ps.ingest("sim", fill(100, 1, symbol="U-PERP"))
    ps.ingest("sim", fill(600_000, 10))
    ps.ingest("sim", fill(600_000, 10, sell=True))
    assert [v.symbol for v in ps.positions("sim")] == ["U"]
    assert sorted(v.symbol for v in ps.positions(include_flat=True)) == ["BTC", "U"]
    assert ps.positions("other") == []


trades = st.lists(st.tuples(st.booleans(), st.integers(1, 50), st.integers(1, 1000)), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(trades, st.integers(1, 1000))
def test_realized_plus_unrealized_equals_the_cash_flow(script, mark):
    md = MarketDataService()
    md.add_markets("sim", [UNIT])
    ps = PositionService(md)
    cash = 0
    size = 0
    for sell, qty, price in script:
        ps.ingest("sim", fill(price, qty, sell=sell, symbol="U-PERP"))
        cash += price * qty if sell else -price * qty
        size += -qty if sell else qty
    md.on_book("sim", BookUpdate("U-PERP", ((mark, 1),), ((mark, 1),), True, 0))
    view = ps.position("sim", "U")
    assert view.size_i == size
    assert view.realized_pnl_q + view.unrealized_pnl_q == (cash + size * mark) * 10**6


async def test_trade_ids_remembered_are_bounded_and_cover_a_venue_replay(clock):
    _, ps = service(clock)
    for n in range(12_000):
        ps.ingest("sim", fill(100, 1, symbol="U-PERP", trade_id=f"t{n}"))
    assert len(ps._seen["sim"]) == 10_000  # the oldest 2,000 forgotten (issue 18: was up to 100,000)
    for n in range(10_000, 12_000):  # a venue's snapshot repeating its last 2,000 fills
        ps.ingest("sim", fill(100, 1, symbol="U-PERP", trade_id=f"t{n}"))
    assert ps.duplicate_fills == 2_000 and ps.size_i("sim", "U") == 12_000
