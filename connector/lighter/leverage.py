"""Lighter leverage and margin mode per market (``leverage``), mixed into ``LighterConnector``.

``set_leverage`` sends the update-leverage transaction (tx type 20) signed by the installed
lighter-sdk's ``SignerClient.sign_update_leverage(market_index, fraction, margin_mode, nonce=,
api_key_index=)`` on the key's signing thread, with the nonce from the per-key nonce manager, like
an order.  ``fraction`` is the initial margin fraction in 1/10,000: ``10_000 // leverage`` (what the
SDK's own ``update_leverage`` sends); ``margin_mode`` 0 is cross, 1 isolated (the SDK's
``CROSS_MARGIN_MODE`` / ``ISOLATED_MARGIN_MODE``).  The signed tx carries ``MarketIndex``,
``InitialMarginFraction`` and ``MarginMode``.  Like every Lighter tx, the venue's answer means
queued: a refusal by the sequencer afterwards is not reported to the sender, so ``set_leverage``
reads the account back (up to ``CONFIRM_TRIES`` times, ``CONFIRM_WAIT_S`` apart) and raises
``VenueError`` if the market's row still shows something else; a market the account has no row for
cannot be checked (logged, taken as applied).

``get_leverage`` reads the account's position rows (one per market ever touched): their
``initial_margin_fraction`` and ``margin_mode``.
UNCONFIRMED (see docs/venues/lighter.md): that a position row's ``initial_margin_fraction`` is a
percentage string (``"5.00"`` = 500/10,000 = 20x, as the fake writes it); whether the venue refuses
a margin-mode change with a position open, and with which code.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connector.checks import require_ints
from connector.errors import InvalidOrder, VenueError
from connector.interface import LeverageInfo, MarketInfo

log = logging.getLogger(__name__)

TX_UPDATE_LEVERAGE = 20
CROSS, ISOLATED = 0, 1
FULL = 10_000
"""Margin fractions are in 1/10,000 of the position's value."""
CONFIRM_TRIES = 5
CONFIRM_WAIT_S = 0.2
"""Reading the account back after the tx: how often, and how long between reads."""


class LeverageTx:
    """The connector's half for leverage and margin mode (mixed into ``LighterConnector``)."""

    if TYPE_CHECKING:  # provided by the connector
        from connector.clock import Clock
        from connector.lighter import signing

        _signer: signing.LighterSigner | None
        _by_id: dict[int, str]
        clock: Clock

        def _entry(self, symbol: str) -> tuple[int, MarketInfo]: ...

        async def _send_tx(self, build: Any) -> dict[str, Any]: ...

        async def _account(self) -> dict[str, Any]: ...

    async def set_leverage(self, symbol: str, leverage: int, cross: bool) -> None:
        require_ints(leverage=leverage)
        market_id, info = self._entry(symbol)
        if not 1 <= leverage <= info.max_leverage:
            raise InvalidOrder(f"lighter {symbol}: leverage is 1 to {info.max_leverage}, not {leverage}")
        fraction, mode = FULL // leverage, CROSS if cross else ISOLATED

        def build(nonce: int) -> Any:
            assert self._signer is not None
            return self._signer.update_leverage(market_id=market_id, fraction=fraction, margin_mode=mode, nonce=nonce)

        await self._send_tx(build)
        await self._confirm(symbol, FULL // fraction, cross)

    async def _confirm(self, symbol: str, leverage: int, cross: bool) -> None:
        """The venue's 200 means queued: read the account until it shows the new setting."""
        shown: LeverageInfo | None = None
        for attempt in range(CONFIRM_TRIES):
            shown = next((i for i in await self.get_leverage() if i.symbol == symbol), None)
            if shown is None or (shown.leverage, shown.cross) == (leverage, cross):
                if shown is None:
                    log.info("lighter %s: no account row to confirm the leverage change against", symbol)
                return
            if attempt + 1 < CONFIRM_TRIES:
                await self.clock.sleep(CONFIRM_WAIT_S)
        assert shown is not None
        mode = "cross" if shown.cross else "isolated"
        raise VenueError(
            f"lighter {symbol}: the venue queued the leverage change but the account still shows "
            f"{shown.leverage}x {mode}: its sequencer refused it (a margin-mode change with a position open?)"
        )

    async def get_leverage(self) -> list[LeverageInfo]:
        account = await self._account()
        out = []
        for raw in account.get("positions") or []:
            symbol = self._by_id.get(int(raw.get("market_id", -1)))
            leverage = leverage_of(raw.get("initial_margin_fraction"))
            if symbol is not None and leverage is not None:
                out.append(LeverageInfo(symbol, leverage, int(raw.get("margin_mode") or 0) == CROSS, info=raw))
        return out


def leverage_of(percent: Any) -> int | None:
    """A position row's ``initial_margin_fraction`` (a percentage: ``"5.00"`` is 20x) as whole leverage."""
    try:
        fraction = Decimal(str(percent)) * 100
    except InvalidOperation:
        return None
    return int(FULL // fraction) if fraction > 0 else None
