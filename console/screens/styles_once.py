"""A screen whose styles, applied when its widgets mount, are not applied a second time at once.

Textual 8.2.8 sends the default screen ``ScreenResume(refresh_styles=True)`` when the app starts, and
handles it after the screen has mounted: every node's styles, just applied by the mount, were applied
again (~170 of the ~450 CSS applications before the first painted book, issue 18 cold start).  When
nothing has invalidated the app's CSS since the mount (no theme change, no stylesheet reparse), that
first resume leaves the styles as they are; every later resume (back from a dialog) refreshes them as
Textual does.
"""

from __future__ import annotations

from typing import Any

from textual import events


class StylesOnce:
    """Mixed into a ``Screen`` (before it in the bases): its first resume after the mount skips the
    redundant style refresh."""

    _mounted_css: int | None = None

    def _on_mount(self, event: events.Mount) -> None:
        self._mounted_css = getattr(self._app(), "_css_update_count", None)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        mounted, self._mounted_css = self._mounted_css, None
        if mounted is not None and mounted == getattr(self._app(), "_css_update_count", None):
            event.refresh_styles = False

    def _app(self) -> Any:
        return self.app  # type: ignore[attr-defined]
