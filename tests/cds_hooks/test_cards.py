from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from plugin.candidacy.assessment import Assessment
from plugin.cds_hooks.app_context import read_app_context
from plugin.cds_hooks.cards import CardSetting, candidacy_card, indicator_of, order_problem_card
from plugin.cds_hooks.hook_request import Hook, parse_hook_request
from plugin.cds_hooks.invariants import response_problems
from plugin.cds_hooks.system_actions import candidacy_update
from plugin.errors import Problem
from plugin.sandbox.synthetic_patients import scenarios
from plugin.terminology import system_url
from tests.cds_hooks.assessments import assessment_for, assessment_without_labs
from tests.cds_hooks.conftest import PATIENT_ID, SIGN, discography_order, hook_call

LAUNCH = "https://discogram.example.org/launch"


def setting(body: dict[str, Any] | None = None) -> CardSetting:
    call = parse_hook_request(body or hook_call(), Hook.ORDER_SIGN)
    return CardSetting(call=call, service_id=SIGN, launch_url=LAUNCH)


def card_for(assessment: Assessment, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return candidacy_card(assessment, [discography_order()], setting(body))


@pytest.mark.parametrize("patient", [s.patient_id for s in scenarios()])
@pytest.mark.parametrize("attested", [True, False])
def test_every_card_keeps_the_response_invariants(patient: str, attested: bool) -> None:
    attestations = ("imaging-inconclusive", "decision-hinges") if attested else ()
    assessment = assessment_for(patient, attestations)
    card = card_for(assessment)
    response = {
        "cards": [card],
        "systemActions": [candidacy_update(assessment, discography_order())],
    }
    assert response_problems(response) == []
    assert uuid.UUID(card["uuid"]).version == 4
    for suggestion in card.get("suggestions", []):
        assert uuid.UUID(suggestion["uuid"]).version == 4


@pytest.mark.parametrize(
    ("patient", "attested", "indicator"),
    [
        ("lumbar-candidate", True, "info"),
        ("lumbar-candidate", False, "warning"),
        ("on-apixaban", True, "warning"),
        ("short-conservative-care", True, "critical"),
        ("pregnant", True, "critical"),
    ],
)
def test_indicator_follows_outcome_and_safety(patient: str, attested: bool, indicator: str) -> None:
    attestations = ("imaging-inconclusive", "decision-hinges") if attested else ()
    assert indicator_of(assessment_for(patient, attestations)) == indicator


def test_candidate_card_has_no_override_reasons_others_do() -> None:
    assert "overrideReasons" not in card_for(assessment_for("lumbar-candidate"))
    reasons = card_for(assessment_for("pregnant"))["overrideReasons"]
    assert reasons and all(r["display"] for r in reasons)


def test_smart_link_opens_the_app_on_the_draft_order() -> None:
    (link,) = card_for(assessment_for("on-apixaban"))["links"]
    assert link["type"] == "smart" and link["url"] == LAUNCH
    context = read_app_context(link["appContext"])
    assert context.draft_order == "ServiceRequest/draft-1"
    assert context.hook == "order-sign" and context.service == SIGN
    assert context.hook_instance == "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"


def test_missing_tests_become_order_suggestions() -> None:
    assessment = assessment_without_labs("on-apixaban")
    lab_items = [s for s in assessment.safety if s.suggested_order is not None]
    assert len(lab_items) >= 2, "kidney function and INR are missing"
    card = card_for(assessment)
    assert card["selectionBehavior"] == "any"
    codes = {s["actions"][0]["resource"]["code"]["coding"][0]["code"] for s in card["suggestions"]}
    assert codes == {s.suggested_order.code for s in lab_items if s.suggested_order}
    for suggestion in card["suggestions"]:
        (action,) = suggestion["actions"]
        assert action["type"] == "create" and action["description"]
        resource = action["resource"]
        ServiceRequest.model_validate(resource)
        assert resource["subject"] == {"reference": f"Patient/{PATIENT_ID}"}
        assert resource["requester"] == {"reference": "Practitioner/dr-1"}
        assert "display" not in resource["code"]["coding"][0]  # standard codes: no display
        assert resource["code"]["text"]


def test_a_test_already_drafted_is_not_suggested_again() -> None:
    assessment = assessment_without_labs("on-apixaban")
    order = next(s.suggested_order for s in assessment.safety if s.suggested_order)
    assert order is not None
    drafted = {
        "resourceType": "ServiceRequest",
        "id": "lab-1",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": order.system, "code": order.code}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    card = card_for(assessment, hook_call(drafts=[discography_order(), drafted]))
    codes = [
        s["actions"][0]["resource"]["code"]["coding"][0]["code"]
        for s in card.get("suggestions", [])
    ]
    assert order.code not in codes


def test_system_action_changes_nothing_but_the_extension() -> None:
    draft = discography_order(extension=[{"url": "https://x.example/e", "valueBoolean": True}])
    action = candidacy_update(assessment_for("lumbar-candidate"), draft)
    assert action is not None and action["type"] == "update"
    updated = action["resource"]
    assert updated["extension"][:-1] == draft["extension"]
    assert {k: v for k, v in updated.items() if k != "extension"} == {
        k: v for k, v in draft.items() if k != "extension"
    }
    without_id = {k: v for k, v in draft.items() if k != "id"}
    assert candidacy_update(assessment_for("lumbar-candidate"), without_id) is None


def test_order_that_cannot_be_assessed_gets_a_warning_card() -> None:
    problem = Problem(
        "bodySite", "level-outside-region", "C5-C6 cannot be injected in a lumbar discography"
    )
    card = order_problem_card([problem], discography_order(), setting())
    assert card["indicator"] == "warning"
    assert "C5\\-C6" not in card["detail"] and "C5-C6" in card["detail"]
    assert response_problems({"cards": [card]}) == []


def test_card_is_plain_json() -> None:
    card = card_for(assessment_for("contrast-allergy"))
    assert json.loads(json.dumps(card)) == card
    assert card["source"]["topic"]["system"].startswith("https://discography-plugin.example/")
    assert system_url("cpt") not in json.dumps(card["source"])
