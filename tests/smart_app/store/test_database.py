import asyncio
import os
import sqlite3
import stat
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from smart_app.store import Database
from smart_app.store.database import MIGRATIONS_DIR


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def test_migrations_create_the_tables_once_in_their_own_version_table(
    database: Database, tmp_path: Path
) -> None:
    await database.ready()
    await database.ready()  # idempotent
    path = tmp_path / "nested" / "app.sqlite3"
    assert path.exists()  # the folder was created
    with sqlite3.connect(path) as connection:
        tables = {
            r[0] for r in connection.execute("select name from sqlite_master where type='table'")
        }
        version = connection.execute("select version_num from smart_app_alembic_version").fetchall()
    assert {"smart_launch_records", "smart_sessions", "smart_app_alembic_version"} <= tables
    assert "alembic_version" not in tables  # left free for other parts of the product
    assert version == [(_head_revision(),)]


async def test_a_second_app_on_the_same_database_finds_it_migrated(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    first, second = Database(url), Database(url)
    await first.ready()
    await second.ready()
    await first.dispose()
    await second.dispose()


async def test_databases_readied_at_once_migrate_one_at_a_time(database_url: str) -> None:
    # Alembic's migration context is global to the process: stores of one process that
    # start together (the app's, the CDS feedback and token id stores) must not interleave.
    databases = [Database(database_url), Database(database_url, quick_commits=True)]
    databases.append(Database(database_url))
    try:
        await asyncio.wait_for(asyncio.gather(*(d.ready() for d in databases)), timeout=60)
    finally:
        for database in databases:
            await database.dispose()


async def test_quick_commits_put_sqlite_in_wal_mode_without_weakening_other_connections(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.sqlite3'}"
    quick, durable = Database(url, quick_commits=True), Database(url)
    try:
        for database, synchronous in ((quick, 1), (durable, 2)):  # NORMAL, FULL
            sessions = await database.ready()
            async with sessions() as db:
                mode = (await db.execute(text("PRAGMA journal_mode"))).scalar_one()
                level = (await db.execute(text("PRAGMA synchronous"))).scalar_one()
            assert (mode, level) == ("wal", synchronous)
    finally:
        await quick.dispose()
        await durable.dispose()


async def test_the_sqlite_file_and_its_journal_are_the_service_accounts_only(
    tmp_path: Path,
) -> None:
    # Drafts and signed reports live here: even under umask 022 no other user may read them.
    saved = os.umask(0o022)
    try:
        path = tmp_path / "var" / "discogram.sqlite3"
        database = Database(f"sqlite+aiosqlite:///{path}", quick_commits=True)  # WAL mode
        try:
            sessions = await database.ready()
            async with sessions() as db:
                await db.execute(text("select 1"))
                # While it is open: SQLite removes the -wal and -shm files on the last close.
                modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        finally:
            await database.dispose()
    finally:
        os.umask(saved)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert modes == {
        "discogram.sqlite3": 0o600,
        "discogram.sqlite3-wal": 0o600,
        "discogram.sqlite3-shm": 0o600,
    }


async def test_an_existing_sqlite_file_open_to_others_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    first = Database(f"sqlite+aiosqlite:///{path}")
    await first.ready()
    await first.dispose()
    path.chmod(0o644)  # as an earlier version left it
    second = Database(f"sqlite+aiosqlite:///{path}")
    await second.ready()
    await second.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
