"""What a person typed into the order panel, checked and turned into scaled integers.

This is the console's Decimal edge: text becomes ``price_i``/``size_i`` here, exactly, or the
field gets an error a trader understands.  Every invalid field is reported at once, and an
order with any error is never sent.  No Textual here, so the rules are tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from connector.interface import QUOTE_DECIMALS, MarketInfo
from connector.scaling import scaled_to_str
from console.parsing.numbers import not_a_number, parse_decimal, to_scaled


@dataclass(frozen=True, slots=True)
class OrderTicket:
    is_ask: bool
    kind: str
    """``limit`` or ``market``."""
    size_i: int
    price_i: int | None
    post_only: bool
    reduce_only: bool
    notional_q: int
    """Size × price (the touch for a market order) in quote units, for the confirmation threshold."""


class OrderFields(TypedDict):
    """What the order panel holds, as ``validate`` takes it (the touch aside)."""

    is_ask: bool
    kind: str
    price_text: str
    size_text: str
    size_in_quote: bool
    post_only: bool
    reduce_only: bool


def notional_q(price_i: int, size_i: int, market: MarketInfo) -> int:
    """Price × size in quote units (rounded down): what the confirmation threshold compares."""
    scale = 10 ** (market.price_decimals + market.size_decimals)
    return price_i * size_i * 10**QUOTE_DECIMALS // scale


def validate(
    market: MarketInfo,
    *,
    is_ask: bool,
    kind: str,
    price_text: str,
    size_text: str,
    size_in_quote: bool,
    post_only: bool,
    reduce_only: bool,
    touch: tuple[int | None, int | None],
) -> tuple[OrderTicket | None, dict[str, str]]:
    """``(ticket, {})`` when the order may be sent, else ``(None, {field: message})``."""
    errors: dict[str, str] = {}
    pd, sd = market.price_decimals, market.size_decimals
    price_i: int | None = None
    if kind == "limit":
        price = parse_decimal(price_text) if price_text.strip() else None
        if not price_text.strip():
            errors["price"] = "enter a price"
        elif price is None:
            errors["price"] = not_a_number(price_text)
        elif price <= 0:
            errors["price"] = "the price must be above zero"
        else:
            price_i = to_scaled(price, pd)
            if price_i is None:
                errors["price"] = f"at most {pd} decimals on {market.base}"
            elif market.tick_i > 1 and price_i % market.tick_i:
                errors["price"] = f"the price moves in steps of {scaled_to_str(market.tick_i, pd)}"
                price_i = None
    elif post_only:
        errors["flags"] = "a market order cannot be post-only"

    bid_i, ask_i = touch
    ref_i = price_i if kind == "limit" else (bid_i if is_ask else ask_i)
    size_i: int | None = None
    size = parse_decimal(size_text) if size_text.strip() else None
    if not size_text.strip():
        errors["size"] = "enter a size"
    elif size is None:
        errors["size"] = not_a_number(size_text)
    elif size <= 0:
        errors["size"] = "the size must be above zero"
    elif size_in_quote:
        quote_q = to_scaled(size, QUOTE_DECIMALS)
        if quote_q is None:
            errors["size"] = f"at most {QUOTE_DECIMALS} decimals for a notional"
        elif ref_i is None or ref_i <= 0:
            if "price" not in errors:
                errors["size"] = "no price to convert the notional: the book is empty"
        else:
            raw = quote_q * 10 ** (pd + sd) // (ref_i * 10**QUOTE_DECIMALS)
            size_i = raw - raw % market.step_i
            if size_i <= 0:
                errors["size"] = "the notional is too small for one size step"
                size_i = None
    else:
        size_i = to_scaled(size, sd)
        if size_i is None:
            errors["size"] = f"at most {sd} decimals on {market.base}"
        elif market.step_i > 1 and size_i % market.step_i:
            errors["size"] = f"the size moves in steps of {scaled_to_str(market.step_i, sd)}"
            size_i = None
    if size_i is not None and size_i < market.min_size_i:
        errors["size"] = f"the minimum size on {market.base} is {scaled_to_str(market.min_size_i, sd)}"
        size_i = None

    if kind == "market" and ref_i is None and "size" not in errors:
        errors["size"] = "no opposite side in the book to trade against"
    if errors or size_i is None:
        return None, errors
    value_q = notional_q(ref_i, size_i, market) if ref_i else 0
    return OrderTicket(is_ask, kind, size_i, price_i, post_only and kind == "limit", reduce_only, value_q), {}
