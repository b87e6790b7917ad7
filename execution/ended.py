"""``EndedKept``: which ended things a manager keeps in memory (the chases, algos and triggers share it).

Over a session of hours every chase, algo and trigger ever run stayed in memory (issue 18's soak).  A
manager now keeps the most recently ended ``keep`` and forgets older ones (the journal keeps them);
one that must stay (it still works, a child of it still rests, another reads it) stays however old and
does not count against the newer ones.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice


class EndedKept:
    """Ids of ended things, oldest ended first; ``ended(id)`` forgets the oldest beyond ``keep``.

    ``stays(id)`` says whether one must stay anyway; ``forget(id)`` drops it from its manager.
    """

    __slots__ = ("_ids", "forget", "keep", "stays")

    def __init__(self, keep: int, *, stays: Callable[[str], bool], forget: Callable[[str], None]) -> None:
        self.keep = keep
        self.stays = stays
        self.forget = forget
        self._ids: dict[str, None] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._ids

    def ended(self, item_id: str) -> None:
        """``item_id`` has ended (once: a later change of it keeps its place); then ``sweep``."""
        self._ids.setdefault(item_id, None)
        self.sweep()

    def sweep(self) -> int:
        """Forget the oldest ended beyond ``keep`` that need not stay; how many were forgotten."""
        over = len(self._ids) - self.keep
        if over <= 0:
            return 0
        gone = [i for i in islice(self._ids, over) if not self.stays(i)]
        for item_id in gone:
            del self._ids[item_id]
            self.forget(item_id)
        return len(gone)
