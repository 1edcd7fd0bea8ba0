"""Cutting a long search into date windows (pure): which searches are cut, where the edges
fall, and — checked against the FHIR date semantics the sandbox server implements — that the
parts together return exactly what the search returns, for every kind of FHIR date."""

from __future__ import annotations

import doctest
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import smart_app.search_parts as planner
from smart_app.search_parts import (
    DEFAULT_WINDOWS,
    MAX_WINDOWS,
    PAGES_PER_PART,
    DateSplit,
    FirstPage,
    date_split,
    first_page,
    part_count,
    record_date,
    window_edges,
    worth_cutting,
)
from tests.smart_app.date_search import date_criteria_hold

TODAY = date(2026, 11, 23)
CODED = [("patient", "p1"), ("code", "http://loinc.org|2160-0,http://loinc.org|777-3")]
LABS = [("patient", "p1"), ("category", "laboratory"), ("date", "ge2026-02-14")]


def long_page(total: int = 3000, size: int = 50, *dates: date) -> FirstPage:
    return FirstPage(size, total, dates or (date(2024, 11, 1), date(2025, 6, 1)))


def test_doctests() -> None:
    assert doctest.testmod(planner).failed == 0


# -- which searches are cut -------------------------------------------------------------


def test_an_observation_search_without_date_is_cut_and_keeps_its_undated_records() -> None:
    split = date_split("Observation", CODED)
    assert split == DateSplit("Observation", tuple(CODED), "date", None, None)
    assert split.undated


@pytest.mark.parametrize(
    ("value", "lower", "upper"),
    [
        ("ge2026-02-14", date(2026, 2, 14), None),
        ("gt2026-02-14", date(2026, 2, 14), None),
        ("ge2019", date(2019, 1, 1), None),
        ("ge2019-03", date(2019, 3, 1), None),
        ("ge2026-02-14T23:30:00-05:00", date(2026, 2, 14), None),
        ("lt2026-02-14", None, date(2026, 2, 14)),
        ("le2026-02-14", None, date(2026, 2, 15)),
        ("le2019-12", None, date(2020, 1, 1)),
        ("le2019", None, date(2020, 1, 1)),
    ],
)
def test_date_bounds_are_read_as_days(value: str, lower: date | None, upper: date | None) -> None:
    split = date_split("Observation", [("patient", "p1"), ("date", value)])
    assert split is not None
    assert (split.lower, split.upper, split.undated) == (lower, upper, False)


def test_the_tightest_of_repeated_bounds_counts() -> None:
    params = [("date", "ge2020-01-01"), ("date", "ge2021-05-01"), ("date", "lt2024-01-01")]
    params += [("date", "le2023-06-30")]
    split = date_split("Observation", params)
    assert split is not None
    assert (split.lower, split.upper) == (date(2021, 5, 1), date(2023, 7, 1))


@pytest.mark.parametrize(
    ("resource_type", "params"),
    [
        ("Condition", [("patient", "p1")]),  # no date parameter we know
        ("MedicationRequest", [("patient", "p1")]),
        ("Observation", [("patient", "p1"), ("date:missing", "true")]),
        ("Observation", [("patient", "p1"), ("date", "2026-02-14")]),  # eq
        ("Observation", [("patient", "p1"), ("date", "eq2026-02-14")]),
        ("Observation", [("patient", "p1"), ("date", "ne2026-02-14")]),
        ("Observation", [("patient", "p1"), ("date", "sa2026-02-14")]),
        ("Observation", [("patient", "p1"), ("date", "ge2026-02-14,lt2020-01-01")]),  # an OR
        ("Observation", [("patient", "p1"), ("date", "ge2026-13-01")]),  # no such month
        ("Observation", [("patient", "p1"), ("date", "geyesterday")]),
        ("Observation", [("patient", "p1"), ("_summary", "count")]),
        ("Observation", [("patient", "p1"), ("_query", "recent")]),
        ("Observation", [("patient", "p1"), ("_filter", "code eq 1")]),
    ],
)
def test_searches_left_whole(resource_type: str, params: list[tuple[str, str]]) -> None:
    assert date_split(resource_type, params) is None


def test_an_or_list_is_kept_whole_in_every_part() -> None:
    split = date_split("Observation", CODED)
    assert split is not None
    parts = planner.search_parts(split, long_page(), TODAY)
    assert parts is not None
    assert all(part[: len(CODED)] == tuple(CODED) for part in parts)
    assert all(("code", CODED[1][1]) in part for part in parts)


# -- how many parts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "size", "expected"),
    [
        (None, 50, DEFAULT_WINDOWS),
        (3000, 0, DEFAULT_WINDOWS),
        (51, 50, 2),  # never fewer than two
        (50 * PAGES_PER_PART * 3, 50, 3),
        (50 * PAGES_PER_PART * 3 + 1, 50, 4),
        (10**6, 50, MAX_WINDOWS),  # never more than the requests in flight
        (3000, 1000, 2),
    ],
)
def test_part_count_follows_the_pages(total: int | None, size: int, expected: int) -> None:
    assert part_count(FirstPage(size, total, ())) == expected


@pytest.mark.parametrize(
    ("total", "size", "expected"),
    [
        (None, 50, True),  # unknown size: a long chain is the risk
        (50 * (PAGES_PER_PART + 1), 50, False),  # the rest is one part's worth: read on
        (50 * (PAGES_PER_PART + 1) + 1, 50, True),
        (3000, 1000, False),
    ],
)
def test_a_short_rest_is_read_on(total: int | None, size: int, expected: bool) -> None:
    assert worth_cutting(FirstPage(size, total, ())) is expected


def test_a_search_not_worth_cutting_has_no_parts() -> None:
    split = date_split("Observation", CODED)
    assert split is not None
    assert planner.search_parts(split, long_page(total=400), TODAY) is None


# -- where the edges fall ---------------------------------------------------------------


def test_windows_of_a_bounded_search_run_from_its_bound_to_today() -> None:
    split = date_split("Observation", LABS)
    assert split is not None
    edges = window_edges(split, long_page(total=50 * PAGES_PER_PART * 4), TODAY)
    assert edges is not None and len(edges) == 3
    assert date(2026, 2, 14) < edges[0] < edges[1] < edges[2] < TODAY + timedelta(days=1)
    widths = [
        (b - a).days for a, b in zip((date(2026, 2, 14), *edges), (*edges, TODAY), strict=True)
    ]
    assert max(widths) - min(widths) <= 2  # even, to the day


def test_windows_of_an_unbounded_search_start_at_the_oldest_record_seen() -> None:
    split = date_split("Observation", CODED)
    assert split is not None
    page = long_page(3000, 50, date(2025, 1, 10), date(2024, 11, 25), date(2025, 8, 1))
    edges = window_edges(split, page, TODAY)
    assert edges is not None and len(edges) == part_count(page) - 1
    assert date(2024, 11, 25) < edges[0] and edges[-1] <= TODAY


def test_a_newest_first_page_is_carried_back_over_the_whole_total() -> None:
    # 25 a day, newest first: 3,000 records reach back about 120 days, not 2.
    newest_first = tuple(TODAY - timedelta(days=i // 25) for i in range(50))
    split = date_split("Observation", CODED)
    assert split is not None
    edges = window_edges(split, FirstPage(50, 3000, newest_first), TODAY)
    assert edges is not None
    assert edges[0] < TODAY - timedelta(days=40)
    # The same dates in another order say where the records begin: no extrapolation.
    shuffled = (newest_first[-1], *newest_first[:-1])
    edges = window_edges(split, FirstPage(50, 3000, shuffled), TODAY)
    assert edges == (TODAY,)  # yesterday and today: a window a day


def test_a_span_shorter_than_the_windows_gets_one_window_a_day() -> None:
    split = date_split("Observation", [("date", "ge2026-11-21")])
    assert split is not None
    edges = window_edges(split, long_page(total=10**6), TODAY)
    assert edges == (date(2026, 11, 22), date(2026, 11, 23))


@pytest.mark.parametrize(
    "page",
    [
        FirstPage(50, 3000, ()),  # nothing dated seen, no bound: nowhere to start
        FirstPage(50, 3000, (TODAY,)),  # one day: day windows cannot cut it
        FirstPage(50, 3000, (TODAY + timedelta(days=30),)),  # only future records seen
    ],
)
def test_no_windows_when_the_span_is_unknown_or_too_short(page: FirstPage) -> None:
    split = date_split("Observation", CODED)
    assert split is not None
    assert window_edges(split, page, TODAY) is None
    assert planner.search_parts(split, page, TODAY) is None


def test_the_parts_are_windows_oldest_first_then_the_undated() -> None:
    split = date_split("Observation", CODED)
    assert split is not None
    page = long_page(50 * PAGES_PER_PART * 3, 50, date(2023, 11, 23))
    parts = planner.search_parts(split, page, TODAY)
    assert parts is not None
    added = [part[len(CODED) :] for part in parts]
    assert added == [
        (("date", "lt2024-11-23"),),
        (("date", "ge2024-11-23"), ("date", "lt2025-11-23")),
        (("date", "ge2025-11-23"),),  # open-ended: future-dated records are kept
        (("date:missing", "true"),),
    ]


def test_a_bounded_search_gets_no_undated_part_and_keeps_its_bound() -> None:
    split = date_split("Observation", LABS)
    assert split is not None
    parts = planner.search_parts(split, long_page(), TODAY)
    assert parts is not None
    assert all(("date", "ge2026-02-14") in part for part in parts)
    assert not any(name == "date:missing" for part in parts for name, _ in part)


# -- the dates of records ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"effectiveDateTime": "2025-06-30T23:30:00-05:00"}, date(2025, 6, 30)),  # as written
        ({"effectiveDateTime": "2019"}, date(2019, 1, 1)),
        ({"effectiveDateTime": "2019-03"}, date(2019, 3, 1)),
        ({"effectiveInstant": "2025-01-02T03:04:05Z"}, date(2025, 1, 2)),
        ({"effectivePeriod": {"start": "2024-12-30", "end": "2025-01-03"}}, date(2024, 12, 30)),
        ({"effectivePeriod": {"end": "2025-01-03"}}, date(2025, 1, 3)),
        ({"effectivePeriod": {}}, None),
        ({"effectiveTiming": {"event": ["2025-01-03"]}}, None),  # not searched by date
        ({"effectiveDateTime": "2025-02-30"}, None),
        ({"effectiveDateTime": "soon"}, None),
        ({"issued": "2025-01-03T10:00:00Z"}, None),  # dated, but not by the date parameter
        ({}, None),
    ],
)
def test_record_date(resource: dict[str, Any], expected: date | None) -> None:
    assert record_date("Observation", resource) == expected


def test_first_page_keeps_the_dates_in_page_order() -> None:
    matches = [
        {"effectiveDateTime": "2025-03-01"},
        {"note": "no date"},
        {"effectiveDateTime": "2024-01-01"},
    ]
    page = first_page("Observation", matches, 120)
    assert page == FirstPage(3, 120, (date(2025, 3, 1), date(2024, 1, 1)))
    assert first_page("Condition", matches, None).dates == ()


# -- the union is the search: checked with FHIR's range semantics ------------------------

# Record dates of every shape the date parameter searches: days, partial dates, datetimes
# with offsets at either side of midnight, Periods open at one end, and none at all.
_days = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))
_offsets = st.sampled_from(["Z", "+14:00", "-12:00", "+05:30", "-05:00"])


@st.composite
def record_dates(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(_days)
    kind = draw(st.sampled_from(["day", "year", "month", "datetime", "period", "none"]))
    if kind == "day":
        return {"effectiveDateTime": day.isoformat()}
    if kind == "year":
        return {"effectiveDateTime": f"{day.year}"}
    if kind == "month":
        return {"effectiveDateTime": f"{day.year}-{day.month:02d}"}
    if kind == "datetime":
        time = draw(st.sampled_from(["00:00:00", "00:15:00", "23:30:00", "23:59:59", "12:00:00"]))
        return {"effectiveDateTime": f"{day.isoformat()}T{time}{draw(_offsets)}"}
    if kind == "period":
        end = day + timedelta(days=draw(st.integers(0, 900)))
        period = draw(
            st.sampled_from(
                [
                    {"start": day.isoformat(), "end": end.isoformat()},
                    {"start": day.isoformat()},
                    {"end": end.isoformat()},
                ]
            )
        )
        return {"effectivePeriod": period}
    return {}


@st.composite
def first_pages(draw: st.DrawFn) -> FirstPage:
    dates = tuple(draw(st.lists(_days, max_size=6)))
    total = draw(st.one_of(st.none(), st.integers(1000, 100_000)))
    return FirstPage(50, total, dates)


_searches = st.sampled_from(
    [
        (),
        (("date", "ge2026-02-14"),),
        (("date", "gt2019-06"),),
        (("date", "ge2001-01-01"), ("date", "lt2027-03-01")),
        (("date", "le2015"),),
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    search=_searches,
    page=first_pages(),
    records=st.lists(record_dates(), min_size=1, max_size=30),
    today=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
)
def test_the_parts_return_exactly_what_the_search_returns(
    search: tuple[tuple[str, str], ...],
    page: FirstPage,
    records: list[dict[str, Any]],
    today: date,
) -> None:
    params = (("patient", "p1"), *search)
    split = date_split("Observation", params)
    assert split is not None
    parts = planner.search_parts(split, page, today)
    if parts is None:
        return
    # The records drawn, and records on and around every edge, where a slip would show.
    edges = {value[2:] for part in parts for name, value in part if name == "date"}
    around = [
        {"effectiveDateTime": text}
        for edge in edges
        if len(edge) == 10  # the windows' own edges (the search's may be partial dates)
        for text in (
            edge,
            f"{edge}T00:00:00+14:00",
            f"{edge}T23:59:59-12:00",
            (date.fromisoformat(edge) - timedelta(days=1)).isoformat(),
        )
    ]
    for record in [*records, *around]:
        in_search = date_criteria_hold(params, record)
        in_parts = [date_criteria_hold(part, record) for part in parts]
        assert in_search == any(in_parts), (record, parts)


def test_every_date_in_a_wide_sample_lands_in_a_window() -> None:
    # Deterministic sweep: every day of five years, at both ends of the day in far time
    # zones, as a one-day Period and as a Period reaching across the whole span.
    split = date_split("Observation", CODED)
    assert split is not None
    parts = planner.search_parts(split, long_page(3000, 50, date(2023, 1, 1)), TODAY)
    assert parts is not None
    start = datetime(2021, 11, 1)
    for offset in range(5 * 366):
        day = (start + timedelta(days=offset)).date()
        for record in (
            {"effectiveDateTime": day.isoformat()},
            {"effectiveDateTime": f"{day.isoformat()}T23:59:59-12:00"},
            {"effectiveDateTime": f"{day.isoformat()}T00:00:00+14:00"},
            {"effectivePeriod": {"start": day.isoformat(), "end": day.isoformat()}},
            {"effectivePeriod": {"start": day.isoformat()}},
        ):
            assert any(date_criteria_hold(part, record) for part in parts), record
    assert [date_criteria_hold(part, {}) for part in parts] == [False] * (len(parts) - 1) + [True]
