"""Textual's ``Strip`` (8.2.8) with its seven per-line caches made when first used, not when it is made.

Every ``Strip`` (one line of one widget) made seven ``FIFOCache`` objects in its ``__init__``: 1,104 bytes
a line, 892 of them empty caches (tracemalloc; 212 bytes without).  The console makes ~3,600 lines a
second while the sim's book streams and most are never cropped, divided or filtered: in a 92-second soak,
of 333k lines made, the filter and divide caches hit (1.15M and 436k times), the crop cache 1.3k times,
the style and line-length caches never (only misses) and the other two were never read.  The lines alive
between frames (840 to 6,136 in one soak's samples, by what was drawn last) carried up to 5.5 MB of empty
caches, and that swing set the high-water mark of CPython's small-object arenas, which the resident set
never gives back (``python -m bench soak``).  Here each cache slot is a descriptor that makes its cache on
first access (as Textual's own ``Content`` does for its divide cache) and ``__init__`` leaves the slots
empty.  What a cache returns is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from textual.cache import FIFOCache
from textual.strip import Strip

CACHES = {
    "_divide_cache": 4,
    "_crop_cache": 16,
    "_style_cache": 16,
    "_filter_cache": 4,
    "_line_length_cache": 4,
    "_crop_extend_cache": 4,
    "_offsets_cache": 4,
}
"""The caches Textual 8.2.8's ``Strip.__init__`` makes, and their sizes."""
PLAIN = ("_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count")
"""The rest of its slots, set as it sets them."""


class _LazyCache:
    """A ``Strip`` cache slot that makes its ``FIFOCache`` on first access (the slot's own descriptor kept).

    A hit costs ~0.12 µs more than the bare slot (a Python ``__get__``); a line made costs ~0.65 µs less:
    in the soak, ~1.8M cache lookups against 333k lines made, about even."""

    __slots__ = ("maxsize", "read", "slot", "write")

    def __init__(self, slot: object, maxsize: int) -> None:
        self.slot = slot
        self.read = slot.__get__  # type: ignore[attr-defined]
        self.write = slot.__set__  # type: ignore[attr-defined]
        self.maxsize = maxsize

    def __get__(self, strip: Strip | None, owner: type | None = None) -> object:
        if strip is None:
            return self
        try:
            return self.read(strip)
        except AttributeError:
            cache: FIFOCache[object, object] = FIFOCache(self.maxsize)
            self.write(strip, cache)
            return cache

    def __set__(self, strip: Strip, value: object) -> None:
        self.write(strip, value)


def _init(self: Strip, segments: Iterable[Segment], cell_length: int | None = None) -> None:
    self._segments = list(segments)
    self._cell_length = cell_length
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


_init._perpdesk = True  # type: ignore[attr-defined]


def _is_textual_8_2_8_strip(cls: type) -> bool:
    """``cls`` has exactly the slots, caches and plain initial values this module replaces."""
    if set(getattr(cls, "__slots__", ())) != set(CACHES) | set(PLAIN):
        return False
    if any(type(cls.__dict__.get(name)).__name__ != "member_descriptor" for name in CACHES):
        return False
    probe = cls([Segment("ab")], 2)
    caches_as_known = all(
        type(cache := getattr(probe, name)) is FIFOCache and cache._maxsize == size and not len(cache)
        for name, size in CACHES.items()
    )
    plain = (probe._segments, probe._cell_length, probe._render_cache, probe._link_ids, probe._cell_count)
    return caches_as_known and plain == ([Segment("ab")], 2, None, None, None)


def lazy_strip_caches(cls: type = Strip) -> bool:
    """Make ``cls``'s caches on first use (see the module).  Idempotent; False, and nothing changed, when
    ``cls`` is not the ``Strip`` this was written for (another Textual)."""
    if getattr(cls.__init__, "_perpdesk", False):
        return True
    if not _is_textual_8_2_8_strip(cls):
        return False
    for name, size in CACHES.items():
        setattr(cls, name, _LazyCache(cls.__dict__[name], size))
    cls.__init__ = _init  # type: ignore[misc]
    return True
