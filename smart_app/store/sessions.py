"""App sessions: an opaque random id in the cookie, everything else here, encrypted.

The row is keyed on the SHA-256 of the id. Writes are compare-and-swap on `version` so a stale
writer (e.g. a second worker refreshing the same session) cannot overwrite a newer token, and a
refresh is claimed for a while (`claim_refresh`) so that of several worker processes only one
spends the refresh token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update

from smart_app.store.database import Database
from smart_app.store.tables import SessionRow
from smart_app.token_encryption import TokenCipher, UnreadableSecretError

__all__ = ["SessionStore", "StoredSession", "new_session_id", "session_id_hash"]


def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


def session_id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSession:
    state: dict[str, Any]
    version: int
    expires_at: float


class SessionStore:
    def __init__(self, database: Database, cipher: TokenCipher) -> None:
        self._database = database
        self._cipher = cipher

    async def create(
        self, iss: str, state: dict[str, Any], *, now: float, expires_at: float
    ) -> str:
        session_id = new_session_id()
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            await db.execute(delete(SessionRow).where(SessionRow.expires_at < now))
            db.add(
                SessionRow(
                    id_hash=session_id_hash(session_id),
                    iss=iss,
                    created_at=now,
                    updated_at=now,
                    expires_at=expires_at,
                    version=1,
                    state=self._cipher.encrypt_json(state),
                )
            )
        return session_id

    async def load(self, session_id: str, *, now: float) -> StoredSession | None:
        """The live session, or None when absent, expired or no longer decryptable."""
        sessions = await self._database.ready()
        async with sessions() as db:
            row = (
                await db.execute(
                    select(SessionRow).where(SessionRow.id_hash == session_id_hash(session_id))
                )
            ).scalar_one_or_none()
        if row is None or row.expires_at <= now:
            return None
        try:
            state = self._cipher.decrypt_json(row.state)
        except UnreadableSecretError:
            return None
        return StoredSession(state=state, version=row.version, expires_at=row.expires_at)

    async def replace(
        self, session_id: str, state: dict[str, Any], *, expected_version: int, now: float
    ) -> bool:
        """Store `state` if nobody wrote since `expected_version`; False if someone did."""
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            result = await db.execute(
                update(SessionRow)
                .where(
                    SessionRow.id_hash == session_id_hash(session_id),
                    SessionRow.version == expected_version,
                )
                .values(
                    state=self._cipher.encrypt_json(state),
                    version=expected_version + 1,
                    updated_at=now,
                )
            )
        return getattr(result, "rowcount", 0) == 1

    async def claim_refresh(self, session_id: str, *, now: float, until: float) -> bool:
        """Take the right to refresh the session's tokens until `until`, unless another
        worker holds it; True when this caller now holds it. One statement: of two workers
        claiming at once exactly one wins."""
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            result = await db.execute(
                update(SessionRow)
                .where(
                    SessionRow.id_hash == session_id_hash(session_id),
                    or_(
                        SessionRow.refresh_claimed_until.is_(None),
                        SessionRow.refresh_claimed_until <= now,
                    ),
                )
                .values(refresh_claimed_until=until)
            )
        return getattr(result, "rowcount", 0) == 1

    async def release_refresh(self, session_id: str) -> None:
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            await db.execute(
                update(SessionRow)
                .where(SessionRow.id_hash == session_id_hash(session_id))
                .values(refresh_claimed_until=None)
            )

    async def delete(self, session_id: str) -> None:
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            await db.execute(
                delete(SessionRow).where(SessionRow.id_hash == session_id_hash(session_id))
            )
