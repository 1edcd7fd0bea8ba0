"""Card suggestions: one ServiceRequest draft per missing test, named as the order reads —
"Order a pregnancy test" for an unknown pregnancy status, not the status code 82810-3."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from plugin.candidacy.assessment import Assessment
from plugin.cds_hooks.hook_request import HookContext
from plugin.cds_hooks.suggestions import order_suggestions
from plugin.terminology import PRODUCT_CODE_SYSTEMS
from tests.candidacy.chart_builder import assess, good_lumbar_chart, patient, without

PRODUCT = PRODUCT_CODE_SYSTEMS["discography"].url


def woman_without_tests() -> Assessment:
    """A 34-year-old woman with no pregnancy status and no kidney function result."""
    chart = without(good_lumbar_chart(), "p1", "egfr-1")
    return assess([*chart, patient(sex="female", birth="1991-01-01")])


def context(*drafts: dict[str, Any]) -> HookContext:
    return HookContext(
        user_id="Practitioner/dr-1",
        patient_id="p1",
        encounter_id=None,
        draft_orders=drafts,
    )


def by_code(suggestions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["actions"][0]["resource"]["code"]["coding"][0]["code"]: s for s in suggestions}


def test_an_unknown_pregnancy_status_suggests_a_pregnancy_test() -> None:
    suggestions = by_code(order_suggestions(woman_without_tests(), context()))
    assert "82810-3" not in suggestions  # the status finding is not an orderable test
    pregnancy = suggestions["pregnancy-test"]
    assert pregnancy["label"] == "Order a pregnancy test"
    (action,) = pregnancy["actions"]
    assert action["description"] == (
        "Order a pregnancy test before discography (Pregnancy status unknown)."
    )
    resource = action["resource"]
    ServiceRequest.model_validate(resource)
    assert resource["code"] == {
        "coding": [{"system": PRODUCT, "code": "pregnancy-test"}],
        "text": "Pregnancy test (hCG)",
    }


def test_a_lab_suggestion_reads_by_its_name() -> None:
    kidney = by_code(order_suggestions(woman_without_tests(), context()))["98979-8"]
    assert kidney["label"] == "Order eGFR (CKD-EPI 2021)"


def test_a_drafted_pregnancy_test_is_not_suggested_again() -> None:
    drafted = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": PRODUCT, "code": "pregnancy-test"}]},
        "subject": {"reference": "Patient/p1"},
    }
    suggestions = by_code(order_suggestions(woman_without_tests(), context(drafted)))
    assert "pregnancy-test" not in suggestions and "98979-8" in suggestions
