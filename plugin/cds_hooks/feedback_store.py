"""Where card feedback is kept: the `cds_feedback` table in the product's database
(`settings.database_url`, SQLite by default, PostgreSQL via asyncpg), created by the product's
migrations (smart_app/store/migrations, revision 0005) on first use. Recording is idempotent:
a report already stored (same `FeedbackItem.key`) is not stored again, even when two copies
arrive at once. Different reports on one card are each kept; the card's outcome is the latest
by outcomeTimestamp (`card_outcome`; see `feedback`).

The cards the service returned are remembered beside it (`cds_returned_cards`, revision 0010)
for `CARD_RETENTION_SECONDS`, so that feedback is checked against them whichever worker
answered the call. They are committed before the call is answered, without a disk sync and in
one trip to the database (`quick_writes.QuickWrites`); expired rows are deleted at most once a
minute per store, in the background."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
)

from plugin.cds_hooks.background_purge import BackgroundPurge
from plugin.cds_hooks.feedback import FeedbackItem
from plugin.cds_hooks.quick_writes import DATABASE_ERRORS, QuickWrites
from plugin.cds_hooks.returned_cards import CARD_RETENTION_SECONDS, ReturnedCard, canonical_uuid
from plugin.cds_hooks.tables import FeedbackRow, ReturnedCardRow
from smart_app.store.database import Database

__all__ = ["FeedbackRecord", "FeedbackStore"]

_log = logging.getLogger(__name__)


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
        # The cards of each answer are written on every CDS call, where the clinician waits: a
        # card lost with the last commits before a power failure only makes feedback on it
        # refused as unknown — not worth a disk sync per call. The feedback itself stays
        # fully durable.
        self._cards = QuickWrites(url)
        self._purges = BackgroundPurge(self._purge_quietly)

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

    async def card_outcome(self, card_uuid: str) -> FeedbackRecord | None:
        """The report that gives the card its outcome: the latest by outcomeTimestamp (then
        by arrival); None when the card has no feedback."""
        reports = await self.records(card_uuid)
        if not reports:
            return None
        return max(reports, key=lambda r: (_instant(r.outcome_timestamp), r.received_at))

    async def remember_cards(self, cards: Sequence[ReturnedCard], *, now: float) -> None:
        """Remember the cards of one response until `now` + CARD_RETENTION_SECONDS. A failure
        is logged, not raised: the clinician's guidance is never withheld for the sake of
        feedback bookkeeping (feedback on those cards is then refused as unknown)."""
        if not cards:
            return
        rows = [
            {
                "card_uuid": card.uuid,
                "service_id": card.service_id,
                "client_iss": card.client_iss,
                "suggestions": json.dumps(sorted(card.suggestions)),
                "override_reasons": json.dumps(sorted(card.override_reasons, key=str)),
                "issued_at": card.issued_at,
                "expires_at": card.issued_at + CARD_RETENTION_SECONDS,
            }
            for card in cards
        ]
        self._purges.start_if_due(now)
        try:
            await self._cards.execute(_REMEMBER, rows)
        except DATABASE_ERRORS as error:
            _log.warning("returned CDS cards not remembered: %s", type(error).__name__)

    async def returned_cards(self, uuids: Iterable[str], *, now: float) -> dict[str, ReturnedCard]:
        """The remembered, unexpired cards among `uuids`, by canonical uuid."""
        wanted = {u for u in map(canonical_uuid, uuids) if u is not None}
        if not wanted:
            return {}
        sessions = await self.ready()
        query = select(ReturnedCardRow).where(
            ReturnedCardRow.card_uuid.in_(sorted(wanted)), ReturnedCardRow.expires_at > now
        )
        async with sessions() as db:
            rows = (await db.execute(query)).scalars().all()
        return {
            row.card_uuid: ReturnedCard(
                uuid=row.card_uuid,
                service_id=row.service_id,
                client_iss=row.client_iss,
                suggestions=frozenset(json.loads(row.suggestions)),
                override_reasons=frozenset(
                    (system, code) for system, code in json.loads(row.override_reasons)
                ),
                issued_at=row.issued_at,
            )
            for row in rows
        }

    async def purged(self) -> None:
        """Wait for the purge of expired cards a call started, if any (dispose; tests)."""
        await self._purges.finished()

    async def _purge_quietly(self, now: float) -> None:
        try:
            await self._cards.execute(
                delete(ReturnedCardRow).where(ReturnedCardRow.expires_at <= now), bulk=True
            )
        except DATABASE_ERRORS as error:
            _log.warning("expired CDS cards not purged: %s", type(error).__name__)

    async def dispose(self) -> None:
        await self.purged()
        await self._database.dispose()
        await self._cards.dispose()


#: One statement for every card of an answer (executemany), built once.
_REMEMBER = insert(ReturnedCardRow)


def _instant(text: str) -> float:
    # Stored as the UTC isoformat of a checked instant (`FeedbackItem.outcome_timestamp`).
    return datetime.fromisoformat(text).timestamp()
