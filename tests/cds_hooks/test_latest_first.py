from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from plugin.cds_hooks.latest_first import (
    counted_cut,
    reaches_horizon,
    sorted_newest_first,
    undated,
    within_horizon,
)

HORIZON = date(2026, 2, 14)


def lab(rid: str, **when: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", **when}


def test_records_count_from_the_horizon_on() -> None:
    records = [
        lab("b", effectiveDateTime="2026-02-14T08:00:00Z"),
        lab("a", effectiveDateTime="2026-03-01"),
        lab("old", effectiveDateTime="2026-02-13"),
        lab("period", effectivePeriod={"start": "2026-02-20", "end": "2026-02-21"}),
        lab("instant", effectiveInstant="2026-02-15T00:00:00Z"),
    ]
    kept = within_horizon(records, HORIZON)
    assert [r["id"] for r in kept] == ["a", "b", "instant", "period"]  # by id, whatever came


def test_a_partial_date_counts_when_it_may_fall_on_or_after_the_horizon() -> None:
    records = [lab("month", effectiveDateTime="2026-02"), lab("year", effectiveDateTime="2025")]
    assert [r["id"] for r in within_horizon(records, HORIZON)] == ["month"]


def test_a_record_with_no_effective_date_is_left_to_the_undated_search() -> None:
    # Its place in the server's order is unknown, so no page can say whether more follow.
    records = [lab("issued-only", issued="2026-03-01T10:00:00Z"), lab("nothing")]
    assert within_horizon(records, HORIZON) == ()


def test_a_page_reaching_back_past_the_horizon_is_the_whole_answer() -> None:
    page = [
        lab("1", effectiveDateTime="2026-03-01"),
        lab("2", effectiveDateTime="2026-02-20"),
        lab("3", effectiveDateTime="2026-01-10"),
    ]
    assert reaches_horizon(page, HORIZON)


def test_a_page_ending_after_the_horizon_is_not() -> None:
    page = [lab("1", effectiveDateTime="2026-03-01"), lab("2", effectiveDateTime="2026-02-14")]
    assert not reaches_horizon(page, HORIZON)
    assert not reaches_horizon([], HORIZON)


def test_the_last_record_must_be_a_month_and_a_time_zone_before_the_horizon() -> None:
    # The server orders by the instant in UTC (a record on a later page may be charted a day
    # later than the last one read), and may place a month-only date at its first day.
    page = [lab("1", effectiveDateTime="2026-03-01"), lab("2", effectiveDateTime="2026-02-13")]
    assert not reaches_horizon(page, HORIZON)
    page[1]["effectiveDateTime"] = "2026-01-13"  # 32 days before
    assert not reaches_horizon(page, HORIZON)
    page[1]["effectiveDateTime"] = "2026-01-12"
    assert reaches_horizon(page, HORIZON)


def test_a_month_only_record_sorted_by_its_first_day_cannot_hide_behind_the_page() -> None:
    # A HAPI-style server sorts "2026-02" at 2026-02-01, after a result of 2026-02-12: a page
    # ending there does not show the pregnant status of "2026-02" is not still to come.
    page = [lab("1", effectiveDateTime="2026-03-01"), lab("2", effectiveDateTime="2026-02-12")]
    assert not reaches_horizon(page, HORIZON)
    later = lab("month", effectiveDateTime="2026-02")
    assert [r["id"] for r in within_horizon([*page, later], HORIZON)] == ["1", "2", "month"]


def test_a_page_not_newest_first_proves_nothing() -> None:
    # A server that ignored _sort: the oldest record on the page says nothing about the rest.
    page = [
        lab("1", effectiveDateTime="2025-01-01"),
        lab("2", effectiveDateTime="2026-03-01"),
        lab("3", effectiveDateTime="2024-01-01"),
    ]
    assert not reaches_horizon(page, HORIZON)


def test_records_of_one_day_across_zones_still_read_as_newest_first() -> None:
    page = [
        lab("1", effectiveDateTime="2026-03-01T23:30:00-05:00"),  # 2026-03-02 04:30 UTC
        lab("2", effectiveDateTime="2026-03-02T01:00:00Z"),
        lab("3", effectiveDateTime="2026-01-01"),
    ]
    assert reaches_horizon(page, HORIZON)


def test_an_undated_record_on_the_page_is_passed_over() -> None:
    # The undated search finds it, wherever the server sorts it.
    page = [
        lab("1", effectiveDateTime="2026-03-01"),
        lab("2"),
        lab("3", effectiveDateTime="2025-01-01"),
    ]
    assert reaches_horizon(page, HORIZON)
    assert not reaches_horizon([lab("2")], HORIZON)


def test_a_month_only_date_moves_the_cut_back() -> None:
    # "2026-02" may be before or after a result of 2026-02-10: the engine orders them as a
    # conflict, so the earlier one counts too, and a page must reach back past it.
    records = [
        lab("month", effectiveDateTime="2026-02"),
        lab("before", effectiveDateTime="2026-02-10"),
        lab("older", effectiveDateTime="2026-01-20"),
        lab("oldest", effectiveDateTime="2025-12-20"),
    ]
    assert counted_cut(records, HORIZON) == date(2026, 2, 1)
    assert [r["id"] for r in within_horizon(records, HORIZON)] == ["before", "month"]
    assert not reaches_horizon(records[:3], HORIZON)
    assert reaches_horizon(records, HORIZON)


def test_an_effective_timing_is_dated_by_its_events() -> None:
    timed = lab("timed", effectiveTiming={"event": ["2026-01-02", "2026-03-01T08:00:00Z"]})
    old = lab("old-timed", effectiveTiming={"event": ["2025-01-02"]})
    unreadable = lab("no-events", effectiveTiming={"repeat": {"frequency": 1}})
    records = [timed, old, unreadable]
    assert [r["id"] for r in within_horizon(records, HORIZON)] == ["timed"]
    assert [r["id"] for r in undated(records)] == ["no-events"]


def test_a_placeholder_date_far_in_the_future_is_no_error() -> None:
    page = [lab("future", effectiveDateTime="9999-12-31"), lab("old", effectiveDateTime="2020")]
    assert reaches_horizon(page, HORIZON)
    assert not reaches_horizon([lab("future", effectiveDateTime="9999-12-31")], HORIZON)
    assert [r["id"] for r in within_horizon(page, date.max)] == ["future"]


def test_the_undated_search_counts_only_observations_without_an_effective_date() -> None:
    records = [
        lab("b", issued="2026-03-01T10:00:00Z"),
        lab("dated", effectiveDateTime="2026-03-01"),
        {"resourceType": "OperationOutcome", "id": "oo"},
        lab("a"),
    ]
    assert [r["id"] for r in undated(records)] == ["a", "b"]


@pytest.mark.parametrize(
    ("self_url", "sorted_"),
    [
        ("https://ehr.example.org/fhir/Observation?patient=p&_sort=-date&_count=500", True),
        ("https://ehr.example.org/fhir/Observation?_sort=-date,_id&patient=p", True),
        ("https://ehr.example.org/fhir/Observation?patient=p&_sort=date", False),
        ("https://ehr.example.org/fhir/Observation?patient=p&_count=500", False),
        ("https://ehr.example.org/fhir/Observation?_sort=status&_sort=-date", False),
        ("https://ehr.example.org/fhir/Observation?_sort=-date&_sort=status", False),
        ("https://[::1/Observation?_sort=-date", False),  # not a URL: no 500
        (None, False),
    ],
)
def test_a_page_is_sorted_newest_first_when_its_self_link_says_so(
    self_url: str | None, sorted_: bool
) -> None:
    links = [{"relation": "self", "url": self_url}] if self_url else []
    assert sorted_newest_first({"resourceType": "Bundle", "link": links}) is sorted_
