import asyncio

from connector.clock import VirtualClock


async def test_virtual_clock_wakes_sleepers_in_deadline_order():
    clock = VirtualClock(start_ms=0)
    woke: list[tuple[str, int]] = []

    async def sleeper(name: str, s: float) -> None:
        await clock.sleep(s)
        woke.append((name, clock.now_ms()))

    tasks = [asyncio.create_task(sleeper("late", 2.0)), asyncio.create_task(sleeper("early", 0.5))]
    await clock.advance(1.0)
    assert woke == [("early", 500)]
    await clock.advance(5.0)
    assert woke == [("early", 500), ("late", 2000)]
    assert clock.now_ms() == 6000
    await asyncio.gather(*tasks)


async def test_an_hour_of_periodic_work_runs_instantly():
    clock = VirtualClock(start_ms=0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await clock.sleep(0.1)
            ticks += 1

    task = asyncio.create_task(ticker())
    await clock.advance(3600)
    task.cancel()
    assert ticks == 36000
