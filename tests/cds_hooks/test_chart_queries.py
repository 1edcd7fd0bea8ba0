from __future__ import annotations

import re

import pytest

from plugin.candidacy import default_policy
from plugin.cds_hooks.chart_queries import (
    ChartQuery,
    FhirRead,
    FhirSearch,
    chart_queries,
    prefetch_templates,
    rendered_query,
)
from plugin.terminology import system_url

QUERIES = chart_queries(default_policy())
TOKEN = re.compile(r"\{\{([^}]*)\}\}")


def test_templates_use_only_the_patient_id_token() -> None:
    # Hook library: draftOrders and selections are never prefetch tokens.
    for query in QUERIES:
        tokens = TOKEN.findall(query.template)
        assert tokens == ["context.patientId"], query


def test_templates_stay_within_the_recommended_query_subset() -> None:
    allowed = {"patient", "category", "code"}
    for query in QUERIES:
        request = rendered_query(query, {"patientId": "p"})
        if isinstance(request, FhirSearch):
            assert {name for name, _ in request.params} <= allowed
            assert ("patient", "p") in request.params
            assert not any(":" in name for name, _ in request.params)  # no modifiers


def test_every_chart_type_the_engine_reads_is_queried() -> None:
    types = {rendered_query(q, {"patientId": "p"}).resource_type for q in QUERIES}
    assert types == {
        "Patient",
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
    }


def test_medications_are_not_limited_to_active_ones() -> None:
    # Conservative care counts completed courses.
    templates = prefetch_templates(QUERIES)
    assert templates["medicationRequests"] == "MedicationRequest?patient={{context.patientId}}"
    assert "status" not in templates["medicationStatements"]


def test_observation_codes_come_from_the_policy() -> None:
    request = rendered_query(
        next(q for q in QUERIES if q.key == "codedObservations"), {"patientId": "p"}
    )
    codes = dict(request.params)["code"].split(",") if isinstance(request, FhirSearch) else []
    loinc = system_url("loinc")
    for code in ("82810-3", "98979-8", "6301-6", "777-3", "72514-3", "2160-0"):
        assert f"{loinc}|{code}" in codes
    assert len(codes) == len(set(codes))


def test_read_template_renders_to_a_read() -> None:
    assert rendered_query(QUERIES[0], {"patientId": "abc"}) == FhirRead("Patient", "abc")


def test_an_id_cannot_add_search_parameters() -> None:
    request = rendered_query(
        ChartQuery("x", "Condition?patient={{context.patientId}}"), {"patientId": "a&code=1"}
    )
    assert request == FhirSearch("Condition", (("patient", "a&code=1"),))


def test_a_token_naming_an_absent_field_is_an_error() -> None:
    with pytest.raises(KeyError):
        rendered_query(ChartQuery("x", "Encounter/{{context.encounterId}}"), {"patientId": "p"})
