"""Lighter signing: on the event loop's thread (as before issue 18) or on the key's own signing thread.

The native signer (lighter-sdk) releases the GIL; on the loop's thread every signing also stops the
loop for its whole length.  Each round signs ``ORDERS`` create-order transactions one after another
(nonces in order, as the connector's per-key nonce lock sends them), once each way, interleaved,
while a ticker on the loop asks to wake every millisecond: its lateness is what a paint, a key press
or a book frame waits meanwhile.  Wall time and the process's CPU time per signing are reported.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.stats import Figure, median, percentile

ORDERS = 300
ROUNDS = 3
TICK_S = 0.001


async def _ticker(lateness: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        lateness.append((loop.time() - due) * 1000)


async def _round(signer: Any, *, off_loop: bool, first_nonce: int) -> tuple[list[float], list[float], float]:
    from connector.lighter import wire

    def build(nonce: int) -> Any:
        return signer.create_order(
            market_id=0, client_order_index=nonce + 1, base_amount=1000, price=300_000, is_ask=False,
            order_type=wire.ORDER_LIMIT, time_in_force=wire.TIF_POST_ONLY, reduce_only=False,
            order_expiry=wire.EXPIRY_28_DAYS, nonce=nonce,
        )  # fmt: skip

    lateness: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lateness, stop))
    await asyncio.sleep(0.01)
    del lateness[:]
    times = []
    cpu0 = time.process_time()
    for nonce in range(first_nonce, first_nonce + ORDERS):
        t0 = time.perf_counter()
        if off_loop:
            await signer.sign(build, nonce)
        else:
            build(nonce)
            await asyncio.sleep(0)  # the connector's next await (the request) lets the loop run
        times.append((time.perf_counter() - t0) * 1000)
    cpu_ms = (time.process_time() - cpu0) * 1000 / ORDERS
    stop.set()
    await ticker
    return times, lateness, cpu_ms


async def _bench() -> list[Figure]:
    from connector.lighter import signing

    lighter, _ = signing.load_sdk()
    priv, _pub, _err = lighter.signer_client.create_api_key()
    signer = signing.LighterSigner("http://127.0.0.1:9", 1, 4, priv, signing.TESTNET_CHAIN_ID)
    sides: dict[bool, dict[str, list[float]]] = {s: {"times": [], "late": [], "cpu": []} for s in (False, True)}
    try:
        nonce = 0
        for _ in range(ROUNDS):
            for off_loop in (False, True):
                times, late, cpu = await _round(signer, off_loop=off_loop, first_nonce=nonce)
                nonce += ORDERS
                sides[off_loop]["times"] += times
                sides[off_loop]["late"] += late
                sides[off_loop]["cpu"].append(cpu)
    finally:
        await signer.close()
    on, off = sides[False], sides[True]
    common = f"{ROUNDS} rounds of {ORDERS} signings each way, interleaved"
    return [
        Figure(
            "signing",
            "lighter create-order signing, sequential",
            median(off["times"]),
            "ms",
            p99=percentile(off["times"], 99),
            baseline=median(on["times"]),
            baseline_name="on the loop's thread",
            target="≥ 1.7× faster",
            note=(
                f"baseline p99 {percentile(on['times'], 99):.3g} ms; CPU per signing {median(off['cpu']):.3g} ms on "
                f"the key's thread, {median(on['cpu']):.3g} ms on the loop's; {common}"
            ),
            extra={"baseline_p99_ms": percentile(on["times"], 99), "cpu_ms": off["cpu"], "baseline_cpu_ms": on["cpu"]},
        ),
        Figure(
            "signing",
            "event-loop lateness p99 while signing",
            percentile(off["late"], 99),
            "ms",
            p99=percentile(off["late"], 99),
            baseline=percentile(on["late"], 99),
            baseline_name="p99 on the loop's thread",
            target="p99 ≤ 4 ms",
            note=(
                f"a 1 ms ticker's lateness: p50 {median(off['late']):.3g} ms, p99 {percentile(off['late'], 99):.3g} "
                f"ms signing on the key's thread; p50 {median(on['late']):.3g} ms, p99 "
                f"{percentile(on['late'], 99):.3g} ms on the loop's; {len(off['late']):,} and {len(on['late']):,} "
                f"ticks; {common}"
            ),
            extra={"samples": len(off["late"]), "baseline_p50_ms": median(on["late"])},
        ),
    ]


def run() -> list[Figure]:
    return asyncio.run(_bench())


if __name__ == "__main__":
    for f in run():
        print(f"{f.name}: p50 {f.value:.3g} {f.unit}, p99 {f.p99:.3g} — {f.note}")
