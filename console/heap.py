"""The garbage collector set for a console that runs for hours: start-up's heap frozen, young passes rarer.

Start-up leaves ~100k long-lived objects (Textual's DOM, styles, the runtime's markets); every full
collection walked them all, a pause of tens of milliseconds in the middle of a key press or a frame.
A second after the first market is on screen, ``settle`` collects once, moves every survivor into the permanent
generation (``gc.freeze``), where no collection looks again, and raises the young-generation threshold
so the steady churn of book frames and paints is collected in fewer, still short, passes.
``python -m bench screen`` measures it (rows with and without).
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from functools import lru_cache
from typing import Any

THRESHOLDS = (20_000, 20, 20)
"""Young passes every 20k net allocations instead of 700; the older generations as before relative to it."""


TRIM_EVERY_S = 60.0
"""How often a long session gives glibc's free pages back (``trimmer``)."""


def trimmer() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None where the C library has none (musl, macOS).

    glibc gives memory back to the system only from the top of its heap; a long session frees lines,
    frames and rows all through it, and those pages stay resident (1-2 MB in the soak, more after a burst).
    ``malloc_trim`` gives back every free page inside it too: ~0.3 ms on the console's heap (1.3 ms on a
    fragmented 45 MB one), run off the event loop's thread (``ctypes`` lets the GIL go).  CPython's own
    small-object arenas are not glibc's and are untouched."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


def settle(thresholds: tuple[int, int, int] = THRESHOLDS) -> int:
    """Freeze what start-up built and set ``thresholds``; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    return gc.get_freeze_count()


def hold_collections() -> Callable[[], None]:
    """Keep the collector from running until the returned ``resume`` is called (once; later calls do
    nothing): for the few hundred microseconds between a key and its venue request, which a young pass
    (milliseconds, tens under load) or a full one must not sit in.  Allocations still count, so the pass
    that was due runs at the first allocation after ``resume``.  Nothing is held, and ``resume`` does
    nothing, when the collector is already off (another hold, or the host turned it off)."""
    if not gc.isenabled():
        return _nothing
    gc.disable()
    held = True

    def resume() -> None:
        nonlocal held
        if held:
            held = False
            _holding.discard(resume)
            gc.enable()

    _holding.add(resume)
    return resume


_holding: set[Callable[[], None]] = set()
"""The resumes of holds not yet released (at most one: a second hold holds nothing)."""


def release_holds() -> None:
    """Resume every hold still in force: the app is going away before its release came (a hold's own
    limit is a loop timer, which never fires once the loop has stopped)."""
    for resume in list(_holding):
        resume()


def _nothing() -> None:
    pass


def unsettle(thresholds: tuple[int, int, int] = (700, 10, 10)) -> None:
    """Undo ``settle`` (for tests and benches that run several consoles in one process)."""
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def forget_dead_widgets() -> bool:
    """Stop Textual keeping dead widgets' rendered lines: its ``StylesCache.get_inner_outer`` (8.2.8) is an
    ``lru_cache(1024)`` on a method written for a classmethod (``cls``) but bound per instance, so each key
    holds a widget's ``StylesCache``, with every line it cached, long after the widget is gone: ~1,200
    objects per order typed with Textual's footer (its keys recomposed on each focus change), and any widget
    that goes (a dialog's, a toast's), until 1,024 entries push the oldest out.  The same cache, keyed by the two colours alone (what it computes from), leaves
    nothing behind.  Idempotent; False (and nothing changed) when Textual's method is not that cache."""
    from textual._styles_cache import StylesCache

    method = StylesCache.__dict__.get("get_inner_outer")
    if getattr(method, "_perpdesk", False):
        return True
    compute = getattr(method, "__wrapped__", None)
    if compute is None or not hasattr(method, "cache_clear"):
        return False

    @lru_cache(1024)
    def inner_outer(base_background: Any, background: Any) -> Any:
        return compute(StylesCache, base_background, background)

    def get_inner_outer(_self: object, base_background: Any, background: Any) -> Any:
        return inner_outer(base_background, background)

    get_inner_outer._perpdesk = True  # type: ignore[attr-defined]
    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign,assignment]
    method.cache_clear()
    return True
