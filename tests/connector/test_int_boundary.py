"""Defect 2 of issue 12: every ``*_i`` argument at a connector's submit/modify is exactly an ``int``.

A float, bool, Decimal or string is refused with ``InvalidOrder`` naming the field and the fix,
before anything is signed or sent (the connectors here are never started: a request would fail
with something else).
"""

from __future__ import annotations

import asyncio
import functools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.backpack.connector import BackpackConnector
from connector.binance_usdm.connector import BinanceUsdmConnector
from connector.checks import require_int
from connector.errors import InvalidOrder
from connector.hyperliquid.connector import HyperliquidConnector
from connector.lighter.connector import LighterConnector
from connector.sim.connector import SimConnector

WRONG = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(1, 10**12).map(float),
    st.booleans(),
    st.integers(1, 10**9).map(Decimal),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.integers(1, 10**9).map(str),
    st.integers(1, 10**9).map(lambda n: Fraction(n, 1)),
    st.none(),
)

CONNECTORS = {
    "sim": SimConnector,
    "hyperliquid": lambda: HyperliquidConnector(base_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9"),
    "lighter": lambda: LighterConnector(base_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9"),
    "backpack": lambda: BackpackConnector(base_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9"),
    "binance-usdm": lambda: BinanceUsdmConnector(base_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9"),
}


def _refused(call, field: str) -> InvalidOrder:
    with pytest.raises(InvalidOrder) as info:
        asyncio.run(call)
    assert field in str(info.value)
    assert "use md.to_" in str(info.value) or field == "client_order_index"
    return info.value


@pytest.mark.parametrize("venue", list(CONNECTORS))
@settings(max_examples=40, deadline=None)
@given(bad=WRONG, where=st.sampled_from(["price", "base_amount", "client_order_index"]))
def test_submit_limit_refuses_anything_but_int(venue, bad, where):
    conn = CONNECTORS[venue]()
    args = {"price": 100_000, "base_amount": 5, "client_order_index": 17}
    args[where] = bad
    _refused(conn.submit_limit_order(symbol="BTC", is_ask=False, **args), where)


@pytest.mark.parametrize("venue", list(CONNECTORS))
@settings(max_examples=25, deadline=None)
@given(bad=WRONG)
def test_submit_market_refuses_a_size_that_is_not_int(venue, bad):
    conn = CONNECTORS[venue]()
    _refused(conn.submit_market_order(symbol="BTC", client_order_index=1, size_i=bad, is_ask=True), "size_i")


@pytest.mark.parametrize("venue", ["sim", "hyperliquid", "lighter"])
@settings(max_examples=25, deadline=None)
@given(bad=WRONG, where=st.sampled_from(["price", "base_amount"]))
def test_modify_refuses_anything_but_int(venue, bad, where):
    conn = CONNECTORS[venue]()
    args = {"price": 100_000, "base_amount": 5}
    args[where] = bad
    _refused(conn.modify_order(symbol="BTC", client_order_index=3, **args), where)


def test_the_message_names_the_field_and_the_fix():
    with pytest.raises(InvalidOrder, match=r"size_i must be a scaled int, got float 42\.5; use md\.to_size_i"):
        require_int("size_i", 42.5)
    with pytest.raises(InvalidOrder, match=r"price_i .* got bool True; use md\.to_price_i"):
        require_int("price_i", True)
    require_int("size_i", 42)
    require_int("limit_price_i", None, optional=True)


def test_a_native_trigger_is_refused_before_anything_is_built_when_the_venue_cannot_keep_it() -> None:
    from connector.checks import require_native_trigger

    kinds, sources = frozenset({"stop_market", "stop_limit", "trailing_stop"}), frozenset({"mark", "last"})
    check = functools.partial(require_native_trigger, "somevenue", kinds=kinds, sources=sources)
    with pytest.raises(InvalidOrder, match="somevenue keeps no take profit market orders"):
        check("take_profit_market", "mark", 100, None)
    with pytest.raises(InvalidOrder, match="watch the last price or the mark price, not 'index'"):
        check("stop_market", "index", 100, None)
    with pytest.raises(InvalidOrder, match="limit price is required"):
        check("stop_limit", "mark", 100, None)
    with pytest.raises(InvalidOrder, match="scaled int"):
        check("stop_market", "mark", 100.5, None)
    with pytest.raises(InvalidOrder, match="not accepted"):
        check("trailing_stop", "mark", None, 100)
    check("trailing_stop", "last", None, None)  # a trail starts from the price when placed
    check("stop_limit", "mark", 100, 99)
