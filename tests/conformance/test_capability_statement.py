from typing import Any

from plugin.conformance.capability_statement import capability_statement

PROFILE = "https://discography-plugin.example/fhir/StructureDefinition/"


def resources() -> dict[str, dict[str, Any]]:
    rest = capability_statement()["rest"]
    assert len(rest) == 1 and rest[0]["mode"] == "client"
    return {r["type"]: r for r in rest[0]["resource"]}


def interactions(resource: dict[str, Any]) -> list[str]:
    return [i["code"] for i in resource["interaction"]]


def test_a_client_requirements_statement_for_r4() -> None:
    statement = capability_statement()
    assert (statement["kind"], statement["fhirVersion"]) == ("requirements", "4.0.1")
    assert "software" not in statement and "implementation" not in statement  # cpb-15
    assert [i["code"] for i in statement["rest"][0]["interaction"]] == ["transaction"]


def test_reads_and_searches() -> None:
    by_type = resources()
    assert interactions(by_type["Patient"]) == ["read"]
    searched = [
        "Condition",
        "Procedure",
        "ServiceRequest",
        "Encounter",
        "MedicationRequest",
        "MedicationStatement",
        "AllergyIntolerance",
        "Observation",
        "DiagnosticReport",
        "ImagingStudy",
    ]
    for kind in searched:
        assert "search-type" in interactions(by_type[kind]), kind
        assert by_type[kind]["searchParam"][0] == {"name": "patient", "type": "reference"}
    names = {p["name"] for p in by_type["Observation"]["searchParam"]}
    assert {"category", "code", "date"} <= names


def test_creates_with_our_profiles_and_conditional_create() -> None:
    by_type = resources()
    created = {
        "DocumentReference": "discography-document-reference",
        "DiagnosticReport": "discography-diagnostic-report",
        "Observation": "discography-level-observation",
        "Procedure": "discography-procedure",
        "Provenance": "discography-provenance",
    }
    for kind, profile in created.items():
        assert "create" in interactions(by_type[kind])
        assert by_type[kind]["conditionalCreate"] is True
        assert by_type[kind]["supportedProfile"] == [PROFILE + profile]
    assert all("supportedProfile" not in r for t, r in by_type.items() if t not in created)


def test_each_resource_once_and_search_parameters_unique() -> None:
    rest = capability_statement()["rest"][0]
    types = [r["type"] for r in rest["resource"]]
    assert len(types) == len(set(types))  # cpb-9
    for resource in rest["resource"]:
        names = [p["name"] for p in resource.get("searchParam", [])]
        assert len(names) == len(set(names))  # cpb-12
