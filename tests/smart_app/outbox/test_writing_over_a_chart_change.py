"""After someone changed a study resource in the EHR, the amendment stops without overwriting
it; the user reviews the change and agrees to write the report over exactly that copy. Against
the sandbox EHR, with and without resource versions, per resource and as a transaction."""

from __future__ import annotations

import pytest

from smart_app.outbox import ItemState
from smart_app.outbox.errors import OutboxActionError
from smart_app.outbox.records import OutboxItem
from tests.faults.conftest import RigFactory
from tests.faults.harness import PATIENT, WriteBackRig
from tests.smart_app.outbox.test_sandbox_write_back import (
    addendum_added,
    amend,
    edit_in_the_ehr,
    token,
)

STRATEGIES = [("per-resource", True), ("full", True), ("per-resource", False), ("full", False)]


async def retry(rig: WriteBackRig, item_id: str, *, confirmed_overwrite: bool) -> OutboxItem:
    return await rig.store.retry(
        item_id,
        iss=rig.owner.iss,
        patient_id=PATIENT,
        user_id=rig.owner.user_id,
        session_ref=rig.refs.seal(rig.session_id),
        confirmed_overwrite=confirmed_overwrite,
    )


async def changed_then_amended(rig: WriteBackRig) -> tuple[str, str, dict[str, object]]:
    """Version 1 written; the report given an addendum in the EHR; version 2 refused.
    Returns (study key, version 2's item id, the chart's changed report)."""
    first = await rig.sign()
    await rig.drain(rig.worker())
    (report,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    await addendum_added(rig, report)
    await edit_in_the_ehr(rig, report)
    (changed,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    second = await amend(rig, post_discogram_ct="Grade 5 fissure on review (corrected)")
    await rig.drain(rig.worker())
    return first.study_key, second, changed


@pytest.mark.parametrize(("strategy", "versions"), STRATEGIES)
async def test_a_reviewed_change_is_written_over_once_the_user_confirms(
    make: RigFactory, strategy: str, versions: bool
) -> None:
    rig = await make(strategy=strategy)
    rig.behave(strategy, versions=versions)
    key, second, changed = await changed_then_amended(rig)
    item = await rig.item(second)
    assert item.state is ItemState.FAILED
    assert item.last_error is not None and "confirm that below" in item.last_error
    assert [(c.resource_type, c.server_id) for c in item.chart_changes] == [
        ("DiagnosticReport", changed["id"])
    ]
    assert item.chart_changes[0].version == (changed["meta"].get("versionId") if versions else None)

    retried = await retry(rig, second, confirmed_overwrite=True)
    assert retried.state is ItemState.QUEUED
    assert (retried.chart_changes, len(retried.accepted_changes)) == ((), 1)
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.WRITTEN, item.last_error
    (report,) = await rig.chart("DiagnosticReport", identifier=token(key, "report"))
    assert report["status"] == "amended"
    assert "extension" not in report  # the addendum the user reviewed was replaced
    assert any("as the user confirmed after reviewing the change" in n for n in item.notes)
    counts = await rig.our_resources()
    assert all(n == 1 for n in counts.values())


async def test_without_confirmation_the_item_is_not_sent_again(make: RigFactory) -> None:
    rig = await make(strategy="per-resource")
    _, second, _ = await changed_then_amended(rig)
    with pytest.raises(OutboxActionError) as refused:
        await retry(rig, second, confirmed_overwrite=False)
    assert "changed this study's DiagnosticReport in the EHR" in refused.value.clinician
    assert "Review the change in the chart first" in refused.value.clinician
    assert (await rig.item(second)).state is ItemState.FAILED


@pytest.mark.parametrize(("strategy", "versions"), STRATEGIES)
async def test_a_change_made_after_the_review_still_stops_the_write(
    make: RigFactory, strategy: str, versions: bool
) -> None:
    # The user agreed to replace the copy they reviewed, not one changed since.
    rig = await make(strategy=strategy)
    rig.behave(strategy, versions=versions)
    key, second, changed = await changed_then_amended(rig)
    changed["conclusion"] = "Changed again after the review"
    await edit_in_the_ehr(rig, changed)
    await retry(rig, second, confirmed_overwrite=True)
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.FAILED
    assert item.last_error is not None and "was changed in the EHR" in item.last_error
    (report,) = await rig.chart("DiagnosticReport", identifier=token(key, "report"))
    assert report["conclusion"] == "Changed again after the review"
    assert len(item.chart_changes) == 1  # to review again: the newer copy
