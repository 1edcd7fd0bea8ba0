from typing import Any

import pytest

from plugin.writeback import LookupMethod, StepAction, StepRole, WriteStep
from plugin.writeback.transaction import (
    UnconfirmedTransactionError,
    parse_location,
    transaction_bundle,
    transaction_outcomes,
)

SYSTEM = "https://discography-plugin.example/fhir/identifier/discography"


def step(key: str, resource_type: str, action: StepAction, **changes: object) -> WriteStep:
    values: dict[str, object] = {
        "key": f"{SYSTEM}|{key}",
        "token": f"{SYSTEM}|{key}",
        "resource_type": resource_type,
        "role": StepRole.LEVEL,
        "action": action,
        "body": {"resourceType": resource_type, "status": "final"},
        "lookup": LookupMethod.CONDITIONAL_CREATE,
        "conditional": True,
        "full_url": f"urn:uuid:{key}",
    }
    values.update(changes)
    return WriteStep.model_validate(values)


def test_creates_are_conditional_posts_and_updates_puts_with_if_match() -> None:
    create = step(
        "s.level.L4-L5",
        "Observation",
        StepAction.CREATE,
        body={"resourceType": "Observation", "partOf": [{"reference": "urn:uuid:p"}]},
    )
    plain = step("s.note", "DocumentReference", StepAction.CREATE, conditional=False)
    update = step("s.report", "DiagnosticReport", StepAction.UPDATE, full_url=None)
    bundle = transaction_bundle(
        [create, plain, update], {"urn:uuid:p": "Procedure/9"}, lambda s: ("dr-1", "3")
    )
    first, second, third = bundle["entry"]
    assert first["fullUrl"] == "urn:uuid:s.level.L4-L5"
    assert first["request"] == {
        "method": "POST",
        "url": "Observation",
        "ifNoneExist": f"identifier={SYSTEM}|s.level.L4-L5",
    }
    assert first["resource"]["partOf"] == [{"reference": "Procedure/9"}]
    assert "ifNoneExist" not in second["request"]
    assert third["request"] == {"method": "PUT", "url": "DiagnosticReport/dr-1", "ifMatch": 'W/"3"'}
    assert third["resource"]["id"] == "dr-1" and "fullUrl" not in third


def test_locations_with_and_without_history() -> None:
    assert parse_location("https://ehr/fhir/Observation/7/_history/2", "Observation") == ("7", "2")
    assert parse_location("Observation/7", "Observation") == ("7", None)
    assert parse_location("Patient/7", "Observation") == (None, None)


def test_outcomes_come_from_location_body_or_etag() -> None:
    steps = [
        step("a", "Observation", StepAction.CREATE),
        step("b", "Observation", StepAction.CREATE),
        step("c", "Observation", StepAction.CREATE),
    ]
    response = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [
            {"response": {"status": "201 Created", "location": "Observation/1/_history/1"}},
            {
                "response": {"status": "200 OK", "etag": 'W/"4"'},
                "resource": {"resourceType": "Observation", "id": "2"},
            },
            {"response": {"status": "201"}},
        ],
    }
    outcomes = transaction_outcomes(response, steps)
    assert [(o.id, o.version, o.created) for o in outcomes] == [
        ("1", "1", True),
        ("2", "4", False),
        (None, None, True),
    ]


def response_with(*entries: dict[str, Any], kind: str = "transaction-response") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


REFUSAL = {
    "status": "422 Unprocessable Entity",
    "outcome": {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]},
}


def test_an_entry_with_an_error_status_confirms_nothing() -> None:
    steps = [
        step("a", "Observation", StepAction.CREATE),
        step("b", "DiagnosticReport", StepAction.CREATE),
    ]
    response = response_with({"response": {"status": "201 Created"}}, {"response": REFUSAL})
    with pytest.raises(UnconfirmedTransactionError) as raised:
        transaction_outcomes(response, steps)
    (refusal,) = raised.value.refused
    assert refusal.step is steps[1] and refusal.status == "422 Unprocessable Entity"
    assert refusal.outcome == REFUSAL["outcome"] and raised.value.problem is None


@pytest.mark.parametrize("status", [None, "", "OK", "2", "302 Found", "500"])
def test_an_entry_without_a_success_status_is_refused(status: object) -> None:
    answer = {} if status is None else {"status": status}
    with pytest.raises(UnconfirmedTransactionError) as raised:
        transaction_outcomes(
            response_with({"response": answer}), [step("a", "Observation", StepAction.CREATE)]
        )
    assert len(raised.value.refused) == 1


def test_a_status_sent_as_a_number_is_read() -> None:
    (outcome,) = transaction_outcomes(
        response_with({"response": {"status": 201, "location": "Observation/4"}}),
        [step("a", "Observation", StepAction.CREATE)],
    )
    assert (outcome.id, outcome.created) == ("4", True)


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ({"resourceType": "Bundle", "type": "transaction-response"}, "0 entries for the 2"),
        (response_with({"response": {"status": "201"}}), "1 entries for the 2"),
        (response_with(*[{"response": {"status": "201"}}] * 3), "3 entries for the 2"),
        (response_with(kind="batch-response"), "not a transaction-response"),
    ],
)
def test_an_answer_without_one_entry_per_request_confirms_nothing(
    response: dict[str, Any], problem: str
) -> None:
    steps = [step("a", "Observation", StepAction.CREATE), step("b", "Procedure", StepAction.CREATE)]
    with pytest.raises(UnconfirmedTransactionError) as raised:
        transaction_outcomes(response, steps)
    assert raised.value.problem is not None and problem in raised.value.problem
