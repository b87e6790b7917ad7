"""The execution report of a chase, checked against a run computed by hand.

Quiet market: bid 64999.5, ask 65000.5 (price 1 decimal, size 4 decimals), arrival mid 650000.
Sim fees: maker 100 ppm of the quote value, rounded half up (quote 6 decimals).
"""

from __future__ import annotations

from connector.interface import Fill
from execution.journal import Journal
from execution.tracking import ExecutionReport, build_report
from tests.execution.tracking.harness import SYMBOL, VENUE_SYMBOL, Desk


async def test_a_chase_report_matches_the_hand_computed_run(clock, tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    desk = await Desk(clock, quiet=True, journal=journal).start()
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    started = chase.started_ms
    await clock.advance(1.0)
    # 40 trade at our bid 649995 one second in
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=649_995, size_i=40)
    await clock.advance(0.5)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)  # the bid rises: one reprice to 650095
    await clock.advance(1.5)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=650_095, size_i=60)
    assert await desk.run_until_done(chase, max_s=5)

    r = chase.report
    assert r.arrival_mid_i == 650_000
    assert r.filled_i == r.target_i == 100
    # (40 * 649995 + 60 * 650095) / 100 = 650055
    assert r.avg_price_i == 650_055
    assert r.slippage_i == 55
    assert r.slippage_ppm == 84  # 55 / 650000 = 84.6 ppm, toward zero: 0.84 bp
    assert r.maker_filled_i == 100 and r.maker_ppm == 1_000_000
    assert r.reprices == 1 and r.children == 1  # the fill-safe venue amends in place
    assert r.first_fill_ms == 1_000 and r.last_fill_ms == 3_000
    # fees: 40 * 649995 -> 259.998 quote -> 0.0259998 -> 26000 q; 60 * 650095 -> 390.057 -> 39006 q
    assert r.fees_q == 26_000 + 39_006
    assert all(type(v) is int for v in r.as_record().values())

    [row] = journal.load_parents(live_only=False)
    assert ExecutionReport.from_record(row["params"]["report"]) == r
    assert started == row["params"]["started_ms"]
    await desk.stop()
    journal.close()


def _fill(coi, tid, price, size, *, maker=True, fee=0, ts=0):
    return Fill("BTC-PERP", coi, None, tid, True, price, size, fee, maker, ts)


def test_a_report_counts_a_fill_once_and_a_sell_gives_up_below_arrival():
    fills = [
        _fill(1, "a", 1_000, 3, fee=5, ts=1_200),
        _fill(1, "a", 1_000, 3, fee=5, ts=1_200),  # the same trade twice (a replay)
        _fill(2, "b", 990, 1, maker=False, fee=7, ts=1_900),
    ]
    r = build_report(is_ask=True, target_i=10, started_ms=1_000, arrival_mid_i=1_000, fills=fills, children=2)
    assert r.filled_i == 4 and r.avg_price_i == 998  # (3000 + 990) / 4 = 997.5, rounded half up
    assert r.slippage_i == 2 and r.slippage_ppm == 2_000
    assert r.maker_filled_i == 3 and r.maker_ppm == 750_000
    assert r.fees_q == 12
    assert (r.first_fill_ms, r.last_fill_ms) == (200, 900)


def test_an_unfilled_report_has_no_prices_yet():
    r = build_report(is_ask=False, target_i=10, started_ms=0, arrival_mid_i=None, fills=[])
    assert (r.filled_i, r.avg_price_i, r.slippage_ppm, r.maker_ppm, r.first_fill_ms) == (0, None, None, None, None)
