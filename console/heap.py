"""The garbage collector set for a console that runs for hours: start-up's heap frozen, young passes rarer.

Start-up leaves ~100k long-lived objects (Textual's DOM, styles, the runtime's markets); every full
collection walked them all, a pause of tens of milliseconds in the middle of a key press or a frame.
A second after the first market is on screen, ``settle`` collects once, moves every survivor into the permanent
generation (``gc.freeze``), where no collection looks again, and raises the young-generation threshold
so the steady churn of book frames and paints is collected in fewer, still short, passes.
``python -m bench screen`` measures it (rows with and without).
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)
"""Young passes every 20k net allocations instead of 700; the older generations as before relative to it."""


def settle(thresholds: tuple[int, int, int] = THRESHOLDS) -> int:
    """Freeze what start-up built and set ``thresholds``; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    return gc.get_freeze_count()


def unsettle(thresholds: tuple[int, int, int] = (700, 10, 10)) -> None:
    """Undo ``settle`` (for tests and benches that run several consoles in one process)."""
    gc.unfreeze()
    gc.set_threshold(*thresholds)
