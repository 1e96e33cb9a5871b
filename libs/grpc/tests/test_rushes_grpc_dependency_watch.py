"""Health follows dependencies: NOT_SERVING while any check fails or raises, SERVING when all pass."""

from __future__ import annotations

import asyncio

from rushes_grpc import DependencyWatch


async def test_health_flips_only_on_change_and_names_what_is_down() -> None:
    state = {"nats": True, "s3": True}
    changes: list[bool] = []

    async def nats() -> bool:
        return state["nats"]

    async def s3() -> bool:
        if not state["s3"]:
            raise ConnectionError("refused")  # a raising check counts as down
        return True

    async def hangs() -> bool:
        await asyncio.sleep(3600)
        return True

    watch = DependencyWatch({"nats": nats, "s3": s3}, changes.append)
    assert await watch.check_once() and changes == [True]
    assert await watch.check_once() and changes == [True]  # no repeat while nothing changes
    state["s3"] = False
    assert not await watch.check_once() and watch.down == ["s3"] and changes == [True, False]
    state.update(s3=True, nats=False)
    assert not await watch.check_once() and watch.down == ["nats"] and changes == [True, False]
    state["nats"] = True
    assert await watch.check_once() and changes == [True, False, True]

    slow = DependencyWatch({"triton": hangs}, changes.append, check_timeout_s=0.05)
    assert not await slow.check_once() and slow.down == ["triton"]


async def test_run_stops_with_the_service() -> None:
    async def ok() -> bool:
        return True

    stop = asyncio.Event()
    watch = DependencyWatch({"x": ok}, lambda _s: None, interval_s=0.01)
    task = asyncio.create_task(watch.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 1.0)
    assert watch.healthy is True
