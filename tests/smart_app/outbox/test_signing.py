"""Signing: validate, freeze (hash), mark signed and enqueue in one transaction; idempotent."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from sqlalchemy import select

from plugin.errors import StudyInvalidError
from smart_app.drafts import DraftOwner, DraftState, DraftStateError, StaleDraftError
from smart_app.outbox import ItemState
from smart_app.store.outbox_tables import OutboxItemRow, SignedReportRow
from tests.smart_app.outbox.conftest import ISS, OWNER, SESSION_ID, Outbox
from tests.writeback.studies import lumbar_study


async def test_signing_freezes_the_report_and_queues_it(outbox: Outbox) -> None:
    draft = await outbox.drafts.create(OWNER, lumbar_study("ignored-id"))
    signed = await outbox.signing.sign(OWNER, draft.id, revision=1, session_id=SESSION_ID)
    assert (signed.version, signed.study_key) == (1, draft.study_id)
    assert outbox.signed_events == [None]  # the worker is woken
    sessions = await outbox.database.ready()
    async with sessions() as db:
        report = (await db.execute(select(SignedReportRow))).scalar_one()
        row = (await db.execute(select(OutboxItemRow))).scalar_one()
    assert report.content_hash == hashlib.sha256(report.bundle_json.encode()).hexdigest()
    assert report.content_hash == signed.content_hash
    bundle = json.loads(report.bundle_json)
    assert bundle["entry"][4]["resource"]["issued"] == "2026-11-25T09:46:40Z"  # the clock
    assert row.report_id == report.id and row.state == "queued"
    assert SESSION_ID.encode() not in (row.session_ref or b"")  # sealed, not in clear
    assert outbox.refs.open(row.session_ref) == SESSION_ID
    assert (await outbox.drafts.get(OWNER, draft.id)).state is DraftState.SIGNED
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.QUEUED and item.attempts == 0


async def test_signing_twice_at_once_makes_one_version(outbox: Outbox) -> None:
    draft = await outbox.drafts.create(OWNER, lumbar_study())
    results = await asyncio.gather(
        *(outbox.signing.sign(OWNER, draft.id, revision=1, session_id=SESSION_ID) for _ in range(3))
    )
    assert len({r.item_id for r in results}) == 1
    assert len(await outbox.store.items_for_patient(ISS, OWNER.patient_id)) == 1


async def test_a_stale_revision_is_not_signed(outbox: Outbox) -> None:
    draft = await outbox.drafts.create(OWNER, lumbar_study())
    await outbox.drafts.save(OWNER, draft.id, revision=1, study=lumbar_study())
    with pytest.raises(StaleDraftError):
        await outbox.signing.sign(OWNER, draft.id, revision=1, session_id=SESSION_ID)
    assert await outbox.store.items_for_patient(ISS, OWNER.patient_id) == []


async def test_an_invalid_study_is_refused_with_every_problem(outbox: Outbox) -> None:
    study = lumbar_study()
    study["levels"][0]["pain_intensity"] = 11
    study["levels"][1]["onset_pressure_psi"] = 1.0
    draft = await outbox.drafts.create(OWNER, study)
    with pytest.raises(StudyInvalidError) as refused:
        await outbox.signing.sign(OWNER, draft.id, revision=1, session_id=SESSION_ID)
    assert {p.field for p in refused.value.problems} >= {
        "levels[0].pain_intensity",
        "levels[1].onset_pressure_psi",
    }
    assert (await outbox.drafts.get(OWNER, draft.id)).state is DraftState.EDITING


async def test_editing_a_signed_report_signs_version_two(outbox: Outbox) -> None:
    first = await outbox.sign()
    (draft,) = await outbox.drafts.drafts(OWNER)
    changed = lumbar_study()
    changed["post_discogram_ct"] = "Corrected after review"
    amending = await outbox.drafts.save(OWNER, draft.id, revision=draft.revision, study=changed)
    assert amending.state is DraftState.EDITING and amending.based_on_version == 1
    second = await outbox.signing.sign(
        OWNER, draft.id, revision=amending.revision, session_id=SESSION_ID
    )
    assert (second.version, second.study_key) == (2, first.study_key)
    assert second.content_hash != first.content_hash


async def test_an_amendment_of_an_outdated_version_is_refused(outbox: Outbox) -> None:
    first = await outbox.sign()
    colleague = DraftOwner(ISS, OWNER.patient_id, "Practitioner/colleague")
    theirs = await outbox.drafts.amend(colleague, first.study_key)
    (mine,) = await outbox.drafts.drafts(OWNER)
    amended = lumbar_study() | {"post_discogram_ct": "Amended"}
    mine = await outbox.drafts.save(OWNER, mine.id, revision=mine.revision, study=amended)
    await outbox.signing.sign(OWNER, mine.id, revision=mine.revision, session_id=SESSION_ID)
    with pytest.raises(DraftStateError) as refused:
        await outbox.signing.sign(
            colleague, theirs.id, revision=theirs.revision, session_id=SESSION_ID
        )
    assert "Version 2 of this report was signed" in refused.value.clinician
