"""Alembic environment of the CDS Hooks feedback table.

A history of its own (version table `cds_hooks_alembic_version`) beside the SMART app's in the
same database, as `smart_app/store/migrations/env.py` provides for. The service runs it at first
use (`FeedbackStore.ready`), handing over its connection in ``config.attributes["connection"]``;
the `alembic` command line works too, given ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from plugin.cds_hooks.feedback_table import feedback_metadata

__all__ = ["VERSION_TABLE"]

VERSION_TABLE = "cds_hooks_alembic_version"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=feedback_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=feedback_metadata,
            version_table=VERSION_TABLE,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("set sqlalchemy.url to migrate the CDS Hooks feedback table")
        asyncio.run(_run_online(url))


_main()
