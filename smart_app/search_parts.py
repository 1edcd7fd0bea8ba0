"""How a long FHIR search is cut into parts that can be read in parallel, pure.

A search a server pages at 50 is a chain of `next` links read one after another: 3,000
Observations are 60 round trips in a row. Cut by date into windows, the same search becomes a
few shorter chains read side by side. Each part is the original search with date criteria
added (repeated parameters are ANDed, FHIR R4 search §Combining), so each part returns only
what the search returns; the windows tile the time line, so together they return all of it:

- FHIR compares ranges (R4 search §Prefixes): ``ge A`` holds when the record's range ends
  after day A or lies within it, ``lt B`` when it starts before day B. A record whose range
  starts in [A, B) therefore matches ``ge A & lt B``; one starting before the first edge
  matches ``lt`` it; one starting on or after the last edge matches ``ge`` it. So every dated
  record lands in at least one window, whatever its precision ("2019", a Period, a dateTime
  with an offset: the server reads every window's edges in its one zone), and one spanning
  an edge (a Period, a partial date) may land in two: the reader keeps each resource once.
- A record with no date matches no window: a search with no date criterion gets one more
  part, ``date:missing=true``. A search already bounded by date cannot return such records.

Correctness never depends on where the edges fall, only balance does. The windows run from the
search's own lower bound, else from the oldest date on the first page (servers commonly page in
id or insertion order, which for a chart is roughly chronological), to today; the last window
is open-ended so future-dated records are kept. A first page in newest-first order says only
where the records end, so their start is extrapolated from its density.

Each part costs the EHR a new search (the sandbox, which has no index, scans the patient's
3,000 Observations for each: 40–80 ms of its time, next to ~5 ms for a further page), so the
number of parts follows the search's size (Bundle.total): about `PAGES_PER_PART` pages each,
at most `MAX_WINDOWS`, and a search whose rest is shorter is not cut. Cutting by code
(``code=a,b,c`` is an OR) was weighed and left out: it costs a search per code, including
every code the patient has no record of (12 codes, 5 used, in the benchmark chart: ~45 ms
each on the sandbox), and leaves a long code a long chain.

Only types whose date parameter we know are cut (`DATE_PARAMETERS`); a search whose date
criteria are anything but ``ge``/``gt``/``le``/``lt`` bounds (an ``eq``, an OR of dates,
``:missing``) is read whole.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

__all__ = [
    "DATE_PARAMETERS",
    "DEFAULT_WINDOWS",
    "MAX_WINDOWS",
    "PAGES_PER_PART",
    "DateParameter",
    "DateSplit",
    "FirstPage",
    "date_split",
    "first_page",
    "part_count",
    "record_date",
    "search_parts",
    "window_edges",
    "worth_cutting",
]

#: Pages one part should hold: a part costs the EHR a search of its own, a page much less.
PAGES_PER_PART = 12
#: The client's bound on requests in flight: more windows than that gain no parallelism.
MAX_WINDOWS = 8
#: Windows when the server does not send Bundle.total.
DEFAULT_WINDOWS = 4
#: Days before today an extrapolated start may reach back to.
_LONGEST_SPAN_DAYS = 150 * 365

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class DateParameter:
    """A type's date search parameter and the elements it searches (FHIR R4 registry)."""

    name: str
    elements: tuple[str, ...]


#: Observation-date is `Observation.effective` (dateTime, Period, instant; a Timing has no
#: range a server can compare and is searched as missing).
DATE_PARAMETERS: Mapping[str, DateParameter] = {
    "Observation": DateParameter(
        "date", ("effectiveDateTime", "effectivePeriod", "effectiveInstant")
    ),
}

#: Parameters that make a search something other than a conjunction of criteria.
_NOT_CUTTABLE = frozenset({"_query", "_summary", "_filter", "_list", "_contained"})

_BOUND = re.compile(r"(ge|gt|le|lt)(\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:T[0-9:.+\-Z]*)?")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True, slots=True)
class DateSplit:
    """A search date windows can cut: its parameters, its date parameter, and the days its
    own criteria bound it to (`lower` the first day it can reach, `upper` the first day past
    it; None: unbounded)."""

    resource_type: str
    params: Params
    parameter: str
    lower: date | None
    upper: date | None

    @property
    def undated(self) -> bool:
        """Whether records with no date belong to the search (it has no date criterion)."""
        return self.lower is None and self.upper is None


@dataclass(frozen=True, slots=True)
class FirstPage:
    """What a search's first page says about its size and spread: `size` matches on it,
    `total` (Bundle.total, when sent) and the dates of its matches in the page's order."""

    size: int
    total: int | None
    dates: tuple[date, ...]


def date_split(resource_type: str, params: Sequence[tuple[str, str]]) -> DateSplit | None:
    """The search as one date windows can cut, or None when it must be read whole.

    >>> date_split("Observation", [("patient", "p"), ("date", "ge2025-03-25")]).lower
    datetime.date(2025, 3, 25)
    >>> date_split("Observation", [("patient", "p"), ("date:missing", "true")]) is None
    True
    """
    parameter = DATE_PARAMETERS.get(resource_type)
    if parameter is None:
        return None
    lower: date | None = None
    upper: date | None = None
    for name, value in params:
        base, _, modifier = name.partition(":")
        if base in _NOT_CUTTABLE:
            return None
        if base != parameter.name:
            continue
        bound = _BOUND.fullmatch(value.strip())
        if modifier or bound is None:
            return None
        try:
            start, end = _day_range(bound.group(2))
        except ValueError:
            return None
        prefix = bound.group(1)
        if prefix in ("ge", "gt"):
            lower = start if lower is None else max(lower, start)
        else:
            limit = start if prefix == "lt" else end
            upper = limit if upper is None else min(upper, limit)
    return DateSplit(resource_type, tuple(params), parameter.name, lower, upper)


def record_date(resource_type: str, resource: Mapping[str, Any]) -> date | None:
    """The first day of a resource's searchable date as written (a Period's start, else its
    end); None when it has none. Used to place window edges only, so precision is enough."""
    parameter = DATE_PARAMETERS.get(resource_type)
    if parameter is None:
        return None
    for element in parameter.elements:
        value = resource.get(element)
        if isinstance(value, Mapping):
            value = value.get("start") or value.get("end")
        if isinstance(value, str) and (match := _DATE.match(value.strip())):
            try:
                return _day_range(match.group(0))[0]
            except ValueError:
                return None
    return None


def first_page(
    resource_type: str, matches: Sequence[Mapping[str, Any]], total: int | None
) -> FirstPage:
    dates = tuple(d for r in matches if (d := record_date(resource_type, r)) is not None)
    return FirstPage(len(matches), total, dates)


def part_count(page: FirstPage) -> int:
    """How many windows: the search's pages (from Bundle.total and the page size the server
    chose) over `PAGES_PER_PART`, at least 2 and at most `MAX_WINDOWS`."""
    if page.total is None or page.size < 1:
        return DEFAULT_WINDOWS
    pages = math.ceil(page.total / page.size)
    return max(2, min(MAX_WINDOWS, math.ceil(pages / PAGES_PER_PART)))


def window_edges(split: DateSplit, page: FirstPage, today: date) -> tuple[date, ...] | None:
    """The days where one window ends and the next begins, evenly spread over the search's
    span; None when the span is under two days (day-precision windows cannot cut it) or
    unknown (no lower bound and no dated record on the first page)."""
    end = split.upper or today + timedelta(days=1)
    start = split.lower or _estimated_start(page, end)
    if start is None:
        return None
    span = (end - start).days
    if span < 2:
        return None
    windows = min(part_count(page), span)
    return tuple(start + timedelta(days=round(i * span / windows)) for i in range(1, windows))


def worth_cutting(page: FirstPage) -> bool:
    """Whether the pages after the first are more than one part's worth (unknown without
    Bundle.total: then a long chain is the risk worth avoiding). A shorter rest is read on:
    a part is a new search for the EHR, a page is not."""
    if page.total is None or page.size < 1:
        return True
    return math.ceil(page.total / page.size) - 1 > PAGES_PER_PART


def search_parts(split: DateSplit, page: FirstPage, today: date) -> tuple[Params, ...] | None:
    """The parts whose union is exactly the search: one per date window, oldest first, and
    the records with no date last when the search includes them. None: read it on whole
    (not worth cutting, or cannot be cut)."""
    if not worth_cutting(page):
        return None
    edges = window_edges(split, page, today)
    if edges is None:
        return None
    name = split.parameter
    bounds: list[tuple[tuple[str, str], ...]] = []
    for index in range(len(edges) + 1):
        window: list[tuple[str, str]] = []
        if index > 0:
            window.append((name, f"ge{edges[index - 1].isoformat()}"))
        if index < len(edges):
            window.append((name, f"lt{edges[index].isoformat()}"))
        bounds.append(tuple(window))
    if split.undated:
        bounds.append(((f"{name}:missing", "true"),))
    return tuple(split.params + window for window in bounds)


def _estimated_start(page: FirstPage, end: date) -> date | None:
    """Where the records of a search with no lower bound begin: the oldest date seen, or,
    when the page is newest-first, its density carried back over the whole total."""
    if not page.dates:
        return None
    oldest = min(page.dates)
    newest_first = len(page.dates) > 2 and all(
        a >= b for a, b in zip(page.dates, page.dates[1:], strict=False)
    )
    reach = (end - oldest).days
    if newest_first and page.total is not None and page.total > page.size > 0:
        seen = (page.dates[0] - page.dates[-1]).days
        reach += math.ceil(seen * (page.total - page.size) / page.size)
    return end - timedelta(days=min(reach, _LONGEST_SPAN_DAYS))


def _day_range(text: str) -> tuple[date, date]:
    """First day of a FHIR date of year, month or day precision, and the day after it ends.
    Raises ValueError for an impossible date."""
    match = _DATE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month is None:
        return date(int(year), 1, 1), date(int(year) + 1, 1, 1)
    if day is None:
        first = date(int(year), int(month), 1)
        return first, (first + timedelta(days=31)).replace(day=1)
    first = date(int(year), int(month), int(day))
    return first, first + timedelta(days=1)
