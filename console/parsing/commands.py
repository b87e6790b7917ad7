"""The command bar's grammar: a line a trader can type fast, parsed into a typed command.

    buy 0.1 BTC @ 64950          limit (add ``po`` for post-only, ``ro`` for reduce-only)
    sell 0.1 BTC mkt ro          market, reduce-only
    buy $500 ETH @ 3400          size as quote notional
    chase buy 0.5 BTC to 64950 off 1 [timeout 60] [ro]
    chase buy 0.5 BTC to 0.2% aggr    chase sell 1 SOL trail      (variants)
    scale buy 1 BTC 64000..64500 x10 [inc|dec]                    (see algo_ticket)
    twap sell 2 ETH 30m [x30] [ioc] [limit 3300]
    cancel all [BTC]             close BTC | close all
    cancel last | cancel ID      close BTC 50%              reverse BTC           size BTC 0.02 | size ETH $500
    alert BTC > 66000            alert ETH < 3300
    kill [flat]                  theme NAME                 go BTC
    stop BTC 64000 · tp BTC 67000 50% · bracket BTC sl 64000 tp 67000 · trail BTC 0.5% · be BTC
                                 protective orders (``console.parsing.trigger_ticket``)
    lev BTC 5 · margin BTC isolated   leverage and margin mode (``console.parsing.leverage_ticket``)

Symbols may carry a venue, ``hyperliquid:BTC``.  Numbers stay ``Decimal``: the console turns
them into scaled integers with the market's decimals, where a bad tick is reported.
Parsing knows nothing of markets; a ``CommandError`` says what was expected and where.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from console.parsing.algo_ticket import AlgoLineError, ScaleCommand, TwapCommand, parse_scale, parse_twap
from console.parsing.leverage_ticket import LEVERAGE_VERBS, LeverageCommand, LeverageLineError, parse_leverage_line
from console.parsing.numbers import parse_decimal, parse_int
from console.parsing.trigger_ticket import TRIGGER_VERBS, TriggerCommand, TriggerLineError, parse_trigger_line


class CommandError(ValueError):
    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class SymbolRef:
    symbol: str
    venue: str | None = None


@dataclass(frozen=True, slots=True)
class OrderCommand:
    is_ask: bool
    symbol: SymbolRef
    size: Decimal
    size_is_notional: bool
    price: Decimal | None
    """None means a market order."""
    post_only: bool = False
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class ChaseCommand:
    is_ask: bool
    symbol: SymbolRef
    size: Decimal
    limit_price: Decimal | None = None
    offset_ticks: int = 0
    timeout_s: Decimal | None = None
    reduce_only: bool = False
    limit_pct: Decimal | None = None
    """``to 0.2%``: chase to this percentage of the arrival mid (instead of, or beside, a price)."""
    aggressive: bool = False
    trail: bool = False


@dataclass(frozen=True, slots=True)
class CancelAllCommand:
    symbol: SymbolRef | None = None
    confirmed: bool = False
    """A trailing ``!``: the trader's explicit intent, so no question is asked."""


@dataclass(frozen=True, slots=True)
class CloseCommand:
    symbol: SymbolRef | None
    """None closes every position."""
    confirmed: bool = False
    percent: int = 100
    """``close BTC 50%``: that share of the position, reduce-only."""


@dataclass(frozen=True, slots=True)
class CancelLastCommand:
    """``cancel last``: the newest open order (the ``z`` key)."""


@dataclass(frozen=True, slots=True)
class CancelOrderCommand:
    order_id: str
    """As the Orders tab shows it (the venue's id), or our client order index."""


@dataclass(frozen=True, slots=True)
class ReverseCommand:
    symbol: SymbolRef
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class SizeCommand:
    """``size BTC 0.02`` / ``size ETH $500``: this session's default size for a market."""

    symbol: SymbolRef
    size: Decimal
    size_is_notional: bool


@dataclass(frozen=True, slots=True)
class KillCommand:
    flatten: bool = False
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class ThemeCommand:
    name: str


@dataclass(frozen=True, slots=True)
class GoCommand:
    symbol: SymbolRef


@dataclass(frozen=True, slots=True)
class AlertCommand:
    """``alert BTC > 66000``: tell the trader once the price reaches it (``<``: falls to it)."""

    symbol: SymbolRef
    above: bool
    price: Decimal


Command = (
    OrderCommand | ChaseCommand | CancelAllCommand | CloseCommand | KillCommand | ThemeCommand | GoCommand
    | TriggerCommand | ScaleCommand | TwapCommand
    | CancelLastCommand | CancelOrderCommand | ReverseCommand | SizeCommand | AlertCommand | LeverageCommand
)

VERBS = ("buy", "sell", "chase", "scale", "twap", "cancel", "close", "kill", "theme", "go", "reverse", "size", "alert",
         *TRIGGER_VERBS, *LEVERAGE_VERBS)  # fmt: skip
ALERT_EXAMPLE = "alert BTC > 66000"
ORDER_EXAMPLE = "buy 0.1 BTC @ 64950"
CHASE_EXAMPLE = "chase buy 0.5 BTC to 64950 off 1"


class _Tokens:
    def __init__(self, line: str) -> None:
        self.items: list[tuple[str, int]] = []
        col = 0
        for part in line.split():
            col = line.index(part, col)
            self.items.append((part, col))
            col += len(part)
        self.pos = 0
        self.end = len(line)

    def peek(self) -> str | None:
        return self.items[self.pos][0].lower() if self.pos < len(self.items) else None

    def column(self) -> int:
        return self.items[self.pos][1] if self.pos < len(self.items) else self.end

    def take(self, expected: str) -> str:
        if self.pos >= len(self.items):
            raise CommandError(f"expected {expected}", self.end)
        text = self.items[self.pos][0]
        self.pos += 1
        return text

    def done(self) -> bool:
        return self.pos >= len(self.items)


def _number(tokens: _Tokens, what: str, example: str) -> Decimal:
    col = tokens.column()
    text = tokens.take(f"{what}, e.g. {example}")
    value = parse_decimal(text)
    if value is None:
        raise CommandError(f"expected {what}, got {text!r} (e.g. {example})", col)
    if value <= 0:
        raise CommandError(f"{what} must be a positive number, got {text!r}", col)
    return value


def _symbol(tokens: _Tokens, example: str) -> SymbolRef:
    col = tokens.column()
    text = tokens.take(f"a symbol, e.g. {example}")
    venue, _, symbol = text.rpartition(":")
    if not symbol or not symbol.replace("-", "").replace("_", "").isalnum():
        raise CommandError(f"expected a symbol like BTC or sim:BTC, got {text!r}", col)
    return SymbolRef(symbol.upper(), venue.lower() or None)


def _side(word: str, col: int) -> bool:
    if word in ("buy", "b", "long"):
        return False
    if word in ("sell", "s", "short"):
        return True
    raise CommandError(f"expected buy or sell, got {word!r}", col)


def _order(tokens: _Tokens, is_ask: bool) -> OrderCommand:
    col = tokens.column()
    size_text = tokens.peek() or ""
    notional = size_text.startswith("$")
    if notional:
        tokens.items[tokens.pos] = (tokens.items[tokens.pos][0][1:], col + 1)
    size = _number(tokens, "a size", ORDER_EXAMPLE)
    symbol = _symbol(tokens, ORDER_EXAMPLE)
    price: Decimal | None = None
    priced = False
    post_only = reduce_only = False
    while not tokens.done():
        col = tokens.column()
        word = tokens.take("")
        low = word.lower()
        if low in ("@", "at"):
            price = _number(tokens, "a price after @", ORDER_EXAMPLE)
            priced = True
        elif low.startswith("@") and len(low) > 1:
            tokens.pos -= 1
            tokens.items[tokens.pos] = (word[1:], col + 1)
            price = _number(tokens, "a price after @", ORDER_EXAMPLE)
            priced = True
        elif low in ("mkt", "market"):
            priced = True
        elif low in ("po", "post", "postonly"):
            post_only = True
        elif low in ("ro", "reduce", "reduceonly"):
            reduce_only = True
        else:
            raise CommandError(f"unexpected {word!r}: expected @ PRICE, mkt, po or ro", col)
    if not priced:
        raise CommandError(f"expected @ PRICE or mkt, e.g. {ORDER_EXAMPLE} or sell 0.1 BTC mkt", tokens.end)
    if price is None and post_only:
        raise CommandError("a market order cannot be post-only", tokens.end)
    return OrderCommand(is_ask, symbol, size, notional, price, post_only, reduce_only)


def _chase(tokens: _Tokens) -> ChaseCommand:
    col = tokens.column()
    is_ask = _side((tokens.take(f"buy or sell, e.g. {CHASE_EXAMPLE}")).lower(), col)
    size = _number(tokens, "a size", CHASE_EXAMPLE)
    symbol = _symbol(tokens, CHASE_EXAMPLE)
    limit: Decimal | None = None
    offset = 0
    timeout: Decimal | None = None
    reduce_only = aggressive = trail = False
    limit_pct: Decimal | None = None
    while not tokens.done():
        col = tokens.column()
        word = tokens.take("").lower()
        if word in ("to", "limit", "@") and (tokens.peek() or "").endswith("%"):
            col = tokens.column()
            text = tokens.take("a percentage")
            limit_pct = parse_decimal(text[:-1])
            if limit_pct is None or not 0 < limit_pct < 100:
                raise CommandError(f"chase to a percentage between 0 and 100, e.g. to 0.2%; got {text!r}", col)
        elif word in ("to", "limit", "@"):
            limit = _number(tokens, "a limit price after 'to'", CHASE_EXAMPLE)
        elif word in ("aggr", "aggressive"):
            aggressive = True
        elif word == "trail":
            trail = True
        elif word in ("off", "offset"):
            col = tokens.column()
            text = tokens.take("a tick offset after 'off', e.g. off 1 or off -1")
            ticks = parse_int(text)
            if ticks is None:
                raise CommandError(f"the offset is a whole number of ticks, got {text!r}", col)
            offset = ticks
        elif word == "timeout":
            timeout = _number(tokens, "seconds after 'timeout'", "timeout 60")
        elif word in ("ro", "reduce", "reduceonly"):
            reduce_only = True
        else:
            raise CommandError(
                f"unexpected {word!r}: expected to PRICE, to PCT%, off TICKS, timeout S, aggr, trail or ro", col
            )
    return ChaseCommand(is_ask, symbol, size, limit, offset, timeout, reduce_only, limit_pct, aggressive, trail)


def _percent(tokens: _Tokens) -> int:
    """An optional ``50%`` (or ``50 %``) after ``close SYMBOL``: 1 to 100, 100 when absent."""
    if tokens.done():
        return 100
    col = tokens.column()
    text = tokens.take("")
    if tokens.peek() == "%":
        tokens.take("%")
        text += "%"
    value = parse_int(text[:-1]) if text.endswith("%") else None
    if value is None or not 0 < value <= 100:
        raise CommandError(f"expected a share of the position like 50%, got {text!r}", col)
    return value


def parse(line: str) -> Command:
    """One command line.  ``cancel all``, ``close`` and ``kill`` ask first, as their keys do; a
    trailing ``!`` (``close BTC!``, ``kill flat !``) answers the question in the line itself."""
    stripped = line.rstrip()
    confirmed = stripped.endswith("!")
    if confirmed:
        line = stripped[:-1]
    tokens = _Tokens(line)
    if tokens.done():
        raise CommandError(f"type a command: {', '.join(VERBS)}")
    col = tokens.column()
    verb = tokens.take("a command").lower()
    if confirmed and verb not in ("cancel", "close", "kill", "reverse"):
        raise CommandError(f"a trailing ! answers the question of cancel all, close, reverse and kill; {verb} asks none",
                           len(stripped) - 1)
    if verb in ("buy", "sell", "b", "s", "long", "short"):
        return _order(tokens, _side(verb, col))
    if verb == "chase":
        return _chase(tokens)
    if verb in TRIGGER_VERBS:
        try:
            return parse_trigger_line(line)
        except TriggerLineError as exc:
            raise CommandError(str(exc), exc.column) from None
    if verb in LEVERAGE_VERBS:
        try:
            return parse_leverage_line(line)
        except LeverageLineError as exc:
            raise CommandError(str(exc), exc.column) from None
    if verb in ("scale", "twap"):
        try:
            return parse_scale(line) if verb == "scale" else parse_twap(line)
        except AlgoLineError as exc:
            raise CommandError(str(exc), exc.column) from None
    if verb == "cancel":
        col = tokens.column()
        word = tokens.take("'all', 'last' or an order id, e.g. cancel all, cancel last, cancel 1001")
        if word.lower() not in ("all", "last") and not any(ch.isdigit() for ch in word):
            raise CommandError("expected 'all', 'last' or an order id after cancel, e.g. cancel all BTC, "
                               "cancel last, cancel 1001", col)
        if word.lower() == "all":
            symbol = None if tokens.done() else _symbol(tokens, "cancel all BTC")
            result: Command = CancelAllCommand(symbol, confirmed)
        elif word.lower() == "last":
            result = CancelLastCommand()
        else:
            result = CancelOrderCommand(word)
    elif verb == "close":
        if tokens.peek() == "all":
            tokens.take("all")
            symbol = None
        else:
            symbol = _symbol(tokens, "close BTC")
        result = CloseCommand(symbol, confirmed, _percent(tokens))
    elif verb == "alert":
        symbol = _symbol(tokens, ALERT_EXAMPLE)
        col = tokens.column()
        op = tokens.take(f"> or < and a price, e.g. {ALERT_EXAMPLE}")
        if op[:1] not in (">", "<"):
            raise CommandError(f"expected > or < after the symbol, got {op!r} (e.g. {ALERT_EXAMPLE})", col)
        rest = op.lstrip("<>=")
        if rest:  # ">66000" in one word
            tokens.pos -= 1
            tokens.items[tokens.pos] = (rest, col + len(op) - len(rest))
        result = AlertCommand(symbol, op[0] == ">", _number(tokens, "a price", ALERT_EXAMPLE))
    elif verb == "reverse":
        result = ReverseCommand(_symbol(tokens, "reverse BTC"), confirmed)
    elif verb == "size":
        symbol = _symbol(tokens, "size BTC 0.02")
        notional = (tokens.peek() or "").startswith("$")
        if notional:
            tokens.items[tokens.pos] = (tokens.items[tokens.pos][0][1:], tokens.column() + 1)
        result = SizeCommand(symbol, _number(tokens, "a size", "size BTC 0.02 or size ETH $500"), notional)
    elif verb == "kill":
        flatten = False
        if not tokens.done():
            col = tokens.column()
            if tokens.take("").lower() not in ("flat", "flatten"):
                raise CommandError("expected nothing or 'flat' after kill", col)
            flatten = True
        result = KillCommand(flatten, confirmed)
    elif verb == "theme":
        result = ThemeCommand(tokens.take("a theme name, e.g. theme perpdesk-light"))
    elif verb == "go":
        result = GoCommand(_symbol(tokens, "go ETH"))
    else:
        raise CommandError(f"unknown command {verb!r}: expected one of {', '.join(VERBS)}", col)
    if not tokens.done():
        raise CommandError(f"unexpected {tokens.take('')!r} at the end", tokens.items[tokens.pos - 1][1])
    return result


def complete(line: str, symbols: list[str]) -> list[str]:
    """Candidates for the word being typed: verbs first, then symbols where a symbol goes."""
    words = line.split()
    typing_new = line.endswith(" ") or not words
    partial = "" if typing_new else words[-1]
    index = len(words) if typing_new else len(words) - 1
    if index == 0:
        return [v for v in VERBS if v.startswith(partial.lower())]
    verb = words[0].lower()
    symbol_slot = {"buy": 2, "sell": 2, "b": 2, "s": 2, "chase": 3, "scale": 3, "twap": 3, "close": 1, "go": 1,
                   "reverse": 1, "size": 1, "alert": 1, **dict.fromkeys(TRIGGER_VERBS, 1),
                   **dict.fromkeys(LEVERAGE_VERBS, 1)}.get(verb)  # fmt: skip
    if verb == "cancel":
        symbol_slot = 2
    if index != symbol_slot:
        return []
    prefix = partial.upper()
    return [s for s in symbols if s.upper().startswith(prefix)]
