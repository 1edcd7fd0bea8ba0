"""Fixtures shared by every test folder: `database_url`, a fresh, empty database on SQLite and
on a real PostgreSQL server, so storage tests run on both; `sqlite_connections_closed`, for a
test whose SQLite connections must all have finished closing before its event loop closes.

The PostgreSQL server comes from ``DISCOGRAM_TEST_POSTGRES_URL`` (set by `.ci/postgres`, which
the test command uses). Without it the PostgreSQL cases are skipped locally, and fail under CI
(``CI=true``): there they must run.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_URL_ENV = "DISCOGRAM_TEST_POSTGRES_URL"
#: CI runs with shared/ beside the project and a PostgreSQL server: what needs them must run
#: there, never skip.
UNDER_CI = os.environ.get("CI", "").lower() == "true"


#: aiosqlite runs each connection in a thread of its own, named after its target function.
_SQLITE_WORKER = "(_connection_worker_thread)"


def sqlite_connection_threads() -> set[threading.Thread]:
    """The worker threads of the aiosqlite connections not yet closed, one per connection."""
    return {thread for thread in threading.enumerate() if thread.name.endswith(_SQLITE_WORKER)}


async def wait_for_sqlite_connections_closed(
    opened_before: Collection[threading.Thread], seconds: float = 5.0
) -> None:
    """Wait, with the event loop still open, until every aiosqlite connection opened since
    `opened_before` was taken has closed; fail naming those still open after `seconds` seconds.

    Why: a connection's thread answers each call through the event loop it was made on. Once
    that loop is closed, its last answer raises RuntimeError ("Event loop is closed") in the
    thread, reported later against whichever test runs then. aiosqlite queues that answer without
    awaiting it when a connection fails to open, so a test may end before the thread has sent it.
    """
    deadline = time.monotonic() + seconds
    for thread in sqlite_connection_threads() - set(opened_before):
        await asyncio.to_thread(thread.join, max(0.0, deadline - time.monotonic()))
    still_open = sorted(thread.name for thread in sqlite_connection_threads() - set(opened_before))
    if still_open:
        pytest.fail(
            f"SQLite connections still open {seconds:g} s after the test: {', '.join(still_open)} "
            "(close every store, engine and app runtime the test made; a fixture that closes "
            "one should itself request `sqlite_connections_closed`, so the check runs after it)",
            pytrace=False,
        )


@pytest.fixture
async def sqlite_connections_closed() -> AsyncIterator[None]:
    """After the test, and before its event loop closes, every aiosqlite connection it opened
    has finished closing (see `wait_for_sqlite_connections_closed`)."""
    opened_before = sqlite_connection_threads()
    yield
    await wait_for_sqlite_connections_closed(opened_before)


def _postgres_server_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if url:
        return url
    if UNDER_CI:
        pytest.fail(
            f"{POSTGRES_URL_ENV} is not set: under CI the storage tests must also run on "
            "PostgreSQL (run the suite through .ci/postgres, as .ci/test does)",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL storage tests need {POSTGRES_URL_ENV} (run through .ci/postgres)")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A SQLAlchemy async URL of an empty database, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'discogram.sqlite3'}"
        return
    server = make_url(_postgres_server_url())
    name = f"discogram_test_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def on_database(url: str, work: Callable[[Connection], Any]) -> Any:
    """Run `work` on a connection of its own, beside the stores under test."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()
