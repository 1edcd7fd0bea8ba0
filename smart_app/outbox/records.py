"""What the outbox tells the pages: signed versions, outbox items, and what each wrote where.
Read models only (frozen); they hold patient data and are never logged."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smart_app.outbox.chart_changes import ChartChange
from smart_app.outbox.states import ItemState

__all__ = [
    "LedgerEntry",
    "LedgerState",
    "OutboxItem",
    "SignedVersion",
    "VersionHistory",
    "WrittenResource",
]


class LedgerState(StrEnum):
    INTENDED = "intended"  # sent (or about to be); the answer is not recorded yet
    CREATED = "created"  # the server created it; id (and version) recorded
    FOUND = "found"  # it was already in the chart (conditional create or search)
    UPDATED = "updated"  # updated (amendment, supersede, links); new version recorded
    INFERRED = "inferred"  # applied with its transaction; the app may not look it up
    RELEASED = "released"  # an unconfirmed send the user checked was not in the chart

    @property
    def done(self) -> bool:
        return self in (
            LedgerState.CREATED,
            LedgerState.FOUND,
            LedgerState.UPDATED,
            LedgerState.INFERRED,
        )


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    step_key: str
    token: str
    resource_type: str
    state: LedgerState
    server_id: str | None
    version: str | None
    duplicates: int
    recorded_at: float | None


@dataclass(frozen=True, slots=True)
class SignedVersion:
    """The result of signing: the frozen version and the outbox item that will write it."""

    report_id: str
    item_id: str
    study_key: str
    version: int
    content_hash: str
    signed_at: float


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    report_id: str
    iss: str
    patient_id: str
    user_id: str
    study_key: str
    version: int
    state: ItemState
    attempts: int
    next_attempt_at: float
    last_error: str | None
    in_doubt: bool
    strategy: str | None
    plan_json: str | None
    notes: tuple[str, ...]
    session_ref: bytes | None
    lease_owner: str | None
    lease_expires_at: float | None
    created_at: float
    updated_at: float
    written_at: float | None
    # What the last attempt found changed in the chart, and what the user agreed to write over.
    chart_changes: tuple[ChartChange, ...] = ()
    accepted_changes: tuple[ChartChange, ...] = ()


@dataclass(frozen=True, slots=True)
class WrittenResource:
    """One resource a version put in (or found in) the chart, for the status page."""

    role: str
    resource_type: str
    server_id: str | None
    version: str | None
    how: LedgerState
    duplicates: int

    @property
    def reference(self) -> str | None:
        return f"{self.resource_type}/{self.server_id}" if self.server_id else None


@dataclass(frozen=True, slots=True)
class VersionHistory:
    """One signed version of a study: when, its hash, its item, what it wrote where."""

    version: int
    signed_at: float
    signed_by: str
    content_hash: str
    item: OutboxItem
    explanation: str | None
    written: tuple[WrittenResource, ...]
