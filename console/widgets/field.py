"""``Field``: an ``Input`` whose bound keys act in the order they were typed.

Textual inserts a printable key the moment the field takes it from its queue, but a key bound to an
action (Backspace, Ctrl+U, the arrows, Home/End; a form's F2 side, F5 post-only) runs only once the
event has bubbled up to the App, through the queue of every container on the way; by then the keys
typed after it have been inserted.  Typed in one read (a fast typist, keys batched by an SSH link),
``0.05⌫1`` left ``0.05`` (the 1 typed, then deleted), ``Ctrl+U 0.01`` left the field empty or ``1`` (a
size 100 times the one typed) and ``F2 0.01⏎`` sent the side from before the F2.  A ``Field`` runs the
key's binding when it takes the key from its queue, as the App would have (the same non-priority walk
from the focused widget up, ``App._check_bindings``; Textual is pinned), so everything after it waits.
Priority keys (Enter, Tab, Escape in the forms) are still taken by the App on arrival.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class Field(Input):
    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable and await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)
