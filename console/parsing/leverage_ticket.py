"""Leverage and margin-mode command lines: plain Python, tested directly.

    lev BTC 5  |  lev BTC 5x isolated    leverage (the margin mode stays unless named)
    margin BTC isolated  |  margin BTC cross

``parse_leverage_line`` reads a line into a ``LeverageCommand`` (``runtime.leverage`` carries it
out), or raises ``LeverageLineError`` saying what was expected and where.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.parsing.numbers import parse_int

LEVERAGE_VERBS = ("lev", "leverage", "margin")
LEV_EXAMPLE = "lev BTC 5"
MARGIN_EXAMPLE = "margin BTC isolated"
_MODES = {"cross": True, "isolated": False, "iso": False}


class LeverageLineError(ValueError):
    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class LeverageCommand:
    """``lev`` (``leverage`` set, ``cross`` if a mode was named) or ``margin`` (``cross`` set)."""

    verb: str
    symbol: str
    venue: str | None = None
    leverage: int | None = None
    cross: bool | None = None


def _words(line: str) -> list[tuple[str, int]]:
    out, col = [], 0
    for part in line.split():
        col = line.index(part, col)
        out.append((part, col))
        col += len(part)
    return out


def _mode(word: tuple[str, int]) -> bool:
    cross = _MODES.get(word[0].lower())
    if cross is None:
        raise LeverageLineError(f"expected cross or isolated, got {word[0]!r}", word[1])
    return cross


def parse_leverage_line(line: str) -> LeverageCommand:
    words = _words(line)
    end = len(line)
    verb = "margin" if words[0][0].lower() == "margin" else "lev"
    example = MARGIN_EXAMPLE if verb == "margin" else LEV_EXAMPLE
    if len(words) < 2:
        raise LeverageLineError(f"expected a symbol, e.g. {example}", end)
    text, col = words[1]
    venue, _, symbol = text.rpartition(":")
    if not symbol or not symbol.replace("-", "").replace("_", "").isalnum():
        raise LeverageLineError(f"expected a symbol like BTC or hyperliquid:BTC, got {text!r}", col)
    ref = {"symbol": symbol.upper(), "venue": venue.lower() or None}
    rest = words[2:]
    if verb == "margin":
        if not rest:
            raise LeverageLineError(f"expected cross or isolated, e.g. {MARGIN_EXAMPLE}", end)
        if len(rest) > 1:
            raise LeverageLineError(f"unexpected {rest[1][0]!r} at the end", rest[1][1])
        return LeverageCommand("margin", **ref, cross=_mode(rest[0]))
    if not rest:
        raise LeverageLineError(f"expected a leverage, e.g. {LEV_EXAMPLE}", end)
    word, col = rest[0]
    leverage = parse_int(word.lower().removesuffix("x"))
    if leverage is None or leverage < 1:
        raise LeverageLineError(f"the leverage is a whole number from 1, like 5 or 5x, got {word!r}", col)
    cross = _mode(rest[1]) if len(rest) > 1 else None
    if len(rest) > 2:
        raise LeverageLineError(f"unexpected {rest[2][0]!r} at the end", rest[2][1])
    return LeverageCommand("lev", **ref, leverage=leverage, cross=cross)
