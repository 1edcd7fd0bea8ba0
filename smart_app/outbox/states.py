"""The states of an outbox item, as the status page names and explains them.

    queued ──claim──▶ writing ──▶ written
      ▲                 │ ├────▶ failed (reason; the user may retry) ──▶ superseded
      └── retryable ────┘ └────▶ waiting-for-sign-in ──next launch of the user──▶ queued

Nothing signed is ever dropped: an item is never deleted; it ends `written`, or stays visible.
`superseded` marks a failed version replaced by a later signed version of the same study
before it reached the chart (the later version carries the report).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTIVE_STATES", "ItemState"]


class ItemState(StrEnum):
    QUEUED = "queued"
    WRITING = "writing"
    WRITTEN = "written"
    FAILED = "failed"
    WAITING_FOR_SIGN_IN = "waiting-for-sign-in"
    SUPERSEDED = "superseded"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


#: An item in one of these states will still be written without anyone doing anything, or
#: once its user signs in again; a later version of the same study waits for it.
ACTIVE_STATES = frozenset({ItemState.QUEUED, ItemState.WRITING, ItemState.WAITING_FOR_SIGN_IN})

_DESCRIPTIONS = {
    ItemState.QUEUED: "Waiting to be sent to the EHR",
    ItemState.WRITING: "Being sent to the EHR now",
    ItemState.WRITTEN: "In the chart",
    ItemState.FAILED: "Not sent: the EHR refused it (see the reason); you can try again",
    ItemState.WAITING_FOR_SIGN_IN: "Waiting for you to open the app from the EHR again "
    "(your sign-in there has ended); it will then be sent",
    ItemState.SUPERSEDED: "Not sent: a later signed version of this report replaced it",
}
