"""Server-side drafts on SQLite and PostgreSQL: saved as typed, revisions, no silent
overwrite, resume, amendments."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert

from plugin.errors import InputProblemError
from smart_app.drafts import (
    DraftNotFoundError,
    DraftOwner,
    DraftState,
    DraftStore,
    StaleDraftError,
)
from smart_app.store import Database
from smart_app.store.outbox_tables import SignedReportRow
from tests.smart_app.conftest import FakeClock
from tests.writeback.studies import library, lumbar_study

ISS = "https://ehr.example/fhir"
OWNER = DraftOwner(ISS, "lumbar-candidate", "Practitioner/spine-proceduralist")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
def drafts(database: Database, clock: FakeClock) -> DraftStore:
    return DraftStore(database, clock=clock, library=library())


async def test_a_new_draft_keeps_invalid_input_and_lists_its_problems(drafts: DraftStore) -> None:
    typed = {"levels": [{"level": "L4-L5", "pain_intensity": 12, "pain_location": "<script>é"}]}
    draft = await drafts.create(OWNER, typed)
    assert draft.revision == 1 and draft.state is DraftState.EDITING
    assert draft.study["levels"] == typed["levels"]  # nothing typed is lost
    assert draft.study["id"] == draft.study_id and draft.study_id.startswith("dg-")
    assert draft.study["patient"] == "Patient/lumbar-candidate"
    fields = {p.field for p in draft.problems}
    assert "levels[0].pain_intensity" in fields
    assert not draft.signable
    again = await drafts.get(OWNER, draft.id)
    assert again.study == draft.study and again.problems == draft.problems


async def test_a_valid_study_has_no_problems(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    assert draft.problems == ()
    assert draft.signable


async def test_each_save_makes_a_revision(drafts: DraftStore, clock: FakeClock) -> None:
    draft = await drafts.create(OWNER)
    clock.advance(5)
    saved = await drafts.save(OWNER, draft.id, revision=1, study=lumbar_study())
    assert saved.revision == 2
    assert saved.updated_at == draft.updated_at + 5
    assert saved.study["levels"][0]["level"] == "L3-L4"
    assert saved.study_id == draft.study_id  # a study keeps its id whatever the JSON says


async def test_a_save_from_a_stale_revision_is_refused_and_overwrites_nothing(
    drafts: DraftStore,
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    first = lumbar_study()
    first["post_discogram_ct"] = "first window"
    await drafts.save(OWNER, draft.id, revision=1, study=first)
    second = lumbar_study()
    second["post_discogram_ct"] = "second window"
    with pytest.raises(StaleDraftError) as refused:
        await drafts.save(OWNER, draft.id, revision=1, study=second)
    assert (refused.value.submitted, refused.value.current) == (1, 2)
    assert "revision 2" in refused.value.clinician
    stored = await drafts.get(OWNER, draft.id)
    assert stored.study["post_discogram_ct"] == "first window"


async def test_two_concurrent_saves_of_one_revision_one_wins(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    outcomes = await asyncio.gather(
        *(drafts.save(OWNER, draft.id, revision=1, study=lumbar_study()) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(1 for o in outcomes if isinstance(o, StaleDraftError)) == 3
    assert (await drafts.get(OWNER, draft.id)).revision == 2


async def test_drafts_are_only_seen_by_their_owner(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    strangers = [
        DraftOwner(ISS, "other-patient", OWNER.user_id),
        DraftOwner(ISS, OWNER.patient_id, "Practitioner/someone-else"),
        DraftOwner("https://other-ehr.example/fhir", OWNER.patient_id, OWNER.user_id),
    ]
    for stranger in strangers:
        with pytest.raises(DraftNotFoundError):
            await drafts.get(stranger, draft.id)
        with pytest.raises(DraftNotFoundError):
            await drafts.save(stranger, draft.id, revision=1, study=lumbar_study())
        assert await drafts.resume(stranger) is None


async def test_reopening_resumes_the_latest_unsigned_draft(
    drafts: DraftStore, clock: FakeClock
) -> None:
    older = await drafts.create(OWNER, lumbar_study())
    clock.advance(60)
    newer = await drafts.create(OWNER)
    clock.advance(60)
    await drafts.save(OWNER, older.id, revision=1, study=lumbar_study())
    resumed = await drafts.resume(OWNER)
    assert resumed is not None and resumed.id == older.id
    assert [d.id for d in await drafts.drafts(OWNER)] == [older.id, newer.id]


async def test_a_study_naming_another_patient_is_kept_with_a_problem(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study(patient="someone-else"))
    assert any(p.rule == "draft-patient" for p in draft.problems)
    same = await drafts.create(
        OWNER, lumbar_study() | {"patient": f"{ISS}/Patient/lumbar-candidate"}
    )
    assert not any(p.rule == "draft-patient" for p in same.problems)


async def test_a_draft_that_is_not_a_json_object_is_refused(drafts: DraftStore) -> None:
    with pytest.raises(InputProblemError) as refused:
        await drafts.create(OWNER, ["levels"])  # type: ignore[arg-type]
    assert refused.value.problems[0].field == "study"


async def _signed(
    database: Database, draft_study_id: str, version: int, study: dict[str, object]
) -> None:
    sessions = await database.ready()
    async with sessions.begin() as db:
        await db.execute(
            insert(SignedReportRow).values(
                id=str(uuid.uuid4()),
                draft_id="d",
                ehr_iss=ISS,
                patient_id=OWNER.patient_id,
                user_id=OWNER.user_id,
                study_key=draft_study_id,
                version=version,
                signed_at=0.0,
                document_type="18748-4",
                study_json=json.dumps(study),
                bundle_json="{}",
                content_hash="0" * 64,
            )
        )


async def test_amending_starts_from_the_latest_signed_version(
    drafts: DraftStore, database: Database
) -> None:
    study = lumbar_study("dg-amend")
    v2 = lumbar_study("dg-amend")
    v2["post_discogram_ct"] = "version two"
    await _signed(database, "dg-amend", 1, study)
    await _signed(database, "dg-amend", 2, v2)
    colleague = DraftOwner(ISS, OWNER.patient_id, "Practitioner/colleague")
    draft = await drafts.amend(colleague, "dg-amend")
    assert draft.based_on_version == 2 and draft.amendment
    assert draft.study["post_discogram_ct"] == "version two"
    assert draft.study_id == "dg-amend"
    assert (await drafts.amend(colleague, "dg-amend")).id == draft.id  # reopened, not doubled
    with pytest.raises(DraftNotFoundError):
        await drafts.amend(DraftOwner(ISS, "other-patient", OWNER.user_id), "dg-amend")
