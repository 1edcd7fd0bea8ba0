"""Partial FHIR dates, calendar months and the words for durations."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from plugin.candidacy.partial_dates import (
    Precision,
    add_months,
    duration_words,
    months_between,
    parse_partial_date,
)


@pytest.mark.parametrize(
    ("text", "earliest", "latest", "precision"),
    [
        ("2025", date(2025, 1, 1), date(2025, 12, 31), Precision.YEAR),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28), Precision.MONTH),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), Precision.MONTH),
        ("2025-03-14", date(2025, 3, 14), date(2025, 3, 14), Precision.DAY),
        ("2025-03-14T23:30:00-05:00", date(2025, 3, 14), date(2025, 3, 14), Precision.DAY),
        ("2025-03-14T08:00:00.123Z", date(2025, 3, 14), date(2025, 3, 14), Precision.DAY),
    ],
)
def test_parses_fhir_dates_as_the_days_they_may_mean(
    text: str, earliest: date, latest: date, precision: Precision
) -> None:
    parsed = parse_partial_date(text)
    assert parsed is not None
    assert (parsed.earliest, parsed.latest, parsed.precision) == (earliest, latest, precision)
    assert parsed.text == text[:10]


@pytest.mark.parametrize(
    "value", [None, 2025, "", "yesterday", "2025-13", "2025-02-30", "25-01-01"]
)
def test_anything_else_is_no_date(value: object) -> None:
    assert parse_partial_date(value) is None


def test_months_clamp_to_the_end_of_the_month() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_months_between_counts_whole_calendar_months() -> None:
    assert months_between(date(2025, 1, 15), date(2025, 4, 15)) == 3
    assert months_between(date(2025, 1, 15), date(2025, 4, 14)) == 2
    assert months_between(date(2025, 1, 31), date(2025, 2, 28)) == 1
    assert months_between(date(2025, 4, 15), date(2025, 1, 15)) == 0


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 240))
def test_months_between_inverts_add_months(start: date, months: int) -> None:
    assert months_between(start, add_months(start, months)) == months


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (date(2025, 1, 1), date(2025, 1, 2), "1 day"),
        (date(2025, 1, 1), date(2025, 1, 14), "13 days"),
        (date(2025, 1, 10), date(2025, 4, 2), "more than 11 weeks"),
        (date(2025, 1, 10), date(2025, 3, 28), "11 weeks"),
        (date(2025, 1, 1), date(2025, 6, 1), "5 months"),
        (date(2023, 1, 1), date(2025, 3, 1), "2 years 2 months"),
        (date(2023, 1, 1), date(2025, 1, 1), "2 years"),
        (date(2023, 1, 1), date(2025, 1, 2), "more than 2 years"),
        (date(2024, 6, 15), date(2025, 6, 15), "12 months"),
        (date(2024, 6, 14), date(2025, 6, 15), "more than 12 months"),
    ],
)
def test_durations_are_whole_units_and_say_more_than_when_longer(
    start: date, end: date, words: str
) -> None:
    assert duration_words(start, end) == words


_GENERAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?$")


def _general_reading(value: str) -> tuple[date, date, str] | None:
    """The general pattern alone, as the parser read every date before its day fast path."""
    match = _GENERAL.match(value.strip())
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31), f"{year:04d}"
        last = calendar.monthrange(year, month)[1]
        if day is None:
            return date(year, month, 1), date(year, month, last), f"{year:04d}-{month:02d}"
        exact = date(year, month, day)
    except ValueError:
        return None
    return exact, exact, exact.isoformat()


_DATE_LIKE = st.builds(
    lambda y, m, d, t, pad: f"{pad}{y:04d}-{m}-{d}{t}{pad}",
    st.integers(0, 9999),
    st.sampled_from(["01", "02", "12", "13", "00", "1a", "٠٣"]),  # Arabic-Indic digits too
    st.sampled_from(["01", "28", "29", "30", "31", "32", "00", "٣"]),
    st.sampled_from(["", "T10:00:00Z", "T23:59:59.999+05:30", "T10:00", "T", "X", "T10:00:00+5"]),
    st.sampled_from(["", " ", "\n"]),
)


@example("2024-01-01X")
@example("2024-02-30")
@example("2024-01-01T10:00:00+5")
@example(" 2024-01-01T10:00:00Z\n")
@given(st.one_of(_DATE_LIKE, st.text(max_size=30)))
def test_the_day_fast_path_reads_dates_as_the_general_pattern(value: str) -> None:
    parsed = parse_partial_date(value)
    reading = None if parsed is None else (parsed.earliest, parsed.latest, parsed.text)
    assert reading == _general_reading(value)


def test_months_past_the_calendar_stop_at_its_ends() -> None:
    # A chart may be dated 9999-12 (some EHRs' "no end") and still be compared with today.
    assert add_months(date(9999, 12, 1), 12) == date.max
    assert add_months(date(1, 2, 1), -3) == date.min
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)


@given(st.dates(date(1900, 1, 1), date(2100, 1, 1)), st.integers(3, 400), st.integers(1, 27))
def test_duration_words_never_contradict_a_months_limit(
    start: date, months: int, extra: int
) -> None:
    # A span past N months is never said as "N months" (review: an MRI judged older than 12
    # months was described as "12 months old"); exactly N months is.
    limit = add_months(start, months)
    assert not duration_words(start, limit).startswith("more than ")
    assert duration_words(start, limit + timedelta(days=extra)).startswith("more than ")


def test_the_instant_of_a_datetime_is_kept_apart_from_the_day() -> None:
    with_time = parse_partial_date("2025-06-14T16:00:00+10:00")
    assert with_time is not None and with_time.instant is not None
    assert with_time.instant.isoformat() == "2025-06-14T16:00:00+10:00"
    # Dates still compare by day; a time without its zone is no known moment.
    assert with_time == parse_partial_date("2025-06-14")
    no_zone = parse_partial_date("2025-06-14T16:00:00")
    assert no_zone is not None and no_zone.instant is None
    day = parse_partial_date("2025-06-14")
    assert day is not None and day.instant is None
