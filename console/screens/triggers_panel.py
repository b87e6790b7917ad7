"""What the Triggers tab shows: one row per protective order, with how far its trigger is from the mark.

Plain Python (no Textual), so the rows are tested directly; ``MainScreen`` paints them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from execution.market import MarketDataService
    from execution.triggers import Trigger, TriggerManager

TRIGGER_COLUMNS = [
    ("id", "Trigger"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("kind", "Kind"),
    ("size", "Size"),
    ("trigger", "Trigger @"),
    ("ticks", "Ticks"),
    ("pct", "From mark"),
    ("held", "Held by"),
    ("state", "State"),
]

KIND_TEXT = {
    "stop_market": "stop",
    "stop_limit": "stop limit",
    "take_profit_market": "take-profit",
    "take_profit_limit": "TP limit",
    "trailing_stop": "trailing stop",
}


def distance(trigger_i: int | None, mark_i: int | None, tick_i: int) -> tuple[str, str]:
    """``(ticks, basis points)`` from the mark to the trigger, signed (negative: below the mark).

    Basis points with one decimal (``-12.5 bp``): a stop a few dozen ticks away still reads as a number
    (a percent would need three decimals there), and a wide one stays short (``+468.7 bp``)."""
    if trigger_i is None or not mark_i:
        return "-", "-"
    diff = trigger_i - mark_i
    ticks = diff // tick_i if diff >= 0 else -(-diff // tick_i)
    tenths = abs(diff) * 100_000 // mark_i  # tenths of a basis point, toward zero
    sign = "-" if diff < 0 else "+"
    return f"{ticks:+d}", f"{sign}{tenths // 10}.{tenths % 10} bp"


def held_text(t: Trigger) -> str:
    return "venue" if t.native else "perpdesk (emulated)"


def trigger_row(t: Trigger, md: MarketDataService, manager: TriggerManager, label: str) -> tuple[str, ...]:
    venue, symbol = t.venue, t.symbol
    mark = manager.price_i(venue, symbol, "mark")
    ticks, pct = distance(t.trigger_price_i, mark, md.market(venue, symbol).tick_i)
    size = "all" if t.params.size_i is None else md.format_size(venue, symbol, t.params.size_i)
    price = md.format_price(venue, symbol, t.trigger_price_i) if t.trigger_price_i else "-"
    state = str(t.state.value)
    if t.is_done and t.end_reason:
        state = f"{state}: {t.end_reason}"
    side = "SELL" if t.is_ask else "BUY"
    return (label, symbol, side, KIND_TEXT.get(str(t.kind), str(t.kind)), size, price, ticks, pct, held_text(t), state)


def ladder_marks(manager: TriggerManager, venue: str, symbol: str) -> dict[int, str]:
    """Price -> ``stop`` or ``take-profit`` (``~`` suffix when emulated) for the armed triggers on a market."""
    marks: dict[int, str] = {}
    for t in manager.on(venue, symbol):
        if t.trigger_price_i is not None and str(t.state.value) == "ARMED":
            marks[t.trigger_price_i] = ("stop" if t.kind.is_stop else "take-profit") + ("" if t.native else "~")
    return marks
