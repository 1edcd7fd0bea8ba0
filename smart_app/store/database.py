"""The SMART app's database: an async SQLAlchemy engine on `settings.database_url` (SQLite by
default, PostgreSQL via asyncpg), brought up to date with the Alembic migrations on first use.

Several `Database` objects may share one process (the app's stores, the CDS feedback and token
id stores): their migrations run one at a time, because Alembic's migration context is global
to the process. Several processes (workers) may share one database: the migration also holds
the database's own lock (a PostgreSQL advisory lock, an exclusive SQLite transaction), so the
later worker finds the schema current instead of creating the same tables again."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from smart_app.store.private_files import ensure_private_folder, restrict_database_file

__all__ = [
    "MIGRATIONS_DIR",
    "MIGRATION_LOCK_KEY",
    "Database",
    "DatabaseUnreachableError",
    "check_connection",
    "sqlite_quick_commits",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The PostgreSQL advisory lock key held while the app's tables are migrated: one fixed number
#: for every process of the product (its value means nothing; it must only never change).
MIGRATION_LOCK_KEY = 0x6469_7363_6F67_7261  # "discogra" in ASCII


class DatabaseUnreachableError(Exception):
    """The database cannot be connected to (down, unknown host, login refused). `reason` is
    the server's or the system's words, never the URL's password."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unreachable(exc: DBAPIError | OSError, url: str) -> DatabaseUnreachableError:
    reason = str(exc.orig) if isinstance(exc, DBAPIError) else exc.strerror or str(exc)
    password = make_url(url).password
    if password:
        # Drivers do not echo it today; this keeps it out of a later driver's message too.
        reason = reason.replace(str(password), "***")
    return DatabaseUnreachableError(reason)


def _prepare_sqlite_file(url: str) -> None:
    # The file holds patient data: its folder is created 0700, the file itself 0600 (also
    # tightened when an older run left it open to other users).
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        ensure_private_folder(path.parent, "database_url")
        restrict_database_file(path)


async def check_connection(url: str) -> None:
    """Connect to `url` once (making a SQLite file's folder and file first, as `ready()` does),
    so a server that is down or refuses the login is reported before the app starts. Raises
    DatabaseUnreachableError."""
    _prepare_sqlite_file(url)
    engine = create_async_engine(url)
    try:
        connection = await engine.connect()
    except (DBAPIError, OSError) as exc:
        raise _unreachable(exc, url) from None
    else:
        await connection.close()
    finally:
        await engine.dispose()


#: How long a worker waits for another's SQLite migration (SQLite's own default is 5 s).
_SQLITE_MIGRATION_WAIT_MS = 600_000


async def _lock_out_other_workers(connection: AsyncConnection) -> int | None:
    """Take the database's own lock for this migration's transaction, so a worker starting at
    the same moment waits and then finds the schema current. Returns SQLite's busy timeout to
    restore after the transaction (None on PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        )
        return None
    # SQLite: an exclusive transaction (the driver starts none before DDL), waited for longer
    # than a query would be.
    saved = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
    await connection.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_MIGRATION_WAIT_MS}")
    await connection.exec_driver_sql("BEGIN EXCLUSIVE")
    return int(saved)


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


# One lock per event loop (an asyncio.Lock belongs to the loop it is first used in).
_MIGRATING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _migration_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _MIGRATING.get(loop)
    if lock is None:
        lock = _MIGRATING[loop] = asyncio.Lock()
    return lock


def sqlite_quick_commits(engine: Engine) -> None:
    """`Database(quick_commits=True)`'s SQLite settings, on every connection of `engine`."""

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class Database:
    """Engine and session factory; `ready()` migrates once, lazily, so the app works whether
    or not its host runs the ASGI lifespan (the sandbox mounts it as a sub-application).

    `quick_commits`: this engine's commits may be lost if the machine itself fails (never
    half-written) — for records worth less than their latency. SQLite then runs in WAL mode
    (the file's journal mode; WAL keeps every other connection's commits as durable as before)
    with this engine's connections syncing at checkpoints only; PostgreSQL commits without
    waiting for the WAL flush. The default keeps full durability (drafts, the outbox, the
    ledger)."""

    def __init__(self, url: str, *, quick_commits: bool = False) -> None:
        self.url = url
        self._quick_commits = quick_commits
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._ready = asyncio.Lock()

    async def ready(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is not None:
            return self._sessions
        async with self._ready:
            if self._sessions is None:
                _prepare_sqlite_file(self.url)
                backend = make_url(self.url).get_backend_name()
                connect_args: dict[str, Any] = {}
                if self._quick_commits and backend == "postgresql":
                    connect_args["server_settings"] = {"synchronous_commit": "off"}
                engine = create_async_engine(self.url, connect_args=connect_args)
                if self._quick_commits and backend == "sqlite":
                    sqlite_quick_commits(engine.sync_engine)
                try:
                    async with _migration_lock():
                        connection = await engine.connect()
                        try:
                            async with connection.begin():
                                busy_timeout = await _lock_out_other_workers(connection)
                                await connection.run_sync(_upgrade)
                            if busy_timeout is not None:
                                await connection.exec_driver_sql(
                                    f"PRAGMA busy_timeout = {busy_timeout}"
                                )
                        finally:
                            await connection.close()
                except BaseException:
                    # Not kept: its pooled connection would otherwise be left to the GC.
                    await engine.dispose()
                    raise
                self._engine = engine
                self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        return self._sessions

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessions = None
