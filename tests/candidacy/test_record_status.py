"""Status elements whose JSON type is wrong are named: they decide whether a record counts."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.candidacy.record_status import unreadable_status


@pytest.mark.parametrize(
    ("kind", "resource", "unreadable"),
    [
        ("Observation", {"status": {"code": "entered-in-error"}}, "status"),
        ("Procedure", {"status": ["not-done"]}, "status"),
        ("MedicationRequest", {"status": "active", "intent": 5}, "intent"),
        ("Condition", {"verificationStatus": "entered-in-error"}, "verificationStatus"),
        ("Condition", {"verificationStatus": {"coding": 5}}, "verificationStatus.coding"),
        ("Condition", {"clinicalStatus": {"coding": [5]}}, "clinicalStatus.coding[0]"),
        (
            "AllergyIntolerance",
            {"clinicalStatus": {"coding": [{"code": {"x": 1}}]}},
            "clinicalStatus.coding[0].code",
        ),
        ("Condition", {"clinicalStatus": {"text": ["resolved"]}}, "clinicalStatus.text"),
        ("Condition", {"abatementBoolean": "true"}, "abatementBoolean"),
    ],
)
def test_a_status_of_the_wrong_type_is_named(
    kind: str, resource: dict[str, Any], unreadable: str
) -> None:
    found = unreadable_status(resource, kind)
    assert found is not None and found[0] == unreadable


@pytest.mark.parametrize(
    ("kind", "resource"),
    [
        ("Observation", {"status": "final"}),
        ("Observation", {"status": None}),  # null: absent
        ("Observation", {}),
        ("Patient", {"status": 5}),  # Patient has no status element; the engine reads none
        ("Condition", {"status": 5, "clinicalStatus": {"coding": [{"code": "active"}]}}),
        ("MedicationStatement", {"status": "active", "intent": 5}),  # no intent in R4
        ("Condition", {"verificationStatus": {"text": "confirmed"}, "abatementBoolean": False}),
    ],
)
def test_absent_or_readable_statuses_pass(kind: str, resource: dict[str, Any]) -> None:
    assert unreadable_status(resource, kind) is None
