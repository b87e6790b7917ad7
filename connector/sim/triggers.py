"""Trigger orders the sim venue holds and fires itself (``native_triggers``).

Checked after every market step and every request, against the venue's mark (the sim's
mark is its mid).  When one fires, the venue places its child under the trigger's own
client order index: a MARKET order, or a GTC limit for the ``*_limit`` kinds, reduce-only
unless the trigger was not.  A close-position trigger (``size_i`` None) closes the whole
position at that moment; a sized reduce-only one is clipped to the position.  A child the
engine refuses (the position is already flat, say) is reported REJECTED on the order
stream like any refused order, so whoever placed the trigger hears what became of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from connector.errors import InvalidOrder, OrderRejected, UnknownOrder, VenueError
from connector.interface import TRIGGER_KINDS, TriggerSnapshot

log = logging.getLogger(__name__)

SOURCES = frozenset({"mark", "mid"})


@dataclass(slots=True)
class _Armed:
    snap: TriggerSnapshot
    trail_i: int | None
    trail_ppm: int | None
    best_i: int | None = None


def _falls(kind: str, is_ask: bool) -> bool:
    return is_ask == (kind.startswith("stop") or kind == "trailing_stop")


def _crossed(kind: str, is_ask: bool, trigger_i: int, price_i: int) -> bool:
    return price_i <= trigger_i if _falls(kind, is_ask) else price_i >= trigger_i


class SimTriggers:
    """The venue's book of armed triggers."""

    def __init__(self, engine: Any) -> None:
        """``engine`` is the ``SimEngine`` that owns this book (typed loosely: the engine imports this module)."""
        self.engine = engine
        self._armed: dict[int, _Armed] = {}
        self.fired = 0

    def __bool__(self) -> bool:
        return bool(self._armed)

    def add(
        self,
        symbol: str,
        *,
        client_order_index: int,
        kind: str,
        is_ask: bool,
        trigger_price: int | None,
        size_i: int | None,
        limit_price: int | None,
        trigger_on: str,
        trail_i: int | None,
        trail_ppm: int | None,
        reduce_only: bool,
    ) -> TriggerSnapshot:
        info = self.engine.markets.get(symbol)
        if info is None:
            raise InvalidOrder(f"unknown sim market {symbol!r}")
        if kind not in TRIGGER_KINDS:
            raise InvalidOrder(f"trigger kind must be one of {', '.join(TRIGGER_KINDS)}, not {kind!r}")
        if trigger_on not in SOURCES:
            raise InvalidOrder(f"sim triggers watch {' or '.join(sorted(SOURCES))}, not {trigger_on!r}")
        if client_order_index in self._armed or client_order_index in self.engine._by_coi:
            raise OrderRejected(f"client_order_index {client_order_index} is already used")
        if ("limit" in kind) != (limit_price is not None):
            raise InvalidOrder(f"{kind}: a limit price is {'required' if 'limit' in kind else 'not accepted'}")
        if size_i is None and not reduce_only:
            raise InvalidOrder("a close-position trigger is reduce-only")
        mark = self.engine.mark_i(symbol)
        armed = _Armed(
            TriggerSnapshot(symbol, client_order_index, kind, is_ask, trigger_price or 0, size_i, limit_price,
                            trigger_on, reduce_only, self.engine.clock.now_ms()),
            trail_i, trail_ppm,
        )  # fmt: skip
        if kind == "trailing_stop":
            if (trail_i is None) == (trail_ppm is None):
                raise InvalidOrder("a trailing stop takes exactly one of trail_i or trail_ppm")
            self._trail(armed, mark)
        elif trigger_price is None or trigger_price <= 0:
            raise InvalidOrder(f"{kind} needs a positive trigger price")
        if _crossed(kind, is_ask, armed.snap.trigger_price_i, mark):
            raise OrderRejected(f"the {kind} would trigger immediately (mark {mark})")
        self._armed[client_order_index] = armed
        return armed.snap

    def cancel(self, symbol: str, client_order_index: int) -> TriggerSnapshot:
        armed = self._armed.get(client_order_index)
        if armed is None or armed.snap.symbol != symbol:
            raise UnknownOrder(f"no armed trigger with client_order_index {client_order_index} on {symbol}")
        del self._armed[client_order_index]
        return armed.snap

    def snapshots(self, symbol: str | None = None) -> list[TriggerSnapshot]:
        return [a.snap for a in self._armed.values() if symbol is None or a.snap.symbol == symbol]

    def _trail(self, armed: _Armed, mark: int) -> None:
        s = armed.snap
        best = mark if armed.best_i is None else (max(armed.best_i, mark) if s.is_ask else min(armed.best_i, mark))
        if best == armed.best_i:
            return
        armed.best_i = best
        tick = self.engine.markets[s.symbol].tick_i
        if armed.trail_i is not None:
            distance = armed.trail_i
        else:
            raw = best * (armed.trail_ppm or 0) // 1_000_000
            distance = max(tick, raw - raw % tick)
        new = best - distance if s.is_ask else best + distance
        if s.trigger_price_i:
            new = max(new, s.trigger_price_i) if s.is_ask else min(new, s.trigger_price_i)
        armed.snap = replace(s, trigger_price_i=new)

    def check(self) -> None:
        """Fire every trigger the mark has reached (after a step or a request, never inside one)."""
        for coi, armed in list(self._armed.items()):
            s = armed.snap
            mark = self.engine.mark_i(s.symbol)
            if s.kind == "trailing_stop":
                self._trail(armed, mark)
                s = armed.snap
            if coi in self._armed and _crossed(s.kind, s.is_ask, s.trigger_price_i, mark):
                del self._armed[coi]
                self._fire(s)

    def _fire(self, s: TriggerSnapshot) -> None:
        self.fired += 1
        info = self.engine.markets[s.symbol]
        pos = self.engine.account.positions[s.symbol].size_i
        size = s.size_i
        if s.reduce_only:
            closes = pos != 0 and (pos > 0) == s.is_ask
            whole = abs(pos) if closes else info.min_size_i  # nothing to close: the engine refuses it as reduce-only
            size = whole if size is None else (min(size, abs(pos)) if closes else size)
        assert size is not None
        try:
            self.engine.place(
                s.symbol, client_order_index=s.client_order_index, is_ask=s.is_ask, price_i=s.limit_price_i or 0,
                size_i=size, tif="GTC" if s.limit_price_i is not None else "MARKET", reduce_only=s.reduce_only,
            )  # fmt: skip
        except (VenueError, InvalidOrder) as exc:
            log.info("sim: trigger %s fired, its order was refused: %s", s.client_order_index, exc)
