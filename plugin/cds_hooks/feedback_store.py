"""Where card feedback is kept: the `cds_feedback` table in the product's database
(`settings.database_url`, SQLite by default, PostgreSQL via asyncpg), brought up to date with
its own Alembic history on first use. Recording is idempotent: a report already stored (same
`FeedbackItem.key`) is not stored again, even when two copies arrive at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from plugin.cds_hooks.feedback import FeedbackItem
from plugin.cds_hooks.feedback_table import FeedbackRow

__all__ = ["MIGRATIONS_DIR", "FeedbackRecord", "FeedbackStore"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "feedback_migrations"


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    service_id: str
    client_iss: str
    card_uuid: str
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_system: str | None
    override_code: str | None
    override_comment: str | None
    outcome_timestamp: str
    received_at: float


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


class FeedbackStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._ready = asyncio.Lock()

    async def ready(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is not None:
            return self._sessions
        async with self._ready:
            if self._sessions is None:
                _ensure_sqlite_folder(self.url)
                engine = create_async_engine(self.url)
                async with engine.begin() as connection:
                    await connection.run_sync(_upgrade)
                self._engine = engine
                self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        return self._sessions

    async def record(
        self,
        items: Sequence[FeedbackItem],
        *,
        service_id: str,
        client_iss: str,
        now: float,
    ) -> int:
        """Store the reports not stored yet; returns how many were new."""
        sessions = await self.ready()
        added = 0
        for item in items:
            key = item.key(client_iss, service_id)
            reason = item.override_reason
            row = FeedbackRow(
                key=key,
                service_id=service_id,
                client_iss=client_iss,
                card_uuid=item.card,
                outcome=item.outcome,
                accepted_suggestions=json.dumps(list(item.accepted_suggestions)),
                override_system=reason.system if reason else None,
                override_code=reason.code if reason else None,
                override_comment=reason.user_comment if reason else None,
                outcome_timestamp=item.outcome_timestamp.isoformat(),
                received_at=now,
            )
            try:
                async with sessions.begin() as db:
                    if await db.get(FeedbackRow, key) is not None:
                        continue
                    db.add(row)
            except IntegrityError:
                continue  # the same report stored by a concurrent call: one record is the goal
            added += 1
        return added

    async def records(self, card_uuid: str | None = None) -> list[FeedbackRecord]:
        sessions = await self.ready()
        query = select(FeedbackRow).order_by(FeedbackRow.received_at, FeedbackRow.key)
        if card_uuid is not None:
            query = query.where(FeedbackRow.card_uuid == card_uuid)
        async with sessions() as db:
            rows = (await db.execute(query)).scalars().all()
        return [
            FeedbackRecord(
                service_id=row.service_id,
                client_iss=row.client_iss,
                card_uuid=row.card_uuid,
                outcome=row.outcome,
                accepted_suggestions=tuple(json.loads(row.accepted_suggestions)),
                override_system=row.override_system,
                override_code=row.override_code,
                override_comment=row.override_comment,
                outcome_timestamp=row.outcome_timestamp,
                received_at=row.received_at,
            )
            for row in rows
        ]

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessions = None
