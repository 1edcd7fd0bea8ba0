"""Pending launches, keyed on the OAuth `state` and bound to the browser that started them: the
record keeps the hash of a random value that only that browser holds (its launch cookie), and
is taken exactly once, by that browser, within `LAUNCH_TTL_SECONDS`."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update

from smart_app.scopes import LaunchKind
from smart_app.store.database import Database
from smart_app.store.tables import LaunchRecordRow
from smart_app.token_encryption import TokenCipher, UnreadableSecretError

__all__ = ["LAUNCH_TTL_SECONDS", "LaunchRecord", "LaunchRecordStore", "LaunchRefusal"]

LAUNCH_TTL_SECONDS = 600.0
_PURGE_AFTER_SECONDS = 3600.0  # used and expired records are kept a while to recognise replays


@dataclass(frozen=True, slots=True)
class LaunchRecord:
    state: str
    iss: str
    kind: LaunchKind
    launch: str | None  # the EHR's opaque launch handle (EHR launch only)
    code_verifier: str
    scopes: tuple[str, ...]  # as requested
    created_at: float
    #: the random value of the launching browser's launch cookie (the store keeps its hash)
    browser_binding: str


class LaunchRefusal(StrEnum):
    """Why a `state` cannot be taken."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    OTHER_BROWSER = "other_browser"  # the browser's launch cookie is missing or does not match


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _binding_hash(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


def _same_browser(stored_hash: object, presented: str) -> bool:
    if not isinstance(stored_hash, str):
        return False  # a record saved before launches were bound to a browser
    return hmac.compare_digest(stored_hash.encode(), _binding_hash(presented).encode())


class LaunchRecordStore:
    def __init__(self, database: Database, cipher: TokenCipher) -> None:
        self._database = database
        self._cipher = cipher

    async def save(self, record: LaunchRecord) -> None:
        secrets = self._cipher.encrypt_json(
            {
                "kind": record.kind.value,
                "launch": record.launch,
                "code_verifier": record.code_verifier,
                "scopes": list(record.scopes),
                # Inside the encrypted secrets: no schema change, and never readable from the row.
                "browser_binding_hash": _binding_hash(record.browser_binding),
            }
        )
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            await db.execute(
                delete(LaunchRecordRow).where(
                    LaunchRecordRow.created_at < record.created_at - _PURGE_AFTER_SECONDS
                )
            )
            db.add(
                LaunchRecordRow(
                    state_hash=_state_hash(record.state),
                    iss=record.iss,
                    created_at=record.created_at,
                    used_at=None,
                    secrets=secrets,
                )
            )

    async def take(
        self, state: str, now: float, browser_binding: str | None
    ) -> LaunchRecord | LaunchRefusal:
        """The record for `state`, marked used, if `browser_binding` (the launch cookie's value)
        is the launching browser's; or why it cannot be had. Another browser's attempt does not
        spend the record: the browser that started the launch can still finish it."""
        key = _state_hash(state)
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            row = (
                await db.execute(select(LaunchRecordRow).where(LaunchRecordRow.state_hash == key))
            ).scalar_one_or_none()
            if row is None:
                return LaunchRefusal.UNKNOWN
            if row.used_at is not None:
                return LaunchRefusal.USED
            try:
                data = self._cipher.decrypt_json(row.secrets)
            except UnreadableSecretError:
                return LaunchRefusal.UNKNOWN
            if browser_binding is None or not _same_browser(
                data.get("browser_binding_hash"), browser_binding
            ):
                return LaunchRefusal.OTHER_BROWSER
            # Mark used before anything else, atomically: two callbacks racing on one state
            # (a double-click, a replay) cannot both win.
            claimed = await db.execute(
                update(LaunchRecordRow)
                .where(LaunchRecordRow.state_hash == key, LaunchRecordRow.used_at.is_(None))
                .values(used_at=now)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return LaunchRefusal.USED
            if now - row.created_at > LAUNCH_TTL_SECONDS:
                return LaunchRefusal.EXPIRED
            iss, created_at = row.iss, row.created_at
        return LaunchRecord(
            state=state,
            iss=iss,
            kind=LaunchKind(data["kind"]),
            launch=data["launch"],
            code_verifier=data["code_verifier"],
            scopes=tuple(data["scopes"]),
            created_at=created_at,
            browser_binding=browser_binding,
        )
