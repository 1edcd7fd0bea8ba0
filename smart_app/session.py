"""An app session: what one SMART launch established (patient, user, granted access, tokens),
kept server-side under an opaque id — never in the page, a URL or a cookie."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from smart_app.clock import Clock
from smart_app.scopes import GrantedAccess, LaunchKind
from smart_app.store.sessions import SessionStore

__all__ = ["SESSION_LIFETIME_SECONDS", "LiveSession", "SessionService", "SmartSession"]

#: A session ends 12 hours after the launch at the latest (a clinical shift), refresh or not.
SESSION_LIFETIME_SECONDS = 12 * 3600.0


class SmartSession(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    iss: str
    ehr_name: str
    launch_kind: LaunchKind
    patient: str
    encounter: str | None = None
    fhir_context: list[dict[str, Any]] = Field(default_factory=list)
    need_patient_banner: bool = True
    style: dict[str, str] = Field(default_factory=dict)  # sanitised CSS custom properties
    intent: str | None = None
    tenant: str | None = None
    app_context: str | None = None  # CDS Hooks card's appContext (names the draft order)
    granted_scope: str
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    access_expires_at: float | None = None  # None: the EHR did not say (refresh on 401 only)
    fhir_user: str | None = None  # the user's FHIR reference, from the id_token
    user_name: str | None = None
    user_problem: str | None = None  # why the user could not be named, for the page
    csrf_token: SecretStr

    @property
    def granted(self) -> GrantedAccess:
        return GrantedAccess.parse(self.granted_scope)

    def to_state(self) -> dict[str, Any]:
        """The stored form (encrypted by the store), secrets revealed."""
        state = self.model_dump(mode="json")
        state["access_token"] = self.access_token.get_secret_value()
        state["refresh_token"] = (
            self.refresh_token.get_secret_value() if self.refresh_token is not None else None
        )
        state["csrf_token"] = self.csrf_token.get_secret_value()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SmartSession:
        return cls.model_validate(state)


@dataclass(frozen=True, slots=True)
class LiveSession:
    id: str
    session: SmartSession
    version: int
    expires_at: float  # also orders a browser's windows by age (every session lives as long)


class SessionService:
    """Starts, reads, updates and ends sessions; hands out one lock per session so refreshes
    within this process are single-flight, and a claim in the database so they are across
    worker processes too."""

    def __init__(self, store: SessionStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def start(self, session: SmartSession) -> str:
        now = self._clock()
        return await self._store.create(
            session.iss, session.to_state(), now=now, expires_at=now + SESSION_LIFETIME_SECONDS
        )

    async def get(self, session_id: str) -> LiveSession | None:
        stored = await self._store.load(session_id, now=self._clock())
        if stored is None:
            return None
        return LiveSession(
            session_id, SmartSession.from_state(stored.state), stored.version, stored.expires_at
        )

    async def update(self, live: LiveSession, session: SmartSession) -> bool:
        return await self._store.replace(
            live.id, session.to_state(), expected_version=live.version, now=self._clock()
        )

    async def end(self, session_id: str) -> None:
        await self._store.delete(session_id)

    async def claim_refresh(self, session_id: str, lease_seconds: float) -> bool:
        """The right to refresh this session's tokens for `lease_seconds`, unless another
        worker process holds it (a crashed holder's claim lapses with its lease)."""
        now = self._clock()
        return await self._store.claim_refresh(session_id, now=now, until=now + lease_seconds)

    async def release_refresh(self, session_id: str) -> None:
        await self._store.release_refresh(session_id)

    def lock(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[session_id] = lock
        return lock
