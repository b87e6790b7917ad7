"""``perpdesk --read-only``: the same screens, every trading action refused with a message.

For a risk manager watching a trader's desk (``perpdesk serve --read-only``).  The refusal lives
here, once: each entry point of a trading action (a key, a form's send, a palette entry, a
command line) is marked ``@trading_action("…")`` or asks ``command_refusal`` first, and nothing
below it runs in a read-only console.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from console.parsing.algo_ticket import ScaleCommand, TwapCommand
from console.parsing.commands import (
    CancelAllCommand,
    CancelLastCommand,
    CancelOrderCommand,
    ChaseCommand,
    CloseCommand,
    Command,
    KillCommand,
    OrderCommand,
    ReverseCommand,
)
from console.parsing.leverage_ticket import LeverageCommand
from console.parsing.trigger_ticket import TriggerCommand

if TYPE_CHECKING:
    from textual.app import App

A = TypeVar("A", bound=Callable[..., object])

COMMAND_WHAT: dict[type[Command], str] = {
    OrderCommand: "sending an order",
    ChaseCommand: "starting a chase",
    CancelAllCommand: "cancel all",
    CloseCommand: "closing a position",
    KillCommand: "the kill switch",
    ScaleCommand: "placing a scale",
    TwapCommand: "starting a TWAP",
    TriggerCommand: "placing a protective order",
    CancelLastCommand: "cancelling an order",
    CancelOrderCommand: "cancelling an order",
    ReverseCommand: "reversing a position",
    LeverageCommand: "changing leverage or margin mode",
}


class _OnTheApp(Protocol):
    """An app, or a screen or mixin of it: where ``read_only`` is read and the refusal shown."""

    @property
    def app(self) -> App[object]: ...


def refusal(what: str) -> str:
    return f"read-only console: {what} is refused (this console only watches)"


def is_read_only(node: _OnTheApp) -> bool:
    return bool(getattr(node.app, "read_only", False))


def trading_action(what: str) -> Callable[[A], A]:
    """Mark the entry point of an action that trades: in a read-only console it only says so."""

    def mark(action: A) -> A:
        @functools.wraps(action)
        def guarded(self: _OnTheApp, *args: object, **kwargs: object) -> object:
            if is_read_only(self):
                self.app.notify(refusal(what), severity="warning")
                return None
            return action(self, *args, **kwargs)

        return cast(A, guarded)

    return mark


def command_refusal(node: _OnTheApp, command: Command) -> str | None:
    """The line to show under the command bar for a trading command in a read-only console."""
    what = COMMAND_WHAT.get(type(command))
    return refusal(what) if what is not None and is_read_only(node) else None
