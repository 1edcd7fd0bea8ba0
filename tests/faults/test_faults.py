"""Fault injection against the sandbox EHR, for each write strategy: the EHR failing with
500, 503 + Retry-After, 429; a dropped connection; a timeout after the EHR committed; a 5xx
after commit; the access token expiring between requests; a double submit; two workers racing
on one item. In every case the signed report ends up in the chart exactly once, or visibly
queued until it can be."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from plugin.sandbox.behaviour import CannedResponse, Fault, Interaction, SandboxRequest
from smart_app.outbox import ItemState
from tests.faults.checks import assert_in_chart_once
from tests.faults.conftest import RigFactory
from tests.faults.harness import Break, WriteBackRig

STRATEGIES = ("full", "per-resource", "document")
WRITES = (Interaction.CREATE, Interaction.UPDATE, Interaction.TRANSACTION)
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "exception", "diagnostics": "injected"}],
}


def on_write(number: int, fault: Fault) -> Callable[[SandboxRequest], Fault | None]:
    """A hook answering the `number`-th write request (1-based) with `fault`, once."""
    seen = 0

    def hook(request: SandboxRequest) -> Fault | None:
        nonlocal seen
        if request.interaction not in WRITES:
            return None
        seen += 1
        return fault if seen == number else None

    return hook


def break_write(rig: WriteBackRig, number: int, kind: Break) -> list[int]:
    """Break the transport on the `number`-th write request (POST/PUT to the FHIR server)."""
    seen = [0]

    def decide(request: httpx.Request) -> Break | None:
        if request.method not in ("POST", "PUT") or "/fhir" not in request.url.path:
            return None
        seen[0] += 1
        return kind if seen[0] == number else None

    rig.transport.decide = decide
    return seen


async def first_attempt(rig: WriteBackRig, item_id: str) -> ItemState:
    (outcome,) = await rig.worker().run_once()
    assert outcome.item_id == item_id
    assert outcome.state is not None
    return outcome.state


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("status", [500, 502])
async def test_a_server_error_before_commit_is_retried(
    make: RigFactory, strategy: str, status: int
) -> None:
    rig = await make(strategy=strategy)
    rig.hooks.append(on_write(1, Fault(respond=CannedResponse(status=status, body=OUTCOME))))
    signed = await rig.sign()
    assert await first_attempt(rig, signed.item_id) is ItemState.QUEUED
    item = await rig.item(signed.item_id)
    assert item.last_error is not None and "problem of its own" in item.last_error
    assert item.next_attempt_at > rig.clock()
    assert await rig.worker().run_once() == []  # not before it is due
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)
    assert (await rig.item(signed.item_id)).attempts == 2


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("status", [503, 429])
async def test_retry_after_is_honoured(make: RigFactory, strategy: str, status: int) -> None:
    rig = await make(strategy=strategy)
    rig.hooks.append(
        on_write(1, Fault(respond=CannedResponse(status=status, headers={"Retry-After": "120"})))
    )
    signed = await rig.sign()
    assert await first_attempt(rig, signed.item_id) is ItemState.QUEUED
    item = await rig.item(signed.item_id)
    assert item.next_attempt_at == rig.clock() + 120
    rig.clock.advance(119)
    assert await rig.worker().run_once() == []
    rig.clock.advance(1)
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind", [Break.CONNECT, Break.DROP_BEFORE, Break.DROP_AFTER])
async def test_a_dropped_connection_is_reconciled(
    make: RigFactory, strategy: str, kind: Break
) -> None:
    rig = await make(strategy=strategy)
    break_write(rig, 1, kind)
    signed = await rig.sign()
    assert await first_attempt(rig, signed.item_id) is ItemState.QUEUED
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)


@pytest.mark.parametrize(
    ("strategy", "write"),
    [
        ("full", 1),  # the transaction
        ("per-resource", 1),  # the procedure
        ("per-resource", 6),  # the procedure's link to its report (an update)
        ("per-resource", 8),  # the provenance (searched by _tag)
        ("document", 1),  # the note (no conditional create: searched by identifier)
    ],
)
async def test_a_timeout_after_the_ehr_committed_writes_nothing_twice(
    make: RigFactory, strategy: str, write: int
) -> None:
    rig = await make(strategy=strategy)
    writes = break_write(rig, write, Break.TIMEOUT_AFTER)
    signed = await rig.sign()
    assert await first_attempt(rig, signed.item_id) is ItemState.QUEUED
    assert writes[0] == write  # the attempt stopped at the write whose answer was lost
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)
    assert (await rig.item(signed.item_id)).attempts == 2


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_server_error_after_commit_writes_nothing_twice(
    make: RigFactory, strategy: str
) -> None:
    rig = await make(strategy=strategy)
    rig.hooks.append(on_write(1, Fault(after_commit=CannedResponse(status=500, body=OUTCOME))))
    signed = await rig.sign()
    assert await first_attempt(rig, signed.item_id) is ItemState.QUEUED
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_the_token_expiring_between_requests_is_refreshed(
    make: RigFactory, strategy: str
) -> None:
    rig = await make(strategy=strategy)
    before = await rig.services.sessions.get(rig.session_id)
    assert before is not None

    def expire(request: SandboxRequest) -> Fault | None:
        if request.interaction in WRITES:  # the token dies just before the first write
            for token in list(rig.ehr.records.access_tokens):
                rig.ehr.records.revoke_access_token(token)
            rig.hooks.remove(expire)
        return None

    rig.hooks.append(expire)
    signed = await rig.sign()
    assert await first_attempt(rig, signed.item_id) is ItemState.WRITTEN
    await assert_in_chart_once(rig, signed.item_id)
    after = await rig.services.sessions.get(rig.session_id)
    assert after is not None and after.session.access_token != before.session.access_token


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_lost_sign_in_waits_for_the_next_launch(make: RigFactory, strategy: str) -> None:
    rig = await make(strategy=strategy)
    signed = await rig.sign()
    rig.ehr.records.revoke_grant(rig.grant.id)  # tokens and refresh token both dead
    assert await first_attempt(rig, signed.item_id) is ItemState.WAITING_FOR_SIGN_IN
    item = await rig.item(signed.item_id)
    assert item.last_error is not None and "Open the app" in item.last_error
    rig.clock.advance(3600)
    assert await rig.worker().run_once() == []  # waits, however long
    session_id = await rig.new_session()
    resumed = await rig.store.resume_for_launch(
        rig.owner.iss, rig.owner.patient_id, rig.owner.user_id, rig.refs.seal(session_id)
    )
    assert resumed == 1
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_signing_twice_at_once_writes_once(make: RigFactory, strategy: str) -> None:
    rig = await make(strategy=strategy)
    draft = await rig.drafts.create(rig.owner, (await _study()))
    signed = await asyncio.gather(
        *(
            rig.signing.sign(rig.owner, draft.id, revision=1, session_id=rig.session_id)
            for _ in range(2)
        )
    )
    assert signed[0] == signed[1]
    await rig.drain(rig.worker(), rig.worker())
    await assert_in_chart_once(rig, signed[0].item_id)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_two_workers_racing_on_one_item_write_it_once(
    make: RigFactory, strategy: str
) -> None:
    rig = await make(strategy=strategy)
    signed = await rig.sign()
    first, second = rig.worker("first"), rig.worker("second")
    outcomes = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(len(o) for o in outcomes) == [0, 1]
    await assert_in_chart_once(rig, signed.item_id)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_worker_that_stalled_past_its_lease_is_taken_over_safely(
    make: RigFactory, strategy: str
) -> None:
    rig = await make(strategy=strategy)
    break_write(rig, 1, Break.TIMEOUT_AFTER)
    signed = await rig.sign()
    stalled = rig.worker("stalled")
    (claimed,) = await rig.store.claim("stalled", limit=1, lease_seconds=10)
    assert claimed.id == signed.item_id
    rig.clock.advance(11)  # the stalled worker's lease ran out before it sent anything
    await rig.drain(rig.worker("rescuer"))
    await assert_in_chart_once(rig, signed.item_id)
    assert await stalled.run_once() == []


async def _study() -> dict[str, object]:
    from tests.writeback.studies import lumbar_study

    return lumbar_study()


async def test_a_transaction_half_applied_is_finished_entry_by_entry_and_flagged(
    make: RigFactory,
) -> None:
    rig = await make(strategy="full")
    break_write(rig, 1, Break.CONNECT)  # the transaction never arrives…
    signed = await rig.sign()
    assert await first_attempt(rig, signed.item_id) is ItemState.QUEUED
    # …but a server that is not atomic stored one of its entries anyway.
    plan = await rig.plan(signed.item_id)
    level = next(s for s in plan.steps if s.resource_type == "Observation")
    body = {k: v for k, v in level.body.items() if k != "partOf"}  # its procedure is not there
    token = rig.ehr.issue_access_token("discogram-app", "user/*.cruds", patient="lumbar-candidate")
    async with httpx.AsyncClient(
        transport=rig.transport.inner, base_url="http://127.0.0.1:8000"
    ) as http:
        response = await http.post(
            "/fhir/Observation", json=body, headers={"Authorization": f"Bearer {token.token}"}
        )
    assert response.status_code == 201
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)
    item = await rig.item(signed.item_id)
    assert any("applied only part of the transaction" in note for note in item.notes)
