"""``lev`` / ``margin`` command lines, parsed (``console.parsing.leverage_ticket``)."""

from __future__ import annotations

import pytest

from console.parsing.commands import CommandError, complete, parse
from console.parsing.leverage_ticket import LeverageCommand, LeverageLineError, parse_leverage_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("lev BTC 5", LeverageCommand("lev", "BTC", leverage=5)),
        ("lev btc 5x", LeverageCommand("lev", "BTC", leverage=5)),
        ("leverage hyperliquid:ETH 10 isolated", LeverageCommand("lev", "ETH", "hyperliquid", 10, False)),
        ("lev BTC 3 cross", LeverageCommand("lev", "BTC", leverage=3, cross=True)),
        ("margin BTC isolated", LeverageCommand("margin", "BTC", cross=False)),
        ("margin sim:BTC iso", LeverageCommand("margin", "BTC", "sim", cross=False)),
        ("MARGIN BTC Cross", LeverageCommand("margin", "BTC", cross=True)),
    ],
)
def test_lines_parse(line, expected):
    assert parse_leverage_line(line) == expected
    assert parse(line) == expected  # the command bar hands them on


@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        ("lev", "expected a symbol", 3),
        ("lev BTC", "expected a leverage", 7),
        ("lev BTC 0", "whole number from 1", 8),
        ("lev BTC 2.5", "whole number from 1", 8),
        ("lev BTC 5 hedge", "expected cross or isolated", 10),
        ("lev BTC 5 cross now", "unexpected 'now'", 16),
        ("margin BTC", "expected cross or isolated", 10),
        ("margin BTC portfolio", "expected cross or isolated", 11),
        ("margin BTC cross 5", "unexpected '5'", 17),
        ("margin B$C cross", "expected a symbol", 7),
    ],
)
def test_mistakes_say_what_was_expected_and_where(line, message, column):
    with pytest.raises(LeverageLineError, match=message) as err:
        parse_leverage_line(line)
    assert err.value.column == column
    with pytest.raises(CommandError, match=message):
        parse(line)


def test_the_verbs_complete_and_take_a_symbol():
    assert "lev" in complete("le", []) and "margin" in complete("mar", [])
    assert complete("lev B", ["BTC", "ETH"]) == ["BTC"]
    assert complete("margin ", ["BTC", "ETH"]) == ["BTC", "ETH"]
