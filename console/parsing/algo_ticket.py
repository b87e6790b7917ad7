"""The command bar's working orders: ``scale`` and ``twap`` lines, and their previews.

    scale buy 1 BTC 64000..64500 x10 [inc|dec|flat] [ro] [taker]
    twap sell 2 ETH 30m [x30] [ioc] [limit 3300] [jitter 10%] [ro]

A scale places ``xN`` limits from the first price to the second (``inc``: sizes growing towards
the second, ``dec``: shrinking; flat by default), post-only unless ``taker``.  A TWAP works the size
over the duration (``90s``, ``30m``, ``1h``, ``1h30m``) in ``xN`` slices (one a minute by default,
at least one), each a chase or, with ``ioc``, a marketable IOC; ``limit`` is a price it never
crosses; ``jitter`` moves each slice by up to that share of the interval.

Plain Python: numbers stay ``Decimal`` (the screen scales them with the market's decimals), and the
previews are built from integers and the formatters the screen passes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from console.parsing.numbers import parse_decimal

if TYPE_CHECKING:
    from console.parsing.chase_ticket import ChaseTicket

SCALE_EXAMPLE = "scale buy 1 BTC 64000..64500 x10"
TWAP_EXAMPLE = "twap sell 2 ETH 30m x30"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MAX_SLICES = 1_000
PREVIEW_ROWS = 12


class AlgoLineError(ValueError):
    """What was expected, and the column it was expected at."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class ScaleCommand:
    is_ask: bool
    symbol: str
    venue: str | None
    size: Decimal
    from_price: Decimal
    to_price: Decimal
    count: int
    distribution: str = "flat"
    post_only: bool = True
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class TwapCommand:
    is_ask: bool
    symbol: str
    venue: str | None
    size: Decimal
    duration_s: int
    slices: int
    slice_mode: str = "chase"
    limit_price: Decimal | None = None
    jitter: Decimal = Decimal(0)
    reduce_only: bool = False


class _Words:
    def __init__(self, line: str) -> None:
        self.items: list[tuple[str, int]] = []
        col = 0
        for part in line.split():
            col = line.index(part, col)
            self.items.append((part, col))
            col += len(part)
        self.pos = 0
        self.end = len(line)

    def column(self) -> int:
        return self.items[self.pos][1] if self.pos < len(self.items) else self.end

    def take(self, expected: str) -> str:
        if self.pos >= len(self.items):
            raise AlgoLineError(f"expected {expected}", self.end)
        self.pos += 1
        return self.items[self.pos - 1][0]

    def done(self) -> bool:
        return self.pos >= len(self.items)


def _positive(words: _Words, what: str, example: str, text: str | None = None, col: int | None = None) -> Decimal:
    col = words.column() if col is None else col
    text = words.take(f"{what}, e.g. {example}") if text is None else text
    value = parse_decimal(text)
    if value is None or value <= 0:
        raise AlgoLineError(f"expected {what} (a positive number), got {text!r}; e.g. {example}", col)
    return value


def _head(words: _Words, example: str) -> tuple[bool, Decimal, str, str | None]:
    col = words.column()
    side = words.take(f"buy or sell, e.g. {example}").lower()
    if side not in ("buy", "sell", "b", "s", "long", "short"):
        raise AlgoLineError(f"expected buy or sell, got {side!r}", col)
    size = _positive(words, "a size", example)
    col = words.column()
    text = words.take(f"a symbol, e.g. {example}")
    venue, _, symbol = text.rpartition(":")
    if not symbol or not symbol.replace("-", "").replace("_", "").isalnum():
        raise AlgoLineError(f"expected a symbol like BTC or sim:BTC, got {text!r}", col)
    return side in ("sell", "s", "short"), size, symbol.upper(), venue.lower() or None


def _count(words: _Words, word: str, col: int, what: str) -> int:
    text = word[1:]
    if not text:  # "x 10"
        col = words.column()
        text = words.take(f"a number of {what} after x, e.g. x10")
    if not text.isdigit() or int(text) < 1:
        raise AlgoLineError(f"the number of {what} is a whole number of at least 1, got {text!r}", col)
    return int(text)


def parse_duration(text: str) -> int | None:
    """``90s``, ``30m``, ``1h``, ``1h30m`` or plain seconds -> whole seconds; None if not a duration."""
    low = text.lower()
    if low.isdigit():
        return int(low)
    match = _DURATION.match(low)
    if not match or not any(match.groups()):
        return None
    h, m, s = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s


def parse_scale(line: str) -> ScaleCommand:
    """A ``scale ...`` line (the verb included)."""
    words = _Words(line)
    words.take("scale")
    is_ask, size, symbol, venue = _head(words, SCALE_EXAMPLE)
    col = words.column()
    text = words.take(f"a price range, e.g. 64000..64500 ({SCALE_EXAMPLE})")
    low, sep, high = text.partition("..")
    if not sep:
        raise AlgoLineError(f"expected a price range FROM..TO, got {text!r}; e.g. {SCALE_EXAMPLE}", col)
    first = _positive(words, "the first price", SCALE_EXAMPLE, low, col)
    second = _positive(words, "the second price", SCALE_EXAMPLE, high, col + len(low) + 2)
    count: int | None = None
    distribution, post_only, reduce_only = "flat", True, False
    while not words.done():
        col = words.column()
        word = words.take("").lower()
        if word.startswith("x"):
            count = _count(words, word, col, "orders")
        elif word in ("inc", "increasing", "dec", "decreasing", "flat"):
            distribution = {"inc": "increasing", "dec": "decreasing"}.get(word, word)
        elif word in ("ro", "reduce", "reduceonly"):
            reduce_only = True
        elif word in ("taker", "nopo"):
            post_only = False
        else:
            raise AlgoLineError(f"unexpected {word!r}: expected xN, inc, dec, flat, ro or taker", col)
    if count is None:
        raise AlgoLineError(f"expected the number of orders, e.g. x10 ({SCALE_EXAMPLE})", words.end)
    return ScaleCommand(is_ask, symbol, venue, size, first, second, count, distribution, post_only, reduce_only)


def parse_twap(line: str) -> TwapCommand:
    """A ``twap ...`` line (the verb included)."""
    words = _Words(line)
    words.take("twap")
    is_ask, size, symbol, venue = _head(words, TWAP_EXAMPLE)
    col = words.column()
    text = words.take(f"a duration, e.g. 30m ({TWAP_EXAMPLE})")
    duration = parse_duration(text)
    if not duration:
        raise AlgoLineError(f"expected a duration like 90s, 30m, 1h or 1h30m, got {text!r}", col)
    slices: int | None = None
    mode, limit, jitter, reduce_only = "chase", None, Decimal(0), False
    while not words.done():
        col = words.column()
        word = words.take("").lower()
        if word.startswith("x"):
            slices = _count(words, word, col, "slices")
        elif word == "ioc":
            mode = "ioc"
        elif word == "chase":
            mode = "chase"
        elif word in ("limit", "to", "@"):
            limit = _positive(words, "a limit price after 'limit'", "limit 3300")
        elif word == "jitter":
            col = words.column()
            raw = words.take("a jitter after 'jitter', e.g. jitter 10%")
            pct = parse_decimal(raw.rstrip("%"))
            if pct is None or not raw.endswith("%") or not 0 <= pct < 50:
                raise AlgoLineError(f"the jitter is a share of the interval below 50%, e.g. 10%; got {raw!r}", col)
            jitter = pct / 100
        elif word in ("ro", "reduce", "reduceonly"):
            reduce_only = True
        else:
            raise AlgoLineError(f"unexpected {word!r}: expected xN, ioc, limit PRICE, jitter N% or ro", col)
    if slices is None:
        slices = max(1, min(MAX_SLICES, duration // 60))
    if slices > MAX_SLICES or slices > duration:
        raise AlgoLineError(f"at most {min(MAX_SLICES, duration)} slices over {duration} s", words.end)
    return TwapCommand(is_ask, symbol, venue, size, duration, slices, mode, limit, jitter, reduce_only)


def duration_text(seconds: int) -> str:
    """``1h30m``, ``30m``, ``45s``, ``2m30s``."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def scale_preview(
    prices_i: Sequence[int],
    sizes_i: Sequence[int],
    problems: Sequence[str | None],
    price: Callable[[int], str],
    size: Callable[[int], str],
) -> list[str]:
    """One line per order: number, price, size, and why the venue would refuse it (if it would)."""
    lines = []
    for k, (p, s, problem) in enumerate(zip(prices_i, sizes_i, problems, strict=True), start=1):
        if len(prices_i) > PREVIEW_ROWS and PREVIEW_ROWS - 2 < k < len(prices_i):
            if k == PREVIEW_ROWS - 1:
                lines.append(f"  … {len(prices_i) - PREVIEW_ROWS + 1} more")
            continue
        lines.append(f"#{k:<3} {price(p):>14}  {size(s):>12}" + (f"  refused: {problem}" if problem else ""))
    return lines


def twap_preview(starts_ms: Sequence[int], sizes_i: Sequence[int], size: Callable[[int], str]) -> list[str]:
    """The slice schedule: when each slice starts (from now) and what it is planned to work."""
    lines = []
    n = len(starts_ms)
    for k, (start, s) in enumerate(zip(starts_ms, sizes_i, strict=True), start=1):
        if n > PREVIEW_ROWS and PREVIEW_ROWS - 2 < k < n:
            if k == PREVIEW_ROWS - 1:
                lines.append(f"  … {n - PREVIEW_ROWS + 1} more")
            continue
        sec = start // 1000
        lines.append(f"slice {k:<4} +{sec // 60}:{sec % 60:02d}  {size(s):>12}")
    return lines


def pct_to_ppm(pct: Decimal) -> int:
    """``0.2`` (%) -> 2000 ppm; ``ValueError`` when it is finer than 1 ppm (0.0001 %)."""
    ppm = pct * 10_000
    if ppm != ppm.to_integral_value() or not 0 < ppm < 1_000_000:
        raise ValueError(f"a chase-to percentage is between 0.0001% and 99.9999% in steps of 0.0001%, got {pct}%")
    return int(ppm)


def with_variants(ticket: ChaseTicket, aggressive: bool, trail: bool, limit_pct: Decimal | None) -> ChaseTicket:
    """The command bar's chase variants (``aggr``, ``trail``, ``to N%``) on a validated ticket."""
    ppm = pct_to_ppm(limit_pct) if limit_pct is not None else None
    return replace(ticket, aggressive=aggressive, trail=trail, limit_ppm=ppm)
