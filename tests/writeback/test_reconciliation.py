import pytest

from plugin.writeback.reconciliation import (
    TransactionFinding,
    content_matches,
    transaction_finding,
    unchanged_since_written,
)


@pytest.mark.parametrize(
    ("present", "finding"),
    [
        ({}, TransactionFinding.ABSENT),
        ({"a": False, "b": False}, TransactionFinding.ABSENT),
        ({"a": True, "b": True}, TransactionFinding.APPLIED),
        ({"a": True, "b": False}, TransactionFinding.PARTIAL),
    ],
)
def test_a_transaction_is_applied_absent_or_partial(
    present: dict[str, bool], finding: TransactionFinding
) -> None:
    assert transaction_finding(present) is finding


SENT = {
    "resourceType": "Observation",
    "id": "1",
    "status": "amended",
    "component": [{"code": {"text": "a"}}, {"code": {"text": "b"}}],
}


def test_the_servers_additions_do_not_hide_our_write() -> None:
    server = {
        **SENT,
        "meta": {"versionId": "3"},
        "text": {"status": "generated", "div": "<div/>"},
        "issued": "2026-01-01T00:00:00Z",
    }
    assert content_matches(server, SENT)


@pytest.mark.parametrize(
    "server",
    [
        {**SENT, "status": "final"},
        {**SENT, "component": [{"code": {"text": "a"}}]},
        {k: v for k, v in SENT.items() if k != "component"},
    ],
)
def test_anything_we_sent_that_differs_is_a_change(server: dict[str, object]) -> None:
    assert not content_matches(server, SENT)


_SENT_AS_WRITTEN = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "valueQuantity": {"value": 60, "unit": "psi"},
    "partOf": [{"reference": "Procedure/pr1"}],
    "subject": {"reference": "Patient/p1", "display": "Test Patient"},
}


def test_the_copy_we_sent_is_unchanged_whatever_the_server_keeps_of_its_own() -> None:
    copy = {
        **_SENT_AS_WRITTEN,
        "id": "o1",
        "meta": {"lastUpdated": "2026-12-07T10:00:00Z"},
        "text": {"status": "generated", "div": "<div>60 psi</div>"},
    }
    assert unchanged_since_written(copy, _SENT_AS_WRITTEN)


@pytest.mark.parametrize(
    "change",
    [
        {"status": "entered-in-error"},
        {"valueQuantity": {"value": 65, "unit": "psi"}},
        {"subject": {"reference": "Patient/p1", "display": "Someone Else"}},
        # Added in the chart: the update, a whole-resource PUT, would drop them.
        {"extension": [{"url": "http://ehr.example/addendum", "valueString": "see L3-L4"}]},
        {"note": [{"text": "Discussed with the patient"}]},
        {"valueQuantity": {"value": 60, "unit": "psi", "comparator": ">="}},
        # Only a reference changed.
        {"partOf": [{"reference": "Procedure/pr2"}]},
        {"subject": {"reference": "Patient/p2", "display": "Test Patient"}},
    ],
)
def test_a_copy_someone_edited_is_changed(change: dict[str, object]) -> None:
    assert not unchanged_since_written({**_SENT_AS_WRITTEN, **change}, _SENT_AS_WRITTEN)


def test_a_copy_missing_an_element_we_sent_is_changed() -> None:
    removed = {k: v for k, v in _SENT_AS_WRITTEN.items() if k != "partOf"}
    assert not unchanged_since_written(removed, _SENT_AS_WRITTEN)
