"""Keys typed after Enter wait until what Enter sent has been read and handed to execution.

Enter in the order form (or the command bar) reads the fields behind the keys still queued on the focused
field, and hands the order to a worker that registers it on the loop's next turn.  The desk's keys are
priority keys, decided by the App the moment they arrive: without this gate a fast ``…1⏎s`` opened the
sell ticket (side and price changed) before the fields were read, so a SELL was sent where a BUY was typed,
and ``…1⏎z`` cancelled the previous order because the new one was not registered yet.

The other forms and dialogs that send or cancel (the chase form, the stop/take-profit and chase-limit
price form, a scale's or TWAP's preview, the confirmations) hold the keys the same way, through the
helpers below: ``read_behind_keys`` on Enter, ``dismiss_held`` to close the form, ``run_held`` (or
``@held_work``) for the worker its answer starts.

``hold_keys()`` closes the gate and returns its release; key events the App receives while any hold is
open (or while held keys wait to be replayed) are kept in order and replayed, through the App's own key
handling and against the focus of that moment, once the last hold is released.  A hold not released within
``KEY_HOLD_LIMIT_S`` releases itself (a field removed before its callback ran), with a warning.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget

log = logging.getLogger(__name__)

KEY_HOLD_LIMIT_S = 1.0

ResultType = TypeVar("ResultType")
NodeType = TypeVar("NodeType", bound=DOMNode)
Params = ParamSpec("Params")


class ReplayKeys(Message):
    """Posted to the App when the last hold is released: the held keys are handled in their turn."""


class KeyGate(App):
    """Mixed into ``PerpdeskApp`` ahead of ``App``: holds and replays key events (see the module)."""

    _key_holds = 0
    _held_keys: deque[events.Key] | None = None

    def hold_keys(self) -> Callable[[], None]:
        """Close the gate until the returned callable is called (once; later calls do nothing)."""
        self._key_holds += 1
        released = False

        def release(*, late: bool = False) -> None:
            nonlocal released
            if released:
                return
            released = True
            limit.cancel()
            if late:
                log.warning("keys held %.1f s after Enter, released: the order's fields were not read", KEY_HOLD_LIMIT_S)
            self._key_holds -= 1
            if not self._key_holds and self._held_keys:
                self.post_message(ReplayKeys())

        limit = asyncio.get_running_loop().call_later(KEY_HOLD_LIMIT_S, lambda: release(late=True))
        return release

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and (self._key_holds or self._held_keys):
            if self._held_keys is None:
                self._held_keys = deque()
            self._held_keys.append(event)
            return
        await super().on_event(event)

    async def on_replay_keys(self, message: ReplayKeys) -> None:
        held = self._held_keys
        while held and not self._key_holds:  # a replayed Enter may close the gate again: the rest wait on
            await super().on_event(held.popleft())


def hold_keys(app: App) -> Callable[[], None]:
    """``app.hold_keys()`` on the console's App; on any other App (a widget tested alone) nothing is held."""
    return app.hold_keys() if isinstance(app, KeyGate) else _nothing


def _nothing() -> None:
    pass


def keys_waiting(field: Widget) -> bool:
    """Keys (or anything else) posted to ``field`` that it has not taken yet: read now, its value would
    miss them.  Its queue, and the message its loop has already taken off the queue to look at next.
    (An ``Input`` handles a key without awaiting anything, so it is never caught halfway through one.)"""
    return field.message_queue_size > 0 or getattr(field, "_pending_message", None) is not None


def read_behind_keys(field: Widget | None, read: Callable[[], None]) -> bool:
    """Enter in a form: when keys typed before it still wait on ``field``, queue ``read`` (read the fields,
    hand the work on) behind them and hold the keys typed after Enter until it has run, and return True;
    otherwise return False and the caller reads now (``read`` is not called)."""
    if field is None or not keys_waiting(field):
        return False
    release = hold_keys(field.app)

    def read_then_release() -> None:
        try:
            read()
        finally:
            release()

    field.call_later(read_then_release)
    return True


def push_form(screen: Screen[ResultType], callback: Callable[[ResultType], object]) -> None:
    """Push a form (a modal with fields) with the keys typed from now held until it has focused one of them.

    The form mounts and takes focus a few loop turns after the key that opened it; the keys typed right
    behind that key (``t0.02`` in one read) reached it before any field had focus and were lost, or went
    to the field the form focused first and then left: ``t9``, Ctrl+U, ``0.02⇥60000⌫1`` left the size
    empty and the limit ``600001``.  Held, they are replayed once a field has focus (its own ``focus()``
    call, queued on the App, has run by then).  A form that takes no focus releases them after the hold's
    limit, with a warning."""
    app = screen.app
    release = hold_keys(app)

    def focused(widget: Widget | None) -> None:
        if widget is not None:
            app.call_later(release)

    screen.watch(screen, "focused", focused, init=False)
    app.push_screen(screen, callback)


def dismiss_held(screen: Screen[ResultType], result: ResultType) -> None:
    """Dismiss ``screen`` with ``result``, the keys held until its result callback has run: Textual runs the
    callback on the node that pushed the screen, in that node's turn, and a key let through before it
    would act on the desk before the order, chase or cancel the callback starts (``run_held``) exists."""
    callbacks = screen._result_callbacks  # the pushing node; Textual is pinned (pyproject.toml)
    requester = callbacks[-1].requester if callbacks else None
    release = hold_keys(screen.app)
    try:
        screen.dismiss(result)
    finally:
        if requester is None:
            release()
        else:
            requester.call_next(release)  # after the callback: the same node's queue, in order


def run_held(node: DOMNode, work: Coroutine[Any, Any, None], *, group: str) -> None:
    """Run ``work`` in a worker of ``node``'s, the keys held until its first step has run (as far as its first
    real wait: a request made, a chase registered), so a ``z`` after it takes back what it placed."""
    release = hold_keys(node.app)

    async def first_step_held() -> None:
        asyncio.get_running_loop().call_soon(release)  # runs once this step has gone as far as it goes
        await work

    try:
        node.run_worker(first_step_held(), group=group, exit_on_error=False)
    except BaseException:
        release()
        work.close()
        raise


def held_work(
    group: str,
) -> Callable[
    [Callable[Concatenate[NodeType, Params], Coroutine[Any, Any, None]]], Callable[Concatenate[NodeType, Params], None]
]:
    """Textual's ``@work(group=…, exit_on_error=False)`` for a node's method, through ``run_held``."""

    def decorate(
        method: Callable[Concatenate[NodeType, Params], Coroutine[Any, Any, None]],
    ) -> Callable[Concatenate[NodeType, Params], None]:
        @functools.wraps(method)
        def start(node: NodeType, *args: Params.args, **kwargs: Params.kwargs) -> None:
            run_held(node, method(node, *args, **kwargs), group=group)

        return start

    return decorate
