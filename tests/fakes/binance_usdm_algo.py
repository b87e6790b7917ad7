"""The fake Binance USDⓈ-M venue's conditional (algo) orders: a mixin of ``FakeBinanceUsdm``.

``POST /fapi/v1/algoOrder`` (``algoType=CONDITIONAL``) arms the order in the sim engine's trigger
book, which watches the mark (``MARK_PRICE``; ``CONTRACT_PRICE`` is watched on the same sim mark,
whose mid stands for the last price) and places the child under the trigger's own client index
when it crosses.  The child reaches the user-data stream as an ``ORDER_TRADE_UPDATE`` whose ``c`` is
the trigger's ``clientAlgoId`` (UNCONFIRMED on the venue) and ``ot`` the conditional type;
``ALGO_UPDATE`` reports ``NEW``, ``CANCELED`` and ``TRIGGERED`` with ``ai`` the child's order id.
``POST /fapi/v1/order`` with a conditional type answers ``-4120`` as the venue does since the move.
A trigger the mark has already passed is refused with ``-2021``; an unknown one with ``-2011``.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector.errors import InvalidOrder, OrderRejected, UnknownOrder
from tests.fakes import binance_usdm_wire as bw
from tests.fakes.binance_usdm_venue import _CLIENT_ID, VenueError, _required

KINDS = {"STOP_MARKET": "stop_market", "TAKE_PROFIT_MARKET": "take_profit_market", "STOP": "stop_limit",
         "TAKE_PROFIT": "take_profit_limit", "TRAILING_STOP_MARKET": "trailing_stop"}  # fmt: skip
_OURS = re.compile(r"^pd-(\d{1,30})$")


class AlgoOrders:
    engine: Any
    listings: dict[str, Any]
    meta: dict[str, bw.OrderMeta]
    client_coi: dict[str, int]

    def __init__(self) -> None:
        self.algos: dict[int, dict[str, Any]] = {}
        """client index -> the listing row of an armed conditional order."""
        self.algo_ends: dict[int, tuple[dict[str, Any], str]] = {}
        self.child_meta: dict[int, bw.OrderMeta] = {}
        """client index of a fired trigger -> the meta its child order is reported with."""
        self._algo_ids = itertools.count(4_000_000_000)

    if TYPE_CHECKING:  # provided by FakeBinanceUsdm and venue.Trading

        def server_ms(self) -> int:
            raise NotImplementedError

        def _symbol(self, p: dict[str, str]) -> str:
            raise NotImplementedError

        def _price(self, symbol: str, text: str) -> int:
            raise NotImplementedError

        def _qty(self, symbol: str, text: str) -> int:
            raise NotImplementedError

        def _push_user(self, payload: dict[str, Any]) -> None:
            raise NotImplementedError

    def ep_algo_new(self, p: dict[str, str]) -> dict[str, Any]:
        if _required(p, "algoType") != "CONDITIONAL":
            raise VenueError(-1116, "Invalid algoType.")
        symbol, side, kind = self._symbol(p), _required(p, "side"), _required(p, "type")
        if kind not in KINDS or side not in ("BUY", "SELL"):
            raise VenueError(-1116, "Invalid orderType.")
        working = p.get("workingType", "CONTRACT_PRICE")
        if working not in ("MARK_PRICE", "CONTRACT_PRICE"):
            raise VenueError(-1102, "Invalid workingType.")
        whole = p.get("closePosition") == "true"
        if whole and (p.get("quantity") or p.get("reduceOnly")):
            raise VenueError(-1106, "Parameter 'quantity' sent when not required.")
        size_i = None if whole else self._qty(symbol, _required(p, "quantity"))
        reduce_only = whole or p.get("reduceOnly") == "true"
        price_i = self._price(symbol, _required(p, "price")) if kind in ("STOP", "TAKE_PROFIT") else None
        trail_ppm = trigger_i = None
        if kind == "TRAILING_STOP_MARKET":
            # a percent, 0.1 to 5 in steps of 0.1; it trails from the mark when placed (activatePrice, when
            # given, is taken as its first trigger: the fake does not model waiting for the activation)
            rate = Decimal(_required(p, "callbackRate"))
            if whole or not Decimal("0.1") <= rate <= 5 or rate % Decimal("0.1"):
                raise VenueError(-1102, "Mandatory parameter 'callbackRate' was not sent, was empty/null, or malformed.")
            trail_ppm = int(rate * 10_000)
            trigger_i = self._price(symbol, p["activatePrice"]) if p.get("activatePrice") else None
        else:
            trigger_i = self._price(symbol, _required(p, "triggerPrice"))
        client_id = _required(p, "clientAlgoId")
        ours = _OURS.match(client_id)
        if not _CLIENT_ID.match(client_id) or ours is None:
            raise VenueError(-4015, "Client order id is not valid.")
        coi = int(ours.group(1))
        try:
            snap = self.engine.triggers.add(
                symbol, client_order_index=coi, kind=KINDS[kind], is_ask=side == "SELL", trigger_price=trigger_i,
                size_i=size_i, limit_price=price_i, trigger_on="mark", trail_i=None, trail_ppm=trail_ppm,
                reduce_only=reduce_only,
            )  # fmt: skip
        except OrderRejected as exc:
            if "immediately" in str(exc):
                raise VenueError(-2021, "Order would immediately trigger.") from None
            raise VenueError(-4116, "clientOrderId is duplicated.") from None
        except InvalidOrder:
            raise VenueError(-1102, "Mandatory parameter was malformed.") from None
        now = self.server_ms()
        row = {
            "algoId": next(self._algo_ids), "clientAlgoId": client_id, "algoType": "CONDITIONAL", "orderType": kind,
            "symbol": symbol, "side": side, "positionSide": "BOTH", "timeInForce": p.get("timeInForce", "GTC"),
            "quantity": "0" if whole else bw.qty(self.engine, symbol, size_i or 0), "algoStatus": "NEW",
            "triggerPrice": bw.px(self.engine, symbol, snap.trigger_price_i) if trigger_i else "0",
            "price": bw.px(self.engine, symbol, price_i) if price_i else "0", "workingType": working,
            "closePosition": whole, "reduceOnly": reduce_only, "priceProtect": False,
            "activatePrice": p.get("activatePrice", "0"), "callbackRate": p.get("callbackRate", "0"),
            "createTime": now, "updateTime": now, "triggerTime": 0, "goodTillDate": 0,
        }  # fmt: skip
        self.algos[coi] = row
        self._push_algo(row, "NEW")
        return dict(row)

    def ep_algo_cancel(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        if p.get("clientAlgoId"):
            coi = next((c for c, r in self.algos.items() if r["clientAlgoId"] == p["clientAlgoId"]), None)
        elif p.get("algoId"):
            coi = next((c for c, r in self.algos.items() if str(r["algoId"]) == p["algoId"]), None)
        else:
            raise VenueError(-1102, "Param 'algoId' or 'clientAlgoId' must be sent, but both were empty/null!")
        if coi is None or self.algos[coi]["symbol"] != symbol:
            raise VenueError(-2011, "Unknown order sent.")
        try:
            self.engine.triggers.cancel(symbol, coi)
        except UnknownOrder:
            raise VenueError(-2011, "Unknown order sent.") from None
        row = self.algos.pop(coi)
        self.algo_ends[coi] = (row, "CANCELED")
        self._push_algo(row, "CANCELED")
        return {"algoId": row["algoId"], "clientAlgoId": row["clientAlgoId"], "code": "200", "msg": "success"}

    def ep_algo_open(self, p: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(p) if p.get("symbol") else None
        self.sweep_algos()
        return [dict(r) for r in self.algos.values() if symbol is None or r["symbol"] == symbol]

    def sweep_algos(self) -> None:
        """Triggers the engine's book fired since the last look: ``TRIGGERED``, their child's meta ready."""
        if not self.algos:
            return
        held = {s.client_order_index for s in self.engine.triggers.snapshots()}
        for coi in [c for c in self.algos if c not in held]:
            row = self.algos.pop(coi)
            child_type = "LIMIT" if row["orderType"] in ("STOP", "TAKE_PROFIT") else "MARKET"
            self.child_meta[coi] = bw.OrderMeta(row["clientAlgoId"], child_type, "GTC", self.server_ms())
            self.client_coi[row["clientAlgoId"]] = coi
            self.algo_ends[coi] = (row, "TRIGGERED")
            self._push_algo(row, "TRIGGERED")

    def child_of(self, coi: int, order_id: str | None) -> bw.OrderMeta | None:
        """The meta of a fired trigger's child (bound to its order id the first time it is seen)."""
        meta = self.child_meta.pop(coi, None)
        if meta is not None and order_id is not None:
            self.meta[order_id] = meta
            row, _ = self.algo_ends[coi]
            row["actualOrderId"] = order_id
        return meta

    def _push_algo(self, row: dict[str, Any], status: str) -> None:
        now = self.server_ms()
        row["algoStatus"], row["updateTime"] = status, now
        o = {"caid": row["clientAlgoId"], "aid": row["algoId"], "at": "CONDITIONAL", "o": row["orderType"],
             "s": row["symbol"], "S": row["side"], "ps": "BOTH", "f": row["timeInForce"], "q": row["quantity"],
             "X": status, "ai": row.get("actualOrderId", ""), "tp": row["triggerPrice"], "p": row["price"],
             "wt": row["workingType"], "cp": row["closePosition"], "R": row["reduceOnly"], "pP": False,
             "tt": now if status == "TRIGGERED" else 0, "gtd": 0}  # fmt: skip
        self._push_user({"e": "ALGO_UPDATE", "T": now, "E": now, "o": o})
