"""What a trader types becomes exact scaled integers, or an inline error; throttled notifications."""

from __future__ import annotations

from connector.clock import VirtualClock
from connector.interface import MarketInfo
from console.notify import Throttle
from console.parsing.order_ticket import validate

BTC = MarketInfo("BTC-PERP", "BTC", "USD", 1, 4, 10)
TICKED = MarketInfo("X-PERP", "X", "USD", 2, 2, 10, tick_i=5, step_i=10)
TOUCH = (649_500, 649_510)


def check(market=BTC, **kw):
    values = dict(is_ask=False, kind="limit", price_text="64950.5", size_text="0.01", size_in_quote=False,
                  post_only=False, reduce_only=False, touch=TOUCH)
    values.update(kw)
    return validate(market, **values)


def test_a_good_limit_order_becomes_scaled_integers_and_a_notional():
    ticket, errors = check(post_only=True)
    assert errors == {}
    assert (ticket.price_i, ticket.size_i, ticket.post_only) == (649_505, 100, True)
    assert ticket.notional_q == 649_505_000  # 649.505 USD


def test_every_bad_field_is_reported_at_once():
    ticket, errors = check(price_text="abc", size_text="-1")
    assert ticket is None
    assert set(errors) == {"price", "size"}


def test_too_many_decimals_and_off_grid_values_are_refused_with_the_step():
    assert "at most 1 decimals" in check(price_text="64950.55")[1]["price"]
    assert "steps of 0.05" in check(TICKED, price_text="1.02", size_text="1")[1]["price"]
    assert "steps of 0.10" in check(TICKED, price_text="1.05", size_text="1.05")[1]["size"]


def test_below_minimum_size_names_the_minimum():
    assert "minimum size on BTC is 0.0010" in check(size_text="0.0009")[1]["size"]


def test_quote_notional_is_converted_at_the_limit_price_rounding_down():
    ticket, _ = check(size_text="1000", size_in_quote=True)
    assert ticket.size_i == 1000 * 10**5 // 649_505


def test_market_order_notional_uses_the_opposite_touch_and_refuses_post_only():
    ticket, _ = check(kind="market", price_text="", size_text="1000", size_in_quote=True)
    assert ticket.price_i is None and ticket.size_i == 1000 * 10**5 // TOUCH[1]
    assert "post-only" in check(kind="market", price_text="", post_only=True)[1]["flags"]


def test_market_order_into_an_empty_book_is_refused():
    assert "no opposite side" in check(kind="market", touch=(None, None))[1]["size"]


def test_throttle_shows_a_few_then_one_summary_per_window():
    clock = VirtualClock()
    shown = []
    throttle = Throttle(clock, limit=3, window_ms=2000)
    for i in range(10):
        throttle.add("fill", f"fill {i}")
    throttle.flush(lambda m, s: shown.append(m))
    assert shown == ["fill 0", "fill 1", "fill 2"]
    clock._now_ns += 2_000 * 1_000_000
    throttle.flush(lambda m, s: shown.append(m))
    assert shown[-1] == "7 more fill notification(s)"


def test_exponent_notation_is_refused_in_the_form_with_an_inline_message():
    ticket, errors = check(size_text="1e3", price_text="6.495E4")
    assert ticket is None
    assert "exponent notation (1e3) is not accepted" in errors["size"]
    assert "exponent notation" in errors["price"]
