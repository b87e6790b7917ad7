"""Exact conversion between venue decimal strings, ``Decimal`` and scaled integers.

This is the hot path from wire to book: ``str_to_scaled`` avoids ``Decimal`` for the
common plain-decimal form and falls back to it only for exponents.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

_POW10 = [10**i for i in range(40)]
MAX_DIGITS = 60
"""A venue number with more integer digits than this is refused, not built (see ``decimal_to_scaled``)."""


def str_to_scaled(text: str, decimals: int) -> int:
    """``"64950.5", 1 -> 649505``.  Raises ``ValueError`` if the value needs more decimals."""
    dot = text.find(".")
    if dot < 0:
        if "e" in text or "E" in text:
            return decimal_to_scaled(text, decimals)
        return int(text) * _POW10[decimals]
    n = len(text) - dot - 1
    if n <= decimals and "e" not in text and "E" not in text:
        # int() accepts the sign and rejects a second dot or stray characters
        if n == 0 and (dot == 0 or not text[dot - 1].isdigit()):
            raise ValueError(f"{text!r} is not a number")
        return int(text.replace(".", "", 1)) * _POW10[decimals - n]
    return decimal_to_scaled(text, decimals)


class CachedScaler:
    """``str_to_scaled`` with a bounded memo: book streams repeat the same price and size strings."""

    __slots__ = ("_cache", "decimals", "max_entries")

    def __init__(self, decimals: int, max_entries: int = 50_000) -> None:
        self.decimals = decimals
        self.max_entries = max_entries
        self._cache: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        value = self._cache.get(text)
        if value is None:
            value = str_to_scaled(text if isinstance(text, str) else str(text), self.decimals)
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
            self._cache[text] = value
        return value


_SCALERS: dict[int, CachedScaler] = {}


def scaler(decimals: int) -> CachedScaler:
    """The shared memoised converter for ``decimals`` (the mapping is pure, so one per scale)."""
    found = _SCALERS.get(decimals)
    if found is None:
        found = _SCALERS[decimals] = CachedScaler(decimals)
    return found


class ScaledMemo(dict[str, int]):
    """Wire text -> scaled int for one number of decimals, looked up inline (``memo[text]``, a plain
    dict hit on the hot path); bounded like ``CachedScaler`` (emptied when full).

    A miss is a venue number not seen lately (most new sizes): one written with exactly
    ``decimals`` places, as venues write them, is ``int`` of its digits; anything else, and anything
    ``int`` refuses, goes through ``str_to_scaled``, which gives the same value or raises the same
    ``ValueError``.
    """

    __slots__ = ("decimals", "max_entries")

    def __init__(self, decimals: int, max_entries: int = 50_000) -> None:
        super().__init__()
        self.decimals, self.max_entries = decimals, max_entries

    def __missing__(self, text: str) -> int:
        d = self.decimals
        if type(text) is not str:
            value = str_to_scaled(str(text), d)
        elif d and len(text) > d and text[-d - 1] == ".":
            try:  # the first "." is the last d+1'th character: the digits are the scaled int
                value = int(text.replace(".", "", 1))
            except ValueError:
                value = str_to_scaled(text, d)  # its error, or its reading of an odd form
        else:
            value = str_to_scaled(text, d)
        if len(self) >= self.max_entries:
            self.clear()
        self[text] = value
        return value


def scaled_pairs(levels: Sequence[Sequence[str]] | None, px: ScaledMemo, sz: ScaledMemo) -> tuple[tuple[int, int], ...]:
    """``(price_i, size_i)`` per ``[price, size]`` text pair of a book diff.

    Prices come from the memo (a book's prices recur).  Sizes in a diff are mostly new numbers, which
    a memo would only grow by, so a size written with exactly the scale's decimals (the venues'
    form) is ``int`` of its digits inline; any other form, and any frame where that fails, is read
    through the memo: the same values, or ``str_to_scaled``'s ValueError.
    """
    if not levels:
        return ()
    k = -sz.decimals - 1
    try:
        return tuple([(px[p], int(q.replace(".", "", 1)) if q[k] == "." else sz[q]) for p, q in levels])
    except (ValueError, IndexError, TypeError, AttributeError):
        return tuple([(px[p], sz[q]) for p, q in levels])


_MEMOS: dict[int, ScaledMemo] = {}


def scaled_memo(decimals: int) -> ScaledMemo:
    """The shared memo for ``decimals`` (the mapping is pure, so one per scale)."""
    found = _MEMOS.get(decimals)
    if found is None:
        found = _MEMOS[decimals] = ScaledMemo(decimals)
    return found


def clear_memos() -> None:
    """Empty every memo of venue numbers (as at start-up; the wire bench's cold rounds)."""
    for cached in _SCALERS.values():
        cached._cache.clear()
    for memo in _MEMOS.values():
        memo.clear()


def decimal_to_scaled(value: Decimal | str | int, decimals: int) -> int:
    """Exact: raises ``ValueError`` when ``value`` is not a multiple of ``10**-decimals``."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not d.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if d and d.adjusted() > MAX_DIGITS:  # "709e739682" would build an int of 739 million digits
        raise ValueError(f"{str(value)[:40]!r} is out of range")
    scaled = d.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {decimals} decimals")
    return int(scaled)


def scaled_to_decimal(value_i: int, decimals: int) -> Decimal:
    return Decimal(value_i).scaleb(-decimals)


def scaled_to_str(value_i: int, decimals: int) -> str:
    """Fixed-point text with exactly ``decimals`` places (what a trader reads)."""
    if decimals == 0:
        return str(value_i)
    sign = "-" if value_i < 0 else ""
    q, r = divmod(abs(value_i), _POW10[decimals])
    return f"{sign}{q}.{r:0{decimals}d}"


def money_text(value_q: int, decimals: int = 6) -> str:
    """Quote money as a trader reads it: two decimals, thousands separators, a half cent away from zero.

    ``decimals`` is the scale of ``value_q`` (``QUOTE_DECIMALS`` for account money).  The one money
    formatter: the console's panels and the risk checks' refusals say the same figure.
    """
    sign = "-" if value_q < 0 else ""
    if decimals >= 2:
        half = 5 * _POW10[decimals - 3] if decimals >= 3 else 0
        cents = (abs(value_q) + half) // _POW10[decimals - 2]
    else:
        cents = abs(value_q) * _POW10[2 - decimals]
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


def rescale(value_i: int, from_decimals: int, to_decimals: int) -> int:
    """Change scale; rounds toward zero when dropping digits."""
    if to_decimals >= from_decimals:
        return value_i * _POW10[to_decimals - from_decimals]
    d = _POW10[from_decimals - to_decimals]
    return value_i // d if value_i >= 0 else -((-value_i) // d)
