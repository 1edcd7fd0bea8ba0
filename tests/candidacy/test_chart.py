"""Building a chart from a Bundle or a list: structure checked, noise dropped, order ignored."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from plugin.candidacy.chart import ChartInvalidError, chart_from_json, chart_from_resources
from tests.candidacy.chart_builder import condition, observation, patient


def bundle(*resources: dict[str, Any], kind: str = "searchset") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)],
    }


def problems(data: Any) -> set[tuple[str, str]]:
    with pytest.raises(ChartInvalidError) as caught:
        chart_from_json(data)
    return {(p.field, p.rule) for p in caught.value.problems}


def test_a_bundle_of_any_type_and_a_list_give_the_same_chart() -> None:
    resources = [patient(), condition("Low back pain", "c1", onset="2024-01")]
    for kind in ("searchset", "collection", "transaction"):
        chart = chart_from_json(bundle(*resources, kind=kind))
        assert [r["id"] for r in chart.resources] == ["c1", "p1"]
    assert [r["id"] for r in chart_from_json(resources).resources] == ["c1", "p1"]


def test_unread_types_and_void_records_are_dropped() -> None:
    chart = chart_from_resources(
        [
            patient(),
            {"resourceType": "Practitioner", "id": "dr"},
            {"resourceType": "OperationOutcome", "issue": []},
            observation("o1", loinc="98979-8", status="entered-in-error"),
            observation("o2", loinc="98979-8", status="cancelled"),
            observation("o3", loinc="98979-8"),
            condition("Low back pain", "refuted", verification="refuted"),
            condition("Low back pain", "error", verification="entered-in-error"),
            {"resourceType": "Procedure", "id": "nd", "status": "not-done"},
            {"resourceType": "MedicationStatement", "id": "nt", "status": "not-taken"},
            {"resourceType": "MedicationRequest", "id": "cx", "status": "cancelled"},
            {"resourceType": "ServiceRequest", "id": "rv", "status": "revoked"},
        ]
    )
    assert [r["id"] for r in chart.resources] == ["o3", "p1"]


def test_a_resource_delivered_twice_is_kept_once_in_its_latest_version() -> None:
    old = observation("o1", loinc="98979-8", value=40) | {"meta": {"versionId": "1"}}
    new = observation("o1", loinc="98979-8", value=45) | {"meta": {"versionId": "2"}}
    for order in ([old, new], [new, old]):
        chart = chart_from_resources(order)
        assert [r["valueQuantity"]["value"] for r in chart.of_type("Observation")] == [45]


def test_input_order_does_not_matter() -> None:
    resources = [patient(), condition("A", "c2"), condition("B", "c1"), observation("o1")]
    assert (
        chart_from_resources(resources).resources == chart_from_resources(resources[::-1]).resources
    )


def test_references_resolve_by_type_id_full_url_and_contained() -> None:
    med = {"resourceType": "Medication", "id": "m1", "code": {"text": "apixaban"}}
    request = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "active",
        "contained": [{"resourceType": "Medication", "id": "inline", "code": {"text": "warfarin"}}],
    }
    chart = chart_from_json(bundle(med, request))
    assert chart.resolve({"reference": "Medication/m1"}) is not None
    assert chart.resolve("https://ehr.example/fhir/Medication/m1") is not None
    assert chart.resolve("urn:uuid:0") is not None
    assert chart.resolve("#inline", within=chart.of_type("MedicationRequest")[0]) is not None
    assert chart.resolve("Medication/nope") is None


def test_patient_facts() -> None:
    chart = chart_from_resources([patient(sex="female", birth="1990-06-16")])
    assert chart.sex() == "female"
    assert chart.age_on(date(2025, 6, 15)) == 34
    assert chart.age_on(date(2025, 6, 16)) == 35
    # A partial birth date is read as its latest day: the youngest the patient can be.
    assert chart_from_resources([patient(birth="1990")]).age_on(date(2025, 6, 15)) == 34
    empty = chart_from_resources([])
    assert (empty.patient, empty.sex(), empty.age_on(date(2025, 1, 1))) == (None, None, None)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("text", ("", "type")),
        ({"resourceType": "Patient", "id": "p1"}, ("resourceType", "not-a-bundle")),
        ({"resourceType": "Bundle", "entry": {}}, ("entry", "type")),
        ({"resourceType": "Bundle", "entry": ["x"]}, ("entry[0]", "type")),
        (
            {"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]},
            ("entry[0].resource.resourceType", "missing"),
        ),
        ([{"id": "x"}], ("[0].resourceType", "missing")),
        ([3], ("[0]", "type")),
        ([patient(), patient(pid="p2")], ("Patient", "one-patient")),
        (
            [
                patient(),
                condition("Low back pain", "c1") | {"subject": {"reference": "Patient/p2"}},
            ],
            ("Condition/c1.subject", "other-patient"),
        ),
    ],
)
def test_bad_input_names_the_entry_and_rule(data: Any, expected: tuple[str, str]) -> None:
    assert expected in problems(data)


def test_entries_without_a_resource_are_skipped() -> None:
    chart = chart_from_json(
        {"resourceType": "Bundle", "entry": [{"request": {"method": "DELETE"}}]}
    )
    assert chart.resources == ()


def test_every_bad_entry_is_named_at_its_own_position() -> None:
    # An entry without a resource (a deleted entry) must not shift the paths of later ones.
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            "x",
            {"request": {"method": "DELETE", "url": "Condition/gone"}},
            {"resource": {"id": "no-type"}},
            None,
        ],
    }
    with pytest.raises(ChartInvalidError) as caught:
        chart_from_json(bundle)
    assert [(p.field, p.rule) for p in caught.value.problems] == [
        ("entry[0]", "type"),
        ("entry[2].resource.resourceType", "missing"),
        ("entry[3]", "type"),
    ]


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        (
            {"resourceType": "Observation", "id": "o1", "status": {"code": "entered-in-error"}},
            "entry[1].resource.status",
        ),
        (
            {"resourceType": "Condition", "id": "c1", "verificationStatus": {"coding": 5}},
            "entry[1].resource.verificationStatus.coding",
        ),
    ],
)
def test_an_unreadable_status_is_bad_input_naming_record_and_element(
    resource: dict[str, Any], field: str
) -> None:
    # It might say "entered-in-error": reading it as absent would count the record.
    bundle = {
        "resourceType": "Bundle",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}}, {"resource": resource}],
    }
    with pytest.raises(ChartInvalidError) as caught:
        chart_from_json(bundle)
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == (field, "type")
    assert problem.message.startswith(f"{resource['resourceType']}/{resource['id']}: ")


def test_contained_resources_of_the_wrong_type_resolve_to_nothing() -> None:
    request = {"resourceType": "MedicationRequest", "id": "m1", "contained": 5}
    chart = chart_from_resources([request])
    assert chart.resolve("#med", within=request) is None
