from datetime import UTC, datetime

import pytest

from plugin.sandbox.fhir.date_ranges import DateRange, date_range, period_range, range_matches


def test_a_day_covers_the_whole_day_in_utc() -> None:
    day = date_range("2024-03-01")
    assert day == DateRange(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC))


def test_year_month_and_seconds_precision() -> None:
    assert date_range("2024").end == datetime(2025, 1, 1, tzinfo=UTC)
    assert date_range("2024-12").end == datetime(2025, 1, 1, tzinfo=UTC)
    moment = date_range("2024-03-01T10:00:00Z")
    assert moment.end - moment.start == datetime(2000, 1, 1, 0, 0, 1) - datetime(2000, 1, 1)


def test_zone_offsets_are_converted_to_utc() -> None:
    assert date_range("2024-03-01T10:00:00+02:00").start == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_malformed_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="not a FHIR date"):
        date_range("01/03/2024")


def test_an_open_period_runs_to_the_end_of_time() -> None:
    ongoing = period_range({"start": "2024-01-01"})
    assert range_matches("ge", date_range("2030-01-01"), ongoing)
    assert not range_matches("lt", date_range("2023-12-31"), ongoing)


@pytest.mark.parametrize(
    ("prefix", "target", "expected"),
    [
        ("eq", "2024-03-01T12:00:00Z", True),
        ("eq", "2024-03-02", False),
        ("ne", "2024-03-02", True),
        ("ge", "2024-03-01", True),
        ("ge", "2024-06-01", True),
        ("ge", "2024-02-28", False),
        ("gt", "2024-03-01T12:00:00Z", False),
        ("gt", "2024-03-02", True),
        ("le", "2024-03-01", True),
        ("le", "2024-02-01", True),
        ("le", "2024-03-05", False),
        ("lt", "2024-02-29", True),
        ("lt", "2024-03-01", False),
        ("sa", "2024-03-02", True),
        ("sa", "2024-03-01", False),
        ("eb", "2024-02-29", True),
        ("eb", "2024-03-01", False),
    ],
)
def test_prefixes_follow_the_fhir_range_rules(prefix: str, target: str, expected: bool) -> None:
    searched = date_range("2024-03-01")
    assert range_matches(prefix, searched, date_range(target)) is expected  # type: ignore[arg-type]
