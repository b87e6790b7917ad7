"""``DeskFooter``: Textual's ``Footer`` as it looks, without the heap it leaks on every focus change.

Textual's footer recomposes on every change of the screen's bindings (each focus change) and binds
each new key's ``compact`` to the footer with ``data_bind``; the footer's watcher list keeps every
old key, and everything it points at, for as long as the footer lives (thousands of objects per
order typed, which full GC passes then walk).  This footer sets ``compact`` on its keys instead of
binding it, passes a change of its own ``compact`` on to them, and recomposes only when what it
shows changed (moving between the order form's fields usually changes nothing it shows).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import TYPE_CHECKING, Any

from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import Binding
    from textual.screen import Screen


class DeskFooter(Footer):
    """The key bar at the bottom: the same widgets Textual's ``Footer`` composes, never re-bound."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[Any, ...] | None = None

    def _key(self, binding: Binding, description: str, enabled: bool, tooltip: str, classes: str = "") -> FooterKey:
        key = FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            description,
            binding.action,
            disabled=not enabled,
            tooltip=tooltip,
            classes=classes,
        )
        key.set_reactive(FooterKey.compact, self.compact)  # no watcher runs for a value set before mount:
        key.set_class(self.compact, "-compact")  # what FooterKey's watcher would have done
        return key

    def _what_it_shows(self) -> tuple[Any, ...]:
        """Everything ``compose`` reads from the screen's bindings, to tell whether a recompose changes anything."""
        return (
            self.compact,
            self.show_command_palette,
            tuple(
                (
                    binding.key,
                    binding.action,
                    binding.description,
                    binding.tooltip,
                    binding.show,
                    id(binding.group),
                    self.app.get_key_display(binding),
                    enabled,
                    tooltip,
                )
                for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            ),
        )

    def compose(self) -> ComposeResult:
        # Textual 8.2's Footer.compose, with each key's ``compact`` set rather than bound
        if not self._bindings_ready:
            return
        self._shown = self._what_it_shows()
        active_bindings = self.screen.active_bindings
        action_to_bindings: defaultdict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _, binding, enabled, tooltip in active_bindings.values():
            if binding.show:
                action_to_bindings[binding.action].append((binding, enabled, tooltip))
        self.styles.grid_size_columns = len(action_to_bindings)
        for group, grouped in groupby(action_to_bindings.values(), lambda multi: multi[0][0].group):
            multi_bindings = list(grouped)
            if group is not None and len(multi_bindings) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for multi in multi_bindings:
                        binding, enabled, tooltip = multi[0]
                        yield self._key(binding, "", enabled, tooltip or binding.description, "-grouped")
                yield FooterLabel(group.description)
            else:
                for multi in multi_bindings:
                    binding, enabled, tooltip = multi[0]
                    yield self._key(binding, binding.description, enabled, tooltip)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            try:
                _node, binding, enabled, tooltip = active_bindings[self.app.COMMAND_PALETTE_BINDING]
            except KeyError:
                pass
            else:
                yield self._key(
                    binding, binding.description, enabled, binding.tooltip or binding.description, "-command-palette"
                )

    def watch_compact(self, compact: bool) -> None:
        for key in self.query(FooterKey):
            key.compact = compact

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if self.is_attached and self._what_it_shows() != self._shown:
            await self.recompose()
