"""``PerpdeskApp``: the trading console, hosting the runtime on Textual's event loop.

The app owns no trading logic and paints nothing itself.  It starts a ``Runtime`` (the same
object scripts use), lets the ``Bridge`` listen to it, and opens ``MainScreen``, which paints
what changed on a bounded timer.  Everything it needs is injectable (runtime, clock, venue,
symbol) so tests run it on a seeded sim in virtual time.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App
from textual.events import Resize
from textual.keys import key_to_character
from textual.theme import Theme

from connector.clock import Clock
from connector.interface import QUOTE_DECIMALS
from console import bindings, heap
from console.bridge import Bridge
from console.key_gate import KeyGate
from console.palette import PROVIDERS
from console.screens.dialogs import KillSwitchScreen, QuitScreen
from console.screens.main import MainScreen
from console.strip_caches import lazy_strip_caches
from console.themes import DEFAULT_THEME, THEME_VARIABLE_DEFAULTS, load_themes

if TYPE_CHECKING:
    from console.alert_settings import AlertSettings
    from console.settings_defaults import PlainAlertSettings
    from execution.runtime import Runtime
    from execution.triggers import Trigger

log = logging.getLogger(__name__)

OPTION_CHARACTERS = {
    "º": ("0", "0"), "¡": ("1", "1"), "™": ("2", "2"), "£": ("3", "3"), "¢": ("4", "4"), "∞": ("5", "5"),
    "§": ("6", "6"), "¶": ("7", "7"), "•": ("8", "8"), "ª": ("9", "9"), "–": ("minus", "-"),
    "≠": ("equals_sign", "="),
}
"""What Textual 8.2.8's input parser reports for ESC followed by a digit, ``-`` or ``=`` (its table of
macOS Option characters), back to the key after the Escape."""

FLUSH_HZ = 25
DEFAULT_CONFIRM_ABOVE_Q = 10_000 * 10**QUOTE_DECIMALS
STOP_TIMEOUT_S = 5
CANCEL_ON_QUIT_TIMEOUT_S = 5
HANGUP_BUDGET_S = 1.4
HANGUP_EXIT_AFTER_S = 0.4
"""A hangup or SIGTERM ends the app within 2 s: half for cancelling (on_hangup = "cancel"), half to stop."""
COLLECTOR_BACKSTOP_S = 15.0
"""The collector is on again this long after mount even if no market has opened (a venue slow to answer,
or never): cyclic garbage must not pile up while the start waits."""
SETTLE_AFTER_S = 1.0
"""The heap is settled (``console.heap``) this long after the first market is opened: its full collection
holds the interpreter lock for tens of milliseconds, and run on the next refresh it held back the
writer thread's first painted frame (issue 18, cold start)."""


class PerpdeskApp(KeyGate, App[int]):
    """The console.  ``runtime`` is a ``Runtime`` (not yet started); the app starts and stops it."""

    TITLE = "perpdesk"
    CSS_PATH = "perpdesk.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | set(PROVIDERS)
    BINDINGS = bindings.FOR_APP

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Clock | None = None,
        venue: str | None = None,
        symbol: str | None = None,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
        confirm_above_q: int = DEFAULT_CONFIRM_ABOVE_Q,
        flush_hz: float = FLUSH_HZ,
        persist_theme: Callable[[str], object] | None = None,
        on_hangup: str = "leave",
        sizes: dict[str, str] | None = None,
        read_only: bool = False,
        long_lived_heap: bool = False,
        alerts: AlertSettings | PlainAlertSettings | None = None,
    ) -> None:
        super().__init__()
        heap.forget_dead_widgets()
        lazy_strip_caches()
        self.runtime = runtime
        self.clock: Clock = clock or runtime.clock
        self.want_venue = venue
        self.want_symbol = symbol.upper() if symbol else None
        self.bridge = Bridge()
        self.error_message: str | None = None
        self.ready = asyncio.Event()
        """Set once the runtime has started and the main screen shows the first market."""
        self.main_screen = MainScreen(
            runtime, self.bridge, clock=self.clock, confirm_above_q=confirm_above_q, flush_hz=flush_hz,
            sizes=sizes or {},
            alert_settings=alerts,
            started_ns=time.perf_counter_ns(),
        )
        self._stopping = False
        self._stop_timeout_s: float = STOP_TIMEOUT_S
        self._keep_dead_man = False
        """Set by ``end`` for a hangup that leaves its orders: ``shutdown`` then leaves the dead-man switches armed."""
        self._runtime_started = False
        self._mounted = False
        """The main screen has mounted its widgets (the first market opens once it has and the runtime runs)."""
        for t in load_themes():
            self.register_theme(t)
        self._first_theme(theme or DEFAULT_THEME)
        self._persist_theme = persist_theme
        self.on_hangup = on_hangup
        self.read_only = read_only
        """Watch only: every trading action is refused (``console.read_only``)."""
        """``leave`` or ``cancel``: what a hangup or SIGTERM does with live orders and chases."""
        self.long_lived_heap = long_lived_heap
        """Once the first market is painted, freeze start-up's heap and tune the collector (``console.heap``)."""
        if keymap:
            self.set_keymap(keymap)

    def _first_theme(self, name: str) -> None:
        """Start with theme ``name``.  Textual's theme watcher (``self.theme = name``) queues a reparse
        of every stylesheet and a restyle of every node, which at construction repeats work that has
        not been done yet: nothing is parsed before the app runs, so the theme's classes and the
        stylesheet's variables are set here and the first parse uses them (issue 18, cold start).
        An unknown theme, or a Textual without the pieces used here: the plain assignment."""
        refresh_filter = getattr(self, "_refresh_truecolor_filter", None)
        if name not in self.available_themes or refresh_filter is None or self.stylesheet.source:
            self.theme = name
            return
        self.set_reactive(App.theme, name)
        theme = self.current_theme
        classes = {c: False for c in self.classes if c.startswith("-theme-")}
        classes.update({f"-theme-{theme.name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark})
        self.update_classes(classes, update=False)
        refresh_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    # -- start-up ---------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if not self.is_headless:
            self._quit_on_signals()
        self.bridge.attach(self.runtime)
        self.set_timer(COLLECTOR_BACKSTOP_S, gc.enable)  # _settle_heap normally does it long before
        if self.read_only:
            self.notify("read-only console: you can watch; every trading action is refused", timeout=8)
        # the runtime starts now, while Textual composes the screen (the sim's first book arrives a step
        # after its start); the first market opens once the screen has mounted its widgets and before
        # its first layout pass, so the first frame shows it (issue 18, cold start)
        if self.main_screen.is_mounted:
            self._mounted = True
        else:
            self.main_screen.on_mounted = self._screen_mounted
        self._boot()

    def on_resize(self, event: Resize) -> None:
        # the main screen keeps its size classes while a dialog covers it
        self.main_screen.fit(event.size)

    @work(exclusive=True, group="runtime", exit_on_error=False)
    async def _boot(self) -> None:
        """Start the runtime (the journal's restores included), then open the first market once the
        screen has mounted (``_screen_mounted``), whichever comes last."""
        try:
            await self.runtime.start()
        except Exception as exc:
            log.exception("runtime failed to start")
            self._fail(f"perpdesk: could not start: {exc}")
            return
        self._runtime_started = True
        if self._mounted:
            self._open_first_market()

    def _screen_mounted(self) -> None:
        self._mounted = True
        if self._runtime_started:  # open it before the screen's first layout pass: the first frame has it
            self._open_first_market()

    def _open_first_market(self) -> None:
        md = self.runtime.market_data
        markets = [(v, s) for v in md.venues() for s in md.symbols(v)]
        if not markets:
            self._fail("perpdesk: the venue lists no markets; check --venue and the venue's status")
            return
        selected = self._initial_market(markets)
        if selected is None:
            where = self.want_venue or ", ".join(md.venues())
            choices = ", ".join(sorted({s for _, s in markets}))
            self._fail(f"perpdesk: unknown symbol {self.want_symbol!r} on {where}: use --symbol with one of {choices}")
            return
        self.main_screen.open(markets, selected)
        self.ready.set()
        if self.long_lived_heap:
            self.set_timer(SETTLE_AFTER_S, self._settle_heap)

    def _settle_heap(self) -> None:
        """``heap.settle`` (one collection, start-up's heap frozen, the collector tuned), then the
        collector on again: ``perpdesk`` starts with it off (``cli.QUIET_COLLECTOR_AT_START``)."""
        heap.settle()
        gc.enable()
        trim = heap.trimmer()
        if trim is not None:
            loop = asyncio.get_running_loop()

            def trim_beside_the_loop() -> None:
                loop.run_in_executor(None, trim)  # not awaited: the App's queue does not wait on it

            self.set_interval(heap.TRIM_EVERY_S, trim_beside_the_loop, name="heap trim")

    def _initial_market(self, markets: list[tuple[str, str]]) -> tuple[str, str] | None:
        venues = [self.want_venue] if self.want_venue else [v for v, _ in markets]
        if self.want_symbol:
            for venue in venues:
                if (venue, self.want_symbol) in markets:
                    return venue, self.want_symbol
            return None
        for venue in venues:
            if (venue, "BTC") in markets:
                return venue, "BTC"
        return next((m for m in markets if m[0] in venues), None)

    def _quit_on_signals(self) -> None:
        """SIGTERM or a dropped SSH session (SIGHUP) quits through ``end`` as ``q`` does, with no
        one to ask: live orders and chases are left or cancelled as ``on_hangup`` says."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, lambda name=sig.name: self.call_later(self.hang_up, name))
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or a platform without signals

    async def hang_up(self, why: str) -> None:
        """No terminal any more: end within 2 s, following ``on_hangup``.

        Once the runtime has stopped (orders left or cancelled, journal closed), Textual still
        restores the terminal, and with the terminal gone its output thread can wait forever
        (seen through a closed pty); nothing is left to do then, so a timer ends the process."""
        await self.end(cancel_live=self.on_hangup == "cancel", why=why, budget_s=HANGUP_BUDGET_S,
                       keep_dead_man=self.on_hangup == "leave")
        if not self.is_headless:
            timer = threading.Timer(HANGUP_EXIT_AFTER_S, os._exit, args=(0,))
            timer.daemon = True
            timer.start()

    def _theme_changed(self, theme: Theme) -> None:
        """A theme chosen live (palette or command bar) is written to the config file to persist."""
        if self._persist_theme is None:
            return
        try:
            self._persist_theme(theme.name)
        except Exception as exc:
            self.notify(f"theme not saved: {exc}", severity="warning")

    def _fail(self, message: str) -> None:
        self.error_message = message
        self.exit(2, return_code=2)

    # -- keys -------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """A key sent as Escape and then a key is taken as Escape and then that key.

        Over SSH or under tmux, Escape followed fast by a key arrives as one chord, which a field
        would take as a character typed into it: Textual reads ESC 2 as ``™`` (a macOS Option
        character, ``OPTION_CHARACTERS``) and ESC x as ``alt+x``, and an Escape whose next byte it could not
        make a sequence of as ``^``.  The console binds no alt keys and none of those characters (nor ``^``)
        is valid in a price, a size or a command line."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if event.key == "circumflex_accent":
                # Textual reissues an Escape whose next byte came before its escape timeout and made no
                # sequence it knows as "^" (seen on a loaded machine: Esc, then ":" 0.1 s later)
                event = events.Key("escape", "\x1b")
            key = event.key.removeprefix("alt+") if event.key.startswith("alt+") else None
            if key is None and event.character in OPTION_CHARACTERS:
                key, character = OPTION_CHARACTERS[event.character]
            else:
                character = event.character
            if key is not None:
                if key.startswith("shift+") and len(key) == len("shift+") + 1:
                    key = key[-1].upper()
                await super().on_event(events.Key("escape", "\x1b"))
                await super().on_event(events.Key(key, character))
                return
        await super().on_event(event)

    def get_system_commands(self, screen):  # type: ignore[override]
        """Textual's own palette entries (Theme, Quit, Keys, Maximize, Screenshot …) stay out: ours
        cover them (``Theme NAME``, ``Help: keys``, ``Quit``), and Textual's Quit would not ask about
        live orders."""
        yield from ()

    # -- the App's own actions (its other keys act on the main screen: see bindings.FOR_APP) ----

    def action_kill_switch(self) -> None:
        """ctrl+k is a priority key: it opens the kill switch over any dialog too, and pressed again
        on the kill switch's second step it confirms."""
        if isinstance(self.screen, KillSwitchScreen):
            self.screen.action_confirm()
            return
        self.main_screen.action_kill_switch()

    def function_keys(self, binding_id: str) -> list[str]:
        """The keys bound to ``binding_id`` now (the config's keymap applied) that no typed word contains."""
        keys = self._keymap.get(binding_id)
        if keys is None:
            keys = next(b.key for group in bindings.REGISTRY.values() for b in group if b.id == binding_id)
        return [k for k in (k.strip() for k in keys.split(",")) if key_to_character(k) is None]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # q and ? are priority keys (see bindings.FOR_APP); over a dialog they are the dialog's
        if action in ("request_quit", "help") and self.screen is not self.main_screen:
            return False
        return True

    async def action_request_quit(self) -> None:
        """``q``: quits at once when nothing is live; else asks cancel them / leave them / stay."""
        orders, chases = self._live()
        emulated = len(self._emulated_triggers())
        if not orders and not chases and not emulated:
            await self.end(cancel_live=False, why="q")
            return

        def answer(choice: str | None) -> None:
            if choice is not None:
                self.run_worker(self.end(cancel_live=choice == "cancel", why="q"), group="quit")

        self.push_screen(QuitScreen(orders, chases, emulated), answer)

    def _live(self) -> tuple[int, int]:
        if not self._runtime_started:
            return 0, 0
        working = len(self.runtime.tracking.active()) + len(self.runtime.algos.active())  # chases, scales, TWAPs
        return len(self.runtime.orders.open_orders()), working

    def _emulated_triggers(self) -> list[Trigger]:
        """Stops and take-profits perpdesk holds itself: they stop firing when it quits (native ones stay
        with the venue, so quitting never asks about them)."""
        if not self._runtime_started:
            return []
        return [t for t in self.runtime.triggers.active() if not t.native]

    async def end(self, *, cancel_live: bool, why: str, budget_s: float | None = None,
                  keep_dead_man: bool = False) -> None:
        """The one way out for ``q`` and a hangup or SIGTERM: cancel the live chases and orders if
        asked, say so in the log, stop the runtime (journal closed, lock released), exit.

        ``keep_dead_man`` (a hangup with ``on_hangup = "leave"`` only): the venues' dead-man switches
        stay armed at stop, so orders left behind by a dropped session do not rest forever; the
        reconcile log (kept in the journal) says so per venue."""
        orders, chases = self._live()
        what = "cancelling" if cancel_live else "leaving"
        armed = "; the venue's dead-man switch stays armed" if keep_dead_man else ""
        log.warning("quitting on %s: %s %d open order(s) and %d chase(s)%s", why, what, orders, chases, armed)
        self._keep_dead_man = keep_dead_man
        if cancel_live and (orders or chases or self._emulated_triggers()):
            try:
                timeout = CANCEL_ON_QUIT_TIMEOUT_S if budget_s is None else budget_s / 2
                await asyncio.wait_for(self._cancel_live(), timeout=timeout)
            except Exception:
                log.exception("cancelling on quit failed; orders may still rest")
        if budget_s is not None:
            self._stop_timeout_s = budget_s / 2
        await self.action_quit()

    async def _cancel_live(self) -> None:
        for trigger in self._emulated_triggers():  # a native stop keeps protecting the position
            await self.runtime.triggers.cancel(trigger, reason="cancelled on quit")
        await self.runtime.algos.cancel_all()  # first: a TWAP would start its next slice
        await self.runtime.tracking.cancel_all()
        await self.runtime.orders.cancel_all()

    def action_help(self) -> None:
        from console.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    # -- quitting -----------------------------------------------------------------------------

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit(0)

    async def shutdown(self) -> None:
        """Stop the runtime once (connectors, services); safe to call twice."""
        if self._stopping:
            return
        self._stopping = True
        if self._runtime_started:
            try:
                await asyncio.wait_for(self.runtime.stop(disarm_dead_man=not self._keep_dead_man),
                                       timeout=self._stop_timeout_s)
            except Exception:
                log.exception("stopping the runtime failed")

    async def on_unmount(self) -> None:
        heap.release_holds()  # an order sent just before quitting must not leave the collector off
        await self.shutdown()


__all__ = ["PerpdeskApp"]
