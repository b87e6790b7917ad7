"""A deterministic settle for Pilot tests, in place of Textual's CPU-idle wait, and ``until``.

Textual's Pilot waits through ``textual._wait.wait_for_idle`` (twice per pressed key, once per
``pause()``, again in ``exit`` and in the snapshot plugin's ``wait_for_scheduled_animations``): it
sleeps in 20 ms slices until one slice used under 1 ms of this process's CPU, or 1 s passed.  So every
key costs at least 40 ms of wall time, up to 2 s when anything else in the process is busy, and what
the wait covered depended on the machine's load.  ``settled`` replaces it (the autouse fixture in
``tests/console/conftest.py`` patches the name where ``textual.pilot`` and ``textual.app`` import it).

``settle_app(app)`` guarantees, when it returns (unless the app has crashed or stopped: then at once):

- the event loop had nothing runnable on two turns in a row (no ready callback: so no message pump
  with a message waiting, no task, worker included, that can make progress without time or I/O
  passing; the second turn has polled I/O), and meanwhile, whenever the top screen was due a layout,
  repaint or recompose, or held ``call_after_refresh`` callbacks, the screen's refresh ran at once
  (as ``Pilot.pause`` does) instead of waiting for the screen's 1/60 s update timer;
- so key presses, bindings, focus moves, screen pushes and pops, mounts, recompose, messages that
  bubble, ``call_after_refresh`` and workers whose awaits complete without time passing have all run.
- If the loop never goes quiet within ``MAX_TURNS`` turns (something keeps it busy: a venue
  streaming in real time), or the loop cannot be inspected (``_ready`` is CPython's), it falls back to
  Pilot's own guarantee: every message and ``call_later`` queued on the app, on every screen of its
  stack and on their widgets has been processed, then one refresh, then what that queued.

It does NOT let wall time pass: timers (``set_timer``, ``set_interval``: the status line's refresh,
the flusher's beat and end-of-frame flush, notification time-outs), animations (Pilot awaits those
itself), real sockets and other processes are not waited for.  A test that needs one of those must
wait for its effect with ``until``.  Workers blocked on the virtual clock stay blocked (the test
advances the clock).  ``HANG_S`` only ends a hang (``WaitForScreenTimeout``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual._context import active_app
from textual.app import App
from textual.pilot import Pilot, WaitForScreenTimeout

MAX_TURNS = 500
"""Loop turns one settle spends looking for quiet before it settles for the drain instead."""
HANG_S = 30.0
"""Only ends a hang: a drain that takes this long has a stuck message pump."""
QUIET_TURNS = 2
"""Consecutive turns with nothing runnable that count as quiet (the second one has polled I/O)."""


def _screen_due(screen) -> bool:
    return bool(
        screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._recompose_required
        or screen._dirty_widgets
        or screen._callbacks
    )


def _refresh_if_due(app: App) -> bool:
    """Run the top screen's refresh now if it is due one (what its 1/60 s update timer would do)."""
    screen = app.screen
    if _screen_due(screen) and screen.is_current and not app._batch_count:
        screen._on_timer_update()
        return True
    return False


async def _drain(app: App) -> None:
    """Pilot's ``_wait_for_screen`` over every screen of the stack: what is queued now gets processed."""
    count = 0
    done = asyncio.Event()

    def decrement() -> None:
        nonlocal count
        count -= 1
        if count == 0:
            done.set()

    nodes = [app]
    for screen in list(app.screen_stack):
        nodes.extend(screen.walk_children(with_self=True))
    for node in nodes:
        if node.call_later(decrement):
            count += 1
    if not count:
        return
    waits = [asyncio.ensure_future(done.wait()), asyncio.ensure_future(app._exception_event.wait())]
    try:
        _, pending = await asyncio.wait(waits, timeout=HANG_S, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
    if len(pending) == len(waits):
        raise WaitForScreenTimeout(f"message pumps still busy after {HANG_S:.0f} s")


def _crashed_or_gone(app: App) -> bool:
    return app._exception_event.is_set() or not app.is_running


async def settle_app(app: App) -> None:
    """Wait until ``app`` has nothing runnable left, refreshing its screen whenever due (module doc)."""
    ready = getattr(asyncio.get_running_loop(), "_ready", None)  # CPython's loops: the runnable callbacks
    quiet = 0
    for _ in range(MAX_TURNS if ready is not None else 0):
        await asyncio.sleep(0)
        if _crashed_or_gone(app):
            return
        if _refresh_if_due(app) or len(ready):
            quiet = 0
            continue
        quiet += 1
        if quiet >= QUIET_TURNS:
            return
    # never quiet (or no way to tell): settle for what was queued being processed, then one refresh
    await asyncio.sleep(0)
    if _crashed_or_gone(app):
        return
    await _drain(app)
    _refresh_if_due(app)
    await _drain(app)


async def settled(min_sleep: float = 0.0, max_sleep: float = 0.0) -> None:
    """Drop-in for ``textual._wait.wait_for_idle`` (its arguments are ignored): ``settle_app`` on the
    active app, or a few loop turns when no app is active."""
    try:
        app = active_app.get()
    except LookupError:
        app = None
    if app is None:
        for _ in range(QUIET_TURNS + 1):
            await asyncio.sleep(0)
        return
    await settle_app(app)


async def until(condition: Callable[[], object], pilot: Pilot, *, timeout: float = 30.0, what: str = "") -> None:
    """Settle and re-check ``condition`` until it holds; for effects that need time (timers, other
    processes).  Between checks it polls every few milliseconds; ``timeout`` only ends a hang."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:.0f} s: {what or condition}")
        await asyncio.sleep(0.005)
