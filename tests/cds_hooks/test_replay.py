"""The in-memory store of used JWT ids (a verifier built without a database)."""

from __future__ import annotations

import asyncio

from plugin.cds_hooks.replay import SeenTokenIdsInMemory


async def test_a_token_id_is_accepted_once_until_it_expires() -> None:
    seen = SeenTokenIdsInMemory()
    assert await seen.first_use("iss", "a", keep_until=100.0, now=0.0)
    assert not await seen.first_use("iss", "a", keep_until=100.0, now=50.0)
    assert await seen.first_use("other-iss", "a", keep_until=100.0, now=50.0)
    assert await seen.first_use("iss", "a", keep_until=300.0, now=101.0)  # the first has expired


async def test_concurrent_first_uses_of_one_id_make_one_winner() -> None:
    seen = SeenTokenIdsInMemory()
    wins = await asyncio.gather(
        *(seen.first_use("iss", "same", keep_until=100.0, now=0.0) for _ in range(8))
    )
    assert wins.count(True) == 1


async def test_expired_ids_are_forgotten() -> None:
    seen = SeenTokenIdsInMemory()
    for index in range(100):
        await seen.first_use("iss", str(index), keep_until=10.0, now=0.0)
    await seen.first_use("iss", "late", keep_until=500.0, now=100.0)
    assert len(seen) == 1
