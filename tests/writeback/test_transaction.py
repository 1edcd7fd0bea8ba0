from plugin.writeback import LookupMethod, StepAction, StepRole, WriteStep
from plugin.writeback.transaction import parse_location, transaction_bundle, transaction_outcomes

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
