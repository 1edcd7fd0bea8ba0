"""The outbox worker: claims due items, plans each (once), writes it with the item's session
and records the outcome — `written`, back to `queued` with the next attempt's time and the
reason (network errors, 429 with Retry-After, 5xx: exponential backoff), `waiting-for-sign-in`,
or `failed` with the EHR's reason.

Runs as an asyncio task for the app's lifetime (`start` / `stop`), woken early when a report
is signed (`wake`); tests drive it step by step with `run_once`. Logs carry item ids, states
and error kinds only — never patient data, URLs or the EHR's explanations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from plugin.writeback import (
    FrozenReport,
    LookupMethod,
    WritePlan,
    build_plan,
    choose_strategy,
)
from smart_app.fhir_errors import FhirAuthError
from smart_app.outbox.connector import ChartAccess, ChartConnector
from smart_app.outbox.errors import ChangedInChartError, LeaseLostError
from smart_app.outbox.executor import PlanExecutor, copies_in_chart, version_of
from smart_app.outbox.failures import (
    Disposition,
    FailureHandling,
    RetrySchedule,
    handling_of,
)
from smart_app.outbox.ledger import ItemLedger
from smart_app.outbox.records import OutboxItem
from smart_app.outbox.states import ItemState
from smart_app.outbox.store import OutboxStore

__all__ = ["DEFAULT_LEASE_SECONDS", "ItemOutcome", "OutboxWorker"]

log = logging.getLogger(__name__)

#: Longer than any single attempt may take (a FHIR request is bounded at 20 s, and the lease
#: is renewed before every write), so a live worker never loses its item to another.
DEFAULT_LEASE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    item_id: str
    state: ItemState | None  # None: the lease was lost; another worker has the item
    message: str | None = None


class OutboxWorker:
    def __init__(
        self,
        store: OutboxStore,
        connector: ChartConnector,
        *,
        owner: str | None = None,
        schedule: RetrySchedule | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        batch_size: int = 10,
        poll_seconds: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._connector = connector
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self._schedule = schedule or RetrySchedule()
        self._lease_seconds = lease_seconds
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- running ----------------------------------------------------------------------------

    async def run_once(self) -> list[ItemOutcome]:
        """Claim the items due now and attempt each once."""
        claimed = await self._store.claim(
            self.owner, limit=self._batch_size, lease_seconds=self._lease_seconds
        )
        return [await self._attempt(item) for item in claimed]

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name=f"outbox {self.owner}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look for work now (a report was just signed or resumed)."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                outcomes = await self.run_once()
            except Exception as error:  # the loop must outlive a database hiccup
                # The type only: database errors quote their parameters (patient data).
                log.error(
                    "outbox worker: claiming failed (%s); trying again shortly",
                    type(error).__name__,
                )
                outcomes = []
            if len(outcomes) >= self._batch_size:
                continue  # more may be due
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    # -- one attempt --------------------------------------------------------------------------

    async def _attempt(self, item: OutboxItem) -> ItemOutcome:
        notes: list[str] = []
        chart: ChartAccess | None = None
        try:
            report = await self._store.report(item)
            chart = await self._connector.open(item)
            plan = await self._plan(item, report, chart)
            if plan is None:
                return await self._outcome(item, ItemState.FAILED, item.last_error)
            ledger = await ItemLedger.load(
                self._store, item.id, self.owner, lease_seconds=self._lease_seconds
            )
            executor = PlanExecutor(chart.client, ledger, plan, item.accepted_changes)
            try:
                notes = await executor.run()
            finally:
                notes = executor.notes
        except LeaseLostError:
            log.warning("outbox item %s: lease lost to another worker", item.id)
            return ItemOutcome(item.id, None)
        except Exception as error:  # every failure ends the attempt in a visible state
            return await self._failed(item, error, notes, chart)
        if await self._store.mark_written(item.id, self.owner, notes):
            log.info("outbox item %s written (attempt %d)", item.id, item.attempts)
            return ItemOutcome(item.id, ItemState.WRITTEN)
        return ItemOutcome(item.id, None)

    async def _plan(self, item: OutboxItem, report: object, chart: ChartAccess) -> WritePlan | None:
        if item.plan_json is not None:
            return WritePlan.model_validate_json(item.plan_json)

        assert isinstance(report, FrozenReport)
        capabilities = await chart.client.capabilities()
        decision = choose_strategy(capabilities, chart.access, chart.write_mode)
        if not decision.available:
            await self._store.mark_failed(
                item.id, self.owner, error=decision.explanation, in_doubt=False
            )
            log.info("outbox item %s: no write strategy for this EHR", item.id)
            return None
        await self._look_up_earlier_writes(item, chart)
        previous = await self._store.previous_resources(item)
        plan = build_plan(
            report,
            decision,
            version=item.version,
            previous=previous,
            document_content_types=chart.document_content_types,
        )
        if not await self._store.pin_plan(item.id, self.owner, plan):
            raise LeaseLostError("another worker took over this report while it was planned")
        log.info("outbox item %s: %s strategy, %d steps", item.id, plan.strategy, len(plan.steps))
        return plan

    async def _look_up_earlier_writes(self, item: OutboxItem, chart: ChartAccess) -> None:
        """Find in the chart what earlier versions sent without hearing back (an answer lost,
        a 2xx naming no id that a search did not yet show), so that this version updates
        those resources instead of matching them by identifier and leaving them unamended."""
        for earlier_id, step in await self._store.unconfirmed_earlier_steps(item):
            if step.lookup is LookupMethod.NONE:
                continue  # this EHR offers no way to look: the status page says so
            ours = await copies_in_chart(chart.client, step)
            if ours:
                await self._store.record_earlier_found(
                    earlier_id, step.key, str(ours[0]["id"]), version_of(ours[0])
                )

    async def _failed(
        self,
        item: OutboxItem,
        error: BaseException,
        notes: list[str],
        chart: ChartAccess | None,
    ) -> ItemOutcome:
        handling = handling_of(error)
        if (
            handling.disposition is Disposition.SIGN_IN
            and isinstance(error, FhirAuthError)
            and chart is not None
            and await chart.renew()
        ):
            # A 401 although the sign-in can still be renewed: a hiccup of the EHR (a node
            # that has not seen the new token yet), not the end of the session.
            handling = FailureHandling(
                Disposition.RETRY, handling.message, f"{handling.log_summary}; session renewed"
            )
        if handling.disposition is Disposition.RETRY:
            delay = self._schedule.delay(item.attempts, handling.retry_after)
            ok = await self._store.reschedule(
                item.id, self.owner, delay=delay, error=handling.message, notes=notes
            )
            state = ItemState.QUEUED
        elif handling.disposition is Disposition.SIGN_IN:
            ok = await self._store.wait_for_sign_in(
                item.id, self.owner, error=handling.message, notes=notes
            )
            state = ItemState.WAITING_FOR_SIGN_IN
        else:
            ok = await self._store.mark_failed(
                item.id,
                self.owner,
                error=handling.message,
                in_doubt=handling.in_doubt,
                notes=notes,
                # What the user may review and agree to write over, on the status page.
                chart_changes=error.changes if isinstance(error, ChangedInChartError) else (),
            )
            state = ItemState.FAILED
        log.info(
            "outbox item %s: attempt %d -> %s (%s)",
            item.id,
            item.attempts,
            state.value,
            handling.log_summary,
        )
        return ItemOutcome(item.id, state if ok else None, handling.message)

    async def _outcome(
        self, item: OutboxItem, state: ItemState, message: str | None
    ) -> ItemOutcome:
        refreshed = await self._store.item(item.id)
        return ItemOutcome(
            item.id, state, refreshed.last_error if refreshed is not None else message
        )
