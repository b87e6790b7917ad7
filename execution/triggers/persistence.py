"""Triggers in the journal: one parent row each (``kind="trigger"``), never restored as a chase.

The row's ``params`` hold what was asked (``TriggerParams``) plus what moved since: the current
trigger price, a trailing stop's best price, whether the venue holds it, and the venue's
reference for a native trigger.  The child (the order placed when it fired) is the row's
``child_client_order_index``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from execution.triggers.model import Trigger, TriggerParams, TriggerState

if TYPE_CHECKING:
    from execution.journal import ParentJournal
    from execution.orders import OrderService

JOURNAL_KIND = "trigger"


def to_record(t: Trigger) -> dict[str, Any]:
    record = t.params.as_record()
    record.update(
        native=t.native, current_trigger_price_i=t.trigger_price_i, best_i=t.best_i, venue_ref=t.venue_ref,
        armed_size_i=t.armed_size_i,
    )  # fmt: skip
    return record


def save(journal: ParentJournal, t: Trigger, now_ms: int) -> None:
    child = t.child
    journal.save_parent(
        t.id,
        t.venue,
        t.symbol,
        to_record(t),
        str(t.state),
        t.filled_i,
        child.client_order_index if child is not None else None,
        avg_price_i=child.avg_price_i if child is not None else None,
        end_reason=t.end_reason,
        done=t.is_done,
        ts_ms=now_ms,
        kind=JOURNAL_KIND,
    )


def load(journal: ParentJournal) -> list[dict[str, Any]]:
    """Live trigger rows, oldest first (chases and algos are not among them)."""
    return journal.load_parents(live_only=True, kind=JOURNAL_KIND)


def from_record(row: Mapping[str, Any], orders: OrderService) -> Trigger:
    """A trigger as the journal left it, its child found in the order service when it had one."""
    record = dict(row["params"])
    t = Trigger(
        id=row["parent_id"],
        params=TriggerParams.from_record(record),
        native=bool(record.get("native")),
        state=TriggerState(row["state"]),
        trigger_price_i=record.get("current_trigger_price_i"),
        best_i=record.get("best_i"),
        venue_ref=record.get("venue_ref"),
        armed_size_i=record.get("armed_size_i"),
        end_reason=row.get("end_reason") or "",
    )
    coi = row.get("child_client_order_index")
    if coi is not None:
        t.child = orders.get(t.venue, coi)
    return t
