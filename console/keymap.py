"""The config file's ``[keymap]`` checked before the screen opens.

Textual's ``set_keymap`` silently ignores an id it does not know, so a typo in the config file
would leave the old key in place with no word said.  Here an unknown id, an empty key or a key
that does not reach the app over SSH becomes one clear line instead.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Mapping

from textual.keys import _character_to_key, key_to_character

from console.bindings import REGISTRY

# what terminals send for these is indistinguishable from plain enter/tab/backspace/escape,
# or nothing at all (ctrl+enter over many SSH clients)
UNREACHABLE = {
    "ctrl+enter": "ctrl+enter does not reach the app through many terminals",
    "shift+enter": "terminals send shift+enter as a plain enter",
    "ctrl+m": "terminals send ctrl+m as enter",
    "ctrl+i": "terminals send ctrl+i as tab",
    "ctrl+h": "terminals send ctrl+h as backspace",
    "ctrl+left_square_bracket": "terminals send ctrl+[ as escape",
}


UNHELD = {
    name: ch for ch in string.punctuation
    if key_to_character(name := _character_to_key(ch)) is None
}
"""Key names (``minus``, ``plus``, ``slash``, ``underscore`` …) Textual cannot map back to their
character: a text field does not hold them back from the desk's keys, so a ``-`` typed in a price or
the command bar would fire the key bound to it."""


def binding_ids() -> set[str]:
    """Every binding id the console declares, read from its registry (``console.bindings``)."""
    return {b.id for owned in REGISTRY.values() for b in owned if b.id}


def check_keymap(keymap: Mapping[str, str], known: set[str] | None = None) -> list[str]:
    """One message per problem, each saying what to change; an empty list when all is well."""
    known = binding_ids() if known is None else known
    problems = []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"[keymap] has unknown binding id {binding_id!r}{hint}: the help screen (f1) lists the ids")
            continue
        names = [k.strip().lower() for k in str(keys).split(",")]
        if not all(names):
            problems.append(f"[keymap] {binding_id} = {keys!r}: give a key, e.g. \"f10\" or \"ctrl+b\"")
            continue
        for name in names:
            if name in UNREACHABLE:
                problems.append(f"[keymap] {binding_id} = {keys!r}: {UNREACHABLE[name]}; use an F-key or a ctrl+letter")
            elif name in UNHELD:
                problems.append(f"[keymap] {binding_id} = {keys!r}: {UNHELD[name]!r} typed into a field or the command "
                                "bar would fire it; use another key, an F-key or a ctrl+letter")
    return problems
