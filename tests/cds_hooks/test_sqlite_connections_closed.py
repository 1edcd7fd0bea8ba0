"""The test kit's `sqlite_connections_closed` (tests/conftest.py), which the CDS store and app
fixtures use: an aiosqlite connection whose thread still has an answer to send when the test's
event loop closes raises "Event loop is closed" in that thread, reported later against another
test. These show the hazard, that waiting removes it, and that a connection left open is named.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from tests.conftest import sqlite_connection_threads, wait_for_sqlite_connections_closed


class _SlowToFail(sqlite3.Connection):
    """A database that takes a while to refuse, so the connection's thread is still busy with
    it when the caller has given up and its event loop closes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.3)
        raise sqlite3.OperationalError("unable to open database file")


async def _give_up_on_a_connection(database: Path, *, wait: bool) -> None:
    """Stop waiting for a connection to open: aiosqlite then queues the thread's stop without
    awaiting it, as it also does when a connection fails to open."""
    opened_before = sqlite_connection_threads()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(aiosqlite.connect(database, factory=_SlowToFail), 0.05)
    if wait:
        await wait_for_sqlite_connections_closed(opened_before)


def _thread_errors(
    monkeypatch: pytest.MonkeyPatch, database: Path, *, wait: bool
) -> list[BaseException]:
    """The exceptions raised in connection threads when the event loop closes after `wait`."""
    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    opened_before = sqlite_connection_threads()
    asyncio.run(_give_up_on_a_connection(database, wait=wait))
    for thread in sqlite_connection_threads() - opened_before:
        thread.join(10)
    return [error for error in errors if error is not None]


def test_a_connection_still_closing_when_its_loop_closes_fails_in_its_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    errors = _thread_errors(monkeypatch, tmp_path / "db.sqlite3", wait=False)
    assert [str(error) for error in errors] == ["Event loop is closed"]


def test_waiting_for_the_connections_to_close_first_leaves_no_thread_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _thread_errors(monkeypatch, tmp_path / "db.sqlite3", wait=True) == []


async def test_a_failed_connection_has_closed_once_waited_for(tmp_path: Path) -> None:
    opened_before = sqlite_connection_threads()
    with pytest.raises(sqlite3.OperationalError):
        await aiosqlite.connect(tmp_path)  # a folder, not a database file
    await wait_for_sqlite_connections_closed(opened_before, seconds=5.0)
    assert sqlite_connection_threads() <= opened_before


async def test_a_connection_left_open_is_named(tmp_path: Path) -> None:
    opened_before = sqlite_connection_threads()
    connection = await aiosqlite.connect(tmp_path / "db.sqlite3")
    try:
        (thread,) = sqlite_connection_threads() - opened_before
        with pytest.raises(pytest.fail.Exception) as caught:
            await wait_for_sqlite_connections_closed(opened_before, seconds=0.2)
        assert "SQLite connections still open 0.2 s after the test" in str(caught.value)
        assert thread.name in str(caught.value)
    finally:
        await connection.close()
