"""The product's one migration history on SQLite and PostgreSQL: it builds exactly the tables
the models describe, and upgrading a database in use keeps its rows."""

from __future__ import annotations

from functools import partial
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect, text

import smart_app.store.drafts_tables
import smart_app.store.outbox_tables
import smart_app.workflow.candidacy_records  # noqa: F401  (their tables join the metadata)
from plugin.cds_hooks.tables import cds_metadata
from plugin.cds_hooks.token_id_store import TokenIdStore
from smart_app.clock import system_clock
from smart_app.drafts import DraftOwner, DraftStore
from smart_app.store import Database
from smart_app.store.database import MIGRATIONS_DIR
from smart_app.store.tables import metadata
from tests.conftest import on_database
from tests.writeback.studies import library

VERSION_TABLE = "smart_app_alembic_version"
OWNER = DraftOwner("https://ehr.example/fhir", "lumbar-candidate", "Practitioner/spine")


def _migrate(target: str, connection: Connection, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    if down:
        command.downgrade(config, target)
    else:
        command.upgrade(config, target)


def _models() -> MetaData:
    """Every table the product's models describe (the CDS Hooks tables keep their own)."""
    models = MetaData()
    for table in (
        *metadata.tables.values(),
        *cds_metadata.tables.values(),
    ):
        table.to_metadata(models)
    return models


def _differences(connection: Connection) -> list[Any]:
    found = compare_metadata(MigrationContext.configure(connection), _models())
    # The version table is Alembic's own, not a model's.
    return [d for d in found if not (d[0] == "remove_table" and d[1].name == VERSION_TABLE)]


def _draft_columns(connection: Connection) -> dict[str, bool]:
    return {c["name"]: c["nullable"] for c in inspect(connection).get_columns("study_drafts")}


async def test_the_migrations_build_what_the_models_describe(database_url: str) -> None:
    database = Database(database_url)
    await database.ready()
    await database.dispose()
    assert await on_database(database_url, _differences) == []
    columns = await on_database(database_url, _draft_columns)
    assert columns["editor"] is True and columns["editor_sequence"] is True


_ROW_AT_0005 = text(
    "insert into study_drafts (id, ehr_iss, patient_id, user_id, study_id, revision, state,"
    " study_json, problems_json, based_on_version, signed_version, created_at, updated_at)"
    " values ('d-1', :iss, :patient, :user, 'dg-kept', 4, 'editing',"
    ' \'{"id":"dg-kept","levels":[]}\', \'[]\', null, null, 1.0, 2.0)'
)


async def test_upgrading_a_database_at_0005_keeps_its_drafts(database_url: str) -> None:
    def at_0005_with_a_draft(connection: Connection) -> None:
        _migrate("0005", connection)
        assert "editor" not in _draft_columns(connection)
        connection.execute(
            _ROW_AT_0005, {"iss": OWNER.iss, "patient": OWNER.patient_id, "user": OWNER.user_id}
        )

    await on_database(database_url, at_0005_with_a_draft)
    database = Database(database_url)  # migrates to the head on first use
    try:
        drafts = DraftStore(database, clock=system_clock, library=library())
        kept = await drafts.get(OWNER, "d-1")
        assert (kept.revision, kept.study_id, kept.study["id"]) == (4, "dg-kept", "dg-kept")
        assert (kept.editor, kept.editor_sequence) == (None, None)
        saved = await drafts.save(
            OWNER, "d-1", revision=4, study={"levels": []}, editor="page", sequence=1
        )
        assert (saved.revision, saved.editor, saved.editor_sequence) == (5, "page", 1)
    finally:
        await database.dispose()
    # And back: the columns go, the draft stays.
    await on_database(database_url, partial(_migrate, "0005", down=True))
    rows = await on_database(
        database_url,
        lambda c: c.execute(text("select id, revision from study_drafts")).all(),
    )
    assert [tuple(r) for r in rows] == [("d-1", 5)]


_FEEDBACK_AT_0006 = text(
    "insert into cds_feedback (key, service_id, client_iss, card_uuid, outcome,"
    " accepted_suggestions, outcome_timestamp, received_at)"
    " values ('f-1', 'svc', 'https://ehr.example/fhir', 'card-1', 'accepted', '[]',"
    " '2026-11-23T14:30:00+00:00', 3.0)"
)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrading_a_database_at_0006_keeps_its_rows_and_adds_the_token_ids(
    database_url: str,
) -> None:
    def at_0006_with_rows(connection: Connection) -> None:
        _migrate("0006", connection)
        assert "cds_token_ids" not in _tables(connection)
        connection.execute(
            _ROW_AT_0005, {"iss": OWNER.iss, "patient": OWNER.patient_id, "user": OWNER.user_id}
        )
        connection.execute(_FEEDBACK_AT_0006)

    def kept(connection: Connection) -> list[tuple[Any, ...]]:
        drafts = connection.execute(text("select id, revision from study_drafts")).all()
        feedback = connection.execute(text("select key, card_uuid from cds_feedback")).all()
        return [tuple(r) for r in (*drafts, *feedback)]

    await on_database(database_url, at_0006_with_rows)
    token_ids = TokenIdStore(database_url)  # migrates to the head on first use
    try:
        assert await token_ids.first_use("iss", "jti", keep_until=100.0, now=0.0)
        assert not await token_ids.first_use("iss", "jti", keep_until=100.0, now=1.0)
    finally:
        await token_ids.dispose()
    assert await on_database(database_url, kept) == [("d-1", 4), ("f-1", "card-1")]
    # And back: the token ids go, the rows stay.
    await on_database(database_url, partial(_migrate, "0006", down=True))
    assert "cds_token_ids" not in await on_database(database_url, _tables)
    assert await on_database(database_url, kept) == [("d-1", 4), ("f-1", "card-1")]
