"""The status page in words: each signed version of the study, newest first — its state, why
it is still queued or failed, how the EHR was written to, and each resource type with the id
the server gave it.

Pure: built from the outbox's version history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from smart_app.outbox import ItemState, LedgerState, OutboxItem, VersionHistory
from smart_app.outbox.states import ACTIVE_STATES

__all__ = ["REFRESH_SECONDS", "StatusView", "VersionView", "WrittenView", "status_view"]

#: How often the page reloads itself while a version is still on its way.
REFRESH_SECONDS = 3

_HOW = {
    LedgerState.CREATED: "created",
    LedgerState.FOUND: "already in the chart: not created again",
    LedgerState.UPDATED: "updated",
    LedgerState.INFERRED: "created with the transaction",
    LedgerState.INTENDED: "sent; the EHR's answer is not recorded yet",
    LedgerState.RELEASED: "not in the chart (checked by you); will be sent again",
}


@dataclass(frozen=True, slots=True)
class WrittenView:
    role: str
    resource_type: str
    server_id: str | None
    version: str | None
    how: str
    duplicates: int


@dataclass(frozen=True, slots=True)
class VersionView:
    number: int
    amendment: bool
    state: str
    state_words: str
    signed_at: str
    content_hash: str
    attempts: int
    next_attempt: str | None
    written_at: str | None
    last_error: str | None
    explanation: str | None
    notes: tuple[str, ...]
    written: tuple[WrittenView, ...]
    item_id: str
    retry: bool
    in_doubt: bool
    # The resources found changed in the EHR, as the confirmation names them (empty: none).
    chart_changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusView:
    headline: str
    versions: tuple[VersionView, ...]
    refresh_seconds: int | None


def _time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _version(entry: VersionHistory, latest: int) -> VersionView:
    item = entry.item
    queued = item.state is ItemState.QUEUED
    return VersionView(
        number=entry.version,
        amendment=entry.version > 1,
        state=item.state.value,
        state_words=_state_words(item),
        signed_at=_time(entry.signed_at),
        content_hash=entry.content_hash,
        attempts=item.attempts,
        next_attempt=_time(item.next_attempt_at) if queued and item.attempts else None,
        written_at=_time(item.written_at) if item.written_at is not None else None,
        last_error=item.last_error,
        explanation=entry.explanation,
        notes=item.notes,
        written=tuple(
            WrittenView(
                role=w.role,
                resource_type=w.resource_type,
                server_id=w.server_id,
                version=w.version,
                how=_HOW.get(w.how, w.how.value),
                duplicates=w.duplicates,
            )
            for w in entry.written
        ),
        item_id=item.id,
        retry=item.state is ItemState.FAILED and entry.version == latest,
        in_doubt=item.in_doubt,
        chart_changes=tuple(
            f"the {change.resource_type} {change.reference}"
            + (f" (version {change.version} in the EHR)" if change.version else "")
            for change in item.chart_changes
        ),
    )


def _state_words(item: OutboxItem) -> str:
    if item.state is ItemState.SUPERSEDED and item.in_doubt:
        # Its answer was lost: replaced before the app could tell whether it reached the chart.
        return (
            "Replaced by a later signed version before the app could confirm whether this one "
            "reached the chart: it may be there too (see the later version)"
        )
    return item.state.description


def _headline(latest: VersionView) -> str:
    if latest.state == ItemState.WRITTEN.value:
        kinds = sorted({w.resource_type for w in latest.written if w.server_id})
        return (
            f"Version {latest.number} is in the chart ({', '.join(kinds) or 'no resource'}). "
            "Below: what was written where."
        )
    why = f" Last attempt: {latest.last_error}" if latest.last_error else ""
    return f"Version {latest.number}: {latest.state_words}.{why}"


def status_view(history: Sequence[VersionHistory]) -> StatusView:
    """The page for a study's history (oldest first, as the outbox gives it)."""
    if not history:
        return StatusView("This study has not been signed yet.", (), None)
    latest = max(entry.version for entry in history)
    versions = tuple(_version(entry, latest) for entry in sorted(history, key=lambda e: -e.version))
    active = any(entry.item.state in ACTIVE_STATES for entry in history)
    return StatusView(_headline(versions[0]), versions, REFRESH_SECONDS if active else None)
