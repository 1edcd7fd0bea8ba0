"""Faults at the HTTP level with respx, where the exact requests matter: a transaction whose
answer is lost is reconciled by searching its identifiers — never sent a second time when it
was applied, sent again when it was not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from plugin.writeback import WriteAccess, WritePlan
from smart_app.fhir_client import FhirClient, RetryPolicy, StaticTokenSource
from smart_app.outbox import ChartAccess, ItemState, OutboxItem, OutboxWorker, RetrySchedule
from tests.smart_app.conftest import FakeClock
from tests.smart_app.outbox.conftest import ISS, Outbox, outbox_on
from tests.writeback.capabilities import ALL, statement_json

TRANSACTION_TYPES = (
    "Procedure",
    "Observation",
    "Observation",
    "Observation",
    "DiagnosticReport",
    "DocumentReference",
    "Provenance",
)


async def _no_sleep(_: float) -> None:
    return None


class Chart:
    def __init__(self, clock: FakeClock) -> None:
        policy = RetryPolicy(max_attempts=1, sleep=_no_sleep, clock=clock)
        self.client = FhirClient(ISS, StaticTokenSource("t"), httpx.AsyncClient(), policy=policy)

    async def open(self, item: OutboxItem) -> ChartAccess:
        everything = frozenset(ALL)
        return ChartAccess(
            self.client, WriteAccess(everything, everything, everything), "auto", frozenset()
        )


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    async with outbox_on(f"sqlite+aiosqlite:///{tmp_path / 'o.sqlite3'}", FakeClock()) as made:
        yield made


@pytest.fixture
def ehr() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=ISS, assert_all_called=False) as router:
        router.get("/metadata").respond(json=statement_json())
        yield router


def searchset(resources: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources],
        },
    )


async def attempt(outbox: Outbox) -> None:
    worker = OutboxWorker(
        outbox.store,
        Chart(outbox.clock),
        schedule=RetrySchedule(jitter=lambda: 0.5),
        sleep=_no_sleep,
    )
    await worker.run_once()
    outbox.clock.advance(3600)


def stored_copy(plan: WritePlan, key: str, server_id: str) -> dict[str, Any]:
    step = plan.step(key)
    return {**step.body, "id": server_id, "meta": {"versionId": "1", **step.body.get("meta", {})}}


async def test_an_applied_transaction_whose_answer_was_lost_is_not_sent_again(
    outbox: Outbox, ehr: respx.MockRouter
) -> None:
    transaction = ehr.post("/").mock(side_effect=httpx.ReadTimeout("answer lost"))
    signed = await outbox.sign()
    await attempt(outbox)
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.QUEUED
    plan = WritePlan.model_validate_json(item.plan_json or "")
    assert plan.transaction and transaction.call_count == 1

    def search(request: httpx.Request) -> httpx.Response:  # everything is in the chart
        wanted = request.url.params.get("identifier") or request.url.params["_tag"]
        step = next(s for s in plan.steps if s.token == wanted)
        return searchset([stored_copy(plan, step.key, f"id-{plan.steps.index(step)}")])

    for resource_type in {s.resource_type for s in plan.steps}:
        ehr.get(f"/{resource_type}").mock(side_effect=search)
    await attempt(outbox)
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.WRITTEN
    assert transaction.call_count == 1  # reconciled, not resent
    entries = await outbox.store.ledger_entries(signed.item_id)
    assert {e.state.value for e in entries.values()} == {"found"}
    assert sorted(e.server_id or "" for e in entries.values()) == [f"id-{i}" for i in range(7)]


async def test_a_transaction_that_never_arrived_is_sent_again(
    outbox: Outbox, ehr: respx.MockRouter
) -> None:
    response = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [
            {"response": {"status": "201 Created", "location": f"{t}/{i}/_history/1"}}
            for i, t in enumerate(TRANSACTION_TYPES)
        ],
    }
    transaction = ehr.post("/").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=response)]
    )
    for resource_type in ALL:
        ehr.get(f"/{resource_type}").mock(return_value=searchset([]))
    signed = await outbox.sign()
    await attempt(outbox)
    await attempt(outbox)
    item = await outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.WRITTEN
    assert transaction.call_count == 2
    assert ehr.routes  # the second attempt searched first (the first send was in doubt)
    searched = [
        c for c in ehr.calls if c.request.method == "GET" and "metadata" not in str(c.request.url)
    ]
    assert len(searched) == 7
