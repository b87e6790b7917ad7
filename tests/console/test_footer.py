"""The footer: the same keys as Textual's, and a heap that stays flat however often the focus moves."""

from __future__ import annotations

import gc

import pytest

from console.widgets.footer import DeskFooter
from tests.console.harness import make_desk, ready

WARM_UP = 100
CHANGES = 200
MARGIN = 20_000
"""Live objects the heap may grow by over ``CHANGES`` focus changes once warm (bounded caches still
filling); Textual's own footer left ~2,500 objects per focus change behind (~500k over 200)."""


def _live_objects() -> int:
    gc.collect()
    return len(gc.get_objects())


# 300 pilot pauses, each waiting for the process to go idle: ~70 s on a loaded machine and more under
# pytest -n, so its hang guard is wider than the suite's 120 s
@pytest.mark.timeout(360)
async def test_the_heap_stays_flat_over_200_focus_changes():
    desk = make_desk()
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await ready(desk, pilot)
        screen = desk.main
        footer = screen.query_one(DeskFooter)
        fields = [screen.query_one("#markets"), screen.query_one("#price"), screen.query_one("#size")]
        shown: set[tuple[str, ...]] = set()

        async def move(times: int) -> None:
            for i in range(times):
                screen.set_focus(fields[i % len(fields)])
                await pilot.pause()
                shown.add(tuple(hint.key for hint in footer.hints))

        await move(WARM_UP)
        before = _live_objects()
        await move(CHANGES)
        grown = _live_objects() - before
        assert len(shown) > 1  # the focus changes did change the keys the footer shows
        assert not getattr(footer, "__watchers", {}).get("compact")  # no key bound to the footer's compact
        assert grown < MARGIN, f"{grown:,} more live objects after {CHANGES} focus changes"
