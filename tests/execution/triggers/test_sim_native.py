"""The sim venue's own trigger book (``native_triggers``): it holds, fires and refuses like a venue."""

from __future__ import annotations

import pytest

from connector.errors import InvalidOrder, OrderRejected, UnknownOrder
from connector.interface import OrderSnapshot, OrderStatus
from connector.sim.engine import SimEngine
from tests.execution.tracking.harness import QUIET_BTC

BTC = "BTC-PERP"


@pytest.fixture
def engine(clock) -> SimEngine:
    return SimEngine(7, clock=clock, markets=[QUIET_BTC])


def _arm(engine, coi, kind="stop_market", is_ask=True, trigger=None, size=None, **kw):
    return engine.triggers.add(
        BTC, client_order_index=coi, kind=kind, is_ask=is_ask, trigger_price=trigger, size_i=size,
        limit_price=kw.get("limit"), trigger_on="mark", trail_i=kw.get("trail_i"), trail_ppm=None, reduce_only=True,
    )  # fmt: skip


def test_the_venue_fires_a_close_position_stop_without_anyone_listening(engine):
    engine.place(BTC, client_order_index=1, is_ask=False, price_i=0, size_i=300, tif="MARKET")
    mid = engine.mid_i(BTC)
    _arm(engine, 2, trigger=mid - 100)
    engine.set_mid(BTC, mid - 99)
    assert engine.triggers.snapshots() and engine.account.positions[BTC].size_i == 300
    engine.set_mid(BTC, mid - 100)
    assert engine.triggers.snapshots() == [] and engine.account.positions[BTC].size_i == 0
    child = engine.order(BTC, client_order_index=2)
    assert child.status is OrderStatus.FILLED and child.reduce_only and child.is_ask


def test_a_stop_on_a_flat_position_fires_into_a_reduce_only_refusal(engine):
    seen: list = []
    engine.subscribe(seen.append, [])
    mid = engine.mid_i(BTC)
    _arm(engine, 5, trigger=mid - 100)
    engine.set_mid(BTC, mid - 200)
    refused = [e for e in seen if isinstance(e, OrderSnapshot) and e.client_order_index == 5]
    assert refused and refused[-1].status is OrderStatus.REJECTED and "reduce-only" in refused[-1].reason
    assert engine.account.positions[BTC].size_i == 0


def test_the_venue_refuses_what_would_trigger_at_once_and_unknown_cancels(engine):
    mid = engine.mid_i(BTC)
    with pytest.raises(OrderRejected, match="immediately"):
        _arm(engine, 3, trigger=mid + 1)
    with pytest.raises(InvalidOrder):
        _arm(engine, 3, kind="stop_limit", trigger=mid - 10)  # no limit price
    with pytest.raises(UnknownOrder):
        engine.triggers.cancel(BTC, 99)


def test_a_venue_trailing_stop_tightens_only(engine):
    engine.place(BTC, client_order_index=1, is_ask=False, price_i=0, size_i=300, tif="MARKET")
    mid = engine.mid_i(BTC)
    snap = _arm(engine, 4, kind="trailing_stop", trail_i=50)
    assert snap.trigger_price_i == mid - 50
    engine.set_mid(BTC, mid + 100)
    engine.set_mid(BTC, mid + 70)
    assert engine.triggers.snapshots()[0].trigger_price_i == mid + 50
    engine.set_mid(BTC, mid + 50)
    assert engine.triggers.snapshots() == [] and engine.account.positions[BTC].size_i == 0
