from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from plugin.candidacy import Order, assess_candidacy, chart_from_resources, default_policy
from plugin.candidacy.lookback import words_only_since
from plugin.cds_hooks.chart_queries import (
    LATEST_FIRST_PAGE,
    UNDATED,
    ChartQuery,
    FhirRead,
    FhirSearch,
    app_chart_queries,
    chart_queries,
    prefetch_templates,
    rendered_query,
)
from plugin.cds_hooks.latest_first import undated, within_horizon
from plugin.sandbox.fhir.search import matches, parse_search
from plugin.sandbox.synthetic_patients import scenarios, synthetic_resources
from plugin.study.levels import Region
from plugin.terminology import system_url
from tests.benchmarks import cds_service, chart_gathering
from tests.candidacy.chart_builder import BOTH

QUERIES = chart_queries(default_policy())
TOKEN = re.compile(r"\{\{([^}]*)\}\}")


def test_templates_use_only_the_patient_id_token() -> None:
    # Hook library: draftOrders and selections are never prefetch tokens.
    for query in QUERIES:
        tokens = TOKEN.findall(query.template)
        assert tokens == ["context.patientId"], query


def test_templates_stay_within_the_recommended_query_subset() -> None:
    # Except the undated searches' date:missing: a client that cannot run it leaves the key
    # out and the service fetches it (an EHR without it is read whole for its undated records).
    allowed = {"patient", "category", "code", "_sort", "_count"}
    for query in QUERIES:
        request = rendered_query(query, {"patientId": "p"})
        if isinstance(request, FhirSearch):
            params = [p for p in request.params if not (query.undated and p == UNDATED)]
            assert {name for name, _ in params} <= allowed
            assert ("patient", "p") in params
            assert not any(":" in name for name, _ in params)  # no modifiers


def test_each_observation_search_is_latest_first_with_an_undated_twin() -> None:
    observations = {}
    for query in QUERIES:
        request = rendered_query(query, {"patientId": "p"})
        params = request.params if isinstance(request, FhirSearch) else ()
        if request.resource_type != "Observation":
            assert not (query.latest_first or query.undated), query.key
            continue
        assert query.latest_first != query.undated, query.key
        assert (("_sort", "-date") in params) == query.latest_first, query.key
        assert (("_count", str(LATEST_FIRST_PAGE)) in params) == query.latest_first, query.key
        assert (UNDATED in params) == query.undated, query.key
        observations[query.key] = [p for p in params if p[0] not in ("_sort", "_count")]
    assert observations["undatedLabResults"] == [*observations["labResults"], UNDATED]
    assert observations["undatedCodedObservations"] == [
        *observations["codedObservations"],
        UNDATED,
    ]


def test_with_labs_counting_at_any_age_no_search_is_narrowed() -> None:
    # A clotting-risk lab outside every lab requirement is judged by its latest result,
    # however old: there is no horizon to read back to.
    policy = default_policy()
    narrowed = policy.model_copy(
        update={
            "lab_requirements": tuple(r for r in policy.lab_requirements if "egfr" not in r.any_of)
        }
    )
    assert words_only_since(narrowed, TODAY) is None
    queries = chart_queries(narrowed)
    assert not any(q.latest_first or "_sort" in q.template for q in queries)


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


# -- the SMART app's read: laboratory results bounded by date ---------------------------------

TODAY = date(2026, 11, 23)
APP_QUERIES = app_chart_queries(default_policy(), TODAY)
SANDBOX_BASE = "https://sandbox.example.org/fhir"


def _run(queries: tuple[ChartQuery, ...], chart: list[dict[str, Any]], pid: str) -> list[Any]:
    """What a FHIR server answers to the queries, by the sandbox's search rules."""
    found: list[Any] = []
    for query in queries:
        request = rendered_query(query, {"patientId": pid})
        if isinstance(request, FhirRead):
            found += [
                r
                for r in chart
                if r["resourceType"] == request.resource_type and r["id"] == request.resource_id
            ]
            continue
        search = parse_search(request.resource_type, list(request.params), SANDBOX_BASE)
        found += [
            r
            for r in chart
            if r["resourceType"] == request.resource_type and matches(search, r, SANDBOX_BASE)
        ]
    return found


def _assessed(resources: list[Any], order: Order) -> dict[str, Any]:
    chart = chart_from_resources(resources)
    assessment = assess_candidacy(chart, today=TODAY, order=order, attestations=BOTH)
    dumped: dict[str, Any] = assessment.model_dump(mode="json")
    return dumped


def test_the_app_reads_labs_from_the_lookback_and_the_undated_ones() -> None:
    templates = {q.key: q.template for q in APP_QUERIES}
    since = words_only_since(default_policy(), TODAY)
    assert since is not None
    labs = "Observation?patient={{context.patientId}}&category=laboratory"
    assert templates.pop("recentLabResults") == f"{labs}&date=ge{since.isoformat()}"
    assert templates.pop("undatedLabResults") == f"{labs}&date:missing=true"
    expected = {
        q.key: q.template.removesuffix(f"&_sort=-date&_count={LATEST_FIRST_PAGE}")
        for q in QUERIES
        if not q.undated
    }
    del expected["labResults"]
    # Every other query as the services run it, the coded Observations whole (the app can
    # afford them: it reads them once, in parts, and shows every one it cites).
    assert templates == expected
    assert [q.key for q in APP_QUERIES[:3]] == [
        "recentLabResults",
        "undatedLabResults",
        "codedObservations",
    ]  # the long searches first


def _run_latest_first(chart: list[dict[str, Any]], pid: str) -> list[Any]:
    """What the CDS services count of the chart: each latest-first search from the horizon."""
    horizon = words_only_since(default_policy(), TODAY)
    assert horizon is not None
    found: list[Any] = []
    for query in QUERIES:
        answer = _run((query,), chart, pid)
        if query.latest_first:
            answer = list(within_horizon(answer, horizon))
        elif query.undated:
            answer = list(undated(answer))
        found += answer
    return found


def _bounded_read(reader: str, chart: list[dict[str, Any]], pid: str) -> list[Any]:
    """The SMART app's read (labs by date), or the services' (Observations latest first)."""
    return _run(APP_QUERIES, chart, pid) if reader == "app" else _run_latest_first(chart, pid)


READERS = ["app", "services"]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.patient_id)
def test_the_bounded_read_assesses_each_synthetic_patient_as_the_full_read(
    scenario: Any, reader: str
) -> None:
    chart = [r for r in synthetic_resources(TODAY) if r["resourceType"] != "Practitioner"]
    pid = scenario.patient_id
    order = Order(region=Region(scenario.region), levels=tuple(scenario.levels))
    full = _run(QUERIES, chart, pid)
    assert _assessed(_bounded_read(reader, chart, pid), order) == _assessed(full, order)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("long_chart", ["cds", "gathering"])
def test_the_bounded_read_assesses_the_benchmark_charts_as_the_full_read(
    long_chart: str, reader: str
) -> None:
    if long_chart == "cds":
        chart, pid = cds_service.realistic_chart(TODAY, 3000, 300), cds_service.PATIENT
    else:
        chart, pid = chart_gathering._chart(3000, 300, TODAY), chart_gathering.PATIENT
    full = _run(QUERIES, chart, pid)
    bounded = _bounded_read(reader, chart, pid)
    assert len(bounded) < len(full) * (0.5 if reader == "services" else 1)  # smaller …
    order = Order(region=Region.LUMBAR, levels=("L4-L5",))
    assert _assessed(bounded, order) == _assessed(full, order)  # … and judges the same


def test_an_old_lab_known_by_its_words_changes_no_outcome_status_or_severity() -> None:
    # The one difference the bound allows: a words-only lab older than every window is left
    # out, so "out of date" (citing it) becomes "missing" — the same item, the same severity.
    chart = [
        {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1960-01-01"},
        {
            "resourceType": "Observation",
            "id": "old-egfr",
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "urn:local", "code": "GFR"}], "text": "eGFR"},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2024-01-10",
            "valueQuantity": {"value": 80},
        },
    ]
    order = Order(region=Region.LUMBAR)
    full = _assessed(_run(QUERIES, chart, "p1"), order)
    bounded = _assessed(_run(APP_QUERIES, chart, "p1"), order)

    def decided(assessment: dict[str, Any]) -> Any:
        return (
            assessment["outcome"],
            [(c["id"], c["status"]) for c in assessment["criteria"]],
            [(s["id"], s["severity"]) for s in assessment["safety"]],
        )

    assert decided(bounded) == decided(full)
    kinds = (
        {s["id"]: s["kind"] for s in full["safety"]},
        {s["id"]: s["kind"] for s in bounded["safety"]},
    )
    assert (kinds[0]["lab-kidney-function"], kinds[1]["lab-kidney-function"]) == (
        "lab-out-of-date",
        "lab-missing",
    )


def test_labs_known_by_their_words_inside_the_lookback_are_all_read() -> None:
    since = words_only_since(default_policy(), TODAY)
    assert since is not None

    def lab(lid: str, text: str, value: float, **when: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": lid,
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "urn:local", "code": lid}], "text": text},
            "subject": {"reference": "Patient/p1"},
            "valueQuantity": {"value": value},
            **when,
        }

    chart = [
        {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1990-01-01"},
        lab("recent-egfr", "eGFR", 25, effectiveDateTime=(TODAY - timedelta(days=3)).isoformat()),
        lab("issued-inr", "INR", 2.4, issued=f"{TODAY - timedelta(days=2)}T08:00:00Z"),
        lab("edge-hcg", "Serum hCG", 0, effectiveDateTime=since.isoformat()),
    ]
    order = Order(region=Region.LUMBAR)
    bounded = _run(APP_QUERIES, chart, "p1")
    assert {r["id"] for r in bounded} == {"p1", "recent-egfr", "issued-inr", "edge-hcg"}
    assert _assessed(bounded, order) == _assessed(_run(QUERIES, chart, "p1"), order)
