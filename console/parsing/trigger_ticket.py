"""Protective-order command lines, parsed and scaled: plain Python, tested directly.

    stop BTC 64000 [0.01 | 50%]            a stop-market for the position (all of it by default)
    tp BTC 67000 [0.01 | 50%]              a take-profit-market
    bracket BTC sl 64000 tp 67000 [50%]    both, one-cancels-other
    trail BTC 0.5%  |  trail BTC 50t       a trailing stop, as a percentage or in ticks
    be BTC                                 move the stop to breakeven (or place one there)

Each protects the position that is open on the market, so its side is the one that closes it.
``parse_trigger_line`` reads a line; ``trigger_request`` turns it into the scaled keyword
arguments ``runtime.triggers`` takes, or a message saying what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.interface import MarketInfo
from connector.scaling import scaled_to_str
from console.parsing.numbers import parse_decimal, parse_int, to_scaled

TRIGGER_VERBS = ("stop", "sl", "tp", "bracket", "trail", "be")
STOP_EXAMPLE = "stop BTC 64000"
TP_EXAMPLE = "tp BTC 67000 50%"
BRACKET_EXAMPLE = "bracket BTC sl 64000 tp 67000"
TRAIL_EXAMPLE = "trail BTC 0.5%"


class TriggerLineError(ValueError):
    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class SizeSpec:
    """A size in base units, or a percentage of the position; neither means the whole position."""

    size: Decimal | None = None
    percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TriggerCommand:
    """``stop`` / ``tp`` / ``bracket`` / ``trail`` / ``be`` on ``symbol`` (``venue`` if named)."""

    verb: str
    """``stop``, ``tp``, ``bracket``, ``trail`` or ``be``."""
    symbol: str
    venue: str | None = None
    stop: Decimal | None = None
    take_profit: Decimal | None = None
    size: SizeSpec = SizeSpec()
    trail_percent: Decimal | None = None
    trail_ticks: int | None = None


def _words(line: str) -> list[tuple[str, int]]:
    out, col = [], 0
    for part in line.split():
        col = line.index(part, col)
        out.append((part, col))
        col += len(part)
    return out


def _price(word: tuple[str, int] | None, what: str, example: str, end: int) -> Decimal:
    if word is None:
        raise TriggerLineError(f"expected {what}, e.g. {example}", end)
    value = parse_decimal(word[0])
    if value is None or value <= 0:
        raise TriggerLineError(f"expected {what} (a price above zero), got {word[0]!r}", word[1])
    return value


def _size(word: tuple[str, int]) -> SizeSpec:
    text, col = word
    if text.endswith("%"):
        pct = parse_decimal(text[:-1])
        if pct is None or not 0 < pct <= 100:
            raise TriggerLineError(f"a share of the position is 1% to 100%, got {text!r}", col)
        return SizeSpec(percent=pct)
    size = parse_decimal(text)
    if size is None or size <= 0:
        raise TriggerLineError(f"expected a size or a share of the position like 50%, got {text!r}", col)
    return SizeSpec(size=size)


def parse_trigger_line(line: str) -> TriggerCommand:
    words = _words(line)
    end = len(line)
    verb = words[0][0].lower()
    verb = "stop" if verb == "sl" else verb
    if len(words) < 2:
        raise TriggerLineError(f"expected a symbol, e.g. {STOP_EXAMPLE}", end)
    text, col = words[1]
    venue, _, symbol = text.rpartition(":")
    if not symbol or not symbol.replace("-", "").replace("_", "").isalnum():
        raise TriggerLineError(f"expected a symbol like BTC or sim:BTC, got {text!r}", col)
    ref = {"symbol": symbol.upper(), "venue": venue.lower() or None}
    rest = words[2:]
    if verb == "be":
        if rest:
            raise TriggerLineError(f"unexpected {rest[0][0]!r}: be takes only a symbol", rest[0][1])
        return TriggerCommand("be", **ref)
    if verb == "trail":
        if len(rest) != 1:
            at = rest[1][1] if len(rest) > 1 else end
            raise TriggerLineError(f"expected one distance, e.g. {TRAIL_EXAMPLE} or trail BTC 50t", at)
        word, col = rest[0]
        if word.endswith("%"):
            pct = parse_decimal(word[:-1])
            if pct is None or not 0 < pct < 100:
                raise TriggerLineError(f"the trail is a percentage above 0 and below 100, got {word!r}", col)
            return TriggerCommand("trail", **ref, trail_percent=pct)
        ticks = parse_int(word.lower().removesuffix("ticks").removesuffix("t"))
        if ticks is None or ticks <= 0:
            raise TriggerLineError(f"expected a trail like 0.5% or 50t (ticks), got {word!r}", col)
        return TriggerCommand("trail", **ref, trail_ticks=ticks)
    if verb == "bracket":
        prices: dict[str, Decimal] = {}
        i = 0
        while i < len(rest) and rest[i][0].lower() in ("sl", "stop", "tp"):
            key = "tp" if rest[i][0].lower() == "tp" else "sl"
            prices[key] = _price(rest[i + 1] if i + 1 < len(rest) else None, f"a price after {key}",
                                 BRACKET_EXAMPLE, end)  # fmt: skip
            i += 2
        if set(prices) != {"sl", "tp"}:
            raise TriggerLineError(f"a bracket needs both sl PRICE and tp PRICE, e.g. {BRACKET_EXAMPLE}",
                                   rest[i][1] if i < len(rest) else end)  # fmt: skip
        size = _size(rest[i]) if i < len(rest) else SizeSpec()
        if i + 1 < len(rest):
            raise TriggerLineError(f"unexpected {rest[i + 1][0]!r} at the end", rest[i + 1][1])
        return TriggerCommand("bracket", **ref, stop=prices["sl"], take_profit=prices["tp"], size=size)
    example = STOP_EXAMPLE if verb == "stop" else TP_EXAMPLE
    price = _price(rest[0] if rest else None, "a trigger price", example, end)
    size = _size(rest[1]) if len(rest) > 1 else SizeSpec()
    if len(rest) > 2:
        raise TriggerLineError(f"unexpected {rest[2][0]!r} at the end", rest[2][1])
    if verb == "stop":
        return TriggerCommand("stop", **ref, stop=price, size=size)
    return TriggerCommand("tp", **ref, take_profit=price, size=size)


def _scaled_price(market: MarketInfo, value: Decimal, what: str) -> tuple[int | None, str]:
    price_i = to_scaled(value, market.price_decimals)
    if price_i is None:
        return None, f"{what}: at most {market.price_decimals} decimals on {market.base}"
    if price_i % market.tick_i:
        tick = scaled_to_str(market.tick_i, market.price_decimals)
        return None, f"{what}: {value} is not on the {tick} tick of {market.base}"
    return price_i, ""


def _scaled_size(market: MarketInfo, spec: SizeSpec, position_i: int) -> tuple[int | None, str]:
    """None with no message = the whole position."""
    if spec.percent is not None:
        raw = int(abs(position_i) * spec.percent / 100)
        size_i = raw - raw % market.step_i
    elif spec.size is not None:
        size_i = to_scaled(spec.size, market.size_decimals)
        if size_i is None:
            return None, f"size: at most {market.size_decimals} decimals on {market.base}"
    else:
        return None, ""
    if size_i < market.min_size_i:
        return None, f"size: below the minimum {scaled_to_str(market.min_size_i, market.size_decimals)} {market.base}"
    return size_i, ""


def trigger_request(cmd: TriggerCommand, market: MarketInfo, position_i: int) -> tuple[dict[str, Any] | None, str]:
    """``(keyword arguments for runtime.triggers, "")`` or ``(None, what is wrong)``.

    The keywords carry a ``call``: ``place``, ``bracket`` or ``breakeven``.
    """
    if position_i == 0:
        return None, f"no position on {market.base} to protect"
    is_ask = position_i > 0
    if cmd.verb == "be":
        return {"call": "breakeven"}, ""
    if cmd.verb == "trail":
        if cmd.trail_ticks is not None:
            return {"call": "place", "kind": "trailing_stop", "is_ask": is_ask, "trail_ticks": cmd.trail_ticks}, ""
        assert cmd.trail_percent is not None
        ppm = cmd.trail_percent * 10_000
        if ppm != ppm.to_integral_value():
            return None, "the trail has at most 4 decimals of a percent"
        return {"call": "place", "kind": "trailing_stop", "is_ask": is_ask, "trail_ppm": int(ppm)}, ""
    size_i, error = _scaled_size(market, cmd.size, position_i)
    if error:
        return None, error
    if cmd.verb == "bracket":
        assert cmd.stop is not None and cmd.take_profit is not None
        sl, e1 = _scaled_price(market, cmd.stop, "sl")
        tp, e2 = _scaled_price(market, cmd.take_profit, "tp")
        if sl is None or tp is None:
            return None, e1 or e2
        return {"call": "bracket", "stop_price_i": sl, "take_profit_price_i": tp, "size_i": size_i}, ""
    value = cmd.stop if cmd.verb == "stop" else cmd.take_profit
    assert value is not None
    price_i, error = _scaled_price(market, value, "trigger")
    if price_i is None:
        return None, error
    kind = "stop_market" if cmd.verb == "stop" else "take_profit_market"
    return {"call": "place", "kind": kind, "is_ask": is_ask, "trigger_price_i": price_i, "size_i": size_i}, ""
