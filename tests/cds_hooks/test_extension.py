from __future__ import annotations

import copy

from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.structuredefinition import StructureDefinition

from plugin.cds_hooks.extension import (
    CANDIDACY_EXTENSION_URL,
    attestations_on,
    candidacy_extension,
    candidacy_extension_definition,
    with_candidacy_extension,
)
from tests.cds_hooks.assessments import assessment_for
from tests.cds_hooks.conftest import discography_order

OTHER = {"url": "https://ehr.example.org/ext/priority", "valueString": "routine"}


def test_definition_is_a_valid_r4_complex_extension() -> None:
    definition = candidacy_extension_definition()
    StructureDefinition.model_validate(definition)
    assert definition["url"] == CANDIDACY_EXTENSION_URL
    assert definition["url"].endswith("/" + definition["id"])
    assert definition["fhirVersion"] == "4.0.1"
    elements = {e["id"]: e for e in definition["differential"]["element"]}
    # ext-1: sub-extensions, so no value of its own.
    assert elements["Extension.value[x]"]["max"] == "0"
    slices = {e["sliceName"] for e in elements.values() if "sliceName" in e}
    assert slices == {"outcome", "policy", "policyVersion", "assessedOn", "attestation"}
    assert elements["Extension.extension:outcome.value[x]"]["binding"]["strength"] == "required"


def test_extension_records_the_assessment() -> None:
    assessment = assessment_for("on-apixaban")
    extension = candidacy_extension(assessment)
    parts = {p["url"]: p for p in extension["extension"]}
    assert parts["outcome"]["valueCode"] == "needs-review"
    assert parts["policy"]["valueString"] == "discography-referral"
    assert parts["policyVersion"]["valueString"] == assessment.policy.version
    attested = [p["valueCode"] for p in extension["extension"] if p["url"] == "attestation"]
    assert attested == ["decision-hinges", "imaging-inconclusive"]


def test_adding_changes_nothing_else_and_replaces_an_earlier_one() -> None:
    draft = discography_order(extension=[OTHER])
    original = copy.deepcopy(draft)
    first = with_candidacy_extension(draft, candidacy_extension(assessment_for("on-apixaban")))
    assert draft == original  # not modified in place
    assert {k: v for k, v in first.items() if k != "extension"} == {
        k: v for k, v in original.items() if k != "extension"
    }
    assert first["extension"][0] == OTHER
    again = with_candidacy_extension(first, candidacy_extension(assessment_for("pregnant")))
    ours = [e for e in again["extension"] if e["url"] == CANDIDACY_EXTENSION_URL]
    assert len(ours) == 1 and ours[0]["extension"][0]["valueCode"] == "not-candidate"
    ServiceRequest.model_validate(again)


def test_attestations_are_read_back_only_when_the_policy_knows_them() -> None:
    extension = {
        "url": CANDIDACY_EXTENSION_URL,
        "extension": [
            {"url": "attestation", "valueCode": "imaging-inconclusive"},
            {"url": "attestation", "valueCode": "made-up"},
            {"url": "outcome", "valueCode": "candidate"},
        ],
    }
    draft = discography_order(extension=[OTHER, extension])
    known = ["imaging-inconclusive", "decision-hinges"]
    assert attestations_on(draft, known) == ("imaging-inconclusive",)
    assert attestations_on(discography_order(), known) == ()
