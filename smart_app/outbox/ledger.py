"""The ledger of one outbox item: per step (per identifier), what the chart holds — the
server id and version once known — written to the database before the writer moves on.

An `intended` entry is written before a request that may create or change something is
sent, so an attempt cut short (a lost answer, a crash) leaves a trace the next attempt
reconciles by identifier before sending anything again. Recording what the server answered is
never refused: it is the truth about the chart, even from a worker that lost its lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from plugin.writeback import WriteStep
from smart_app.outbox.errors import LeaseLostError
from smart_app.outbox.records import LedgerEntry, LedgerState
from smart_app.outbox.states import ItemState
from smart_app.outbox.store import OutboxStore, ledger_entry
from smart_app.store.outbox_tables import LedgerEntryRow, OutboxItemRow

__all__ = ["ItemLedger"]


class ItemLedger:
    """The ledger of the item `item_id`, as held by the worker `owner`."""

    def __init__(
        self,
        store: OutboxStore,
        item_id: str,
        owner: str,
        *,
        lease_seconds: float,
        entries: Mapping[str, LedgerEntry],
    ) -> None:
        self._store = store
        self._item_id = item_id
        self._owner = owner
        self._lease_seconds = lease_seconds
        self._entries = dict(entries)

    @classmethod
    async def load(
        cls, store: OutboxStore, item_id: str, owner: str, *, lease_seconds: float
    ) -> ItemLedger:
        entries = await store.ledger_entries(item_id)
        return cls(store, item_id, owner, lease_seconds=lease_seconds, entries=entries)

    def entry(self, key: str) -> LedgerEntry | None:
        return self._entries.get(key)

    def done(self, key: str) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.state.done

    def in_doubt(self, key: str) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.state is LedgerState.INTENDED

    def located(self, token: str) -> LedgerEntry | None:
        """The latest entry with a server id for the resource `token` identifies."""
        found = [e for e in self._entries.values() if e.token == token and e.server_id]
        return max(found, key=lambda e: e.recorded_at or 0.0) if found else None

    @property
    def entries(self) -> dict[str, LedgerEntry]:
        return dict(self._entries)

    async def intend(self, steps: Sequence[WriteStep]) -> None:
        """Before sending `steps`: renew the lease (LeaseLostError if another worker holds
        the item now) and mark each step not done yet as `intended`, in one transaction."""
        clock = self._store.clock
        now = clock()
        sessions = await self._store.database.ready()
        async with sessions.begin() as db:
            renewed = await db.execute(
                update(OutboxItemRow)
                .where(
                    OutboxItemRow.id == self._item_id,
                    OutboxItemRow.lease_owner == self._owner,
                    OutboxItemRow.state == ItemState.WRITING.value,
                )
                .values(lease_expires_at=now + self._lease_seconds, updated_at=now)
            )
            if getattr(renewed, "rowcount", 0) != 1:
                raise LeaseLostError("another worker took over this report")
            for step in steps:
                if self.done(step.key):
                    continue
                row = await db.get(LedgerEntryRow, (self._item_id, step.key))
                if row is None:
                    row = LedgerEntryRow(
                        item_id=self._item_id,
                        step_key=step.key,
                        token=step.token,
                        resource_type=step.resource_type,
                        state=LedgerState.INTENDED.value,
                        server_id=None,
                        version=None,
                        duplicates=0,
                        intended_at=now,
                        recorded_at=None,
                    )
                    db.add(row)
                else:
                    row.state = LedgerState.INTENDED.value
                    row.intended_at = now
                await db.flush()
                self._entries[step.key] = ledger_entry(row)

    async def record(
        self,
        step: WriteStep,
        state: LedgerState,
        server_id: str | None,
        version: str | None,
        *,
        duplicates: int = 0,
    ) -> LedgerEntry:
        """What the chart holds for `step`. A different server id than one already recorded
        for the step means a second copy exists: counted, the first id kept."""
        now = self._store.clock()
        sessions = await self._store.database.ready()
        for _ in range(2):  # a concurrent first insert of the same row: update it instead
            try:
                async with sessions.begin() as db:
                    row = (
                        await db.execute(
                            select(LedgerEntryRow).where(
                                LedgerEntryRow.item_id == self._item_id,
                                LedgerEntryRow.step_key == step.key,
                            )
                        )
                    ).scalar_one_or_none()
                    if row is None:
                        row = LedgerEntryRow(
                            item_id=self._item_id,
                            step_key=step.key,
                            token=step.token,
                            resource_type=step.resource_type,
                            state=state.value,
                            server_id=server_id,
                            version=version,
                            duplicates=duplicates,
                            intended_at=None,
                            recorded_at=now,
                        )
                        db.add(row)
                    elif (
                        LedgerState(row.state).done
                        and row.server_id
                        and server_id
                        and row.server_id != server_id
                    ):
                        row.duplicates += 1
                        row.recorded_at = now
                    else:
                        row.state = state.value
                        row.server_id = server_id or row.server_id
                        row.version = version or row.version
                        row.duplicates = max(row.duplicates, duplicates)
                        row.recorded_at = now
                    await db.flush()
                    entry = ledger_entry(row)
                break
            except IntegrityError:
                continue
        else:
            raise LeaseLostError("the ledger entry was being written by another worker")
        self._entries[step.key] = entry
        return entry
