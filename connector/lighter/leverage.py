"""Lighter leverage and margin mode per market (``leverage``), mixed into ``LighterConnector``.

``set_leverage`` sends the update-leverage transaction (tx type 20) signed by the installed
lighter-sdk's ``SignerClient.sign_update_leverage(market_index, fraction, margin_mode, nonce=,
api_key_index=)`` on the key's signing thread, with the nonce from the per-key nonce manager, like
an order.  ``fraction`` is the initial margin fraction in 1/10,000: ``10_000 // leverage`` (what the
SDK's own ``update_leverage`` sends); ``margin_mode`` 0 is cross, 1 isolated (the SDK's
``CROSS_MARGIN_MODE`` / ``ISOLATED_MARGIN_MODE``).  The signed tx carries ``MarketIndex``,
``InitialMarginFraction`` and ``MarginMode``.  Like every Lighter tx, the venue's answer means
queued: a refusal by the sequencer afterwards is not reported to the sender, so ``set_leverage``
reads the account back for up to ``CONFIRM_WINDOW_S`` (the first read at once, then waits doubling
from ``CONFIRM_FIRST_WAIT_S`` up to ``CONFIRM_MAX_WAIT_S``: a slow sequencer is waited for) and
returns as soon as the market's row shows the new setting.  Refused (``VenueError``): the window's
last read answered and still shows the old setting.  Not confirmed yet (``Unconfirmed``, raised so
the caller can tell; ``execution.leverage`` records the change as unconfirmed and keeps asking in the
background): the window's last read failed.  A market the account has no row for cannot be checked
(logged, taken as applied).

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
from connector.errors import InvalidOrder, Unconfirmed, VenueError
from connector.interface import LeverageInfo, MarketInfo

log = logging.getLogger(__name__)

TX_UPDATE_LEVERAGE = 20
CROSS, ISOLATED = 0, 1
FULL = 10_000
"""Margin fractions are in 1/10,000 of the position's value."""
CONFIRM_WINDOW_S = 8.0
CONFIRM_FIRST_WAIT_S = 0.2
CONFIRM_MAX_WAIT_S = 2.0
"""Reading the account back after the tx: for how long in all, the first wait between reads (doubling), the
longest one (reads at 0, 0.2, 0.6, 1.4, 3.0, 5.0, 7.0 and 8.0 s)."""


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
        """The venue's 200 means queued: read the account until it shows the new setting (see the module)."""
        waited, wait = 0.0, CONFIRM_FIRST_WAIT_S
        failed: Exception | None = None
        while True:
            try:
                shown, failed = next((i for i in await self.get_leverage() if i.symbol == symbol), None), None
            except (VenueError, TimeoutError, OSError) as exc:
                shown, failed = None, exc
                log.info("lighter %s: reading the account to confirm the leverage change failed: %s", symbol, exc)
            if failed is None and (shown is None or (shown.leverage, shown.cross) == (leverage, cross)):
                if shown is None:
                    log.info("lighter %s: no account row to confirm the leverage change against", symbol)
                return
            if waited >= CONFIRM_WINDOW_S:
                break
            step = min(wait, CONFIRM_MAX_WAIT_S, CONFIRM_WINDOW_S - waited)
            await self.clock.sleep(step)
            waited, wait = waited + step, wait * 2
        if failed is not None:
            raise Unconfirmed(
                f"lighter {symbol}: the venue queued the leverage change; reading the account back failed "
                f"({failed}), so it is not confirmed yet"
            )
        assert shown is not None
        mode = "cross" if shown.cross else "isolated"
        raise VenueError(
            f"lighter {symbol}: the venue queued the leverage change but after {CONFIRM_WINDOW_S:g} s the account "
            f"still shows {shown.leverage}x {mode}: its sequencer refused it "
            "(a margin-mode change with a position open?)"
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
