"""What a person typed into the tracking-limit form (or a ``chase`` line), checked and scaled.

The chase's side of the console's Decimal edge: the fields become the scaled integers
``runtime.tracking.start`` takes, or each bad field gets a message of its own and nothing
starts.  No Textual here, so the rules are tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from connector.interface import MarketInfo
from connector.scaling import scaled_to_str
from console.parsing.numbers import parse_decimal, parse_int, to_scaled

END_ACTIONS = ("cancel", "leave", "cross_market", "cross_ioc")
"""What a chase does when it times out, in the order the form cycles through them."""


@dataclass(frozen=True, slots=True)
class ChaseTicket:
    is_ask: bool
    size_i: int
    offset_ticks: int
    limit_price_i: int | None
    max_chase_ticks: int | None
    timeout_s: float | None
    end_action: str
    post_only: bool
    reduce_only: bool
    aggressive: bool = False
    trail: bool = False
    limit_ppm: int | None = None
    """Chase to this many ppm of the arrival mid (the command bar's ``to 0.2%``)."""


class ChaseFields(TypedDict):
    """The form's text fields as typed, and its toggles."""

    size: str
    limit: str
    offset: str
    max_chase: str
    timeout: str
    is_ask: bool
    end_action: str
    post_only: bool
    reduce_only: bool


def validate_chase(market: MarketInfo, values: ChaseFields) -> tuple[ChaseTicket | None, dict[str, str]]:
    """``(ticket, {})`` or ``(None, {field: message})`` with every bad field."""
    errors: dict[str, str] = {}
    pd, sd = market.price_decimals, market.size_decimals
    size_i = None
    size = parse_decimal(values["size"]) if values["size"].strip() else None
    if not values["size"].strip():
        errors["size"] = "enter a size"
    elif size is None or size <= 0:
        errors["size"] = "the size must be a number above zero"
    else:
        size_i = to_scaled(size, sd)
        if size_i is None:
            errors["size"] = f"at most {sd} decimals on {market.base}"
        elif size_i < market.min_size_i:
            errors["size"] = f"the minimum size on {market.base} is {scaled_to_str(market.min_size_i, sd)}"
            size_i = None
    limit_i = None
    if values["limit"].strip():
        limit = parse_decimal(values["limit"])
        if limit is None or limit <= 0:
            errors["limit"] = "the limit must be a price above zero (or empty for none)"
        else:
            limit_i = to_scaled(limit, pd)
            if limit_i is None:
                errors["limit"] = f"at most {pd} decimals on {market.base}"
    offset = 0
    if values["offset"].strip():
        parsed = parse_int(values["offset"])
        if parsed is None:
            errors["offset"] = "whole ticks: 0 joins, 1 sits behind, -1 improves"
        else:
            offset = parsed
    max_chase = None
    if values["max_chase"].strip():
        max_chase = parse_int(values["max_chase"])
        if max_chase is None or max_chase < 0:
            errors["max_chase"] = "a whole number of ticks, 0 or more (or empty for no cap)"
            max_chase = None
    timeout = None
    if values["timeout"].strip():
        t = parse_decimal(values["timeout"])
        if t is None or t <= 0:
            errors["timeout"] = "seconds above zero (or empty for none)"
        else:
            timeout = float(t)
    if errors or size_i is None:
        return None, errors
    return (
        ChaseTicket(values["is_ask"], size_i, offset, limit_i, max_chase, timeout, values["end_action"],
                    values["post_only"], values["reduce_only"]),
        {},
    )
