"""When a CDS store next deletes its expired rows, and the deletion under way.

Each store writes on every CDS call, where the clinician waits; its expired rows (JWT ids, the
cards returned) are deleted at most every `PURGE_INTERVAL_SECONDS`, by a task the call starts
and does not wait for: a DELETE of a minute's expired rows would be the slowest part of the
call it fell on. The time is claimed before anything is awaited, so concurrent calls start one
purge. The purge given must not raise: a failed one only keeps expired rows a minute longer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from plugin.cds_hooks.replay import PURGE_INTERVAL_SECONDS

__all__ = ["BackgroundPurge"]


class BackgroundPurge:
    def __init__(self, purge_quietly: Callable[[float], Coroutine[Any, Any, None]]) -> None:
        self._purge_quietly = purge_quietly
        self._next = 0.0
        self._task: asyncio.Task[None] | None = None

    def claim(self, now: float) -> None:
        """A purge happens now (a caller's own): the next is due an interval later."""
        self._next = now + PURGE_INTERVAL_SECONDS

    def start_if_due(self, now: float) -> None:
        if now < self._next:
            return
        self.claim(now)
        self._task = asyncio.get_running_loop().create_task(self._purge_quietly(now))

    async def finished(self) -> None:
        """Wait for the purge under way, if any (dispose; tests)."""
        if self._task is not None:
            await asyncio.shield(self._task)
