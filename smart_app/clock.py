"""The app's notion of "now", injected so tests control time (token expiry, launch expiry,
assertion `exp`) without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "system_clock"]

#: Seconds since the Unix epoch (UTC), like `time.time`.
Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()
