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


_WRITTEN = {
    "resourceType": "Observation",
    "status": "final",
    "valueQuantity": {"value": 60, "unit": "psi"},
    "partOf": [{"reference": "urn:uuid:procedure"}],
    "subject": {"reference": "Patient/p1", "display": "Test Patient"},
}


def test_a_copy_with_references_resolved_or_not_yet_linked_is_unchanged() -> None:
    resolved = {
        **_WRITTEN,
        "id": "o1",
        "meta": {"lastUpdated": "2026-12-07T10:00:00Z"},
        "partOf": [{"reference": "Procedure/pr1"}],
        "subject": {"reference": "Patient/p1", "display": "Test Patient"},
    }
    assert unchanged_since_written(resolved, _WRITTEN)
    not_linked = {k: v for k, v in resolved.items() if k != "partOf"}
    assert unchanged_since_written(not_linked, _WRITTEN)


@pytest.mark.parametrize(
    "change",
    [
        {"status": "entered-in-error"},
        {"valueQuantity": {"value": 65, "unit": "psi"}},
        {"subject": {"reference": "Patient/p1", "display": "Someone Else"}},
    ],
)
def test_a_copy_someone_edited_is_changed(change: dict[str, object]) -> None:
    assert not unchanged_since_written({**_WRITTEN, **change}, _WRITTEN)
