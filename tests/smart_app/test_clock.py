from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from smart_app.clock import site_day


def test_the_site_day_is_the_calendar_day_in_the_sites_zone() -> None:
    # 03:00 UTC on 26 November is still the evening of the 25th in Chicago.
    instant = datetime(2026, 11, 26, 3, 0, tzinfo=UTC).timestamp()
    assert site_day(lambda: instant) == date(2026, 11, 26)
    assert site_day(lambda: instant, ZoneInfo("America/Chicago")) == date(2026, 11, 25)
    assert site_day(lambda: instant, ZoneInfo("Pacific/Auckland")) == date(2026, 11, 26)
