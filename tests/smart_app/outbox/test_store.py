"""Claims under a lease, version order, user retries and resumption, history — on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from plugin.writeback import StepAction, StepRole, WritePlan, WriteStep, WriteStrategy
from smart_app.drafts import DraftOwner
from smart_app.outbox import ItemState, LedgerState, OutboxActionError, OutboxItem
from smart_app.outbox.ledger import ItemLedger
from smart_app.store.outbox_tables import OutboxItemRow
from tests.smart_app.outbox.conftest import ISS, OWNER, SESSION_ID, Outbox
from tests.writeback.studies import lumbar_study

LEASE = 300.0


async def amend(outbox: Outbox) -> None:
    """Sign the next version of the owner's (only) study."""
    (draft,) = await outbox.drafts.drafts(OWNER)
    # A real change: saving a signed study unchanged does not start an amendment.
    study = lumbar_study() | {"post_discogram_ct": f"Amended (from revision {draft.revision})"}
    draft = await outbox.drafts.save(OWNER, draft.id, revision=draft.revision, study=study)
    await outbox.signing.sign(OWNER, draft.id, revision=draft.revision, session_id="s")


async def test_a_claim_leases_the_item_to_one_worker(outbox: Outbox) -> None:
    signed = await outbox.sign()
    claims = await asyncio.gather(
        *(outbox.store.claim(f"w{i}", limit=5, lease_seconds=LEASE) for i in range(4))
    )
    winners = [c for c in claims if c]
    assert len(winners) == 1 and winners[0][0].id == signed.item_id
    item = await outbox.store.item(signed.item_id)
    assert item is not None
    assert item.state is ItemState.WRITING and item.attempts == 1
    assert item.lease_expires_at == outbox.clock() + LEASE
    assert await outbox.store.claim("late", limit=5, lease_seconds=LEASE) == []


async def test_an_expired_lease_is_taken_over_and_the_old_holder_is_shut_out(
    outbox: Outbox,
) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("crashed", limit=1, lease_seconds=LEASE)
    outbox.clock.advance(LEASE + 1)
    (taken,) = await outbox.store.claim("rescuer", limit=1, lease_seconds=LEASE)
    assert taken.id == signed.item_id and taken.attempts == 2
    assert not await outbox.store.renew(signed.item_id, "crashed", LEASE)
    assert not await outbox.store.mark_written(signed.item_id, "crashed")
    assert await outbox.store.renew(signed.item_id, "rescuer", LEASE)
    assert await outbox.store.mark_written(signed.item_id, "rescuer", ["done"])
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.WRITTEN
    assert item.lease_owner is None and item.notes == ("done",)


async def test_a_rescheduled_item_is_claimed_only_when_due(outbox: Outbox) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    assert await outbox.store.reschedule(signed.item_id, "w", delay=30, error="EHR busy")
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.QUEUED
    assert item.last_error == "EHR busy" and item.next_attempt_at == outbox.clock() + 30
    assert await outbox.store.claim("w", limit=1, lease_seconds=LEASE) == []
    outbox.clock.advance(30)
    assert len(await outbox.store.claim("w", limit=1, lease_seconds=LEASE)) == 1


async def test_versions_of_a_study_are_written_in_order(outbox: Outbox) -> None:
    first = await outbox.sign()
    await amend(outbox)
    (claimed,) = await outbox.store.claim("w", limit=5, lease_seconds=LEASE)
    assert claimed.id == first.item_id  # version 2 waits
    assert await outbox.store.claim("w", limit=5, lease_seconds=LEASE) == []
    await outbox.store.wait_for_sign_in(first.item_id, "w", error="signed out")
    assert await outbox.store.claim("w", limit=5, lease_seconds=LEASE) == []  # still waits
    await outbox.store.resume_for_launch(
        ISS, OWNER.patient_id, OWNER.user_id, outbox.refs.seal("new")
    )
    (again,) = await outbox.store.claim("w", limit=5, lease_seconds=LEASE)
    assert again.id == first.item_id
    await outbox.store.mark_failed(first.item_id, "w", error="refused", in_doubt=False)
    (second,) = await outbox.store.claim("w", limit=5, lease_seconds=LEASE)
    assert second.version == 2
    old = await outbox.store.item(first.item_id)
    assert old is not None and old.state is ItemState.SUPERSEDED
    with pytest.raises(OutboxActionError):
        await retry(outbox, first.item_id)


async def test_a_version_replaced_while_in_doubt_is_named_on_the_later_one(
    outbox: Outbox,
) -> None:
    # Version 1's answer was lost on an EHR the app cannot search: it may be in the chart.
    first = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    await outbox.store.mark_failed(first.item_id, "w", error="answer lost", in_doubt=True)
    await amend(outbox)
    (second,) = await outbox.store.claim("w", limit=5, lease_seconds=LEASE)
    old = await outbox.store.item(first.item_id)
    assert old is not None and (old.state, old.in_doubt) == (ItemState.SUPERSEDED, True)
    (note,) = second.notes
    assert note.startswith("Version 1 of this report may also be in the chart")
    assert "mark it entered in error in the EHR" in note
    stored = await outbox.store.item(second.id)
    assert stored is not None and stored.notes == (note,)


async def test_a_version_replaced_after_a_plain_refusal_adds_no_note(outbox: Outbox) -> None:
    first = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    await outbox.store.mark_failed(first.item_id, "w", error="422 invalid", in_doubt=False)
    await amend(outbox)
    (second,) = await outbox.store.claim("w", limit=5, lease_seconds=LEASE)
    assert second.notes == ()


async def test_a_failed_item_is_retried_by_the_user(outbox: Outbox) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    await outbox.store.mark_failed(signed.item_id, "w", error="422 invalid", in_doubt=False)
    with pytest.raises(OutboxActionError) as refused:
        await retry(outbox, signed.item_id, patient_id="someone-else")
    assert refused.value.status_code == 404
    item = await retry(outbox, signed.item_id)
    assert item.state is ItemState.QUEUED and item.next_attempt_at == outbox.clock()
    with pytest.raises(OutboxActionError):  # only a failed item can be retried
        await retry(outbox, signed.item_id)


async def test_an_item_in_doubt_is_retried_only_once_the_chart_was_checked(
    outbox: Outbox,
) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    ledger = await ItemLedger.load(outbox.store, signed.item_id, "w", lease_seconds=LEASE)
    note = _step("s.document")
    await ledger.intend([note])
    await outbox.store.mark_failed(signed.item_id, "w", error="unsure", in_doubt=True)
    with pytest.raises(OutboxActionError) as refused:
        await retry(outbox, signed.item_id)
    assert "Check the patient's chart first" in refused.value.clinician
    item = await retry(outbox, signed.item_id, confirmed_absent=True)
    assert not item.in_doubt
    entries = await outbox.store.ledger_entries(signed.item_id)
    assert entries[note.key].state is LedgerState.RELEASED


async def test_a_new_launch_resumes_the_users_waiting_items(outbox: Outbox) -> None:
    signed = await outbox.sign()
    colleague = DraftOwner(ISS, OWNER.patient_id, "Practitioner/colleague")
    theirs = await outbox.sign(owner=colleague)
    for item_id in (signed.item_id, theirs.item_id):
        await outbox.store.claim("w", limit=5, lease_seconds=LEASE)
        await outbox.store.wait_for_sign_in(item_id, "w", error="signed out")
    resumed = await outbox.store.resume_for_launch(
        ISS, OWNER.patient_id, OWNER.user_id, outbox.refs.seal("fresh")
    )
    assert resumed == 1
    mine = await outbox.store.item(signed.item_id)
    other = await outbox.store.item(theirs.item_id)
    assert mine is not None and mine.state is ItemState.QUEUED
    assert outbox.refs.open(mine.session_ref) == "fresh"
    assert other is not None and other.state is ItemState.WAITING_FOR_SIGN_IN


async def test_a_launch_for_another_patient_leaves_this_patients_items_alone(
    outbox: Outbox,
) -> None:
    """Another patient's token cannot write (or look for) this patient's report: the items
    keep their session and wait for a launch for their own patient."""
    waiting = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    await outbox.store.wait_for_sign_in(waiting.item_id, "w", error="signed out")
    queued = await outbox.sign()
    await outbox.store.claim("w", limit=5, lease_seconds=LEASE)
    await outbox.store.reschedule(queued.item_id, "w", delay=60, error="EHR busy")
    resumed = await outbox.store.resume_for_launch(
        ISS, "cervical-candidate", OWNER.user_id, outbox.refs.seal("other-patient")
    )
    assert resumed == 0
    still_waiting = await outbox.store.item(waiting.item_id)
    still_queued = await outbox.store.item(queued.item_id)
    assert still_waiting is not None and still_waiting.state is ItemState.WAITING_FOR_SIGN_IN
    assert still_queued is not None and still_queued.state is ItemState.QUEUED
    for item in (still_waiting, still_queued):
        assert outbox.refs.open(item.session_ref) == SESSION_ID
    assert (
        await outbox.store.resume_for_launch(
            ISS, OWNER.patient_id, OWNER.user_id, outbox.refs.seal("own-patient")
        )
        == 1
    )
    for item_id in (waiting.item_id, queued.item_id):
        item = await outbox.store.item(item_id)
        assert item is not None and outbox.refs.open(item.session_ref) == "own-patient"


async def test_send_again_writes_with_the_session_of_the_user_asking(outbox: Outbox) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    await outbox.store.mark_failed(signed.item_id, "w", error="403", in_doubt=False)
    item = await retry(outbox, signed.item_id, session_id="current")
    assert outbox.refs.open(item.session_ref) == "current"


async def test_send_again_by_another_user_keeps_the_items_own_session(outbox: Outbox) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    await outbox.store.mark_failed(signed.item_id, "w", error="403", in_doubt=False)
    item = await retry(
        outbox, signed.item_id, user_id="Practitioner/colleague", session_id="colleagues"
    )
    assert item.state is ItemState.QUEUED
    assert outbox.refs.open(item.session_ref) == SESSION_ID


async def retry(
    outbox: Outbox,
    item_id: str,
    *,
    patient_id: str = OWNER.patient_id,
    user_id: str = OWNER.user_id,
    session_id: str = "retrying-session",
    confirmed_absent: bool = False,
) -> OutboxItem:
    """The owner's retry from a session of their own, for the owner's patient."""
    return await outbox.store.retry(
        item_id,
        iss=ISS,
        patient_id=patient_id,
        user_id=user_id,
        session_ref=outbox.refs.seal(session_id),
        confirmed_absent=confirmed_absent,
    )


def _step(key: str) -> WriteStep:
    token = f"https://discography-plugin.example/fhir/identifier/discography|{key}"
    return WriteStep(
        key=token,
        token=token,
        resource_type="DocumentReference",
        role=StepRole.DOCUMENT,
        action=StepAction.CREATE,
        body={"resourceType": "DocumentReference"},
    )


async def test_the_ledger_keeps_the_first_id_and_counts_second_copies(outbox: Outbox) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    ledger = await ItemLedger.load(outbox.store, signed.item_id, "w", lease_seconds=LEASE)
    step = _step("s.document")
    await ledger.intend([step])
    assert ledger.in_doubt(step.key)
    await ledger.record(step, LedgerState.CREATED, "d1", "1")
    entry = await ledger.record(step, LedgerState.CREATED, "d2", "1")
    assert (entry.server_id, entry.duplicates) == ("d1", 1)
    assert ledger.done(step.key) and not ledger.in_doubt(step.key)
    reloaded = await ItemLedger.load(outbox.store, signed.item_id, "w", lease_seconds=LEASE)
    assert reloaded.entry(step.key) == entry


async def test_a_worker_without_the_lease_cannot_send(outbox: Outbox) -> None:
    from smart_app.outbox import LeaseLostError

    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    intruder = await ItemLedger.load(outbox.store, signed.item_id, "x", lease_seconds=LEASE)
    with pytest.raises(LeaseLostError):
        await intruder.intend([_step("s.document")])
    assert await outbox.store.ledger_entries(signed.item_id) == {}


async def test_history_lists_every_version_and_what_it_wrote(outbox: Outbox) -> None:
    first = await outbox.sign()
    await amend(outbox)
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    step = _step(f"{first.study_key}.document")
    plan = WritePlan(
        strategy=WriteStrategy.DOCUMENT,
        version=1,
        study_key=first.study_key,
        content_hash=first.content_hash,
        explanation="Filed as a clinical note.",
        steps=(step,),
    )
    assert await outbox.store.pin_plan(first.item_id, "w", plan)
    ledger = await ItemLedger.load(outbox.store, first.item_id, "w", lease_seconds=LEASE)
    await ledger.record(step, LedgerState.CREATED, "doc-1", "1")
    await outbox.store.mark_written(first.item_id, "w")
    history = await outbox.store.history(ISS, OWNER.patient_id, first.study_key)
    assert [(h.version, h.item.state) for h in history] == [
        (1, ItemState.WRITTEN),
        (2, ItemState.QUEUED),
    ]
    assert history[0].content_hash == first.content_hash
    assert history[0].explanation == "Filed as a clinical note."
    (written,) = history[0].written
    assert (written.role, written.reference, written.version) == (
        "clinical note",
        "DocumentReference/doc-1",
        "1",
    )
    previous = await outbox.store.previous_resources(history[1].item)
    assert previous[step.token].id == "doc-1" and previous[step.token].body == step.body
    assert await outbox.store.history(ISS, "someone-else", first.study_key) == []


async def test_a_plan_is_pinned_once(outbox: Outbox) -> None:
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    plan = WritePlan(
        strategy=WriteStrategy.DOCUMENT,
        version=1,
        study_key=signed.study_key,
        content_hash=signed.content_hash,
        explanation="first",
        steps=(_step("a"),),
    )
    assert await outbox.store.pin_plan(signed.item_id, "w", plan)
    assert not await outbox.store.pin_plan(
        signed.item_id, "w", plan.model_copy(update={"explanation": "second"})
    )
    sessions = await outbox.database.ready()
    async with sessions.begin() as db:  # another worker's lease: it may not pin either
        await db.execute(update(OutboxItemRow).values(lease_owner="other"))
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.strategy == "document"
    assert WritePlan.model_validate_json(item.plan_json or "").explanation == "first"


async def test_the_plans_notes_are_kept_with_the_item_for_the_status_page(outbox: Outbox) -> None:
    """What the plan leaves undone (an update the EHR does not allow) is said from the first
    attempt on, and kept beside the notes of later attempts."""
    signed = await outbox.sign()
    await outbox.store.claim("w", limit=1, lease_seconds=LEASE)
    undone = "The previous clinical note stays 'current' in the EHR"
    plan = WritePlan(
        strategy=WriteStrategy.DOCUMENT,
        version=1,
        study_key=signed.study_key,
        content_hash=signed.content_hash,
        explanation="document",
        notes=(undone,),
        steps=(_step("a"),),
    )
    assert await outbox.store.pin_plan(signed.item_id, "w", plan)
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.notes == (undone,)
    await outbox.store.mark_written(signed.item_id, "w", [undone, "found a copy"])
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.notes == (undone, "found a copy")
