"""A chase as the journal keeps it: the record written on every change, and the chase rebuilt from it.

The record is the parent's ``params`` in the journal: the ``ChaseParams`` plus its progress and,
under ``report``, its execution report (``ExecutionReport.as_record``).

``chase`` is a ``TrackingLimit`` (typed ``Any``: this module sits below ``chase`` and never imports it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from execution.tracking.model import ChaseState

log = logging.getLogger(__name__)


def record(chase: Any) -> dict[str, Any]:
    """The parent's parameters and progress (JSON-safe)."""
    saved = chase.params.as_record()
    saved.update(
        started_ms=chase.started_ms,
        ended_ms=chase.ended_ms,
        arrival_mid_i=chase.arrival_mid_i,
        start_price_i=chase.start_price_i,
        reprices=chase.reprices,
        trail_i=chase.trail_i,
        report=chase.report.as_record(),
    )
    return saved


def restore(chase: Any, row: Mapping[str, Any]) -> None:
    """Put the journaled progress back on a chase just built from the row's params and children."""
    saved = row["params"]
    chase.started_ms = saved.get("started_ms") or chase.started_ms
    chase.arrival_mid_i = saved.get("arrival_mid_i")
    chase.start_price_i = saved.get("start_price_i")
    chase.reprices = saved.get("reprices", 0)
    chase.trail_i = saved.get("trail_i")
    if row.get("state") == ChaseState.PAUSED:
        chase.state = ChaseState.PAUSED
    chase._sync()
    missing = (row.get("filled_i") or 0) - chase.filled_i
    if missing > 0:
        # children the order journal no longer holds: the parent's own count still stands,
        # so the remainder can never grow back and overfill
        chase.ledger.report(-1, missing, row.get("avg_price_i") or 0)
        log.warning("chase %s: %s filled by children not found after restart", chase.id, missing)
