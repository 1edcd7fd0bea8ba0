"""Signed reports on their way to the chart: signing (freeze + enqueue in one transaction),
the outbox and its ledger in the database, and the worker that writes each report exactly once
with the strategy the EHR allows (`plugin.writeback` plans; this package sends)."""

from smart_app.outbox.connector import (
    ChartAccess,
    ChartConnector,
    SessionChartConnector,
    SessionRefs,
)
from smart_app.outbox.errors import (
    ChangedInChartError,
    InDoubtError,
    LeaseLostError,
    OutboxActionError,
    SignInRequiredError,
    WriteBackError,
)
from smart_app.outbox.failures import RetrySchedule
from smart_app.outbox.records import (
    LedgerEntry,
    LedgerState,
    OutboxItem,
    SignedVersion,
    VersionHistory,
    WrittenResource,
)
from smart_app.outbox.service import OutboxService, build_outbox
from smart_app.outbox.signing import SigningService
from smart_app.outbox.states import ItemState
from smart_app.outbox.store import OutboxStore
from smart_app.outbox.worker import ItemOutcome, OutboxWorker

__all__ = [
    "ChangedInChartError",
    "ChartAccess",
    "ChartConnector",
    "InDoubtError",
    "ItemOutcome",
    "ItemState",
    "LeaseLostError",
    "LedgerEntry",
    "LedgerState",
    "OutboxActionError",
    "OutboxItem",
    "OutboxService",
    "OutboxStore",
    "OutboxWorker",
    "RetrySchedule",
    "SessionChartConnector",
    "SessionRefs",
    "SignInRequiredError",
    "SignedVersion",
    "SigningService",
    "VersionHistory",
    "WriteBackError",
    "WrittenResource",
    "build_outbox",
]
