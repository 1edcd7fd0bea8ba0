"""The patient's studies on the candidacy page: in progress (continue), signed (where its
latest version is in the chart, amend), amendments in progress."""

from __future__ import annotations

from typing import Any

from smart_app.drafts import Draft, DraftOwner, DraftState
from smart_app.outbox import ItemState, OutboxItem
from smart_app.workflow.candidacy_studies import study_entries

OWNER = DraftOwner("https://ehr.example/fhir", "p1", "Practitioner/ada")
DAY = 1_795_000_000.0


def draft(draft_id: str, study_id: str, state: DraftState, **changes: Any) -> Draft:
    values: dict[str, Any] = {
        "id": draft_id,
        "owner": OWNER,
        "study_id": study_id,
        "revision": 3,
        "state": state,
        "study": {"levels": [{"level": "L4-L5"}, {"level": "L5-S1"}]},
        "problems": (),
        "based_on_version": None,
        "signed_version": None,
        "created_at": DAY,
        "updated_at": DAY,
    }
    values.update(changes)
    return Draft(**values)


def item(study_key: str, version: int, state: ItemState) -> OutboxItem:
    return OutboxItem(
        id=f"item-{study_key}-{version}",
        report_id=f"report-{version}",
        iss=OWNER.iss,
        patient_id=OWNER.patient_id,
        user_id=OWNER.user_id,
        study_key=study_key,
        version=version,
        state=state,
        attempts=1,
        next_attempt_at=DAY,
        last_error=None,
        in_doubt=False,
        strategy=None,
        plan_json=None,
        notes=(),
        session_ref=None,
        lease_owner=None,
        lease_expires_at=None,
        created_at=DAY + version,
        updated_at=DAY + version,
        written_at=None,
    )


def test_a_study_in_progress_is_continued_where_it_stands() -> None:
    fresh = draft("d-new", "dg-new", DraftState.EDITING, study={"levels": []})
    started = draft("d-started", "dg-started", DraftState.EDITING)
    entries = study_entries([fresh, started], [], "/root")
    assert entries[0].continue_url == "/root/app/studies/d-new/setup"
    assert entries[0].discs == "Discs not chosen yet"
    assert entries[1].continue_url == "/root/app/studies/d-started/levels"
    assert entries[1].discs == "Discs L4-L5, L5-S1"
    for entry in entries:
        assert entry.state_words == "In progress, not signed yet"
        assert entry.amend_url is None and entry.status_url is None
        assert entry.write_status is None


def test_a_signed_study_shows_its_latest_version_in_the_chart_and_can_be_amended() -> None:
    signed = draft("d-signed", "dg-signed", DraftState.SIGNED, signed_version=2)
    items = [
        item("dg-signed", 1, ItemState.WRITTEN),
        item("dg-signed", 2, ItemState.FAILED),
        item("dg-someone-elses", 1, ItemState.QUEUED),
    ]
    (entry,) = study_entries([signed], items, "")
    assert entry.state_words == "Signed (version 2)"
    assert entry.write_status == f"Version 2: {ItemState.FAILED.description}"
    assert entry.status_url == "/app/studies/d-signed/status"
    assert entry.amend_url == "/app/studies/d-signed/amend"
    assert entry.continue_url is None


def test_an_amendment_in_progress_is_continued_and_keeps_its_history_link() -> None:
    amending = draft("d-a", "dg-a", DraftState.EDITING, based_on_version=1, signed_version=1)
    (entry,) = study_entries([amending], [item("dg-a", 1, ItemState.WRITTEN)], "")
    assert entry.state_words == "Amendment of version 1 in progress, not signed yet"
    assert entry.continue_url == "/app/studies/d-a/levels"
    assert entry.status_url == "/app/studies/d-a/status"
    assert entry.amend_url is None
