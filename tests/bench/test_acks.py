"""The acks bench's screen reading (no console started, no timings)."""

from __future__ import annotations

from bench import acks

SCREEN = """ perpdesk │ hyperliquid ● connected │ BTC@hyperliquid │ book 18ms │ trades 165ms │ ACTIVE
 market        bid       ask ▕╭─ BTC · hyperliquid ─────╮
 hyperliquid                 ▕│    mine       price      │
 ▸BTC      64,957.0   64958.0 ▕│             65000.0   1.17│
  ETH      3402.00   3402.10 ▕│             64995.0   0.92│
 Symbol  Side  Type  Price  Size  Filled  State  Flags  Order id
 BTC     BUY   LIMIT 63008.0  0.0100  0.0000  OPEN          1004
 BTC     BUY   LIMIT 63009.0  0.0100  0.0000  CANCELLED     1003
"""


def test_the_selected_market_and_its_bid_are_read_off_the_header_and_the_markets_row():
    assert acks._market(SCREEN, "hyperliquid") == ("BTC", 64957.0)
    assert acks._market(SCREEN.replace("▸BTC", " BTC").replace(" ETH", "▸ETH"), "hyperliquid") is None
    assert acks._market(SCREEN, "lighter") is None


def test_an_order_row_is_found_by_its_own_price_and_state_only():
    assert acks._row(63008, "OPEN").search(SCREEN)
    assert not acks._row(63009, "OPEN").search(SCREEN)  # that row is cancelled
    assert not acks._row(3008, "OPEN").search(SCREEN)  # a price that ends another's digits
    assert not acks._row(6300, "OPEN").search(SCREEN)  # nor one that starts them


def test_the_venue_booking_time_is_the_first_open_after_the_key(tmp_path):
    booked = tmp_path / "booked.txt"
    assert acks._booked(booked, 0.0) is None
    booked.write_text("10.000000 OPEN 63009\n11.000000 CANCELLED 63009\n12.500000 OPEN 63008\n")
    assert acks._booked(booked, 10.5) == 12.5
    assert acks._booked(booked, 13.0) is None
