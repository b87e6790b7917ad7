"""Order path: how long a limit order takes through each connector to its venue.

Each venue is opened the way the conformance suite opens it (``tests/harnesses/<venue>.py``):
the sim in-process, Hyperliquid and Lighter as their loopback fake servers on 127.0.0.1 with
the fake's engine stepping in real time.  Orders are post-only buys 1% under the bid (they rest,
nothing fills), each cancelled after it is acknowledged; first one at a time, then with 10 in
flight.  The baseline is the same order without the connector: the engine's ``place`` for the
sim, and for the fakes a raw ``httpx`` POST of a request signed before the clock starts, so the
difference is what the connector itself costs (building, signing, parsing the answer).  The
connectors' request budgets (the venues' rate limits) are lifted here: they would be measured
instead of the path.  Refusals under concurrency are counted and reported, not fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import re
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bench.stats import Figure, median, percentile

VENUES = ("sim", "hyperliquid", "lighter", "backpack", "binance-usdm")
SEQUENTIAL = 150
IN_FLIGHT = 10
CONCURRENT = 150
RAW = 100
VENUE_TIMEOUT_S = 120
SIGN_S: list[float] = []
"""Signing times of the baseline's requests (what the connector pays that the raw POST does not)."""


CONCURRENCY_NOTES = {
    "lighter": "; the connector sends one transaction per API key at a time (nonces are sequential), "
    "so 10 in flight queue behind each other",
    "hyperliquid": "; the fake recovers every signer on its one event loop, so it serves one request at a time",
}


def _ms(samples: list[float]) -> tuple[float, float]:
    return median(samples) * 1000, percentile(samples, 99) * 1000


async def _order_params(connector: Any, symbol: str) -> tuple[int, int]:
    """A resting price (1% under the bid) and a size worth about $100 (every fake's minimum is met)."""
    bid, ask, _ = await connector.get_top_of_book(symbol)
    touch = bid or ask
    pd, sd = await connector.get_price_size_decimals(symbol)
    min_i = await connector.get_min_size_i(symbol)
    price_i = touch - touch // 100
    size_i = max(min_i, 100 * 10 ** (pd + sd) // price_i + 1)
    return price_i, size_i


async def _sequential(
    connector: Any, symbol: str, price_i: int, size_i: int, first_coi: int
) -> tuple[list[float], list[float]]:
    submits, cancels = [], []
    for i in range(SEQUENTIAL):
        coi = first_coi + i
        t0 = time.perf_counter()
        await connector.submit_limit_order(
            symbol=symbol, client_order_index=coi, base_amount=size_i, price=price_i, is_ask=False, post_only=True
        )
        t1 = time.perf_counter()
        await connector.cancel_by_client_id(symbol, coi)
        cancels.append(time.perf_counter() - t1)
        submits.append(t1 - t0)
    return submits, cancels


async def _concurrent(
    connector: Any, symbol: str, price_i: int, size_i: int, first_coi: int
) -> tuple[list[float], float, dict[str, int]]:
    """``IN_FLIGHT`` workers, each submitting then cancelling.

    Returns the latencies of the accepted submits, orders/s, and the errors by message (a refusal
    under concurrency is a finding to report, not a reason to stop).
    """
    samples: list[float] = []
    errors: dict[str, int] = {}
    next_coi = iter(range(first_coi, first_coi + CONCURRENT))

    async def worker() -> None:
        for coi in next_coi:
            t0 = time.perf_counter()
            try:
                await connector.submit_limit_order(
                    symbol=symbol, client_order_index=coi, base_amount=size_i, price=price_i, is_ask=False,
                    post_only=True,
                )  # fmt: skip
                samples.append(time.perf_counter() - t0)
                await connector.cancel_by_client_id(symbol, coi)
            except Exception as exc:  # counted and reported
                key = f"{type(exc).__name__}: {re.sub(r'[0-9]{4,}', 'N', str(exc))[:80]}"
                errors[key] = errors.get(key, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return samples, CONCURRENT / (time.perf_counter() - start), errors


def _raw_sim(harness: Any, price_i: int, size_i: int) -> list[float]:
    engine, symbol = harness.engine, harness.engine_symbol
    samples = []
    for i in range(RAW):
        t0 = time.perf_counter()
        engine.place(
            symbol, client_order_index=900_000 + i, is_ask=False, price_i=price_i, size_i=size_i, tif="POST_ONLY"
        )
        samples.append(time.perf_counter() - t0)
        engine.cancel(symbol, client_order_index=900_000 + i)
    return samples


def _signed_hyperliquid(connector: Any, symbol: str, price_i: int, size_i: int) -> list[tuple[str, Any]]:
    from connector.hyperliquid import signing, wire

    bodies = []
    for i in range(RAW):
        order = connector._wire_order(symbol, 900_000 + i, size_i, price_i, True, False, "Alo")
        action = wire.order_action([order])
        nonce = connector.nonces.next(connector.clock.now_ms())
        t0 = time.perf_counter()
        signature = signing.sign_l1_action(connector._wallet, action, nonce, is_mainnet=connector.is_mainnet)
        SIGN_S.append(time.perf_counter() - t0)
        bodies.append(("/exchange", {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}))
    return bodies


async def _signed_lighter(connector: Any, symbol: str, price_i: int, size_i: int) -> list[tuple[str, Any]]:
    from connector.lighter import wire

    market_id, _ = connector._entry(symbol)
    async with httpx.AsyncClient(base_url=connector.base_url) as client:
        params = {"account_index": connector.account_index, "api_key_index": connector.api_key_index}
        nonce = int((await client.get("/api/v1/nextNonce", params=params)).json()["nonce"])
    bodies = []
    for i in range(RAW):
        t0 = time.perf_counter()
        tx = connector._signer.create_order(
            market_id=market_id, client_order_index=900_000 + i, base_amount=size_i, price=price_i, is_ask=False,
            order_type=wire.ORDER_LIMIT, time_in_force=wire.TIF_POST_ONLY, reduce_only=False,
            order_expiry=wire.EXPIRY_28_DAYS, nonce=nonce + i,
        )  # fmt: skip
        SIGN_S.append(time.perf_counter() - t0)
        bodies.append(("/api/v1/sendTx", {"tx_type": tx.tx_type, "tx_info": tx.tx_info}))
    return bodies


def _signed_backpack(connector: Any, symbol: str, price_i: int, size_i: int) -> list[tuple[str, Any, dict[str, str]]]:
    from connector.backpack import wire

    m = connector._market(symbol)
    requests = []
    for i in range(RAW):
        body = wire.order_body(m, is_ask=False, size_i=size_i, price_i=price_i, client_id=900_000 + i, post_only=True)
        t0 = time.perf_counter()
        headers = connector._signer.headers("orderExecute", body, connector._now_ms(), 60_000)
        SIGN_S.append(time.perf_counter() - t0)
        requests.append(("/api/v1/order", body, headers))
    return requests


async def _raw_http(
    base_url: str, bodies: list[tuple[str, Any]] | list[tuple[str, Any, dict[str, str]]], form: bool, in_flight: int = 1
) -> tuple[list[float], int]:
    """Send pre-signed requests, ``in_flight`` at a time; returns latencies and how many the fake refused."""
    samples: list[float] = []
    refused = 0
    queue = iter(bodies)
    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.post(bodies[0][0], json={})  # the connection is open before the clock starts

        async def worker() -> None:
            nonlocal refused
            for path, body, *signed in queue:
                headers = signed[0] if signed else None
                t0 = time.perf_counter()
                resp = await (client.post(path, data=body) if form else client.post(path, json=body, headers=headers))
                samples.append(time.perf_counter() - t0)
                refused += not (resp.status_code == 200 and '"error"' not in resp.text and '"err"' not in resp.text)

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    return samples, refused


@contextlib.asynccontextmanager
async def _open_lighter(tmp: Path) -> AsyncIterator[Any]:
    """As ``tests/harnesses/lighter.py`` opens it, but with the request budget lifted.

    The connector keeps to Lighter's 60 requests a minute (a burst of 30, then one every 2 s);
    that budget, not the path, would be measured otherwise.
    """
    from connector.keys import load_key_file
    from connector.lighter.connector import LighterConnector
    from tests.fakes.lighter import FakeLighter, write_key_file
    from tests.harnesses import LoopbackHarness

    fake = await FakeLighter(step_s=0.02).start()
    write_key_file(tmp / "lighter.toml", account_index=fake.account_index, api_key_index=fake.api_key_index)
    options: dict[str, Any] = {
        "base_url": fake.base_url,
        "ws_url": fake.ws_url,
        "keys": load_key_file(tmp / "lighter.toml"),
    }
    if "requests_per_min" in inspect.signature(LighterConnector).parameters:
        options["requests_per_min"] = 1_000_000
    connector = LighterConnector(**options)
    h = LoopbackHarness(
        venue="lighter", connector=connector, engine=fake.engine, symbol="BTC", engine_symbol="BTC-PERP"
    )
    try:
        await connector.start()
        await connector.subscribe_market_data([h.symbol])
        await h.wait_for("book", lambda b: b.symbol == h.symbol and b.is_snapshot and b.bids)
        yield h
    finally:
        await connector.stop()
        await fake.stop()


def _signed_binance(connector: Any, symbol: str, price_i: int, size_i: int) -> list[tuple[str, Any]]:
    """Pre-signed ``POST /fapi/v1/order`` URLs (the fake keeps a 5 s window: they are sent at once)."""
    from connector.binance_usdm import wire
    from connector.binance_usdm.signing import encode_params

    pd, sd = connector.feed.filters[symbol].price_decimals, connector.feed.filters[symbol].size_decimals
    rest = connector.rest
    bodies = []
    for i in range(RAW):
        params = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTX",
                  "quantity": wire.to_wire(size_i, sd), "price": wire.to_wire(price_i, pd),
                  "newClientOrderId": wire.client_id(900_000 + i)}  # fmt: skip
        t0 = time.perf_counter()
        stamp = f"recvWindow={rest.recv_window_ms}&timestamp={rest.server_time.timestamp(connector.clock.now_ms())}"
        query = rest._signer.sign(f"{encode_params(params)}&{stamp}")
        SIGN_S.append(time.perf_counter() - t0)
        bodies.append((f"/fapi/v1/order?{query}", None))
    return bodies


async def _raw_binance(connector: Any, bodies: list[tuple[str, Any]]) -> tuple[list[float], int]:
    samples: list[float] = []
    refused = 0
    headers = {"X-MBX-APIKEY": connector._api_key.reveal()}
    async with httpx.AsyncClient(base_url=connector.base_url, headers=headers) as client:
        await client.get("/fapi/v1/time")  # the connection is open before the clock starts
        for url, _ in bodies:
            t0 = time.perf_counter()
            resp = await client.post(url)
            samples.append(time.perf_counter() - t0)
            refused += resp.status_code != 200
    return samples, refused


@contextlib.asynccontextmanager
async def _open_binance(tmp: Path) -> AsyncIterator[Any]:
    """As ``tests/harnesses/binance_usdm.py`` opens it, with the fake's rate limits (which size the
    connector's budgets) raised: 300 orders per 10 s would be measured instead of the path."""
    from connector.binance_usdm.connector import BinanceUsdmConnector
    from connector.keys import load_key_file
    from tests.fakes.binance_usdm import FakeBinanceUsdm
    from tests.harnesses import LoopbackHarness

    limits = {"REQUEST_WEIGHT:1M": 10**7, "ORDERS:10S": 10**7, "ORDERS:1M": 10**7}
    fake = await FakeBinanceUsdm(step_s=0.02, depth_interval_s=0.05, rate_limits=limits).start()
    keys = load_key_file(fake.write_key_file(tmp / "binance-usdm.toml"), venue="binance-usdm")
    connector = BinanceUsdmConnector(base_url=fake.base_url, ws_url=fake.ws_url, keys=keys)
    h = LoopbackHarness(venue="binance-usdm", connector=connector, engine=fake.engine, symbol="BTCUSDT")
    try:
        await connector.start()
        await connector.subscribe_market_data([h.symbol])
        await h.wait_for("book", lambda b: b.symbol == h.symbol and b.is_snapshot and b.bids, timeout=10)
        yield h
    finally:
        await connector.stop()
        await fake.stop()


@contextlib.asynccontextmanager
async def _open_hyperliquid(tmp: Path) -> AsyncIterator[Any]:
    """The conformance harness, with the connector's request-weight budget (1200 a minute) lifted.

    The budget is read from the module when the connector starts; it is raised here, in this
    process only, for as long as the harness is open.
    """
    import connector.hyperliquid.connector as module

    saved = getattr(module, "WEIGHT_PER_S", None)
    if saved is not None:
        module.WEIGHT_PER_S = 1_000_000
    try:
        async with importlib.import_module("tests.harnesses.hyperliquid").open_harness(tmp) as h:
            yield h
    finally:
        if saved is not None:
            module.WEIGHT_PER_S = saved


@contextlib.asynccontextmanager
async def _open_backpack(tmp: Path) -> AsyncIterator[Any]:
    """As ``tests/harnesses/backpack.py`` opens it, with the connector's own budget (20/s, no published
    limit) lifted."""
    from connector.backpack.connector import BackpackConnector
    from connector.keys import load_key_file
    from tests.fakes.backpack import FakeBackpack
    from tests.harnesses import LoopbackHarness

    fake = await FakeBackpack(step_s=0.02).start()
    keys = load_key_file(fake.write_key_file(tmp / "backpack.toml"), venue="backpack")
    connector = BackpackConnector(
        base_url=fake.base_url, ws_url=fake.ws_url, keys=keys, requests_per_s=1_000_000, burst=1_000_000
    )
    h = LoopbackHarness(venue="backpack", connector=connector, engine=fake.engine, symbol="BTC_USDC_PERP")
    try:
        await connector.start()
        await connector.subscribe_market_data([h.symbol])
        await h.wait_for("book", lambda b: b.symbol == h.symbol and b.is_snapshot and b.bids)
        yield h
    finally:
        await connector.stop()
        await fake.stop()


def _open(venue: str, tmp: Path) -> Any:
    if venue == "backpack":
        return _open_backpack(tmp)
    if venue == "lighter":
        return _open_lighter(tmp)
    if venue == "hyperliquid":
        return _open_hyperliquid(tmp)
    if venue == "binance-usdm":
        return _open_binance(tmp)
    return importlib.import_module(f"tests.harnesses.{venue}").open_harness(tmp)


async def _venue(venue: str) -> list[Figure]:
    SIGN_S.clear()
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        async with _open(venue, Path(tmp)) as h:
            connector, symbol = h.connector, h.symbol
            price_i, size_i = await _order_params(connector, symbol)
            # warm up: connection pool, first signature, caches
            for i in range(5):
                await connector.submit_limit_order(
                    symbol=symbol, client_order_index=1000 + i, base_amount=size_i, price=price_i, is_ask=False,
                    post_only=True,
                )  # fmt: skip
                await connector.cancel_by_client_id(symbol, 1000 + i)
            seq, cancels = await _sequential(connector, symbol, price_i, size_i, 10_000)
            conc, rate, errors = await _concurrent(connector, symbol, price_i, size_i, 20_000)
            refused = 0
            raw_conc: list[float] = []
            if venue == "sim":
                raw, raw_name = _raw_sim(h, price_i, size_i), "engine.place"
            elif venue == "hyperliquid":
                raw, refused = await _raw_http(
                    connector.base_url, _signed_hyperliquid(connector, symbol, price_i, size_i), False
                )
                # its nonces need only be fresh, not in order: the raw requests can go 10 at a time too
                raw_conc, _ = await _raw_http(
                    connector.base_url, _signed_hyperliquid(connector, symbol, price_i, size_i), False, IN_FLIGHT
                )
                raw_name = "raw httpx POST"
            elif venue == "backpack":
                raw, refused = await _raw_http(
                    connector.base_url, _signed_backpack(connector, symbol, price_i, size_i), False
                )
                raw_conc, _ = await _raw_http(
                    connector.base_url,
                    [(p, {**b, "clientId": b["clientId"] + RAW}, connector._signer.headers(
                        "orderExecute", {**b, "clientId": b["clientId"] + RAW}, connector._now_ms(), 60_000))
                     for p, b, _ in _signed_backpack(connector, symbol, price_i, size_i)],
                    False, IN_FLIGHT,
                )  # fmt: skip
                raw_name = "raw httpx POST"
            elif venue == "binance-usdm":
                raw, refused = await _raw_binance(connector, _signed_binance(connector, symbol, price_i, size_i))
                raw_name = "raw httpx POST"
            else:
                raw, refused = await _raw_http(
                    connector.base_url, await _signed_lighter(connector, symbol, price_i, size_i), True
                )
                raw_name = "raw httpx POST"
            # the raw baseline may have moved the venue's nonce under the connector: best effort
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connector.cancel_all(symbol), 5)
    seq_p50, seq_p99 = _ms(seq)
    conc_p50, conc_p99 = _ms(conc)
    raw_p50, raw_p99 = _ms(raw)
    cancel_p50, cancel_p99 = _ms(cancels)
    where = "in-process" if venue == "sim" else "loopback fake"
    raw_note = f"{raw_name} of a request signed beforehand" if venue != "sim" else "the engine alone, no connector"
    if SIGN_S:
        raw_note += f"; signing alone p50 {median(SIGN_S) * 1000:.3g} ms"
    if venue == "lighter":
        raw_note += "; the connector's 60 requests/min budget lifted for the bench"
    if venue == "hyperliquid":
        raw_note += "; the connector's 1200 weight/min budget lifted for the bench"
    if venue == "backpack":
        raw_note += "; the connector's 20 requests/s budget lifted for the bench"
    if venue == "binance-usdm":
        raw_note += "; the fake's rate limits (and so the connector's budgets) lifted for the bench"
    if refused:
        raw_note += f"; {refused} of {len(raw)} raw requests refused by the fake"
    return [
        Figure(
            "orders",
            f"{venue} limit order, sequential ({where})",
            seq_p50,
            "ms",
            p99=seq_p99,
            baseline=raw_p50,
            baseline_name=raw_name,
            note=f"baseline p99 {raw_p99:.3g} ms ({raw_note}); cancel p50 {cancel_p50:.3g} ms, p99 {cancel_p99:.3g} ms",
            extra={
                "orders": len(seq),
                "cancel_p50_ms": cancel_p50,
                "cancel_p99_ms": cancel_p99,
                "baseline_p99_ms": raw_p99,
            },
        ),
        Figure(
            "orders",
            f"{venue} limit order, {IN_FLIGHT} in flight ({where})",
            conc_p50,
            "ms",
            p99=conc_p99,
            baseline=median(raw_conc) * 1000 if raw_conc else seq_p50,
            baseline_name=f"raw POST, {IN_FLIGHT} in flight" if raw_conc else "sequential",
            note=f"{rate:,.0f} orders/s (each order also cancelled)"
            + CONCURRENCY_NOTES.get(venue, "")
            + "".join(f"; {n} × {msg}" for msg, n in errors.items()),
            extra={"orders": len(conc), "orders_per_s": rate, "errors": errors},
        ),
    ]


def run() -> list[Figure]:
    figures: list[Figure] = []
    for venue in VENUES:
        try:
            figures.extend(asyncio.run(asyncio.wait_for(_venue(venue), VENUE_TIMEOUT_S)))
        except Exception as exc:  # one venue failing leaves the others' figures
            figures.append(Figure("orders", f"{venue} limit order", float("nan"), "ms",
                                  note=f"failed: {type(exc).__name__}: {str(exc)[:200]}"))  # fmt: skip
    return figures


if __name__ == "__main__":
    for f in run():
        print(f"{f.name}: p50 {f.value:.3g} ms p99 {f.p99} ms vs {f.baseline_name} {f.baseline} — {f.note}")
