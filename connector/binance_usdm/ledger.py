"""What the connector remembers about its own orders: enough to amend, to arm the dead-man switch
per symbol, and to pass each fill on once.

Binance's ``PUT /fapi/v1/order`` takes the new *total* quantity (filled part included) and the side,
and ``countdownCancelAll`` works per symbol, so the connector keeps, per client order index, the
symbol, side, size and the largest filled quantity it has seen, and which symbols have live orders.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from connector.interface import Fill, OrderSnapshot

MAX_FINISHED = 2000
MAX_FILLS = 20_000


@dataclass(slots=True)
class OrderRef:
    symbol: str
    order_id: str | None
    is_ask: bool
    size_i: int
    filled_i: int
    post_only: bool
    reduce_only: bool
    live: bool = True


class Ledger:
    def __init__(self) -> None:
        self.orders: OrderedDict[int, OrderRef] = OrderedDict()
        self._fills: OrderedDict[str, None] = OrderedDict()
        self.duplicate_fills = 0

    def placing(self, coi: int, symbol: str, *, is_ask: bool, size_i: int, post_only: bool, reduce_only: bool) -> None:
        self.orders[coi] = OrderRef(symbol, None, is_ask, size_i, 0, post_only, reduce_only)

    def track(self, snap: OrderSnapshot) -> None:
        """Fold in what the venue says about one order (stream or REST); filled never shrinks."""
        ref = self.orders.get(snap.client_order_index)
        if ref is None:
            ref = self.orders[snap.client_order_index] = OrderRef(
                snap.symbol, snap.order_id, snap.is_ask, snap.size_i, snap.filled_i, snap.post_only, snap.reduce_only
            )
        ref.order_id = snap.order_id or ref.order_id
        ref.size_i = snap.size_i or ref.size_i
        ref.filled_i = max(ref.filled_i, snap.filled_i)
        ref.live = snap.status.is_live
        if not ref.live:
            self.orders.move_to_end(snap.client_order_index)
            self._prune()

    def _prune(self) -> None:
        finished = sum(1 for r in self.orders.values() if not r.live)
        for coi in list(self.orders):
            if finished <= MAX_FINISHED:
                break
            if not self.orders[coi].live:
                del self.orders[coi]
                finished -= 1

    def live_symbols(self) -> set[str]:
        return {r.symbol for r in self.orders.values() if r.live}

    def client_index_of(self, order_id: str) -> int | None:
        """The client index of the order the venue numbers ``order_id``, if the ledger knows that id."""
        return next((coi for coi, ref in self.orders.items() if ref.order_id == order_id), None)

    def seen(self, trade_id: str) -> bool:
        return trade_id in self._fills

    def first_sight(self, fill: Fill) -> bool:
        """True the first time a trade id is seen (the stream, a resync and REST can repeat one)."""
        if fill.trade_id in self._fills:
            self.duplicate_fills += 1
            return False
        self._fills[fill.trade_id] = None
        if len(self._fills) > MAX_FILLS:
            self._fills.popitem(last=False)
        return True
