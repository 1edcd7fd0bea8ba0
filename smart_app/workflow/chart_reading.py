"""Reading the patient's chart for the candidacy page: the candidacy policy's chart queries
(the list the CDS Hooks service prefetches, with the laboratory search bounded in time where
that cannot change the assessment, so both doors judge the same data), run in
parallel through the session's FHIR client, every page of each search followed. A search
whose first page shows it is long is read in date windows side by side
(`smart_app.search_in_parts`): an EHR that never sends more than 50 a page would otherwise
make thousands of Observations one long chain of `next` links. The parts' union is exactly the
search, so the assessment is the one reading it whole would give (the CDS Hooks path does).

A query the granted scopes do not cover is not sent; a query that fails or is cut short is
reported as a gap with the reason. The page must show the gaps next to the outcome: a criterion
judged on a chart with a missing part may look met when it is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from plugin.candidacy.policy import Policy
from plugin.cds_hooks.chart_queries import (
    FhirRead,
    FhirSearch,
    app_chart_queries,
    rendered_query,
)
from smart_app.fhir_client import FhirClient, SearchQuery, SearchResults
from smart_app.fhir_errors import FhirError, FhirNotFound
from smart_app.scopes import GrantedAccess
from smart_app.search_in_parts import search_in_parts

__all__ = ["MAX_PAGES", "MAX_RESOURCES", "ChartGap", "ChartReading", "read_chart"]

#: Bounds of one search: a chart of thousands of results at 50 a page still fits. A search
#: read in parts holds each part to them and cuts the union to MAX_RESOURCES.
MAX_PAGES = 200
MAX_RESOURCES = 10_000


@dataclass(frozen=True, slots=True)
class ChartGap:
    """A part of the chart that was not read in full, in words for the page."""

    resource_type: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChartReading:
    resources: tuple[Mapping[str, Any], ...]
    gaps: tuple[ChartGap, ...]


async def _read(client: FhirClient, request: FhirRead) -> tuple[Mapping[str, Any], ...]:
    try:
        return (await client.read(request.resource_type, request.resource_id),)
    except FhirNotFound:
        return ()


def _search_outcome(
    resource_type: str, outcome: SearchResults | FhirError
) -> tuple[tuple[Mapping[str, Any], ...], ChartGap | None]:
    if isinstance(outcome, FhirError):
        # user_message names the interaction and status, never ids or search values.
        return (), ChartGap(resource_type, f"could not be read: {outcome.user_message}")
    gap = None
    if outcome.truncated:
        gap = ChartGap(
            resource_type,
            f"has more results than the app reads at once; only the first {len(outcome)} "
            "were assessed",
        )
    return (*outcome, *outcome.included), gap


async def read_chart(
    client: FhirClient,
    *,
    patient_id: str,
    access: GrantedAccess,
    policy: Policy,
    today: date,
) -> ChartReading:
    """Every resource the policy's queries return for the patient, and the gaps. Laboratory
    results known only by their words are read from the first day they can change the
    outcome on `today` (`app_chart_queries`); everything else in full."""
    reads: list[FhirRead] = []
    searches: dict[int, SearchQuery] = {}
    gaps: list[ChartGap] = []
    for index, query in enumerate(app_chart_queries(policy, today)):
        request = rendered_query(query, {"patientId": patient_id})
        if isinstance(request, FhirRead):
            if access.can_read(request.resource_type):
                reads.append(request)
            else:
                gaps.append(ChartGap(request.resource_type, "the EHR did not grant reading it"))
            continue
        assert isinstance(request, FhirSearch)
        if not access.can_search(request.resource_type):
            gaps.append(ChartGap(request.resource_type, "the EHR did not grant searching it"))
            continue
        searches[index] = SearchQuery(
            request.resource_type,
            list(request.params),
            max_pages=MAX_PAGES,
            max_resources=MAX_RESOURCES,
        )

    async def read_all() -> list[tuple[Mapping[str, Any], ...] | BaseException]:
        return await asyncio.gather(*(_read(client, r) for r in reads), return_exceptions=True)

    async def in_parts(query: SearchQuery) -> SearchResults:
        return await search_in_parts(client, query, today=today)

    read_results, search_results = await asyncio.gather(
        read_all(), client.search_many_settled(searches, run=in_parts)
    )
    resources: list[Mapping[str, Any]] = []
    for request, result in zip(reads, read_results, strict=True):
        if isinstance(result, FhirError):
            reason = f"could not be read: {result.user_message}"
            gaps.append(ChartGap(request.resource_type, reason))
        elif isinstance(result, BaseException):
            raise result
        else:
            resources.extend(result)
    for index in sorted(search_results):
        found, gap = _search_outcome(searches[index].resource_type, search_results[index])
        resources.extend(found)
        if gap is not None:
            gaps.append(gap)
    return ChartReading(tuple(resources), _merged(gaps))


def _merged(gaps: list[ChartGap]) -> tuple[ChartGap, ...]:
    # Observations come from two searches; one line per type and reason is enough.
    return tuple(dict.fromkeys(gaps))
