"""Keys typed after Enter wait until the order Enter sent has been read and handed to execution.

Enter in the order form (or the command bar) reads the fields behind the keys still queued on the focused
field, and hands the order to a worker that registers it on the loop's next turn.  The desk's keys are
priority keys, decided by the App the moment they arrive: without this gate a fast ``…1⏎s`` opened the
sell ticket (side and price changed) before the fields were read, so a SELL was sent where a BUY was typed,
and ``…1⏎z`` cancelled the previous order because the new one was not registered yet.

``hold_keys()`` closes the gate and returns its release; key events the App receives while any hold is
open (or while held keys wait to be replayed) are kept in order and replayed, through the App's own key
handling and against the focus of that moment, once the last hold is released.  A hold not released within
``KEY_HOLD_LIMIT_S`` releases itself (a field removed before its callback ran), with a warning.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from textual import events
from textual.app import App
from textual.message import Message

log = logging.getLogger(__name__)

KEY_HOLD_LIMIT_S = 1.0


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
