"""The kill switch: stop every chase, cancel every open order everywhere, optionally flatten, then HALT.

It lives apart from the pre-trade checks (``execution.risk``) because it drives the order,
position and tracking services, where the checks only read market data and positions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from connector.interface import OrderStatus
from execution.risk import RiskManager, TradingState

if TYPE_CHECKING:
    from execution.orders import Order, OrderService
    from execution.position_service import PositionService
    from execution.tracking import TrackingLimitManager

log = logging.getLogger(__name__)


class KillTargets(Protocol):
    """What the kill switch acts on; ``execution.runtime.Runtime`` is one."""

    @property
    def orders(self) -> OrderService: ...

    @property
    def positions(self) -> PositionService: ...

    @property
    def risk(self) -> RiskManager: ...

    @property
    def tracking(self) -> TrackingLimitManager | None: ...


@dataclass(slots=True)
class KillReport:
    """What the kill switch did; ``errors`` are sentences for the operator."""

    chases_stopped: int = 0
    algos_halted: int = 0
    """Scales and TWAPs ended before the cancel (``Runtime.kill_switch`` fills it)."""
    triggers_disarmed: int = 0
    """Stops and take-profits disarmed before the cancel (``Runtime.kill_switch`` fills it)."""
    cancelled: list[Order] = field(default_factory=list)
    flatten_orders: list[Order] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def kill_switch(services: KillTargets, flatten: bool = False) -> KillReport:
    """Stop chases, cancel every open order everywhere, optionally flatten, then HALT.

    While it works the desk is REDUCING, so only the flattening orders pass the risk check;
    it ends HALTED until ``risk.rearm()``, even if a step fails.  Failures on one venue are
    reported and the rest still proceed.  A second press while one runs waits for it, then
    runs again (cancelling twice is harmless).
    """
    risk = services.risk
    async with risk.kill_lock:
        risk.set_state(TradingState.REDUCING, "kill switch in progress")
        try:
            return await _kill(services, flatten)
        finally:
            risk.set_state(TradingState.HALTED, "kill switch" + (" (flattened)" if flatten else ""))


async def _kill(services: KillTargets, flatten: bool) -> KillReport:
    report = KillReport()
    orders, tracking = services.orders, services.tracking

    if tracking is not None:
        for chase in list(tracking.active()):
            try:
                await chase.cancel()
                report.chases_stopped += 1
            except Exception as exc:
                report.errors.append(f"stopping chase {chase.chase_id} failed: {exc}")

    try:
        report.cancelled = list(await orders.cancel_all())
    except Exception as exc:
        report.errors.append(f"cancel all failed: {exc}")

    if flatten:
        for view in services.positions.positions():
            if not view.size_i:
                continue
            try:
                order = await orders.submit_market(
                    view.venue,
                    view.symbol,
                    is_ask=view.size_i > 0,
                    size_i=abs(view.size_i),
                    reduce_only=True,
                    allow_disconnected=True,  # an emergency: try every venue
                )
            except Exception as exc:
                report.errors.append(f"flattening {view.venue} {view.symbol} failed: {exc}")
                continue
            report.flatten_orders.append(order)
            if order.state == OrderStatus.REJECTED:
                report.errors.append(
                    f"flattening {view.venue} {view.symbol} was rejected: {order.reason or 'no reason given'}"
                )

    for error in report.errors:
        log.error("kill switch: %s", error)
    return report
