"""The sandbox's notion of "now", injected so tests control time (token and launch expiry,
lastUpdated, the synthetic charts' dates) without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "system_clock"]

#: Returns the current moment, time-zone aware, in UTC.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
