"""The status page's words from the outbox history (pure)."""

from smart_app.outbox import ItemState, LedgerState, OutboxItem, VersionHistory, WrittenResource
from smart_app.workflow.status_view import REFRESH_SECONDS, status_view


def item(state: ItemState, **changes: object) -> OutboxItem:
    values: dict[str, object] = {
        "id": f"item-{state.value}",
        "report_id": "r",
        "iss": "https://ehr.example.org/fhir",
        "patient_id": "p1",
        "user_id": "u",
        "study_key": "dg-1",
        "version": 1,
        "state": state,
        "attempts": 1,
        "next_attempt_at": 1_800_000_060.0,
        "last_error": None,
        "in_doubt": False,
        "strategy": "full",
        "plan_json": None,
        "notes": (),
        "session_ref": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "created_at": 1_800_000_000.0,
        "updated_at": 1_800_000_000.0,
        "written_at": None,
    }
    return OutboxItem(**(values | changes))  # type: ignore[arg-type]


def version(
    number: int, state: ItemState, *written: WrittenResource, **changes: object
) -> VersionHistory:
    return VersionHistory(
        version=number,
        signed_at=1_800_000_000.0 + number,
        signed_by="u",
        content_hash="ab" * 32,
        item=item(state, version=number, **changes),
        explanation="The report is filed in one FHIR transaction.",
        written=written,
    )


NOTE = WrittenResource("clinical note", "DocumentReference", "doc-1", "1", LedgerState.CREATED, 0)
PROCEDURE = WrittenResource("procedure", "Procedure", "proc-1", "1", LedgerState.FOUND, 0)


def test_nothing_signed() -> None:
    view = status_view([])
    assert view.versions == () and view.refresh_seconds is None


def test_a_written_version_lists_types_and_ids_and_stops_refreshing() -> None:
    view = status_view([version(1, ItemState.WRITTEN, PROCEDURE, NOTE, written_at=1_800_000_010.0)])
    assert view.refresh_seconds is None
    assert view.headline.startswith("Version 1 is in the chart (DocumentReference, Procedure)")
    shown = view.versions[0]
    assert [(w.resource_type, w.server_id) for w in shown.written] == [
        ("Procedure", "proc-1"),
        ("DocumentReference", "doc-1"),
    ]
    assert shown.written[0].how == "already in the chart: not created again"
    assert shown.written_at == "2027-01-15 08:00:10 UTC"


def test_a_queued_version_says_why_and_when_and_the_page_refreshes() -> None:
    view = status_view(
        [version(1, ItemState.QUEUED, last_error="The EHR answered 503; will retry", attempts=2)]
    )
    assert view.refresh_seconds == REFRESH_SECONDS
    assert "Waiting to be sent to the EHR. Last attempt: The EHR answered 503" in view.headline
    assert view.versions[0].next_attempt == "2027-01-15 08:01:00 UTC"


def test_only_the_latest_failed_version_offers_to_send_again_newest_first() -> None:
    view = status_view(
        [
            version(1, ItemState.FAILED, last_error="refused"),
            version(2, ItemState.FAILED, last_error="refused", in_doubt=True),
        ]
    )
    assert [v.number for v in view.versions] == [2, 1]
    assert [v.retry for v in view.versions] == [True, False]
    assert view.versions[0].amendment and view.versions[0].in_doubt
    assert view.refresh_seconds is None


def test_a_version_replaced_while_in_doubt_is_not_called_unsent() -> None:
    view = status_view(
        [
            version(1, ItemState.SUPERSEDED, last_error="answer lost", in_doubt=True),
            version(2, ItemState.WRITTEN),
        ]
    )
    replaced = view.versions[1]
    assert replaced.state_words.startswith("Replaced by a later signed version before the app")
    assert "Not sent" not in replaced.state_words
    plain = status_view([version(1, ItemState.SUPERSEDED), version(2, ItemState.WRITTEN)])
    assert plain.versions[1].state_words == ItemState.SUPERSEDED.description
