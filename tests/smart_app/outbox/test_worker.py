"""The worker against an EHR mocked with respx: what it sends, and what each answer does to the
item (written, queued with its next attempt, waiting for sign-in, failed with the reason)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import update

from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.writeback import WriteAccess
from smart_app.fhir_client import FhirClient, RetryPolicy, StaticTokenSource
from smart_app.outbox import (
    ChartAccess,
    ItemState,
    OutboxItem,
    OutboxWorker,
    RetrySchedule,
    SignInRequiredError,
)
from smart_app.store.outbox_tables import SignedReportRow
from tests.smart_app.outbox.conftest import ISS, OWNER, Outbox
from tests.writeback.capabilities import ALL, statement_json

NOTE_SEARCH = f"{ISS}/DocumentReference"


async def _no_sleep(_: float) -> None:
    return None


class Connector:
    """The chart of every item: the respx-mocked EHR, or no sign-in at all."""

    def __init__(self, outbox: Outbox, *, write_mode: str = "document") -> None:
        self.signed_in = True
        self.renewable = True
        policy = RetryPolicy(max_attempts=1, sleep=_no_sleep, clock=outbox.clock)
        self.http = httpx.AsyncClient()
        self.client = FhirClient(ISS, StaticTokenSource("token"), self.http, policy=policy)
        self.write_mode = write_mode

    async def renew(self) -> bool:
        return self.renewable

    async def open(self, item: OutboxItem) -> ChartAccess:
        if not self.signed_in:
            raise SignInRequiredError("Open the app again.", "test: no session")
        everything = frozenset(ALL)
        return ChartAccess(
            self.client,
            WriteAccess(everything, everything, everything),
            self.write_mode,
            frozenset({"text/plain"}),
            self.renew,
        )


@pytest.fixture
def ehr() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=ISS, assert_all_called=False) as router:
        router.get("/metadata").respond(json=statement_json(transaction=False, conditional=[]))
        yield router


def worker(outbox: Outbox, connector: Connector) -> OutboxWorker:
    return OutboxWorker(
        outbox.store,
        connector,
        owner="test-worker",
        schedule=RetrySchedule(base=5.0, cap=900.0, jitter=lambda: 0.5),
        sleep=_no_sleep,
    )


def outcome(status: int, diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": diagnostics}],
    }


def empty_search() -> httpx.Response:
    return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": []})


async def run(outbox: Outbox, connector: Connector) -> OutboxItem:
    signed = await outbox.sign()
    (done,) = await worker(outbox, connector).run_once()
    item = await outbox.store.item(signed.item_id)
    assert item is not None and done.state is item.state
    return item


async def test_a_note_is_searched_for_then_created(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    search = ehr.get("/DocumentReference").mock(return_value=empty_search())
    create = ehr.post("/DocumentReference").respond(
        201, headers={"Location": f"{ISS}/DocumentReference/n1/_history/1"}
    )
    item = await run(sqlite_outbox, Connector(sqlite_outbox))
    assert item.state is ItemState.WRITTEN and item.strategy == "document"
    searched = search.calls.last.request.url.params["identifier"]
    assert searched == f"{IDENTIFIER_SYSTEM}|{item.study_key}.document"
    sent = json.loads(create.calls.last.request.content)
    assert "If-None-Exist" not in create.calls.last.request.headers  # not advertised
    assert sent["docStatus"] == "final" and sent["status"] == "current"
    assert [c["attachment"]["contentType"] for c in sent["content"]] == [
        "text/plain; charset=utf-8"
    ]
    assert "related" not in sent["context"]  # no diagnostic report in this EHR
    (entry,) = (await sqlite_outbox.store.ledger_entries(item.id)).values()
    assert (entry.server_id, entry.version) == ("n1", "1")


async def test_a_search_the_server_ignored_is_not_taken_for_a_match(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    # A server that ignores `identifier` returns every note of the patient: none is ours.
    someone_elses = {"resourceType": "DocumentReference", "id": "x", "identifier": []}
    ehr.get("/DocumentReference").respond(
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": someone_elses}],
        }
    )
    create = ehr.post("/DocumentReference").respond(
        201, headers={"Location": "DocumentReference/n2"}
    )
    item = await run(sqlite_outbox, Connector(sqlite_outbox))
    assert item.state is ItemState.WRITTEN and create.called


async def test_a_note_already_in_the_chart_is_not_filed_again(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    signed = await sqlite_outbox.sign()
    ours = {
        "resourceType": "DocumentReference",
        "id": "n3",
        "meta": {"versionId": "4"},
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"{signed.study_key}.document"}],
    }
    ehr.get("/DocumentReference").respond(
        json={"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ours}]}
    )
    create = ehr.post("/DocumentReference")
    await worker(sqlite_outbox, Connector(sqlite_outbox)).run_once()
    item = await sqlite_outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.WRITTEN
    assert not create.called
    (entry,) = (await sqlite_outbox.store.ledger_entries(signed.item_id)).values()
    assert (entry.state.value, entry.server_id, entry.version) == ("found", "n3", "4")


async def test_the_servers_refusal_is_shown_with_its_words(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    ehr.get("/DocumentReference").mock(return_value=empty_search())
    ehr.post("/DocumentReference").respond(
        422, json=outcome(422, "context.encounter: the encounter is closed")
    )
    item = await run(sqlite_outbox, Connector(sqlite_outbox))
    assert item.state is ItemState.FAILED and not item.in_doubt
    assert item.last_error == (
        "The EHR rejected the DocumentReference as invalid. The EHR said: "
        "context.encounter: the encounter is closed"
    )


async def test_a_scope_refusal_fails_with_the_reason(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    ehr.get("/DocumentReference").mock(return_value=empty_search())
    ehr.post("/DocumentReference").respond(403, json=outcome(403, "not allowed"))
    item = await run(sqlite_outbox, Connector(sqlite_outbox))
    assert item.state is ItemState.FAILED
    assert item.last_error is not None
    assert "did not allow this app to create DocumentReference" in item.last_error


async def test_429_waits_as_long_as_the_ehr_asks(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    ehr.get("/DocumentReference").respond(429, headers={"Retry-After": "45"})
    item = await run(sqlite_outbox, Connector(sqlite_outbox))
    assert item.state is ItemState.QUEUED
    assert item.next_attempt_at == sqlite_outbox.clock() + 45
    assert item.last_error is not None and "rate limit" in item.last_error


async def test_5xx_backs_off_exponentially(sqlite_outbox: Outbox, ehr: respx.MockRouter) -> None:
    ehr.get("/DocumentReference").respond(503)
    connector = Connector(sqlite_outbox)
    signed = await sqlite_outbox.sign()
    delays = []
    for _ in range(4):
        sqlite_outbox.clock.advance(10_000)
        await worker(sqlite_outbox, connector).run_once()
        item = await sqlite_outbox.store.item(signed.item_id)
        assert item is not None and item.state is ItemState.QUEUED
        delays.append(item.next_attempt_at - sqlite_outbox.clock())
    assert delays == [3.75, 7.5, 15.0, 30.0]  # base 5 s, doubling, "equal jitter" at 0.5


async def test_without_a_sign_in_the_item_waits(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    connector = Connector(sqlite_outbox)
    connector.signed_in = False
    item = await run(sqlite_outbox, connector)
    assert item.state is ItemState.WAITING_FOR_SIGN_IN
    assert item.last_error is not None and "Open the app" in item.last_error


@pytest.mark.parametrize(("renewable", "state"), [(True, "queued"), (False, "waiting-for-sign-in")])
async def test_a_401_waits_for_sign_in_only_when_the_session_cannot_be_renewed(
    sqlite_outbox: Outbox, ehr: respx.MockRouter, renewable: bool, state: str
) -> None:
    ehr.get("/DocumentReference").respond(401)
    connector = Connector(sqlite_outbox)
    connector.renewable = renewable
    item = await run(sqlite_outbox, connector)
    assert item.state.value == state


async def test_an_ehr_that_takes_nothing_fails_with_the_explanation(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    ehr.get("/metadata").respond(json=statement_json(creatable=[]))
    item = await run(sqlite_outbox, Connector(sqlite_outbox, write_mode="auto"))
    assert item.state is ItemState.FAILED
    assert item.last_error is not None
    assert "This EHR does not accept DocumentReference" in item.last_error
    assert item.last_error.endswith("The report cannot be written to this EHR.")


async def test_a_create_answered_without_its_id_is_found_by_identifier(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    signed = await sqlite_outbox.sign()
    ours = {
        "resourceType": "DocumentReference",
        "id": "n9",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"{signed.study_key}.document"}],
    }
    ehr.get("/DocumentReference").mock(
        side_effect=[
            empty_search(),
            httpx.Response(
                200,
                json={"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ours}]},
            ),
        ]
    )
    ehr.post("/DocumentReference").respond(201)  # Epic: no body, and here no Location either
    await worker(sqlite_outbox, Connector(sqlite_outbox)).run_once()
    entries = await sqlite_outbox.store.ledger_entries(signed.item_id)
    assert [e.server_id for e in entries.values()] == ["n9"]


async def test_a_changed_frozen_report_is_never_written(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    signed = await sqlite_outbox.sign()
    sessions = await sqlite_outbox.database.ready()
    async with sessions.begin() as db:
        await db.execute(
            update(SignedReportRow).values(
                bundle_json=SignedReportRow.bundle_json + " "  # one byte more
            )
        )
    create = ehr.post("/DocumentReference")
    await worker(sqlite_outbox, Connector(sqlite_outbox)).run_once()
    item = await sqlite_outbox.store.item(signed.item_id)
    assert item is not None and item.state is ItemState.FAILED
    assert item.last_error is not None and "no longer matches its signed hash" in item.last_error
    assert not create.called


async def test_a_create_that_cannot_be_checked_stops_in_doubt_then_goes_on_when_confirmed(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    ehr.get("/metadata").respond(
        json=statement_json(
            transaction=False, creatable=["DocumentReference"], conditional=[], searchable=[]
        )
    )
    create = ehr.post("/DocumentReference").mock(
        side_effect=[
            httpx.ReadTimeout("lost"),
            httpx.Response(201, headers={"Location": "DocumentReference/n5"}),
        ]
    )
    connector = Connector(sqlite_outbox, write_mode="auto")
    item = await run(sqlite_outbox, connector)
    assert item.state is ItemState.QUEUED  # a timeout: try again, after checking
    sqlite_outbox.clock.advance(3600)
    await worker(sqlite_outbox, connector).run_once()
    item = await sqlite_outbox.store.item(item.id)  # type: ignore[assignment]
    assert item is not None
    assert item.state is ItemState.FAILED and item.in_doubt, (item.last_error, item.attempts)
    assert item.last_error is not None and "Check the patient's chart" in item.last_error
    assert create.call_count == 1  # never resent blindly
    await sqlite_outbox.store.retry(
        item.id,
        iss=ISS,
        patient_id=OWNER.patient_id,
        user_id=OWNER.user_id,
        session_ref=sqlite_outbox.refs.seal("retrying-session"),
        confirmed_absent=True,
    )
    await worker(sqlite_outbox, connector).run_once()
    item = await sqlite_outbox.store.item(item.id)  # type: ignore[assignment]
    assert item is not None and item.state is ItemState.WRITTEN and create.call_count == 2


async def test_the_worker_runs_in_the_background_and_wakes_on_signing(
    sqlite_outbox: Outbox, ehr: respx.MockRouter
) -> None:
    ehr.get("/DocumentReference").mock(return_value=empty_search())
    ehr.post("/DocumentReference").respond(201, headers={"Location": "DocumentReference/b1"})
    background = OutboxWorker(sqlite_outbox.store, Connector(sqlite_outbox), poll_seconds=3600.0)
    background.start()
    try:
        signed = await sqlite_outbox.sign()
        background.wake()
        for _ in range(200):
            item = await sqlite_outbox.store.item(signed.item_id)
            if item is not None and item.state is ItemState.WRITTEN:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the background worker did not write the report")
    finally:
        await background.stop()
    await background.stop()  # stopping twice is harmless
