from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import inspect

from plugin.cds_hooks.feedback import parse_feedback
from plugin.cds_hooks.feedback_store import FeedbackStore
from tests.cds_hooks.test_feedback import CARD, accepted


async def test_recording_is_idempotent(database_url: str, sqlite_connections_closed: None) -> None:
    store = FeedbackStore(database_url)
    items = parse_feedback(
        {"feedback": [accepted(), accepted(outcomeTimestamp="2026-11-23T14:31:00Z")]}
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
