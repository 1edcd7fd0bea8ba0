"""The two writes made on every CDS call — a JWT id, the cards returned — reaching the CDS
tables (`tables`) while the clinician waits: committed without waiting for the disk, each in
one transaction and one trip to the database.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from smart_app.store.database import Database

__all__ = ["CHECKPOINT_EVERY_WRITES", "DATABASE_ERRORS", "QuickWrites", "WriteResult"]

_T = TypeVar("_T")

#: What a database failure raises, from the async engine or from SQLite itself.
DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, OSError)

_log = logging.getLogger(__name__)

_SQLITE = sqlite.dialect()  # pysqlite: qmark parameters, as sqlite3 takes them
#: How long a write handed to the thread waits for another connection's write lock, seconds.
_SQLITE_BUSY_SECONDS = 5.0
#: Writes on the event loop between two checkpoints of the WAL into the database file (run in
#: the thread). About SQLite's own 1000 pages: each write here changes a few pages.
CHECKPOINT_EVERY_WRITES = 300


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: list[tuple[Any, ...]]  # what RETURNING gave
    rowcount: int


class QuickWrites:
    """Statements on the product database committed without waiting for the disk
    (`Database(quick_commits=True)`: seen by every worker at once, kept over a restart, lost
    only with the machine), each in one transaction of its own and one trip to the database,
    because a CDS call waits for them.

    - SQLite file: each statement is compiled once and run with sqlite3 itself, on the event
      loop: a commit without a sync is tens of microseconds, less than handing it to a thread
      and back (which the async driver does for begin, execute and commit each). What could
      block the loop is kept off it: another connection's write lock is not waited for (the
      write then goes to this object's thread, which waits), SQLite's automatic checkpoint
      (which syncs) is off on that connection and run in the thread every
      `CHECKPOINT_EVERY_WRITES` writes instead, and `bulk` statements (purges) always run there.
    - Otherwise (PostgreSQL): one statement on an autocommit connection, atomic on its own (a
      list of rows is one asyncpg executemany, atomic too): no BEGIN and COMMIT round trips.

    The schema comes from the product's migrations, run by `Database.ready` on first use."""

    def __init__(self, url: str) -> None:
        self._database = Database(url, quick_commits=True)
        parsed = make_url(url)
        self._sqlite_path: str | None = None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            self._sqlite_path = parsed.database
        self._compiled: dict[int, _CompiledForSqlite] = {}
        self._on_loop: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._in_thread: sqlite3.Connection | None = None  # used in `_thread` only
        self._writes_since_checkpoint = 0
        self._checkpoint: asyncio.Future[None] | None = None

    async def execute(
        self,
        statement: Executable,
        rows: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        bulk: bool = False,
    ) -> WriteResult:
        """Run `statement` with the parameters `rows` (a list: once per row, in one
        transaction) and commit. `bulk`: it may touch many rows (a purge), so never on the
        event loop. Raises one of DATABASE_ERRORS."""
        sessions = await self._database.ready()
        if self._sqlite_path is None:
            async with sessions() as db:
                connection = await db.connection(
                    execution_options={"isolation_level": "AUTOCOMMIT"}
                )
                result = await connection.execute(statement, rows)
                found = [tuple(row) for row in result] if result.returns_rows else []
                return WriteResult(found, result.rowcount)
        compiled = self._sqlite_statement(statement)
        values: tuple[Any, ...] | list[tuple[Any, ...]]
        if rows is None or isinstance(rows, Mapping):
            values = compiled.values(rows or {})
        else:
            values = [compiled.values(row) for row in rows]
        if not bulk:
            if self._on_loop is None:
                self._on_loop = _sqlite_connect(self._sqlite_path, on_loop=True)
            try:
                written = _write(self._on_loop, compiled.sql, values)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
                # Another connection is writing: wait for it in the thread, not on the loop.
            else:
                self._after_write_on_loop()
                return written
        return await self._run_in_thread(self._write_in_thread, compiled.sql, values)

    async def dispose(self) -> None:
        if self._checkpoint is not None:
            await asyncio.shield(self._checkpoint)
        if self._on_loop is not None:
            self._on_loop.close()
            self._on_loop = None
        if self._thread is not None:
            await self._run_in_thread(self._close_in_thread)
            thread, self._thread = self._thread, None
            thread.shutdown(wait=True)
        await self._database.dispose()

    def _after_write_on_loop(self) -> None:
        self._writes_since_checkpoint += 1
        if self._writes_since_checkpoint >= CHECKPOINT_EVERY_WRITES and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            self._writes_since_checkpoint = 0
            self._checkpoint = asyncio.ensure_future(
                self._run_in_thread(self._checkpoint_in_thread)
            )

    def _run_in_thread(self, work: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="cds-quick-writes")
        return asyncio.get_running_loop().run_in_executor(self._thread, work, *args)

    def _sqlite_statement(self, statement: Executable) -> _CompiledForSqlite:
        # Keyed by identity: the stores build their per-call statements once (kept beside the
        # compiled form, so an id is never that of another, later object).
        cached = self._compiled.get(id(statement))
        if cached is not None and cached.statement is statement:
            return cached
        compiled = statement.compile(dialect=_SQLITE)  # type: ignore[attr-defined]
        made = _CompiledForSqlite(
            statement,
            compiled.string,
            tuple(compiled.positiontup or ()),
            # Values bound in the statement itself (a purge's time), for what rows do not give.
            compiled.construct_params(_check=False),
        )
        if len(self._compiled) >= 64:  # one-off statements (a purge) must not pile up
            self._compiled.clear()
        self._compiled[id(statement)] = made
        return made

    def _thread_connection(self) -> sqlite3.Connection:
        if self._in_thread is None:
            self._in_thread = _sqlite_connect(str(self._sqlite_path), on_loop=False)
        return self._in_thread

    def _write_in_thread(
        self, sql: str, values: tuple[Any, ...] | list[tuple[Any, ...]]
    ) -> WriteResult:
        return _write(self._thread_connection(), sql, values)

    def _checkpoint_in_thread(self) -> None:
        # PASSIVE: copies what it can without waiting for, or blocking, anyone's writes.
        try:
            self._thread_connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # the next one catches up; SQLite's data is intact
            _log.warning("SQLite checkpoint of the CDS writes failed: %s", type(error).__name__)

    def _close_in_thread(self) -> None:
        if self._in_thread is not None:
            self._in_thread.close()
            self._in_thread = None


def _sqlite_connect(path: str, *, on_loop: bool) -> sqlite3.Connection:
    # isolation_level=None: the transactions are ours (BEGIN IMMEDIATE takes the write lock at
    # once, so a busy database is found before anything is written, never a failed upgrade
    # from reading to writing). On the loop a held lock is not waited for (timeout 0), and
    # the automatic checkpoint, which syncs the disk, is left to the thread.
    connection = sqlite3.connect(
        path,
        timeout=0.0 if on_loop else _SQLITE_BUSY_SECONDS,
        isolation_level=None,
        check_same_thread=False,
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    if on_loop:
        connection.execute("PRAGMA wal_autocheckpoint=0")
    return connection


def _write(
    connection: sqlite3.Connection, sql: str, values: tuple[Any, ...] | list[tuple[Any, ...]]
) -> WriteResult:
    """One transaction: a list of values runs the statement once for each."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        if isinstance(values, list):
            cursor = connection.executemany(sql, values)
        else:
            cursor = connection.execute(sql, values)
        found = [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        count = cursor.rowcount
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return WriteResult(found, count)


@dataclass(frozen=True, slots=True)
class _CompiledForSqlite:
    statement: Executable
    sql: str
    names: tuple[str, ...]  # of the ? parameters, in order
    bound: Mapping[str, Any]

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] if name in row else self.bound[name] for name in self.names)
