"""Each synthetic chart holds exactly what its scenario needs, in valid FHIR R4, with dates
that stay current and only the standard codes the product may use."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from plugin.sandbox.fhir.validation import validate_resource
from plugin.sandbox.synthetic_patients import (
    resolve_relative_dates,
    scenarios,
    synthetic_resources,
)
from plugin.terminology import standard_codes, system_url

TODAY = date(2026, 3, 15)
RESOURCES = synthetic_resources(TODAY)
LOINC, SNOMED, CPT = system_url("loinc"), system_url("snomed"), system_url("cpt")
PT_CODES = {"97110", "97140", "97012", "98940", "98941", "98942"}
NSAIDS_AND_ANALGESICS = ("ibuprofen", "naproxen", "meloxicam", "acetaminophen")
PATIENTS = [s.patient_id for s in scenarios()]


def chart(patient: str) -> dict[str, list[dict[str, Any]]]:
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in RESOURCES:
        subject = resource.get("subject") or resource.get("patient") or {}
        if resource.get("id") == patient or subject.get("reference") == f"Patient/{patient}":
            by_type[resource["resourceType"]].append(resource)
    return by_type


def day(value: str) -> date:
    return date.fromisoformat(value[:10])


def days_ago(value: str) -> int:
    return (TODAY - day(value)).days


def codes(concept: dict[str, Any], system: str) -> set[str]:
    return {c["code"] for c in concept.get("coding", []) if c.get("system") == system}


def labs(patient: str, loinc: str) -> list[dict[str, Any]]:
    found = [o for o in chart(patient)["Observation"] if loinc in codes(o["code"], LOINC)]
    return sorted(found, key=lambda o: o["effectiveDateTime"], reverse=True)


def therapy_span_days(patient: str) -> int:
    sessions = [
        day(p["performedDateTime"])
        for p in chart(patient)["Procedure"]
        if codes(p["code"], CPT) & PT_CODES
    ]
    return (max(sessions) - min(sessions)).days if sessions else 0


def analgesic_courses(patient: str) -> list[str]:
    meds = chart(patient)["MedicationRequest"] + chart(patient)["MedicationStatement"]
    return [
        m["medicationCodeableConcept"]["text"]
        for m in meds
        if m["medicationCodeableConcept"]["text"].startswith(NSAIDS_AND_ANALGESICS)
    ]


def spine_mris(patient: str, loinc: str) -> list[dict[str, Any]]:
    return [r for r in chart(patient)["DiagnosticReport"] if loinc in codes(r["code"], LOINC)]


# -- the whole data set -----------------------------------------------------------------


def test_every_resource_is_valid_fhir_with_a_unique_id() -> None:
    keys = [(r["resourceType"], r["id"]) for r in RESOURCES]
    assert len(keys) == len(set(keys))
    for resource in RESOURCES:
        validate_resource(resource, None)


def test_every_reference_resolves_inside_the_data() -> None:
    from plugin.sandbox.fhir.references import iter_references

    known = {f"{r['resourceType']}/{r['id']}" for r in RESOURCES}
    for resource in RESOURCES:
        for reference in iter_references(resource):
            assert reference["reference"] in known, (resource["id"], reference)


def test_dates_are_resolved_and_never_in_the_future() -> None:
    text = repr(RESOURCES)
    assert "$days_ago" not in text and "$years_ago" not in text
    for resource in RESOURCES:
        for key in ("effectiveDateTime", "performedDateTime", "authoredOn", "onsetDateTime"):
            if key in resource:
                assert day(resource[key]) <= TODAY


def test_dates_move_with_today() -> None:
    later = synthetic_resources(TODAY + timedelta(days=100))
    first, moved = RESOURCES, later
    pairs = [(a, b) for a, b in zip(first, moved, strict=True) if "effectiveDateTime" in a]
    assert pairs and all(
        (day(b["effectiveDateTime"]) - day(a["effectiveDateTime"])).days == 100 for a, b in pairs
    )


def test_patients_are_clearly_fictional() -> None:
    patients = [r for r in RESOURCES if r["resourceType"] == "Patient"]
    assert sorted(p["id"] for p in patients) == sorted(PATIENTS)
    for patient in patients:
        assert patient["name"][0]["family"] == "Testpatient"
        assert "fictional" in patient["identifier"][0]["type"]["text"]


def test_standard_codes_come_from_the_mappings_and_carry_no_display() -> None:
    allowed = {
        LOINC: set(standard_codes("loinc")),
        SNOMED: set(standard_codes("snomed")),
        CPT: set(standard_codes("cpt")),
    }

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("system") in allowed and "code" in value:
                assert value["code"] in allowed[value["system"]], value
                assert "display" not in value, value
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(RESOURCES)


def test_medications_are_named_in_text_only() -> None:
    for resource in RESOURCES:
        if resource["resourceType"] in ("MedicationRequest", "MedicationStatement"):
            assert set(resource["medicationCodeableConcept"]) == {"text"}


def test_every_scenario_has_a_patient_and_an_open_encounter_today() -> None:
    assert len(PATIENTS) == 9 == len(set(PATIENTS))
    for patient in PATIENTS:
        encounters = chart(patient)["Encounter"]
        assert any(
            e["status"] == "in-progress" and day(e["period"]["start"]) == TODAY for e in encounters
        )


def test_relative_dates_resolve_to_dates_and_datetimes() -> None:
    resolved = resolve_relative_dates(
        {"a": {"$days_ago": 2}, "b": [{"$days_ago": 1, "$time": "14:30:00"}],
         "c": {"$years_ago": 2, "$days_ago": 1}, "d": {"text": "kept"}},
        date(2024, 2, 29),
    )  # fmt: skip
    assert resolved == {
        "a": "2024-02-27",
        "b": ["2024-02-28T14:30:00Z"],
        "c": "2022-02-27",  # 29 February two years back is the 28th, then one day earlier
        "d": {"text": "kept"},
    }


# -- what each scenario needs -----------------------------------------------------------

GOOD = ["lumbar-candidate", "cervical-candidate", "on-apixaban", "contrast-allergy", "pregnant",
        "egfr-25"]  # fmt: skip


@pytest.mark.parametrize("patient", PATIENTS)
def test_persistent_pain_for_three_months_or_more(patient: str) -> None:
    onsets = [
        days_ago(c["onsetDateTime"])
        for c in chart(patient)["Condition"]
        if "pain" in c["code"]["text"]
    ]
    assert onsets and max(onsets) >= 90


@pytest.mark.parametrize("patient", PATIENTS)
def test_safety_labs_within_30_days(patient: str) -> None:
    for loinc in ("98979-8", "2160-0", "6301-6", "777-3"):
        latest = labs(patient, loinc)
        assert latest and days_ago(latest[0]["effectiveDateTime"]) <= 30, (patient, loinc)
    egfr = labs(patient, "98979-8")[0]["valueQuantity"]["value"]
    assert (egfr == 25) if patient == "egfr-25" else (egfr >= 60)


@pytest.mark.parametrize("patient", [*GOOD, "no-spine-mri", "prior-fusion-l4-l5"])
def test_three_months_of_therapy_and_medication(patient: str) -> None:
    assert therapy_span_days(patient) >= 90
    assert analgesic_courses(patient)


def test_too_little_conservative_care_is_six_weeks_of_therapy_and_no_medication() -> None:
    span = therapy_span_days("short-conservative-care")
    assert 35 <= span <= 45
    assert analgesic_courses("short-conservative-care") == []


@pytest.mark.parametrize(
    "patient", [p for p in PATIENTS if p not in ("no-spine-mri", "cervical-candidate")]
)
def test_lumbar_mri_within_a_year(patient: str) -> None:
    mris = spine_mris(patient, "24968-0")
    assert mris and all(days_ago(r["effectiveDateTime"]) <= 365 for r in mris)
    assert all(r["conclusion"] and r["imagingStudy"] for r in mris)


def test_cervical_candidate_has_a_cervical_mri_and_disc() -> None:
    assert spine_mris("cervical-candidate", "24935-9")
    sites = {
        c
        for cond in chart("cervical-candidate")["Condition"]
        for s in cond.get("bodySite", [])
        for c in codes(s, SNOMED)
    }
    assert sites == {"73959003"}  # C5/C6


def test_no_spine_mri_has_no_imaging_at_all() -> None:
    assert chart("no-spine-mri")["DiagnosticReport"] == []
    assert chart("no-spine-mri")["ImagingStudy"] == []


def test_only_the_apixaban_patient_is_anticoagulated() -> None:
    for patient in PATIENTS:
        active = [
            m["medicationCodeableConcept"]["text"]
            for m in chart(patient)["MedicationRequest"]
            if m["status"] == "active" and "apixaban" in m["medicationCodeableConcept"]["text"]
        ]
        assert active == (["apixaban 5 mg oral tablet"] if patient == "on-apixaban" else [])


def test_only_the_allergic_patient_has_a_contrast_allergy() -> None:
    for patient in PATIENTS:
        allergies = [
            a
            for a in chart(patient)["AllergyIntolerance"]
            if "293637006" in codes(a["code"], SNOMED)
            and a["clinicalStatus"]["coding"][0]["code"] == "active"
        ]
        assert len(allergies) == (1 if patient == "contrast-allergy" else 0)


def test_pregnancy_status() -> None:
    answers = {
        patient: [codes(o["valueCodeableConcept"], SNOMED) for o in labs(patient, "82810-3")]
        for patient in PATIENTS
    }
    assert answers["pregnant"] == [{"77386006"}]
    assert days_ago(labs("pregnant", "82810-3")[0]["effectiveDateTime"]) <= 30
    females = [p for p in PATIENTS if chart(p)["Patient"][0]["gender"] == "female"]
    for patient in females:
        if patient != "pregnant":
            assert answers[patient] == [{"60001007"}], patient


def test_prior_fusion_at_l4_l5_has_no_invented_code() -> None:
    fusions = [
        p for p in chart("prior-fusion-l4-l5")["Procedure"] if "fusion" in p["code"]["text"].lower()
    ]
    assert len(fusions) == 1
    fusion = fusions[0]
    assert "coding" not in fusion["code"]
    assert codes(fusion["bodySite"][0], SNOMED) == {"84020006"}  # L4/L5 disc
    assert fusion["status"] == "completed"
    for patient in PATIENTS:
        if patient != "prior-fusion-l4-l5":
            assert not any(
                "fusion" in p["code"]["text"].lower() for p in chart(patient)["Procedure"]
            )


def test_scenarios_name_their_expected_outcome() -> None:
    outcomes = {s.patient_id: s.expected_outcome for s in scenarios()}
    assert outcomes["lumbar-candidate"] == outcomes["cervical-candidate"] == "candidate"
    assert outcomes["pregnant"] == outcomes["short-conservative-care"] == "not-candidate"
    assert all(s.deciding for s in scenarios() if s.expected_outcome != "candidate")
