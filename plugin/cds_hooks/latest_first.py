"""Reading a latest-first Observation search (`ChartQuery.latest_first`): the records that
count, and when the pages read so far hold all of them.

The services ask for Observations newest first and count only those whose effective date
(the `date` search parameter the server sorts by) is on or after the policy's horizon
(`plugin.candidacy.lookback`). A page reaching back past the horizon is then the whole answer:
nothing after it can count. That is proven only by the page itself — every record dated,
newest first, the last one before the horizon — never assumed, since a server may ignore
`_sort`. The records that count are a property of the records, not of the pages they came
on: a prefetch holding every page, a first page reaching the horizon and the pages we fetch
give the engine the same records.

A record with no effective date has no place in the server's order, so no page can show
whether more of them follow: these searches never count one (the SMART app, which can search
for them, reads them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from plugin.candidacy.partial_dates import PartialDate
from plugin.candidacy.selections import started

__all__ = ["reaches_horizon", "within_horizon"]

Resource = Mapping[str, Any]

#: A server orders by the instant in UTC, a chart's date is the day as written: two records an
#: hour apart across midnight may be a day apart either way.
_ZONE_SLACK = timedelta(days=1)


def _effective(resource: Resource) -> PartialDate | None:
    return started(resource) if resource.get("resourceType") == "Observation" else None


def within_horizon(resources: Iterable[Resource], horizon: date) -> tuple[Resource, ...]:
    """The records that count: Observations effective on or after `horizon` (a date known
    only to the month or year counts when it may fall on or after it), ordered by id — the
    pages they came on, and so their order, differ between a prefetch and a fetch."""
    kept: list[Resource] = []
    for resource in resources:
        effective = _effective(resource)
        if effective is not None and effective.latest >= horizon:
            kept.append(resource)
    kept.sort(key=lambda resource: str(resource.get("id", "")))
    return tuple(kept)


def reaches_horizon(read: Sequence[Resource], horizon: date) -> bool:
    """Whether the records read so far, in the server's order, show that no later page can
    hold one that counts: each one dated, none newer than the one before it, the last one
    before `horizon`. Dates charted to the month or year are compared by what they may mean,
    and every comparison allows a day for the time zone."""
    previous: PartialDate | None = None
    for resource in read:
        effective = _effective(resource)
        if effective is None:
            return False
        if previous is not None and effective.earliest > previous.latest + _ZONE_SLACK:
            return False  # not newest first: the server did not sort as asked
        previous = effective
    return previous is not None and previous.latest + _ZONE_SLACK < horizon
