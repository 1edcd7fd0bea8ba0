import pytest

from plugin.fhir_mapping.references import chart_references, reference_problems, referenced_type
from tests.fhir_mapping.examples import example_study_data, study_from


@pytest.mark.parametrize(
    ("reference", "kind"),
    [
        ("Patient/123", "Patient"),
        ("Patient/a.b-C", "Patient"),
        ("https://ehr.example.org/fhir/R4/Patient/123", "Patient"),
        ("Practitioner/p1/_history/2", "Practitioner"),
        ("urn:uuid:4c2a6a0e-8c7a-4a36-8d7e-0a6f1d9e1f00", None),
        ("#contained", None),
        ("Patient", None),
        ("patient/123", None),
        ("Patient/" + "x" * 65, None),
    ],
)
def test_referenced_type(reference: str, kind: str | None) -> None:
    assert referenced_type(reference) == kind


def test_example_study_references_are_accepted() -> None:
    study = study_from(example_study_data())
    assert reference_problems(study) == []
    chart = chart_references(study)
    assert chart.patient.reference == "Patient/example-lumbar"
    assert chart.patient.display == "Example, Lumbar (fictional)"
    assert chart.encounter is not None and chart.encounter.display is None
    assert [r.reference for r in chart.reasons] == ["Condition/example-lumbar-lbp"]


def test_wrong_types_and_non_literal_references_are_each_reported() -> None:
    data = example_study_data()
    data["patient"] = "Group/1"
    data["encounter"] = "urn:uuid:4c2a6a0e-8c7a-4a36-8d7e-0a6f1d9e1f00"
    data["performer"] = "Patient/1"
    data["indication"]["reason_references"] = ["Condition/1", "Medication/2"]
    problems = {(p.field, p.rule) for p in reference_problems(study_from(data))}
    assert problems == {
        ("patient.reference", "reference-type"),
        ("encounter.reference", "literal-reference"),
        ("performer.reference", "reference-type"),
        ("indication.reason_references[1].reference", "reference-type"),
    }


def test_message_names_the_allowed_types() -> None:
    data = example_study_data()
    data["performer"] = "Device/1"
    (problem,) = reference_problems(study_from(data))
    assert "Practitioner or PractitionerRole or Organization" in problem.message
    assert "Device" in problem.message
