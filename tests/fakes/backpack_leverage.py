"""The fake Backpack venue's account settings (a mixin of ``FakeBackpack``): the account-wide leverage limit.

``GET /api/v1/account`` (instruction ``accountQuery``) answers the account's settings with
``leverageLimit`` as a decimal string; ``PATCH /api/v1/account`` (``accountUpdate``) takes a new
``leverageLimit``, a whole number from 1 to the highest market maximum (else ``400
INVALID_CLIENT_REQUEST``: which limits the venue accepts is UNCONFIRMED), and answers with an empty
body.  The limit applies to every market: the sim engine margins each at the smaller of the limit and
the market's own maximum.  At start the limit is the highest market maximum, so nothing is capped.
"""

from __future__ import annotations

from typing import Any


class AccountSettings:
    engine: Any

    def __init__(self) -> None:
        self.leverage_limit = max(m.max_leverage for m in self.engine.markets.values())

    def account_settings(self, query: dict[str, Any]) -> dict[str, Any]:
        return {
            "autoBorrowSettlements": True, "autoLend": False, "autoRealizePnl": True, "autoRepayBorrows": True,
            "borrowLimit": "0", "futuresMakerFee": "2", "futuresTakerFee": "5",
            "leverageLimit": str(self.leverage_limit), "limitOrders": 0, "liquidating": False,
            "positionLimit": "0", "spotMakerFee": "8", "spotTakerFee": "10", "triggerOrders": 0,
        }  # fmt: skip

    def update_account(self, body: dict[str, Any]) -> None:
        from tests.fakes.backpack import ApiError

        text = str(body.get("leverageLimit", ""))
        top = max(m.max_leverage for m in self.engine.markets.values())
        if not text.isdigit() or not 1 <= int(text) <= top:
            raise ApiError(400, "INVALID_CLIENT_REQUEST", f"Invalid leverage limit: 1 to {top}")
        self.leverage_limit = int(text)
        for symbol, m in self.engine.markets.items():
            self.engine.set_leverage(symbol, min(self.leverage_limit, m.max_leverage))
