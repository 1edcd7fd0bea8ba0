"""The study a draft starts from, and the candidacy citation entering its indication."""

from typing import Any

from pydantic import SecretStr

from smart_app.scopes import LaunchKind
from smart_app.session import SmartSession
from smart_app.workflow.candidacy_citation import CandidacyCitation
from smart_app.workflow.study_document import new_study_document, performer_reference, with_citation

BASE = "https://ehr.example.org/fhir"
CITATION = CandidacyCitation("Candidate.", ("Persistent axial pain: 13 months",), ("Condition/c1",))


def session(**changes: Any) -> SmartSession:
    values: dict[str, Any] = {
        "iss": BASE,
        "ehr_name": "EHR",
        "launch_kind": LaunchKind.EHR,
        "patient": "p1",
        "encounter": "e1",
        "granted_scope": "launch",
        "access_token": SecretStr("a"),
        "csrf_token": SecretStr("c"),
        "fhir_user": f"{BASE}/Practitioner/dr-1",
        "user_name": "Dr One",
    }
    return SmartSession(**(values | changes))


def test_a_new_study_names_patient_visit_and_performer_and_cites_the_assessment() -> None:
    document = new_study_document(session(), CITATION, "Ada Testperson")
    assert document == {
        "patient": {"reference": "Patient/p1", "display": "Ada Testperson"},
        "encounter": "Encounter/e1",
        "performer": {"reference": "Practitioner/dr-1", "display": "Dr One"},
        "technique": {"patient_blinded": True},
        "levels": [],
        "indication": {
            "criteria_met": ["Persistent axial pain: 13 months"],
            "reason_references": ["Condition/c1"],
        },
    }


def test_a_patient_without_a_name_is_named_by_reference() -> None:
    assert new_study_document(session(), CITATION)["patient"] == {"reference": "Patient/p1"}


def test_only_a_practitioner_is_a_performer() -> None:
    assert performer_reference(session(fhir_user="Patient/p1")) is None
    assert performer_reference(session(fhir_user=None)) is None
    other_server = performer_reference(
        session(fhir_user="https://hr.example.org/PractitionerRole/r")
    )
    assert other_server == {
        "reference": "https://hr.example.org/PractitionerRole/r",
        "display": "Dr One",
    }


def test_a_new_citation_keeps_the_physicians_own_indication_text() -> None:
    updated = with_citation(
        {"indication": {"text": "Fusion planned", "criteria_met": ["old"]}}, CITATION
    )
    assert updated["indication"] == {
        "text": "Fusion planned",
        "criteria_met": ["Persistent axial pain: 13 months"],
        "reason_references": ["Condition/c1"],
    }
    assert (
        with_citation({"indication": "short form"}, CITATION)["indication"]["text"] == "short form"
    )
