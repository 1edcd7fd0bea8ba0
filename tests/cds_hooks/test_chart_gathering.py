from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import respx

from plugin.candidacy import default_policy
from plugin.candidacy.lookback import words_only_since
from plugin.cds_hooks.chart_gathering import gather_chart, read_prefetched
from plugin.cds_hooks.chart_queries import chart_queries
from plugin.cds_hooks.errors import CdsRequestInvalidError, ChartUnavailableError
from plugin.cds_hooks.hook_request import Hook, HookRequest, parse_hook_request
from plugin.cds_hooks.latest_first import undated, within_horizon
from smart_app.fhir_client import RetryPolicy
from tests.cds_hooks.charts import sandbox_chart
from tests.cds_hooks.conftest import FHIR_SERVER, PATIENT_ID, hook_call
from tests.cds_hooks.fake_fhir import FakeFhirServer

QUERIES = chart_queries(default_policy())
TODAY = date(2026, 3, 14)
CHART = sandbox_chart("on-apixaban", TODAY, as_patient=PATIENT_ID)
HORIZON = words_only_since(default_policy(), TODAY)
assert HORIZON is not None
FAST = RetryPolicy.for_cds(sleep=lambda _: _no_wait())


async def _no_wait() -> None:
    return None


def call(**kw: object) -> HookRequest:
    return parse_hook_request(hook_call(**kw), Hook.ORDER_SIGN)  # type: ignore[arg-type]


async def gather(
    queries: Any, hook_request: HookRequest, http: httpx.AsyncClient, **kw: Any
) -> list[Any]:
    return await gather_chart(queries, hook_request, http, horizon=HORIZON, **kw)


def counted(chart: list[Any]) -> list[Any]:
    """The chart as the services count it: Observations from the horizon on, and those with
    no effective date."""
    observations = [r for r in chart if r["resourceType"] == "Observation"]
    assert HORIZON is not None
    recent = {id(r) for r in (*within_horizon(observations, HORIZON), *undated(observations))}
    return [r for r in chart if r["resourceType"] != "Observation" or id(r) in recent]


async def fetched_from(fake: FakeFhirServer) -> list[Any]:
    """The chart fetched from `fake` (no prefetch)."""
    with respx.mock(assert_all_called=True) as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(side_effect=fake.handler)
        async with httpx.AsyncClient() as http:
            return await gather(QUERIES, call(fhir=True), http, policy=FAST)


async def both_ways(fake: FakeFhirServer) -> tuple[list[Any], list[Any]]:
    """The chart from a prefetch of every template, and the chart fetched from `fake`."""
    prefetched = await gather(
        QUERIES, call(prefetch=fake.prefetch(QUERIES, PATIENT_ID)), httpx.AsyncClient()
    )
    return prefetched, await fetched_from(fake)


def keyed(resources: list[Any]) -> list[str]:
    return sorted(f"{r['resourceType']}/{r['id']}" for r in resources)


async def test_full_prefetch_needs_no_server() -> None:
    fake = FakeFhirServer(FHIR_SERVER, CHART)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: pytest.fail("fetched"))
    ) as http:
        resources = await gather(QUERIES, call(prefetch=fake.prefetch(QUERIES, PATIENT_ID)), http)
    assert set(keyed(resources)) == set(keyed(counted(CHART)))


async def test_fetched_and_prefetched_give_the_same_resources() -> None:
    fake = FakeFhirServer(FHIR_SERVER, CHART, page_size=5)
    prefetched, fetched = await both_ways(fake)
    assert fetched == prefetched
    assert len(fake.requests) > len(QUERIES)  # paging was followed


async def test_only_the_missing_keys_are_fetched() -> None:
    fake = FakeFhirServer(FHIR_SERVER, CHART)
    prefetch = fake.prefetch(QUERIES, PATIENT_ID)
    del prefetch["conditions"]
    prefetch["allergies"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(side_effect=fake.handler)
        async with httpx.AsyncClient() as http:
            await gather(QUERIES, call(fhir=True, prefetch=prefetch), http, policy=FAST)
    assert sorted(r.url.path.rsplit("/", 1)[-1] for r in fake.requests) == [
        "AllergyIntolerance",
        "Condition",
    ]


async def test_neither_prefetch_nor_server_is_412() -> None:
    with pytest.raises(ChartUnavailableError) as caught:
        await gather(QUERIES, call(), httpx.AsyncClient())
    assert "conditions" in caught.value.keys


@pytest.mark.parametrize("status", [401, 403, 500, 503])
async def test_failing_server_is_412(status: int) -> None:
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(return_value=httpx.Response(status))
        async with httpx.AsyncClient() as http:
            with pytest.raises(ChartUnavailableError) as caught:
                await gather(QUERIES, call(fhir=True), http, policy=FAST)
    assert "opaque-token" not in caught.value.why and PATIENT_ID not in caught.value.why


async def test_paging_to_another_origin_is_not_followed() -> None:
    fake = FakeFhirServer(FHIR_SERVER, CHART, page_size=2)
    evil = FakeFhirServer("https://elsewhere.example.net/fhir", CHART, page_size=2)

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        return httpx.Response(
            response.status_code,
            content=response.content.replace(FHIR_SERVER.encode(), evil.base.encode()),
        )

    with respx.mock(assert_all_called=False) as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(side_effect=handler)
        escaped = mock.route(url__startswith=evil.base).mock(side_effect=evil.handler)
        async with httpx.AsyncClient() as http:
            with pytest.raises(ChartUnavailableError):
                await gather(QUERIES, call(fhir=True), http, policy=FAST)
    assert not escaped.called  # the token never went to the other server


async def test_malformed_prefetch_is_400() -> None:
    with pytest.raises(CdsRequestInvalidError) as caught:
        await gather(QUERIES, call(prefetch={"conditions": "none"}), httpx.AsyncClient())
    assert caught.value.problems[0].field == "prefetch.conditions"


async def test_another_patients_records_are_refused_even_without_a_patient() -> None:
    # The chart's own check compares records with its Patient: with "patient": null there is
    # none, so the records are compared with context.patientId here.
    other = sandbox_chart("pregnant", date(2026, 3, 14))
    prefetch = FakeFhirServer(FHIR_SERVER, other).prefetch(QUERIES, "pregnant")
    prefetch["patient"] = None
    with pytest.raises(CdsRequestInvalidError) as caught:
        await gather(QUERIES, call(prefetch=prefetch), httpx.AsyncClient())
    fields = [p.field for p in caught.value.problems]
    assert fields and all(
        re.fullmatch(r"prefetch\.\w+\.entry\[\d+\]\.resource\.\w+", f) for f in fields
    )
    assert {p.rule for p in caught.value.problems} == {"same-patient"}
    assert len(fields) == len({f.split(".")[1] for f in fields})  # one issue per key


async def test_another_patients_patient_is_one_issue() -> None:
    prefetch = FakeFhirServer(FHIR_SERVER, CHART).prefetch(QUERIES, PATIENT_ID)
    prefetch["patient"] = {**prefetch["patient"], "id": "someone-else"}
    with pytest.raises(CdsRequestInvalidError) as caught:
        await gather(QUERIES, call(prefetch=prefetch), httpx.AsyncClient())
    [problem] = caught.value.problems
    assert problem.field == "prefetch.patient.id" and "context.patientId" in problem.message


async def test_fetched_records_of_another_patient_are_412() -> None:
    moved = [
        {**r, "subject": {"reference": "Patient/someone-else"}}
        if r["resourceType"] == "Condition"
        else r
        for r in CHART
    ]
    fake = FakeFhirServer(FHIR_SERVER, moved)
    original_search = fake.search
    # A FHIR server that answers the patient search with another patient's conditions.
    fake.search = lambda rtype, params: (  # type: ignore[method-assign]
        [r for r in moved if r["resourceType"] == "Condition"]
        if rtype == "Condition"
        else original_search(rtype, params)
    )
    prefetch = FakeFhirServer(FHIR_SERVER, CHART).prefetch(QUERIES, PATIENT_ID)
    del prefetch["conditions"]
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(side_effect=fake.handler)
        async with httpx.AsyncClient() as http:
            with pytest.raises(ChartUnavailableError) as caught:
                await gather(QUERIES, call(fhir=True, prefetch=prefetch), http, policy=FAST)
    assert caught.value.keys == ("conditions",)
    assert "another patient" in caught.value.why and "someone-else" not in caught.value.why


async def test_412_says_why_each_key_must_be_fetched() -> None:
    prefetch = FakeFhirServer(FHIR_SERVER, CHART).prefetch(QUERIES, PATIENT_ID)
    prefetch["conditions"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    prefetch["labResults"]["link"] = [{"relation": "next", "url": f"{FHIR_SERVER}/x?page=2"}]
    del prefetch["allergies"]
    with pytest.raises(ChartUnavailableError) as caught:
        await gather(QUERIES, call(prefetch=prefetch), httpx.AsyncClient())
    assert caught.value.keys == ("conditions", "allergies", "labResults")
    why = caught.value.why
    assert "conditions: the client reported an error for it" in why
    assert "labResults: the client sent only its first page" in why
    assert "allergies: not prefetched" in why
    assert "no fhirServer" in why


async def test_warning_outcome_is_fetched_or_412_never_400() -> None:
    fake = FakeFhirServer(FHIR_SERVER, CHART)
    prefetch = fake.prefetch(QUERIES, PATIENT_ID)
    prefetch["conditions"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "incomplete"}],
    }
    with pytest.raises(ChartUnavailableError) as caught:
        await gather(QUERIES, call(prefetch=prefetch), httpx.AsyncClient())
    assert caught.value.keys == ("conditions",)
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(side_effect=fake.handler)
        async with httpx.AsyncClient() as http:
            await gather(QUERIES, call(fhir=True, prefetch=prefetch), http, policy=FAST)
    assert [r.url.path.rsplit("/", 1)[-1] for r in fake.requests] == ["Condition"]


TOO_COSTLY = {
    "resourceType": "Bundle",
    "type": "searchset",
    "entry": [
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "too-costly"}],
            },
            "search": {"mode": "outcome"},
        }
    ],
}


def _answering(
    fake: FakeFhirServer, resource_type: str, body: dict[str, Any]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/{resource_type}"):
            return httpx.Response(200, json=body)
        return fake.handler(request)

    return handler


async def test_fetched_bundle_with_an_error_outcome_is_412_as_prefetched() -> None:
    # A search the server refused (too-costly) is not "no medications": fetched or
    # prefetched, the same Bundle gives the same answer.
    fake = FakeFhirServer(FHIR_SERVER, CHART)
    prefetch = fake.prefetch(QUERIES, PATIENT_ID)
    prefetch["medicationRequests"] = TOO_COSTLY
    with pytest.raises(ChartUnavailableError) as prefetched:
        await gather(QUERIES, call(prefetch=prefetch), httpx.AsyncClient())
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(
            side_effect=_answering(fake, "MedicationRequest", TOO_COSTLY)
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(ChartUnavailableError) as fetched:
                await gather(QUERIES, call(fhir=True), http, policy=FAST)
    assert prefetched.value.keys == fetched.value.keys == ("medicationRequests",)
    assert "reported an error" in fetched.value.why


async def test_fetched_warning_outcome_beside_the_matches_is_read() -> None:
    fake = FakeFhirServer(FHIR_SERVER, CHART)
    expected = await gather(
        QUERIES, call(prefetch=fake.prefetch(QUERIES, PATIENT_ID)), httpx.AsyncClient()
    )
    warned = fake.bundle(fake.search("MedicationRequest", [("patient", PATIENT_ID)]))
    warned["entry"].append(
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "warning", "code": "informational"}],
            },
            "search": {"mode": "outcome"},
        }
    )
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(
            side_effect=_answering(fake, "MedicationRequest", warned)
        )
        async with httpx.AsyncClient() as http:
            fetched = await gather(QUERIES, call(fhir=True), http, policy=FAST)
    assert keyed(fetched) == keyed(expected)


async def test_fetched_entry_without_resource_type_is_412_naming_the_query() -> None:
    # What we fetched ourselves is not the client's request: never 400 blaming the prefetch.
    fake = FakeFhirServer(FHIR_SERVER, CHART)
    unreadable = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"id": "c1", "subject": {"reference": f"Patient/{PATIENT_ID}"}}}],
    }
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(
            side_effect=_answering(fake, "Condition", unreadable)
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(ChartUnavailableError) as caught:
                await gather(QUERIES, call(fhir=True), http, policy=FAST)
    assert caught.value.keys == ("conditions",)
    assert "Condition search" in caught.value.why and "c1" not in caught.value.why


# -- latest-first Observation searches ----------------------------------------------------------


def _long_lab_chart(labs: int, every_days: int) -> list[dict[str, Any]]:
    """The sandbox chart with `labs` more laboratory results, one every `every_days` days
    back from TODAY, and one with no effective date (dated by `issued` only)."""
    extra: list[dict[str, Any]] = [
        {
            "resourceType": "Observation",
            "id": f"lab-{index:03d}",
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "urn:local", "code": "NA"}], "text": "Sodium"},
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "effectiveDateTime": (TODAY - timedelta(days=index * every_days)).isoformat(),
            "valueQuantity": {"value": 139},
        }
        for index in range(labs)
    ]
    undated_lab = {**extra[0], "id": "lab-undated", "issued": f"{TODAY.isoformat()}T08:00:00Z"}
    del undated_lab["effectiveDateTime"]
    return [*CHART, *extra, undated_lab]


def _searches(fake: FakeFhirServer, key: str) -> list[str]:
    return [str(r.url) for r in fake.requests if key in str(r.url)]


def _first_page(fake: FakeFhirServer, size: int, *, self_sort: str | None = "-date") -> Any:
    """The whole prefetch, with the laboratory results cut to their first `size` records
    (newest first) and a `next` link; the self link names the sort the server used."""
    prefetch = fake.prefetch(QUERIES, PATIENT_ID)
    bundle = prefetch["labResults"]
    bundle["entry"] = bundle["entry"][:size]
    query = "patient=pt-1&category=laboratory" + (f"&_sort={self_sort}" if self_sort else "")
    bundle["link"] = [
        {"relation": "self", "url": f"{FHIR_SERVER}/Observation?{query}"},
        {"relation": "next", "url": f"{FHIR_SERVER}/Observation?page=2"},
    ]
    return prefetch


async def test_fetched_latest_first_searches_are_read_by_date_and_the_undated_apart() -> None:
    chart = _long_lab_chart(200, 3)  # 200 labs over 600 days
    fake = FakeFhirServer(FHIR_SERVER, chart, page_size=20)
    fetched = await fetched_from(fake)
    assert HORIZON is not None
    since = (HORIZON - timedelta(days=1)).isoformat()
    labs = _searches(fake, "category=laboratory")
    assert any(f"date=ge{since}" in url for url in labs)
    assert any("date%3Amissing=true" in url for url in labs)
    assert not any("_sort" in url for url in labs)  # no server's sort is trusted when fetching
    # 95 of the 200 are from the horizon (282 days back) on, and the undated one counts.
    assert set(keyed(fetched)) == set(keyed(counted(chart)))
    assert sum(k.startswith("Observation/lab-") for k in keyed(fetched)) == 96
    assert "Observation/lab-undated" in keyed(fetched)


async def test_a_prefetched_first_page_reaching_the_horizon_needs_no_server() -> None:
    fake = FakeFhirServer(FHIR_SERVER, _long_lab_chart(40, 30), page_size=20)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: pytest.fail("fetched"))
    ) as http:
        resources = await gather(QUERIES, call(prefetch=_first_page(fake, 20)), http)
    whole = await gather(
        QUERIES, call(prefetch=fake.prefetch(QUERIES, PATIENT_ID)), httpx.AsyncClient()
    )
    assert resources == whole  # the first page, the whole prefetch: the same records


@pytest.mark.parametrize("self_sort", [None, "date", "_lastUpdated"])
async def test_a_first_page_whose_server_did_not_sort_newest_first_is_read_on(
    self_sort: str | None,
) -> None:
    fake = FakeFhirServer(FHIR_SERVER, _long_lab_chart(40, 30), page_size=20)
    with pytest.raises(ChartUnavailableError, match="the client sent only its first page"):
        await gather(QUERIES, call(prefetch=_first_page(fake, 20, self_sort=self_sort)), None)


async def test_a_server_ignoring_the_sort_still_gives_the_records_that_count() -> None:
    chart = _long_lab_chart(40, 30)

    class Unsorted(FakeFhirServer):
        def search(self, resource_type: str, params: Any) -> Any:
            found = super().search(resource_type, [p for p in params if p[0] != "_sort"])
            return list(reversed(found))  # oldest first

    fake = Unsorted(FHIR_SERVER, chart, page_size=20)
    fetched = await fetched_from(fake)
    assert set(keyed(fetched)) == set(keyed(counted(chart)))


async def test_an_ehr_without_date_missing_is_read_whole_for_the_undated() -> None:
    chart = _long_lab_chart(40, 30)

    class NoMissing(FakeFhirServer):
        def handler(self, request: httpx.Request) -> httpx.Response:
            if "date:missing" in request.url.params:
                self.requests.append(request)
                outcome = {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "not-supported"}],
                }
                return httpx.Response(400, json=outcome)
            return super().handler(request)

    fake = NoMissing(FHIR_SERVER, chart, page_size=20)
    fetched = await fetched_from(fake)
    assert set(keyed(fetched)) == set(keyed(counted(chart)))
    assert "Observation/lab-undated" in keyed(fetched)


async def test_a_month_only_date_moves_the_cut_back_on_every_path() -> None:
    # Pregnant charted only to the month that holds the horizon, a negative test a few days
    # before the horizon: the engine orders them as a conflict, so both must count.
    assert HORIZON is not None
    month = HORIZON.strftime("%Y-%m")
    before = (HORIZON - timedelta(days=3)).isoformat()
    records = [
        {**r, "id": rid, "effectiveDateTime": day}
        for rid, day, r in (
            ("preg-month", month, _pregnancy_status("77386006")),
            ("preg-before", before, _pregnancy_status("60001007")),
        )
    ]
    chart = [*CHART, *records]
    whole, fetched = await both_ways(FakeFhirServer(FHIR_SERVER, chart, page_size=5))
    assert {"Observation/preg-month", "Observation/preg-before"} <= set(keyed(whole))
    assert fetched == whole


def _pregnancy_status(answer: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": answer}]},
    }


def test_latest_first_queries_need_a_horizon() -> None:
    with pytest.raises(ValueError, match="horizon"):
        read_prefetched(QUERIES, call(prefetch={}))
