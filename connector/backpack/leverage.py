"""Backpack leverage (``leverage``, ``leverage_account_wide``), mixed into ``BackpackConnector``.

Backpack keeps one leverage limit for the whole account, not one per market: ``leverageLimit`` in
``GET /api/v1/account`` (instruction ``accountQuery``), changed with ``PATCH /api/v1/account``
(instruction ``accountUpdate``, body ``{"leverageLimit": "5"}``).  So ``set_leverage`` sets it for
every market at once (the connector declares ``leverage_account_wide``; the symbol only says which
market asked and bounds the value by that market's maximum), and ``get_leverage`` reports the limit
for every market, capped at each market's own maximum.  Backpack margins every futures position
from the account's collateral: there is no isolated margin, so asking for it is refused before
anything is sent.
UNCONFIRMED (see docs/venues/backpack.md): that a market's effective leverage is the smaller of the
account's limit and the market's own maximum; which limits the venue accepts (the fake takes any
whole number from 1 to the highest market maximum); the answer to the ``PATCH`` (read as empty).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connector.checks import require_ints
from connector.errors import InvalidOrder, VenueError
from connector.interface import LeverageInfo, MarketInfo

NO_ISOLATED = (
    "backpack has no isolated margin: every futures position is margined from the account's collateral (cross)"
)


class AccountLeverage:
    """The connector's half for the account's leverage limit (mixed into ``BackpackConnector``)."""

    _markets: dict[str, MarketInfo]

    if TYPE_CHECKING:  # provided by the connector

        async def _signed(
            self, method: str, path: str, instruction: str, payload: dict[str, Any] | None = None
        ) -> Any: ...

        def _market(self, symbol: str) -> MarketInfo: ...

    async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
        """The account's leverage limit (every market); isolated margin is refused."""
        require_ints(leverage=leverage)
        m = self._market(symbol)
        if not cross:
            raise InvalidOrder(NO_ISOLATED)
        if not 1 <= leverage <= m.max_leverage:
            raise InvalidOrder(f"backpack {symbol}: leverage is 1 to {m.max_leverage}, not {leverage}")
        await self._signed("PATCH", "/api/v1/account", "accountUpdate", {"leverageLimit": str(leverage)})

    async def get_leverage(self) -> list[LeverageInfo]:
        account = await self._signed("GET", "/api/v1/account", "accountQuery")
        raw = (account or {}).get("leverageLimit")
        try:
            limit = int(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            raise VenueError(f"backpack: the account has no readable leverageLimit ({raw!r})") from None
        return [
            LeverageInfo(symbol, max(1, min(limit, m.max_leverage)), True, info={"leverageLimit": raw})
            for symbol, m in self._markets.items()
        ]
