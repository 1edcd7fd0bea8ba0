from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from plugin.cds_hooks.feedback import parse_feedback
from plugin.cds_hooks.feedback_store import FeedbackStore
from plugin.cds_hooks.returned_cards import CARD_RETENTION_SECONDS, ReturnedCard
from tests.cds_hooks.test_feedback import CARD, NOW, accepted


async def test_recording_is_idempotent(database_url: str, sqlite_connections_closed: None) -> None:
    store = FeedbackStore(database_url)
    items = parse_feedback(
        {"feedback": [accepted(), accepted(outcomeTimestamp="2026-11-23T14:31:00Z")]}, now=NOW
    )
    try:
        assert await store.record(items, service_id="svc", client_iss="iss", now=1.0) == 2
        assert await store.record(items, service_id="svc", client_iss="iss", now=2.0) == 0
        # Two copies racing each other still make one record each.
        results = await asyncio.gather(
            *(
                store.record(items[:1], service_id="svc2", client_iss="iss", now=3.0)
                for _ in range(4)
            )
        )
        assert sum(results) == 1
        records = await store.records(CARD)
        assert len(records) == 3
        assert records[0].accepted_suggestions == ("e56e1945-20b3-4393-8503-a1a20fd73152",)
        assert records[0].outcome == "accepted" and records[0].received_at == 1.0
    finally:
        await store.dispose()


async def test_the_product_migrations_create_the_table(
    database_url: str, sqlite_connections_closed: None
) -> None:
    store = FeedbackStore(database_url)
    try:
        sessions = await store.ready()
        async with sessions() as db:
            connection = await db.connection()
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert "cds_feedback" in tables
    finally:
        await store.dispose()


async def test_sqlite_folder_is_created(tmp_path: Path, sqlite_connections_closed: None) -> None:
    store = FeedbackStore(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'f.sqlite3'}")
    try:
        await store.ready()
        assert (tmp_path / "new" / "f.sqlite3").exists()
    finally:
        await store.dispose()


async def test_returned_cards_are_remembered_then_forgotten(
    database_url: str, sqlite_connections_closed: None
) -> None:
    store = FeedbackStore(database_url)
    card = ReturnedCard(
        CARD,
        "svc",
        "iss",
        frozenset({"e56e1945-20b3-4393-8503-a1a20fd73152"}),
        frozenset({("https://x.example", "c"), (None, "d")}),
        100.0,
    )
    try:
        await store.remember_cards([card], now=100.0)
        assert await store.returned_cards([f"urn:uuid:{CARD.upper()}", "x"], now=200.0) == {
            CARD: card
        }
        later = 100.0 + CARD_RETENTION_SECONDS
        assert await store.returned_cards([CARD], now=later) == {}
        # The next remember purges the expired row.
        other = ReturnedCard(
            "e56e1945-20b3-4393-8503-a1a20fd73152", "svc", "iss", frozenset(), frozenset(), later
        )
        await store.remember_cards([other], now=later + 1)
        await store.purged()
        assert await store.returned_cards([CARD], now=100.0) == {}
    finally:
        await store.dispose()


def _card(card_uuid: str, issued_at: float = 100.0) -> ReturnedCard:
    return ReturnedCard(card_uuid, "svc", "iss", frozenset(), frozenset(), issued_at)


async def test_an_answers_cards_are_remembered_together_and_seen_by_every_worker(
    database_url: str, sqlite_connections_closed: None
) -> None:
    # Another worker, or this one restarted, reads what the answer's one write committed.
    cards = [_card(f"00000000-0000-4000-8000-00000000000{n}") for n in range(3)]
    store, other = FeedbackStore(database_url), FeedbackStore(database_url)
    try:
        await store.remember_cards(cards, now=100.0)
        await store.dispose()
        found = await other.returned_cards([c.uuid for c in cards], now=200.0)
        assert found == {c.uuid: c for c in cards}
        # All or nothing: a card already remembered fails the answer's write as a whole.
        again = [_card("00000000-0000-4000-8000-00000000000a"), cards[0]]
        await other.remember_cards(again, now=200.0)
        assert await other.returned_cards([again[0].uuid], now=200.0) == {}
    finally:
        await store.dispose()
        await other.dispose()


async def test_remembering_cards_does_not_wait_for_the_purge_it_starts(
    database_url: str, sqlite_connections_closed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FeedbackStore(database_url)
    release = asyncio.Event()
    real = FeedbackStore._purge_quietly

    async def slow(self: FeedbackStore, now: float) -> None:
        await release.wait()
        await real(self, now)

    monkeypatch.setattr(FeedbackStore, "_purge_quietly", slow)
    try:
        card = _card(CARD)
        await asyncio.wait_for(store.remember_cards([card], now=100.0), timeout=5.0)
        assert await store.returned_cards([CARD], now=100.0) == {CARD: card}
        release.set()
        await store.purged()
    finally:
        release.set()
        await store.dispose()
