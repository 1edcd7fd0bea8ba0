from __future__ import annotations

import asyncio

from plugin.cds_hooks.background_purge import BackgroundPurge
from plugin.cds_hooks.replay import PURGE_INTERVAL_SECONDS


async def test_one_purge_per_interval_and_the_caller_does_not_wait() -> None:
    started: list[float] = []
    release = asyncio.Event()

    async def purge(now: float) -> None:
        started.append(now)
        await release.wait()

    purges = BackgroundPurge(purge)
    purges.start_if_due(100.0)
    purges.start_if_due(101.0)  # a concurrent call: the time is already claimed
    await asyncio.sleep(0)
    assert started == [100.0]
    release.set()
    await purges.finished()
    purges.start_if_due(100.0 + PURGE_INTERVAL_SECONDS)
    await purges.finished()
    assert started == [100.0, 100.0 + PURGE_INTERVAL_SECONDS]


async def test_a_purge_of_the_callers_own_defers_the_next() -> None:
    started: list[float] = []

    async def purge(now: float) -> None:
        started.append(now)

    purges = BackgroundPurge(purge)
    purges.claim(50.0)
    purges.start_if_due(50.0 + PURGE_INTERVAL_SECONDS - 1)
    await purges.finished()
    assert started == []
