"""Reading a long search in date windows, against a respx-mocked EHR that evaluates date
criteria by FHIR's range semantics and pages at a small cap: what is asked, how the parts are
merged (each resource once, in an order that does not depend on timing), what a failing or
refused part does, and that the search's bounds still hold. Also the client's `next_url`."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from smart_app import search_parts
from smart_app.fhir_client import FhirClient, RetryPolicy, SearchQuery, StaticTokenSource
from smart_app.fhir_errors import FhirPagingError, FhirServerError
from smart_app.search_in_parts import search_in_parts
from tests.smart_app.date_search import date_criteria_hold

BASE = "https://ehr.example.org/fhir"
TODAY = date(2026, 11, 23)
CODED = [("patient", "p1"), ("code", "http://loinc.org|2160-0,http://loinc.org|777-3")]


def observation(index: int, **dated: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"obs-{index}", "status": "final", **dated}


def chart(count: int = 120) -> list[dict[str, Any]]:
    """`count` Observations a week apart back from TODAY, and the awkward ones: a Period over
    a year, one open at each end, partial dates, offsets, an instant, a future date, none."""
    regular = [
        observation(i, effectiveDateTime=(TODAY - timedelta(days=7 * i)).isoformat())
        for i in range(count)
    ]
    return [
        *regular,
        observation(1001, effectivePeriod={"start": "2025-01-10", "end": "2026-01-10"}),
        observation(1002, effectivePeriod={"start": "2025-06-01"}),
        observation(1003, effectivePeriod={"end": "2025-06-01"}),
        observation(1004, effectiveDateTime="2025"),
        observation(1005, effectiveDateTime="2025-03"),
        observation(1006, effectiveDateTime="2025-06-30T23:30:00-05:00"),
        observation(1007, effectiveInstant="2025-07-01T00:15:00+14:00"),
        observation(1008, effectiveDateTime=(TODAY + timedelta(days=40)).isoformat()),
        observation(1009),
    ]


class FakeEhr:
    """Observation searches over `resources` (in that order), `cap` to a page, Bundle.total
    on the first page, `next` links by page number. `delay` and `refuse` shape the answers
    to a search by its date criteria."""

    def __init__(self, resources: list[dict[str, Any]], cap: int = 10) -> None:
        self.resources = resources
        self.cap = cap
        self.searches: list[list[tuple[str, str]]] = []  # first pages asked, their criteria
        self.pages = 0
        self.results: dict[str, list[dict[str, Any]]] = {}  # by page token
        self.found: dict[str, list[dict[str, Any]]] = {}  # by date criteria, as `windows`
        self.delay: dict[str, float] = {}  # by the search's date criteria, joined
        self.refuse: dict[str, int] = {}  # status for searches with this date criterion
        self.send_total = True
        self._ids = itertools.count()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.pages += 1
        params = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        query = dict(params)
        if "_page" in query:
            token, offset = query["_page"], int(query["_offset"])
            return self._page(token, offset, first=False)
        self.searches.append(params)
        dates = "&".join(f"{n}={v}" for n, v in params if n.startswith("date"))
        for criterion, status in self.refuse.items():
            if criterion in dates:
                return httpx.Response(status, json={"resourceType": "OperationOutcome"})
        await asyncio.sleep(self.delay.get(dates, 0))
        token = str(next(self._ids))
        self.results[token] = [r for r in self.resources if date_criteria_hold(params, r)]
        self.found[dates.replace("date=", "").replace("date:missing=", "")] = self.results[token]
        return self._page(token, 0, first=True)

    def _page(self, token: str, offset: int, *, first: bool) -> httpx.Response:
        found = self.results[token]
        page = found[offset : offset + self.cap]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in page],
            "link": [],
        }
        if first and self.send_total:
            bundle["total"] = len(found)
        if offset + self.cap < len(found):
            following = f"{BASE}/Observation?_page={token}&_offset={offset + self.cap}"
            bundle["link"].append({"relation": "next", "url": following})
        return httpx.Response(200, json=bundle)

    def windows(self) -> list[str]:
        """The date criteria of the searches asked, in the order asked."""
        return ["&".join(v for n, v in s if n.startswith("date")) for s in self.searches]


@pytest.fixture
def ehr() -> Iterator[FakeEhr]:
    fake = FakeEhr(chart())
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/Observation").mock(side_effect=fake)
        router.get("/Condition").mock(side_effect=fake)  # same paging, no date parameter
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[FhirClient]:
    async with httpx.AsyncClient() as http:
        yield FhirClient(
            BASE, StaticTokenSource("token"), http, policy=RetryPolicy.for_app(max_attempts=1)
        )


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parts of 3 pages, so a chart of ~130 at 10 a page is cut into several windows.
    monkeypatch.setattr(search_parts, "PAGES_PER_PART", 3)


def query(params: list[tuple[str, str]] = CODED, **bounds: int) -> SearchQuery:
    return SearchQuery("Observation", params, **bounds)


def ids(resources: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in resources]


def matching(ehr: FakeEhr, params: list[tuple[str, str]] = CODED) -> set[str]:
    return {r["id"] for r in ehr.resources if date_criteria_hold(params, r)}


async def test_a_long_search_is_read_in_windows_and_each_resource_once(
    client: FhirClient, ehr: FakeEhr
) -> None:
    found = await search_in_parts(client, query(max_pages=200), today=TODAY)
    assert sorted(ids(found)) == sorted(matching(ehr))  # every one, each once
    windows = ehr.windows()
    assert windows[0] == ""  # the whole search's first page
    assert windows[1].startswith("lt") and windows[-2].startswith("ge")
    assert windows[-1] == "true"  # date:missing
    assert len(windows) == 1 + 5 + 1  # 129 at 10 a page: 13 pages, 3 a part
    assert not found.truncated and found.total == len(ehr.resources)
    # The first page, then the windows oldest first, then the undated, each in the
    # server's order.
    expected = ids(ehr.found[""][:10])
    for window in sorted(windows[1:], key=lambda w: (w == "true", w.startswith("ge"), w)):
        expected += [i for i in ids(ehr.found[window]) if i not in expected]
    assert ids(found) == expected


async def test_the_order_does_not_depend_on_which_part_answers_first(
    client: FhirClient, ehr: FakeEhr
) -> None:
    first = await search_in_parts(client, query(max_pages=200), today=TODAY)
    asked = ehr.windows()[1:]
    # Now the oldest windows answer last.
    ehr.delay = {window: 0.002 * (len(asked) - i) for i, window in enumerate(asked)}
    again = await search_in_parts(client, query(max_pages=200), today=TODAY)
    assert ids(again) == ids(first)


async def test_a_search_that_fits_on_one_page_is_one_request(
    client: FhirClient, ehr: FakeEhr
) -> None:
    ehr.cap = 500
    found = await search_in_parts(client, query(), today=TODAY)
    assert sorted(ids(found)) == sorted(matching(ehr))
    assert ehr.pages == 1


async def test_a_short_rest_is_read_on_from_the_next_link(client: FhirClient, ehr: FakeEhr) -> None:
    ehr.cap = 40  # 4 pages: the rest is one part's worth
    found = await search_in_parts(client, query(), today=TODAY)
    assert sorted(ids(found)) == sorted(matching(ehr))
    assert ehr.windows() == [""] and ehr.pages == 4


async def test_without_a_total_the_search_is_cut_in_the_default_windows(
    client: FhirClient, ehr: FakeEhr
) -> None:
    ehr.send_total = False
    found = await search_in_parts(client, query(max_pages=200), today=TODAY)
    assert sorted(ids(found)) == sorted(matching(ehr))
    assert len(ehr.windows()) == 1 + search_parts.DEFAULT_WINDOWS + 1


async def test_a_bounded_search_is_cut_within_its_bound(client: FhirClient, ehr: FakeEhr) -> None:
    params = [("patient", "p1"), ("category", "laboratory"), ("date", "ge2025-01-01")]
    found = await search_in_parts(client, query(params, max_pages=200), today=TODAY)
    assert sorted(ids(found)) == sorted(matching(ehr, params))
    assert {"obs-1001", "obs-1002", "obs-1008"} <= set(ids(found))  # spanning, open, future
    assert "obs-1009" not in ids(found)  # undated: not in a dated search
    assert all(w.startswith("ge2025-01-01") for w in ehr.windows())
    assert not any("true" in w for w in ehr.windows())


async def test_searches_not_cut_follow_their_pages(client: FhirClient, ehr: FakeEhr) -> None:
    condition = SearchQuery("Condition", [("patient", "p1")], max_pages=200)
    found = await search_in_parts(client, condition, today=TODAY)
    assert len(found) == len(ehr.resources) and ehr.windows() == [""]
    undated = query([("patient", "p1"), ("date:missing", "true")], max_pages=200)
    found = await search_in_parts(client, undated, today=TODAY)
    assert ids(found) == ["obs-1009"]


async def test_a_failing_part_fails_the_search(client: FhirClient, ehr: FakeEhr) -> None:
    ehr.refuse = {"true": 503}  # the undated part
    with pytest.raises(FhirServerError):
        await search_in_parts(client, query(max_pages=200), today=TODAY)


@pytest.mark.parametrize("status", [400, 422])
async def test_a_part_the_ehr_refuses_is_read_on_whole(
    client: FhirClient, ehr: FakeEhr, status: int
) -> None:
    ehr.refuse = {"true": status}  # a server without :missing
    found = await search_in_parts(client, query(max_pages=200), today=TODAY)
    assert sorted(ids(found)) == sorted(matching(ehr))
    assert not found.truncated


async def test_the_union_is_cut_to_max_resources(client: FhirClient, ehr: FakeEhr) -> None:
    # A total the bound allows, but Periods counted in two windows are not double-counted;
    # cut the union itself by asking for fewer than there are.
    found = await search_in_parts(client, query(max_pages=200, max_resources=125), today=TODAY)
    assert len(found) == 125 and found.truncated
    assert len(set(ids(found))) == 125


async def test_a_search_over_its_bound_is_read_on_as_a_whole_search_is(
    client: FhirClient, ehr: FakeEhr
) -> None:
    found = await search_in_parts(client, query(max_pages=200, max_resources=60), today=TODAY)
    assert ehr.windows() == [""]  # total over the bound: no windows
    assert found.truncated and len(found) == 60
    assert ids(found) == ids(ehr.resources[:60])


async def test_a_part_stopped_by_max_pages_truncates_the_search(
    client: FhirClient, ehr: FakeEhr
) -> None:
    found = await search_in_parts(client, query(max_pages=2), today=TODAY)
    assert found.truncated
    assert len(found) < len(matching(ehr))


async def test_a_bound_of_one_page_reads_one_page(client: FhirClient, ehr: FakeEhr) -> None:
    found = await search_in_parts(client, query(max_pages=1), today=TODAY)
    assert found.truncated and len(found) == 10 and ehr.pages == 1


# -- the client reads on from a next link -------------------------------------------------


async def test_the_client_reads_on_from_where_a_bound_stopped_it(
    client: FhirClient, ehr: FakeEhr
) -> None:
    first = await client.search("Observation", CODED, max_pages=2)
    assert first.truncated and first.next_url is not None and len(first) == 20
    rest = await client.search("Observation", max_pages=200, next_url=first.next_url)
    assert not rest.truncated and rest.next_url is None
    assert ids(first) + ids(rest) == ids(ehr.resources)


async def test_the_client_will_not_read_on_at_another_origin(client: FhirClient) -> None:
    with pytest.raises(FhirPagingError):
        await client.search("Observation", next_url="https://elsewhere.example.org/fhir/x")
