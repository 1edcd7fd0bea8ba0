"""The outbox on SQLite and PostgreSQL: drafts, signing and the store over one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from smart_app.drafts import DraftOwner, DraftStore
from smart_app.outbox import OutboxStore, SessionRefs, SignedVersion, SigningService
from smart_app.store import Database
from smart_app.token_encryption import TokenCipher

# The sandbox EHR rig of the fault tests, for the tests writing to a sandbox chart.
from tests.faults.conftest import make, rig_folder, signing_key_file  # noqa: F401
from tests.smart_app.conftest import FakeClock
from tests.writeback.studies import library, lumbar_study

ISS = "https://ehr.example/fhir"
OWNER = DraftOwner(ISS, "lumbar-candidate", "Practitioner/spine-proceduralist")
SESSION_ID = "session-id-that-must-not-be-stored-in-clear"


@dataclass
class Outbox:
    database: Database
    clock: FakeClock
    refs: SessionRefs
    drafts: DraftStore
    signing: SigningService
    store: OutboxStore
    signed_events: list[None]

    async def sign(self, owner: DraftOwner = OWNER, **changes: Any) -> SignedVersion:
        """Sign a new study (the drafts give it its own id)."""
        draft = await self.drafts.create(owner, lumbar_study() | changes)
        return await self.signing.sign(
            owner, draft.id, revision=draft.revision, session_id=SESSION_ID
        )


@pytest.fixture
async def outbox(database_url: str, clock: FakeClock) -> AsyncIterator[Outbox]:
    """On SQLite and on PostgreSQL."""
    async with outbox_on(database_url, clock) as made:
        yield made


@pytest.fixture
async def sqlite_outbox(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Outbox]:
    """On SQLite only: for tests of what is sent, not of how it is stored."""
    async with outbox_on(f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite3'}", clock) as made:
        yield made


@asynccontextmanager
async def outbox_on(database_url: str, clock: FakeClock) -> AsyncIterator[Outbox]:
    database = Database(database_url)
    refs = SessionRefs(TokenCipher([Fernet.generate_key()]))
    drafts = DraftStore(database, clock=clock, library=library())
    events: list[None] = []
    signing = SigningService(
        database,
        drafts,
        clock=clock,
        library=library(),
        refs=refs,
        on_signed=lambda: events.append(None),
    )
    yield Outbox(database, clock, refs, drafts, signing, OutboxStore(database, clock=clock), events)
    await database.dispose()
