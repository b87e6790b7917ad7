"""``Listeners[**P]``: the one way a service tells others that something changed.

Every service (market data, orders, positions, risk, tracking, reconciler, runtime) keeps a list of
plain sync callables.  A listener that raises must not stop the others or the service that emits,
so each call is guarded, counted in ``errors`` and logged once with the service's own words.
Listeners are called in the order they were added; adding the same callable twice adds it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")

log = logging.getLogger(__name__)


class Listeners(Generic[P]):
    """A list of ``Callable[P, None]`` with guarded fan-out; ``what`` names it in the log."""

    __slots__ = ("_fns", "errors", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self._fns: list[Callable[P, None]] = []
        self.errors = 0
        """How many calls raised (each one was logged with its traceback)."""

    def add(self, fn: Callable[P, None]) -> None:
        if fn not in self._fns:
            self._fns.append(fn)

    def remove(self, fn: Callable[P, None]) -> None:
        """Removing one that is not there is not an error (a widget may unmount twice)."""
        if fn in self._fns:
            self._fns.remove(fn)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call each listener; one that raises is counted and logged, and the rest still run."""
        for fn in tuple(self._fns):  # a listener may remove itself while being called
            try:
                fn(*args, **kwargs)
            except Exception:
                self.errors += 1
                log.exception("%s listener %r failed", self.what, fn)

    def __len__(self) -> int:
        return len(self._fns)

    def __bool__(self) -> bool:
        return bool(self._fns)

    def __repr__(self) -> str:
        return f"<Listeners {self.what}: {len(self._fns)}, {self.errors} errors>"
