from decimal import Decimal

import pytest

from console.parsing.commands import (
    CancelAllCommand,
    ChaseCommand,
    CloseCommand,
    CommandError,
    GoCommand,
    KillCommand,
    OrderCommand,
    SymbolRef,
    ThemeCommand,
    complete,
    parse,
)


def test_limit_order_line():
    assert parse("buy 0.1 BTC @ 64950") == OrderCommand(
        False, SymbolRef("BTC"), Decimal("0.1"), False, Decimal("64950")
    )


def test_market_reduce_only_sell():
    cmd = parse("sell 0.1 btc mkt ro")
    assert cmd == OrderCommand(True, SymbolRef("BTC"), Decimal("0.1"), False, None, reduce_only=True)


def test_notional_size_post_only_and_venue_prefix():
    cmd = parse("buy $500 hyperliquid:ETH @3400.5 po")
    assert cmd == OrderCommand(
        False, SymbolRef("ETH", "hyperliquid"), Decimal("500"), True, Decimal("3400.5"), post_only=True
    )


def test_chase_line():
    assert parse("chase buy 0.5 BTC to 64950 off 1") == ChaseCommand(
        False, SymbolRef("BTC"), Decimal("0.5"), Decimal("64950"), 1
    )
    cmd = parse("chase sell 2 SOL off -1 timeout 30 ro")
    assert cmd == ChaseCommand(True, SymbolRef("SOL"), Decimal("2"), None, -1, Decimal("30"), True)


def test_other_verbs():
    assert parse("cancel all") == CancelAllCommand(None)
    assert parse("cancel all ETH") == CancelAllCommand(SymbolRef("ETH"))
    assert parse("close BTC") == CloseCommand(SymbolRef("BTC"))
    assert parse("close all") == CloseCommand(None)
    assert parse("kill") == KillCommand(False)
    assert parse("kill flat") == KillCommand(True)
    assert parse("theme perpdesk-light") == ThemeCommand("perpdesk-light")
    assert parse("go sol") == GoCommand(SymbolRef("SOL"))


@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        ("buy", "expected a size", 3),
        ("buy x BTC @ 1", "expected a size, got 'x'", 4),
        ("buy 0.1 BTC", "expected @ PRICE or mkt", 11),
        ("buy 0.1 BTC @", "expected a price after @", 13),
        ("buy -1 BTC @ 5", "must be a positive number", 4),
        ("buy 1 BTC @ inf", "expected a price after @, got 'inf'", 12),
        ("buy 1 BTC mkt po", "market order cannot be post-only", 16),
        ("buy 1 BTC @ 5 fast", "unexpected 'fast'", 14),
        ("chase up 1 BTC", "expected buy or sell", 6),
        ("chase buy 1 BTC off 1.5", "whole number of ticks", 20),
        ("cancel everything", "expected 'all'", 7),
        ("kill now", "expected nothing or 'flat'", 5),
        ("yolo 1 BTC", "unknown command 'yolo'", 0),
        ("go BTC ETH", "unexpected 'ETH' at the end", 7),
        ("", "type a command", 0),
    ],
)
def test_parse_errors_say_what_was_expected_and_where(line, message, column):
    with pytest.raises(CommandError, match=message) as info:
        parse(line)
    assert info.value.column == column


def test_completion_offers_verbs_then_symbols_in_the_symbol_slot():
    symbols = ["BTC", "ETH", "SOL"]
    assert complete("ch", symbols) == ["chase"]
    assert complete("c", symbols) == ["chase", "cancel", "close"]
    assert complete("buy 0.1 ", symbols) == symbols
    assert complete("buy 0.1 e", symbols) == ["ETH"]
    assert complete("chase sell 1 s", symbols) == ["SOL"]
    assert complete("close ", symbols) == symbols
    assert complete("buy ", symbols) == []


def test_a_trailing_bang_answers_the_question_of_a_destructive_line():
    assert parse("cancel all") == CancelAllCommand(None, False)
    assert parse("cancel all BTC!") == CancelAllCommand(SymbolRef("BTC"), True)
    assert parse("close BTC !") == CloseCommand(SymbolRef("BTC"), True)
    assert parse("close all!") == CloseCommand(None, True)
    assert parse("kill flat!") == KillCommand(True, True)
    assert parse("kill!") == KillCommand(False, True)
    with pytest.raises(CommandError, match="asks none") as err:
        parse("buy 0.1 BTC @ 64950!")
    assert err.value.column == len("buy 0.1 BTC @ 64950")
