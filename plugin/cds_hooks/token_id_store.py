"""CDS client JWT ids already used, kept in the product's database (`settings.database_url`,
SQLite by default, PostgreSQL via asyncpg; table `cds_token_ids`, migration 0007), so every
worker process behind a load balancer refuses a replayed token, not only the one that saw it.

A first use is one statement — insert the id, or take over its row only when that row has
expired — so of two concurrent uses of one id, in this process or another, exactly one writes a
row and wins. It is committed before the call goes on (`quick_writes.QuickWrites`: without a disk
sync, in one trip to the database). Expired rows are deleted at most once a minute per store, in
one DELETE of its own transaction, in the background: the call that starts it does not wait.

A database failure is a `ReplayCheckUnavailableError` (503): the token is not accepted without
the check, and the error says what failed without the token or its claims.
"""

from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import Delete, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from plugin.cds_hooks.background_purge import BackgroundPurge
from plugin.cds_hooks.errors import ReplayCheckUnavailableError
from plugin.cds_hooks.quick_writes import DATABASE_ERRORS, QuickWrites
from plugin.cds_hooks.tables import TokenIdRow
from plugin.errors import ConfigurationError

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


def _first_use_statement(backend: str) -> Executable:
    """Insert the id, or take over its row only when it has expired; RETURNING yields the key
    exactly when a row was written. On a conflict PostgreSQL waits for the other transaction and
    SQLite serialises writers, so the WHERE sees the winner's row. Built once: building it costs
    more than running it."""
    insert = sqlite_insert if backend == "sqlite" else postgresql_insert
    statement = insert(TokenIdRow).values(key=bindparam("key"), expires_at=bindparam("expires_at"))
    return statement.on_conflict_do_update(
        index_elements=[TokenIdRow.key],
        set_={"expires_at": statement.excluded.expires_at},
        where=TokenIdRow.expires_at <= bindparam("now"),
    ).returning(TokenIdRow.key)


class TokenIdStore:
    """`replay.SeenTokenIds` on the product database."""

    def __init__(self, url: str) -> None:
        backend = make_url(url).get_backend_name()
        if backend not in _BACKENDS:
            raise ConfigurationError(
                f"the CDS JWT id check needs SQLite or PostgreSQL, not {backend!r}"
            )
        # An id lost with the last commits before a power failure only reopens a replay for
        # a token of minutes: not worth a disk sync on every CDS call.
        self._writes = QuickWrites(url)
        self._first_use = _first_use_statement(backend)
        self._purges = BackgroundPurge(self._purge_quietly)

    async def first_use(self, iss: str, jti: str, *, keep_until: float, now: float) -> bool:
        """Record (iss, jti) until `keep_until`; False when it is recorded and not yet expired.
        Raises ReplayCheckUnavailableError when the database cannot answer."""
        self._purges.start_if_due(now)
        parameters = {"key": token_id_key(iss, jti), "expires_at": keep_until, "now": now}
        try:
            written = await self._writes.execute(self._first_use, parameters)
        except DATABASE_ERRORS as error:
            # Not chained: a traceback logged further up must not carry the statement's text.
            raise ReplayCheckUnavailableError(_failure(error)) from None
        return bool(written.rows)

    async def purge(self, now: float) -> int:
        """Delete the ids expired by `now`; returns how many."""
        self._purges.claim(now)
        try:
            deleted = await self._writes.execute(self._purge(now), bulk=True)
        except DATABASE_ERRORS as error:
            raise ReplayCheckUnavailableError(_failure(error)) from None
        return deleted.rowcount

    async def purged(self) -> None:
        """Wait for the purge a first use started, if any (dispose; tests)."""
        await self._purges.finished()

    async def _purge_quietly(self, now: float) -> None:
        # Its own transaction, never the first use's: two workers' DELETEs may deadlock on
        # PostgreSQL, and a failed purge only keeps expired rows a minute longer — it must not
        # refuse a good token.
        try:
            await self.purge(now)
        except ReplayCheckUnavailableError as error:
            _log.warning("expired CDS JWT ids not purged: %s", error.why)

    async def dispose(self) -> None:
        await self.purged()
        await self._writes.dispose()

    @staticmethod
    def _purge(now: float) -> Delete:
        return delete(TokenIdRow).where(TokenIdRow.expires_at <= now)
