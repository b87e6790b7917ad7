"""The tracking-limit form's fields become a ticket of scaled integers, or one message per bad field."""

from console.parsing.chase_ticket import ChaseFields, validate_chase
from tests.console.fakes import MARKETS

BTC = MARKETS[0]  # 1 price decimal, 4 size decimals, minimum 0.0010
GOOD = ChaseFields(size="0.5", limit="", offset="-1", max_chase="", timeout="30", is_ask=True,
                   end_action="leave", post_only=True, reduce_only=False)


def test_a_good_form_becomes_a_ticket_in_scaled_integers():
    ticket, errors = validate_chase(BTC, GOOD)
    assert errors == {} and ticket.size_i == 5000 and ticket.offset_ticks == -1 and ticket.timeout_s == 30
    assert (ticket.limit_price_i, ticket.max_chase_ticks, ticket.end_action) == (None, None, "leave")


def test_every_bad_field_is_reported_at_once():
    _, errors = validate_chase(BTC, {**GOOD, "offset": "1.5", "max_chase": "-2", "timeout": "0"})
    assert set(errors) == {"offset", "max_chase", "timeout"}


def test_limit_and_size_are_exact_on_the_markets_decimals():
    ticket, _ = validate_chase(BTC, {**GOOD, "limit": "64,950.5", "max_chase": "3"})
    assert (ticket.limit_price_i, ticket.max_chase_ticks) == (649_505, 3)
    _, errors = validate_chase(BTC, {**GOOD, "limit": "64950.55", "size": "0.00001"})
    assert errors == {"limit": "at most 1 decimals on BTC", "size": "at most 4 decimals on BTC"}


def test_size_is_required_above_zero_and_at_least_the_minimum():
    assert validate_chase(BTC, {**GOOD, "size": " "})[1] == {"size": "enter a size"}
    assert "above zero" in validate_chase(BTC, {**GOOD, "size": "-1"})[1]["size"]
    assert "minimum size on BTC is 0.0010" in validate_chase(BTC, {**GOOD, "size": "0.0009"})[1]["size"]
