"""The command bar's working-order lines and chase variants, parsed; their previews as text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from console.parsing.algo_ticket import ScaleCommand, TwapCommand, parse_duration, scale_preview, twap_preview
from console.parsing.commands import ChaseCommand, CommandError, complete, parse


def test_the_issue_s_scale_line():
    cmd = parse("scale buy 1 BTC 64000..64500 x10")
    assert cmd == ScaleCommand(False, "BTC", None, Decimal(1), Decimal(64000), Decimal(64500), 10)
    assert parse("scale sell 2 sim:eth 3300..3200 x 5 dec ro taker") == ScaleCommand(
        True, "ETH", "sim", Decimal(2), Decimal(3300), Decimal(3200), 5, "decreasing", False, True
    )
    assert parse("scale buy 1 BTC 64000..64500 x10 inc").distribution == "increasing"


def test_the_issue_s_twap_line():
    assert parse("twap sell 2 ETH 30m") == TwapCommand(True, "ETH", None, Decimal(2), 1800, 30)
    cmd = parse("twap sell 2 ETH 30m x30 ioc limit 3300 jitter 10%")
    assert (cmd.slices, cmd.slice_mode, cmd.limit_price, cmd.jitter) == (30, "ioc", Decimal(3300), Decimal("0.1"))
    assert parse("twap buy 1 BTC 90s").slices == 1
    assert parse("twap buy 1 BTC 1h30m x9").duration_s == 5400


def test_the_issue_s_chase_variants():
    cmd = parse("chase buy 0.5 BTC to 0.2% aggr")
    assert isinstance(cmd, ChaseCommand)
    assert (cmd.limit_pct, cmd.aggressive, cmd.trail, cmd.limit_price) == (Decimal("0.2"), True, False, None)
    cmd = parse("chase sell 1 SOL trail")
    assert cmd.trail and not cmd.aggressive and cmd.symbol.symbol == "SOL"
    assert parse("chase buy 1 BTC to 64950").limit_price == Decimal(64950)  # a price still works


@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        ("scale buy 1 BTC 64000-64500 x10", "FROM..TO", 16),
        ("scale buy 1 BTC 64000..64500", "number of orders", 28),
        ("scale buy 1 BTC 64000..abc x3", "second price", 23),
        ("scale buy 1 BTC 1..2 x0", "at least 1", 21),
        ("twap sell 2 ETH soon", "duration", 16),
        ("twap sell 2 ETH 30m jitter 60%", "below 50%", 27),
        ("twap sell 2 ETH 10s x20", "at most 10 slices", 23),
        ("chase buy 1 BTC to 150%", "percentage", 19),
    ],
)
def test_a_bad_line_says_what_was_expected_and_where(line, message, column):
    with pytest.raises(CommandError, match=message) as info:
        parse(line)
    assert info.value.column == column


def test_durations():
    assert [parse_duration(t) for t in ("90", "90s", "30m", "1h", "2h5m10s", "m", "1d")] == [
        90, 90, 1800, 3600, 7510, None, None,
    ]  # fmt: skip


def test_completion_offers_symbols_where_the_algo_lines_take_one():
    assert complete("sc", []) == ["scale"]
    assert complete("twap sell 2 E", ["BTC", "ETH"]) == ["ETH"]


def test_previews_list_each_order_and_each_slice_and_shorten_long_ones():
    lines = scale_preview([100, 200], [3, 4], [None, "size 4 is below the minimum 5"], str, str)
    assert lines[0].split() == ["#1", "100", "3"]
    assert lines[1].endswith("refused: size 4 is below the minimum 5")
    long = twap_preview([k * 60_000 for k in range(30)], [1] * 30, str)
    assert len(long) == 12 and long[10] == "  … 19 more" and long[-1].startswith("slice 30   +29:00")
