from __future__ import annotations

from typing import Any

from plugin.cds_hooks.same_patient import fetched_mismatches, prefetch_problems

ME = "pt-1"


def condition(reference: Any, element: str = "subject") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "c", element: {"reference": reference}}


def searchset(*resources: Any) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


def test_records_of_this_patient_pass_in_every_reference_form() -> None:
    same = [
        condition("Patient/pt-1"),
        condition("https://ehr.example.org/fhir/Patient/pt-1"),
        condition("Patient/pt-1/_history/3"),
        condition("urn:uuid:0b6c1c52-46a2-4d0c-9a5e-2c5b0a1f7c11"),
        condition("#p"),
        condition("Patient/pt-1", "patient"),
        condition(5),  # a wrong type is the engine's to read, not a patient to compare
        {"resourceType": "Medication", "id": "m"},
    ]
    prefetch = {"patient": {"resourceType": "Patient", "id": ME}, "conditions": searchset(*same)}
    assert prefetch_problems(prefetch, ["patient", "conditions"], ME) == []


def test_a_record_of_another_patient_is_named_by_its_path_in_the_request() -> None:
    prefetch = {
        "patient": None,
        "conditions": searchset(condition("Patient/pt-1"), None, condition("Patient/pt-2")),
        "allergies": searchset(condition("https://ehr.example.org/fhir/Patient/pt-2", "patient")),
    }
    problems = prefetch_problems(prefetch, ["patient", "conditions", "allergies"], ME)
    assert [(p.field, p.rule) for p in problems] == [
        ("prefetch.conditions.entry[2].resource.subject", "same-patient"),
        ("prefetch.allergies.entry[0].resource.patient", "same-patient"),
    ]
    assert "pt-2" not in str(problems)  # ids are patient data: never quoted


def test_another_patients_patient_is_one_issue_naming_context_patient_id() -> None:
    for patient in ({"resourceType": "Patient", "id": "pt-2"}, {"resourceType": "Patient"}):
        problems = prefetch_problems({"patient": patient}, ["patient"], ME)
        assert [p.field for p in problems] == ["prefetch.patient.id"]
        assert "context.patientId" in problems[0].message


def test_one_issue_per_key_with_the_count_of_the_others() -> None:
    others = searchset(*(condition("Patient/pt-2") for _ in range(49)))
    problems = prefetch_problems({"conditions": others}, ["conditions"], ME)
    assert len(problems) == 1
    assert problems[0].field == "prefetch.conditions.entry[0].resource.subject"
    assert "48 more records of conditions" in problems[0].message


def test_only_the_keys_asked_about_are_read() -> None:
    prefetch = {"mine": searchset(condition("Patient/pt-2"))}
    assert prefetch_problems(prefetch, ["conditions"], ME) == []


def test_fetched_records_are_compared_by_key() -> None:
    answers = {
        "conditions": (condition("Patient/pt-1"),),
        "procedures": (condition("Patient/pt-1"), condition("Patient/pt-9")),
    }
    [mismatch] = fetched_mismatches(answers, ME)
    assert (mismatch.key, mismatch.path, mismatch.count) == ("procedures", "[1].subject", 1)
