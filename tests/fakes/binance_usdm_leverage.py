"""The fake Binance USDⓈ-M venue's leverage and margin-type endpoints (a mixin of ``FakeBinanceUsdm``).

``POST /fapi/v1/leverage`` sets the sim engine's leverage for the symbol (so the initial margin the
fake reports follows it) after checking it is 1..the symbol's maximum (``-4028`` "Leverage N is not
valid" otherwise); ``POST /fapi/v1/marginType`` takes ``ISOLATED`` or ``CROSSED``, answers ``-4046``
when the symbol already is, ``-4048`` with a position and ``-4047`` with open orders; the mode is
recorded only (the engine margins every symbol from one cross balance).  ``GET /fapi/v1/symbolConfig``
lists every symbol's ``marginType`` and ``leverage``, ``GET /fapi/v1/leverageBracket`` one bracket per
symbol up to its maximum leverage.  A new leverage is also told on the user-data
stream as ``ACCOUNT_CONFIG_UPDATE`` (``ac: {s, l}``), as the venue does, and a new margin type as
``ACCOUNT_UPDATE`` with reason ``MARGIN_TYPE_CHANGE`` and the symbol's (empty) position carrying ``mt``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.binance_usdm_venue import VenueError, _required

ENDPOINTS: dict[tuple[str, str], tuple[str, str]] = {
    ("POST", "/fapi/v1/leverage"): ("SIGNED", "ep_leverage"),
    ("POST", "/fapi/v1/marginType"): ("SIGNED", "ep_margin_type"),
    ("GET", "/fapi/v1/symbolConfig"): ("SIGNED", "ep_symbol_config"),
    ("GET", "/fapi/v1/leverageBracket"): ("SIGNED", "ep_leverage_bracket"),
}


class LeverageEndpoints:
    engine: Any
    listings: dict[str, Any]

    def __init__(self) -> None:
        self.margin_types: dict[str, str] = dict.fromkeys(self.listings, "CROSSED")

    if TYPE_CHECKING:  # provided by the fake's other halves

        def server_ms(self) -> int: ...

        def _symbol(self, p: dict[str, str]) -> str: ...

        def _push_user(self, payload: dict[str, Any]) -> None: ...

    def ep_leverage(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        text = _required(p, "leverage")
        top = self.listings[symbol].spec.max_leverage
        if not text.isdigit() or not 1 <= int(text) <= top:
            raise VenueError(-4028, f"Leverage {text} is not valid")
        leverage = int(text)
        self.engine.set_leverage(symbol, leverage)
        now = self.server_ms()
        self._push_user({"e": "ACCOUNT_CONFIG_UPDATE", "E": now, "T": now, "ac": {"s": symbol, "l": leverage}})
        return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": symbol}

    def ep_margin_type(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = self._symbol(p)
        mode = _required(p, "marginType").upper()
        if mode not in ("ISOLATED", "CROSSED"):
            raise VenueError(-1102, "Mandatory parameter 'marginType' was not sent, was empty/null, or malformed.")
        if self.margin_types[symbol] == mode:
            raise VenueError(-4046, "No need to change margin type.")
        if self.engine.account.positions[symbol].size_i:
            raise VenueError(-4048, "Margin type cannot be changed if there exists position.")
        if self.engine.open_orders(symbol):
            raise VenueError(-4047, "Margin type cannot be changed if there exists open orders.")
        self.margin_types[symbol] = mode
        now = self.server_ms()
        self._push_user({
            "e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": {"m": "MARGIN_TYPE_CHANGE", "B": [], "P": [
                {"s": symbol, "pa": "0", "ep": "0", "bep": "0", "cr": "0", "up": "0",
                 "mt": "cross" if mode == "CROSSED" else "isolated", "iw": "0", "ps": "BOTH"}]},
        })  # fmt: skip
        return {"code": 200, "msg": "success"}

    def ep_symbol_config(self, p: dict[str, str]) -> list[dict[str, Any]]:
        symbols = [self._symbol(p)] if p.get("symbol") else sorted(self.listings)
        return [
            {"symbol": s, "marginType": self.margin_types[s], "isAutoAddMargin": "false",
             "leverage": self.engine.account.leverage[s], "maxNotionalValue": "1000000"}
            for s in symbols
        ]  # fmt: skip

    def ep_leverage_bracket(self, p: dict[str, str]) -> list[dict[str, Any]]:
        symbols = [self._symbol(p)] if p.get("symbol") else sorted(self.listings)
        return [
            {"symbol": s, "notionalCoef": 1.0,
             "brackets": [{"bracket": 1, "initialLeverage": self.listings[s].spec.max_leverage,
                           "notionalCap": 1_000_000, "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0}]}
            for s in symbols
        ]  # fmt: skip
