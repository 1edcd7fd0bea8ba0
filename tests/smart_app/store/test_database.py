import sqlite3
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

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
