"""Console tests: Pilot settles deterministically instead of waiting for the CPU to go idle."""

from __future__ import annotations

import pytest
import textual.app
import textual.pilot

from tests.console.settle import settled


@pytest.fixture(autouse=True)
def _settle_instead_of_cpu_idle(monkeypatch):
    """Every Pilot wait (``press``, ``pause()``, ``exit``, the snapshot plugin's
    ``wait_for_scheduled_animations``) settles the app instead of sleeping until the process looks idle.

    Guaranteed when a Pilot call returns: what was queued on the app and its screens has been processed,
    then the loop ran until nothing was runnable, with every refresh the screen was due done at once and
    its ``call_after_refresh`` callbacks run (screen pushes, focus, bindings, workers that need no time).
    NOT guaranteed: that any wall time has passed. Timers (``set_interval``/``set_timer``: the status
    refresh, the flusher's beat and end-of-frame flush, notification time-outs), real sockets and other
    processes are not waited for: a test that needs one waits for its effect with
    ``tests.console.settle.until``.  Details and bounds: ``tests/console/settle.py``.

    Snapshot tests (``snap_compare``) settle too.  Two races kept them on Textual's idle wait before:
    a DataTable column one cell wider or narrower (Textual's idle pass set the widths; ``DiffTable`` now
    sets them after every change, ``test_diff_table_widths.py``), and a toast from the notices of the
    harness's own flush, cleared before its Notify message had arrived (``harness.settle`` now lets it
    arrive first).
    """
    monkeypatch.setattr(textual.pilot, "wait_for_idle", settled)
    monkeypatch.setattr(textual.app, "wait_for_idle", settled)
