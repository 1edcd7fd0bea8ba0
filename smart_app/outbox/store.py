"""The outbox in the database: items to write, claimed by one worker at a time under a lease.

A claim is one atomic compare-and-swap UPDATE whose WHERE names the state and lease it expects
(``state = 'queued' AND next_attempt_at <= now`` or a `writing` lease that has expired), so of
two workers — in one process or two app instances, on SQLite or PostgreSQL (where the second
UPDATE re-checks the WHERE on the row the first committed) — exactly one wins the row. Every
later change of a claimed item is also conditional on the claimer still holding its lease.

A later version of a study is not claimed while an earlier one may still be written, so
versions reach the chart in order; an earlier version that failed is marked superseded when
the later one is claimed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from plugin.writeback import FrozenReport, KnownResource, WritePlan, WriteStep, thaw_report
from smart_app.clock import Clock
from smart_app.outbox.chart_changes import (
    ChartChange,
    chart_changes_from_json,
    chart_changes_json,
)
from smart_app.outbox.errors import OutboxActionError
from smart_app.outbox.records import (
    LedgerEntry,
    LedgerState,
    OutboxItem,
    VersionHistory,
    WrittenResource,
)
from smart_app.outbox.states import ACTIVE_STATES, ItemState
from smart_app.store.database import Database
from smart_app.store.outbox_tables import LedgerEntryRow, OutboxItemRow, SignedReportRow

__all__ = ["OutboxStore", "ledger_entry", "outbox_item"]

log = logging.getLogger(__name__)

_ACTIVE = [s.value for s in ACTIVE_STATES]


class OutboxStore:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    @property
    def database(self) -> Database:
        return self._database

    @property
    def clock(self) -> Clock:
        return self._clock

    # -- claiming ---------------------------------------------------------------------------

    async def claim(self, owner: str, *, limit: int, lease_seconds: float) -> list[OutboxItem]:
        """Claim up to `limit` due items for `owner` (state `writing`, leased)."""
        now = self._clock()
        sessions = await self._database.ready()
        earlier = aliased(OutboxItemRow)
        blocked = exists().where(
            earlier.ehr_iss == OutboxItemRow.ehr_iss,
            earlier.study_key == OutboxItemRow.study_key,
            earlier.version < OutboxItemRow.version,
            earlier.state.in_(_ACTIVE),
        )
        async with sessions() as db:
            candidates = (
                (
                    await db.execute(
                        select(OutboxItemRow.id)
                        .where(_claimable(now), ~blocked)
                        .order_by(OutboxItemRow.next_attempt_at, OutboxItemRow.created_at)
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
        claimed = []
        for item_id in candidates:
            async with sessions.begin() as db:
                result = await db.execute(
                    update(OutboxItemRow)
                    .where(OutboxItemRow.id == item_id, _claimable(now))
                    .values(
                        state=ItemState.WRITING.value,
                        lease_owner=owner,
                        lease_expires_at=now + lease_seconds,
                        attempts=OutboxItemRow.attempts + 1,
                        updated_at=now,
                    )
                )
                if getattr(result, "rowcount", 0) != 1:
                    continue  # another worker was faster
                row = (
                    await db.execute(select(OutboxItemRow).where(OutboxItemRow.id == item_id))
                ).scalar_one()
                replaced = (
                    OutboxItemRow.ehr_iss == row.ehr_iss,
                    OutboxItemRow.study_key == row.study_key,
                    OutboxItemRow.version < row.version,
                    OutboxItemRow.state == ItemState.FAILED.value,
                )
                unsure = (
                    (
                        await db.execute(
                            select(OutboxItemRow.version).where(
                                *replaced, OutboxItemRow.in_doubt == 1
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
                await db.execute(
                    update(OutboxItemRow)
                    .where(*replaced)
                    .values(state=ItemState.SUPERSEDED.value, updated_at=now)
                )
                item = outbox_item(row)
                if unsure:
                    # Replaced unconfirmed, not unsent: this version cannot point at it, so
                    # the user is told where to look and what to do if it is there.
                    notes = _merged_notes(row.notes_json, [_maybe_in_chart(unsure)])
                    await db.execute(
                        update(OutboxItemRow)
                        .where(OutboxItemRow.id == item_id)
                        .values(notes_json=notes)
                    )
                    item = replace(item, notes=tuple(json.loads(notes)))
                claimed.append(item)
        return claimed

    async def renew(self, item_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False when `owner` no longer holds it."""
        now = self._clock()
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            result = await db.execute(
                update(OutboxItemRow)
                .where(*_leased(item_id, owner))
                .values(lease_expires_at=now + lease_seconds, updated_at=now)
            )
        return getattr(result, "rowcount", 0) == 1

    async def pin_plan(self, item_id: str, owner: str, plan: WritePlan) -> bool:
        """Store the plan the item will follow on every attempt (only the first one sticks),
        and its notes with the item's: what the plan leaves undone (an update the EHR does
        not allow) is said on the status page from the first attempt on."""
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            row = (
                await db.execute(
                    select(OutboxItemRow).where(
                        *_leased(item_id, owner), OutboxItemRow.plan_json.is_(None)
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                return False
            result = await db.execute(
                update(OutboxItemRow)
                .where(*_leased(item_id, owner), OutboxItemRow.plan_json.is_(None))
                .values(
                    plan_json=plan.model_dump_json(),
                    strategy=plan.strategy.value,
                    notes_json=_merged_notes(row.notes_json, plan.notes),
                    updated_at=self._clock(),
                )
            )
        return getattr(result, "rowcount", 0) == 1

    # -- ending an attempt ----------------------------------------------------------------

    async def mark_written(self, item_id: str, owner: str, notes: Sequence[str] = ()) -> bool:
        now = self._clock()
        return await self._finish(
            item_id,
            owner,
            notes,
            state=ItemState.WRITTEN.value,
            written_at=now,
            last_error=None,
            in_doubt=0,
        )

    async def reschedule(
        self, item_id: str, owner: str, *, delay: float, error: str, notes: Sequence[str] = ()
    ) -> bool:
        """Back to the queue after a failure worth retrying, due in `delay` seconds."""
        return await self._finish(
            item_id,
            owner,
            notes,
            state=ItemState.QUEUED.value,
            next_attempt_at=self._clock() + max(0.0, delay),
            last_error=error,
        )

    async def mark_failed(
        self,
        item_id: str,
        owner: str,
        *,
        error: str,
        in_doubt: bool,
        notes: Sequence[str] = (),
        chart_changes: Sequence[ChartChange] = (),
    ) -> bool:
        """`chart_changes`: the resources this attempt found changed in the chart, which the
        user may review and agree to write over (`retry(confirmed_overwrite=True)`)."""
        return await self._finish(
            item_id,
            owner,
            notes,
            state=ItemState.FAILED.value,
            last_error=error,
            in_doubt=1 if in_doubt else 0,
            chart_changes_json=chart_changes_json(chart_changes),
        )

    async def wait_for_sign_in(
        self, item_id: str, owner: str, *, error: str, notes: Sequence[str] = ()
    ) -> bool:
        return await self._finish(
            item_id, owner, notes, state=ItemState.WAITING_FOR_SIGN_IN.value, last_error=error
        )

    async def _finish(self, item_id: str, owner: str, notes: Sequence[str], **values: Any) -> bool:
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            row = (
                await db.execute(select(OutboxItemRow).where(*_leased(item_id, owner)))
            ).scalar_one_or_none()
            if row is None:
                return False
            result = await db.execute(
                update(OutboxItemRow)
                .where(*_leased(item_id, owner))
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=self._clock(),
                    notes_json=_merged_notes(row.notes_json, notes),
                    **values,
                )
            )
        if getattr(result, "rowcount", 0) != 1:
            log.warning("outbox item lease lost before its attempt could be recorded")
            return False
        return True

    # -- what users do ----------------------------------------------------------------------

    async def retry(
        self,
        item_id: str,
        *,
        iss: str,
        patient_id: str,
        user_id: str,
        session_ref: bytes,
        confirmed_absent: bool = False,
        confirmed_overwrite: bool = False,
    ) -> OutboxItem:
        """Send a failed item again, with the session of the user asking (`session_ref`, of
        this EHR, patient and user): the item's own session may have ended or lost its
        grant. A different user's session is never put on it (the write would go out under
        their sign-in); the item then keeps its own. An item that stopped unsure whether a
        write reached the chart (the EHR offers no way to check) is retried only once the
        user has checked the chart and confirms it is not there (`confirmed_absent`). One that
        stopped because a resource it updates was changed in the chart is retried only once
        the user has reviewed that change and agrees to write this report over it
        (`confirmed_overwrite`): the copies found then become the ones the update may replace."""
        item = await self.item(item_id)
        if item is None or item.iss != iss.rstrip("/") or item.patient_id != patient_id:
            raise OutboxActionError(
                "This report is not among this patient's reports.", "no such outbox item", 404
            )
        if item.state is not ItemState.FAILED:
            raise OutboxActionError(
                f"This report cannot be sent again: it is {item.state.description.lower()}.",
                f"retry refused in state {item.state.value}",
            )
        if item.in_doubt and not confirmed_absent:
            raise OutboxActionError(
                "The app could not confirm whether the EHR stored this report before the "
                "connection failed. Check the patient's chart first; send it again only if it "
                "is not there.",
                "retry of an in-doubt item without confirmation",
            )
        if item.chart_changes and not confirmed_overwrite:
            raise OutboxActionError(
                "Someone changed this study's "
                f"{', '.join(sorted({c.resource_type for c in item.chart_changes}))} in the EHR "
                "after the app wrote it. Review the change in the chart first; send this "
                "version again only to replace it, and confirm that you want to.",
                "retry of an item with chart changes without confirmation",
            )
        accepted = (
            {
                "accepted_changes_json": chart_changes_json(item.chart_changes),
                "chart_changes_json": None,
            }
            if item.chart_changes
            else {}
        )
        now = self._clock()
        own_session = {"session_ref": session_ref} if item.user_id == user_id else {}
        later = aliased(OutboxItemRow)
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            result = await db.execute(
                update(OutboxItemRow)
                .where(
                    OutboxItemRow.id == item_id,
                    OutboxItemRow.state == ItemState.FAILED.value,
                    ~exists().where(
                        later.ehr_iss == OutboxItemRow.ehr_iss,
                        later.study_key == OutboxItemRow.study_key,
                        later.version > OutboxItemRow.version,
                    ),
                )
                .values(
                    state=ItemState.QUEUED.value,
                    next_attempt_at=now,
                    in_doubt=0,
                    updated_at=now,
                    **own_session,
                    **accepted,
                )
            )
            if getattr(result, "rowcount", 0) != 1:
                raise OutboxActionError(
                    "This version cannot be sent again: a later version of the report was "
                    "signed (or it changed meanwhile). Send the latest version instead.",
                    "retry refused: a later version exists or the state changed",
                )
            if confirmed_absent:
                await db.execute(
                    update(LedgerEntryRow)
                    .where(
                        LedgerEntryRow.item_id == item_id,
                        LedgerEntryRow.state == LedgerState.INTENDED.value,
                    )
                    .values(state=LedgerState.RELEASED.value, recorded_at=now)
                )
        refreshed = await self.item(item_id)
        assert refreshed is not None
        return refreshed

    async def resume_for_launch(
        self, iss: str, patient_id: str, user_id: str, session_ref: bytes
    ) -> int:
        """At a new launch of a user for a patient: their items for that patient waiting for
        sign-in go back to the queue, and their queued ones, write with the new session.
        Items of other patients keep their session: a launch's token is scoped to its own
        patient, and with another patient's token the write is refused and reconciliation
        cannot see what an earlier attempt may have filed. Returns how many were resumed."""
        now = self._clock()
        same_launch = (
            OutboxItemRow.ehr_iss == iss.rstrip("/"),
            OutboxItemRow.patient_id == patient_id,
            OutboxItemRow.user_id == user_id,
        )
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            waiting = await db.execute(
                update(OutboxItemRow)
                .where(*same_launch, OutboxItemRow.state == ItemState.WAITING_FOR_SIGN_IN.value)
                .values(
                    state=ItemState.QUEUED.value,
                    session_ref=session_ref,
                    next_attempt_at=now,
                    updated_at=now,
                )
            )
            await db.execute(
                update(OutboxItemRow)
                .where(*same_launch, OutboxItemRow.state == ItemState.QUEUED.value)
                .values(session_ref=session_ref)
            )
        return int(getattr(waiting, "rowcount", 0))

    # -- reading ----------------------------------------------------------------------------

    async def item(self, item_id: str) -> OutboxItem | None:
        sessions = await self._database.ready()
        async with sessions() as db:
            row = (
                await db.execute(select(OutboxItemRow).where(OutboxItemRow.id == item_id))
            ).scalar_one_or_none()
        return outbox_item(row) if row is not None else None

    async def items_for_patient(self, iss: str, patient_id: str) -> list[OutboxItem]:
        """Every item of the patient in this EHR, newest first."""
        sessions = await self._database.ready()
        async with sessions() as db:
            rows = (
                (
                    await db.execute(
                        select(OutboxItemRow)
                        .where(
                            OutboxItemRow.ehr_iss == iss.rstrip("/"),
                            OutboxItemRow.patient_id == patient_id,
                        )
                        .order_by(OutboxItemRow.created_at.desc(), OutboxItemRow.version.desc())
                    )
                )
                .scalars()
                .all()
            )
        return [outbox_item(row) for row in rows]

    async def report(self, item: OutboxItem) -> FrozenReport:
        """The item's frozen report, its hash checked (raises InputProblemError if changed)."""
        sessions = await self._database.ready()
        async with sessions() as db:
            row = (
                await db.execute(
                    select(SignedReportRow).where(SignedReportRow.id == item.report_id)
                )
            ).scalar_one()
        return thaw_report(row.bundle_json, row.content_hash)

    async def ledger_entries(self, item_id: str) -> dict[str, LedgerEntry]:
        sessions = await self._database.ready()
        async with sessions() as db:
            rows = (
                (await db.execute(select(LedgerEntryRow).where(LedgerEntryRow.item_id == item_id)))
                .scalars()
                .all()
            )
        return {row.step_key: ledger_entry(row) for row in rows}

    async def unconfirmed_earlier_steps(self, item: OutboxItem) -> list[tuple[str, WriteStep]]:
        """(item id, step) of each write of an earlier version of the study that was sent with
        no answer recorded (ledger `intended`): before a later version is planned they are
        looked up, so that it updates what they may have put in the chart rather than taking
        it, unseen, for its own."""
        rows = await self._earlier_writes(
            item,
            OutboxItemRow.plan_json.is_not(None),
            LedgerEntryRow.state == LedgerState.INTENDED.value,
        )
        plans: dict[str, dict[str, WriteStep]] = {}
        found: list[tuple[str, WriteStep]] = []
        for item_row, entry in rows:
            if item_row.id not in plans:
                plan = WritePlan.model_validate_json(item_row.plan_json or "")
                plans[item_row.id] = {step.key: step for step in plan.steps}
            step = plans[item_row.id].get(entry.step_key)
            if step is not None:
                found.append((item_row.id, step))
        return found

    async def record_earlier_found(
        self, item_id: str, step_key: str, server_id: str, version: str | None
    ) -> None:
        """An earlier version's unconfirmed write, found in the chart by its identifier."""
        sessions = await self._database.ready()
        async with sessions.begin() as db:
            await db.execute(
                update(LedgerEntryRow)
                .where(
                    LedgerEntryRow.item_id == item_id,
                    LedgerEntryRow.step_key == step_key,
                    LedgerEntryRow.state == LedgerState.INTENDED.value,
                )
                .values(
                    state=LedgerState.FOUND.value,
                    server_id=server_id,
                    version=version,
                    recorded_at=self._clock(),
                )
            )

    async def _earlier_writes(self, item: OutboxItem, *conditions: Any) -> Sequence[Any]:
        """(item row, ledger row) of the earlier versions of `item`'s study meeting
        `conditions`, oldest version first, each version's in the order recorded."""
        sessions = await self._database.ready()
        async with sessions() as db:
            return (
                await db.execute(
                    select(OutboxItemRow, LedgerEntryRow)
                    .join(LedgerEntryRow, LedgerEntryRow.item_id == OutboxItemRow.id)
                    .where(
                        OutboxItemRow.ehr_iss == item.iss,
                        OutboxItemRow.study_key == item.study_key,
                        OutboxItemRow.version < item.version,
                        *conditions,
                    )
                    .order_by(OutboxItemRow.version, LedgerEntryRow.recorded_at)
                )
            ).all()

    async def previous_resources(self, item: OutboxItem) -> dict[str, KnownResource]:
        """What earlier versions of the study put in the chart, per token: the latest server
        id and version recorded, with the body that was sent."""
        rows = await self._earlier_writes(item, LedgerEntryRow.server_id.is_not(None))
        known: dict[str, KnownResource] = {}
        plans: dict[str, WritePlan | None] = {}
        for item_row, entry in rows:
            if item_row.id not in plans:
                plans[item_row.id] = (
                    WritePlan.model_validate_json(item_row.plan_json)
                    if item_row.plan_json
                    else None
                )
            plan = plans[item_row.id]
            body = (
                next((s.body for s in plan.steps if s.key == entry.step_key), None)
                if plan
                else None
            )
            assert entry.server_id is not None
            known[entry.token] = KnownResource(
                entry.token, entry.resource_type, entry.server_id, entry.version, body
            )
        return known

    async def history(self, iss: str, patient_id: str, study_key: str) -> list[VersionHistory]:
        """Every signed version of a study, oldest first, with what each wrote where."""
        sessions = await self._database.ready()
        async with sessions() as db:
            rows = (
                await db.execute(
                    select(SignedReportRow, OutboxItemRow)
                    .join(OutboxItemRow, OutboxItemRow.report_id == SignedReportRow.id)
                    .where(
                        SignedReportRow.ehr_iss == iss.rstrip("/"),
                        SignedReportRow.patient_id == patient_id,
                        SignedReportRow.study_key == study_key,
                    )
                    .order_by(SignedReportRow.version)
                )
            ).all()
        history = []
        for report, item_row in rows:
            item = outbox_item(item_row)
            entries = await self.ledger_entries(item.id)
            plan = WritePlan.model_validate_json(item.plan_json) if item.plan_json else None
            history.append(
                VersionHistory(
                    version=report.version,
                    signed_at=report.signed_at,
                    signed_by=report.user_id,
                    content_hash=report.content_hash,
                    item=item,
                    explanation=plan.explanation if plan else None,
                    written=written_resources(plan, entries.values()),
                )
            )
        return history


def written_resources(
    plan: WritePlan | None, entries: Iterable[LedgerEntry]
) -> tuple[WrittenResource, ...]:
    """The ledger in the plan's order, each entry named by what it is for."""
    roles: Mapping[str, str] = {s.key: s.role.value for s in plan.steps} if plan else {}
    order = {key: index for index, key in enumerate(roles)}
    ordered = sorted(entries, key=lambda e: (order.get(e.step_key, len(order)), e.step_key))
    return tuple(
        WrittenResource(
            role=roles.get(e.step_key, e.resource_type),
            resource_type=e.resource_type,
            server_id=e.server_id,
            version=e.version,
            how=e.state,
            duplicates=e.duplicates,
        )
        for e in ordered
    )


def _maybe_in_chart(versions: Sequence[int]) -> str:
    listed = ", ".join(str(v) for v in sorted(versions))
    many = len(versions) > 1
    return (
        f"Version{'s' if many else ''} {listed} of this report may also be in the chart: the "
        f"EHR's answer to {'them' if many else 'it'} was lost, and this EHR offers the app no "
        "way to check, so this version could not refer to "
        f"{'them' if many else 'it'}. Look in the patient's chart; if an earlier version of "
        "this report is there, mark it entered in error in the EHR, so that only this version "
        "stands"
    )


def _merged_notes(stored: str, notes: Iterable[str]) -> str:
    """The item's notes with `notes` added, each once, in the order first said."""
    return json.dumps(list(dict.fromkeys([*json.loads(stored), *notes])), ensure_ascii=False)


def _claimable(now: float) -> Any:
    return or_(
        and_(
            OutboxItemRow.state == ItemState.QUEUED.value,
            OutboxItemRow.next_attempt_at <= now,
        ),
        and_(
            OutboxItemRow.state == ItemState.WRITING.value,
            OutboxItemRow.lease_expires_at < now,
        ),
    )


def _leased(item_id: str, owner: str) -> tuple[Any, ...]:
    return (
        OutboxItemRow.id == item_id,
        OutboxItemRow.lease_owner == owner,
        OutboxItemRow.state == ItemState.WRITING.value,
    )


def outbox_item(row: OutboxItemRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        report_id=row.report_id,
        iss=row.ehr_iss,
        patient_id=row.patient_id,
        user_id=row.user_id,
        study_key=row.study_key,
        version=row.version,
        state=ItemState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        in_doubt=bool(row.in_doubt),
        strategy=row.strategy,
        plan_json=row.plan_json,
        notes=tuple(json.loads(row.notes_json)),
        session_ref=row.session_ref,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        written_at=row.written_at,
        chart_changes=chart_changes_from_json(row.chart_changes_json),
        accepted_changes=chart_changes_from_json(row.accepted_changes_json),
    )


def ledger_entry(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(
        step_key=row.step_key,
        token=row.token,
        resource_type=row.resource_type,
        state=LedgerState(row.state),
        server_id=row.server_id,
        version=row.version,
        duplicates=row.duplicates,
        recorded_at=row.recorded_at,
    )
