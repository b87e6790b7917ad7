"""The orders bench's pieces against a fake in its own process (no timings asserted)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bench import orders

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("venue", ["binance-usdm", "lighter"])
async def test_the_raw_baseline_is_an_order_the_venue_books_and_the_connector_can_cancel(venue, tmp_path):
    booked = tmp_path / "orders.txt"
    async with orders.open_venue(venue, tmp_path, orders_file=str(booked)) as (connector, symbol, fake):
        price_i, size_i = await orders._order_params(connector, symbol)
        raw = orders.Raw(venue, connector, symbol, price_i, size_i)
        try:
            before = time.monotonic()
            elapsed = await raw.send(70_001)
            await connector.cancel_by_client_id(symbol, 70_001)  # the connector's nonce still lines up
            for _ in range(100):
                if booked.exists() and "CANCELLED" in booked.read_text():
                    break
                await asyncio.sleep(0.05)
        finally:
            await raw.aclose()
        assert raw.refused == {} and elapsed == elapsed
        rows = [line.split() for line in booked.read_text().splitlines()]
        assert [status for _, status, _ in rows] == ["OPEN", "CANCELLED"]
        assert float(rows[0][0]) > before  # the receipt is on this machine's monotonic clock
        if venue == "binance-usdm":  # --unlimited lifts the venue's order counts (the connector's budget follows)
            async with httpx.AsyncClient(base_url=fake.base_url) as client:
                limits = (await client.get("/fapi/v1/exchangeInfo")).json()["rateLimits"]
            assert all(limit["limit"] >= 10**7 for limit in limits)


async def test_a_run_interleaves_the_connector_with_the_raw_post_and_counts_both(tmp_path):
    async with orders.open_venue("backpack", tmp_path) as (connector, symbol, _):
        price_i, size_i = await orders._order_params(connector, symbol)
        raw = orders.Raw("backpack", connector, symbol, price_i, size_i)
        try:
            with orders.Ticker() as ticker:
                run = orders.Run(connector, symbol, raw, ticker, price_i, size_i)
                ours, cancels, theirs = await run.sequential(4)
                conc, conc_raw, _, _ = await run.concurrent(orders.ROUNDS * 2)
        finally:
            await raw.aclose()
        assert (len(ours), len(cancels), len(theirs)) == (4, 4, 4)
        assert (len(conc), len(conc_raw)) == (orders.ROUNDS * 2, orders.ROUNDS * 2)
        assert run.errors == {} and raw.refused == {}
        assert {"seq-ours", "seq-raw", "conc-ours", "conc-raw"} <= set(ticker.late)
        assert await connector.get_open_orders(symbol) == []
