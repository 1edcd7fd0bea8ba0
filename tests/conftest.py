"""Fixtures shared by every test folder: `database_url`, a fresh, empty database on SQLite and
on a real PostgreSQL server, so storage tests run on both.

The PostgreSQL server comes from ``DISCOGRAM_TEST_POSTGRES_URL`` (set by `.ci/postgres`, which
the test command uses). Without it the PostgreSQL cases are skipped locally, and fail under CI
(``CI=true``): there they must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
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
