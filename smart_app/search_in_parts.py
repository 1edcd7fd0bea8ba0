"""Reading one logical FHIR search in parallel parts when its first page shows it is long
(where to cut: `smart_app.search_parts`).

The first page is read alone: a search that fits on it (a small chart) costs one request, as
before, and one whose rest is short is read on from its `next` link. A long one is cut into
date windows sized by its Bundle.total, read side by side through the same `FhirClient` (its
bound on requests in flight holds), and merged: each resource once (by type and id), in a
fixed order whichever part answers first — the first page, then the windows oldest first,
each in the server's order, then the records with no date.

The search's bounds hold for the whole: each part is bounded as the search is, and the merged
result is cut to `max_resources`; either makes it `truncated`, as a search read whole would
be. A failing part fails the whole search (no silent partial result), except a 400/422: an
EHR that refuses a part's criteria (a date prefix, `:missing`) is read on from the first page
instead, as a server without them must be read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import orjson

from smart_app.fhir_client import FhirClient, SearchQuery, SearchResults, search_pairs
from smart_app.fhir_errors import FhirInvalidResource
from smart_app.search_parts import date_split, first_page, search_parts

__all__ = ["merged_results", "search_in_parts"]

_log = logging.getLogger(__name__)


async def search_in_parts(client: FhirClient, query: SearchQuery, *, today: date) -> SearchResults:
    """Every match of `query` (and its `_include`s), as `client.search` would return them,
    read in parallel parts when the search is long; `today` ends the last date window but
    one. Raises FhirError as `client.search`."""
    params = search_pairs(query.params)
    split = date_split(query.resource_type, params)
    if split is None:
        return _noted(query, await _search(client, query, params))
    first = await _search(client, query, params, max_pages=1)
    if first.next_url is None or query.max_pages == 1 or len(first) >= query.max_resources:
        return _noted(query, first)  # it fitted on one page, or its bounds allow no more
    too_many = first.total is not None and first.total > query.max_resources
    page = first_page(query.resource_type, first, first.total)
    parts = None if too_many else search_parts(split, page, today)
    if parts is None:
        return _noted(query, await _read_on(client, query, first))
    try:
        found = await client.search_many(
            {index: _part(query, part) for index, part in enumerate(parts)}
        )
    except FhirInvalidResource:
        _log.info("FHIR search %s: the EHR refused a part; reading on", query.resource_type)
        return _noted(query, await _read_on(client, query, first))
    _log.debug("FHIR search %s read in %d parts", query.resource_type, len(parts))
    return _noted(query, merged_results(first, [found[i] for i in range(len(parts))], query))


def merged_results(
    first: SearchResults, parts: Sequence[SearchResults], query: SearchQuery
) -> SearchResults:
    """The search's first page and the union of its parts (or of its further pages), in that
    order, each resource once, cut to the query's `max_resources`. Truncated when a part was
    or the cut dropped any: the first page's own `truncated` only said the search went on."""
    every = [first, *parts]
    matches = _unique(r for results in every for r in results)
    truncated = any(part.truncated for part in parts) or len(matches) > query.max_resources
    return SearchResults(
        matches[: query.max_resources],
        included=_unique(r for results in every for r in results.included),
        outcomes=[o for results in every for o in results.outcomes],
        total=first.total,
        pages=sum(results.pages for results in every),
        truncated=truncated,
    )


async def _search(
    client: FhirClient,
    query: SearchQuery,
    params: Sequence[tuple[str, str]],
    *,
    max_pages: int | None = None,
) -> SearchResults:
    return await client.search(
        query.resource_type,
        params,
        max_pages=max_pages or query.max_pages,
        max_resources=query.max_resources,
        page_size=query.page_size,
    )


async def _read_on(client: FhirClient, query: SearchQuery, first: SearchResults) -> SearchResults:
    """The search read on from the `next` link its first page stopped at, in its bounds."""
    rest = await client.search(
        query.resource_type,
        max_pages=query.max_pages - first.pages,
        max_resources=query.max_resources - len(first),
        next_url=first.next_url,
    )
    return merged_results(first, [rest], query)


def _part(query: SearchQuery, params: Sequence[tuple[str, str]]) -> SearchQuery:
    # Each part bounded as the search is: no part reads more than the whole may.
    return SearchQuery(
        query.resource_type,
        list(params),
        max_pages=query.max_pages,
        max_resources=query.max_resources,
        page_size=query.page_size,
    )


def _noted(query: SearchQuery, results: SearchResults) -> SearchResults:
    if results.truncated:
        _log.warning(
            "FHIR search %s stopped at its bound after %d page(s), %d match(es)",
            query.resource_type,
            results.pages,
            len(results),
        )
    return results


def _unique(resources: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    kept: list[dict[str, Any]] = []
    for resource in resources:
        resource_id = resource.get("id")
        # A stored resource has an id; one without (rare) is known by its content.
        key: tuple[Any, ...] = (
            (resource.get("resourceType"), resource_id)
            if isinstance(resource_id, str)
            else (orjson.dumps(resource, option=orjson.OPT_SORT_KEYS),)
        )
        if key not in seen:
            seen.add(key)
            kept.append(resource)
    return kept
