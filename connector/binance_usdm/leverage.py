"""Binance USDⓈ-M leverage and margin mode per symbol (``leverage``), mixed into ``BinanceUsdmConnector``.

``set_leverage`` sends ``POST /fapi/v1/marginType`` (``CROSSED`` / ``ISOLATED``; the venue answers
``-4046`` "No need to change margin type." when it already is, which is not an error) and then
``POST /fapi/v1/leverage``, both signed like every private request.  ``get_leverage`` reads
``GET /fapi/v1/symbolConfig`` (every symbol's ``leverage`` and ``marginType``), so the Positions tab
and the margin check start from what the account has set rather than a guess.  ``exchangeInfo``
carries no leverage, so with a key each market's ``max_leverage`` comes from ``leverageBracket``
(without one it stays 1: nothing is traded then).  The venue refuses a
margin-type change while the symbol has a position (``-4048``) or open orders (``-4047``) and a
leverage it does not allow (``-4028``): those come back as ``InvalidOrder`` with the venue's words.
UNCONFIRMED (see docs/venues/binance_usdm.md): the ``symbolConfig`` field names beyond ``symbol``,
``marginType`` and ``leverage``; ``leverageBracket`` rows as ``{symbol, brackets: [{initialLeverage, ...}]}``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from connector.binance_usdm.rest import SIGNED
from connector.checks import require_ints
from connector.errors import InvalidOrder, VenueError
from connector.interface import LeverageInfo, MarketInfo

log = logging.getLogger(__name__)

NO_CHANGE = -4046
"""``marginType`` already as asked."""
REFUSED = (-4028, -4047, -4048)
"""Leverage not valid; margin type with open orders; margin type with a position."""
MODES = {True: "CROSSED", False: "ISOLATED"}


class LeverageSettings:
    """The connector's half for leverage and margin mode (mixed into ``BinanceUsdmConnector``)."""

    _markets: dict[str, MarketInfo]
    _signer: Any
    _max_leverage: dict[str, int] | None = None
    """symbol -> the highest leverage of its first bracket (``leverageBracket``)."""

    if TYPE_CHECKING:  # provided by the connector

        def _need_rest(self) -> Any: ...

        def _market(self, symbol: str) -> MarketInfo: ...

    async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
        """Margin type first (refused while the symbol has a position or orders), then the leverage."""
        require_ints(leverage=leverage)
        m = self._market(symbol)
        if not 1 <= leverage <= m.max_leverage:
            raise InvalidOrder(f"binance-usdm {symbol}: leverage is 1 to {m.max_leverage}, not {leverage}")
        try:
            await self._post_setting("/fapi/v1/marginType", {"symbol": symbol, "marginType": MODES[bool(cross)]})
        except VenueError as exc:
            if exc.info.get("code") != NO_CHANGE:
                raise
        await self._post_setting("/fapi/v1/leverage", {"symbol": symbol, "leverage": leverage})

    async def _post_setting(self, path: str, params: dict[str, Any]) -> Any:
        try:
            return await self._need_rest().request("POST", path, params, security=SIGNED, weight=1)
        except VenueError as exc:
            if exc.info.get("code") in REFUSED:
                raise InvalidOrder(str(exc), info=exc.info) from None
            raise

    async def _with_max_leverage(self, markets: dict[str, MarketInfo]) -> dict[str, MarketInfo]:
        """``exchangeInfo`` has no leverage: the first bracket of ``GET /fapi/v1/leverageBracket`` (signed,
        so only with a key; read once) gives each symbol's ``initialLeverage``, its maximum."""
        if self._signer is None:
            return markets
        if self._max_leverage is None:
            try:
                rows = await self._need_rest().request("GET", "/fapi/v1/leverageBracket", security=SIGNED, weight=1)
            except VenueError as exc:  # tried again at the next listing
                log.warning("binance-usdm: no leverage brackets (%s); each market's maximum shows as 1", exc)
                return markets
            self._max_leverage = {str(r["symbol"]): max_leverage(r) for r in rows if r.get("brackets")}
        top = self._max_leverage
        return {s: replace(m, max_leverage=top[s]) if top.get(s) else m for s, m in markets.items()}

    async def get_leverage(self) -> list[LeverageInfo]:
        rows = await self._need_rest().request("GET", "/fapi/v1/symbolConfig", security=SIGNED, weight=5)
        return [parse_symbol_config(raw) for raw in rows if raw.get("symbol") in self._markets]


def max_leverage(raw: dict[str, Any]) -> int:
    """A ``leverageBracket`` row's highest ``initialLeverage`` (its first bracket's, for the smallest notional)."""
    return max(int(b.get("initialLeverage") or 1) for b in raw["brackets"])


def parse_symbol_config(raw: dict[str, Any]) -> LeverageInfo:
    """One row of ``symbolConfig``: ``{"symbol", "marginType": "CROSSED"|"ISOLATED", "leverage": 20, ...}``."""
    return LeverageInfo(
        symbol=str(raw["symbol"]),
        leverage=int(raw["leverage"]),
        cross=str(raw.get("marginType", "CROSSED")).upper() != "ISOLATED",
        info=raw,
    )
