"""The tracking limit's behaviour against the sim venue, one rule at a time, in virtual time.

The quiet market (``quiet=True``) moves only when a test moves it: bid 64999.5, ask 65000.5.
"""

from __future__ import annotations

import itertools

import pytest

from connector.interface import OrderStatus
from execution.tracking import ChaseState, EndReason
from tests.execution.tracking.harness import SYMBOL, VENUE_SYMBOL, Desk

BID, ASK = 649_995, 650_005


async def desk_for(clock, **kw) -> Desk:
    kw.setdefault("quiet", True)
    return await Desk(clock, **kw).start()


def calls(desk: Desk) -> list[tuple[int, str, dict]]:
    """Record every order request as it leaves the connector: (virtual ms, method, kwargs)."""
    log: list[tuple[int, str, dict]] = []
    conn = desk.connector
    for name in ("submit_limit_order", "submit_market_order", "modify_order", "cancel_by_client_id"):
        original = getattr(conn, name)

        def wrap(original=original, name=name):
            async def recorded(*args, **kw):
                log.append((desk.clock.now_ms(), name, {**kw, "args": args}))
                return await original(*args, **kw)

            return recorded

        setattr(conn, name, wrap())
    return log


async def started(desk: Desk, **kw):
    kw.setdefault("is_ask", False)
    kw.setdefault("size_i", 100)
    chase = await desk.tracking.start("sim", SYMBOL, **kw)
    await desk.clock.advance(0.01)
    return chase


async def test_a_buy_joins_the_best_bid(clock):
    desk = await desk_for(clock)
    chase = await started(desk)
    assert chase.state is ChaseState.RUNNING
    assert chase.price_i == BID
    assert [e.kind for e in chase.events][:2] == ["started", "placed"]


async def test_a_sell_joins_the_best_ask_and_an_offset_sits_behind_it(clock):
    desk = await desk_for(clock)
    chase = await started(desk, is_ask=True, offset_ticks=2)
    assert chase.price_i == ASK + 2


async def test_a_negative_offset_improves_into_the_spread_without_crossing(clock):
    desk = await desk_for(clock)
    chase = await started(desk, offset_ticks=-3)
    assert chase.price_i == BID + 3
    await clock.advance(0.2)
    deep = await started(desk, is_ask=True, offset_ticks=-50)
    await clock.advance(0.5)
    assert deep.price_i == BID + 3 + 1  # one tick above the best bid, which is now our own buy


async def test_the_child_follows_a_rising_touch_on_the_book_event_itself(clock):
    desk = await desk_for(clock, latency_ms=0)
    log = calls(desk)
    chase = await started(desk)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    moved_at = clock.now_ms()
    await clock.advance(0)  # no time passes: only the book event can have caused a re-price
    assert chase.price_i == 650_095
    reprice = [c for c in log if c[1] in ("modify_order", "cancel_by_client_id")]
    assert reprice and reprice[0][0] == moved_at
    assert chase.reprices == 1
    assert any(e.kind == "repriced" and e.data["old"] == BID and e.data["new"] == 650_095 for e in chase.events)


async def test_without_amend_it_cancels_waits_for_the_confirmation_then_places_the_remainder(clock):
    desk = await desk_for(clock, latency_ms=40, venue_amend="none")
    log = calls(desk)
    chase = await started(desk)
    await clock.advance(0.1)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.2)
    kinds = [c[1] for c in log]
    assert kinds == ["submit_limit_order", "cancel_by_client_id", "submit_limit_order"]
    cancel_sent = log[1][0]
    assert log[2][0] >= cancel_sent + 40  # the replacement left only after the cancel's answer came back
    assert chase.children[0].state is OrderStatus.CANCELLED
    assert chase.price_i == 650_095
    assert desk.watch.max_resting_per_parent[chase.id] == 1


async def test_with_a_fill_safe_amend_it_reprices_in_place(clock):
    desk = await desk_for(clock, venue_amend="safe")
    log = calls(desk)
    chase = await started(desk)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.01)
    assert [c[1] for c in log] == ["submit_limit_order", "modify_order"]
    assert len(chase.children) == 1 and chase.price_i == 650_095


async def test_an_amend_that_is_not_fill_safe_is_not_used_by_default(clock):
    desk = await desk_for(clock, venue_amend="plain")
    log = calls(desk)
    await started(desk)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.01)
    assert "modify_order" not in [c[1] for c in log]


async def test_a_child_alone_at_the_best_price_is_not_repriced(clock):
    desk = await desk_for(clock)
    log = calls(desk)
    chase = await started(desk, offset_ticks=-3)
    assert chase.price_i == BID + 3
    desk.engine.set_mid(VENUE_SYMBOL, 650_000 - 2)  # the others' bid drops 2 ticks; we stay alone on top
    await clock.advance(0.5)
    assert chase.price_i == BID + 3
    assert [c[1] for c in log] == ["submit_limit_order"]


async def test_a_buy_never_goes_above_its_limit_and_says_the_limit_is_reached(clock):
    desk = await desk_for(clock)
    chase = await started(desk, limit_price_i=650_020)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.5)
    assert chase.price_i == 650_020
    assert [e for e in chase.events if e.kind == "limit_reached"]
    assert chase.state is ChaseState.RUNNING


async def test_a_sell_never_goes_below_its_limit(clock):
    desk = await desk_for(clock)
    chase = await started(desk, is_ask=True, limit_price_i=649_990)
    desk.engine.set_mid(VENUE_SYMBOL, 649_900)
    await clock.advance(0.5)
    assert chase.price_i == 649_990


async def test_a_timeout_while_sitting_at_the_limit_ends_limit_reached(clock):
    desk = await desk_for(clock)
    chase = await started(desk, limit_price_i=650_020, timeout_s=2)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    assert await desk.run_until_done(chase, max_s=5)
    assert chase.end_reason is EndReason.LIMIT_REACHED
    assert not desk.watch.resting_for(chase)


async def test_max_chase_bounds_the_distance_from_the_starting_price(clock):
    desk = await desk_for(clock)
    chase = await started(desk, max_chase_ticks=5)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.5)
    assert chase.price_i == BID + 5


async def test_moving_the_limit_moves_a_child_that_is_now_beyond_it(clock):
    desk = await desk_for(clock)
    chase = await started(desk, offset_ticks=-3)
    chase.set_limit_price(BID)
    await clock.advance(0.5)
    assert chase.price_i == BID
    assert any(e.kind == "limit_moved" for e in chase.events)


async def test_partial_fills_leave_the_remainder_for_the_next_child(clock):
    desk = await desk_for(clock, venue_amend="none")
    chase = await started(desk, size_i=100)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=30)
    await clock.advance(0.01)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.5)
    assert chase.filled_i == 30
    assert chase.child.size_i == 70
    assert [e.data["size_i"] for e in chase.events if e.kind == "filled"] == [30]


async def test_it_ends_filled_with_average_price_and_slippage_against_the_arrival_mid(clock):
    desk = await desk_for(clock)
    chase = await started(desk, size_i=100)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=40)
    desk.engine.set_mid(VENUE_SYMBOL, 650_010)
    await clock.advance(0.5)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=650_005, size_i=60)
    await clock.advance(0.1)
    assert chase.end_reason is EndReason.FILLED
    assert chase.filled_i == 100
    assert chase.avg_price_i == (40 * BID + 60 * 650_005 + 50) // 100
    assert chase.arrival_mid_i == 650_000
    assert chase.slippage_i == chase.avg_price_i - 650_000
    ended = chase.events[-1]
    assert ended.kind == "ended" and ended.data["reason"] == "filled" and ended.data["slippage_i"] == 1


async def test_a_fill_while_the_cancel_is_in_flight_ends_it_without_a_new_child(clock):
    desk = await desk_for(clock, latency_ms=40, venue_amend="none")
    log = calls(desk)
    chase = await started(desk, size_i=100)
    await clock.advance(0.1)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.001)  # the cancel is on its way ...
    assert chase.child.request_inflight == "cancel"
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=100)  # ... and the order fills first
    await clock.advance(0.5)
    assert chase.end_reason is EndReason.FILLED
    assert chase.filled_i == 100 == desk.watch.filled_for(chase)
    assert [c[1] for c in log].count("submit_limit_order") == 1


async def test_a_partial_fill_while_the_cancel_is_in_flight_is_not_placed_again(clock):
    desk = await desk_for(clock, latency_ms=40, venue_amend="none")
    chase = await started(desk, size_i=100)
    await clock.advance(0.1)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.001)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=30)
    await clock.advance(0.5)
    assert chase.filled_i == 30
    assert chase.child.size_i == 70


async def test_a_timeout_with_cancel_leaves_nothing_resting(clock):
    desk = await desk_for(clock)
    chase = await started(desk, timeout_s=1, end_action="cancel")
    assert await desk.run_until_done(chase, max_s=3)
    assert chase.end_reason is EndReason.TIMEOUT
    assert not desk.watch.resting_for(chase) and not desk.engine.open_orders()


async def test_a_timeout_with_leave_keeps_the_child_resting(clock):
    desk = await desk_for(clock)
    chase = await started(desk, timeout_s=1, end_action="leave")
    assert await desk.run_until_done(chase, max_s=3)
    assert chase.end_reason is EndReason.TIMEOUT
    assert len(desk.watch.resting_for(chase)) == 1


async def test_a_timeout_with_cross_market_takes_the_remainder(clock):
    desk = await desk_for(clock)
    chase = await started(desk, size_i=100, timeout_s=1, end_action="cross_market")
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=30)
    assert await desk.run_until_done(chase, max_s=3)
    assert chase.end_reason is EndReason.FILLED
    assert chase.filled_i == 100 == desk.watch.filled_for(chase)
    assert chase.children[-1].kind == "market" and chase.children[-1].size_i == 70
    assert not desk.engine.open_orders()


async def test_a_timeout_with_cross_ioc_never_pays_beyond_the_limit(clock):
    desk = await desk_for(clock)
    chase = await started(desk, size_i=100, limit_price_i=650_003, timeout_s=1, end_action="cross_ioc")
    assert await desk.run_until_done(chase, max_s=3)
    cross = chase.children[-1]
    assert cross.price_i == 650_003 and not cross.post_only
    assert chase.filled_i == 0  # the ask is 650005: nothing to take at or under the limit
    assert chase.end_reason in (EndReason.TIMEOUT, EndReason.LIMIT_REACHED)
    assert not desk.engine.open_orders()


async def test_a_timeout_with_cross_ioc_takes_the_remainder_inside_the_limit(clock):
    desk = await desk_for(clock)
    chase = await started(desk, size_i=100, limit_price_i=650_010, timeout_s=1, end_action="cross_ioc")
    assert await desk.run_until_done(chase, max_s=3)
    assert chase.end_reason is EndReason.FILLED
    assert chase.filled_i == 100
    assert not desk.engine.open_orders()


async def test_pause_pulls_the_child_and_resume_places_it_again(clock):
    desk = await desk_for(clock, latency_ms=10)
    chase = await started(desk)
    await clock.advance(0.1)
    chase.pause()
    await clock.advance(0.2)
    assert chase.state is ChaseState.PAUSED
    assert chase.child is None and not desk.engine.open_orders()
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.5)
    assert not desk.engine.open_orders()
    chase.resume()
    await clock.advance(0.2)
    assert chase.price_i == 650_095
    assert [e.kind for e in chase.events].count("paused") == 1


async def test_cancel_pulls_the_child(clock):
    desk = await desk_for(clock, latency_ms=10)
    chase = await started(desk)
    await clock.advance(0.1)
    await desk.drive(chase.cancel())
    assert chase.end_reason is EndReason.CANCELLED
    assert not desk.engine.open_orders()


async def test_cancel_keeping_the_child_resting_leaves_it(clock):
    desk = await desk_for(clock, latency_ms=10)
    chase = await started(desk)
    await clock.advance(0.1)
    await desk.drive(chase.cancel(keep_resting=True))
    assert chase.end_reason is EndReason.CANCELLED
    assert len(desk.engine.open_orders()) == 1


async def test_fills_of_a_child_left_resting_still_count(clock):
    desk = await desk_for(clock)
    chase = await started(desk, size_i=100)
    await desk.drive(chase.cancel(keep_resting=True))
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=40)
    await clock.advance(0.01)
    assert chase.filled_i == 40


async def test_repeated_rejections_end_it_rejected(clock):
    desk = await desk_for(clock)
    desk.connector.inject_reject(count=20)
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    assert await desk.run_until_done(chase, max_s=10)
    assert chase.end_reason is EndReason.REJECTED
    assert all(c.state is OrderStatus.REJECTED for c in chase.children)


async def test_one_rejection_is_retried(clock):
    desk = await desk_for(clock)
    desk.connector.inject_reject()
    chase = await desk.tracking.start("sim", SYMBOL, is_ask=False, size_i=100)
    await clock.advance(1)
    assert chase.state is ChaseState.RUNNING and chase.price_i == BID
    assert [e.kind for e in chase.events].count("child_rejected") == 1


async def test_reprices_respect_the_minimum_interval(clock):
    desk = await desk_for(clock, actions_per_s=1000)
    log = calls(desk)
    await started(desk, min_reprice_interval_ms=500)
    for i in range(20):
        desk.engine.set_mid(VENUE_SYMBOL, 650_000 + (i + 1) * 5)
        await clock.advance(0.05)
    stamps = [c[0] for c in log if c[1] == "modify_order"]
    assert len(stamps) >= 2
    assert all(b - a >= 500 for a, b in itertools.pairwise(stamps))


async def test_the_venue_action_budget_caps_actions_per_second(clock):
    desk = await desk_for(clock, actions_per_s=4)
    log = calls(desk)
    await started(desk, min_reprice_interval_ms=0)
    start = clock.now_ms()
    for i in range(100):
        desk.engine.set_mid(VENUE_SYMBOL, 650_000 + (i + 1) * 5)
        await clock.advance(0.01)
    elapsed_s = (clock.now_ms() - start) / 1000
    assert len(log) <= 4 + 4 * elapsed_s + 1
    assert len(log) >= 4


async def test_a_fill_lost_in_a_stream_outage_is_found_after_the_reconnect(clock):
    desk = await desk_for(clock)
    chase = await started(desk, size_i=100)
    desk.connector.disconnect(0.5)
    desk.engine.trade_through(VENUE_SYMBOL, is_ask=True, price_i=BID, size_i=100)
    await clock.advance(1.5)
    assert chase.end_reason is EndReason.FILLED
    assert chase.filled_i == 100


async def test_a_silent_book_falls_back_to_asking_the_venue(clock):
    desk = await desk_for(clock)
    chase = await started(desk)
    desk.connector.disconnect(None)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(5)
    assert any(e.kind == "stale_book" for e in chase.events)
    assert chase.price_i == 650_095


async def test_reduce_only_and_post_only_reach_every_child(clock):
    desk = await desk_for(clock)
    desk.engine.place(VENUE_SYMBOL, client_order_index=1, is_ask=False, price_i=650_100, size_i=100, tif="GTC")
    await clock.advance(0.1)
    chase = await started(desk, is_ask=True, size_i=100, reduce_only=True)
    assert chase.child.reduce_only and chase.child.post_only


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"size_i": 0}, "size must be positive"),
        ({"size_i": 5}, "below the minimum"),
        ({"size_i": 100, "limit_price_i": -1}, "limit price must be positive"),
        ({"size_i": 100, "end_action": "explode"}, "is not one of"),
        ({"size_i": 100, "timeout_s": 0}, "timeout_s must be positive"),
    ],
)
async def test_bad_parameters_are_refused_with_a_clear_message(clock, kw, message):
    desk = await desk_for(clock)
    with pytest.raises(ValueError, match=message):
        await desk.tracking.start("sim", SYMBOL, is_ask=False, **kw)
    assert not desk.tracking.chases


async def test_listeners_hear_every_event(clock):
    desk = await desk_for(clock)
    heard = []
    desk.tracking.add_listener(lambda chase, event: heard.append(event.kind))
    chase = await started(desk)
    await desk.drive(chase.cancel())
    assert heard == [e.kind for e in chase.events]
    assert desk.tracking.active() == []


async def test_wait_done_times_out_on_the_runtime_clock(clock):
    desk = await desk_for(clock)
    chase = await started(desk)
    with pytest.raises(TimeoutError):
        await desk.drive(chase.wait_done(timeout=1))


async def test_two_chases_on_one_side_do_not_leapfrog_each_other(clock):
    desk = await desk_for(clock)
    first = await started(desk, offset_ticks=-1)
    await clock.advance(0.2)
    second = await started(desk, offset_ticks=-1)
    await clock.advance(2)
    assert first.price_i == second.price_i == BID + 1
    assert first.reprices == second.reprices == 0


async def test_a_paused_chase_does_not_cross_at_its_timeout(clock):
    desk = await desk_for(clock)
    log = calls(desk)
    chase = await started(desk, timeout_s=1, end_action="cross_market")
    chase.pause()
    assert await desk.run_until_done(chase, max_s=3)
    assert chase.end_reason is EndReason.TIMEOUT
    assert "submit_market_order" not in [c[1] for c in log]
    assert not desk.engine.open_orders()


async def test_cancel_ends_a_chase_whose_task_was_stopped(clock):
    desk = await desk_for(clock)
    chase = await started(desk)
    await desk.tracking.stop()
    await desk.drive(chase.cancel())
    assert chase.end_reason is EndReason.CANCELLED
    assert not desk.engine.open_orders()


async def test_a_refused_amend_is_retried_after_a_back_off(clock):
    desk = await desk_for(clock, venue_amend="safe")
    log = calls(desk)
    chase = await started(desk)
    desk.connector.inject_reject(count=1)
    desk.engine.set_mid(VENUE_SYMBOL, 650_100)
    await clock.advance(0.01)
    assert any(e.kind == "amend_failed" for e in chase.events)
    assert chase.child.state is OrderStatus.OPEN
    await clock.advance(0.5)
    assert chase.price_i == 650_095
    assert [c[1] for c in log].count("modify_order") == 2


class RecordOnlyJournal:
    """A journal that kept the parent but none of its children."""

    def __init__(self, records):
        self.records = records

    def save_parent(self, *args, **kw):
        pass

    def load_parents(self, live_only=True):
        return self.records


async def test_a_restored_parent_never_forgets_fills_whose_children_are_gone(clock):
    params = {"venue": "sim", "symbol": SYMBOL, "is_ask": False, "size_i": 100, "end_action": "cancel"}
    journal = RecordOnlyJournal([{"parent_id": "tl-old", "venue": "sim", "params": params, "state": "RUNNING", "filled_i": 60,
                                  "avg_price_i": BID, "child_client_order_index": None}])
    desk = await desk_for(clock)
    desk.tracking.journal = journal
    [chase] = await desk.tracking.restore()
    await clock.advance(0.5)
    assert chase.filled_i == 60
    assert chase.child.size_i == 40


async def test_a_parent_on_a_venue_not_configured_stays_journaled_for_later(clock):
    params = {"venue": "lighter", "symbol": SYMBOL, "is_ask": False, "size_i": 100, "end_action": "cancel"}
    journal = RecordOnlyJournal([{"parent_id": "tl-elsewhere", "venue": "lighter", "params": params,
                                  "state": "RUNNING", "filled_i": 0, "child_client_order_index": None}])
    desk = await desk_for(clock)
    desk.tracking.journal = journal
    assert await desk.tracking.restore() == []
    assert desk.tracking.get("tl-elsewhere") is None


async def test_a_child_alone_at_the_best_does_not_improve_on_itself_when_others_move_up(clock):
    desk = await desk_for(clock)
    log = calls(desk)
    chase = await started(desk, offset_ticks=-3)
    assert chase.price_i == BID + 3
    desk.engine.set_mid(VENUE_SYMBOL, 650_000 + 2)  # others' bid rises to BID + 2, still under ours
    await clock.advance(0.5)
    assert chase.price_i == BID + 3
    assert [c[1] for c in log] == ["submit_limit_order"]
