"""Protective-order command lines: what each means, and the scaled request it becomes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.interface import MarketInfo
from console.parsing.commands import CommandError, complete, parse
from console.parsing.trigger_ticket import SizeSpec, TriggerCommand, trigger_request

BTC = MarketInfo("BTC-PERP", "BTC", "USDC", price_decimals=1, size_decimals=4, min_size_i=10, tick_i=1, step_i=1)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("stop BTC 64000", TriggerCommand("stop", "BTC", stop=Decimal(64000))),
        ("sl sim:btc 64000.5 0.01", TriggerCommand("stop", "BTC", "sim", stop=Decimal("64000.5"),
                                                   size=SizeSpec(size=Decimal("0.01")))),
        ("tp BTC 67000 50%", TriggerCommand("tp", "BTC", take_profit=Decimal(67000),
                                            size=SizeSpec(percent=Decimal(50)))),
        ("bracket BTC sl 64000 tp 67000", TriggerCommand("bracket", "BTC", stop=Decimal(64000),
                                                         take_profit=Decimal(67000))),
        ("bracket BTC tp 67000 sl 64000 25%", TriggerCommand("bracket", "BTC", stop=Decimal(64000),
                                                             take_profit=Decimal(67000),
                                                             size=SizeSpec(percent=Decimal(25)))),
        ("trail BTC 0.5%", TriggerCommand("trail", "BTC", trail_percent=Decimal("0.5"))),
        ("trail BTC 50t", TriggerCommand("trail", "BTC", trail_ticks=50)),
        ("be BTC", TriggerCommand("be", "BTC")),
    ],
)  # fmt: skip
def test_good_lines(line, expected):
    assert parse(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("stop", "expected a symbol"),
        ("stop BTC", "trigger price"),
        ("stop BTC -5", "price above zero"),
        ("tp BTC 67000 150%", "1% to 100%"),
        ("bracket BTC sl 64000", "both sl PRICE and tp PRICE"),
        ("bracket BTC sl 64000 tp", "a price after tp"),
        ("trail BTC", "one distance"),
        ("trail BTC 1.5t", "0.5% or 50t"),
        ("be BTC now", "only a symbol"),
        ("stop BTC 64000 0.01 more", "at the end"),
    ],
)
def test_bad_lines_say_what_was_expected(line, message):
    with pytest.raises(CommandError, match=message):
        parse(line)


def test_the_symbol_completes_after_a_trigger_verb():
    assert complete("stop B", ["BTC", "ETH"]) == ["BTC"]
    assert "bracket" in complete("br", [])


def test_requests_protect_the_open_position():
    req, err = trigger_request(parse("stop BTC 64000"), BTC, 100)
    assert err == "" and req == {"call": "place", "kind": "stop_market", "is_ask": True, "trigger_price_i": 640_000,
                                 "size_i": None}  # fmt: skip
    req, _ = trigger_request(parse("tp BTC 63000 50%"), BTC, -300)
    assert req["kind"] == "take_profit_market" and req["is_ask"] is False and req["size_i"] == 150
    req, _ = trigger_request(parse("bracket BTC sl 64000 tp 67000"), BTC, 100)
    assert req == {"call": "bracket", "stop_price_i": 640_000, "take_profit_price_i": 670_000, "size_i": None}
    assert trigger_request(parse("trail BTC 0.5%"), BTC, 100)[0]["trail_ppm"] == 5_000
    assert trigger_request(parse("trail BTC 40t"), BTC, 100)[0]["trail_ticks"] == 40
    assert trigger_request(parse("be BTC"), BTC, 100)[0] == {"call": "breakeven"}


def test_requests_refuse_what_cannot_be_sent():
    assert trigger_request(parse("stop BTC 64000"), BTC, 0) == (None, "no position on BTC to protect")
    assert "decimals" in trigger_request(parse("stop BTC 64000.05"), BTC, 100)[1]
    assert "minimum" in trigger_request(parse("stop BTC 64000 1%"), BTC, 100)[1]
    assert "4 decimals" in trigger_request(parse("trail BTC 0.00001%"), BTC, 100)[1]


@given(position=st.integers(-10**9, 10**9).filter(bool), pct=st.integers(1, 100))
def test_a_share_of_the_position_never_exceeds_it(position, pct):
    req, err = trigger_request(parse(f"stop BTC 64000 {pct}%"), BTC, position)
    if req is not None:
        assert BTC.min_size_i <= req["size_i"] <= abs(position) and req["is_ask"] == (position > 0)
    else:
        assert "minimum" in err
