"""What the console writes for money, clock times and chase progress."""

import pytest

from console.formatting import clock_text, elapsed_text, money, progress_bar


@pytest.mark.parametrize(
    ("value_q", "text"),
    [
        (0, "0.00"),
        (1_234_567_890_000, "1,234,567.89"),
        (1_005_000, "1.01"),  # half a cent rounds up: truncating would show 1.00
        (1_004_999, "1.00"),
        (-2_345_678, "-2.35"),  # away from zero on a loss too: truncating would show -2.34
        (999_995_000, "1,000.00"),
    ],
)
def test_money_rounds_to_the_nearest_cent_half_away_from_zero(value_q, text):
    assert money(value_q) == text


def test_progress_bar_and_elapsed_time_come_from_integers():
    assert progress_bar(3, 10) == "███░░░░░░░  30%"
    assert progress_bar(12, 10) == "██████████ 100%" and progress_bar(1, 0) == ""
    assert (elapsed_text(65_000), elapsed_text(3_720_000), elapsed_text(-5)) == ("1:05", "1h02", "0:00")


def test_clock_text_is_utc_from_the_venue_timestamp():
    assert clock_text(3_723_999) == "01:02:03"
