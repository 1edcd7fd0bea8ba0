"""The patient's chart for one CDS Hooks call: each chart query from the prefetch when the
client sent it, otherwise fetched from `fhirServer` with the `fhirAuthorization` token — the
same queries either way, so both paths give the engine the same resources.

A long search is read as the SMART app reads one: in date windows side by side once its first
page shows it is long (`smart_app.search_in_parts`), the same resources as read whole, in a
fraction of the round trips a CDS call can afford. A latest-first Observation search is
fetched by date from its cut on, never trusting a server's sort, and its undated twin whole
when the EHR refuses ``date:missing``; whichever way a query's answer came, the same records
of it count (`latest_first.counted`).

When a query can be answered neither way (no fhirServer or token, or the FHIR server fails,
refuses, reports an error in its search Bundle — the rule a prefetched Bundle is read by,
`prefetch.is_error_outcome` — answers with an entry that is not a FHIR resource, or would need
more pages than we read inside a CDS call) the call is answered 412 (CDS Hooks 2.0 §Prefetch
Template), saying for each key why it had to be fetched. What we fetched is never the client's
request error (400). The token is used for this call only and never stored.

Every record, prefetched or fetched, must be about context.patientId (`same_patient`): another
patient's record in the prefetch is a malformed call (400); in the FHIR server's answer, data
we cannot use (412).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from plugin.cds_hooks.chart_queries import (
    UNDATED,
    ChartQuery,
    FhirRead,
    FhirSearch,
    rendered_query,
)
from plugin.cds_hooks.errors import CdsRequestInvalidError, ChartUnavailableError
from plugin.cds_hooks.hook_request import HookRequest
from plugin.cds_hooks.latest_first import counted, counted_cut
from plugin.cds_hooks.prefetch import is_error_outcome, read_prefetch
from plugin.cds_hooks.same_patient import fetched_mismatches, prefetch_problems
from smart_app.fhir_client import (
    FhirClient,
    RetryPolicy,
    SearchQuery,
    SearchResults,
    StaticTokenSource,
)
from smart_app.fhir_errors import FhirError, FhirInvalidResource, FhirNotFound
from smart_app.search_in_parts import search_in_parts

__all__ = [
    "MAX_PAGES",
    "MAX_RESOURCES_PER_QUERY",
    "fetch_missing",
    "gather_chart",
    "in_query_order",
    "read_prefetched",
]

#: Bounds of one fetched query. A chart beyond them is not assessed on a part of it: 412.
MAX_PAGES = 100
MAX_RESOURCES_PER_QUERY = 10_000
#: Times a latest-first search's cut may move back (dates charted to the month or year).
_MAX_CUT_MOVES = 4

Resource = Mapping[str, Any]


async def _fetch(
    client: FhirClient,
    query: ChartQuery,
    request: FhirRead | FhirSearch,
    today: date,
    horizon: date | None,
) -> tuple[Resource, ...]:
    key = query.key
    if isinstance(request, FhirRead):
        try:
            # The client checks that the answer is the resource asked for.
            return (await client.read(request.resource_type, request.resource_id),)
        except FhirNotFound:
            return ()  # what a client's prefetch says with null
    if query.latest_first and horizon is not None:
        return await _fetch_from_horizon(client, key, request, today, horizon)
    try:
        return await _search_whole(client, key, request, list(request.params), today)
    except FhirInvalidResource:
        if not query.undated:
            raise
        # An EHR without date:missing: the search whole (`counted` keeps the undated).
        params = [(n, v) for n, v in request.params if (n, v) != UNDATED]
        return await _search_whole(client, key, request, params, today)


async def _fetch_from_horizon(
    client: FhirClient, key: str, request: FhirSearch, today: date, horizon: date
) -> tuple[Resource, ...]:
    """A latest-first search's records from the cut on, read by date rather than sorted (no
    server's `_sort` to trust): from a day before the cut — the server compares instants in
    UTC, the cut is a charted day — and again from an earlier cut when a date charted to the
    month or year moves it back."""
    params = [(n, v) for n, v in request.params if n not in ("_sort", "_count")]
    since = horizon
    for _ in range(_MAX_CUT_MOVES):
        start = since - timedelta(days=1)
        found = await _search_whole(
            client, key, request, [*params, ("date", f"ge{start.isoformat()}")], today
        )
        since = counted_cut(found, horizon)
        if since > start:
            return found
    raise ChartUnavailableError(
        (key,), "dates charted only to the month or year reach back further than one call reads"
    )


async def _search_whole(
    client: FhirClient,
    key: str,
    request: FhirSearch,
    params: list[tuple[str, str]],
    today: date,
) -> tuple[Resource, ...]:
    query = SearchQuery(
        request.resource_type,
        params,
        max_pages=MAX_PAGES,
        max_resources=MAX_RESOURCES_PER_QUERY,
    )
    results = await search_in_parts(client, query, today=today)
    _check_search(key, request, results)
    if results.truncated:
        raise ChartUnavailableError((key,), "the search has more results than one call may read")
    return (*results, *results.included)


def _check_search(key: str, request: FhirSearch, results: SearchResults) -> None:
    if any(is_error_outcome(outcome) for outcome in results.outcomes):
        # The same rule as a prefetched Bundle carrying one: the matches beside an error
        # (too-costly, a timeout) are not the patient's whole record, so nothing is assessed.
        raise ChartUnavailableError(
            (key,), f"the FHIR server reported an error for the {request.resource_type} search"
        )
    if not all(isinstance(resource.get("resourceType"), str) for resource in results):
        # What we fetched is not the client's request: unreadable data is data we cannot
        # have (412), and a record is never dropped, lest its absence be assessed.
        raise ChartUnavailableError(
            (key,),
            f"the FHIR server answered the {request.resource_type} search with an entry "
            "that is not a FHIR resource (no resourceType)",
        )


async def _fetch_all(
    queries: Sequence[ChartQuery],
    call: HookRequest,
    http: httpx.AsyncClient,
    policy: RetryPolicy,
    today: date,
    horizon: date | None,
) -> dict[str, tuple[Resource, ...]]:
    assert call.fhir_server is not None and call.fhir_authorization is not None
    client = FhirClient(
        call.fhir_server,
        StaticTokenSource(call.fhir_authorization.access_token),
        http,
        policy=policy,
    )
    tokens = call.context.prefetch_tokens()
    keys = [query.key for query in queries]
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(
                    _fetch(client, query, rendered_query(query, tokens), today, horizon)
                )
                for query in queries
            ]
    except BaseExceptionGroup as failures:
        first = failures.exceptions[0]
        if isinstance(first, ChartUnavailableError):
            raise first from None  # it names the query at fault
        if isinstance(first, FhirError):
            # The error's str() names the interaction and status only, never ids or URLs.
            raise ChartUnavailableError(
                tuple(keys), f"the FHIR server could not be read ({first})"
            ) from None
        raise
    return {
        query.key: counted(query, task.result(), horizon)
        for query, task in zip(queries, tasks, strict=True)
    }


def _needs_horizon(queries: Sequence[ChartQuery], horizon: date | None) -> None:
    if horizon is None and any(query.latest_first for query in queries):
        raise ValueError("latest-first chart queries are read up to a horizon: pass it")


def read_prefetched(
    queries: Sequence[ChartQuery], call: HookRequest, *, horizon: date | None = None
) -> tuple[dict[str, tuple[Resource, ...]], list[ChartQuery]]:
    """What the prefetch answers, by key, and the queries it leaves to fetch (no I/O).
    `horizon` is the first day a latest-first query's records count (required when there is
    one): such a query answers with those records alone.
    Raises CdsRequestInvalidError naming every malformed prefetch value and every key holding
    another patient's records; ChartUnavailableError, saying why each key must be fetched,
    when there is no fhirServer to fetch from."""
    _needs_horizon(queries, horizon)
    answers: dict[str, tuple[Resource, ...]] = {}
    missing: list[ChartQuery] = []
    reasons: dict[str, list[str]] = {}
    problems = []
    for query in queries:
        reading = read_prefetch(query, call.prefetch, horizon)
        if reading.problem is not None:
            problems.append(reading.problem)
        elif reading.resources is not None:
            answers[query.key] = reading.resources
        else:
            missing.append(query)
            reasons.setdefault(reading.fetch_because or "not prefetched", []).append(query.key)
    problems += prefetch_problems(call.prefetch, answers, call.context.patient_id)
    if problems:
        raise CdsRequestInvalidError(problems)
    for query in queries:
        # Checked whole above (another patient's record is a malformed call at any age).
        if query.key in answers:
            answers[query.key] = counted(query, answers[query.key], horizon)
    if missing and (call.fhir_server is None or call.fhir_authorization is None):
        why = "; ".join(f"{', '.join(keys)}: {reason}" for reason, keys in reasons.items())
        raise ChartUnavailableError(
            tuple(q.key for q in missing),
            f"{why} — and the request gives no fhirServer and fhirAuthorization to fetch them",
        )
    return answers, missing


def in_query_order(
    queries: Sequence[ChartQuery], answers: Mapping[str, tuple[Resource, ...]]
) -> list[Resource]:
    """Every resource of the answers, in query order."""
    return [resource for query in queries for resource in answers[query.key]]


async def fetch_missing(
    missing: Sequence[ChartQuery],
    call: HookRequest,
    http: httpx.AsyncClient,
    *,
    policy: RetryPolicy | None = None,
    today: date | None = None,
    horizon: date | None = None,
) -> dict[str, tuple[Resource, ...]]:
    """The queries the prefetch left out, run against fhirServer (412 when that fails).
    `today` ends the date windows a long search is read in (default: today in UTC);
    `horizon` as for `read_prefetched`."""
    _needs_horizon(missing, horizon)
    if not missing:
        return {}
    answers = await _fetch_all(
        missing,
        call,
        http,
        policy or RetryPolicy.for_cds(),
        today or datetime.now(UTC).date(),
        horizon,
    )
    mismatches = fetched_mismatches(answers, call.context.patient_id)
    if mismatches:
        # The request is not at fault: the FHIR server's answer cannot be this patient's chart.
        raise ChartUnavailableError(
            tuple(m.key for m in mismatches),
            "the FHIR server returned records about another patient than context.patientId",
        )
    return answers


async def gather_chart(
    queries: Sequence[ChartQuery],
    call: HookRequest,
    http: httpx.AsyncClient,
    *,
    policy: RetryPolicy | None = None,
    today: date | None = None,
    horizon: date | None = None,
) -> list[Resource]:
    """Every resource the chart queries give, in query order (prefetched or fetched);
    `horizon` as for `read_prefetched`."""
    answers, missing = read_prefetched(queries, call, horizon=horizon)
    answers |= await fetch_missing(missing, call, http, policy=policy, today=today, horizon=horizon)
    return in_query_order(queries, answers)
