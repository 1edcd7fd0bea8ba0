"""Which records count: status elements whose JSON type is wrong are named (they decide
whether a record counts), requests not to act are void, suspected or family-history conditions
are not established facts about the patient."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.candidacy.record_status import (
    describes_family_history,
    is_established,
    is_void,
    unreadable_status,
)


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
        ("MedicationRequest", {"status": "active", "doNotPerform": "true"}, "doNotPerform"),
        ("ServiceRequest", {"status": "active", "doNotPerform": 1}, "doNotPerform"),
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


@pytest.mark.parametrize("kind", ["MedicationRequest", "ServiceRequest"])
def test_a_request_not_to_act_is_no_evidence_of_it(kind: str) -> None:
    # doNotPerform is an R4 modifier: "do not give warfarin" is no course of warfarin.
    request = {"resourceType": kind, "status": "active", "intent": "order"}
    assert is_void({**request, "doNotPerform": True})
    assert not is_void({**request, "doNotPerform": False})
    assert not is_void(request)
    assert unreadable_status({**request, "doNotPerform": True}, kind) is None


def _condition(verification: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Condition", "code": {"text": "Menopause"}}
    if verification is not None:
        resource["verificationStatus"] = {"coding": [{"code": verification}]}
    return resource


@pytest.mark.parametrize(
    ("verification", "established"),
    [
        ("confirmed", True),
        (None, True),
        ("unconfirmed", False),
        ("provisional", False),
        ("differential", False),
        ("refuted", False),
        ("entered-in-error", False),
    ],
)
def test_only_a_confirmed_or_unqualified_condition_is_established(
    verification: str | None, established: bool
) -> None:
    assert is_established(_condition(verification)) is established


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("Family history of early menopause", True),
        ("Family history: mother had hysterectomy", True),
        ("family medical history of ovarian cancer", True),
        ("FH of premature menopause", True),
        ("FHx: hysterectomy", True),
        ("Postmenopausal", False),
        ("Status post hysterectomy", False),
        ("FH (familial hypercholesterolaemia)", False),
    ],
)
def test_family_history_wording_is_recognised(text: str, family: bool) -> None:
    assert describes_family_history([text]) is family
