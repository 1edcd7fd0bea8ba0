import base64
from typing import Any

import pytest

from plugin.errors import InputProblemError
from plugin.fhir_mapping import map_study
from tests.fhir_mapping.examples import (
    ISSUED,
    example_study_data,
    interpretation_for,
    rendered_report,
    study_from,
)


def document_json(data: dict[str, Any], document_type: str = "18748-4") -> dict[str, Any]:
    study = study_from(data)
    mapped = map_study(
        study,
        interpretation_for(study),
        rendered_report(),
        issued=ISSUED,
        document_type=document_type,
    )
    result: dict[str, Any] = mapped.document_reference.model_dump(mode="json", exclude_none=True)
    return result


def test_document_reference_shape() -> None:
    document = document_json(example_study_data())
    assert document["meta"]["profile"] == [
        "https://discography-plugin.example/fhir/StructureDefinition/discography-document-reference"
    ]
    assert document["identifier"][0]["value"] == "example-lumbar-1.document"
    assert document["status"] == "current"
    assert document["docStatus"] == "final"
    assert document["type"] == {
        "coding": [{"system": "http://loinc.org", "code": "18748-4"}],
        "text": "Diagnostic imaging study",
    }
    assert document["category"] == [
        {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                    "code": "clinical-note",
                }
            ]
        }
    ]
    assert document["subject"]["reference"] == "Patient/example-lumbar"
    assert document["date"] == "2026-11-20T11:45:12-05:00"
    assert document["author"][0]["reference"] == "Practitioner/example-spine"
    assert document["description"] == (
        "Provocative discography report, L3-L4, L4-L5, L5-S1: No discogenic level identified"
    )
    context = document["context"]
    assert context["encounter"] == [{"reference": "Encounter/example-lumbar-procedure"}]
    assert context["period"] == {"start": "2026-11-20T09:30:00-05:00"}
    assert context["related"][0]["reference"].startswith("urn:uuid:")


def test_content_is_the_pdf_then_plain_text() -> None:
    pdf, text = (c["attachment"] for c in document_json(example_study_data())["content"])
    rendered = rendered_report()
    assert pdf["contentType"] == "application/pdf"
    assert base64.b64decode(pdf["data"]) == rendered.pdf
    assert text["contentType"] == "text/plain; charset=utf-8"
    assert base64.b64decode(text["data"]).decode("utf-8") == rendered.text
    assert pdf["title"] == text["title"] == "Provocative discography report"


def test_interventional_procedure_note_type_when_configured() -> None:
    document = document_json(example_study_data(), "34121-4")
    assert document["type"] == {
        "coding": [{"system": "http://loinc.org", "code": "34121-4"}],
        "text": "Interventional procedure note",
    }


def test_any_other_document_type_is_refused_by_name() -> None:
    with pytest.raises(InputProblemError) as caught:
        document_json(example_study_data(), "28570-0")
    [problem] = caught.value.problems
    assert (problem.field, problem.rule) == ("document_type", "allowed-values")
    assert "18748-4, 34121-4" in problem.message


def test_without_encounter_and_date_the_context_still_links_the_report() -> None:
    data = example_study_data()
    for field in ("encounter", "performer", "performed"):
        del data[field]
    document = document_json(data)
    assert "author" not in document
    assert set(document["context"]) == {"related"}
