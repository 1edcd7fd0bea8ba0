"""Reading the chart in date windows against the real sandbox FHIR server (in process), capped
at 50 a page as some EHRs are, with the dates that make windows hard: Periods across an edge
or open at one end, partial dates, offsets either side of midnight, instants, future dates and
none. Every query read in parts returns exactly what it returns read whole, and the chart the
engine assesses is the same — for the SMART app, and for the CDS service reading fhirServer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from plugin.candidacy.chart import chart_from_resources
from plugin.candidacy.engine import assess_candidacy
from plugin.candidacy.lookback import words_only_since
from plugin.candidacy.policy_file import default_policy
from plugin.cds_hooks.chart_gathering import gather_chart
from plugin.cds_hooks.chart_queries import (
    FhirSearch,
    app_chart_queries,
    chart_queries,
    rendered_query,
)
from plugin.cds_hooks.hook_request import Hook, parse_hook_request
from plugin.cds_hooks.latest_first import within_horizon
from plugin.sandbox.app import create_sandbox_app, sandbox_of
from plugin.sandbox.config import SandboxConfig
from plugin.sandbox.instance import SandboxEhr
from smart_app import search_parts
from smart_app.fhir_client import FhirClient, RetryPolicy, SearchQuery, StaticTokenSource
from smart_app.scopes import GrantedAccess
from smart_app.search_in_parts import search_in_parts
from smart_app.workflow.chart_reading import MAX_PAGES, MAX_RESOURCES, read_chart
from tests.cds_hooks.conftest import hook_call

pytestmark = pytest.mark.integration

ORIGIN = "http://127.0.0.1:8000"
PATIENT = "windows-patient"
TODAY = date(2026, 11, 23)  # recentLabResults then reads from 2026-02-14
PAGE_CAP = 50
LOINC = "http://loinc.org"
LAB = "laboratory"
CODES = (("2160-0", LAB), ("777-3", LAB), ("6301-6", LAB), ("98979-8", LAB), ("72514-3", "survey"))


def observation(
    key: str, code: str | None = "2160-0", category: str = LAB, **dated: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": key,
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code}]} if code else {"text": "eGFR"},
        "valueQuantity": {"value": 1.1, "unit": "mg/dL"},
        **dated,
    }
    return resource


def awkward() -> list[dict[str, Any]]:
    """The dates that make windows hard, on coded laboratory results (read by both the coded
    and the laboratory searches) and on results known by their words only."""
    future = (TODAY + timedelta(days=30)).isoformat()
    far_future = (TODAY + timedelta(days=3 * 365)).isoformat()
    dated: list[dict[str, Any]] = [
        {"effectivePeriod": {"start": "2024-06-01", "end": "2026-06-01"}},  # across edges
        {"effectivePeriod": {"start": "2025-11-01", "end": "2026-03-01"}},  # across `since`
        {"effectivePeriod": {"start": "2026-03-01"}},  # still going
        {"effectivePeriod": {"end": "2025-01-15"}},  # no start
        {"effectiveDateTime": "2019"},
        {"effectiveDateTime": "2026"},
        {"effectiveDateTime": "2026-02"},  # a month holding `since`
        {"effectiveDateTime": "2026-02-13T23:30:00-05:00"},  # 04:30 UTC on the 14th
        {"effectiveDateTime": "2026-02-14T00:15:00+14:00"},  # still the 13th in UTC
        {"effectiveDateTime": "2025-12-31T23:59:59-12:00"},
        {"effectiveInstant": "2026-07-01T00:00:00+14:00"},
        {"effectiveDateTime": future},
        {"effectiveDateTime": far_future},
        {"issued": "2026-05-05T10:00:00Z"},  # no effective date at all
        {},
    ]
    coded = [observation(f"odd-{i}", **d) for i, d in enumerate(dated)]
    words = [observation(f"odd-words-{i}", code=None, **d) for i, d in enumerate(dated)]
    return coded + words


def chart() -> list[dict[str, Any]]:
    patient = {"resourceType": "Patient", "id": PATIENT, "gender": "female"}
    patient |= {"birthDate": "1970-05-01"}
    regular = []
    for i in range(300):  # every 3 days back from today: about two and a half years
        code, category = CODES[i % len(CODES)]
        when = (TODAY - timedelta(days=3 * i)).isoformat()
        regular.append(observation(f"obs-{i}", code, category, effectiveDateTime=when))
    words_only = [  # labs known by their words, daily over the laboratory window
        observation(f"words-{i}", None, effectiveDateTime=(TODAY - timedelta(days=i)).isoformat())
        for i in range(150)
    ]
    medications = [
        {
            "resourceType": "MedicationRequest",
            "id": f"med-{i}",
            "status": "completed",
            "intent": "order",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "medicationCodeableConcept": {"text": "naproxen 500 mg oral tablet"},
            "authoredOn": (TODAY - timedelta(days=20 * i)).isoformat(),
        }
        for i in range(60)
    ]
    return [patient, *regular, *words_only, *awkward(), *medications]


def reference(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


@dataclass
class CountCap:
    """An EHR that never sends more than `limit` a page, whatever `_count` asks; it notes
    the searches asked (not their next pages)."""

    app: Any
    limit: int
    searches: list[list[tuple[str, str]]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            pairs = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
            pairs = [
                (k, str(min(int(v), self.limit)) if k == "_count" and v.isdigit() else v)
                for k, v in pairs
            ]
            if not any(k == "_getpages" for k, _ in pairs):
                self.searches.append(pairs)
            scope = {**scope, "query_string": urlencode(pairs).encode()}
        await self.app(scope, receive, send)


@dataclass
class Ehr:
    sandbox: SandboxEhr
    capped: CountCap
    http: httpx.AsyncClient
    fhir_base: str


@pytest.fixture
async def ehr() -> AsyncIterator[Ehr]:
    config = SandboxConfig(base_url=ORIGIN)
    app = create_sandbox_app(config)
    capped = CountCap(app, PAGE_CAP)
    sandbox = sandbox_of(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=capped), base_url=ORIGIN
    ) as http:
        loader = sandbox.issue_access_token("loader", "user/*.cruds").token
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": r, "request": {"method": "PUT", "url": reference(r)}} for r in chart()
            ],
        }
        loaded = await http.post(
            config.fhir_base, json=bundle, headers={"Authorization": f"Bearer {loader}"}
        )
        assert loaded.status_code == 200, loaded.text
        capped.searches.clear()
        yield Ehr(sandbox, capped, http, config.fhir_base)
    await sandbox.close()


@pytest.fixture
def client(ehr: Ehr) -> FhirClient:
    token = ehr.sandbox.issue_access_token("app", "patient/*.rs", patient=PATIENT).token
    # Pages of 1000 asked for, as the app asks; the EHR sends 50.
    return FhirClient(
        ehr.fhir_base,
        StaticTokenSource(token),
        ehr.http,
        policy=RetryPolicy.for_app(max_attempts=1),
        page_size=1000,
    )


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parts of 2 pages: this chart's searches (4–8 pages of 50) are then cut.
    monkeypatch.setattr(search_parts, "PAGES_PER_PART", 2)


def searches() -> list[FhirSearch]:
    found = []
    for query in app_chart_queries(default_policy(), TODAY):
        request = rendered_query(query, {"patientId": PATIENT})
        if isinstance(request, FhirSearch):
            found.append(request)
    return found


def keys(resources: Any) -> list[tuple[str, str]]:
    return [(r["resourceType"], r["id"]) for r in resources]


async def read_whole(client: FhirClient, request: FhirSearch) -> list[dict[str, Any]]:
    results = await client.search(
        request.resource_type,
        list(request.params),
        max_pages=MAX_PAGES,
        max_resources=MAX_RESOURCES,
    )
    assert not results.truncated
    return [*results, *results.included]


async def test_every_query_read_in_parts_returns_what_it_returns_whole(
    client: FhirClient, ehr: Ehr
) -> None:
    cut = 0
    for request in searches():
        whole = await read_whole(client, request)
        ehr.capped.searches.clear()
        query = SearchQuery(
            request.resource_type,
            list(request.params),
            max_pages=MAX_PAGES,
            max_resources=MAX_RESOURCES,
        )
        parts = await search_in_parts(client, query, today=TODAY)
        assert not parts.truncated
        assert len(set(keys(parts))) == len(parts)  # each resource once
        assert set(keys(parts)) == set(keys(whole)), request.params
        windows = [p for p in ehr.capped.searches if any(k == "date" for k, _ in p)]
        cut += len(windows) > 1
    # The coded and the laboratory searches were long enough to be cut.
    assert cut == 2


async def test_the_chart_assessed_is_the_one_read_whole(client: FhirClient, ehr: Ehr) -> None:
    policy = default_policy()
    reading = await read_chart(
        client,
        patient_id=PATIENT,
        access=GrantedAccess.parse("patient/*.rs"),
        policy=policy,
        today=TODAY,
    )
    assert reading.gaps == ()
    whole: list[dict[str, Any]] = [await client.read("Patient", PATIENT)]
    for request in searches():
        whole += await read_whole(client, request)
    split_chart = chart_from_resources(reading.resources)
    whole_chart = chart_from_resources(whole)
    assert keys(split_chart.resources) == keys(whole_chart.resources)
    assert split_chart.resources == whole_chart.resources
    assert assess_candidacy(split_chart, today=TODAY, policy=policy) == assess_candidacy(
        whole_chart, today=TODAY, policy=policy
    )
    # Every awkward coded record is there; of those known by their words, at least the
    # undated and the future ones (older ones are left out by the laboratory search's date).
    read = {key[1] for key in keys(split_chart.resources)}
    assert {f"odd-{i}" for i in range(15)} <= read
    assert {"odd-words-11", "odd-words-12", "odd-words-13", "odd-words-14"} <= read


async def test_the_cds_service_fetches_long_searches_in_parts_too(ehr: Ehr) -> None:
    # Without a prefetch the CDS service reads the same queries from fhirServer: a long one
    # in windows, with exactly what it holds read whole (what a client's prefetch carries).
    token = ehr.sandbox.issue_access_token("cds", "patient/*.rs", patient=PATIENT).token
    body = hook_call(fhir=True)
    body["context"]["patientId"] = PATIENT
    body["fhirServer"] = ehr.fhir_base
    body["fhirAuthorization"] |= {"access_token": token, "patient": PATIENT}
    call = parse_hook_request(body, Hook.ORDER_SIGN, allow_plain_http_loopback=True)
    queries = chart_queries(default_policy())
    horizon = words_only_since(default_policy(), TODAY)
    assert horizon is not None
    fetched = await gather_chart(queries, call, ehr.http, today=TODAY, horizon=horizon)
    windows = [p for p in ehr.capped.searches if any(k == "date" for k, _ in p)]
    assert len(windows) > 2  # the long Observation searches were cut

    whole_client = FhirClient(ehr.fhir_base, StaticTokenSource(token), ehr.http)
    whole: list[dict[str, Any]] = [await whole_client.read("Patient", PATIENT)]
    for query in queries:
        request = rendered_query(query, {"patientId": PATIENT})
        if isinstance(request, FhirSearch):
            found = await read_whole(whole_client, request)
            # A latest-first search counts its records from the horizon on, however read.
            whole += within_horizon(found, horizon) if query.latest_first else found
    assert sorted(keys(fetched)) == sorted(keys(whole))
