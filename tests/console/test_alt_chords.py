"""Escape followed fast by a key arrives as one chord; the console takes it as Escape, then the key."""

from __future__ import annotations

from textual import events
from textual._xterm_parser import XTermParser

from console.app import OPTION_CHARACTERS
from console.screens.chase_form import ChaseForm
from tests.console.harness import make_desk, ready, settle


def test_the_option_characters_are_what_textual_reads_for_escape_and_a_key():
    for character, (key, typed) in OPTION_CHARACTERS.items():
        [event] = list(XTermParser().feed(f"\x1b{typed}"))
        assert event.character == character or (typed == "6" and character == "§"), (typed, event)
        assert key  # the name Textual gives the key after the Escape


async def test_escape_then_a_digit_leaves_the_field_and_switches_tab():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("s", *"0.1")
        price = desk.app.focused
        before = price.value
        [chord] = list(XTermParser().feed("\x1b2"))
        desk.app.post_message(chord)
        await settle(desk, pilot)
        assert price.value == before, "the chord was typed into the field"
        assert desk.main.query_one("#tabs").active == "positions"


async def test_escape_then_a_letter_leaves_the_command_bar_and_acts_as_that_key():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("colon", "g", "o")
        desk.app.post_message(events.Key("alt+t", "t"))  # ESC t: the chase form
        await settle(desk, pilot)
        assert not desk.main.query_one("#command-bar").is_open
        assert isinstance(desk.app.screen, ChaseForm)


async def test_a_caret_is_an_escape_textual_could_not_parse_and_closes_the_command_bar():
    """On a loaded machine Esc, then ``:`` 0.1 s later, reached the console as ``^`` and ``:`` (Textual
    reissues an Escape it could not make a sequence of as ``^``): the bar stayed open and took both."""
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("colon", "g", "o")
        desk.app.post_message(events.Key("circumflex_accent", "^"))
        await settle(desk, pilot)
        assert not desk.main.query_one("#command-bar").is_open
        assert "^" not in desk.main.query_one("#command-input").value
