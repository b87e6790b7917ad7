"""The fake Lighter venue's update-leverage transaction (tx type 20): a mixin of ``FakeLighter``.

The tx carries ``MarketIndex``, ``InitialMarginFraction`` (1/10,000 of the position's value: from the
market's own minimum, its maximum leverage, to 10,000 = 1x) and ``MarginMode`` (0 cross, 1
isolated); out of range it is refused at the API with a 400 (codes ``21710`` / ``21711`` are the
fake's: the venue's are UNCONFIRMED).  Applied by the sequencer, it sets the sim engine's leverage
for the market (so the initial margin the fake reports follows it; the mode is recorded only: the
engine margins everything from one cross balance), and the account's position rows report it as
``initial_margin_fraction`` (a percentage string, ``"20.00"`` for 5x) and ``margin_mode``.
"""

from __future__ import annotations

from typing import Any

from connector.errors import InvalidOrder
from connector.scaling import scaled_to_str

TX_UPDATE_LEVERAGE = 20
LEVERAGE_FIELDS = {"MarketIndex", "InitialMarginFraction", "MarginMode"}
FULL = 10_000


class LeverageSettings:
    engine: Any
    markets: dict[int, str]

    def __init__(self) -> None:
        self.leverage_settings: dict[str, tuple[int, int]] = {}
        """engine symbol -> (initial margin fraction, margin mode) as last set by a tx."""

    def min_fraction(self, symbol: str) -> int:
        return FULL // max(1, self.engine.markets[symbol].max_leverage)

    def leverage_row(self, symbol: str) -> dict[str, Any]:
        """The position row's ``initial_margin_fraction`` and ``margin_mode`` for a market."""
        fraction, mode = self.leverage_settings.get(symbol, (self.min_fraction(symbol), 0))
        return {"initial_margin_fraction": scaled_to_str(fraction, 2), "margin_mode": mode}

    def leverage_tx_error(self, info: dict[str, Any]) -> tuple[int, str] | None:
        """(code, message) the API refuses the tx with, or None."""
        symbol = self.markets[info["MarketIndex"]]
        if not self.min_fraction(symbol) <= info["InitialMarginFraction"] <= FULL:
            return 21710, "invalid initial margin fraction"
        if info["MarginMode"] not in (0, 1):
            return 21711, "invalid margin mode"
        return None

    def apply_leverage(self, symbol: str, info: dict[str, Any]) -> None:
        """The sequencer's half: a margin-mode change with a position open is refused here, silently to the
        sender (the venue's rule and its code are UNCONFIRMED; the fake's choice)."""
        _, mode = self.leverage_settings.get(symbol, (self.min_fraction(symbol), 0))
        if info["MarginMode"] != mode and self.engine.account.positions[symbol].size_i:
            raise InvalidOrder("margin mode cannot change while the market has a position")
        fraction = info["InitialMarginFraction"]
        self.leverage_settings[symbol] = (fraction, info["MarginMode"])
        self.engine.set_leverage(symbol, min(FULL // fraction, self.engine.markets[symbol].max_leverage))
