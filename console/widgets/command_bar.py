"""The command bar (``:``): one line a trader types fast, parsed by ``console.parsing.commands``.

It opens at the bottom of the screen, suggests the verb or symbol being typed (Tab or → takes
the suggestion), Enter runs the line and Escape closes it; ↑/↓ recall earlier lines.  A line
that does not parse shows what was expected, with a caret under the column, and nothing is sent.

Keys typed fast arrive in one read: focus moves the moment the bar opens or closes, and whatever
touches the line's text (clearing it on open, reading it on Enter) is a message queued behind the
keys already sent to the field, so the line is exactly what was typed between ``:`` and Enter.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Static

from console import bindings
from console.key_gate import hold_keys
from console.parsing.commands import Command, CommandError, complete, parse
from console.widgets.field import Field

HISTORY_SIZE = 100
HINT = "buy 0.1 BTC @ 64950 · sell $500 ETH mkt ro · chase buy 0.5 BTC to 64950 off 1 · cancel all · close BTC · go SOL"


class CommandSuggester(Suggester):
    def __init__(self, symbols: Callable[[], list[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._symbols = symbols

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value.endswith(" "):
            return None
        candidates = complete(value, self._symbols())
        if not candidates:
            return None
        partial = value.split()[-1]
        first = candidates[0]
        if first.lower() == partial.lower():
            return None
        return value + first[len(partial):]


class CommandInput(Field):
    BINDINGS = bindings.FOR_COMMAND_BAR

    class ClearLine(Message):
        """Empty the line, after the keys already queued to it."""

    class ReadLine(Message):
        """Parse the line, after the keys already queued to it (Enter was pressed); the keys typed after
        Enter wait (``console.key_gate``) until ``release_keys`` is called, once the line has run."""

        def __init__(self, release_keys: Callable[[], None]) -> None:
            super().__init__()
            self.release_keys = release_keys

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[str] = []
        self._recall: int | None = None
        self._draft = ""

    def remember(self, line: str) -> None:
        """Keep a line that parsed, newest last, without repeating the one before it."""
        line = line.strip()
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY_SIZE]
        self._recall = None

    def reset_recall(self) -> None:
        self._recall = None

    def action_history(self, step: int) -> None:
        """Up walks back through earlier lines, down forward again to what was being typed."""
        if not self.history:
            return
        if self._recall is None:
            if step > 0:
                return
            self._draft = self.value
            index = len(self.history) - 1
        else:
            index = self._recall + step
        if index < 0:
            index = 0
        if index >= len(self.history):
            self._recall = None
            self.value = self._draft
        else:
            self._recall = index
            self.value = self.history[index]
        self.cursor_position = len(self.value)

    def action_take_suggestion(self) -> None:
        if self._suggestion and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)

    def action_close(self) -> None:
        self._bar.close()

    def action_run_line(self) -> None:
        self._bar.close()
        self.post_message(self.ReadLine(hold_keys(self.app)))

    def on_command_input_clear_line(self, message: ClearLine) -> None:
        self.value = ""
        self.reset_recall()

    def on_command_input_read_line(self, message: ReadLine) -> None:
        self._bar.run_line(self.value, message.release_keys)

    @property
    def _bar(self) -> CommandBar:
        return self.query_ancestor(CommandBar)


class CommandBar(Vertical):
    DEFAULT_CSS = """
    CommandBar { height: auto; display: none; background: $panel; padding: 0 1; }
    CommandBar.-open { display: block; }
    CommandBar CommandInput { height: 1; border: none; background: $boost; padding: 0 1; }
    CommandBar #command-error { color: $error; height: auto; }
    CommandBar #command-hint { color: $text-muted; height: 1; }
    """

    class Run(Message):
        """A parsed line to run; its handler calls ``release_keys`` when done (the keys typed after Enter)."""

        def __init__(self, command: Command, line: str, release_keys: Callable[[], None]) -> None:
            super().__init__()
            self.command = command
            self.line = line
            self.release_keys = release_keys

    def __init__(
        self, symbols: Callable[[], list[str]], leave: Callable[[], None], *, id: str | None = None
    ) -> None:
        """``leave`` moves focus back to the desk, at once, when the bar closes."""
        super().__init__(id=id)
        self._symbols = symbols
        self._leave = leave

    def compose(self) -> ComposeResult:
        yield CommandInput(placeholder=": command", id="command-input", compact=True, select_on_focus=False,
                           suggester=CommandSuggester(self._symbols))
        yield Static("", id="command-error", markup=False)
        yield Static(HINT, id="command-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(CommandInput).cursor_blink = False

    def open(self) -> None:
        self.add_class("-open")
        inp = self.query_one(CommandInput)
        inp.post_message(CommandInput.ClearLine())
        self.show_error("")
        self.screen.set_focus(inp)

    def reopen(self, line: str, error: str, column: int | None = None) -> None:
        """Show ``line`` again with what is wrong with it, for the trader to fix."""
        self.add_class("-open")
        inp = self.query_one(CommandInput)
        inp.value = line
        inp.cursor_position = len(line)
        self.show_error(error, column)
        self.screen.set_focus(inp)

    def close(self) -> None:
        if self.is_open:
            self.remove_class("-open")
            self._leave()

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def show_error(self, message: str, column: int | None = None) -> None:
        text = message
        if message and column is not None:
            # the caret on a line of its own: a long message wraps without moving it off the column
            text = f"{' ' * column}^\n{message}"
        self.query_one("#command-error", Static).update(text)

    def run_line(self, line: str, release_keys: Callable[[], None]) -> None:
        try:
            command = parse(line)
        except CommandError as exc:
            self.reopen(line, str(exc), exc.column)
            release_keys()
            return
        self.query_one(CommandInput).remember(line)
        self.post_message(self.Run(command, line, release_keys))
