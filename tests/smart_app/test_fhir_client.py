"""The EHR FHIR client against a respx-mocked FHIR server. Time is fake: sleeps are recorded
and advance a fake monotonic clock, so retry paths run instantly and deterministically."""

from __future__ import annotations

import asyncio
import doctest
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx

from plugin.errors import InputProblemError
from smart_app import fhir_client, fhir_errors
from smart_app.capabilities import CapabilityCache
from smart_app.fhir_client import (
    FhirClient,
    RetryPolicy,
    SearchQuery,
    SearchResults,
    StaticTokenSource,
    retry_after_seconds,
)
from smart_app.fhir_errors import (
    FhirAuthError,
    FhirConflict,
    FhirError,
    FhirHttpError,
    FhirInvalidResource,
    FhirNotFound,
    FhirPagingError,
    FhirPreconditionFailed,
    FhirRateLimited,
    FhirServerError,
    FhirTimeoutError,
    FhirTransportError,
    FhirUnexpectedResponseError,
    TokenRefreshUnavailableError,
    outcome_issues,
)

BASE = "https://ehr.example.org/fhir/R4"
PATIENT_ID = "pat-7731"  # must never appear in logs or error strings
# A wall clock at a non-UTC offset, so a time-zone slip in Retry-After dates shows.
WALL_NOW = datetime(2025, 3, 9, 14, 30, 0, tzinfo=timezone(timedelta(hours=-5)))


@dataclass
class FakeTime:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RefreshingTokens:
    """A token source like the SMART session's: one token, renewed on demand."""

    def __init__(self) -> None:
        self.token = "token-1"
        self.refreshes = 0

    async def access_token(self) -> str:
        return self.token

    async def refreshed_access_token(self) -> str:
        self.refreshes += 1
        await asyncio.sleep(0)  # let parallel requests pile up behind the refresh
        self.token = f"token-{self.refreshes + 1}"
        return self.token


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def policy(fake_time: FakeTime) -> RetryPolicy:
    return RetryPolicy.for_app(
        sleep=fake_time.sleep,
        clock=fake_time.monotonic,
        wall_clock=lambda: WALL_NOW,
        jitter=lambda: 0.5,
    )


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_called=False)


@pytest.fixture
async def http(router: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
        yield client


@pytest.fixture
def tokens() -> RefreshingTokens:
    return RefreshingTokens()


@pytest.fixture
def client(http: httpx.AsyncClient, tokens: RefreshingTokens, policy: RetryPolicy) -> FhirClient:
    return FhirClient(BASE, tokens, http, policy=policy)


def fhir(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/fhir+json", **headers},
    )


def outcome(code: str, diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def observation(obs_id: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": obs_id, "status": "final"}


def bundle(
    *resources: dict[str, Any], next_url: str | None = None, total: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
        "link": [{"relation": "self", "url": f"{BASE}/Observation"}],
    }
    if next_url:
        body["link"].append({"relation": "next", "url": next_url})
    if total is not None:
        body["total"] = total
    return body


# -- read ----------------------------------------------------------------------------------


async def test_read_sends_bearer_token_and_returns_the_resource(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.get(f"{BASE}/Patient/{PATIENT_ID}").mock(
        return_value=fhir({"resourceType": "Patient", "id": PATIENT_ID})
    )
    patient = await client.read("Patient", PATIENT_ID)
    assert patient == {"resourceType": "Patient", "id": PATIENT_ID}
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == "Bearer token-1"
    assert "application/fhir+json" in sent.headers["Accept"]


async def test_an_anonymous_client_sends_no_authorization(
    http: httpx.AsyncClient, router: respx.MockRouter, policy: RetryPolicy
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(
        return_value=fhir({"resourceType": "Patient", "id": "p1"})
    )
    await FhirClient(BASE, None, http, policy=policy).read("Patient", "p1")
    assert "Authorization" not in route.calls.last.request.headers


@pytest.mark.parametrize(
    ("resource_type", "resource_id", "field_name"),
    [
        ("Patient", "../metadata", "id"),
        ("Patient", "a?b=c", "id"),
        ("patient", "p1", "resource_type"),
    ],
)
async def test_read_refuses_ids_and_types_that_would_change_the_path(
    client: FhirClient,
    router: respx.MockRouter,
    resource_type: str,
    resource_id: str,
    field_name: str,
) -> None:
    with pytest.raises(InputProblemError) as caught:
        await client.read(resource_type, resource_id)
    assert caught.value.problems[0].field == field_name
    assert not router.calls


async def test_read_of_a_missing_resource_is_fhir_not_found_with_the_servers_words(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/Patient/{PATIENT_ID}").mock(
        return_value=fhir(outcome("not-found", f"Resource Patient/{PATIENT_ID} is not known"), 404)
    )
    with pytest.raises(FhirNotFound) as caught:
        await client.read("Patient", PATIENT_ID)
    error = caught.value
    assert error.status == 404
    assert error.issues[0].code == "not-found"
    assert PATIENT_ID in error.user_message  # the page may show it …
    assert PATIENT_ID not in str(error)  # … the logs may not
    assert error.request is not None and error.request.interaction == "read"


async def test_a_body_that_is_not_json_is_an_unexpected_response(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/Patient/p1").mock(
        return_value=httpx.Response(200, text="<html>login</html>")
    )
    with pytest.raises(FhirUnexpectedResponseError):
        await client.read("Patient", "p1")


async def test_a_resource_of_another_type_is_an_unexpected_response(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/Patient/p1").mock(
        return_value=fhir(outcome("processing", "Patient compartment unavailable"))
    )
    with pytest.raises(FhirUnexpectedResponseError) as caught:
        await client.read("Patient", "p1")
    assert "Patient compartment unavailable" in caught.value.user_message


async def test_redirects_are_not_followed(client: FhirClient, router: respx.MockRouter) -> None:
    elsewhere = router.get("https://login.example.net/fhir/Patient/p1")
    router.get(f"{BASE}/Patient/p1").mock(
        return_value=httpx.Response(
            302, headers={"Location": "https://login.example.net/fhir/Patient/p1"}
        )
    )
    with pytest.raises(FhirUnexpectedResponseError):
        await client.read("Patient", "p1")
    assert not elsewhere.called


# -- search and paging -------------------------------------------------------------------


async def test_search_follows_next_links_across_three_pages_and_merges_them(
    client: FhirClient, router: respx.MockRouter
) -> None:
    page2 = f"{BASE}?_getpages=abc&_getpagesoffset=2"
    page3 = "?_getpages=abc&_getpagesoffset=4"  # relative: resolved against the base
    first = bundle(observation("o1"), observation("o2"), next_url=page2, total=5)
    first["entry"].append(
        {"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "include"}}
    )
    second = bundle(observation("o2"), observation("o3"), next_url=page3)  # o2 repeated
    second["entry"].append(
        {
            "resource": outcome("informational", "page served from cache"),
            "search": {"mode": "outcome"},
        }
    )
    third = bundle(observation("o4"), observation("o5"))

    def pages(request: httpx.Request) -> httpx.Response:
        offset = request.url.params.get("_getpagesoffset")
        return fhir({None: first, "2": second, "4": third}[offset])

    route = router.get(url__startswith=BASE).mock(side_effect=pages)
    results = await client.search("Observation", {"patient": PATIENT_ID, "_count": 2})

    assert [r["id"] for r in results] == ["o1", "o2", "o3", "o4", "o5"]
    assert [r["id"] for r in results.included] == ["p1"]
    assert results.outcomes[0]["resourceType"] == "OperationOutcome"
    assert (results.total, results.pages, results.truncated) == (5, 3, False)
    assert route.call_count == 3
    first_request = route.calls[0].request
    assert first_request.url.path == "/fhir/R4/Observation"
    assert first_request.url.params["patient"] == PATIENT_ID
    # Every page carries the token; the next pages use the server's links as given.
    assert all(c.request.headers["Authorization"] == "Bearer token-1" for c in route.calls)
    assert route.calls[2].request.url.params["_getpagesoffset"] == "4"


async def test_search_repeats_a_parameter_given_a_list(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.get(f"{BASE}/Observation").mock(return_value=fhir(bundle()))
    results = await client.search(
        "Observation", {"date": ["ge2024-01-01", "le2024-12-31"], "code": "http://loinc.org|1-8"}
    )
    assert results == [] and isinstance(results, SearchResults)
    params = route.calls.last.request.url.params
    assert params.get_list("date") == ["ge2024-01-01", "le2024-12-31"]
    assert params["code"] == "http://loinc.org|1-8"


async def test_search_stops_at_max_pages_and_says_it_was_truncated(
    client: FhirClient, router: respx.MockRouter
) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        return fhir(bundle(observation(f"o{page}"), next_url=f"{BASE}/Observation?page={page + 1}"))

    route = router.get(f"{BASE}/Observation").mock(side_effect=endless)
    results = await client.search("Observation", max_pages=2)
    assert [r["id"] for r in results] == ["o1", "o2"]
    assert results.truncated and results.pages == 2
    assert route.call_count == 2


async def test_search_stops_at_max_resources(client: FhirClient, router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/Observation").mock(
        return_value=fhir(
            bundle(*(observation(f"o{i}") for i in range(5)), next_url=f"{BASE}/Observation?p=2")
        )
    )
    results = await client.search("Observation", max_resources=3)
    assert [r["id"] for r in results] == ["o0", "o1", "o2"]
    assert results.truncated
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"a": 1}, "Bundle.entry is not a list"),
        (["x"], "Bundle.entry[0] is not an object"),
        ([{"resource": "x"}], "Bundle.entry[0].resource is not an object"),
    ],
)
async def test_a_search_page_with_an_unreadable_entry_fails_rather_than_skipping_it(
    client: FhirClient, router: respx.MockRouter, entry: object, said: str
) -> None:
    # A skipped entry would pass a partial chart off as the whole one.
    router.get(f"{BASE}/MedicationRequest").mock(
        return_value=fhir({"resourceType": "Bundle", "type": "searchset", "entry": entry})
    )
    with pytest.raises(FhirUnexpectedResponseError, match=re.escape(said)):
        await client.search("MedicationRequest")


async def test_an_entry_with_only_a_response_is_not_a_record(
    client: FhirClient, router: respx.MockRouter
) -> None:
    entries = [{"response": {"status": "200"}}, {"resource": observation("o1")}]
    router.get(f"{BASE}/Observation").mock(
        return_value=fhir({"resourceType": "Bundle", "type": "searchset", "entry": entries})
    )
    assert [r["id"] for r in await client.search("Observation")] == ["o1"]


async def test_a_complete_search_is_not_truncated(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/Observation").mock(return_value=fhir(bundle(observation("o1"))))
    results = await client.search("Observation", max_pages=1, max_resources=1)
    assert not results.truncated


@pytest.mark.parametrize(
    "foreign",
    [
        "https://other-ehr.example.com/fhir/R4/Observation?page=2",
        "http://ehr.example.org/fhir/R4/Observation?page=2",  # same host, plain http
        "https://ehr.example.org:8443/fhir/R4/Observation?page=2",  # same host, other port
    ],
)
async def test_a_next_link_to_another_origin_is_refused(
    client: FhirClient, router: respx.MockRouter, foreign: str
) -> None:
    other = router.route(url__startswith=foreign.split("/fhir")[0] + "/")
    router.get(f"{BASE}/Observation").mock(
        return_value=fhir(bundle(observation("o1"), next_url=foreign))
    )
    with pytest.raises(FhirPagingError):
        await client.search("Observation")
    assert not other.called  # the token never left for the other server


async def test_a_next_link_back_to_a_page_already_read_is_refused(
    client: FhirClient, router: respx.MockRouter
) -> None:
    looping = f"{BASE}/Observation?page=2"
    route = router.get(f"{BASE}/Observation").mock(
        return_value=fhir(bundle(observation("o1"), next_url=looping))
    )
    with pytest.raises(FhirPagingError):
        await client.search("Observation")
    assert route.call_count == 2


async def test_search_of_an_invalid_parameter_is_fhir_invalid_resource(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/Observation").mock(
        return_value=fhir(outcome("not-supported", "Unknown search parameter 'colour'"), 400)
    )
    with pytest.raises(FhirInvalidResource) as caught:
        await client.search("Observation", {"colour": "red"})
    assert "Unknown search parameter 'colour'" in caught.value.user_message
    assert "search" in caught.value.user_message


# -- parallel searches ---------------------------------------------------------------------


class ConcurrencyProbe:
    """A FHIR handler that holds each request until `wanted` are in flight together (or a
    guard trips), recording the highest number in flight."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.in_flight = 0
        self.peak = 0
        self.all_in = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        if self.in_flight >= self.wanted:
            self.all_in.set()
        try:
            # Only reached in the failure case (requests not concurrent): a bounded wait.
            await asyncio.wait_for(self.all_in.wait(), timeout=2.0)
        except TimeoutError:
            pass
        finally:
            self.in_flight -= 1
        kind = request.url.path.rsplit("/", 1)[-1]
        return fhir(bundle({"resourceType": kind, "id": f"{kind}-1"}))


async def test_search_many_runs_the_searches_at_the_same_time(
    client: FhirClient, router: respx.MockRouter
) -> None:
    probe = ConcurrencyProbe(wanted=3)
    router.get(url__startswith=BASE).mock(side_effect=probe)
    results = await client.search_many(
        {
            "conditions": SearchQuery("Condition", {"patient": PATIENT_ID}),
            "medications": SearchQuery("MedicationRequest", {"patient": PATIENT_ID}),
            "imaging": SearchQuery("ImagingStudy", {"patient": PATIENT_ID}),
        }
    )
    assert probe.peak == 3
    assert results["medications"][0]["resourceType"] == "MedicationRequest"
    assert results["imaging"][0]["id"] == "ImagingStudy-1"


async def test_search_many_never_exceeds_the_concurrency_limit(
    http: httpx.AsyncClient, router: respx.MockRouter, tokens: RefreshingTokens, policy: RetryPolicy
) -> None:
    probe = ConcurrencyProbe(wanted=2)
    router.get(url__startswith=BASE).mock(side_effect=probe)
    client = FhirClient(BASE, tokens, http, policy=policy, max_concurrency=2)
    queries = {i: SearchQuery("Observation", {"code": str(i)}) for i in range(6)}
    results = await client.search_many(queries)
    assert probe.peak == 2
    assert sorted(results) == list(range(6))


async def test_search_many_raises_the_first_failure_itself(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/Condition").mock(return_value=fhir(bundle()))
    router.get(f"{BASE}/Procedure").mock(return_value=fhir(outcome("forbidden", "no"), 403))
    with pytest.raises(FhirAuthError):
        await client.search_many({"c": SearchQuery("Condition"), "p": SearchQuery("Procedure")})


async def test_search_many_settled_keeps_what_could_be_read(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/Condition").mock(
        return_value=fhir(bundle({"resourceType": "Condition", "id": "c1"}))
    )
    router.get(f"{BASE}/Procedure").mock(return_value=fhir(outcome("forbidden", "no"), 403))
    results = await client.search_many_settled(
        {"c": SearchQuery("Condition"), "p": SearchQuery("Procedure")}
    )
    conditions = results["c"]
    assert isinstance(conditions, SearchResults) and conditions[0]["id"] == "c1"
    assert isinstance(results["p"], FhirAuthError)


# -- retries -------------------------------------------------------------------------------


async def test_429_with_retry_after_seconds_waits_that_long(
    client: FhirClient, router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(
        side_effect=[
            fhir(outcome("throttled", "slow down"), 429, **{"Retry-After": "7"}),
            fhir({"resourceType": "Patient", "id": "p1"}),
        ]
    )
    assert (await client.read("Patient", "p1"))["id"] == "p1"
    assert fake_time.sleeps == [7.0]
    assert route.call_count == 2


async def test_429_with_retry_after_http_date_waits_until_then(
    client: FhirClient, router: respx.MockRouter, fake_time: FakeTime
) -> None:
    when = format_datetime((WALL_NOW + timedelta(seconds=30)).astimezone(UTC), usegmt=True)
    router.get(f"{BASE}/Patient/p1").mock(
        side_effect=[
            fhir(outcome("throttled", "slow down"), 429, **{"Retry-After": when}),
            fhir({"resourceType": "Patient", "id": "p1"}),
        ]
    )
    await client.read("Patient", "p1")
    assert fake_time.sleeps == [30.0]


async def test_a_retry_after_beyond_the_deadline_ends_at_once_as_rate_limited(
    client: FhirClient, router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(
        return_value=fhir(outcome("throttled", "slow down"), 429, **{"Retry-After": "120"})
    )
    with pytest.raises(FhirRateLimited) as caught:
        await client.read("Patient", "p1")
    assert fake_time.sleeps == []
    assert route.call_count == 1
    assert caught.value.response is not None and caught.value.response.retry_after == 120.0
    assert "120 seconds" in caught.value.user_message


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_and_unavailable_errors_are_retried_with_backoff(
    client: FhirClient, router: respx.MockRouter, fake_time: FakeTime, status: int
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(
        side_effect=[
            httpx.Response(status),
            httpx.Response(status),
            httpx.Response(status),
            fhir({"resourceType": "Patient", "id": "p1"}),
        ]
    )
    assert (await client.read("Patient", "p1"))["id"] == "p1"
    assert route.call_count == 4
    # Base 0.5 s doubling, half fixed + half jitter (jitter fixed at 0.5 here).
    assert fake_time.sleeps == [0.375, 0.75, 1.5]


async def test_retries_exhausted_is_fhir_server_error(
    client: FhirClient, router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(
        return_value=fhir(outcome("transient", "database failover"), 503)
    )
    with pytest.raises(FhirServerError) as caught:
        await client.read("Patient", "p1")
    assert route.call_count == client.policy.max_attempts == 4
    assert len(fake_time.sleeps) == 3
    assert caught.value.status == 503
    assert caught.value.response is not None and caught.value.response.attempts == 4
    assert "database failover" in caught.value.user_message


async def test_500_is_not_retried(client: FhirClient, router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(return_value=httpx.Response(500))
    with pytest.raises(FhirServerError):
        await client.read("Patient", "p1")
    assert route.call_count == 1


async def test_backoff_never_runs_past_the_deadline(
    http: httpx.AsyncClient, router: respx.MockRouter, tokens: RefreshingTokens, fake_time: FakeTime
) -> None:
    policy = RetryPolicy(
        max_attempts=10,
        backoff_base=1.0,
        backoff_max=4.0,
        deadline=5.0,
        request_timeout=2.0,
        sleep=fake_time.sleep,
        clock=fake_time.monotonic,
        jitter=lambda: 1.0,
    )
    route = router.get(f"{BASE}/Patient/p1").mock(return_value=httpx.Response(503))
    with pytest.raises(FhirServerError):
        await FhirClient(BASE, tokens, http, policy=policy).read("Patient", "p1")
    assert fake_time.sleeps == [1.0, 2.0]  # a third wait (4 s) would end past 5 s
    assert route.call_count == 3


async def test_a_connect_error_is_retried_for_a_read(
    client: FhirClient, router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(
        side_effect=[httpx.ConnectError("refused"), fhir({"resourceType": "Patient", "id": "p1"})]
    )
    assert (await client.read("Patient", "p1"))["id"] == "p1"
    assert route.call_count == 2 and len(fake_time.sleeps) == 1


async def test_a_connect_error_is_not_retried_for_a_plain_create(
    client: FhirClient, router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.post(f"{BASE}/DocumentReference").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(FhirTransportError):
        await client.create({"resourceType": "DocumentReference", "status": "current"})
    assert route.call_count == 1 and fake_time.sleeps == []


async def test_a_conditional_create_is_retried_after_a_connect_error(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/DocumentReference").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            fhir({"resourceType": "DocumentReference", "id": "d1"}, 201),
        ]
    )
    result = await client.create(
        {"resourceType": "DocumentReference", "status": "current"},
        if_none_exist={"identifier": "urn:ietf:rfc:3986|urn:uuid:1b4e"},
    )
    assert result.created and result.id == "d1"
    assert route.call_count == 2
    sent = route.calls.last.request.headers["If-None-Exist"]
    assert sent == "identifier=urn%3Aietf%3Arfc%3A3986%7Curn%3Auuid%3A1b4e"


async def test_a_plain_create_is_not_retried_on_503_but_is_on_429(
    client: FhirClient, router: respx.MockRouter
) -> None:
    unavailable = router.post(f"{BASE}/Observation").mock(return_value=httpx.Response(503))
    with pytest.raises(FhirServerError):
        await client.create(observation("o1"))
    assert unavailable.call_count == 1

    router.routes.clear()
    throttled = router.post(f"{BASE}/Observation").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}),
            fhir(observation("o1"), 201),
        ]
    )
    assert (await client.create(observation("o1"))).created
    assert throttled.call_count == 2


async def test_a_read_timeout_is_retried_then_reported_as_timeout(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(FhirTimeoutError) as caught:
        await client.read("Patient", "p1")
    assert route.call_count == 4
    assert isinstance(caught.value, FhirTransportError)
    assert "did not answer in time" in caught.value.user_message


async def test_a_post_timeout_is_not_retried_because_it_may_have_committed(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/Observation").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(FhirTimeoutError):
        await client.create(observation("o1"))
    assert route.call_count == 1


async def test_the_cds_policy_gives_each_request_less_than_two_seconds(
    http: httpx.AsyncClient, router: respx.MockRouter, tokens: RefreshingTokens, fake_time: FakeTime
) -> None:
    policy = RetryPolicy.for_cds(sleep=fake_time.sleep, clock=fake_time.monotonic)
    route = router.get(f"{BASE}/Patient/p1").mock(
        return_value=fhir({"resourceType": "Patient", "id": "p1"})
    )
    await FhirClient(BASE, tokens, http, policy=policy).read("Patient", "p1")
    timeout = route.calls.last.request.extensions["timeout"]
    assert 0 < timeout["read"] < 2 and 0 < timeout["connect"] < 2


async def test_a_request_never_waits_longer_than_the_deadline_left(
    http: httpx.AsyncClient, router: respx.MockRouter, tokens: RefreshingTokens, fake_time: FakeTime
) -> None:
    policy = RetryPolicy(
        deadline=3.0,
        request_timeout=2.0,
        sleep=fake_time.sleep,
        clock=fake_time.monotonic,
        backoff_base=1.5,
        backoff_max=1.5,
        jitter=lambda: 1.0,
    )
    route = router.get(f"{BASE}/Patient/p1").mock(
        side_effect=[httpx.Response(503), fhir({"resourceType": "Patient", "id": "p1"})]
    )
    await FhirClient(BASE, tokens, http, policy=policy).read("Patient", "p1")
    assert route.calls[0].request.extensions["timeout"]["read"] == 2.0
    assert route.calls[1].request.extensions["timeout"]["read"] == 1.5  # 3 s - 1.5 s slept


# -- 401 and token refresh -------------------------------------------------------------------


async def test_401_refreshes_the_token_once_and_retries(
    client: FhirClient, router: respx.MockRouter, tokens: RefreshingTokens, fake_time: FakeTime
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(
        side_effect=[httpx.Response(401), fhir({"resourceType": "Patient", "id": "p1"})]
    )
    assert (await client.read("Patient", "p1"))["id"] == "p1"
    assert tokens.refreshes == 1
    assert [c.request.headers["Authorization"] for c in route.calls] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert fake_time.sleeps == []  # not a retry: no backoff


async def test_the_401_resend_is_not_counted_as_a_retry(
    http: httpx.AsyncClient, router: respx.MockRouter, tokens: RefreshingTokens, fake_time: FakeTime
) -> None:
    policy = RetryPolicy(max_attempts=2, sleep=fake_time.sleep, clock=fake_time.monotonic)
    route = router.get(f"{BASE}/Patient/p1").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(401),
            fhir({"resourceType": "Patient", "id": "p1"}),
        ]
    )
    await FhirClient(BASE, tokens, http, policy=policy).read("Patient", "p1")
    assert route.call_count == 3


async def test_a_second_401_is_fhir_auth_error(
    client: FhirClient, router: respx.MockRouter, tokens: RefreshingTokens
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(return_value=httpx.Response(401))
    with pytest.raises(FhirAuthError) as caught:
        await client.read("Patient", "p1")
    assert tokens.refreshes == 1 and route.call_count == 2
    assert "launch the app again" in caught.value.user_message


async def test_a_static_token_401_is_final(
    http: httpx.AsyncClient, router: respx.MockRouter, policy: RetryPolicy
) -> None:
    route = router.get(f"{BASE}/Patient/p1").mock(return_value=httpx.Response(401))
    client = FhirClient(BASE, StaticTokenSource("cds-token"), http, policy=policy)
    with pytest.raises(FhirAuthError) as caught:
        await client.read("Patient", "p1")
    assert route.call_count == 1
    assert isinstance(caught.value.__cause__, TokenRefreshUnavailableError)
    assert route.calls.last.request.headers["Authorization"] == "Bearer cds-token"


async def test_parallel_401s_share_one_refresh(
    client: FhirClient, router: respx.MockRouter, tokens: RefreshingTokens
) -> None:
    def by_token(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer token-1":
            return httpx.Response(401)
        return fhir(bundle())

    router.get(url__startswith=BASE).mock(side_effect=by_token)
    await client.search_many({i: SearchQuery("Observation", {"code": str(i)}) for i in range(5)})
    assert tokens.refreshes == 1  # a SMART refresh token must not be used twice


async def test_403_is_fhir_auth_error_without_refresh(
    client: FhirClient, router: respx.MockRouter, tokens: RefreshingTokens
) -> None:
    router.post(f"{BASE}/DiagnosticReport").mock(
        return_value=fhir(outcome("forbidden", "scope patient/DiagnosticReport.c not granted"), 403)
    )
    with pytest.raises(FhirAuthError) as caught:
        await client.create({"resourceType": "DiagnosticReport", "status": "final"})
    assert tokens.refreshes == 0
    assert caught.value.status == 403
    assert "create DiagnosticReport" in caught.value.user_message


def test_a_static_token_source_refuses_an_empty_token() -> None:
    with pytest.raises(InputProblemError) as caught:
        StaticTokenSource("  ")
    assert caught.value.problems[0].field == "access_token"
    assert "secret" not in repr(StaticTokenSource("secret"))


# -- OperationOutcome → typed errors -------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, FhirInvalidResource),
        (422, FhirInvalidResource),
        (409, FhirConflict),
        (412, FhirPreconditionFailed),
        (405, FhirHttpError),
    ],
)
async def test_operation_outcomes_become_typed_errors_with_the_diagnostics(
    client: FhirClient, router: respx.MockRouter, status: int, error_type: type[FhirHttpError]
) -> None:
    router.put(f"{BASE}/Observation/o1").mock(
        return_value=fhir(
            outcome("invariant", "Observation.status: minimum required = 1", "Observation.status"),
            status,
        )
    )
    with pytest.raises(error_type) as caught:
        await client.update(observation("o1"), if_match="3")
    error = caught.value
    assert type(error) is error_type
    assert error.status == status
    (issue,) = error.issues
    assert (issue.severity, issue.code) == ("error", "invariant")
    assert issue.diagnostics == "Observation.status: minimum required = 1"
    assert issue.expression == ("Observation.status",)
    assert "minimum required = 1 (at Observation.status)" in error.user_message
    assert "minimum required" not in str(error)


async def test_412_on_a_conditional_create_says_several_matched(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.post(f"{BASE}/DocumentReference").mock(
        return_value=fhir(outcome("duplicate", "2 matches"), 412)
    )
    with pytest.raises(FhirPreconditionFailed) as caught:
        await client.create(
            {"resourceType": "DocumentReference"}, if_none_exist="identifier=urn:x|1"
        )
    assert isinstance(caught.value, FhirConflict)
    assert "more than one existing DocumentReference" in caught.value.user_message


def test_outcome_parsing_is_tolerant_of_odd_servers() -> None:
    issues = outcome_issues(
        {
            "resourceType": "OperationOutcome",
            "issue": {  # one object where a list belongs
                "code": "required",
                "details": {
                    "coding": [{"system": "urn:x", "code": "1", "display": "Missing status"}]
                },
                "location": "/f:Observation/f:status",
            },
        }
    )
    assert issues[0].severity == "" and issues[0].text == (
        "Missing status (at /f:Observation/f:status)"
    )
    assert outcome_issues({"resourceType": "Patient"}) == ()
    assert outcome_issues("not json") == ()


# -- writes --------------------------------------------------------------------------------


async def test_create_reads_id_and_version_from_location(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/DiagnosticReport").mock(
        return_value=fhir(
            {"resourceType": "DiagnosticReport", "id": "r9", "meta": {"versionId": "1"}},
            201,
            Location=f"{BASE}/DiagnosticReport/r9/_history/1",
            ETag='W/"1"',
        )
    )
    result = await client.create({"resourceType": "DiagnosticReport", "status": "final"})
    assert (result.status, result.id, result.version, result.created) == (201, "r9", "1", True)
    assert result.resource is not None and result.resource["id"] == "r9"
    sent = route.calls.last.request
    assert sent.headers["Content-Type"].startswith("application/fhir+json")
    assert sent.headers["Prefer"] == "return=representation"
    assert "If-None-Exist" not in sent.headers
    assert json.loads(sent.content) == {"resourceType": "DiagnosticReport", "status": "final"}


async def test_create_without_a_body_uses_location_and_etag(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.post(f"{BASE}/Observation").mock(
        return_value=httpx.Response(201, headers={"Location": "Observation/o5", "ETag": 'W/"4"'})
    )
    result = await client.create(observation("o5"))
    assert (result.id, result.version, result.resource) == ("o5", "4", None)


async def test_a_conditional_create_that_matched_is_not_created(
    client: FhirClient, router: respx.MockRouter
) -> None:
    router.post(f"{BASE}/Observation").mock(
        return_value=fhir(
            {"resourceType": "OperationOutcome", "issue": []},
            200,
            Location=f"{BASE}/Observation/o1/_history/3",
        )
    )
    result = await client.create(observation("new"), if_none_exist="identifier=urn:x|1")
    assert (result.created, result.id, result.version, result.resource) == (False, "o1", "3", None)


async def test_update_puts_with_if_match(client: FhirClient, router: respx.MockRouter) -> None:
    route = router.put(f"{BASE}/Observation/o1").mock(
        return_value=fhir({**observation("o1"), "meta": {"versionId": "4"}})
    )
    result = await client.update(observation("o1"), if_match="3")
    assert route.calls.last.request.headers["If-Match"] == 'W/"3"'
    await client.update(observation("o1"), if_match='W/"3"')
    assert route.calls.last.request.headers["If-Match"] == 'W/"3"'
    assert (result.status, result.version) == (200, "4")


async def test_update_refuses_a_malformed_if_match(
    client: FhirClient, router: respx.MockRouter
) -> None:
    with pytest.raises(InputProblemError) as caught:
        await client.update(observation("o1"), if_match='3"\r\nX-Evil: 1')
    assert caught.value.problems[0].field == "if_match"
    assert not router.calls


async def test_a_conditional_query_string_is_made_header_safe(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/Observation").mock(return_value=fhir(observation("o1"), 201))
    await client.create(observation("o1"), if_none_exist="?identifier=urn:x|Zoë\r\n")
    assert route.calls.last.request.headers["If-None-Exist"] == "identifier=urn:x|Zo%C3%AB"


async def test_update_needs_an_id(client: FhirClient, router: respx.MockRouter) -> None:
    with pytest.raises(InputProblemError) as caught:
        await client.update({"resourceType": "Observation"})
    assert caught.value.problems[0].field == "resource.id"
    with pytest.raises(InputProblemError) as caught:
        await client.create({"status": "final"})
    assert caught.value.problems[0].field == "resource.resourceType"
    assert not router.calls


async def test_transaction_posts_to_the_base_and_returns_the_response_bundle(
    client: FhirClient, router: respx.MockRouter
) -> None:
    answer = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}
    route = router.post(BASE).mock(return_value=fhir(answer))
    sent = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    assert await client.transaction(sent) == answer
    assert json.loads(route.calls.last.request.content) == sent


async def test_transaction_checks_both_bundles(
    client: FhirClient, router: respx.MockRouter
) -> None:
    with pytest.raises(InputProblemError) as caught:
        await client.transaction({"resourceType": "Bundle", "type": "collection"})
    assert caught.value.problems[0].field == "bundle.type"
    router.post(BASE).mock(return_value=fhir({"resourceType": "Bundle", "type": "searchset"}))
    with pytest.raises(FhirUnexpectedResponseError):
        await client.transaction({"resourceType": "Bundle", "type": "transaction"})


async def test_a_failed_transaction_is_typed(client: FhirClient, router: respx.MockRouter) -> None:
    route = router.post(BASE).mock(
        return_value=fhir(outcome("processing", "entry 2: Observation.subject is required"), 422)
    )
    with pytest.raises(FhirInvalidResource) as caught:
        await client.transaction({"resourceType": "Bundle", "type": "transaction", "entry": []})
    assert "entry 2" in caught.value.user_message
    assert route.call_count == 1


# -- capabilities --------------------------------------------------------------------------

STATEMENT = {
    "resourceType": "CapabilityStatement",
    "fhirVersion": "4.0.1",
    "rest": [
        {
            "mode": "server",
            "interaction": [{"code": "transaction"}],
            "resource": [
                {
                    "type": "DocumentReference",
                    "interaction": [{"code": "create"}, {"code": "read"}],
                    "conditionalCreate": True,
                }
            ],
        }
    ],
}


async def test_metadata_is_read_once_and_shared_across_clients(
    http: httpx.AsyncClient, router: respx.MockRouter, policy: RetryPolicy
) -> None:
    route = router.get(f"{BASE}/metadata").mock(return_value=fhir(STATEMENT))
    cache = CapabilityCache()
    first = FhirClient(BASE, RefreshingTokens(), http, policy=policy, capability_cache=cache)
    second = FhirClient(
        BASE + "/", StaticTokenSource("t"), http, policy=policy, capability_cache=cache
    )
    one, two, three = await asyncio.gather(
        first.capabilities(), second.capabilities(), first.capabilities()
    )
    assert route.call_count == 1
    assert one is two is three
    assert one.supports_transaction and one.conditional_create("DocumentReference")


async def test_metadata_is_read_again_after_the_ttl(
    http: httpx.AsyncClient, router: respx.MockRouter, policy: RetryPolicy, fake_time: FakeTime
) -> None:
    route = router.get(f"{BASE}/metadata").mock(return_value=fhir(STATEMENT))
    cache = CapabilityCache(ttl=60, clock=fake_time.monotonic)
    client = FhirClient(BASE, None, http, policy=policy, capability_cache=cache)
    await client.capabilities()
    fake_time.now += 59
    await client.capabilities()
    assert route.call_count == 1
    fake_time.now += 2
    await client.capabilities()
    assert route.call_count == 2


async def test_a_metadata_answer_that_is_not_a_capability_statement_is_not_cached(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.get(f"{BASE}/metadata").mock(
        side_effect=[fhir(outcome("exception", "maintenance")), fhir(STATEMENT)]
    )
    with pytest.raises(FhirUnexpectedResponseError):
        await client.capabilities()
    assert (await client.capabilities()).can_create("DocumentReference")
    assert route.call_count == 2


# -- logging and policy --------------------------------------------------------------------


async def test_logs_carry_no_patient_data_urls_or_tokens(
    client: FhirClient, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smart_app.fhir_client")
    router.get(f"{BASE}/Observation").mock(
        side_effect=[
            httpx.Response(503),
            fhir(
                bundle(
                    observation("o1"), next_url=f"{BASE}/Observation?page=2&patient={PATIENT_ID}"
                )
            ),
            fhir(outcome("processing", f"Patient {PATIENT_ID} merged"), 400),
        ]
    )
    with pytest.raises(FhirError) as caught:
        await client.search("Observation", {"patient": PATIENT_ID})
    logged = caplog.text + str(caught.value)
    assert caplog.records  # it did log
    for secret in (PATIENT_ID, "token-1", "ehr.example.org", "merged"):
        assert secret not in logged


def test_retry_policy_rejects_inconsistent_settings() -> None:
    with pytest.raises(InputProblemError) as caught:
        RetryPolicy(max_attempts=0, deadline=1.0, request_timeout=5.0, backoff_base=-1)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"max_attempts", "request_timeout", "backoff_base"}


def test_the_cds_and_app_policies_differ_as_documented() -> None:
    cds, app = RetryPolicy.for_cds(), RetryPolicy.for_app()
    assert cds.request_timeout < 2 <= app.request_timeout
    assert cds.deadline < app.deadline
    assert RetryPolicy.for_cds(max_attempts=1).max_attempts == 1


@pytest.mark.parametrize("module", [fhir_client, fhir_errors])
def test_the_docstring_examples_hold(module: ModuleType) -> None:
    failed, attempted = doctest.testmod(module)
    assert attempted > 0 and failed == 0


def test_client_refuses_a_base_url_with_a_query(http: httpx.AsyncClient) -> None:
    with pytest.raises(InputProblemError) as caught:
        FhirClient(f"{BASE}?tenant=1", None, http)
    assert caught.value.problems[0].field == "base_url"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("12", 12.0),
        (" 0 ", 0.0),
        ("-3", 0.0),
        ("Sun, 09 Mar 2025 19:31:00 GMT", 60.0),  # WALL_NOW is 19:30:00 UTC
        ("Sunday, 09-Mar-25 19:30:10 GMT", 10.0),  # RFC 850
        ("Sun Mar  9 19:29:00 2025", 0.0),  # asctime, in the past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, WALL_NOW) == seconds


# -- page size ------------------------------------------------------------------------------


async def test_a_page_size_is_asked_for_with_count_on_the_first_page_only(
    http: httpx.AsyncClient, tokens: RefreshingTokens, policy: RetryPolicy, router: respx.MockRouter
) -> None:
    client = FhirClient(BASE, tokens, http, policy=policy, page_size=500)
    next_url = f"{BASE}?_getpages=t2"

    def pages(request: httpx.Request) -> httpx.Response:
        if "_getpages" in request.url.params:
            return fhir(bundle(observation("o2")))
        return fhir(bundle(observation("o1"), next_url=next_url))

    route = router.get(url__startswith=BASE).mock(side_effect=pages)
    results = await client.search("Observation", {"patient": PATIENT_ID})
    assert [r["id"] for r in results] == ["o1", "o2"]
    first, second = (call.request.url for call in route.calls)
    assert first.params["_count"] == "500" and first.params["patient"] == PATIENT_ID
    assert str(second) == next_url  # the server's link, as given


async def test_the_callers_count_and_a_search_page_size_take_precedence(
    http: httpx.AsyncClient, tokens: RefreshingTokens, policy: RetryPolicy, router: respx.MockRouter
) -> None:
    client = FhirClient(BASE, tokens, http, policy=policy, page_size=500)
    route = router.get(url__startswith=BASE).respond(json=bundle(observation("o1")))
    await client.search("Observation", {"_count": "20"})
    await client.search_many({"a": SearchQuery("Observation", {"code": "x"}, page_size=100)})
    assert [call.request.url.params.get_list("_count") for call in route.calls] == [
        ["20"],
        ["100"],
    ]


async def test_without_a_page_size_no_count_is_sent(
    client: FhirClient, router: respx.MockRouter
) -> None:
    route = router.get(url__startswith=BASE).respond(json=bundle(observation("o1")))
    await client.search("Observation", {"patient": PATIENT_ID})
    assert "_count" not in route.calls[0].request.url.params


async def test_a_server_refusing_count_is_asked_again_without_it(
    http: httpx.AsyncClient, tokens: RefreshingTokens, policy: RetryPolicy, router: respx.MockRouter
) -> None:
    client = FhirClient(BASE, tokens, http, policy=policy, page_size=1000)

    def answer(request: httpx.Request) -> httpx.Response:
        if "_count" in request.url.params:
            return fhir(outcome("not-supported", "_count above 100 is not allowed"), 400)
        return fhir(bundle(observation("o1")))

    route = router.get(url__startswith=BASE).mock(side_effect=answer)
    results = await client.search("Observation", {"patient": PATIENT_ID})
    assert [r["id"] for r in results] == ["o1"]
    assert route.call_count == 2


async def test_a_search_refused_for_another_reason_still_fails(
    http: httpx.AsyncClient, tokens: RefreshingTokens, policy: RetryPolicy, router: respx.MockRouter
) -> None:
    client = FhirClient(BASE, tokens, http, policy=policy, page_size=1000)
    route = router.get(url__startswith=BASE).respond(
        400, json=outcome("invalid", "unknown parameter foo")
    )
    with pytest.raises(FhirInvalidResource):
        await client.search("Observation", {"foo": "bar"})
    assert route.call_count == 2  # with _count, then without
    assert "_count" not in route.calls[1].request.url.params


def test_a_page_size_below_one_is_refused(http: httpx.AsyncClient) -> None:
    with pytest.raises(InputProblemError):
        FhirClient(BASE, None, http, page_size=0)
