"""The SMART app's database: an async SQLAlchemy engine on `settings.database_url` (SQLite by
default, PostgreSQL via asyncpg), brought up to date with the Alembic migrations on first use.

Several `Database` objects may share one process (the app's stores, the CDS feedback and token
id stores): their migrations run one at a time, because Alembic's migration context is global
to the process."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from smart_app.store.private_files import ensure_private_folder, restrict_database_file

__all__ = ["MIGRATIONS_DIR", "Database", "sqlite_quick_commits"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _prepare_sqlite_file(url: str) -> None:
    # The file holds patient data: its folder is created 0700, the file itself 0600 (also
    # tightened when an older run left it open to other users).
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        ensure_private_folder(path.parent, "database_url")
        restrict_database_file(path)


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
                    async with _migration_lock(), engine.begin() as connection:
                        await connection.run_sync(_upgrade)
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
