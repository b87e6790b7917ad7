"""Binance USDⓈ-M conditional orders (``native_triggers``) on the venue's algo-order service.

Since the venue moved conditional orders to its algo service, ``STOP_MARKET``, ``TAKE_PROFIT_MARKET``,
``STOP``, ``TAKE_PROFIT`` and ``TRAILING_STOP_MARKET`` are refused by ``POST /fapi/v1/order``
(``-4120``) and go to ``POST /fapi/v1/algoOrder`` with ``algoType=CONDITIONAL``, ``triggerPrice``,
``workingType`` (``MARK_PRICE`` or ``CONTRACT_PRICE``: the last trade) and ``clientAlgoId``; a
whole-position trigger is ``closePosition=true`` without a quantity, a sized one ``reduceOnly=true``.
Cancel is ``DELETE /fapi/v1/algoOrder`` by ``clientAlgoId``; ``GET /fapi/v1/openAlgoOrders`` lists
what the venue holds (so a restart sees armed triggers); ``ALGO_UPDATE`` reports their states on
the user-data stream.  ``clientAlgoId`` is ``pd-<client order index>`` like our orders.
A trailing stop is ``TRAILING_STOP_MARKET`` with ``callbackRate`` (a percent, 0.1 to 5 in steps of
0.1) and no ``activatePrice``, so it trails from the price when it is placed; the venue keeps it only
as a sized reduce-only order (``closePosition`` goes with ``STOP_MARKET`` / ``TAKE_PROFIT_MARKET``),
so ``supports_trigger`` says no (perpdesk emulates it) to a trail in ticks, a rate it cannot express,
or a whole-position trail.
UNCONFIRMED (see docs/venues/binance_usdm.md): the callback rate's range and step, that the order the venue places when a trigger fires
carries the trigger's ``clientAlgoId`` as its ``clientOrderId`` (perpdesk relies on it to follow the
child; otherwise the child shows as an order placed elsewhere), and the response and listing field
names beyond the request's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.binance_usdm import wire
from connector.binance_usdm.rest import SIGNED
from connector.checks import require_ints, require_native_trigger
from connector.errors import InvalidOrder, UnknownOrder, VenueError
from connector.interface import TriggerSnapshot

TYPES = {
    "stop_market": "STOP_MARKET",
    "take_profit_market": "TAKE_PROFIT_MARKET",
    "stop_limit": "STOP",
    "take_profit_limit": "TAKE_PROFIT",
    "trailing_stop": "TRAILING_STOP_MARKET",
}
"""perpdesk trigger kind -> the venue's conditional order type."""
KIND_OF = {v: k for k, v in TYPES.items()}
WORKING = {"mark": "MARK_PRICE", "last": "CONTRACT_PRICE"}
SOURCE_OF = {v: k for k, v in WORKING.items()}
UNKNOWN_ALGO = -2011
CALLBACK_MIN_PPM, CALLBACK_MAX_PPM, CALLBACK_STEP_PPM = 1_000, 50_000, 1_000
"""``callbackRate`` 0.1 % to 5 % in steps of 0.1 % (UNCONFIRMED: the venue's documented bounds have moved)."""


def callback_rate(trail_ppm: int | None) -> str | None:
    """``callbackRate`` for a trail in ppm of the price, or None when the venue cannot express it."""
    if trail_ppm is None or trail_ppm % CALLBACK_STEP_PPM or not CALLBACK_MIN_PPM <= trail_ppm <= CALLBACK_MAX_PPM:
        return None
    return f"{trail_ppm // 10_000}.{trail_ppm % 10_000 // 1_000}"


def fires_on_fall(kind: str, is_ask: bool) -> bool:
    """A sell stop and a buy take-profit wait for the price to fall to their trigger."""
    return is_ask == (kind.startswith("stop") or kind == "trailing_stop")


def on_tick(price_i: int, tick_i: int, up: bool) -> int:
    rest = price_i % tick_i
    return price_i if rest == 0 else price_i - rest + (tick_i if up else 0)


def parse_algo(raw: dict[str, Any], f: wire.Filters) -> TriggerSnapshot:
    """One row of ``openAlgoOrders`` (or the answer to a placement)."""
    kind = KIND_OF.get(str(raw.get("orderType") or raw.get("type")))
    if kind is None:
        raise ValueError(f"binance-usdm: unknown conditional order type {raw.get('orderType')!r}")
    pd, sd = f.price_decimals, f.size_decimals
    whole = str(raw.get("closePosition")).lower() == "true"
    price = wire.px(str(raw.get("price") or "0"), pd)
    trigger = raw.get("triggerPrice") or raw.get("activatePrice") or "0"
    return TriggerSnapshot(
        symbol=f.symbol,
        client_order_index=wire.coi_of(raw.get("clientAlgoId"), raw.get("algoId")),
        kind=kind,
        is_ask=raw.get("side") == "SELL",
        trigger_price_i=wire.px(str(trigger), pd),
        size_i=None if whole else wire.px(str(raw.get("quantity") or "0"), sd),
        limit_price_i=price if kind.endswith("_limit") else None,
        trigger_on=SOURCE_OF.get(str(raw.get("workingType")), "last"),
        reduce_only=whole or str(raw.get("reduceOnly")).lower() == "true",
        ts_ms=int(raw.get("createTime") or raw.get("updateTime") or 0),
        info=raw,
    )


class TriggerOrders:
    """The connector's half for conditional orders (mixed into ``BinanceUsdmConnector``)."""

    trigger_kinds = frozenset(TYPES)
    """The trailing stop only in the forms ``supports_trigger`` accepts."""
    trigger_sources = frozenset(WORKING)
    trigger_follows_position = True
    """``closePosition=true`` closes whatever the position is when it fires."""
    _venue_filters: dict[str, wire.Filters]

    if TYPE_CHECKING:  # provided by the connector

        def _need_rest(self) -> Any: ...

        def _filters(self, symbol: str) -> wire.Filters: ...

        fills: Any

    def supports_trigger(
        self, *, kind: str, size_i: int | None, trigger_on: str, trail_i: int | None, trail_ppm: int | None
    ) -> bool:
        """``ChecksTriggers``: a trailing stop only as a sized rate the venue can express; a limit kind only
        sized (``closePosition`` goes with ``STOP_MARKET`` / ``TAKE_PROFIT_MARKET`` only, UNCONFIRMED on
        the algo service), so a whole-position one is emulated."""
        if kind.endswith("_limit") and size_i is None:
            return False
        if kind != "trailing_stop":
            return kind in self.trigger_kinds and trigger_on in WORKING
        return trigger_on in WORKING and size_i is not None and trail_i is None and callback_rate(trail_ppm) is not None

    async def submit_trigger_order(
        self,
        *,
        symbol: str,
        client_order_index: int,
        kind: str,
        is_ask: bool,
        trigger_price: int | None,
        size_i: int | None,
        limit_price: int | None = None,
        trigger_on: str = "mark",
        trail_i: int | None = None,
        trail_ppm: int | None = None,
        reduce_only: bool = True,
    ) -> str:
        """``POST /fapi/v1/algoOrder``; returns the venue's ``algoId``."""
        require_ints(client_order_index=client_order_index)
        require_native_trigger(
            "binance-usdm", kind, trigger_on, trigger_price, limit_price, kinds=self.trigger_kinds, sources=self.trigger_sources
        )
        if kind == "trailing_stop" and not self.supports_trigger(
            kind=kind, size_i=size_i, trigger_on=trigger_on, trail_i=trail_i, trail_ppm=trail_ppm
        ):
            raise InvalidOrder("binance-usdm keeps a trailing stop only sized, as a rate of 0.1 % to 5 % in 0.1 % steps")
        f = self._filters(symbol)
        pd, sd = f.price_decimals, f.size_decimals
        params: dict[str, Any] = {
            "algoType": "CONDITIONAL", "symbol": symbol, "side": "SELL" if is_ask else "BUY", "type": TYPES[kind],
        }  # fmt: skip
        if size_i is None:
            if not reduce_only:
                raise InvalidOrder("a whole-position trigger is reduce-only")
            params["closePosition"] = "true"
        else:
            require_ints(size_i=size_i)
            wire.check_order(f, price_i=0, size_i=size_i, is_market=True, reduce_only=reduce_only)
            params["quantity"] = wire.to_wire(size_i, sd)
            if reduce_only:
                params["reduceOnly"] = "true"
        if kind == "trailing_stop":
            params["callbackRate"] = callback_rate(trail_ppm)  # activates at once: no activatePrice
        else:
            assert trigger_price is not None  # require_native_trigger: a positive int for every kind but the trail
            # rounded to the tick so it fires no later than asked
            params["triggerPrice"] = wire.to_wire(on_tick(trigger_price, f.tick_i, fires_on_fall(kind, is_ask)), pd)
        if limit_price is not None:
            params["price"] = wire.to_wire(on_tick(limit_price, f.tick_i, is_ask), pd)
            params["timeInForce"] = "GTC"
        params["workingType"] = WORKING[trigger_on]
        params["clientAlgoId"] = wire.client_id(client_order_index)
        self.fills.watch(symbol)  # its child may trade while the private stream is down
        body = await self._need_rest().request(
            "POST", "/fapi/v1/algoOrder", params, security=SIGNED, weight=0, orders=1
        )
        return str(body.get("algoId", "")) if isinstance(body, dict) else ""

    async def cancel_trigger_order(self, symbol: str, client_order_index: int) -> None:
        """``DELETE /fapi/v1/algoOrder``; ``UnknownOrder`` if the venue holds no such armed trigger."""
        self._filters(symbol)
        try:
            await self._need_rest().request(
                "DELETE", "/fapi/v1/algoOrder", {"symbol": symbol, "clientAlgoId": wire.client_id(client_order_index)},
                security=SIGNED, weight=1,
            )  # fmt: skip
        except UnknownOrder:
            raise
        except VenueError as exc:
            if exc.info.get("code") == UNKNOWN_ALGO:
                raise UnknownOrder(f"binance-usdm {symbol}: no armed trigger {client_order_index}") from exc
            raise

    async def get_trigger_orders(self, symbol: str | None = None) -> list[TriggerSnapshot]:
        """``GET /fapi/v1/openAlgoOrders``: the triggers the venue holds (markets we do not list are skipped)."""
        if symbol:
            self._filters(symbol)
        rows = await self._need_rest().request(
            "GET", "/fapi/v1/openAlgoOrders", {"symbol": symbol} if symbol else None, security=SIGNED,
            weight=1 if symbol else 40,
        )  # fmt: skip
        out = [parse_algo(raw, self._venue_filters[raw["symbol"]]) for raw in rows if raw.get("symbol") in self._venue_filters]
        for trigger in out:
            self.fills.watch(trigger.symbol)
        return out
