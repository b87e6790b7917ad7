"""Textual's ``Strip`` makes its seven caches on first use (``console.strip_caches``)."""

from __future__ import annotations

import gc

from rich.segment import Segment
from rich.style import Style
from textual.cache import FIFOCache
from textual.strip import Strip

from console.strip_caches import CACHES, lazy_strip_caches
from tests.console.harness import make_desk


def _fifo_caches() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is FIFOCache)


def test_the_console_makes_lines_without_their_caches():
    """Every line the console draws made seven empty caches (~900 bytes), most never used; the console
    patches ``Strip`` when it starts, so a thousand lines make none."""
    make_desk()  # the app applies the patch as it is made
    before = _fifo_caches()
    lines = [Strip([Segment(f"line {i}", Style(bold=True))], 6 + len(str(i))) for i in range(1_000)]
    assert _fifo_caches() - before < 10, "a Strip made its caches in __init__"
    assert [line.text for line in lines[:2]] == ["line 0", "line 1"]


def test_a_cache_is_made_on_first_use_and_still_caches():
    assert lazy_strip_caches()
    strip = Strip([Segment("abcdef"), Segment("ghij", Style(italic=True))], 10)
    first = strip.crop(2, 7)
    assert strip.crop(2, 7) is first  # the second crop came from the cache
    assert first.text == "cdefg"
    assert strip.divide([3, 10]) is strip.divide([3, 10])
    cache = strip._crop_cache
    assert type(cache) is FIFOCache and cache._maxsize == CACHES["_crop_cache"] and len(cache) == 1
    styled = strip.apply_style(Style(bold=True))
    assert strip.apply_style(Style(bold=True)) is styled


def test_applying_twice_changes_nothing_more():
    assert lazy_strip_caches() and lazy_strip_caches()
    for name in CACHES:
        slot = Strip.__dict__[name].slot
        assert type(slot).__name__ == "member_descriptor", f"{name} wrapped twice"


def test_another_strip_is_left_alone():
    """A Textual whose ``Strip`` has other slots (a newer one) is not patched: False, nothing changed."""

    class OtherStrip:
        __slots__ = ("_crop_cache", "_segments")

        def __init__(self, segments: list[Segment], cell_length: int | None = None) -> None:
            self._segments = list(segments)
            self._crop_cache: FIFOCache[object, object] = FIFOCache(16)

    init = OtherStrip.__init__
    assert lazy_strip_caches(OtherStrip) is False
    assert OtherStrip.__init__ is init
    assert type(OtherStrip.__dict__["_crop_cache"]).__name__ == "member_descriptor"
