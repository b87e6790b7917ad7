"""``Field``: an ``Input`` whose bound keys act in the order they were typed.

Textual inserts a printable key the moment the field takes it from its queue, but a key bound to an
action (Backspace, Ctrl+U, the arrows, Home/End; a form's F2 side, F5 post-only) runs only once the
event has bubbled up to the App, through the queue of every container on the way; by then the keys
typed after it have been inserted.  Typed in one read (a fast typist, keys batched by an SSH link),
``0.05⌫1`` left ``0.05`` (the 1 typed, then deleted), ``Ctrl+U 0.01`` left the field empty or ``1`` (a
size 100 times the one typed) and ``F2 0.01⏎`` sent the side from before the F2.  A ``Field`` runs the
key's binding when it takes the key from its queue, as the App would have once the key had bubbled up
(the non-priority bindings from the field up to its screen, the App's too under a screen that is not
modal, the keymap applied; Textual 8.2.8's ``_bindings`` and ``_keymap``, pinned), so everything after it
waits.  It looks them up from this field, not from whichever widget has focus by then: a Tab taken
before it (a priority key) has moved focus on.  Priority keys (Enter, Tab, Escape in the forms) are
still taken by the App on arrival.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class Field(Input):
    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable and await self._run_binding(event.key):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    async def _run_binding(self, key: str) -> bool:
        """Run ``key``'s first non-priority binding that acts, from this field up; whether one did."""
        keymap = self.app._keymap
        for node in self.ancestors_with_self:
            bindings = node._bindings
            if keymap:
                bindings = bindings.copy()
                bindings.apply_keymap(keymap)
            for binding in bindings.key_to_bindings.get(key, ()):
                if not binding.priority and await self.app.run_action(binding.action, node):
                    return True
            if node.is_modal:
                break
        return False
