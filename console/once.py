"""What the console remembers per order, chase or trigger, bounded: a long session must not grow by one
entry per id it ever saw (issue 18).

``Recent`` is a dict that keeps the ``keep`` keys used last (a look refreshes a key, so whatever is still
on screen, looked up every frame, never ages out); ``SeenOnce`` says "first time" once per key (a notice
given once); ``Labels`` numbers ids in the order first seen (``#1``, ``T1``) and keeps counting when old
ones are dropped, so a number is never given twice.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

KEEP = 1_000
"""Keys each one remembers: ten times what the runtime keeps of ended chases, algos or triggers, and twenty
times what a tab lists; an id not looked at while a thousand others were is long off the screen."""


class Recent(Generic[K, V]):
    """A mapping of the ``keep`` keys used last; the least recently used goes first."""

    __slots__ = ("_items", "keep")

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._items: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None if absent (or dropped)."""
        value = self._items.pop(key, None)
        if value is not None:
            self._items[key] = value
        return value

    def put(self, key: K, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = value
        if len(self._items) > self.keep:
            del self._items[next(iter(self._items))]


class SeenOnce(Generic[K]):
    """``first(key)`` is True the first time a key is seen, False after (among the ``keep`` seen last)."""

    __slots__ = ("_seen",)

    def __init__(self, keep: int = KEEP) -> None:
        self._seen: Recent[K, bool] = Recent(keep)

    def __len__(self) -> int:
        return len(self._seen)

    def first(self, key: K) -> bool:
        if self._seen.get(key) is not None:
            return False
        self._seen.put(key, True)
        return True


class Labels:
    """Short labels for long ids, ``prefix`` and a number counted from 1 in the order first asked for."""

    __slots__ = ("_count", "_labels", "prefix")

    def __init__(self, prefix: str, keep: int = KEEP) -> None:
        self.prefix = prefix
        self._labels: Recent[str, str] = Recent(keep)
        self._count = 0

    def __len__(self) -> int:
        return len(self._labels)

    def get(self, item_id: str) -> str | None:
        """The label given to ``item_id``, if one was (and is remembered)."""
        return self._labels.get(item_id)

    def label(self, item_id: str) -> str:
        """``item_id``'s label, given now if it has none."""
        found = self._labels.get(item_id)
        if found is None:
            self._count += 1
            found = f"{self.prefix}{self._count}"
            self._labels.put(item_id, found)
        return found
