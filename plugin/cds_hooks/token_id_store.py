"""CDS client JWT ids already used, kept in the product's database (`settings.database_url`,
SQLite by default, PostgreSQL via asyncpg; table `cds_token_ids`, migration 0007), so every
worker process behind a load balancer refuses a replayed token, not only the one that saw it.

A first use is one statement — insert the id, or take over its row only when that row has
expired — so of two concurrent uses of one id, in this process or another, exactly one writes a
row and wins. Expired rows are deleted at most once a minute per store, in one DELETE of its
own transaction.

A database failure is a `ReplayCheckUnavailableError` (503): the token is not accepted without
the check, and the error says what failed without the token or its claims.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from sqlalchemy import Delete, Engine, create_engine, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.sql import Executable

from plugin.cds_hooks.errors import ReplayCheckUnavailableError
from plugin.cds_hooks.replay import PURGE_INTERVAL_SECONDS
from plugin.cds_hooks.tables import TokenIdRow
from plugin.errors import ConfigurationError
from smart_app.store.database import Database, sqlite_quick_commits

__all__ = ["TokenIdStore", "token_id_key"]

_log = logging.getLogger(__name__)

_BACKENDS = ("sqlite", "postgresql")


def token_id_key(iss: str, jti: str) -> str:
    """SHA-256 hex of the issuer and the id. JSON keeps the pair unambiguous ("a|b", "c" and
    "a", "b|c" differ) and, ASCII-escaped, encodes any string a JWT can carry."""
    return hashlib.sha256(json.dumps([iss, jti]).encode("ascii")).hexdigest()


def _failure(error: Exception) -> str:
    """What failed, for the log. The driver's own message, never SQLAlchemy's text of the
    statement and its parameters (a statement's parameters here are only a hash and a time, but
    the log should not depend on that)."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    message = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {message[:200]}" if message else type(cause).__name__


class TokenIdStore:
    """`replay.SeenTokenIds` on the product database."""

    def __init__(self, url: str) -> None:
        backend = make_url(url).get_backend_name()
        if backend not in _BACKENDS:
            raise ConfigurationError(
                f"the CDS JWT id check needs SQLite or PostgreSQL, not {backend!r}"
            )
        self._backend = backend
        # An id lost with the last commits before a power failure only reopens a replay for
        # a token of minutes: not worth a disk sync on every CDS call.
        self._database = Database(url, quick_commits=True)
        self._next_purge = 0.0
        # SQLite on a file: the one statement runs on a plain sqlite3 connection in a worker
        # thread — one hand-off, where the async driver's begin, execute and commit are three,
        # and a CDS call waits on each.
        self._sqlite_file: Engine | None = None
        parsed = make_url(url)
        if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
            self._sqlite_file = create_engine(
                parsed.set(drivername="sqlite"), connect_args={"check_same_thread": False}
            )
            sqlite_quick_commits(self._sqlite_file)

    async def first_use(self, iss: str, jti: str, *, keep_until: float, now: float) -> bool:
        """Record (iss, jti) until `keep_until`; False when it is recorded and not yet expired.
        Raises ReplayCheckUnavailableError when the database cannot answer."""
        try:
            sessions = await self._database.ready()
            if now >= self._next_purge:
                await self._purge_quietly(now)
            statement = self._first_use(token_id_key(iss, jti), keep_until, now)
            if self._sqlite_file is not None:
                return await asyncio.to_thread(_written, self._sqlite_file, statement)
            async with sessions.begin() as db:
                connection = await db.connection()
                return (await connection.execute(statement)).first() is not None
        except (SQLAlchemyError, OSError) as error:
            # Not chained: a traceback logged further up must not carry the statement's text.
            raise ReplayCheckUnavailableError(_failure(error)) from None

    async def purge(self, now: float) -> int:
        """Delete the ids expired by `now`; returns how many."""
        self._next_purge = now + PURGE_INTERVAL_SECONDS
        try:
            sessions = await self._database.ready()
            async with sessions.begin() as db:
                deleted = await (await db.connection()).execute(self._purge(now))
        except (SQLAlchemyError, OSError) as error:
            raise ReplayCheckUnavailableError(_failure(error)) from None
        return deleted.rowcount

    async def _purge_quietly(self, now: float) -> None:
        # Its own transaction, never the first use's: two workers' DELETEs may deadlock on
        # PostgreSQL, and a failed purge only keeps expired rows a minute longer — it must not
        # refuse a good token. `purge` claims the next time before its await, so concurrent
        # calls purge once.
        try:
            await self.purge(now)
        except ReplayCheckUnavailableError as error:
            _log.warning("expired CDS JWT ids not purged: %s", error.why)

    async def dispose(self) -> None:
        await self._database.dispose()
        if self._sqlite_file is not None:
            self._sqlite_file.dispose()

    def _first_use(self, key: str, keep_until: float, now: float) -> Executable:
        # Insert, or take over the row only when it has expired; RETURNING yields the key
        # exactly when a row was written. On a conflict PostgreSQL waits for the other
        # transaction and SQLite serialises writers, so the WHERE sees the winner's row.
        insert = sqlite_insert if self._backend == "sqlite" else postgresql_insert
        statement = insert(TokenIdRow).values(key=key, expires_at=keep_until)
        return statement.on_conflict_do_update(
            index_elements=[TokenIdRow.key],
            set_={"expires_at": statement.excluded.expires_at},
            where=TokenIdRow.expires_at <= now,
        ).returning(TokenIdRow.key)

    @staticmethod
    def _purge(now: float) -> Delete:
        return delete(TokenIdRow).where(TokenIdRow.expires_at <= now)


def _written(engine: Engine, statement: Executable) -> bool:
    """Run the first-use statement in its own transaction; whether it wrote a row."""
    with engine.begin() as connection:
        return connection.execute(statement).first() is not None
