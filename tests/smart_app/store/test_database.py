import asyncio
import os
import sqlite3
import stat
import sys
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


#: A worker process: readies the database once `go` exists (so all start within a moment).
_WORKER = """
import asyncio, pathlib, sys, time
from smart_app.store import Database

async def main(url: str, go: pathlib.Path) -> None:
    while not go.exists():
        time.sleep(0.005)
    database = Database(url)
    try:
        await database.ready()
    finally:
        await database.dispose()

print("waiting", flush=True)
asyncio.run(main(sys.argv[1], pathlib.Path(sys.argv[2])))
"""


async def test_workers_started_together_on_a_fresh_database_migrate_in_turn(
    database_url: str, tmp_path: Path
) -> None:
    # Several `discogram serve` processes may share one database, each migrating at start: the
    # process-wide lock cannot order them, the database's own lock must (the later finds the
    # schema current). `database_url` runs this on SQLite and on the tests' PostgreSQL server.
    go = tmp_path / "go"
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WORKER,
            database_url,
            str(go),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert await asyncio.wait_for(worker.stdout.readline(), timeout=60) == b"waiting\n"
    go.touch()
    results = [await asyncio.wait_for(w.communicate(), timeout=120) for w in workers]
    errors = [stderr.decode()[-600:] for _, stderr in results]
    assert [w.returncode for w in workers] == [0, 0, 0], errors
    database = Database(database_url)
    try:
        sessions = await database.ready()
        async with sessions() as db:
            version = (
                await db.execute(text("select version_num from smart_app_alembic_version"))
            ).scalar_one()
    finally:
        await database.dispose()
    assert version == _head_revision()
