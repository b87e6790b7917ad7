"""When the main screen paints: at a fixed rate, and at once when the book moves after a quiet spell.

A fixed-rate flush makes every tick wait for the next beat (up to a whole period at 25 Hz) before
the ladder even hears of it.  ``Flusher`` is a leading-edge throttle on top of that beat: a change
that arrives when the last flush is at least a frame (1/60 s) old is flushed at once (on the
screen's queue, as the next thing it does); one that arrives sooner is flushed at the end of that
frame, once, however many more arrive meanwhile.  The fixed beat stays for what is painted on time
rather than on change (the account, the chases, notices); it skips a beat that follows a flush by
less than a frame.

A flush only marks widgets dirty; Textual composes the frame later, on its screen's own 60 Hz update
timer, a second clock not aligned with ours, so a tick waited for both (up to two frames).  After each
flush ``compose_now`` composes and writes the frame for the widgets the flush painted in the same turn,
so the frame rate is the flusher's (at most one a frame, however fast the book moves).  Textual has no
public call for that: ``compose_now`` does what the screen's update timer does (``Screen._on_timer_update``:
the dirty widgets' regions to the compositor, then ``Screen._compositor_refresh``), for pinned Textual
8.2.8 only (``_textual_fits`` checks the version and every private name it uses); anything it cannot
do so (a layout, scroll or full repaint pending, a dialog over the screen, another Textual) it leaves
to Textual's timer, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.message_pump import MessagePump
    from textual.screen import Screen
    from textual.timer import Timer
    from textual.widget import Widget

log = logging.getLogger(__name__)

FRAME_S = 1 / 60
TEXTUAL = "8.2.8"
"""The Textual whose screen update ``compose_now`` repeats (pinned in pyproject.toml)."""


class Flusher:
    """Calls ``flush`` on ``node``'s queue at ``hz`` and, between beats, soon after each ``poke``."""

    leading_edge = True
    """False: the fixed beat only (how the console painted before; the bench's baseline)."""
    compose_in_turn = True
    """False: Textual's screen update timer composes what a flush painted (as before; a bench baseline)."""

    def __init__(
        self,
        node: MessagePump,
        flush: Callable[[], object],
        *,
        hz: float,
        frame_s: float | None = None,
        now: Callable[[], float] = time.perf_counter,
        compose: Sequence[Widget] = (),
    ) -> None:
        self.node, self.flush = node, flush
        self.frame_s = FRAME_S if frame_s is None else frame_s
        self.now = now
        self.compose = tuple(compose)
        """The widgets a flush paints on the book's account: their frame is composed right after it."""
        self.flushes = 0
        self.composed = 0
        """Frames composed in a flush's own turn."""
        self.left_to_timer = 0
        """Flushes whose changes were left to Textual's update timer (a layout pending, a dialog open …)."""
        self._last = float("-inf")
        self._queued = False
        self._timer: Timer | None = None
        self.beat = node.set_interval(1 / hz, self._beat)

    def poke(self) -> None:
        """Something the screen shows changed: flush now, or at the end of this frame."""
        if not self.leading_edge or self._queued or self._timer is not None:
            return
        wait = self._last + self.frame_s - self.now()
        if wait <= 0:
            self._queued = True
            self.node.call_next(self._run)
        else:
            self._timer = self.node.set_timer(wait, self._run, name="flush")

    def _beat(self) -> None:
        if not self.leading_edge or self.now() - self._last >= self.frame_s:
            self._run()

    def _run(self) -> None:
        self._queued = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._last = self.now()
        self.flushes += 1
        self.flush()
        if self.compose and self.compose_in_turn:
            composed = compose_now(self.node, self.compose)  # type: ignore[arg-type]
            if composed:
                self.composed += 1
            elif composed is False:
                self.left_to_timer += 1


def compose_now(screen: Screen, widgets: Sequence[Widget]) -> bool | None:
    """Compose and write the frame for what ``widgets`` changed, now; False, and nothing done, when it is left
    to the screen's update timer; None when none of them changed.  Other widgets already waiting for that timer (the header's clock, a table)
    stay waiting for it: a frame's cost is every line of every widget inside the box around its changes
    (Textual composes the bounding box), so a header change composed with the ladder's would redraw the
    whole body."""
    if not _textual_fits():
        return False
    try:
        return _compose(screen, widgets)
    except Exception:  # a private name or call that does not do what we expect after all: Textual's timer, from now on
        log.exception("composing the book's frame in the flush's turn failed: Textual's own timer composes from now on")
        _textual_fits.cache_clear()
        _unfit.append(True)
        for widget in widgets:
            widget.refresh()  # their repaint flags may have been cleared before the failure
        return False


_unfit: list[bool] = []


def _compose(screen: Any, widgets: Sequence[Any]) -> bool | None:
    dirty = {widget for widget in widgets if (widget._repaint_required or widget._repaint_regions) and widget.display}
    if not dirty:
        return None
    app = screen.app
    if app.screen is not screen or app._batch_count or not screen.is_current:
        return False  # a dialog over the screen, or a batch update under way
    if screen._layout_required or screen._scroll_required or screen._repaint_required or screen._recompose_required:
        return False
    for widget in widgets:
        if widget._layout_required or widget._scroll_required or widget._recompose_required:
            return False
        if widget._refresh_styles_required:
            return False
    waiting = screen._dirty_widgets - dirty
    for widget in dirty:
        widget._repaint_required = False  # composed here: its idle handler posts the screen no Update for it
    screen._compositor.update_widgets(dirty)
    screen._compositor_refresh()  # renders the dirty regions, writes them, clears the screen's dirty widgets
    if waiting:
        screen._dirty_widgets.update(waiting)  # still the timer's, as they were
        screen.check_idle()  # (the screen's idle resumes its update timer)
    return True


def _textual_is(version: str) -> bool:
    """Whether the installed Textual is ``version``: its ``dist-info`` beside the package (one stat) when
    pip installed it there, else ``textual.__version__``, which imports ``importlib.metadata`` and scans
    every installed distribution (~15 ms of CPU, 25 ms here, paid by the first flush before the first
    book is painted: issue 18)."""
    import textual

    site = Path(textual.__file__).resolve().parent.parent
    if (site / f"textual-{version}.dist-info").is_dir():
        return True
    return getattr(textual, "__version__", None) == version


@lru_cache(1)
def _textual_fits() -> bool:
    """Textual is the version ``compose_now`` was written against, with the private methods it calls (the
    private attributes it reads are checked as it reads them)."""
    from textual._compositor import Compositor
    from textual.screen import Screen
    from textual.widget import Widget

    return (
        not _unfit
        and _textual_is(TEXTUAL)
        and all(hasattr(Screen, n) for n in ("_compositor_refresh", "_on_timer_update", "_update_timer"))
        and hasattr(Widget, "_exchange_repaint_regions")
        and hasattr(Compositor, "update_widgets")
    )
