"""The app's notion of "now", injected so tests control time (token expiry, launch expiry,
assertion `exp`) without sleeping; and the calendar day it is at the site."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo

__all__ = ["Clock", "site_day", "system_clock"]

#: Seconds since the Unix epoch (UTC), like `time.time`.
Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()


def site_day(clock: Clock, zone: tzinfo = UTC) -> date:
    """The calendar day it is now in the site's time zone: the day a candidacy is assessed
    on (ages of labs and imaging, drug holds count in the site's days, not UTC's)."""
    return datetime.fromtimestamp(clock(), zone).date()
