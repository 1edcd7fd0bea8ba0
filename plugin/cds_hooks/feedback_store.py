"""Where card feedback is kept: the `cds_feedback` table in the product's database
(`settings.database_url`, SQLite by default, PostgreSQL via asyncpg), created by the product's
migrations (smart_app/store/migrations, revision 0005) on first use. Recording is idempotent:
a report already stored (same `FeedbackItem.key`) is not stored again, even when two copies
arrive at once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
)

from plugin.cds_hooks.feedback import FeedbackItem
from plugin.cds_hooks.tables import FeedbackRow
from smart_app.store.database import Database

__all__ = ["FeedbackRecord", "FeedbackStore"]


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


class FeedbackStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._database = Database(url)

    async def ready(self) -> async_sessionmaker[AsyncSession]:
        return await self._database.ready()

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
        await self._database.dispose()
