"""Server-side drafts on SQLite and PostgreSQL: saved as typed, revisions, no silent
overwrite, one page's saves in any order, resume, amendments."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, update

from plugin.errors import InputProblemError
from smart_app.drafts import (
    DraftNotFoundError,
    DraftOwner,
    DraftState,
    DraftStore,
    StaleDraftError,
)
from smart_app.outbox import SessionRefs, SigningService
from smart_app.store import Database
from smart_app.store.drafts_tables import DraftRow
from smart_app.store.outbox_tables import SignedReportRow
from smart_app.token_encryption import TokenCipher
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


# -- one page's saves in any order (editor and sequence) --------------------------------------
# The results page is an editor (a token per render) counting the saves it sends. Leaving the
# page sends its last state while an earlier save may still be on its way: whichever arrives
# first, the page's latest state is what stays, and another window's change is never
# overwritten silently.

PAGE = "page-one-render-token"
OTHER_PAGE = "another-window-token"


def typed(ct: str) -> dict[str, object]:
    study = lumbar_study()
    study["post_discogram_ct"] = ct
    return study


async def test_a_save_records_the_page_that_made_it(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    assert (draft.editor, draft.editor_sequence) == (None, None)
    saved = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("first"), editor=PAGE, sequence=1
    )
    assert (saved.revision, saved.editor, saved.editor_sequence) == (2, PAGE, 1)
    # A save from no page (the setup page, a script) clears it.
    other = await drafts.save(OWNER, draft.id, revision=2, study=typed("setup"))
    assert (other.revision, other.editor, other.editor_sequence) == (3, None, None)


async def test_leaving_the_page_after_its_save_landed_keeps_the_later_state(
    drafts: DraftStore,
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    in_flight = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("typed"), editor=PAGE, sequence=1
    )
    assert in_flight.revision == 2
    # The save sent on leaving still names revision 1 (the page had not heard back yet).
    flushed = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("typed and more"), editor=PAGE, sequence=2
    )
    assert flushed.revision == 3
    stored = await drafts.get(OWNER, draft.id)
    assert stored.study["post_discogram_ct"] == "typed and more"
    assert (stored.editor, stored.editor_sequence) == (PAGE, 2)


async def test_leaving_the_page_before_its_save_landed_keeps_the_later_state(
    drafts: DraftStore, clock: FakeClock
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    flushed = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("typed and more"), editor=PAGE, sequence=2
    )
    clock.advance(1)
    # The earlier save arrives late: nothing written, the stored draft answered.
    late = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("typed"), editor=PAGE, sequence=1
    )
    assert late == flushed
    stored = await drafts.get(OWNER, draft.id)
    assert stored.revision == 2 and stored.updated_at == flushed.updated_at
    assert stored.study["post_discogram_ct"] == "typed and more"
    assert stored.editor_sequence == 2


async def test_a_repeated_count_of_the_same_page_writes_nothing(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    await drafts.save(OWNER, draft.id, revision=1, study=typed("first"), editor=PAGE, sequence=3)
    again = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("replayed"), editor=PAGE, sequence=3
    )
    assert again.revision == 2 and again.study["post_discogram_ct"] == "first"


async def test_the_page_whose_save_failed_is_saved_on_leaving(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    # Save 1 never reached the server; the one sent on leaving is made from the same revision.
    flushed = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("typed and more"), editor=PAGE, sequence=2
    )
    assert flushed.revision == 2 and flushed.study["post_discogram_ct"] == "typed and more"


@pytest.mark.parametrize(
    ("editor", "sequence"),
    [(OTHER_PAGE, 9), (None, None), (PAGE, None), (None, 9)],
    ids=["another-page", "no-page", "token-without-count", "count-without-token"],
)
async def test_a_stale_save_from_anywhere_but_the_same_page_is_refused(
    drafts: DraftStore, editor: str | None, sequence: int | None
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    await drafts.save(OWNER, draft.id, revision=1, study=typed("mine"), editor=PAGE, sequence=1)
    with pytest.raises(StaleDraftError) as refused:
        await drafts.save(
            OWNER, draft.id, revision=1, study=typed("theirs"), editor=editor, sequence=sequence
        )
    assert (refused.value.submitted, refused.value.current) == (1, 2)
    assert (await drafts.get(OWNER, draft.id)).study["post_discogram_ct"] == "mine"


async def test_the_page_cannot_write_over_another_pages_change_made_after_it(
    drafts: DraftStore,
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    await drafts.save(OWNER, draft.id, revision=1, study=typed("mine"), editor=PAGE, sequence=1)
    await drafts.save(OWNER, draft.id, revision=2, study=typed("setup page"))  # no page named
    with pytest.raises(StaleDraftError):
        await drafts.save(
            OWNER, draft.id, revision=2, study=typed("mine again"), editor=PAGE, sequence=2
        )
    await drafts.save(
        OWNER, draft.id, revision=3, study=typed("theirs"), editor=OTHER_PAGE, sequence=1
    )
    with pytest.raises(StaleDraftError):
        await drafts.save(
            OWNER, draft.id, revision=2, study=typed("mine again"), editor=PAGE, sequence=3
        )
    assert (await drafts.get(OWNER, draft.id)).study["post_discogram_ct"] == "theirs"


async def test_later_states_of_one_page_racing_keep_the_latest(drafts: DraftStore) -> None:
    for _ in range(3):
        draft = await drafts.create(OWNER, lumbar_study())
        await drafts.save(OWNER, draft.id, revision=1, study=typed("1"), editor=PAGE, sequence=1)
        outcomes = await asyncio.gather(
            *(
                drafts.save(
                    OWNER, draft.id, revision=1, study=typed(str(n)), editor=PAGE, sequence=n
                )
                for n in (4, 2, 3)
            )
        )
        assert all(o.id == draft.id for o in outcomes)  # none refused: all the same page
        stored = await drafts.get(OWNER, draft.id)
        assert stored.study["post_discogram_ct"] == "4" and stored.editor_sequence == 4


async def test_two_pages_racing_from_one_revision_one_wins(drafts: DraftStore) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    outcomes = await asyncio.gather(
        *(
            drafts.save(
                OWNER, draft.id, revision=1, study=typed(f"page {n}"), editor=f"p{n}", sequence=1
            )
            for n in range(4)
        ),
        return_exceptions=True,
    )
    assert sum(1 for o in outcomes if isinstance(o, StaleDraftError)) == 3
    stored = await drafts.get(OWNER, draft.id)
    winner = next(o for o in outcomes if not isinstance(o, BaseException))
    assert stored.revision == 2 and stored.editor == winner.editor
    assert stored.study["post_discogram_ct"] == f"page {str(winner.editor)[1:]}"


@pytest.fixture
def signing(database: Database, drafts: DraftStore, clock: FakeClock) -> SigningService:
    return SigningService(
        database,
        drafts,
        clock=clock,
        library=library(),
        refs=SessionRefs(TokenCipher([Fernet.generate_key()])),
    )


async def test_a_page_from_before_a_signature_cannot_write_over_it(
    drafts: DraftStore, signing: SigningService
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    typed_page = await drafts.save(
        OWNER, draft.id, revision=1, study=typed("signed text"), editor=PAGE, sequence=1
    )
    await signing.sign(OWNER, draft.id, revision=typed_page.revision, session_id="s")
    signed = await drafts.get(OWNER, draft.id)
    assert signed.state is DraftState.SIGNED
    assert (signed.editor, signed.editor_sequence) == (None, None)  # cleared by signing
    with pytest.raises(StaleDraftError):
        await drafts.save(
            OWNER, draft.id, revision=1, study=typed("late typing"), editor=PAGE, sequence=2
        )
    stored = await drafts.get(OWNER, draft.id)
    assert stored.state is DraftState.SIGNED and stored.study["post_discogram_ct"] == "signed text"


async def test_starting_an_amendment_forgets_the_page_that_typed_the_signed_version(
    drafts: DraftStore, signing: SigningService, database: Database
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    await drafts.save(OWNER, draft.id, revision=1, study=typed("v1"), editor=PAGE, sequence=1)
    await signing.sign(OWNER, draft.id, revision=2, session_id="s")
    # However a signed draft came to keep a page (an earlier release, a hand edit), starting
    # its amendment forgets it.
    sessions = await database.ready()
    async with sessions.begin() as db:
        await db.execute(
            update(DraftRow).where(DraftRow.id == draft.id).values(editor=PAGE, editor_sequence=1)
        )
    amending = await drafts.amend(OWNER, draft.study_id)
    assert amending.state is DraftState.EDITING and amending.revision == 3
    assert (amending.editor, amending.editor_sequence) == (None, None)
    with pytest.raises(StaleDraftError):
        await drafts.save(
            OWNER, draft.id, revision=2, study=typed("late typing"), editor=PAGE, sequence=2
        )
    assert (await drafts.get(OWNER, draft.id)).study["post_discogram_ct"] == "v1"


# -- a signed study saved again -----------------------------------------------------------------
# Pages save to move on (to the preview, to the results): a save that changes nothing must not
# start an amendment, which signing would send as an identical next version.


def retyped(study: dict[str, object]) -> dict[str, object]:
    """`study` as a form posts it back: the same values, written differently."""
    again = json.loads(json.dumps(study))
    level = again["levels"][1]
    level["opening_pressure_psi"] = 10.0  # 10 as the model reads it
    level["pain_location"] = f"  {level['pain_location']} "  # trimmed by the model
    again["performed"] = "2026-11-20T09:30-05:00"  # the same time, seconds left out
    return dict(again)


async def test_saving_a_signed_study_unchanged_keeps_it_signed(
    drafts: DraftStore, signing: SigningService, clock: FakeClock
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    await signing.sign(OWNER, draft.id, revision=1, session_id="s")
    signed = await drafts.get(OWNER, draft.id)
    posted = retyped(signed.study)
    assert posted != signed.study  # not the same text: the same study
    clock.advance(5)
    for editor, sequence in ((None, None), (PAGE, 1)):  # a form post, an autosave
        saved = await drafts.save(
            OWNER, draft.id, revision=1, study=posted, editor=editor, sequence=sequence
        )
        assert saved == signed
    assert await drafts.get(OWNER, draft.id) == signed


async def test_saving_a_change_to_a_signed_study_starts_its_amendment(
    drafts: DraftStore, signing: SigningService
) -> None:
    draft = await drafts.create(OWNER, lumbar_study())
    await signing.sign(OWNER, draft.id, revision=1, session_id="s")
    changed = retyped((await drafts.get(OWNER, draft.id)).study)
    changed["performed"] = "2026-11-20T10:30-04:00"  # the same instant, another offset
    saved = await drafts.save(OWNER, draft.id, revision=1, study=changed)
    assert saved.state is DraftState.EDITING and saved.revision == 2
    assert saved.based_on_version == 1
