"""Used CDS client JWT ids in the product database, on SQLite and PostgreSQL: one winner per id
across store instances (worker processes), reuse only after expiry, purging, and a database
failure that refuses instead of accepting."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from plugin.cds_hooks.errors import ReplayCheckUnavailableError
from plugin.cds_hooks.token_id_store import TokenIdStore, token_id_key
from plugin.errors import ConfigurationError
from tests.conftest import on_database

ISS = "https://ehr.example.org/fhir"


async def stored(url: str) -> dict[str, float]:
    rows = await on_database(
        url, lambda c: c.execute(text("select key, expires_at from cds_token_ids")).all()
    )
    return {key: expires_at for key, expires_at in rows}


@pytest.fixture
async def stores(
    database_url: str, sqlite_connections_closed: None
) -> AsyncIterator[list[TokenIdStore]]:
    """Two stores on one database, as two worker processes have."""
    made = [TokenIdStore(database_url), TokenIdStore(database_url)]
    yield made
    for store in made:
        await store.dispose()


async def test_first_use_then_replay_then_reuse_after_expiry(
    stores: list[TokenIdStore],
) -> None:
    store = stores[0]
    assert await store.first_use(ISS, "a", keep_until=100.0, now=0.0)
    assert not await store.first_use(ISS, "a", keep_until=100.0, now=50.0)
    assert not await store.first_use(ISS, "a", keep_until=100.0, now=99.9)
    assert await store.first_use("https://other.example.org", "a", keep_until=100.0, now=50.0)
    assert await store.first_use(ISS, "a", keep_until=400.0, now=100.0)  # the first expired
    assert not await store.first_use(ISS, "a", keep_until=500.0, now=300.0)  # kept till 400


async def test_a_replay_is_refused_by_another_store_on_the_same_database(
    stores: list[TokenIdStore],
) -> None:
    first, second = stores
    assert await first.first_use(ISS, "b", keep_until=100.0, now=0.0)
    assert not await second.first_use(ISS, "b", keep_until=100.0, now=1.0)
    assert await second.first_use(ISS, "c", keep_until=100.0, now=1.0)
    assert not await first.first_use(ISS, "c", keep_until=100.0, now=2.0)


async def test_racing_stores_make_exactly_one_winner(stores: list[TokenIdStore]) -> None:
    first, second = stores
    await first.purge(0.0)  # both migrated and connected before the race
    await second.purge(0.0)
    for round_ in range(10):
        jti = f"raced-{round_}"
        wins = await asyncio.gather(
            *(
                store.first_use(ISS, jti, keep_until=100.0, now=1.0)
                for store in (first, second, first, second)
            )
        )
        assert wins.count(True) == 1, wins
    # Taking over an expired row is a race too: one winner again.
    wins = await asyncio.gather(
        *(
            store.first_use(ISS, "raced-0", keep_until=300.0, now=200.0)
            for store in (first, second, first, second)
        )
    )
    assert wins.count(True) == 1, wins


async def test_purge_removes_expired_ids_only(
    database_url: str, stores: list[TokenIdStore]
) -> None:
    store = stores[0]
    for jti, until in (("gone-1", 10.0), ("gone-2", 20.0), ("kept", 20.5), ("later", 500.0)):
        await store.first_use(ISS, jti, keep_until=until, now=0.0)
    assert await store.purge(20.0) == 2
    assert set(await stored(database_url)) == {
        token_id_key(ISS, "kept"),
        token_id_key(ISS, "later"),
    }


async def test_first_use_purges_at_most_once_a_minute(
    database_url: str, stores: list[TokenIdStore]
) -> None:
    store = stores[0]
    await store.first_use(ISS, "short", keep_until=10.0, now=0.0)  # purges (first call)
    await store.purged()
    await store.first_use(ISS, "x", keep_until=500.0, now=30.0)  # no purge within the minute
    await store.purged()
    assert token_id_key(ISS, "short") in await stored(database_url)
    await store.first_use(ISS, "y", keep_until=500.0, now=60.0)  # a minute on: purged
    await store.purged()
    assert set(await stored(database_url)) == {token_id_key(ISS, "x"), token_id_key(ISS, "y")}


async def test_concurrent_first_uses_purge_once(
    stores: list[TokenIdStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = stores[0]
    await store.first_use(ISS, "warm", keep_until=500.0, now=0.0)
    purges: list[float] = []
    real = TokenIdStore._purge

    def counted(now: float) -> Any:
        purges.append(now)
        return real(now)

    monkeypatch.setattr(TokenIdStore, "_purge", staticmethod(counted))
    await asyncio.gather(
        *(store.first_use(ISS, f"burst-{i}", keep_until=500.0, now=61.0) for i in range(6))
    )
    await store.purged()
    assert purges == [61.0]


async def test_a_first_use_does_not_wait_for_the_purge_it_starts(
    stores: list[TokenIdStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A minute's expired ids can take a while to delete: the call that starts the purge must not
    # be the slow one.
    store = stores[0]
    await store.first_use(ISS, "warm", keep_until=500.0, now=0.0)
    await store.purged()
    release = asyncio.Event()
    real = TokenIdStore.purge

    async def slow(self: TokenIdStore, now: float) -> int:
        await release.wait()
        return await real(self, now)

    monkeypatch.setattr(TokenIdStore, "purge", slow)
    try:
        assert await asyncio.wait_for(
            store.first_use(ISS, "during", keep_until=500.0, now=61.0), timeout=5.0
        )
    finally:
        release.set()  # the purge may end now (the store's disposal waits for it)
    await store.purged()


async def test_a_failed_purge_does_not_refuse_a_good_token(
    stores: list[TokenIdStore], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = stores[0]
    # A real database error from the purge alone: its DELETE names a table that does not exist.
    monkeypatch.setattr(
        TokenIdStore, "_purge", staticmethod(lambda now: text("delete from no_such_table"))
    )
    with caplog.at_level(logging.WARNING, logger="plugin.cds_hooks.token_id_store"):
        assert await store.first_use(ISS, "good", keep_until=100.0, now=0.0)
        await store.purged()
    assert "not purged" in caplog.text and "no_such_table" in caplog.text
    assert not await store.first_use(ISS, "good", keep_until=100.0, now=1.0)


async def test_long_and_odd_ids_are_kept_as_a_fixed_length_hash(
    database_url: str, stores: list[TokenIdStore]
) -> None:
    store = stores[0]
    long_iss = "https://ehr.example.org/" + "i" * 5000
    odd = ["j" * 20_000, "日本語-jti", "\ud800 lone surrogate", "a|b"]
    for jti in odd:
        assert await store.first_use(long_iss, jti, keep_until=100.0, now=0.0)
        assert not await store.first_use(long_iss, jti, keep_until=100.0, now=1.0)
    # The pair is unambiguous: ("a|b", "c") is not ("a", "b|c").
    assert await store.first_use("a|b", "c", keep_until=100.0, now=0.0)
    assert await store.first_use("a", "b|c", keep_until=100.0, now=0.0)
    # Only the hashes are stored, one length whatever was sent.
    assert set(await stored(database_url)) == {
        *(token_id_key(long_iss, jti) for jti in odd),
        token_id_key("a|b", "c"),
        token_id_key("a", "b|c"),
    }
    assert {len(token_id_key(long_iss, jti)) for jti in odd} == {64}


async def test_a_database_failure_refuses_and_names_no_token_id(
    database_url: str, stores: list[TokenIdStore]
) -> None:
    store = stores[0]
    assert await store.first_use(ISS, "before", keep_until=100.0, now=0.0)
    await on_database(database_url, lambda c: c.execute(text("drop table cds_token_ids")))
    with pytest.raises(ReplayCheckUnavailableError) as caught:
        await store.first_use(ISS, "secret-jti-value", keep_until=100.0, now=1.0)
    assert "cds_token_ids" in caught.value.why  # the driver's message says what is missing
    assert "secret-jti-value" not in caught.value.why
    assert token_id_key(ISS, "secret-jti-value") not in caught.value.why
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_an_unreachable_database_refuses(
    tmp_path: Any, sqlite_connections_closed: None
) -> None:
    # The failed connection closes its thread after the refusal: `sqlite_connections_closed`
    # waits for it while the test's event loop is still open.
    store = TokenIdStore(f"sqlite+aiosqlite:///{tmp_path}")  # a folder, not a database file
    try:
        with pytest.raises(ReplayCheckUnavailableError) as caught:
            await store.first_use(ISS, "j", keep_until=100.0, now=0.0)
        assert "OperationalError" in caught.value.why
    finally:
        await store.dispose()


def test_only_the_product_databases_are_accepted() -> None:
    with pytest.raises(ConfigurationError):
        TokenIdStore("mysql+aiomysql://user@db.example.org/discogram")


async def test_a_first_use_waits_for_another_workers_write_on_sqlite(
    tmp_path: Path, sqlite_connections_closed: None
) -> None:
    # The write runs on the event loop without waiting for a lock; another worker holding the
    # write lock sends it to the store's thread, which waits: a busy database is never a 503.
    url = f"sqlite+aiosqlite:///{tmp_path / 'discogram.sqlite3'}"
    store = TokenIdStore(url)
    other = sqlite3.connect(tmp_path / "discogram.sqlite3", isolation_level=None)
    try:
        assert await store.first_use(ISS, "before", keep_until=100.0, now=0.0)
        await store.purged()
        other.execute("BEGIN IMMEDIATE")  # another worker mid-write
        waiting = asyncio.ensure_future(store.first_use(ISS, "during", keep_until=100.0, now=1.0))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(waiting, timeout=5.0)
        assert not await store.first_use(ISS, "during", keep_until=100.0, now=2.0)
    finally:
        other.close()
        await store.dispose()
