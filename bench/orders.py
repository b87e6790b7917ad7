"""Order path: how long a limit order takes through each connector to its venue, the venue in its own process.

The sim is opened in-process (it has no wire); every other venue's fake runs in a process of its own
(``python -m tests.fakes.launch VENUE --unlimited``, as the console meets a venue: the fake's signature
checks and matching do not share our event loop), and the real connector runs here, its request
budget lifted (the budget would be measured instead of the path).  Orders are post-only buys 1% under
the bid (they rest), each cancelled after it is acknowledged.

Baseline, interleaved with the connector order by order: a raw ``httpx`` POST of the same order,
signed just before the clock starts (signing timed apart), from this process on its own kept-alive
connection.  On Lighter the raw POST takes the connector's nonce under the key's lock (the venue
takes a key's nonces strictly ``+1``), so both share one sequence.

* sequential: ``SEQUENTIAL`` pairs, connector and raw alternately first;
* ``IN_FLIGHT`` in flight: ``ROUNDS`` rounds, each a batch through the connector and a batch of raw
  POSTs (alternately first), ``IN_FLIGHT`` workers each submitting then cancelling;
* a 1 ms ticker on the event loop: its lateness p99 during the connector's and the raw's turns says
  whether anything of ours (signing, say) held the loop.

What the rows before (fakes in-process) showed, and why:

* Hyperliquid sequential 30.8 ms against a raw POST's 20.3 ms (0.66×), 200 ms with 10 in flight: the
  fake shared our event loop, so its signer recovery (14 ms a request in eth-keys' pure Python) and its
  order-update pushes ran between our steps, and our own signing was 8 ms of pure Python too
  (coincurve, which eth-keys signs with when present, came only with the bench extra's ccxt).  Out of
  process, with coincurve in the hyperliquid extra and the digest built from its fixed parts
  (``connector.hyperliquid.signing``), the connector is within a few % of the raw POST; with 10 in
  flight both run at the fake's pace (it serves one request at a time on its loop).
* Lighter with 10 in flight queues on the key's nonce lock, held from signing to the venue's answer.
  Holding it only for nonce + signing and sending outside it would need the requests to reach the
  venue in nonce order: concurrent POSTs go out on separate pooled connections and may be read in
  any order, the venue refuses a nonce that is not the next (21104, not consumed), and a refusal
  before sequencing (429, a bad field) of nonce n would make n+1… all wrong.  The lock stays; what
  it costs is one round trip per send (the raw row, which holds the same lock, shows the same
  queue).  Pipelining would need one ordered channel (the venue's batch endpoint or its websocket
  send), which the venue notes do not confirm.

Sanity check: more than 5% of either side's orders refused fails the run.  Bounded: each venue
``VENUE_TIMEOUT_S`` at most (about 15 s each on an idle 2-core box); the fake is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import re
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.stats import Figure, median, percentile

VENUES = ("sim", "hyperliquid", "lighter", "backpack", "binance-usdm")
SYMBOLS = {"hyperliquid": "BTC", "lighter": "BTC", "backpack": "BTC_USDC_PERP", "binance-usdm": "BTCUSDT"}
SEQUENTIAL = 150
IN_FLIGHT = 10
CONCURRENT = 150
ROUNDS = 5
SIM_RAW = 100
VENUE_TIMEOUT_S = 150
MAX_REFUSED = 0.05


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


def _error_key(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {re.sub(r'[0-9]{4,}', 'N', str(exc))[:80]}"


class Ticker:
    """A 1 ms sleeper on the loop; its lateness is filed under the phase running at the time."""

    def __init__(self) -> None:
        self.phase = ""
        self.late: dict[str, list[float]] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            if self.phase:
                self.late.setdefault(self.phase, []).append(time.perf_counter() - t0 - 0.001)

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


# -- the raw baseline: one signed request per venue ---------------------------------------------------


class Raw:
    """The same order as a signed request POSTed by hand; ``send(coi)`` returns the POST's seconds."""

    def __init__(self, venue: str, connector: Any, symbol: str, price_i: int, size_i: int) -> None:
        self.venue, self.connector, self.symbol = venue, connector, symbol
        self.price_i, self.size_i = price_i, size_i
        self.sign_s: list[float] = []
        self.refused: dict[str, int] = {}
        headers = {}
        if venue == "binance-usdm":
            headers["X-MBX-APIKEY"] = connector._api_key.reveal()
        self.client = httpx.AsyncClient(base_url=connector.base_url, headers=headers)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _refused(self, resp: httpx.Response) -> None:
        text = resp.text
        if resp.status_code != 200 or '"error"' in text or '"err"' in text:
            key = f"{resp.status_code} {re.sub(r'[0-9]{4,}', 'N', text)[:80]}"
            self.refused[key] = self.refused.get(key, 0) + 1

    async def _timed(self, request: Callable[[], Awaitable[httpx.Response]]) -> float:
        t0 = time.perf_counter()
        resp = await request()
        elapsed = time.perf_counter() - t0
        self._refused(resp)
        return elapsed

    async def send(self, coi: int) -> float:
        c, venue = self.connector, self.venue
        if venue == "lighter":
            return await self._lighter(coi)
        t0 = time.perf_counter()
        if venue == "hyperliquid":
            from connector.hyperliquid import signing, wire

            order = c._wire_order(self.symbol, coi, self.size_i, self.price_i, True, False, "Alo")
            action = wire.order_action([order])
            nonce = c.nonces.next(c.clock.now_ms())
            sig = signing.sign_l1_action(c._wallet, action, nonce, is_mainnet=c.is_mainnet)
            body = {"action": action, "nonce": nonce, "signature": sig, "vaultAddress": None}
            self.sign_s.append(time.perf_counter() - t0)
            return await self._timed(lambda: self.client.post("/exchange", json=body))
        if venue == "backpack":
            from connector.backpack import wire as bw

            body = bw.order_body(c._market(self.symbol), is_ask=False, size_i=self.size_i, price_i=self.price_i,
                                 client_id=c.ids.client_id(coi), post_only=True)  # fmt: skip
            headers = c._signer.headers("orderExecute", body, c._now_ms(), 60_000)
            self.sign_s.append(time.perf_counter() - t0)
            return await self._timed(lambda: self.client.post("/api/v1/order", json=body, headers=headers))
        from connector.binance_usdm import wire as nw
        from connector.binance_usdm.signing import encode_params

        f = c.feed.filters[self.symbol]
        params = {"symbol": self.symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTX",
                  "quantity": nw.to_wire(self.size_i, f.size_decimals),
                  "price": nw.to_wire(self.price_i, f.price_decimals), "newClientOrderId": nw.client_id(coi)}  # fmt: skip
        rest = c.rest
        stamp = f"recvWindow={rest.recv_window_ms}&timestamp={rest.server_time.timestamp(c.clock.now_ms())}"
        query = rest._signer.sign(f"{encode_params(params)}&{stamp}")
        self.sign_s.append(time.perf_counter() - t0)
        return await self._timed(lambda: self.client.post(f"/fapi/v1/order?{query}"))

    async def _lighter(self, coi: int) -> float:
        """Under the connector's nonce lock, with its next nonce: the two share the key's sequence.

        Timed like the connector's order, from asking for the lock to the answer (so 10 in flight
        include the queue), less this request's own signing (made on the loop, inline)."""
        from connector.lighter import wire as lw
        from connector.lighter.nonces import InvalidNonce, NonceNotConsumed

        c = self.connector
        market_id, _ = c._entry(self.symbol)

        signed = [0.0]

        async def attempt(nonce: int) -> None:
            t0 = time.perf_counter()
            tx = c._signer.create_order(
                market_id=market_id, client_order_index=coi, base_amount=self.size_i, price=self.price_i,
                is_ask=False, order_type=lw.ORDER_LIMIT, time_in_force=lw.TIF_POST_ONLY, reduce_only=False,
                order_expiry=lw.EXPIRY_28_DAYS, nonce=nonce,
            )  # fmt: skip
            signed[0] += time.perf_counter() - t0
            self.sign_s.append(time.perf_counter() - t0)
            resp = await self.client.post("/api/v1/sendTx", data={"tx_type": tx.tx_type, "tx_info": tx.tx_info})
            if "21104" in resp.text:
                raise InvalidNonce("invalid nonce")
            if resp.status_code != 200:
                self._refused(resp)
                raise NonceNotConsumed(RuntimeError(resp.text[:80]))

        t0 = time.perf_counter()
        try:
            await c.nonces.send(c.api_key_index or 0, attempt)
        except RuntimeError:
            return float("nan")
        return time.perf_counter() - t0 - signed[0]


# -- opening a venue ------------------------------------------------------------------------------------


def _connector(venue: str, base_url: str, ws_url: str, key_file: Path) -> Any:
    """The venue's connector against its fake, with its own request budget lifted."""
    from connector.keys import load_key_file

    keys = load_key_file(key_file, venue=venue)
    if venue == "hyperliquid":
        from connector.hyperliquid.connector import HyperliquidConnector

        return HyperliquidConnector(base_url=base_url, ws_url=ws_url, keys=keys)
    if venue == "lighter":
        from connector.lighter.connector import LighterConnector

        return LighterConnector(base_url=base_url, ws_url=ws_url, keys=keys, requests_per_min=1_000_000)
    if venue == "backpack":
        from connector.backpack.connector import BackpackConnector

        return BackpackConnector(base_url=base_url, ws_url=ws_url, keys=keys, requests_per_s=1_000_000,
                                 burst=1_000_000)  # fmt: skip
    from connector.binance_usdm.connector import BinanceUsdmConnector

    return BinanceUsdmConnector(base_url=base_url, ws_url=ws_url, keys=keys)


@contextlib.contextmanager
def _hyperliquid_budget_lifted() -> Any:
    """The connector reads its weight budget (1200 a minute) from the module when it starts."""
    import connector.hyperliquid.connector as module

    saved = module.WEIGHT_PER_S
    module.WEIGHT_PER_S = 1_000_000
    try:
        yield
    finally:
        module.WEIGHT_PER_S = saved


@contextlib.asynccontextmanager
async def open_venue(venue: str, tmp: Path, **flags: str | bool) -> AsyncIterator[tuple[Any, str, Any]]:
    """(connector, symbol, fake process): the fake in its own process (``flags`` are its launch
    options), the connector started here."""
    from tests.chaos.procs import start_fake

    fake = start_fake(venue, tmp, unlimited=True, **flags)
    try:
        with _hyperliquid_budget_lifted() if venue == "hyperliquid" else contextlib.nullcontext():
            connector = _connector(venue, fake.base_url, fake.ws_url, fake.key_file)
            symbol = SYMBOLS[venue]
            booked = asyncio.Event()
            connector.add_handler("book", lambda b: b.symbol == symbol and b.bids and booked.set())
            try:
                await connector.start()
                await connector.subscribe_market_data([symbol])
                await asyncio.wait_for(booked.wait(), 30)
                yield connector, symbol, fake
            finally:
                await connector.stop()
    finally:
        fake.stop()


# -- the runs -------------------------------------------------------------------------------------------


class Run:
    """Interleaved connector and raw orders on one venue."""

    def __init__(self, connector: Any, symbol: str, raw: Raw, ticker: Ticker, price_i: int, size_i: int) -> None:
        self.connector, self.symbol, self.raw, self.ticker = connector, symbol, raw, ticker
        self.price_i, self.size_i = price_i, size_i
        self.errors: dict[str, int] = {}
        self.coi = 10_000

    def next_coi(self) -> int:
        self.coi += 1
        return self.coi

    async def ours(self, submits: list[float], cancels: list[float] | None = None) -> None:
        coi = self.next_coi()
        t0 = time.perf_counter()
        try:
            await self.connector.submit_limit_order(
                symbol=self.symbol, client_order_index=coi, base_amount=self.size_i, price=self.price_i,
                is_ask=False, post_only=True,
            )  # fmt: skip
            t1 = time.perf_counter()
            submits.append(t1 - t0)
            await self.connector.cancel_by_client_id(self.symbol, coi)
            if cancels is not None:
                cancels.append(time.perf_counter() - t1)
        except Exception as exc:  # counted; more than MAX_REFUSED fails the run
            self.errors[_error_key(exc)] = self.errors.get(_error_key(exc), 0) + 1

    async def theirs(self, posts: list[float]) -> None:
        coi = self.next_coi()
        elapsed = await self.raw.send(coi)
        if elapsed == elapsed:
            posts.append(elapsed)
        with contextlib.suppress(Exception):  # a refused raw order has nothing to cancel
            await self.connector.cancel_by_client_id(self.symbol, coi)

    async def sequential(self, n: int) -> tuple[list[float], list[float], list[float]]:
        submits: list[float] = []
        cancels: list[float] = []
        posts: list[float] = []
        for i in range(n):
            for side in (0, 1) if i % 2 else (1, 0):
                self.ticker.phase = "seq-ours" if side == 0 else "seq-raw"
                await (self.ours(submits, cancels) if side == 0 else self.theirs(posts))
        self.ticker.phase = ""
        return submits, cancels, posts

    async def _batch(self, job: Callable[[], Awaitable[None]], n: int) -> float:
        left = iter(range(n))

        async def worker() -> None:
            for _ in left:
                await job()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return time.perf_counter() - t0

    async def concurrent(self, n: int) -> tuple[list[float], list[float], float, float]:
        ours: list[float] = []
        posts: list[float] = []
        took = {"ours": 0.0, "raw": 0.0}
        per_round = n // ROUNDS
        for r in range(ROUNDS):
            for side in ("ours", "raw") if r % 2 == 0 else ("raw", "ours"):
                self.ticker.phase = f"conc-{side}"
                job = (lambda: self.ours(ours)) if side == "ours" else (lambda: self.theirs(posts))
                took[side] += await self._batch(job, per_round)
        self.ticker.phase = ""
        return ours, posts, per_round * ROUNDS / took["ours"], per_round * ROUNDS / took["raw"]


async def _venue(venue: str) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        async with open_venue(venue, Path(tmp)) as (connector, symbol, _fake):
            price_i, size_i = await _order_params(connector, symbol)
            raw = Raw(venue, connector, symbol, price_i, size_i)
            try:
                with Ticker() as ticker:
                    run = Run(connector, symbol, raw, ticker, price_i, size_i)
                    await run.sequential(5)  # warm up: connections, first signature, caches
                    run.errors.clear()
                    raw.refused.clear()
                    raw.sign_s.clear()
                    seq, cancels, seq_raw = await run.sequential(SEQUENTIAL)
                    conc, conc_raw, rate, raw_rate = await run.concurrent(CONCURRENT)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connector.cancel_all(symbol), 5)
            finally:
                await raw.aclose()
    attempted = SEQUENTIAL + CONCURRENT
    for side, bad in (("connector", sum(run.errors.values())), ("raw", sum(raw.refused.values()))):
        if bad > MAX_REFUSED * attempted:
            detail = run.errors if side == "connector" else raw.refused
            raise RuntimeError(f"{venue}: {bad} of {attempted} {side} orders refused: {detail}")
    late = {k: percentile(v, 99) * 1000 for k, v in ticker.late.items()}
    seq_p50, seq_p99 = _ms(seq)
    raw_p50, raw_p99 = _ms(seq_raw)
    c_p50, c_p99 = _ms(cancels)
    conc_p50, conc_p99 = _ms(conc)
    craw_p50, craw_p99 = _ms(conc_raw)
    sign = f"signing the raw request p50 {median(raw.sign_s) * 1000:.3g} ms (on the loop, untimed)"
    loop = (
        f"1 ms ticker lateness p99 {late.get('seq-ours', float('nan')):.3g} ms during ours, "
        f"{late.get('seq-raw', float('nan')):.3g} ms during the raw POSTs"
    )
    errors = "".join(f"; {n} × {msg}" for msg, n in {**run.errors, **raw.refused}.items())
    where = "fake in its own process"
    return [
        Figure(
            "orders",
            f"{venue} limit order, sequential ({where})",
            seq_p50,
            "ms",
            p99=seq_p99,
            baseline=raw_p50,
            baseline_name="raw POST, interleaved",
            note=f"{len(seq)} orders; baseline p99 {raw_p99:.3g} ms; {sign}; {loop}; cancel p50 {c_p50:.3g} ms, "
            f"p99 {c_p99:.3g} ms; request budget lifted{errors}",
            extra={
                "orders": len(seq),
                "cancel_p50_ms": c_p50,
                "cancel_p99_ms": c_p99,
                "baseline_p99_ms": raw_p99,
                "sign_p50_ms": median(raw.sign_s) * 1000,
                "loop_late_p99_ms": late,
            },
        ),
        Figure(
            "orders",
            f"{venue} limit order, {IN_FLIGHT} in flight ({where})",
            conc_p50,
            "ms",
            p99=conc_p99,
            baseline=craw_p50,
            baseline_name=f"raw POST, {IN_FLIGHT} in flight",
            note=f"{len(conc)} orders, {rate:,.0f} orders/s against the raw POSTs' {raw_rate:,.0f}/s (each order "
            f"also cancelled through the connector); baseline p99 {craw_p99:.3g} ms; ticker lateness p99 "
            f"{late.get('conc-ours', float('nan')):.3g} ms during ours, {late.get('conc-raw', float('nan')):.3g} "
            f"during the raw{CONCURRENCY_NOTES.get(venue, '')}",
            extra={"orders": len(conc), "orders_per_s": rate, "raw_orders_per_s": raw_rate, "errors": run.errors},
        ),
    ]


CONCURRENCY_NOTES = {
    "lighter": "; both sides hold the key's nonce lock from signing to the venue's answer (the venue takes a key's "
    "nonces strictly +1, and concurrent POSTs on pooled connections may arrive in any order), so 10 in flight "
    "queue: the raw side shows the lock's cost, not the connector's",
}


# -- the sim, in-process ----------------------------------------------------------------------------------


async def _sim() -> list[Figure]:
    """The connector over the engine against the engine's ``place`` alone."""
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as tmp:
        async with importlib.import_module("tests.harnesses.sim").open_harness(Path(tmp)) as h:
            connector, symbol = h.connector, h.symbol
            price_i, size_i = await _order_params(connector, symbol)
            engine, esym = h.engine, h.engine_symbol
            seq: list[float] = []
            raw: list[float] = []
            for i in range(SEQUENTIAL):
                t0 = time.perf_counter()
                await connector.submit_limit_order(
                    symbol=symbol, client_order_index=10_000 + i, base_amount=size_i, price=price_i, is_ask=False,
                    post_only=True,
                )  # fmt: skip
                seq.append(time.perf_counter() - t0)
                await connector.cancel_by_client_id(symbol, 10_000 + i)
                if i < SIM_RAW:
                    t0 = time.perf_counter()
                    engine.place(esym, client_order_index=900_000 + i, is_ask=False, price_i=price_i, size_i=size_i,
                                 tif="POST_ONLY")  # fmt: skip
                    raw.append(time.perf_counter() - t0)
                    engine.cancel(esym, client_order_index=900_000 + i)
    p50, p99 = _ms(seq)
    return [
        Figure(
            "orders",
            "sim limit order, sequential (in-process)",
            p50,
            "ms",
            p99=p99,
            baseline=median(raw) * 1000,
            baseline_name="engine.place, interleaved",
            note=f"{len(seq)} orders; the engine alone, no connector",
            extra={"orders": len(seq)},
        )
    ]


def run() -> list[Figure]:
    figures: list[Figure] = []
    for venue in VENUES:
        job = _sim() if venue == "sim" else _venue(venue)
        figures.extend(asyncio.run(asyncio.wait_for(job, VENUE_TIMEOUT_S)))
    return figures


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:
        VENUES = tuple(sys.argv[1:])
    for f in run():
        print(f"{f.name}: p50 {f.value:.3g} ms p99 {f.p99:.3g} ms vs {f.baseline_name} {f.baseline:.3g} — {f.note}")
