"""Reading the chart through the FHIR client (respx at the transport): every policy query in
parallel, every page followed, and each part not read named with its reason."""

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import respx

from plugin.candidacy.policy_file import default_policy
from smart_app.fhir_client import FhirClient, RetryPolicy, StaticTokenSource
from smart_app.scopes import GrantedAccess
from smart_app.workflow import chart_reading
from smart_app.workflow.chart_reading import ChartReading, read_chart

BASE = "https://ehr.example.org/fhir"

TODAY = date(2026, 11, 23)


def bundle(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    links = [{"relation": "next", "url": next_url}] if next_url else []
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


async def read_everything(client: FhirClient) -> ChartReading:
    """The chart of patient p1 with every type granted, under the default policy."""
    return await read_chart(
        client,
        patient_id="p1",
        access=GrantedAccess.parse("patient/*.rs"),
        policy=default_policy(),
        today=TODAY,
    )


@pytest.fixture
async def client() -> AsyncIterator[FhirClient]:
    async with httpx.AsyncClient() as http:
        yield FhirClient(
            BASE, StaticTokenSource("token"), http, policy=RetryPolicy.for_app(max_attempts=1)
        )


@pytest.fixture
def ehr() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/Patient/p1").respond(json={"resourceType": "Patient", "id": "p1"})
        router.get("/Condition", params={"_page": "2"}).respond(
            json=bundle({"resourceType": "Condition", "id": "c2"})
        )
        router.get("/Condition").respond(
            json=bundle(
                {"resourceType": "Condition", "id": "c1"}, next_url=f"{BASE}/Condition?_page=2"
            )
        )
        router.get("/MedicationRequest").respond(
            403,
            json={
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "forbidden"}],
            },
        )
        router.get(url__regex=r".*").respond(json=bundle())
        yield router


async def test_every_query_is_sent_and_every_page_read(
    client: FhirClient, ehr: respx.MockRouter
) -> None:
    reading = await read_everything(client)
    ids = {(r["resourceType"], r["id"]) for r in reading.resources}
    assert ids == {("Patient", "p1"), ("Condition", "c1"), ("Condition", "c2")}
    searched = {call.request.url.path.rsplit("/", 1)[-1] for call in ehr.calls}
    assert {"Procedure", "ServiceRequest", "Encounter", "AllergyIntolerance"} <= searched
    assert {"Observation", "DiagnosticReport", "ImagingStudy", "MedicationStatement"} <= searched
    # Every search names the patient; none carries anything else of theirs.
    for call in ehr.calls:
        if call.request.url.path.endswith("/Patient/p1"):
            continue
        assert call.request.url.params.get("patient") in ("p1", None)  # None: the next link
    assert [(g.resource_type, g.reason.split(":")[0]) for g in reading.gaps] == [
        ("MedicationRequest", "could not be read")
    ]


async def test_what_the_scopes_do_not_cover_is_not_asked_and_is_named(
    client: FhirClient, ehr: respx.MockRouter
) -> None:
    reading = await read_chart(
        client,
        patient_id="p1",
        access=GrantedAccess.parse("patient/Patient.rs patient/Condition.rs"),
        policy=default_policy(),
        today=TODAY,
    )
    paths = {call.request.url.path for call in ehr.calls}
    assert paths == {"/fhir/Patient/p1", "/fhir/Condition"}
    gaps = {g.resource_type: g.reason for g in reading.gaps}
    assert gaps["Observation"] == "the EHR did not grant searching it"
    assert len([g for g in reading.gaps if g.resource_type == "Observation"]) == 1  # merged


async def test_a_search_cut_short_is_a_gap(
    client: FhirClient, ehr: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chart_reading, "MAX_PAGES", 1)
    reading = await read_everything(client)
    gap = next(g for g in reading.gaps if g.resource_type == "Condition")
    assert "only the first 1 were assessed" in gap.reason


async def test_a_long_search_with_a_failing_part_is_a_gap(client: FhirClient) -> None:
    """A search read in date windows is all or nothing: one part failing makes its
    resource type a gap, as the search failing whole would."""
    dated = [
        {"resourceType": "Observation", "id": f"o{i}", "effectiveDateTime": f"2025-0{i}-01"}
        for i in range(1, 10)
    ]

    def observations(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params.get("date:missing") == "true":
            return httpx.Response(503, json={"resourceType": "OperationOutcome"})
        if "date" in params or "_page" in params:
            return httpx.Response(200, json=bundle())
        first = bundle(*dated, next_url=f"{BASE}/Observation?_page=2")
        return httpx.Response(200, json={**first, "total": 5000})

    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/Patient/p1").respond(json={"resourceType": "Patient", "id": "p1"})
        router.get("/Observation").mock(side_effect=observations)
        router.get(url__regex=r".*").respond(json=bundle())
        reading = await read_everything(client)
        windows = [c.request.url.params.get_list("date") for c in router.calls]
    assert any(len(w) == 1 and w[0].startswith("lt") for w in windows)  # it was cut
    assert [(g.resource_type, g.reason.split(":")[0]) for g in reading.gaps] == [
        ("Observation", "could not be read")
    ]
    assert not [r for r in reading.resources if r["resourceType"] == "Observation"]
