"""What a CDS client's prefetch holds for one chart query (CDS Hooks 2.0 §Prefetch Template),
read without I/O.

- key absent: the client chose not to, or could not, prefetch it → we fetch it ourselves;
- key present with ``null``: the client ran the query and there is no data → nothing;
- a Bundle (a searchset, or any type) → its resources, matches and `_include`s alike (an
  entry that is not an object or has no resource is malformed, never skipped);
- an OperationOutcome (whatever its severity: it stands in place of the data), or a Bundle
  carrying an error-level one: the client hit an error (the 3.0 ballot's way of saying so;
  2.0 clients leave the key out) → fetched ourselves;
- a Bundle with a `next` link: the client sent only the first page → fetched ourselves, whole,
  so the assessment never rests on part of the chart — unless the search is latest first and
  the page itself shows, sorted as asked, that it reaches back past the horizon
  (`latest_first`);
- a read template answered with its resource → that resource.

Anything else is a malformed request (400), named by its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from plugin.cds_hooks.chart_queries import ChartQuery
from plugin.cds_hooks.latest_first import reaches_horizon, sorted_newest_first
from plugin.errors import Problem

__all__ = ["PrefetchReading", "is_error_outcome", "read_prefetch"]


@dataclass(frozen=True, slots=True)
class PrefetchReading:
    """`resources` when the prefetch answers the query; otherwise `fetch_because` says why we
    must run it ourselves. `problem` marks a value that is not FHIR data at all."""

    resources: tuple[Mapping[str, Any], ...] | None = None
    fetch_because: str | None = None
    problem: Problem | None = None


def is_error_outcome(resource: Any) -> bool:
    """Whether `resource` is an OperationOutcome saying the data could not be had: an error or
    fatal issue, or no issue at all. The one rule for what a client prefetched and what the
    FHIR server answered us (`chart_gathering`), so both paths decide alike."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "OperationOutcome":
        return False
    issues = resource.get("issue")
    if not isinstance(issues, list):
        return True  # an outcome saying nothing in place of data is still not data
    return (
        any(
            isinstance(issue, Mapping) and issue.get("severity") in ("fatal", "error")
            for issue in issues
        )
        or not issues
    )


def _has_next_page(bundle: Mapping[str, Any]) -> bool:
    links = bundle.get("link")
    return isinstance(links, list) and any(
        isinstance(link, Mapping) and link.get("relation") == "next" and link.get("url")
        for link in links
    )


def _bundle_resources(
    query: ChartQuery, bundle: Mapping[str, Any], horizon: date | None
) -> PrefetchReading:
    key = query.key
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        return PrefetchReading(problem=Problem(f"prefetch.{key}.entry", "type", "must be an array"))
    if not isinstance(bundle.get("link", []), list):
        # Read as no links, a `next` among them would pass a first page off as the whole.
        return PrefetchReading(problem=Problem(f"prefetch.{key}.link", "type", "must be an array"))
    resources: list[Mapping[str, Any]] = []
    for index, entry in enumerate(entries):
        # A prefetch may hold thousands of entries: the JSON object (a dict) is checked first,
        # without the Mapping protocol's slower isinstance.
        if type(entry) is not dict and not isinstance(entry, Mapping):
            return PrefetchReading(
                problem=Problem(
                    f"prefetch.{key}.entry[{index}]", "type", "must be a Bundle entry object"
                )
            )
        resource = entry.get("resource")
        if resource is None:
            if "request" in entry or "response" in entry:
                continue  # a transaction or history entry without a body (FHIR bdl-5)
            # A search result without its resource is never skipped: the record it stands
            # for would be assessed as absent.
            return PrefetchReading(
                problem=Problem(
                    f"prefetch.{key}.entry[{index}].resource",
                    "required",
                    "is required: each entry of a search result carries its resource",
                )
            )
        if (type(resource) is not dict and not isinstance(resource, Mapping)) or not isinstance(
            resource.get("resourceType"), str
        ):
            return PrefetchReading(
                problem=Problem(
                    f"prefetch.{key}.entry[{index}].resource",
                    "resource",
                    "must be a FHIR resource with a resourceType",
                )
            )
        if resource["resourceType"] == "OperationOutcome":
            if is_error_outcome(resource):
                return PrefetchReading(fetch_because="the client reported an error for it")
            continue  # warnings and information beside the matches
        resources.append(resource)
    if _has_next_page(bundle) and not (
        query.latest_first
        and horizon is not None
        and sorted_newest_first(bundle)
        and reaches_horizon(resources, horizon)
    ):
        return PrefetchReading(fetch_because="the client sent only its first page")
    return PrefetchReading(resources=tuple(resources))


def read_prefetch(
    query: ChartQuery, prefetch: Mapping[str, Any], horizon: date | None = None
) -> PrefetchReading:
    """How the prefetch answers `query`. `horizon` is the first day a latest-first search's
    records count (None: the whole search is needed). The resources are as the client sent
    them: `latest_first.within_horizon` picks those that count."""
    key = query.key
    if key not in prefetch:
        return PrefetchReading(fetch_because="not prefetched")
    value = prefetch[key]
    if value is None:
        return PrefetchReading(resources=())
    if not isinstance(value, Mapping) or not isinstance(value.get("resourceType"), str):
        return PrefetchReading(
            problem=Problem(
                f"prefetch.{key}", "resource", "must be a FHIR resource, a Bundle, or null"
            )
        )
    if is_error_outcome(value):
        return PrefetchReading(fetch_because="the client reported an error for it")
    if value["resourceType"] == "OperationOutcome":
        # Warnings alone, in place of the data: the client hit a problem and sent no results.
        return PrefetchReading(fetch_because="the client reported a problem instead of data")
    if value["resourceType"] == "Bundle":
        return _bundle_resources(query, value, horizon)
    expected = query.template.partition("/")[0] if query.is_read else None
    if expected is None or value["resourceType"] != expected:
        wanted = f"a {expected} or null" if expected else "a Bundle or null"
        return PrefetchReading(
            problem=Problem(
                f"prefetch.{key}.resourceType",
                "prefetch-type",
                f"must be {wanted} (got a {value['resourceType']})",
            )
        )
    return PrefetchReading(resources=(value,))
