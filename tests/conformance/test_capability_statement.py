from datetime import date
from typing import Any

from plugin.candidacy import default_policy
from plugin.cds_hooks.chart_queries import (
    FhirRead,
    app_chart_queries,
    chart_queries,
    rendered_query,
)
from plugin.conformance.capability_statement import capability_statement
from plugin.writeback import LookupMethod, StepAction, WritePlan, build_plan
from smart_app.banner import FHIR_USER_TYPES
from tests.writeback.studies import frozen_lumbar
from tests.writeback.test_plan import EPIC, FULL, PER_RESOURCE, amend

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
    assert "read" in interactions(by_type["ServiceRequest"])  # the draft order
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


def test_amended_resources_are_read_and_updated_and_own_copies_searched() -> None:
    by_type = resources()
    for kind in ("Procedure", "Observation", "DiagnosticReport", "DocumentReference"):
        assert {"read", "update", "search-type"} <= set(interactions(by_type[kind])), kind
        assert "identifier" in {p["name"] for p in by_type[kind]["searchParam"]}, kind
    provenance = by_type["Provenance"]
    assert interactions(provenance) == ["search-type", "create"]  # never updated nor read
    assert [p["name"] for p in provenance["searchParam"]] == ["_tag"]


def declared() -> set[tuple[str, str]]:
    """(type, interaction) and (type, "?" + search parameter) the statement lists."""
    found: set[tuple[str, str]] = set()
    for kind, resource in resources().items():
        found.update((kind, code) for code in interactions(resource))
        found.update((kind, "?" + p["name"]) for p in resource.get("searchParam", []))
    return found


def _written(plans: list[WritePlan]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for plan in plans:
        for step in plan.steps:
            kind = step.resource_type
            if step.action is StepAction.UPDATE:
                # The executor reads what it updates where versions are missing or moved on.
                found.update({(kind, "update"), (kind, "read")})
                continue
            found.add((kind, "create"))
            if step.lookup is not LookupMethod.NONE:  # its own copy is searched for
                found.update({(kind, "search-type"), (kind, "?" + step.search_parameter)})
    return found


def used_at_the_ehr() -> set[tuple[str, str]]:
    """Everything the app does at an EHR, from the code that does it."""
    policy = default_policy()
    found: set[tuple[str, str]] = set()
    for query in (*chart_queries(policy), *app_chart_queries(policy, date(2026, 12, 7))):
        request = rendered_query(query, {"patientId": "p"})
        if isinstance(request, FhirRead):
            found.add((request.resource_type, "read"))
            continue
        found.add((request.resource_type, "search-type"))
        found.update(
            (request.resource_type, "?" + name.split(":")[0])
            for name, _ in request.params
            if name not in _RESULT_PARAMETERS
        )
    first = build_plan(frozen_lumbar(), FULL, version=1)
    found |= _written([first, *amend(FULL), *amend(PER_RESOURCE), *amend(EPIC)])
    found.update((kind, "read") for kind in FHIR_USER_TYPES)  # the signed-in user (fhirUser)
    found.add(("ServiceRequest", "read"))  # the draft order the app is opened for
    return found


#: Search result parameters (FHIR R4 search, "Modifying Search Results"): not search
#: parameters, so not in searchParam; the resource's documentation says how they are used.
_RESULT_PARAMETERS = {"_sort", "_count"}


def test_the_statement_lists_exactly_what_the_app_does() -> None:
    assert declared() == used_at_the_ehr()


def test_the_latest_first_observation_searches_are_documented() -> None:
    policy = default_policy()
    sorted_types = {
        rendered_query(q, {"patientId": "p"}).resource_type
        for q in chart_queries(policy)
        if q.latest_first
    }
    assert sorted_types == {"Observation"}
    assert "_sort=-date" in resources()["Observation"]["documentation"]
