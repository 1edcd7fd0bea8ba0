"""Reading a latest-first Observation search (`ChartQuery.latest_first`) and its undated twin
(`ChartQuery.undated`): the records that count, and when the pages read so far hold all of them.

The services ask for Observations newest first and count those whose effective date (the
`date` search parameter the server sorts by) is on or after the policy's horizon
(`plugin.candidacy.lookback`). A date charted only to the month or year that may fall on or
after the horizon counts, and so does every record that may be as recent as such a date (the
cut moves back to its first day): the engine orders those records against each other, so none
of them may be missing. Which records count is a property of the records alone, never of the
pages they came on: a prefetch holding every page, a first page reaching back past the cut and
the records we fetch by date give the engine the same records.

A first page with a `next` link is the whole answer only when it proves it: its self link says
the server sorted by `-date` (a server may ignore `_sort`, and says so there), every record on
it that is dated is no newer than the one before it, and the last is more than a month before
the cut (a server may place a date charted to the month at its first day). A date charted only
to the year, placed at its first day by the server and following such a page, is the one case
this cannot prove (a result charted only to the year). Records
with no effective date have no place in that order: the undated twin search
(``date:missing=true``) finds them, and they count whatever their age (the engine dates them by
`issued`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from plugin.candidacy.partial_dates import PartialDate, parse_partial_date
from plugin.candidacy.selections import started
from plugin.cds_hooks.chart_queries import ChartQuery

__all__ = [
    "counted",
    "counted_cut",
    "reaches_horizon",
    "sorted_newest_first",
    "undated",
    "within_horizon",
]

Resource = Mapping[str, Any]

#: A server orders by the instant in UTC, a chart's date is the day as written: two records an
#: hour apart across midnight may be a day apart either way.
_ZONE_SLACK = timedelta(days=1)
#: How far a page must reach back past the cut: a server may order a date charted to the month
#: by its first day (HAPI does), so a month-only record that counts may follow a day-precise
#: record up to a month older than it.
_MONTH_SPAN = timedelta(days=31)


def _effective(resource: Resource) -> PartialDate | None:
    """The span a server's `date` parameter indexes the Observation by: its effective
    dateTime, instant or Period start, or the first to the last event of an effectiveTiming."""
    if resource.get("resourceType") != "Observation":
        return None
    day = started(resource)
    if day is not None:
        return day
    timing = resource.get("effectiveTiming")
    events = timing.get("event") if isinstance(timing, Mapping) else None
    days = [d for e in events if (d := parse_partial_date(e))] if isinstance(events, list) else []
    if not days:
        return None
    first = min(days, key=lambda d: d.earliest)
    last = max(days, key=lambda d: d.latest)
    return PartialDate(first.earliest, last.latest, f"{first} to {last}", first.precision)


def _dated(resources: Iterable[Resource]) -> list[tuple[Resource, PartialDate]]:
    return [(r, day) for r in resources if (day := _effective(r)) is not None]


def _cut(dated: Sequence[tuple[Resource, PartialDate]], horizon: date) -> date:
    """The first day that counts: the horizon, moved back to the first day a counted record
    may mean while one may mean an earlier day than the cut."""
    cut = horizon
    while True:
        earliest = min((day.earliest for _, day in dated if day.latest >= cut), default=cut)
        if earliest >= cut:
            return cut
        cut = earliest


def counted_cut(resources: Iterable[Resource], horizon: date) -> date:
    """The first day from which `resources` count (the horizon, or earlier: see `_cut`)."""
    return _cut(_dated(resources), horizon)


def within_horizon(resources: Iterable[Resource], horizon: date) -> tuple[Resource, ...]:
    """The records of a latest-first search that count: Observations that may be effective on
    or after the cut, ordered by id — the pages they came on, and so their order, differ
    between a prefetch and a fetch."""
    dated = _dated(resources)
    cut = _cut(dated, horizon)
    kept = [resource for resource, day in dated if day.latest >= cut]
    kept.sort(key=lambda resource: str(resource.get("id", "")))
    return tuple(kept)


def undated(resources: Iterable[Resource]) -> tuple[Resource, ...]:
    """The records of an undated search that count: Observations with no effective date (a
    client or server that ignored ``date:missing`` may send others), ordered by id."""
    kept = [r for r in resources if r.get("resourceType") == "Observation" and not _effective(r)]
    kept.sort(key=lambda resource: str(resource.get("id", "")))
    return tuple(kept)


def counted(
    query: ChartQuery, resources: Sequence[Resource], horizon: date | None
) -> tuple[Resource, ...]:
    """The records of `query`'s answer that count, however they came (prefetched or
    fetched): a latest-first search's from the cut on, an undated search's undated ones,
    any other search's all."""
    if query.latest_first and horizon is not None:
        return within_horizon(resources, horizon)
    if query.undated:
        return undated(resources)
    return tuple(resources)


def sorted_newest_first(bundle: Mapping[str, Any]) -> bool:
    """Whether a search Bundle's self link says the server sorted by `-date` first (FHIR R4
    search: the self link carries the parameters the server actually used)."""
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("relation") == "self":
            url = link.get("url")
            if not isinstance(url, str):
                return False
            try:
                query = urlsplit(url).query
            except ValueError:  # not a URL (an unclosed IPv6 host): proves nothing
                return False
            sorts = [value for name, value in parse_qsl(query) if name == "_sort"]
            # One _sort, whose first key is -date (a repeated one is not read either way).
            return len(sorts) == 1 and sorts[0].split(",")[0].strip() == "-date"
    return False


def reaches_horizon(read: Sequence[Resource], horizon: date) -> bool:
    """Whether the records read so far, in the server's order (newest first), show that no
    later page can hold one that counts: none newer than the one before it, the last one
    before the cut. Records with no effective date are passed over (the undated search finds
    them wherever the server puts them). Every comparison allows a day for the time zone."""
    dated = _dated(read)
    if not dated:
        return False
    previous: PartialDate | None = None
    for _, day in dated:
        if previous is not None and day.earliest - previous.latest > _ZONE_SLACK:
            return False  # not newest first
        previous = day
    assert previous is not None
    return _cut(dated, horizon) - previous.latest > _ZONE_SLACK + _MONTH_SPAN
