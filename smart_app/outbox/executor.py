"""Runs a write plan against an EHR's FHIR server, exactly once per resource.

Before each create the chart is checked for the product's identifier: by the server itself
(conditional create, `If-None-Exist`) or by a search; the server's id is recorded in the
ledger before the next step. A step whose earlier send has no recorded answer (a timeout after
the server committed, a 5xx after commit, a dropped connection) is reconciled by identifier
before anything is sent again; a transaction is reconciled as a whole (all entries present:
applied; none: send again; some: finish entry by entry and flag it). A transaction is recorded
only as far as its answer confirms it (one 2xx entry per request entry); otherwise its entries
stay `intended` for that reconciliation. Per resource, every update's target is checked before
the first write, so a change made in the chart stops a plan before it is half applied.

Failures propagate as `smart_app.fhir_errors` (classified by the worker) or `WriteBackError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.writeback import LookupMethod, StepAction, WritePlan, WriteStep
from plugin.writeback.reconciliation import (
    TransactionFinding,
    content_matches,
    transaction_finding,
    unchanged_since_written,
)
from plugin.writeback.references import (
    PLACEHOLDER_PREFIX,
    placeholders_in,
    rewrite_references,
    strip_references,
)
from plugin.writeback.transaction import (
    UnconfirmedTransactionError,
    transaction_bundle,
    transaction_outcomes,
)
from smart_app.fhir_client import FhirClient
from smart_app.fhir_errors import FhirPreconditionFailed
from smart_app.outbox.chart_changes import ChartChange
from smart_app.outbox.errors import (
    ChangedInChartError,
    InDoubtError,
    TransactionNotConfirmedError,
    WriteBackError,
)
from smart_app.outbox.ledger import ItemLedger
from smart_app.outbox.records import LedgerState

__all__ = ["PlanExecutor", "copies_in_chart", "is_ours", "version_of"]


def is_ours(resource: Mapping[str, Any], step: WriteStep) -> bool:
    """Whether a resource a search returned carries the step's identity (a server that
    ignores an unknown search parameter returns everything; trust only what we can see)."""
    _, _, value = step.token.partition("|")
    if step.search_parameter == "_tag":
        meta = resource.get("meta")
        tags = meta.get("tag") if isinstance(meta, dict) else None
        return any(
            isinstance(t, dict) and t.get("system") == IDENTIFIER_SYSTEM and t.get("code") == value
            for t in tags or []
        )
    identifiers = resource.get("identifier")
    return any(
        isinstance(i, dict) and i.get("system") == IDENTIFIER_SYSTEM and i.get("value") == value
        for i in identifiers or []
    )


async def copies_in_chart(client: FhirClient, step: WriteStep) -> list[dict[str, Any]]:
    """The resources in the chart that carry the step's identity (searched by identifier or
    tag), each with a server id."""
    parameter, token = step.search
    results = await client.search(step.resource_type, {parameter: token})
    return [r for r in results if is_ours(r, step) and isinstance(r.get("id"), str)]


class PlanExecutor:
    """`accepted`: chart copies changed by someone else that the user reviewed and agreed to
    write over (by token): an update of one replaces exactly that copy, and only while the
    chart still holds it."""

    def __init__(
        self,
        client: FhirClient,
        ledger: ItemLedger,
        plan: WritePlan,
        accepted: Sequence[ChartChange] = (),
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._plan = plan
        self._accepted = {change.token: change for change in accepted}
        self.notes: list[str] = []

    async def run(self) -> list[str]:
        """Write every step not yet in the ledger; returns notes for the status page."""
        if self._plan.transaction:
            await self._run_transaction()
        else:
            await self._run_steps(self._plan.steps)
        for change in self._accepted.values():
            version = f", version {change.version}" if change.version else ""
            self.notes.append(
                f"The {change.resource_type} that had been changed in the EHR "
                f"({change.reference}{version}) was replaced by this version of the report, as "
                "the user confirmed after reviewing the change"
            )
        return self.notes

    # -- one step at a time -----------------------------------------------------------------

    async def _run_steps(self, steps: Sequence[WriteStep]) -> None:
        await self._check_update_targets(steps)
        for step in steps:
            if self._ledger.done(step.key):
                continue
            if step.action is StepAction.CREATE:
                await self._create(step)
            else:
                await self._update(step)

    async def _check_update_targets(self, steps: Sequence[WriteStep]) -> None:
        """Before the first write: every resource already in the chart that the plan updates
        must still be as this report last wrote it, so that a change made in the chart stops
        the whole plan rather than leaving it half applied (the level results amended, the
        report not). A change made after this check is still refused at write time."""
        targets: list[tuple[WriteStep, str | None]] = []
        for index, step in enumerate(steps):
            if step.action is not StepAction.UPDATE or self._ledger.done(step.key):
                continue
            if any(other.token == step.token for other in steps[:index]):
                continue  # written earlier in this plan: its state then is the plan's own
            if self._located(step.token) is None:
                continue  # created by this plan: nothing in the chart to check yet
            targets.append((step, self._target(step)[1]))
        changed = await self._changed_targets(targets)
        if changed:
            raise ChangedInChartError.of(*changed)

    async def _changed_targets(
        self, targets: Sequence[tuple[WriteStep, str | None]]
    ) -> tuple[list[WriteStep], list[ChartChange]] | None:
        """Of the updates (with the version each expects), those whose target moved on from
        what this report last wrote, and the chart's copies; None when none did."""
        changed: list[WriteStep] = []
        changes: list[ChartChange] = []
        for step, version in targets:
            server_id = self._target(step)[0]
            body = self._update_body(step, server_id)
            change = await self._changed_since_written(step, server_id, body, version)
            if change is not None:
                changed.append(step)
                changes.append(change)
        return (changed, changes) if changed else None

    async def _changed_since_written(
        self, step: WriteStep, server_id: str, body: Mapping[str, Any], version: str | None
    ) -> ChartChange | None:
        """The chart's copy of an update's target if it moved on from what this report last
        wrote: another version than `version` (the one for `If-Match`) or, with none, not
        exactly what was last sent. None if it has not; a copy already holding `body` has not
        (our own earlier attempt whose answer was lost)."""
        current = await self._client.read(step.resource_type, server_id)
        if content_matches(current, body):
            return None
        if version is not None:
            now = version_of(current)
            moved = now is not None and now != version
        else:
            sent = self._last_sent(step)
            moved = sent is not None and not unchanged_since_written(current, sent)
        return _chart_change(step, server_id, current) if moved else None

    async def _create(self, step: WriteStep) -> None:
        if step.lookup is LookupMethod.IDENTIFIER_SEARCH or (
            step.lookup is LookupMethod.CONDITIONAL_CREATE and self._ledger.in_doubt(step.key)
        ):
            if await self._found(step):
                return
        elif step.lookup is LookupMethod.NONE and self._ledger.in_doubt(step.key):
            raise InDoubtError(
                f"The app sent the {step.role.value} ({step.resource_type}) but did not hear "
                "back, and this EHR offers no way to check whether it was stored. Check the "
                "patient's chart; send the report again only if it is not there."
            )
        body = self._prepared(step)
        await self._ledger.intend([step])
        result = await self._client.create(
            body,
            if_none_exist=step.if_none_exist if step.conditional else None,
            retry_safe=False,  # the outbox retries, after reconciling
        )
        if result.id is None:
            # Created (Epic answers 201 with no body when not asked for one), but unnamed.
            if step.lookup is not LookupMethod.NONE and await self._found(step):
                return
            raise InDoubtError(
                f"The EHR accepted the {step.role.value} ({step.resource_type}) without saying "
                "where it stored it, so the rest of the report cannot refer to it."
            )
        state = LedgerState.CREATED if result.created else LedgerState.FOUND
        await self._ledger.record(step, state, result.id, result.version)

    async def _found(self, step: WriteStep) -> bool:
        """Search the chart for the step's identity; record a match. True when found."""
        ours = await copies_in_chart(self._client, step)
        if not ours:
            return False
        first = ours[0]
        version = version_of(first)
        if len(ours) > 1:
            self.notes.append(
                f"The chart already holds {len(ours)} copies of the {step.role.value} "
                f"({step.resource_type}); the first is used and no further copy was filed"
            )
        await self._ledger.record(
            step, LedgerState.FOUND, str(first["id"]), version, duplicates=len(ours) - 1
        )
        return True

    async def _update(self, step: WriteStep) -> None:
        target = await self._guarded_target(step)
        if target is None:
            return
        server_id, body, version = target
        await self._ledger.intend([step])
        try:
            result = await self._client.update(body, if_match=version)
        except FhirPreconditionFailed:
            # The version moved on: our own earlier attempt (answer lost), or someone else.
            current = await self._client.read(step.resource_type, server_id)
            if not content_matches(current, body):
                change = _chart_change(step, server_id, current)
                raise ChangedInChartError.of([step], [change]) from None
            await self._ledger.record(step, LedgerState.UPDATED, server_id, version_of(current))
            return
        await self._ledger.record(step, LedgerState.UPDATED, result.id or server_id, result.version)

    async def _guarded_target(
        self, step: WriteStep
    ) -> tuple[str, dict[str, Any], str | None] | None:
        """(server id, body to send, version for `If-Match`) of an update; None when the chart
        already holds it (an earlier attempt whose answer was lost: recorded)."""
        server_id, version = self._target(step)
        body = self._update_body(step, server_id)
        if version is None:
            guarded = await self._unversioned_guard(step, server_id, body)
            if isinstance(guarded, _Applied):
                return None
            version = guarded
        return server_id, body, version

    async def _unversioned_guard(
        self, step: WriteStep, server_id: str, body: Mapping[str, Any]
    ) -> str | _Applied | None:
        """Before an update of a resource whose version the EHR never reported: read it. If it
        already holds `body`, our earlier attempt was applied (recorded; `_APPLIED`). If it is
        no longer exactly what the app last sent, someone changed it (an element edited, added
        or removed, a reference re-pointed): ChangedInChartError, nothing is overwritten — the
        update replaces the whole resource. Otherwise the version the read reports, for
        `If-Match` (None on an EHR that keeps no versions: the update then follows this check
        unconditioned)."""
        current = await self._client.read(step.resource_type, server_id)
        version = version_of(current)
        if content_matches(current, body):
            await self._ledger.record(step, LedgerState.UPDATED, server_id, version)
            return _APPLIED
        sent = self._last_sent(step)
        if sent is not None and not unchanged_since_written(current, sent):
            raise ChangedInChartError.of([step], [_chart_change(step, server_id, current)])
        if version is None and _UNVERSIONED_NOTE not in self.notes:
            self.notes.append(_UNVERSIONED_NOTE)
        return version

    def _last_sent(self, step: WriteStep) -> dict[str, Any] | None:
        """The body the app last sent for the resource `step` updates, as it went out: an
        earlier step of this plan (its create, a linking update), else what an earlier version
        sent (None: not known). References are resolved as they are now (a resource keeps its
        server id), and the placeholders that were left out when it was sent are left out
        again: an in-plan step's `deferred` ones, and any that still name nothing in the chart.
        A copy the user agreed to write over stands for what was last sent: the update then
        goes ahead only while the chart still holds exactly that copy."""
        earlier = None
        for other in self._plan.steps:
            if other.key == step.key:
                break
            if other.token == step.token and self._ledger.done(other.key):
                earlier = other
        if earlier is not None:
            return self._as_sent(earlier.body, frozenset(earlier.deferred))
        accepted = self._accepted.get(step.token)
        if accepted is not None:
            return dict(accepted.copy)
        known = self._plan.known.get(step.token)
        if known is None or known.written is None:
            return None
        return self._as_sent(known.written)

    # -- the full strategy ------------------------------------------------------------------

    async def _run_transaction(self) -> None:
        pending = [s for s in self._plan.steps if not self._ledger.done(s.key)]
        if not pending:
            return
        if any(self._ledger.in_doubt(s.key) for s in pending):
            finding = await self._reconcile(pending)
            if finding is TransactionFinding.APPLIED:
                for step in pending:
                    if not self._ledger.done(step.key):  # present, but the app may not look
                        await self._ledger.record(step, LedgerState.INFERRED, None, None)
                return
            if finding is TransactionFinding.PARTIAL:
                self.notes.append(
                    "The EHR applied only part of the transaction (it should be all or nothing); "
                    "the missing resources were written one by one"
                )
                await self._run_steps(self._plan.steps)
                return
        versions: dict[str, str | None] = {}
        for step in [s for s in pending if s.action is StepAction.UPDATE]:
            guarded = await self._guarded_target(step)
            if guarded is not None:
                versions[step.key] = guarded[2]
        pending = [s for s in pending if not self._ledger.done(s.key)]
        if not pending:
            return
        await self._ledger.intend(pending)

        def target(step: WriteStep) -> tuple[str, str | None]:
            return self._target(step)[0], versions.get(step.key)

        bundle = transaction_bundle(pending, self._resolved(), target)
        try:
            response = await self._client.transaction(bundle, retry_safe=False)
        except FhirPreconditionFailed as refused:
            # All or nothing: nothing was applied. Say which resource moved, if one did.
            raise await self._refused_as_changed(pending, versions, refused) from None
        try:
            outcomes = transaction_outcomes(response, pending)
        except UnconfirmedTransactionError as answer:
            # Not confirmed is not applied: the entries stay `intended` for reconciliation.
            in_doubt = not any(_checkable(s) for s in pending)
            if answer.refused:
                raise TransactionNotConfirmedError.refused(
                    answer.refused, in_doubt=in_doubt
                ) from None
            raise TransactionNotConfirmedError.malformed(
                answer.problem or "", in_doubt=in_doubt
            ) from None
        unlocated = []
        for step, outcome in zip(pending, outcomes, strict=True):
            if step.action is StepAction.UPDATE:
                server_id = outcome.id or self._target(step)[0]
                await self._ledger.record(step, LedgerState.UPDATED, server_id, outcome.version)
            elif outcome.id is not None:
                state = LedgerState.CREATED if outcome.created else LedgerState.FOUND
                await self._ledger.record(step, state, outcome.id, outcome.version)
            elif step.lookup is LookupMethod.NONE:
                # Stored, the EHR says, and it offers no way to look: its word is all there is.
                await self._ledger.record(step, LedgerState.INFERRED, None, None)
            elif not await self._found(step):
                unlocated.append(step)  # stays `intended`: the next attempt searches again
        if unlocated:
            raise TransactionNotConfirmedError.unlocated(unlocated)

    async def _refused_as_changed(
        self,
        pending: Sequence[WriteStep],
        versions: Mapping[str, str | None],
        refused: FhirPreconditionFailed,
    ) -> ChangedInChartError:
        """The 412 to a transaction, as the resources whose `ifMatch` no longer holds (read
        back); if none shows it (a conditional create matching several), the study's
        resources in general, with the EHR's explanation."""
        changed = await self._changed_targets(
            [
                (step, versions.get(step.key))
                for step in pending
                if step.action is StepAction.UPDATE and versions.get(step.key) is not None
            ]
        )
        if changed:
            return ChangedInChartError.of(*changed)
        return ChangedInChartError.somewhere(pending, refused.issues)

    async def _reconcile(self, pending: list[WriteStep]) -> TransactionFinding:
        """Which entries of an earlier transaction attempt are in the chart (recorded)."""
        present: dict[str, bool] = {}
        for step in pending:
            if step.action is StepAction.CREATE:
                if step.lookup is LookupMethod.NONE:
                    continue  # cannot be looked up: follows the others
                present[step.key] = await self._found(step)
            else:
                server_id, _ = self._target(step)
                current = await self._client.read(step.resource_type, server_id)
                body = self._update_body(step, server_id)
                applied = content_matches(current, body)
                if applied:
                    await self._ledger.record(
                        step, LedgerState.UPDATED, server_id, version_of(current)
                    )
                present[step.key] = applied
        return transaction_finding(present)

    # -- references -------------------------------------------------------------------------

    def _located(self, token: str) -> tuple[str, str, str | None] | None:
        """(type, id, version) of the resource `token` identifies, from the ledger of this
        item first, then from what earlier versions recorded."""
        entry = self._ledger.located(token)
        if entry is not None and entry.server_id is not None:
            return entry.resource_type, entry.server_id, entry.version
        known = self._plan.known.get(token)
        return (known.resource_type, known.id, known.version) if known is not None else None

    def _resolved(self) -> dict[str, str]:
        resolved = {}
        for placeholder, token in self._plan.placeholders.items():
            located = self._located(token)
            if located is not None:
                resolved[placeholder] = f"{located[0]}/{located[1]}"
        return resolved

    def _target(self, step: WriteStep) -> tuple[str, str | None]:
        located = self._located(step.token)
        if located is None:
            raise WriteBackError(
                f"The {step.role.value} ({step.resource_type}) to update is not recorded as "
                "being in the chart"
            )
        accepted = self._accepted.get(step.token)
        if accepted is not None and accepted.server_id == located[1]:
            # The user agreed to write over this copy: If-Match on it, so that only a change
            # made since (which they have not seen) still stops the update.
            return located[1], accepted.version
        return located[1], step.if_match if step.if_match is not None else located[2]

    def _update_body(self, step: WriteStep, server_id: str) -> dict[str, Any]:
        """The body of an update of the resource at `server_id`, as sent on its own."""
        body = self._prepared(step)
        body["id"] = server_id
        return body

    def _prepared(self, step: WriteStep) -> dict[str, Any]:
        """The body as sent on its own: references rewritten to server ids, the others left
        out (a transaction's entries keep theirs: see `transaction_bundle`)."""
        return self._as_sent(step.body)

    def _as_sent(
        self, body: Mapping[str, Any], left_out: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """`body` without the references to `left_out`, the others rewritten to server ids
        and those still unresolved left out."""
        kept = strip_references(body, left_out) if left_out else dict(body)
        rewritten = rewrite_references(kept, self._resolved())
        unresolved = frozenset(
            p for p in placeholders_in(rewritten) if p.startswith(PLACEHOLDER_PREFIX)
        )
        return strip_references(rewritten, unresolved) if unresolved else rewritten


class _Applied:
    """The update was already in the chart (an earlier attempt whose answer was lost)."""


_APPLIED = _Applied()
_UNVERSIONED_NOTE = (
    "This EHR reports no resource versions, so it cannot refuse an update of a resource "
    "changed meanwhile: before each update the app read the resource and updated it only if "
    "it was exactly as the app had last written it (the EHR's own id, metadata and narrative "
    "aside). A change made in the chart in the moment between that read and the update could "
    "not be seen"
)


def _chart_change(step: WriteStep, server_id: str, current: Mapping[str, Any]) -> ChartChange:
    return ChartChange(
        token=step.token,
        resource_type=step.resource_type,
        server_id=server_id,
        version=version_of(current),
        copy=dict(current),
    )


def _checkable(step: WriteStep) -> bool:
    """Whether reconciliation can tell if `step` is in the chart (an update is read back)."""
    return step.action is StepAction.UPDATE or step.lookup is not LookupMethod.NONE


def version_of(resource: Mapping[str, Any]) -> str | None:
    """The resource's meta.versionId, if the server reported one."""
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return version if isinstance(version, str) else None
